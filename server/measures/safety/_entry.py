"""Free text and times as staff enter them on safety forms (disclosures, risk checks,
the crisis help text)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


MAX_TEXT = 4000


def says_something(text: str) -> bool:
    """Free text must carry words, not "." or "-" (at least two letters or digits)."""
    return len(re.findall(r"[^\W_]", text or "")) >= 2


def _parse_when(raw: object, *, now: datetime, zone: ZoneInfo, errors: dict[str, str], field: str) -> datetime:
    text = str(raw or "").strip()
    when = now
    if text:
        try:
            parsed = datetime.fromisoformat(text)
            when = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
        except ValueError:
            errors[field] = "Use a date and time such as 2026-03-03T18:30."
            return now
    if when > now + timedelta(minutes=5):
        errors[field] = "This cannot be in the future."
    return when
