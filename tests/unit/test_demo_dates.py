"""The demo's half-way cohort has held sessions 1-4, and not 5, whenever the demo is loaded
(it was 3 on a Tuesday before six in the evening)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from server.demo import SESSION_TIME, ZONE, halfway_start


def test_four_sessions_have_begun_and_the_fifth_has_not_at_any_hour_of_any_day() -> None:
    zone = ZoneInfo(ZONE)
    # Every half hour for nine days around both changes of the clocks, and a plain week.
    for start in (datetime(2026, 3, 24, tzinfo=UTC), datetime(2026, 10, 21, tzinfo=UTC),
                  datetime(2026, 11, 19, tzinfo=UTC)):
        for step in range(9 * 48):
            now = start + timedelta(minutes=30 * step)
            first = halfway_start(now)
            assert first.weekday() == 1, now  # a Tuesday
            starts = [datetime.combine(first + timedelta(weeks=k), SESSION_TIME, tzinfo=zone) for k in range(5)]
            assert sum(s < now for s in starts) == 4, (now, first)  # held: starts_at < now


def test_tuesday_just_after_midnight() -> None:
    # The moment the demo test first failed: session 4 is tonight, so the cohort began a week earlier.
    assert halfway_start(datetime(2026, 11, 24, 0, 10, tzinfo=UTC)).isoformat() == "2026-10-27"
