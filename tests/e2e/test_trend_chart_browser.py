"""In a real browser at a phone's and a laptop's width: every text of a member's PHQ-9 trend
chart renders at 12 px or more (its box against a 12 px reference span), the axis labels do
not overlap, and the page does not scroll sideways (issue 20, item 8). The pages: the staff's
measures page of an enrollment, the member's portal and the closure summary."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from playwright.async_api import expect

from models.clinical import MeasureResponse
from tests.integration.test_board_support import make_board_world
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

WIDTHS = [pytest.param({"width": 390, "height": 844}, id="phone"),
          pytest.param({"width": 1280, "height": 800}, id="laptop")]

# Every visible chart of the page: each visible <text>'s rendered box and font size on screen,
# and a 12 px sans-serif span's box to compare the boxes with (same font, so same line box).
MEASURE = """() => {
  const ref = document.createElement('span');
  ref.style.cssText = 'font: 12px sans-serif; position: absolute; left: 0; top: 0; white-space: nowrap';
  ref.textContent = 'Sg0';
  document.body.append(ref);
  const reference = ref.getBoundingClientRect().height;
  ref.remove();
  const charts = [...document.querySelectorAll('figure.trend-chart svg')].filter(s => s.checkVisibility());
  return {reference, hiddenSvgs: document.querySelectorAll('figure.trend-chart svg').length - charts.length,
    charts: charts.map(svg => ({
      width: svg.getBoundingClientRect().width,
      labelledby: svg.getAttribute('aria-labelledby'),
      texts: [...svg.querySelectorAll('text')].map(t => {
        const box = t.getBoundingClientRect();
        return {text: t.textContent, cls: t.getAttribute('class') || '', rotated: t.hasAttribute('transform'),
                // a rotated label's glyph height lies across the page
                height: t.hasAttribute('transform') ? box.width : box.height,
                left: box.left, right: box.right, top: box.top, bottom: box.bottom,
                px: parseFloat(getComputedStyle(t).fontSize) * svg.getScreenCTM().a};
      })}))};
}"""


async def _weekly_answers(enrollment_id: int, totals) -> None:
    start = datetime.now(timezone.utc) - timedelta(days=7 * len(totals) + 3)
    for week, total in enumerate(totals):
        items = [total // 9 + (1 if i < total % 9 else 0) for i in range(9)]
        window = "baseline" if week == 0 else f"session-{week}"
        await MeasureResponse.create(enrollment_id=enrollment_id, instrument="phq9", items=items, total=total,
                                     band="mild", item9=0, window=window,
                                     administered_at=start + timedelta(days=7 * week))


def _check(found: dict, viewport: dict, where: str) -> str:
    charts = found["charts"]
    assert charts, found
    reference = found["reference"]
    lines = []
    for chart in charts:
        texts = chart["texts"]
        assert len(texts) > 10, chart
        smallest = min(texts, key=lambda t: t["height"])
        smallest_px = min(t["px"] for t in texts)
        lines.append(f"{where} at {viewport['width']} px: chart {chart['width']:.0f} px wide, "
                     f"{len(texts)} texts, smallest box {smallest['height']:.1f} px ({smallest['text']!r}) "
                     f"vs 12 px span {reference:.1f} px; smallest font {smallest_px:.1f} px")
        # A text's box is its font's line box: at least the 12 px span's (half a pixel for rounding).
        assert smallest["height"] >= reference - 0.5, (where, viewport, smallest, reference)
        assert smallest_px >= 12, (where, viewport, sorted(texts, key=lambda t: t["px"])[:3])
        for cls in ("x-label", "x-date"):
            row = sorted((t for t in texts if cls in t["cls"].split()), key=lambda t: t["left"])
            assert len(row) >= 2, (cls, texts)
            for a, b in zip(row, row[1:]):
                assert a["right"] <= b["left"], (where, viewport, cls, a, b)
        # The date labels sit below the occasion labels, not on them.
        occasions = [t for t in texts if "x-label" in t["cls"].split()]
        dates = [t for t in texts if "x-date" in t["cls"].split()]
        assert max(t["bottom"] for t in occasions) <= min(t["top"] for t in dates) + 1
    return "\n".join(lines)


async def _no_sideways_scroll(page) -> None:
    scroll, inner = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, (scroll, inner)


@pytest.mark.parametrize("viewport", WIDTHS)
async def test_trend_chart_text_is_12px_or_more_without_overlap(live_server, db, browser, viewport):
    world = await make_board_world()
    enrollment_id = int(world.members[0])
    # Fourteen weekly answers: too many date labels for the width, so they are thinned.
    await _weekly_answers(enrollment_id, (19, 18, 17, 15, 15, 14, 12, 11, 10, 9, 8, 7, 6, 5))
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    report = []
    try:
        await log_in(page, live_server.url, world.emails["fac1"])
        await page.goto(f"{live_server.url}/enrollments/{enrollment_id}/measures")
        await expect(page.locator("#trend-phq9 figure svg").first).to_be_attached()
        found = await page.evaluate(MEASURE)
        report.append(_check(found, viewport, "staff measures page"))
        # One drawing of each chart is shown; the other is out of the accessibility tree.
        assert len(found["charts"]) == 1 and found["hiddenSvgs"] >= 1, found
        phq9 = page.locator("#trend-phq9")
        await expect(phq9.get_by_role("img", name="PHQ-9 over time")).to_have_count(1)
        await _no_sideways_scroll(page)
        # Every point's value is still in the table, thinned labels or not.
        rows = phq9.locator("figure table tbody tr")
        await expect(rows).to_have_count(14)

        await page.context.clear_cookies()
        await log_in(page, live_server.url, world.emails["member"])
        await page.goto(f"{live_server.url}/portal")
        await expect(page.locator("#trend-phq9 figure svg").first).to_be_attached()
        report.append(_check(await page.evaluate(MEASURE), viewport, "member's portal"))
        await _no_sideways_scroll(page)
    finally:
        print("\n" + "\n".join(report))
        await context.close()


@pytest.mark.parametrize("viewport", WIDTHS)
async def test_closure_summary_chart_text_is_12px_or_more(live_server, db, browser, viewport):
    from tests.e2e.test_closure_browser import _finished_cohort

    facilitator, _member, enrollment = await _finished_cohort()
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    report = []
    try:
        await log_in(page, live_server.url, facilitator.email)
        await page.goto(f"{live_server.url}/cohorts/{enrollment.cohort_id}/summaries")
        await page.locator(f'tr[data-enrollment="{enrollment.id}"]').get_by_role(
            "button", name="Draft from the record").click()
        await page.wait_for_url("**/edit")
        await page.goto(page.url.removesuffix("/edit"))
        await expect(page.locator("figure.trend-chart svg").first).to_be_attached()
        found = await page.evaluate(MEASURE)
        report.append(_check(found, viewport, "closure summary"))
        await _no_sideways_scroll(page)
    finally:
        print("\n" + "\n".join(report))
        await context.close()
