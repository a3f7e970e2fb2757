"""Our PostgreSQL client (server/platform/postgres_engine.py): the board's short statements go on
one connection kept for them, which never holds anyone up (busy: the pool serves), gives
Tortoise's errors, is replaced when the server ends it, and goes back to the pool at close."""
from __future__ import annotations

import asyncio
import os
import time

import asyncpg
import pytest
from tortoise import connections
from tortoise.context import TortoiseContext
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.platform import postgres_engine
from server.platform.settings import tortoise_config
from tests.support.server import fresh_postgres_database

ADMIN_URL = os.environ.get("GROUPIPT_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not ADMIN_URL, reason="GROUPIPT_TEST_POSTGRES_URL is not set")


@pytest.fixture(scope="module")
def database_url():
    url, drop = fresh_postgres_database(ADMIN_URL)
    yield url
    drop()


@pytest.fixture
async def postgres(database_url):
    ctx = TortoiseContext()
    await ctx.__aenter__()
    await ctx.init(config=tortoise_config(database_url))
    client = connections.get("default")
    await client.execute_script("DROP TABLE IF EXISTS t; CREATE TABLE t (id serial PRIMARY KEY, v text UNIQUE)")
    yield client
    await ctx.__aexit__(None, None, None)


async def _pid(client) -> int:
    [row] = await client.execute_inline("SELECT pg_backend_pid() AS pid")
    return row["pid"]


async def test_short_statements_share_one_connection_which_goes_back_to_the_pool_at_close(database_url):
    ctx = TortoiseContext()
    await ctx.__aenter__()
    await ctx.init(config=tortoise_config(database_url))
    client = connections.get("default")
    assert isinstance(client, postgres_engine.PostgresClient)
    pids = {await _pid(client) for _ in range(20)}
    assert len(pids) == 1
    [other] = await client.execute_query_dict("SELECT pg_backend_pid() AS pid")  # the ORM's: from the pool
    assert other["pid"] not in pids
    started = time.monotonic()
    await ctx.__aexit__(None, None, None)  # the pool's close would wait 10 s for a connection not given back
    assert time.monotonic() - started < 3


async def test_rows_come_back_as_dicts_and_errors_as_tortoises_and_the_connection_stays(postgres):
    pid = await _pid(postgres)
    assert await postgres.execute_inline("INSERT INTO t (v) VALUES ($1), ($2) RETURNING v", ["a", "b"]) == [
        {"v": "a"}, {"v": "b"}]
    with pytest.raises(IntegrityError):
        await postgres.execute_inline("INSERT INTO t (v) VALUES ($1)", ["a"])
    assert await _pid(postgres) == pid
    # autocommitted: another connection sees the rows at once
    assert await postgres.execute_query_dict("SELECT count(*) AS n FROM t") == [{"n": 2}]


async def test_while_the_kept_connection_is_busy_a_pooled_one_serves_without_waiting(postgres):
    kept = await _pid(postgres)
    started = time.monotonic()
    slow, quick = await asyncio.gather(
        postgres.execute_inline("SELECT pg_backend_pid() AS pid, pg_sleep(0.5)"),
        postgres.execute_inline("SELECT pg_backend_pid() AS pid"))
    assert slow[0]["pid"] == kept and quick[0]["pid"] != kept
    assert time.monotonic() - started < 0.9  # side by side, not one after the other
    await asyncio.sleep(0.05)  # the pooled one went back to the pool after its answer
    assert postgres._pool.get_idle_size() >= 1
    assert await _pid(postgres) == kept


async def test_a_connection_the_server_ended_is_replaced(postgres, database_url):
    pid = await _pid(postgres)
    admin = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    for _ in range(100):  # the loop sees the connection close
        try:
            if postgres._kept.is_closed():
                break
        except asyncpg.InterfaceError:  # the pool took it back when it closed
            break
        await asyncio.sleep(0.01)
    new = await _pid(postgres)
    assert new != pid
    assert await postgres.execute_inline("INSERT INTO t (v) VALUES ($1) RETURNING v", ["c"]) == [{"v": "c"}]


async def test_a_transaction_keeps_its_own_connection(postgres):
    kept = await _pid(postgres)
    async with in_transaction() as tx:
        assert not hasattr(tx, "execute_inline")  # store.append then writes on the transaction's
        await tx.execute_query("INSERT INTO t (v) VALUES ($1)", ["in-tx"])
        [row] = await tx.execute_query_dict("SELECT pg_backend_pid() AS pid")
        assert row["pid"] != kept
        # not visible outside until the commit: the kept connection is not the transaction's
        assert await postgres.execute_inline("SELECT count(*) AS n FROM t WHERE v = 'in-tx'") == [{"n": 0}]
    assert await postgres.execute_inline("SELECT count(*) AS n FROM t WHERE v = 'in-tx'") == [{"n": 1}]
