"""Rough edges found by trying the platform end to end (issue 20), each pinned over a real server."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import uuid

from models.accounts import Role, User
from models.cohorts import Enrollment
from tests.integration.schedule_support import active_cohort, future_weekday
from tests.support.world import make_cohort, make_user, unique_email


async def test_moving_a_meeting_says_who_waits_in_the_outbox(world, live_server):
    made = await active_cohort(world, live_server, members=2, start=future_weekday(20, 4))
    s1 = next(m for m in made["meetings"] if m["kind"] == "group" and m["number"] == 1)
    client = await world.client("coordinator")
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date()
    page = await client.submit(f"/meetings/{s1['id']}/reschedule", {"date": tomorrow.isoformat(), "time": "20:30"}, follow_redirects=True)
    assert page.status_code == 200
    assert "Who was told" in page.text and "Waiting in the outbox (3)" in page.text
    assert "no mail server is set" in page.text and 'href="/outbox"' in page.text
    for person in [*made["members"], made["facilitator"]]:
        assert person.email in page.text
    assert "changed 1×" in page.text and "Calendar version" not in page.text
    cohort_page = await client.get(f"/cohorts/{made['id']}")
    assert "Version" not in cohort_page.text and "as planned" in cohort_page.text and "changed 1×" in cohort_page.text


async def test_a_change_weeks_away_says_nobody_was_emailed(world, live_server):
    made = await active_cohort(world, live_server, members=1, start=future_weekday(30, 0))
    s4 = next(m for m in made["meetings"] if m["kind"] == "group" and m["number"] == 4)
    client = await world.client("coordinator")
    page = await client.submit(f"/meetings/{s4['id']}/cancel", {"confirm": "yes"}, follow_redirects=True)
    assert page.status_code == 200 and "Nobody was e-mailed" in page.text


async def test_shifting_a_cohort_says_who_was_told(world, live_server):
    made = await active_cohort(world, live_server, members=1, start=future_weekday(20, 4))
    s1 = next(m for m in made["meetings"] if m["kind"] == "group" and m["number"] == 1)
    client = await world.client("coordinator")
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date()
    await client.submit(f"/meetings/{s1['id']}/reschedule", {"date": tomorrow.isoformat(), "time": "20:30"})
    page = await client.submit(f"/cohorts/{made['id']}/shift", {"cadences": "1"}, follow_redirects=True)
    assert page.status_code == 200 and "The schedule was changed." in page.text
    assert "Waiting in the outbox (2)" in page.text and made["members"][0].email in page.text


async def test_the_notices_of_a_change_are_shown_only_for_a_well_formed_range(world, live_server):
    made = await active_cohort(world, live_server, members=0, start=future_weekday(35, 1))
    s2 = next(m for m in made["meetings"] if m["kind"] == "group" and m["number"] == 2)
    client = await world.client("coordinator")
    for junk in ["x", "5-1", "1-99999", "-3"]:
        page = await client.get(f"/meetings/{s2['id']}", params={"notices": junk})
        assert page.status_code == 200 and "Who was told" not in page.text


async def test_enrolling_a_member_and_a_typed_person_at_once_is_refused(world, live_server):
    start = (datetime.now(timezone.utc) + timedelta(days=7)).date()
    cohort, _ = await make_cohort(world.template, f"Both {uuid.uuid4().hex[:6]}", world.users["facilitator"],
                                  start=start, capacity=8)
    existing = await make_user(Role.MEMBER, "Eve Existing")
    typed = unique_email("typed")
    client = await world.client("coordinator")
    page = await client.submit(f"/cohorts/{cohort.id}/enrollment", {
        "member_id": str(existing.id), "name": "Tia Typed", "email": typed, "status": "enrolled",
        "consent_at": (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "consent_method": "verbal_in_person", "consent_version": "1",
    })
    assert page.status_code == 400
    assert "Choose an existing member or type a new person, not both" in page.text
    assert 'id="enroll-form"' in page.text and 'value="Tia Typed"' in page.text
    assert await Enrollment.filter(cohort_id=cohort.id).count() == 0
    assert not await User.filter(email=typed).exists()
