"""Who is asking, bound to the request: session cookies, bearer tokens, and role guards.

The request-free half (passwords, tokens, links, throttling) is server/accounts."""
from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.requests import HTTPConnection, Request

from models.accounts import Role, User
from server.accounts.tokens import user_for_api_token
from server.errors import Forbidden, NotAuthenticated

SESSION_USER = "uid"
SESSION_EPOCH = "epoch"


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
