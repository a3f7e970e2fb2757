"""In a real browser (issue 16): the Join button shows only inside its window; "I can't come" from a
reminder reaches the facilitator's open board."""
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


async def test_i_cant_come_from_the_reminder_marks_the_open_board_live(live_server, db, browser):
    from server import reminders
    from server.platform.settings import Settings

    _, meeting, enrollments, facilitator = await group_soon(30, members=2)
    settings = Settings(database_url=live_server.database_url, secret_key=live_server.env["GROUPIPT_SECRET_KEY"],
                        base_url=live_server.url)
    reminder = (await reminders.reminders_for_meeting(meeting, settings=settings))[1]
    staff = await browser.new_context()
    phone = await browser.new_context(viewport={"width": 390, "height": 844})
    try:
        board = await staff.new_page()
        await log_in(board, live_server.url, facilitator.email)
        await board.goto(f"{live_server.url}/boards/{meeting.id}")
        await expect(board.locator("#conn-status")).to_have_text("Live", timeout=15000)
        mark = board.locator(f"#att-{enrollments[1].id}")
        await expect(mark).not_to_have_attribute("data-status", "absent_notified")
        page = await phone.new_page()  # the member taps the link in their e-mail: no sign-in
        await page.goto(reminder.cant_come_url)
        await page.get_by_label("Reason").fill("Hospital appointment")
        await page.get_by_role("button", name="I can't come").click()
        await expect(page.get_by_role("status")).to_contain_text("Your facilitator has been told")
        await expect(page.get_by_role("button", name="I can come after all")).to_be_visible()
        await expect(mark).to_have_attribute("data-status", "absent_notified", timeout=10000)
    finally:
        await staff.close()
        await phone.close()
