"""Who may stay on a board socket, checked again while it is open (the route checks once,
before accepting).

Staff may change the board while they are active, on the same session (not ended) or an
unrevoked token, and a coordinator or a facilitator of the cohort: `staff_guard` says so as
SQL, so that the statement writing each command checks it (`server.board.store`). A member
may follow the display while enrolled; a supervisor of one of the cohort's facilitators may
observe either view, read-only, while they supervise (issue 17). `still_allowed` is the
periodic check of all of them; a sign-in session that ended or expired ends them all
(issue 18).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.accounts import Role, SignInSession, User
from models.cohorts import Enrollment, EnrollmentStatus
from server import clock
from server.accounts import sha256
from server.accounts import sessions as sign_in_sessions
from server.accounts.access import supervises
from server.board import store
from server.board.views import DISPLAY
from server.platform.settings import Settings

SESSION = "session"  # the credential's sign-in session id (server/accounts/sessions.py)
SIGNED_OUT = 4401  # close code: the sign-in session ended; the client says "signed out"
SIGNED_OUT_REASON = "Signed out: sign in again to open the board."


def staff_guard(user: User, credential: Mapping[str, Any], cohort_id: int) -> store.Guard:
    """May `user`, signed in by `credential` ({"token"} or the session's {"epoch", "session"}),
    change a board of `cohort_id` now."""
    # Each condition names its rows by the values given, not by the user row's columns, so
    # PostgreSQL looks each up once by its index (a correlated form built a hash of the
    # cohort's facilitators per command: 12 us more of every command's append, issue 15).
    if "token" in credential:
        epoch, held = "", ("EXISTS (SELECT 1 FROM api_tokens t WHERE t.token_sha256 = ? AND t.user_id = ?"
                           " AND t.revoked_at IS NULL)", (sha256(credential["token"]), user.id))
    elif credential.get(SESSION) is not None:
        epoch, held = " AND u.session_epoch = ?", (
            "EXISTS (SELECT 1 FROM sign_in_sessions s WHERE s.id = ? AND s.user_id = ? AND s.ended_at IS NULL)",
            (credential[SESSION], user.id))
    else:
        epoch, held = " AND u.session_epoch = ?", ("1 = 1", ())
    epochs = (credential.get("epoch"),) if epoch else ()
    return store.Guard(
        f"EXISTS (SELECT 1 FROM users u WHERE u.id = ? AND u.is_active{epoch}"
        " AND (u.role = ? OR (u.role = ? AND EXISTS (SELECT 1 FROM cohort_facilitators cf"
        " WHERE cf.user_id = ? AND cf.cohorts_id = ?)))) AND " + held[0],
        (user.id, *epochs, Role.COORDINATOR.value, Role.FACILITATOR.value, user.id, cohort_id, *held[1]))


async def session_live(credential: Mapping[str, Any], settings: Settings) -> bool:
    """The credential's sign-in session has not ended, nor passed its idle or absolute limit
    (a session past one is ended here, as `open_session` would). Tokens have no session."""
    session_id = credential.get(SESSION)
    if "token" in credential or session_id is None:
        return True
    record = await SignInSession.get_or_none(id=session_id, ended_at=None).select_related("user")
    if record is None:
        return False
    now = clock.now()
    idle_until, absolute_until = sign_in_sessions.expiry(record, settings, record.user.role)
    if now >= idle_until or now >= absolute_until:
        await sign_in_sessions.end(record, "expired" if now >= absolute_until else "idle")
        return False
    return True


async def still_allowed(user: User, credential: Mapping[str, Any], cohort_id: int, view: str, *,
                        staff: store.Guard | None = None, observer: bool = False) -> bool:
    """Active, same session or live token, and still entitled: staff by the rule every
    command is written under (`staff`, made by `staff_guard` when not given); an `observer`
    (a supervisor) while they supervise one of the cohort's facilitators; a member, on the
    display only, while enrolled."""
    if await store.holds(staff or staff_guard(user, credential, cohort_id)):
        return True
    if observer:
        return await _credential_holds(user, credential, Role.FACILITATOR) and await supervises(user, cohort_id)
    if view != DISPLAY:
        return False
    return await _credential_holds(user, credential, Role.MEMBER) and await Enrollment.filter(
        cohort_id=cohort_id, member_id=user.id, status=EnrollmentStatus.ENROLLED,
        member__restricted_at=None).exists()


async def _credential_holds(user: User, credential: Mapping[str, Any], role: Role) -> bool:
    people = User.filter(id=user.id, is_active=True, role=role)
    if "token" in credential:
        people = people.filter(api_tokens__token_sha256=sha256(credential["token"]), api_tokens__revoked_at=None)
    else:
        people = people.filter(session_epoch=credential.get("epoch"))
        if credential.get(SESSION) is not None:
            people = people.filter(sign_in_sessions__id=credential[SESSION], sign_in_sessions__ended_at=None)
    return await people.exists()
