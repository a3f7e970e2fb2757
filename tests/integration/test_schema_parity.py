"""The same schema on every database (issue 12): after `groupipt migrate`, SQLite and
PostgreSQL hold the same unique constraints and indexes on every table. SQLite's table
rebuilds (migration 0002) once dropped the UNIQUE on boards.meeting_id, so concurrent
first connections made duplicate boards there; this keeps the two from drifting again.

Runs when GROUPIPT_TEST_POSTGRES_URL is set (CI sets it)."""
from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import ROOT, fresh_postgres_database

POSTGRES_URL = os.environ.get("GROUPIPT_TEST_POSTGRES_URL", "")
Index = tuple[str, tuple[str, ...], bool]  # table, columns in order, unique

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not POSTGRES_URL, reason="needs GROUPIPT_TEST_POSTGRES_URL")]


def _migrate(database_url: str, var_dir: Path) -> None:
    env = {**os.environ, "GROUPIPT_VAR_DIR": str(var_dir), "GROUPIPT_DATABASE_URL": database_url}
    result = subprocess.run([sys.executable, "-m", "server.cli", "migrate"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def sqlite_indexes(path: Path) -> set[Index]:
    """Every index but the primary keys': UNIQUE constraints are indexes too ("autoindex")."""
    found: set[Index] = set()
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            for _, name, unique, origin, _ in db.execute(f'PRAGMA index_list("{table}")').fetchall():
                if origin == "pk":
                    continue
                columns = tuple(r[2] for r in db.execute(f'PRAGMA index_info("{name}")'))
                found.add((table, columns, bool(unique)))
    return found


_PG_INDEXES = """
SELECT t.relname AS table_name, ix.indisunique AS is_unique,
       array_agg(a.attname::text ORDER BY k.ord) AS columns
FROM pg_index ix
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
WHERE n.nspname = 'public' AND NOT ix.indisprimary
GROUP BY ix.indexrelid, t.relname, ix.indisunique
"""


def postgres_indexes(database_url: str) -> set[Index]:
    import asyncpg

    async def read() -> set[Index]:
        db = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
        try:
            rows = await db.fetch(_PG_INDEXES)
        finally:
            await db.close()
        return {(r["table_name"], tuple(r["columns"]), r["is_unique"]) for r in rows}

    return asyncio.run(read())


def test_sqlite_and_postgresql_have_the_same_unique_constraints_and_indexes(tmp_path):
    sqlite_path = tmp_path / "parity.sqlite3"
    _migrate(f"sqlite://{sqlite_path}", tmp_path)
    database_url, drop = fresh_postgres_database(POSTGRES_URL)
    try:
        _migrate(database_url, tmp_path)
        on_postgres = postgres_indexes(database_url)
    finally:
        drop()
    on_sqlite = sqlite_indexes(sqlite_path)
    assert ("boards", ("meeting_id",), True) in on_sqlite  # one board per meeting
    assert on_sqlite == on_postgres, (
        f"only on SQLite: {sorted(on_sqlite - on_postgres)}\nonly on PostgreSQL: {sorted(on_postgres - on_sqlite)}")
