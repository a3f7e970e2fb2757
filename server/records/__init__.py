"""Records that outlive the server: backups tested by restoring them."""
from server.records.archive import Manifest, read_manifest
from server.records.backup import Restored, Verified, restore_backup, take_backup, verify_backup
from server.records.errors import BackupError, DatabaseNotEmpty

__all__ = ["BackupError", "DatabaseNotEmpty", "Manifest", "Restored", "Verified", "read_manifest", "restore_backup",
           "take_backup", "verify_backup"]
