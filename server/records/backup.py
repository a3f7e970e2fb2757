"""Backups that are tested by restoring them: take, restore, verify.

`take_backup` writes one file (server/records/archive.py) while the server keeps running;
`restore_backup` refuses a database that holds a clinic's data unless forced, checks the
file against its manifest, restores, migrates and reports the counts; `verify_backup`
restores into a scratch database and compares its counts with the manifest's.
"""
from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from server.platform.db import migrate
from server.platform.settings import PROJECT_ROOT, Settings
from server.records import archive, postgres_dump, sqlite_copy
from server.records.archive import Manifest
from server.records.errors import BackupError, DatabaseNotEmpty


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    counts: dict[str, int]  # after migrating
    migrated_to: str


@dataclass(frozen=True)
class Verified:
    manifest: Manifest
    counts: dict[str, int]  # in the scratch database, as restored
    differences: dict[str, tuple[int, int]]  # table: (manifest, restored)

    @property
    def ok(self) -> bool:
        return not self.differences


def backend_of(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgres"


def known_migrations() -> set[str]:
    return {f"models.{path.stem}" for path in (PROJECT_ROOT / "migrations").glob("0*.py")}


async def take_backup(settings: Settings, path: Path, *, now: datetime) -> Manifest:
    if path.exists():
        raise BackupError(f"{path} already exists; a backup never overwrites one. Choose a new name.")
    with tempfile.TemporaryDirectory(prefix="groupipt-backup-", dir=path.parent if path.parent.exists() else None) as tmp:
        work = Path(tmp)
        if settings.is_sqlite:
            member = work / sqlite_copy.MEMBER
            sqlite_copy.copy_database(sqlite_copy.database_path(settings.database_url), member)
            tool, counts = sqlite_copy.tool(), sqlite_copy.table_counts(member)
            migrations = sqlite_copy.applied_migrations(member)
        else:
            member = work / postgres_dump.MEMBER
            tool, counts, migrations = await postgres_dump.dump(postgres_dump.Target.from_url(settings.database_url), work)
        if not migrations:
            raise BackupError("The database has no migrations applied; there is nothing to back up yet "
                              "(run `groupipt migrate` or `groupipt serve` first).")
        manifest = Manifest(
            created_at=now, backend=backend_of(settings), migration=migrations[-1], migrations=migrations,
            counts=counts, database_member=member.name, sha256=archive.sha256_of(member),
            size_bytes=member.stat().st_size, tool=tool,
        )
        archive.write_archive(path, manifest, member)
    return manifest


async def restore_backup(settings: Settings, path: Path, *, force: bool = False) -> Restored:
    manifest = archive.read_manifest(path)
    _check_fits(settings, manifest, path)
    if not force and await _clinic_rows(settings) > 0:
        raise DatabaseNotEmpty(
            f"The database at {_where(settings)} already holds a clinic's data; restoring would replace it. "
            "Restore into an empty database, or pass --force to replace it (take a backup of it first)."
        )
    with tempfile.TemporaryDirectory(prefix="groupipt-restore-") as tmp:
        manifest, member = archive.extract_database(path, Path(tmp))
        # Past the check above, whatever is there (a migrated but empty schema, or data
        # the caller chose to replace) gives way to the backup.
        await _restore_member(settings, member, replace=True)
    restored = await _counts(settings)
    _raise_on_differences(manifest, restored, path)
    await migrate(settings)
    migrations = await _migrations(settings)
    return Restored(manifest=manifest, counts=await _counts(settings), migrated_to=migrations[-1])


async def verify_backup(settings: Settings, path: Path) -> Verified:
    """Restore into a scratch database beside the configured one, compare, migrate it (this
    version must be able to open it), and drop it. The configured database is not touched."""
    manifest = archive.read_manifest(path)
    _check_fits(settings, manifest, path)
    with tempfile.TemporaryDirectory(prefix="groupipt-verify-") as tmp:
        manifest, member = archive.extract_database(path, Path(tmp))
        if settings.is_sqlite:
            scratch = dataclasses.replace(settings, database_url=f"sqlite://{Path(tmp) / 'scratch.sqlite3'}")
            await _restore_member(scratch, member, replace=False)
            return await _compare_and_migrate(scratch, manifest)
        server = postgres_dump.Target.from_url(settings.database_url)
        target = await postgres_dump.create_scratch(server)
        try:
            scratch = dataclasses.replace(settings, database_url=target.url)
            await _restore_member(scratch, member, replace=False)
            return await _compare_and_migrate(scratch, manifest)
        finally:
            await postgres_dump.drop_scratch(server, target)


async def _compare_and_migrate(scratch: Settings, manifest: Manifest) -> Verified:
    counts = await _counts(scratch)
    differences = {table: (manifest.counts.get(table, 0), counts.get(table, 0))
                   for table in sorted(set(manifest.counts) | set(counts))
                   if manifest.counts.get(table, 0) != counts.get(table, 0)}
    if not differences:
        await migrate(scratch)
    return Verified(manifest=manifest, counts=counts, differences=differences)


def _check_fits(settings: Settings, manifest: Manifest, path: Path) -> None:
    if manifest.backend != backend_of(settings):
        raise BackupError(f"{path} is a {manifest.backend} backup, but GROUPIPT_DATABASE_URL is a "
                          f"{backend_of(settings)} database. Restore it into a {manifest.backend} database.")
    unknown = [name for name in manifest.migrations if name not in known_migrations()]
    if unknown:
        raise BackupError(f"{path} was taken at migration {manifest.migration}, which this version does not "
                          f"know ({', '.join(unknown)}). Restore it with the version that took it, or a newer one.")


def _raise_on_differences(manifest: Manifest, counts: dict[str, int], path: Path) -> None:
    differences = [f"{table}: {manifest.counts.get(table, 0)} in the manifest, {counts.get(table, 0)} restored"
                   for table in sorted(set(manifest.counts) | set(counts))
                   if manifest.counts.get(table, 0) != counts.get(table, 0)]
    if differences:
        raise BackupError(f"Restoring {path} did not give the rows its manifest lists: " + "; ".join(differences))


def _where(settings: Settings) -> str:
    if settings.is_sqlite:
        return str(sqlite_copy.database_path(settings.database_url))
    target = postgres_dump.Target.from_url(settings.database_url)
    return f"{target.host}:{target.port}/{target.database}"


async def _restore_member(settings: Settings, member: Path, *, replace: bool) -> None:
    if settings.is_sqlite:
        sqlite_copy.restore_into(member, sqlite_copy.database_path(settings.database_url))
    else:
        await postgres_dump.restore(postgres_dump.Target.from_url(settings.database_url), member, replace=replace)


async def _clinic_rows(settings: Settings) -> int:
    if settings.is_sqlite:
        return sqlite_copy.clinic_rows(sqlite_copy.database_path(settings.database_url))
    return await postgres_dump.clinic_rows(postgres_dump.Target.from_url(settings.database_url))


async def _counts(settings: Settings) -> dict[str, int]:
    if settings.is_sqlite:
        return sqlite_copy.table_counts(sqlite_copy.database_path(settings.database_url))
    return await postgres_dump.table_counts(postgres_dump.Target.from_url(settings.database_url))


async def _migrations(settings: Settings) -> list[str]:
    if settings.is_sqlite:
        return sqlite_copy.applied_migrations(sqlite_copy.database_path(settings.database_url))
    return await postgres_dump.applied_migrations(postgres_dump.Target.from_url(settings.database_url))
