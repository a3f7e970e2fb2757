"""Role changes (issue 18): a coordinator's act that asks for the password or a code again
once the last one is older than five minutes, is audited, and ends the person's sessions so
the new role's rules (a second factor for staff) apply at their next sign-in."""
from __future__ import annotations

from datetime import timedelta

from models.accounts import AuditEvent, Role, SignInSession, User
from server import clock
from tests.support.clients import Browserish, logged_in
from tests.support.world import PASSWORD, make_user


async def _stale(client_user: User) -> None:
    await SignInSession.filter(user=client_user, ended_at=None).update(
        authenticated_at=clock.now() - timedelta(minutes=6))


async def test_a_role_change_wants_a_fresh_password_and_ends_the_persons_sessions(live_server, world):
    coordinator = await make_user("coordinator", "Cora Roles")
    person = await make_user("member", "Milo Promoted")
    admin = await logged_in(live_server.url, coordinator.email, PASSWORD)
    theirs = await logged_in(live_server.url, person.email, PASSWORD)
    assert (await theirs.get("/account")).status_code == 200
    await _stale(coordinator)

    unproven = await admin.submit(f"/people/{person.id}/role", {"role": "facilitator"})
    assert unproven.status_code == 400 and "confirm it is you" in unproven.text
    assert (await User.get(id=person.id)).role == Role.MEMBER
    wrong = await admin.submit(f"/people/{person.id}/role", {"role": "facilitator", "proof": "not my password"})
    assert wrong.status_code == 400 and (await User.get(id=person.id)).role == Role.MEMBER

    changed = await admin.submit(f"/people/{person.id}/role", {"role": "facilitator", "proof": PASSWORD})
    assert changed.status_code == 200 and "is now a facilitator (was member)" in changed.text
    assert (await User.get(id=person.id)).role == Role.FACILITATOR
    event = await AuditEvent.filter(subject="role_changed", member_id=person.id).get()
    assert event.actor_id == coordinator.id and event.detail == "member to facilitator"
    # Their open session is over; signing in again, staff are sent to set up a second factor.
    assert (await theirs.get("/account")).status_code == 303
    async with Browserish(live_server.url) as again:
        step = await again.submit("/login", {"email": person.email, "password": PASSWORD})
        assert step.headers["location"] == "/account/second-factor"
    # Within five minutes of the proof, the next change asks for nothing more.
    back = await admin.submit(f"/people/{person.id}/role", {"role": "member"})
    assert back.status_code == 200 and (await User.get(id=person.id)).role == Role.MEMBER
    await admin.aclose()
    await theirs.aclose()


async def test_role_changes_that_would_tangle_records_or_ones_own_are_refused(live_server, world):
    coordinator = await make_user("coordinator", "Cleo Careful")
    admin = await logged_in(live_server.url, coordinator.email, PASSWORD)
    own = await admin.submit(f"/people/{coordinator.id}/role", {"role": "member"})
    assert own.status_code == 400 and "your own role" in own.text
    member = world.users["member"]  # enrolled in cohort A
    enrolled = await admin.submit(f"/people/{member.id}/role", {"role": "facilitator"})
    assert enrolled.status_code == 400 and "enrolled in a group" in enrolled.text
    leader = world.users["facilitator"]  # leads cohort A
    leading = await admin.submit(f"/people/{leader.id}/role", {"role": "member"})
    assert leading.status_code == 400 and "leads or supervises" in leading.text
    nonsense = await admin.submit(f"/people/{leader.id}/role", {"role": "owner"})
    assert nonsense.status_code == 400
    missing = await admin.submit("/people/999999/role", {"role": "member"})
    assert missing.status_code == 404
    assert (await User.get(id=member.id)).role == Role.MEMBER
    assert (await User.get(id=leader.id)).role == Role.FACILITATOR
    await admin.aclose()
