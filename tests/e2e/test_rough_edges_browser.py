"""In a real browser, rough edges of issue 20: pages that fit a phone and a 720p room screen."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from playwright.async_api import expect

from models.clinical import Goal, MeasureResponse
from tests.integration.test_board_support import make_board_world
from tests.support.browser import log_in, open_live_board
from tests.support.world import make_user

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

PHONE = {"width": 390, "height": 844}


async def _overflow(page) -> tuple[int, int]:
    return await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


async def test_people_page_fits_a_phone_and_invites_members_by_default(live_server, db, browser):
    coordinator = await make_user("coordinator", "Cora Phonewidth")
    for i in range(3):
        await make_user("facilitator", f"Felicity Longername-Wideemail{i}")
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    try:
        await log_in(page, live_server.url, coordinator.email)
        await page.goto(f"{live_server.url}/people")
        scroll, inner = await _overflow(page)
        wide = await page.evaluate("""[...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('table'))
            .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
        assert scroll <= inner, (scroll, inner, wide)
        assert await page.get_by_label("Role", exact=True).input_value() == "member"  # not a row's "New role for"
    finally:
        await context.close()


async def test_room_display_fits_720p_with_the_goals_and_an_unnumbered_empty_queue(live_server, db, browser):
    world = await make_board_world(n_members=6)
    for text in ("We speak one at a time", "Everyone tries one role play", "We keep what is said here private"):
        await Goal.create(cohort_id=world.cohort_id, enrollment=None, text=text)
    board = f"/boards/{world.meeting_id}"
    display_ctx, display = await open_live_board(browser, live_server.url, world.emails["member"], f"{board}/display",
                                             {"width": 1280, "height": 720})
    board_ctx, facilitator = await open_live_board(browser, live_server.url, world.emails["fac1"], board,
                                               {"width": 1280, "height": 800})
    try:
        for page in (display, facilitator):
            empty = page.locator("#queue li")
            await expect(empty).to_have_count(1)
            await expect(empty).to_have_text("Nobody is waiting.")
            assert await empty.evaluate("e => getComputedStyle(e).listStyleType") == "none"
        await expect(display.locator("#goals li")).to_have_count(4)
        last_goal = await display.locator("#goals li").last.bounding_box()
        assert last_goal is not None and last_goal["y"] + last_goal["height"] <= 720, last_goal
        scroll, inner = await _overflow(display)
        assert scroll <= inner
        height = await display.evaluate("document.documentElement.scrollHeight")
        assert height <= 720, height

        # Undo and the activity list speak the facilitator's words, not event names.
        await facilitator.locator("body").click()
        await facilitator.keyboard.press("a")
        await facilitator.get_by_label("Protagonist").select_option(world.members[1])
        await facilitator.get_by_label("Role of the other person").fill("my landlord")
        await facilitator.get_by_label("Scenario").fill("Ask for the repair")
        await facilitator.get_by_role("button", name="Add to queue").click()
        await expect(facilitator.locator("#undo-btn")).to_have_text("Undo: role play added to the queue")
        await expect(facilitator.locator("#activity")).to_contain_text("role play added to the queue")
        await expect(display.locator("#queue li.empty")).to_have_count(0)

        # With a role play running (the big timer on screen) the goals still fit.
        await facilitator.locator("#queue").get_by_role("button", name="Start").click()
        await expect(display.locator("#current-turn .timer-value")).to_be_visible()
        last_goal = await display.locator("#goals li").last.bounding_box()
        assert last_goal is not None and last_goal["y"] + last_goal["height"] <= 720, last_goal
        assert await display.evaluate("document.documentElement.scrollHeight") <= 720
    finally:
        await display_ctx.close()
        await board_ctx.close()


async def test_a_closed_board_says_closed_offers_no_undo_and_points_to_the_record(live_server, db, browser):
    world = await make_board_world()
    board = f"/boards/{world.meeting_id}"
    context, page = await open_live_board(browser, live_server.url, world.emails["fac1"], board, {"width": 1280, "height": 800})
    try:
        for member in world.members:
            await page.locator(f"#att-{member}").get_by_role("button", name="Present").click()
        await expect(page.locator("#undo-btn")).to_be_enabled()
        page.on("dialog", lambda dialog: dialog.accept())
        await page.locator("#close-btn").click()
        for _ in range(2):  # as it closes, and reopened later
            await expect(page.locator("#conn-status")).to_have_text("Closed", timeout=15000)
            await expect(page.locator("#closed-note")).to_be_visible()
            await expect(page.locator("#undo-btn")).to_be_hidden()
            await page.reload()
        await page.get_by_role("link", name="See what was recorded").click()
        await expect(page.locator("#meeting-record")).to_contain_text("Present")
    finally:
        await context.close()


async def test_trend_chart_labels_read_at_12px_on_a_phone(live_server, db, browser):
    world = await make_board_world()
    enrollment_id = int(world.members[0])
    start = datetime.now(timezone.utc) - timedelta(days=60)
    for week, total in enumerate((18, 15, 12, 9, 7)):
        items = [total // 9 + (1 if i < total % 9 else 0) for i in range(9)]
        await MeasureResponse.create(enrollment_id=enrollment_id, instrument="phq9", items=items, total=total,
                                     band="mild", item9=0, window=f"week-{week}",
                                     administered_at=start + timedelta(days=7 * week))
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    try:
        await log_in(page, live_server.url, world.emails["fac1"])
        await page.goto(f"{live_server.url}/enrollments/{enrollment_id}/measures")
        # The drawing shown (the compact one on a phone; the other is display:none).
        chart = page.locator(".measure-trend svg >> visible=true").first
        await expect(chart).to_be_visible()
        smallest = await chart.evaluate("""svg => Math.min(...[...svg.querySelectorAll('text')].map(
            t => parseFloat(getComputedStyle(t).fontSize) * svg.getScreenCTM().a))""")
        assert smallest >= 12, smallest
        scroll, inner = await _overflow(page)
        assert scroll <= inner, (scroll, inner)
    finally:
        await context.close()
