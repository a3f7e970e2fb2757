"""Protocol rules a cohort is held to: the late-join cutoff follows the initial phase, the
activation checks (group size, facilitators), and clinical words in what calendars show."""
from __future__ import annotations

import pytest

from calendars import shipped_template
from calendars.discretion import CLINICAL_WORDS, check_public_fields, clinical_words
from calendars.protocol_rules import adapted_late_join_cutoff, phases_for
from calendars.protocols import ProtocolTemplate
from server.platform.settings import Settings, SettingsError


def _template(**changes) -> ProtocolTemplate:
    data = shipped_template("uganda-ipt-g").to_dict() | {"key": "custom-x", "name": "Custom"}
    data.pop("late_join_cutoff_session")
    return ProtocolTemplate.from_dict(data | changes)


@pytest.mark.parametrize("initial,expected", [(1, 1), (2, 2), (3, 3), (4, 3), (5, 3)])
def test_default_cutoff_is_the_initial_phase_end_but_never_after_session_3(initial, expected):
    t = _template(phases=[
        {"name": "initial", "first": 1, "last": initial},
        {"name": "middle", "first": initial + 1, "last": 12},
        {"name": "termination", "first": 13, "last": 16},
    ])
    assert t.late_join_cutoff_session == t.default_late_join_cutoff == expected
    assert t.late_join_warnings() == []


def test_who_template_cutoff_no_longer_lets_a_late_joiner_miss_the_initial_phase():
    who = shipped_template("who-group-ipt")
    assert who.phase_range(who.phases[0].phase).last == 1
    assert who.late_join_cutoff_session == 1


def test_a_cutoff_after_the_initial_phase_warns():
    data = shipped_template("who-group-ipt").to_dict() | {"key": "custom-who", "late_join_cutoff_session": 3}
    t = ProtocolTemplate.from_dict(data)
    (warning,) = t.late_join_warnings()
    assert "misses the whole initial phase" in warning and "initial phase is session 1" in warning
    assert "default is session 1" in warning
    assert t.to_dict()["late_join_warnings"] == [warning]


def test_a_cutoff_after_session_3_warns_even_inside_a_long_initial_phase():
    t = _template(phases=[{"name": "initial", "first": 1, "last": 5}, {"name": "middle", "first": 6, "last": 12},
                          {"name": "termination", "first": 13, "last": 16}], late_join_cutoff_session=4)
    (warning,) = t.late_join_warnings()
    assert "first 3 sessions" in warning


def test_a_cohort_that_shortens_the_initial_phase_keeps_the_rule():
    uganda = shipped_template("uganda-ipt-g")  # initial 1-4, cutoff 3
    assert uganda.adapted(initial_sessions=1).late_join_cutoff_session == 1
    assert uganda.adapted(initial_sessions=2).late_join_cutoff_session == 2
    assert uganda.adapted(initial_sessions=6).late_join_cutoff_session == 3
    # A template that set a later cutoff on purpose keeps it (only bounded by the sessions).
    assert adapted_late_join_cutoff(5, uganda.phases, phases_for(8, initial=1, termination=1)) == 5


def test_activation_problems_name_size_and_facilitators():
    wilfley = shipped_template("wilfley-ipt-g")  # 6-12 members, co-therapists
    assert wilfley.activation_problems(members=8, facilitators=2) == {}
    problems = wilfley.activation_problems(members=0, facilitators=1)
    assert problems["members"].startswith("Nobody is enrolled") and "at least 6" in problems["members"]
    assert "2 co-facilitators; 1 is assigned" in problems["facilitators"]
    assert "at most 12" in wilfley.activation_problems(members=13, facilitators=2)["members"]
    who = shipped_template("who-group-ipt")
    assert "1 facilitator; 2 are assigned" in who.activation_problems(members=6, facilitators=2)["facilitators"]


@pytest.mark.parametrize("text,words", [
    ("Group session", []),
    ("Room 2, Elm Street Centre", []),
    ("Therapy room 4", ["therapy"]),
    ("DEPRESSION group", ["depression"]),
    ("https://meet.example.org/ipt-tuesday", ["ipt"]),
    ("Mental Health Unit", ["mental health"]),
    ("Grief and bereavement circle", ["grief", "bereavement"]),
    ("Counselling suite, psychiatric wing", ["counselling", "psychiatric"]),
    ("Scripts and receipts", []),  # "ipt" only as a whole word
    ("Therapists' corridor", ["therapists"]),
])
def test_clinical_words_match_whole_words_case_insensitively(text, words):
    assert clinical_words(text) == words


def test_the_list_holds_the_words_the_issue_names():
    for word in ("depression", "depressed", "therapy", "therapist", "ipt", "psychotherapy", "psychiatry",
                 "psychiatric", "mental", "grief", "bereavement", "counselling", "trauma", "anxiety"):
        assert word in CLINICAL_WORDS


def test_public_fields_warning_names_field_and_word():
    warning = check_public_fields({"public_title": "IPT group", "location": "Room 2"})
    assert warning and dict(warning.found) == {"public_title": ("ipt",)}
    assert "The title contains 'ipt'" in warning.message({"public_title": "The title"})
    assert not check_public_fields({"public_title": "Tuesday group"})


def test_a_clinical_organizer_name_must_be_confirmed(tmp_path):
    env = {"GROUPIPT_VAR_DIR": str(tmp_path), "GROUPIPT_ORGANIZER_NAME": "Riverside Therapy Service"}
    with pytest.raises(SettingsError, match="GROUPIPT_ORGANIZER_NAME_CONFIRMED=true"):
        Settings.from_env(env)
    kept = Settings.from_env(env | {"GROUPIPT_ORGANIZER_NAME_CONFIRMED": "true"})
    assert kept.organizer_name == "Riverside Therapy Service"
    assert Settings.from_env({"GROUPIPT_VAR_DIR": str(tmp_path)}).organizer_name == "Clinic appointments"
