"""The join link of an online meeting: an https address, open from shortly before the start."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit


def is_join_link(url: str) -> bool:
    """An https address with a host: what a member's phone can open without a warning."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname) and not any(c.isspace() for c in url)


def join_open(*, starts_at: datetime, ends_at: datetime, now: datetime, minutes_before: int) -> bool:
    return starts_at - timedelta(minutes=minutes_before) <= now < ends_at
