"""Rows for reminders and "I can't come" (issue 16).

The link's page is open to whoever holds the signed link (no sign-in: the e-mail is read on
a phone), so a random token is unknown to everyone (404). The genuine link, tried as every
role, is in tests/integration/test_reminders.py.
"""
from __future__ import annotations

from datetime import datetime, timezone

from tests.integration.authz_rows import DENY, LOGIN, OK, Row, staff_only, staff_or_supervisor


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
    # A random token is no reminder: members 404; staff have no questionnaires (403).
    Row("GET", "/reminders/questionnaire/{token}", anon=LOGIN, member=DENY, other_member=DENY,
        other_facilitator=DENY, facilitator=DENY, coordinator=DENY, note="a random token is no link"),
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


async def _a_follow_up(world) -> int:
    """An open follow-up of the member in cohort A (sessions 1-2 missed), made once."""
    from models.reminders import FollowUp, FollowUpReason

    item, _ = await FollowUp.get_or_create(
        enrollment_id=world.enrollment.id, first_missed_id=world.meetings[0].id,
        defaults={"cohort_id": world.cohort.id, "last_missed_id": world.meetings[1].id, "absences_in_a_row": 2,
                  "reason": FollowUpReason.ABSENCES_IN_A_ROW, "raised_at": datetime.now(timezone.utc)})
    return item.id


FOLLOW_UP = {"follow_up_id": _a_follow_up}

ROWS += [
    # Follow-ups: the cohort's staff read and record; supervisors read only (domain-ipt.md 13).
    staff_or_supervisor("GET", "/follow-ups/{follow_up_id}", params=FOLLOW_UP),
    staff_only("POST", "/follow-ups/{follow_up_id}", params=FOLLOW_UP, note="empty form: no outcome, 400"),
    staff_or_supervisor("GET", "/api/v1/follow-ups/{follow_up_id}", params=FOLLOW_UP),
    staff_only("POST", "/api/v1/follow-ups/{follow_up_id}/outreach", params=FOLLOW_UP, json=True),
    staff_or_supervisor("GET", "/api/v1/cohorts/{cohort_id}/follow-ups"),
    # Online: the cohort's staff set the video link and dial-in; supervisors read the API's answer.
    staff_only("GET", "/cohorts/{cohort_id}/online"),
    staff_only("POST", "/cohorts/{cohort_id}/online", body={"video_link": "https://", "dial_in": ""},
               note="not an https address with a host: 400, nothing saved"),
    staff_only("GET", "/meetings/{meeting_id}/online"),
    staff_only("POST", "/meetings/{meeting_id}/online", body={"video_link": "http://meet.example.org/x"},
               note="http, not https: 400"),
    staff_or_supervisor("GET", "/api/v1/cohorts/{cohort_id}/online"),
    staff_only("PUT", "/api/v1/cohorts/{cohort_id}/online", json=True),
    staff_only("PUT", "/api/v1/meetings/{meeting_id}/online", json=True),
]


def no_kiosk(method: str, path: str) -> Row:
    """The tablet's pages answer only to an open kiosk's cookie: without one, 404 for everyone."""
    return Row(method, path, anon=DENY, member=DENY, other_member=DENY, other_facilitator=DENY,
               facilitator=DENY, coordinator=DENY, note="no kiosk cookie: not a kiosk")


ROWS += [
    staff_only("GET", "/cohorts/{cohort_id}/kiosk"),
    staff_only("POST", "/cohorts/{cohort_id}/kiosk", note="not confirmed: 400, nobody signed out"),
    staff_only("POST", "/cohorts/{cohort_id}/kiosk/end"),
    members_only("GET", "/api/v1/me/kiosk-codes"),
    staff_only("GET", "/api/v1/cohorts/{cohort_id}/kiosk"),
    staff_only("DELETE", "/api/v1/cohorts/{cohort_id}/kiosk", json=True),
    no_kiosk("GET", "/kiosk"),
    no_kiosk("POST", "/kiosk"),
    no_kiosk("GET", "/kiosk/questionnaire"),
    no_kiosk("POST", "/kiosk/questionnaire"),
]
