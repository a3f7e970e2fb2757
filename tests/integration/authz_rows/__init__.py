"""The authorization table: one row per (method, path) of the app.

Each area keeps its rows in a module here (`ROWS = [...]`); test_authz_table.py collects
them, fails on any route without a row, and tries every row as every role.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

# Expected outcomes
OK = "ok"  # authorized: 2xx/3xx, or a 400/409/422 about the (deliberately empty) input
DENY = "deny"  # 403, or 404 where existence itself is private
LOGIN = "login"  # anonymous: a redirect to /login (pages) or 401 (API, sockets)
PUBLIC = "public"  # open to anyone, like the login page (same check as OK)


@dataclass(frozen=True)
class Row:
    method: str  # GET, POST, ... or WS
    path: str  # the route's template, e.g. "/cohorts/{cohort_id}"
    anon: str
    member: str
    other_member: str
    other_facilitator: str
    facilitator: str
    coordinator: str
    # Supervises cohort A's facilitator and leads no cohort. None: as other_facilitator (a
    # facilitator of no cohort here), so only rows that admit supervisors need say so.
    supervisor: str | None = None
    # Overrides for path parameters: name -> function(world) -> value
    params: dict[str, Callable] = field(default_factory=dict)
    # Form or JSON body to send for unsafe methods (default: nothing, so validation fails)
    body: dict | None = None
    json: bool = False
    note: str = ""

    def expected(self, role: str) -> str:
        if role == "supervisor" and self.supervisor is None:
            return self.other_facilitator
        return getattr(self, role)


def staff_only(method: str, path: str, **kw) -> Row:
    """Coordinators and this cohort's facilitators; others denied."""
    return Row(method, path, anon=LOGIN, member=DENY, other_member=DENY, other_facilitator=DENY,
               facilitator=OK, coordinator=OK, **kw)


def staff_any_cohort(method: str, path: str, **kw) -> Row:
    """Coordinators and every facilitator (each sees only their own cohorts' records); members denied."""
    return Row(method, path, anon=LOGIN, member=DENY, other_member=DENY, other_facilitator=OK,
               facilitator=OK, coordinator=OK, **kw)


def staff_or_supervisor(method: str, path: str, **kw) -> Row:
    """Read-only for supervisors: coordinators, this cohort's facilitators, and their supervisors."""
    return Row(method, path, anon=LOGIN, member=DENY, other_member=DENY, other_facilitator=DENY,
               facilitator=OK, coordinator=OK, supervisor=OK, **kw)


def coordinator_only(method: str, path: str, **kw) -> Row:
    return Row(method, path, anon=LOGIN, member=DENY, other_member=DENY, other_facilitator=DENY,
               facilitator=DENY, coordinator=OK, **kw)


def any_user(method: str, path: str, **kw) -> Row:
    return Row(method, path, anon=LOGIN, member=OK, other_member=OK, other_facilitator=OK,
               facilitator=OK, coordinator=OK, **kw)


def public(method: str, path: str, **kw) -> Row:
    return Row(method, path, anon=PUBLIC, member=PUBLIC, other_member=PUBLIC, other_facilitator=PUBLIC,
               facilitator=PUBLIC, coordinator=PUBLIC, **kw)


def own_member(method: str, path: str, **kw) -> Row:
    """The member themself, this cohort's facilitators and coordinators; not other people."""
    return Row(method, path, anon=LOGIN, member=OK, other_member=DENY, other_facilitator=DENY,
               facilitator=OK, coordinator=OK, **kw)


def all_rows() -> list[Row]:
    rows: list[Row] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        rows.extend(getattr(module, "ROWS", []))
    return rows
