"""Hostile frames over a real socket (issue 12): JSON nested deeper than any frame needs,
integers beyond 64 bits, strings that cannot be encoded as UTF-8, and NUL, in every frame
type and every field of every command. Each gets an `error` frame (`malformed` or
`invalid_argument`), changes nothing, and the socket stays open."""
from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from models.board import BoardEvent
from tests.integration.test_board_support import (
    HOSTILE, BoardClient, command_grammar, each_place, make_board_world,
)


PLACE = "\x01hostile"  # stands for the hostile value until the frame is written


def _frames(bw, value: str) -> list[tuple[dict[str, Any], str | None]]:
    """(frame, the command id its error must carry) for every place `value` can take."""
    value = PLACE
    frames: list[tuple[dict[str, Any], str | None]] = [
        ({"type": "hello", "last_seq": value}, None),
        ({"type": "hello", "last_seq": 0, "epoch": value}, None),
        ({"type": "hello", "last_seq": 0, "extra": value}, None),
        ({"type": "ping", "t": value}, None),
        ({"type": "ping", "t": 1, "extra": value}, None),
        ({"type": value}, None),
        ({"type": "command", "id": value, "command": "add_note", "data": {"text": "x"}}, None),
        ({"type": "command", "id": "h-name", "command": value, "data": {}}, "h-name"),
        ({"type": "command", "id": "h-data", "command": "add_note", "data": value}, "h-data"),
        ({"type": "command", "id": "h-extra", "command": "add_note", "data": {"text": "x"}, "extra": value},
         "h-extra"),
    ]
    if value.startswith('"'):
        frames.append(({"type": "ping", PLACE: 1}, None))  # as a key
    for name, data in command_grammar(bw).items():
        for i, variant in enumerate(each_place(data, value)):
            command_id = f"h-{name}-{i}"
            frames.append(({"type": "command", "id": command_id, "command": name, "data": variant}, command_id))
    return frames


@pytest.fixture
async def bw(db):
    return await make_board_world()


@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_every_hostile_frame_gets_an_error_and_changes_nothing(live_server, bw, kind):
    log_start = len(live_server.log())
    client = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
    head = await BoardEvent.filter(board__meeting_id=bw.meeting_id).count()
    try:
        hostile = HOSTILE[kind]
        for frame, command_id in _frames(bw, hostile):
            text = json.dumps(frame).replace(json.dumps(PLACE), hostile)
            assert hostile in text
            assert len(text) <= 16 * 1024
            await client.send(text)
            answer = await client.until(lambda f: f["type"] in ("error", "ack", "pong", "synced"))
            assert answer["type"] == "error", (frame, answer)
            assert answer["code"] in ("malformed", "invalid_argument"), (frame, answer)
            # (Beyond a thousand levels the id itself cannot be read back: the frame's error has none.)
            assert answer["id"] == (None if kind == "deep_near_the_cap" else command_id), (frame, answer)
            await asyncio.sleep(0.01)  # within the socket's rate (50 frames a second, burst 100)
        pong = await _ping(client, 77)
        assert pong["t"] == 77  # the socket is still open and answers
        assert await BoardEvent.filter(board__meeting_id=bw.meeting_id).count() == head
        assert (await client.command("add_note", {"text": "still works"}))["type"] == "ack"
    finally:
        await client.close()
    log = live_server.log()[log_start:]
    assert "Exception in ASGI application" not in log and "Traceback" not in log, log[-3000:]


async def test_integers_at_the_edge_of_64_bits_are_carried(live_server, bw):
    client = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
    try:
        for t in (2**63 - 1, -(2**63), 1.5e300):
            assert (await _ping(client, t))["t"] == t
        for t in (2**63, -(2**63) - 1):
            await client.send({"type": "ping", "t": t})
            answer = await client.until(lambda f: f["type"] in ("error", "pong"))
            assert answer["type"] == "error" and answer["code"] == "invalid_argument"
    finally:
        await client.close()


async def test_a_note_may_hold_any_real_text(live_server, bw):
    # Emoji (a surrogate pair in JSON), accents, and a backslash-u typed as text are notes.
    client = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
    try:
        for text in ("Tom smiled \U0001F642", "Zoë, déjà vu", r"typed \u0000 as text", "12345678901234567890123"):
            seq = await client.ok("add_note", {"text": text})
            await client.wait_seq(seq)
            assert client.events[-1]["data"]["text"] == text
    finally:
        await client.close()


async def _ping(client: BoardClient, t: Any) -> dict[str, Any]:
    await client.send({"type": "ping", "t": t})
    return await client.until(lambda f: f["type"] in ("error", "pong"))
