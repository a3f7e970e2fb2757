"""A summary names no other member of the cohort (domain-ipt.md section 8)."""
from __future__ import annotations

from datetime import date

from server.closure import (
    GoalFact,
    NameFound,
    RecordFacts,
    RolePlayFact,
    draft_summary,
    names_mentioned,
    redact_record_names,
)


def summary(**text):
    s = draft_summary(RecordFacts(
        cohort_title="Tuesday group", n_group_sessions=8, start_date=None, end_date=None,
        goals=[GoalFact(goal_id=1, text="Speak up at home", status="partly")],
        role_plays=[RolePlayFact(meeting_label="Group session 4", on=date(2026, 2, 2),
                                 role_label="my partner", scenario=text.pop("scenario", "Asking for time alone"))],
    ))
    for key, value in text.items():
        setattr(s, key, value)
    return s


def test_a_full_name_is_found_in_any_case():
    found = names_mentioned(summary(warning_signs="talk to carl mensah"), ["Carl Mensah"])
    assert NameFound("warning_signs", "Carl Mensah") in found


def test_a_first_name_alone_is_found():
    assert names_mentioned(summary(areas_needing_work="Like Carl, keep practising"), ["Carl Mensah"]) == [
        NameFound("areas_needing_work", "Carl")
    ]


def test_a_surname_alone_is_found():
    assert names_mentioned(summary(who_to_tell="Mrs Mensah"), ["Carl Mensah"]) == [
        NameFound("warning_signs", "Mensah")
    ]


def test_record_text_is_checked_too():
    found = names_mentioned(summary(scenario="Practising with Carl"), ["Carl Mensah"])
    assert found == [NameFound("skills", "Carl")]


def test_an_ordinary_word_that_is_also_a_name_is_not_flagged_in_lower_case():
    assert names_mentioned(summary(warning_signs="I may stop going out"), ["May Lin"]) == []


def test_part_of_a_word_is_not_a_name():
    assert names_mentioned(summary(warning_signs="Ann's Annual review"), ["Ann Lee"]) == [
        NameFound("warning_signs", "Ann")
    ]
    assert names_mentioned(summary(warning_signs="Annual review"), ["Ann Lee"]) == []


def test_the_members_own_first_name_shared_with_another_member_is_allowed():
    s = summary(warning_signs="Anna noticed she stops eating")
    assert names_mentioned(s, ["Anna Berg"], own_name="Anna Kowalski") == []
    # ...but the other Anna's full name still is not.
    s = summary(warning_signs="Anna Berg noticed it first")
    assert names_mentioned(s, ["Anna Berg"], own_name="Anna Kowalski") == [NameFound("warning_signs", "Anna Berg"), NameFound("warning_signs", "Berg")]


def test_initials_are_not_treated_as_names():
    assert names_mentioned(summary(warning_signs="J. said so"), ["J. Smith"]) == []


def test_no_other_members_means_nothing_found():
    assert names_mentioned(summary(warning_signs="Anything at all"), []) == []
    assert names_mentioned(summary(warning_signs="Anything at all"), ["  "]) == []


def test_names_in_the_record_sections_become_initials():
    s = summary(scenario="Practising with Carl Mensah, then with Carl")
    s.goals[0].member_words = "Carl helped me"
    redacted = redact_record_names(s, ["Carl Mensah"], own_name="Ada Quinn")
    assert redacted.skills[0].scenario == "Practising with C.M., then with C."
    # The facilitator's own writing is not rewritten: the finalize check names it instead.
    assert redacted.goals[0].member_words == "Carl helped me"
    assert names_mentioned(redacted, ["Carl Mensah"]) == [NameFound("goals", "Carl")]


def test_redaction_leaves_a_summary_without_names_unchanged():
    s = summary()
    assert redact_record_names(s, ["Carl Mensah"]) == s
    assert redact_record_names(s, []) is s
