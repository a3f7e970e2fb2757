"""In a real browser: a coordinator builds a cohort, the preview follows the form as it is
typed (a little JavaScript on a server-rendered page), then a member subscribes."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from models.accounts import Role
from tests.support.browser import log_in
from tests.support.world import make_user

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_cohort_preview_updates_as_the_coordinator_types(world, live_server, browser):
    await make_user(Role.FACILITATOR, "Brook Browserlead")  # offered as a facilitator below
    page = await browser.new_page()
    try:
        await log_in(page, live_server.url, world.email("coordinator"))
        await page.goto(f"{live_server.url}/cohorts/new")
        await page.get_by_label("Internal name").fill("Browser-made group")
        await page.get_by_label("Protocol").select_option(label="Wilfley IPT-G (1 + 20 + mid + post)")
        start = (datetime.now(timezone.utc) + timedelta(days=50)).date()
        await page.get_by_label("Start date").fill(start.isoformat())
        await page.get_by_label("Local start time").fill("18:00")
        # The zone is chosen from a list: the coordinator's default first, every IANA zone offered.
        zones = page.get_by_label("Time zone")
        assert await zones.locator("option").first.get_attribute("value") == await zones.input_value()
        assert await zones.locator('option[value="Pacific/Auckland"]').count() == 1
        await zones.select_option("America/New_York")
        await page.get_by_label("Places").fill("9")
        await page.get_by_label("Brook Browserlead").check()
        preview = page.locator("#schedule-preview")
        await preview.get_by_text("Group session 20 of 20").wait_for(timeout=10_000)
        assert "between sessions 10 and 11" in await preview.inner_text()
        # Skip dates are shown in the preview, as the coordinator types them.
        skip = start + timedelta(days=7)
        await page.get_by_label("Skip dates").fill(skip.isoformat())
        await preview.locator("#preview-skips").wait_for(timeout=10_000)
        assert skip.strftime("%a %d %b %Y") in await preview.locator("#preview-skips").inner_text()
        # A clinical word in the calendar title is flagged as it is typed, and must be confirmed.
        await page.get_by_label("Title in calendars").fill("IPT group")
        await preview.locator('[data-public-words="public_title"]').wait_for(timeout=10_000)
        await page.get_by_role("button", name="Create draft").click()
        await page.wait_for_load_state("networkidle")
        assert "/cohorts/new" in page.url and await page.locator("#public-words-warning").is_visible()
        await page.get_by_label("Keep these words").check()
        await page.get_by_role("button", name="Create draft").click()
        await page.wait_for_load_state("networkidle")
        assert re.search(r"/cohorts/\d+", page.url)
        # Wilfley IPT-G has co-therapists and starts with at least 6: activating needs a reason.
        checks = await page.locator("#activation-checks").inner_text()
        assert "Nobody is enrolled" in checks and "2 co-facilitators; 1 is assigned" in checks
        await page.get_by_label("Reason to activate outside the protocol").fill("Pilot group; a co-therapist joins in week 2")
        await page.get_by_role("button", name="Activate anyway: create the meetings").click()
        await page.wait_for_load_state("networkidle")
        assert await page.locator("#group-sessions tbody tr").count() == 20
        assert "Pilot group; a co-therapist joins in week 2" in await page.locator("#activation-override").inner_text()
    finally:
        await page.close()


async def test_member_subscribes_from_the_calendar_page(world, live_server, browser):
    page = await browser.new_page()
    try:
        await log_in(page, live_server.url, world.email("member"))
        await page.goto(f"{live_server.url}/account/calendar")
        await page.get_by_role("button", name=re.compile("Create my calendar link|Make a new link")).click()
        await page.wait_for_load_state("networkidle")
        url = await page.get_by_label("Calendar address").input_value()
        assert url.startswith(live_server.url + "/feeds/")
        webcal = await page.get_by_role("link", name="Subscribe on this device").get_attribute("href")
        assert webcal == "webcal://" + url.split("://", 1)[1]
        async with httpx.AsyncClient() as http:
            feed = await http.get(url)
        assert feed.status_code == 200 and "BEGIN:VCALENDAR" in feed.text
    finally:
        await page.close()
