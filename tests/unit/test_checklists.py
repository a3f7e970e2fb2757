"""Session fidelity checklists as protocol data: the shipped ones and the rules any template's
checklists keep (calendars/checklists.py)."""
from __future__ import annotations

import pytest

from calendars import TemplateError, shipped_template, shipped_templates
from calendars.checklists import (
    CHECKLIST_NAMES,
    ChecklistItem,
    checklist_name,
    items_from_lines,
    parse_checklists,
)
from calendars.protocols import ProtocolTemplate


def labels(template_key: str, name: str) -> list[str]:
    return [item.label for item in shipped_template(template_key).checklist(name)]


def test_the_who_middle_sessions_ask_what_the_session_plan_holds():
    middle = " | ".join(labels("who-group-ipt", "group:middle")).lower()
    for words in ("each member's symptoms", "events of the previous week", "problem-solving options",
                  "decision analysis", "homework with every member", "on time"):
        assert words in middle, words


def test_every_shipped_template_has_a_checklist_for_each_meeting_it_holds_and_says_where_it_comes_from():
    for template in shipped_templates().values():
        names = {name for name, _ in template.checklists}
        assert {"group:initial", "group:middle", "group:termination", "pregroup"} <= names, template.key
        assert ("mid" in names) == (template.mid_group_after_session is not None), template.key
        assert ("post" in names) == (template.post_group_within_days is not None), template.key
        assert "not copied from" in template.checklist_notes, template.key
        for name, items in template.checklists:
            assert len({i.key for i in items}) == len(items)


def test_where_the_uganda_source_is_silent_the_notes_say_so_rather_than_invent():
    uganda = shipped_template("uganda-ipt-g")
    assert "silent" in uganda.checklist_notes
    assert len(uganda.checklist("group:middle")) <= 3  # only the every-session items (S10)


def test_checklists_round_trip_through_the_template_dict():
    for template in shipped_templates().values():
        again = ProtocolTemplate.from_dict(template.to_dict())
        assert again.checklists == template.checklists
        assert again.checklist_notes == template.checklist_notes


@pytest.mark.parametrize("raw, field, words", [
    ({"group:middle": [{"key": "a", "label": "One"}, {"key": "a", "label": "Two"}]}, "checklist_group_middle", "used twice"),
    ({"group:middle": [{"key": "a", "label": "  "}]}, "checklist_group_middle", "no wording"),
    ({"session:7": [{"key": "a", "label": "One"}]}, "checklists", "no checklist called"),
    ({"pregroup": [{"key": "Not A Key", "label": "One"}]}, "checklist_pregroup", "lower-case"),
    ({"pregroup": [{"label": "One"}]}, "checklists", "key and a label"),
    ({"pregroup": "One"}, "checklists", "list of items"),
    (["pregroup"], "checklists", "must be an object"),
])
def test_bad_checklists_are_refused_with_what_to_change(raw, field, words):
    with pytest.raises(TemplateError) as refused:
        parse_checklists(raw)
    assert field in refused.value.by_field()
    assert words in str(refused.value)


def test_a_template_with_bad_checklists_is_refused_as_a_whole():
    data = shipped_template("who-group-ipt").to_dict()
    data["checklists"]["group:middle"].append(dict(data["checklists"]["group:middle"][0]))
    with pytest.raises(TemplateError, match="used twice"):
        ProtocolTemplate.from_dict(data)


def test_lines_become_items_and_unchanged_wording_keeps_its_key():
    before = (ChecklistItem(key="on-time", label="Started on time"), ChecklistItem(key="homework", label="Homework agreed"))
    after = items_from_lines("Started on time\n\n  Homework   agreed with everyone \nHomework agreed\nStarted on time", keep=before)
    assert [i.key for i in after] == ["on-time", "homework-agreed-with-everyone", "homework", "started-on-time"]
    assert after[1].label == "Homework agreed with everyone"
    assert items_from_lines("") == ()


def test_which_checklist_a_meeting_asks():
    assert checklist_name("group", "middle") == "group:middle"
    assert checklist_name("pregroup", "") == "pregroup"
    assert checklist_name("post", None) == "post"
    assert set(CHECKLIST_NAMES) == {"group:initial", "group:middle", "group:termination", "pregroup", "mid", "post"}
