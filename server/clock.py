"""The one clock. Everything that needs "now" reads `clock.now()` at the edge or in a service
and passes it down; pure code (calendars/, board state) takes `now` as an argument.

Tests that need a fixed instant patch `server.clock.now`; callers look it up on the module
(`clock.now()`), never `from server.clock import now`, so the patch reaches them."""
from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
