"""A member's own record (issue 19): the member downloads their own; a coordinator
produces it for a member. `user_id` is the member of cohort A."""
from __future__ import annotations

from tests.integration.authz_rows import DENY, LOGIN, OK, Row, coordinator_only


def members_themselves(method: str, path: str, **kw) -> Row:
    """Every member, each for their own record only (nothing in the path names another)."""
    return Row(method, path, anon=LOGIN, member=OK, other_member=OK, other_facilitator=DENY,
               facilitator=DENY, coordinator=DENY, **kw)


ROWS = [
    members_themselves("GET", "/portal/record.zip"),
    members_themselves("GET", "/api/v1/me/export"),
    coordinator_only("GET", "/people/{user_id}/record.zip"),
    coordinator_only("GET", "/api/v1/users/{user_id}/export"),
    # Staff exports ask for a fresh proof in a browser: the confirmed download is a POST.
    coordinator_only("POST", "/people/{user_id}/record.zip"),
    # Restriction (GDPR Art. 18): the record page, restrict and lift (refused here for the
    # empty reason, so nothing is restricted), and the list of restricted records.
    coordinator_only("GET", "/people/{user_id}/record"),
    coordinator_only("POST", "/people/{user_id}/restriction"),
    coordinator_only("POST", "/people/{user_id}/restriction/lift"),
    coordinator_only("GET", "/people/restricted"),
]
