"""Migrations upgrade a database that already has rows and lose none of them: the new NOT NULL columns have
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
from server.platform.db import check_foreign_keys, migration_config
from server.platform.settings import Settings

async def main():
    cfg = migration_config(Settings.from_env().database_url)  # as `groupipt migrate` runs them
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
        # A person, an enrollment and a closed safety item with its risk check: every later
        # migration that adds a NOT NULL column to these tables must give existing rows a value.
        for sql in (
            "INSERT INTO users (email, display_name, password_hash, role, time_zone, is_active, session_epoch,"
            " created_at) VALUES ('fac@clinic.example', 'Fay', '', 'facilitator', 'UTC', TRUE, 0, CURRENT_TIMESTAMP)",
            "INSERT INTO users (email, display_name, password_hash, role, time_zone, is_active, session_epoch,"
            " created_at) VALUES ('mem@clinic.example', 'Mo', '', 'member', 'UTC', TRUE, 0, CURRENT_TIMESTAMP)",
            "INSERT INTO enrollments (cohort_id, member_id, status, formulation, consent_version, withdrawal_reason,"
            " late_join_reason, created_at, updated_at) SELECT c.id, u.id, 'enrolled', '', '', '', '',"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM cohorts c, users u WHERE u.role = 'member'",
            "INSERT INTO measure_responses (enrollment_id, instrument, items, total, band, item9, \"window\","
            " administered_at, on_behalf, superseded, correction_reason, created_at) SELECT id, 'phq9',"
            " '[1,1,1,1,1,1,1,1,1]', 9, 'mild', 1, 'baseline', CURRENT_TIMESTAMP, FALSE, FALSE, '',"
            " CURRENT_TIMESTAMP FROM enrollments",
            "INSERT INTO safety_items (enrollment_id, response_id, item9, status, opened_at, closed_at)"
            " SELECT enrollment_id, id, 1, 'closed', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM measure_responses",
            "INSERT INTO risk_checks (safety_item_id, checked_by_id, checked_at, outcome, action, created_at)"
            " SELECT s.id, u.id, CURRENT_TIMESTAMP, 'Spoke with them after the session.', 'safety_plan',"
            " CURRENT_TIMESTAMP FROM safety_items s, users u WHERE u.role = 'facilitator'",
        ):
            await conn.execute_query(sql)
        await migrate(config=cfg)
        await check_foreign_keys(conn)  # SQLite's check; PostgreSQL enforced them all along
        kept = await conn.execute_query_dict(
            "SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM safety_items) AS items,"
            " (SELECT COUNT(*) FROM risk_checks) AS checks")
        up = await conn.execute_query_dict(
            "SELECT t.late_join_cutoff_session AS cutoff, t.consent_required AS consent,"
            " c.activation_override_reason AS reason FROM protocol_templates t JOIN cohorts c ON c.template_id = t.id")
        await migrate(config=cfg, target="models.0002_board_head_from_log")
        down = await conn.execute_query_dict("SELECT late_join_cutoff_session AS cutoff FROM protocol_templates")
        print(json.dumps({"up": [dict(r) for r in up], "down": [dict(r) for r in down], "kept": [dict(r) for r in kept]}))

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
    assert data["kept"] == [{"users": 2, "items": 1, "checks": 1}]
