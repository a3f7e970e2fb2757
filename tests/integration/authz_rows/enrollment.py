"""Rows for enrollment, intake, measures, safety items and the member portal (issue 4)."""
from __future__ import annotations

from datetime import datetime, timezone

from models.clinical import Goal, InventoryEntry, MeasureResponse, SafetyItem
from tests.integration.authz_rows import DENY, LOGIN, OK, Row, coordinator_only, own_member, public, staff_any_cohort, staff_only, staff_or_supervisor


async def _entry(world) -> int:
    entry = await InventoryEntry.create(enrollment_id=world.enrollment.id, role_label="my sister")
    return entry.id


async def _goal(world) -> int:
    goal = await Goal.create(cohort_id=world.cohort.id, enrollment_id=world.enrollment.id, text="Call my sister weekly")
    return goal.id


async def _safety_item(world) -> int:
    response = await MeasureResponse.create(
        enrollment_id=world.enrollment.id, instrument="phq9", items=[1, 1, 1, 1, 1, 1, 1, 1, 1], total=9,
        band="mild", item9=1, window="authz", administered_at=datetime.now(timezone.utc),
    )
    item = await SafetyItem.create(enrollment_id=world.enrollment.id, response=response, item9=1)
    return item.id


def members_only(method: str, path: str, **kw) -> Row:
    """Each member's own portal; staff have none."""
    return Row(method, path, anon=LOGIN, member=OK, other_member=OK, other_facilitator=DENY,
               facilitator=DENY, coordinator=DENY, **kw)


def own_portal(method: str, path: str, **kw) -> Row:
    """One questionnaire of the member's own enrollment: nobody else's, and staff have no portal."""
    return Row(method, path, anon=LOGIN, member=OK, other_member=DENY, other_facilitator=DENY,
               facilitator=DENY, coordinator=DENY, **kw)


ENTRY = {"entry_id": _entry}
GOAL = {"goal_id": _goal}
ITEM = {"item_id": _safety_item}
PHQ9 = {"instrument": lambda w: "phq9"}
OCCASION = {"instrument": lambda w: "phq9", "occasion": lambda w: "baseline"}

ROWS = [
    # enrollment pages
    public("GET", "/enrollment", note="moved: a permanent redirect to the start page, which checks the role"),
    staff_or_supervisor("GET", "/cohorts/{cohort_id}/enrollment", note="facilitators see their roster, read-only"),
    coordinator_only("POST", "/cohorts/{cohort_id}/enrollment"),
    coordinator_only("GET", "/cohorts/{cohort_id}/enrollment/member-suggestions",
                     note="only those who may enroll search the clinic's members (issue 15)"),
    coordinator_only("GET", "/cohorts/{cohort_id}/enrollment/import"),
    coordinator_only("POST", "/cohorts/{cohort_id}/enrollment/import/preview"),
    coordinator_only("POST", "/cohorts/{cohort_id}/enrollment/import"),
    staff_or_supervisor("GET", "/enrollments/{enrollment_id}"),
    coordinator_only("POST", "/enrollments/{enrollment_id}/status"),
    coordinator_only("POST", "/enrollments/{enrollment_id}/withdraw"),
    coordinator_only("POST", "/enrollments/{enrollment_id}/transfer"),
    coordinator_only("POST", "/enrollments/{enrollment_id}/consent"),
    # enrollment API
    coordinator_only("POST", "/api/v1/cohorts/{cohort_id}/enrollments", json=True, body={}),
    coordinator_only("POST", "/api/v1/cohorts/{cohort_id}/enrollments/import", json=True, body={}),
    staff_or_supervisor("GET", "/api/v1/enrollments/{enrollment_id}"),
    coordinator_only("POST", "/api/v1/enrollments/{enrollment_id}/status", json=True, body={}),
    coordinator_only("POST", "/api/v1/enrollments/{enrollment_id}/withdraw", json=True, body={}),
    coordinator_only("POST", "/api/v1/enrollments/{enrollment_id}/transfer", json=True, body={}),
    coordinator_only("POST", "/api/v1/enrollments/{enrollment_id}/consent", json=True,
                          body={"version": "x" * 40}, note="an over-long version is refused"),
    # intake
    staff_only("GET", "/enrollments/{enrollment_id}/intake"),
    staff_only("POST", "/enrollments/{enrollment_id}/intake/problem-areas"),
    staff_only("POST", "/enrollments/{enrollment_id}/intake/formulation", body={"formulation": "x" * 5000}),
    staff_only("GET", "/api/v1/enrollments/{enrollment_id}/formulation"),
    staff_only("PUT", "/api/v1/enrollments/{enrollment_id}/formulation", json=True,
               body={"text": "x", "agreement": "maybe"}, note="an unknown agreement is refused"),
    staff_only("POST", "/enrollments/{enrollment_id}/intake/inventory"),
    staff_only("POST", "/enrollments/{enrollment_id}/intake/inventory/{entry_id}", params=ENTRY),
    staff_only("POST", "/enrollments/{enrollment_id}/intake/inventory/{entry_id}/delete", params=ENTRY),
    staff_only("POST", "/enrollments/{enrollment_id}/intake/goals"),
    staff_only("POST", "/enrollments/{enrollment_id}/intake/goals/{goal_id}/status", params=GOAL),
    # measures and safety items (staff)
    staff_or_supervisor("GET", "/cohorts/{cohort_id}/measures"),
    staff_or_supervisor("GET", "/meetings/{meeting_id}/measures"),
    staff_or_supervisor("GET", "/enrollments/{enrollment_id}/measures"),
    staff_only("GET", "/enrollments/{enrollment_id}/measures/{instrument}", params=PHQ9),
    staff_only("POST", "/enrollments/{enrollment_id}/measures/{instrument}", params=PHQ9),
    staff_any_cohort("GET", "/safety"),
    staff_or_supervisor("GET", "/safety/{item_id}", params=ITEM),
    # Only clinicians record risk checks: the world's coordinator is not marked as one (issue 13).
    Row("POST", "/safety/{item_id}/risk-check", anon=LOGIN, member=DENY, other_member=DENY, other_facilitator=DENY,
        facilitator=OK, coordinator=DENY, params=ITEM),
    # measures API
    own_member("GET", "/api/v1/enrollments/{enrollment_id}/measures", supervisor=OK),
    own_member("POST", "/api/v1/enrollments/{enrollment_id}/measures", json=True, body={}),
    staff_any_cohort("GET", "/api/v1/safety-items"),
    Row("POST", "/api/v1/safety-items/{item_id}/risk-check", anon=LOGIN, member=DENY, other_member=DENY,
        other_facilitator=DENY, facilitator=OK, coordinator=DENY, params=ITEM, json=True, body={}),
    # member portal
    members_only("GET", "/portal"),
    members_only("GET", "/portal/measures/{instrument}", params=PHQ9),
    members_only("POST", "/portal/measures/{instrument}", params=PHQ9),
    own_portal("GET", "/portal/enrollments/{enrollment_id}/measures/{instrument}/{occasion}", params=OCCASION),
    own_portal("POST", "/portal/enrollments/{enrollment_id}/measures/{instrument}/{occasion}", params=OCCASION),
]
