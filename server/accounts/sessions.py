"""Server-side sign-in sessions: what a cookie's key opens, for how long, and ending them.

Staff sessions end after GROUPIPT_IDLE_MINUTES without activity and GROUPIPT_SESSION_HOURS
after sign-in (NIST SP 800-63B, AAL2 reauthentication); members' after longer limits
(server/platform/settings.py says why).
"""
from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from models.accounts import Role, SignInSession, User
from server import clock
from server.accounts.audit import security_event
from server.accounts.tokens import sha256
from server.errors import NotFound
from server.platform.settings import Settings

log = logging.getLogger("groupipt.sessions")

# Told (user id, ended session ids) when sessions end in this process: the live board closes
# those sessions' sockets at once (server/board/connection.py). Listeners must not block.
SessionsEnded = Callable[[int, list[int]], None]
_listeners: list[SessionsEnded] = []


def on_end(listener: SessionsEnded) -> None:
    _listeners.append(listener)


def _tell(user_id: int, session_ids: list[int]) -> None:
    for listener in list(_listeners):
        try:
            listener(user_id, session_ids)
        except Exception:  # a listener's bug must not stop a sign-out
            log.exception("a sessions-ended listener failed")


# last_seen_at is written at most this often, so a page with many requests costs one write.
TOUCH_EVERY = timedelta(seconds=60)
REAUTHENTICATE_AFTER = timedelta(minutes=5)


def limits(settings: Settings, role: Role) -> tuple[timedelta, timedelta]:
    """(idle limit, absolute limit) for a person of this role."""
    if role == Role.MEMBER:
        return timedelta(hours=settings.member_idle_hours), timedelta(days=settings.member_session_days)
    return timedelta(minutes=settings.idle_minutes), timedelta(hours=settings.session_hours)


def expiry(session: SignInSession, settings: Settings, role: Role) -> tuple[datetime, datetime]:
    """(ends if idle until, ends at the latest): the earlier of the two is when it ends."""
    idle, absolute = limits(settings, role)
    return session.last_seen_at + idle, session.created_at + absolute


async def start_session(
    user: User, *, user_agent: str, client_ip: str, factor_setup_required: bool = False
) -> tuple[SignInSession, str]:
    """A new session and the key for its cookie (only the key's SHA-256 is stored)."""
    key = secrets.token_urlsafe(32)
    stamp = clock.now()
    session = await SignInSession.create(
        user=user, key_sha256=sha256(key), device=describe_device(user_agent), client_ip=client_ip[:64],
        last_seen_at=stamp, authenticated_at=stamp, factor_setup_required=factor_setup_required,
    )
    return session, key


async def open_session(key: str, settings: Settings, *, touch: bool = True) -> SignInSession | None:
    """The live session this key opens (its user loaded), or None; a session past a limit is
    ended here, the first time anyone presents it."""
    if not isinstance(key, str) or not key or len(key) > 100:
        return None
    session = await SignInSession.get_or_none(key_sha256=sha256(key), ended_at=None).select_related("user")
    if session is None:
        return None
    now = clock.now()
    idle_until, absolute_until = expiry(session, settings, session.user.role)
    if now >= absolute_until or now >= idle_until:
        reason = "expired" if now >= absolute_until else "idle"
        await end(session, reason)
        return None
    if touch and now - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = now
        await SignInSession.filter(id=session.id).update(last_seen_at=now)
    return session


async def end(session: SignInSession, reason: str, *, actor: User | None = None) -> None:
    stamp = clock.now()
    updated = await SignInSession.filter(id=session.id, ended_at=None).update(ended_at=stamp, end_reason=reason)
    session.ended_at, session.end_reason = stamp, reason
    if updated:
        _tell(session.user_id, [session.id])
        await security_event("session_ended", person=await _user(session), actor=actor,
                             detail=f"{reason}; {session.device}; {session.client_ip}")


async def end_all(user: User, reason: str, *, actor: User | None = None, keep: SignInSession | None = None) -> int:
    query = SignInSession.filter(user=user, ended_at=None)
    if keep is not None:
        query = query.exclude(id=keep.id)
    ids = list(await query.values_list("id", flat=True))
    count = await SignInSession.filter(id__in=ids, ended_at=None).update(ended_at=clock.now(), end_reason=reason) \
        if ids else 0
    if ids:
        _tell(user.id, ids)
    if count:
        await security_event("sessions_ended", person=user, actor=actor, detail=f"{count} session(s); {reason}")
    return count


async def active_sessions(user: User, settings: Settings) -> list[SignInSession]:
    now = clock.now()
    live = []
    for session in await SignInSession.filter(user=user, ended_at=None).order_by("-last_seen_at"):
        idle_until, absolute_until = expiry(session, settings, user.role)
        if now < idle_until and now < absolute_until:
            live.append(session)
    return live


async def end_own_session(user: User, session_id: int) -> SignInSession:
    session = await SignInSession.get_or_none(id=session_id, user=user, ended_at=None)
    if session is None:
        raise NotFound("No such active session on your account.")
    session.user = user
    await end(session, "ended by its owner", actor=user)
    return session


async def mark_authenticated(session: SignInSession) -> None:
    session.authenticated_at = clock.now()
    await SignInSession.filter(id=session.id).update(authenticated_at=session.authenticated_at)


def recently_authenticated(session: SignInSession | None) -> bool:
    return session is not None and clock.now() - session.authenticated_at < REAUTHENTICATE_AFTER


async def _user(session: SignInSession) -> User:
    user = session.user
    if isinstance(user, User):
        return user
    return await User.get(id=session.user_id)


_BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Chromium/", "Chromium"), ("Safari/", "Safari")]
_SYSTEMS = [("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]


def describe_device(user_agent: str) -> str:
    """'Firefox on Windows': enough for a person to tell their sessions apart."""
    agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in agent), "")
    if "HeadlessChrome" in agent:
        browser = "Headless Chrome"
    system = next((name for marker, name in _SYSTEMS if marker in agent), "")
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system
    program = re.match(r"[\w./-]{1,40}", agent)
    return program.group(0) if program else "Unknown device"


async def touch(session: SignInSession) -> None:
    """Activity that loads no page (the live board's keep-alive)."""
    session.last_seen_at = clock.now()
    await SignInSession.filter(id=session.id).update(last_seen_at=session.last_seen_at)


async def factor_added(session: SignInSession) -> None:
    """The staff member added the required factor: the session reaches every page now, and
    counts as freshly authenticated (they just entered a code)."""
    session.factor_setup_required = False
    session.authenticated_at = clock.now()
    await SignInSession.filter(id=session.id).update(factor_setup_required=False,
                                                     authenticated_at=session.authenticated_at)
