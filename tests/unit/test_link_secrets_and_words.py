"""Pure parts of issue 20's link work: calendar-link sealing, the words of a link's e-mail,
and the programme chart's text size."""
from __future__ import annotations

import re

import pytest

from models.accounts import Role, User
from server.accounts import _sealed
from server.accounts.feed_secrets import open_feed_secret, seal_feed_secret
from server.accounts.link_mail import LinkKind, LinkMail, MailState, compose
from server.platform.settings import Settings
from server.programme.charts import Bar, bar_chart

SECRET = "kmdCYDUUuh9yCQLjBGF__2ibb6DM18wPG4QKiVceA6g"


def test_a_sealed_calendar_link_opens_only_under_its_own_secret_key():
    sealed = seal_feed_secret(SECRET, "key one")
    assert sealed.startswith(_sealed.PREFIX) and SECRET not in sealed and len(sealed) <= 255
    assert open_feed_secret(sealed, "key one") == SECRET
    assert open_feed_secret(sealed, "key two") is None  # the secret key changed: make a new link


def test_links_from_before_sealing_and_totp_secrets_do_not_open_as_calendar_links():
    assert open_feed_secret(None, "k") is None
    assert open_feed_secret("", "k") is None
    # A TOTP secret sealed under the same secret key has a key of its own (another HKDF info).
    assert open_feed_secret(_sealed.seal("JBSWY3DPEHPK3PXP", "k"), "k") is None


@pytest.mark.parametrize("kind", list(LinkKind))
def test_a_link_message_names_the_person_and_the_link_and_nothing_clinical(kind):
    settings = Settings(database_url="sqlite://:memory:", secret_key="x", base_url="https://clinic.example",
                        organizer_name="Riverside appointments")
    person = User(email="ana@example.org", display_name="Ana Example", role=Role.MEMBER)
    url = f"https://clinic.example/x/{SECRET}"
    subject, body = compose(kind, person, url, settings=settings)
    assert body.startswith("Hello Ana,") and url in body and "Riverside appointments" in body
    for word in ("group", "therapy", "ipt", "depress", "anxiety", "phq", "gad"):
        assert word not in (subject + body).lower(), word


def test_the_page_says_whether_a_link_went_or_waits():
    assert LinkMail("a@b.org", MailState.SENT, 1).words == "E-mailed to a@b.org."
    assert LinkMail("a@b.org", MailState.QUEUED, 1).words.startswith("Waiting in the outbox for a@b.org")
    assert "waiting in the outbox" in LinkMail("a@b.org", MailState.FAILED, 1).words


def test_programme_chart_text_is_13_units_so_12px_at_the_616px_minimum():
    chart = str(bar_chart("c", "Completed", [Bar("Xavier street group with a long name", 40.0, "4 of 10 (40%)"),
                                              Bar("Yellow", None, "suppressed (fewer than 5 people)", "suppressed")]))
    sizes = [int(s) for s in re.findall(r'font-size="(\d+)"', chart)]
    assert sizes and min(sizes) == 13
    assert 13 * 616 / 640 >= 12  # site.css keeps .chart-wrap svg at min-width 616px on a phone
    assert len(re.findall(r'<text class="tick"', chart)) == 3
