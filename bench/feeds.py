"""Member calendar feed throughput against hello-world on the same server, same run.

    .venv/bin/python bench/feeds.py [--seconds 5] [--connections 32] [--rounds 3]

Starts `groupipt serve` (one worker) on a fresh SQLite database, seeds a cohort with a
member whose feed holds 13 events (1 individual meeting + 12 group sessions), then drives
three paths with keep-alive HTTP/1.1 connections from a separate process:

    hello   GET /healthz                         the baseline: same app, same middleware
    200     GET /feeds/<token>.ics               the full feed body
    304     GET /feeds/<token>.ics + If-None-Match

Rounds alternate the paths and the median is reported, as requests/second and as ratios
to hello-world. Targets (issue 3): 200 >= 0.5x, 304 >= 0.8x. Also printed: the cost of
building one feed from the database, which the server pays once per token per FEED_TTL.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {"200": 0.5, "304": 0.8}


# --- load generator (runs in its own process) ----------------------------------------------------


async def _connection(host: str, port: int, request: bytes, deadline: float, expect: int) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    done = 0
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            if status != expect:
                raise RuntimeError(f"expected {expect}, got {status}: {head[:200]!r}")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            done += 1
    finally:
        writer.close()
    return done


async def _drive(host: str, port: int, request: bytes, seconds: float, connections: int, expect: int) -> float:
    start = time.perf_counter()
    deadline = start + seconds
    counts = await asyncio.gather(*(_connection(host, port, request, deadline, expect) for _ in range(connections)))
    return sum(counts) / (time.perf_counter() - start)


def _drive_process(args: tuple) -> float:
    return asyncio.run(_drive(*args))


def measure(pool, host: str, port: int, path: str, *, headers: dict[str, str], seconds: float,
            connections: int, expect: int) -> float:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "User-Agent: bench/feeds", *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return pool.apply(_drive_process, ((host, port, request, seconds, connections, expect),))


# --- seeding ------------------------------------------------------------------------------------


async def seed(database_url: str, base_url: str) -> tuple[str, float]:
    from tortoise.context import TortoiseContext

    from models.accounts import Role
    from models.cohorts import Cohort, EnrollmentStatus, ProtocolTemplate
    from server import schedule
    from server.platform.settings import Settings
    from server.schedule import feeds
    from tests.support.world import enroll, make_user

    settings = Settings(database_url=database_url, secret_key="bench", base_url=base_url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=settings.tortoise_config())
        coordinator = await make_user(Role.COORDINATOR, "Bench Coordinator")
        facilitator = await make_user(Role.FACILITATOR, "Bench Facilitator")
        member = await make_user(Role.MEMBER, "Bench Member")
        await schedule.ensure_builtin_templates()
        template = await ProtocolTemplate.get(slug="who-group-ipt")
        start = datetime.now(UTC).date() + timedelta(days=30)
        values = schedule.parse_cohort_input({
            "name": "Bench cohort", "template": template.id, "time_zone": "Europe/London",
            "start_date": start.isoformat(), "start_time": "18:00", "capacity": 8, "n_group_sessions": 12,
            "location": "Room 4", "video_link": "https://video.example/j/123",
        }, facilitator_ids=[facilitator.id])
        cohort = await schedule.create_cohort(values, by=coordinator, now=datetime.now(UTC))
        await enroll(await Cohort.get(id=cohort.id), member, EnrollmentStatus.ENROLLED)
        await schedule.activate(cohort, by=coordinator, now=datetime.now(UTC))
        secret = await feeds.mint_feed_token(member)
        # What a cache miss costs: build the member's feed from the database, 50 times.
        rounds = 50
        began = time.perf_counter()
        for _ in range(rounds):
            await feeds.feed_for_member(member, settings=settings, now=datetime.now(UTC))
        build_ms = (time.perf_counter() - began) / rounds * 1000
    return secret, build_ms


# --- main -------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from tests.support.server import LiveServer

    var = Path(tempfile.mkdtemp(prefix="bench-feeds-"))
    server = LiveServer(var_dir=var, database_url=f"sqlite://{var / 'bench.sqlite3'}")
    server.start()
    try:
        secret, build_ms = asyncio.run(seed(server.database_url, server.url))
        host, port = "127.0.0.1", server.port
        feed_path = f"/feeds/{secret}.ics"
        import httpx

        first = httpx.get(server.url + feed_path)
        assert first.status_code == 200 and first.text.count("BEGIN:VEVENT") == 13, first.text[:300]
        etag = first.headers["etag"]
        paths = {
            "hello": ("/healthz", {}, 200),
            "200": (feed_path, {}, 200),
            "304": (feed_path, {"If-None-Match": etag}, 304),
        }
        results: dict[str, list[float]] = {name: [] for name in paths}
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            for name, (path, headers, expect) in paths.items():  # warm up
                measure(pool, host, port, path, headers=headers, seconds=1, connections=args.connections, expect=expect)
            names = list(paths)
            for round_number in range(args.rounds):
                # Rotate the order each round so no path always runs first or last.
                shift = round_number % len(names)
                for name in names[shift:] + names[:shift]:
                    path, headers, expect = paths[name]
                    results[name].append(measure(pool, host, port, path, headers=headers, seconds=args.seconds,
                                                 connections=args.connections, expect=expect))
        median = {name: statistics.median(values) for name, values in results.items()}
        print(f"feed bench: 1 uvicorn worker, {args.connections} keep-alive connections, "
              f"{args.rounds} rounds x {args.seconds:.0f}s per path, member feed of 13 events "
              f"({len(first.content)} bytes)")
        print(f"  hello world  GET /healthz          {median['hello']:9.0f} req/s   1.00x")
        ok = True
        for name, label in (("200", "GET feed (200)     "), ("304", "GET feed (304)     ")):
            ratio = median[name] / median["hello"]
            verdict = "meets" if ratio >= TARGETS[name] else "MISSES"
            ok &= ratio >= TARGETS[name]
            print(f"  {label}                {median[name]:9.0f} req/s   {ratio:.2f}x  ({verdict} target {TARGETS[name]:.1f}x)")
        print(f"  building one feed from the database (cache miss): {build_ms:.2f} ms")
        print("  raw rounds (req/s): " + "; ".join(f"{k}: {', '.join(f'{v:.0f}' for v in vals)}" for k, vals in results.items()))
        return 0 if ok else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
