"""build_feed: the calendar and event properties every client relies on."""
from __future__ import annotations

import re

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar

from calendars.changes import cancel, reschedule
from calendars.feed import FeedEvent, Organizer, build_feed, feed_etag
from calendars.vocabulary import MeetingStatus
from tests.unit.test_feed_parsers import CREATED, stored_meetings

NOW = datetime(2027, 2, 24, 9, 0, tzinfo=UTC)


def feed(meetings, **kwargs) -> bytes:
    values = dict(name="My sessions", fallback_tzid="America/New_York", fallback_day=date(2027, 1, 1))
    values.update(kwargs)
    return build_feed(events=[FeedEvent.from_meeting(m) for m in meetings], **values)


def lines(body: bytes) -> list[str]:
    return body.decode().split("\r\n")


def test_calendar_properties():
    body = feed(stored_meetings(), organization="Riverside Clinic", product="Sessions")
    text = lines(body)
    assert text[:3] == ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Riverside Clinic//Sessions//EN"]
    assert "NAME:My sessions" in text and "X-WR-CALNAME:My sessions" in text
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in text
    assert "X-PUBLISHED-TTL:PT1H" in text
    assert not any(line.startswith("UID:") and "0000" not in line for line in text), "no random calendar UID"


def test_every_event_has_the_properties_clients_need():
    body = feed(stored_meetings())
    calendar = Calendar.from_ical(body)
    events = calendar.walk("VEVENT")
    assert len(events) == 9  # 1 pre-group + 8 sessions
    for event in events:
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE", "STATUS", "LAST-MODIFIED", "CLASS", "SUMMARY"):
            assert prop in event, prop
        assert event["DTSTART"].params["TZID"] == "America/New_York"
        assert str(event["CLASS"]) == "PRIVATE"
        assert event.decoded("DTSTAMP") == CREATED == event.decoded("LAST-MODIFIED")
        (alarm,) = event.walk("VALARM")
        assert alarm.decoded("TRIGGER") == timedelta(minutes=-30)
    assert calendar.get_missing_tzids() == set()


def test_same_input_gives_the_same_bytes_and_etag():
    assert feed(stored_meetings()) == feed(stored_meetings())
    assert feed_etag(feed(stored_meetings())) == feed_etag(feed(stored_meetings()))
    assert feed_etag(b"a").startswith('"') and feed_etag(b"a") != feed_etag(b"b")


def test_event_order_does_not_depend_on_input_order():
    meetings = stored_meetings()
    assert feed(meetings) == feed(list(reversed(meetings)))


def test_vtimezone_is_bounded_to_the_years_in_use():
    text = lines(feed(stored_meetings()))
    starts = [line for line in text if line.startswith("DTSTART:")]  # observance onsets only
    assert starts == ["DTSTART:20270101T000000", "DTSTART:20270314T020000", "DTSTART:20271107T020000"]
    assert text.count("BEGIN:VTIMEZONE") == 1


def test_empty_feed_is_still_a_valid_calendar():
    body = build_feed(name="My sessions", events=[], fallback_tzid="Europe/London", fallback_day=date(2027, 5, 1))
    calendar = Calendar.from_ical(body)
    calendar.validate()
    assert [c.name for c in calendar.subcomponents] == ["VTIMEZONE"]
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/London"


def test_cancelled_meeting_stays_titled_cancelled_without_alarm():
    meetings = stored_meetings()
    target = next(m for m in meetings if m.is_group and m.number == 3)
    result = cancel(meetings=meetings, uid=target.uid, now=NOW)
    events = {e["UID"]: e for e in Calendar.from_ical(feed(result.meetings)).walk("VEVENT")}
    event = events[target.uid]
    assert str(event["SUMMARY"]) == "Cancelled: Group session 3 of 8"
    assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 1
    assert event.decoded("DTSTAMP") == NOW == event.decoded("LAST-MODIFIED")
    assert event.walk("VALARM") == []
    assert str(event["TRANSP"]) == "TRANSPARENT"


def test_rescheduled_meeting_keeps_its_uid_with_a_higher_sequence():
    meetings = stored_meetings()
    target = next(m for m in meetings if m.is_group and m.number == 4)
    result = reschedule(meetings=meetings, uid=target.uid, day=target.local_date + timedelta(days=2),
                        wall_time=time(17, 30), now=NOW)
    event = next(e for e in Calendar.from_ical(feed(result.meetings)).walk("VEVENT") if e["UID"] == target.uid)
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART").time() == time(17, 30)


def test_titles_say_nothing_clinical():
    clinical = re.compile(r"\b(IPT|therap|depress|psych|grief|dispute|PHQ|GAD|WHO|Uganda|Wilfley|m1)", re.I)
    body = feed(stored_meetings(template="wilfley-ipt-g", members=("m1", "m2")))
    events = Calendar.from_ical(body).walk("VEVENT")
    assert {str(e["SUMMARY"]) for e in events} >= {"Individual meeting", "Individual check-in", "Individual follow-up"}
    for event in events:
        for prop in ("SUMMARY", "DESCRIPTION", "LOCATION"):
            assert not clinical.search(str(event.get(prop, ""))), event.get(prop)


def test_member_feed_may_carry_location_and_join_link():
    meetings = stored_meetings()
    events = [FeedEvent.from_meeting(m, location="Room 4", url="https://video.example/j/123",
                                     description="Join: https://video.example/j/123") for m in meetings]
    body = build_feed(name="x", events=events, fallback_tzid="UTC", fallback_day=date(2027, 1, 1),
                      organizer=Organizer(name="Riverside calendar", email="calendar@clinic.example"))
    event = Calendar.from_ical(body).walk("VEVENT")[0]
    assert str(event["LOCATION"]) == "Room 4"
    assert str(event["URL"]) == "https://video.example/j/123"
    assert event["ORGANIZER"].params["CN"] == "Riverside calendar"


def test_group_label_is_the_cohorts_public_title():
    meeting = next(m for m in stored_meetings() if m.is_group)
    assert FeedEvent.from_meeting(meeting, group_label="Tuesday group").summary == "Tuesday group 1 of 8"


def test_unstored_meetings_cannot_go_in_a_feed():
    meeting = replace(stored_meetings()[0], uid="", revised_at=None)
    with pytest.raises(ValueError, match="stored meetings"):
        FeedEvent.from_meeting(meeting)


def test_feeds_span_several_zones():
    ny = stored_meetings()
    london = [replace(m, uid="l-" + m.uid) for m in stored_meetings(time_zone="Europe/London")]
    calendar = Calendar.from_ical(feed(ny + london))
    assert sorted(str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")) == ["America/New_York", "Europe/London"]
    assert calendar.get_missing_tzids() == set()
    assert all(m.status is MeetingStatus.SCHEDULED for m in ny)
