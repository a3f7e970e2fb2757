"""Rows for the weekly supervision agenda and supervision meetings (issue 17).

Supervisors read and record their own; coordinators any supervisor's. The world's
"facilitator" leads cohort A but supervises nobody, so the agenda refuses them too.
"""
from __future__ import annotations

from datetime import date, timedelta

from models.supervision import SupervisionAction, SupervisionMeeting
from tests.integration.authz_rows import DENY, LOGIN, OK, Row


def supervisor_or_coordinator(method: str, path: str, **kw) -> Row:
    return Row(method, path, anon=LOGIN, member=DENY, other_member=DENY, other_facilitator=DENY,
               facilitator=DENY, coordinator=OK, supervisor=OK, **kw)


async def _meeting(world) -> int:
    meeting = await SupervisionMeeting.create(supervisor=world.users["supervisor"], held_on=date.today(),
                                              created_by=world.users["supervisor"])
    return meeting.id


async def _action(world) -> int:
    meeting_id = await _meeting(world)
    action = await SupervisionAction.create(meeting_id=meeting_id, text="Call the member who missed two sessions",
                                            owner=world.users["facilitator"], due_on=date.today() + timedelta(days=7))
    return action.id


MEETING = {"supervision_meeting_id": _meeting}
ACTION = {"action_id": _action}

ROWS = [
    supervisor_or_coordinator("GET", "/supervision"),
    supervisor_or_coordinator("GET", "/supervision/meetings/new"),
    supervisor_or_coordinator("POST", "/supervision/meetings/new"),
    supervisor_or_coordinator("GET", "/supervision/meetings/{supervision_meeting_id}", params=MEETING),
    supervisor_or_coordinator("POST", "/supervision/actions/{action_id}/done", params=ACTION),
    supervisor_or_coordinator("GET", "/api/v1/supervision/agenda"),
    supervisor_or_coordinator("GET", "/api/v1/supervision/meetings"),
    supervisor_or_coordinator("POST", "/api/v1/supervision/meetings", json=True, body={}),
    supervisor_or_coordinator("GET", "/api/v1/supervision/meetings/{supervision_meeting_id}", params=MEETING),
    supervisor_or_coordinator("POST", "/api/v1/supervision/actions/{action_id}/done", params=ACTION, json=True),
]
