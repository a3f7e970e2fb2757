"""In Debian's chromium at a phone's 390 px and a desktop's 1280 px (issue 20, items 1, 5, 8):
the Copy button beside one-time links, the programme chart's labels, the demo's progress."""
from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from playwright.async_api import expect

from models.accounts import Role
from tests.support.browser import log_in
from tests.support.server import LiveServer, migrated_sqlite
from tests.support.world import make_cohort, make_template, make_user

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

WIDTHS = [pytest.param({"width": 390, "height": 844}, id="phone"),
          pytest.param({"width": 1280, "height": 800}, id="desktop")]


@pytest.mark.parametrize("viewport", WIDTHS)
async def test_the_account_page_shows_the_calendar_link_with_a_copy_button(live_server, db, browser, viewport):
    member = await make_user(Role.MEMBER, f"Cleo Copy {uuid.uuid4().hex[:4]}")
    context = await browser.new_context(viewport=viewport)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = await context.new_page()
    try:
        await log_in(page, live_server.url, member.email)
        await page.goto(f"{live_server.url}/account")
        await page.get_by_role("button", name="Create my calendar link").click()
        await page.goto(f"{live_server.url}/account")  # a later visit still shows it
        field = page.get_by_label("Calendar address")
        url = await field.input_value()
        assert re.fullmatch(re.escape(live_server.url) + r"/feeds/[A-Za-z0-9_-]{40,}\.ics", url)
        for name in ("Subscribe on this device", "Add to Google Calendar", "Download the calendar file (.ics)"):
            await expect(page.get_by_role("link", name=name)).to_be_visible()
        copy = page.locator("#feed-link").get_by_role("button", name="Copy", exact=True)
        assert await copy.get_attribute("aria-describedby") == "feed_url"
        await expect(copy).to_be_visible()
        box = await copy.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
        assert box["height"] >= 24  # a target a finger can hit (WCAG 2.2, 2.5.8)
        await copy.click()
        await expect(page.locator("#feed-link .copy-status")).to_have_text("Copied")
        assert await page.evaluate("navigator.clipboard.readText()") == url
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        await context.close()


async def test_without_the_clipboard_api_the_copy_button_selects_the_link(live_server, db, browser):
    coordinator = await make_user(Role.COORDINATOR, f"Cody Copier {uuid.uuid4().hex[:4]}")
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    await context.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined});")
    page = await context.new_page()
    try:
        await log_in(page, live_server.url, coordinator.email)
        await page.goto(f"{live_server.url}/people")
        email = f"sel-{uuid.uuid4().hex[:6]}@example.org"
        await page.get_by_label("Name", exact=True).fill("Sel Ected")
        await page.get_by_label("E-mail", exact=True).fill(email)
        await page.get_by_role("button", name="Create invitation link").click()
        await expect(page.locator("#link-mail")).to_contain_text(f"Waiting in the outbox for {email}")
        await page.get_by_role("button", name="Copy", exact=True).click()
        status = page.locator(".copy-status")
        await expect(status).not_to_be_empty()
        assert await status.inner_text() in ("Copied", "Selected: press Ctrl+C (or ⌘C) to copy")
        selected = await page.evaluate("""() => { const f = document.getElementById('link');
            return document.activeElement === f && f.selectionStart === 0 && f.selectionEnd === f.value.length; }""")
        assert selected
    finally:
        await context.close()


@pytest.mark.parametrize("viewport", WIDTHS)
async def test_programme_chart_labels_render_at_12px_or_more(live_server, db, browser, viewport):
    coordinator = await make_user(Role.COORDINATOR, f"Cora Charts {uuid.uuid4().hex[:4]}")
    facilitator = await make_user(Role.FACILITATOR, f"Fin Charts {uuid.uuid4().hex[:4]}")
    start = (datetime.now(timezone.utc) - timedelta(days=30)).date()
    await make_cohort(await make_template(), f"Chart group {uuid.uuid4().hex[:4]}", facilitator, start=start)
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    try:
        await log_in(page, live_server.url, coordinator.email)
        await page.goto(f"{live_server.url}/programme")
        chart = page.locator(".programme-chart svg").first
        await expect(chart).to_be_visible()
        sizes = await chart.evaluate("""svg => [...svg.querySelectorAll('text')].map(t => {
            const box = t.getBoundingClientRect();
            return {tick: t.classList.contains('tick'), px: parseFloat(getComputedStyle(t).fontSize) * svg.getScreenCTM().a,
                    height: box.height, text: t.textContent}; })""")
        ticks = [s for s in sizes if s["tick"]]
        assert len(ticks) == 3, sizes
        smallest = min(s["px"] for s in sizes)
        assert smallest >= 12, sizes
        # The box a tick label's glyphs take on screen (line height about 1.15 × the size).
        assert min(s["height"] for s in ticks) >= 12, ticks
        print(f"\n{viewport['width']} px: smallest chart text {smallest:.2f} px, tick box {ticks[0]['height']:.1f} px high")
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        await context.close()


@pytest.fixture
def fresh_server(tmp_path):
    server = LiveServer(var_dir=tmp_path, database_url=f"sqlite://{migrated_sqlite(tmp_path / 'fresh.sqlite3')}").start()
    yield server
    server.stop()


async def test_loading_the_demo_shows_progress_and_finishes(browser, fresh_server):
    link = re.search(r"(http://\S+/setup/\S+)", fresh_server.log()).group(1)
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    try:
        await page.goto(link)
        await page.get_by_label("Your name").fill("Ada Demo")
        await page.get_by_label("E-mail", exact=True).fill("ada@demo.example.org")
        await page.get_by_label("Password (at least 10 characters)").fill("correct horse battery")
        await page.get_by_label("Password again").fill("correct horse battery")
        await page.get_by_label("Also load the demo clinic").check()

        async def slow_post(route):  # hold the form's answer long enough to look at the page
            if route.request.method == "POST":
                await asyncio.sleep(2)
            await route.continue_()

        await page.route(link, slow_post)
        # What the page shows while the answer is awaited, kept across the navigation that follows.
        await page.evaluate("""() => document.getElementById('setup-form').addEventListener('submit', () =>
            setTimeout(() => { const b = document.querySelector('#setup-form button[type=submit]');
              sessionStorage.setItem('seen', JSON.stringify({text: b.textContent, disabled: b.disabled,
                busy: document.getElementById('setup-form').getAttribute('aria-busy'),
                status: document.getElementById('setup-progress').textContent})); }, 200))""")
        await page.get_by_role("button", name="Create coordinator").click()
        await expect(page.get_by_role("heading", name="The demo clinic is ready")).to_be_visible(timeout=30_000)
        seen = json.loads(await page.evaluate("sessionStorage.getItem('seen')"))
        assert seen == {"text": "Loading the demo…", "disabled": True, "busy": "true",
                        "status": "Loading the demo clinic: this takes a few seconds."}, seen
    finally:
        await context.close()


async def test_the_setup_form_still_posts_without_javascript(browser, fresh_server):
    link = re.search(r"(http://\S+/setup/\S+)", fresh_server.log()).group(1)
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    try:
        await page.goto(link)
        await page.get_by_label("Your name").fill("Nora Noscript")
        await page.get_by_label("E-mail", exact=True).fill("nora@demo.example.org")
        await page.get_by_label("Password (at least 10 characters)").fill("correct horse battery")
        await page.get_by_label("Password again").fill("correct horse battery")
        await page.get_by_role("button", name="Create coordinator").click()
        await page.wait_for_url("**/account/second-factor")
    finally:
        await context.close()

