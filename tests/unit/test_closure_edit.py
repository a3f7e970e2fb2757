"""The narrative fields a facilitator edits, and what must be there before finalizing."""
from __future__ import annotations

from datetime import date

import pytest

from server.closure import (
    GoalFact,
    MeasureFact,
    RecordFacts,
    SummaryInputError,
    apply_edits,
    draft_summary,
    finalize_problems,
)


def summary():
    return draft_summary(RecordFacts(
        cohort_title="Tuesday group", n_group_sessions=8,
        start_date=date(2026, 1, 12), end_date=date(2026, 3, 2),
        goals=[GoalFact(goal_id=7, text="Tell my sister what I need", status="partly")],
        measures=[MeasureFact(instrument="phq9", on=date(2026, 1, 5), total=15),
                  MeasureFact(instrument="phq9", on=date(2026, 3, 2), total=6)],
    ))


COMPLETE = {
    "goal_words_7": "I said it out loud for the first time.",
    "areas_needing_work": "Asking for help at work.",
    "warning_signs": "Staying in bed at weekends.",
    "who_to_tell": "My partner.",
    "relapse_strategies": "Call a friend; walk daily.",
    "relapse_supports": "Partner, GP.",
    "seek_help": "GP within a week if low mood lasts two weeks.",
    "next_step_kind": "maintenance",
    "next_step_details": "Monthly sessions for three months.",
}


def test_edits_fill_the_narrative_sections():
    edited = apply_edits(summary(), COMPLETE)
    assert edited.goals[0].member_words == "I said it out loud for the first time."
    assert edited.warning_signs == "Staying in bed at weekends."
    assert edited.relapse_plan.supports == "Partner, GP."
    assert edited.next_step.kind == "maintenance"


def test_edits_do_not_touch_the_original():
    original = summary()
    apply_edits(original, COMPLETE)
    assert original.warning_signs == ""


def test_fields_left_out_keep_their_value():
    once = apply_edits(summary(), COMPLETE)
    twice = apply_edits(once, {"warning_signs": "Skipping meals."})
    assert twice.who_to_tell == "My partner."
    assert twice.warning_signs == "Skipping meals."


def test_edits_cannot_change_the_record_sections():
    edited = apply_edits(summary(), {**COMPLETE, "overview": "x", "group_sessions_attended": "8"})
    assert edited.overview == summary().overview


def test_text_is_stripped_and_newlines_normalised():
    edited = apply_edits(summary(), {"warning_signs": "  one\r\ntwo  "})
    assert edited.warning_signs == "one\ntwo"


@pytest.mark.parametrize(("form", "field"), [
    ({"next_step_kind": "holiday"}, "next_step_kind"),
    ({"follow_up_date": "next tuesday"}, "follow_up_date"),
    ({"next_step_kind": "follow_up", "follow_up_date": ""}, "follow_up_date"),
    ({"warning_signs": "x" * 4001}, "warning_signs"),
    ({"goal_words_99": "not this member's goal"}, "goal_words_99"),
    ({"goal_words_x": "nonsense"}, "goal_words_x"),
    ({"warning_signs": 12}, "warning_signs"),
])
def test_bad_edits_name_the_field(form, field):
    with pytest.raises(SummaryInputError) as caught:
        apply_edits(summary(), form)
    assert field in caught.value.problems


def test_a_follow_up_takes_its_date():
    edited = apply_edits(summary(), {"next_step_kind": "follow_up", "follow_up_date": "2026-03-09"})
    assert edited.next_step.follow_up_date == date(2026, 3, 9)


def test_an_empty_draft_lists_what_is_missing_before_finalizing():
    problems = finalize_problems(summary(), other_member_names=[])
    assert any("warning signs" in p for p in problems)
    assert any("who the member will tell" in p for p in problems)
    assert any("relapse" in p for p in problems)
    assert any("own words" in p for p in problems)


def test_a_complete_summary_may_be_finalized():
    assert finalize_problems(apply_edits(summary(), COMPLETE), other_member_names=["Bea Okafor"]) == []


def test_naming_another_member_blocks_finalizing():
    named = apply_edits(summary(), {**COMPLETE, "relapse_supports": "Bea from the group"})
    problems = finalize_problems(named, other_member_names=["Bea Okafor"])
    assert problems == [
        "8. Relapse-prevention plan: \u201cBea\u201d names another member of the cohort; "
        "a summary names no other member (use a role label)."
    ]
