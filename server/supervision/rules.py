"""The rules behind the agenda's member flags (issue 17): absences in a row and "not
improving by mid-treatment". Pure functions, and the one query that feeds the first.

domain-ipt.md 7: no IPT source gives an absence limit; "2 consecutive no-shows" is a clinic
policy seen for other groups [S50]. The improvement threshold is the clinic's setting
(GROUPIPT_EARLY_IMPROVEMENT_PERCENT), not a rule from the IPT sources."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from models.board import Attendance, AttendanceStatus
from models.cohorts import Enrollment, EnrollmentStatus, Meeting, MeetingKind, MeetingStatus
from server.reminders.follow_ups import absence_stretches

IMPROVEMENT_RULE = (
    "A member is flagged when, after the middle phase's midpoint session, their latest PHQ-9 "
    "has not dropped by at least {percent}% from baseline. This is the clinic's setting "
    "(GROUPIPT_EARLY_IMPROVEMENT_PERCENT), not a rule from the IPT sources; members who "
    "started below the clinical threshold of 10 are not counted, as for response and remission."
)


@dataclass(frozen=True)
class AbsenceRun:
    """`len(meeting_ids)` completed group sessions in a row that a member missed."""

    enrollment_id: int
    cohort_id: int
    meeting_ids: tuple[int, ...]
    numbers: tuple[int, ...]
    last_at: datetime  # when the last missed session started
    notified: int  # how many of them the member had said they could not come to


def runs_of_absences(sessions: Sequence[tuple[int, int, datetime, str | None]], run: int) -> list[tuple[int, ...]]:
    """Maximal stretches of at least `run` sessions missed in a row, as indexes into
    `sessions` (meeting id, number, start, attendance status or None), in order. "In a row"
    is read as the follow-ups read it (server/reminders/follow_ups.absence_stretches): a
    session with nothing recorded for the member neither counts nor breaks a stretch."""
    return [s for s in absence_stretches([status for *_, status in sessions]) if len(s) >= run]


async def absence_runs(cohort_ids: Iterable[int], run: int = 2) -> list[AbsenceRun]:
    """Enrolled members' stretches of `run` or more completed group sessions in a row
    marked absent_notified or absent_unnotified on the board, in three queries.

    The same reading of "in a row" as the absence follow-ups (runs_of_absences)."""
    ids = sorted(set(cohort_ids))
    if not ids or run < 1:
        return []
    sessions = await Meeting.filter(cohort_id__in=ids, kind=MeetingKind.GROUP, status=MeetingStatus.COMPLETED).order_by(
        "starts_at", "id").values_list("id", "cohort_id", "number", "starts_at")
    marks = await Attendance.filter(meeting__cohort_id__in=ids, meeting__kind=MeetingKind.GROUP,
                                    meeting__status=MeetingStatus.COMPLETED).values_list(
        "meeting_id", "enrollment_id", "status")
    members = await Enrollment.filter(cohort_id__in=ids, status=EnrollmentStatus.ENROLLED,
                                      member__restricted_at=None).order_by("id").values_list(
        "id", "cohort_id")
    status_of = {(meeting_id, enrollment_id): AttendanceStatus(status) for meeting_id, enrollment_id, status in marks}
    by_cohort: dict[int, list[tuple[int, int, datetime]]] = defaultdict(list)
    for meeting_id, cohort_id, number, starts_at in sessions:
        by_cohort[cohort_id].append((meeting_id, number, starts_at))
    out: list[AbsenceRun] = []
    for enrollment_id, cohort_id in members:
        row = [(m, n, s, status_of.get((m, enrollment_id))) for m, n, s in by_cohort[cohort_id]]
        for stretch in runs_of_absences(row, run):
            chosen = [row[i] for i in stretch]
            out.append(AbsenceRun(
                enrollment_id=enrollment_id, cohort_id=cohort_id,
                meeting_ids=tuple(m for m, _, _, _ in chosen), numbers=tuple(n for _, n, _, _ in chosen),
                last_at=chosen[-1][2],
                notified=sum(1 for *_, status in chosen if status == AttendanceStatus.ABSENT_NOTIFIED),
            ))
    return out


def middle_midpoint(phases: Sequence[dict]) -> int | None:
    """The group session at the middle phase's midpoint: the lower middle of its sessions
    (WHO 2-7: session 4; Wilfley 6-15: session 10, before the mid-treatment meeting)."""
    middle = next((p for p in phases or [] if p.get("name") == "middle"), None)
    if middle is None:
        return None
    try:
        first, last = int(middle["first"]), int(middle["last"])
    except (KeyError, TypeError, ValueError):
        return None
    return (first + last) // 2 if first <= last else None


def not_improving(baseline_total: int, latest_total: int, percent: int) -> bool:
    """No drop of at least `percent`% from baseline, in integers (a 20% drop exactly is one)."""
    return 100 * (baseline_total - latest_total) < percent * baseline_total
