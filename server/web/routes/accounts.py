"""Logging in and out, first-run setup, invitations, password resets, the account page."""
from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.expressions import Q

from models.accounts import ApiToken, LinkPurpose, Role, User
from models.supervision import Supervision
from server import accounts
from server.accounts import setup as first_run
from server.accounts import link_mail, sign_in
from server.accounts.setup import invite_person  # noqa: F401  (routes/api.py imports it from here)
from server.errors import REFUSALS, BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, refusal
from server.supervision import assignments
from server.web import auth, paging
from server.web.forms import form_data, require_text
from server.web.routes import second_factor
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
        if isinstance(request.user, auth.NeedsFactorSetup):
            return RedirectResponse(auth.SETUP_PAGE, status_code=303)
        if request.user.is_authenticated:
            return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
        return render(request, "accounts/login.html", {"next": _safe_next(request.query_params.get("next"))})
    form = await form_data(request)
    next_url = _safe_next(form.get("next"))
    raw_email = (form.get("email") or "").strip()
    try:
        user = await sign_in.check_password(
            request.app.state.passwords, email=raw_email, password=form.get("password") or "",
            client_ip=_client_ip(request), attempts_per_window=request.app.state.settings.login_attempts_per_15_min,
        )
    except (BadRequest, TooManyRequests) as exc:
        return render(
            request, "accounts/login.html",
            {"next": next_url, "email": raw_email, "error": exc.message}, status_code=exc.status_code,
        )
    return await second_factor.after_password(request, user, next_url)


async def logout(request: Request) -> Response:
    await auth.log_out(request)
    return RedirectResponse("/login", status_code=303)


@auth.requires()
async def logout_everywhere(request: Request) -> Response:
    user = auth.user_of(request)
    await accounts.log_out_everywhere(user)
    request.session.clear()
    return RedirectResponse("/login?signed_out=everywhere", status_code=303)


# --- first run -----------------------------------------------------------------------------

async def setup(request: Request) -> Response:
    link = await first_run.open_setup_link(request.path_params["token"])
    if request.method == "GET":
        return render(request, "accounts/setup.html", {})
    form = await form_data(request)
    values = {"display_name": form.get("display_name", ""), "email": form.get("email", "")}
    try:
        name = require_text(form, "display_name", "Your name", max_length=120)
        user = await first_run.create_first_coordinator(
            link, request.app.state.passwords, display_name=name, email=form.get("email", ""),
            password=form.get("password", ""), password_again=form.get("password_again", ""),
        )
    except Conflict:
        raise
    except BadRequest as exc:
        return render(request, "accounts/setup.html", {"error": exc.message, "values": values}, status_code=400)
    response = await second_factor.after_password(request, user, "/")
    if form.get("load_demo") == "yes":
        from server.demo import load_demo

        demo = await load_demo(request.app.state.settings, coordinator=user)
        return render(request, "accounts/demo_loaded.html", {"demo": demo})
    return response


# --- invitations and password resets ------------------------------------------------------

async def _choose_password(request: Request, purpose: LinkPurpose, template: str) -> Response:
    link = await first_run.open_password_link(purpose, request.path_params["token"])
    if request.method == "GET":
        return render(request, template, {"person": link.user})
    form = await form_data(request)
    try:
        user = await first_run.choose_password_from_link(
            link, request.app.state.passwords,
            password=form.get("password", ""), password_again=form.get("password_again", ""),
        )
    except BadRequest as exc:
        return render(request, template, {"person": link.user, "error": exc.message}, status_code=400)
    # A link proves the mailbox, not the second factor: a person who has one still enters it.
    return await second_factor.after_password(request, user, "/")


async def accept_invitation(request: Request) -> Response:
    return await _choose_password(request, LinkPurpose.INVITATION, "accounts/invitation.html")


async def reset_password(request: Request) -> Response:
    return await _choose_password(request, LinkPurpose.PASSWORD_RESET, "accounts/reset.html")


# --- people (coordinators) -----------------------------------------------------------------

@auth.requires(Role.COORDINATOR)
async def people(request: Request) -> Response:
    return await people_page_with(request)


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
        return await people_page_with(request, error=exc.message, values=dict(form), status_code=exc.status_code)
    settings = request.app.state.settings
    link = settings.base_url + path
    mail = await link_mail.mail_link(link_mail.LinkKind.INVITATION, person, link, settings=settings,
                                     by=auth.user_of(request))
    return render(request, "accounts/link_issued.html",
                  {"person": person, "link": link, "purpose": "invitation", "mail": mail,
                   "lifetime": accounts.lifetime_words(LinkPurpose.INVITATION)})


@auth.requires(Role.COORDINATOR)
async def issue_reset(request: Request) -> Response:
    person = await User.get_or_none(id=_int(request.path_params["user_id"]))
    if person is None:
        raise NotFound("There is no such person.")
    path = await accounts.issue_link(LinkPurpose.PASSWORD_RESET, user=person, created_by=auth.user_of(request))
    return render(
        request, "accounts/link_issued.html",
        {"person": person, "link": request.app.state.settings.base_url + path, "purpose": "password reset",
         "kind": link_mail.LinkKind.PASSWORD_RESET.value, "lifetime": accounts.lifetime_words(LinkPurpose.PASSWORD_RESET)},
    )


@auth.requires(Role.COORDINATOR)
async def send_link(request: Request) -> Response:
    """E-mail a person a new invitation or password-reset link, or their calendar link; the
    page says whether it went or waits in the outbox, and never shows the link itself."""
    form = await form_data(request)
    person_id = _row_id(str(form.get("user_id") or ""))
    person = await User.get_or_none(id=person_id) if person_id else None
    if person is None:
        return await people_page_with(request, error="Choose a person to e-mail a link to.", status_code=400)
    try:
        sent = await link_mail.send_link(form.get("kind", ""), person, by=auth.user_of(request),
                                         settings=request.app.state.settings)
    except BadRequest as exc:
        return await people_page_with(request, error=exc.message, status_code=exc.status_code)
    what = {link_mail.LinkKind.INVITATION: "A new invitation link",
            link_mail.LinkKind.PASSWORD_RESET: "A password reset link",
            link_mail.LinkKind.CALENDAR: f"{person.first_name or person.display_name}'s calendar link"}[sent.kind]
    notice = f"{what}: {sent.mail.words}"
    if sent.kind is not link_mail.LinkKind.CALENDAR:
        notice += " Any earlier link of that kind stopped working."
    elif sent.replaced:
        notice += " Their old calendar link could not be shown again, so a new one was made and the old one stopped working."
    return await people_page_with(request, notice=notice)


# --- account page ------------------------------------------------------------------------

async def _account_context(request: Request, **extra) -> dict:
    user = auth.user_of(request)
    tokens = await ApiToken.filter(user=user, revoked_at=None).order_by("-created_at")
    context = {"tokens": tokens, **await second_factor.account_sections(request)}
    context["feed_section"] = await account_feed_section(request)
    context.update(extra)
    return context


@auth.requires()
async def account(request: Request) -> Response:
    return render(request, "accounts/account.html", await _account_context(request))


async def account_page_with(request: Request, *, status_code: int = 200, **extra) -> Response:
    return render(request, "accounts/account.html", await _account_context(request, **extra), status_code=status_code)


PEOPLE_ORDER = paging.Keyset("people", (paging.SortKey("role", load=Role), paging.SortKey("display_name"),
                                         paging.SortKey("id")))


async def people_page_with(request: Request, *, status_code: int = 200, **extra) -> Response:
    """A page of people by role and name, filtered by `q` (name or e-mail, any case) and `role`."""
    query = User.all()
    search = paging.text_filter(request, "q")
    if search:
        query = query.filter(Q(display_name__icontains=search) | Q(email__icontains=search))
    role = request.query_params.get("role", "")
    if role:
        if role not in {r.value for r in Role}:
            raise BadRequest("role must be coordinator, facilitator or member.", fields={"role": "Unknown."})
        query = query.filter(role=role)
    page = await paging.fetch(request, query, PEOPLE_ORDER, paging.page_request(request, PEOPLE_ORDER))
    return render(request, "accounts/people.html", {
        "people": page.rows, "roles": list(Role), "supervision": await _supervision_words([p.id for p in page.rows]),
        "filters": {"q": search, "role": role}, "paging": paging.links(request, page), **extra,
    }, status_code=status_code)


async def _supervision_words(person_ids: list[int]) -> dict[int, str]:
    """'supervises 2' / 'supervised by Sam Supervisor' per person of the page, from one query."""
    counts: dict[int, int] = {}
    names: dict[int, list[str]] = {}
    if not person_ids:
        return {}
    rows = Supervision.filter(Q(supervisor_id__in=person_ids) | Q(facilitator_id__in=person_ids))
    for row in await rows.select_related("supervisor"):
        counts[row.supervisor_id] = counts.get(row.supervisor_id, 0) + 1
        names.setdefault(row.facilitator_id, []).append(row.supervisor.display_name)
    words: dict[int, str] = {}
    for person_id in counts.keys() | names.keys():
        parts = []
        if person_id in counts:
            parts.append(f"supervises {counts[person_id]}")
        if person_id in names:
            parts.append("supervised by " + ", ".join(sorted(names[person_id])))
        words[person_id] = "; ".join(parts)
    return words


# --- one person: who they supervise (coordinators) ----------------------------------------

async def _person(request: Request) -> User:
    person = await User.get_or_none(id=_int(request.path_params["user_id"]))
    if person is None:
        raise NotFound("There is no such person.")
    return person


async def _person_page(request: Request, person: User, *, status_code: int = 200, **extra) -> Response:
    chosen = extra.pop("chosen", None)
    current = await assignments.supervisees(person)
    facilitators = await User.filter(role=Role.FACILITATOR, is_active=True).exclude(id=person.id) \
        .order_by("display_name", "id")
    return render(request, "accounts/person.html", {
        "person": person, "facilitators": facilitators,
        "chosen": set(chosen) if chosen is not None else {f.id for f in current},
        "supervisees": current, "supervisors": await assignments.supervisors_of(person),
        "may_supervise": person.role != Role.MEMBER and person.is_active and person.is_clinician,
        **extra,
    }, status_code=status_code)


@auth.requires(Role.COORDINATOR)
async def person_page(request: Request) -> Response:
    return await _person_page(request, await _person(request))


@auth.requires(Role.COORDINATOR)
async def set_supervisees(request: Request) -> Response:
    person = await _person(request)
    form = await form_data(request)
    raw = [str(value) for value in form.getlist("facilitator_ids")]
    wanted = [number for number in map(_row_id, raw) if number is not None]
    try:
        if len(wanted) != len(raw):
            raise BadRequest("Choose facilitators from the list.", fields={"facilitator_ids": "Not a person."})
        current = await assignments.set_supervisees(person, wanted, by=auth.user_of(request))
    except REFUSALS as refused:
        exc = refusal(refused)
        return await _person_page(request, person, error=exc.message, chosen=wanted, status_code=exc.status_code)
    notice = (f"{person.display_name} now supervises " + ", ".join(p.display_name for p in current) + "."
              if current else f"{person.display_name} supervises nobody now.")
    return await _person_page(request, person, notice=notice)


@auth.requires()
async def change_password(request: Request) -> Response:
    user = auth.user_of(request)
    form = await form_data(request)
    try:
        await sign_in.change_password(
            request.app.state.passwords, user, keep=auth.session_of(request), current=form.get("current_password", ""),
            password=form.get("password", ""), password_again=form.get("password_again", ""),
        )
    except BadRequest as exc:
        return render(request, "accounts/account.html", await _account_context(request, error=exc.message), status_code=400)
    auth.keep_session_after_password_change(request, user)
    return render(request, "accounts/account.html", await _account_context(request, notice="Your password was changed. Other sessions were logged out."))


@auth.requires()
async def create_token(request: Request) -> Response:
    if auth.user_of(request).role == Role.MEMBER:
        # Tokens drive the JSON API from scripts, which is staff's work (issue 20, item 8).
        raise Forbidden("Personal API tokens are for staff. Your sessions, questionnaires and calendar "
                        "are all on your pages here; nothing needs a token.", code="tokens_for_staff")
    form = await form_data(request)
    try:
        await auth.confirm_recent(request, form.get("proof"))
        token, secret = await accounts.create_api_token(auth.user_of(request), form.get("name", ""))
    except BadRequest as exc:
        return render(request, "accounts/account.html", await _account_context(
            request, error=exc.message, token_name=form.get("name", ""), token_needs_proof=True), status_code=400)
    return render(request, "accounts/account.html", await _account_context(request, new_token=secret, new_token_name=token.name))


@auth.requires()
async def revoke_token(request: Request) -> Response:
    await accounts.revoke_api_token(auth.user_of(request), _int(request.path_params["token_id"]))
    return RedirectResponse("/account", status_code=303)


def _row_id(value: str) -> int | None:
    """A form's id, or None for anything no row could have (text, 0, beyond 32 bits)."""
    if not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if 0 < number < 2**31 else None


@auth.requires(Role.COORDINATOR)
async def change_role(request: Request) -> Response:
    """A new role for someone: the coordinator's password or a code again, past five minutes."""
    from server.accounts.roles import change_role as set_role

    person = await User.get_or_none(id=_int(request.path_params["user_id"]))
    if person is None:
        raise NotFound("There is no such person.")
    form = await form_data(request)
    try:
        await auth.confirm_recent(request, form.get("proof"))
        old = await set_role(person, form.get("role", ""), by=auth.user_of(request))
    except BadRequest as exc:
        return await people_page_with(request, error=exc.message, status_code=exc.status_code)
    return await people_page_with(request, notice=f"{person.display_name} is now a {person.role.value} "
                                                  f"(was {old.value}); their sessions were ended.")


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
    Route("/people/send-link", send_link, methods=["POST"]),
    Route("/people/{user_id:id}/password-reset", issue_reset, methods=["POST"]),
    Route("/people/{user_id:id}", person_page, methods=["GET"]),
    Route("/people/{user_id:id}/supervisees", set_supervisees, methods=["POST"]),
    Route("/people/{user_id:id}/role", change_role, methods=["POST"]),
    *second_factor.routes,
]
