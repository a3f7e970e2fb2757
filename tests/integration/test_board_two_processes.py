"""Two server processes on one PostgreSQL database and one Redis: a facilitator on one and
the participant display on the other see the same events in the same order.

Runs when GROUPIPT_TEST_POSTGRES_URL and GROUPIPT_TEST_REDIS_URL are set (CI sets both).
"""
from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext

from models.board import BoardEvent
from server.platform.settings import tortoise_config
from tests.integration.test_board_support import (
    BoardClient,
    make_board_world,
    present_all,
    turn_data,
)
from tests.support.server import LiveServer, migrated_postgres_database

POSTGRES_URL = os.environ.get("GROUPIPT_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("GROUPIPT_TEST_REDIS_URL", "")

pytestmark = [
    pytest.mark.postgres, pytest.mark.redis,
    pytest.mark.skipif(not (POSTGRES_URL and REDIS_URL),
                       reason="needs GROUPIPT_TEST_POSTGRES_URL and GROUPIPT_TEST_REDIS_URL"),
]


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    database_url, drop = migrated_postgres_database(POSTGRES_URL)
    broadcast = f"{REDIS_URL}?prefix=gipt-test-{uuid.uuid4().hex[:8]}:"
    servers = []
    try:
        for name in ("one", "two"):
            servers.append(LiveServer(var_dir=tmp_path_factory.mktemp(f"board-{name}"), database_url=database_url,
                                      broadcast_url=broadcast).start())
        yield database_url, servers
    finally:
        for server in servers:
            server.stop()
        drop()


@pytest.fixture
def fresh_insert_sql():
    # Tortoise caches INSERT statements per connection *name* ("default" for every backend),
    # so SQL built for the session's SQLite database would be sent to PostgreSQL here.
    EXECUTOR_CACHE.clear()
    yield
    EXECUTOR_CACHE.clear()


async def test_facilitators_and_display_on_two_processes_see_one_order(two_servers, fresh_insert_sql):
    database_url, (one, two) = two_servers
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url))
        world = await make_board_world()
        fac_one = await BoardClient.open(one.ws_url, world.meeting_id, world.tokens["fac1"])
        fac_two = await BoardClient.open(two.ws_url, world.meeting_id, world.tokens["fac2"])
        display_two = await BoardClient.open(two.ws_url, world.meeting_id, world.tokens["fac1"], view="display")
        display_one = await BoardClient.open(one.ws_url, world.meeting_id, world.tokens["member"], view="display")
        start = fac_one.last_seq

        await present_all(fac_one, world)
        await fac_one.ok("add_turn", turn_data(world))
        await fac_two.ok("add_turn", turn_data(world, protagonist=1, role_label="my neighbour"))

        async def burst(client, who, n):
            return [await client.ok("rate_goal", {"goal": world.group_goal, "rating": i % 5}) if i % 2 else
                    await client.ok("add_note", {"text": f"{who} {i}"}) for i in range(n)]

        # both processes write at once: the head check and unique (board, seq) let one through, the other decides again
        seqs = await asyncio.gather(burst(fac_one, "one", 20), burst(fac_two, "two", 20))
        last = await fac_two.ok("start_turn", {"turn": "1"})
        assert sorted(seqs[0] + seqs[1]) == list(range(seqs[0][0] if seqs[0][0] < seqs[1][0] else seqs[1][0],
                                                       last))

        for client in (fac_one, fac_two, display_one, display_two):
            await client.wait_seq(last, timeout=15)
        order = [e["seq"] for e in fac_one.events]
        assert order == [e["seq"] for e in fac_two.events] == list(range(start + 1, last + 1))
        stored = await BoardEvent.filter(board__meeting_id=world.meeting_id, audience="all").order_by(
            "seq").values_list("seq", flat=True)
        shown = [seq for seq in stored if seq > start]
        assert [e["seq"] for e in display_one.events] == [e["seq"] for e in display_two.events] == shown
        assert [e["type"] for e in display_two.events] == [e["type"] for e in display_one.events]
        assert "note_added" not in {e["type"] for e in display_two.events}
        for client in (fac_one, fac_two, display_one, display_two):
            await client.close()
