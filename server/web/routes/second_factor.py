"""The second step of signing in, second factors on the account page, and sessions.

Registered through routes/accounts.py's route list (the accounts area owns sign-in).
"""
from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role, User
from server import clock
from server.accounts import passkeys, second_factors, sessions, sign_in
from server.errors import BadRequest, NotFound, TooManyRequests
from server.web import auth
from server.web.forms import form_data
from server.web.routes import passkeys as passkey_routes
from server.web.templating import render

FAILED_ATTEMPTS = "failed_attempts"  # shown once after signing in, then forgotten


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _settings(request: Request):
    return request.app.state.settings


# --- signing in, step two -----------------------------------------------------------------

async def after_password(request: Request, user: User, next_url: str) -> Response:
    """The password (or a link) was right: ask for the second factor, or sign in."""
    if await second_factors.has_factor(user):
        auth.await_second_factor(request, user, next_url)
        return RedirectResponse("/login/second-factor", status_code=303)
    return await signed_in(request, user, next_url, second_factor=None)


async def signed_in(request: Request, user: User, next_url: str, *, second_factor: str | None,
                    password: bool = True) -> Response:
    signed = await sign_in.complete_sign_in(
        user, _settings(request), user_agent=request.headers.get("user-agent", ""),
        client_ip=_client_ip(request), second_factor=second_factor, password=password,
    )
    auth.log_in(request, signed)
    if signed.session.factor_setup_required:
        return RedirectResponse(auth.SETUP_PAGE, status_code=303)
    if signed.failed_attempts:
        request.session[FAILED_ATTEMPTS] = {
            "count": signed.failed_attempts,
            "last": signed.last_failure_at.isoformat() if signed.last_failure_at else "",
            "next": next_url,
        }
        return RedirectResponse("/login/attempts", status_code=303)
    return RedirectResponse(next_url, status_code=303)


async def second_factor_step(request: Request) -> Response:
    pending = await auth.pending_second_factor(request)
    if pending is None:
        return RedirectResponse("/login", status_code=303)
    user, next_url = pending
    context = {"person": user, "has_passkey": await passkeys.has_passkey(user),
               "has_totp": await second_factors.has_totp(user),
               "has_code": await second_factors.has_code_factor(user)}
    if request.method == "GET":
        return render(request, "accounts/second_factor.html", context)
    form = await form_data(request)
    try:
        if form.get("passkey"):
            kind = await passkey_routes.passkey_second_factor(request, user, form.get("passkey") or "")
        else:
            kind = await sign_in.check_second_factor(
                user, form.get("code") or "", _settings(request), client_ip=_client_ip(request),
                attempts_per_window=_settings(request).login_attempts_per_15_min,
            )
    except (BadRequest, TooManyRequests) as exc:
        return render(request, "accounts/second_factor.html", {**context, "error": exc.message},
                      status_code=exc.status_code)
    return await signed_in(request, user, next_url, second_factor=kind)


@auth.requires()
async def failed_attempts(request: Request) -> Response:
    notice = request.session.pop(FAILED_ATTEMPTS, None)
    if not isinstance(notice, dict):
        return RedirectResponse("/", status_code=303)
    last = datetime.fromisoformat(notice["last"]) if notice.get("last") else None
    return render(request, "accounts/login_attempts.html",
                  {"count": int(notice.get("count", 0)), "last": last, "next": str(notice.get("next") or "/")})


# --- adding an authenticator ----------------------------------------------------------------

@auth.requires_factor_setup_or_user
async def totp_setup(request: Request) -> Response:
    user = request.user.user
    if request.method == "GET":
        return await _setup_page(request, user)
    form = await form_data(request)
    try:
        codes = await second_factors.confirm_totp(user, form.get("code") or "", name=form.get("name") or "",
                                                  settings=_settings(request))
    except BadRequest as exc:
        return await _setup_page(request, user, error=exc.message, name=form.get("name") or "", status_code=400)
    record = auth.session_of(request)
    next_url = "/account"
    if record is not None and record.factor_setup_required:
        await sessions.factor_added(record)
        next_url = "/"
    return render(request, "accounts/second_factor_added.html", {"codes": codes, "next": next_url,
                                                                  "user": user})


async def _setup_page(request: Request, user: User, *, status_code: int = 200, **extra) -> Response:
    secret = await second_factors.begin_totp(user, _settings(request))
    uri = second_factors.provisioning_uri(secret, user)
    required = isinstance(request.user, auth.NeedsFactorSetup)
    return render(request, "accounts/second_factor_setup.html", {
        "person": user, "secret": secret, "qr": second_factors.qr_svg(uri), "uri": uri,
        "required": required, **extra,
    }, status_code=status_code)


@auth.requires()
async def remove_factor(request: Request) -> Response:
    form = await form_data(request)
    from server.web.routes.accounts import account_page_with

    await second_factors.own_factor(auth.user_of(request), _id(request, "factor_id"))  # 404 before asking
    try:
        await auth.confirm_recent(request, form.get("proof"))
        factor = await second_factors.remove_factor(auth.user_of(request), _id(request, "factor_id"),
                                                    settings=_settings(request))
    except BadRequest as exc:
        return await account_page_with(request, error=exc.message, status_code=exc.status_code)
    return await account_page_with(request, notice=f"The {factor.kind_label} {factor.name} was removed.")


@auth.requires()
async def new_recovery_codes(request: Request) -> Response:
    form = await form_data(request)
    from server.web.routes.accounts import account_page_with

    try:
        await auth.confirm_recent(request, form.get("proof"))
        codes = await second_factors.regenerate_recovery_codes(auth.user_of(request))
    except BadRequest as exc:
        return await account_page_with(request, error=exc.message, status_code=exc.status_code)
    return render(request, "accounts/second_factor_added.html", {"codes": codes, "next": "/account", "renewed": True})


@auth.requires(Role.COORDINATOR)
async def reset_factors(request: Request) -> Response:
    person = await User.get_or_none(id=_id(request, "user_id"))
    if person is None:
        raise NotFound("There is no such person.")
    form = await form_data(request)
    from server.web.routes.accounts import people_page_with

    try:
        await auth.confirm_recent(request, form.get("proof"))
        await second_factors.reset_factors(person, by=auth.user_of(request), settings=_settings(request))
    except BadRequest as exc:
        return await people_page_with(request, error=exc.message, status_code=exc.status_code)
    await sessions.end_all(person, "second factors reset", actor=auth.user_of(request))
    return await people_page_with(
        request, notice=f"{person.display_name}'s second factors were reset and their sessions ended. "
                        "They set up an authenticator app or a passkey when they next sign in.")


@auth.requires()
async def reauthenticate(request: Request) -> Response:
    """The password or a code again, ahead of sensitive actions (they also take it inline)."""
    form = await form_data(request)
    from server.web.routes.accounts import _safe_next, account_page_with

    try:
        await auth.confirm_recent(request, form.get("proof") or "", always=True)
    except BadRequest as exc:
        return await account_page_with(request, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(_safe_next(form.get("next") or "/account"), status_code=303)


# --- sessions -------------------------------------------------------------------------------

@auth.requires()
async def end_session(request: Request) -> Response:
    ended = await sessions.end_own_session(auth.user_of(request), _id(request, "session_id"))
    current = auth.session_of(request)
    if current is not None and ended.id == current.id:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/account#sessions", status_code=303)


@auth.requires_factor_setup_or_user
async def session_status(request: Request) -> Response:
    """How long this browser's session has left (asking is not activity)."""
    return JSONResponse(_status(request))


@auth.requires_factor_setup_or_user
async def keep_alive(request: Request) -> Response:
    """Activity without a page load: the live board while a meeting runs, 'stay signed in'."""
    record = auth.session_of(request)
    if record is not None:
        await sessions.touch(record)
    return JSONResponse(_status(request))


def _status(request: Request) -> dict:
    record = auth.session_of(request)
    if record is None:  # a bearer token: no session to expire
        return {"session": False}
    idle_until, absolute_until = sessions.expiry(record, _settings(request), request.user.user.role)
    ends = min(idle_until, absolute_until)
    return {
        "session": True,
        "ends_at": ends.isoformat(),
        "ends_for": "inactivity" if idle_until <= absolute_until else "session length",
        "seconds_left": max(0, int((ends - clock.now()).total_seconds())),
    }


def _id(request: Request, name: str) -> int:
    return int(request.path_params[name])


async def account_sections(request: Request) -> dict:
    """What the account page shows about factors and sessions."""
    user = auth.user_of(request)
    current = auth.session_of(request)
    return {
        "factors": await second_factors.factors(user),
        "recovery_left": await second_factors.recovery_codes_left(user),
        "factor_required": second_factors.must_have_factor(user, _settings(request)),
        "sessions": await sessions.active_sessions(user, _settings(request)),
        "current_session_id": current.id if current else None,
        "needs_proof": not sessions.recently_authenticated(current),
    }


routes = [
    Route("/login/second-factor", second_factor_step, methods=["GET", "POST"]),
    Route("/login/attempts", failed_attempts, methods=["GET"]),
    Route("/account/second-factor", totp_setup, methods=["GET", "POST"]),
    Route("/account/second-factor/{factor_id:id}/remove", remove_factor, methods=["POST"]),
    Route("/account/recovery-codes", new_recovery_codes, methods=["POST"]),
    Route("/account/sessions/{session_id:id}/end", end_session, methods=["POST"]),
    Route("/account/reauthenticate", reauthenticate, methods=["POST"]),
    Route("/people/{user_id:id}/second-factors/reset", reset_factors, methods=["POST"]),
    Route("/session/status", session_status, methods=["GET"]),
    Route("/session/keepalive", keep_alive, methods=["POST"]),
    *passkey_routes.routes,
]
