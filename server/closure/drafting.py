"""Drafting sections 1-5 and 10 of a summary from the record's facts."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date

from server.board.vocabulary import RATING_MAX, GoalStatus
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
from calendars.vocabulary import MeetingKind
from server.measures import instruments as measures
from server.measures import outcomes

# The instruments a summary reports, in the order it reports them (section 4).
INSTRUMENTS = (measures.Instrument.PHQ9.value, measures.Instrument.GAD7.value)


def goal_status(record_status: str, last_rating: int | None) -> str:
    """Achieved / partly / not yet, from the goal's status and its last check-in rating."""
    if record_status == GoalStatus.ACHIEVED or last_rating == RATING_MAX:
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
            scenario=r.scenario, next_step=r.next_step, goal_text=r.goal_text,
        )
        for r in sorted(facts.role_plays, key=lambda r: r.on)
    ]
    safety = [
        SafetyItem(raised_on=s.raised_on, trigger=s.trigger, outcome=s.outcome,
                   action=s.action, closed_on=s.closed_on)
        for s in sorted(facts.safety, key=lambda s: s.raised_on)
    ]
    post_group = [m for m in facts.meetings if m.kind == MeetingKind.POST]
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
        summary.feelings_about_ending = previous.feelings_about_ending
    return summary


def trajectory(instrument: str, facts: Iterable[MeasureFact]) -> Trajectory | None:
    """Baseline to last score, by the one definition in server.measures.instruments (episode_outcome)."""
    points = sorted((m for m in facts if m.instrument == instrument), key=lambda m: m.on)
    if not points:
        return None
    scores = [ScorePoint(on=m.on, total=m.total, band=measures.band_for(instrument, m.total).label, label=m.label) for m in points]
    outcome = outcomes.episode_outcome(instrument, [(m.window, m.total) for m in points])
    assert outcome.baseline_index is not None
    change = outcome.change
    percent = change.percent_change if change else None
    return Trajectory(
        instrument=instrument,
        name=measures.questionnaire(instrument).name,
        points=scores,
        baseline=scores[outcome.baseline_index],
        last=scores[outcome.last_index] if outcome.last_index is not None else None,
        change=change.difference if change else None,
        percent_change=round(percent) if percent is not None else None,
        response=outcome.response,
        remission=outcome.remission,
        standing=outcome.standing.value,
        late_baseline=outcome.late_baseline,
        referral_reasons=list(outcome.referral_reasons),
    )


def referral_suggestion(phq9: Trajectory) -> str:
    """Why a referral is suggested, in the facilitator's words; empty when it is not."""
    reasons = []
    base = f"{phq9.baseline_label.lower()} {phq9.baseline.total}"
    if outcomes.NO_RESPONSE in phq9.referral_reasons and phq9.last is not None:
        reasons.append(
            f"no response on the PHQ-9 ({phq9.baseline.total} to {phq9.last.total}, less than a 50% drop "
            f"from the {phq9.baseline_label.lower()})"
        )
    if outcomes.STILL_AT_THRESHOLD in phq9.referral_reasons:
        if phq9.last is not None:
            reasons.append(f"the last PHQ-9 is still {phq9.last.total} ({phq9.last.band}), 10 or more")
        else:
            reasons.append(f"the only PHQ-9 is the {base} ({phq9.baseline.band}), 10 or more, with no later score")
    if not reasons:
        return ""
    text = "; ".join(reasons)
    return f"{text[0].upper()}{text[1:]}: consider a referral or another effective treatment."


def _draft_next_step(chosen: NextStep, *, phq9: Trajectory | None, post_group_on: date | None) -> NextStep:
    step = dataclasses.replace(chosen)
    # Members who have not improved "should be offered alternative effective treatment", and
    # referral "if symptoms persist" (domain-ipt.md 4c and 8.9, S6, S43): no response, or a
    # last PHQ-9 still at 10 or more. The facilitator decides.
    step.referral_suggested = bool(phq9 and phq9.referral_reasons)
    if step.referral_suggested:
        assert phq9 is not None
        step.suggestion = referral_suggestion(phq9)
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
