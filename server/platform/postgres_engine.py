"""PostgreSQL: Tortoise's asyncpg client, with one connection kept for the live board's appends.

A board command's acknowledgement waits for one statement (`server.board.store.append`).
Through the pool, each statement also costs taking a connection and giving it back, and
asyncpg resets a connection it takes back (RESET ALL, UNLISTEN *, CLOSE ALL, unlocking
advisory locks: one more round trip to the server, on these two-core machines competing for
the CPU with the command's own acknowledgement and broadcast). Issue 15 measured the
command -> ack round trip at 1.7x the physical floor of a commit; with the appends on a
connection of their own it was 1.58x in the same session.

`execute_inline()` (the name SQLite's client gives its own short-statement path, so the
board's store calls both alike) runs one autocommitted statement on that connection. The
connection comes from the pool, so it counts within the pool's size, and goes back to it
when the client closes. When it is busy (another board of this process is appending at
that moment) the statement takes a pooled connection, which goes back to the pool (and is
reset) after the answer is returned, not before: nothing waits for the kept one, and no
acknowledgement waits for a reset. Nothing is left on the kept connection between
statements: each is autocommitted, and no statement sent here sets session state, listens
or takes advisory locks (the reset would have undone those).
"""
from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.client import PoolConnectionWrapper


class PostgresClient(AsyncpgDBClient):
    _kept: asyncpg.Connection | None = None
    _kept_busy: bool = False

    async def execute_inline(self, query: str, values: list | None = None) -> list[dict[str, Any]]:
        """execute_query_dict for one short autocommitted statement, on the kept connection
        when it is free (never inside a transaction: a transaction's client is another class)."""
        if self._kept_busy:
            return await self._translate_exceptions(_fetch_pooled, query, values or [])
        self._kept_busy = True
        try:
            connection = await self._kept_connection()
            return await self._translate_exceptions(_fetch, connection, query, values or [])
        finally:
            self._kept_busy = False

    async def _kept_connection(self) -> asyncpg.Connection:
        kept = self._kept
        if kept is not None:
            try:
                if not kept.is_closed():
                    return kept
                await self._release_kept(kept)  # closed: back to the pool, which drops it
            except asyncpg.InterfaceError:
                pass  # the server ended it, and the pool has taken it back already
            self._kept = None
        await PoolConnectionWrapper(self, self._pool_init_lock).ensure_connection()
        assert self._pool is not None
        self._kept = await self._pool.acquire()
        return self._kept

    async def _release_kept(self, connection: asyncpg.Connection) -> None:
        if self._pool is not None:
            try:
                await self._pool.release(connection)
            except Exception:  # a connection that broke: the pool's close terminates it
                self.log.warning("the board's kept connection could not go back to the pool", exc_info=True)

    async def _close(self) -> None:
        # Given back first: the pool's close waits for every acquired connection.
        kept, self._kept = self._kept, None
        if kept is not None:
            await self._release_kept(kept)
        await super()._close()

    async def _expire_connections(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            await self._release_kept(kept)
        await super()._expire_connections()


_releasing: set[asyncio.Task[Any]] = set()


async def _fetch_pooled(client: PostgresClient, query: str, values: list) -> list[dict[str, Any]]:
    wrapper = PoolConnectionWrapper(client, client._pool_init_lock)
    connection = await wrapper.__aenter__()
    try:
        rows = await connection.fetch(query, *values)
    except BaseException:
        await wrapper.__aexit__(None, None, None)
        raise
    release = asyncio.get_running_loop().create_task(_release_later(wrapper))
    _releasing.add(release)  # kept until done (the loop holds tasks weakly)
    release.add_done_callback(_releasing.discard)
    return [dict(row) for row in rows]


async def _release_later(wrapper: PoolConnectionWrapper) -> None:
    # Two turns of the loop first: the caller's ack is sent in the first, and the reset
    # (its query is sent from the loop's thread) then does not come before it.
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    await wrapper.__aexit__(None, None, None)


async def _fetch(_: PostgresClient, connection: asyncpg.Connection, query: str, values: list) -> list[dict[str, Any]]:
    # (the client is passed first by _translate_exceptions, which turns asyncpg's errors into Tortoise's)
    return [dict(row) for row in await connection.fetch(query, *values)]


client_class = PostgresClient
