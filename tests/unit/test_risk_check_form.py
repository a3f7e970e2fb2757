"""parse_risk_check (server/measures/safety/risk_checks.py): a risk check from a form or a JSON body,
refused whole with every missing answer named (domain-ipt.md, item 9 follow-up)."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from models.clinical import ContactMethod, RiskAction, RiskLevel, SuicidalThoughts
from server.errors import BadRequest
from server.measures.safety import parse_risk_check

NOW = datetime(2026, 3, 3, 18, 0, tzinfo=UTC)
ZONE = ZoneInfo("Europe/London")
FULL = {
    "contact_method": "phone", "outcome": "Spoke for 20 minutes; agreed a safety plan.",
    "thoughts": "passive", "plan": "no", "intent": "no", "access_to_means": "yes", "past_attempts": "false",
    "risk_level": "moderate", "action": "safety_plan", "follow_up_date": "2026-03-05",
}


def refused(form: dict) -> dict[str, str]:
    with pytest.raises(BadRequest) as caught:
        parse_risk_check(form, now=NOW, zone=ZONE)
    return caught.value.fields


def test_a_complete_check_becomes_typed_values():
    check = parse_risk_check({**FULL, "checked_at": "2026-03-03T17:30"}, now=NOW, zone=ZONE)
    assert check.contact_method == ContactMethod.PHONE and check.thoughts == SuicidalThoughts.PASSIVE
    assert check.risk_level == RiskLevel.MODERATE and check.action == RiskAction.SAFETY_PLAN
    assert check.access_to_means is True and check.past_attempts is False
    assert check.checked_at == datetime(2026, 3, 3, 17, 30, tzinfo=ZONE)  # a local wall time in the cohort's zone
    assert check.follow_up_date == date(2026, 3, 5)


def test_an_empty_form_names_every_missing_answer():
    fields = refused({})
    assert {"contact_method", "outcome"} <= fields.keys()
    fields = refused({"contact_method": "video", "outcome": "Talked it through."})
    assert {"thoughts", "plan", "intent", "access_to_means", "past_attempts", "risk_level", "action"} <= fields.keys()


def test_an_unreached_attempt_needs_only_what_was_tried():
    check = parse_risk_check({"contact_method": "unreached", "outcome": "Rang twice, left a message; will try at 9."},
                             now=NOW, zone=ZONE)
    assert check.contact_method == ContactMethod.UNREACHED and check.risk_level is None
    assert "what was tried" in refused({"contact_method": "unreached", "outcome": "."})["outcome"]


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"outcome": "-"}, "outcome", "Describe"),
    ({"checked_at": "yesterday"}, "checked_at", "such as"),
    ({"checked_at": "2026-03-04T18:00+00:00"}, "checked_at", "future"),
    ({"follow_up_date": ""}, "follow_up_date", "needed"),
    ({"follow_up_date": "2026-03-01"}, "follow_up_date", "before the check"),
    ({"protective_factors": "."}, "protective_factors", "in words"),
    ({"plan": "maybe"}, "plan", "yes or no"),
])
def test_a_bad_answer_is_refused_on_its_field(change, field, message):
    assert message in refused({**FULL, **change})[field]


def test_no_action_needs_no_follow_up():
    check = parse_risk_check({**FULL, "action": "none", "risk_level": "low", "follow_up_date": ""}, now=NOW, zone=ZONE)
    assert check.follow_up_date is None
