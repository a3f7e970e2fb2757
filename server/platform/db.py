"""Database start-up helpers: migrations and the check that the database is empty."""
from __future__ import annotations

import copy
from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate as migrate_api

from server.platform.settings import Settings, tortoise_config


class MigrationError(RuntimeError):
    """The migrated database breaks a foreign key: nothing was dropped, but it needs a look."""


def migration_config(database_url: str) -> dict:
    """The configuration migrations run under.

    On SQLite, Tortoise alters a column by rebuilding its table (create, copy, DROP, rename).
    With foreign keys on, that DROP deletes, through ON DELETE CASCADE, every row of every
    table that refers to it: altering `safety_items` emptied `risk_checks`. SQLite's own
    procedure for such changes turns foreign keys off first and checks them afterwards
    (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema
    Changes"), so migrations get a connection with them off and `migrate` checks after.
    """
    config = tortoise_config(database_url)
    if database_url.startswith("sqlite"):
        config = copy.deepcopy(config)
        config["connections"]["default"].setdefault("credentials", {})["foreign_keys"] = "OFF"
    return config


async def migrate(settings: Settings) -> None:
    """Apply every pending migration (Tortoise's built-in migrations, not Aerich)."""
    if settings.is_sqlite:
        path = settings.database_url.split("://", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    config = migration_config(settings.database_url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        await migrate_api(config=config)
        if settings.is_sqlite:
            await check_foreign_keys(ctx.connections.get("default"))


async def check_foreign_keys(connection) -> None:
    """SQLite only: migrations there run with foreign keys off (see migration_config), so they are
    checked afterwards. PostgreSQL enforces them in every statement, so there is nothing to check."""
    if connection.capabilities.dialect != "sqlite":
        return
    broken = await connection.execute_query_dict("PRAGMA foreign_key_check")
    if broken:
        tables = sorted({f"{row['table']} -> {row['parent']}" for row in broken})
        raise MigrationError(f"{len(broken)} rows refer to rows that do not exist after migrating: {', '.join(tables)}")
