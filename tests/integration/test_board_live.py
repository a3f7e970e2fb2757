"""The live board over a real server with real `websockets` clients."""
from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime

import httpx
import pytest
import websockets

from models.board import Attendance, Board, BoardEvent, FacilitatorNote, RolePlayTurn
from models.clinical import Goal, GoalProgress
from models.cohorts import Meeting, MeetingStatus
from server.board.vocabulary import page_words
from tests.integration.test_board_support import (
    BoardClient,
    make_board_world,
    present_all,
    turn_data,
)
from tests.support.clients import bearer

PRIVATE = ("Ask for a day off", "Child is ill", "Ask my sister", "tearful", "role_dispute", "Lopez", "Hill")


@pytest.fixture
async def bw(db):
    return await make_board_world()


@pytest.fixture
async def fac(live_server, bw):
    client = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
    yield client
    await client.close()


async def test_hello_gets_a_snapshot_then_synced(fac, bw):
    assert fac.snapshot["seq"] >= 1
    state = fac.snapshot["state"]
    assert state["status"] == "open" and set(state["members"]) == set(bw.members)
    assert state["goals"][bw.member_goal]["text"] == "Ask my sister for help"


async def test_command_is_acked_after_commit_and_broadcast(fac, bw, live_server):
    other = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac2"])
    seq = await fac.ok("mark_attendance", {"member": bw.members[0], "status": "present"})
    assert await BoardEvent.filter(board__meeting_id=bw.meeting_id, seq=seq).exists()
    frame = await other.until(lambda f: f["type"] == "event")
    assert frame["event"]["seq"] == seq and frame["event"]["type"] == "attendance_marked"
    assert frame["event"]["actor"]["id"] == bw.fac1_id
    assert frame["view"]["attendance"][bw.members[0]]["status"] == "present"
    await other.close()


async def test_own_ack_arrives_before_own_event(fac, bw):
    await fac.send({"type": "command", "id": "order-1", "command": "add_note", "data": {"text": "x"}})
    ack = await fac.until(lambda f: f["type"] in ("ack", "event"))
    assert ack["type"] == "ack"


async def test_retried_command_id_is_answered_once(fac, bw):
    first = await fac.command("add_note", {"text": "once"}, id="retry-me")
    again = await fac.command("add_note", {"text": "once"}, id="retry-me")
    assert again["seq"] == first["seq"] and again["duplicate"] is True
    assert await BoardEvent.filter(board__meeting_id=bw.meeting_id, type="note_added").count() == 1


async def test_commands_sent_together_are_answered_one_by_one_in_order(fac, bw):
    # Sent without waiting, they may be stored with one commit; each still gets its own
    # answer, in order, and the one that does not apply changes nothing.
    before = await fac.ok("add_note", {"text": "already stored"}, id="burst-old")
    frames = [
        {"id": "burst-1", "command": "add_note", "data": {"text": "one"}},
        {"id": "burst-2", "command": "end_turn", "data": {"turn": "99"}},  # no such turn
        {"id": "burst-old", "command": "add_note", "data": {"text": "already stored"}},  # a retry
        {"id": "burst-3", "command": "mark_attendance", "data": {"member": bw.members[0], "status": "present"}},
        {"id": "burst-4", "command": "add_note", "data": {"text": "four"}},
    ]
    for frame in frames:
        await fac.send({"type": "command", **frame})
    answers = []
    while len(answers) < len(frames):
        frame = await fac.recv()
        if frame["type"] in ("ack", "error"):
            answers.append(frame)
    assert [a["id"] for a in answers] == [f["id"] for f in frames]
    assert [a["type"] for a in answers] == ["ack", "error", "ack", "ack", "ack"]
    assert answers[1]["code"] == "turn_not_found"
    assert answers[2]["seq"] == before and answers[2]["duplicate"] is True
    assert [a["seq"] for a in answers if a["type"] == "ack" and not a["duplicate"]] == \
        [before + 1, before + 2, before + 3]
    await fac.wait_seq(before + 3)
    types = await BoardEvent.filter(board__meeting_id=bw.meeting_id, seq__gt=before).order_by("seq").values_list(
        "type", "client_cmd_id")
    assert types == [("note_added", "burst-1"), ("attendance_marked", "burst-3"), ("note_added", "burst-4")]


async def test_racing_facilitators_are_serialized_and_nothing_is_lost(live_server, bw):
    a = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
    b = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac2"])
    start = a.last_seq

    async def burst(client, who):
        return [await client.ok("add_note", {"text": f"{who} {i}"}) for i in range(15)]

    seqs_a, seqs_b = await asyncio.gather(burst(a, "a"), burst(b, "b"))
    head = start + 30
    assert sorted(seqs_a + seqs_b) == list(range(start + 1, head + 1))  # gap-free, unique
    await a.wait_seq(head)
    await b.wait_seq(head)
    assert [e["seq"] for e in a.events] == [e["seq"] for e in b.events] == list(range(start + 1, head + 1))
    assert [e["data"] for e in a.events] == [e["data"] for e in b.events]
    rows = await BoardEvent.filter(board__meeting_id=bw.meeting_id).order_by("seq").values_list("seq", flat=True)
    assert rows == list(range(1, head + 1))
    await a.close()
    await b.close()


async def test_ending_a_turn_another_facilitator_just_ended_gets_a_clear_error(live_server, bw):
    a = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
    b = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac2"])
    await present_all(a, bw)
    ack = await a.command("add_turn", turn_data(bw))
    turn = str(len([e for e in a.events if e["type"] == "turn_added"]) or 1)
    await a.ok("start_turn", {"turn": turn})
    await b.wait_seq(ack["seq"] + 1)
    answers = await asyncio.gather(a.command("end_turn", {"turn": turn}), b.command("end_turn", {"turn": turn}))
    kinds = sorted(x["type"] for x in answers)
    assert kinds == ["ack", "error"]
    error = next(x for x in answers if x["type"] == "error")
    assert error["code"] == "turn_not_active" and "already ended" in error["message"]
    await a.close()
    await b.close()


async def test_resume_from_an_old_last_seq_gets_exactly_the_missed_events(live_server, bw, fac):
    watcher = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac2"])
    old = await fac.ok("add_note", {"text": "before"})
    await watcher.wait_seq(old)
    await watcher.close()
    missed = [await fac.ok("add_note", {"text": f"missed {i}"}) for i in range(5)]
    back = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac2"], hello=None)
    await back.send({"type": "hello", "last_seq": old, "epoch": back.welcome["epoch"]})
    synced = await back.until(lambda f: f["type"] == "synced")
    assert [e["seq"] for e in back.events] == missed and synced["seq"] == missed[-1]
    assert back.snapshot is None
    # a stale epoch (another log) gets a snapshot instead
    await back.send({"type": "hello", "last_seq": old, "epoch": "999.0"})
    await back.until(lambda f: f["type"] == "synced")
    assert back.snapshot is not None and back.snapshot["seq"] == missed[-1]
    await back.close()


async def test_display_never_receives_facilitator_events(live_server, bw, fac):
    display = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"], view="display")
    member_display = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["member"], view="display")
    await fac.ok("mark_attendance", {"member": bw.members[1], "status": "absent_notified", "reason": "Child is ill"})
    await fac.ok("mark_attendance", {"member": bw.members[0], "status": "present"})
    await fac.ok("add_note", {"text": "Maria tearful", "member": bw.members[0]})
    await fac.ok("rate_goal", {"goal": bw.member_goal, "rating": 2})
    await fac.ok("add_turn", turn_data(bw, goal=bw.member_goal))
    last = await fac.ok("rate_goal", {"goal": bw.group_goal, "rating": 3})
    for screen in (display, member_display):
        await screen.wait_seq(last)
        assert [e["type"] for e in screen.events] == ["turn_added", "goal_rated"]
        text = json.dumps(screen.frames)
        for private in PRIVATE:
            assert private not in text, private
        labels = {m["label"] for m in screen.snapshot["state"]["members"].values()}
        assert labels == {"Maria", "Tom", "Sara"}
    answer = await display.command("add_note", {"text": "from the display"})
    assert answer["type"] == "error" and answer["code"] == "read_only"
    await display.close()
    await member_display.close()


async def test_malformed_frames_get_errors_and_change_nothing(fac, bw):
    head = fac.last_seq
    bad = [
        b"\x00\x01binary",
        "not json {",
        "[1, 2, 3]",
        json.dumps({"type": "launch"}),
        json.dumps({"type": "hello", "last_seq": -4}),
        json.dumps({"type": "command", "command": "add_note", "data": {"text": "no id"}}),
        json.dumps({"type": "command", "id": "x" * 65, "command": "add_note", "data": {"text": "long id"}}),
        json.dumps({"type": "command", "id": "d1", "command": "add_note", "data": "text"}),
        json.dumps({"type": "command", "id": "d2", "command": "fly", "data": {}}),
        json.dumps({"type": "command", "id": "d3", "command": "add_note", "data": {"text": 5}}),
        json.dumps({"type": "command", "id": "d4", "command": "rate_goal", "data": {"goal": bw.member_goal, "rating": 99}}),
        json.dumps({"type": "command", "id": "d5", "command": "end_turn", "data": {"turn": "77"}}),
        json.dumps({"type": "command", "id": "d6", "command": "add_note", "data": {"text": "y" * 20000}}),
    ]
    for frame in bad:
        await fac.send(frame)
        error = await fac.until(lambda f: f["type"] == "error")
        assert error["code"] and error["message"], error
    codes = [f["code"] for f in fac.frames if f["type"] == "error"]
    assert codes[:4] == ["malformed", "malformed", "malformed", "unknown_type"]
    assert codes[-5:] == ["unknown_command", "invalid_argument", "invalid_argument", "turn_not_found", "too_large"]
    assert await BoardEvent.filter(board__meeting_id=bw.meeting_id).count() == head
    await fac.ok("add_note", {"text": "still works"})


async def test_commands_before_hello_are_refused(live_server, bw):
    client = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"], hello=None)
    answer = await client.command("add_note", {"text": "too early"})
    assert answer["code"] == "hello_first"
    await client.close()


async def test_a_flood_is_rate_limited_then_closed(fac, bw):
    for i in range(400):
        try:
            await fac.send({"type": "ping", "t": i})
        except websockets.ConnectionClosed:
            break
    with pytest.raises(websockets.ConnectionClosed) as info:
        while True:
            await fac.recv(timeout=10)
    assert info.value.rcvd.code == 1008
    codes = {f.get("code") for f in fac.frames if f["type"] == "error"}
    assert codes == {"rate_limited"}


@pytest.mark.parametrize("who,view,status", [
    (None, "facilitator", 401), ("outsider", "facilitator", 403), ("member", "facilitator", 403),
    ("fac1", "everything", 400),
])
async def test_refused_before_accept(live_server, bw, who, view, status):
    headers = {"Authorization": f"Bearer {bw.tokens[who]}"} if who else {}
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(f"{live_server.ws_url}/boards/{bw.meeting_id}/ws?view={view}",
                                 additional_headers=headers, open_timeout=10)
    assert info.value.response.status_code == status


async def test_cross_site_origin_is_refused(live_server, bw):
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(f"{live_server.ws_url}/boards/{bw.meeting_id}/ws", origin="https://evil.example",
                                 additional_headers={"Authorization": f"Bearer {bw.tokens['fac1']}"})
    assert info.value.response.status_code == 403
    ok = await websockets.connect(f"{live_server.ws_url}/boards/{bw.meeting_id}/ws", origin=live_server.url,
                                  additional_headers={"Authorization": f"Bearer {bw.tokens['fac1']}"})
    await ok.close()


async def test_no_board_for_unknown_or_individual_meetings(live_server, bw):
    for meeting_id in (999999, 2**40):
        with pytest.raises(websockets.InvalidStatus) as info:
            await websockets.connect(f"{live_server.ws_url}/boards/{meeting_id}/ws",
                                     additional_headers={"Authorization": f"Bearer {bw.tokens['fac1']}"})
        assert info.value.response.status_code == 404


async def test_revoked_token_stops_commands(fac, bw):
    from models.accounts import ApiToken
    from server.accounts import sha256

    await ApiToken.filter(token_sha256=sha256(bw.tokens["fac1"])).update(revoked_at=datetime.now(UTC))
    answer = await fac.command("add_note", {"text": "after revocation"})
    assert answer["code"] == "forbidden"
    with pytest.raises(websockets.ConnectionClosed) as info:
        await fac.recv()
    assert info.value.rcvd.code == 1008


async def test_full_meeting_then_close_stores_the_record(fac, bw, live_server):
    await present_all(fac, bw)
    await fac.ok("start_checkin")
    for _ in bw.members:
        await fac.ok("next_checkin")
    await fac.ok("add_turn", turn_data(bw, goal=bw.member_goal))
    await fac.ok("add_turn", turn_data(bw, protagonist=1, counterpart={"kind": "member", "id": bw.members[2]},
                                       role_label="my landlord"))
    await fac.ok("start_turn", {"turn": "1"})
    await fac.ok("start_role_reversal", {"turn": "1"})
    await fac.ok("start_feedback", {"turn": "1"})
    for stage in ("protagonist", "counterpart", "observers", "facilitator"):
        await fac.ok("next_feedback", {"turn": "1", "from_stage": stage})
    await fac.ok("record_next_step", {"turn": "1", "text": "Ask on Monday"})
    await fac.ok("end_turn", {"turn": "1"})
    await fac.ok("skip_turn", {"turn": "2"})
    await fac.ok("rate_goal", {"goal": bw.member_goal, "rating": 3})
    await fac.ok("set_goal_status", {"goal": bw.group_goal, "status": "achieved"})
    await fac.ok("add_note", {"text": "Good session"})
    await fac.ok("close_meeting")
    meeting = await Meeting.get(id=bw.meeting_id)
    assert meeting.status == MeetingStatus.COMPLETED
    assert await Attendance.filter(meeting_id=bw.meeting_id, status="present").count() == 3
    turns = await RolePlayTurn.filter(meeting_id=bw.meeting_id).order_by("id")
    assert [(t.status, t.role_reversal, t.next_step) for t in turns] == [
        ("done", True, "Ask on Monday"), ("skipped", False, "")]
    progress = await GoalProgress.filter(meeting_id=bw.meeting_id).order_by("id").values("goal_id", "rating", "status")
    assert {(str(p["goal_id"]), p["rating"], p["status"]) for p in progress} == {
        (bw.member_goal, 3, None), (bw.group_goal, None, "achieved")}
    assert (await Goal.get(id=int(bw.group_goal))).status == "achieved"
    assert await FacilitatorNote.filter(meeting_id=bw.meeting_id).count() == 1
    assert (await Board.get(meeting_id=bw.meeting_id)).closed_at is not None
    answer = await fac.command("add_note", {"text": "after close"})
    assert answer["code"] == "board_closed"
    # The meeting's page shows what was recorded (issue 20: it showed nothing).
    page = await bearer(live_server.url, bw.tokens["fac1"]).get(f"/meetings/{bw.meeting_id}")
    assert page.status_code == 200 and 'id="meeting-record"' in page.text
    record = page.text[page.text.index('id="meeting-record"'):]
    assert record.count(": Present") == 3
    assert "“my boss”" in record and "taken, with role reversal" in record and "Next step: Ask on Monday" in record
    assert "“my landlord”" in record and "skipped" in record
    assert "Ask my sister for help — progress 3 of 4" in record and "now achieved" in record
    assert "Good session" in record and "The board (closed)" in page.text


async def test_undo_reaches_every_client(live_server, bw, fac):
    display = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"], view="display")
    seq = await fac.ok("rate_goal", {"goal": bw.group_goal, "rating": 2})
    undo = await fac.ok("undo", {"seq": seq})
    frame = await display.until(lambda f: f["type"] == "event" and f["event"]["type"] == "step_undone")
    assert frame["event"]["seq"] == undo
    assert frame["view"]["goals"][bw.group_goal]["rating"] is None
    await display.close()


async def test_retry_of_a_command_that_no_longer_applies_gets_its_original_ack(fac, bw):
    await fac.ok("mark_attendance", {"member": bw.members[0], "status": "present"})
    await fac.ok("add_turn", turn_data(bw))
    await fac.ok("start_turn", {"turn": "1"})
    first = await fac.command("end_turn", {"turn": "1"}, id="end-once")
    again = await fac.command("end_turn", {"turn": "1"}, id="end-once")
    assert again["type"] == "ack" and again["seq"] == first["seq"] and again["duplicate"] is True
    other = await fac.command("end_turn", {"turn": "1"})
    assert other["code"] == "turn_not_active"


async def test_facilitator_taken_off_the_cohort_mid_session_is_stopped(fac, bw):
    from models.accounts import User
    from models.cohorts import Cohort

    assert (await fac.command("add_note", {"text": "still allowed"}))["type"] == "ack"
    cohort = await Cohort.get(id=bw.cohort_id)
    lead = await User.get(id=int(bw.fac1_id))
    await cohort.facilitators.remove(lead)
    try:
        answer = await fac.command("add_note", {"text": "after removal"})
        assert answer["code"] == "forbidden"
    finally:
        await cohort.facilitators.add(lead)


async def test_coordinator_may_run_any_board(live_server, bw):
    coordinator = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["coordinator"])
    try:
        assert (await coordinator.command("add_note", {"text": "covering today"}))["type"] == "ack"
    finally:
        await coordinator.close()


@pytest.mark.parametrize("view", ["facilitator", "display"])
async def test_the_board_page_carries_the_boards_words_in_its_boot_json(live_server, bw, view):
    path = f"/boards/{bw.meeting_id}" + ("/display" if view == "display" else "")
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as http:
        page = await http.get(path, headers={"Authorization": f"Bearer {bw.tokens['fac1']}"})
    assert page.status_code == 200
    boot = re.search(r'<script type="application/json" id="board-data">(.*?)</script>', page.text, re.S)
    data = json.loads(boot.group(1))
    assert data["words"] == page_words()
    assert data["client"]["view"] == view
