"""Restriction (issue 19, GDPR Art. 18): "restrict now, purge at the end of retention".

A coordinator restricts a member with a reason and a fresh proof of who they are; the member
then disappears from every list, roster, reminder, feed and picker, their record refuses
changes (409, nothing changed), and a coordinator can lift it again."""
from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest

from models.accounts import AuditEvent, Role, SignInSession, User
from models.clinical import Goal, MeasureResponse
from models.cohorts import Enrollment, EnrollmentStatus
from server import clock
from server.board.roster import roster
from server.dashboard import cohort_overview
from server.records.restriction import RecordRestricted
from server.records.retention import members_due
from server.reminders.messages import attendees
from server.schedule.feeds import mint_feed_token
from tests.support.clients import bearer, logged_in
from tests.support.world import PASSWORD, enroll, make_cohort, make_template, make_user


@pytest.fixture
async def clinic(db, live_server):
    facilitator = await make_user(Role.FACILITATOR, "Fern Restrict")
    coordinator = await make_user(Role.COORDINATOR, "Cato Restrict")
    cohort, meetings = await make_cohort(await make_template(), "Restriction group", facilitator)
    tag = uuid.uuid4().hex[:6]  # names unique across the session's tests: pages are searched for them
    rita = await make_user(Role.MEMBER, f"Rita Restricted{tag}")
    sol = await make_user(Role.MEMBER, f"Sol Stays{tag}")
    lone = await make_user(Role.MEMBER, f"Lone Notenrolled{tag}")  # in no cohort: the enroll picker's candidate
    rita_e, sol_e = await enroll(cohort, rita), await enroll(cohort, sol)
    await Goal.create(cohort=cohort, enrollment=rita_e, text="Rita's goal")
    feed = await mint_feed_token(rita)
    staff = await logged_in(live_server.url, coordinator.email, PASSWORD)
    yield {"cohort": cohort, "meetings": meetings, "facilitator": facilitator, "coordinator": coordinator,
           "rita": rita, "sol": sol, "lone": lone, "rita_e": rita_e, "sol_e": sol_e, "feed": feed, "staff": staff,
           "coordinator_token": (await accounts_token(coordinator)), "facilitator_token": await accounts_token(facilitator)}
    await staff.aclose()


async def accounts_token(user: User) -> str:
    from server import accounts

    return (await accounts.create_api_token(user, "restriction tests"))[1]


async def restrict(clinic, user: User, reason: str = "asked for erasure on the phone") -> None:
    answer = await clinic["staff"].submit(f"/people/{user.id}/restriction", {"reason": reason, "proof": PASSWORD})
    assert answer.status_code == 200 and "The record is restricted" in answer.text, answer.text[:300]


async def test_restricting_takes_a_reason_and_a_fresh_proof_and_is_audited(clinic):
    staff, rita = clinic["staff"], clinic["rita"]
    await SignInSession.filter(user=clinic["coordinator"]).update(authenticated_at=clock.now() - timedelta(minutes=6))
    stale = await staff.submit(f"/people/{rita.id}/restriction", {"reason": "asked for erasure"})
    assert stale.status_code == 400 and "confirm it is you" in stale.text
    wrong = await staff.submit(f"/people/{rita.id}/restriction", {"reason": "asked for erasure", "proof": "nope"})
    assert wrong.status_code in (400, 403)
    no_reason = await staff.submit(f"/people/{rita.id}/restriction", {"reason": "  ", "proof": PASSWORD})
    assert no_reason.status_code == 400 and "Say why" in no_reason.text
    assert (await User.get(id=rita.id)).restricted_at is None

    await restrict(clinic, rita)
    again = await staff.submit(f"/people/{rita.id}/restriction", {"reason": "twice", "proof": PASSWORD})
    assert again.status_code == 409 and "already restricted" in again.text
    row = await User.get(id=rita.id)
    assert row.restricted_at is not None and row.restriction_reason == "asked for erasure on the phone"
    assert row.restricted_by_id == clinic["coordinator"].id
    audited = await AuditEvent.filter(subject="member_record", member_id=rita.id, action="change").order_by("-id").first()
    assert audited.actor_id == clinic["coordinator"].id and audited.detail.startswith("restricted: ")
    listed = await staff.get("/people/restricted")
    assert rita.display_name in listed.text and "asked for erasure on the phone" in listed.text
    people = await staff.get("/people", params={"q": rita.email})
    assert "record restricted" in people.text
    not_a_member = await staff.submit(f"/people/{clinic['facilitator'].id}/restriction", {"reason": "x", "proof": PASSWORD})
    assert not_a_member.status_code == 404


async def test_a_restricted_member_vanishes_from_lists_boards_reminders_feeds_and_pickers(live_server, clinic):
    staff, rita, cohort = clinic["staff"], clinic["rita"], clinic["cohort"]
    async with httpx.AsyncClient(base_url=live_server.url) as anyone:
        assert (await anyone.get(f"/feeds/{clinic['feed']}.ics")).status_code == 200
    await restrict(clinic, rita)
    await restrict(clinic, clinic["lone"])

    # Feeds: the private URL answers the same bare 404 as an unknown token, and no new one is given.
    async with httpx.AsyncClient(base_url=live_server.url) as anyone:
        feed = await anyone.get(f"/feeds/{clinic['feed']}.ics")
    assert feed.status_code == 404 and "BEGIN:VCALENDAR" not in feed.text and "Rita" not in feed.text
    async with bearer(live_server.url, clinic["coordinator_token"]) as api:
        enrollments = (await api.get(f"/api/v1/cohorts/{cohort.id}/enrollments")).json()["enrollments"]
        listed = set()
        for person in (rita, clinic["sol"]):  # the shared server's people are many: each by e-mail
            overview = (await api.get("/api/v1/calendar-feeds", params={"person": person.email})).json()
            listed |= {p["user_id"] for p in overview["people"]}
    assert [e["id"] for e in enrollments] == [clinic["sol_e"].id]
    assert rita.id not in listed and clinic["sol"].id in listed

    # Cohort lists and pickers (pages).
    enrollment_page = await staff.get(f"/cohorts/{cohort.id}/enrollment")
    assert enrollment_page.status_code == 200 and clinic["sol"].display_name in enrollment_page.text
    assert rita.display_name not in enrollment_page.text and clinic["lone"].display_name not in enrollment_page.text
    measures_page = await staff.get(f"/cohorts/{cohort.id}/measures")
    assert measures_page.status_code == 200 and rita.display_name not in measures_page.text

    # The board of a meeting opened from now on, the dashboard's counts, the reminder sweep.
    board = await roster(clinic["meetings"][4])
    assert [m["id"] for m in board["members"]] == [clinic["sol_e"].id]
    assert all(g["member"] != clinic["rita_e"].id for g in board["goals"])
    counts = (await cohort_overview(clinic["coordinator"], [cohort]))[cohort.id]
    assert counts.enrolled == 1
    reminded = await attendees(clinic["meetings"][4])
    assert [e.id for e in reminded] == [clinic["sol_e"].id]

    # Closure summaries, absence follow-ups, and the room's display on her own device.
    from server.closure import service as closure_service
    from server.reminders.follow_ups import attendance_marks

    summaries = await closure_service.cohort_overview(cohort)
    assert [row["enrollment"].id for row in summaries] == [clinic["sol_e"].id]
    assert set(await attendance_marks([cohort.id])) == {clinic["sol_e"].id}
    member = await logged_in(live_server.url, rita.email, PASSWORD)
    try:
        display = await member.get(f"/boards/{clinic['meetings'][4].id}/display")
        assert display.status_code == 404
    finally:
        await member.aclose()


async def test_a_restricted_record_refuses_every_change_and_nothing_changes(live_server, clinic):
    rita_e = clinic["rita_e"]
    await restrict(clinic, clinic["rita"])
    before = await MeasureResponse.filter(enrollment_id=rita_e.id).count()
    async with bearer(live_server.url, clinic["facilitator_token"]) as api:
        measure = await api.post(f"/api/v1/enrollments/{rita_e.id}/measures",
                                 json={"instrument": "phq9", "items": [1] * 8 + [0]})
        formulation = await api.put(f"/api/v1/enrollments/{rita_e.id}/formulation",
                                    json={"text": "changed while restricted"})
    async with bearer(live_server.url, clinic["coordinator_token"]) as api:
        withdraw = await api.post(f"/api/v1/enrollments/{rita_e.id}/withdraw", json={"reason": "moved away"})
    for answer in (measure, formulation, withdraw):
        assert answer.status_code == 409, answer.text
        assert answer.json()["code"] == "record_restricted" and "Nothing was changed" in answer.json()["detail"]
    assert await MeasureResponse.filter(enrollment_id=rita_e.id).count() == before
    row = await Enrollment.get(id=rita_e.id)
    assert row.status == EnrollmentStatus.ENROLLED and row.formulation == ""
    with pytest.raises(RecordRestricted):
        await Goal.create(cohort=clinic["cohort"], enrollment=rita_e, text="new goal")
    with pytest.raises(RecordRestricted):
        await (await Goal.get(enrollment_id=rita_e.id)).delete()
    # Sol's record, in the same cohort, is as changeable as ever.
    async with bearer(live_server.url, clinic["facilitator_token"]) as api:
        ok = await api.post(f"/api/v1/enrollments/{clinic['sol_e'].id}/measures",
                            json={"instrument": "phq9", "items": [1] * 8 + [0]})
    assert ok.status_code in (200, 201), ok.text
    # The member keeps their right of access: their own export still works.
    member = await logged_in(live_server.url, clinic["rita"].email, PASSWORD)
    try:
        assert (await member.get("/portal/record.zip")).status_code == 200
    finally:
        await member.aclose()


async def test_lifting_the_restriction_brings_the_member_back_and_their_record_is_changeable(live_server, clinic):
    staff, rita = clinic["staff"], clinic["rita"]
    await restrict(clinic, rita)
    no_reason = await staff.submit(f"/people/{rita.id}/restriction/lift", {"reason": "", "proof": PASSWORD})
    assert no_reason.status_code == 400
    lifted = await staff.submit(f"/people/{rita.id}/restriction/lift", {"reason": "the member withdrew the request",
                                                                       "proof": PASSWORD})
    assert lifted.status_code == 200 and "restriction is lifted" in lifted.text
    again = await staff.submit(f"/people/{rita.id}/restriction/lift", {"reason": "twice", "proof": PASSWORD})
    assert again.status_code == 409
    assert (await User.get(id=rita.id)).restricted_at is None
    assert rita.display_name in (await staff.get(f"/cohorts/{clinic['cohort'].id}/enrollment")).text
    assert clinic["rita_e"].id in [m["id"] for m in (await roster(clinic["meetings"][4]))["members"]]
    await Goal.create(cohort=clinic["cohort"], enrollment=clinic["rita_e"], text="a goal again")
    audited = await AuditEvent.filter(subject="member_record", member_id=rita.id).order_by("-id").first()
    assert audited.detail == "restriction lifted: the member withdrew the request"


async def test_a_restricted_members_open_enrollment_ends_for_retention_on_the_day_of_the_restriction(clinic):
    rita = clinic["rita"]
    await restrict(clinic, rita)
    now = clock.now()
    assert rita.id not in [d.member_id for d in await members_due(now=now, years=1)]
    await User.filter(id=rita.id).update(restricted_at=now - timedelta(days=400))
    due = {d.member_id: d.ended_at for d in await members_due(now=now, years=1)}
    assert rita.id in due and clinic["sol"].id not in due
