"""Each member's individual meetings: pre-group, mid-group and post-group.

* They go into the first free slot of their window within the individual-meeting hours
  (09:00-17:00, Monday to Friday and the group's own weekday unless set otherwise), never
  on a skip date, never overlapping another meeting of the cohort's facilitators.
* Pre-group meeting k of n sits in the (n - k + 1)-th cadence before session 1; the
  mid-group meeting between session `mid_group_after_session` and the next; the post-group
  meeting within `post_group_within_days` after the last session.
* A late joiner gets the pre-group meetings on separate days between now and the next
  group session, up to the template's late-join cutoff.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from calendars.cohort_spec import CohortSpec, IndividualHours
from calendars.errors import PlanError
from calendars.meetings import Busy, PlannedMeeting, overlaps
from calendars.protocols import ProtocolTemplate
from calendars.vocabulary import MeetingKind, Phase
from calendars.wallclock import WallClockAdjustment, end_after, load_zone, local_start


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


__all__ = ["member_meetings"]
