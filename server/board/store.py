"""The board's log on disk: a command's events are appended by one conditional statement.

    INSERT INTO board_events (board_id, seq, ...)
    SELECT * FROM (VALUES (...), (...)) AS v
    WHERE (SELECT coalesce(max(seq), 0) FROM board_events WHERE board_id = ?) = ?   -- the head we decided on
      AND <guard>                                                                   -- still authorized
    RETURNING seq

One statement is one round trip and, outside a transaction, one commit: the events are
written only if the log's head is still the one the command was decided against and the
guard (the actor's authorization, read in the same statement) still holds. Otherwise
nothing is written and `append` says why. Sequence numbers stay gap-free because the
new ones follow the head checked in the same statement, and unique (board, seq) stops
two processes that checked the same head at the same moment: the second one gets an
IntegrityError, as does a retried client command id (unique (board, client_cmd_id)).

The statement is written by hand because it is the live board's hot path (issue 5's
benchmark): through the ORM the same work took seven round trips. Values go through the
model fields' own `to_db_value`, so rows read back through the ORM exactly as if it had
written them; tests compare the two on SQLite and PostgreSQL.
"""
from __future__ import annotations

import contextlib
import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.board import BoardEvent
from server.board.state import Event

_COLUMNS = ("board_id", "seq", "type", "data", "audience", "actor_id", "client_cmd_id", "at")
# PostgreSQL infers no types inside VALUES, so each placeholder says what it holds.
_PG_TYPES = ("int", "int", "varchar", "jsonb", "varchar", "int", "varchar", "timestamptz")
_FIELDS = BoardEvent._meta.fields_map


@dataclass(frozen=True)
class Guard:
    """A boolean SQL condition with `?` placeholders, checked in the appending statement."""

    sql: str
    params: tuple[Any, ...] = ()


class Appended(enum.Enum):
    OK = "ok"
    STALE = "stale"  # the head moved since the state was read: reload and decide again
    REFUSED = "refused"  # the guard no longer holds


async def append(board_id: int, head: int, events: Sequence[Event], *, command_ids: Mapping[int, str] | None = None,
                 guard: Guard | None = None, db: BaseDBAsyncClient | None = None) -> Appended:
    """Write `events` (seq head+1, head+2, ...) if the head is `head` and the guard holds.

    `command_ids` maps a seq to the client command id it answers (a command's last event).
    Raises IntegrityError when another writer took these seq numbers first or a client
    command id is already in the log; then nothing is written.
    Inside `in_transaction()` leave `db` out: the model's connection is the transaction's.
    """
    db = db or BoardEvent._meta.db
    statement = _Statement(db)
    rows = []
    for i, event in enumerate(events):
        if event.seq != head + 1 + i:
            raise ValueError(f"board {board_id}: event seq {event.seq} does not follow head {head + i}")
        values = (board_id, event.seq, event.type, _FIELDS["data"].to_db_value(dict(event.data), BoardEvent),
                  event.audience, int(event.actor["id"]) if event.actor else None,
                  (command_ids or {}).get(event.seq), _FIELDS["at"].to_db_value(event.at, BoardEvent))
        rows.append("(" + ", ".join(map(statement.param, values, _PG_TYPES)) + ")")
    condition = (f"(SELECT coalesce(max(seq), 0) FROM board_events WHERE board_id = {statement.param(board_id)})"
                 f" = {statement.param(head)}")
    if guard is not None:
        condition += f" AND {statement.guard(guard)}"
    sql = (f"INSERT INTO board_events ({', '.join(_COLUMNS)}) SELECT * FROM (VALUES {', '.join(rows)}) AS v"
           f" WHERE {condition} RETURNING seq")
    # RETURNING counts the rows on both backends (asyncpg's status line for an INSERT does not).
    # On SQLite, outside a transaction, the statement runs on the loop's thread (sqlite_engine.py).
    execute = getattr(db, "execute_inline", db.execute_query_dict)
    written = await execute(sql, statement.params)
    if len(written) == len(events):
        return Appended.OK
    if guard is not None and not await holds(guard, db):
        return Appended.REFUSED
    return Appended.STALE


@contextlib.asynccontextmanager
async def exclusive(board_id: int) -> AsyncIterator[None]:
    """Writers of one board take turns, across processes too.

    On PostgreSQL (several processes share it) this is a transaction holding the board's
    row lock, so a writer whose cached state was behind reloads and wins on its next try
    instead of racing again. SQLite serves one process (`groupipt serve` refuses more),
    where the service's per-board lock already makes writers take turns.
    """
    if BoardEvent._meta.db.capabilities.dialect == "sqlite":
        yield
        return
    async with in_transaction() as db:
        await db.execute_query_dict("SELECT id FROM boards WHERE id = $1 FOR UPDATE", [board_id])
        yield


async def holds(guard: Guard, db: BaseDBAsyncClient | None = None) -> bool:
    """Whether the guard's condition is true now (one query)."""
    db = db or BoardEvent._meta.db
    statement = _Statement(db)
    rows = await db.execute_query_dict(f"SELECT 1 AS yes WHERE {statement.guard(guard)}", statement.params)
    return bool(rows)


class _Statement:
    """Collects parameters: `?` for SQLite; `$n`, typed where PostgreSQL cannot infer, otherwise."""

    def __init__(self, db: BaseDBAsyncClient):
        self.numbered = db.capabilities.dialect != "sqlite"
        self.params: list[Any] = []

    def param(self, value: Any, pg_type: str | None = None) -> str:
        self.params.append(value)
        if not self.numbered:
            return "?"
        return f"${len(self.params)}" + (f"::{pg_type}" if pg_type else "")

    def guard(self, guard: Guard) -> str:
        pieces = guard.sql.split("?")
        if len(pieces) - 1 != len(guard.params):
            raise ValueError(f"guard has {len(pieces) - 1} placeholders for {len(guard.params)} values")
        return pieces[0] + "".join(self.param(value) + piece for value, piece in zip(guard.params, pieces[1:]))
