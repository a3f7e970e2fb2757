"""Two facilitators and the participant display in a real browser (Debian's chromium)."""
from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.integration.test_board_support import make_board_world
from tests.support.browser import complete_second_factor
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser


async def _page_for(browser, base_url: str, email: str, path: str):
    context = await browser.new_context(viewport={"width": 1024, "height": 768})  # a tablet, landscape
    page = await context.new_page()
    await page.goto(f"{base_url}/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_load_state("networkidle")
    await complete_second_factor(page, email)
    await page.goto(f"{base_url}{path}")
    await expect(page.locator("#conn-status")).to_have_text("Live", timeout=15000)
    return context, page


async def test_role_play_goal_and_undo_reach_all_three_and_a_cut_page_catches_up(live_server, db, browser):
    world = await make_board_world()
    base, board = live_server.url, f"/boards/{world.meeting_id}"
    ctx_a, a = await _page_for(browser, base, world.emails["fac1"], board)
    ctx_b, b = await _page_for(browser, base, world.emails["fac2"], board)
    ctx_c, display = await _page_for(browser, base, world.emails["member"], f"{board}/display")
    try:
        # attendance on A, seen on B
        for member in world.members:
            await a.locator(f"#att-{member}").get_by_role("button", name="Present").click()
            await expect(b.locator(f"#att-{member}")).to_have_attribute("data-status", "present")

        # B adds a turn; everyone sees it queued (the display by first name only)
        await b.keyboard.press("a")
        await b.get_by_label("Protagonist").select_option(world.members[0])
        await b.get_by_label("Role of the other person").fill("my boss")
        await b.get_by_label("Scenario").fill("Ask for a day off")
        await b.get_by_role("button", name="Add to queue").click()
        await expect(display.locator("#queue")).to_contain_text("Maria")
        await expect(display.locator("#queue")).not_to_contain_text("Lopez")
        await expect(a.locator("#queue")).to_contain_text("Maria Lopez")

        # A starts it; the display shows the turn and a running timer
        await a.locator("#queue").get_by_role("button", name="Start").click()
        await expect(display.locator("#current-turn")).to_contain_text("my boss")
        await expect(display.locator("#current-turn .stage")).to_have_text("Practice")
        await expect(display.locator("#current-turn .timer-value")).to_have_text("9:59", timeout=5000)
        await expect(display.locator("#current-turn")).not_to_contain_text("day off")  # scenario stays private

        # B runs role reversal and the feedback round from the keyboard
        await expect(b.locator("#current-turn .stage")).to_have_text("Practice")
        await b.locator("body").click()
        await b.keyboard.press("r")
        await expect(display.locator("#current-turn .stage")).to_have_text("Role reversal")
        await expect(b.locator("#current-turn .stage")).to_have_text("Role reversal")  # B's own view too
        await b.keyboard.press("f")
        await expect(display.locator("#current-turn .feedback-order li.now")).to_contain_text("protagonist")
        await expect(b.locator("#current-turn .feedback-order li.now")).to_contain_text("protagonist")
        for voice in ("counterpart", "Observers", "Facilitator"):
            await b.keyboard.press("f")
            await expect(display.locator("#current-turn .feedback-order li.now")).to_contain_text(voice)
            await expect(a.locator("#current-turn .feedback-order li.now")).to_contain_text(voice)
            await expect(b.locator("#current-turn .feedback-order li.now")).to_contain_text(voice)
        await b.keyboard.press("f")
        await expect(display.locator("#current-turn .stage")).to_have_text("Next step for the week")
        await a.get_by_label("Next step for the week").fill("Ask on Monday morning")
        await a.get_by_role("button", name="Save next step").click()
        await expect(b.locator("#next-step")).to_have_value("Ask on Monday morning")
        await expect(a.locator("#current-turn .stage")).to_have_text("Next step for the week")
        await a.locator("body").click()
        await a.keyboard.press("e")
        await expect(display.locator("#current-turn")).to_contain_text("No role play")
        await expect(b.locator("#current-turn")).to_contain_text("No role play")

        # a goal update on A appears on B and on the display
        group_goal = f'#goals [data-goal="{world.group_goal}"]'
        await a.locator(f'{group_goal} button[data-rating="3"]').click()
        await expect(display.locator(f"{group_goal} .rating")).to_have_attribute("aria-label", "progress 3 of 4")
        await expect(b.locator(f'{group_goal} button[data-rating="3"]')).to_have_attribute("aria-pressed", "true")

        # undo on B takes it back everywhere
        await expect(b.locator("#undo-btn")).to_contain_text("Undo: goal rated")
        await b.locator("#undo-btn").click()
        await expect(display.locator(f"{group_goal} .rating")).to_have_count(0)
        await expect(a.locator(f'{group_goal} button[data-rating="3"]')).to_have_attribute("aria-pressed", "false")

        # B's network is cut; A carries on; B shows it is reconnecting, then catches up
        await ctx_b.set_offline(True)
        await expect(b.locator("#conn-status")).to_contain_text("Reconnecting", timeout=15000)
        await a.get_by_role("tab", name="Notes").click()
        await a.get_by_role("textbox", name="Note", exact=True).fill("Maria spoke about her sister")
        await a.get_by_role("button", name="Add note").click()
        await a.get_by_role("tab", name="Goals").click()
        await a.locator(f'{group_goal} button[data-rating="4"]').click()
        await expect(display.locator(f"{group_goal} .rating")).to_have_attribute("aria-label", "progress 4 of 4")
        # A's own event can reach A a moment after the display: wait for it before reading A's seq
        await expect(a.locator(f'{group_goal} button[data-rating="4"]')).to_have_attribute("aria-pressed", "true")
        seq_a = await a.evaluate("window.groupiptBoard.lastSeq")
        await ctx_b.set_offline(False)
        await expect(b.locator("#conn-status")).to_have_text("Live", timeout=20000)
        await expect(b.locator("#notes")).to_contain_text("Maria spoke about her sister")
        await expect(b.locator(f'{group_goal} button[data-rating="4"]')).to_have_attribute("aria-pressed", "true")
        assert await b.evaluate("window.groupiptBoard.lastSeq") == seq_a
        assert await b.evaluate("JSON.stringify(window.groupiptBoard.view)") == \
            await a.evaluate("JSON.stringify(window.groupiptBoard.view)")
        # the display never held the private note
        assert "sister" not in await display.evaluate("JSON.stringify(window.groupiptBoard.view)")
    finally:
        for context in (ctx_a, ctx_b, ctx_c):
            await context.close()
