"""The embedded SQLite database: Tortoise's SQLite client with the live board's write kept short.

Tortoise's client keeps one aiosqlite connection whose statements run one at a time in a
worker thread, under an asyncio lock. This subclass changes three things.

1. `synchronous=NORMAL` by default, in WAL mode. A commit is appended to the WAL without
   an fsync. It survives the server process being killed or restarted (design.md: "a
   restart loses nothing acknowledged"). An operating-system crash or power cut can lose
   what was committed after the last checkpoint; `checkpoints()` makes one every
   CHECKPOINT_SECONDS, so that window is about a second. `?synchronous=FULL` in the URL
   brings back an fsync before every commit returns.
2. `execute_inline()` runs one short statement on the event loop's own thread, at a
   moment when nothing else is using the connection (the client's lock is free, or after
   waiting for it). Without an fsync a board's append is about 0.1 ms of SQLite's own
   work, which the worker thread would do too; what goes is aiosqlite's round trip to its
   thread and back (two thread switches, 0.15-0.18 ms on the development machine), and
   statements no longer queue behind loop iterations for their turn on the connection.
   Under FULL (or EXTRA) it uses the worker thread, so the loop never waits for the disk.
3. Checkpoints (which do fsync) run in the worker thread, from `checkpoints()`.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import aiosqlite
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
        self._busy_timeout_ms = 0  # read from the connection once it is made

    async def create_connection(self, with_db: bool) -> None:
        # As Tortoise's, except that the connection may also be used from the loop's thread
        # (execute_inline): only ever while no statement is in the worker thread.
        if not self._connection:
            connection = await aiosqlite.connect(self.filename, isolation_level=None, check_same_thread=False)
            connection._conn.row_factory = sqlite3.Row
            for pragma, value in self.pragmas.items():
                cursor = await connection.execute(f"PRAGMA {pragma}={value}")
                await cursor.close()
            [(self._busy_timeout_ms,)] = await connection.execute_fetchall("PRAGMA busy_timeout")
            self._connection = connection
            await self._post_connect()

    @translate_exceptions
    async def execute_inline(self, query: str, values: list | None = None) -> list[dict]:
        """execute_query_dict for one short statement, on the loop's own thread when a commit
        does not wait for the disk; otherwise (or when another process holds the write lock)
        in the worker thread."""
        if self.fsync_at_commit or self._connection is None:
            return await self.execute_query_dict(query, values)
        try:
            if self._lock.locked():  # a statement or a transaction is on the connection: after it
                async with self._lock:
                    return self._run_now(query, values)
            # Free: run now without taking the lock. Taking it would hand it on one waiter per
            # loop iteration, and on a busy loop the boards' writes would queue for that.
            return self._run_now(query, values)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # another process is writing
                raise
        return await self.execute_query_dict(query, values)  # waits for the lock off the loop

    def _run_now(self, query: str, values: list | None) -> list[dict]:
        assert self._connection is not None
        connection = self._connection._conn
        # Never wait for another process's write lock on the loop's thread: fail at once
        # (the statement changed nothing) and let the worker thread wait instead.
        connection.execute("PRAGMA busy_timeout = 0")
        try:
            return [dict(row) for row in connection.execute(query, values or ()).fetchall()]
        finally:
            connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file, syncing both (in the worker thread)."""
        await self.execute_query_dict("PRAGMA wal_checkpoint(PASSIVE)")


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
