"""A newcomer's first minutes, in Debian's chromium: setup link, first coordinator, an invitation."""
from __future__ import annotations

import re

import pytest

from tests.support.browser import enter_code, set_up_authenticator
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def fresh_server(tmp_path):
    server = LiveServer(var_dir=tmp_path, database_url=f"sqlite://{tmp_path / 'fresh.sqlite3'}").start()
    yield server
    server.stop()


async def test_setup_then_invite_a_member_on_a_phone(browser, fresh_server, tmp_path):
    link = re.search(r"(http://\S+/setup/\S+)", fresh_server.log()).group(1)
    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = await context.new_page()
    await page.goto(link)
    await page.get_by_label("Your name").fill("Ada Lovelace")
    await page.get_by_label("E-mail", exact=True).fill("ada@clinic.example.org")
    await page.get_by_label("Password (at least 10 characters)").fill("correct horse battery")
    await page.get_by_label("Password again").fill("correct horse battery")
    await page.get_by_role("button", name="Create coordinator").click()
    await set_up_authenticator(page, "ada@clinic.example.org")  # staff add a second factor first
    await page.wait_for_url(fresh_server.url + "/")
    assert await page.get_by_role("heading", name="Cohorts").is_visible()
    # Nothing overflows sideways on a phone.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    await page.get_by_role("link", name="People").click()
    await page.get_by_label("Name", exact=True).fill("Milo Member")
    await page.get_by_label("E-mail", exact=True).fill("milo@example.org")
    await page.get_by_label("Role", exact=True).select_option("member")
    await page.get_by_role("button", name="Create invitation link").click()
    invitation = await page.get_by_label("Link").input_value()
    assert "/invitations/" in invitation
    await page.screenshot(path=str(tmp_path / "invitation.png"))

    member = await (await browser.new_context()).new_page()
    await member.goto(invitation)
    await member.get_by_label("Password (at least 10 characters)").fill("milo's own passphrase")
    await member.get_by_label("Password again").fill("milo's own passphrase")
    await member.get_by_role("button", name="Save password").click()
    await member.wait_for_load_state()
    assert "/invitations/" not in member.url
    await context.close()


async def test_login_form_works_without_javascript(browser, world, live_server):
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(live_server.url + "/account")
    assert "/login" in page.url
    await page.get_by_label("E-mail", exact=True).fill(world.email("coordinator"))
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Log in").click()
    await enter_code(page, world.email("coordinator"))
    await page.wait_for_url(live_server.url + "/account")
    assert await page.get_by_role("heading", name="Your account").is_visible()
    await context.close()
