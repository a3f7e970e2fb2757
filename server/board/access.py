"""Who may stay on a board socket, checked again while it is open (the route checks once,
before accepting).

Staff may change the board while they are active, on the same session or an unrevoked
token, and a coordinator or a facilitator of the cohort: `staff_guard` says so as SQL, so
that the statement writing each command checks it (`server.board.store`). A member may
follow the display while enrolled; `still_allowed` is the periodic check of either.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.accounts import Role, User
from models.cohorts import Enrollment, EnrollmentStatus
from server.accounts import sha256
from server.board import store
from server.board.views import DISPLAY


def staff_guard(user: User, credential: Mapping[str, Any], cohort_id: int) -> store.Guard:
    """May `user`, signed in by `credential` ({"token"} or the session's {"epoch"}), change a
    board of `cohort_id` now."""
    if "token" in credential:
        held = ("EXISTS (SELECT 1 FROM api_tokens t WHERE t.user_id = u.id AND t.token_sha256 = ?"
                " AND t.revoked_at IS NULL)", sha256(credential["token"]))
    else:
        held = ("u.session_epoch = ?", credential.get("epoch"))
    return store.Guard(
        "EXISTS (SELECT 1 FROM users u WHERE u.id = ? AND u.is_active AND " + held[0]
        + " AND (u.role = ? OR (u.role = ? AND EXISTS (SELECT 1 FROM cohort_facilitators cf"
        " WHERE cf.user_id = u.id AND cf.cohorts_id = ?))))",
        (user.id, held[1], Role.COORDINATOR.value, Role.FACILITATOR.value, cohort_id))


async def still_allowed(user: User, credential: Mapping[str, Any], cohort_id: int, view: str, *,
                        staff: store.Guard | None = None) -> bool:
    """Active, same session or live token, and still entitled: staff by the rule every
    command is written under (`staff`, made by `staff_guard` when not given); a member, on
    the display only, while enrolled."""
    if await store.holds(staff or staff_guard(user, credential, cohort_id)):
        return True
    if view != DISPLAY:
        return False
    members = User.filter(id=user.id, is_active=True, role=Role.MEMBER)
    if "token" in credential:
        members = members.filter(api_tokens__token_sha256=sha256(credential["token"]), api_tokens__revoked_at=None)
    else:
        members = members.filter(session_epoch=credential.get("epoch"))
    return await members.exists() and await Enrollment.filter(
        cohort_id=cohort_id, member_id=user.id, status=EnrollmentStatus.ENROLLED).exists()
