"""Many first connections to a board that is not open yet (issue 12): one board row, one
opening event, and every socket welcomed onto that board, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio

from models.board import Board, BoardEvent
from tests.integration.test_board_support import BoardClient, make_board_world

CONNECTIONS = 50


async def test_fifty_concurrent_first_connections_open_one_board(live_server, db):
    bw = await make_board_world()
    assert not await Board.filter(meeting_id=bw.meeting_id).exists()
    log_start = len(live_server.log())
    tokens = [bw.tokens["fac1"], bw.tokens["fac2"], bw.tokens["coordinator"]]
    clients = await asyncio.gather(*(
        BoardClient.open(live_server.ws_url, bw.meeting_id, tokens[i % len(tokens)], hello=None)
        for i in range(CONNECTIONS)))
    try:
        boards = await Board.filter(meeting_id=bw.meeting_id).values_list("id", flat=True)
        assert len(boards) == 1
        assert {c.welcome["board"] for c in clients} == set(boards)
        assert len({c.welcome["epoch"] for c in clients}) == 1
        assert await BoardEvent.filter(board_id=boards[0], type="board_opened").count() == 1
        synced = await asyncio.gather(*(c.hello(0) for c in clients))
        assert {s["seq"] for s in synced} == {clients[0].snapshot["seq"]}
        later = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
        assert (await later.command("add_note", {"text": "after the rush"}))["type"] == "ack"
        await later.close()
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    log = live_server.log()[log_start:]
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-3000:]
