"""Loading each member's record from the database as `RecordFacts`."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from models.board import Attendance, RolePlayTurn, TurnStatus
from models.clinical import (
    Goal,
    GoalProgress,
    GoalStatus,
    MeasureResponse,
    RiskAction,
    RiskCheck,
)
from models.clinical import SafetyItem as SafetyItemRow
from models.cohorts import Enrollment, Meeting, MeetingKind, MeetingStatus
from server.board.vocabulary import ATTENDED
from server.closure.drafting import goal_status
from server.closure.record import (
    GoalFact,
    MeasureFact,
    MeetingFact,
    ProgressFact,
    RecordFacts,
    RolePlayFact,
    SafetyFact,
)
from server.enrollment.intake import problem_area_label
from server.measures.responses import lineages
from server.measures.safety import ACTION_LABELS


def meeting_label(kind: str, number: int) -> str:
    return {
        MeetingKind.GROUP: f"Group session {number}",
        MeetingKind.PREGROUP: "Pre-group meeting" if number <= 1 else f"Pre-group meeting {number}",
        MeetingKind.MID: "Mid-group meeting",
        MeetingKind.POST: "Post-group meeting",
    }.get(str(kind), f"Meeting {number}")


def _measure_label(window: str, meeting_name: str) -> str:
    if window == "baseline":
        return "Baseline"
    if window == "closure":
        return "Closure"
    if window.startswith("session-") and window.removeprefix("session-").isdigit():
        return f"Session {window.removeprefix('session-')}"
    return meeting_name


EARLIER_GROUP = " (earlier group)"


async def cohort_record(cohort: Any, enrollments: Sequence[Any], *, now: Any) -> dict[int, RecordFacts]:
    """The record of each enrollment in one cohort, read in a fixed number of queries.

    A member who was transferred in has one treatment episode across their enrollments
    (`measure_responses.lineage`): measures, goals, role plays and safety items recorded
    in the earlier group are read from where they were written, labelled "earlier group",
    and nothing is copied. Attendance is this cohort's own (section 1 is about this group).
    """
    zone = ZoneInfo(cohort.time_zone)
    ids = [e.id for e in enrollments]
    chains = await lineages(enrollments)
    episode = sorted({episode_id for chain in chains.values() for episode_id in chain})
    earlier = [i for i in episode if i not in ids]
    earlier_cohorts = await Enrollment.filter(id__in=earlier).values_list("cohort_id", flat=True) if earlier else []
    meetings = await Meeting.filter(cohort_id=cohort.id).order_by("starts_at", "id")
    earlier_meetings = await Meeting.filter(cohort_id__in=list(set(earlier_cohorts))).exclude(
        cohort_id=cohort.id) if earlier_cohorts else []
    attendance = await Attendance.filter(enrollment_id__in=ids).values_list("meeting_id", "enrollment_id", "status")
    # A revised goal is the same goal in new words (the board rewrites its text); only
    # dropped goals are no longer the member's target goals.
    goals = await Goal.filter(enrollment_id__in=episode).exclude(status=GoalStatus.DROPPED).order_by("position", "id")
    progress = await GoalProgress.filter(goal_id__in=[g.id for g in goals]).order_by("at", "id")
    responses = await MeasureResponse.filter(enrollment_id__in=episode, superseded=False).order_by("administered_at", "id")
    turns = await RolePlayTurn.filter(protagonist_id__in=episode, status=TurnStatus.DONE)
    safety = await SafetyItemRow.filter(enrollment_id__in=episode).order_by("opened_at", "id")
    checks = await RiskCheck.filter(safety_item_id__in=[s.id for s in safety]).order_by("checked_at", "id")

    by_id = {m.id: m for m in [*meetings, *earlier_meetings]}
    own_cohort = {m.id for m in meetings}
    goal_text = {g.id: g.text for g in goals}
    attended = {(m, e) for m, e, status in attendance if str(status) in ATTENDED}
    recorded = {m for m, _, _ in attendance}

    def local(moment: Any) -> date:
        return moment.astimezone(zone).date()

    def held(m: Any) -> bool:
        if m.status == MeetingStatus.CANCELLED:
            return False
        return m.status == MeetingStatus.COMPLETED or m.id in recorded or m.ends_at <= now

    def label_of(meeting_id: int | None) -> str:
        m = by_id.get(meeting_id) if meeting_id else None
        if m is None:
            return ""
        return meeting_label(m.kind, m.number) + ("" if m.id in own_cohort else EARLIER_GROUP)

    def measure_label(r: Any) -> str:
        label = _measure_label(r.window, label_of(r.meeting_id))
        return label if r.enrollment_id in ids or label.endswith(EARLIER_GROUP) else label + EARLIER_GROUP

    group = [m for m in meetings if m.kind == "group" and m.status != MeetingStatus.CANCELLED]
    template = cohort.template  # the cohort must come with its template (problem-area labels)
    last_check = {c.safety_item_id: c for c in checks}
    facts: dict[int, RecordFacts] = {}
    for e in enrollments:
        mine = set(chains[e.id])
        own_meetings = [
            MeetingFact(
                kind=str(m.kind), label=meeting_label(m.kind, m.number), on=local(m.starts_at),
                held=held(m), attended=(m.id, e.id) in attended,
            )
            for m in meetings
            if m.kind == "group" or m.enrollment_id == e.id
        ]
        own_goals = [g for g in goals if g.enrollment_id in mine]
        goal_facts = []
        for g in own_goals:
            checkins = [p for p in progress if p.goal_id == g.id]
            ratings = [p.rating for p in checkins if p.rating is not None]
            goal_facts.append(GoalFact(
                goal_id=g.id, text=g.text,
                status=goal_status(str(g.status), ratings[-1] if ratings else None),
                progress=[
                    ProgressFact(meeting_label=label_of(p.meeting_id) or "Between meetings",
                                 on=local(by_id[p.meeting_id].starts_at if p.meeting_id in by_id else p.at),
                                 rating=p.rating, note=p.note)
                    for p in checkins if p.rating is not None or p.note
                ],
            ))
        facts[e.id] = RecordFacts(
            cohort_title=cohort.public_title or cohort.name,
            n_group_sessions=cohort.n_group_sessions,
            start_date=local(group[0].starts_at) if group else cohort.start_date,
            end_date=local(group[-1].starts_at) if group else None,
            meetings=own_meetings,
            primary_problem_area=problem_area_label(template, e.primary_problem_area),
            secondary_problem_areas=[problem_area_label(template, e.secondary_problem_area)]
            if e.secondary_problem_area else [],
            formulation=e.formulation,
            goals=goal_facts,
            measures=[
                MeasureFact(instrument=str(r.instrument), on=local(r.administered_at), total=r.total,
                            label=measure_label(r), window=r.window)
                for r in responses if r.enrollment_id in mine
            ],
            role_plays=[
                RolePlayFact(meeting_label=label_of(t.meeting_id), on=local(by_id[t.meeting_id].starts_at),
                             role_label=t.role_label, scenario=t.scenario, next_step=t.next_step,
                             goal_text=goal_text.get(t.goal_id, "") if t.goal_id else "")
                for t in sorted((t for t in turns if t.meeting_id in by_id),
                                key=lambda t: (by_id[t.meeting_id].starts_at, t.position, t.id))
                if t.protagonist_id in mine
            ],
            safety=[
                SafetyFact(
                    raised_on=local(s.opened_at),
                    trigger=("disclosed in session" if s.item9 is None else f"PHQ-9 item 9 answered {s.item9} of 3")
                    + ("" if s.enrollment_id in ids else " (earlier group)"),
                    outcome=last_check[s.id].outcome if s.id in last_check else "",
                    # An unreached attempt has no action: the contact is not yet made.
                    action=ACTION_LABELS[RiskAction(last_check[s.id].action)]
                    if s.id in last_check and last_check[s.id].action else "",
                    closed_on=local(s.closed_at) if s.closed_at else None,
                )
                for s in safety if s.enrollment_id in mine
            ],
        )
    return facts
