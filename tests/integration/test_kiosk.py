"""Measures on a shared tablet: kiosk mode (issue 16), on SQLite and PostgreSQL."""
from __future__ import annotations

import re

from models.clinical import MeasureResponse, SafetyItem
from models.reminders import KioskSession
from server.web.templating import templates  # noqa: F401  (the app's import order)
from tests.integration.test_reminders import group_soon
from server import accounts
from tests.support.clients import Browserish, bearer, logged_in
from tests.support.world import PASSWORD

CODE = re.compile(r"Your code[^<]*: <strong>(\d{4})</strong>")


def answers(instrument: str, item9: int = 0) -> dict[str, str]:
    n = 9 if instrument == "phq9" else 7
    form = {f"item{i}": "1" for i in range(1, n + 1)}
    if instrument == "phq9":
        form["item9"] = str(item9)
    form["difficulty"] = "1"
    return form


async def _code_on_portal(base_url: str, email: str) -> str:
    member = await logged_in(base_url, email, PASSWORD)
    try:
        return CODE.search((await member.get("/portal")).text).group(1)
    finally:
        await member.aclose()


async def test_a_member_unlocks_the_tablet_with_their_code_answers_and_it_locks_again(live_server, db):
    cohort, _, enrollments, facilitator = await group_soon(30, members=2)
    tablet = await logged_in(live_server.url, facilitator.email, PASSWORD)
    try:
        refused = await tablet.submit(f"/cohorts/{cohort.id}/kiosk", {})
        assert refused.status_code == 400 and not await KioskSession.filter(cohort_id=cohort.id).exists()
        opened = await tablet.submit(f"/cohorts/{cohort.id}/kiosk", {"confirm": "yes"})
        assert opened.status_code == 303 and opened.headers["location"] == "/kiosk"
        # The tablet is no longer signed in as the facilitator.
        staff_page = await tablet.get(f"/cohorts/{cohort.id}")
        assert staff_page.status_code == 303 and staff_page.headers["location"].startswith("/login")
        page = await tablet.get("/kiosk")
        assert page.status_code == 200 and 'id="code"' in page.text
        for e in enrollments:
            assert e.member.display_name not in page.text
        first, second = [await _code_on_portal(live_server.url, e.member.email) for e in enrollments]
        _, token = await accounts.create_api_token(facilitator, "tests")
        async with bearer(live_server.url, token) as api:
            listed = (await api.get(f"/api/v1/cohorts/{cohort.id}/kiosk")).json()
        assert listed["open"] and [c["code"] for c in listed["codes"]] == [first, second]
        wrong = await tablet.submit("/kiosk", {"code": "abcd"})
        assert wrong.status_code == 400 and "not right" in wrong.text
        unlocked = await tablet.submit("/kiosk", {"code": first})
        assert unlocked.status_code == 303 and unlocked.headers["location"] == "/kiosk/questionnaire"
        form = await tablet.get("/kiosk/questionnaire")
        assert form.status_code == 200 and f"Hello {enrollments[0].member.first_name}" in form.text
        assert enrollments[1].member.first_name not in form.text
        instrument = (await KioskSession.get(cohort_id=cohort.id)).instrument
        sent = await tablet.submit("/kiosk/questionnaire", answers(instrument, item9=1))
        assert sent.status_code == 200 and 'id="kiosk-done"' in sent.text
        (response,) = await MeasureResponse.filter(enrollment_id=enrollments[0].id)
        assert response.instrument == instrument and response.entered_by_id == enrollments[0].member_id
        if instrument == "phq9":  # the same safety path as any other answer
            assert await SafetyItem.filter(enrollment_id=enrollments[0].id).exists()
        # Locked again: the form is gone until the next code.
        again = await tablet.get("/kiosk/questionnaire")
        assert again.status_code == 303 and again.headers["location"] == "/kiosk"
        assert (await tablet.submit("/kiosk", {"code": second})).status_code == 303
        assert enrollments[0].member.first_name not in (await tablet.get("/kiosk/questionnaire")).text
    finally:
        await tablet.aclose()


async def test_five_wrong_codes_close_the_kiosk(live_server, db):
    cohort, _, _, facilitator = await group_soon(30, members=1)
    tablet = await logged_in(live_server.url, facilitator.email, PASSWORD)
    try:
        await tablet.submit(f"/cohorts/{cohort.id}/kiosk", {"confirm": "yes"})
        statuses = [(await tablet.submit("/kiosk", {"code": f"{n:04d}"})).status_code for n in range(5)]
        kiosk = await KioskSession.get(cohort_id=cohort.id)
        # A guess may hit the member's code by chance (1 in 10,000 each): then the rest are not tried.
        if 303 not in statuses:
            assert statuses[:4] == [400] * 4 and statuses[4] == 403 and kiosk.ended_at is not None
            assert (await tablet.get("/kiosk")).status_code == 404
    finally:
        await tablet.aclose()


async def test_the_tablet_pages_need_an_open_kiosk(live_server, db):
    async with Browserish(live_server.url) as stranger:
        stranger.cookies.set("groupipt_kiosk", "made-up", path="/kiosk")
        assert (await stranger.get("/kiosk")).status_code == 404
        assert (await stranger.get("/kiosk/questionnaire")).status_code == 404
