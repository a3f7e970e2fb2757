"""Who is asking: passwords, session cookies, API tokens, one-time links, and role guards."""
from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta, timezone

import argon2
from argon2 import PasswordHasher, profiles
from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request

from models.accounts import AccountLink, ApiToken, LinkPurpose, LoginFailure, Role, User
from server.errors import BadRequest, Forbidden, NotAuthenticated, TooManyRequests

SESSION_USER = "uid"
SESSION_EPOCH = "epoch"


def now() -> datetime:
    return datetime.now(timezone.utc)


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(raw: str) -> str:
    email = (raw or "").strip().casefold()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > 254 or domain.startswith("."):
        raise BadRequest(f"{raw!r} is not an e-mail address.", fields={"email": "Enter an address like name@example.org."})
    return email


# --- passwords ---------------------------------------------------------------------------

class Passwords:
    """argon2id hashing, always off the event loop (about 110 ms of CPU per call)."""

    MIN_LENGTH = 10

    def __init__(self, profile: str = "default"):
        params = profiles.CHEAPEST if profile == "cheapest" else profiles.RFC_9106_LOW_MEMORY
        self._hasher = PasswordHasher.from_parameters(params)
        self._dummy = self._hasher.hash("not a real password")

    def check_strength(self, password: str) -> None:
        if len(password) < self.MIN_LENGTH:
            raise BadRequest(
                f"Choose a password of at least {self.MIN_LENGTH} characters.",
                fields={"password": f"At least {self.MIN_LENGTH} characters."},
            )
        if len(password) > 1024:
            raise BadRequest("That password is too long (1024 characters at most).")

    async def hash(self, password: str) -> str:
        self.check_strength(password)
        return await run_in_threadpool(self._hasher.hash, password)

    async def verify(self, user: User | None, password: str) -> bool:
        # Verify against a dummy hash for unknown users so timing does not reveal accounts.
        stored = user.password_hash if user and user.password_hash else self._dummy
        try:
            await run_in_threadpool(self._hasher.verify, stored, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False
        if user is None or not user.password_hash:
            return False
        if self._hasher.check_needs_rehash(stored):
            user.password_hash = await run_in_threadpool(self._hasher.hash, password)
            await user.save(update_fields=["password_hash"])
        return True


# --- who is asking -----------------------------------------------------------------------

class Anonymous(BaseUser):
    id = None
    role = None
    display_name = ""

    @property
    def is_authenticated(self) -> bool:
        return False


class Authenticated(BaseUser):
    """Wraps the User row so Starlette's request.user works; attributes pass through."""

    def __init__(self, user: User, *, via_token: bool = False):
        self.user = user
        self.via_token = via_token

    def __getattr__(self, name):
        return getattr(self.user, name)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:  # BaseUser defines it; take the row's
        return self.user.display_name


class SessionOrTokenBackend(AuthenticationBackend):
    """Session cookie for browsers; `Authorization: Bearer` API token for everything else."""

    async def authenticate(self, conn: HTTPConnection):
        header = conn.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            user = await user_for_api_token(header[7:].strip())
            if user is None:
                return None
            return AuthCredentials(["authenticated", user.role]), Authenticated(user, via_token=True)
        session = conn.scope.get("session") or {}
        uid = session.get(SESSION_USER)
        if not isinstance(uid, int):
            return None
        user = await User.get_or_none(id=uid)
        if user is None or not user.is_active or session.get(SESSION_EPOCH) != user.session_epoch:
            session.clear()
            return None
        return AuthCredentials(["authenticated", user.role]), Authenticated(user)


def log_in(request: Request, user: User) -> None:
    # A fresh session on login so a planted cookie is never promoted (session fixation).
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_EPOCH] = user.session_epoch


def log_out(request: Request) -> None:
    request.session.clear()


async def log_out_everywhere(user: User) -> None:
    user.session_epoch += 1
    await user.save(update_fields=["session_epoch"])


# --- login throttling --------------------------------------------------------------------

THROTTLE_WINDOW = timedelta(minutes=15)


async def check_login_throttle(email: str, client_ip: str, limit: int) -> None:
    since = now() - THROTTLE_WINDOW
    by_email = await LoginFailure.filter(email=email, at__gte=since).count()
    by_ip = await LoginFailure.filter(client_ip=client_ip, at__gte=since).count()
    if by_email >= limit or by_ip >= limit * 4:
        raise TooManyRequests(
            "Too many failed attempts. Please wait 15 minutes, or ask a coordinator for a password reset link."
        )


async def record_login_failure(email: str, client_ip: str) -> None:
    await LoginFailure.create(email=email, client_ip=client_ip)
    await LoginFailure.filter(at__lt=now() - THROTTLE_WINDOW * 4).delete()


async def clear_login_failures(email: str) -> None:
    await LoginFailure.filter(email=email).delete()


# --- API tokens --------------------------------------------------------------------------

API_TOKEN_PREFIX = "gipt_"


async def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise BadRequest("Give the token a name of 1-80 characters, such as 'reporting script'.", fields={"name": "Required."})
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = await ApiToken.create(user=user, name=name, token_sha256=sha256(secret), prefix=secret[:9])
    return token, secret


async def revoke_api_token(user: User, token_id: int) -> ApiToken:
    token = await ApiToken.get_or_none(id=token_id, user=user, revoked_at=None)
    if token is None:
        from server.errors import NotFound

        raise NotFound("No such active token on your account.")
    token.revoked_at = now()
    await token.save(update_fields=["revoked_at"])
    return token


async def user_for_api_token(secret: str) -> User | None:
    if not secret.startswith(API_TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = await ApiToken.get_or_none(token_sha256=sha256(secret), revoked_at=None).select_related("user")
    if token is None or not token.user.is_active:
        return None
    stamp = now()
    if token.last_used_at is None or stamp - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = stamp
        await token.save(update_fields=["last_used_at"])
    return token.user


# --- one-time links (invitations, password resets, first-run setup) ----------------------

LINK_LIFETIME = {
    LinkPurpose.INVITATION: timedelta(days=14),
    LinkPurpose.PASSWORD_RESET: timedelta(hours=24),
    LinkPurpose.SETUP: timedelta(days=7),
}
LINK_PATH = {
    LinkPurpose.INVITATION: "/invitations/{token}",
    LinkPurpose.PASSWORD_RESET: "/password-reset/{token}",
    LinkPurpose.SETUP: "/setup/{token}",
}


async def issue_link(purpose: LinkPurpose, *, user: User | None = None, created_by: User | None = None) -> str:
    """Create a one-time link and return its path; the secret exists only in that path."""
    if user is not None or purpose == LinkPurpose.SETUP:
        # A new link of the same kind replaces older unused ones.
        await AccountLink.filter(user=user, purpose=purpose, used_at=None).update(used_at=now())
    secret = secrets.token_urlsafe(32)
    await AccountLink.create(
        token_sha256=sha256(secret),
        purpose=purpose,
        user=user,
        created_by=created_by,
        expires_at=now() + LINK_LIFETIME[purpose],
    )
    return LINK_PATH[purpose].format(token=secret)


async def find_link(purpose: LinkPurpose, secret: str) -> AccountLink | None:
    if not secret or len(secret) > 100:
        return None
    link = await AccountLink.get_or_none(token_sha256=sha256(secret), purpose=purpose).select_related("user")
    if link is None or link.used_at is not None or link.expires_at < now():
        return None
    return link


# --- role guards -------------------------------------------------------------------------

Endpoint = Callable[[Request], Awaitable]


def requires(*roles: Role | str) -> Callable[[Endpoint], Endpoint]:
    """Only these roles reach the endpoint. Anonymous: 401 (pages turn it into a login redirect)."""
    allowed = {Role(r) for r in roles} if roles else set(Role)

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request):
            user = request.user
            if not user.is_authenticated:
                raise NotAuthenticated("Please log in to continue.")
            if user.role not in allowed:
                raise Forbidden("This page is not available to your role.")
            return await endpoint(request)

        guarded.allowed_roles = frozenset(allowed)  # read by the authorization table test
        return guarded

    return decorate


def user_of(request: Request) -> User:
    """The logged-in User row (call after `requires`)."""
    return request.user.user


def role_in(user: User, roles: Iterable[Role]) -> bool:
    return user.role in set(roles)
