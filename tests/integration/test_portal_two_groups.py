"""A member enrolled in two groups: each questionnaire due is its own link, and an answer is
stored for exactly the group and occasion it was given for (issue 13). Over a real server
with a real httpx client."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from models.accounts import Role
from models.clinical import MeasureResponse
from server.portal import WEEKDAYS
from tests.support.clients import bearer, logged_in
from tests.support.world import PASSWORD, enroll, make_cohort, make_user

pytestmark = pytest.mark.asyncio(loop_scope="session")

LINK = re.compile(r'href="(/portal/enrollments/(\d+)/measures/(phq9|gad7)/([a-z0-9-]+))"')


def answers(value: int, count: int = 9) -> dict[str, str]:
    return {f"item{n}": str(value) for n in range(1, count + 1)}


async def member_in_two_groups(world):
    member = await make_user(Role.MEMBER, "Pia Twogroups")
    today = datetime.now(timezone.utc).date()
    monday, _ = await make_cohort(world.template, "Two-group test A", world.users["facilitator"],
                                  start=today - timedelta(days=21))
    thursday, _ = await make_cohort(world.template, "Two-group test B", world.users["facilitator"],
                                    start=today - timedelta(days=19))
    first = await enroll(monday, member)
    second = await enroll(thursday, member)
    return member, first, second


async def stored(enrollment_id: int, instrument: str = "phq9") -> list[MeasureResponse]:
    return await MeasureResponse.filter(enrollment_id=enrollment_id, instrument=instrument).order_by("id")


async def test_each_group_has_its_own_link_and_the_answer_is_stored_there(world):
    member, first, second = await member_in_two_groups(world)
    client = await logged_in(world.base_url, member.email, PASSWORD)
    try:
        portal = await client.get("/portal")
        assert portal.status_code == 200
        links = {(int(e), i, o): path for path, e, i, o in LINK.findall(portal.text)}
        phq9 = {key: path for key, path in links.items() if key[1] == "phq9"}
        # Two "Fill in the PHQ-9" links, one per group, each naming its enrollment and occasion.
        assert sorted(e for e, _, _ in phq9) == sorted([first.id, second.id])
        assert len(set(phq9.values())) == 2
        assert portal.text.count("Fill in the PHQ-9") == 2
        for enrollment in (first, second):  # the two groups are told apart by when they meet
            assert f"Group session ({WEEKDAYS[enrollment.cohort.weekday]} at 18:00)" in portal.text

        # The old link is ambiguous now: it asks which group, and storing through it is refused.
        choose = await client.get("/portal/measures/phq9", follow_redirects=False)
        assert choose.status_code == 200 and "Which group is this PHQ-9 for?" in choose.text
        assert all(path in choose.text for path in phq9.values())
        refused = await client.submit("/portal/measures/phq9", answers(1))
        assert refused.status_code == 409 and "Nothing was saved" in refused.text
        assert await stored(first.id) == [] and await stored(second.id) == []

        # The second group's link stores the answer for the second group's own occasion.
        [(second_key, second_path)] = [(k, p) for k, p in phq9.items() if k[0] == second.id]
        form = await client.get(second_path)
        assert form.status_code == 200 and f'action="{second_path}"' in form.text
        done = await client.submit(second_path, answers(2))
        assert done.status_code == 200, done.text[:400]
        assert "Your PHQ-9 total is 18 out of 27" in done.text
        [answer] = await stored(second.id)
        assert (answer.total, answer.window) == (18, second_key[2])
        assert await stored(first.id) == []  # was: stored as the first group's baseline

        again = await client.submit(second_path, answers(1))
        assert again.status_code == 409 and "already answered" in again.text
        assert len(await stored(second.id)) == 1

        # Now only the first group's PHQ-9 is open: the old link means exactly that one.
        [(first_key, first_path)] = [(k, p) for k, p in phq9.items() if k[0] == first.id]
        unspecific = await client.get("/portal/measures/phq9", follow_redirects=False)
        assert unspecific.status_code == 200 and f'action="{first_path}"' in unspecific.text
        old_client = await client.submit("/portal/measures/phq9", answers(0))
        assert old_client.status_code == 200
        [first_answer] = await stored(first.id)
        assert (first_answer.total, first_answer.window) == (0, first_key[2])
        assert len(await stored(second.id)) == 1

        # Each group's GAD-7 is its own link too, and stays apart.
        gad7 = {key: path for key, path in links.items() if key[1] == "gad7"}
        assert sorted(e for e, _, _ in gad7) == sorted([first.id, second.id])
        gad_first = next(p for k, p in gad7.items() if k[0] == first.id)
        assert (await client.submit(gad_first, answers(1, 7))).status_code == 200
        assert [r.total for r in await stored(first.id, "gad7")] == [7]
        assert await stored(second.id, "gad7") == []
    finally:
        await client.aclose()


async def test_a_link_serves_only_its_own_member_and_real_occasions(world):
    member, first, second = await member_in_two_groups(world)
    mine = f"/portal/enrollments/{first.id}/measures/phq9/baseline"
    other = await world.client("other_member")
    assert (await other.get(mine)).status_code == 404
    assert (await other.submit(mine, answers(1))).status_code == 404
    assert await stored(first.id) == []

    client = await logged_in(world.base_url, member.email, PASSWORD)
    try:
        for path in (f"/portal/enrollments/{first.id}/measures/phq9/session-99",
                     f"/portal/enrollments/{first.id}/measures/bdi/baseline",
                     f"/portal/enrollments/{world.enrollment.id}/measures/phq9/baseline",
                     "/portal/enrollments/99999999999/measures/phq9/baseline"):
            assert (await client.get(path)).status_code == 404, path
            assert (await client.submit(path, answers(1))).status_code == 404, path
        # An occasion that is not open now is refused, not stored on whichever one is open.
        later = await client.get(f"/portal/enrollments/{first.id}/measures/phq9/closure")
        assert later.status_code == 409 and "not open now" in later.text
        assert (await client.submit(f"/portal/enrollments/{first.id}/measures/phq9/closure", answers(1))).status_code == 409
        # Bad answers: a clear 400 that keeps the form and stores nothing.
        bad = await client.submit(mine, {"item1": "7"})
        assert bad.status_code == 400 and "Please answer item 2" in bad.text
        assert await stored(first.id) == [] and await stored(second.id) == []
    finally:
        await client.aclose()

    # The API answers for the enrollment in its path; a member naming another occasion is refused.
    async with bearer(world.base_url, await _member_token(member)) as api:
        url = f"/api/v1/enrollments/{second.id}/measures"
        wrong = await api.post(url, json={"instrument": "phq9", "items": [1] * 9, "window": "closure"})
        assert wrong.status_code == 409 and wrong.json()["code"] == "occasion_closed"
        right = await api.post(url, json={"instrument": "phq9", "items": [1] * 9})
        assert right.status_code == 201
    assert [r.total for r in await stored(second.id)] == [9] and await stored(first.id) == []


async def _member_token(member) -> str:
    from server import accounts

    _, secret = await accounts.create_api_token(member, "two groups")
    return secret


async def test_an_answer_for_an_occasion_that_closed_is_not_moved_to_another(world):
    from models.cohorts import Enrollment

    member = await make_user(Role.MEMBER, "Oli Lateform")
    cohort, meetings = await make_cohort(world.template, "Closed-window group", world.users["facilitator"])
    enrollment = await enroll(cohort, member)
    # Enrolled before session 1: the baseline belonged to session 1 and closed three weeks ago.
    await Enrollment.filter(id=enrollment.id).update(created_at=meetings[0].starts_at - timedelta(days=3))
    client = await logged_in(world.base_url, member.email, PASSWORD)
    try:
        baseline_link = f"/portal/enrollments/{enrollment.id}/measures/phq9/baseline"
        page = await client.submit(baseline_link, answers(2))
        assert page.status_code == 409
        assert "not open now; the one open now is for before session" in page.text
        # The form comes back for the occasion open now, with the answers kept, and nothing stored.
        assert f'action="/portal/enrollments/{enrollment.id}/measures/phq9/session-' in page.text
        assert page.text.count('value="2" required checked') == 9
        assert await stored(enrollment.id) == []
    finally:
        await client.aclose()
