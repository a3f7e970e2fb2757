"""Plan a cohort's meetings from its protocol template.

`plan_meetings` turns a cohort's settings (cohort_spec.py) into numbered group sessions
("Group session 3 of 12", each with its phase) and each member's individual meetings
(individual_meetings.py). The rules for group sessions:

* Session 1 is on the cohort's weekday, on or after the start date; then one every
  cadence (7 days). A skip date that falls on a session pushes that session and all
  later ones one cadence later (and again if the new date is also skipped).
* Local wall-clock time is kept across DST; a local time that does not exist on a DST
  day moves forward by the gap, one that happens twice means the first one (wallclock.py).
* A new cohort starts in the future, with time left for every pre-group meeting, and its
  sessions do not overlap other cohorts of its facilitators.
* Each member's individual meetings are led by one facilitator, taken in turn from the
  cohort's list by member order, so co-facilitators can see two members at once. With no
  facilitator assigned yet, individual meetings are booked one after another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from calendars.cohort_spec import CohortSpec, validated_protocol
from calendars.errors import PlanError, Problem
from calendars.individual_meetings import member_meetings
from calendars.meetings import (
    Busy,
    Clash,
    PlannedMeeting,
    describe_clash,
    facilitator_clashes,
    sorted_meetings,
)
from calendars.protocols import ProtocolTemplate
from calendars.vocabulary import MeetingKind
from calendars.wallclock import end_after, load_zone, local_start

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MAX_CLASH_MESSAGES = 3


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
    protocol = validated_protocol(spec, members)
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
    "SchedulePlan",
    "first_session_date",
    "group_session_dates",
    "plan_meetings",
]
