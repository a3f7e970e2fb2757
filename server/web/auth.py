"""Who is asking, bound to the request: session cookies, bearer tokens, and role guards.

The request-free half (passwords, tokens, links, throttling) is server/accounts."""
from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Iterable

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.requests import HTTPConnection, Request

from starlette.responses import RedirectResponse

from models.accounts import Role, SignInSession, User
from server.accounts import sessions, sign_in
from server.accounts.sign_in import SignedIn
from server.accounts.tokens import user_for_api_token
from server.errors import BadRequest, Forbidden, NotAuthenticated

SESSION_KEY = "sid"  # the key of the server-side session record (server/accounts/sessions.py)
SESSION_USER = "uid"
SESSION_EPOCH = "epoch"  # read by the board socket too (routes/boards.py)
PENDING = "pending"  # password checked, second factor not yet: {uid, epoch, at, next}
PENDING_LIFETIME = 600  # seconds to enter the code after the password
# Asking how long is left is not activity: the page's timer must not keep a session alive.
PASSIVE_PATHS = {"/session/status"}
SETUP_PAGE = "/account/second-factor"


class Anonymous(BaseUser):
    id = None
    role = None
    display_name = ""

    @property
    def is_authenticated(self) -> bool:
        return False


class Authenticated(BaseUser):
    """Wraps the User row so Starlette's request.user works; attributes pass through."""

    def __init__(self, user: User, *, via_token: bool = False, session: SignInSession | None = None):
        self.user = user
        self.via_token = via_token
        self.session = session

    def __getattr__(self, name):
        return getattr(self.user, name)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:  # BaseUser defines it; take the row's
        return self.user.display_name


class NeedsFactorSetup(BaseUser):
    """Signed in with a password, but staff must add a second factor before anything else:
    not authenticated for any page but the set-up ones."""

    def __init__(self, user: User, session: SignInSession):
        self.user = user
        self.session = session
        self.via_token = False

    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def display_name(self) -> str:
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
        cookie = conn.scope.get("session") or {}
        key = cookie.get(SESSION_KEY)
        if not isinstance(key, str):
            if SESSION_USER in cookie:
                cookie.clear()  # a cookie from before server-side sessions, or a forged shape
            return None
        path = conn.scope.get("path", "")
        record = await sessions.open_session(key, conn.app.state.settings, touch=path not in PASSIVE_PATHS)
        user = record.user if record else None
        if user is None or not user.is_active or cookie.get(SESSION_EPOCH) != user.session_epoch \
                or cookie.get(SESSION_USER) != user.id:
            cookie.clear()
            return None
        if record.factor_setup_required:
            # Not authenticated anywhere: `requires` sends it to SETUP_PAGE, and only the
            # set-up pages (requires_factor_setup_or_user) and signing out accept it.
            return AuthCredentials(["factor_setup"]), NeedsFactorSetup(user, record)
        return AuthCredentials(["authenticated", user.role]), Authenticated(user, session=record)


def log_in(request: Request, signed: SignedIn) -> None:
    # A fresh session on login so a planted cookie is never promoted (session fixation).
    request.session.clear()
    request.session[SESSION_KEY] = signed.key
    request.session[SESSION_USER] = signed.session.user_id
    request.session[SESSION_EPOCH] = signed.session.user.session_epoch


def keep_session_after_password_change(request: Request, user: User) -> None:
    """The password change bumped the epoch that every cookie carries: this one follows it."""
    request.session[SESSION_EPOCH] = user.session_epoch


async def log_out(request: Request, reason: str = "signed out") -> None:
    record = getattr(request.user, "session", None)
    if record is not None:
        await sessions.end(record, reason, actor=request.user.user)
    request.session.clear()


def await_second_factor(request: Request, user: User, next_url: str) -> None:
    """The password was right; remember who, for a few minutes, until the code is entered."""
    request.session.clear()
    request.session[PENDING] = {"uid": user.id, "epoch": user.session_epoch, "at": int(time.time()), "next": next_url}


async def pending_second_factor(request: Request) -> tuple[User, str] | None:
    """(the person whose password was right, where they were going), if still in time."""
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("uid"), int):
        return None
    if not isinstance(pending.get("at"), int) or time.time() - pending["at"] > PENDING_LIFETIME:
        request.session.pop(PENDING, None)
        return None
    user = await User.get_or_none(id=pending["uid"], is_active=True)
    if user is None or user.session_epoch != pending.get("epoch"):
        request.session.pop(PENDING, None)
        return None
    return user, str(pending.get("next") or "/")


def session_of(request: Request) -> SignInSession | None:
    return getattr(request.user, "session", None)


async def confirm_recent(request: Request, proof: str | None, *, always: bool = False) -> None:
    """Sensitive actions (factor resets, API tokens): the password or a code again when the
    last one is older than five minutes. The form keeps its other fields on refusal."""
    record = session_of(request)
    if record is None:
        raise Forbidden("Sign in in a browser to do this: it asks for your password again.")
    if sessions.recently_authenticated(record) and not always:
        return
    if not proof:
        raise BadRequest("To do this, confirm it is you: enter your password, or a code from your "
                         "authenticator app.", fields={"proof": "Required."}, code="reauthentication_required")
    await sign_in.reauthenticate(request.app.state.passwords, request.app.state.settings, record,
                                 user_of(request), proof)


# --- role guards -------------------------------------------------------------------------

Endpoint = Callable[[Request], Awaitable]


def requires(*roles: Role | str) -> Callable[[Endpoint], Endpoint]:
    """Only these roles reach the endpoint. Anonymous: 401 (pages turn it into a login redirect)."""
    allowed = {Role(r) for r in roles} if roles else set(Role)

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request):
            user = request.user
            if isinstance(user, NeedsFactorSetup):
                if request.url.path.startswith("/api/"):
                    raise Forbidden("Set up a second factor on the account page first.", code="second_factor_required")
                return RedirectResponse(SETUP_PAGE, status_code=303)
            if not user.is_authenticated:
                raise NotAuthenticated("Please log in to continue.")
            if user.role not in allowed:
                raise Forbidden("This page is not available to your role.")
            return await endpoint(request)

        guarded.allowed_roles = frozenset(allowed)  # read by the authorization table test
        return guarded

    return decorate


def requires_factor_setup_or_user(endpoint: Endpoint) -> Endpoint:
    """Any signed-in person, including staff who are still to add a required second factor."""

    @functools.wraps(endpoint)
    async def guarded(request: Request):
        if not request.user.is_authenticated and not isinstance(request.user, NeedsFactorSetup):
            raise NotAuthenticated("Please log in to continue.")
        return await endpoint(request)

    guarded.allowed_roles = frozenset(Role)
    return guarded


def user_of(request: Request) -> User:
    """The logged-in User row (call after `requires`)."""
    return request.user.user


def role_in(user: User, roles: Iterable[Role]) -> bool:
    return user.role in set(roles)
