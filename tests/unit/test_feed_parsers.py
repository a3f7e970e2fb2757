"""Three independent parsers read our feeds the same way.

icalendar (what wrote them), recurring-ical-events (expands calendars for many Python
apps) and Mozilla's ical.js (the parser inside Thunderbird, run through node) must agree
on every event's UTC start and end, UID, SEQUENCE and STATUS, on both sides of the DST
changes in New York and London, for rescheduled and cancelled meetings too.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import recurring_ical_events
from icalendar import Calendar

from calendars.changes import MakeUp, cancel, reschedule
from calendars.feed import FeedEvent, build_feed
from calendars.meetings import Facilitator, PlannedMeeting
from calendars import CohortSpec, plan_meetings
from calendars.protocols import shipped_template

JS_DIR = Path(__file__).resolve().parents[1] / "js"
NODE = shutil.which("node")
CREATED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def stored_meetings(
    *,
    time_zone: str = "America/New_York",
    start: date = date(2027, 2, 23),
    start_time: time = time(18, 0),
    template: str = "who-group-ipt",
    members: tuple[str, ...] = ("m1",),
) -> list[PlannedMeeting]:
    spec = CohortSpec(
        template=shipped_template(template), time_zone=time_zone, start_date=start,
        start_time=start_time, facilitators=(Facilitator(id="f1", name="Dana"),),
    )
    plan = plan_meetings(spec=spec, now=CREATED, members=list(members))
    # Fixed, UUID-shaped UIDs so golden files stay put.
    return [
        replace(m, uid=f"00000000-0000-4000-8000-{i:012d}", revised_at=CREATED)
        for i, m in enumerate(plan.meetings, start=1)
    ]


def feed(meetings) -> bytes:
    return build_feed(
        name="My sessions",
        events=[FeedEvent.from_meeting(m) for m in meetings],
        fallback_tzid="UTC",
        fallback_day=date(2027, 1, 1),
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_with_icalendar(body: bytes) -> list[tuple]:
    return sorted(
        (str(e["UID"]), iso(e.decoded("DTSTART")), iso(e.decoded("DTEND")), int(e["SEQUENCE"]), str(e["STATUS"]))
        for e in Calendar.from_ical(body).walk("VEVENT")
    )


def read_with_recurring_ical_events(body: bytes) -> list[tuple]:
    calendar = Calendar.from_ical(body)
    occurrences = recurring_ical_events.of(calendar).between(datetime(2000, 1, 1), datetime(2100, 1, 1))
    return sorted(
        (str(e["UID"]), iso(e["DTSTART"].dt), iso(e["DTEND"].dt), int(e["SEQUENCE"]), str(e["STATUS"]))
        for e in occurrences
    )


def read_with_ical_js(body: bytes) -> list[tuple]:
    if NODE is None:
        pytest.fail("node is not installed; the ical.js cross-check needs Node 20")
    if not (JS_DIR / "node_modules" / "ical.js").is_dir():
        pytest.fail("ical.js is missing: run `npm ci --prefix tests/js`")
    done = subprocess.run(
        [NODE, str(JS_DIR / "read_ics.mjs")], input=body, capture_output=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    parsed = json.loads(done.stdout)
    return sorted((e["uid"], e["start"], e["end"], e["sequence"], e["status"]) for e in parsed["events"])


def assert_parsers_agree(body: bytes) -> list[tuple]:
    ours = read_with_icalendar(body)
    assert ours, "a feed with events"
    assert read_with_recurring_ical_events(body) == ours
    assert read_with_ical_js(body) == ours
    return ours


def expected(meetings) -> list[tuple]:
    return sorted(
        (m.uid, iso(m.start), iso(m.end), m.sequence, "CANCELLED" if not m.is_active else "CONFIRMED")
        for m in meetings
    )


@pytest.mark.parametrize(
    ("zone", "start", "wall"),
    [
        ("America/New_York", date(2027, 2, 23), time(18, 0)),  # evening sessions across 14 March
        ("America/New_York", date(2027, 10, 19), time(18, 0)),  # and across 7 November
        ("America/New_York", date(2027, 3, 7), time(2, 30)),  # 02:30 does not exist on 14 March
        ("America/New_York", date(2027, 10, 31), time(1, 30)),  # 01:30 happens twice on 7 November
        ("Europe/London", date(2027, 3, 16), time(18, 0)),  # across 28 March
        ("Europe/London", date(2027, 10, 12), time(18, 0)),  # across 31 October
        ("Europe/London", date(2027, 3, 21), time(1, 30)),  # 01:30 does not exist on 28 March
        ("Europe/London", date(2027, 10, 24), time(1, 30)),  # 01:30 happens twice on 31 October
    ],
)
def test_three_parsers_agree_across_dst(zone, start, wall):
    meetings = stored_meetings(time_zone=zone, start=start, start_time=wall)
    assert assert_parsers_agree(feed(meetings)) == expected(meetings)


def test_the_transition_day_sessions_are_where_the_wall_clock_says():
    meetings = stored_meetings(time_zone="America/New_York", start=date(2027, 3, 7), start_time=time(2, 30))
    read = {uid: start for uid, start, *_ in assert_parsers_agree(feed(meetings))}
    by_date = {m.local_date: m for m in meetings if m.is_group}
    assert read[by_date[date(2027, 3, 7)].uid] == "2027-03-07T07:30:00Z"  # 02:30 EST
    assert read[by_date[date(2027, 3, 14)].uid] == "2027-03-14T07:30:00Z"  # 03:30 EDT (gap rule)
    assert read[by_date[date(2027, 3, 21)].uid] == "2027-03-21T06:30:00Z"  # 02:30 EDT


def test_three_parsers_agree_after_reschedule_cancel_and_make_up():
    meetings = stored_meetings(time_zone="Europe/London", start=date(2027, 3, 16))
    now = datetime(2027, 3, 17, 9, 0, tzinfo=UTC)
    second = next(m for m in meetings if m.is_group and m.number == 2)  # 23 March, GMT
    third = next(m for m in meetings if m.is_group and m.number == 3)  # 30 March, BST
    moved = reschedule(meetings=meetings, uid=second.uid, day=date(2027, 3, 28), wall_time=time(18), now=now)
    changed = cancel(meetings=moved.meetings, uid=third.uid, now=now,
                     make_up=MakeUp(day=date(2027, 4, 1), wall_time=time(18), uid="00000000-0000-4000-8000-999999999999"))
    read = assert_parsers_agree(feed(changed.meetings))
    assert read == expected(changed.meetings)
    rows = {row[0]: row for row in read}
    assert rows[second.uid][1:] == ("2027-03-28T17:00:00Z", "2027-03-28T18:30:00Z", 1, "CONFIRMED")
    assert rows[third.uid][3:] == (1, "CANCELLED")
    assert rows["00000000-0000-4000-8000-999999999999"][1] == "2027-04-01T17:00:00Z"


def test_ical_js_reads_an_empty_feed():
    body = build_feed(name="Nothing yet", events=[], fallback_tzid="Europe/London", fallback_day=date(2027, 1, 1))
    assert read_with_ical_js(body) == []


def test_ical_js_sees_the_zone_and_the_alarm():
    done = subprocess.run(
        [NODE or "node", str(JS_DIR / "read_ics.mjs")], input=feed(stored_meetings()), capture_output=True, check=True
    )
    parsed = json.loads(done.stdout)
    assert parsed["name"] == "My sessions"
    assert parsed["timezones"] == ["America/New_York"]
    assert {e["tzid"] for e in parsed["events"]} == {"America/New_York"}
    assert {e["alarms"] for e in parsed["events"]} == {1}
    assert timedelta(minutes=90) == datetime.fromisoformat(parsed["events"][1]["end"]) - datetime.fromisoformat(
        parsed["events"][1]["start"]
    )


def test_regression_ical_js_took_a_repeated_local_time_as_its_second_occurrence():
    # 01:30 on 7 November 2027 happens twice in New York. RFC 5545 §3.3.5 means the first
    # (EDT); ical.js read DTSTART;TZID=America/New_York:20271107T013000 as the second (EST),
    # an hour late. Such times are now written in UTC, which every parser reads alike.
    meetings = stored_meetings(time_zone="America/New_York", start=date(2027, 10, 31), start_time=time(1, 30))
    body = feed(meetings)
    ambiguous = next(m for m in meetings if m.local_date == date(2027, 11, 7))
    event = next(e for e in Calendar.from_ical(body).walk("VEVENT") if e["UID"] == ambiguous.uid)
    assert event["DTSTART"].to_ical() == b"20271107T053000Z"
    assert "TZID" not in event["DTSTART"].params
    rows = {row[0]: row for row in assert_parsers_agree(body)}
    assert rows[ambiguous.uid][1] == "2027-11-07T05:30:00Z"
    others = [e for e in Calendar.from_ical(body).walk("VEVENT") if e["UID"] != ambiguous.uid]
    assert all(e["DTSTART"].params["TZID"] == "America/New_York" for e in others)
