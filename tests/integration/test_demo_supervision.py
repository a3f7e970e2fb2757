"""Issue 17's check, with the demo: the supervisor signs in and sees an agenda with the demo's
flags, returns the summary awaiting sign-off with a comment and then approves it; the
facilitator cannot finalize before approval; the programme CSV has no names and suppresses
groups under 5. On each database the tests run against."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from tests.conftest import BACKENDS, POSTGRES_URL
from tests.support.clients import bearer, logged_in
from tests.support.server import ROOT, LiveServer, fresh_database

COMMENT = "Section 7: say which early signs the member named herself, in her words."


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request, tmp_path_factory):
    var = tmp_path_factory.mktemp(f"demo-supervision-{request.param}")
    database_url, drop = fresh_database(request.param, var, POSTGRES_URL, migrated=True)
    server = LiveServer(var_dir=var, database_url=database_url)
    result = subprocess.run([sys.executable, "-m", "server.cli", "demo", "--json"], cwd=ROOT, env=dict(server.env),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    server.start()
    yield server, json.loads(result.stdout)
    server.stop()
    if drop:
        drop()


def finished_of(data):
    return next(c for c in data["cohorts"] if c.get("summaries"))


def test_the_finished_cohort_is_appended_with_its_summaries(demo):
    _, data = demo
    halfway, enrolling, finished = data["cohorts"]
    assert finished["status"] == "completed" and finished["sessions_held"] == finished["n_group_sessions"] == 8
    assert finished["requires_signoff"] is True and finished["enrolled"] == 5
    statuses = sorted(s["status"] for s in finished["summaries"])
    # The first member's summary was finalized, then amended and the amendment finalized.
    assert statuses == ["awaiting_signoff", "draft", "draft", "finalized", "finalized", "finalized"]
    (amended,) = [s for s in finished["summaries"] if s["amendment_reason"]]
    assert amended["version"] == 2 and amended["status"] == "finalized"
    assert amended["member"] == data["journey_member"]["email"] == data["finished_members"][0]["email"]
    assert {s["member"] for s in finished["summaries"]} == {u["email"] for u in data["finished_members"]}
    assert not {u["email"] for u in data["finished_members"]} & {u["email"] for u in data["users"]}
    assert data["supervisor"]["email"] not in {u["email"] for u in data["users"]}


async def test_the_journey_member_opens_her_amended_summary_and_its_pdf_from_the_portal(demo):
    server, data = demo
    journey = data["journey_member"]
    member = await logged_in(server.url, journey["email"], journey["password"])
    try:
        portal = await member.get("/portal/summaries")
        assert portal.status_code == 200 and f"/summaries/{journey['summary_id']}" in portal.text, portal.text[:500]
        summary = await member.get(journey["summary_url"])
        assert summary.status_code == 200 and "the choir on Thursdays" in summary.text
        pdf = await member.get(journey["summary_pdf_url"])
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
        # Another member's summary is not hers to open.
        other = next(s for s in finished_of(data)["summaries"]
                     if s["member"] != journey["email"] and s["status"] == "finalized")
        assert (await member.get(f"/summaries/{other['id']}")).status_code == 404
    finally:
        await member.aclose()
    # The outcome report has figures, and the eight sessions were run on the board: each has
    # its closed board's record (session 5's role play and next step among them).
    cohort = finished_of(data)
    async with bearer(server.url, data["users"][0]["api_token"]) as coordinator:
        outcomes = await coordinator.get(cohort["outcomes_url"].removeprefix(server.url))
        assert outcomes.status_code == 200 and "PHQ-9" in outcomes.text
        meetings = (await coordinator.get(f"/api/v1/cohorts/{cohort['id']}/meetings")).json()["meetings"]
        groups = [m for m in meetings if m["kind"] == "group"]
        assert len(groups) == 8 and {m["status"] for m in groups} == {"completed"}
        fifth = await coordinator.get(f"/meetings/{groups[4]['id']}")
        assert fifth.status_code == 200 and "What was recorded" in fifth.text
        assert "Walk with him after school" in fifth.text


async def test_the_supervisors_agenda_has_the_demos_flags(demo):
    server, data = demo
    supervisor = data["supervisor"]
    client = await logged_in(server.url, supervisor["email"], supervisor["password"], totp_secret=supervisor["totp_secret"])
    try:
        page = await client.get("/supervision")
        assert page.status_code == 200
    finally:
        await client.aclose()
    async with bearer(server.url, supervisor["api_token"]) as api:
        agenda = (await api.get("/api/v1/supervision/agenda")).json()
        waiting = (await api.get("/api/v1/supervision/sign-off")).json()["items"]
    kinds = {flag["kind"] for flag in agenda["flags"]}
    awaiting = next(s for s in finished_of(data)["summaries"] if s["status"] == "awaiting_signoff")
    assert [item["id"] for item in waiting] == [awaiting["id"]]
    # Dev's open safety item, his PHQ-9 short of a 20% drop by mid-treatment, the half-way
    # cohort's latest session without its checklist, and the finished cohort's summary.
    assert {"awaiting_signoff", "missing_checklist", "not_improving", "safety_open"} <= kinds, kinds
    assert "Awaiting" in page.text or "awaiting" in page.text


async def test_sign_off_round_trip_on_the_demo_summary(demo):
    server, data = demo
    facilitator = next(u for u in data["users"] if u["email"] in finished_of(data)["facilitators"])
    awaiting = next(s for s in finished_of(data)["summaries"] if s["status"] == "awaiting_signoff")
    path = f"/api/v1/summaries/{awaiting['id']}"
    async with bearer(server.url, facilitator["api_token"]) as fac, \
            bearer(server.url, data["supervisor"]["api_token"]) as sup:
        before = (await fac.get(path)).json()
        refused = await fac.post(f"{path}/finalize")
        assert refused.status_code == 409, refused.text
        assert (await fac.get(path)).json() == before
        digest = before["signoff"]["submitted_hash"]

        returned = await sup.post(f"{path}/return", json={"comment": COMMENT, "content_hash": digest})
        assert returned.status_code == 200 and returned.json()["status"] == "returned", returned.text
        assert (await fac.post(f"{path}/finalize")).status_code == 409
        edited = await fac.patch(path, json={"warning_signs": "Staying in bed late; not answering my sister."})
        assert edited.status_code == 200, edited.text
        again = await fac.post(f"{path}/submit")
        assert again.status_code == 200, again.text
        approved = await sup.post(f"{path}/approve", json={"content_hash": again.json()["signoff"]["submitted_hash"]})
        assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
        finalized = await fac.post(f"{path}/finalize")
        assert finalized.status_code == 200 and finalized.json()["status"] == "finalized", finalized.text
        events = (await fac.get(path)).json()["signoff"]["events"]
        assert [e["action"] for e in events] == ["submitted", "returned", "submitted", "approved", "finalized"]
        assert events[1]["comment"] == COMMENT


async def test_the_programme_csv_has_no_names_and_suppresses_small_groups(demo):
    server, data = demo
    supervisor = data["supervisor"]
    client = await logged_in(server.url, supervisor["email"], supervisor["password"], totp_secret=supervisor["totp_secret"])
    try:
        response = await client.get("/programme.csv", params={"group_by": "cohort"})
    finally:
        await client.aclose()
    assert response.status_code == 200, response.text
    people = [*data["users"], *data["finished_members"], supervisor]
    for person in people:
        assert person["name"] not in response.text and person["email"] not in response.text
        for part in person["name"].split():
            if len(part) > 3:
                assert part not in response.text, part
    rows = list(csv.DictReader(io.StringIO(response.text)))
    suppressed = [r for r in rows if r.get("suppressed", "").lower() in ("1", "true", "yes")]
    shown = [r for r in rows if r not in suppressed]
    assert suppressed, rows  # the enrolling cohort has two people
    assert shown, rows  # the finished cohort's five are counted


def test_loading_the_demo_again_keeps_the_finished_cohort_and_its_summaries(demo):
    # Last in this file: a second load mints new tokens and passwords for the demo people.
    server, data = demo
    result = subprocess.run([sys.executable, "-m", "server.cli", "demo", "--json"], cwd=ROOT, env=dict(server.env),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    again = json.loads(result.stdout)
    assert [c["id"] for c in again["cohorts"]] == [c["id"] for c in data["cohorts"]]
    assert [s["id"] for s in finished_of(again)["summaries"]] == [s["id"] for s in finished_of(data)["summaries"]]
    assert [u["email"] for u in again["finished_members"]] == [u["email"] for u in data["finished_members"]]
