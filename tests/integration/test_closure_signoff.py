"""Supervisor sign-off of closure summaries (issue 17), over a real server and real clients,
on SQLite and PostgreSQL: every step, every refusal (which changes nothing), two clicks at
once, the sign-off log and the audit log, the pages and the cohort and template settings.
"""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from models.accounts import AuditEvent, Role, User
from models.closure import ClosureSummary, SignoffEvent, SummaryStatus
from models.cohorts import Cohort, Enrollment, ProtocolTemplate
from models.supervision import Supervision
from server import accounts
from server.closure import signoff
from server.closure.signoff_rules import content_hash
from tests.integration.schedule_support import future_weekday
from tests.support.clients import bearer, logged_in
from tests.support.world import PASSWORD, enroll, make_cohort, make_template, make_user

pytestmark = pytest.mark.asyncio(loop_scope="session")

NARRATIVE = {
    "warning_signs": "Staying in bed past noon; not answering my sister's calls.",
    "who_to_tell": "My sister and my GP.",
    "relapse_strategies": "Walk every morning; say what I need before I am angry.",
    "next_step_kind": "maintenance",
}
COMMENT = "Section 8: say which supports she will call first.\nSection 7: add one early sign."


@dataclass
class Clinic:
    base_url: str
    facilitator: User
    supervisor: User
    member: User
    cohort: Cohort
    enrollment: Enrollment
    tokens: dict[str, str]
    summary_id: int = 0

    async def api(self, who: str, method: str, path: str, json: dict | None = None):
        async with bearer(self.base_url, self.tokens[who]) as client:
            return await client.request(method, path, json=json)


async def _token(user: User) -> str:
    _, secret = await accounts.create_api_token(user, "tests")
    return secret


async def clinic(live_server, *, template_requires: bool = True, cohort_requires: bool | None = None,
                 written: bool = True) -> Clinic:
    """A cohort past its last session whose template (or itself) requires sign-off, a
    supervisor of its facilitator, and the member's summary drafted and written."""
    tag = uuid.uuid4().hex[:4]
    facilitator = await make_user(Role.FACILITATOR, f"Fola Adeyemi {tag}")
    supervisor = await make_user(Role.FACILITATOR, f"Sade Okonjo {tag}")
    member = await make_user(Role.MEMBER, f"Kemi Balogun {tag}")
    await Supervision.create(supervisor=supervisor, facilitator=facilitator)
    template = await make_template()
    await ProtocolTemplate.filter(id=template.id).update(requires_signoff=template_requires)
    start = (datetime.now(timezone.utc) - timedelta(days=7 * 8 + 2)).date()
    cohort, _ = await make_cohort(template, f"Sign-off group {tag}", facilitator, start=start)
    await Cohort.filter(id=cohort.id).update(requires_signoff=cohort_requires)
    enrollment = await enroll(cohort, member)
    place = Clinic(live_server.url, facilitator, supervisor, member, cohort, enrollment, tokens={
        "facilitator": await _token(facilitator), "supervisor": await _token(supervisor), "member": await _token(member),
    })
    drafted = await place.api("facilitator", "POST", f"/api/v1/enrollments/{enrollment.id}/summaries")
    assert drafted.status_code == 201, drafted.text
    place.summary_id = drafted.json()["id"]
    if written:
        edited = await place.api("facilitator", "PATCH", f"/api/v1/summaries/{place.summary_id}", NARRATIVE)
        assert edited.status_code == 200, edited.text
    return place


async def snapshot(summary_id: int) -> tuple:
    """Everything a refused step must leave as it was."""
    row = await ClosureSummary.get(id=summary_id)
    return (
        row.status, row.submitted_hash, content_hash(row.content), row.finalized_at, row.updated_at,
        await SignoffEvent.filter(summary_id=summary_id).count(),
        await AuditEvent.filter(subject="closure_summary", subject_id=str(summary_id), action="change").count(),
    )


async def steps(summary_id: int) -> list[str]:
    return [str(e.action) for e in await SignoffEvent.filter(summary_id=summary_id).order_by("at", "id")]


async def test_the_round_trip_submit_return_resubmit_approve_finalize(live_server, db):
    place = await clinic(live_server)
    sid = place.summary_id

    submitted = await place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/submit")
    assert submitted.status_code == 200, submitted.text
    body = submitted.json()
    assert body["status"] == "awaiting_signoff" and body["signoff"]["required"] is True
    first_hash = body["signoff"]["submitted_hash"]
    assert first_hash == content_hash((await ClosureSummary.get(id=sid)).content)

    listed = await place.api("supervisor", "GET", "/api/v1/supervision/sign-off")
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [sid]
    assert listed.json()["items"][0]["submitted_by"] == place.facilitator.display_name
    assert (await place.api("member", "GET", f"/api/v1/summaries/{sid}")).status_code == 404

    returned = await place.api("supervisor", "POST", f"/api/v1/summaries/{sid}/return",
                               {"comment": COMMENT, "content_hash": first_hash})
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"
    seen = (await place.api("facilitator", "GET", f"/api/v1/summaries/{sid}")).json()
    assert seen["signoff"]["events"][-1]["comment"] == COMMENT
    assert seen["signoff"]["events"][-1]["by"] == place.supervisor.display_name
    assert (await place.api("supervisor", "GET", "/api/v1/supervision/sign-off")).json()["items"] == []

    edited = await place.api("facilitator", "PATCH", f"/api/v1/summaries/{sid}",
                             {"relapse_supports": "My sister first, then the walking group."})
    assert edited.status_code == 200 and edited.json()["status"] == "returned"
    again = await place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/submit")
    assert again.status_code == 200, again.text
    second_hash = again.json()["signoff"]["submitted_hash"]
    assert second_hash != first_hash

    stale = await place.api("supervisor", "POST", f"/api/v1/summaries/{sid}/approve", {"content_hash": first_hash})
    assert stale.status_code == 409 and stale.json()["code"] == "changed"
    approved = await place.api("supervisor", "POST", f"/api/v1/summaries/{sid}/approve", {"content_hash": second_hash})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert (await place.api("member", "GET", f"/api/v1/summaries/{sid}")).status_code == 404

    finalized = await place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/finalize")
    assert finalized.status_code == 200, finalized.text
    assert finalized.json()["status"] == "finalized"
    mine = await place.api("member", "GET", f"/api/v1/summaries/{sid}")
    assert mine.status_code == 200 and "signoff" not in mine.json()
    assert COMMENT not in mine.text

    assert await steps(sid) == ["submitted", "returned", "submitted", "approved", "finalized"]
    events = await SignoffEvent.filter(summary_id=sid).order_by("at", "id")
    assert [e.content_hash for e in events] == [first_hash, first_hash, second_hash, second_hash, second_hash]
    assert {e.version for e in events} == {1}
    details = await AuditEvent.filter(subject="closure_summary", subject_id=str(sid), action="change").order_by(
        "id").values_list("detail", flat=True)
    assert [d for d in details if d.startswith("sign-off")] == [
        "sign-off: submitted version 1", f"sign-off: returned version 1 ({len(COMMENT)}-character comment)",
        "sign-off: submitted version 1", "sign-off: approved version 1",
    ]
    assert details[-1] == "finalized version 1 after sign-off"


async def test_finalizing_before_approval_is_refused_and_changes_nothing(live_server, db):
    place = await clinic(live_server)
    sid = place.summary_id
    for stage in ("draft", "awaiting_signoff", "returned"):
        before = await snapshot(sid)
        refused = await place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/finalize")
        assert refused.status_code == 409, (stage, refused.text)
        assert refused.json()["code"] == "signoff_required"
        assert "sign-off" in refused.json()["detail"]
        assert await snapshot(sid) == before, stage
        page = await (await logged_in(live_server.url, place.facilitator.email, PASSWORD)).submit(
            f"/summaries/{sid}/finalize")
        assert page.status_code == 409 and "sign-off" in page.text
        assert await snapshot(sid) == before, stage
        if stage == "draft":
            assert (await place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/submit")).status_code == 200
        elif stage == "awaiting_signoff":
            digest = (await ClosureSummary.get(id=sid)).submitted_hash
            answer = await place.api("supervisor", "POST", f"/api/v1/summaries/{sid}/return",
                                     {"comment": COMMENT, "content_hash": digest})
            assert answer.status_code == 200
    assert (await ClosureSummary.get(id=sid)).finalized_at is None


async def test_a_version_awaiting_sign_off_or_approved_cannot_change(live_server, db):
    place = await clinic(live_server)
    sid = place.summary_id
    assert (await place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/submit")).status_code == 200
    client = await logged_in(live_server.url, place.facilitator.email, PASSWORD)
    for stage in ("awaiting_signoff", "approved"):
        before = await snapshot(sid)
        patch = await place.api("facilitator", "PATCH", f"/api/v1/summaries/{sid}", {"warning_signs": "Changed."})
        assert patch.status_code == 409 and "withdraw" in patch.json()["detail"].lower(), patch.text
        form = await client.submit(f"/summaries/{sid}/edit", {"warning_signs": "Changed.", "then": "save"})
        assert form.status_code == 409
        redraft = await client.submit(f"/summaries/{sid}/redraft")
        assert redraft.status_code == 409
        editor = await client.get(f"/summaries/{sid}/edit", follow_redirects=False)
        assert editor.status_code == 303 and editor.headers["location"] == f"/summaries/{sid}"
        assert await snapshot(sid) == before, stage
        if stage == "awaiting_signoff":
            digest = (await ClosureSummary.get(id=sid)).submitted_hash
            assert (await place.api("supervisor", "POST", f"/api/v1/summaries/{sid}/approve",
                                    {"content_hash": digest})).status_code == 200

    withdrawn = await place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "draft"
    assert (await place.api("facilitator", "PATCH", f"/api/v1/summaries/{sid}",
                            {"warning_signs": "Changed."})).status_code == 200
    # The approval went with the withdrawal: the new text needs sign-off again.
    refused = await place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/finalize")
    assert refused.status_code == 409 and refused.json()["code"] == "signoff_required"
    assert await steps(sid) == ["submitted", "approved", "withdrawn"]


async def test_who_may_sign_off_and_every_refusal_changes_nothing(live_server, db, world):
    place = await clinic(live_server)
    sid = place.summary_id
    before = await snapshot(sid)
    digest = content_hash((await ClosureSummary.get(id=sid)).content)
    # Nothing to sign off before it is submitted.
    early = await place.api("supervisor", "POST", f"/api/v1/summaries/{sid}/approve", {"content_hash": digest})
    assert early.status_code == 409 and early.json()["code"] == "not_awaiting"
    assert await snapshot(sid) == before

    assert (await place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/submit")).status_code == 200
    twice = await place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/submit")
    assert twice.status_code == 409
    before = await snapshot(sid)
    digest = before[1]

    async def refused(who_token: str, path: str, body: dict, status: int) -> None:
        async with bearer(live_server.url, who_token) as client:
            answer = await client.post(path, json=body)
        assert answer.status_code == status, (path, answer.text)
        assert await snapshot(sid) == before

    approve, give_back = f"/api/v1/summaries/{sid}/approve", f"/api/v1/summaries/{sid}/return"
    # The facilitator who wrote it, a facilitator of another cohort, a coordinator who is no clinician.
    await refused(place.tokens["facilitator"], approve, {"content_hash": digest}, 403)
    await refused(world.tokens["other_facilitator"], approve, {"content_hash": digest}, 403)
    await refused(world.tokens["coordinator"], approve, {"content_hash": digest}, 403)
    await refused(world.tokens["supervisor"], give_back, {"comment": COMMENT, "content_hash": digest}, 403)
    await refused(place.tokens["member"], approve, {"content_hash": digest}, 403)
    # A return needs a comment; a hash must be one.
    await refused(place.tokens["supervisor"], give_back, {"comment": "", "content_hash": digest}, 400)
    await refused(place.tokens["supervisor"], give_back, {"comment": "   ", "content_hash": digest}, 422)
    await refused(place.tokens["supervisor"], give_back, {"comment": "x" * 2001, "content_hash": digest}, 400)
    await refused(place.tokens["supervisor"], approve, {"content_hash": "not-a-hash"}, 400)
    await refused(place.tokens["supervisor"], approve, {}, 400)
    await refused(place.tokens["supervisor"], approve, {"content_hash": "0" * 64}, 409)
    page = await (await logged_in(live_server.url, place.supervisor.email, PASSWORD)).submit(
        f"/summaries/{sid}/return", {"comment": "", "content_hash": digest})
    assert page.status_code == 400 and 'id="comment-error"' in page.text
    assert await snapshot(sid) == before

    # A coordinator who is a clinician (the clinical lead) may sign off any cohort's summaries.
    lead = await make_user(Role.COORDINATOR, "Lena Clinicallead")
    await User.filter(id=lead.id).update(clinician=True)
    async with bearer(live_server.url, await _token(lead)) as client:
        listed = await client.get("/api/v1/supervision/sign-off")
        assert sid in [item["id"] for item in listed.json()["items"]]
        assert (await client.post(approve, json={"content_hash": digest})).status_code == 200
    assert (await ClosureSummary.get(id=sid)).status == SummaryStatus.APPROVED


async def test_nobody_signs_off_a_version_they_submitted(live_server, db):
    place = await clinic(live_server)
    # The supervisor also co-facilitates this cohort, and submits the summary themself.
    await place.cohort.facilitators.add(place.supervisor)
    sid = place.summary_id
    assert (await place.api("supervisor", "POST", f"/api/v1/summaries/{sid}/submit")).status_code == 200
    before = await snapshot(sid)
    answer = await place.api("supervisor", "POST", f"/api/v1/summaries/{sid}/approve", {"content_hash": before[1]})
    assert answer.status_code == 403 and "another clinician" in answer.json()["detail"]
    assert await snapshot(sid) == before
    assert (await place.api("supervisor", "GET", "/api/v1/supervision/sign-off")).json()["items"] == []


async def test_two_sign_offs_at_once_only_one_wins(live_server, db):
    place = await clinic(live_server)
    second = await make_user(Role.FACILITATOR, "Tunde Secondsupervisor")
    await Supervision.create(supervisor=second, facilitator=place.facilitator)
    place.tokens["second"] = await _token(second)
    sid = place.summary_id
    for rival in ("approve", "return"):
        assert (await place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/submit")).status_code == 200
        digest = (await ClosureSummary.get(id=sid)).submitted_hash
        answers = await asyncio.gather(
            place.api("supervisor", "POST", f"/api/v1/summaries/{sid}/approve", {"content_hash": digest}),
            place.api("second", "POST", f"/api/v1/summaries/{sid}/{rival}", {"content_hash": digest}
                      | ({"comment": COMMENT} if rival == "return" else {})),
        )
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        winner = next(a for a in answers if a.status_code == 200).json()["status"]
        assert (await ClosureSummary.get(id=sid)).status == winner
        reviews = [s for s in await steps(sid) if s in ("approved", "returned")]
        assert len(reviews) == (1 if rival == "approve" else 2)
        if winner == "approved":
            assert (await place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/withdraw")).status_code == 200
    # Two submits at once: one.
    answers = await asyncio.gather(*(place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/submit") for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert (await steps(sid)).count("submitted") == 3


async def test_the_cohort_decides_over_its_template(live_server, db):
    # The template requires sign-off; this cohort says no: finalize straight from the draft.
    place = await clinic(live_server, template_requires=True, cohort_requires=False)
    sid = place.summary_id
    before = await snapshot(sid)
    answer = await place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/submit")
    assert answer.status_code == 409 and "does not require" in answer.json()["detail"]
    assert await snapshot(sid) == before
    assert (await place.api("facilitator", "POST", f"/api/v1/summaries/{sid}/finalize")).status_code == 200
    assert await steps(sid) == []
    # The template does not; this cohort does.
    strict = await clinic(live_server, template_requires=False, cohort_requires=True)
    refused = await strict.api("facilitator", "POST", f"/api/v1/summaries/{strict.summary_id}/finalize")
    assert refused.status_code == 409 and refused.json()["code"] == "signoff_required"


async def test_submitting_an_unfinished_summary_says_what_is_missing(live_server, db):
    place = await clinic(live_server, written=False)
    before = await snapshot(place.summary_id)
    answer = await place.api("facilitator", "POST", f"/api/v1/summaries/{place.summary_id}/submit")
    assert answer.status_code == 422 and "Section 7" in answer.text
    assert await snapshot(place.summary_id) == before


async def test_awaiting_signoff_lists_only_the_supervised_cohorts_with_rows_loaded(live_server, db, world):
    mine = await clinic(live_server)
    theirs = await clinic(live_server)
    for place in (mine, theirs):
        assert (await place.api("facilitator", "POST", f"/api/v1/summaries/{place.summary_id}/submit")).status_code == 200
    rows = await signoff.awaiting_signoff(mine.supervisor)
    assert [r.id for r in rows] == [mine.summary_id]
    # Loaded with the row: reading them runs no query (Tortoise would raise on an unfetched relation).
    assert rows[0].enrollment.member.display_name == mine.member.display_name
    assert rows[0].enrollment.cohort.name == mine.cohort.name
    assert await signoff.awaiting_signoff(world.users["member"]) == []
    assert await signoff.awaiting_signoff(world.users["other_facilitator"]) == []


async def test_the_pages_show_status_comments_and_the_right_buttons(live_server, db):
    place = await clinic(live_server)
    sid = place.summary_id
    facilitator = await logged_in(live_server.url, place.facilitator.email, PASSWORD)
    supervisor = await logged_in(live_server.url, place.supervisor.email, PASSWORD)

    editor = await facilitator.get(f"/summaries/{sid}/edit")
    assert "Save and submit for sign-off" in editor.text and "Save and finalize" not in editor.text
    sent = await facilitator.submit(f"/summaries/{sid}/edit", {**NARRATIVE, "then": "submit"}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == f"/summaries/{sid}?done=submitted"
    view = await facilitator.get(f"/summaries/{sid}")
    assert "Awaiting sign-off" in view.text and "Withdraw from sign-off" in view.text
    assert 'action="/summaries/%d/approve"' % sid not in view.text

    listed = await supervisor.get("/supervision/sign-off")
    assert listed.status_code == 200 and place.member.display_name in listed.text
    assert f'href="/summaries/{sid}"' in listed.text
    read = await supervisor.get(f"/summaries/{sid}")
    assert read.status_code == 200 and 'action="/summaries/%d/approve"' % sid in read.text
    assert "Edit the draft" not in read.text and "Withdraw" not in read.text
    assert (await supervisor.get(f"/summaries/{sid}/edit")).status_code == 403
    digest = (await ClosureSummary.get(id=sid)).submitted_hash
    back = await supervisor.submit(f"/summaries/{sid}/return", {"comment": COMMENT, "content_hash": digest},
                                   follow_redirects=False)
    assert back.status_code == 303

    editor = await facilitator.get(f"/summaries/{sid}/edit")
    assert 'id="return-comment"' in editor.text and "Section 8: say which supports" in editor.text
    assert "Save and submit for sign-off again" in editor.text
    history = await facilitator.get(f"/enrollments/{place.enrollment.id}/summary/history")
    assert "Returned for changes" in history.text and "Section 8: say which supports" in history.text
    overview = await facilitator.get(f"/cohorts/{place.cohort.id}/summaries")
    assert "Returned for changes, version 1" in overview.text


async def test_the_cohort_and_template_forms_set_the_requirement(live_server, db, world):
    client = await world.client("coordinator")
    base = {"name": f"Signed {uuid.uuid4().hex[:4]}", "pre_group_meetings": "1", "group_sessions": "8",
            "session_minutes": "90", "individual_minutes": "50", "cadence_days": "7", "initial_sessions": "1",
            "termination_sessions": "1", "group_size_min": "4", "group_size_target_low": "6",
            "group_size_target_high": "9", "group_size_max": "12", "facilitator_count": "1", "label_style": "lay"}
    made = await client.submit("/templates/new", base | {"requires_signoff": "1"}, follow_redirects=False)
    assert made.status_code == 303, made.text
    template_id = int(made.headers["location"].rsplit("/", 1)[1])
    assert (await ProtocolTemplate.get(id=template_id)).requires_signoff is True
    form = await client.get(f"/templates/{template_id}/edit")
    assert 'name="requires_signoff" value="1" checked' in form.text
    assert (await client.submit(f"/templates/{template_id}/edit", base, follow_redirects=False)).status_code == 303
    assert (await ProtocolTemplate.get(id=template_id)).requires_signoff is False

    lead = await make_user(Role.FACILITATOR, "Ife Formlead")
    fields = {"name": f"Form cohort {uuid.uuid4().hex[:4]}", "template": str(template_id), "time_zone": "Europe/London",
              "start_date": future_weekday(70, 2).isoformat(), "start_time": "18:00", "capacity": "8",
              "facilitators": str(lead.id), "action": "save"}
    bad = await client.submit("/cohorts/new", fields | {"requires_signoff": "perhaps"})
    assert bad.status_code == 400 and not await Cohort.filter(name=fields["name"]).exists()
    created = await client.submit("/cohorts/new", fields | {"requires_signoff": "yes"}, follow_redirects=False)
    assert created.status_code == 303, created.text
    cohort = await Cohort.get(name=fields["name"]).select_related("template")
    assert cohort.requires_signoff is True and signoff.requires_signoff(cohort)
    edit = await client.get(f"/cohorts/{cohort.id}/edit")
    assert '<option value="yes" selected>' in edit.text
    saved = await client.submit(f"/cohorts/{cohort.id}/edit", fields | {"requires_signoff": ""}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    cohort = await Cohort.get(id=cohort.id).select_related("template")
    assert cohort.requires_signoff is None and not signoff.requires_signoff(cohort)  # the template now says no


async def test_a_coordinator_sets_the_requirement_of_an_active_cohort_on_its_summaries_page(live_server, db, world):
    place = await clinic(live_server, template_requires=False)
    client = await world.client("coordinator")
    page = await client.get(f"/cohorts/{place.cohort.id}/summaries")
    assert "finalized without a supervisor's sign-off" in page.text
    bad = await client.submit(f"/cohorts/{place.cohort.id}/summaries/signoff", {"requires_signoff": "maybe"})
    assert bad.status_code == 400 and (await Cohort.get(id=place.cohort.id)).requires_signoff is None
    saved = await client.submit(f"/cohorts/{place.cohort.id}/summaries/signoff", {"requires_signoff": "yes"},
                                follow_redirects=False)
    assert saved.status_code == 303
    assert (await Cohort.get(id=place.cohort.id)).requires_signoff is True
    page = await client.get(saved.headers["location"])
    assert "A supervisor signs off each summary" in page.text and '<option value="yes" selected>' in page.text
    assert await AuditEvent.filter(subject="cohort", subject_id=str(place.cohort.id),
                                   detail="closure summaries need sign-off: yes").exists()
    refused = await place.api("facilitator", "POST", f"/api/v1/summaries/{place.summary_id}/finalize")
    assert refused.status_code == 409 and refused.json()["code"] == "signoff_required"
    facilitator = await logged_in(live_server.url, place.facilitator.email, PASSWORD)
    assert (await facilitator.submit(f"/cohorts/{place.cohort.id}/summaries/signoff",
                                     {"requires_signoff": "no"})).status_code == 403
    assert (await Cohort.get(id=place.cohort.id)).requires_signoff is True
