"""iCalendar feeds from plain values.

One VEVENT per meeting, no RRULE (tech-notes §3.3): a reschedule keeps the UID and bumps
SEQUENCE; a cancellation stays in the feed with STATUS:CANCELLED so clients remove it.
Identical input gives identical bytes: DTSTAMP and LAST-MODIFIED are the stored revision
time (RFC 5545 §3.8.7.2: without METHOD, DTSTAMP is when the item was last revised),
events are sorted, and VTIMEZONEs come from a cache keyed by (tzid, first, last).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import CLASS, STATUS, TRANSP, Alarm, Calendar, Event, vCalAddress, vDuration

from calendars.meetings import PlannedMeeting
from calendars.vocabulary import MeetingStatus
from calendars.vtimezone import vtimezone_component, year_bounds
from calendars.wallclock import load_zone

CANCELLED_PREFIX = "Cancelled: "
DEFAULT_REFRESH = timedelta(hours=1)
DEFAULT_ALARM_MINUTES = 30


@dataclass(frozen=True, kw_only=True)
class FeedEvent:
    uid: str
    summary: str
    start: datetime  # aware
    end: datetime  # aware
    tzid: str
    sequence: int
    revised_at: datetime  # aware: DTSTAMP and LAST-MODIFIED
    cancelled: bool = False
    location: str | None = None
    url: str | None = None
    description: str | None = None
    alarm_minutes: int | None = DEFAULT_ALARM_MINUTES

    @classmethod
    def from_meeting(
        cls,
        meeting: PlannedMeeting,
        *,
        location: str | None = None,
        url: str | None = None,
        description: str | None = None,
        alarm_minutes: int | None = DEFAULT_ALARM_MINUTES,
        group_label: str = "Group session",
    ) -> FeedEvent:
        if meeting.revised_at is None or not meeting.uid:
            raise ValueError("only stored meetings (with a UID and a revision time) go in a feed")
        return cls(
            uid=meeting.uid,
            summary=meeting.titled(group_label),
            start=meeting.start,
            end=meeting.end,
            tzid=meeting.tzid,
            sequence=meeting.sequence,
            revised_at=meeting.revised_at,
            cancelled=meeting.status is MeetingStatus.CANCELLED,
            location=location,
            url=url,
            description=description,
            alarm_minutes=alarm_minutes,
        )


@dataclass(frozen=True, kw_only=True)
class Organizer:
    name: str  # neutral: the clinic's calendar name, not a therapy word (domain-ipt.md §9)
    email: str


def build_feed(
    *,
    name: str,
    events: Sequence[FeedEvent],
    fallback_tzid: str,
    fallback_day: date,
    organization: str = "Calendar",
    product: str = "Sessions",
    refresh_interval: timedelta = DEFAULT_REFRESH,
    organizer: Organizer | None = None,
    method: str | None = None,
    calendar_uid: str | None = None,
) -> bytes:
    """A complete VCALENDAR. With no events it still validates: it carries the VTIMEZONE
    of `fallback_tzid` for the year of `fallback_day` (RFC 5545 needs one component)."""
    calendar = Calendar.new(
        prodid=f"-//{organization}//{product}//EN",
        method=method,
        uid=calendar_uid,
    )
    if calendar_uid is None:
        del calendar["UID"]  # Calendar.new invents a random one; bytes must not change
    calendar.calendar_name = name  # NAME (RFC 7986) and X-WR-CALNAME
    # RFC 7986 §5.7 requires VALUE=DURATION, which icalendar 7.3 leaves out (tech-notes §3.2).
    calendar.add("REFRESH-INTERVAL", vDuration(refresh_interval), parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(refresh_interval))

    ordered = sorted(events, key=lambda e: (e.start.astimezone(UTC), e.uid))
    for tzid, (first, last) in sorted(_zone_ranges(ordered, fallback_tzid, fallback_day).items()):
        calendar.add_component(vtimezone_component(tzid, *year_bounds(first, last)))
    for event in ordered:
        calendar.add_component(_vevent(event, organizer))
    calendar.validate()
    return calendar.to_ical()


def feed_etag(body: bytes) -> str:
    """A strong ETag: the same bytes give the same tag, any change gives another."""
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def _zone_ranges(
    events: Sequence[FeedEvent], fallback_tzid: str, fallback_day: date
) -> dict[str, tuple[date, date]]:
    ranges: dict[str, tuple[date, date]] = {}
    for event in events:
        zone = load_zone(event.tzid)
        first = event.start.astimezone(zone).date()
        last = event.end.astimezone(zone).date()
        if event.tzid in ranges:
            low, high = ranges[event.tzid]
            first, last = min(first, low), max(last, high)
        ranges[event.tzid] = (first, last)
    if not ranges:
        ranges[fallback_tzid] = (fallback_day, fallback_day)
    return ranges


def _ambiguous(moment: datetime) -> bool:
    """True when this local time happens twice (the hour clocks fall back)."""
    return moment.replace(fold=0).utcoffset() != moment.replace(fold=1).utcoffset() and (
        moment.astimezone(UTC).astimezone(moment.tzinfo).replace(tzinfo=None) == moment.replace(tzinfo=None)
    )


def _vevent(event: FeedEvent, organizer: Organizer | None) -> Event:
    zone = load_zone(event.tzid)
    revised = event.revised_at.astimezone(UTC).replace(microsecond=0)
    summary = CANCELLED_PREFIX + event.summary if event.cancelled else event.summary
    start = event.start.astimezone(zone).replace(microsecond=0)
    end = event.end.astimezone(zone).replace(microsecond=0)
    if _ambiguous(start) or _ambiguous(end):
        # RFC 5545 §3.3.5 reads a repeated local time as its first occurrence, but ical.js
        # (Thunderbird) takes the second; a UTC time means the same to every client.
        start, end = start.astimezone(UTC), end.astimezone(UTC)
    vevent = Event.new(
        uid=event.uid,
        summary=summary,
        start=start,
        end=end,
        stamp=revised,
        last_modified=revised,
        sequence=event.sequence,
        status=STATUS.CANCELLED if event.cancelled else STATUS.CONFIRMED,
        classification=CLASS.PRIVATE,
        transparency=TRANSP.TRANSPARENT if event.cancelled else TRANSP.OPAQUE,
        location=event.location or None,
        url=event.url or None,
        description=event.description or None,
    )
    if organizer is not None:
        address = vCalAddress(f"mailto:{organizer.email}")
        address.params["CN"] = organizer.name
        vevent.add("ORGANIZER", address)
    if event.alarm_minutes and not event.cancelled:
        alarm = Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", "Reminder")
        alarm.add("TRIGGER", timedelta(minutes=-event.alarm_minutes))
        vevent.add_component(alarm)
    return vevent
