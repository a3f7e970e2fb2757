"""Rows for reaching a clinician: safety settings, away dates, disclosures, their API (issue 13)."""
from __future__ import annotations

from datetime import date, timedelta

from models.accounts import AwayPeriod
from tests.integration.authz_rows import DENY, LOGIN, OK, Row, coordinator_only, staff_any_cohort, staff_only


def _facilitator(world) -> int:
    return world.users["facilitator"].id


async def _period(world) -> int:
    start = date.today() + timedelta(days=30)
    period = await AwayPeriod.create(user_id=world.users["facilitator"].id, starts_on=start, ends_on=start)
    return period.id


async def _item(world) -> int:
    from tests.integration.authz_rows.enrollment import _safety_item

    return await _safety_item(world)


def own_staff(method: str, path: str, **kw) -> Row:
    """The person themself (the cohort's facilitator here) and coordinators; nobody else."""
    return Row(method, path, anon=LOGIN, member=DENY, other_member=DENY, other_facilitator=DENY,
               facilitator=OK, coordinator=OK, **kw)


SELF = {"user_id": _facilitator}
PERIOD = {"user_id": _facilitator, "period_id": _period}

ROWS = [
    staff_any_cohort("GET", "/attention/{item_id}", params={"item_id": _item}),
    coordinator_only("GET", "/clinic/safety"),
    coordinator_only("POST", "/clinic/safety/help-text", body={"help_text": ". ."}),
    coordinator_only("POST", "/clinic/safety/people"),
    staff_any_cohort("GET", "/away"),
    own_staff("GET", "/staff/{user_id}/away", params=SELF),
    own_staff("POST", "/staff/{user_id}/away", params=SELF),
    own_staff("POST", "/staff/{user_id}/away/{period_id}/delete", params=PERIOD),
    staff_only("GET", "/enrollments/{enrollment_id}/safety/new"),
    staff_only("POST", "/enrollments/{enrollment_id}/safety/new"),
    coordinator_only("GET", "/api/v1/duty-clinicians"),
    coordinator_only("PUT", "/api/v1/duty-clinicians", json=True, body={}),
    coordinator_only("PUT", "/api/v1/users/{user_id}/clinician", params=SELF, json=True, body={}),
    own_staff("GET", "/api/v1/users/{user_id}/away-periods", params=SELF),
    own_staff("POST", "/api/v1/users/{user_id}/away-periods", params=SELF, json=True, body={}),
    own_staff("DELETE", "/api/v1/away-periods/{period_id}", params=PERIOD, json=True),
    staff_only("POST", "/api/v1/enrollments/{enrollment_id}/safety-items", json=True, body={}),
    coordinator_only("GET", "/api/v1/clinic/crisis-help"),
    coordinator_only("PUT", "/api/v1/clinic/crisis-help", json=True, body={}),
]
