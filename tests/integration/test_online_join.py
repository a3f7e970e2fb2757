"""Online cohorts and meetings: the join link in forms, API, feeds, reminders and the board (issue 16)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import icalendar

from models.cohorts import Cohort, Meeting
from models.reminders import OnlineJoin
from server import accounts, reminders
from server.schedule.feeds import feed_for_member
from server.web.templating import templates  # noqa: F401  (the app's import order)
from tests.integration.test_reminders import group_soon, settings_of
from tests.support.clients import bearer, logged_in
from tests.support.world import PASSWORD


async def test_the_cohort_form_refuses_a_link_that_is_not_https_and_changes_nothing(live_server, db):
    cohort, meeting, _, facilitator = await group_soon(30, members=1)
    client = await logged_in(live_server.url, facilitator.email, PASSWORD)
    try:
        sequence = meeting.sequence
        for bad in ("http://meet.example.org/room-4", "meet.example.org/room-4", "https://"):
            refused = await client.submit(f"/cohorts/{cohort.id}/online", {"video_link": bad, "dial_in": "0800 000"})
            assert refused.status_code == 400 and 'id="video_link-error"' in refused.text and "https://" in refused.text
            assert f'value="{bad}"' in refused.text  # what was typed stays in the form
        assert (await Cohort.get(id=cohort.id)).video_link == ""
        assert (await Meeting.get(id=meeting.id)).sequence == sequence
        saved = await client.submit(f"/cohorts/{cohort.id}/online",
                                    {"video_link": "https://meet.example.org/room-4", "dial_in": "+44 20 7946 0000, code 42"})
        assert saved.status_code == 303
        page = await client.get(f"/cohorts/{cohort.id}/online")
        assert 'value="https://meet.example.org/room-4"' in page.text and "code 42" in page.text
        # Calendars notice: the meetings to come get a new SEQUENCE.
        assert (await Meeting.get(id=meeting.id)).sequence == sequence + 1
    finally:
        await client.aclose()


async def test_one_meeting_can_have_its_own_link_in_the_feed_and_the_reminder(live_server, db):
    cohort, meeting, enrollments, facilitator = await group_soon(30, members=1)
    _, token = await accounts.create_api_token(facilitator, "tests")
    async with bearer(live_server.url, token) as api:
        bad = await api.put(f"/api/v1/cohorts/{cohort.id}/online", json={"video_link": "http://x.example/y"})
        assert bad.status_code == 422 and "https" in bad.text
        ok = await api.put(f"/api/v1/cohorts/{cohort.id}/online", json={"video_link": "https://meet.example.org/group"})
        assert ok.json() == {"online": True, "video_link": "https://meet.example.org/group", "dial_in": None}
        own = await api.put(f"/api/v1/meetings/{meeting.id}/online",
                            json={"video_link": "https://meet.example.org/special", "dial_in": "0800 123 456"})
        assert own.status_code == 200 and own.json()["video_link"] == "https://meet.example.org/special"
        read = await api.get(f"/api/v1/cohorts/{cohort.id}/online")
        assert read.json()["video_link"] == "https://meet.example.org/group"
    member = enrollments[0].member
    feed = await feed_for_member(member, settings=settings_of(live_server), now=datetime.now(timezone.utc))
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(feed.body).walk("VEVENT")}
    mine = events[meeting.uid]
    assert str(mine["URL"]) == "https://meet.example.org/special" and "0800 123 456" in str(mine["DESCRIPTION"])
    others = [e for uid, e in events.items() if uid != meeting.uid and "URL" in e]
    assert others and all(str(e["URL"]) == "https://meet.example.org/group" for e in others)
    (reminder,) = await reminders.reminders_for_meeting(meeting, settings=settings_of(live_server))
    assert "Join online: https://meet.example.org/special" in reminder.body and "By phone: 0800 123 456" in reminder.body
    # An empty link gives the meeting back to the cohort's.
    async with bearer(live_server.url, token) as api:
        back = await api.put(f"/api/v1/meetings/{meeting.id}/online", json={"video_link": ""})
        assert back.json()["video_link"] == "https://meet.example.org/group"
    assert not await OnlineJoin.filter(meeting_id=meeting.id).exists()


async def test_the_board_shows_join_only_inside_its_window(live_server, db):
    cohort, meeting, _, facilitator = await group_soon(2, members=1)
    await Cohort.filter(id=cohort.id).update(video_link="https://meet.example.org/board")
    client = await logged_in(live_server.url, facilitator.email, PASSWORD)
    try:
        early = await client.get(f"/boards/{meeting.id}")
        assert early.status_code == 200 and 'id="board-join"' not in early.text
        starts = datetime.now(timezone.utc) + timedelta(minutes=10)
        await Meeting.filter(id=meeting.id).update(starts_at=starts, ends_at=starts + timedelta(minutes=90))
        inside = await client.get(f"/boards/{meeting.id}")
        assert 'id="board-join"' in inside.text and 'href="https://meet.example.org/board"' in inside.text
    finally:
        await client.aclose()
