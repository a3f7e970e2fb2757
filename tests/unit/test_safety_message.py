"""The member's message after an item-9 answer above 0: calm, private, with the clinic's own
help text (GROUPIPT_HELP_TEXT)."""
from __future__ import annotations

import re
from types import SimpleNamespace

from server import safety
from server.measure_schedule import Occasion
from server.measures import PHQ9, score
from server.settings import Settings
from server.templating import templates

CUSTOM = "Call the clinic duty line on 0123 456 789, or 999 in an emergency."


def test_help_text_comes_from_the_environment(tmp_path):
    settings = Settings.from_env({"GROUPIPT_HELP_TEXT": CUSTOM, "GROUPIPT_SECRET_KEY": "k",
                                  "GROUPIPT_VAR_DIR": str(tmp_path)})
    assert settings.help_text == CUSTOM
    message, help_text = safety.member_message(settings.help_text)
    assert help_text == CUSTOM
    assert "facilitators" in message and "not shown to other members" in message
    assert not re.search(r"no risk|not at risk|you are safe", message, re.IGNORECASE)


def test_the_thank_you_page_shows_the_message_only_when_item9_is_above_0():
    occasion = Occasion("baseline", "Baseline", None, None, None, None)
    page = templates.get_template("portal/measure_done.html")
    for item9, shown in ((0, False), (1, True), (3, True)):
        result = score("phq9", [1] * 8 + [item9])
        message, help_text = safety.member_message(CUSTOM)
        html = page.render(
            request=SimpleNamespace(), user=None, settings=SimpleNamespace(help_text=CUSTOM), q=PHQ9,
            score=result, submission=SimpleNamespace(occasion=occasion),
            safety_message=message if shown else "", help_text=help_text if shown else "",
        )
        assert ('id="support-message"' in html) is shown
        assert (CUSTOM in html) is shown
        assert not re.search(r"no risk|not at risk", html, re.IGNORECASE)
