"""Our SQLite client (server/platform/sqlite_engine.py): commits without an fsync by default, a short
statement on the loop's thread that never lands inside someone else's transaction and
never makes the loop wait for another process, and checkpoints that bring the WAL to disk."""
from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from tortoise import connections
from tortoise.context import TortoiseContext
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.platform import sqlite_engine
from server.platform.settings import tortoise_config


async def _client(path: Path, query: str = ""):
    ctx = TortoiseContext()
    await ctx.__aenter__()
    await ctx.init(config=tortoise_config(f"sqlite://{path}{query}"))
    client = connections.get("default")
    await client.execute_script("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)")
    return ctx, client


@pytest.fixture
async def sqlite(tmp_path):
    ctx, client = await _client(tmp_path / "engine.sqlite3")
    yield client
    await ctx.__aexit__(None, None, None)


async def test_commits_do_not_fsync_by_default_and_full_brings_it_back(sqlite, tmp_path):
    assert isinstance(sqlite, sqlite_engine.SqliteClient)
    assert await sqlite.execute_inline("PRAGMA synchronous") == [{"synchronous": 1}]  # NORMAL
    assert await sqlite.execute_query_dict("PRAGMA journal_mode") == [{"journal_mode": "wal"}]
    assert not sqlite.fsync_at_commit
    ctx, full = await _client(tmp_path / "full.sqlite3", "?synchronous=FULL")
    try:
        assert full.fsync_at_commit
        assert await full.execute_inline("PRAGMA synchronous") == [{"synchronous": 2}]
        assert await full.execute_inline("INSERT INTO t (v) VALUES (?) RETURNING id", ["a"]) == [{"id": 1}]
    finally:
        await ctx.__aexit__(None, None, None)


async def test_inline_statement_returns_rows_and_raises_tortoise_errors(sqlite):
    assert await sqlite.execute_inline("INSERT INTO t (v) VALUES (?), (?) RETURNING v", ["a", "b"]) == [
        {"v": "a"}, {"v": "b"}]
    with pytest.raises(IntegrityError):
        await sqlite.execute_inline("INSERT INTO t (v) VALUES (?)", ["a"])
    assert await sqlite.execute_query_dict("SELECT count(*) AS n FROM t") == [{"n": 2}]


async def test_inline_statement_waits_for_an_open_transaction_and_stays_out_of_it(sqlite):
    entered, release = asyncio.Event(), asyncio.Event()

    async def transaction_that_rolls_back():
        with pytest.raises(RuntimeError):
            async with in_transaction() as tx:
                await tx.execute_query("INSERT INTO t (v) VALUES ('inside')")
                entered.set()
                await release.wait()
                raise RuntimeError("roll back")

    task = asyncio.create_task(transaction_that_rolls_back())
    await entered.wait()
    inline = asyncio.create_task(sqlite.execute_inline("INSERT INTO t (v) VALUES ('outside') RETURNING v"))
    await asyncio.sleep(0.05)
    assert not inline.done()  # the connection is the transaction's until it ends
    release.set()
    await task
    assert await inline == [{"v": "outside"}]
    assert await sqlite.execute_query_dict("SELECT v FROM t") == [{"v": "outside"}]


async def test_another_process_holding_the_write_lock_never_stalls_the_loop(sqlite, tmp_path):
    other = sqlite3.connect(tmp_path / "engine.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the write lock, as a CLI import would hold it
    other.execute("INSERT INTO t (v) VALUES ('theirs')")
    ticks: list[float] = []

    async def ticker():
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    inline = asyncio.create_task(sqlite.execute_inline("INSERT INTO t (v) VALUES ('ours') RETURNING v"))
    await asyncio.sleep(0.3)
    assert not inline.done()  # waiting for the lock, in the worker thread
    other.execute("COMMIT")
    assert await inline == [{"v": "ours"}]
    ticking.cancel()
    other.close()
    assert max(b - a for a, b in zip(ticks, ticks[1:])) < 0.2  # the loop kept running
    assert await sqlite.execute_query_dict("SELECT v FROM t ORDER BY id") == [{"v": "theirs"}, {"v": "ours"}]


async def test_checkpoints_bring_commits_into_the_database_file(sqlite, tmp_path):
    def in_main_file() -> list[str]:
        # immutable=1 reads the database file alone, without the WAL
        with sqlite3.connect(f"file:{tmp_path / 'engine.sqlite3'}?immutable=1", uri=True) as reader:
            return [v for (v,) in reader.execute("SELECT v FROM t ORDER BY id")]

    await sqlite.checkpoint()  # the table itself
    async with sqlite_engine.checkpoints(sqlite, every=0.05):
        await sqlite.execute_inline("INSERT INTO t (v) VALUES ('first')")
        assert in_main_file() == []  # committed, in the WAL only
        for _ in range(100):
            await asyncio.sleep(0.02)
            if in_main_file():
                break
        assert in_main_file() == ["first"]
        await sqlite.execute_inline("INSERT INTO t (v) VALUES ('last')")
    assert in_main_file() == ["first", "last"]  # and once more on the way out


async def test_no_checkpointer_where_every_commit_is_synced(tmp_path):
    ctx, full = await _client(tmp_path / "full.sqlite3", "?synchronous=FULL")
    try:
        async with sqlite_engine.checkpoints(full, every=0.01):
            assert not [t for t in asyncio.all_tasks() if t.get_coro().__qualname__.startswith("checkpoints")]
    finally:
        await ctx.__aexit__(None, None, None)
