"""Golden feeds: the exact bytes for a reschedule and for a cancellation with make-up.

Any change to what a client receives shows up as a diff of tests/fixtures/ics/*.ics.
To accept an intended change: GROUPIPT_REGENERATE_GOLDEN=1 pytest tests/unit/test_feed_golden.py
and review the diff.
"""
from __future__ import annotations

import os
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from calendars.changes import MakeUp, cancel, reschedule
from calendars.feed import FeedEvent, Organizer, build_feed
from tests.unit.test_feed_parsers import assert_parsers_agree, expected, stored_meetings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"
CHANGED_AT = datetime(2027, 3, 17, 9, 15, tzinfo=UTC)


def member_feed(meetings) -> bytes:
    return build_feed(
        name="My sessions",
        events=[FeedEvent.from_meeting(m, location="Room 4") for m in meetings],
        fallback_tzid="Europe/London",
        fallback_day=date(2027, 1, 1),
        organization="Riverside Clinic",
        product="Sessions",
        organizer=Organizer(name="Riverside calendar", email="calendar@clinic.example"),
    )


def scenario_reschedule():
    meetings = stored_meetings(time_zone="Europe/London", start=date(2027, 3, 16))
    second = next(m for m in meetings if m.is_group and m.number == 2)  # Tue 23 March, GMT
    # Moved to Sunday 28 March, the day clocks go forward: 18:00 BST.
    return reschedule(meetings=meetings, uid=second.uid, day=date(2027, 3, 28), wall_time=time(18), now=CHANGED_AT).meetings


def scenario_cancellation():
    meetings = stored_meetings(time_zone="Europe/London", start=date(2027, 3, 16))
    third = next(m for m in meetings if m.is_group and m.number == 3)  # Tue 30 March
    make_up = MakeUp(day=date(2027, 4, 1), wall_time=time(18, 30), uid="00000000-0000-4000-8000-0000000000aa")
    return cancel(meetings=meetings, uid=third.uid, now=CHANGED_AT, make_up=make_up).meetings


@pytest.mark.parametrize(
    ("name", "scenario"), [("reschedule.ics", scenario_reschedule), ("cancellation.ics", scenario_cancellation)]
)
def test_golden_feed(name, scenario):
    meetings = scenario()
    body = member_feed(meetings)
    path = FIXTURES / name
    if os.environ.get("GROUPIPT_REGENERATE_GOLDEN"):
        path.write_bytes(body)
    assert body == path.read_bytes(), f"{name} changed; regenerate and review the diff"
    assert assert_parsers_agree(path.read_bytes()) == expected(meetings)


def test_golden_reschedule_shows_the_move():
    text = (FIXTURES / "reschedule.ics").read_text()
    assert "DTSTART;TZID=Europe/London:20270328T180000" in text
    assert "SEQUENCE:1" in text and "DTSTAMP:20270317T091500Z" in text


def test_golden_cancellation_shows_the_cancelled_session_and_its_make_up():
    text = (FIXTURES / "cancellation.ics").read_text()
    assert "SUMMARY:Cancelled: Group session 3 of 8" in text
    assert "STATUS:CANCELLED" in text
    assert "SUMMARY:Group session 3 of 8 (make-up)" in text
