"""Logging in and out, first-run setup, invitations, password resets, the account page."""
from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from models.accounts import ApiToken, LinkPurpose, Role, User
from server import accounts, clock
from server.errors import BadRequest, Conflict, NotFound, TooManyRequests
from server.web import auth
from server.web.forms import form_data, require_text
from server.web.routes.feeds import (
    account_feed_section,  # the calendar card belongs to the feeds area
)
from server.web.templating import render


def _safe_next(value: str | None) -> str:
    # Only same-site paths, so a login link can never bounce someone to another site.
    if not value or not value.startswith("/") or value.startswith("//") or urlsplit(value).netloc:
        return "/"
    return value


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def login(request: Request) -> Response:
    if request.method == "GET":
        if request.user.is_authenticated:
            return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
        return render(request, "accounts/login.html", {"next": _safe_next(request.query_params.get("next"))})
    form = await form_data(request)
    next_url = _safe_next(form.get("next"))
    raw_email = (form.get("email") or "").strip()
    password = form.get("password") or ""
    settings = request.app.state.settings
    try:
        email = accounts.normalize_email(raw_email)
        await accounts.check_login_throttle(email, _client_ip(request), settings.login_attempts_per_15_min)
    except (BadRequest, TooManyRequests) as exc:
        return render(
            request, "accounts/login.html",
            {"next": next_url, "email": raw_email, "error": exc.message}, status_code=exc.status_code,
        )
    user = await User.get_or_none(email=email, is_active=True)
    if not await request.app.state.passwords.verify(user, password):
        await accounts.record_login_failure(email, _client_ip(request))
        return render(
            request, "accounts/login.html",
            {"next": next_url, "email": raw_email, "error": "That e-mail and password do not match an account."},
            status_code=400,
        )
    await accounts.clear_login_failures(email)
    user.last_login_at = clock.now()
    await user.save(update_fields=["last_login_at"])
    auth.log_in(request, user)
    return RedirectResponse(next_url, status_code=303)


async def logout(request: Request) -> Response:
    auth.log_out(request)
    return RedirectResponse("/login", status_code=303)


@auth.requires()
async def logout_everywhere(request: Request) -> Response:
    user = auth.user_of(request)
    await accounts.log_out_everywhere(user)
    auth.log_out(request)
    return RedirectResponse("/login?signed_out=everywhere", status_code=303)


# --- first run -----------------------------------------------------------------------------

async def setup(request: Request) -> Response:
    link = await accounts.find_link(LinkPurpose.SETUP, request.path_params["token"])
    if link is None or await User.filter(role=Role.COORDINATOR).exists():
        raise NotFound("This setup link has been used or has expired. Log in instead.")
    if request.method == "GET":
        return render(request, "accounts/setup.html", {})
    form = await form_data(request)
    values = {"display_name": form.get("display_name", ""), "email": form.get("email", "")}
    try:
        name = require_text(form, "display_name", "Your name", max_length=120)
        email = accounts.normalize_email(form.get("email", ""))
        password_hash = await request.app.state.passwords.hash(form.get("password", ""))
        if form.get("password") != form.get("password_again"):
            raise BadRequest("The two passwords differ.", fields={"password_again": "Type the same password twice."})
    except BadRequest as exc:
        return render(request, "accounts/setup.html", {"error": exc.message, "values": values}, status_code=400)
    async with in_transaction():
        if await User.filter(role=Role.COORDINATOR).exists():
            raise Conflict("A coordinator was created a moment ago. Log in instead.")
        user = await User.create(email=email, display_name=name, password_hash=password_hash, role=Role.COORDINATOR)
        link.used_at = clock.now()
        await link.save(update_fields=["used_at"])
    auth.log_in(request, user)
    if form.get("load_demo") == "yes":
        from server.demo import load_demo

        demo = await load_demo(request.app.state.settings, coordinator=user)
        return render(request, "accounts/demo_loaded.html", {"demo": demo})
    return RedirectResponse("/", status_code=303)


# --- invitations and password resets ------------------------------------------------------

async def _choose_password(request: Request, purpose: LinkPurpose, template: str) -> Response:
    link = await accounts.find_link(purpose, request.path_params["token"])
    if link is None or link.user is None or not link.user.is_active:
        raise NotFound("This link has been used or has expired. Ask your coordinator for a new one.")
    user = link.user
    if request.method == "GET":
        return render(request, template, {"person": user})
    form = await form_data(request)
    try:
        if form.get("password") != form.get("password_again"):
            raise BadRequest("The two passwords differ.", fields={"password_again": "Type the same password twice."})
        user.password_hash = await request.app.state.passwords.hash(form.get("password", ""))
    except BadRequest as exc:
        return render(request, template, {"person": user, "error": exc.message}, status_code=400)
    async with in_transaction():
        user.session_epoch += 1  # a new password ends every other session
        await user.save(update_fields=["password_hash", "session_epoch"])
        link.used_at = clock.now()
        await link.save(update_fields=["used_at"])
    auth.log_in(request, user)
    return RedirectResponse("/", status_code=303)


async def accept_invitation(request: Request) -> Response:
    return await _choose_password(request, LinkPurpose.INVITATION, "accounts/invitation.html")


async def reset_password(request: Request) -> Response:
    return await _choose_password(request, LinkPurpose.PASSWORD_RESET, "accounts/reset.html")


# --- people (coordinators) -----------------------------------------------------------------

@auth.requires(Role.COORDINATOR)
async def people(request: Request) -> Response:
    users = await User.all().order_by("role", "display_name")
    return render(request, "accounts/people.html", {"people": users, "roles": list(Role)})


async def invite_person(*, email: str, display_name: str, role: Role, invited_by: User) -> tuple[User, str]:
    """Create an account without a password and the invitation link that completes it."""
    email = accounts.normalize_email(email)
    if await User.filter(email=email).exists():
        raise Conflict(f"{email} already has an account.", fields={"email": "Already registered."})
    async with in_transaction():
        user = await User.create(email=email, display_name=display_name, role=role)
        path = await accounts.issue_link(LinkPurpose.INVITATION, user=user, created_by=invited_by)
    return user, path


@auth.requires(Role.COORDINATOR)
async def invite(request: Request) -> Response:
    form = await form_data(request)
    try:
        name = require_text(form, "display_name", "Name", max_length=120)
        try:
            role = Role(form.get("role", ""))
        except ValueError:
            raise BadRequest("Choose a role: coordinator, facilitator or member.", fields={"role": "Required."}) from None
        person, path = await invite_person(
            email=form.get("email", ""), display_name=name, role=role, invited_by=auth.user_of(request)
        )
    except BadRequest as exc:
        users = await User.all().order_by("role", "display_name")
        return render(
            request, "accounts/people.html",
            {"people": users, "roles": list(Role), "error": exc.message, "values": dict(form)},
            status_code=exc.status_code,
        )
    return render(
        request, "accounts/link_issued.html",
        {"person": person, "link": request.app.state.settings.base_url + path, "purpose": "invitation"},
    )


@auth.requires(Role.COORDINATOR)
async def issue_reset(request: Request) -> Response:
    person = await User.get_or_none(id=_int(request.path_params["user_id"]))
    if person is None:
        raise NotFound("There is no such person.")
    path = await accounts.issue_link(LinkPurpose.PASSWORD_RESET, user=person, created_by=auth.user_of(request))
    return render(
        request, "accounts/link_issued.html",
        {"person": person, "link": request.app.state.settings.base_url + path, "purpose": "password reset"},
    )


# --- account page ------------------------------------------------------------------------

async def _account_context(request: Request, **extra) -> dict:
    user = auth.user_of(request)
    tokens = await ApiToken.filter(user=user, revoked_at=None).order_by("-created_at")
    context = {"tokens": tokens}
    context["feed_section"] = await account_feed_section(request)
    context.update(extra)
    return context


@auth.requires()
async def account(request: Request) -> Response:
    return render(request, "accounts/account.html", await _account_context(request))


@auth.requires()
async def change_password(request: Request) -> Response:
    user = auth.user_of(request)
    form = await form_data(request)
    passwords = request.app.state.passwords
    try:
        if not await passwords.verify(user, form.get("current_password", "")):
            raise BadRequest("Your current password is not right.", fields={"current_password": "Check it."})
        if form.get("password") != form.get("password_again"):
            raise BadRequest("The two new passwords differ.", fields={"password_again": "Type the same password twice."})
        user.password_hash = await passwords.hash(form.get("password", ""))
    except BadRequest as exc:
        return render(request, "accounts/account.html", await _account_context(request, error=exc.message), status_code=400)
    user.session_epoch += 1
    await user.save(update_fields=["password_hash", "session_epoch"])
    auth.log_in(request, user)  # keep this session, end the others
    return render(request, "accounts/account.html", await _account_context(request, notice="Your password was changed. Other sessions were logged out."))


@auth.requires()
async def create_token(request: Request) -> Response:
    form = await form_data(request)
    try:
        token, secret = await accounts.create_api_token(auth.user_of(request), form.get("name", ""))
    except BadRequest as exc:
        return render(request, "accounts/account.html", await _account_context(request, error=exc.message), status_code=400)
    return render(request, "accounts/account.html", await _account_context(request, new_token=secret, new_token_name=token.name))


@auth.requires()
async def revoke_token(request: Request) -> Response:
    await accounts.revoke_api_token(auth.user_of(request), _int(request.path_params["token_id"]))
    return RedirectResponse("/account", status_code=303)


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise NotFound("There is no such record.") from None


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/account", account, methods=["GET"]),
    Route("/account/password", change_password, methods=["POST"]),
    Route("/account/logout-everywhere", logout_everywhere, methods=["POST"]),
    Route("/account/tokens", create_token, methods=["POST"]),
    Route("/account/tokens/{token_id:id}/revoke", revoke_token, methods=["POST"]),
    Route("/setup/{token}", setup, methods=["GET", "POST"]),
    Route("/invitations/{token}", accept_invitation, methods=["GET", "POST"]),
    Route("/password-reset/{token}", reset_password, methods=["GET", "POST"]),
    Route("/people", people, methods=["GET"]),
    Route("/people/invite", invite, methods=["POST"]),
    Route("/people/{user_id:id}/password-reset", issue_reset, methods=["POST"]),
]
