"""Session fidelity (issue 17): a meeting's checklist and checklist adherence.

`meeting_id` is cohort A's session 3, already held (the world's sessions 1-3 are
completed), so reads answer 200; an empty POST or PUT is refused (400) for the cohort's
facilitator, which the table counts as OK. Coordinators and supervisors read checklists
but do not answer them (a facilitator's own account of the session)."""
from __future__ import annotations

from tests.integration.authz_rows import DENY, LOGIN, OK, Row, staff_or_supervisor

HELD = {"meeting_id": lambda world: world.meetings[2].id}


def facilitator_writes(method: str, path: str, **kw) -> Row:
    return Row(method, path, anon=LOGIN, member=DENY, other_member=DENY, other_facilitator=DENY,
               facilitator=OK, coordinator=DENY, supervisor=DENY, **kw)


def every_staff(method: str, path: str, **kw) -> Row:
    """Every member of staff, each seeing the facilitators they may (a supervisor theirs)."""
    return Row(method, path, anon=LOGIN, member=DENY, other_member=DENY, other_facilitator=OK,
               facilitator=OK, coordinator=OK, supervisor=OK, **kw)


ROWS = [
    staff_or_supervisor("GET", "/meetings/{meeting_id}/checklist", params=HELD),
    facilitator_writes("POST", "/meetings/{meeting_id}/checklist", params=HELD,
                       note="400 for the facilitator: no rating given"),
    every_staff("GET", "/supervision/adherence"),
    # JSON API
    staff_or_supervisor("GET", "/api/v1/meetings/{meeting_id}/checklist", params=HELD),
    facilitator_writes("PUT", "/api/v1/meetings/{meeting_id}/checklist", params=HELD, json=True, body={},
                       note="400 for the facilitator: answers and rating are required"),
    every_staff("GET", "/api/v1/supervision/adherence"),
]
