"""Read the programme's cohorts and their members' episodes in a fixed number of queries.

Whatever the number of cohorts or members: one query each for the cohorts, their
facilitators, the enrollments, the transfers out, the enrollment history of withdrawn
members, the cohorts still to finish, the attendance (counted by the database per
enrollment and mark), and the answers; plus one per step back along a transfer chain
(server.measures.responses.lineages). Nothing is read per member.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.expressions import Q
from tortoise.functions import Count

from calendars.vocabulary import Instrument
from models.board import Attendance
from models.clinical import MeasureResponse
from models.cohorts import (
    Cohort,
    CohortStatus,
    Enrollment,
    EnrollmentStatus,
    EnrollmentTransition,
    Meeting,
    MeetingKind,
    MeetingStatus,
)
from server.board.vocabulary import ATTENDED, AttendanceStatus
from server.measures.outcomes import episode_outcome
from server.measures.responses import lineages
from server.programme.figures import MemberFacts

# Cohorts that ran or are running: drafts have not started, cancelled ones never ran.
COUNTED_COHORTS = (CohortStatus.ENROLLING, CohortStatus.ACTIVE, CohortStatus.COMPLETED)
COUNTED_ENROLLMENTS = (EnrollmentStatus.ENROLLED, EnrollmentStatus.COMPLETED, EnrollmentStatus.WITHDRAWN)
MISSED = (AttendanceStatus.ABSENT_NOTIFIED, AttendanceStatus.ABSENT_UNNOTIFIED)


@dataclass(frozen=True, kw_only=True)
class CohortRow:
    id: int
    name: str
    template_id: int
    start_date: date
    status: CohortStatus
    facilitator_ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class Selection:
    """Which cohorts: `facilitator_ids` None means every cohort (a coordinator's scope)."""

    facilitator_ids: tuple[int, ...] | None = None
    template_id: int | None = None
    facilitator_id: int | None = None
    starts_from: date | None = None
    starts_to: date | None = None


@dataclass(frozen=True)
class _Episode:
    """The columns of an enrollment that `lineages` and the counting read."""

    id: int
    cohort_id: int
    status: EnrollmentStatus
    transferred_from_id: int | None


def _value(raw: object) -> str:
    return str(raw.value if hasattr(raw, "value") else raw)


async def cohorts_in(selection: Selection) -> list[CohortRow]:
    query = Cohort.filter(status__in=list(COUNTED_COHORTS))
    if selection.facilitator_ids is not None:
        query = query.filter(facilitators__id__in=list(selection.facilitator_ids) or [0])
    if selection.facilitator_id is not None:
        query = query.filter(facilitators__id=selection.facilitator_id)
    if selection.template_id is not None:
        query = query.filter(template_id=selection.template_id)
    if selection.starts_from is not None:
        query = query.filter(start_date__gte=selection.starts_from)
    if selection.starts_to is not None:
        query = query.filter(start_date__lte=selection.starts_to)
    rows = await query.distinct().order_by("start_date", "id").values_list(
        "id", "name", "template_id", "start_date", "status")
    ids = [r[0] for r in rows]
    led: dict[int, list[int]] = defaultdict(list)
    if ids:
        for cohort_id, user_id in await Cohort.filter(id__in=ids, facilitators__id__not_isnull=True).values_list(
                "id", "facilitators__id"):
            led[cohort_id].append(user_id)
    return [
        CohortRow(id=i, name=name, template_id=t, start_date=start, status=CohortStatus(_value(status)),
                  facilitator_ids=tuple(sorted(set(led[i]))))
        for i, name, t, start, status in rows
    ]


async def member_facts(cohorts: Sequence[CohortRow], *, now: datetime) -> dict[int, list[MemberFacts]]:
    """Each cohort's counted episodes (figures.py says which), keyed by cohort id."""
    ids = [c.id for c in cohorts]
    if not ids:
        return {}
    enrollments = [_Episode(i, c, EnrollmentStatus(_value(s)), t) for i, c, s, t in await Enrollment.filter(
        cohort_id__in=ids, status__in=list(COUNTED_ENROLLMENTS)).order_by("id").values_list(
        "id", "cohort_id", "status", "transferred_from_id")]
    moved_on = set(await Enrollment.filter(transferred_from__cohort_id__in=ids)
                   .values_list("transferred_from_id", flat=True))
    current = [e for e in enrollments if e.id not in moved_on]
    chains = await lineages(current)
    in_scope = {e.id for e in enrollments}
    earlier = sorted({i for chain in chains.values() for i in chain} - in_scope)
    of_episode = {i: e.id for e in current for i in chains[e.id]}

    def across(*, by_cohort: str, by_enrollment: str) -> Q:
        where = Q(**{f"{by_cohort}__in": ids})
        return where | Q(**{f"{by_enrollment}__in": earlier}) if earlier else where

    withdrawn_chains = [i for e in current if e.status == EnrollmentStatus.WITHDRAWN for i in chains[e.id]]
    were_enrolled = set(await EnrollmentTransition.filter(
        enrollment_id__in=withdrawn_chains or [0], to_status=EnrollmentStatus.ENROLLED.value,
    ).distinct().order_by("enrollment_id").values_list("enrollment_id", flat=True))

    held_any = set(await Meeting.filter(cohort_id__in=ids, kind=MeetingKind.GROUP)
                   .exclude(status=MeetingStatus.CANCELLED).distinct().order_by("cohort_id").values_list("cohort_id", flat=True))
    to_come = set(await Meeting.filter(cohort_id__in=ids, kind=MeetingKind.GROUP, status=MeetingStatus.SCHEDULED,
                                       ends_at__gt=now).distinct().order_by("cohort_id").values_list("cohort_id", flat=True))
    status_of = {c.id: c.status for c in cohorts}
    finished = {i for i in ids if status_of[i] == CohortStatus.COMPLETED or (i in held_any and i not in to_come)}

    attended: dict[int, int] = defaultdict(int)
    missed: dict[int, int] = defaultdict(int)
    marks = await (Attendance.filter(across(by_cohort="enrollment__cohort_id", by_enrollment="enrollment_id"),
                                     meeting__kind=MeetingKind.GROUP)
                   .annotate(n=Count("id")).group_by("enrollment_id", "status")
                   .values_list("enrollment_id", "status", "n"))
    for enrollment_id, status, n in marks:
        episode = of_episode.get(enrollment_id)
        if episode is None:
            continue
        if _value(status) in ATTENDED:
            attended[episode] += n
        elif _value(status) in MISSED:
            missed[episode] += n

    answers: dict[tuple[int, str], list[tuple[str, int]]] = defaultdict(list)
    rows = await (MeasureResponse.filter(across(by_cohort="enrollment__cohort_id", by_enrollment="enrollment_id"),
                                         superseded=False)
                  .order_by("administered_at", "id").values_list("enrollment_id", "instrument", "window", "total"))
    for enrollment_id, instrument, window, total in rows:
        episode = of_episode.get(enrollment_id)
        if episode is not None:
            answers[(episode, _value(instrument))].append((window, total))

    facts: dict[int, list[MemberFacts]] = {i: [] for i in ids}
    for e in current:
        withdrawn = e.status == EnrollmentStatus.WITHDRAWN
        if withdrawn and not attended[e.id] and not were_enrolled.intersection(chains[e.id]):
            continue  # withdrawn from the invitation, screening or waitlist: never in the group
        phq9 = answers.get((e.id, Instrument.PHQ9.value))
        gad7 = answers.get((e.id, Instrument.GAD7.value))
        facts[e.cohort_id].append(MemberFacts(
            cohort_id=e.cohort_id,
            withdrawn=withdrawn,
            cohort_finished=e.cohort_id in finished,
            enrollment_completed=e.status == EnrollmentStatus.COMPLETED,
            sessions_attended=attended[e.id],
            sessions_missed=missed[e.id],
            phq9=episode_outcome(Instrument.PHQ9, phq9) if phq9 else None,
            gad7=episode_outcome(Instrument.GAD7, gad7) if gad7 else None,
        ))
    return facts
