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
IntegrityError, as does a retried client command id (unique (board, client_cmd_id)); the
service tells the two apart by reading the head again (`head`), and decides the first again.

On PostgreSQL too the statement runs on its own, autocommitted: one round trip and one
commit (one wait for the disk) per batch of commands, not the four of BEGIN, SELECT ... FOR
UPDATE, INSERT, COMMIT (issue 15), on a connection kept for it (no pool hand-over and reset
per command: server/platform/postgres_engine.py). It takes the board's row lock as it
writes. Writers of one board in one process take turns behind the service's per-board lock;
a writer that lost a race to another process tries again inside `exclusive` (the row lock
held for its tries).

The statement is written by hand because it is the live board's hot path (issue 5's
benchmark): through the ORM the same work took seven round trips. Values go through the
model fields' own `to_db_value`, so rows read back through the ORM exactly as if it had
written them; tests compare the two on SQLite and PostgreSQL.
"""
from __future__ import annotations

import contextlib
import enum
import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager as AsyncContextManager
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.board import BoardEvent
from server.board.snapshots import event_from_row
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

    def __post_init__(self) -> None:
        if self.sql.count("?") != len(self.params):
            raise ValueError(f"guard has {self.sql.count('?')} placeholders for {len(self.params)} values")


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
    params: list[Any] = []
    for i, event in enumerate(events):
        if event.seq != head + 1 + i:
            raise ValueError(f"board {board_id}: event seq {event.seq} does not follow head {head + i}")
        params += (board_id, event.seq, event.type, _FIELDS["data"].to_db_value(dict(event.data), BoardEvent),
                   event.audience, int(event.actor["id"]) if event.actor else None,
                   (command_ids or {}).get(event.seq), _FIELDS["at"].to_db_value(event.at, BoardEvent))
    params += (board_id, head)
    if guard is not None:
        params += guard.params
    if db.capabilities.dialect != "sqlite":
        params.append(board_id)  # the board's row lock
    sql = _append_sql(db.capabilities.dialect != "sqlite", len(events), guard.sql if guard is not None else None)
    # RETURNING counts the rows on both backends (asyncpg's status line for an INSERT does not).
    # Outside a transaction the statement runs on the loop's thread (SQLite, sqlite_engine.py)
    # or on the connection kept for it (PostgreSQL, postgres_engine.py).
    execute = getattr(db, "execute_inline", None) or db.execute_query_dict
    written = await execute(sql, params)
    if len(written) == len(events):
        return Appended.OK
    if guard is not None and not await holds(guard, db):
        return Appended.REFUSED
    return Appended.STALE


@functools.lru_cache(maxsize=64)
def _append_sql(numbered: bool, rows: int, guard_sql: str | None) -> str:
    """The appending statement for `rows` events; made once per shape (it is the hot path)."""
    place = _Placeholders(numbered)
    values = ", ".join("(" + ", ".join(map(place, _PG_TYPES)) + ")" for _ in range(rows))
    condition = f"(SELECT coalesce(max(seq), 0) FROM board_events WHERE board_id = {place()}) = {place()}"
    if guard_sql is not None:
        condition += f" AND {place.fill(guard_sql)}"
    insert = f"INSERT INTO board_events ({', '.join(_COLUMNS)}) SELECT v.* FROM (VALUES {values}) AS v"
    if not numbered:
        return f"{insert} WHERE {condition} RETURNING seq"
    # PostgreSQL: the statement holds the board's row lock until it commits, so that a writer
    # in `exclusive` (one that lost a race) waits for it, and it for that writer.
    return (f"WITH locked AS (SELECT id FROM boards WHERE id = {place('int')} FOR UPDATE) {insert}"
            f" WHERE EXISTS (SELECT 1 FROM locked) AND {condition} RETURNING seq")


def exclusive(board_id: int) -> AsyncContextManager[BaseDBAsyncClient]:
    """For a writer that lost a race: take turns with the board's other writers, across
    processes too; gives the connection to append with.

    On PostgreSQL this is a transaction holding the board's row lock (which every append
    statement takes too), so a writer whose cached state was behind reloads and wins on its
    next try instead of racing again. SQLite serves one process (`groupipt serve` refuses
    more), where the service's per-board lock already makes writers take turns.
    """
    db = BoardEvent._meta.db
    if db.capabilities.dialect == "sqlite":
        return contextlib.nullcontext(db)  # (an async context manager too)
    return _row_locked(board_id)


@contextlib.asynccontextmanager
async def _row_locked(board_id: int) -> AsyncIterator[BaseDBAsyncClient]:
    async with in_transaction() as db:
        await db.execute_query_dict("SELECT id FROM boards WHERE id = $1 FOR UPDATE", [board_id])
        yield db


async def head(board_id: int, db: BaseDBAsyncClient | None = None) -> int:
    """The log's head now (0 for an empty log)."""
    db = db or BoardEvent._meta.db
    place = _Placeholders(db.capabilities.dialect != "sqlite")
    rows = await db.execute_query_dict(
        f"SELECT coalesce(max(seq), 0) AS head FROM board_events WHERE board_id = {place()}", [board_id])
    return int(rows[0]["head"])


async def holds(guard: Guard, db: BaseDBAsyncClient | None = None) -> bool:
    """Whether the guard's condition is true now (one query)."""
    db = db or BoardEvent._meta.db
    condition = _Placeholders(db.capabilities.dialect != "sqlite").fill(guard.sql)
    return bool(await db.execute_query_dict(f"SELECT 1 AS yes WHERE {condition}", list(guard.params)))


async def read(board_id: int, *, after: int = 0, upto: int | None = None) -> list[Event]:
    """The events (after, upto] in order, with their actors' names: one hand-written query, as
    `append` is (the ORM's model instances cost more than the query on a long tail)."""
    db = BoardEvent._meta.db
    place = _Placeholders(db.capabilities.dialect != "sqlite")
    where = f"e.board_id = {place()} AND e.seq > {place()}"
    params: list[Any] = [board_id, after]
    if upto is not None:
        where += f" AND e.seq <= {place()}"
        params.append(upto)
    rows = await db.execute_query_dict(
        "SELECT e.seq, e.type, e.data, e.audience, e.at, e.actor_id, u.display_name AS actor_name"
        f" FROM board_events e LEFT JOIN users u ON u.id = e.actor_id WHERE {where} ORDER BY e.seq", params)
    return [event_from_row(row) for row in rows]


class _Placeholders:
    """`?` for SQLite; `$1`, `$2`, ... for PostgreSQL, typed where it cannot infer the type."""

    def __init__(self, numbered: bool):
        self.numbered, self.count = numbered, 0

    def __call__(self, pg_type: str | None = None) -> str:
        self.count += 1
        if not self.numbered:
            return "?"
        return f"${self.count}" + (f"::{pg_type}" if pg_type else "")

    def fill(self, sql: str) -> str:
        """`sql` with each of its `?` numbered in turn."""
        pieces = sql.split("?")
        return pieces[0] + "".join(self() + piece for piece in pieces[1:])
