"""Fixtures shared by the whole suite.

Integration tests run against a real uvicorn server (`groupipt serve`, migrations and all)
on a free port. They run on SQLite always, and on PostgreSQL too when
GROUPIPT_TEST_POSTGRES_URL is set (each backend gets a fresh database).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import pytest_asyncio
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from server.platform.settings import tortoise_config
from tests.support.server import LiveServer, fresh_database
from tests.support.smtp import smtp_server  # noqa: F401  (a fixture for every test)
from tests.support.world import build_world

POSTGRES_URL = os.environ.get("GROUPIPT_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("GROUPIPT_TEST_REDIS_URL", "")
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def pytest_collection_modifyitems(config, items):
    """Browser tests check pages, and the contract test the API document: on PostgreSQL they
    repeat what SQLite showed, at about four minutes of the suite's fifteen. They run on
    SQLite (and the contract test's coordinator, who reaches every operation, on both);
    everything beneath them runs on both databases in the integration tests."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        # The contract test's server is its own `demo_clinic`, parametrized by backend too.
        on_postgres = callspec is not None and "postgres" in (
            callspec.params.get("live_server"), callspec.params.get("demo_clinic"))
        path = Path(str(item.path))
        repeated = on_postgres and (
            "e2e" in path.parts
            or (path.name == "test_openapi_contract.py" and callspec.params.get("role") != "coordinator"))
        (dropped if repeated else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(request, tmp_path_factory):
    """A running server. `live_server.database_url` is where tests may seed data."""
    var_dir: Path = tmp_path_factory.mktemp(f"var-{request.param}")
    database_url, drop = fresh_database(request.param, var_dir, POSTGRES_URL, migrated=True)
    server = LiveServer(var_dir=var_dir, database_url=database_url).start()
    server.backend = request.param
    yield server
    server.stop()
    if drop:
        drop()


@pytest_asyncio.fixture(scope="session")
async def db(live_server):
    """The test process's own connection to the live server's database."""
    # Tortoise caches INSERT SQL per connection *name*; both backends are "default", so a
    # cache built on SQLite would be replayed on PostgreSQL.
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(live_server.database_url), _enable_global_fallback=True)
    yield
    await Tortoise.close_connections()
    EXECUTOR_CACHE.clear()


@pytest_asyncio.fixture(scope="session")
async def world(live_server, db):
    built = await build_world(live_server.url)
    yield built
    await built.close()


@pytest_asyncio.fixture(scope="session")
async def browser():
    """Debian's chromium driven by Playwright (never a downloaded browser)."""
    from playwright.async_api import async_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"chromium is not installed at {CHROMIUM}; run `make test`, which installs it")
    async with async_playwright() as pw:
        instance = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield instance
        await instance.close()
