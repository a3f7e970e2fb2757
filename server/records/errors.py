"""Errors of records: backups, restores and exports.

    PlatformError (server/errors.py)
     └── BackupError   400  a backup cannot be written, read, trusted or restored
          └── DatabaseNotEmpty  409  restore would overwrite a clinic's data (use --force)
"""
from __future__ import annotations

from server.errors import BadRequest, Conflict


class BackupError(BadRequest):
    code = "backup_error"
    title = "The backup cannot be used"


class DatabaseNotEmpty(BackupError, Conflict):
    code = "database_not_empty"
    title = "The database already holds data"
