"""The member portal over a real server: own meetings, measures due, goals, trends; nothing
about any other member."""
from __future__ import annotations

import uuid

import pytest

from models.accounts import Role
from models.clinical import Goal, GoalProgress, MeasureResponse, SafetyItem
from models.cohorts import Enrollment, EnrollmentStatus
from tests.support.clients import logged_in
from tests.support.world import PASSWORD, make_user

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def member_with_neighbour(world):
    me = await make_user(Role.MEMBER, f"Rosa {uuid.uuid4().hex[:4].upper()}")
    neighbour = await make_user(Role.MEMBER, f"Sven {uuid.uuid4().hex[:4].upper()}")
    mine = await Enrollment.create(cohort=world.cohort, member=me, status=EnrollmentStatus.ENROLLED)
    theirs = await Enrollment.create(cohort=world.cohort, member=neighbour, status=EnrollmentStatus.ENROLLED)
    await Goal.create(cohort=world.cohort, enrollment=mine, text="Ask my brother for help once a week")
    their_goal = await Goal.create(cohort=world.cohort, enrollment=theirs, text="Neighbour's private goal")
    await GoalProgress.create(goal=their_goal, rating=3, note="neighbour's private note")
    await MeasureResponse.create(enrollment=theirs, instrument="phq9", items=[3] * 8 + [2], total=26, band="severe",
                                 item9=2, window="baseline", administered_at=world.meetings[0].starts_at)
    await SafetyItem.create(enrollment=theirs, item9=2)
    return me, neighbour, mine


async def test_portal_shows_own_meetings_measures_and_goals(world):
    me, neighbour, mine = await member_with_neighbour(world)
    client = await logged_in(world.base_url, me.email, PASSWORD)
    try:
        page = await client.get("/portal")
        assert page.status_code == 200
        text = page.text
        assert "Group session 5 of 8" in text or "Group session 4 of 8" in text
        assert "Room: Room 2" in text
        assert "Fill in the PHQ-9" in text
        assert "Ask my brother for help once a week" in text
        # Nothing about anyone else, and no staff-only names of the cohort.
        for secret in (neighbour.display_name, "Neighbour's private goal", "neighbour's private note",
                       world.users["member"].display_name, world.cohort.name):
            assert secret not in text
        await client.submit("/portal/measures/phq9", {f"item{n}": "1" for n in range(1, 10)})
        after = await client.get("/portal")
        assert 'id="trend-phq9"' in after.text and "PHQ-9 over time" in after.text
        assert "overlapping periods" in after.text
        assert neighbour.display_name not in after.text and ">26<" not in after.text
    finally:
        await client.aclose()


async def test_staff_have_no_portal_and_members_no_staff_pages(world):
    facilitator = await world.client("facilitator")
    assert (await facilitator.get("/portal")).status_code == 403
    member = await world.client("member")
    for path in (f"/cohorts/{world.cohort.id}/measures", f"/enrollments/{world.enrollment.id}/measures",
                 f"/enrollments/{world.enrollment.id}/intake", "/safety",
                 f"/cohorts/{world.cohort.id}/enrollment"):
        assert (await member.get(path)).status_code in (403, 404), path


async def test_waitlisted_member_sees_a_calm_waitlist_note_and_no_questionnaire(world):
    me = await make_user(Role.MEMBER, "Tia Waiting")
    from datetime import datetime, timezone

    await Enrollment.create(cohort=world.other_cohort, member=me, status=EnrollmentStatus.WAITLISTED,
                            waitlisted_at=datetime.now(timezone.utc))
    client = await logged_in(world.base_url, me.email, PASSWORD)
    try:
        page = await client.get("/portal")
        assert "You are on the waitlist for this group (number 1 in line)" in page.text
        assert "Fill in the" not in page.text
        refused = await client.get("/portal/measures/phq9")
        assert refused.status_code == 409
    finally:
        await client.aclose()


async def test_coordinator_start_page_and_dashboard_show_fill_and_safety(world):
    coordinator = await world.client("coordinator")
    page = await coordinator.get("/", params={"name": world.cohort.name})  # the session's cohorts are many
    assert page.status_code == 200
    assert world.cohort.name in page.text and "Open safety items" in page.text
