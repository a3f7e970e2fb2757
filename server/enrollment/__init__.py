"""Members in cohorts.

service (enrolling, status changes), capacity (places, waitlist, late joining), consent,
withdrawal (withdrawal and transfer), transitions (the statuses and one transaction per
change), csv_import (enrolling a list at once), intake (problem area, inventory, goals),
candidates (finding who may still be enrolled). This module is the public surface of the
first five; csv_import, intake and candidates are used as modules.
"""

from server.enrollment.capacity import LateJoin, enrolled_count, late_join_state, size_warnings
from server.enrollment.consent import (
    CONSENT_METHOD_LABELS,
    CONSENT_PARTS,
    ConsentGiven,
    consent_missing,
    consent_refusal,
    parse_consent,
    record_consent,
)
from server.enrollment.service import change_status, enroll
from server.enrollment.transitions import ALLOWED, OPEN_COHORT, STATUS_LABELS, Outcome, history
from server.enrollment.withdrawal import transfer, withdraw

__all__ = [
    "ALLOWED",
    "CONSENT_METHOD_LABELS",
    "CONSENT_PARTS",
    "OPEN_COHORT",
    "STATUS_LABELS",
    "ConsentGiven",
    "LateJoin",
    "Outcome",
    "change_status",
    "consent_missing",
    "consent_refusal",
    "enroll",
    "enrolled_count",
    "history",
    "late_join_state",
    "parse_consent",
    "record_consent",
    "size_warnings",
    "transfer",
    "withdraw",
]
