"""A member's own record (issue 19): a ZIP of JSON and PDFs from the portal and the API,
or produced by a coordinator (audited), holding only that member's data."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import uuid
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from models.accounts import AuditEvent
from models.board import Attendance, AttendanceStatus
from models.clinical import Goal, GoalProgress, MeasureResponse
from models.closure import ClosureSummary, SummaryStatus
from models.cohorts import Meeting, MeetingKind, MeetingStatus
from server import accounts, clock
from server.closure import RecordFacts, draft_summary
from tests.support.clients import bearer, logged_in
from tests.support.world import PASSWORD, enroll, make_cohort, make_template, make_user

JSON_FILES = {"account.json", "groups.json", "meetings.json", "attendance.json", "goals.json", "measures.json",
              "closure_summaries.json"}


async def individual_meeting(cohort, enrollment, facilitator) -> Meeting:
    starts = datetime.now(timezone.utc) - timedelta(days=28)
    return await Meeting.create(cohort=cohort, kind=MeetingKind.PREGROUP, number=1, phase="initial",
                                enrollment=enrollment, facilitator=facilitator, starts_at=starts,
                                ends_at=starts + timedelta(minutes=45), status=MeetingStatus.COMPLETED,
                                uid=str(uuid.uuid4()), revised_at=clock.now())


@pytest.fixture
async def clinic(db, live_server):
    """A cohort with two members, each with a full record; the first shares a group with Bea Okafor."""
    facilitator = await make_user("facilitator", "Fay Lead")
    coordinator = await make_user("coordinator", "Cole Export")
    cohort, meetings = await make_cohort(await make_template(), "Depression group Tuesday", facilitator)
    mina = await make_user("member", "Mina Export")
    bea = await make_user("member", "Bea Okafor")
    own, other = await enroll(cohort, mina), await enroll(cohort, bea)
    records = {}
    for enrollment, words in ((own, "Ask my sister for help"), (other, "Bea's private goal about her husband")):
        goal = await Goal.create(cohort=cohort, enrollment=enrollment, text=words)
        await GoalProgress.create(goal=goal, meeting=meetings[1], rating=2,
                                  note="Talked it over with Bea Okafor after the session" if enrollment is own
                                  else "Bea spoke about her husband")
        await MeasureResponse.create(enrollment=enrollment, instrument="phq9", items=[1, 2, 1, 0, 1, 2, 1, 0, 0],
                                     total=8 if enrollment is own else 23, band="mild" if enrollment is own else "moderately severe",
                                     item9=0, window="baseline", administered_at=meetings[0].starts_at)
        await Attendance.create(meeting=meetings[0], enrollment=enrollment, status=AttendanceStatus.PRESENT,
                                reason="facilitator's note: seemed tired")
        records[enrollment.id] = await individual_meeting(cohort, enrollment, facilitator)
    content = draft_summary(RecordFacts(cohort_title=cohort.public_title, n_group_sessions=8,
                                        start_date=cohort.start_date, end_date=None)).to_json()
    await ClosureSummary.create(enrollment=own, version=1, status=SummaryStatus.FINALIZED, content=content,
                                created_by=facilitator, finalized_by=facilitator, finalized_at=clock.now())
    await ClosureSummary.create(enrollment=own, version=2, status=SummaryStatus.DRAFT, content=content,
                                created_by=facilitator)
    return {"cohort": cohort, "mina": mina, "bea": bea, "own": own, "other": other, "facilitator": facilitator,
            "coordinator": coordinator, "own_meeting": records[own.id], "other_meeting": records[other.id],
            "token": (await accounts.create_api_token(mina, "export"))[1],
            "coordinator_token": (await accounts.create_api_token(coordinator, "export"))[1],
            "facilitator_token": (await accounts.create_api_token(facilitator, "export"))[1]}


def unzip(response) -> dict[str, bytes]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "no-store" in response.headers["cache-control"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def pdf_text(pdf: bytes) -> str:
    return subprocess.run([shutil.which("pdftotext") or "pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


async def test_the_portal_download_holds_the_members_whole_record_and_nobody_elses(live_server, clinic):
    client = await logged_in(live_server.url, clinic["mina"].email, PASSWORD)
    try:
        portal = await client.get("/portal")
        assert 'href="/portal/record.zip"' in portal.text
        files = unzip(await client.get("/portal/record.zip"))
    finally:
        await client.aclose()
    assert JSON_FILES | {"README.txt"} <= set(files)
    data = {name: json.loads(files[name]) for name in JSON_FILES}
    assert data["account.json"]["email"] == clinic["mina"].email
    assert [g["goal"] for g in data["goals.json"]] == ["Ask my sister for help"]
    assert data["goals.json"][0]["progress"][0]["note"] == "Talked it over with B.O. after the session"
    assert [m["total"] for m in data["measures.json"]] == [8]
    assert data["measures.json"][0]["items"] == [1, 2, 1, 0, 1, 2, 1, 0, 0]
    assert [a["status"] for a in data["attendance.json"]] == ["present"]
    uids = {m["calendar_uid"] for m in data["meetings.json"]}
    assert clinic["own_meeting"].uid in uids and clinic["other_meeting"].uid not in uids
    assert sum(m["kind"] == "group" for m in data["meetings.json"]) == 8
    assert [s["version"] for s in data["closure_summaries.json"]] == [1]  # finalized only, never the draft
    assert "safety" not in data["closure_summaries.json"][0]["summary"]  # section 10 is the facilitators'
    pdfs = [name for name in files if name.startswith("summaries/")]
    assert pdfs == [data["closure_summaries.json"][0]["pdf"]] and files[pdfs[0]].startswith(b"%PDF")
    assert "Closure summary" in pdf_text(files[pdfs[0]]) or "closure summary" in pdf_text(files[pdfs[0]]).lower()

    everything = "\n".join(files[name].decode() for name in files if not name.endswith(".pdf"))
    everything += "\n".join(pdf_text(files[name]) for name in pdfs)
    for secret in ("Okafor", "Bea", "husband", "\"total\": 23", "moderately severe", "seemed tired", "Depression group",
                   clinic["bea"].email):
        assert secret not in everything, secret

    audited = await AuditEvent.filter(subject="member_record", member_id=clinic["mina"].id).order_by("-id").first()
    assert audited is not None and audited.actor_id == clinic["mina"].id and audited.action == "read"


async def test_the_api_export_is_the_members_own_and_staff_are_refused(live_server, clinic):
    async with bearer(live_server.url, clinic["token"]) as api:
        files = unzip(await api.get("/api/v1/me/export"))
    assert JSON_FILES <= set(files)
    assert json.loads(files["account.json"])["email"] == clinic["mina"].email
    async with bearer(live_server.url, clinic["facilitator_token"]) as api:
        refused = await api.get("/api/v1/me/export")
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"


async def test_a_coordinator_produces_the_same_record_for_a_member_and_it_is_audited(live_server, clinic):
    async with bearer(live_server.url, clinic["token"]) as api:
        own = unzip(await api.get("/api/v1/me/export"))
    async with bearer(live_server.url, clinic["coordinator_token"]) as api:
        produced = unzip(await api.get(f"/api/v1/users/{clinic['mina'].id}/export"))
        not_a_member = await api.get(f"/api/v1/users/{clinic['facilitator'].id}/export")
        nobody = await api.get("/api/v1/users/2147483647/export")
    assert set(produced) == set(own)
    for name in JSON_FILES:
        assert json.loads(produced[name]) == json.loads(own[name]), name
    assert not_a_member.status_code == 404 and nobody.status_code == 404
    audited = await AuditEvent.filter(subject="member_record", member_id=clinic["mina"].id,
                                      actor_id=clinic["coordinator"].id).first()
    assert audited is not None and "coordinator" in audited.detail

    page = await logged_in(live_server.url, clinic["coordinator"].email, PASSWORD)
    try:
        files = unzip(await page.get(f"/people/{clinic['mina'].id}/record.zip"))
    finally:
        await page.aclose()
    assert json.loads(files["goals.json"]) == json.loads(own["goals.json"])


async def test_a_coordinators_export_asks_for_the_password_again_after_five_minutes(live_server, clinic):
    from models.accounts import SignInSession

    mina = clinic["mina"]
    page = await logged_in(live_server.url, clinic["coordinator"].email, PASSWORD)
    try:
        await SignInSession.filter(user=clinic["coordinator"]).update(
            authenticated_at=clock.now() - timedelta(minutes=6))
        stale = await page.get(f"/people/{mina.id}/record.zip")
        assert stale.status_code == 303 and stale.headers["location"] == f"/people/{mina.id}/record"
        form = await page.get(f"/people/{mina.id}/record")
        assert 'name="proof"' in form.text and f'action="/people/{mina.id}/record.zip"' in form.text
        api_by_cookie = await page.get(f"/api/v1/users/{mina.id}/export")
        assert api_by_cookie.status_code == 400 and api_by_cookie.json()["code"] == "reauthentication_required"
        before = await AuditEvent.filter(subject="member_record", member_id=mina.id, action="read").count()
        no_proof = await page.submit(f"/people/{mina.id}/record.zip", {})
        wrong = await page.submit(f"/people/{mina.id}/record.zip", {"proof": "not my password"})
        assert no_proof.status_code == 400 and "confirm it is you" in no_proof.text
        assert wrong.status_code in (400, 403) and wrong.headers["content-type"].startswith("text/html")
        assert await AuditEvent.filter(subject="member_record", member_id=mina.id, action="read").count() == before
        files = unzip(await page.submit(f"/people/{mina.id}/record.zip", {"proof": PASSWORD}))
        assert json.loads(files["account.json"])["email"] == mina.email
        # Proven a moment ago: the plain link downloads again without asking.
        assert unzip(await page.get(f"/people/{mina.id}/record.zip"))
    finally:
        await page.aclose()
    # A program's API token was made with a fresh second factor; it is not asked.
    async with bearer(live_server.url, clinic["coordinator_token"]) as api:
        assert unzip(await api.get(f"/api/v1/users/{mina.id}/export"))
