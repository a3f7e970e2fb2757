"""Helpers for Playwright pages."""
from __future__ import annotations

from tests.support import totp
from tests.support.world import PASSWORD


async def log_in(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the real login form, as a person would (with their authenticator's
    code, when the account has one)."""
    await page.goto(f"{base_url}/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_load_state("networkidle")
    await complete_second_factor(page, email)


async def complete_second_factor(page, email: str) -> None:
    """After the password: the authenticator's code, when the account has one."""
    if page.url.split("?")[0].endswith("/login/second-factor"):
        await enter_code(page, email)


async def enter_code(page, email: str) -> None:
    secret = await totp.secret_for(email)
    assert secret, f"{email} has a second factor whose secret this test does not know"
    await page.get_by_label("Code").fill(await totp.next_code(email, secret))
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_load_state("networkidle")


async def set_up_authenticator(page, email: str) -> list[str]:
    """On the set-up page: type the key into 'the app', enter its code, keep the recovery
    codes, continue. Returns the recovery codes shown."""
    await page.wait_for_url("**/account/second-factor")
    secret = await page.get_by_label("Key to type in instead").input_value()
    totp.remember(email, secret)
    await page.get_by_label("Code from the app").fill(await totp.next_code(email, secret))
    await page.get_by_role("button", name="Turn on").click()
    await page.wait_for_load_state("networkidle")
    codes = [text.strip() for text in await page.get_by_role("list", name="Recovery codes").locator("li").all_inner_texts()]
    await page.get_by_role("link", name="Continue").click()
    return codes


async def open_live_board(browser, base_url: str, email: str, path: str, viewport: dict):
    """A new context at `viewport`, signed in as `email`, on the board page `path` once its
    socket reads Live: (context, page)."""
    from playwright.async_api import expect

    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    await log_in(page, base_url, email)
    await page.goto(f"{base_url}{path}")
    await expect(page.locator("#conn-status")).to_have_text("Live", timeout=15000)
    return context, page
