"""SQLite: a consistent copy through SQLite's online backup API, while the server writes.

`sqlite3.Connection.backup` with its default `pages=-1` copies every page in one step under
a read transaction, so the copy is one committed state of the database: every transaction
committed before the copy began is in it, none is half in it
(https://www.sqlite.org/backup.html). In WAL mode the server keeps writing meanwhile.
"""
from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from tortoise.backends.base.config_generator import expand_db_url

from server.records.errors import BackupError

MEMBER = "database.sqlite3"


def database_path(database_url: str) -> Path:
    path = expand_db_url(database_url)["credentials"]["file_path"]
    if not path or path == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored; use a file.")
    return Path(path)


def tool() -> str:
    return f"sqlite3 {sqlite3.sqlite_version}"


def copy_database(source: Path, target: Path) -> None:
    """`source`'s committed state into the new file `target`, self-contained (no WAL beside it)."""
    if not source.is_file():
        raise BackupError(f"There is no SQLite database at {source}.")
    try:
        with contextlib.closing(sqlite3.connect(source, timeout=30)) as src, \
                contextlib.closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            _check_integrity(dst, target)
    except sqlite3.Error as exc:
        raise BackupError(f"Could not copy the SQLite database at {source} ({exc}).") from exc


def table_counts(path: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
        return _counts(conn)


def applied_migrations(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
        try:
            rows = conn.execute('SELECT app, name FROM "tortoise_migrations" ORDER BY applied_at, id').fetchall()
        except sqlite3.OperationalError:
            return []
    return [f"{app}.{name}" for app, name in rows]


def restore_into(database_file: Path, target: Path) -> None:
    """Replace `target`'s content with `database_file`'s, page by page in one transaction of
    the backup API, so a WAL-mode target stays a valid database throughout."""
    with contextlib.closing(sqlite3.connect(database_file)) as src:
        _check_integrity(src, database_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(target, timeout=30)) as dst:
            try:
                src.backup(dst)
            except sqlite3.Error as exc:
                raise BackupError(f"Could not write {target} ({exc}). Is the server still running on it? "
                                  "Stop it before restoring.") from exc


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a usable SQLite database ({exc}).") from exc
    if result != "ok":
        raise BackupError(f"{path} fails SQLite's integrity check: {result}.")


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}  # nosec B608


def clinic_rows(path: Path) -> int:
    """Rows that are a clinic's own: everything but the migration log and the shipped templates."""
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
        counts = _counts(conn)
        if "protocol_templates" in counts:
            counts["protocol_templates"] = conn.execute(
                "SELECT count(*) FROM protocol_templates WHERE NOT is_builtin").fetchone()[0]
    counts.pop("tortoise_migrations", None)
    return sum(counts.values())
