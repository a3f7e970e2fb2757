"""Every main page and API list at 10 and at 1,000 cohorts: time, bytes and statements.

    .venv/bin/python bench/scale.py [--large 1000] [--requests 20]

Builds a clinic of N cohorts x 10 members through the services, as server/demo.py does
(schedule.create_cohort and schedule.activate for every cohort; the member accounts and
their enrollments are bulk-inserted, which the services would only make slower), one
facilitator per ten cohorts. It serves the clinic with the real app in a subprocess whose
database client counts statements, measures each page with sequential requests from a
signed-in coordinator (p50/p95, bytes, statements per request). The small and the large
clinic are built in databases of their own and served side by side by two processes, and
each page is measured in three rounds of small-then-large, so a shared machine's load
drifting during the run moves both sides of a ratio; the bench prints min / median / max
of the rounds' ratios and holds the median to the target.

Targets (issue 15), checked on whatever database it runs: the coordinator home p50 <= 50 ms
at the large N; every page within 2x its p50 and 2x its bytes at 10 cohorts; statements
per request equal. GROUPIPT_BENCH_DATABASE_URL picks the database server as in bench/board.py
(SQLite files of its own when unset). On PostgreSQL the run creates two empty databases
beside the one named and drops them at the end: a database left with rows (a test run's,
an earlier bench's) would make "10 cohorts" a thousand.
The last line is `scale: N targets held, M missed`; a miss exits 1.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench._serving import Server  # noqa: E402

MEMBERS_PER_COHORT = 10
COHORTS_PER_FACILITATOR = 10
PASSWORD = "bench scale password"
# Ten evening slots per facilitator: after the individual-meeting hours (09:00-17:00,
# calendars.planning), so no cohort's pre-group meetings land on another's session.
_SLOTS = [(weekday, start) for start in ("17:30", "19:15") for weekday in range(5)]


# ---------------------------------------------------------------- the server side

def serve(port: int) -> None:
    import contextvars

    import uvicorn
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from tortoise.backends.base.client import BaseDBAsyncClient

    from server.web.app import create_app

    # Statements are counted per request, in the request's own context: the app's background
    # sweep (reminders, follow-ups) runs in another and is not a page's cost.
    current: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("bench_statements", default=None)
    last = [0]

    def counting(method):
        async def wrapper(self, *args, **kwargs):
            box = current.get()
            if box is not None:
                box[0] += 1
            return await method(self, *args, **kwargs)
        return wrapper

    # Every statement the app sends goes through one of these on some client class.
    names = ("execute_query", "execute_query_dict", "execute_insert", "execute_many", "execute_script")
    classes = {BaseDBAsyncClient}
    for module in ("tortoise.backends.sqlite.client", "tortoise.backends.asyncpg.client"):
        try:
            loaded = __import__(module, fromlist=["*"])
        except ImportError:
            continue
        classes |= {v for v in vars(loaded).values() if isinstance(v, type) and issubclass(v, BaseDBAsyncClient)}
    for cls in classes:
        for name in names:
            if name in vars(cls):
                setattr(cls, name, counting(vars(cls)[name]))

    async def statements(request):
        return PlainTextResponse(str(last[0]))  # the request before this one

    app = create_app()
    app.router.routes.insert(0, Route("/bench/statements", statements))

    async def counted(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        box = [0]
        token = current.set(box)
        try:
            await app(scope, receive, send)
        finally:
            current.reset(token)
            if scope["path"] != "/bench/statements":
                last[0] = box[0]

    uvicorn.run(counted, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=5)


# ---------------------------------------------------------------- building the clinic

async def build(database_url: str, cohorts: int) -> dict[str, object]:
    """Grow the clinic to `cohorts` cohorts (creating its staff on the first call)."""
    from tortoise.context import TortoiseContext

    from models.accounts import AuditEvent, Role, User
    from models.cohorts import (Cohort, ConsentMethod, Enrollment, EnrollmentStatus, EnrollmentTransition,
                                ProtocolTemplate)
    from server import accounts, schedule
    from server.platform.db import migrate
    from server.platform.settings import Settings, tortoise_config
    from server.schedule import feeds

    await migrate(Settings(database_url=database_url, secret_key="bench", base_url="http://127.0.0.1"))
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url))
        password_hash = await accounts.Passwords("cheapest").hash(PASSWORD)
        now = datetime.now(UTC)
        coordinator = await User.get_or_none(email="coordinator@scale.example")
        if coordinator is None:
            coordinator = await User.create(email="coordinator@scale.example", display_name="Scale Coordinator",
                                            role=Role.COORDINATOR, password_hash=password_hash, time_zone="Europe/London")
        await schedule.ensure_builtin_templates()
        template = await ProtocolTemplate.get(slug="who-group-ipt")
        have = await Cohort.all().count()
        monday = now.date() + timedelta(days=28 - now.weekday())
        for index in range(have, cohorts):
            lead_index, slot = divmod(index, COHORTS_PER_FACILITATOR)
            email = f"facilitator{lead_index}@scale.example"
            lead = await User.get_or_none(email=email) or await User.create(
                email=email, display_name=f"Facilitator {lead_index} Scale", role=Role.FACILITATOR,
                password_hash=password_hash, time_zone="Europe/London")
            weekday, start_time = _SLOTS[slot]
            start = monday + timedelta(days=weekday + 7 * (index % 4))
            values = schedule.parse_cohort_input({
                "name": f"Scale cohort {index + 1}", "template": template.id, "time_zone": "Europe/London",
                "start_date": start.isoformat(), "start_time": start_time, "capacity": MEMBERS_PER_COHORT,
                "n_group_sessions": 12, "location": f"Room {index % 20 + 1}",
            }, facilitator_ids=[lead.id])
            cohort = await schedule.create_cohort(values, by=coordinator, now=now)
            emails = [f"member{index}-{n}@scale.example" for n in range(MEMBERS_PER_COHORT)]
            await User.bulk_create([
                User(email=e, display_name=f"Member {index}-{n} Scale", role=Role.MEMBER, password_hash=password_hash,
                     time_zone="Europe/London") for n, e in enumerate(emails)])
            members = await User.filter(email__in=emails)
            await Enrollment.bulk_create([
                Enrollment(cohort_id=cohort.id, member_id=m.id, status=EnrollmentStatus.ENROLLED, consent_at=now,
                           consent_method=ConsentMethod.SIGNED_FORM, consent_version="1") for m in members])
            # What enrollment.service.enroll writes beside each row (transitions.py): the status
            # change and its audit event, so the history pages read a clinic's real history.
            enrollments = await Enrollment.filter(cohort_id=cohort.id)
            await EnrollmentTransition.bulk_create([
                EnrollmentTransition(enrollment_id=e.id, from_status="", to_status=EnrollmentStatus.ENROLLED.value,
                                     reason="", by=coordinator, at=now) for e in enrollments])
            await AuditEvent.bulk_create([
                AuditEvent(actor=coordinator, action="change", subject="enrollment", subject_id=str(e.id),
                           member_id=e.member_id, detail="new -> enrolled") for e in enrollments])
            await schedule.activate(cohort, by=coordinator, now=now, override_reason="A bench cohort")
            if index == 0:
                await feeds.mint_feed_token(members[0])
                await feeds.mint_feed_token(lead)
        if not database_url.startswith("sqlite"):
            # What autovacuum would have done by the time a clinic is this size: planner statistics.
            from tortoise import connections
            await connections.get("default").execute_script("ANALYZE")
        first = await Cohort.filter(name="Scale cohort 1").first()
        _, api_token = await accounts.create_api_token(coordinator, f"scale bench {cohorts}")
        return {"api_token": api_token, "cohort_id": first.id}


# ---------------------------------------------------------------- measuring

PAGES = [
    ("coordinator home", "/"),
    ("people", "/people"),
    ("calendar links", "/calendar-feeds"),
    ("enrollment roster", "/cohorts/{cohort_id}/enrollment"),
    ("audit", "/audit"),
    ("api users", "/api/v1/users"),
    ("api cohorts", "/api/v1/cohorts"),
    ("api calendar-feeds", "/api/v1/calendar-feeds"),
]


class Clinic:
    """One built clinic, served by its own process, with a signed-in coordinator and the API."""

    def __init__(self, server: Server, built: dict) -> None:
        self.server, self.built = server, built

    async def __aenter__(self) -> Clinic:
        from tests.support.clients import logged_in

        self.browser = await logged_in(self.server.url, "coordinator@scale.example", PASSWORD)
        self.api = httpx.AsyncClient(base_url=self.server.url, timeout=120,
                                     headers={"Authorization": f"Bearer {self.built['api_token']}"})
        self.bench = httpx.AsyncClient(base_url=self.server.url, timeout=30)
        return self

    async def __aexit__(self, *exc) -> None:
        for client in (self.browser, self.api, self.bench):
            await client.aclose()

    async def page(self, template: str, requests: int) -> dict[str, float]:
        """`requests` sequential GETs of one page (after two that warm the caches)."""
        path = template.format(cohort_id=self.built["cohort_id"])
        client = self.api if path.startswith("/api/") else self.browser
        timings, sizes, counts = [], [], []
        for attempt in range(requests + 2):
            began = time.perf_counter()
            response = await client.get(path, timeout=120)
            elapsed = time.perf_counter() - began
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
            statements = int((await self.bench.get("/bench/statements")).text)
            if attempt >= 2:
                timings.append(elapsed)
                sizes.append(len(response.content))
                counts.append(statements)
        ordered = sorted(timings)
        return {"p50": statistics.median(ordered), "p95": ordered[min(len(ordered) - 1, int(len(ordered) * .95))],
                "bytes": statistics.median(sizes), "statements": max(counts)}


async def measure(small: Clinic, large: Clinic, *, requests: int, rounds: int) -> dict[str, list[tuple[dict, dict]]]:
    """For each page, `rounds` rounds of the small clinic then the large one, back to back:
    a machine that slows down between two measurements slows both sides of a ratio."""
    results: dict[str, list[tuple[dict, dict]]] = {name: [] for name, _ in PAGES}
    for _ in range(rounds):
        for name, template in PAGES:
            results[name].append((await small.page(template, requests), await large.page(template, requests)))
    return results


async def measure_both(servers: dict[int, Server], built: dict[int, dict], sizes: tuple[int, int], *,
                       requests: int, rounds: int) -> dict[str, list[tuple[dict, dict]]]:
    async with Clinic(servers[sizes[0]], built[sizes[0]]) as small, Clinic(servers[sizes[1]], built[sizes[1]]) as large:
        return await measure(small, large, requests=requests, rounds=rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0

    var = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    given = os.environ.get("GROUPIPT_BENCH_DATABASE_URL", "")
    urls: dict[int, str] = {}
    drops = []
    try:
        for cohorts in (args.small, args.large):
            if given.startswith(("postgres://", "postgresql://")):
                from tests.support.server import fresh_postgres_database

                urls[cohorts], drop = fresh_postgres_database(given)
                drops.append(drop)
            elif given:
                raise SystemExit("GROUPIPT_BENCH_DATABASE_URL: give a PostgreSQL server's database (the bench makes "
                                 "its own beside it), or leave it unset for SQLite files of its own")
            else:
                urls[cohorts] = f"sqlite://{var / f'clinic-{cohorts}.sqlite3'}"
        return _run(args, var, urls)
    finally:
        for drop in drops:
            drop()


def _run(args: argparse.Namespace, var: Path, urls: dict[int, str]) -> int:
    sizes = (args.small, args.large)
    built: dict[int, dict] = {}
    for cohorts in sizes:
        began = time.perf_counter()
        built[cohorts] = asyncio.run(build(urls[cohorts], cohorts))
        print(f"built {cohorts} cohorts x {MEMBERS_PER_COHORT} members in {time.perf_counter() - began:.0f} s", flush=True)
    servers: dict[int, Server] = {}
    try:
        for cohorts in sizes:
            (var / str(cohorts)).mkdir(exist_ok=True)
            env = {"GROUPIPT_VAR_DIR": str(var / str(cohorts)), "GROUPIPT_DATABASE_URL": urls[cohorts],
                   "GROUPIPT_BROADCAST_URL": "memory://", "GROUPIPT_SECRET_KEY": "bench-secret",
                   "GROUPIPT_PASSWORD_PROFILE": "cheapest", "GROUPIPT_LOGIN_ATTEMPTS": "1000",
                   # No reminders: the first sweep after a build would mail every new member while
                   # the pages are measured, timing the sweep rather than the page.
                   "GROUPIPT_REMINDER_HOURS": "none"}
            servers[cohorts] = Server(__file__, env, var / f"server-{cohorts}.log", start_seconds=90)
        results = asyncio.run(measure_both(servers, built, sizes, requests=args.requests, rounds=args.rounds))
    finally:
        for server in servers.values():
            server.stop()
    return report(args, urls[args.large], results)


def report(args: argparse.Namespace, url: str, results: dict[str, list[tuple[dict, dict]]]) -> int:
    print(f"scale bench on {url.split(':', 1)[0]}: {args.rounds} rounds of {args.requests} sequential requests per "
          f"page, {args.small} and {args.large} cohorts x {MEMBERS_PER_COHORT} members, served side by side")
    print(f"  {'page':<20}{'p50 ms':>16}{'p95 ms':>16}{'KB':>18}{'statements':>14}"
          f"   time ratio min / median / max, bytes ratio")
    held = missed = 0
    for name, _ in PAGES:
        rounds = results[name]
        ratios = sorted(b["p50"] / a["p50"] for a, b in rounds)
        time_ratio = statistics.median(ratios)

        def median_of(side: int, key: str) -> float:
            return statistics.median(r[side][key] for r in rounds)

        a = {key: median_of(0, key) for key in ("p50", "p95", "bytes")}
        b = {key: median_of(1, key) for key in ("p50", "p95", "bytes")}
        a["statements"] = max(r[0]["statements"] for r in rounds)
        b["statements"] = max(r[1]["statements"] for r in rounds)
        byte_ratio = b["bytes"] / a["bytes"]
        checks = [time_ratio <= 2, byte_ratio <= 2, a["statements"] == b["statements"]]
        if name == "coordinator home":
            checks.append(b["p50"] <= 0.050)
        held += sum(checks)
        missed += len(checks) - sum(checks)
        print(f"  {name:<20}{a['p50'] * 1000:>7.1f} {b['p50'] * 1000:>8.1f}{a['p95'] * 1000:>7.1f} {b['p95'] * 1000:>8.1f}"
              f"{a['bytes'] / 1024:>8.1f} {b['bytes'] / 1024:>9.1f}{a['statements']:>6.0f} {b['statements']:>6.0f}"
              f"   {ratios[0]:4.1f}x / {time_ratio:4.1f}x / {ratios[-1]:4.1f}x, {byte_ratio:4.1f}x"
              f"  {'ok' if all(checks) else 'MISSES'}")
    print("  targets: each page at the large N within 2x its p50 (the median of the rounds' ratios) and its bytes "
          "at the small N, the same statements; coordinator home p50 <= 50 ms (the rounds' median)")
    print(f"scale: {held} targets held, {missed} missed")
    return 0 if missed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
