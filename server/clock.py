"""The one clock. Everything that needs "now" reads `clock.now()` at the edge or in a service
and passes it down; pure code (calendars/, board state) takes `now` as an argument.

Tests that need a fixed instant patch `server.clock.now`; callers look it up on the module
(`clock.now()`), never `from server.clock import now`, so the patch reaches them."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta


def now() -> datetime:
    return datetime.now(UTC)


def duration_words(delta: timedelta) -> str:
    """An age or a target as a person says it: "90 seconds", "24 hours", "3 days"."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{seconds // 60} minutes"
    if seconds < 3 * 86400:
        return f"{seconds // 3600} hours"
    return f"{seconds // 86400} days"
