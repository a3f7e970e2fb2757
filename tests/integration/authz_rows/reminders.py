"""Rows for reminders and "I can't come" (issue 16).

The link's page is open to whoever holds the signed link (no sign-in: the e-mail is read on
a phone), so a random token is unknown to everyone (404). The genuine link, tried as every
role, is in tests/integration/test_reminders.py.
"""
from __future__ import annotations

from tests.integration.authz_rows import DENY, LOGIN, OK, Row


def unknown_token(method: str, path: str) -> Row:
    return Row(method, path, anon=DENY, member=DENY, other_member=DENY, other_facilitator=DENY,
               facilitator=DENY, coordinator=DENY, note="a random token is no link")


def members_only(method: str, path: str, **kw) -> Row:
    """Each member's own reminder page; staff have none."""
    return Row(method, path, anon=LOGIN, member=OK, other_member=OK, other_facilitator=DENY,
               facilitator=DENY, coordinator=DENY, **kw)


ROWS = [
    unknown_token("GET", "/reminders/cant-come/{token}"),
    unknown_token("POST", "/reminders/cant-come/{token}"),
    members_only("GET", "/portal/reminders"),
    members_only("POST", "/portal/reminders"),
]
