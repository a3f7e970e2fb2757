"""A safety item reaches a responsible clinician, and keeps reaching until it is handled.

Over real servers and clients: who is told when a member answers item 9 above 0 (the
cohort's facilitators who are not away, else the duty clinicians), what the e-mail says
(nothing clinical, no name, no answer), what the member is told, who may record a risk
check and what it must document, the board's close rule, the closure finalize rule, and,
on a second server with a target of seconds, the escalations and follow-up reminders.
"""
from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller

from models.accounts import AuditEvent, Role, User
from models.clinical import RiskCheck, SafetyItem, SafetyItemStatus, SafetyNotice
from models.closure import ClosureSummary
from models.cohorts import Enrollment, EnrollmentStatus
from models.mail import OutboxMessage
from server import accounts
from tests.integration.test_board_support import BoardClient
from tests.support.clients import bearer, logged_in
from tests.support.server import ROOT, LiveServer, free_port
from tests.support.smtp import Collector, SlowCollector
from tests.support.world import PASSWORD, make_cohort, make_user

pytestmark = pytest.mark.asyncio(loop_scope="session")

CLINICAL = re.compile(r"safety|suicid|risk|harm|self|item 9|phq|depress|therap|crisis|mental|dead|kill|\bipt\b|"
                      r"several days|half the days|nearly every day", re.IGNORECASE)
ASSESSED = {"contact_method": "phone", "thoughts": "passive", "plan": "no", "intent": "no", "access_to_means": "no",
            "past_attempts": "no", "risk_level": "low", "outcome": "Spoke by phone; passive thoughts, no plan.",
            "action": "safety_plan"}
# The API takes yes / no as JSON booleans; the form page as the words.
AS_JSON = {k: {"yes": True, "no": False}.get(v, v) for k, v in ASSESSED.items()}


def phq9(item9: int) -> dict[str, str]:
    return {**{f"item{n}": "1" for n in range(1, 9)}, "item9": str(item9)}


async def cohort_with(*facilitators: User, name: str = "Reach group"):
    lead = facilitators[0] if facilitators else await make_user(Role.FACILITATOR, "Placeholder Lead")
    cohort, meetings = await make_cohort(await _template(), f"{name} {uuid.uuid4().hex[:4]}", lead)
    if not facilitators:
        await cohort.facilitators.clear()
    for other in facilitators[1:]:
        await cohort.facilitators.add(other)
    return cohort, meetings


async def _template():
    from tests.support.world import make_template
    return await make_template()


async def member_answers(base_url: str, cohort, item9: int = 2):
    member = await make_user(Role.MEMBER, f"Rosa Quill{uuid.uuid4().hex[:3]}")
    enrollment = await Enrollment.create(cohort=cohort, member=member, status=EnrollmentStatus.ENROLLED)
    client = await logged_in(base_url, member.email, PASSWORD)
    try:
        page = await client.submit("/portal/measures/phq9", phq9(item9))
    finally:
        await client.aclose()
    assert page.status_code == 200, page.text[:500]
    item = await SafetyItem.get_or_none(enrollment_id=enrollment.id)
    return member, enrollment, page.text, item


def assert_says_nothing(message: OutboxMessage, member: User, item: SafetyItem, base_url: str) -> None:
    link = f"{base_url}/attention/{item.id}"
    assert link in message.body
    for text in (message.subject, message.body.replace(link, "")):
        assert member.display_name not in text and member.first_name not in text
        assert not CLINICAL.search(text), text


async def messages_to(user: User) -> list[OutboxMessage]:
    return list(await OutboxMessage.filter(to_user_id=user.id).order_by("id"))


async def set_duty(world, *people: User) -> None:
    async with bearer(world.base_url, world.tokens["coordinator"]) as coordinator:
        response = await coordinator.put("/api/v1/duty-clinicians", json={"user_ids": [p.id for p in people]})
        assert response.status_code == 200, response.text


# --------------------------------------------------------------------- who is told

async def test_every_facilitator_is_told_at_once_and_the_mail_names_nothing(world, live_server):
    f1, f2 = await make_user(Role.FACILITATOR, "Hedda Lind"), await make_user(Role.FACILITATOR, "Ivar Berg")
    cohort, _ = await cohort_with(f1, f2)
    member, enrollment, page, item = await member_answers(world.base_url, cohort)
    # The member reads what will happen: their facilitators, by the due time, and where to get help now.
    assert "passed on privately to your group&#39;s facilitators" in page
    due = item.due_at.astimezone(auth_zone(member))
    assert f"by {due:%A} {due.day} {due:%B} at {due:%H:%M}" in page
    assert "If you are thinking about harming yourself" in page
    assert abs((item.due_at - item.opened_at) - timedelta(hours=24)) < timedelta(seconds=5)
    assert item.routed_to == "facilitator"
    for facilitator in (f1, f2):
        [message] = await messages_to(facilitator)
        assert message.subject == "A questionnaire answer needs your attention"
        assert_says_nothing(message, member, item, world.base_url)
        # On their home page, behind sign-in, with its age and due time.
        client = await logged_in(world.base_url, facilitator.email, PASSWORD)
        home = await client.get("/")
        assert f'data-attention="{item.id}"' in home.text and member.display_name in home.text
        assert "due by" in home.text
        follow = await client.get(f"/attention/{item.id}", follow_redirects=False)
        assert follow.status_code == 303 and follow.headers["location"] == f"/safety/{item.id}"
        await client.aclose()
    other = world.users["other_facilitator"]
    assert not await SafetyNotice.filter(safety_item_id=item.id, recipient_id=other.id).exists()
    anonymous = await bearer(world.base_url, "nope").get(f"/attention/{item.id}", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)


def auth_zone(member: User):
    from zoneinfo import ZoneInfo
    return ZoneInfo(member.time_zone)


async def test_a_cohort_without_facilitators_reaches_the_duty_clinicians(world, live_server):
    duty = await make_user(Role.FACILITATOR, "Dora Duty")
    bystander = await make_user(Role.FACILITATOR, "Bo Bystander")
    await set_duty(world, duty)
    try:
        cohort, _ = await cohort_with(name="Nobody leads")
        member, enrollment, page, item = await member_answers(world.base_url, cohort, item9=1)
        assert item.routed_to == "duty"
        assert "passed on privately to a clinician of the clinic" in page
        [message] = await messages_to(duty)
        assert_says_nothing(message, member, item, world.base_url)
        client = await logged_in(world.base_url, duty.email, PASSWORD)
        assert (await client.get(f"/safety/{item.id}")).status_code == 200
        check = await client.submit(f"/safety/{item.id}/risk-check", ASSESSED | {"follow_up_date": date.today().isoformat()})
        assert check.status_code == 200 and "the safety item is closed" in check.text
        await client.aclose()
        outsider = await logged_in(world.base_url, bystander.email, PASSWORD)
        assert (await outsider.get(f"/safety/{item.id}")).status_code == 403
        await outsider.aclose()
        async with bearer(world.base_url, world.tokens["coordinator"]) as coordinator:
            listed = (await coordinator.get("/api/v1/duty-clinicians")).json()
            assert [p["name"] for p in listed] == ["Dora Duty"]
            refused = await coordinator.put("/api/v1/duty-clinicians", json={"user_ids": [world.users["coordinator"].id]})
            assert refused.status_code == 422 and "clinicians" in refused.json()["detail"]
            assert (await coordinator.put("/api/v1/duty-clinicians", json={"user_ids": "all"})).status_code == 400
    finally:
        await set_duty(world)
    # No longer on duty, she can still open the item she was told about (and no other).
    told = await logged_in(world.base_url, duty.email, PASSWORD)
    assert (await told.get(f"/safety/{item.id}")).status_code == 200
    assert (await told.get(f"/safety/{(await member_answers(world.base_url, world.cohort, 1))[3].id}")).status_code == 403
    await told.aclose()


async def test_away_facilitators_are_covered_by_the_co_facilitator_then_the_duty_clinicians(world, live_server):
    f1, f2 = await make_user(Role.FACILITATOR, "Asta Away"), await make_user(Role.FACILITATOR, "Cato Cover")
    duty = await make_user(Role.FACILITATOR, "Dag Duty")
    cohort, _ = await cohort_with(f1, f2)
    today = date.today()
    # The facilitator sets their own away dates on the page; a colleague cannot.
    own = await logged_in(world.base_url, f1.email, PASSWORD)
    added = await own.submit(f"/staff/{f1.id}/away", {"starts_on": (today - timedelta(days=1)).isoformat(),
                                                      "ends_on": (today + timedelta(days=3)).isoformat()})
    assert added.status_code == 200 and "Away from" in added.text
    backwards = await own.submit(f"/staff/{f1.id}/away", {"starts_on": today.isoformat(),
                                                          "ends_on": (today - timedelta(days=2)).isoformat()})
    assert backwards.status_code == 400 and "cannot be before" in backwards.text
    assert (await own.get(f"/staff/{f2.id}/away")).status_code == 403
    await own.aclose()
    member, _, page, item = await member_answers(world.base_url, cohort)
    assert "your group&#39;s facilitator," in page
    assert [n.recipient_id for n in await SafetyNotice.filter(safety_item_id=item.id)] == [f2.id]
    assert not await messages_to(f1)
    # A coordinator sets the co-facilitator away too: the duty clinicians are told.
    async with bearer(world.base_url, world.tokens["coordinator"]) as coordinator:
        response = await coordinator.post(f"/api/v1/users/{f2.id}/away-periods",
                                          json={"starts_on": today.isoformat(), "ends_on": today.isoformat()})
        assert response.status_code == 201, response.text
        period_id = response.json()["id"]
    await set_duty(world, duty)
    try:
        member2, _, page2, item2 = await member_answers(world.base_url, cohort)
        assert item2.routed_to == "duty" and "a clinician of the clinic" in page2
        assert [n.recipient_id for n in await SafetyNotice.filter(safety_item_id=item2.id)] == [duty.id]
        assert_says_nothing((await messages_to(duty))[-1], member2, item2, world.base_url)
    finally:
        await set_duty(world)
    async with bearer(world.base_url, (await accounts.create_api_token(f2, "t"))[1]) as cover:
        assert [p["id"] for p in (await cover.get(f"/api/v1/users/{f2.id}/away-periods")).json()] == [period_id]
        assert (await cover.delete(f"/api/v1/away-periods/{period_id}")).status_code == 204


# --------------------------------------------------------------------- the risk check

async def test_only_clinicians_record_risk_checks(world, live_server):
    member, enrollment, _, item = await member_answers(world.base_url, world.cohort, item9=1)
    coordinator = await world.client("coordinator")
    page = await coordinator.get(f"/safety/{item.id}")
    assert page.status_code == 200 and 'id="not-clinician"' in page.text
    refused = await coordinator.submit(f"/safety/{item.id}/risk-check", ASSESSED | {"follow_up_date": date.today().isoformat()})
    assert refused.status_code == 403 and "Only a clinician" in refused.text
    async with bearer(world.base_url, world.tokens["coordinator"]) as admin:  # refused before its input is judged
        assert (await admin.post(f"/api/v1/safety-items/{item.id}/risk-check", json={"outcome": "."})).status_code == 403
    assert (await SafetyItem.get(id=item.id)).status == SafetyItemStatus.OPEN
    marked = await make_user(Role.COORDINATOR, "Cleo Clinician")
    async with bearer(world.base_url, world.tokens["facilitator"]) as facilitator:
        assert (await facilitator.put(f"/api/v1/users/{marked.id}/clinician", json={"clinician": True})).status_code == 403
    async with bearer(world.base_url, world.tokens["coordinator"]) as admin:
        response = await admin.put(f"/api/v1/users/{marked.id}/clinician", json={"clinician": True})
        assert response.status_code == 200 and response.json()["clinician"] is True
        assert (await admin.put(f"/api/v1/users/{marked.id}/clinician", json={"clinician": "yes"})).status_code == 400
    async with bearer(world.base_url, (await accounts.create_api_token(marked, "t"))[1]) as clinician:
        done = await clinician.post(f"/api/v1/safety-items/{item.id}/risk-check",
                                    json=AS_JSON | {"follow_up_date": date.today().isoformat()})
        assert done.status_code == 201, done.text
    # A facilitator unmarked by a coordinator is no longer a clinician.
    lay = await make_user(Role.FACILITATOR, "Lay Helper")
    cohort, _ = await cohort_with(lay)
    _, _, _, item2 = await member_answers(world.base_url, cohort, item9=1)
    async with bearer(world.base_url, world.tokens["coordinator"]) as admin:
        assert (await admin.put(f"/api/v1/users/{lay.id}/clinician", json={"clinician": False})).status_code == 200
    async with bearer(world.base_url, (await accounts.create_api_token(lay, "t"))[1]) as helper:
        answer = await helper.post(f"/api/v1/safety-items/{item2.id}/risk-check", json=AS_JSON | {"action": "none"})
        assert answer.status_code == 403


@pytest.mark.parametrize("change,field,status", [
    # 422: as the API document says, but saying nothing; 400: not as the document says.
    ({"outcome": "."}, "outcome", 422),
    ({"outcome": " - "}, "outcome", 422),
    ({"protective_factors": "..."}, "protective_factors", 422),
    ({"risk_level": ""}, "risk_level", 400),
    ({"action": ""}, "action", 400),
    ({"thoughts": "maybe"}, "thoughts", 400),
    ({"intent": ""}, "intent", 400),
    ({"contact_method": "telepathy"}, "contact_method", 400),
    ({"follow_up_date": ""}, "follow_up_date", 400),
])
async def test_an_incomplete_assessment_is_refused_and_changes_nothing(world, live_server, change, field, status):
    _, _, _, item = await member_answers(world.base_url, world.cohort, item9=1)
    async with bearer(world.base_url, world.tokens["facilitator"]) as staff:
        body = AS_JSON | {"follow_up_date": date.today().isoformat()} | change
        response = await staff.post(f"/api/v1/safety-items/{item.id}/risk-check", json=body)
    assert response.status_code == status, response.text
    assert field in response.json()["fields"]
    assert not await RiskCheck.filter(safety_item_id=item.id).exists()
    assert (await SafetyItem.get(id=item.id)).status == SafetyItemStatus.OPEN


async def test_a_check_cannot_predate_the_answer_and_an_unreached_attempt_keeps_it_open(world, live_server):
    _, enrollment, _, item = await member_answers(world.base_url, world.cohort, item9=3)
    answered = item.raised_at
    async with bearer(world.base_url, world.tokens["facilitator"]) as staff:
        url = f"/api/v1/safety-items/{item.id}/risk-check"
        early = await staff.post(url, json=AS_JSON | {"follow_up_date": date.today().isoformat(),
                                                       "checked_at": (answered - timedelta(hours=2)).isoformat()})
        assert early.status_code == 422 and "before the answer" in early.json()["detail"]
        attempt = await staff.post(url, json={"contact_method": "unreached",
                                              "outcome": "Rang twice at 18:00, no answer; will try tomorrow morning."})
        assert attempt.status_code == 201 and attempt.json()["status"] == "open"
        assert (await SafetyItem.get(id=item.id)).status == SafetyItemStatus.OPEN
        assert await AuditEvent.filter(subject="risk_check", detail__contains="not reached").exists()
        vague = await staff.post(url, json={"contact_method": "unreached", "outcome": "?"})
        assert vague.status_code == 422
        done = await staff.post(url, json=AS_JSON | {"contact_method": "in_person", "action": "none"})
        assert done.status_code == 201 and done.json()["status"] == "closed"
    page = await (await world.client("facilitator")).get(f"/safety/{item.id}")
    assert "Tried, could not reach the member" in page.text and "Rang twice" in page.text


async def test_a_disclosure_in_session_opens_an_item_that_reaches_the_facilitators(world, live_server):
    lead = await make_user(Role.FACILITATOR, "Nora Note")
    cohort, _ = await cohort_with(lead)
    member = await make_user(Role.MEMBER, "Pia Spoke")
    enrollment = await Enrollment.create(cohort=cohort, member=member, status=EnrollmentStatus.ENROLLED)
    client = await logged_in(world.base_url, lead.email, PASSWORD)
    form = await client.get(f"/enrollments/{enrollment.id}/safety/new")
    assert form.status_code == 200 and "What was disclosed" in form.text
    empty = await client.submit(f"/enrollments/{enrollment.id}/safety/new", {"note": "."})
    assert empty.status_code == 400 and not await SafetyItem.filter(enrollment_id=enrollment.id).exists()
    note = "Said she sometimes wishes she would not wake up; no plan."
    made = await client.submit(f"/enrollments/{enrollment.id}/safety/new", {"note": note}, follow_redirects=False)
    assert made.status_code == 303
    item = await SafetyItem.get(enrollment_id=enrollment.id)
    assert item.source == "disclosure" and item.item9 is None and item.opened_by_id == lead.id
    page = await client.get(made.headers["location"])
    assert note in page.text and "Disclosed in session" in page.text
    await client.aclose()
    [message] = await messages_to(lead)
    assert message.subject == "A record needs your attention" and "wake up" not in message.body
    assert_says_nothing(message, member, item, world.base_url)
    async with bearer(world.base_url, world.tokens["other_facilitator"]) as other:
        denied = await other.post(f"/api/v1/enrollments/{enrollment.id}/safety-items", json={"note": note})
        assert denied.status_code == 403
    async with bearer(world.base_url, world.tokens["coordinator"]) as coordinator:
        api = await coordinator.post(f"/api/v1/enrollments/{enrollment.id}/safety-items", json={"note": note})
        assert api.status_code == 201 and api.json()["routed_to"] == "facilitator"


async def test_crisis_help_text_is_the_clinics_and_coordinators_are_warned_until_it_is_set(world, live_server):
    coordinator = await world.client("coordinator")
    assert 'id="help-text-warning"' in (await coordinator.get("/")).text
    assert 'id="help-text-warning"' not in (await (await world.client("facilitator")).get("/")).text
    own = "Call the clinic's duty line on 0123 456 789 (9:00-17:00); in an emergency call 112."
    refused = await coordinator.submit("/clinic/safety/help-text", {"help_text": ". ."})
    assert refused.status_code == 400
    saved = await coordinator.submit("/clinic/safety/help-text", {"help_text": own})
    assert saved.status_code == 200 and "saved" in saved.text
    try:
        assert 'id="help-text-warning"' not in (await coordinator.get("/")).text
        _, _, page, _ = await member_answers(world.base_url, world.cohort, item9=1)
        assert "0123 456 789" in page
        async with bearer(world.base_url, world.tokens["facilitator"]) as facilitator:
            assert (await facilitator.put("/api/v1/clinic/crisis-help", json={"help_text": "x y z"})).status_code == 403
    finally:
        cleared = await coordinator.submit("/clinic/safety/help-text", {"help_text": ""})
        assert cleared.status_code == 200
    assert 'id="help-text-warning"' in (await coordinator.get("/")).text


async def test_a_closure_summary_waits_for_open_safety_items(world, live_server):
    member, enrollment, _, item = await member_answers(world.base_url, world.cohort, item9=1)
    row = await ClosureSummary.create(enrollment=enrollment, version=1, content={}, created_by=world.users["facilitator"])
    async with bearer(world.base_url, world.tokens["facilitator"]) as staff:
        refused = await staff.post(f"/api/v1/summaries/{row.id}/finalize")
        assert refused.status_code == 409 and refused.json()["code"] == "safety_open", refused.text
        assert "1 open safety item" in refused.json()["detail"]
        assert (await ClosureSummary.get(id=row.id)).status == "draft"
        closed = await staff.post(f"/api/v1/safety-items/{item.id}/risk-check", json=AS_JSON | {"action": "none"})
        assert closed.status_code == 201
        after = await staff.post(f"/api/v1/summaries/{row.id}/finalize")
        assert after.json().get("code") != "safety_open"


# --------------------------------------------------------------------- the live board

async def test_closing_a_session_waits_for_a_documented_contact(world, live_server):
    lead = await make_user(Role.FACILITATOR, "Bea Board")
    cohort, meetings = await cohort_with(lead)
    lead_token = (await accounts.create_api_token(lead, "board"))[1]
    member = await make_user(Role.MEMBER, "Ulla Here")
    enrollment = await Enrollment.create(cohort=cohort, member=member, status=EnrollmentStatus.ENROLLED)
    m = str(enrollment.id)
    board = await BoardClient.open(live_server.ws_url, meetings[3].id, lead_token)
    try:
        # An answer given during the session appears on the facilitator view at once.
        client = await logged_in(world.base_url, member.email, PASSWORD)
        assert (await client.submit("/portal/measures/phq9", phq9(2))).status_code == 200
        await client.aclose()
        frame = await board.until(lambda f: f["type"] == "event" and f["event"]["type"] == "safety_items_updated")
        [shown] = frame["event"]["data"]["items"]
        assert shown["member"] == m and shown["due_at"]
        item = await SafetyItem.get(enrollment_id=enrollment.id)
        await board.ok("mark_attendance", {"member": m, "status": "present"})
        refused = await board.command("close_meeting")
        assert refused["type"] == "error" and refused["code"] == "safety_open" and "1 member(s)" in refused["message"]
        vague = await board.command("close_meeting", {"confirm_safety_reason": "."})
        assert vague["code"] == "invalid_argument"
        coordinator = await BoardClient.open(live_server.ws_url, meetings[3].id, world.tokens["coordinator"])
        not_clinician = await coordinator.command("close_meeting", {"confirm_safety_reason": "She left early, calling tonight"})
        assert not_clinician["code"] == "clinician_required"
        await coordinator.close()
        seq = await board.ok("close_meeting", {"confirm_safety_reason": "Spoke with her after; duty clinician calls tonight",
                                               "by_clinician": False})
        await board.wait_seq(seq)
        closed = next(e for e in board.events if e["seq"] == seq)
        assert closed["data"]["safety_confirmed"]["count"] == 1
        assert closed["data"]["safety_confirmed"]["items"] == [str(item.id)]
    finally:
        await board.close()
    # Absent members do not hold the session up; a check made during it releases it.
    second = await BoardClient.open(live_server.ws_url, meetings[4].id, lead_token)
    await second.ok("mark_attendance", {"member": m, "status": "absent_notified"})
    await second.ok("close_meeting")
    await second.close()
    third = await BoardClient.open(live_server.ws_url, meetings[5].id, lead_token)
    await third.ok("mark_attendance", {"member": m, "status": "present"})
    assert (await third.command("close_meeting"))["code"] == "safety_open"
    async with bearer(world.base_url, lead_token) as staff:
        assert (await staff.post(f"/api/v1/safety-items/{item.id}/risk-check",
                                 json=AS_JSON | {"action": "none"})).status_code == 201
    await third.ok("close_meeting")
    await third.close()


# --------------------------------------------------------------------- escalation, with a target of seconds

async def _until(predicate, timeout: float = 60.0):  # a loaded machine: the assertions are on what, not when
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError("timed out waiting")


async def test_an_unhandled_item_escalates_twice_and_a_follow_up_is_reminded(world, live_server, tmp_path, smtp_server):
    controller, collector = smtp_server
    # 0.0005 hours is 1.8 seconds: escalated at 1.8 s and again at 3.6 s.
    server = LiveServer(var_dir=tmp_path, database_url=live_server.database_url, extra_env={
        "GROUPIPT_SAFETY_RESPONSE_HOURS": "0.0005", "GROUPIPT_SMTP_HOST": "127.0.0.1",
        "GROUPIPT_SMTP_PORT": str(controller.port), "GROUPIPT_MAIL_FROM": "groups@clinic.example",
    }).start()
    try:
        lead = await make_user(Role.FACILITATOR, "Edda Escalate")
        duty = await make_user(Role.FACILITATOR, "Olaf Oncall")
        await set_duty(world, duty)
        cohort, _ = await cohort_with(lead)
        member, enrollment, page, item = await member_answers(server.url, cohort, item9=2)
        assert (item.due_at - item.opened_at) < timedelta(seconds=3)
        # The first message is sent by SMTP at once, and says nothing.
        sent = await _until(lambda: _sent_to(collector, lead.email))
        assert sent["From"] == "groups@clinic.example"
        text = sent.get_payload()
        assert member.display_name not in text and member.first_name not in text and not CLINICAL.search(
            text.replace(f"{server.url}/attention/{item.id}", "")) and not CLINICAL.search(sent["Subject"])
        escalated = await _until(lambda: _escalations(item.id, 2))
        assert escalated.escalations == 2 and escalated.status == SafetyItemStatus.OPEN
        coordinators = await User.filter(role=Role.COORDINATOR, is_active=True).count()

        async def notified(level: int):
            people = await SafetyNotice.filter(safety_item_id=item.id, kind="escalated", level=level).values_list(
                "recipient_id", flat=True)
            return people if len(people) >= coordinators + 1 else None

        for level in (1, 2):
            await _until(lambda: notified(level))  # the claim is made first, then the notices written
        await asyncio.sleep(1)
        for level in (1, 2):
            people = await notified(level)
            # Once each, though both servers sweep the same database.
            assert sorted(people) == sorted(set(people)) and duty.id in people and len(people) == coordinators + 1
        assert await AuditEvent.filter(subject="safety_item", subject_id=str(item.id), detail__contains="escalated").count() == 2
        # Other tests' open items escalate on this server too: take the one about this item.
        reminder = next(m for m in await messages_to(duty)
                        if m.subject.startswith("Reminder") and f"/attention/{item.id}\n" in m.body)
        # Both servers sweep this database, and either may claim the reminder: it links to its own address.
        sender = server.url if f"{server.url}/attention/" in reminder.body else world.base_url
        assert_says_nothing(reminder, member, item, sender)
        await asyncio.sleep(4)  # no third escalation
        assert (await SafetyItem.get(id=item.id)).escalations == 2
        # A follow-up set for today is reminded on its day, once, to the cohort's facilitator.
        async with bearer(server.url, (await accounts.create_api_token(lead, "t"))[1]) as staff:
            done = await staff.post(f"/api/v1/safety-items/{item.id}/risk-check",
                                    json=AS_JSON | {"follow_up_date": date.today().isoformat()})
            assert done.status_code == 201, done.text
            listing = await (await logged_in(server.url, lead.email, PASSWORD)).get("/safety")
            assert f'data-follow-up="{done.json()["id"]}"' in listing.text
        check = await _until(lambda: _reminded(done.json()["id"]))
        assert check.follow_up_reminded_at is not None
        [notice] = await SafetyNotice.filter(risk_check_id=check.id, kind="follow_up")
        assert notice.recipient_id == lead.id
        follow_mail = next(m for m in await messages_to(lead)
                           if m.subject == "A follow-up is due today" and f"/attention/{item.id}\n" in m.body)
        assert_says_nothing(follow_mail, member, item, server.url)
    finally:
        server.stop()
        await set_duty(world)


async def _sent_to(collector: Collector, email: str):
    return next((message for recipients, message in collector.messages if email in recipients), None)


async def _escalations(item_id: int, level: int):
    item = await SafetyItem.get(id=item_id)
    return item if item.escalations >= level else None


async def _reminded(check_id: int):
    check = await RiskCheck.get(id=check_id)
    return check if check.follow_up_reminded_at is not None else None


async def test_a_failing_mail_server_loses_no_answer(world, live_server, tmp_path):
    server = LiveServer(var_dir=tmp_path, database_url=live_server.database_url, extra_env={
        "GROUPIPT_SMTP_HOST": "127.0.0.1", "GROUPIPT_SMTP_PORT": str(free_port()),
    }).start()
    try:
        lead = await make_user(Role.FACILITATOR, "Mats Mailless")
        cohort, _ = await cohort_with(lead)
        member, enrollment, page, item = await member_answers(server.url, cohort, item9=1)
        assert "Thank you for answering honestly" in page and item is not None
        # The outbox row and the home-page notice exist at once; delivery is tried after the page.
        assert await SafetyNotice.filter(safety_item_id=item.id, recipient_id=lead.id).exists()
        [message] = await messages_to(lead)

        async def failed():
            row = await OutboxMessage.get(id=message.id)
            return row if row.error else None

        row = await _until(failed)
        assert row.sent_at is None and row.error
    finally:
        server.stop()


async def test_the_command_line_runs_one_sweep(world, live_server):
    lead = await make_user(Role.FACILITATOR, "Cli Lead")
    cohort, _ = await cohort_with(lead)
    _, _, _, item = await member_answers(world.base_url, cohort, item9=1)
    past = datetime.now(timezone.utc) - timedelta(minutes=1)
    await SafetyItem.filter(id=item.id).update(due_at=past, opened_at=past - timedelta(hours=24))
    env = {**os.environ, "GROUPIPT_DATABASE_URL": live_server.database_url, "GROUPIPT_SECRET_KEY": "cli",
           "GROUPIPT_VAR_DIR": str(live_server.var_dir), "GROUPIPT_BASE_URL": world.base_url}
    result = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "server.cli", "safety-sweep"], cwd=ROOT,
                                     env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert re.search(r"Escalated \d+ item\(s\); reminded \d+ follow-up\(s\)\.", result.stdout)
    assert (await SafetyItem.get(id=item.id)).escalations == 1
    assert await SafetyNotice.filter(safety_item_id=item.id, kind="escalated", level=1).exists()


async def test_an_item_that_cannot_be_escalated_holds_back_no_other_and_is_tried_again(world, live_server,
                                                                                       monkeypatch):
    from server.measures import safety_alerts
    from server.platform.settings import Settings

    past = datetime.now(timezone.utc) - timedelta(minutes=1)
    items = []
    for name in ("Stuck Lead", "Moving Lead"):
        lead = await make_user(Role.FACILITATOR, name)
        cohort, _ = await cohort_with(lead)
        _, _, _, item = await member_answers(world.base_url, cohort, item9=1)
        # The stuck one is the more overdue, so the sweep meets it first.
        opened = past - timedelta(hours=48 if name.startswith("Stuck") else 24)
        await SafetyItem.filter(id=item.id).update(due_at=opened + timedelta(hours=24), opened_at=opened)
        items.append((item, cohort))
    (stuck, stuck_cohort), (moving, _) = items
    original = safety_alerts.escalation_recipients

    async def failing(now, cohort):
        people = await original(now, cohort)
        if cohort.id == stuck_cohort.id:  # after the claim: the transaction must take it back
            raise RuntimeError("the directory is unreachable")
        return people

    settings = Settings.from_env()
    monkeypatch.setattr(safety_alerts, "escalation_recipients", failing)
    result = await safety_alerts.sweep(now=datetime.now(timezone.utc), settings=settings)
    assert (moving.id, 1) in result.escalated and all(item_id != stuck.id for item_id, _ in result.escalated)
    assert (await SafetyItem.get(id=moving.id)).escalations == 1
    assert await SafetyNotice.filter(safety_item_id=moving.id, kind="escalated", level=1).exists()
    # Not claimed without its notices: no escalation recorded, no notice, no audit line.
    assert (await SafetyItem.get(id=stuck.id)).escalations == 0
    assert not await SafetyNotice.filter(safety_item_id=stuck.id, kind="escalated").exists()
    assert not await AuditEvent.filter(subject="safety_item", subject_id=str(stuck.id),
                                       detail__contains="escalated").exists()
    monkeypatch.setattr(safety_alerts, "escalation_recipients", original)
    result = await safety_alerts.sweep(now=datetime.now(timezone.utc), settings=settings)
    assert (stuck.id, 1) in result.escalated
    assert await SafetyNotice.filter(safety_item_id=stuck.id, kind="escalated", level=1).exists()


async def test_coordinators_name_clinicians_and_duty_clinicians_on_the_settings_page(world, live_server):
    nurse = await make_user(Role.COORDINATOR, "Nell Nurse")
    lay = await make_user(Role.FACILITATOR, "Lars Lay")
    coordinator = await world.client("coordinator")
    page = await coordinator.get("/clinic/safety")
    assert page.status_code == 200 and f'data-person="{nurse.id}"' in page.text
    assert (await coordinator.submit("/clinic/safety/people", {})).status_code == 400  # lists nobody: changes nobody
    # A coordinator who is not a clinician cannot be on duty.
    refused = await coordinator.submit("/clinic/safety/people", {"person": str(nurse.id), f"clinician_{nurse.id}": "default",
                                                                 f"duty_{nurse.id}": "1"})
    assert refused.status_code == 400 and "Nell Nurse" in refused.text
    assert not (await User.get(id=nurse.id)).on_duty
    saved = await coordinator.submit("/clinic/safety/people", {
        "person": [str(nurse.id), str(lay.id)], f"clinician_{nurse.id}": "yes", f"duty_{nurse.id}": "1",
        f"clinician_{lay.id}": "no",
    })
    try:
        assert saved.status_code == 200 and "saved" in saved.text
        nurse_now, lay_now = await User.get(id=nurse.id), await User.get(id=lay.id)
        assert nurse_now.is_clinician and nurse_now.on_duty and not lay_now.is_clinician
        assert await AuditEvent.filter(subject="duty_clinicians").exists()
        # The duty clinician now hears about a cohort nobody leads, on the home page too.
        cohort, _ = await cohort_with(name="Unled")
        _, _, _, item = await member_answers(world.base_url, cohort, item9=1)
        home = await (await logged_in(world.base_url, nurse.email, PASSWORD)).get("/")
        assert f'data-attention="{item.id}"' in home.text
    finally:
        await set_duty(world)
    facilitator = await world.client("facilitator")
    assert (await facilitator.get("/clinic/safety")).status_code == 403


async def test_a_slow_mail_server_does_not_keep_the_member_waiting(world, live_server, tmp_path):
    collector = SlowCollector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    server = LiveServer(var_dir=tmp_path, database_url=live_server.database_url, extra_env={
        "GROUPIPT_SMTP_HOST": "127.0.0.1", "GROUPIPT_SMTP_PORT": str(controller.port)}).start()
    try:
        f1, f2 = await make_user(Role.FACILITATOR, "Sten Slow"), await make_user(Role.FACILITATOR, "Tove Slow")
        cohort, _ = await cohort_with(f1, f2)
        started = asyncio.get_running_loop().time()
        _, _, page, item = await member_answers(server.url, cohort, item9=1)
        assert asyncio.get_running_loop().time() - started < 2.5  # two messages of 3 s each are sent afterwards
        assert "Thank you for answering honestly" in page
        async def both_sent():
            rows = [await OutboxMessage.get(to_user_id=f.id) for f in (f1, f2)]
            return all(row.sent_at for row in rows)

        await _until(both_sent, timeout=20)
        assert await _sent_to(collector, f1.email) and await _sent_to(collector, f2.email)
    finally:
        server.stop()
        controller.stop()
