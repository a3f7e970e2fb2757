"""TOTP secrets sealed at rest (issue 18): migration 0010 seals the secrets an older database
kept in clear, and takes them back out when reversed; the server seals new ones and those
the demo loader writes in clear the first time they work, and codes keep working."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyotp

from models.accounts import SecondFactor
from server.accounts import _sealed
from tests.support import totp
from tests.support.clients import Browserish, logged_in
from tests.support.server import ROOT
from tests.support.world import PASSWORD, make_user

KEY = "migration-test-key"
AT = "2026-11-23 18:00:00.000000+00:00"


def _migrate(path: Path, target: str) -> subprocess.CompletedProcess:
    code = """
import asyncio, sys
from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate
from server.platform.settings import tortoise_config

async def main():
    config = tortoise_config(sys.argv[1])
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        await migrate(config=config, target=sys.argv[2])

asyncio.run(main())
"""
    env = {**os.environ, "GROUPIPT_VAR_DIR": str(path.parent), "GROUPIPT_SECRET_KEY": KEY}
    return subprocess.run([sys.executable, "-c", code, f"sqlite://{path}", target], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=90)


def test_migration_0010_seals_secrets_kept_in_clear_and_its_reverse_unseals_them(tmp_path):
    path = tmp_path / "old.sqlite3"
    assert _migrate(path, "models.0009_checklists").returncode == 0
    secret = pyotp.random_base32()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO users (id, email, display_name, password_hash, role, time_zone, is_active,"
                   " session_epoch, created_at, on_duty) VALUES (1, 'a@example.org', 'A', '', 'facilitator', 'UTC',"
                   " 1, 0, ?, 0)", (AT,))
        db.execute("INSERT INTO second_factors (user_id, kind, name, secret, created_at, confirmed_at)"
                   " VALUES (1, 'totp', 'phone', ?, ?, ?)", (secret, AT, AT))
    result = _migrate(path, "models.0010_passkeys")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(path) as db:
        (stored,) = db.execute("SELECT secret FROM second_factors").fetchone()
    assert stored.startswith("f1:") and secret not in stored
    assert _sealed.unseal(stored, KEY) == secret
    result = _migrate(path, "models.0009_checklists")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT secret FROM second_factors").fetchone() == (secret,)


async def test_the_server_seals_what_it_stores_and_what_worked_in_clear(live_server, world):
    # make_user writes the secret in clear, as the demo loader does.
    person = await make_user("facilitator", "Selma Sealed")
    clear = totp.SECRETS[person.email]
    client = await logged_in(live_server.url, person.email, PASSWORD)
    stored = (await SecondFactor.get(user=person)).secret
    assert stored.startswith("f1:") and clear not in stored
    await client.aclose()
    async with Browserish(live_server.url) as again:  # the sealed secret still checks codes
        step = await again.submit("/login", {"email": person.email, "password": PASSWORD})
        assert step.headers["location"] == "/login/second-factor"
        code = await totp.next_code(person.email, clear)
        assert (await again.submit("/login/second-factor", {"code": code})).status_code == 303

    newcomer = await make_user("facilitator", "Nico New", second_factor=False)
    fresh = await logged_in(live_server.url, newcomer.email, PASSWORD)  # sets up an authenticator
    (factor,) = await SecondFactor.filter(user=newcomer)
    assert factor.secret.startswith("f1:") and totp.SECRETS[newcomer.email] not in factor.secret
    await fresh.aclose()
