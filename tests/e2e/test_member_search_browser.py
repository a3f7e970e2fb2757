"""In a real browser: the coordinator types part of a member's name, the form suggests them,
the keyboard picks them, and they are enrolled (issue 15). The script runs under the site's
Content Security Policy (no inline script), so a refused script would show here."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from models.accounts import Role, User
from models.cohorts import Enrollment, EnrollmentStatus
from tests.support.browser import log_in
from tests.support.world import make_cohort, unique_email

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_coordinator_picks_a_suggested_member_with_the_keyboard(world, live_server, browser):
    tag = uuid.uuid4().hex[:6]
    start = (datetime.now(timezone.utc) + timedelta(days=10)).date()
    cohort, _ = await make_cohort(world.template, f"Suggest {tag}", world.users["facilitator"], start=start, capacity=4)
    wanted = await User.create(email=unique_email("quinn"), display_name=f"Quinn Suggest{tag}", role=Role.MEMBER)
    other = await User.create(email=unique_email("quade"), display_name=f"Quade Suggest{tag}", role=Role.MEMBER)
    context = await browser.new_context()
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico") else None)
    await log_in(page, live_server.url, world.email("coordinator"))
    await page.goto(f"{live_server.url}/cohorts/{cohort.id}/enrollment")

    search = page.get_by_role("combobox", name="Find a member")
    await search.press_sequentially(f"suggest{tag}")
    options = page.get_by_role("listbox", name="Suggested members").get_by_role("option")
    await options.first.wait_for()
    assert await options.all_inner_texts() == [f"Quade Suggest{tag} ({other.email})", f"Quinn Suggest{tag} ({wanted.email})"]
    assert await search.get_attribute("aria-expanded") == "true"
    await search.press("ArrowDown")
    await search.press("ArrowDown")
    assert await search.get_attribute("aria-activedescendant") == f"member-suggestion-{wanted.id}"
    await search.press("Enter")  # picks the option; does not send the form
    assert await search.get_attribute("aria-expanded") == "false"
    assert await page.get_by_role("radio", name=f"Quinn Suggest{tag}").is_checked()
    assert "Chosen: Quinn" in await page.locator("#member_q-status").text_content()

    await page.get_by_label("Consent given at").fill((datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("How it was given").select_option("signed_form")
    await page.get_by_role("button", name="Enroll").click()
    await page.wait_for_load_state("networkidle")
    assert await page.get_by_text(f"Quinn Suggest{tag} is now enrolled").is_visible()
    assert (await Enrollment.get(cohort_id=cohort.id, member_id=wanted.id)).status == EnrollmentStatus.ENROLLED
    assert problems == []
    await context.close()
