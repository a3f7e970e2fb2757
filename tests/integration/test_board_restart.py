"""The board survives its server: killed mid-meeting, nothing acknowledged is lost; a
graceful shutdown closes sockets with 1012; a client that falls behind is closed with 1013."""
from __future__ import annotations

import asyncio
import signal
import socket

import pytest
import websockets

from models.board import BoardEvent
from tests.integration.test_board_support import BoardClient, make_board_world, present_all, turn_data
from tests.support.server import LiveServer


@pytest.fixture
async def bw(db):
    return await make_board_world()


async def test_killed_mid_meeting_loses_nothing_acknowledged(live_server, bw):
    fac = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
    await present_all(fac, bw)
    await fac.ok("add_turn", turn_data(bw))
    await fac.ok("start_turn", {"turn": "1"})
    acked: dict[str, int] = {}
    for i in range(60):  # fire without waiting, then kill while answers are in flight
        await fac.send({"type": "command", "id": f"k{i}", "command": "add_note", "data": {"text": f"note {i}"}})

    async def collect():
        try:
            while True:
                frame = await fac.recv(timeout=5)
                if frame["type"] == "ack":
                    acked[frame["id"]] = frame["seq"]
                    if len(acked) == 20:
                        live_server.stop(signal.SIGKILL)
        except (websockets.ConnectionClosed, asyncio.TimeoutError):
            pass

    await collect()
    assert len(acked) >= 20
    live_server.start()
    back = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
    state = back.snapshot["state"]
    texts = [n["text"] for n in state["notes"]]
    for cid, seq in acked.items():
        assert f"note {cid[1:]}" in texts, cid
    assert state["active_turn"] == "1" and state["timers"]["turn"]["running"]
    seqs = await BoardEvent.filter(board__meeting_id=bw.meeting_id).order_by("seq").values_list("seq", flat=True)
    assert seqs == list(range(1, len(seqs) + 1)) and back.snapshot["seq"] == seqs[-1]
    # a retry of a command acknowledged before the crash is still answered once
    some_id, some_seq = next(iter(acked.items()))
    again = await back.command("add_note", {"text": "ignored"}, id=some_id)
    assert again["seq"] == some_seq and again["duplicate"]
    # and the board goes on, gap-free
    assert await back.ok("end_turn", {"turn": "1"}) == seqs[-1] + 1
    await back.close()


async def test_graceful_shutdown_closes_board_sockets_with_1012(live_server, bw):
    fac = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
    display = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"], view="display")
    live_server.stop(signal.SIGTERM)
    try:
        for client in (fac, display):
            with pytest.raises(websockets.ConnectionClosed) as info:
                while True:
                    await client.recv(timeout=10)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1012
    finally:
        live_server.start()


async def test_a_client_that_falls_behind_is_closed_with_1013_and_others_are_not_delayed(tmp_path, db, live_server):
    # Its own server with small per-client queues, so "behind" comes quickly.
    server = LiveServer(var_dir=tmp_path, database_url=live_server.database_url,
                        broadcast_url="memory://?queue=16",
                        extra_env={"GROUPIPT_BOARD_COMMANDS_PER_SECOND": "1000"}).start()
    try:
        world = await make_board_world()
        fast = await BoardClient.open(server.ws_url, world.meeting_id, world.tokens["fac2"])
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        slow = await BoardClient.open(server.ws_url, world.meeting_id, world.tokens["fac1"], sock=sock, max_queue=1,
                                       ping_interval=None)
        writers = [await BoardClient.open(server.ws_url, world.meeting_id, world.tokens["coordinator"])
                   for _ in range(3)]
        big = "x" * 3900

        async def write(client, n):
            return max([await client.ok("add_note", {"text": f"{big} {i}"}) for i in range(n)])

        async def keep_reading(client):
            while True:
                try:
                    await client.recv(timeout=0.5)
                except asyncio.TimeoutError:
                    continue

        reader = asyncio.create_task(keep_reading(fast))
        head = max(await asyncio.gather(*(write(w, 200) for w in writers)))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)  # now read it all, quickly
        for _ in range(200):  # the fast client got everything meanwhile
            if fast.last_seq >= head:
                break
            await asyncio.sleep(0.1)
        reader.cancel()
        assert fast.last_seq == head
        with pytest.raises(websockets.ConnectionClosed) as info:
            while True:
                await slow.recv(timeout=60)
        # 1013 when the client reads again within the close timeout; a client that stays
        # silent longer cannot even receive the close frame, and its connection is dropped.
        assert info.value.rcvd is None or info.value.rcvd.code == 1013, info.value
        # it resumes with hello and misses nothing
        again = await BoardClient.open(server.ws_url, world.meeting_id, world.tokens["fac1"], hello=slow.last_seq,
                                       max_size=2**25)
        assert again.last_seq == head
        for client in (fast, again, *writers):
            await client.close()
    finally:
        server.stop()
