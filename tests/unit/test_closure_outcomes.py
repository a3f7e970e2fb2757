"""The coordinator's cohort outcome report: rates only, no names, no narrative."""
from __future__ import annotations

from datetime import date

from server.closure import (
    GoalFact,
    MeasureFact,
    MeetingFact,
    RecordFacts,
    RolePlayFact,
    Rate,
    draft_summary,
    outcome_report,
)


def member(baseline: int | None, last: int | None, attended: int, goal_statuses=("achieved",), turns=1):
    measures = []
    if baseline is not None:
        measures.append(MeasureFact(instrument="phq9", on=date(2026, 1, 5), total=baseline))
    if last is not None:
        measures.append(MeasureFact(instrument="phq9", on=date(2026, 3, 2), total=last))
    return draft_summary(RecordFacts(
        cohort_title="Group", n_group_sessions=4, start_date=None, end_date=None,
        meetings=[MeetingFact(kind="group", label=f"Group session {n}", on=date(2026, 1, n), held=True,
                              attended=n <= attended) for n in range(1, 5)],
        goals=[GoalFact(goal_id=i, text=f"goal {i}", status=s) for i, s in enumerate(goal_statuses)],
        measures=measures,
        role_plays=[RolePlayFact(meeting_label="Group session 2", on=date(2026, 1, 2), role_label="boss",
                                 scenario="x")] * turns,
    ))


def test_rates_over_members_with_a_baseline_and_a_later_score():
    report = outcome_report([
        member(20, 4, attended=4),                     # response, remission
        member(14, 9, attended=3, goal_statuses=("partly", "not_yet")),  # no response (36%)
        member(12, None, attended=2),                  # baseline only: not in the rates
        member(None, None, attended=0, goal_statuses=(), turns=0),
    ])
    assert report.members == 4
    assert report.attendance == Rate(9, 16)
    assert report.phq9_response == Rate(1, 2)
    assert report.phq9_remission == Rate(1, 2)
    assert report.gad7_response == Rate(0, 0)
    assert report.goals == {"achieved": 2, "partly": 1, "not_yet": 1}
    assert report.goals_achieved == Rate(2, 4)
    assert report.role_plays_done == 3


def test_a_rate_reads_as_count_of_total_and_percent():
    assert str(Rate(2, 3)) == "2 of 3 (67%)"
    assert str(Rate(0, 0)) == "no data"
    assert Rate(0, 0).percent is None


def test_an_empty_cohort_has_no_rates():
    report = outcome_report([])
    assert report.members == 0 and report.attendance.percent is None


def member_by_occasion(*points, **kw):
    """A member whose PHQ-9 answers are given as (occasion key, total)."""
    summary = member(None, None, attended=kw.get("attended", 4))
    facts = RecordFacts(
        cohort_title="Group", n_group_sessions=4, start_date=None, end_date=None,
        measures=[MeasureFact(instrument="phq9", on=date(2026, 1, 5 + 7 * i), total=total, window=window)
                  for i, (window, total) in enumerate(points)],
    )
    return draft_summary(facts, previous=summary)


def test_members_below_10_at_baseline_are_reported_apart_not_in_the_rates():
    report = outcome_report([
        member_by_occasion(("baseline", 20), ("closure", 4)),   # counted: response and remission
        member_by_occasion(("baseline", 14), ("closure", 12)),  # counted: neither; referral
        member_by_occasion(("baseline", 9), ("closure", 2)),    # below: would have "remitted"
        member_by_occasion(("baseline", 3), ("closure", 2)),    # below
        member_by_occasion(("baseline", 10), ("closure", 5)),   # counted at exactly 10: 50% is a response
    ])
    assert report.phq9_response == Rate(2, 3)
    assert report.phq9_remission == Rate(1, 3)  # was 3 of 5 before issue 13
    assert report.phq9_below_threshold == 2
    assert report.referrals_suggested == 1


def test_late_baselines_are_counted_and_said_and_missing_finals_left_out():
    report = outcome_report([
        member_by_occasion(("session-2", 16), ("closure", 6)),  # late baseline, response
        member_by_occasion(("baseline", 18)),                   # no later score
        member_by_occasion(("baseline", 15), ("closure", 3)),
        member_by_occasion(),                                   # no PHQ-9 at all
    ])
    assert report.phq9_response == Rate(2, 2) and report.phq9_remission == Rate(1, 2)
    assert report.phq9_late_baseline == 1
    assert report.phq9_no_later_score == 1
    assert report.phq9_no_answers == 1
    assert report.phq9_baseline_missed == 2  # the late one and the one with no answers
    assert report.referrals_suggested == 1  # the baseline of 18 with nothing after it
