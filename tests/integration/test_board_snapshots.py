"""Board snapshots (issue 15), on SQLite and PostgreSQL: a board with more than SNAPSHOT_EVERY
events loads from its newest snapshot and the events after it, into the very state a full
replay makes; a snapshot that is unreadable, of an older format or of another log is
ignored; a snapshot is written after the command's commit, never inside it; a client that
has seq s is caught up from s, with only the events it missed."""
from __future__ import annotations

import json
import logging

import asyncpg
import pytest

from models.accounts import User
from models.board import BoardEvent, BoardSnapshot
from models.cohorts import Meeting
from server.board import snapshots, store, wire
from server.board.hub import Hub
from server.board.service import BoardService, Outcome
from server.board.state import Command, empty_state, replay
from server.board.views import FACILITATOR, moved_parts
from tests.integration.test_board_support import make_board_world

N = snapshots.SNAPSHOT_EVERY


@pytest.fixture
async def live(db, live_server):
    bw = await make_board_world()
    hub = Hub.from_url("memory://")
    async with hub.running():
        service = BoardService(hub)
        board = await service.board_for(await Meeting.get(id=bw.meeting_id))
        actor = await User.get(id=int(bw.fac1_id))
        yield service, board, actor, hub


async def _notes(service: BoardService, board, actor, count: int, batch: int = 40) -> None:
    done = 0
    while done < count:
        n = min(batch, count - done)
        results = await service.execute_batch(
            board.id, [(Command("add_note", {"text": f"note {done + i}"}), None) for i in range(n)], actor)
        assert all(isinstance(r, Outcome) for r in results), results
        done += n


async def _full_replay(board_id: int):
    return replay(await store.read(board_id))


def _reads(monkeypatch) -> list[tuple[int, int | None]]:
    seen: list[tuple[int, int | None]] = []
    read = store.read

    async def recording(board_id, *, after=0, upto=None):
        seen.append((after, upto))
        return await read(board_id, after=after, upto=upto)

    monkeypatch.setattr(store, "read", recording)
    return seen


async def test_a_long_board_loads_from_its_snapshot_and_tail_into_the_state_a_full_replay_makes(live, monkeypatch):
    service, board, actor, hub = live
    await _notes(service, board, actor, 2 * N + 30)
    stored = await BoardSnapshot.filter(board_id=board.id).order_by("seq").values_list("seq", "version")
    assert len(stored) == 2 and all(version == snapshots.STATE_VERSION for _, version in stored)
    assert N <= stored[0][0] < N + 40 and 2 * N <= stored[1][0] < 2 * N + 40
    head = (await service.state(board.id))["seq"]

    reads = _reads(monkeypatch)
    cold = BoardService(hub)  # a restarted process: nothing cached
    state = await cold.state(board.id)
    assert state == await _full_replay(board.id) and state["seq"] == head
    assert reads[0] == (stored[-1][0] - 1, None)  # the tail from the newest snapshot, not the log from 1
    assert len(state["notes"]) == 2 * N + 30


async def test_a_snapshot_of_another_format_unreadable_or_of_another_log_is_ignored(live, caplog):
    service, board, actor, hub = live
    await _notes(service, board, actor, N + 20)
    head = (await service.state(board.id))["seq"]
    full = await _full_replay(board.id)
    [row] = await BoardSnapshot.filter(board_id=board.id)
    good = dict(version=row.version, state=row.state, fingerprint=row.fingerprint)
    # Each would give a wrong board if it were believed: a state with one note only.
    wrong = json.dumps({**json.loads(row.state), "notes": []})
    for bad in (dict(version=snapshots.STATE_VERSION - 1, state=wrong), dict(state="{not json"),
                dict(state=json.dumps({"seq": row.seq + 1})), dict(state=wrong, fingerprint="note_added 0")):
        # (a load that replayed the log stores a good snapshot at the head: not this time)
        await BoardSnapshot.filter(board_id=board.id).exclude(id=row.id).delete()
        await BoardSnapshot.filter(id=row.id).update(**{**good, **bad})
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="groupipt.board"):
            state = await BoardService(hub).state(board.id)
        assert state == full and state["seq"] == head, bad
        assert any("snapshot at seq" in r.getMessage() and "ignored" in r.getMessage() for r in caplog.records), bad

    # A snapshot that reads well but that the events after it do not apply to: ignored too.
    await BoardSnapshot.filter(id=row.id).update(**good)
    await _notes(service, board, actor, 5)
    without_notes = {k: v for k, v in json.loads(row.state).items() if k != "notes"}
    await BoardSnapshot.filter(board_id=board.id).exclude(id=row.id).delete()
    await BoardSnapshot.filter(id=row.id).update(state=json.dumps(without_notes))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="groupipt.board"):
        state = await BoardService(hub).state(board.id)
    assert state == await _full_replay(board.id) and len(state["notes"]) == N + 25
    assert any("do not apply" in r.getMessage() for r in caplog.records)


async def test_a_board_with_no_usable_snapshot_near_its_head_stores_one_after_loading(live):
    service, board, actor, hub = live
    await _notes(service, board, actor, N + 20)
    await BoardSnapshot.filter(board_id=board.id).delete()  # a board from before snapshots
    state = await BoardService(hub).state(board.id)
    [row] = await BoardSnapshot.filter(board_id=board.id)
    assert row.seq == state["seq"] and json.loads(row.state) == state


async def _committed_elsewhere(live_server, board_id: int, seq: int) -> bool:
    """Whether event `seq` is visible to another connection, i.e. committed."""
    url = live_server.database_url
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.split("://", 1)[1].split("?")[0]) as other:
            return other.execute("SELECT 1 FROM board_events WHERE board_id = ? AND seq = ?",
                                 (board_id, seq)).fetchone() is not None
    other = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1).split("?")[0])
    try:
        return await other.fetchval("SELECT count(*) FROM board_events WHERE board_id = $1 AND seq = $2",
                                    board_id, seq) == 1
    finally:
        await other.close()


async def test_a_snapshot_is_written_after_the_commit_and_never_inside_the_command_transaction(
        live, live_server, monkeypatch, caplog):
    service, board, actor, hub = live
    written: list[tuple[int, bool]] = []
    write = snapshots.write

    async def checked(board_id, state, last):
        # The command's events are committed already: another connection sees them.
        written.append((last.seq, await _committed_elsewhere(live_server, board_id, last.seq)))
        return await write(board_id, state, last)

    monkeypatch.setattr(snapshots, "write", checked)
    await _notes(service, board, actor, N + 5, batch=7)
    assert written and all(committed for _, committed in written), written

    # A snapshot that cannot be stored costs the command nothing: it is committed and answered.
    async def failing(board_id, state, last):
        raise RuntimeError("disk full")

    monkeypatch.setattr(snapshots, "write", failing)
    with caplog.at_level(logging.ERROR, logger="groupipt.board"):
        await _notes(service, board, actor, N, batch=N)
    head = (await service.state(board.id))["seq"]
    assert await BoardEvent.filter(board_id=board.id).count() == head
    assert any("could not be stored" in r.getMessage() for r in caplog.records)


def _without_now(frames: list[str]) -> list[dict]:
    out = []
    for frame in frames:
        parsed = json.loads(frame)
        parsed.pop("now", None)
        out.append(parsed)
    return out


async def test_hello_from_seq_s_sends_only_what_was_missed_read_from_a_snapshot_not_the_whole_log(
        live, monkeypatch):
    service, board, actor, hub = live
    await _notes(service, board, actor, 2 * N + 50)
    head = (await service.state(board.id))["seq"]
    s = head - 37
    events = await store.read(board.id)
    expected, state = [], empty_state()  # what a full replay gives for (s, head]
    for event in events:
        before, state = state, replay([event], state)
        if event.seq > s:
            expected.append(wire.event_frame(event, before, state, FACILITATOR, moved_parts(before, state)))

    reads = _reads(monkeypatch)
    for service_now in (service, BoardService(hub)):  # warm, and a restarted process
        reads.clear()
        frames, at = await service_now.catch_up(board.id, s, FACILITATOR)
        assert at == head and len(frames) == head - s
        assert _without_now(frames) == _without_now(expected)
        assert [json.loads(f)["event"]["seq"] for f in frames] == list(range(s + 1, head + 1))
        started = min(after for after, _ in reads)
        assert s - N <= started < s  # from the snapshot at or before s, not from seq 0
