"""Migrations upgrade a database that already has rows: the new NOT NULL columns have
database defaults, and the shipped WHO template's late-join cutoff moves from 3 to 1 (its
initial phase is session 1). Runs the real migrations, forward and back, on SQLite and on
PostgreSQL when GROUPIPT_TEST_POSTGRES_URL is set."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.server import ROOT, fresh_postgres_database

SCRIPT = r"""
import asyncio, json, os, sys
from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate
from server.settings import Settings

async def main():
    cfg = Settings.from_env().tortoise_config()
    async with TortoiseContext() as ctx:
        await ctx.init(config=cfg)
        await migrate(config=cfg, target="models.0002_board_head_from_log")
        conn = ctx.connections.get("default")
        await conn.execute_query(
            "INSERT INTO protocol_templates (slug, name, is_builtin, n_pregroup_individual, n_group_sessions,"
            " session_minutes, individual_minutes, cadence_days, phases, group_size_min, group_size_target_low,"
            " group_size_target_high, group_size_max, facilitator_count, late_join_cutoff_session,"
            " problem_area_labels, grief_enabled, homework_enabled, measures_schedule, created_at, updated_at)"
            " VALUES ('who-group-ipt', 'WHO', TRUE, 1, 8, 90, 50, 7, '[]', 4, 6, 9, 12, 1, 3, 'lay', TRUE, TRUE,"
            " '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
        await conn.execute_query(
            "INSERT INTO cohorts (template_id, name, public_title, status, time_zone, weekday, local_start_time,"
            " duration_minutes, n_group_sessions, phases, start_date, skip_dates, capacity, location, video_link,"
            " group_agreement_version, created_at, updated_at) SELECT id, 'Old', 'Group session', 'active',"
            " 'Europe/London', 1, '18:00', 90, 8, '[]', '2026-01-06', '[]', 9, '', '', '1', CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP FROM protocol_templates")
        await migrate(config=cfg)
        up = await conn.execute_query_dict(
            "SELECT t.late_join_cutoff_session AS cutoff, t.consent_required AS consent,"
            " c.activation_override_reason AS reason FROM protocol_templates t JOIN cohorts c ON c.template_id = t.id")
        await migrate(config=cfg, target="models.0002_board_head_from_log")
        down = await conn.execute_query_dict("SELECT late_join_cutoff_session AS cutoff FROM protocol_templates")
        print(json.dumps({"up": [dict(r) for r in up], "down": [dict(r) for r in down]}))

asyncio.run(main())
sys.stdout.flush()
os._exit(0)  # the migration API leaves an aiosqlite worker thread behind
"""

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("GROUPIPT_TEST_POSTGRES_URL") else [])


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_upgrade_a_database_with_rows(backend, tmp_path):
    import json

    drop = None
    if backend == "postgres":
        url, drop = fresh_postgres_database(os.environ["GROUPIPT_TEST_POSTGRES_URL"])
    else:
        url = f"sqlite://{tmp_path / 'old.sqlite3'}"
    env = {**os.environ, "GROUPIPT_VAR_DIR": str(tmp_path / "var"), "GROUPIPT_DATABASE_URL": url}
    try:
        result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=120)
    finally:
        if drop is not None:
            drop()
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(result.stdout.strip().splitlines()[-1])
    (row,) = data["up"]
    assert row["cutoff"] == 1 and bool(row["consent"]) is True and row["reason"] == ""
    assert data["down"] == [{"cutoff": 3}]
