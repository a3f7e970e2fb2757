"""In a real browser: a coordinator enrolls members past capacity, withdraws one (the first
waitlisted is promoted), and imports a CSV file (preview with a bad row, then a clean file);
the overview works at phone width."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from models.cohorts import Enrollment, EnrollmentStatus
from tests.support.browser import log_in
from tests.support.world import make_cohort, make_template, make_user

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def _wait_for_text(page, fragment: str) -> None:
    """The file is read into the text area by the page's script (CSP forbids eval-based waits)."""
    for _ in range(100):
        if fragment in await page.locator("#csv_text").input_value():
            return
        await page.wait_for_timeout(50)
    raise AssertionError(f"{fragment!r} never reached the CSV text area")


async def test_coordinator_enrolls_withdraws_and_imports(live_server, db, browser, tmp_path):
    coordinator = await make_user("coordinator", "Coco Browser")
    facilitator = await make_user("facilitator", "Fern Browser")
    template = await make_template()
    start = (datetime.now(timezone.utc) + timedelta(days=10)).date()
    cohort, _ = await make_cohort(template, f"Browser enrollment {uuid.uuid4().hex[:4]}", facilitator,
                                  start=start, capacity=2)
    base = live_server.url
    context = await browser.new_context()
    page = await context.new_page()
    await log_in(page, base, coordinator.email)

    await page.goto(f"{base}/cohorts/{cohort.id}/enrollment")
    # Without consent on record nobody is enrolled, and the page says what is missing.
    await page.get_by_label("Name").fill("Ana Browser")
    await page.get_by_label("E-mail").fill(f"ana-{uuid.uuid4().hex[:6]}@example.org")
    await page.get_by_role("button", name="Enroll").click()
    await page.wait_for_load_state("networkidle")
    assert await page.get_by_text("cannot be enrolled before their consent is recorded").is_visible()
    assert await Enrollment.filter(cohort_id=cohort.id).count() == 0
    consented = (datetime.now(timezone.utc) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    for name in ("Ana Browser", "Ben Browser", "Cai Browser"):
        await page.get_by_label("Name").fill(name)
        await page.get_by_label("E-mail").fill(f"{name.split()[0].lower()}-{uuid.uuid4().hex[:6]}@example.org")
        await page.get_by_label("Consent given at").fill(consented)
        await page.get_by_label("How it was given").select_option("signed_form")
        await page.get_by_role("button", name="Enroll").click()
        await page.wait_for_load_state("networkidle")
    assert await page.locator('[data-consent="missing"]').count() == 0
    assert await page.get_by_text("is full (2 places), so Cai Browser was added to the waitlist").is_visible()
    assert "2 of 2" in await page.locator("#fill").inner_text()
    assert (await page.get_by_label("Invitation link").input_value()).startswith(f"{base}/invitations/")

    await page.get_by_role("link", name="Ana Browser").click()
    await page.get_by_label("Reason for the withdrawal").fill("moved to another city")
    await page.get_by_role("button", name="Withdraw").click()
    await page.wait_for_load_state("networkidle")
    assert await page.get_by_text("Cai Browser was promoted from the waitlist and is now enrolled.").is_visible()
    history = await page.locator("#history").inner_text()
    assert "enrolled → withdrawn" in history and "Coco Browser" in history

    # CSV import: the file is read in the browser, a bad row blocks everything.
    await page.goto(f"{base}/cohorts/{cohort.id}/enrollment/import")
    tag = uuid.uuid4().hex[:6]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"name,email,consent_at,consent_method\nDev Csv,dev-{tag}@example.org,2026-11-20,phone\n"
                   "Eli Csv,eli-at-example.org,2026-11-20,phone\n", encoding="utf-8")
    await page.set_input_files("#file", str(bad))
    await _wait_for_text(page, "Eli Csv")
    assert "ready" in await page.locator("#import-progress-label").inner_text()
    await page.get_by_role("button", name="Preview").click()
    await page.wait_for_selector("#preview")
    row = page.locator('tr[data-line="3"]')
    assert "'eli-at-example.org' is not an e-mail address" in await row.inner_text()
    assert await page.locator("#import-confirm").count() == 0
    assert await Enrollment.filter(cohort_id=cohort.id).count() == 3

    good = tmp_path / "good.csv"
    good.write_text(f"name,email,consent_at,consent_method\nDev Csv,dev-{tag}@example.org,2026-11-20,phone\n"
                    f"Eli Csv,eli-{tag}@example.org,2026-11-20,video\n", encoding="utf-8")
    await page.set_input_files("#file", str(good))
    await _wait_for_text(page, f"eli-{tag}")
    await page.get_by_role("button", name="Preview").click()
    await page.wait_for_selector("#import-confirm")
    assert "Waitlisted: over capacity" in await page.locator("#preview-rows").inner_text()
    await page.get_by_role("button", name="Import 2 rows").click()
    await page.wait_for_load_state("networkidle")
    assert "2 rows imported: 0 enrolled, 2 waitlisted" in await page.locator("#import-result").inner_text()
    statuses = sorted(e.status.value for e in await Enrollment.filter(cohort_id=cohort.id))
    assert statuses == ["enrolled", "enrolled", "waitlisted", "waitlisted", "withdrawn"]
    await context.close()

    # The overview at phone width: no horizontal scrolling, the figures are readable.
    phone = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = await phone.new_page()
    await log_in(page, base, coordinator.email)
    await page.goto(f"{base}/")
    row = page.locator(f'tr[data-cohort="{cohort.id}"]')
    assert "2 / 2" in await row.inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    await phone.close()
    assert await Enrollment.filter(cohort_id=cohort.id, status=EnrollmentStatus.ENROLLED).count() == 2
