"""In a real browser: a facilitator drafts, edits and finalizes a closure summary; the
member logs in, reads it and downloads the PDF."""
from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from models.board import Attendance, AttendanceStatus
from models.clinical import Goal, GoalProgress, GoalStatus, MeasureResponse
from models.cohorts import Meeting, MeetingStatus
from server.measures import instruments
from tests.support.browser import log_in
from tests.support.world import enroll, make_cohort, make_template, make_user

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

def pdf_text(pdf: bytes) -> str:
    """The PDF's text as poppler's pdftotext reads it, whitespace folded (a real reader, not ours)."""
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(result.stdout.decode("utf-8").split())


GOAL = "Ask my brother for help with the move"


async def _finished_cohort():
    facilitator = await make_user("facilitator", "Farah Browser")
    member = await make_user("member", "Milo Browser")
    other = await make_user("member", "Olive Quist")
    template = await make_template()
    start = (datetime.now(timezone.utc) - timedelta(days=7 * 8 + 1)).date()
    cohort, meetings = await make_cohort(template, "Browser group", facilitator, start=start)
    await Meeting.filter(cohort_id=cohort.id).update(status=MeetingStatus.COMPLETED)
    enrollment = await enroll(cohort, member)
    await enroll(cohort, other)
    goal = await Goal.create(cohort=cohort, enrollment=enrollment, text=GOAL, status=GoalStatus.ACHIEVED)
    for meeting in meetings:
        await Attendance.create(meeting=meeting, enrollment=enrollment,
                                status=AttendanceStatus.ABSENT_NOTIFIED if meeting.number == 2 else AttendanceStatus.PRESENT)
    await GoalProgress.create(goal=goal, meeting=meetings[3], rating=2)
    await GoalProgress.create(goal=goal, meeting=meetings[7], rating=4, status=GoalStatus.ACHIEVED)
    for meeting, total in ((meetings[0], 15), (meetings[7], 4)):
        score = instruments.score("phq9", [min(3, max(0, total - 3 * i)) for i in range(8)] + [0])
        await MeasureResponse.create(
            enrollment=enrollment, instrument="phq9", items=list(score.items), total=score.total,
            band=score.band.key, item9=0, meeting=meeting, window=f"session-{meeting.number}",
            administered_at=meeting.starts_at,
        )
    return facilitator, member, enrollment


async def test_facilitator_finalizes_and_member_reads_and_downloads(live_server, db, browser):
    facilitator, member, enrollment = await _finished_cohort()
    base = live_server.url

    staff = await browser.new_context()
    page = await staff.new_page()
    await log_in(page, base, facilitator.email)
    await page.goto(f"{base}/cohorts/{enrollment.cohort_id}/summaries")
    row = page.locator(f'tr[data-enrollment="{enrollment.id}"]')
    await row.get_by_role("button", name="Draft from the record").click()
    await page.wait_for_url("**/edit")
    assert "7 of 8 held" in await page.locator("[data-testid=attendance]").first.text_content()

    await page.get_by_role("textbox", name=GOAL).fill("I asked him and he helped me pack.")
    await page.get_by_role("textbox", name="Areas still needing work").fill("Asking for help before I am exhausted.")
    await page.get_by_role("textbox", name="Personal warning signs").fill("Not answering the phone for days.")
    await page.get_by_role("textbox", name="Who the member will tell").fill("My brother.")
    await page.get_by_role("textbox", name="Strategies that help").fill("A walk every morning; one call a day.")
    await page.get_by_role("textbox", name="Supports and allies").fill("Brother, neighbour, GP.")
    await page.get_by_role("textbox", name="When and where to seek help").fill("GP if low for two weeks.")
    await page.get_by_label("Next step", exact=True).select_option("maintenance")
    await page.get_by_role("button", name="Save draft").click()
    await page.wait_for_url("**/edit?saved=1")
    assert await page.get_by_text("Saved.").is_visible()

    await page.get_by_role("button", name="Save and finalize").click()
    await page.wait_for_url("**?done=finalized")
    assert await page.get_by_text("The summary is finalized").is_visible()
    assert await page.get_by_text("10. Safety items (facilitators only)").is_visible()
    await staff.close()

    mine = await browser.new_context(accept_downloads=True, viewport={"width": 390, "height": 844})  # a phone
    page = await mine.new_page()
    await log_in(page, base, member.email)
    await page.goto(f"{base}/portal/summaries")
    await page.get_by_role("link", name="Read").click()
    await page.wait_for_load_state("networkidle")
    body = await page.locator("main").inner_text()
    assert GOAL in body and "I asked him and he helped me pack." in body
    assert "Safety items" not in body and "Olive" not in body
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download PDF").click()
    download = await info.value
    path = await download.path()
    text = pdf_text(open(path, "rb").read())
    assert GOAL in text and "Maintenance or continuation contract" in text
    assert "Safety items" not in text and "Olive" not in text
    await mine.close()
