"""The board log's one-statement append, on SQLite and PostgreSQL: what it writes reads back
through the ORM as if the ORM had written it, and when it must not write, it writes nothing."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tortoise.exceptions import IntegrityError

from models.accounts import User
from models.board import Board, BoardEvent
from models.cohorts import Meeting
from server.board import store
from server.board.hub import Hub
from server.board.service import BoardService, Outcome
from server.board.state import Command, Event
from server.errors import Forbidden, PlatformError
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
    assert await store.append(board.id, 0, [written], command_ids={1: "c-1"}) is store.Appended.OK
    await BoardEvent.create(board_id=board.id, seq=2, type=written.type, data=dict(written.data),
                            audience="all", actor_id=actor, client_cmd_id="c-2", at=AT)
    fields = ("seq", "type", "data", "audience", "actor_id", "at")
    ours, orms = await BoardEvent.filter(board_id=board.id).order_by("seq").values(*fields)
    assert {k: v for k, v in ours.items() if k != "seq"} == {k: v for k, v in orms.items() if k != "seq"}
    assert ours["at"] == AT and ours["data"] == {"nested": {"list": [1, None, "x"]}, "n": 3}


async def test_several_events_in_one_statement_carry_their_command_ids(board):
    assert await store.append(board.id, 0, [event(1), event(2), event(3)], command_ids={3: "cmd"}) is store.Appended.OK
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
    await store.append(board.id, 0, [event(1)], command_ids={1: "same"})
    with pytest.raises(IntegrityError):
        await store.append(board.id, 1, [event(2), event(3)], command_ids={3: "same"})
    assert await BoardEvent.filter(board_id=board.id).count() == 1


async def test_events_must_follow_the_head(board):
    with pytest.raises(ValueError):
        await store.append(board.id, 0, [event(2)])
    with pytest.raises(ValueError):  # a guard's placeholders and values must match
        store.Guard("? = ?", (1,))


async def _service_and_board(world):
    hub = Hub.from_url("memory://")
    service = BoardService(hub)
    meeting = await Meeting.get(id=world.meeting_id)
    board = await service.board_for(meeting)
    return hub, service, board, await User.get(id=int(world.fac1_id))


async def test_a_batch_is_one_commit_with_an_answer_per_command(world):
    hub, service, board, actor = await _service_and_board(world)
    async with hub.running():
        head = (await service.state(board.id))["seq"]
        answers = []
        results = await service.execute_batch(board.id, [
            (Command("add_note", {"text": "a"}), "b-1"),
            (Command("end_turn", {"turn": "42"}), "b-2"),
            (Command("add_note", {"text": "b"}), "b-3"),
        ], actor, on_result=lambda cid, result: answers.append((cid, result)))
    assert results == [Outcome(head + 1), results[1], Outcome(head + 2)]
    assert isinstance(results[1], PlatformError) and results[1].code == "turn_not_found"
    assert answers == list(zip(["b-1", "b-2", "b-3"], results))
    rows = await BoardEvent.filter(board_id=board.id, seq__gt=head).order_by("seq").values_list("seq", "client_cmd_id")
    assert rows == [(head + 1, "b-1"), (head + 2, "b-3")]


async def test_a_retry_inside_a_batch_gets_its_original_ack_and_the_rest_still_go_in(world):
    hub, service, board, actor = await _service_and_board(world)
    async with hub.running():
        first = await service.execute(board.id, Command("add_note", {"text": "once"}), actor, client_cmd_id="r-1")
        results = await service.execute_batch(board.id, [
            (Command("add_note", {"text": "new"}), "r-2"),
            (Command("add_note", {"text": "once"}), "r-1"),  # still applies: unique id stops it
        ], actor)
    assert results == [Outcome(first.seq + 1), Outcome(first.seq, duplicate=True)]
    assert await BoardEvent.filter(board_id=board.id, type="note_added").count() == 2


async def test_a_batch_refused_by_its_guard_writes_nothing_and_every_command_is_forbidden(world):
    hub, service, board, actor = await _service_and_board(world)
    never = store.Guard("EXISTS (SELECT 1 FROM boards b WHERE b.id = ? AND b.closed_at IS NOT NULL)", (board.id,))
    async with hub.running():
        head = (await service.state(board.id))["seq"]
        results = await service.execute_batch(board.id, [(Command("add_note", {"text": "x"}), "f-1"),
                                                         (Command("add_note", {"text": "y"}), "f-2")],
                                              actor, guard=never)
    assert [type(r) for r in results] == [Forbidden, Forbidden]
    assert await BoardEvent.filter(board_id=board.id).count() == head


async def test_who_may_stay_on_a_board_is_checked_again(world):
    """The periodic re-check of a socket: staff by the rule commands are written under, and
    an enrolled member on the display only; a revoked token or a withdrawal ends it."""
    from models.accounts import ApiToken
    from models.cohorts import Enrollment, EnrollmentStatus
    from server.accounts import sha256
    from server.board.access import still_allowed

    async def allowed(key: str, view: str) -> bool:
        user = await User.get(email=world.emails[key])
        return await still_allowed(user, {"token": world.tokens[key]}, world.cohort_id, view)

    assert await allowed("fac1", "facilitator") and await allowed("fac1", "display")
    assert await allowed("coordinator", "facilitator")
    assert not await allowed("outsider", "facilitator") and not await allowed("outsider", "display")
    assert await allowed("member", "display") and not await allowed("member", "facilitator")
    await ApiToken.filter(token_sha256=sha256(world.tokens["fac2"])).update(revoked_at=AT)
    assert not await allowed("fac2", "display")
    member = await User.get(email=world.emails["member"])
    await Enrollment.filter(cohort_id=world.cohort_id, member_id=member.id).update(status=EnrollmentStatus.WITHDRAWN)
    assert not await allowed("member", "display")
