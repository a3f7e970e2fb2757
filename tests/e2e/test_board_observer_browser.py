"""A supervisor observing a board in Chromium: it follows the facilitators live, every control
is off, and signing out elsewhere shows "Signed out" (issues 17, 18)."""
from __future__ import annotations

import pytest
from playwright.async_api import expect

from models.accounts import Role
from models.supervision import Supervision
from tests.integration.test_board_support import make_board_world
from tests.support.browser import log_in
from tests.support.world import make_user

pytestmark = pytest.mark.browser


async def test_an_observing_supervisor_sees_changes_live_with_every_control_off(live_server, db, browser):
    world = await make_board_world()
    supervisor = await make_user(Role.FACILITATOR, "Sam Observer")
    await Supervision.create(supervisor=supervisor, facilitator_id=int(world.fac1_id))
    board = f"{live_server.url}/boards/{world.meeting_id}"
    ctx_f = await browser.new_context(viewport={"width": 1024, "height": 768})
    ctx_s = await browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        facilitator, observer = await ctx_f.new_page(), await ctx_s.new_page()
        await log_in(facilitator, live_server.url, world.emails["fac1"])
        await log_in(observer, live_server.url, supervisor.email)
        await facilitator.goto(board)
        await observer.goto(board)
        await expect(observer.locator("#conn-status")).to_have_text("Live", timeout=15000)
        await expect(observer.locator("#observing")).to_have_text("Observing (supervisor)")
        member = world.members[0]
        await expect(observer.locator(f"#att-{member} button")).to_have_count(4)
        for mark in await observer.locator(f"#att-{member} button").all():
            await expect(mark).to_be_disabled()
        await expect(observer.locator("#close-btn")).to_be_disabled()
        await expect(observer.locator("#close-btn")).to_be_hidden()  # the same board, without its controls
        await expect(observer.locator("#add-turn button[type=submit]")).to_be_disabled()  # in a closed <details>
        await observer.get_by_role("tab", name="Notes").click()  # the tabs work for an observer too
        await expect(observer.locator("#panel-notes")).to_be_visible()
        await expect(observer.locator("#note-form button[type=submit]")).to_be_disabled()
        await expect(observer.locator("#next-action-btn")).to_have_count(0)
        await expect(observer.locator("#undo-btn")).to_be_disabled()

        await expect(facilitator.locator("#conn-status")).to_have_text("Live", timeout=15000)
        await facilitator.locator(f"#att-{member}").get_by_role("button", name="Present").click()
        await expect(observer.locator(f"#att-{member}")).to_have_attribute("data-status", "present")
        await expect(observer.locator(f"#att-{member} .chip-status")).to_have_text("Present")
        await expect(observer.locator(f'#att-{member} button[data-status="present"]')).to_be_disabled()

        # Signing out in another tab of the same browser ends this board's socket.
        other_tab = await ctx_s.new_page()
        await other_tab.goto(f"{live_server.url}/account")
        await other_tab.get_by_role("button", name="Log out").first.click()
        await expect(observer.locator("#conn-status")).to_contain_text("Signed out", timeout=10000)
    finally:
        await ctx_f.close()
        await ctx_s.close()
