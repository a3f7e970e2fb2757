"""Every page, as everyone who may see it, in a real browser (issue 20): axe-core finds no
WCAG 2 A/AA violation and nothing scrolls sideways, on a 1280x800 screen and on a phone.

The pages are the authorization table's GET rows (tests/integration/authz_rows), so a new
page is checked as soon as it has its row; path parameters are filled as the table fills
them. Each role is one signed-in page, moved from page to page (two roles at a time);
answers that are not an HTML document (feeds, downloads, JSON, fragments) are left out.
Besides each role's own pages: the live board and the room display once their socket is
live, an error page (404) as everyone, a refusal (403) as each role, the facilitator's board
with a timer running and offline with a mark waiting, and the home page, the board, the
display and the portal again in the dark colour scheme.

axe-core is the npm package (tests/js/package.json, `npm ci --prefix tests/js`), evaluated
into each page through Playwright, which the page's Content-Security-Policy does not govern.
"""
from __future__ import annotations

import asyncio
import functools
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import expect

from models.clinical import Goal, MeasureResponse
from tests.integration.authz_rows import DENY, OK, PUBLIC, all_rows
from tests.integration.test_authz_table import fill
from tests.support.browser import log_in
from tests.support.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

AXE = Path(__file__).resolve().parents[1] / "js" / "node_modules" / "axe-core" / "axe.min.js"
SCREEN = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# One person of each kind (another cohort's member or facilitator sees the same pages).
VISITORS = ("anon", "member", "facilitator", "supervisor", "coordinator")


@functools.cache
def _axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run `npm ci --prefix tests/js`")
    return AXE.read_text(encoding="utf-8")


def in_the_dark(where: str) -> bool:
    """Pages checked again with prefers-color-scheme: dark: home, the board and display, the portal."""
    return where in ("/", "/portal") or where.startswith("/boards/")


MISSING = "/no-such-page-here"
# The states issue 20 names, which must have been among the pages checked (by their row).
MUST_SEE = {
    "anon": {"/login", MISSING},
    "member": {"/portal", "/boards/{meeting_id}/display", "/summaries/{summary_id}", MISSING},
    "facilitator": {"/boards/{meeting_id}", "/boards/{meeting_id}/display", "/summaries/{summary_id}",
                    "/cohorts/{cohort_id}/outcomes", MISSING},
    "supervisor": {"/boards/{meeting_id}", "/supervision", MISSING},
    "coordinator": {"/", "/people", "/cohorts/{cohort_id}/outcomes", MISSING},
}


def pages_for(role: str) -> list:
    """The GET rows `role` may open; for anonymous visitors also those refused to them with a
    404 (an unknown link's error page). For a signed-in role, also the first row refused to
    them, for the 403 page."""
    chosen, refused = [], None
    for row in all_rows():
        if row.method != "GET" or row.path.startswith("/api/"):
            continue
        if role == "anon":
            if row.anon in (PUBLIC, DENY):
                chosen.append(row)
        elif row.expected(role) == OK:
            chosen.append(row)
        elif row.anon != PUBLIC and row.expected(role) == DENY and refused is None:
            refused = row
    return chosen + ([refused] if refused else [])


@pytest_asyncio.fixture(scope="module")
async def clinic(live_server, db):
    """The authorization table's small clinic, with what makes its pages full: a member's
    PHQ-9 from baseline over three sessions (trend charts, the outcome report), the group's
    and the member's goals."""
    built = await build_world(live_server.url)
    start = datetime.now(timezone.utc) - timedelta(days=35)
    for week, total in enumerate((17, 14, 11, 8)):
        items = [total // 9 + (1 if i < total % 9 else 0) for i in range(9)]
        await MeasureResponse.create(enrollment_id=built.enrollment.id, instrument="phq9", items=items, total=total,
                                     band="moderate" if total >= 10 else "mild", item9=0,
                                     window="baseline" if week == 0 else f"session-{week}",
                                     administered_at=start + timedelta(days=7 * week))
    await Goal.create(cohort_id=built.cohort.id, enrollment=None, text="We speak one at a time")
    await Goal.create(cohort_id=built.cohort.id, enrollment_id=built.enrollment.id, text="Call my sister each week")
    yield built
    await built.close()


async def _settle(page) -> None:
    """Past the loading states: a board's socket live (or the session closed)."""
    if await page.locator("#board #conn-status").count():
        await expect(page.locator("#conn-status")).to_have_text(re.compile(r"^(Live|Closed)$"), timeout=15000)
    await page.evaluate("document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => r())))")


async def _check(page, label: str) -> list[str]:
    """axe's violations, any sideways scrolling and any tab out of view, on the page as it is now."""
    problems = []
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(_axe_source())
    found = await page.evaluate("""tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
        .then(r => r.violations.map(v => ({id: v.id, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '), summary: n.failureSummary}))})))""", TAGS)
    for violation in found:
        for node in violation["nodes"]:
            problems.append(f"{label}: {violation['id']} ({violation['help']}) at {node['target']}: {node['summary']}")
    scroll, inner = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll > inner + 1:
        wide = await page.evaluate("""[...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(-4).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && e.className.baseVal === undefined ? '.' + e.className.trim().split(/\\s+/).join('.') : ''))""")
        problems.append(f"{label}: scrolls sideways ({scroll} > {inner}); widest: {', '.join(wide)}")
    # Nor does a row of tabs hide one of its tabs behind its own scrolling.
    for clipped in await page.evaluate("""[...document.querySelectorAll('[role=tablist]')]
            .filter(t => t.offsetParent !== null && t.scrollWidth > t.clientWidth + 1)
            .map(t => t.getAttribute('aria-label') + ' ' + t.scrollWidth + ' > ' + t.clientWidth)"""):
        problems.append(f"{label}: tabs cut off: {clipped}")
    return problems


async def _timing(page, label: str) -> list[str]:
    """The facilitator's board with the agenda timer running (and so the room display after it)."""
    problems = []
    await page.locator("#agenda").get_by_role("button", name="Start timer").click()
    await expect(page.locator("#agenda [role=timer]")).to_be_visible()
    for size, width in ((SCREEN, 1280), (PHONE, 390)):
        await page.set_viewport_size(size)
        problems += await _check(page, f"{label} the agenda timer running, at {width}")
    return problems


async def _offline(page, context, label: str) -> list[str]:
    """The facilitator's board with the network gone: still read and worked from (what is
    done waits in the outbox), so it must stay as readable as when live."""
    problems = []
    await context.set_offline(True)
    try:
        await expect(page.locator("#conn-status")).not_to_have_attribute("data-state", "live", timeout=15000)
        await page.locator("#att-%s" % await page.locator("#attendance [id^=att-]").first.evaluate("e => e.id.slice(4)")) \
            .get_by_role("button", name="Present").click()
        await page.locator("#outbox").wait_for(state="visible")
        for size, width in ((SCREEN, 1280), (PHONE, 390)):
            await page.set_viewport_size(size)
            problems += await _check(page, f"{label} offline, a mark waiting, at {width}")
    finally:
        await context.set_offline(False)
    return problems


@dataclass
class Walk:
    """What one person's walk through their pages found."""
    problems: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    templates: set[str] = field(default_factory=set)
    checked: int = 0
    seconds: float = 0.0


async def _walk(role: str, clinic, live_server, browser) -> Walk:
    """`role`'s pages, one after another in one signed-in page."""
    began = time.monotonic()
    walk = Walk()
    problems, errors, templates = walk.problems, walk.errors, walk.templates
    context = await browser.new_context(viewport=SCREEN)
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    seen: set[str] = set()
    try:
        if role != "anon":
            await log_in(page, live_server.url, clinic.email(role))
        visits = [(row.path, await fill(row, clinic)) for row in pages_for(role)]
        visits.append((MISSING, MISSING))
        for template, path in visits:
            # Only HTML documents: downloads, feeds and JSON are not pages.
            probe = await context.request.get(f"{live_server.url}{path}", max_redirects=5)
            if not probe.headers.get("content-type", "").startswith("text/html"):
                continue
            if not (await probe.text()).lstrip()[:15].lower().startswith("<!doctype html"):
                continue  # a fragment another page fetches
            await page.set_viewport_size(SCREEN)
            await page.goto(f"{live_server.url}{path}")
            final = urlsplit(page.url)
            where = final.path + (f"?{final.query}" if final.query else "")
            templates.add(template)  # checked, if not here then under the row that led to it first
            if where in seen:
                continue
            seen.add(where)
            await _settle(page)
            label = f"{role} {template} ({where})"
            # Installable from every page a person opens (the room's screen too); a printout is not one.
            if not await page.locator("link[rel=manifest]").count() and not await page.locator("body.print-page").count():
                problems.append(f"{label}: no web app manifest link")
            problems += await _check(page, f"{label} at 1280")
            await page.set_viewport_size(PHONE)
            problems += await _check(page, f"{label} at 390")
            if in_the_dark(where):
                await page.emulate_media(color_scheme="dark")
                problems += await _check(page, f"{label} dark, at 390")
                await page.set_viewport_size(SCREEN)
                problems += await _check(page, f"{label} dark, at 1280")
                await page.emulate_media(color_scheme="light")
            # The board's own facilitator (a coordinator's board is the same page; a supervisor's is read-only).
            if role == "facilitator" and await page.locator("#board[data-view=facilitator]").count():
                problems += await _timing(page, label)
                problems += await _offline(page, context, label)
            walk.checked += 1
    finally:
        await context.close()
        walk.seconds = time.monotonic() - began
    return walk


async def test_every_page_has_no_axe_violation_and_no_sideways_scroll(clinic, live_server, browser):
    """Two people's walks at a time (the browser's pages render in their own processes)."""
    began = time.monotonic()
    two = asyncio.Semaphore(2)

    async def walk(role: str) -> Walk:
        async with two:
            return await _walk(role, clinic, live_server, browser)

    walks = dict(zip(VISITORS, await asyncio.gather(*(walk(role) for role in VISITORS))))
    print(f"\n{sum(w.checked for w in walks.values())} pages in {time.monotonic() - began:.1f} s:",
          ", ".join(f"{role} {w.checked} in {w.seconds:.1f} s" for role, w in walks.items()))
    missed = {role: sorted(MUST_SEE[role] - w.templates) for role, w in walks.items() if MUST_SEE[role] - w.templates}
    assert not missed, f"not checked: {missed}"
    problems = [problem for w in walks.values() for problem in w.problems]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    errors = [error for w in walks.values() for error in w.errors]
    assert errors == [], errors
