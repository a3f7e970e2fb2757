"""Passkeys in the browser: adding one, renaming, and signing in with one (static/passkeys.js).

The browser asks for options (JSON), lets the authenticator answer, and posts the answer as
an ordinary form field, so every page stays server-rendered. The challenge's key rides in
the signed session cookie; the challenge itself is on the server (server/accounts/passkeys.py).
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.accounts import User
from server.accounts import passkeys, second_factors, sessions, sign_in
from server.errors import BadRequest, Forbidden, TooManyRequests
from server.web import auth
from server.web.forms import form_data
from server.web.templating import render

CHALLENGE_KEYS = "webauthn"  # in the session cookie: {purpose: the browser's key to its challenge}


def _settings(request: Request):
    return request.app.state.settings


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _remember(request: Request, purpose: str, binding: str) -> None:
    keys = request.session.get(CHALLENGE_KEYS)
    keys = dict(keys) if isinstance(keys, dict) else {}
    keys[purpose] = binding
    request.session[CHALLENGE_KEYS] = keys


def _take(request: Request, purpose: str) -> str | None:
    keys = request.session.get(CHALLENGE_KEYS)
    if not isinstance(keys, dict):
        return None
    keys = dict(keys)
    binding = keys.pop(purpose, None)
    request.session[CHALLENGE_KEYS] = keys
    return binding if isinstance(binding, str) else None


def _json(body: str) -> Response:
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


# --- adding a passkey ---------------------------------------------------------------------------

async def _needs_proof(request: Request, user: User) -> bool:
    """Adding a way in to an account that has one already wants a recent password or code;
    staff setting up their first factor have just given their password."""
    record = auth.session_of(request)
    if record is not None and record.factor_setup_required:
        return False
    return await second_factors.has_factor(user) and not sessions.recently_authenticated(record)


@auth.requires_factor_setup_or_user
async def new_passkey(request: Request) -> Response:
    user = request.user.user
    return await _new_passkey_page(request, user)


async def _new_passkey_page(request: Request, user: User, *, status_code: int = 200, **extra) -> Response:
    return render(request, "accounts/passkey_new.html", {
        "person": user, "needs_proof": await _needs_proof(request, user),
        "required": isinstance(request.user, auth.NeedsFactorSetup), **extra,
    }, status_code=status_code)


@auth.requires_factor_setup_or_user
async def registration_options(request: Request) -> Response:
    user = request.user.user
    if auth.session_of(request) is None:
        raise Forbidden("Add a passkey in a browser, signed in with your password.")
    if await _needs_proof(request, user):
        raise Forbidden("Confirm it is you first: your password or a code, on the passkey page.",
                        code="reauthentication_required")
    options, binding = await passkeys.registration_options(user, _settings(request))
    _remember(request, passkeys.REGISTER, binding)
    return _json(options)


@auth.requires_factor_setup_or_user
async def add_passkey(request: Request) -> Response:
    user = request.user.user
    form = await form_data(request)
    binding = _take(request, passkeys.REGISTER)
    try:
        if await _needs_proof(request, user):
            raise BadRequest("Confirm it is you first: enter your password or a code.", code="reauthentication_required")
        codes = await passkeys.finish_registration(user, _settings(request), response=form.get("credential") or "",
                                                   binding=binding, name=form.get("name") or "")
    except BadRequest as exc:
        return await _new_passkey_page(request, user, error=exc.message, name=form.get("name") or "",
                                       status_code=exc.status_code)
    record = auth.session_of(request)
    next_url = "/account"
    if record is not None and record.factor_setup_required:
        await sessions.factor_added(record)
        next_url = "/"
    return render(request, "accounts/second_factor_added.html",
                  {"codes": codes, "next": next_url, "user": user, "added": "passkey"})


@auth.requires()
async def rename_factor(request: Request) -> Response:
    from server.web.routes.accounts import account_page_with

    user = auth.user_of(request)
    form = await form_data(request)
    factor_id = int(request.path_params["factor_id"])
    await second_factors.own_factor(user, factor_id)  # 404 before asking for proof
    try:
        await auth.confirm_recent(request, form.get("proof"))
        factor = await second_factors.rename_factor(user, factor_id, form.get("name") or "")
    except BadRequest as exc:
        return await account_page_with(request, error=exc.message, status_code=exc.status_code)
    return await account_page_with(request, notice=f"Renamed: {factor.name}.")


# --- signing in with a passkey ------------------------------------------------------------------

async def authentication_options(request: Request) -> Response:
    """?step=second-factor: after the password, for that person's passkeys; otherwise for a
    passkey alone on the sign-in page."""
    user = None
    if request.query_params.get("step") == "second-factor":
        pending = await auth.pending_second_factor(request)
        if pending is None:
            raise BadRequest("Sign in with your password again: that step has expired.", code="passkey_expired")
        user = pending[0]
        if not await passkeys.has_passkey(user):
            raise BadRequest("Your account has no passkey; enter a code instead.", code="no_passkey")
    options, binding = await passkeys.authentication_options(_settings(request), user=user)
    _remember(request, passkeys.SECOND_FACTOR if user else passkeys.SIGN_IN, binding)
    return _json(options)


async def passkey_sign_in(request: Request) -> Response:
    from server.web.routes.accounts import _safe_next
    from server.web.routes.second_factor import signed_in

    form = await form_data(request)
    next_url = _safe_next(form.get("next"))
    binding = _take(request, passkeys.SIGN_IN)
    try:
        user = await sign_in.check_passkey(
            _settings(request), response=form.get("credential") or "", binding=binding,
            client_ip=_client_ip(request), attempts_per_window=_settings(request).login_attempts_per_15_min)
    except (BadRequest, TooManyRequests) as exc:
        return render(request, "accounts/login.html", {"next": next_url, "error": exc.message},
                      status_code=exc.status_code)
    return await signed_in(request, user, next_url, second_factor="passkey", password=False)


async def passkey_second_factor(request: Request, user: User, response: str) -> str:
    """The passkey answer posted to /login/second-factor: 'passkey', or WrongCode."""
    return await sign_in.check_passkey_second_factor(
        user, _settings(request), response=response, binding=_take(request, passkeys.SECOND_FACTOR),
        client_ip=_client_ip(request), attempts_per_window=_settings(request).login_attempts_per_15_min)


routes = [
    Route("/account/passkeys/new", new_passkey, methods=["GET"]),
    Route("/account/passkeys/options", registration_options, methods=["POST"]),
    Route("/account/passkeys", add_passkey, methods=["POST"]),
    Route("/account/second-factor/{factor_id:id}/rename", rename_factor, methods=["POST"]),
    Route("/login/passkey/options", authentication_options, methods=["POST"]),
    Route("/login/passkey", passkey_sign_in, methods=["POST"]),
]
