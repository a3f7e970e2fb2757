"""Plan a cohort's meetings from its protocol template.

`plan_meetings` turns a cohort's settings into numbered group sessions ("Group session 3
of 12", each with its phase) and each member's individual meetings. The rules:

* Session 1 is on the cohort's weekday, on or after the start date; then one every
  cadence (7 days). A skip date that falls on a session pushes that session and all
  later ones one cadence later (and again if the new date is also skipped).
* Local wall-clock time is kept across DST; a local time that does not exist on a DST
  day moves forward by the gap, one that happens twice means the first one (wallclock.py).
* Individual meetings (pre-group, mid-group, post-group) go into the first free slot of
  their window within the individual-meeting hours (09:00-17:00, Monday to Friday and the
  group's own weekday unless set otherwise), never on a skip date, never overlapping
  another meeting of the cohort's facilitators. Pre-group meeting k of n sits in the
  (n - k + 1)-th cadence before session 1; the mid-group meeting between session
  `mid_group_after_session` and the next; the post-group meeting within
  `post_group_within_days` after the last session.
* Each member's individual meetings are led by one facilitator, taken in turn from the
  cohort's list by member order, so co-facilitators can see two members at once. With no
  facilitator assigned yet, individual meetings are booked one after another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from calendars.errors import PlanError, Problem, TemplateError
from calendars.meetings import (
    Busy,
    Clash,
    Facilitator,
    MeetingStatus,
    PlannedMeeting,
    describe_clash,
    facilitator_clashes,
    overlaps,
    sorted_meetings,
)
from calendars.protocol_rules import MAX_MINUTES, MIN_MINUTES
from calendars.protocols import ProtocolTemplate
from calendars.vocabulary import MeetingKind, Phase
from calendars.wallclock import WallClockAdjustment, end_after, load_zone, local_start, zone_problem

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MAX_CLASH_MESSAGES = 3


@dataclass(frozen=True, kw_only=True)
class IndividualHours:
    first_start: time = time(9, 0)
    last_end: time = time(17, 0)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # the group's weekday is added
    gap_minutes: int = 10


@dataclass(frozen=True, kw_only=True)
class CohortSpec:
    template: ProtocolTemplate
    time_zone: str
    start_date: date
    start_time: time
    weekday: int | None = None  # 0 = Monday; None: the start date's weekday
    group_sessions: int | None = None
    initial_sessions: int | None = None
    termination_sessions: int | None = None
    session_minutes: int | None = None
    skip_dates: frozenset[date] = frozenset()
    capacity: int | None = None
    facilitators: tuple[Facilitator, ...] = ()
    individual_hours: IndividualHours = field(default_factory=IndividualHours)

    @property
    def session_weekday(self) -> int:
        return self.start_date.weekday() if self.weekday is None else self.weekday

    @property
    def facilitator_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.facilitators)

    @property
    def facilitator_names(self) -> dict[str, str]:
        return {f.id: f.name for f in self.facilitators}

    def protocol(self) -> ProtocolTemplate:
        """The template adapted to this cohort (raises TemplateError)."""
        return self.template.adapted(
            group_sessions=self.group_sessions,
            initial_sessions=self.initial_sessions,
            termination_sessions=self.termination_sessions,
            session_minutes=self.session_minutes,
        )


@dataclass(frozen=True, kw_only=True)
class SchedulePlan:
    protocol: ProtocolTemplate
    time_zone: str
    meetings: tuple[PlannedMeeting, ...]
    warnings: tuple[str, ...] = ()
    unused_skip_dates: tuple[date, ...] = ()

    @property
    def group_sessions(self) -> tuple[PlannedMeeting, ...]:
        return tuple(m for m in self.meetings if m.kind is MeetingKind.GROUP)

    @property
    def first_session(self) -> PlannedMeeting:
        return self.group_sessions[0]

    @property
    def last_session(self) -> PlannedMeeting:
        return self.group_sessions[-1]

    def for_member(self, member: str) -> tuple[PlannedMeeting, ...]:
        return tuple(m for m in self.meetings if m.is_group or m.member == member)


def plan_meetings(
    *,
    spec: CohortSpec,
    now: datetime,
    members: Sequence[str] = (),
    busy: Sequence[Busy] = (),
    new_cohort: bool = True,
) -> SchedulePlan:
    """Plan every meeting of a cohort, or raise PlanError saying what to change.

    `members` are enrollment keys in the order their individual meetings are booked;
    `busy` is the facilitators' time already taken by other cohorts; `now` is aware.
    A new cohort must not start in the past."""
    _require_aware(now)
    protocol = _validated_protocol(spec, members)
    zone = load_zone(spec.time_zone)
    warnings: list[str] = []

    dates, unused_skips = group_session_dates(
        first=first_session_date(spec.start_date, spec.session_weekday),
        count=protocol.group_sessions,
        cadence_days=protocol.cadence_days,
        skip_dates=spec.skip_dates,
    )
    sessions = []
    for number, day in enumerate(dates, start=1):
        placed = local_start(day, spec.start_time, zone)
        if note := placed.describe(spec.start_time):
            warnings.append(f"Group session {number}: {note}")
        sessions.append(
            PlannedMeeting(
                key=f"group:{number}",
                kind=MeetingKind.GROUP,
                number=number,
                of=protocol.group_sessions,
                phase=protocol.phase_of(number),
                start=placed.start,
                end=end_after(placed.start, protocol.session_minutes),
                wall_time=spec.start_time,
                minutes=protocol.session_minutes,
                facilitators=spec.facilitator_ids,
                adjustment=placed.adjustment,
            )
        )

    if new_cohort:
        _check_not_too_soon(sessions[0], spec, protocol, now)
    clashes = facilitator_clashes(sessions, busy)
    if clashes:
        raise PlanError(_clash_problems(clashes, spec.facilitator_names, "start_time"))

    booked: list[PlannedMeeting] = list(sessions)
    for index, member in enumerate(members):
        booked.extend(
            member_meetings(
                spec=spec,
                protocol=protocol,
                group_sessions=sessions,
                member=member,
                taken=booked,
                busy=busy,
                now=now,
                late_join=False,
                facilitator=_facilitator_for(spec, index),
            )
        )

    warnings.extend(_composition_warnings(spec, protocol, len(members)))
    if unused_skips:
        listed = ", ".join(d.isoformat() for d in unused_skips)
        warnings.append(f"Skip dates {listed} fall on no group session; they only block individual meetings.")
    return SchedulePlan(
        protocol=protocol,
        time_zone=spec.time_zone,
        meetings=sorted_meetings(booked),
        warnings=tuple(warnings),
        unused_skip_dates=unused_skips,
    )


def first_session_date(start_date: date, weekday: int) -> date:
    return start_date + timedelta(days=(weekday - start_date.weekday()) % 7)


def group_session_dates(
    *, first: date, count: int, cadence_days: int, skip_dates: frozenset[date]
) -> tuple[tuple[date, ...], tuple[date, ...]]:
    """Session dates, and the skip dates that fell on none of them (in order)."""
    cadence = timedelta(days=cadence_days)
    dates: list[date] = []
    hit: set[date] = set()
    day = first
    while len(dates) < count:
        if day in skip_dates:
            hit.add(day)  # this one and every later session move one cadence on
        else:
            dates.append(day)
        day += cadence
    unused = tuple(sorted(d for d in skip_dates if d not in hit))
    return tuple(dates), unused


def member_meetings(
    *,
    spec: CohortSpec,
    protocol: ProtocolTemplate,
    group_sessions: Sequence[PlannedMeeting],
    member: str,
    taken: Sequence[PlannedMeeting],
    busy: Sequence[Busy],
    now: datetime,
    late_join: bool,
    facilitator: str | None,
) -> list[PlannedMeeting]:
    """One member's individual meetings around the cohort's (active) group sessions.

    A late joiner (`late_join=True`) gets the pre-group meetings on separate days between
    now and the next group session; everyone else in the regular windows."""
    zone = load_zone(spec.time_zone)
    active = [m for m in group_sessions if m.is_active]
    by_number = {m.number: m for m in active}
    cadence = timedelta(days=protocol.cadence_days)
    hours = spec.individual_hours
    allowed_weekdays = hours.weekdays | {spec.session_weekday}
    blocked = spec.skip_dates
    booked: list[PlannedMeeting] = list(taken)
    out: list[PlannedMeeting] = []
    leads: tuple[str, ...] = (facilitator,) if facilitator else ()

    def window(first_day: date, last_day: date) -> list[date]:
        days = []
        day = first_day
        while day <= last_day:
            if day.weekday() in allowed_weekdays and day not in blocked:
                days.append(day)
            day += timedelta(days=1)
        return days

    def book(kind: MeetingKind, number: int, of: int, phase: Phase, days: list[date], what: str) -> PlannedMeeting:
        meeting = _first_free_slot(
            days=days, hours=hours, minutes=protocol.individual_minutes, zone=zone,
            taken=booked, busy=busy, member=member, facilitators=leads, not_before=now,
        )
        if meeting is None:
            span = f"{days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}" if days else "an empty window"
            raise PlanError.single(
                "individual_hours",
                f"No free slot for {what} of member {member} ({span}, "
                f"{hours.first_start:%H:%M}-{hours.last_end:%H:%M}); widen the individual-meeting "
                "hours or weekdays, or move the start date.",
            )
        start, adjustment = meeting
        planned = PlannedMeeting(
            key=f"{kind.value}:{number}:{member}" if kind is MeetingKind.PREGROUP else f"{kind.value}:{member}",
            kind=kind, number=number, of=of, phase=phase,
            start=start, end=end_after(start, protocol.individual_minutes),
            wall_time=start.timetz().replace(tzinfo=None), minutes=protocol.individual_minutes,
            member=member, facilitators=leads, adjustment=adjustment,
        )
        booked.append(planned)
        out.append(planned)
        return planned

    n_pre = protocol.pre_group_meetings
    if n_pre:
        upcoming = [m for m in active if m.start > now]
        if not upcoming:
            raise PlanError.single("member", "The cohort has no group session left to join.")
        next_session = upcoming[0]
        if late_join and next_session.number > 1:
            if next_session.number > protocol.late_join_cutoff_session:
                raise PlanError.single(
                    "member",
                    f"New members may join up to session {protocol.late_join_cutoff_session}; "
                    f"the next session is {next_session.number}. Offer a place in the next cohort.",
                )
            earliest = now.astimezone(zone).date()
            for k in range(1, n_pre + 1):
                days = window(earliest, next_session.local_date)
                placed = book(MeetingKind.PREGROUP, k, n_pre, Phase.INITIAL, days,
                              f"individual meeting {k} of {n_pre} before session {next_session.number}")
                earliest = placed.local_date + timedelta(days=1)
        else:
            first = by_number.get(1, active[0]).local_date
            for k in range(1, n_pre + 1):
                days = window(first - cadence * (n_pre - k + 1), first - cadence * (n_pre - k) - timedelta(days=1))
                book(MeetingKind.PREGROUP, k, n_pre, Phase.INITIAL, days,
                     f"pre-group meeting {k} of {n_pre}")

    after = protocol.mid_group_after_session
    if after is not None and after in by_number and after + 1 in by_number:
        before, following = by_number[after], by_number[after + 1]
        if following.start > now:
            days = window(before.local_date + timedelta(days=1), following.local_date - timedelta(days=1))
            book(MeetingKind.MID, 1, 1, Phase.MIDDLE, days,
                 f"the mid-group meeting between sessions {after} and {after + 1}")

    within = protocol.post_group_within_days
    if within is not None and active:
        last = max(active, key=lambda m: m.number)
        days = window(last.local_date + timedelta(days=1), last.local_date + timedelta(days=within))
        book(MeetingKind.POST, 1, 1, Phase.TERMINATION, days,
             f"the post-group meeting within {within} days of the last session")
    return out


def _first_free_slot(
    *,
    days: list[date],
    hours: IndividualHours,
    minutes: int,
    zone: ZoneInfo,
    taken: Sequence[PlannedMeeting],
    busy: Sequence[Busy],
    member: str,
    facilitators: tuple[str, ...],
    not_before: datetime,
) -> tuple[datetime, WallClockAdjustment] | None:
    step = timedelta(minutes=minutes + hours.gap_minutes)
    relevant_busy = [b for b in busy if b.facilitator in facilitators]
    # What this slot must not overlap: the cohort's group sessions (the member attends
    # them), the member's own meetings, and the facilitator's; with no facilitator known,
    # every individual meeting.
    active_taken = [
        m for m in taken
        if m.is_active and (
            m.is_group or m.member == member or not facilitators or set(m.facilitators) & set(facilitators)
        )
    ]
    for day in days:
        wall = datetime.combine(day, hours.first_start)
        while True:
            placed = local_start(day, wall.time(), zone)
            start = placed.start
            end = end_after(start, minutes)
            if end.date() != day or end.timetz().replace(tzinfo=None) > hours.last_end:
                break
            free = start > not_before and not any(
                overlaps(start, end, m.start, m.end) for m in active_taken
            ) and not any(overlaps(start, end, b.start, b.end) for b in relevant_busy)
            if free:
                return start, placed.adjustment
            wall += step
            if wall.date() != day:
                break
    return None


def _validated_protocol(spec: CohortSpec, members: Sequence[str]) -> ProtocolTemplate:
    problems: list[Problem] = []
    if (zone := zone_problem(spec.time_zone)) is not None:
        problems.append(zone)
    protocol: ProtocolTemplate | None = None
    try:
        protocol = spec.protocol()
    except TemplateError as exc:
        problems.extend(exc.problems)
    if not 0 <= spec.session_weekday <= 6:
        problems.append(Problem("weekday", f"Weekday must be 0 (Monday) to 6 (Sunday); got {spec.session_weekday}."))
    if spec.session_minutes is not None and not MIN_MINUTES <= spec.session_minutes <= MAX_MINUTES:
        problems.append(
            Problem("session_minutes", f"Session length must be {MIN_MINUTES} to {MAX_MINUTES} minutes; got {spec.session_minutes}.")
        )
    if spec.start_time.tzinfo is not None:
        problems.append(Problem("start_time", "Give the start time as local wall-clock time, without a zone."))
    hours = spec.individual_hours
    if hours.first_start >= hours.last_end:
        problems.append(Problem("individual_hours", "Individual-meeting hours must start before they end."))
    if not hours.weekdays <= set(range(7)):
        problems.append(Problem("individual_hours", "Individual-meeting weekdays must be 0 (Monday) to 6 (Sunday)."))
    if protocol is not None:
        size = protocol.group_size
        if spec.capacity is not None and not size.minimum <= spec.capacity <= size.maximum:
            problems.append(
                Problem(
                    "capacity",
                    f"Capacity {spec.capacity} is outside this protocol's group size; "
                    f"choose {size.minimum} to {size.maximum}.",
                )
            )
        limit = spec.capacity if spec.capacity is not None else size.maximum
        if len(members) > limit:
            problems.append(
                Problem("capacity", f"{len(members)} members do not fit a capacity of {limit}; raise the capacity or move members.")
            )
        if len(set(members)) != len(members):
            problems.append(Problem("members", "A member is listed twice."))
        if len(spec.facilitators) > 2:
            problems.append(Problem("facilitators", f"A group has 1 or 2 facilitators; got {len(spec.facilitators)}."))
    if problems:
        raise PlanError(problems)
    assert protocol is not None
    return protocol


def _facilitator_for(spec: CohortSpec, index: int) -> str | None:
    ids = spec.facilitator_ids
    return ids[index % len(ids)] if ids else None


def _check_not_too_soon(
    first: PlannedMeeting, spec: CohortSpec, protocol: ProtocolTemplate, now: datetime
) -> None:
    """A new cohort starts in the future, with time left for every pre-group meeting.

    Pre-group meeting 1 of n goes in the n-th cadence before session 1; that window must
    still have a day after today. So session 1 is at least (n - 1) cadences + 2 days out."""
    today = now.astimezone(first.start.tzinfo).date()
    n_pre = protocol.pre_group_meetings
    cadence = timedelta(days=protocol.cadence_days)
    if n_pre:
        earliest = first_session_date(today + cadence * (n_pre - 1) + timedelta(days=2), spec.session_weekday)
    else:
        earliest = first_session_date(today + timedelta(days=1), spec.session_weekday)
    if first.start <= now:
        raise PlanError.single(
            "start_date",
            f"The first group session would be on {first.start:%Y-%m-%d %H:%M}, which is in the "
            f"past; choose a start date on or after {earliest:%Y-%m-%d}.",
        )
    if n_pre and first.local_date < earliest:
        meetings = "pre-group meeting" if n_pre == 1 else f"{n_pre} pre-group meetings"
        raise PlanError.single(
            "start_date",
            f"Session 1 on {first.local_date:%Y-%m-%d} leaves no time for the {meetings} "
            f"(held in the {n_pre * protocol.cadence_days} days before it); choose a start date on "
            f"or after {earliest:%Y-%m-%d}.",
        )


def _clash_problems(clashes: list[Clash], names: dict[str, str], field_name: str) -> list[Problem]:
    problems = [Problem(field_name, describe_clash(c, names)) for c in clashes[:_MAX_CLASH_MESSAGES]]
    if len(clashes) > _MAX_CLASH_MESSAGES:
        problems.append(Problem(field_name, f"… and {len(clashes) - _MAX_CLASH_MESSAGES} more overlaps."))
    return problems


def _composition_warnings(spec: CohortSpec, protocol: ProtocolTemplate, members: int) -> list[str]:
    warnings = []
    size = protocol.group_size
    if spec.capacity is not None and spec.capacity < size.target_low:
        warnings.append(
            f"Capacity {spec.capacity} is below the {size.target_low}-{size.target_high} members "
            "this protocol aims to start with; groups lose members along the way."
        )
    if spec.facilitators and len(spec.facilitators) != protocol.facilitator_count:
        warnings.append(
            f"This protocol is run by {protocol.facilitator_count} facilitator(s); "
            f"the cohort has {len(spec.facilitators)}."
        )
    if not spec.facilitators:
        warnings.append("No facilitator assigned yet; overlaps are checked once one is.")
    return warnings


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


__all__ = [
    "WEEKDAYS",
    "CohortSpec",
    "IndividualHours",
    "MeetingStatus",
    "SchedulePlan",
    "first_session_date",
    "group_session_dates",
    "member_meetings",
    "plan_meetings",
]
