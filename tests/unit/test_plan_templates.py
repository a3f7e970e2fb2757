"""The shipped protocol templates and the rules every template obeys."""
from __future__ import annotations

import pytest

from models.cohorts import Meeting

from calendars.errors import TemplateError
from calendars.protocols import ProtocolTemplate, shipped_template, shipped_templates
from calendars.vocabulary import MeetingKind, Phase, ProblemArea


def test_three_templates_ship_in_a_stable_order():
    assert list(shipped_templates()) == ["who-group-ipt", "uganda-ipt-g", "wilfley-ipt-g"]


def test_who_group_ipt_is_one_pre_group_meeting_and_eight_sessions():
    t = shipped_template("who-group-ipt")
    assert (t.pre_group_meetings, t.group_sessions, t.session_minutes) == (1, 8, 90)
    assert [t.phase_of(n) for n in range(1, 9)] == [Phase.INITIAL] + [Phase.MIDDLE] * 6 + [Phase.TERMINATION]
    assert t.mid_group_after_session is None and t.post_group_within_days is None
    assert t.homework is True
    assert t.problem_area_labels()[ProblemArea.ROLE_TRANSITION] == "Life changes"


def test_uganda_ipt_g_is_two_pre_group_meetings_and_sixteen_sessions():
    t = shipped_template("uganda-ipt-g")
    assert (t.pre_group_meetings, t.group_sessions, t.session_minutes) == (2, 16, 90)
    assert t.initial_sessions == 4  # S10: "Initial Phase (Four Sessions)"
    assert t.facilitator_count == 1
    assert t.composition == "single_sex"
    assert (t.group_size.target_low, t.group_size.target_high) == (6, 8)
    assert any("[unverified]" in note and "termination" in note.lower() for note in t.notes)


def test_wilfley_ipt_g_has_mid_and_post_group_meetings():
    t = shipped_template("wilfley-ipt-g")
    assert (t.pre_group_meetings, t.group_sessions) == (1, 20)
    assert t.mid_group_after_session == 10
    assert t.post_group_within_days == 7
    assert t.facilitator_count == 2
    assert [p.sessions for p in t.phases] == [5, 10, 5]
    assert t.phase_of(5) is Phase.INITIAL and t.phase_of(16) is Phase.TERMINATION
    assert t.group_size.minimum == 6


@pytest.mark.parametrize("key", ["who-group-ipt", "uganda-ipt-g", "wilfley-ipt-g"])
def test_every_shipped_template_round_trips_and_names_its_sources(key):
    t = shipped_template(key)
    assert ProtocolTemplate.from_dict(t.to_dict()) == t
    assert t.sources, "every shipped template cites where its numbers come from"
    # Each follows its initial phase (at most session 3): WHO 1, Uganda and Wilfley 3.
    assert t.late_join_cutoff_session == t.default_late_join_cutoff == {"who-group-ipt": 1}.get(key, 3)
    assert t.late_join_warnings() == []
    assert t.consent_required
    assert t.grief_enabled
    assert set(t.measures_schedule) == {"phq9", "gad7"}


def test_unknown_template_names_the_known_ones():
    with pytest.raises(TemplateError, match="who-group-ipt"):
        shipped_template("nope")


def test_grief_can_be_switched_off_but_not_everything():
    data = shipped_template("who-group-ipt").to_dict()
    data["problem_areas"] = ["role_dispute", "role_transition", "interpersonal_deficits"]
    t = ProtocolTemplate.from_dict(data)
    assert not t.grief_enabled
    assert ProblemArea.GRIEF not in t.problem_area_labels()
    data["problem_areas"] = ["grief"]
    with pytest.raises(TemplateError, match="problem area"):
        ProtocolTemplate.from_dict(data)


def test_adapted_keeps_initial_and_termination_and_grows_the_middle():
    t = shipped_template("who-group-ipt").adapted(group_sessions=12)
    assert [(p.first, p.last) for p in t.phases] == [(1, 1), (2, 11), (12, 12)]


def test_adapted_moves_the_mid_group_meeting_to_the_new_midpoint():
    assert shipped_template("wilfley-ipt-g").adapted(group_sessions=16).mid_group_after_session == 8


def test_adapted_with_own_phase_split():
    t = shipped_template("uganda-ipt-g").adapted(group_sessions=12, initial_sessions=3, termination_sessions=2)
    assert [(p.phase, p.first, p.last) for p in t.phases] == [
        (Phase.INITIAL, 1, 3), (Phase.MIDDLE, 4, 10), (Phase.TERMINATION, 11, 12)
    ]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"group_sessions": 0}, "group_sessions", "between 3 and 26; got 0"),
        ({"group_sessions": 40}, "group_sessions", "got 40"),
        ({"pre_group_meetings": 3}, "pre_group_meetings", "0 to 2"),
        ({"session_minutes": 5}, "session_minutes", "15 to 240"),
        ({"late_join_cutoff_session": 9}, "late_join_cutoff_session", "1 to 8"),
        ({"facilitator_count": 3}, "facilitator_count", "1 or 2"),
        ({"mid_group_after_session": 8}, "mid_group_after_session", "1 to 7"),
        ({"group_size": {"minimum": 8, "target_low": 6, "target_high": 9, "maximum": 12}}, "group_size", "minimum"),
        ({"measures_schedule": {"phq9": "weekly"}}, "measures_schedule", "'weekly' is not a measure occasion"),
        ({"measures_schedule": {"bdi": "baseline"}}, "measures_schedule", "Unknown questionnaire 'bdi'"),
        ({"phases": [{"name": "initial", "first": 1, "last": 2}, {"name": "middle", "first": 4, "last": 7},
                     {"name": "termination", "first": 8, "last": 8}]}, "phases", "middle phase must start at session 3"),
    ],
)
def test_bad_templates_are_refused_with_what_to_change(change, field, words):
    data = shipped_template("who-group-ipt").to_dict() | change
    with pytest.raises(TemplateError) as info:
        ProtocolTemplate.from_dict(data)
    assert field in info.value.by_field()
    assert any(words in message for message in info.value.by_field()[field])


def test_adapted_refuses_a_split_with_no_middle():
    with pytest.raises(TemplateError, match="leave no middle phase"):
        shipped_template("who-group-ipt").adapted(group_sessions=4, initial_sessions=2, termination_sessions=2)


def test_malformed_template_data_is_a_template_error():
    with pytest.raises(TemplateError, match="malformed"):
        ProtocolTemplate.from_dict({"key": "x"})


def test_meeting_kinds_are_the_stored_ones():
    # One definition: the model's column stores the pure layer's enum itself.
    assert Meeting._meta.fields_map["kind"].enum_type is MeetingKind
    assert [k.value for k in MeetingKind] == ["group", "pregroup", "mid", "post"]
