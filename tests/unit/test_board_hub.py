"""The board hub: fan-out per board, bounded queues, shutdown, and the Redis backend."""
from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from server.board.hub import Hub, HubNotRunning, SlowConsumer


async def test_memory_hub_delivers_to_subscribers_of_that_board_only() -> None:
    hub = Hub.from_url("memory://")
    async with hub.running():
        async with hub.subscribe(1) as one, hub.subscribe(1) as other, hub.subscribe(2) as elsewhere:
            await hub.publish(1, "a")
            await hub.publish(1, "b")
            assert [await one.get(), await one.get()] == ["a", "b"]
            assert [await other.get(), await other.get()] == ["a", "b"]
            assert len(elsewhere) == 0
        assert hub.subscriber_count() == 0


async def test_overflow_drops_only_the_slow_subscriber() -> None:
    hub = Hub.from_url("memory://", queue_size=4)
    overflowed = []
    async with hub.running():
        async with hub.subscribe(1, on_overflow=lambda: overflowed.append(True)) as slow, \
                hub.subscribe(1, maxsize=100) as fast:
            for i in range(10):
                await hub.publish(1, str(i))
            assert overflowed == [True]  # called once, not per lost message
            with pytest.raises(SlowConsumer):
                await slow.get()
            assert [fast.take() for _ in range(10)] == [str(i) for i in range(10)]


async def test_a_waiting_socket_wakes_for_a_payload_and_for_its_overflow() -> None:
    hub = Hub.from_url("memory://", queue_size=2)
    async with hub.running():
        async with hub.subscribe(1) as sub:
            waiting = asyncio.create_task(sub.get())
            await asyncio.sleep(0.01)
            await hub.publish(1, "a")
            assert await asyncio.wait_for(waiting, 1) == "a"
            waiting = asyncio.create_task(sub.get())
            await asyncio.sleep(0.01)
            for payload in ("b", "c", "d"):  # no turn for the waiting socket in between
                await hub.publish(1, payload)
            with pytest.raises(SlowConsumer):
                await asyncio.wait_for(waiting, 1)


async def test_close_all_calls_every_socket_closer_with_1012() -> None:
    hub = Hub.from_url("memory://")
    closed: list[int] = []

    async def closer(code: int) -> None:
        closed.append(code)

    async with hub.running():
        hub.subscribe(1, on_shutdown=closer)
        hub.subscribe(2, on_shutdown=closer)
    assert closed == [1012, 1012]


async def test_hub_must_be_running() -> None:
    hub = Hub.from_url("memory://")
    with pytest.raises(HubNotRunning):
        await hub.publish(1, "x")
    with pytest.raises(HubNotRunning):
        hub.subscribe(1)


def test_unknown_url_scheme_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="memory:// or redis://"):
        Hub.from_url("kafka://localhost")


REDIS_URL = os.environ.get("GROUPIPT_TEST_REDIS_URL")


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="GROUPIPT_TEST_REDIS_URL not set")
async def test_redis_hubs_in_two_processes_see_the_same_messages_in_order() -> None:
    url = f"{REDIS_URL}?prefix=test-{uuid.uuid4().hex}:"
    first, second = Hub.from_url(url), Hub.from_url(url)
    async with first.running(), second.running():
        async with first.subscribe(7) as a, second.subscribe(7) as b:
            for i in range(50):
                await (first if i % 2 else second).publish(7, str(i))
            got_a = [await asyncio.wait_for(a.get(), 2) for _ in range(50)]
            got_b = [await asyncio.wait_for(b.get(), 2) for _ in range(50)]
            assert got_a == got_b and sorted(got_a, key=int) == [str(i) for i in range(50)]


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="GROUPIPT_TEST_REDIS_URL not set")
async def test_redis_prefix_keeps_deployments_apart() -> None:
    one = Hub.from_url(f"{REDIS_URL}?prefix=one-{uuid.uuid4().hex}:")
    two = Hub.from_url(f"{REDIS_URL}?prefix=two-{uuid.uuid4().hex}:")
    async with one.running(), two.running():
        async with two.subscribe(1) as sub:
            await one.publish(1, "not for you")
            await asyncio.sleep(0.1)
            assert len(sub) == 0


async def test_redis_unreachable_fails_at_start() -> None:
    hub = Hub.from_url("redis://127.0.0.1:1/0")
    with pytest.raises(Exception):
        async with hub.running():
            pass


def test_queue_size_comes_from_the_url() -> None:
    assert Hub.from_url("memory://?queue=16").queue_size == 16
    assert Hub.from_url("memory://").queue_size == 256
    assert Hub.from_url("redis://127.0.0.1:6379/0?queue=32&prefix=x:").backend.url == "redis://127.0.0.1:6379/0"
    with pytest.raises(ValueError, match="queue"):
        Hub.from_url("memory://?queue=lots")
