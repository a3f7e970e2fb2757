"""Measures and the safety workflow over a real server.

Each test enrolls its own member in the shared cohort A, so answers never mix with other
tests' members. The world's cohort A has held sessions 1-3; session 4 is today.
"""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest

from models.accounts import AuditEvent, Role
from models.clinical import MeasureResponse, SafetyItem, SafetyItemStatus
from models.cohorts import Enrollment, EnrollmentStatus
from tests.support.clients import bearer, logged_in
from tests.support.world import PASSWORD, make_user

pytestmark = pytest.mark.asyncio(loop_scope="session")

REASSURING = re.compile(r"no risk|not at risk|low risk|risk[- ]free|all clear|negative screen", re.IGNORECASE)
HELP = "If you are thinking about harming yourself"


def phq9(item9=0, rest=1):
    return {**{f"item{n}": str(rest) for n in range(1, 9)}, "item9": str(item9)}


async def new_member(world, cohort=None):
    member = await make_user(Role.MEMBER, f"Member {uuid.uuid4().hex[:5].upper()}")
    enrollment = await Enrollment.create(cohort=cohort or world.cohort, member=member, status=EnrollmentStatus.ENROLLED)
    client = await logged_in(world.base_url, member.email, PASSWORD)
    return member, enrollment, client


@pytest.mark.parametrize("item9", [1, 2, 3])
async def test_positive_item9_opens_a_private_safety_item(world, item9):
    member, enrollment, client = await new_member(world)
    try:
        form = await client.get("/portal/measures/phq9")
        assert form.status_code == 200
        assert "Over the last 2 weeks, how often have you been bothered by any of the following problems?" in form.text
        assert "Thoughts that you would be better off dead or of hurting yourself in some way" in form.text
        done = await client.submit("/portal/measures/phq9", phq9(item9=item9))
        assert done.status_code == 200, done.text[:500]
        assert 'id="support-message"' in done.text and HELP in done.text
        assert f"total is {8 + item9} out of 27" in done.text
        item = await SafetyItem.get(enrollment_id=enrollment.id)
        assert item.status == SafetyItemStatus.OPEN and item.item9 == item9
        # The member's own pages never show the safety item or staff wording.
        portal = await client.get("/portal")
        assert "safety item" not in portal.text.lower() and "risk check" not in portal.text.lower()
        assert (await client.get(f"/safety/{item.id}")).status_code == 403
        # The cohort's facilitator sees it on top of the next meeting's view.
        facilitator = await world.client("facilitator")
        meeting_page = await facilitator.get(f"/meetings/{item.meeting_id}/measures")
        assert meeting_page.status_code == 200
        top = meeting_page.text.index('id="safety-items"')
        assert top < meeting_page.text.index('id="meeting-answers"')
        assert member.display_name in meeting_page.text[top:meeting_page.text.index('id="meeting-answers"')]
        # Another cohort's facilitator and another member do not.
        other = await world.client("other_facilitator")
        assert (await other.get(f"/safety/{item.id}")).status_code == 403
        assert member.display_name not in (await other.get("/safety")).text
        assert (await (await world.client("other_member")).get(f"/safety/{item.id}")).status_code == 403
        coordinator = await world.client("coordinator")
        assert member.display_name in (await coordinator.get("/safety")).text
    finally:
        await client.aclose()


async def test_item9_zero_opens_nothing_and_is_never_called_no_risk(world):
    member, enrollment, client = await new_member(world)
    try:
        done = await client.submit("/portal/measures/phq9", phq9(item9=0, rest=3))
        assert done.status_code == 200
        assert 'id="support-message"' not in done.text
        assert not await SafetyItem.filter(enrollment_id=enrollment.id).exists()
        facilitator = await world.client("facilitator")
        pages = [done.text, (await client.get("/portal")).text,
                 (await facilitator.get(f"/enrollments/{enrollment.id}/measures")).text,
                 (await facilitator.get(f"/cohorts/{world.cohort.id}/measures")).text]
        for page in pages:
            assert not REASSURING.search(page)
        staff_page = pages[2]
        assert "Item 9 answered \u201cNot at all\u201d. This answer alone does not rule out risk" in staff_page
    finally:
        await client.aclose()


async def test_one_answer_per_window_and_corrections_by_staff(world):
    member, enrollment, client = await new_member(world)
    try:
        first = await client.submit("/portal/measures/phq9", phq9(rest=2))
        assert first.status_code == 200
        again = await client.submit("/portal/measures/phq9", phq9(rest=0))
        assert again.status_code == 409 and "already answered" in again.text
        async with bearer(world.base_url, world.tokens["facilitator"]) as staff:
            window = (await MeasureResponse.get(enrollment_id=enrollment.id)).window
            no_reason = await staff.post(f"/api/v1/enrollments/{enrollment.id}/measures",
                                         json={"instrument": "phq9", "items": [0] * 9, "window": window})
            assert no_reason.status_code == 409
            fixed = await staff.post(f"/api/v1/enrollments/{enrollment.id}/measures",
                                     json={"instrument": "phq9", "items": [1] * 8 + [0], "window": window,
                                           "correction_reason": "paper form read wrongly"})
            assert fixed.status_code == 201, fixed.text
            listing = (await staff.get(f"/api/v1/enrollments/{enrollment.id}/measures")).json()
        totals = [(r["total"], r["superseded"], r["on_behalf"]) for r in listing["responses"] if r["instrument"] == "phq9"]
        assert totals == [(16, True, False), (8, False, True)]
    finally:
        await client.aclose()


async def test_bands_across_the_scale_and_change_from_baseline_through_the_api(world):
    member, enrollment, client = await new_member(world)
    await client.aclose()
    edges = [(0, "Minimal"), (4, "Minimal"), (5, "Mild"), (9, "Mild"), (10, "Moderate"), (14, "Moderate"),
             (15, "Moderately severe"), (19, "Moderately severe"), (20, "Severe"), (27, "Severe")]
    async with bearer(world.base_url, world.tokens["facilitator"]) as staff:
        url = f"/api/v1/enrollments/{enrollment.id}/measures"
        first = await staff.post(url, json={"instrument": "phq9", "items": [3, 3, 3, 3, 3, 3, 2, 0, 0], "difficulty": 2})
        assert first.status_code == 201
        assert (first.json()["total"], first.json()["band_label"], first.json()["difficulty"]) == (20, "Severe", 2)
        window = first.json()["window"]
        for total, label in edges:
            items = [min(3, max(0, total - 3 * i)) for i in range(8)] + [0]
            response = await staff.post(url, json={"instrument": "phq9", "items": items, "window": window,
                                                   "correction_reason": f"band check {total}"}) if total <= 24 else None
            if response is None:  # 25-27 need item 9 above 0
                items = [3] * 8 + [total - 24]
                response = await staff.post(url, json={"instrument": "phq9", "items": items, "window": window,
                                                       "correction_reason": f"band check {total}"})
            assert response.status_code == 201, response.text
            assert (response.json()["total"], response.json()["band_label"]) == (total, label)
        listing = (await staff.get(url)).json()
    current = [r for r in listing["responses"] if not r["superseded"]]
    assert [r["total"] for r in current] == [27]
    # One answer only: no response or remission can be claimed either way (was False/False).
    assert listing["change_from_baseline"]["phq9"] == {
        "baseline": 27, "latest": 27, "difference": 0, "response": None, "remission": None,
    }
    assert await SafetyItem.filter(enrollment_id=enrollment.id).count() == 1  # the 27 had item 9 = 3


@pytest.mark.parametrize("payload,field,status", [
    ({"instrument": "phq9", "items": [0] * 8}, "items", 400),
    ({"instrument": "phq9", "items": [0] * 8 + [4]}, "item9", 400),
    ({"instrument": "gad7", "items": [0, 1, 2, 3, -1, 0, 0]}, "item5", 400),
    ({"instrument": "bdi", "items": [0] * 9}, "instrument", 400),
    ({"instrument": "phq9", "items": "000000000"}, "items", 400),
    ({"instrument": "phq9", "items": [0] * 9, "difficulty": 7}, "difficulty", 400),
])
async def test_invalid_answers_are_refused_and_nothing_is_written(world, payload, field, status):
    member, enrollment, client = await new_member(world)
    await client.aclose()
    async with bearer(world.base_url, world.tokens["facilitator"]) as staff:
        response = await staff.post(f"/api/v1/enrollments/{enrollment.id}/measures", json=payload)
    assert response.status_code == status, response.text
    assert field in response.json().get("fields", {})
    assert not await MeasureResponse.filter(enrollment_id=enrollment.id).exists()


async def test_portal_form_errors_name_the_missing_items(world):
    member, enrollment, client = await new_member(world)
    try:
        partial = {f"item{n}": "1" for n in range(1, 7)}
        response = await client.submit("/portal/measures/gad7", partial)
        assert response.status_code == 400
        assert "Please answer item 7." in response.text
        assert not await MeasureResponse.filter(enrollment_id=enrollment.id).exists()
        unknown = await client.get("/portal/measures/bdi")
        assert unknown.status_code == 404
    finally:
        await client.aclose()


ASSESSED = {"contact_method": "phone", "thoughts": "passive", "plan": "no", "intent": "no", "access_to_means": "no",
            "past_attempts": "no", "protective_factors": "Her children; her sister visits weekly", "risk_level": "low"}
# The API takes yes / no as JSON booleans; the form page as the words.
AS_JSON = {k: {"yes": True, "no": False}.get(v, v) for k, v in ASSESSED.items()}


async def test_risk_check_closes_the_item_and_is_audited(world):
    member, enrollment, client = await new_member(world)
    await client.submit("/portal/measures/phq9", phq9(item9=1))
    await client.aclose()
    item = await SafetyItem.get(enrollment_id=enrollment.id)
    facilitator = await world.client("facilitator")
    page = await facilitator.get(f"/safety/{item.id}")
    assert page.status_code == 200 and "Record the risk check" in page.text
    incomplete = await facilitator.submit(f"/safety/{item.id}/risk-check", {"outcome": "", "action": "referral"})
    assert incomplete.status_code == 400
    for message in ("Describe what the check found.", "A follow-up date is needed", "Say how contact was made",
                    "Choose a risk level", "Record current thoughts", "A plan: answer yes or no."):
        assert message in incomplete.text, message
    assert (await SafetyItem.get(id=item.id)).status == SafetyItemStatus.OPEN
    follow = (date.today() + timedelta(days=7)).isoformat()
    done = await facilitator.submit(f"/safety/{item.id}/risk-check", {
        **ASSESSED, "outcome": "Passive thoughts, no plan; agreed a safety plan", "action": "safety_plan",
        "follow_up_date": follow,
    })
    assert done.status_code == 200 and "the safety item is closed" in done.text
    closed = await SafetyItem.get(id=item.id).prefetch_related("closed_by")
    assert closed.status == SafetyItemStatus.CLOSED and closed.closed_by.display_name == "Fiona Facilitator"
    again = await facilitator.submit(f"/safety/{item.id}/risk-check", {**ASSESSED, "outcome": "again", "action": "none"})
    assert again.status_code == 409
    assert await AuditEvent.filter(subject="risk_check", member_id=member.id, action="change").exists()
    assert await AuditEvent.filter(subject="measure_response", member_id=member.id, action="change").exists()


async def test_risk_check_api(world):
    member, enrollment, client = await new_member(world)
    await client.submit("/portal/measures/phq9", phq9(item9=3))
    await client.aclose()
    item = await SafetyItem.get(enrollment_id=enrollment.id)
    async with bearer(world.base_url, world.tokens["other_facilitator"]) as other:
        assert (await other.post(f"/api/v1/safety-items/{item.id}/risk-check",
                                 json={**AS_JSON, "outcome": "xx", "action": "none"})).status_code == 403
    async with bearer(world.base_url, world.tokens["facilitator"]) as staff:
        listed = (await staff.get("/api/v1/safety-items")).json()
        assert any(i["id"] == item.id and i["item9"] == 3 for i in listed)
        bad = await staff.post(f"/api/v1/safety-items/{item.id}/risk-check",
                               json={**AS_JSON, "outcome": "xx", "action": "pray"})
        assert bad.status_code == 400 and "action" in bad.json()["fields"]
        ok = await staff.post(f"/api/v1/safety-items/{item.id}/risk-check", json={
            **AS_JSON, "plan": True, "intent": False, "risk_level": "high",
            "outcome": "Called the member; crisis team involved", "action": "emergency",
            "follow_up_date": date.today().isoformat(),
        })
        assert ok.status_code == 201, ok.text
        body = ok.json()
        assert body["checked_by"] == "Fiona Facilitator" and body["status"] == "closed"
        assert (body["plan"], body["intent"], body["risk_level"], body["contact_method"]) == (True, False, "high", "phone")


async def test_member_api_sees_only_their_own_measures(world):
    async with bearer(world.base_url, world.tokens["other_member"]) as other:
        response = await other.get(f"/api/v1/enrollments/{world.enrollment.id}/measures")
        assert response.status_code == 404
        post = await other.post(f"/api/v1/enrollments/{world.enrollment.id}/measures",
                                json={"instrument": "phq9", "items": [0] * 9})
        assert post.status_code == 404


async def test_scripted_history_for_the_demo_loader(world):
    """The functions the demo loader calls: a past PHQ-9 series, a safety item, its check."""
    from datetime import datetime, timezone

    from server.measures import responses as measure_responses
    from server.measures import safety
    from tests.support.world import make_cohort

    facilitator = world.users["facilitator"]
    start = (datetime.now(timezone.utc) - timedelta(days=7 * 8)).date()
    cohort, meetings = await make_cohort(world.template, f"History {uuid.uuid4().hex[:4]}", facilitator, start=start)
    member = await make_user(Role.MEMBER, "Hana History")
    enrollment = await Enrollment.create(cohort=cohort, member=member, status=EnrollmentStatus.ENROLLED)
    await Enrollment.filter(id=enrollment.id).update(created_at=meetings[0].starts_at - timedelta(days=14))
    occasions = await measure_responses.occasions_for(enrollment.id)
    phq = occasions["phq9"]
    assert [o.key for o in phq][:2] == ["baseline", "session-2"] and phq[-1].key == "closure"
    totals = [18, 16, 14, 12, 10, 9, 7, 4]
    for occasion, total in zip(phq, totals):
        item9 = 1 if occasion.key == "baseline" else 0
        items = [min(3, max(0, total - item9 - 3 * i)) for i in range(8)] + [item9]
        assert sum(items) == total
        await measure_responses.record_on_behalf(enrollment.id, "phq9", items, by=facilitator,
                                                 window=occasion.key, at=occasion.meeting_starts_at)
    item = await SafetyItem.get(enrollment_id=enrollment.id)
    check = await safety.close_with_check(item.id, by=facilitator, outcome="Passive thoughts; safety plan agreed",
                                          action="safety_plan", follow_up_date=date.today() + timedelta(days=7))
    assert check.action.value == "safety_plan"
    assert (await SafetyItem.get(id=item.id)).status == SafetyItemStatus.CLOSED
    page = await (await world.client("facilitator")).get(f"/enrollments/{enrollment.id}/measures")
    assert "Baseline 18 (Moderately severe) → latest 4 (Minimal)" in page.text
    assert "Response (a drop of at least 50%): yes" in page.text and "Remission (below 5): yes" in page.text
    with pytest.raises(Exception):
        await measure_responses.record_on_behalf(enrollment.id, "phq9", [0] * 9, by=facilitator, window="closure",
                                                 at=datetime.now(timezone.utc) + timedelta(days=1))


@pytest.mark.parametrize("path", ["/safety/99999999999", "/meetings/99999999999/measures", "/safety/0"])
async def test_out_of_range_ids_are_404_not_database_errors(world, path):
    coordinator = await world.client("coordinator")
    assert (await coordinator.get(path)).status_code == 404


async def test_odd_digits_in_answers_are_a_400(world):
    member, enrollment, client = await new_member(world)
    try:
        answers = {f"item{n}": "1" for n in range(1, 8)}
        answers["item3"] = "\u00b2"  # a superscript two: "a digit" to str.isdigit, not to int()
        response = await client.submit("/portal/measures/gad7", answers)
        assert response.status_code == 400 and "Please answer item 3." in response.text
    finally:
        await client.aclose()


async def test_facilitator_enters_a_gad7_on_the_members_behalf(world):
    member, enrollment, client = await new_member(world)
    await client.aclose()
    facilitator = await world.client("facilitator")
    form = await facilitator.get(f"/enrollments/{enrollment.id}/measures/gad7")
    assert form.status_code == 200
    assert "Feeling nervous, anxious or on edge" in form.text and "Nearly every day" in form.text
    answers = {f"item{n}": "2" for n in range(1, 8)}
    saved = await facilitator.submit(f"/enrollments/{enrollment.id}/measures/gad7", answers)
    assert saved.status_code == 200
    assert "Saved: GAD-7 14 (Moderate) for baseline." in saved.text
    response = await MeasureResponse.get(enrollment_id=enrollment.id)
    assert response.on_behalf and response.total == 14 and response.window == "baseline"
    repeat = await facilitator.submit(f"/enrollments/{enrollment.id}/measures/gad7", answers)
    assert repeat.status_code == 409 and "tick &#39;correction&#39; and give a reason" in repeat.text
    other = await world.client("other_facilitator")
    assert (await other.submit(f"/enrollments/{enrollment.id}/measures/gad7", answers)).status_code == 403
