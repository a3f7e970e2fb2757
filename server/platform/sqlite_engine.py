"""The embedded SQLite database: Tortoise's SQLite client with the live board's write kept short.

Tortoise's client keeps one aiosqlite connection whose statements run one at a time in a
worker thread, under an asyncio lock. This subclass changes three things.

1. `synchronous=NORMAL` by default, in WAL mode. A commit is appended to the WAL without
   an fsync. It survives the server process being killed or restarted (design.md: "a
   restart loses nothing acknowledged"). An operating-system crash or power cut can lose
   what was committed after the last checkpoint; `checkpoints()` makes one every
   CHECKPOINT_SECONDS, so that window is about a second. `?synchronous=FULL` in the URL
   brings back an fsync before every commit returns.
2. `execute_inline()` runs one short statement on the event loop's own thread, on a second
   connection of its own, at a moment when the ORM's connection has no transaction open
   (its lock is free, or after waiting for it). Without an fsync a board's append is
   SQLite work the worker thread would do too; what goes is aiosqlite's round trip to its
   thread and back (two thread switches, 0.15-0.18 ms on the development machine), and
   statements no longer queue behind loop iterations for their turn on the connection.
   The second connection never waits for a lock (busy timeout 0): when another process
   holds the write lock the statement goes to the worker thread, which waits instead.
   Under FULL (or EXTRA), or for an in-memory database, every statement uses the worker
   thread, so the loop never waits for the disk.
3. Checkpoints (which do fsync) run in a thread of their own, on a connection of their
   own, so they hold up neither the loop nor the ORM's queries.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

from tortoise.backends.sqlite.client import SqliteClient as TortoiseSqliteClient
from tortoise.backends.sqlite.client import translate_exceptions

log = logging.getLogger("groupipt.db")

CHECKPOINT_SECONDS = 1.0
_NO_FSYNC_AT_COMMIT = {"OFF", "NORMAL", "0", "1"}


class SqliteClient(TortoiseSqliteClient):
    def __init__(self, file_path: str, **kwargs: Any) -> None:
        kwargs.setdefault("synchronous", "NORMAL")
        super().__init__(file_path, **kwargs)
        self.fsync_at_commit = str(self.pragmas["synchronous"]).upper() not in _NO_FSYNC_AT_COMMIT
        self._inline: sqlite3.Connection | None = None  # the loop thread's own, when it may write

    async def create_connection(self, with_db: bool) -> None:
        await super().create_connection(with_db)
        if self._inline is None and not self.fsync_at_commit and ":memory:" not in self.filename:
            # Only ever used from the loop's thread; the flag lets a test's loop in another
            # thread use it too (never two at once: each statement runs to its end).
            self._inline = self._connect(timeout=0)
            # No automatic checkpoint (an fsync) on the loop's thread after a board's commit:
            # `checkpoints()` makes them every second, off the loop (issue 15).
            self._inline.execute("PRAGMA wal_autocheckpoint=0")

    def _connect(self, timeout: float) -> sqlite3.Connection:
        connection = sqlite3.connect(self.filename, isolation_level=None, timeout=timeout, check_same_thread=False)
        for pragma, value in self.pragmas.items():
            if pragma != "busy_timeout":  # the timeout above is this connection's
                connection.execute(f"PRAGMA {pragma}={value}")
        return connection

    async def close(self) -> None:
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        await super().close()

    @translate_exceptions
    async def execute_inline(self, query: str, values: list | None = None) -> list[dict]:
        """execute_query_dict for one short statement, on the loop's own thread when a commit
        does not wait for the disk; otherwise (or when another process holds the write lock)
        in the worker thread."""
        if self._inline is None:
            return await self.execute_query_dict(query, values)
        try:
            if self._lock.locked():  # maybe a transaction: after it, so as not to race its writes
                async with self._lock:
                    return self._run_inline(query, values)
            # Free: run now without taking the lock. Taking it would hand it on one waiter per
            # loop iteration, and on a busy loop the boards' writes would queue for that.
            return self._run_inline(query, values)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # another process is writing
                raise
        return await self.execute_query_dict(query, values)  # waits for the lock off the loop

    def _run_inline(self, query: str, values: list | None) -> list[dict]:
        assert self._inline is not None
        cursor = self._inline.execute(query, values or ())
        rows = cursor.fetchall()
        if not rows:
            return []
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in rows]

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file, syncing both, in a thread of its own."""
        await asyncio.to_thread(self._checkpoint_now)

    def _checkpoint_now(self) -> None:
        # A connection per checkpoint (once a second): it is never shared between threads.
        with contextlib.closing(self._connect(timeout=5)) as connection:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")


@contextlib.asynccontextmanager
async def checkpoints(client: Any, every: float = CHECKPOINT_SECONDS) -> AsyncIterator[None]:
    """While open, checkpoint `client`'s database every `every` seconds (if it is ours)."""
    if not isinstance(client, SqliteClient) or client.fsync_at_commit:
        yield
        return

    async def run() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await client.checkpoint()
            except Exception:  # logged and tried again; a missed checkpoint only widens the window
                log.exception("SQLite checkpoint failed")

    task = asyncio.create_task(run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(Exception):
            await client.checkpoint()


client_class = SqliteClient
