"""In a real browser: a member's Join button shows only inside its window (issue 16)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from playwright.async_api import expect

from models.cohorts import Cohort, Meeting
from tests.integration.test_reminders import group_soon
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_the_join_button_appears_only_inside_its_window(live_server, db, browser):
    cohort, meeting, enrollments, _ = await group_soon(3, members=1)
    await Cohort.filter(id=cohort.id).update(video_link="https://meet.example.org/window")
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await log_in(page, live_server.url, enrollments[0].member.email)
        await page.goto(f"{live_server.url}/portal")
        await expect(page.locator("#join-now")).to_have_count(0)  # three hours ahead: not yet
        starts = datetime.now(timezone.utc) + timedelta(minutes=20)  # inside the 30 minutes before
        await Meeting.filter(id=meeting.id).update(starts_at=starts, ends_at=starts + timedelta(minutes=90))
        await page.reload()
        join = page.get_by_role("link", name="Join", exact=True)
        await expect(join).to_be_visible()
        assert await join.get_attribute("href") == "https://meet.example.org/window"
        ended = datetime.now(timezone.utc) - timedelta(minutes=1)  # the meeting is over
        await Meeting.filter(id=meeting.id).update(starts_at=ended - timedelta(minutes=90), ends_at=ended)
        await page.reload()
        await expect(page.locator("#join-now")).to_have_count(0)
    finally:
        await context.close()
