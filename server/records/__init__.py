"""Records that outlive the server: backups tested by restoring them."""
from server.records.archive import Manifest, read_manifest
from server.records.backup import Restored, Verified, restore_backup, take_backup, verify_backup
from server.records.errors import BackupError, DatabaseNotEmpty
# Imported for its ORM signals too: a restricted member's record is read-only everywhere.
from server.records.restriction import RecordRestricted, lift_restriction, restrict_member, restricted_members

__all__ = ["BackupError", "DatabaseNotEmpty", "Manifest", "RecordRestricted", "Restored", "Verified", "lift_restriction",
           "read_manifest", "restore_backup", "restrict_member", "restricted_members", "take_backup", "verify_backup"]
