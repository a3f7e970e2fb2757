"""Stored snapshots of a board's state, so that loading a board costs one snapshot and the
events after it, not the whole log (issue 15).

A snapshot summarises the log up to event `seq`; the log stays the truth:
- written after the commit of every SNAPSHOT_EVERY-th event (never in the command's
  transaction: a snapshot that fails to be written costs a longer replay, nothing else),
  from the state `apply` made, and only if that state reads back from its JSON unchanged;
- read only if its `version` is STATE_VERSION (the state format `apply` makes now), its
  JSON reads as a state at `seq`, and its `fingerprint` matches the log's event `seq` (a
  log restored or rewritten under it shows); the events after it are then folded in with
  the same `apply`. Otherwise it is ignored and the log replayed from the start.
A board keeps the snapshots a catch-up can start from (the last KEEP events' worth).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from models.board import BoardEvent, BoardSnapshot
from server.board.state import Event, State

log = logging.getLogger("groupipt.board")

SNAPSHOT_EVERY = 100  # events between two snapshots
STATE_VERSION = 1  # bump when `apply` makes states of another shape: older snapshots are then ignored
KEEP = 600  # snapshots this many events behind the newest are deleted (catch-up reaches back 500)
CANDIDATES = 2  # snapshots tried, newest first, before replaying the whole log

_AT = BoardEvent._meta.fields_map["at"]


@dataclass(frozen=True)
class Snapshot:
    seq: int
    version: int
    fingerprint: str
    state: str  # JSON text


def fingerprint(event: Event) -> str:
    """What a snapshot remembers of the event it ends at, to recognise the same log later."""
    at = event.at if event.at.tzinfo is not None else event.at.replace(tzinfo=UTC)
    return f"{event.type} {int(at.timestamp() * 1_000_000)}"


def due(before_seq: int, after_seq: int) -> bool:
    """Whether the events (before_seq, after_seq] pass a multiple of SNAPSHOT_EVERY."""
    return after_seq // SNAPSHOT_EVERY > before_seq // SNAPSHOT_EVERY


def _placeholders(db: Any, n: int) -> list[str]:
    return ["?"] * n if db.capabilities.dialect == "sqlite" else [f"${i}" for i in range(1, n + 1)]


async def candidates(board_id: int, upto: int | None = None) -> list[Snapshot]:
    """The board's newest snapshots at or before `upto` (any, when None), newest first."""
    db = BoardSnapshot._meta.db
    p = _placeholders(db, 3)
    where = f"board_id = {p[0]}" + (f" AND seq <= {p[1]}" if upto is not None else "")
    params: list[Any] = [board_id] + ([upto] if upto is not None else [])
    rows = await db.execute_query_dict(
        f"SELECT seq, version, fingerprint, state FROM board_snapshots WHERE {where}"
        f" ORDER BY seq DESC LIMIT {CANDIDATES}", params)
    return [Snapshot(r["seq"], r["version"], r["fingerprint"], r["state"]) for r in rows]


def usable(snapshot: Snapshot, at_seq: Event | None) -> State | None:
    """The snapshot's state if it can stand for the log up to its seq, whose event is `at_seq`
    (None: the log has no such event); None, and why logged, if not."""
    why = None
    state: Any = None
    if snapshot.version != STATE_VERSION:
        why = f"state format {snapshot.version}, not {STATE_VERSION}"
    elif at_seq is None or at_seq.seq != snapshot.seq or fingerprint(at_seq) != snapshot.fingerprint:
        why = "the log's event at its seq is not the one it summarised"
    else:
        try:
            state = orjson.loads(snapshot.state)
        except orjson.JSONDecodeError:
            why = "its state is not JSON"
        else:
            if not isinstance(state, dict) or state.get("seq") != snapshot.seq:
                why = "its state is not a board state at its seq"
    if why is not None:
        log.warning("board snapshot at seq %s ignored: %s", snapshot.seq, why)
        return None
    return state


async def write(board_id: int, state: State, last: Event) -> bool:
    """Store `state` (the state after event `last`) as a snapshot, outside any transaction,
    and delete those a catch-up no longer starts from. False if it was not stored."""
    if state.get("seq") != last.seq:
        raise ValueError(f"board {board_id}: state at {state.get('seq')} stored as a snapshot at {last.seq}")
    text = orjson.dumps(state).decode()
    if orjson.loads(text) != state:  # something JSON cannot carry: a snapshot would read back different
        log.warning("board %s: state at seq %s does not survive JSON; no snapshot", board_id, last.seq)
        return False
    db = BoardSnapshot._meta.db
    p = _placeholders(db, 6)
    at = BoardSnapshot._meta.fields_map["created_at"].to_db_value(datetime.now(UTC), BoardSnapshot)
    # One at that seq already (an ignored one of another format, or a twin): this one replaces it.
    conflict = (" ON CONFLICT (board_id, seq) DO UPDATE SET version = excluded.version,"
                " fingerprint = excluded.fingerprint, state = excluded.state, created_at = excluded.created_at")
    await db.execute_query(
        f"INSERT INTO board_snapshots (board_id, seq, version, fingerprint, state, created_at)"
        f" VALUES ({', '.join(p)}){conflict}",
        [board_id, last.seq, STATE_VERSION, fingerprint(last), text, at])
    p = _placeholders(db, 2)
    await db.execute_query(f"DELETE FROM board_snapshots WHERE board_id = {p[0]} AND seq < {p[1]}",
                           [board_id, last.seq - KEEP])
    return True


def event_from_row(row: Mapping[str, Any]) -> Event:
    """An event read by hand (store.read) as the ORM would have made it."""
    actor = None
    if row["actor_id"] is not None:
        actor = {"id": str(row["actor_id"]), "name": row["actor_name"] or ""}
    data = row["data"]
    if isinstance(data, (str, bytes)):
        data = orjson.loads(data)
    return Event(seq=row["seq"], type=row["type"], data=data, audience=row["audience"], actor=actor,
                 at=_AT.to_python_value(row["at"]))
