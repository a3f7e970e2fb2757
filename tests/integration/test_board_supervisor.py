"""The board for a supervisor (observing, read-only; issue 17) and for a sign-in session that
ends while its socket is open (issue 18). Real server, real `websockets` clients.
"""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import websockets

from models.accounts import Role, SignInSession
from models.board import BoardEvent
from models.supervision import Supervision
from server import clock
from server.board import access
from server.platform.settings import Settings
from tests.integration.test_board_support import BoardClient, make_board_world
from tests.support.clients import Browserish, logged_in
from tests.support.world import PASSWORD, make_user

SIGNED_OUT = 4401


async def _supervised_board(supervisor_name: str = "Sol Supervisor"):
    bw = await make_board_world()
    supervisor = await make_user(Role.FACILITATOR, supervisor_name)
    fac1 = int(bw.fac1_id)
    await Supervision.create(supervisor=supervisor, facilitator_id=fac1)
    from server import accounts

    token = (await accounts.create_api_token(supervisor, "board tests"))[1]
    return bw, supervisor, token


async def test_a_supervisor_observes_the_facilitator_view_and_changes_nothing(live_server, db):
    bw, _supervisor, token = await _supervised_board()
    observer = await BoardClient.open(live_server.ws_url, bw.meeting_id, token)
    try:
        assert observer.welcome["read_only"] is True and observer.welcome["observer"] is True
        state = observer.snapshot["state"]
        assert set(state["members"]) == set(bw.members)  # the facilitator view, names and all
        assert state["goals"][bw.member_goal]["text"] == "Ask my sister for help"
        before = await BoardEvent.filter(board__meeting_id=bw.meeting_id).count()
        for name, data in (("add_note", {"text": "a supervisor's note"}),
                           ("mark_attendance", {"member": bw.members[0], "status": "present"}),
                           ("close_meeting", {"confirm_unmarked": True})):
            answer = await observer.command(name, data)
            assert answer["type"] == "error" and answer["code"] == "read_only", answer
            assert "read-only for a supervisor" in answer["message"]
        assert await BoardEvent.filter(board__meeting_id=bw.meeting_id).count() == before

        # It still receives what the facilitators do.
        facilitator = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
        seq = await facilitator.ok("add_note", {"text": "seen by the supervisor"})
        await observer.wait_seq(seq)
        assert observer.events[-1]["type"] == "note_added"
        await facilitator.close()
    finally:
        await observer.close()


async def test_the_facilitator_page_says_observing_and_turns_the_controls_off(live_server, db):
    bw, supervisor, _token = await _supervised_board("Sue Supervisor")
    client = await logged_in(live_server.url, supervisor.email, PASSWORD)
    page = await client.get(f"/boards/{bw.meeting_id}")
    assert page.status_code == 200
    assert "Observing (supervisor)" in page.text
    assert '<fieldset class="board-controls" disabled' in page.text
    assert '"read_only": true' in page.text
    facilitator = await logged_in(live_server.url, bw.emails["fac1"], PASSWORD)
    own = await facilitator.get(f"/boards/{bw.meeting_id}")
    assert "Observing (supervisor)" not in own.text and '"read_only": false' in own.text
    assert '<fieldset class="board-controls">' in own.text
    outsider = await logged_in(live_server.url, bw.emails["outsider"], PASSWORD)
    assert (await outsider.get(f"/boards/{bw.meeting_id}")).status_code == 403
    for c in (client, facilitator, outsider):
        await c.aclose()


async def test_an_observer_is_dropped_once_no_longer_supervising(live_server, db):
    bw, supervisor, token = await _supervised_board("Stu Supervisor")
    credential = {"token": token}
    assert await access.still_allowed(supervisor, credential, bw.cohort_id, "facilitator", observer=True)
    assert not await access.still_allowed(supervisor, credential, bw.cohort_id, "facilitator")
    await Supervision.filter(supervisor=supervisor).delete()
    assert not await access.still_allowed(supervisor, credential, bw.cohort_id, "facilitator", observer=True)


# --- sign-in sessions (issue 18) ------------------------------------------------------------

async def _cookie_socket(server, client: Browserish, meeting_id: int) -> websockets.ClientConnection:
    cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
    ws = await websockets.connect(f"{server.ws_url}/boards/{meeting_id}/ws", origin=server.url,
                                  additional_headers={"Cookie": cookie}, open_timeout=10)
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert welcome["type"] == "welcome"
    await ws.send(json.dumps({"type": "hello", "last_seq": 0, "epoch": welcome["epoch"]}))
    while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "synced":
        pass
    return ws


async def _closed_with(ws: websockets.ClientConnection, timeout: float = 5) -> tuple[int | None, str]:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed as closed:
        return (closed.rcvd.code if closed.rcvd else None), (closed.rcvd.reason if closed.rcvd else "")


async def test_signing_out_closes_that_sessions_board_sockets_at_once(live_server, db):
    bw = await make_board_world()
    client = await logged_in(live_server.url, bw.emails["fac1"], PASSWORD)
    other = await logged_in(live_server.url, bw.emails["fac1"], PASSWORD)
    ws = await _cookie_socket(live_server, client, bw.meeting_id)
    kept = await _cookie_socket(live_server, other, bw.meeting_id)
    assert (await client.submit("/logout")).status_code == 303
    code, reason = await _closed_with(ws)
    assert code == SIGNED_OUT and reason.startswith("Signed out")
    # Another session of the same person keeps its board.
    await kept.send(json.dumps({"type": "ping", "t": 1}))
    assert json.loads(await asyncio.wait_for(kept.recv(), 5))["type"] == "pong"
    await kept.close()
    await other.aclose()
    await client.aclose()


async def test_log_out_everywhere_closes_every_session_socket(live_server, db):
    bw = await make_board_world()
    first = await logged_in(live_server.url, bw.emails["fac2"], PASSWORD)
    second = await logged_in(live_server.url, bw.emails["fac2"], PASSWORD)
    ws = await _cookie_socket(live_server, first, bw.meeting_id)
    token_socket = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac2"])
    assert (await second.submit("/account/logout-everywhere")).status_code == 303
    code, _ = await _closed_with(ws)
    assert code == SIGNED_OUT
    # A program's token is not a sign-in session: its socket stays.
    assert await token_socket.ok("add_note", {"text": "still here"})
    await token_socket.close()
    await first.aclose()
    await second.aclose()


async def test_an_idle_session_closes_its_socket_when_it_is_next_presented(live_server, db):
    bw = await make_board_world()
    client = await logged_in(live_server.url, bw.emails["coordinator"], PASSWORD)
    ws = await _cookie_socket(live_server, client, bw.meeting_id)
    session = await SignInSession.filter(user__email=bw.emails["coordinator"], ended_at=None).order_by("-id").first()
    await SignInSession.filter(id=session.id).update(last_seen_at=clock.now() - timedelta(hours=2))
    assert (await client.get("/account", follow_redirects=False)).status_code == 303  # to /login: idle
    code, _ = await _closed_with(ws)
    assert code == SIGNED_OUT
    assert (await SignInSession.get(id=session.id)).end_reason == "idle"
    await client.aclose()


async def test_the_periodic_check_ends_a_session_past_its_limits(live_server, db):
    bw = await make_board_world()
    client = await logged_in(live_server.url, bw.emails["fac1"], PASSWORD)
    session = await SignInSession.filter(user__email=bw.emails["fac1"], ended_at=None).order_by("-id").first()
    settings = Settings.from_env(live_server.env)
    credential = {"epoch": 0, access.SESSION: session.id}
    assert await access.session_live(credential, settings)
    await SignInSession.filter(id=session.id).update(created_at=clock.now() - timedelta(days=30),
                                                     last_seen_at=clock.now())
    assert not await access.session_live(credential, settings)
    assert (await SignInSession.get(id=session.id)).end_reason == "expired"
    assert await access.session_live({"token": "anything"}, settings)  # tokens have no session
    await client.aclose()
