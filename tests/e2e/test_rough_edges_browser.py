"""In a real browser, rough edges of issue 20: pages that fit a phone and a 720p room screen."""
from __future__ import annotations

import pytest

from tests.support.browser import log_in
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
        assert await page.get_by_label("Role").input_value() == "member"
    finally:
        await context.close()
