"""The board log's one-statement append, on SQLite and PostgreSQL: what it writes reads back
through the ORM as if the ORM had written it, and when it must not write, it writes nothing."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tortoise.exceptions import IntegrityError

from models.board import Board, BoardEvent
from server.board import store
from server.board.state import Event
from tests.integration.test_board_support import make_board_world

AT = datetime(2026, 11, 23, 18, 0, 5, 123456, tzinfo=UTC)


@pytest.fixture
async def world(db):
    return await make_board_world()


@pytest.fixture
async def board(world):
    return await Board.create(meeting_id=world.meeting_id)


def event(seq: int, **data) -> Event:
    return Event(seq=seq, type="note_added", data={"text": "é ü — 'quoted'", **data}, audience="facilitators",
                 actor=None, at=AT)


async def test_appended_rows_read_back_like_orm_rows(world, board):
    actor = int(world.fac1_id)
    written = Event(seq=1, type="board_opened", data={"nested": {"list": [1, None, "x"]}, "n": 3},
                    audience="all", actor={"id": str(actor), "name": "x"}, at=AT)
    assert await store.append(board.id, 0, [written], client_cmd_id="c-1") is store.Appended.OK
    await BoardEvent.create(board_id=board.id, seq=2, type=written.type, data=dict(written.data),
                            audience="all", actor_id=actor, client_cmd_id="c-2", at=AT)
    fields = ("seq", "type", "data", "audience", "actor_id", "at")
    ours, orms = await BoardEvent.filter(board_id=board.id).order_by("seq").values(*fields)
    assert {k: v for k, v in ours.items() if k != "seq"} == {k: v for k, v in orms.items() if k != "seq"}
    assert ours["at"] == AT and ours["data"] == {"nested": {"list": [1, None, "x"]}, "n": 3}


async def test_several_events_in_one_statement_carry_the_command_id_on_the_last(board):
    assert await store.append(board.id, 0, [event(1), event(2), event(3)], client_cmd_id="cmd") is store.Appended.OK
    rows = await BoardEvent.filter(board_id=board.id).order_by("seq").values_list("seq", "client_cmd_id")
    assert rows == [(1, None), (2, None), (3, "cmd")]


async def test_a_head_that_moved_on_writes_nothing(board):
    await store.append(board.id, 0, [event(1)])
    assert await store.append(board.id, 0, [event(1)]) is store.Appended.STALE  # decided on an old head
    assert await store.append(board.id, 2, [event(3)]) is store.Appended.STALE  # would leave a gap
    assert await BoardEvent.filter(board_id=board.id).count() == 1


async def test_a_guard_that_fails_writes_nothing_and_says_refused(board):
    yes = store.Guard("EXISTS (SELECT 1 FROM boards b WHERE b.id = ?)", (board.id,))
    no = store.Guard("EXISTS (SELECT 1 FROM boards b WHERE b.id = ? AND b.closed_at IS NOT NULL)", (board.id,))
    assert await store.holds(yes) and not await store.holds(no)
    assert await store.append(board.id, 0, [event(1)], guard=no) is store.Appended.REFUSED
    assert await store.append(board.id, 0, [event(1)], guard=yes) is store.Appended.OK
    assert await BoardEvent.filter(board_id=board.id).count() == 1


async def test_a_command_id_already_in_the_log_is_an_integrity_error_and_nothing_is_written(board):
    await store.append(board.id, 0, [event(1)], client_cmd_id="same")
    with pytest.raises(IntegrityError):
        await store.append(board.id, 1, [event(2), event(3)], client_cmd_id="same")
    assert await BoardEvent.filter(board_id=board.id).count() == 1


async def test_events_must_follow_the_head(board):
    with pytest.raises(ValueError):
        await store.append(board.id, 0, [event(2)])
    with pytest.raises(ValueError):  # a guard's placeholders and values must match
        await store.holds(store.Guard("? = ?", (1,)))
