"""Intake over a real server: inventory with role labels, problem areas under the template's
rules, formulation, and at most two active target goals."""
from __future__ import annotations

import uuid

import pytest

from models.accounts import AuditEvent, Role
from models.clinical import Goal, InventoryEntry
from models.cohorts import Enrollment, EnrollmentStatus, ProblemArea
from tests.support.world import make_cohort, make_template, make_user

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def fresh_enrollment(world, template=None):
    member = await make_user(Role.MEMBER, f"Uma {uuid.uuid4().hex[:4]}")
    cohort = world.cohort
    if template is not None:
        cohort, _ = await make_cohort(template, f"Intake {uuid.uuid4().hex[:4]}", world.users["facilitator"])
    return await Enrollment.create(cohort=cohort, member=member, status=EnrollmentStatus.ENROLLED)


async def test_inventory_problem_areas_formulation_and_goals(world):
    enrollment = await fresh_enrollment(world)
    client = await world.client("facilitator")
    base = f"/enrollments/{enrollment.id}/intake"
    page = await client.get(base)
    assert page.status_code == 200 and "Role dispute" in page.text and "Grief" in page.text
    added = await client.submit(base + "/inventory", {
        "role_label": "my sister", "relationship_type": "sibling", "contact_frequency": "weekly calls",
        "wants_to_change": "to be listened to", "is_support": "yes", "knows_about_depression": "no",
    })
    assert added.status_code == 200 and "my sister" in added.text
    entry = await InventoryEntry.get(enrollment_id=enrollment.id)
    assert (entry.is_support, entry.knows_about_depression, entry.changed_near_onset) == (True, False, None)
    edited = await client.submit(f"{base}/inventory/{entry.id}", {"role_label": "my older sister", "is_support": "maybe"})
    assert edited.status_code == 400 and "yes, no or not known" in edited.text
    missing = await client.submit(base + "/inventory", {"relationship_type": "boss"})
    assert missing.status_code == 400 and "role label" in missing.text
    same = await client.submit(base + "/problem-areas", {"primary": "role_dispute", "secondary": "role_dispute"})
    assert same.status_code == 400
    saved = await client.submit(base + "/problem-areas", {"primary": "role_dispute", "secondary": "role_transition"})
    assert saved.status_code == 200 and "Problem areas saved." in saved.text
    await client.submit(base + "/formulation", {"formulation": "Low mood since the move; arguments with sister about care of mother."})
    for text in ("Tell my sister what I need", "Walk with a neighbour on Saturdays"):
        assert (await client.submit(base + "/goals", {"text": text})).status_code == 200
    third = await client.submit(base + "/goals", {"text": "A third goal"})
    assert third.status_code == 409 and "2 target goals at most" in third.text
    goal = await Goal.filter(enrollment_id=enrollment.id).first()
    await client.submit(f"{base}/goals/{goal.id}/status", {"status": "achieved"})
    assert (await client.submit(base + "/goals", {"text": "A third goal"})).status_code == 200
    reloaded = await Enrollment.get(id=enrollment.id)
    assert reloaded.primary_problem_area == ProblemArea.ROLE_DISPUTE
    assert reloaded.secondary_problem_area == ProblemArea.ROLE_TRANSITION
    assert reloaded.formulation.startswith("Low mood")
    assert await AuditEvent.filter(member_id=enrollment.member_id, subject="inventory_entry").count() >= 1
    assert await AuditEvent.filter(member_id=enrollment.member_id, subject="intake", action="read").exists()
    deleted = await client.submit(f"{base}/inventory/{entry.id}/delete", {})
    assert deleted.status_code == 200 and not await InventoryEntry.filter(id=entry.id).exists()


async def test_template_without_grief_and_with_lay_labels(world):
    template = await make_template()
    template.grief_enabled = False
    template.problem_area_labels = "lay"
    await template.save()
    enrollment = await fresh_enrollment(world, template)
    client = await world.client("facilitator")
    page = await client.get(f"/enrollments/{enrollment.id}/intake")
    assert "Life changes" in page.text and "Loneliness and isolation" in page.text and "Disputes" in page.text
    assert 'value="grief"' not in page.text
    refused = await client.submit(f"/enrollments/{enrollment.id}/intake/problem-areas", {"primary": "grief"})
    assert refused.status_code == 400 and "not a problem area this protocol offers" in refused.text


async def test_other_facilitators_and_members_cannot_read_intake(world):
    enrollment = await fresh_enrollment(world)
    other = await world.client("other_facilitator")
    assert (await other.get(f"/enrollments/{enrollment.id}/intake")).status_code == 403
    member = await world.client("member")
    assert (await member.get(f"/enrollments/{enrollment.id}/intake")).status_code in (403, 404)


async def test_out_of_range_entry_ids_are_404(world):
    enrollment = await fresh_enrollment(world)
    client = await world.client("facilitator")
    response = await client.submit(f"/enrollments/{enrollment.id}/intake/inventory/99999999999/delete", {})
    assert response.status_code == 404
