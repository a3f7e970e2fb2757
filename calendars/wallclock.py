"""Local wall-clock time to real instants, with one stated rule for DST days.

Meetings are planned in the cohort's local time: an 18:00 Tuesday group stays at 18:00
across DST. Two local times need a rule:

* A time that does not exist (clocks jump forward, e.g. 02:30 on the US spring-forward
  day) is moved forward by the length of the gap: 02:30 becomes 03:30 local.
* A time that occurs twice (clocks fall back, e.g. 01:30 on the US fall-back day) means
  its first occurrence, the one still on summer time (PEP 495 ``fold=0``).

Both are what PEP 495 prescribes for ``fold=0``; we normalise the result so the stored
local time is always one that really exists, and report what happened.
"""

from __future__ import annotations

import difflib
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache

from calendars.errors import Problem


class WallClockAdjustment(StrEnum):
    NONE = "none"
    NONEXISTENT = "nonexistent"  # moved forward by the DST gap
    AMBIGUOUS = "ambiguous"  # first occurrence chosen


@dataclass(frozen=True, slots=True)
class LocalStart:
    start: datetime  # aware, in the zone, a time that exists
    adjustment: WallClockAdjustment

    def describe(self, wanted: time) -> str | None:
        day = self.start.date().isoformat()
        zone = str(self.start.tzinfo)
        if self.adjustment is WallClockAdjustment.NONEXISTENT:
            return (
                f"{wanted:%H:%M} does not exist on {day} in {zone} (clocks go forward); "
                f"that meeting starts at {self.start:%H:%M}."
            )
        if self.adjustment is WallClockAdjustment.AMBIGUOUS:
            return (
                f"{wanted:%H:%M} happens twice on {day} in {zone} (clocks go back); "
                f"that meeting uses the first one ({self.start:%H:%M} {self.start.tzname()})."
            )
        return None


def local_start(day: date, wall: time, zone: zoneinfo.ZoneInfo) -> LocalStart:
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return LocalStart(first, WallClockAdjustment.NONE)
    # Round-tripping through UTC tells a gap (the wall time changes) from an overlap.
    normalised = first.astimezone(UTC).astimezone(zone)
    if normalised.replace(tzinfo=None) != naive:
        return LocalStart(normalised, WallClockAdjustment.NONEXISTENT)
    return LocalStart(first, WallClockAdjustment.AMBIGUOUS)


def end_after(start: datetime, minutes: int) -> datetime:
    """Elapsed time, not wall time: a 90-minute session across a DST change lasts 90 minutes."""
    return (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(start.tzinfo)


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_problem(name: str, *, field: str = "time_zone") -> Problem | None:
    try:
        load_zone(name)
    except LookupError:
        pass
    else:
        return None
    hint = difflib.get_close_matches(name, sorted(_known_zones()), n=1, cutoff=0.6)
    suggestion = f"; did you mean '{hint[0]}'?" if hint else "; use an IANA name such as 'Europe/London'."
    return Problem(field, f"Unknown time zone '{name}'{suggestion}")


def load_zone(name: str) -> zoneinfo.ZoneInfo:
    """ZoneInfo for an IANA name, or LookupError for anything else (empty, paths, typos)."""
    if not name or name != name.strip() or name.startswith("/") or ".." in name:
        raise LookupError(name)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise LookupError(name) from exc
