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


NEXT_WEEK = {"meeting_id": lambda world: world.meetings[4].id}  # session 5: not begun whatever the hour

ROWS = [
    unknown_token("GET", "/reminders/cant-come/{token}"),
    unknown_token("POST", "/reminders/cant-come/{token}"),
    members_only("GET", "/portal/reminders"),
    members_only("POST", "/portal/reminders"),
    members_only("GET", "/api/v1/me/meetings"),
    # The member's own meeting (session 4 of cohort A): the member may say so (200, or 409 once
    # it has begun); the other member has no such meeting (404); staff are not members.
    Row("PUT", "/api/v1/me/meetings/{meeting_id}/absence", anon=LOGIN, member=OK, other_member=DENY,
        other_facilitator=DENY, facilitator=DENY, coordinator=DENY, json=True, params=NEXT_WEEK),
    Row("DELETE", "/api/v1/me/meetings/{meeting_id}/absence", anon=LOGIN, member=OK, other_member=DENY,
        other_facilitator=DENY, facilitator=DENY, coordinator=DENY, json=True, params=NEXT_WEEK),
]
