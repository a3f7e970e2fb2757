"""Who supervises whom, as a coordinator sets it.

A supervisor is a clinician (domain-ipt.md section 13: trained non-specialists are
supervised by clinicians), active, and staff; the people supervised are active facilitators
other than the supervisor. Setting the list replaces it in one transaction and audits the
change.
"""
from __future__ import annotations

from collections.abc import Iterable

from tortoise.transactions import in_transaction

from models.accounts import Role, User
from models.supervision import Supervision
from server.accounts import audit
from server.errors import BadRequest, Forbidden


async def supervisees(supervisor: User) -> list[User]:
    """The facilitators `supervisor` supervises, by name."""
    return await User.filter(supervisors__supervisor_id=supervisor.id).order_by("display_name", "id")


async def supervisors_of(facilitator: User) -> list[User]:
    return await User.filter(supervisees__facilitator_id=facilitator.id).order_by("display_name", "id")


async def set_supervisees(supervisor: User, facilitator_ids: Iterable[int], *, by: User) -> list[User]:
    """Make `supervisor` supervise exactly `facilitator_ids`; refuse (and change nothing) when
    the supervisor is not an active staff clinician or a name is not an active facilitator."""
    if by.role != Role.COORDINATOR:
        raise Forbidden("Only a coordinator sets who supervises whom.")
    wanted = sorted({int(i) for i in facilitator_ids})
    if wanted:
        if supervisor.role == Role.MEMBER or not supervisor.is_active:
            raise BadRequest("Only active staff can supervise.")
        if not supervisor.is_clinician:
            raise BadRequest(f"{supervisor.display_name} is not marked as a clinician; a supervisor must be one.")
        if supervisor.id in wanted:
            raise BadRequest("Nobody supervises themself.")
        found = await User.filter(id__in=wanted, role=Role.FACILITATOR, is_active=True).values_list("id", flat=True)
        if sorted(found) != wanted:
            raise BadRequest("Every person supervised must be an active facilitator.")
    async with in_transaction():
        held = set(await Supervision.filter(supervisor_id=supervisor.id).values_list("facilitator_id", flat=True))
        gone, added = held - set(wanted), set(wanted) - held
        if gone:
            await Supervision.filter(supervisor_id=supervisor.id, facilitator_id__in=gone).delete()
        for facilitator_id in sorted(added):
            await Supervision.create(supervisor_id=supervisor.id, facilitator_id=facilitator_id, created_by=by)
        if gone or added:
            await audit.record(by, "change", "supervision", supervisor.id,
                               detail=f"supervises {sorted(wanted) or 'nobody'}")
    return await supervisees(supervisor)
