"""Enrollment rules over a real server: capacity and waitlist, promotion on withdrawal, the
late-join cutoff and its override, transfer with history, consent, and two coordinators
racing for the last place (SQLite, and PostgreSQL when GROUPIPT_TEST_POSTGRES_URL is set).
"""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from models.accounts import Role, User
from models.cohorts import Enrollment, EnrollmentStatus, EnrollmentTransition
from server import accounts
from tests.support.clients import bearer
from tests.support.world import consent_fields, make_cohort, make_user, unique_email

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def future_cohort(world, *, capacity: int, name: str | None = None):
    """A cohort whose first session is next week, so late joining is still open."""
    start = (datetime.now(timezone.utc) + timedelta(days=7)).date()
    cohort, _ = await make_cohort(world.template, name or f"Cohort {uuid.uuid4().hex[:6]}",
                                  world.users["facilitator"], start=start, capacity=capacity)
    return cohort


def api(world, role="coordinator"):
    return bearer(world.base_url, world.tokens[role])


async def enroll_new(client, cohort_id, name="Pat Example", consent=True, **extra):
    """Enroll a new person over the API, with their consent unless told otherwise."""
    return await client.post(f"/api/v1/cohorts/{cohort_id}/enrollments",
                             json={"name": name, "email": unique_email("enr"), **(consent_fields() if consent else {}), **extra})


def page_consent() -> dict[str, str]:
    """Consent as the form's fields carry it (datetime-local, in the cohort's zone)."""
    return {"consent_at": (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "consent_method": "verbal_in_person", "consent_version": "1"}


async def test_enrolling_past_capacity_waitlists(world):
    cohort = await future_cohort(world, capacity=2)
    async with api(world) as client:
        first = await enroll_new(client, cohort.id, "Ann One")
        second = await enroll_new(client, cohort.id, "Ben Two")
        third = await enroll_new(client, cohort.id, "Cat Three")
    assert [r.status_code for r in (first, second, third)] == [201, 201, 201]
    assert first.json()["enrollment"]["status"] == "enrolled"
    assert second.json()["enrollment"]["status"] == "enrolled"
    body = third.json()
    assert body["enrollment"]["status"] == "waitlisted"
    assert "is full (2 places)" in body["message"] and "waitlist" in body["message"]
    assert body["invitation_path"].startswith("/invitations/")
    assert await Enrollment.filter(cohort_id=cohort.id, status=EnrollmentStatus.ENROLLED).count() == 2


async def test_withdrawal_promotes_the_first_waitlisted_and_says_so(world):
    cohort = await future_cohort(world, capacity=1)
    async with api(world) as client:
        held = (await enroll_new(client, cohort.id, "Dee Holder")).json()["enrollment"]
        first_wait = (await enroll_new(client, cohort.id, "Eve Firstwait")).json()["enrollment"]
        second_wait = (await enroll_new(client, cohort.id, "Fay Secondwait")).json()["enrollment"]
        assert first_wait["status"] == second_wait["status"] == "waitlisted"
        missing_reason = await client.post(f"/api/v1/enrollments/{held['id']}/withdraw", json={})
        assert missing_reason.status_code == 400
        done = await client.post(f"/api/v1/enrollments/{held['id']}/withdraw", json={"reason": "moved away"})
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["enrollment"]["status"] == "withdrawn"
        assert body["promoted"]["id"] == first_wait["id"]
        assert "Eve Firstwait was promoted from the waitlist" in body["message"]
        history = (await client.get(f"/api/v1/enrollments/{first_wait['id']}")).json()["history"]
    assert [(h["from"], h["to"]) for h in history] == [("", "waitlisted"), ("waitlisted", "enrolled")]
    assert all(h["by"] == "Cora Coordinator" and h["at"] for h in history)
    assert (await Enrollment.get(id=second_wait["id"])).status == EnrollmentStatus.WAITLISTED


async def test_below_minimum_warning_after_withdrawal(world):
    cohort = await future_cohort(world, capacity=9)
    cohort.status = "active"
    await cohort.save()
    async with api(world) as client:
        ids = [(await enroll_new(client, cohort.id, f"Member {n}")).json()["enrollment"]["id"] for n in range(4)]
        done = await client.post(f"/api/v1/enrollments/{ids[0]}/withdraw", json={"reason": "work shifts"})
    assert any("below the minimum of 4" in w for w in done.json()["warnings"])


async def test_late_join_is_refused_after_the_cutoff_unless_overridden(world):
    # make_cohort's default: the first session was three weeks ago, so sessions 1-3 are held;
    # the template's cutoff is session 3.
    cohort, _ = await make_cohort(world.template, f"Late {uuid.uuid4().hex[:6]}", world.users["facilitator"])
    async with api(world) as client:
        refused = await enroll_new(client, cohort.id, "Gil Late")
        assert refused.status_code == 409
        assert "Late joining closed after session 3" in refused.json()["detail"]
        assert not await User.filter(display_name="Gil Late").exists()
        allowed = await enroll_new(client, cohort.id, "Hal Late", late_join_reason="referred by GP, agreed with facilitator")
    assert allowed.status_code == 201, allowed.text
    enrollment = allowed.json()["enrollment"]
    assert enrollment["status"] == "enrolled"
    assert enrollment["late_join_reason"] == "referred by GP, agreed with facilitator"
    # Facilitators cannot override (nor enroll at all).
    async with api(world, "facilitator") as client:
        denied = await enroll_new(client, cohort.id, "Ivy Late", late_join_reason="please")
    assert denied.status_code == 403


async def test_no_promotion_after_the_cutoff(world):
    cohort = await future_cohort(world, capacity=1)
    async with api(world) as client:
        held = (await enroll_new(client, cohort.id, "Jo Holder")).json()["enrollment"]
        waiting = (await enroll_new(client, cohort.id, "Kim Waiting")).json()["enrollment"]
        # Sessions 1-3 are now in the past.
        from models.cohorts import Meeting
        for meeting in await Meeting.filter(cohort_id=cohort.id, number__lte=3):
            meeting.starts_at -= timedelta(days=60)
            meeting.ends_at -= timedelta(days=60)
            await meeting.save()
        done = (await client.post(f"/api/v1/enrollments/{held['id']}/withdraw", json={"reason": "ill"})).json()
    assert "promoted" not in done
    assert "Nobody was promoted from the waitlist: late joining closed after session 3" in done["message"]
    assert (await Enrollment.get(id=waiting["id"])).status == EnrollmentStatus.WAITLISTED


async def test_transfer_keeps_history(world):
    source = await future_cohort(world, capacity=5, name="Transfer source")
    target = await future_cohort(world, capacity=5, name="Transfer target")
    async with api(world) as client:
        moved = (await enroll_new(client, source.id, "Lou Mover")).json()["enrollment"]
        same = await client.post(f"/api/v1/enrollments/{moved['id']}/transfer", json={"to_cohort": source.id, "reason": "x"})
        assert same.status_code == 422
        done = await client.post(f"/api/v1/enrollments/{moved['id']}/transfer",
                                 json={"to_cohort": target.id, "reason": "evening times suit better", **consent_fields("2")})
        assert done.status_code == 200, done.text
        new = done.json()["enrollment"]
        old = (await client.get(f"/api/v1/enrollments/{moved['id']}")).json()
    assert new["cohort_id"] == target.id and new["status"] == "enrolled"
    assert new["transferred_from"] == moved["id"]
    assert old["status"] == "withdrawn"
    assert old["withdrawal_reason"] == "Transferred to Transfer target: evening times suit better"
    assert [(h["from"], h["to"]) for h in old["history"]] == [("", "enrolled"), ("enrolled", "withdrawn")]
    page = await (await world.client("coordinator")).get(f"/enrollments/{new['id']}")
    assert page.status_code == 200 and "transferred from Transfer source" in page.text
    old_page = await (await world.client("coordinator")).get(f"/enrollments/{moved['id']}")
    assert "Transferred to Transfer target: evening times suit better" in old_page.text


async def test_consent_records_time_and_agreement_version(world):
    cohort = await future_cohort(world, capacity=5)
    async with api(world) as client:
        e = (await enroll_new(client, cohort.id, "May Consent")).json()["enrollment"]
        future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
        refused = await client.post(f"/api/v1/enrollments/{e['id']}/consent", json={"consent_at": future})
        assert refused.status_code == 422
        no_method = await client.post(f"/api/v1/enrollments/{e['id']}/consent", json={"consent_at": "2026-01-05T10:30:00+00:00"})
        assert no_method.status_code == 422 and no_method.json()["fields"] == {"consent_method": "Required."}
        ok = await client.post(f"/api/v1/enrollments/{e['id']}/consent",
                               json={"consent_at": "2026-01-05T10:30:00+00:00", "consent_method": "phone", "version": "2025-11"})
    assert ok.status_code == 200, ok.text
    body = ok.json()["enrollment"]
    assert body["consent_at"].startswith("2026-01-05T10:30:00") and body["consent_version"] == "2025-11"
    assert body["consent_method"] == "phone" and body["consent_missing"] == []


# 400: not as the API document says; 422: as it says, but against an enrollment rule.
@pytest.mark.parametrize("payload,status", [
    ({"name": "No Email"}, 400),
    ({"name": "Bad Email", "email": "not-an-address"}, 422),
    ({"email": "nobody@example.org"}, 400),
    ({"name": "X", "email": "x@example.org", "status": "completed"}, 400),
    ({"member_id": "abc"}, 400),
    ({"member_id": 99999999}, 422),
])
async def test_bad_input_is_a_clear_4xx_and_writes_nothing(world, payload, status):
    cohort = await future_cohort(world, capacity=5)
    async with api(world) as client:
        response = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments", json=payload)
        not_json = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments", content=b"{nope",
                                     headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert not_json.status_code == 400
    assert await Enrollment.filter(cohort_id=cohort.id).count() == 0


async def test_staff_accounts_and_duplicates_are_refused(world):
    cohort = await future_cohort(world, capacity=5)
    async with api(world) as client:
        staff = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments",
                                  json={"name": "Fiona", "email": world.email("facilitator")})
        assert staff.status_code == 422
        body = {"member_id": world.users["other_member"].id, **consent_fields()}
        first = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments", json=body)
        again = await client.post(f"/api/v1/cohorts/{cohort.id}/enrollments", json=body)
    assert first.status_code == 201
    assert again.status_code == 409 and "already in" in again.json()["detail"]


async def test_two_coordinators_racing_for_the_last_place(world):
    second = await make_user(Role.COORDINATOR, "Cy Secondcoordinator")
    _, second_token = await accounts.create_api_token(second, "race")
    for attempt in range(5):
        cohort = await future_cohort(world, capacity=1, name=f"Race {attempt}")
        async with api(world) as one, bearer(world.base_url, second_token) as two:
            results = await asyncio.gather(
                enroll_new(one, cohort.id, f"Racer A{attempt}"),
                enroll_new(two, cohort.id, f"Racer B{attempt}"),
            )
        assert [r.status_code for r in results] == [201, 201], [r.text for r in results]
        statuses = sorted(r.json()["enrollment"]["status"] for r in results)
        assert statuses == ["enrolled", "waitlisted"]
        assert await Enrollment.filter(cohort_id=cohort.id, status=EnrollmentStatus.ENROLLED).count() == 1
        transitions = await EnrollmentTransition.filter(enrollment__cohort_id=cohort.id).count()
        assert transitions == 2


async def test_coordinator_pages_enroll_and_withdraw(world):
    cohort = await future_cohort(world, capacity=1, name="Page cohort")
    client = await world.client("coordinator")
    page = await client.get(f"/cohorts/{cohort.id}/enrollment")
    assert page.status_code == 200 and "0 of 1" in page.text
    done = await client.submit(f"/cohorts/{cohort.id}/enrollment", {"name": "Nia Page", "email": unique_email("page"), **page_consent()})
    assert done.status_code == 200 and "Nia Page is now enrolled" in done.text and "/invitations/" in done.text
    full = await client.submit(f"/cohorts/{cohort.id}/enrollment", {"name": "Oli Page", "email": unique_email("page"), **page_consent()})
    assert "is full (1 places), so Oli Page was added to the waitlist" in full.text
    bad = await client.submit(f"/cohorts/{cohort.id}/enrollment", {"name": "Pia", "email": "pia@"})
    assert bad.status_code == 400 and "is not an e-mail address" in bad.text
    nia = await Enrollment.get(cohort_id=cohort.id, member__display_name="Nia Page")
    withdrawn = await client.submit(f"/enrollments/{nia.id}/withdraw", {"reason": "changed her mind"})
    assert "Oli Page was promoted from the waitlist" in withdrawn.text
    dash = await client.get("/")
    assert dash.status_code == 200 and "Page cohort" in dash.text
    facilitator = await world.client("facilitator")
    roster = await facilitator.get(f"/cohorts/{cohort.id}/enrollment")
    assert roster.status_code == 200 and "Enroll someone" not in roster.text


async def test_same_new_person_enrolled_twice_at_once_never_errors(world):
    first = await future_cohort(world, capacity=5)
    second = await future_cohort(world, capacity=5)
    email = unique_email("twice")
    async with api(world) as one, api(world) as two:
        results = await asyncio.gather(
            one.post(f"/api/v1/cohorts/{first.id}/enrollments", json={"name": "Tess Twice", "email": email, **consent_fields()}),
            two.post(f"/api/v1/cohorts/{second.id}/enrollments", json={"name": "Tess Twice", "email": email, **consent_fields()}),
        )
    assert all(r.status_code in (201, 409) for r in results), [r.text for r in results]
    assert any(r.status_code == 201 for r in results)
    assert await User.filter(email=email).count() == 1


async def test_measures_follow_a_member_across_a_transfer(world):
    from models.clinical import MeasureResponse

    source = await future_cohort(world, capacity=5, name="Episode source")
    target = await future_cohort(world, capacity=5, name="Episode target")
    async with api(world) as client:
        moved = (await enroll_new(client, source.id, "Vera Episode")).json()["enrollment"]
        await MeasureResponse.create(enrollment_id=moved["id"], instrument="phq9", items=[2] * 8 + [0], total=16,
                                     band="moderately_severe", item9=0, window="baseline",
                                     administered_at=datetime.now(timezone.utc) - timedelta(days=1))
        new = (await client.post(f"/api/v1/enrollments/{moved['id']}/transfer",
                                 json={"to_cohort": target.id, "reason": "time clash", **consent_fields()})).json()["enrollment"]
    async with api(world, "coordinator") as client:
        listing = (await client.get(f"/api/v1/enrollments/{new['id']}/measures")).json()
    assert [r["total"] for r in listing["responses"]] == [16]
    assert listing["change_from_baseline"]["phq9"]["baseline"] == 16


async def test_status_path_from_invited_to_completed(world):
    cohort = await future_cohort(world, capacity=1)
    async with api(world) as client:
        e = (await enroll_new(client, cohort.id, "Wes Path", status="invited")).json()["enrollment"]
        assert e["status"] == "invited"
        url = f"/api/v1/enrollments/{e['id']}/status"
        assert (await client.post(url, json={"status": "screening"})).json()["enrollment"]["status"] == "screening"
        assert (await client.post(url, json={"status": "bogus"})).status_code == 400
        assert (await client.post(url, json={"status": "completed"})).status_code == 409
        assert (await client.post(url, json={"status": "enrolled"})).json()["enrollment"]["status"] == "enrolled"
        assert (await client.post(url, json={"status": "completed"})).json()["enrollment"]["status"] == "completed"
        done = await client.post(url, json={"status": "enrolled", "reason": "again"})
        assert done.status_code == 409 and "cannot become enrolled" in done.json()["detail"]
        # A withdrawn member comes back only with a reason.
        other = (await enroll_new(client, cohort.id, "Xia Back", status="screening")).json()["enrollment"]
        await client.post(f"/api/v1/enrollments/{other['id']}/withdraw", json={"reason": "not now"})
        url = f"/api/v1/enrollments/{other['id']}/status"
        assert (await client.post(url, json={"status": "screening"})).status_code == 422
        back = await client.post(url, json={"status": "screening", "reason": "ready now"})
        assert back.status_code == 200 and back.json()["enrollment"]["status"] == "screening"
        # Completed members do not hold places, so the one place is free again.
        full = await client.post(url, json={"status": "enrolled"})
        assert full.json()["enrollment"]["status"] == "enrolled"


async def test_dashboard_figures(world):
    from models.board import Attendance, AttendanceStatus
    from models.clinical import SafetyItem
    from server.dashboard import cohort_overview

    start = (datetime.now(timezone.utc) - timedelta(days=14)).date()
    cohort, meetings = await make_cohort(world.template, f"Dash {uuid.uuid4().hex[:4]}", world.users["facilitator"],
                                         start=start, capacity=6)
    members = [await make_user(Role.MEMBER, f"Dash {n}") for n in range(3)]
    enrollments = [await Enrollment.create(cohort=cohort, member=m, status=s) for m, s in
                   zip(members, [EnrollmentStatus.ENROLLED, EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED])]
    statuses = [AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.ABSENT_UNNOTIFIED, AttendanceStatus.PRESENT]
    for meeting in meetings[:2]:
        for e in enrollments[:2]:
            await Attendance.create(meeting=meeting, enrollment=e, status=statuses.pop(0))
    await SafetyItem.create(enrollment=enrollments[0], item9=1)
    loaded = await type(cohort).filter(id=cohort.id).prefetch_related("template")
    overview = (await cohort_overview(world.users["coordinator"], loaded))[cohort.id]
    assert (overview.enrolled, overview.waitlisted, overview.capacity) == (2, 1, 6)
    assert overview.attendance == "75%"
    assert overview.open_safety_items == 1
    now = datetime.now(timezone.utc)
    assert overview.next_meeting_at == next(m.starts_at for m in meetings if m.ends_at > now)
    assert any("below the minimum of 4" in w for w in overview.warnings)
    page = await (await world.client("coordinator")).get("/")
    row = page.text[page.text.index(f'data-cohort="{cohort.id}"'):]
    row = row[: row.index("</tr>")]
    assert "2 / 6" in row and "75%" in row and "1 open" in row
