"""Who supervises whom, and what that lets a supervisor read (issue 17; domain-ipt.md s. 13)."""
from __future__ import annotations

import pytest

from models.accounts import Role
from models.supervision import Supervision
from server import accounts
from server.errors import BadRequest, Forbidden
from server.supervision.assignments import set_supervisees, supervisees, supervisors_of
from tests.support.world import make_user

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_supervisor_reads_the_supervised_cohort_but_may_not_change_it(world):
    supervisor = world.users["supervisor"]
    assert await accounts.supervises(supervisor, world.cohort)
    assert not await accounts.supervises(supervisor, world.other_cohort)
    assert (await accounts.viewable_cohort(supervisor, world.cohort.id)).id == world.cohort.id
    assert (await accounts.viewable_enrollment(supervisor, world.enrollment.id)).id == world.enrollment.id
    with pytest.raises(Forbidden):
        await accounts.staff_cohort(supervisor, world.cohort.id)
    with pytest.raises(Forbidden):
        await accounts.staff_enrollment(supervisor, world.enrollment.id)
    with pytest.raises(Forbidden):
        await accounts.viewable_cohort(supervisor, world.other_cohort.id)
    with pytest.raises(Forbidden):
        await accounts.viewable_enrollment(supervisor, world.other_enrollment.id)
    assert await accounts.supervised_facilitator_ids(supervisor) == [world.users["facilitator"].id]


async def test_members_and_other_facilitators_read_nothing_through_viewable(world):
    from server.errors import NotFound

    with pytest.raises(NotFound):
        await accounts.viewable_enrollment(world.users["member"], world.enrollment.id)
    with pytest.raises(NotFound):
        await accounts.viewable_cohort(world.users["member"], world.cohort.id)
    with pytest.raises(Forbidden):
        await accounts.viewable_cohort(world.users["other_facilitator"], world.cohort.id)
    assert not await accounts.supervises(world.users["other_facilitator"], world.cohort)


async def test_set_supervisees_replaces_the_list_and_refuses_what_cannot_be(world):
    coordinator = world.users["coordinator"]
    lead = await make_user(Role.FACILITATOR, "Lena Lead")
    one = await make_user(Role.FACILITATOR, "Omar One")
    two = await make_user(Role.FACILITATOR, "Tara Two")
    member = await make_user(Role.MEMBER, "Mo Member")
    assert [u.id for u in await set_supervisees(lead, [one.id, two.id], by=coordinator)] == [one.id, two.id]
    assert [u.id for u in await set_supervisees(lead, [two.id], by=coordinator)] == [two.id]
    assert [u.id for u in await supervisors_of(two)] == [lead.id]
    for bad in ([lead.id], [member.id], [999999]):
        with pytest.raises(BadRequest):
            await set_supervisees(lead, bad, by=coordinator)
    with pytest.raises(BadRequest):
        await set_supervisees(member, [one.id], by=coordinator)
    with pytest.raises(Forbidden):
        await set_supervisees(lead, [one.id], by=one)
    assert [u.id for u in await supervisees(lead)] == [two.id], "a refusal changed nothing"
    lead.clinician = False
    await lead.save()
    with pytest.raises(BadRequest):
        await set_supervisees(lead, [one.id], by=coordinator)
    assert not await accounts.supervised_facilitator_ids(lead), "a non-clinician supervises nobody"
    assert await set_supervisees(lead, [], by=coordinator) == []
    assert not await Supervision.filter(supervisor=lead).exists()
