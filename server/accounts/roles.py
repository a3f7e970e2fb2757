"""Changing a person's role: a coordinator's act, re-authenticated at the edge (issue 18),
audited, and ending the person's sessions so the new role's limits and second-factor rule
apply from their next sign-in."""
from __future__ import annotations

from tortoise.transactions import in_transaction

from models.accounts import Role, User
from models.cohorts import Cohort, Enrollment
from models.supervision import Supervision
from server.accounts import sessions
from server.accounts.audit import security_event
from server.errors import BadRequest


async def change_role(person: User, role: Role | str, *, by: User) -> Role:
    """The role before the change. Members and staff are not interchangeable while records
    tie them to their place: a member's enrollments, a facilitator's cohorts or supervision."""
    try:
        role = Role(role)
    except ValueError:
        raise BadRequest("Choose a role: coordinator, facilitator or member.", fields={"role": "Required."}) from None
    if person.id == by.id:
        raise BadRequest("You cannot change your own role; another coordinator can.")
    old = person.role
    if role == old:
        raise BadRequest(f"{person.display_name} is already a {role.value}.", fields={"role": "Unchanged."})
    if old == Role.MEMBER and await Enrollment.filter(member=person).exists():
        raise BadRequest(f"{person.display_name} is enrolled in a group as a member; staff accounts are separate "
                         "from members' (invite them again with another address).")
    if role == Role.MEMBER and (await Cohort.filter(facilitators=person).exists()
                                or await Supervision.filter(supervisor=person).exists()
                                or await Supervision.filter(facilitator=person).exists()):
        raise BadRequest(f"{person.display_name} still leads or supervises groups, or is supervised: hand those on first.")
    async with in_transaction():
        person.role = role
        person.session_epoch += 1
        await person.save(update_fields=["role", "session_epoch"])
    await sessions.end_all(person, "role changed", actor=by)
    await security_event("role_changed", person=person, actor=by, detail=f"{old.value} to {role.value}")
    return old
