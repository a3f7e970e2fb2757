"""After a batch is committed no answer can be lost (issue 12): a failure injected into the
answering of one command still leaves every committed command its `ack`, the batch is
still broadcast, and the failure is logged once. The real service over the real database,
in this process, so that the failure can be injected."""
from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest

from models.accounts import User
from models.board import BoardEvent
from models.cohorts import Meeting
from server.board import connection as connection_module
from server.board.connection import BoardConnection
from server.board.hub import Hub, Subscription
from server.board.service import BoardService
from server.board.state import Command
from server.board.wire import split_payload
from tests.integration.test_board_support import make_board_world


@pytest.fixture
async def live(db):
    bw = await make_board_world()
    hub = Hub.from_url("memory://")
    async with hub.running():
        service = BoardService(hub)
        meeting = await Meeting.get(id=bw.meeting_id)
        board = await service.board_for(meeting)
        user = await User.get(email=bw.emails["fac1"])
        socket = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(extra={}))))
        connection = BoardConnection(socket, service, board=board, meeting=meeting, user=user, view="facilitator",
                                     credential={"token": bw.tokens["fac1"]})
        connection.sub = hub.subscribe(board.id)
        watcher = hub.subscribe(board.id)  # another socket on the board
        yield SimpleNamespace(bw=bw, service=service, board=board, user=user, connection=connection,
                              watcher=watcher)


def _batch(bw) -> list[tuple[Command, str]]:
    return [
        (Command("add_note", {"text": "one"}), "c1"),
        (Command("end_turn", {"turn": "99"}), "c2"),  # refused: no such turn
        (Command("add_note", {"text": "three"}), "c3"),
        (Command("mark_attendance", {"member": bw.members[0], "status": "present"}), "c4"),
    ]


def _drain(sub: Subscription) -> tuple[list[dict], list[int]]:
    """The frames queued for a socket, and the seqs of the events broadcast to it."""
    frames, seqs = [], []
    while (item := sub.take()) is not None:
        if item[0] == "{":
            frames.append(json.loads(item))
        else:
            seqs.append(split_payload(item)[0])
    return frames, seqs


def _failures(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "groupipt.board" and r.exc_info]


@pytest.mark.parametrize("failing", ["c2", "c3"])  # a refused command's answer, an acknowledged one's
async def test_one_answer_failing_after_the_commit_loses_no_answer_and_no_broadcast(live, monkeypatch, caplog,
                                                                                    failing):
    made = connection_module._frame

    def frame_failing_for_one(**fields):
        if fields.get("id") == failing:
            raise ValueError("str is not valid UTF-8: surrogates not allowed")  # what orjson said
        return made(**fields)

    monkeypatch.setattr(connection_module, "_frame", frame_failing_for_one)
    head = await live.service.head(live.board.id)
    await live.connection._run(_batch(live.bw))

    answers, _ = _drain(live.connection.sub)
    assert [a["id"] for a in answers] == ["c1", "c2", "c3", "c4"]
    assert [a["type"] for a in answers] == ["ack", "error", "ack", "ack"]
    assert [a["seq"] for a in answers if a["type"] == "ack"] == [head + 1, head + 2, head + 3]
    assert answers[1]["code"] == "turn_not_found"
    stored = await BoardEvent.filter(board_id=live.board.id, seq__gt=head).order_by("seq").values_list(
        "seq", "client_cmd_id")
    assert stored == [(head + 1, "c1"), (head + 2, "c3"), (head + 3, "c4")]
    _, broadcast = _drain(live.watcher)
    assert broadcast == [head + 1, head + 2, head + 3]
    [failure] = _failures(caplog)
    assert failing in failure.getMessage()


async def test_an_answer_callback_that_raises_costs_the_others_nothing(live, caplog):
    # The service's own guard: whoever answers, one failing answer does not stop the rest.
    answered: list[str | None] = []

    def answer(command_id, result):
        if command_id == "c1":
            raise RuntimeError("the socket's answer broke")
        answered.append(command_id)

    head = await live.service.head(live.board.id)
    results = await live.service.execute_batch(live.board.id, _batch(live.bw), live.user, on_result=answer)
    assert answered == ["c2", "c3", "c4"] and len(results) == 4
    _, broadcast = _drain(live.watcher)
    assert broadcast == [head + 1, head + 2, head + 3]
    assert len(_failures(caplog)) == 1


async def test_an_event_that_cannot_be_broadcast_does_not_stop_the_others(live, monkeypatch, caplog):
    from server.board import wire

    made = wire.payload

    def payload_failing_once(event, before, after):
        if event.data.get("text") == "one":
            raise ValueError("cannot encode")
        return made(event, before, after)

    monkeypatch.setattr(wire, "payload", payload_failing_once)
    head = await live.service.head(live.board.id)
    await live.connection._run(_batch(live.bw))
    answers, _ = _drain(live.connection.sub)
    assert [a["type"] for a in answers] == ["ack", "error", "ack", "ack"]
    _, broadcast = _drain(live.watcher)
    assert broadcast == [head + 2, head + 3]  # the sockets read head + 1 from the log on seeing the gap
    assert len(_failures(caplog)) == 1
