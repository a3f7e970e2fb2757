"""What a member and a clinician read about a safety item: calm, private, truthful.

The member's thank-you page shows the message and the help text only when item 9 is above
0; the e-mail to a clinician names neither the member nor the answer, and carries no
clinical word (domain-ipt.md 9)."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from models.clinical import SafetyNoticeKind, SafetySource
from server.measures import safety, safety_alerts
from server.measures.instruments import PHQ9, score
from server.measures.occasions import Occasion
from server.platform.settings import Settings, SettingsError
from server.web.templating import templates

CUSTOM = "Call the clinic duty line on 0123 456 789, or 999 in an emergency."
CLINICAL = re.compile(r"safety|suicid|risk|harm|self|item 9|phq|depress|therap|crisis|mental|dead|kill|\bipt\b",
                      re.IGNORECASE)


def _settings(tmp_path, **env) -> Settings:
    return Settings.from_env({"GROUPIPT_SECRET_KEY": "k", "GROUPIPT_VAR_DIR": str(tmp_path), **env})


def test_help_text_from_the_environment_counts_as_set(tmp_path):
    settings = _settings(tmp_path, GROUPIPT_HELP_TEXT=CUSTOM)
    assert settings.help_text == CUSTOM and settings.help_text_from_env


def test_the_default_help_text_invents_no_number_and_promises_no_one(tmp_path):
    settings = _settings(tmp_path)
    assert not settings.help_text_from_env
    assert not re.search(r"\d", settings.help_text)
    assert "facilitator" not in settings.help_text and "will get in touch" not in settings.help_text


@pytest.mark.parametrize("raw,hours", [("24", 24.0), ("0.0005", 0.0005), ("", 24.0)])
def test_the_response_target_accepts_fractions(tmp_path, raw, hours):
    assert _settings(tmp_path, GROUPIPT_SAFETY_RESPONSE_HOURS=raw).safety_response_hours == hours


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "inf", "nan"])
def test_a_bad_response_target_is_named(tmp_path, raw):
    with pytest.raises(SettingsError, match="GROUPIPT_SAFETY_RESPONSE_HOURS"):
        _settings(tmp_path, GROUPIPT_SAFETY_RESPONSE_HOURS=raw)


def test_the_thank_you_page_shows_the_message_only_when_item9_is_above_0():
    occasion = Occasion("baseline", "Baseline", None, None, None, None)
    page = templates.get_template("portal/measure_done.html")
    message = "Your answer to the last question has been passed on privately to your group's facilitator."
    for item9, shown in ((0, False), (1, True), (3, True)):
        result = score("phq9", [1] * 8 + [item9])
        html = page.render(
            request=SimpleNamespace(), user=None, settings=SimpleNamespace(help_text=CUSTOM), q=PHQ9,
            score=result, submission=SimpleNamespace(occasion=occasion),
            safety_message=message if shown else "", help_text=CUSTOM if shown else "",
        )
        assert ('id="support-message"' in html) is shown
        assert (CUSTOM in html) is shown
        assert not re.search(r"no risk|not at risk", html, re.IGNORECASE)


@pytest.mark.parametrize("kind,level", [(SafetyNoticeKind.OPENED, 0), (SafetyNoticeKind.ESCALATED, 1),
                                        (SafetyNoticeKind.ESCALATED, 2), (SafetyNoticeKind.FOLLOW_UP, 0)])
@pytest.mark.parametrize("source", [SafetySource.ANSWER, SafetySource.DISCLOSURE])
def test_notice_mail_says_only_that_something_needs_attention(tmp_path, kind, level, source):
    settings = _settings(tmp_path, GROUPIPT_BASE_URL="https://groups.example.org")
    person = SimpleNamespace(first_name="Fiona")
    item = SimpleNamespace(id=42, source=source)
    subject, body = safety_alerts.compose(person, item, SimpleNamespace(kind=kind, level=level), settings=settings)
    assert "https://groups.example.org/attention/42" in body
    assert "attention" in subject.lower() or "follow-up" in subject.lower()
    for text in (subject, body.replace("https://groups.example.org/attention/42", "")):
        assert not CLINICAL.search(text), text


@pytest.mark.parametrize("text,ok", [(".", False), ("-", False), ("..!", False), ("a", False), ("ok", True),
                                     ("Spoke by phone", True), ("  x. ", False), ("12", True)])
def test_free_text_must_say_something(text, ok):
    assert safety.says_something(text) is ok
