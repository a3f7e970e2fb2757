"""Database start-up helpers: migrations and the check that the database is empty."""
from __future__ import annotations

from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate as migrate_api

from server.settings import Settings


async def migrate(settings: Settings) -> None:
    """Apply every pending migration (Tortoise's built-in migrations, not Aerich)."""
    if settings.is_sqlite:
        path = settings.database_url.split("://", 1)[1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
    async with TortoiseContext() as ctx:
        await ctx.init(config=settings.tortoise_config())
        await migrate_api(config=settings.tortoise_config())
