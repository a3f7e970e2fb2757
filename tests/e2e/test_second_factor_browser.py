"""In Debian's chromium: a facilitator without a second factor signs in, is taken to set up
an authenticator app, scans (here: types) the key, keeps the recovery codes, and next time
signs in with a code from the app (issue 18)."""
from __future__ import annotations

import pytest

from models.accounts import SecondFactor
from tests.support import totp
from tests.support.browser import enter_code, set_up_authenticator
from tests.support.world import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_totp_set_up_at_first_sign_in_then_sign_in_with_a_code(browser, live_server, world, tmp_path):
    person = await make_user("facilitator", "Tomas Totp", second_factor=False)
    context = await browser.new_context()
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if "Refused" in message.text else None)

    await page.goto(f"{live_server.url}/login")
    await page.get_by_label("E-mail").fill(person.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url("**/account/second-factor")
    assert await page.get_by_text("needs a second factor before anything else").is_visible()
    assert await page.locator("figure.qr svg").is_visible()
    # Going elsewhere first is not possible.
    await page.goto(f"{live_server.url}/safety")
    await page.wait_for_url("**/account/second-factor")
    await page.screenshot(path=str(tmp_path / "set-up.png"), full_page=True)

    codes = await set_up_authenticator(page, person.email)
    assert len(codes) == 10
    await page.wait_for_url(f"{live_server.url}/")
    assert await page.get_by_role("link", name="Account").is_visible()
    assert await SecondFactor.filter(user=person, confirmed_at__isnull=False).count() == 1

    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url("**/login")
    await page.goto(f"{live_server.url}/account")
    await page.get_by_label("E-mail").fill(person.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url("**/login/second-factor")
    await page.get_by_label("Code").fill("000000" if totp.code_now(totp.SECRETS[person.email]) != "000000" else "111111")
    await page.get_by_role("button", name="Continue").click()
    assert await page.get_by_role("alert").filter(has_text="not right").is_visible()
    await enter_code(page, person.email)
    # The mistyped code is shown as a failed attempt since the last sign-in, then on to /account.
    await page.wait_for_url("**/login/attempts")
    assert await page.get_by_text("1 failed attempt").is_visible()
    await page.get_by_role("link", name="Continue").click()
    await page.wait_for_url(f"{live_server.url}/account")
    assert await page.get_by_role("heading", name="Your account").is_visible()
    assert await page.get_by_text("this device").is_visible()
    # session.js runs under the CSP without errors, and asks the server how long is left.
    assert await page.evaluate("typeof window.groupiptSession === 'object'")
    async with page.expect_response("**/session/status") as answer:
        await page.evaluate("window.groupiptSession.check()")
    assert (await (await answer.value).json())["ends_for"] == "inactivity"
    await page.screenshot(path=str(tmp_path / "account.png"), full_page=True)
    assert not problems, problems
    await context.close()
