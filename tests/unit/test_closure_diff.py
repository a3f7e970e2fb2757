"""What changed between two versions of a summary, per section, readable."""
from __future__ import annotations

from datetime import date

from server.closure import (
    GoalFact,
    RecordFacts,
    SafetyFact,
    apply_edits,
    diff_summaries,
    draft_summary,
    word_diff,
)


def summary():
    return draft_summary(RecordFacts(
        cohort_title="Tuesday group", n_group_sessions=8,
        start_date=date(2026, 1, 12), end_date=date(2026, 3, 2),
        goals=[GoalFact(goal_id=3, text="See a friend every week", status="partly")],
        safety=[SafetyFact(raised_on=date(2026, 1, 5), trigger="PHQ-9 item 9 answered 1")],
    ))


def test_identical_versions_have_no_changes():
    assert diff_summaries(summary(), summary()) == []


def test_a_changed_narrative_field_is_reported_in_its_section():
    old = apply_edits(summary(), {"warning_signs": "Sleeping badly"})
    new = apply_edits(old, {"warning_signs": "Sleeping badly and skipping meals", "who_to_tell": "My brother"})
    [section] = diff_summaries(old, new)
    assert section.title == "7. Warning signs"
    assert [(c.label, c.before, c.after) for c in section.changes] == [
        ("Warning signs", "Sleeping badly", "Sleeping badly and skipping meals"),
        ("Who they will tell", "", "My brother"),
    ]


def test_goal_words_are_labelled_with_the_goal():
    new = apply_edits(summary(), {"goal_words_3": "I met Sam twice"})
    [section] = diff_summaries(summary(), new)
    assert section.section == "goals"
    assert section.changes[0].label == "Goal \u201cSee a friend every week\u201d: the member's words"


def test_sections_come_in_summary_order():
    old = summary()
    new = apply_edits(old, {"next_step_kind": "maintenance", "areas_needing_work": "Work"})
    assert [s.section for s in diff_summaries(old, new)] == ["areas_needing_work", "next_step"]


def test_the_member_diff_leaves_out_section_10():
    old, new = summary(), summary()
    new.safety[0].outcome = "Passive thoughts; safety plan made"
    assert [s.section for s in diff_summaries(old, new)] == ["safety"]
    assert diff_summaries(old, new, include_safety=False) == []


def test_word_diff_marks_what_was_removed_and_added():
    assert word_diff("call my sister on Sunday", "call my brother on Sunday") == (
        ("equal", "call my "),
        ("delete", "sister"),
        ("insert", "brother"),
        ("equal", " on Sunday"),
    )


def test_feelings_about_ending_is_its_own_field_in_section_9():
    old = summary()
    new = apply_edits(old, {"feelings_about_ending": "Sad, and proud of what I did"})
    [section] = diff_summaries(old, new)
    assert (section.section, section.title) == ("feelings_about_ending", "9. Feelings about ending")
    assert [(c.label, c.after) for c in section.changes] == [("Feelings about ending", "Sad, and proud of what I did")]


def test_the_symptom_line_says_late_baseline_and_below_threshold():
    from server.closure import MeasureFact
    from server.closure.diff import trajectory_line

    def line(*points):
        return trajectory_line(draft_summary(RecordFacts(
            cohort_title="G", n_group_sessions=8, start_date=None, end_date=None,
            measures=[MeasureFact(instrument="phq9", on=date(2026, 1, 5 + 7 * i), total=t, window=w)
                      for i, (w, t) in enumerate(points)],
        )).trajectory("phq9"))

    assert line(("session-1", 14), ("closure", 4)).startswith("baseline missed; late baseline 14 (Moderate, 2026-01-05)")
    assert line(("session-1", 14), ("closure", 4)).endswith("; response, remission")
    assert line(("baseline", 7), ("closure", 2)).endswith(
        "; below the clinical threshold at baseline: response and remission not counted")
