"""The live board (issue 5). `meeting_id` is cohort A's next group session (4 of 8).

The facilitator page and socket: coordinators and the cohort's facilitators. The
participant display: those and the cohort's enrolled members (a member may follow the
room's screen on their own device), never another cohort's people.
"""
from __future__ import annotations

from tests.integration.authz_rows import OK, own_member, staff_or_supervisor

ROWS = [
    staff_or_supervisor("GET", "/boards/{meeting_id}"),
    own_member("GET", "/boards/{meeting_id}/display", supervisor=OK, note="a supervisor observes either view"),
    staff_or_supervisor("WS", "/boards/{meeting_id}/ws", note="?view=display also admits the cohort's members"),
]
