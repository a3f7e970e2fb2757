"""`groupipt demo --json` gives working logins, API tokens, feed and board URLs."""
from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
import websockets
from icalendar import Calendar

from tests.support.clients import bearer, logged_in
from tests.support.server import ROOT, LiveServer, migrated_sqlite


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    var = tmp_path_factory.mktemp("demo")
    server = LiveServer(var_dir=var, database_url=f"sqlite://{migrated_sqlite(var / 'demo.sqlite3')}")
    env = dict(server.env)
    result = subprocess.run([sys.executable, "-m", "server.cli", "demo", "--json"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    server.start()
    yield server, data
    server.stop()


def test_demo_json_has_the_promised_keys(demo):
    _, data = demo
    assert set(data) >= {"base_url", "users", "cohorts", "boards"}
    roles = [u["role"] for u in data["users"]]
    assert roles.count("coordinator") == 1 and roles.count("facilitator") == 2 and roles.count("member") == 8
    for user in data["users"]:
        assert set(user) >= {"email", "password", "role", "name", "api_token", "feed_url"}
    halfway, enrolling, *_later = data["cohorts"]  # the halfway cohort first; later cohorts appended
    assert halfway["status"] == "active" and halfway["sessions_held"] == 4 and halfway["n_group_sessions"] == 8
    assert enrolling["status"] == "enrolling"
    (board,) = data["boards"]
    assert set(board) >= {"meeting_id", "ws_url", "display_url", "facilitator_url"}


async def test_every_demo_login_and_token_works(demo):
    server, data = demo
    for user in data["users"]:
        client = await logged_in(server.url, user["email"], user["password"], totp_secret=user.get("totp_secret"))
        await client.aclose()
        async with bearer(server.url, user["api_token"]) as api:
            me = (await api.get("/api/v1/me")).json()
            assert me["email"] == user["email"] and me["role"] == user["role"]


async def test_member_feed_urls_serve_their_own_calendar(demo):
    server, data = demo
    members = [u for u in data["users"] if u["role"] == "member"]
    async with httpx.AsyncClient() as client:
        response = await client.get(members[0]["feed_url"])
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    titles = [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")]
    assert any("of 8" in t for t in titles)
    for other in members[1:]:
        assert other["name"] not in response.text


async def test_demo_board_accepts_a_facilitator_over_websocket(demo):
    server, data = demo
    (board,) = data["boards"]
    facilitator = next(u for u in data["users"] if u["role"] == "facilitator")
    headers = {"Authorization": f"Bearer {facilitator['api_token']}"}
    ws_url = board["ws_url"].replace(data["base_url"].replace("http", "ws", 1), server.ws_url)
    async with websockets.connect(ws_url, additional_headers=headers, origin=server.url) as ws:
        await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        frames = [json.loads(await ws.recv()) for _ in range(2)]
    snapshot = next(f for f in frames if f["type"] == "snapshot")
    assert snapshot["seq"] >= 1
    assert "Dev" in json.dumps(snapshot)  # the facilitator view has the roster


async def test_demo_members_have_consent_and_the_second_facilitator_is_explained(demo):
    server, data = demo
    coordinator = next(u for u in data["users"] if u["role"] == "coordinator")
    halfway, enrolling, *_later = data["cohorts"]  # the halfway cohort first; later cohorts appended
    client = await logged_in(server.url, coordinator["email"], coordinator["password"],
                             totp_secret=coordinator["totp_secret"])
    try:
        for cohort in (halfway, enrolling):
            roster = await client.get(f"/cohorts/{cohort['id']}/enrollment")
            assert roster.status_code == 200
            assert 'data-consent="missing"' not in roster.text and 'data-consent="recorded"' in roster.text
        page = await client.get(f"/cohorts/{halfway['id']}")
        section = page.text[page.text.index('id="activation-override"'):]
        assert "1 facilitator; 2 are assigned" in section and "co-facilitates while he completes" in section
    finally:
        await client.aclose()


async def test_demo_has_checklists_for_the_meetings_held_but_the_latest_session(demo):
    server, data = demo
    facilitator = next(u for u in data["users"] if u["role"] == "facilitator")
    halfway = data["cohorts"][0]
    async with bearer(server.url, facilitator["api_token"]) as api:
        meetings = (await api.get(f"/api/v1/cohorts/{halfway['id']}/meetings")).json()["meetings"]
        held = [m for m in meetings if m["status"] == "completed" and m["kind"] == "group"]
        assert len(held) >= 2
        answered = [(await api.get(f"/api/v1/meetings/{m['id']}/checklist")).json() for m in held]
        assert all(c["submitted"] for c in answered[:-1]) and not answered[-1]["submitted"]
        assert any(i["answer"] == "partly" for c in answered for i in c["items"])
        report = (await api.get("/api/v1/supervision/adherence")).json()
        mine = report["facilitators"][0]
        assert mine["checklists"] >= len(held) - 1 and 0 < mine["overall"]["share_done"] < 1


async def test_demo_supervisor_signs_in_and_reads_both_facilitators_cohorts(demo):
    server, data = demo
    supervisor = data["supervisor"]
    assert set(supervisor) >= {"email", "password", "role", "name", "api_token", "feed_url", "totp_secret"}
    facilitators = [u["email"] for u in data["users"] if u["role"] == "facilitator"]
    assert sorted(supervisor["supervises"]) == sorted(facilitators)
    client = await logged_in(server.url, supervisor["email"], supervisor["password"],
                             totp_secret=supervisor["totp_secret"])
    home = await client.get("/")
    assert home.status_code == 200 and 'id="supervision"' in home.text
    for cohort in data["cohorts"]:
        page = await client.get(f"/cohorts/{cohort['id']}")
        assert page.status_code == 200 and "You supervise this cohort (read-only)" in page.text
        if cohort["status"] != "completed":  # the home page lists the cohorts still running
            assert f'href="/cohorts/{cohort["id"]}"' in home.text
    await client.aclose()
    async with bearer(server.url, supervisor["api_token"]) as api:
        listed = (await api.get("/api/v1/cohorts")).json()["cohorts"]
        assert {c["id"] for c in listed} == {c["id"] for c in data["cohorts"]}
        denied = await api.put(f"/api/v1/users/{listed[0]['facilitator_ids'][0]}/supervisees",
                               json={"facilitator_ids": []})
        assert denied.status_code == 403
