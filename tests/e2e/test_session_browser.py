"""In Debian's chromium: a session that ends while someone types loses nothing they typed
(issue 18, "a form left open keeps what was typed across sign-in again"). Passwords are never
kept."""
from __future__ import annotations

import json

import pytest

from models.accounts import SignInSession
from server import clock
from tests.support.browser import complete_second_factor, log_in
from tests.support.world import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def _end_sessions(person) -> None:
    await SignInSession.filter(user=person, ended_at=None).update(ended_at=clock.now(), end_reason="idle")


async def _sign_in_here(page, email: str) -> None:
    """On the sign-in page the site sent us to (not a fresh one: its `next` matters)."""
    await page.wait_for_url("**/login**")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_load_state("networkidle")
    await complete_second_factor(page, email)


async def test_text_typed_when_the_session_ended_comes_back_after_signing_in(browser, live_server, world, tmp_path):
    person = await make_user("facilitator", "Tamsin Typist")
    context = await browser.new_context()
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    await log_in(page, live_server.url, person.email)

    # 1. The page notices the session ended; the person signs in again from its banner.
    await page.goto(f"{live_server.url}/account")
    await page.get_by_label("Name of a new token").fill("weekly attendance script")
    await page.get_by_label("Current password").fill("typed-but-never-kept")
    await _end_sessions(person)
    await page.evaluate("window.groupiptSession.check()")
    banner = page.get_by_role("alert").filter(has_text="Your session has ended")
    await banner.wait_for()
    kept = await page.evaluate("JSON.stringify(window.sessionStorage)")
    assert "weekly attendance script" in kept and "typed-but-never-kept" not in kept
    await banner.get_by_role("link", name="Sign in again").click()
    await _sign_in_here(page, person.email)
    await page.wait_for_url(f"{live_server.url}/account")
    await page.get_by_role("status").filter(has_text="What you typed before signing in again is back").wait_for()
    assert await page.get_by_label("Name of a new token").input_value() == "weekly attendance script"
    assert await page.get_by_label("Current password").input_value() == ""
    assert await page.evaluate("window.sessionStorage.getItem('groupipt:draft')") is None  # restored once
    await page.screenshot(path=str(tmp_path / "restored.png"), full_page=True)

    # 2. The form is sent after the session ended: the server asks for a sign-in, and the
    #    person comes back to the form, filled in, rather than to the address it was sent to.
    await page.reload()
    await page.get_by_label("Name of a new token").fill("monthly outcomes export")
    await _end_sessions(person)
    await page.get_by_role("button", name="Create token").click()
    await page.wait_for_url("**/login?next=%2Faccount%2Ftokens")
    assert await page.locator('form[action="/login"] input[name="next"]').input_value() == "/account"
    await _sign_in_here(page, person.email)
    await page.wait_for_url(f"{live_server.url}/account")
    assert await page.get_by_label("Name of a new token").input_value() == "monthly outcomes export"

    # 3. Signing out forgets whatever was kept.
    await page.get_by_label("Name of a new token").fill("left behind")
    await _end_sessions(person)
    await page.evaluate("window.groupiptSession.check()")
    await page.get_by_role("alert").filter(has_text="Your session has ended").wait_for()
    draft = json.loads(await page.evaluate("window.sessionStorage.getItem('groupipt:draft')"))
    assert draft["state"] == "expired" and draft["page"] == "/account"
    await page.get_by_role("button", name="Log out", exact=True).click()
    await page.wait_for_url("**/login")
    assert await page.evaluate("window.sessionStorage.getItem('groupipt:draft')") is None
    assert not problems, problems
    await context.close()
