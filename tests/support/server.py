"""A real uvicorn server in a subprocess, on a free port, over a fresh database."""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(backend: str, var_dir: Path, postgres_admin_url: str = "", *,
                   migrated: bool = False) -> tuple[str, callable | None]:
    """A database for `backend` ("sqlite" under var_dir, or "postgres" beside the admin
    database), empty or, with `migrated`, as the migrations leave it: its URL, and a dropper
    for PostgreSQL (None for SQLite)."""
    if backend == "postgres":
        return (migrated_postgres_database if migrated else fresh_postgres_database)(postgres_admin_url)
    path = var_dir / "groupipt.sqlite3"
    if migrated:
        migrated_sqlite(path)
    return f"sqlite://{path}", None


# Migrating an empty database costs about 8 s of CPU on these machines (Tortoise rebuilds its
# model state for each operation), and most tests start a server over a database of their
# own. So the migrations run once per test session into a template, by `groupipt migrate` as a
# newcomer runs it, and each migrated database is a copy of it: SQLite's backup API, or
# PostgreSQL's CREATE DATABASE ... TEMPLATE. A server started on one still runs its migrations
# (none are pending). Tests of the migrations themselves, and of a first start on an empty
# database, use empty databases.
_templates: dict[str, str] = {}


def _migrate_into(database_url: str) -> None:
    scratch = tempfile.mkdtemp(prefix="gipt-migrate-")
    env = {**os.environ, "GROUPIPT_DATABASE_URL": database_url, "GROUPIPT_VAR_DIR": scratch,
           "GROUPIPT_SECRET_KEY": "template-" + uuid.uuid4().hex}
    try:
        done = subprocess.run([sys.executable, "-m", "server.cli", "migrate"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"migrating the test template failed:\n{done.stderr[-4000:]}")


def migrated_sqlite(path: Path) -> Path:
    """Make `path` a SQLite database as the migrations leave it (a copy of the session's template)."""
    template = _templates.get("sqlite")
    if template is None:
        folder = Path(tempfile.mkdtemp(prefix="gipt-template-"))
        atexit.register(shutil.rmtree, folder, True)
        template = str(folder / "template.sqlite3")
        _migrate_into(f"sqlite://{template}")
        _templates["sqlite"] = template
    path.parent.mkdir(parents=True, exist_ok=True)
    source, target = sqlite3.connect(template), sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    return path


def migrated_postgres_database(admin_url: str) -> tuple[str, callable]:
    """As fresh_postgres_database, but already migrated (a copy of the session's template)."""
    template = _templates.get(admin_url)
    if template is None:
        url, drop = fresh_postgres_database(admin_url)
        atexit.register(drop)
        _migrate_into(url)
        template = _templates[admin_url] = url.rpartition("/")[2]
    return fresh_postgres_database(admin_url, template=template)


def fresh_postgres_database(admin_url: str, *, template: str | None = None) -> tuple[str, callable]:
    """Create an empty database beside the admin one (or a copy of `template`, a database
    nobody is connected to); return its URL and a dropper."""
    import asyncio

    import asyncpg

    name = f"gipt_{uuid.uuid4().hex[:12]}"
    dsn = admin_url.replace("postgres://", "postgresql://", 1)

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    base, _, _ = admin_url.rpartition("/")

    def drop() -> None:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return f"{base}/{name}", drop


class LiveServer:
    """`groupipt serve` as a newcomer runs it (migrations included), with test settings."""

    def __init__(self, *, var_dir: Path, database_url: str, broadcast_url: str = "memory://", extra_env: dict | None = None):
        self.var_dir = var_dir
        self.database_url = database_url
        self.broadcast_url = broadcast_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "GROUPIPT_VAR_DIR": str(var_dir),
            "GROUPIPT_DATABASE_URL": database_url,
            "GROUPIPT_BASE_URL": self.url,
            "GROUPIPT_BROADCAST_URL": broadcast_url,
            "GROUPIPT_PASSWORD_PROFILE": "cheapest",
            "GROUPIPT_SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
            "GROUPIPT_LOGIN_ATTEMPTS": "50",
            # The shared test server sends no meeting reminders of its own, so tests that count
            # outbox rows are not raced by its sweep (test_reminders.py starts one that does).
            "GROUPIPT_REMINDER_HOURS": "none",
            # Nor does it raise follow-ups (test_follow_ups.py raises its own, and counts their mail).
            "GROUPIPT_FOLLOW_UP_AFTER_ABSENCES": "none",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.log_path = var_dir / f"server-{self.port}.log"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    def start(self, *, timeout: float = 90) -> LiveServer:  # 2 shared cores: imports alone can take 20 s
        var = self.var_dir
        var.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.log_path.read_text()[-4000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> LiveServer:
        self.stop()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""
