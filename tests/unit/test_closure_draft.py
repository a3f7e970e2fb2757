"""Drafting a closure summary from the record (server/closure/, pure part)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.closure import (
    GoalFact,
    MeasureFact,
    MeetingFact,
    ProgressFact,
    RecordFacts,
    RolePlayFact,
    SafetyFact,
    SummaryRecord,
    draft_summary,
    goal_status,
    member_view,
    protocol_label,
)


def record(**overrides) -> RecordFacts:
    meetings = [
        MeetingFact(kind="pregroup", label="Pre-group meeting", on=date(2026, 1, 5), held=True),
        *[
            MeetingFact(kind="group", label=f"Group session {n}", on=date(2026, 1, 5) + timedelta(weeks=n),
                        held=n <= 8, attended=n not in (3, 5))
            for n in range(1, 9)
        ],
        MeetingFact(kind="post", label="Post-group meeting", on=date(2026, 3, 6), held=False),
    ]
    values = dict(
        cohort_title="Tuesday group",
        n_group_sessions=8,
        start_date=date(2026, 1, 12),
        end_date=date(2026, 3, 2),
        meetings=meetings,
        primary_problem_area="Role dispute",
        secondary_problem_areas=["Role transition"],
        formulation="Low mood began when arguments with my sister became constant.",
        goals=[
            GoalFact(goal_id=11, text="Tell my sister what I need", status="achieved", progress=[
                ProgressFact(meeting_label="Group session 4", on=date(2026, 2, 2), rating=2),
                ProgressFact(meeting_label="Group session 2", on=date(2026, 1, 19), rating=1, note="first try"),
            ]),
            GoalFact(goal_id=12, text="See a friend every week", status="not_yet"),
        ],
        measures=[
            MeasureFact(instrument="phq9", on=date(2026, 1, 5), total=18, window="baseline", label="Baseline"),
            MeasureFact(instrument="phq9", on=date(2026, 2, 2), total=12, window="session-4", label="Session 4"),
            MeasureFact(instrument="phq9", on=date(2026, 3, 2), total=4, window="closure", label="Closure"),
            MeasureFact(instrument="gad7", on=date(2026, 1, 5), total=11, window="baseline"),
            MeasureFact(instrument="gad7", on=date(2026, 3, 2), total=8, window="closure"),
        ],
        role_plays=[
            RolePlayFact(meeting_label="Group session 5", on=date(2026, 2, 9), role_label="my sister",
                         scenario="Asking for help with mum", next_step="Call her on Sunday"),
            RolePlayFact(meeting_label="Group session 3", on=date(2026, 1, 26), role_label="my boss",
                         scenario="Saying no to overtime"),
        ],
        safety=[SafetyFact(raised_on=date(2026, 1, 5), trigger="PHQ-9 item 9 answered 1",
                           outcome="Passive thoughts, no plan", action="Safety plan",
                           closed_on=date(2026, 1, 6))],
    )
    values.update(overrides)
    return RecordFacts(**values)


def test_protocol_label_reads_like_the_protocol():
    assert protocol_label(8) == "Group IPT, 8 sessions"


def test_attendance_counts_group_sessions_held_and_individual_meetings_held():
    overview = draft_summary(record()).overview
    assert overview.group_sessions_held == 8
    assert overview.group_sessions_attended == 6
    assert overview.individual_meetings_held == 1  # the post-group meeting is still ahead
    assert overview.protocol_label == "Group IPT, 8 sessions"
    assert (overview.start_date, overview.end_date) == (date(2026, 1, 12), date(2026, 3, 2))


def test_cancelled_or_future_sessions_are_not_counted_as_held():
    meetings = [
        MeetingFact(kind="group", label="Group session 1", on=date(2026, 1, 12), held=True, attended=True),
        MeetingFact(kind="group", label="Group session 2", on=date(2026, 1, 19), held=False),
    ]
    overview = draft_summary(record(meetings=meetings)).overview
    assert (overview.group_sessions_attended, overview.group_sessions_held) == (1, 1)


def test_problem_areas_and_formulation_come_from_the_record():
    areas = draft_summary(record()).problem_areas
    assert areas.primary == "Role dispute"
    assert areas.secondary == ["Role transition"]
    assert areas.formulation.startswith("Low mood began")


def test_goals_keep_status_and_progress_in_meeting_order():
    goals = draft_summary(record()).goals
    assert [g.status for g in goals] == ["achieved", "not_yet"]
    assert [p.meeting_label for p in goals[0].progress] == ["Group session 2", "Group session 4"]
    assert goals[0].progress[0].progress == "A little progress"
    assert goals[1].progress == []


@pytest.mark.parametrize(("status", "rating", "expected"), [
    ("achieved", None, "achieved"),
    ("active", 4, "achieved"),
    ("active", 2, "partly"),
    ("active", 0, "not_yet"),
    ("active", None, "not_yet"),
])
def test_goal_status_from_record_status_and_last_rating(status, rating, expected):
    assert goal_status(status, rating) == expected


def test_phq9_trajectory_has_bands_change_response_and_remission():
    phq9 = draft_summary(record()).trajectory("phq9")
    assert phq9 is not None and phq9.last is not None
    assert phq9.name == "PHQ-9"
    assert (phq9.baseline.total, phq9.baseline.band) == (18, "Moderately severe")
    assert (phq9.last.total, phq9.last.band) == (4, "Minimal")
    assert phq9.change == -14
    assert phq9.percent_change == -78
    assert phq9.response is True
    assert phq9.remission is True
    assert [p.total for p in phq9.points] == [18, 12, 4]


def test_gad7_is_reported_when_collected_without_remission():
    gad7 = draft_summary(record()).trajectory("gad7")
    assert gad7 is not None
    assert (gad7.baseline.band, gad7.last.band) == ("Moderate", "Mild")
    assert gad7.response is False  # 11 to 8 is a 27% drop
    assert gad7.remission is None


def test_gad7_is_left_out_when_not_collected():
    only_phq = [m for m in record().measures if m.instrument == "phq9"]
    assert [t.instrument for t in draft_summary(record(measures=only_phq)).symptoms] == ["phq9"]


def test_a_baseline_alone_has_no_change_and_no_response_figure():
    summary = draft_summary(record(measures=[MeasureFact(instrument="phq9", on=date(2026, 1, 5), total=8, window="baseline")]))
    phq9 = summary.trajectory("phq9")
    assert phq9.last is None and phq9.change is None and phq9.response is None
    assert summary.next_step.referral_suggested is False


def test_a_baseline_alone_of_10_or_more_suggests_a_referral():
    # Changed with issue 13: the last PHQ-9 known (the baseline, 14) is still 10 or more.
    summary = draft_summary(record(measures=[MeasureFact(instrument="phq9", on=date(2026, 1, 5), total=14, window="baseline")]))
    assert summary.trajectory("phq9").standing == "no_later_score"
    assert summary.next_step.referral_suggested is True
    assert "The only PHQ-9 is the baseline 14 (Moderate), 10 or more, with no later score" in summary.next_step.suggestion


def _phq9(*points):
    return [MeasureFact(instrument="phq9", on=date(2026, 1, 5) + timedelta(weeks=i), total=total, window=window,
                        label=window.title()) for i, (window, total) in enumerate(points)]


def test_no_response_suggests_a_referral():
    step = draft_summary(record(measures=_phq9(("baseline", 16), ("closure", 11)))).next_step
    assert step.referral_suggested is True
    assert step.kind == "referral"
    assert "16 to 11" in step.suggestion
    assert "the last PHQ-9 is still 11 (Moderate), 10 or more" in step.suggestion


def test_a_response_still_at_10_suggests_a_referral():
    summary = draft_summary(record(measures=_phq9(("baseline", 22), ("closure", 10))))
    assert summary.trajectory("phq9").response is True
    step = summary.next_step
    assert step.referral_suggested is True and step.suggestion.startswith("The last PHQ-9 is still 10")


def test_below_the_threshold_at_baseline_is_not_a_response_or_remission():
    summary = draft_summary(record(measures=_phq9(("baseline", 7), ("closure", 2))))
    phq9 = summary.trajectory("phq9")
    assert phq9.standing == "below_threshold" and phq9.below_threshold
    assert phq9.response is None and phq9.remission is None
    assert (phq9.change, phq9.percent_change) == (-5, -71)
    assert summary.next_step.referral_suggested is False


def test_a_missed_baseline_is_a_late_baseline():
    summary = draft_summary(record(measures=_phq9(("session-2", 15), ("session-3", 12), ("closure", 5))))
    phq9 = summary.trajectory("phq9")
    assert phq9.late_baseline and phq9.baseline_label == "Late baseline"
    assert (phq9.baseline.total, phq9.baseline.label, phq9.last.total) == (15, "Session-2", 5)
    assert phq9.response is True and phq9.remission is False


def test_the_baseline_is_the_baseline_occasion_even_if_not_the_first_point():
    summary = draft_summary(record(measures=_phq9(("session-1", 9), ("baseline", 14), ("closure", 6))))
    phq9 = summary.trajectory("phq9")
    assert (phq9.baseline.total, phq9.late_baseline, phq9.response) == (14, False, True)
    assert [p.total for p in phq9.points] == [9, 14, 6]


def test_feelings_about_ending_are_kept_on_redraft_and_round_trip():
    first = draft_summary(record())
    first.feelings_about_ending = "Sad to stop; glad to have said goodbye properly."
    again = draft_summary(record(), previous=first)
    assert again.feelings_about_ending == first.feelings_about_ending
    assert SummaryRecord.from_json(again.to_json()).feelings_about_ending == first.feelings_about_ending
    # Content stored before the section existed still loads.
    old = again.to_json()
    del old["feelings_about_ending"]
    assert SummaryRecord.from_json(old).feelings_about_ending == ""


def test_response_offers_the_post_group_meeting_as_follow_up():
    step = draft_summary(record()).next_step
    assert step.referral_suggested is False
    assert step.kind == "follow_up"
    assert step.follow_up_date == date(2026, 3, 6)


def test_skills_are_the_role_plays_done_in_meeting_order():
    skills = draft_summary(record()).skills
    assert [(s.role_label, s.scenario, s.next_step) for s in skills] == [
        ("my boss", "Saying no to overtime", ""),
        ("my sister", "Asking for help with mum", "Call her on Sunday"),
    ]


def test_safety_items_are_in_section_10_and_not_in_the_member_view():
    summary = draft_summary(record())
    assert summary.safety[0].trigger == "PHQ-9 item 9 answered 1"
    view = member_view(summary)
    assert "safety" not in view
    assert "item 9" not in repr(view)


def test_redraft_keeps_what_the_facilitator_wrote_and_refreshes_the_record():
    first = draft_summary(record())
    first.goals[0].member_words = "I asked her for help and she said yes."
    first.warning_signs = "Sleeping badly for a week"
    first.next_step.kind = "maintenance"
    later = record(measures=[*record().measures, MeasureFact(instrument="phq9", on=date(2026, 3, 6), total=3)])
    redrafted = draft_summary(later, previous=first)
    assert redrafted.goals[0].member_words == "I asked her for help and she said yes."
    assert redrafted.warning_signs == "Sleeping badly for a week"
    assert redrafted.next_step.kind == "maintenance"
    assert redrafted.trajectory("phq9").last.total == 3


def test_content_round_trips_through_json():
    summary = draft_summary(record())
    data = summary.to_json()
    assert data["overview"]["start_date"] == "2026-01-12"
    assert SummaryRecord.from_json(data) == summary


def test_malformed_stored_content_is_a_clear_error():
    with pytest.raises(ValueError, match="malformed"):
        SummaryRecord.from_json({"overview": {"start_date": "not a date"}})
