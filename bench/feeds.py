"""Calendar feed throughput against hello-world, all measured by `wrk` in the same run.

    .venv/bin/python bench/feeds.py [--seconds 3] [--connections 32] [--rounds 3]

Starts the real app (server.web.app.create_app, migrations, the CLI's access log) in a
subprocess on a fresh SQLite database (GROUPIPT_BENCH_DATABASE_URL picks another, as in
bench/board.py), seeds a member whose feed holds 13 events and a busy facilitator who leads
10 cohorts (about 130 events), and drives each path with `wrk` (Debian's package, installed
by scripts/install-system-deps), one thread and keep-alive connections (32; 4 on the cold
paths, whose requests take long enough that more would only queue):

    hello              GET /healthz                   the baseline: same app, same middleware
    <who> 200 warm     GET /feeds/<token>.ics         the feed as the cache holds it
    <who> 304 warm     ... + If-None-Match            the version as the cache holds it
    <who> 200 cold     the same with the cache off:   token lookup + version query + build
    <who> 304 cold     ... + If-None-Match            token lookup + version query, no build

"Cold" is what a calendar client that polls every 15 minutes meets when the cache holds
nothing for it: the bench server turns the cache off through a bench-only route
(feeds.RECHECK = 0, feeds.CACHE_BYTES = 0). Each round runs every path once, in an order
rotated per round, and each path's ratio is taken to the hello-world of its own round; the
min/median/max of the rounds is printed. Targets (issue 15): warm feed 200 >= 0.5x and warm
304 >= 0.8x hello-world for both people, on the median; the run exits 1 on a miss. Cold
figures are printed beside them with what one request costs.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench._serving import Server  # noqa: E402

TARGETS = {"200 warm": 0.5, "304 warm": 0.8}
COHORTS_LED = 10
COLD_CONNECTIONS = 4
_TIMES = ("09:00", "11:30", "14:00", "16:30", "19:00")


# ---------------------------------------------------------------- the server side

def serve(port: int) -> None:
    import uvicorn
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from server.platform.logconfig import log_config
    from server.schedule import feeds
    from server.web.app import create_app

    defaults = (feeds.RECHECK, feeds.CACHE_BYTES)

    async def cache_mode(request):
        cold = request.query_params.get("mode") == "cold"
        feeds.RECHECK, feeds.CACHE_BYTES = (0.0, 0) if cold else defaults
        feeds._cache.clear()
        return PlainTextResponse("cold" if cold else "warm")

    app = create_app()
    app.router.routes.append(Route("/bench/cache", cache_mode))
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=log_config(), proxy_headers=True,
                timeout_graceful_shutdown=5)




# ---------------------------------------------------------------- seeding

async def seed(database_url: str) -> dict[str, object]:
    """A member in one cohort (13 events) and a facilitator leading ten (about 130)."""
    from tortoise.context import TortoiseContext

    from models.accounts import Role
    from models.cohorts import Cohort, EnrollmentStatus, ProtocolTemplate
    from server import schedule
    from server.platform.db import migrate
    from server.platform.settings import Settings, tortoise_config
    from server.schedule import feeds
    from tests.support.world import enroll, make_user

    await migrate(Settings(database_url=database_url, secret_key="bench", base_url="http://127.0.0.1"))
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url))
        now = datetime.now(UTC)
        coordinator = await make_user(Role.COORDINATOR, "Bench Coordinator")
        busy = await make_user(Role.FACILITATOR, "Bench Busyfacilitator")
        await schedule.ensure_builtin_templates()
        template = await ProtocolTemplate.get(slug="who-group-ipt")
        members = []
        for i in range(COHORTS_LED):
            start = now.date() + timedelta(days=30 + i)
            values = schedule.parse_cohort_input({
                "name": f"Bench cohort {i + 1}", "template": template.id, "time_zone": "Europe/London",
                "start_date": start.isoformat(), "start_time": _TIMES[i % len(_TIMES)], "capacity": 8,
                "n_group_sessions": 12, "location": "Room 4", "video_link": "https://video.example/j/123",
            }, facilitator_ids=[busy.id])
            cohort = await schedule.create_cohort(values, by=coordinator, now=now)
            member = await make_user(Role.MEMBER, f"Bench Member{i + 1}")
            await enroll(await Cohort.get(id=cohort.id), member, EnrollmentStatus.ENROLLED)
            await schedule.activate(cohort, by=coordinator, now=now, override_reason="A bench cohort of one")
            members.append(member)
        return {"member": await feeds.mint_feed_token(members[0]), "facilitator": await feeds.mint_feed_token(busy)}


# ---------------------------------------------------------------- measuring

def wrk(url: str, *, seconds: int, connections: int, headers: dict[str, str]) -> float:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if errors:
        raise RuntimeError(f"wrk saw failures on {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def summary(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    if shutil.which("wrk") is None:
        print("bench/feeds.py needs wrk: run scripts/install-system-deps (Debian package wrk)", file=sys.stderr)
        return 2

    var = Path(tempfile.mkdtemp(prefix="bench-feeds-"))
    database_url = os.environ.get("GROUPIPT_BENCH_DATABASE_URL") or f"sqlite://{var / 'bench.sqlite3'}"
    secrets = asyncio.run(seed(database_url))
    env = {"GROUPIPT_VAR_DIR": str(var), "GROUPIPT_DATABASE_URL": database_url, "GROUPIPT_BROADCAST_URL": "memory://",
           "GROUPIPT_SECRET_KEY": "bench-secret"}
    server = Server(__file__, env, var / "server.log")
    http = httpx.Client(timeout=120)  # after a cold path the server may still drain queued builds
    try:
        paths: dict[str, tuple[str, str, dict[str, str]]] = {"hello": ("warm", "/healthz", {})}
        sizes = {}
        for who, secret in secrets.items():
            path = f"/feeds/{secret}.ics"
            bodies = {}
            for mode in ("warm", "cold"):
                http.get(f"{server.url}/bench/cache?mode={mode}").raise_for_status()
                first = http.get(server.url + path)
                assert first.status_code == 200, first.text[:300]
                again = http.get(server.url + path, headers={"If-None-Match": first.headers["etag"]})
                assert again.status_code == 304, again.status_code
                bodies[mode] = first
            assert bodies["warm"].content == bodies["cold"].content  # the cache changes nothing served
            sizes[who] = (bodies["warm"].text.count("BEGIN:VEVENT"), len(bodies["warm"].content))
            etag = bodies["warm"].headers["etag"]
            for mode in ("warm", "cold"):
                paths[f"{who} 200 {mode}"] = (mode, path, {})
                paths[f"{who} 304 {mode}"] = (mode, path, {"If-None-Match": etag})

        def settle() -> None:
            # wrk closes its sockets at the deadline, but the server still finishes what they
            # asked for (32 cold builds can take seconds): wait for it to be idle again.
            quick, deadline = 0, time.monotonic() + 120
            while quick < 5 and time.monotonic() < deadline:
                began = time.perf_counter()
                http.get(server.url + "/healthz").raise_for_status()
                quick = quick + 1 if time.perf_counter() - began < 0.02 else 0

        def run(name: str, seconds: int) -> float:
            mode, path, headers = paths[name]
            settle()
            http.get(f"{server.url}/bench/cache?mode={mode}").raise_for_status()
            if mode == "warm":
                http.get(server.url + path)  # the cache holds the feed before the clock starts
            # Cold paths have no target; fewer connections keep the backlog they leave short.
            connections = args.connections if mode == "warm" else min(args.connections, COLD_CONNECTIONS)
            return wrk(server.url + path, seconds=seconds, connections=connections, headers=headers)

        names = list(paths)
        for name in names:  # warm-up
            run(name, 1)
        rates: dict[str, list[float]] = {name: [] for name in names}
        for round_number in range(args.rounds):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                rates[name].append(run(name, args.seconds))
    finally:
        http.close()
        server.stop()

    print(f"feed bench: wrk -t1 -c{args.connections} (cold paths -c{min(args.connections, COLD_CONNECTIONS)}), {args.rounds} rounds x {args.seconds:.0f}s per path, "
          f"1 uvicorn worker, {database_url.split(':', 1)[0]}")
    for who, (events, size) in sizes.items():
        print(f"  {who} feed: {events} events, {size} bytes")
    print(f"  {'path':<26}{'median req/s':>13}   ratio to hello-world min / median / max")
    print(f"  {'hello world':<26}{statistics.median(rates['hello']):>13.0f}")
    ok = True
    for name in names[1:]:
        ratios = [rate / hello for rate, hello in zip(rates[name], rates["hello"], strict=True)]
        kind = name.split(" ", 1)[1]
        target = TARGETS.get(kind)
        if target is None:
            verdict = f"({1000 / max(statistics.median(rates[name]), 1e-9):.2f} ms of the server's time a request)"
        else:
            held = statistics.median(ratios) >= target
            ok &= held
            verdict = f"({'meets' if held else 'MISSES'} target {target:.1f}x)"
        print(f"  {name:<26}{statistics.median(rates[name]):>13.0f}   {summary(ratios)}  {verdict}")
    print("  raw rounds (req/s): " + "; ".join(f"{k}: {', '.join(f'{v:.0f}' for v in vals)}" for k, vals in rates.items()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
