"""Fan-out of board messages to the sockets that watch a board, in one process or many.

A small hub of our own rather than the `broadcaster` package (tech-notes.md section 4.1):
each subscriber has a bounded queue, and one that falls behind is dropped, not waited for.
The database log is the truth; the bus only says "something happened", so a subscriber
that lost messages (overflow, a Redis reconnect) catches up from the log.

    hub = Hub.from_url("memory://")            # one process
    hub = Hub.from_url("redis://host:6379/0")  # several processes; ?prefix=... namespaces channels
    (either takes ?queue=N, the per-client queue size, 256 by default)
    async with hub.running():                  # the app's lifespan
        ...
        async with hub.subscribe(board_id, on_overflow=..., on_resync=..., on_shutdown=...) as sub:
            payload = await sub.get()
        await hub.publish(board_id, payload)   # payload: a str, delivered as is
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol
from urllib.parse import parse_qs, urlsplit, urlunsplit

log = logging.getLogger("groupipt.board.hub")

QUEUE_SIZE = 256
SHUTDOWN_CODE = 1012  # "service restart": clients reconnect and resume with hello


class HubNotRunning(RuntimeError):
    """publish/subscribe was called outside `async with hub.running()`."""


class SlowConsumer(Exception):
    """The subscriber's queue overflowed; it must resync from the log."""


class Subscription:
    """One socket's bounded queue of payloads.

    A deque and at most one waiting future, not an asyncio.Queue: a socket's send loop
    takes what is there without awaiting, and awaits only when the queue is empty. It has
    one reader (that send loop); a second task waiting at the same time would not be woken.
    """

    def __init__(
        self, hub: Hub, board_id: int, *, maxsize: int,
        on_overflow: Callable[[], None] | None,
        on_resync: Callable[[], None] | None,
        on_shutdown: Callable[[int], Awaitable[None]] | None,
    ):
        self.hub, self.board_id, self.maxsize = hub, board_id, maxsize
        self._items: collections.deque[str] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self.overflowed = False
        self.on_overflow, self.on_resync, self.on_shutdown = on_overflow, on_resync, on_shutdown

    def deliver(self, payload: str) -> None:
        if self.overflowed:
            return
        if len(self._items) >= self.maxsize:
            self.overflowed = True
            self._items.clear()
            if self.on_overflow is not None:
                self.on_overflow()
        else:
            self._items.append(payload)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def take(self) -> str | None:
        """The next payload if there is one, else None. Raises SlowConsumer once the queue
        has overflowed."""
        if self.overflowed:
            raise SlowConsumer()
        return self._items.popleft() if self._items else None

    async def wait(self) -> None:
        """Until there is something to take (or the queue has overflowed)."""
        if self._items or self.overflowed:
            return
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def get(self) -> str:
        while (payload := self.take()) is None:
            await self.wait()
        return payload

    def __len__(self) -> int:
        return len(self._items)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.hub._remove(self)


class _Backend(Protocol):
    async def start(self, hub: Hub) -> None: ...
    async def publish(self, board_id: int, payload: str) -> None: ...
    async def stop(self) -> None: ...


class Hub:
    def __init__(self, backend: _Backend, *, queue_size: int = QUEUE_SIZE):
        self.backend = backend
        self.queue_size = queue_size
        self._subscribers: dict[int, set[Subscription]] = {}
        self._running = False

    @classmethod
    def from_url(cls, url: str, *, queue_size: int | None = None) -> Hub:
        """`memory://` or `redis://host:port/db`; `?queue=N` sets the per-client queue size."""
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        if queue_size is None:
            raw = query.get("queue", [str(QUEUE_SIZE)])[0]
            if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
                raise ValueError(f"Broadcast URL {url!r}: queue must be a whole number from 1 to 100000.")
            queue_size = int(raw)
        if parts.scheme == "memory":
            return cls(_MemoryBackend(), queue_size=queue_size)
        if parts.scheme in ("redis", "rediss"):
            return cls(_RedisBackend(url), queue_size=queue_size)
        raise ValueError(f"Broadcast URL {url!r}: use memory:// or redis://host:port/db.")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Hub]:
        await self.backend.start(self)
        self._running = True
        try:
            yield self
        finally:
            self._running = False
            await self.close_all()
            await self.backend.stop()

    @property
    def is_running(self) -> bool:
        return self._running

    def subscribe(
        self, board_id: int, *, maxsize: int | None = None,
        on_overflow: Callable[[], None] | None = None,
        on_resync: Callable[[], None] | None = None,
        on_shutdown: Callable[[int], Awaitable[None]] | None = None,
    ) -> Subscription:
        if not self._running:
            raise HubNotRunning("The board hub is not running.")
        sub = Subscription(self, board_id, maxsize=maxsize or self.queue_size, on_overflow=on_overflow,
                           on_resync=on_resync, on_shutdown=on_shutdown)
        self._subscribers.setdefault(board_id, set()).add(sub)
        return sub

    async def publish(self, board_id: int, payload: str) -> None:
        if not self._running:
            raise HubNotRunning("The board hub is not running.")
        await self.backend.publish(board_id, payload)

    def subscriber_count(self, board_id: int | None = None) -> int:
        if board_id is not None:
            return len(self._subscribers.get(board_id, ()))
        return sum(len(s) for s in self._subscribers.values())

    async def close_all(self, code: int = SHUTDOWN_CODE) -> None:
        """Close every board socket (1012 on shutdown), so uvicorn's shutdown need not wait."""
        closers = [s.on_shutdown(code) for subs in self._subscribers.values() for s in subs if s.on_shutdown]
        if closers:
            await asyncio.gather(*closers, return_exceptions=True)

    def deliver(self, board_id: int, payload: str) -> None:
        for sub in tuple(self._subscribers.get(board_id, ())):
            sub.deliver(payload)

    def resync_all(self) -> None:
        """Messages may have been lost (the bus reconnected): every subscriber catches up."""
        for subs in tuple(self._subscribers.values()):
            for sub in tuple(subs):
                if sub.on_resync is not None:
                    sub.on_resync()

    def _remove(self, sub: Subscription) -> None:
        subs = self._subscribers.get(sub.board_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.board_id]


class _MemoryBackend:
    async def start(self, hub: Hub) -> None:
        self.hub = hub

    async def publish(self, board_id: int, payload: str) -> None:
        self.hub.deliver(board_id, payload)

    async def stop(self) -> None:
        pass


class _RedisBackend:
    """Redis pub/sub: at-most-once, so a reconnect tells every subscriber to resync."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.prefix = query.pop("prefix", ["groupipt:board:"])[0]
        query.pop("queue", None)
        rest = "&".join(f"{k}={v}" for k, values in query.items() for v in values)
        self.url = urlunsplit((parts.scheme, parts.netloc, parts.path, rest, ""))
        self._task: asyncio.Task[None] | None = None

    async def start(self, hub: Hub) -> None:
        import redis.asyncio as redis

        self.hub = hub
        self.client = redis.from_url(self.url)
        self.listener = redis.from_url(self.url)
        await self.client.ping()  # fail at start-up, not at the first command
        pubsub = await self._subscribe()
        self._task = asyncio.create_task(self._listen(pubsub), name="board-hub-redis")

    async def _subscribe(self):  # noqa: ANN202 (redis.asyncio.client.PubSub)
        pubsub = self.listener.pubsub(ignore_subscribe_messages=True)
        await pubsub.psubscribe(f"{self.prefix}*")
        return pubsub

    async def _listen(self, pubsub) -> None:  # noqa: ANN001
        delay = 0.1
        while True:
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                if message is None or message["type"] != "pmessage":
                    continue
                channel = message["channel"].decode()
                board_id = int(channel[len(self.prefix):])
                self.hub.deliver(board_id, message["data"].decode())
                delay = 0.1
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception as exc:  # connection lost: resubscribe, then everyone catches up
                log.warning("board hub lost Redis (%s); reconnecting in %.1fs", exc, delay)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                with contextlib.suppress(Exception):
                    pubsub = await self._subscribe()
                    self.hub.resync_all()

    async def publish(self, board_id: int, payload: str) -> None:
        try:
            await self.client.publish(f"{self.prefix}{board_id}", payload)
        except Exception as exc:
            # The event is already committed; local sockets still get it, and the other
            # processes' sockets fill the gap from the log at the next event or hello.
            log.warning("board hub could not publish to Redis: %s", exc)
            self.hub.deliver(board_id, payload)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.client.aclose()
        await self.listener.aclose()
