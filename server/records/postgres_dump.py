"""PostgreSQL: `pg_dump --format=custom` and `pg_restore`, with the manifest's counts read in
the very snapshot the dump reads.

A transaction at REPEATABLE READ exports its snapshot (`pg_export_snapshot()`), counts the
tables in it, and stays open while `pg_dump --snapshot` dumps that same state
(https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-SNAPSHOT-SYNCHRONIZATION),
so the counts describe exactly what the dump holds, however busy the server is.
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tortoise.backends.base.config_generator import expand_db_url

from server.records.errors import BackupError

if TYPE_CHECKING:
    import asyncpg

MEMBER = "database.pgdump"


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    user: str
    password: str | None
    database: str

    @classmethod
    def from_url(cls, database_url: str) -> Target:
        creds = expand_db_url(database_url)["credentials"]
        return cls(host=creds.get("host") or "127.0.0.1", port=int(creds.get("port") or 5432),
                   user=creds.get("user") or "postgres", password=creds.get("password"),
                   database=creds.get("database") or "postgres")

    def with_database(self, database: str) -> Target:
        return Target(self.host, self.port, self.user, self.password, database)

    @property
    def url(self) -> str:
        """For Tortoise; the password travels in the URL only here, never on a command line."""
        from urllib.parse import quote

        auth = quote(self.user, safe="") + (f":{quote(self.password, safe='')}" if self.password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{self.database}"

    async def connect(self) -> asyncpg.Connection:
        import asyncpg  # here, so that serving SQLite never loads it

        try:
            return await asyncpg.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                                         database=self.database)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise BackupError(f"Could not connect to PostgreSQL database {self.database!r} at "
                              f"{self.host}:{self.port} as {self.user} ({exc}).") from exc

    def command_env(self) -> dict[str, str]:
        # libpq reads these; a password in argv would show in `ps`.
        env = {**os.environ, "PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user,
               "PGDATABASE": self.database}
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def _program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed. Install Debian's postgresql-client "
                          "(scripts/install-system-deps does) to back up or restore PostgreSQL.")
    return path


async def _run(target: Target, *argv: str) -> str:
    try:
        process = await asyncio.create_subprocess_exec(*argv, env=target.command_env(), stdout=asyncio.subprocess.PIPE,
                                                       stderr=asyncio.subprocess.PIPE)
    except OSError as exc:
        raise BackupError(f"Could not run {argv[0]} ({exc}).") from exc
    out, err = await process.communicate()
    if process.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {err.decode(errors='replace').strip() or out.decode()}")
    return out.decode(errors="replace")


async def tool_version(name: str = "pg_dump") -> tuple[str, int]:
    text = (await _run(Target("", 0, "", None, ""), _program(name), "--version")).strip()
    match = re.search(r"(\d+)(?:\.\d+)?", text)
    return text, int(match.group(1)) if match else 0


async def _check_versions(target: Target, conn: asyncpg.Connection, name: str) -> str:
    text, client_major = await tool_version(name)
    server_major = int(await conn.fetchval("SHOW server_version_num")) // 10000
    if client_major < server_major:
        raise BackupError(f"{text} cannot read a PostgreSQL {server_major} server. Install "
                          f"postgresql-client-{server_major} (apt.postgresql.org) and run again.")
    return text


async def dump(target: Target, into: Path) -> tuple[str, dict[str, int], list[str]]:
    """Dump `target` into `into/MEMBER`; the tool's version, the counts and the migrations
    applied, all of the dump's own snapshot."""
    conn = await target.connect()
    try:
        tool = await _check_versions(target, conn, "pg_dump")
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            counts = await _counts(conn)
            migrations = await _migrations(conn)
            await _run(target, _program("pg_dump"), "--format=custom", f"--snapshot={snapshot}",
                       f"--file={into / MEMBER}")
    finally:
        await conn.close()
    return tool, counts, migrations


async def restore(target: Target, dump_file: Path, *, replace: bool) -> None:
    """Restore into `target` in one transaction; with `replace`, its tables go first."""
    conn = await target.connect()
    try:
        await _check_versions(target, conn, "pg_restore")
        await _run(target, _program("pg_restore"), "--list", str(dump_file))  # a readable archive, or refuse now
        if replace:
            tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            if tables:
                names = ", ".join(f'"{row["tablename"]}"' for row in tables)
                await conn.execute(f"DROP TABLE {names} CASCADE")  # nosec B608 (names from the catalog)
    finally:
        await conn.close()
    await _run(target, _program("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
               "--single-transaction", f"--dbname={target.database}", str(dump_file))


async def table_counts(target: Target) -> dict[str, int]:
    conn = await target.connect()
    try:
        return await _counts(conn)
    finally:
        await conn.close()


async def applied_migrations(target: Target) -> list[str]:
    conn = await target.connect()
    try:
        return await _migrations(conn)
    finally:
        await conn.close()


async def clinic_rows(target: Target) -> int:
    """Rows that are a clinic's own: everything but the migration log and the shipped templates."""
    conn = await target.connect()
    try:
        counts = await _counts(conn)
        if "protocol_templates" in counts:
            counts["protocol_templates"] = await conn.fetchval(
                "SELECT count(*) FROM protocol_templates WHERE NOT is_builtin")
    finally:
        await conn.close()
    counts.pop("tortoise_migrations", None)
    return sum(counts.values())


async def create_scratch(target: Target) -> Target:
    scratch = target.with_database(f"gipt_verify_{uuid.uuid4().hex[:12]}")
    import asyncpg

    conn = await target.connect()
    try:
        await conn.execute(f'CREATE DATABASE "{scratch.database}"')
    except asyncpg.PostgresError as exc:
        raise BackupError(f"Could not create a scratch database to verify into ({exc}); "
                          f"the user {target.user} needs CREATEDB.") from exc
    finally:
        await conn.close()
    return scratch


async def drop_scratch(target: Target, scratch: Target) -> None:
    conn = await target.connect()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')
    finally:
        await conn.close()


async def _counts(conn: asyncpg.Connection) -> dict[str, int]:
    names = [row["tablename"] for row in await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
    return {name: await conn.fetchval(f'SELECT count(*) FROM "{name}"') for name in names}  # nosec B608


async def _migrations(conn: asyncpg.Connection) -> list[str]:
    exists = await conn.fetchval("SELECT to_regclass('public.tortoise_migrations') IS NOT NULL")
    if not exists:
        return []
    rows = await conn.fetch('SELECT app, name FROM "tortoise_migrations" ORDER BY applied_at, id')
    return [f"{row['app']}.{row['name']}" for row in rows]
