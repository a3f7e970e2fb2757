"""A backup file: an uncompressed tar holding `manifest.json`, then the database itself.

One file, so it can be copied, rotated and encrypted as one thing. The manifest says when
it was taken, from which kind of database, at which schema migration, how many rows each
table held, and the SHA-256 of the database member, so a damaged copy is refused before
anything is overwritten.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from server.records.errors import BackupError

FORMAT = "groupipt-backup/1"
MANIFEST_NAME = "manifest.json"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Manifest:
    created_at: datetime
    backend: str  # "sqlite" or "postgres"
    migration: str  # the last schema migration applied, e.g. "models.0005_consent_and_activation"
    migrations: list[str]
    counts: dict[str, int]
    database_member: str
    sha256: str
    size_bytes: int
    tool: str  # what wrote the database member: "sqlite3 3.40.1", "pg_dump (PostgreSQL) 15.20"
    format: str = FORMAT
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> bytes:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        return json.dumps(data, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes, *, source: Path) -> Manifest:
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT:
                raise BackupError(f"{source} is a backup in format {data.get('format')!r}; this version reads {FORMAT!r}.")
            data["created_at"] = datetime.fromisoformat(data["created_at"])
            data["counts"] = {str(k): int(v) for k, v in data["counts"].items()}
            return cls(**data)
        except BackupError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupError(f"{source} has a manifest this version cannot read ({exc}). Nothing was restored.") from exc

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_archive(path: Path, manifest: Manifest, database_file: Path) -> None:
    """Write PATH atomically (a partial file never has the final name), readable by its owner only:
    it holds health records."""
    if path.exists():
        raise BackupError(f"{path} already exists; a backup never overwrites one. Choose a new name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as tar:
            raw = manifest.to_json()
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size, info.mode, info.mtime = len(raw), 0o600, int(manifest.created_at.timestamp())
            tar.addfile(info, io.BytesIO(raw))
            info = tarfile.TarInfo(manifest.database_member)
            info.size, info.mode, info.mtime = manifest.size_bytes, 0o600, int(manifest.created_at.timestamp())
            with open(database_file, "rb") as data:
                tar.addfile(info, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def read_manifest(path: Path) -> Manifest:
    with _open(path) as tar:
        return _manifest_of(tar, path)


def extract_database(path: Path, into: Path) -> tuple[Manifest, Path]:
    """The manifest and the database member, copied into the directory `into` and checked
    against the manifest's checksum and size."""
    with _open(path) as tar:
        manifest = _manifest_of(tar, path)
        try:
            member = tar.getmember(manifest.database_member)
            source = tar.extractfile(member)
        except (KeyError, tarfile.TarError, OSError) as exc:
            raise BackupError(f"{path} is incomplete: it has no {manifest.database_member}. Nothing was restored.") from exc
        if source is None:
            raise BackupError(f"{path} is damaged: {manifest.database_member} is not a file. Nothing was restored.")
        target = into / Path(manifest.database_member).name
        digest, size = hashlib.sha256(), 0
        try:
            with source, open(target, "wb") as out:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        except (tarfile.TarError, OSError) as exc:
            raise BackupError(f"{path} is damaged or cut short ({exc}). Nothing was restored.") from exc
    if size != manifest.size_bytes or digest.hexdigest() != manifest.sha256:
        raise BackupError(
            f"{path} is damaged: its database does not match the checksum in its manifest "
            f"(expected sha256 {manifest.sha256[:16]}… of {manifest.size_bytes} bytes, found "
            f"{digest.hexdigest()[:16]}… of {size} bytes). Nothing was restored; use another copy."
        )
    return manifest, target


def _open(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(f"There is no backup at {path}.")
    try:
        return tarfile.open(path, mode="r:")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{path} is not a readable groupipt backup ({exc}). Nothing was restored.") from exc


def _manifest_of(tar: tarfile.TarFile, path: Path) -> Manifest:
    try:
        handle = tar.extractfile(MANIFEST_NAME)
        raw = handle.read() if handle else b""
    except (KeyError, tarfile.TarError, OSError) as exc:
        raise BackupError(f"{path} is not a groupipt backup: it has no readable {MANIFEST_NAME}. Nothing was restored.") from exc
    return Manifest.from_json(raw, source=path)
