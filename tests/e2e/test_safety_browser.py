"""In a real browser: a member fills in a PHQ-9 with item 9 above 0 and sees a calm message
with where to get help; the facilitator sees the safety item at the top of the next
meeting's view, records a risk check and closes it. Another member sees none of it."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest

from models.clinical import SafetyItem, SafetyItemStatus
from models.cohorts import Enrollment, EnrollmentStatus
from server.measures import instruments
from tests.support.browser import log_in
from tests.support.world import make_cohort, make_template, make_user

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_member_positive_item9_and_facilitator_closes_it(live_server, db, browser):
    facilitator = await make_user("facilitator", "Faye Safety")
    member = await make_user("member", f"Mo Safety {uuid.uuid4().hex[:4]}")
    neighbour = await make_user("member", "Nell Neighbour")
    template = await make_template()
    cohort, meetings = await make_cohort(template, f"Safety group {uuid.uuid4().hex[:4]}", facilitator)
    await Enrollment.create(cohort=cohort, member=member, status=EnrollmentStatus.ENROLLED)
    await Enrollment.create(cohort=cohort, member=neighbour, status=EnrollmentStatus.ENROLLED)
    base = live_server.url

    mine = await browser.new_context(viewport={"width": 390, "height": 800})
    page = await mine.new_page()
    await log_in(page, base, member.email)
    await page.goto(f"{base}/portal")
    await page.get_by_role("link", name="Fill in the PHQ-9").click()
    await page.wait_for_load_state("networkidle")
    assert await page.get_by_text(instruments.PHQ9.stem).is_visible()
    answers = [1, 2, 1, 2, 0, 1, 1, 0, 2]
    for number, (text, value) in enumerate(zip(instruments.PHQ9.items, answers), start=1):
        group = page.locator(f'fieldset[data-item="{number}"]')
        assert text in await group.locator("legend").inner_text()
        await group.get_by_label(instruments.ANSWER_SCALE[value].label, exact=True).check()
    await page.get_by_label("Somewhat difficult").check()
    await page.get_by_role("button", name="Send my answers").click()
    await page.wait_for_load_state("networkidle")
    message = await page.locator("#support-message").inner_text()
    assert "Thank you for answering honestly" in message
    assert "call your local emergency number" in message  # GROUPIPT_HELP_TEXT (default)
    assert "not shown to other members" in message
    # Built from what will happen: the cohort's one facilitator was told, with a due time.
    assert "passed on privately to your group's facilitator, who has been asked to get in touch" in message
    assert "total is 10 out of 27" in await page.locator("#your-score").inner_text()
    await mine.close()

    item = await SafetyItem.get(enrollment__member_id=member.id)
    assert item.item9 == 2 and item.status == SafetyItemStatus.OPEN

    # The neighbour's portal shows nothing of it.
    theirs = await browser.new_context()
    page = await theirs.new_page()
    await log_in(page, base, neighbour.email)
    await page.goto(f"{base}/portal")
    body = await page.locator("main").inner_text()
    assert member.display_name not in body and "safety" not in body.lower()
    await theirs.close()

    staff = await browser.new_context()
    page = await staff.new_page()
    await log_in(page, base, facilitator.email)
    await page.goto(f"{base}/meetings/{item.meeting_id}/measures")
    first_section = page.locator("main section").first
    assert "Safety items to check" in await first_section.inner_text()
    entry = page.locator(f'[data-safety-item="{item.id}"]')
    text = await entry.inner_text()
    assert member.display_name in text and "More than half the days" in text
    await entry.get_by_role("link", name="Record risk check").click()
    await page.wait_for_load_state("networkidle")
    assert "due by" in await page.locator("#item-timing").inner_text()
    # Incomplete first: "." says nothing, no risk level, no follow-up; the item stays open.
    await page.get_by_label("By phone").check()
    await page.get_by_label("Passive (wishing to be dead").check()
    for question in ("A plan", "Intent to act", "Access to means", "Past attempts"):
        await page.get_by_label(f"{question}: no").check()
    await page.get_by_label("Referral").check()
    await page.get_by_label("Outcome of the check").fill(".")
    await page.get_by_role("button", name="Record risk check and close").click()
    await page.wait_for_load_state("networkidle")
    assert await page.get_by_text("A follow-up date is needed for this action.").first.is_visible()
    assert await page.get_by_text("Choose a risk level").first.is_visible()
    assert await page.get_by_text("Describe what the check found.").first.is_visible()
    assert (await SafetyItem.get(id=item.id)).status == SafetyItemStatus.OPEN
    # What was entered is kept; complete it.
    assert await page.get_by_label("By phone").is_checked()
    await page.get_by_label("Moderate").check()
    await page.get_by_label("Protective factors").fill("Her children; a sister nearby")
    await page.get_by_label("Outcome of the check").fill("Spoke by phone; passive thoughts, no plan.")
    await page.get_by_label("Follow-up date").fill((date.today() + timedelta(days=3)).isoformat())
    await page.get_by_role("button", name="Record risk check and close").click()
    await page.wait_for_load_state("networkidle")
    assert "closed" in await page.locator("#item-status").inner_text()
    checks = await page.locator("#risk-checks").inner_text()
    assert "Faye Safety" in checks and "Referral" in checks and "passive thoughts, no plan" in checks
    assert "By phone" in checks and "Moderate" in checks and "Her children" in checks
    await page.goto(f"{base}/meetings/{item.meeting_id}/measures")
    assert await page.locator(f'[data-safety-item="{item.id}"]').count() == 0
    await staff.close()


async def test_closing_the_board_over_an_open_item_asks_a_clinician_why(live_server, db, browser):
    from datetime import datetime, timezone

    from playwright.async_api import expect

    from models.board import Board
    from models.clinical import MeasureResponse
    from models.cohorts import Meeting, MeetingStatus
    from tests.integration.test_board_support import make_board_world

    world = await make_board_world()
    enrollment_id = int(world.members[0])
    response = await MeasureResponse.create(
        enrollment_id=enrollment_id, instrument="phq9", items=[1] * 9, total=9, band="mild", item9=1,
        window="session-4", administered_at=datetime.now(timezone.utc))
    item = await SafetyItem.create(enrollment_id=enrollment_id, response=response, item9=1,
                                   raised_at=response.administered_at)
    context = await browser.new_context(viewport={"width": 1024, "height": 768})
    page = await context.new_page()
    await log_in(page, live_server.url, world.emails["fac1"])
    await page.goto(f"{live_server.url}/boards/{world.meeting_id}")
    await expect(page.locator("#conn-status")).to_have_text("Live", timeout=15000)
    await expect(page.locator("#safety")).to_contain_text("Maria Lopez")
    await expect(page.locator("#safety")).to_contain_text("unless a clinician confirms with a reason")
    for member in world.members:
        await page.locator(f"#att-{member}").get_by_role("button", name="Present").click()
    prompts: list[str] = []

    async def answer(dialog):
        prompts.append(dialog.message)
        await dialog.accept("Spoke with Maria after the group; the duty clinician rings her tonight.")

    page.on("dialog", answer)
    await page.locator("#close-btn").click()
    await expect(page.locator("#board")).to_have_class(re.compile("is-closed"), timeout=10000)
    assert "1 safety item(s)" in prompts[0] and "only a clinician" in prompts[0]
    assert (await Meeting.get(id=world.meeting_id)).status == MeetingStatus.COMPLETED
    assert (await Board.get(meeting_id=world.meeting_id)).closed_at is not None
    assert (await SafetyItem.get(id=item.id)).status == SafetyItemStatus.OPEN  # closing is not a check
    await context.close()
