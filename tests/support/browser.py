"""Helpers for Playwright pages."""
from __future__ import annotations

from tests.support.world import PASSWORD


async def log_in(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the real login form, as a person would."""
    await page.goto(f"{base_url}/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_load_state("networkidle")
