"""VTIMEZONE components from zoneinfo, bounded to the years a calendar needs.

icalendar's `Timezone.from_tzid` writes a DAYLIGHT onset as the first wall time after
the jump (03:00) with TZOFFSETFROM of the old offset, which is an hour late if read
literally; RFC 5545 §3.6.5 gives the onset as local time in the *old* offset (its
examples say 02:00 for both directions). We build the observances ourselves from the
zone's real transitions: one STANDARD or DAYLIGHT per offset change, plus one for the
offset in force at the start of the range, so even a zone without DST has a component.

Bounds are whole years (first January of the first meeting's year to first January after
the last), which keeps the component small and lets a cache serve every feed of a cohort.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

from calendars.wallclock import load_zone

_DAY = timedelta(days=1)


def year_bounds(first: date, last: date) -> tuple[date, date]:
    return date(first.year, 1, 1), date(last.year + 1, 1, 1)


@lru_cache(maxsize=256)
def vtimezone(tzid: str, first: date, last: date) -> bytes:
    """The serialised VTIMEZONE for `tzid` between two dates (cached; callers re-parse)."""
    return _build(tzid, first, last).to_ical()


@lru_cache(maxsize=256)
def vtimezone_component(tzid: str, first: date, last: date) -> Timezone:
    """Shared between calendars: serialising never changes a component, so one parse serves all."""
    return Timezone.from_ical(vtimezone(tzid, first, last))  # type: ignore[return-value]


def _build(tzid: str, first: date, last: date) -> Timezone:
    zone = load_zone(tzid)
    start = datetime(first.year, first.month, first.day, tzinfo=zone).astimezone(UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=zone).astimezone(UTC)
    component = Timezone()
    component.add("TZID", tzid)
    initial = start.astimezone(zone)
    component.add_component(
        _observance(
            onset_local=initial.replace(tzinfo=None),
            offset_from=initial.utcoffset(),
            at=initial,
        )
    )
    for instant in _transitions(zone, start, end):
        before = (instant - timedelta(seconds=1)).astimezone(zone)
        after = instant.astimezone(zone)
        # RFC 5545 §3.6.5: DTSTART is the onset in the local time in force before it.
        onset_local = (instant + before.utcoffset()).replace(tzinfo=None)
        component.add_component(_observance(onset_local=onset_local, offset_from=before.utcoffset(), at=after))
    return component


def _observance(
    *, onset_local: datetime, offset_from: timedelta | None, at: datetime
) -> TimezoneStandard | TimezoneDaylight:
    # Positive DST only: Europe/Dublin's negative winter "DST" is still standard time to clients.
    dst = at.dst()
    kind = TimezoneDaylight if dst is not None and dst > timedelta(0) else TimezoneStandard
    observance = kind()
    observance.add("DTSTART", onset_local)
    observance.add("TZNAME", at.tzname() or "")
    observance.add("TZOFFSETFROM", offset_from)
    observance.add("TZOFFSETTO", at.utcoffset())
    return observance


def _transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """UTC instants in [start, end) where the zone's offset (or name) changes."""
    found = []
    cursor = start
    while cursor < end:
        step = min(cursor + _DAY, end)
        if _state(zone, cursor) != _state(zone, step):
            low, high = 0, int((step - cursor).total_seconds())
            before = _state(zone, cursor)
            while high - low > 1:
                mid = (low + high) // 2
                if _state(zone, cursor + timedelta(seconds=mid)) == before:
                    low = mid
                else:
                    high = mid
            found.append(cursor + timedelta(seconds=high))
        cursor = step
    return found


def _state(zone: ZoneInfo, instant: datetime) -> tuple[timedelta | None, str | None, bool]:
    local = instant.astimezone(zone)
    return local.utcoffset(), local.tzname(), bool(local.dst())
