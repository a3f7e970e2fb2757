"""In a real browser, on a phone-sized screen: a supervisor follows the Supervision link,
reads the week's flags, records the supervision meeting from them (a case discussed and an
action with its owner and due date), and sees the action carried over on the agenda."""
from __future__ import annotations

import os
import uuid

import pytest

from models.clinical import SafetyItem, SafetyItemStatus
from models.supervision import Supervision, SupervisionAction
from tests.support.browser import log_in
from tests.support.world import enroll, make_cohort, make_template, make_user

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_a_supervisor_records_the_weekly_meeting_from_the_agenda(live_server, db, browser):
    tag = uuid.uuid4().hex[:4]
    supervisor = await make_user("facilitator", f"Sara Supervisor {tag}")
    facilitator = await make_user("facilitator", f"Finn Facilitator {tag}")
    await Supervision.create(supervisor=supervisor, facilitator=facilitator)
    cohort, _ = await make_cohort(await make_template(), f"Supervised group {tag}", facilitator)
    enrollment = await enroll(cohort, await make_user("member", f"Maya Member {tag}"))
    await SafetyItem.create(enrollment=enrollment, item9=1, status=SafetyItemStatus.OPEN)

    context = await browser.new_context(viewport={"width": 390, "height": 800})
    page = await context.new_page()
    await log_in(page, live_server.url, supervisor.email)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Supervision").click()
    await page.wait_for_load_state("networkidle")
    assert await page.get_by_role("heading", name="Open safety items").is_visible()
    assert await page.locator(f'#safety_open li[data-enrollment="{enrollment.id}"]').is_visible()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"

    await page.get_by_role("link", name="Record a supervision meeting").click()
    await page.wait_for_load_state("networkidle")
    await page.get_by_label(f"Maya Member {tag}").check()
    await page.locator(f"#note_{enrollment.id}").fill("Risk check reviewed together")
    await page.locator("#action_text_1").fill("Call Maya before the next session")
    await page.locator("#action_owner_1").select_option(label=f"Finn Facilitator {tag}")
    await page.get_by_role("button", name="Save the supervision meeting").click()
    await page.wait_for_load_state("networkidle")
    assert await page.get_by_role("status").filter(has_text="The supervision meeting is recorded").is_visible()
    assert await page.get_by_text("Risk check reviewed together").is_visible()
    if os.environ.get("GROUPIPT_SCREENSHOTS"):
        await page.screenshot(path=os.path.join(os.environ["GROUPIPT_SCREENSHOTS"], "supervision-meeting.png"), full_page=True)

    await page.get_by_role("link", name="← The agenda").click()
    await page.wait_for_load_state("networkidle")
    action = await SupervisionAction.get(meeting__supervisor=supervisor)
    carried = page.locator(f'li[data-flag="open_action"][data-record="{action.id}"]')
    assert await carried.is_visible()
    if os.environ.get("GROUPIPT_SCREENSHOTS"):
        await page.screenshot(path=os.path.join(os.environ["GROUPIPT_SCREENSHOTS"], "supervision-agenda.png"), full_page=True)
    await carried.get_by_role("button", name="Mark done").click()
    await page.wait_for_load_state("networkidle")
    assert await page.get_by_role("status").filter(has_text="The action is marked done").is_visible()
    assert await carried.count() == 0
    assert (await SupervisionAction.get(id=action.id)).done_by_id == supervisor.id
    await context.close()
