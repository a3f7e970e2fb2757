"""Supervisors in the pages, the API and the start page (issue 17).

A coordinator sets who supervises whom (a person's page, /api/v1/users/{id}/supervisees); a
supervisor reads the supervised cohorts, read-only, and sees them on the start page. The
world's "supervisor" supervises cohort A's facilitator.
"""
from __future__ import annotations

from datetime import UTC, datetime

from models.accounts import Role
from models.clinical import MeasureResponse, SafetyItem
from models.supervision import Supervision
from server import dashboard
from tests.support.clients import bearer
from tests.support.world import make_user

READ_ONLY_NOTE = "You supervise this cohort (read-only)"


async def _open_item(world) -> SafetyItem:
    response = await MeasureResponse.create(
        enrollment_id=world.enrollment.id, instrument="phq9", items=[1, 1, 1, 1, 1, 1, 1, 1, 1], total=9,
        band="mild", item9=1, window="supervisors", administered_at=datetime.now(UTC))
    return await SafetyItem.create(enrollment_id=world.enrollment.id, response=response, item9=1)


# --- a coordinator sets who supervises whom -------------------------------------------------

async def test_the_person_page_sets_supervisees_and_the_people_list_says_so(world):
    clinician = await make_user(Role.FACILITATOR, "Priya Clinician")
    lay_a = await make_user(Role.FACILITATOR, "Ana Lay")
    lay_b = await make_user(Role.FACILITATOR, "Bo Lay")
    coordinator = await world.client("coordinator")

    page = await coordinator.get(f"/people/{clinician.id}")
    assert page.status_code == 200
    assert f'id="supervisee-{lay_a.id}"' in page.text and f'id="supervisee-{clinician.id}"' not in page.text

    saved = await coordinator.submit(f"/people/{clinician.id}/supervisees",
                                     {"facilitator_ids": [str(lay_a.id), str(lay_b.id)]})
    assert saved.status_code == 200 and "now supervises Ana Lay, Bo Lay" in saved.text
    assert sorted(await Supervision.filter(supervisor_id=clinician.id).values_list("facilitator_id", flat=True)) \
        == sorted([lay_a.id, lay_b.id])

    people = await coordinator.get("/people", params={"q": clinician.email})
    assert "supervises 2" in people.text
    people = await coordinator.get("/people", params={"q": lay_a.email})
    assert "supervised by Priya Clinician" in people.text

    lay_page = await coordinator.get(f"/people/{lay_a.id}")
    assert "Supervised by Priya Clinician" in lay_page.text

    cleared = await coordinator.submit(f"/people/{clinician.id}/supervisees", {})
    assert cleared.status_code == 200 and "supervises nobody now" in cleared.text
    assert not await Supervision.filter(supervisor_id=clinician.id).exists()


async def test_refused_supervision_forms_say_why_and_change_nothing(world):
    coordinator_user = world.users["coordinator"]  # a coordinator who is not marked a clinician
    lay = await make_user(Role.FACILITATOR, "Cy Lay")
    clinician = await make_user(Role.FACILITATOR, "Dee Clinician")
    await Supervision.create(supervisor=clinician, facilitator=lay)
    coordinator = await world.client("coordinator")

    not_clinician = await coordinator.submit(f"/people/{coordinator_user.id}/supervisees",
                                             {"facilitator_ids": str(lay.id)})
    assert not_clinician.status_code == 400 and "not marked as a clinician" in not_clinician.text
    assert not await Supervision.filter(supervisor_id=coordinator_user.id).exists()

    a_member = await coordinator.submit(f"/people/{clinician.id}/supervisees",
                                        {"facilitator_ids": [str(lay.id), str(world.users["member"].id)]})
    assert a_member.status_code == 400 and "must be an active facilitator" in a_member.text
    themself = await coordinator.submit(f"/people/{clinician.id}/supervisees", {"facilitator_ids": str(clinician.id)})
    assert themself.status_code == 400 and "Nobody supervises themself" in themself.text
    for garbage in ("seven", "99999999999999999999", "-1", "²"):
        answer = await coordinator.submit(f"/people/{clinician.id}/supervisees", {"facilitator_ids": garbage})
        assert answer.status_code == 400 and "Choose facilitators from the list" in answer.text, garbage
    assert await Supervision.filter(supervisor_id=clinician.id).values_list("facilitator_id", flat=True) == [lay.id]

    facilitator = await world.client("facilitator")
    denied = await facilitator.submit(f"/people/{clinician.id}/supervisees", {})
    assert denied.status_code == 403
    assert await Supervision.filter(supervisor_id=clinician.id).exists()


async def test_the_api_reads_and_replaces_supervisees(world):
    clinician = await make_user(Role.FACILITATOR, "Eve Clinician")
    lay = await make_user(Role.FACILITATOR, "Fin Lay")
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        empty = await api.get(f"/api/v1/users/{clinician.id}/supervisees")
        assert empty.status_code == 200 and empty.json()["facilitator_ids"] == []

        put = await api.put(f"/api/v1/users/{clinician.id}/supervisees", json={"facilitator_ids": [lay.id]})
        assert put.status_code == 200, put.text
        assert put.json() == {"supervisor_id": clinician.id, "facilitator_ids": [lay.id],
                              "facilitators": [{"id": lay.id, "name": "Fin Lay"}]}
        assert (await api.get(f"/api/v1/users/{clinician.id}/supervisees")).json()["facilitator_ids"] == [lay.id]

        broken = await api.put(f"/api/v1/users/{clinician.id}/supervisees",
                               json={"facilitator_ids": [world.users["member"].id]})
        assert broken.status_code == 422 and "active facilitator" in broken.json()["detail"]
        malformed = await api.put(f"/api/v1/users/{clinician.id}/supervisees", json={"facilitator_ids": ["x"]})
        assert malformed.status_code == 400 and "facilitator_ids.0" in malformed.json().get("fields", {})
        nobody = await api.put("/api/v1/users/999999/supervisees", json={"facilitator_ids": []})
        assert nobody.status_code == 404
        assert (await api.get(f"/api/v1/users/{clinician.id}/supervisees")).json()["facilitator_ids"] == [lay.id]

        document = (await api.get("/api/v1/openapi.json")).json()
        operations = document["paths"]["/api/v1/users/{user_id}/supervisees"]
        assert set(operations) >= {"get", "put"}
        assert "requestBody" in operations["put"] and "422" in operations["put"]["responses"]

    async with bearer(world.base_url, world.tokens["supervisor"]) as api:
        assert (await api.put(f"/api/v1/users/{clinician.id}/supervisees",
                              json={"facilitator_ids": []})).status_code == 403
    assert await Supervision.filter(supervisor_id=clinician.id).exists()


# --- a supervisor reads, read-only ----------------------------------------------------------

async def test_a_supervisor_reads_the_cohort_pages_with_no_edit_controls(world):
    supervisor = await world.client("supervisor")
    cohort = await supervisor.get(f"/cohorts/{world.cohort.id}")
    assert cohort.status_code == 200 and READ_ONLY_NOTE in cohort.text
    meeting = await supervisor.get(f"/meetings/{world.meetings[3].id}")
    assert meeting.status_code == 200 and READ_ONLY_NOTE in meeting.text and "Observe the live board" in meeting.text
    roster = await supervisor.get(f"/cohorts/{world.cohort.id}/enrollment")
    assert roster.status_code == 200 and READ_ONLY_NOTE in roster.text and 'id="enroll-form"' not in roster.text
    record = await supervisor.get(f"/enrollments/{world.enrollment.id}")
    assert record.status_code == 200 and READ_ONLY_NOTE in record.text and 'id="status-form"' not in record.text
    measures = await supervisor.get(f"/enrollments/{world.enrollment.id}/measures")
    assert measures.status_code == 200 and READ_ONLY_NOTE in measures.text
    assert "Enter a PHQ-9" not in measures.text and "Record a disclosure" not in measures.text
    assert (await supervisor.get(f"/cohorts/{world.cohort.id}/measures")).status_code == 200

    # Not the other cohort, and the facilitator's own pages keep their controls and no note.
    assert (await supervisor.get(f"/cohorts/{world.other_cohort.id}")).status_code == 403
    facilitator = await world.client("facilitator")
    own = await facilitator.get(f"/enrollments/{world.enrollment.id}/measures")
    assert READ_ONLY_NOTE not in own.text and "Enter a PHQ-9" in own.text


async def test_a_supervisor_reads_safety_items_but_records_no_risk_check(world):
    item = await _open_item(world)
    async with bearer(world.base_url, world.tokens["supervisor"]) as api:
        listed = (await api.get("/api/v1/safety-items")).json()
        assert item.id in {i["id"] for i in listed}
        assert all(i["enrollment_id"] != world.other_enrollment.id for i in listed)
        refused = await api.post(f"/api/v1/safety-items/{item.id}/risk-check",
                                 json={"outcome": "x", "reached": True})
        assert refused.status_code == 403
    supervisor = await world.client("supervisor")
    page = await supervisor.get(f"/safety/{item.id}")
    assert page.status_code == 200 and 'id="risk-check-form"' not in page.text and READ_ONLY_NOTE in page.text
    listing = await supervisor.get("/safety")
    assert listing.status_code == 200 and f'href="/safety/{item.id}">Read the item' in listing.text
    form = await supervisor.submit(f"/safety/{item.id}/risk-check", {"outcome": "reached", "checked_at": "2030-01-01T10:00"})
    assert form.status_code == 403
    assert (await SafetyItem.get(id=item.id)).status.value == "open"
    # The cohort's own facilitator still may.
    facilitator = await world.client("facilitator")
    assert 'id="risk-check-form"' in (await facilitator.get(f"/safety/{item.id}")).text
    assert f'href="/safety/{item.id}">Record risk check' in (await facilitator.get("/safety")).text


async def test_a_supervisor_lists_supervised_cohorts_in_the_api(world):
    async with bearer(world.base_url, world.tokens["supervisor"]) as api:
        ids = {c["id"] for c in (await api.get("/api/v1/cohorts")).json()["cohorts"]}
        assert world.cohort.id in ids and world.other_cohort.id not in ids
        assert (await api.get(f"/api/v1/cohorts/{world.cohort.id}/enrollments")).status_code == 200
        assert (await api.get(f"/api/v1/enrollments/{world.enrollment.id}/measures")).status_code == 200


async def test_the_start_page_lists_supervisees_and_their_active_cohorts(world):
    supervisor = await world.client("supervisor")
    home = await supervisor.get("/")
    assert home.status_code == 200 and 'id="supervision"' in home.text
    card = home.text.split('id="supervision"', 1)[1].split("</section>", 1)[0]
    # Other tests on the shared world give Fiona more cohorts than the card's five: hers is
    # listed or counted in "N more" (a link to her cohorts).
    assert "Fiona Facilitator" in card
    assert f'href="/cohorts/{world.cohort.id}"' in card or "more</a>" in card
    assert f'href="/cohorts/{world.other_cohort.id}"' not in card
    facilitator = await world.client("facilitator")
    assert 'id="supervision"' not in (await facilitator.get("/")).text


async def test_the_supervision_overview_is_two_queries_whatever_the_rows(world):
    from tortoise import connections

    supervisor = world.users["supervisor"]
    connection = connections.get("default")
    original = connection.execute_query_dict, connection.execute_query
    count = 0

    def counting(run):
        async def wrapped(*args, **kwargs):
            nonlocal count
            count += 1
            return await run(*args, **kwargs)
        return wrapped

    connection.execute_query_dict, connection.execute_query = counting(original[0]), counting(original[1])
    try:
        overview = await dashboard.supervision_overview(supervisor)
    finally:
        connection.execute_query_dict, connection.execute_query = original
    assert [p.name for p in overview.people] == ["Fiona Facilitator"] and not overview.more
    # Other tests on the shared world give Fiona more cohorts; never cohort B, led by another.
    fiona = overview.people[0]
    shown = [c.id for c in fiona.cohorts]
    assert len(shown) <= dashboard.COHORTS_SHOWN and world.other_cohort.id not in shown
    assert world.cohort.id in shown or fiona.more_cohorts > 0
    assert 1 <= count <= 2


async def test_the_supervision_card_is_bounded_and_points_to_the_rest(world):
    """A supervisor of many lay facilitators gets the first by name and a link to the
    supervision page, not every row on the start page."""
    from models.accounts import Role, User

    supervisor = world.users["supervisor"]
    extra = []
    for n in range(dashboard.SUPERVISEES_SHOWN):  # with Fiona, one more than the card shows
        person = await User.create(email=f"lay-{n}@card.test", display_name=f"Zed Lay {n:02}", role=Role.FACILITATOR)
        await Supervision.create(supervisor=supervisor, facilitator=person)
        extra.append(person)
    try:
        card = await dashboard.supervision_overview(supervisor, limit=2)
        assert [p.name for p in card.people] == ["Fiona Facilitator", "Zed Lay 00"] and card.more
        whole = await dashboard.supervision_overview(supervisor, limit=len(extra) + 1)
        assert len(whole.people) == len(extra) + 1 and not whole.more
        home = await (await world.client("supervisor")).get("/")
        last = f"Zed Lay {len(extra) - 1:02}"
        assert f"Zed Lay {len(extra) - 2:02}" in home.text and last not in home.text
        assert 'href="/supervision">Everyone you supervise' in home.text
    finally:
        await Supervision.filter(facilitator_id__in=[p.id for p in extra]).delete()
        for person in extra:
            await person.delete()
