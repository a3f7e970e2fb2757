"""Accounts: who people are and what they may see, without a request in sight.

passwords  argon2id hashing, e-mail addresses as keys, ending every session of a user
tokens     API tokens (shown once, stored as SHA-256)
links      one-time links: invitations, password resets, first-run setup
link_mail  e-mailing a one-time link or calendar link through the outbox
feed_secrets  calendar-link tokens sealed for their owner's pages
throttle   failed-login counting
sign_in    the password check and its bookkeeping, changing a password
setup      accounts begun from a link: first coordinator, invitations, resets
access     which cohorts and enrollments a user may reach
audit      who read or changed clinical data, when
"""
from __future__ import annotations

from server.accounts.access import (
    facilitates,
    staff_cohort,
    staff_enrollment,
    supervised_facilitator_ids,
    supervises,
    viewable_cohort,
    viewable_enrollment,
    visible_enrollment,
)
from server.accounts.links import LINK_LIFETIME, LINK_PATH, find_link, issue_link, lifetime_words
from server.accounts.passwords import Passwords, log_out_everywhere, normalize_email
from server.accounts.throttle import (
    THROTTLE_WINDOW,
    check_login_throttle,
    clear_login_failures,
    record_login_failure,
)
from server.accounts.tokens import (
    API_TOKEN_PREFIX,
    create_api_token,
    revoke_api_token,
    sha256,
    user_for_api_token,
)

__all__ = [
    "API_TOKEN_PREFIX",
    "LINK_LIFETIME",
    "LINK_PATH",
    "THROTTLE_WINDOW",
    "Passwords",
    "check_login_throttle",
    "clear_login_failures",
    "create_api_token",
    "facilitates",
    "find_link",
    "issue_link",
    "lifetime_words",
    "log_out_everywhere",
    "normalize_email",
    "record_login_failure",
    "revoke_api_token",
    "sha256",
    "staff_cohort",
    "staff_enrollment",
    "supervised_facilitator_ids",
    "supervises",
    "user_for_api_token",
    "viewable_cohort",
    "viewable_enrollment",
    "visible_enrollment",
]
