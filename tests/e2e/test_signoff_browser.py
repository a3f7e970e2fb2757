"""In a real browser, the sign-off round trip (issue 17): the facilitator submits a closure
summary, the supervisor returns it with a comment, the facilitator reads the comment, edits
and submits again, the supervisor approves, the facilitator finalizes. Finalizing before
the approval is refused and changes nothing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from models.accounts import Role
from models.closure import ClosureSummary, SummaryStatus
from models.cohorts import ProtocolTemplate
from models.supervision import Supervision
from server import accounts
from tests.support.browser import log_in
from tests.support.clients import bearer
from tests.support.world import enroll, make_cohort, make_template, make_user

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

COMMENT = "Section 8: name who she will call first when the warning signs start."


async def _written_summary(base_url: str):
    facilitator = await make_user(Role.FACILITATOR, "Femi Browserfacilitator")
    supervisor = await make_user(Role.FACILITATOR, "Sola Browsersupervisor")
    member = await make_user(Role.MEMBER, "Moyo Browsermember")
    await Supervision.create(supervisor=supervisor, facilitator=facilitator)
    template = await make_template()
    await ProtocolTemplate.filter(id=template.id).update(requires_signoff=True)
    start = (datetime.now(timezone.utc) - timedelta(days=7 * 8 + 2)).date()
    cohort, _ = await make_cohort(template, "Browser sign-off group", facilitator, start=start)
    enrollment = await enroll(cohort, member)
    _, token = await accounts.create_api_token(facilitator, "tests")
    async with bearer(base_url, token) as api:
        drafted = await api.post(f"/api/v1/enrollments/{enrollment.id}/summaries")
        assert drafted.status_code == 201, drafted.text
        summary_id = drafted.json()["id"]
        written = await api.patch(f"/api/v1/summaries/{summary_id}", json={
            "warning_signs": "Cancelling plans two weekends running.", "who_to_tell": "My aunt.",
            "relapse_strategies": "Keep the Sunday call; walk after work.", "next_step_kind": "maintenance",
        })
        assert written.status_code == 200, written.text
    return facilitator, supervisor, member, summary_id


async def test_the_sign_off_round_trip(live_server, db, browser):
    facilitator, supervisor, member, sid = await _written_summary(live_server.url)
    base = live_server.url
    staff = await browser.new_context()
    fpage = await staff.new_page()
    await log_in(fpage, base, facilitator.email)
    clinician = await browser.new_context(viewport={"width": 390, "height": 844})  # the supervisor, on a phone
    spage = await clinician.new_page()
    await log_in(spage, base, supervisor.email)

    # The facilitator finishes the summary and submits it.
    await fpage.goto(f"{base}/summaries/{sid}/edit")
    assert await fpage.get_by_role("button", name="Save and finalize").count() == 0
    await fpage.get_by_role("button", name="Save and submit for sign-off").click()
    await fpage.wait_for_url(f"**/summaries/{sid}?done=submitted")
    assert "Awaiting sign-off" in await fpage.get_by_test_id("signoff-status").inner_text()

    # A finalize sent before the approval (a form left open in another tab) is refused.
    await fpage.evaluate("""(id) => {
        const form = document.createElement("form");
        form.method = "post"; form.action = `/summaries/${id}/finalize`;
        const token = document.querySelector("input[name=csrftoken]").cloneNode();
        form.append(token); document.body.append(form); form.submit();
    }""", sid)
    await fpage.wait_for_load_state("networkidle")
    assert "awaiting a supervisor's sign-off" in await fpage.locator("main").inner_text()
    assert (await ClosureSummary.get(id=sid)).status == SummaryStatus.AWAITING_SIGNOFF

    # The supervisor finds it in their list and returns it with a comment.
    await spage.goto(f"{base}/supervision/sign-off")
    await spage.get_by_role("link", name="Read and sign off").click()
    await spage.wait_for_url(f"**/summaries/{sid}")
    assert "Cancelling plans two weekends running." in await spage.locator("main").inner_text()  # read-only
    assert await spage.get_by_role("link", name="Edit the draft").count() == 0
    await spage.get_by_role("button", name="Return with this comment").click()
    # The browser itself refuses an empty comment (required); nothing was sent.
    assert (await ClosureSummary.get(id=sid)).status == SummaryStatus.AWAITING_SIGNOFF
    await spage.get_by_label("What needs to change").fill(COMMENT)
    await spage.get_by_role("button", name="Return with this comment").click()
    await spage.wait_for_url(f"**/summaries/{sid}?done=returned")
    assert await spage.get_by_text("Returned to the facilitator with your comment.").is_visible()

    # The facilitator reads the comment, edits, and submits again.
    await fpage.goto(f"{base}/summaries/{sid}/edit")
    assert COMMENT in await fpage.locator("#return-comment").inner_text()
    await fpage.get_by_role("textbox", name="Supports and allies").fill("My aunt first, then my neighbour.")
    await fpage.get_by_role("button", name="Save and submit for sign-off again").click()
    await fpage.wait_for_url(f"**/summaries/{sid}?done=submitted")
    assert await fpage.get_by_role("button", name="Finalize and give to the member").count() == 0

    # The supervisor approves.
    await spage.goto(f"{base}/supervision/sign-off")
    await spage.get_by_role("link", name="Read and sign off").click()
    assert "My aunt first, then my neighbour." in await spage.locator("main").inner_text()
    await spage.get_by_role("button", name="Approve").click()
    await spage.wait_for_url(f"**/summaries/{sid}?done=approved")
    await spage.goto(f"{base}/supervision/sign-off")
    assert await spage.get_by_text("Nothing is awaiting your sign-off.").is_visible()

    # The facilitator finalizes; the steps, the comment included, stay on the page.
    await fpage.goto(f"{base}/summaries/{sid}")
    await fpage.get_by_role("button", name="Finalize and give to the member").click()
    await fpage.wait_for_url(f"**/summaries/{sid}?done=finalized")
    assert await fpage.get_by_text("The summary is finalized").is_visible()
    history = await fpage.get_by_test_id("signoff-history").inner_text()
    for step in ("Submitted for sign-off", "Returned with a comment", COMMENT, "Approved", "Finalized after sign-off"):
        assert step in history, step
    assert (await ClosureSummary.get(id=sid)).status == SummaryStatus.FINALIZED
    await staff.close()
    await clinician.close()
