"""Changes to a running cohort's schedule: reschedule, cancel, make-up, shift, skip.

Each operation takes the cohort's stored meetings (with UIDs) and returns them all after
the change, plus the new versions of the meetings that changed. Every changed meeting's
SEQUENCE grows by one and its revision time becomes `now`; RFC 5545 §3.8.7.4 requires
the bump whenever DTSTART, DTEND or STATUS change, so calendar clients replace their copy.

Numbering rule: group sessions keep their numbers. A meeting moved by `reschedule` or
a make-up session must stay between the neighbouring sessions, so "Group session 5 of 12"
still comes after 4 and before 6; to push everything later, `shift_remaining` moves all
remaining meetings by whole cadences. A skip date added to a running cohort moves the
session on that date, and everything after it, one cadence later (as when planning).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from calendars.errors import ChangeError, Problem
from calendars.meetings import (
    Busy,
    PlannedMeeting,
    describe_clash,
    facilitator_clashes,
    sorted_meetings,
)
from calendars.vocabulary import MeetingStatus
from calendars.wallclock import end_after, local_start

_MAX_SHIFT_CADENCES = 8


@dataclass(frozen=True, kw_only=True)
class MakeUp:
    day: date
    wall_time: time
    uid: str


@dataclass(frozen=True, kw_only=True)
class ChangeResult:
    meetings: tuple[PlannedMeeting, ...]
    changed: tuple[PlannedMeeting, ...]  # new versions, SEQUENCE already bumped
    added: tuple[PlannedMeeting, ...] = ()
    skip_dates: frozenset[date] = frozenset()
    warnings: tuple[str, ...] = ()

    @property
    def touched(self) -> tuple[PlannedMeeting, ...]:
        return self.changed + self.added


def reschedule(
    *,
    meetings: Sequence[PlannedMeeting],
    uid: str,
    day: date,
    wall_time: time,
    now: datetime,
    busy: Sequence[Busy] = (),
    names: Mapping[str, str] | None = None,
) -> ChangeResult:
    by_uid = _index(meetings)
    meeting = _changeable(by_uid, uid, now, verb="moved")
    placed = local_start(day, wall_time, meeting.start.tzinfo)  # type: ignore[arg-type]
    moved = replace(
        meeting,
        start=placed.start,
        end=end_after(placed.start, meeting.minutes),
        wall_time=wall_time,
        adjustment=placed.adjustment,
    )
    if moved.start == meeting.start:
        return ChangeResult(meetings=sorted_meetings(meetings), changed=())
    _require_future(moved, now, "day")
    _keep_numbering(moved, by_uid.values(), ignore=uid)
    new = _bump(moved, now)
    return _finish(meetings, {uid: new}, added=(), busy=busy, names=names)


def cancel(
    *,
    meetings: Sequence[PlannedMeeting],
    uid: str,
    now: datetime,
    make_up: MakeUp | None = None,
    busy: Sequence[Busy] = (),
    names: Mapping[str, str] | None = None,
) -> ChangeResult:
    """Cancel one meeting. It stays (STATUS:CANCELLED) so clients remove it; a make-up
    session, if given, takes its number and phase."""
    by_uid = _index(meetings)
    meeting = _changeable(by_uid, uid, now, verb="cancelled")
    cancelled = _bump(replace(meeting, status=MeetingStatus.CANCELLED), now)
    updated = {uid: cancelled}
    added: tuple[PlannedMeeting, ...] = ()
    if make_up is not None:
        current = [updated.get(m.uid, m) for m in meetings]
        added = (_make_up_for(cancelled, make_up, current, now),)
    return _finish(meetings, updated, added=added, busy=busy, names=names)


def schedule_make_up(
    *,
    meetings: Sequence[PlannedMeeting],
    uid: str,
    make_up: MakeUp,
    now: datetime,
    busy: Sequence[Busy] = (),
    names: Mapping[str, str] | None = None,
) -> ChangeResult:
    """A make-up for a meeting cancelled earlier."""
    by_uid = _index(meetings)
    if uid not in by_uid:
        raise ChangeError.single("meeting", "No such meeting in this cohort.")
    cancelled = by_uid[uid]
    if cancelled.status is not MeetingStatus.CANCELLED:
        raise ChangeError.single("meeting", f"{cancelled.title} is not cancelled; cancel it first or move it instead.")
    added = _make_up_for(cancelled, make_up, list(meetings), now)
    return _finish(meetings, {}, added=(added,), busy=busy, names=names)


def shift_remaining(
    *,
    meetings: Sequence[PlannedMeeting],
    now: datetime,
    cadence_days: int,
    skip_dates: Iterable[date] = (),
    from_session: int | None = None,
    cadences: int = 1,
    busy: Sequence[Busy] = (),
    names: Mapping[str, str] | None = None,
) -> ChangeResult:
    """Move every remaining meeting (from group session `from_session`, or everything not
    yet started) `cadences` cadences later, keeping local wall-clock time."""
    if not 1 <= cadences <= _MAX_SHIFT_CADENCES:
        raise ChangeError.single("cadences", f"Shift by 1 to {_MAX_SHIFT_CADENCES} cadences; got {cadences}.")
    by_uid = _index(meetings)
    remaining = [m for m in by_uid.values() if m.status is MeetingStatus.SCHEDULED and m.start > now]
    if from_session is not None:
        session = next(
            (m for m in remaining if m.is_group and m.number == from_session), None
        )
        if session is None:
            raise ChangeError.single(
                "from_session", f"Group session {from_session} is not an upcoming scheduled session."
            )
        threshold = session.start
    elif remaining:
        threshold = min(m.start for m in remaining)
    else:
        raise ChangeError.single("meetings", "No upcoming meetings to shift.")
    positions = {m.uid: m for m in meetings}
    _shift_from(positions, threshold, timedelta(days=cadence_days * cadences), now)
    _cascade_skips(positions, frozenset(skip_dates), timedelta(days=cadence_days), now)
    return _finish_positions(meetings, positions, now, busy=busy, names=names)


def add_skip_dates(
    *,
    meetings: Sequence[PlannedMeeting],
    dates: Iterable[date],
    skip_dates: Iterable[date],
    cadence_days: int,
    now: datetime,
    busy: Sequence[Busy] = (),
    names: Mapping[str, str] | None = None,
) -> ChangeResult:
    by_uid = _index(meetings)
    existing = frozenset(skip_dates)
    wanted = sorted(set(dates) - existing)
    if not wanted:
        raise ChangeError.single("dates", "Give at least one new skip date.")
    zone = next(iter(by_uid.values())).start.tzinfo if by_uid else None
    today = now.astimezone(zone).date()
    past = [d for d in wanted if d <= today]
    if past:
        raise ChangeError.single(
            "dates", f"Skip dates must be after today; {', '.join(d.isoformat() for d in past)} is not."
        )
    combined = existing | frozenset(wanted)
    positions = {m.uid: m for m in meetings}
    _cascade_skips(positions, combined, timedelta(days=cadence_days), now)
    result = _finish_positions(meetings, positions, now, busy=busy, names=names)
    stuck = [
        m for m in result.meetings
        if not m.is_group and m.status is MeetingStatus.SCHEDULED and m.start > now and m.local_date in combined
    ]
    warnings = tuple(
        f"{m.title} of member {m.member} on {m.local_date:%Y-%m-%d} falls on a skip date; reschedule it."
        for m in stuck
    )
    return replace(result, skip_dates=combined, warnings=warnings)


# -- internals ---------------------------------------------------------------------------


def _index(meetings: Sequence[PlannedMeeting]) -> dict[str, PlannedMeeting]:
    by_uid = {m.uid: m for m in meetings}
    if "" in by_uid or len(by_uid) != len(meetings):
        raise ValueError("stored meetings need distinct, non-empty UIDs")
    return by_uid


def _changeable(by_uid: Mapping[str, PlannedMeeting], uid: str, now: datetime, *, verb: str) -> PlannedMeeting:
    meeting = by_uid.get(uid)
    if meeting is None:
        raise ChangeError.single("meeting", "No such meeting in this cohort.")
    if meeting.status is MeetingStatus.CANCELLED:
        raise ChangeError.single(
            "meeting", f"{meeting.title} is cancelled and cannot be {verb}; schedule a make-up session instead."
        )
    if meeting.status is MeetingStatus.COMPLETED or meeting.start <= now:
        raise ChangeError.single(
            "meeting", f"{meeting.title} on {meeting.start:%Y-%m-%d %H:%M} has already started and cannot be {verb}."
        )
    return meeting


def _require_future(meeting: PlannedMeeting, now: datetime, field_name: str) -> None:
    if meeting.start <= now:
        raise ChangeError.single(
            field_name, f"{meeting.start:%Y-%m-%d %H:%M} is in the past; choose a later time."
        )


def _keep_numbering(meeting: PlannedMeeting, others: Iterable[PlannedMeeting], *, ignore: str) -> None:
    if not meeting.is_group:
        return
    active = [m for m in others if m.is_group and m.is_active and m.uid != ignore]
    before = [m for m in active if m.number < meeting.number]
    after = [m for m in active if m.number > meeting.number]
    previous = max(before, key=lambda m: m.number, default=None)
    following = min(after, key=lambda m: m.number, default=None)
    too_early = previous is not None and meeting.start < previous.end
    too_late = following is not None and meeting.end > following.start
    if too_early or too_late:
        bounds = []
        if previous is not None:
            bounds.append(f"after session {previous.number} ({previous.end:%a %Y-%m-%d %H:%M})")
        if following is not None:
            bounds.append(f"before session {following.number} ({following.start:%a %Y-%m-%d %H:%M})")
        raise ChangeError.single(
            "day",
            f"Session {meeting.number} must stay {' and '.join(bounds)} to keep its number; "
            "to move everything later, shift the remaining sessions instead.",
        )


def _make_up_for(
    cancelled: PlannedMeeting, make_up: MakeUp, meetings: Sequence[PlannedMeeting], now: datetime
) -> PlannedMeeting:
    if not make_up.uid or any(m.uid == make_up.uid for m in meetings):
        raise ValueError("a make-up needs a new, unique UID")
    if any(m.makeup_for == cancelled.uid and m.is_active for m in meetings):
        raise ChangeError.single("meeting", f"{cancelled.title} already has a make-up session.")
    placed = local_start(make_up.day, make_up.wall_time, cancelled.start.tzinfo)  # type: ignore[arg-type]
    meeting = replace(
        cancelled,
        key=f"{cancelled.key}:make-up:{make_up.uid}",
        uid=make_up.uid,
        start=placed.start,
        end=end_after(placed.start, cancelled.minutes),
        wall_time=make_up.wall_time,
        adjustment=placed.adjustment,
        status=MeetingStatus.SCHEDULED,
        sequence=0,
        revised_at=now,
        makeup_for=cancelled.uid,
    )
    _require_future(meeting, now, "make_up_day")
    try:
        _keep_numbering(meeting, meetings, ignore=cancelled.uid)
    except ChangeError as exc:
        raise ChangeError([Problem("make_up_day", p.message.replace("Session", "The make-up for session", 1)) for p in exc.problems]) from None
    return meeting


def _bump(meeting: PlannedMeeting, now: datetime) -> PlannedMeeting:
    return replace(meeting, sequence=meeting.sequence + 1, revised_at=now)


def _moved(meeting: PlannedMeeting, delta: timedelta) -> PlannedMeeting:
    placed = local_start(meeting.local_date + delta, meeting.wall_time, meeting.start.tzinfo)  # type: ignore[arg-type]
    return replace(
        meeting, start=placed.start, end=end_after(placed.start, meeting.minutes), adjustment=placed.adjustment
    )


def _shift_from(positions: dict[str, PlannedMeeting], threshold: datetime, delta: timedelta, now: datetime) -> None:
    for uid, m in list(positions.items()):
        if m.status is MeetingStatus.SCHEDULED and m.start > now and m.start >= threshold:
            positions[uid] = _moved(m, delta)


def _cascade_skips(
    positions: dict[str, PlannedMeeting], skip_dates: frozenset[date], cadence: timedelta, now: datetime
) -> None:
    # Each round moves the earliest upcoming session on a skip date, and all after it, one
    # cadence on. The offending date strictly grows, so this ends within len(skip_dates) rounds.
    for _ in range(len(skip_dates) + 1):
        hits = [
            m for m in positions.values()
            if m.is_group and m.status is MeetingStatus.SCHEDULED and m.start > now and m.local_date in skip_dates
        ]
        if not hits:
            return
        first = min(hits, key=lambda m: m.start)
        day_start = local_start(first.local_date, time(0), first.start.tzinfo).start  # type: ignore[arg-type]
        _shift_from(positions, max(day_start, now), cadence, now)
    raise AssertionError("skip-date cascade did not settle")


def _finish_positions(
    original: Sequence[PlannedMeeting],
    positions: Mapping[str, PlannedMeeting],
    now: datetime,
    *,
    busy: Sequence[Busy],
    names: Mapping[str, str] | None,
) -> ChangeResult:
    updated = {
        m.uid: _bump(positions[m.uid], now)
        for m in original
        if positions[m.uid].start != m.start
    }
    return _finish(original, updated, added=(), busy=busy, names=names)


def _finish(
    original: Sequence[PlannedMeeting],
    updated: Mapping[str, PlannedMeeting],
    *,
    added: tuple[PlannedMeeting, ...],
    busy: Sequence[Busy],
    names: Mapping[str, str] | None,
) -> ChangeResult:
    meetings = [updated.get(m.uid, m) for m in original] + list(added)
    touched = {*updated, *(m.uid for m in added)}
    # Only overlaps this change creates count; older ones were accepted when they were made.
    clashes = [
        c for c in facilitator_clashes(meetings, busy)
        if c.meeting.uid in touched or c.other_uid in touched
    ]
    if clashes:
        raise ChangeError([Problem("day", describe_clash(c, dict(names or {}))) for c in clashes[:3]])
    return ChangeResult(
        meetings=sorted_meetings(meetings),
        changed=tuple(sorted_meetings(updated.values())),
        added=added,
    )
