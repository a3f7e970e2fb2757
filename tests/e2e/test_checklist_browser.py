"""The session checklist at close, in a real browser: the facilitator closes the board, follows
"Fill in the session checklist", answers every item with the keyboard-reachable radios, rates
the session and saves; a missed item is refused first and nothing is stored."""
from __future__ import annotations

import pytest
from playwright.async_api import expect

from models.cohorts import Cohort, ProtocolTemplate
from models.fidelity import SessionChecklist
from server import schedule
from tests.integration.test_board_support import make_board_world
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_the_facilitator_fills_in_the_checklist_right_after_closing_the_board(live_server, db, browser):
    world = await make_board_world()
    # The board world's protocol asks the WHO middle-phase checklist (session 4 is a middle session).
    await schedule.ensure_builtin_templates()
    who = await ProtocolTemplate.get(slug="who-group-ipt")
    cohort = await Cohort.get(id=world.cohort_id)
    await ProtocolTemplate.filter(id=cohort.template_id).update(checklists=who.checklists)
    items = who.checklists["group:middle"]

    context = await browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = await context.new_page()
    try:
        await log_in(page, live_server.url, world.emails["fac1"])
        await page.goto(f"{live_server.url}/boards/{world.meeting_id}")
        await expect(page.locator("#conn-status")).to_have_text("Live", timeout=15000)
        for member in world.members:
            await page.locator(f"#att-{member}").get_by_role("button", name="Present").click()
        page.on("dialog", lambda dialog: dialog.accept())
        await page.locator("#close-btn").click()
        await expect(page.locator("#closed-note")).to_be_visible(timeout=15000)
        await page.get_by_role("link", name="Fill in the session checklist").click()
        await expect(page.get_by_role("heading", name="Session checklist")).to_be_visible()

        first, *rest = items
        for item in rest:
            group = page.get_by_role("group", name=item["label"])
            await group.get_by_label("Done", exact=True).check()
        await page.get_by_role("group", name="How did the session go?").get_by_label("4").check()
        await page.get_by_role("button", name="Save the checklist").click()
        await expect(page.get_by_role("alert").first).to_contain_text("1 of")
        assert not await SessionChecklist.filter(meeting_id=world.meeting_id).exists()

        group = page.get_by_role("group", name=first["label"])
        await group.get_by_label("Partly").check()
        await group.get_by_label("Note").fill("Started ten minutes late")
        await page.get_by_label("Note on the session").fill("Two members arrived late")
        await page.get_by_role("button", name="Save the checklist").click()
        await expect(page.get_by_role("status")).to_contain_text("The checklist is saved")
        stored = await SessionChecklist.get(meeting_id=world.meeting_id)
        assert stored.rating == 4 and stored.checklist == "group:middle"
        assert [i["answer"] for i in stored.items] == ["partly"] + ["done"] * len(rest)
        assert stored.items[0]["note"] == "Started ten minutes late"

        await page.get_by_role("link", name="← The meeting").click()
        await expect(page.get_by_role("link", name="The session checklist (filled in)")).to_be_visible()
    finally:
        await context.close()
