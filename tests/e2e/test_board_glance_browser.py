"""The board at a glance (issue 20): on a 1280x800 screen and on a 10-inch tablet, the
current turn, its timer, the queue and the next action stay in the first screenful at every
stage of a session, with no sideways scrolling; the room display keeps the group goals on a
720p screen; an empty queue is a plain "Nobody is waiting.", not a numbered entry."""
from __future__ import annotations

import os

import pytest
from playwright.async_api import expect

from models.clinical import Goal
from tests.integration.test_board_support import make_board_world
from tests.support.browser import open_live_board

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

SCREEN = {"width": 1280, "height": 800}
TABLET = {"width": 820, "height": 1180}  # a 10-inch tablet, portrait
ROOM = {"width": 1280, "height": 720}
SHOTS = os.environ.get("GLANCE_SHOTS")  # a folder: save what each page looked like at each stage


async def _at_a_glance(page, stage: str, timer: str | None, next_label: str | None) -> None:
    """Everything a facilitator runs the session from is inside the first screenful."""
    if next_label is not None:
        await expect(page.locator("#next-action-btn")).to_have_text(next_label)
    await page.evaluate("window.scrollTo(0, 0)")  # a form the test filled in may have scrolled it
    if SHOTS:
        await page.screenshot(path=f"{SHOTS}/{page.viewport_size['width']}-{stage}.png")
        print(stage, page.viewport_size, await page.evaluate("document.documentElement.scrollHeight"))
    wanted = ["#current-turn", "#queue"] + ([timer] if timer else []) + (["#next-action-btn"] if next_label else [])
    size = page.viewport_size
    assert await page.evaluate("window.scrollY") == 0
    for selector in wanted:
        box = await page.locator(selector).bounding_box()
        assert box is not None, (stage, selector)
        assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], (stage, size, selector, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], (stage, size, selector, box)
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= size["width"], (stage, size, scroll_width)


async def _empty_queue_reads_plainly(page) -> None:
    empty = page.locator("#queue li")
    await expect(empty).to_have_count(1)
    await expect(empty).to_have_text("Nobody is waiting.")
    assert await empty.evaluate("e => getComputedStyle(e).listStyleType") == "none"


async def test_turn_timer_queue_and_next_action_stay_in_view_through_a_session(live_server, db, browser):
    world = await make_board_world(n_members=4)
    for text in ("We speak one at a time", "We keep what is said here private"):
        await Goal.create(cohort_id=world.cohort_id, enrollment=None, text=text)
    board = f"/boards/{world.meeting_id}"
    opened = [await open_live_board(browser, live_server.url, world.emails["fac1"], board, SCREEN),
              await open_live_board(browser, live_server.url, world.emails["fac2"], board, TABLET),
              await open_live_board(browser, live_server.url, world.emails["member"], f"{board}/display", ROOM)]
    (_, screen), (_, tablet), (_, display) = opened
    errors: list[str] = []
    for _, page in opened:
        page.on("pageerror", lambda error: errors.append(str(error)))
    boards = (screen, tablet)
    try:
        # Opening: nobody waits, the room display shows every group goal on a 720p screen.
        for page in (*boards, display):
            await _empty_queue_reads_plainly(page)
        await expect(display.locator("#goals li")).to_have_count(3)
        last_goal = await display.locator("#goals li").last.bounding_box()
        assert last_goal is not None and last_goal["y"] + last_goal["height"] <= ROOM["height"], last_goal
        assert await display.evaluate("document.documentElement.scrollWidth") <= ROOM["width"]
        if SHOTS:
            await display.screenshot(path=f"{SHOTS}/display-720.png")

        # Attendance: one tap per member on a chip that then says the mark in words.
        for member in world.members:
            await screen.locator(f"#att-{member}").get_by_role("button", name="Present").click()
            await expect(tablet.locator(f"#att-{member}")).to_have_attribute("data-status", "present")
        await tablet.locator(f"#att-{world.members[3]}").get_by_role("button", name="Late").click()
        await expect(screen.locator(f"#att-{world.members[3]} .chip-status")).to_have_text("Late")
        await screen.get_by_label("Segment").fill("Check-in")
        await screen.get_by_role("button", name="Start timer").click()
        for page in boards:
            await expect(page.locator("#agenda [role=timer]")).to_be_visible()
            await _at_a_glance(page, "opening", "#agenda [role=timer]", "Start check-in round")
        await tablet.locator("#next-action-btn").click()
        for page in boards:
            await _at_a_glance(page, "check-in", "#agenda [role=timer]", "Next member (n)")
        await screen.locator("#checkin").get_by_role("button", name="End round").click()

        # A role play running, two more waiting; started and moved on from the keyboard.
        for i, role in enumerate(("my boss", "my sister", "my landlord")):
            await screen.locator("body").click()
            await screen.keyboard.press("a")
            await screen.get_by_label("Protagonist").select_option(world.members[i])
            await screen.get_by_label("Role of the other person").fill(role)
            await screen.get_by_role("button", name="Add to queue").click()
            await expect(tablet.locator("#queue li")).to_have_count(i + 1)
        await expect(tablet.locator("#next-action-btn")).to_have_text("Start the next turn (s)")
        await tablet.locator("body").click()
        await tablet.keyboard.press("s")
        for page in boards:
            await expect(page.locator("#queue li")).to_have_count(2)
            await _at_a_glance(page, "turn", "#current-turn [role=timer]", "Role reversal (r)")
        await tablet.keyboard.press("f")
        for page in boards:
            await _at_a_glance(page, "feedback", "#current-turn [role=timer]", "Next voice (f)")

        # The side column's tabs follow the arrow keys; an observer or a keyboard user alike.
        await tablet.locator("#tab-goals").focus()
        await tablet.keyboard.press("ArrowRight")
        await expect(tablet.locator("#tab-notes")).to_be_focused()
        await expect(tablet.locator("#tab-notes")).to_have_attribute("aria-selected", "true")
        await expect(tablet.locator("#panel-notes")).to_be_visible()
        await expect(tablet.locator("#panel-goals")).to_be_hidden()

        # Closing: the turn ended, the others skipped; the next action closes the session.
        await tablet.locator("body").click()
        await tablet.keyboard.press("e")
        for _ in range(2):
            await screen.locator("#queue").get_by_role("button", name="Skip").first.click()
        for page in boards:
            await _empty_queue_reads_plainly(page)
            await _at_a_glance(page, "closing", "#agenda [role=timer]", "Close the session")
        await _empty_queue_reads_plainly(display)
        screen.on("dialog", lambda dialog: dialog.accept())
        await screen.locator("#next-action-btn").click()
        for page in boards:
            await expect(page.locator("#conn-status")).to_have_text("Closed", timeout=15000)
            await expect(page.locator("#undo-btn")).to_be_hidden()
            await expect(page.locator("#next-action-btn")).to_have_count(0)
            await _at_a_glance(page, "closed", None, None)
        assert errors == []
    finally:
        for context, _ in opened:
            await context.close()
