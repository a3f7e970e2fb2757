"""One board socket's loops, with a scripted socket and a service that stores nothing: what
was received is stored before a departing client's socket closes, a batch that has started
is finished even when the socket is stopped, and a socket cancelled from outside ends."""
from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from server.board.connection import BoardConnection
from server.board.hub import Hub
from server.board.service import Outcome


class ScriptedSocket:
    """Hands out `frames` (commands only once the board said `synced`), then waits, or says
    the client went away when `leave` is set."""

    def __init__(self, frames: list[dict[str, Any]], *, leave: bool):
        self.frames, self.leave = list(frames), leave
        self.sent: list[dict[str, Any]] = []
        self.synced = asyncio.Event()
        self.closed: tuple[int, str] | None = None
        self.app = SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(extra={})))

    async def accept(self) -> None:
        pass

    async def receive(self) -> dict[str, Any]:
        if self.frames:
            frame = self.frames.pop(0)
            if frame["type"] == "command":
                await self.synced.wait()
            return {"type": "websocket.receive", "text": json.dumps(frame)}
        if self.leave:
            return {"type": "websocket.disconnect", "code": 1001}
        await asyncio.Event().wait()  # a client that stays and says nothing
        raise AssertionError("unreachable")

    async def send_text(self, text: str) -> None:
        frame = json.loads(text)
        self.sent.append(frame)
        if frame["type"] == "synced":
            self.synced.set()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)


class StoringNothing:
    """The service's side of a socket: each batch is 'stored' when `go` is set."""

    def __init__(self, hub: Hub):
        self.hub = hub
        self.batches: list[list[str]] = []
        self.storing = asyncio.Event()
        self.go = asyncio.Event()
        self.go.set()

    async def catch_up(self, board_id: int, last_seq: int, view: str) -> tuple[list[str], int]:
        return [], 0

    async def execute_batch(self, board_id, batch, actor, *, guard, on_result):
        self.storing.set()
        await self.go.wait()
        self.batches.append([command_id for _, command_id in batch])
        for i, (_, command_id) in enumerate(batch):
            on_result(command_id, Outcome(len(self.batches) * 100 + i))


def _connection(socket: ScriptedSocket, service: StoringNothing) -> BoardConnection:
    return BoardConnection(
        socket, service, board=SimpleNamespace(id=7, created_at=datetime(2026, 11, 23, tzinfo=UTC)),
        meeting=SimpleNamespace(id=3, cohort_id=5), user=SimpleNamespace(id=11, display_name="Ana Ruiz"),
        view="facilitator", credential={"token": "t"})


def _command(command_id: str) -> dict[str, Any]:
    return {"type": "command", "id": command_id, "command": "add_note", "data": {"text": "n"}}


@pytest.fixture
async def hub():
    hub = Hub.from_url("memory://")
    async with hub.running():
        yield hub


@pytest.fixture(autouse=True)
def _no_database(monkeypatch):
    async def nothing(*args, **kwargs) -> None:
        return None
    monkeypatch.setattr("server.board.connection.audit.record", nothing)


async def test_what_a_departing_client_sent_is_stored_before_its_socket_closes(hub) -> None:
    socket = ScriptedSocket([{"type": "hello", "last_seq": 0}, _command("a"), _command("b")], leave=True)
    service = StoringNothing(hub)
    service.refresh_safety = lambda *args: asyncio.sleep(0)
    task = asyncio.create_task(_connection(socket, service).run())
    done, _ = await asyncio.wait({task}, timeout=2)
    assert done, "the socket did not close"
    assert [c for batch in service.batches for c in batch] == ["a", "b"]
    assert socket.closed == (1000, "")
    assert hub.subscriber_count() == 0


async def test_a_batch_that_has_started_is_finished_when_the_socket_is_stopped(hub) -> None:
    socket = ScriptedSocket([{"type": "hello", "last_seq": 0}, _command("a")], leave=False)
    service = StoringNothing(hub)
    service.refresh_safety = lambda *args: asyncio.sleep(0)
    service.go.clear()
    connection = _connection(socket, service)
    task = asyncio.create_task(connection.run())
    await asyncio.wait_for(service.storing.wait(), 2)
    connection.stop(1013, "Too far behind; reconnect and resume with hello.")
    await asyncio.sleep(0.05)
    assert not task.done()  # the commit in progress is waited for
    service.go.set()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert done and service.batches == [["a"]]
    assert socket.closed == (1013, "Too far behind; reconnect and resume with hello.")


async def test_a_socket_cancelled_from_outside_ends(hub) -> None:
    socket = ScriptedSocket([{"type": "hello", "last_seq": 0}], leave=False)
    service = StoringNothing(hub)
    service.refresh_safety = lambda *args: asyncio.sleep(0)
    task = asyncio.create_task(_connection(socket, service).run())
    await asyncio.wait_for(socket.synced.wait(), 2)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)  # (wait_for would wait on a task that hangs)
    assert done, "the socket's loops did not end"
    assert task.cancelled() and hub.subscriber_count() == 0 and service.batches == []
