"""Drafting sections 1-5 and 10 of a summary from the record's facts."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date

from server import measures
from server.closure.record import (
    GOAL_STATUSES,
    GoalProgressPoint,
    GoalSummary,
    MeasureFact,
    NextStep,
    Overview,
    ProblemAreas,
    RecordFacts,
    SafetyItem,
    ScorePoint,
    SkillPractised,
    SummaryRecord,
    Trajectory,
)

# The instruments a summary reports, in the order it reports them (section 4).
INSTRUMENTS = (measures.Instrument.PHQ9.value, measures.Instrument.GAD7.value)


def goal_status(record_status: str, last_rating: int | None) -> str:
    """Achieved / partly / not yet, from the goal's status and its last check-in rating."""
    if record_status == "achieved" or last_rating == 4:
        return "achieved"
    if last_rating:
        return "partly"
    return "not_yet"


def protocol_label(n_group_sessions: int) -> str:
    return f"Group IPT, {n_group_sessions} sessions"


def draft_summary(facts: RecordFacts, *, previous: SummaryRecord | None = None) -> SummaryRecord:
    """Sections 1-5 and 10 from the record; sections 6-9 and each goal's words are kept
    from `previous` (a re-draft must not throw away what the facilitator wrote)."""
    group = [m for m in facts.meetings if m.kind == "group" and m.held]
    individual = [m for m in facts.meetings if m.kind != "group" and m.held]
    overview = Overview(
        cohort_title=facts.cohort_title,
        protocol_label=protocol_label(facts.n_group_sessions),
        start_date=facts.start_date,
        end_date=facts.end_date,
        group_sessions_held=len(group),
        group_sessions_attended=sum(1 for m in group if m.attended),
        individual_meetings_held=len(individual),
    )
    previous_words = {g.goal_id: g.member_words for g in previous.goals} if previous else {}
    goals = [
        GoalSummary(
            goal_id=g.goal_id,
            text=g.text,
            status=g.status if g.status in GOAL_STATUSES else "not_yet",
            progress=[
                GoalProgressPoint(meeting_label=p.meeting_label, on=p.on, rating=p.rating, note=p.note)
                for p in sorted(g.progress, key=lambda p: p.on)
            ],
            member_words=previous_words.get(g.goal_id, ""),
        )
        for g in facts.goals
    ]
    symptoms = [t for t in (trajectory(i, facts.measures) for i in INSTRUMENTS) if t is not None]
    skills = [
        SkillPractised(
            meeting_label=r.meeting_label, on=r.on, role_label=r.role_label,
            scenario=r.scenario, next_step=r.next_step,
        )
        for r in sorted(facts.role_plays, key=lambda r: r.on)
    ]
    safety = [
        SafetyItem(raised_on=s.raised_on, trigger=s.trigger, outcome=s.outcome,
                   action=s.action, closed_on=s.closed_on)
        for s in sorted(facts.safety, key=lambda s: s.raised_on)
    ]
    post_group = [m for m in facts.meetings if m.kind == "post"]
    next_step = _draft_next_step(
        previous.next_step if previous else NextStep(),
        phq9=next((t for t in symptoms if t.instrument == measures.Instrument.PHQ9.value), None),
        post_group_on=min((m.on for m in post_group), default=None),
    )
    summary = SummaryRecord(
        overview=overview,
        problem_areas=ProblemAreas(
            primary=facts.primary_problem_area,
            secondary=list(facts.secondary_problem_areas),
            formulation=facts.formulation,
        ),
        goals=goals,
        symptoms=symptoms,
        skills=skills,
        next_step=next_step,
        safety=safety,
    )
    if previous is not None:
        summary.areas_needing_work = previous.areas_needing_work
        summary.warning_signs = previous.warning_signs
        summary.who_to_tell = previous.who_to_tell
        summary.relapse_plan = dataclasses.replace(previous.relapse_plan)
    return summary


def trajectory(instrument: str, facts: Iterable[MeasureFact]) -> Trajectory | None:
    points = sorted((m for m in facts if m.instrument == instrument), key=lambda m: m.on)
    if not points:
        return None
    scores = [ScorePoint(on=m.on, total=m.total, band=measures.band_for(instrument, m.total).label, label=m.label) for m in points]
    baseline, last = scores[0], (scores[-1] if len(scores) > 1 else None)
    outcome = measures.change_from_baseline(instrument, baseline.total, last.total) if last else None
    percent = outcome.percent_change if outcome else None
    return Trajectory(
        instrument=instrument,
        name=measures.questionnaire(instrument).name,
        points=scores,
        baseline=baseline,
        last=last,
        change=outcome.difference if outcome else None,
        percent_change=round(percent) if percent is not None else None,
        response=outcome.response if outcome else None,
        remission=outcome.remission if outcome else None,
    )


def _draft_next_step(chosen: NextStep, *, phq9: Trajectory | None, post_group_on: date | None) -> NextStep:
    step = dataclasses.replace(chosen)
    # Members who have not improved "should be offered alternative effective treatment"
    # (domain-ipt.md 4c, S6, S43): suggest a referral, the facilitator decides.
    step.referral_suggested = bool(phq9 and phq9.response is False)
    if step.referral_suggested:
        assert phq9 is not None and phq9.last is not None
        step.suggestion = (
            f"No response on the PHQ-9 ({phq9.baseline.total} to {phq9.last.total}, "
            "less than a 50% drop): consider a referral or another effective treatment."
        )
    elif post_group_on is not None:
        step.suggestion = f"The post-group meeting on {post_group_on.isoformat()} can serve as the follow-up."
    else:
        step.suggestion = ""
    if not step.kind:
        if step.referral_suggested:
            step.kind = "referral"
        elif post_group_on is not None:
            step.kind = "follow_up"
    if step.follow_up_date is None and post_group_on is not None:
        step.follow_up_date = post_group_on
    return step
