"""Enrollment pages: enroll, status, withdraw, transfer, consent, CSV import (the /api/v1
side is enrollment_api.py).

Handlers authorize, parse, call one service in server/enrollment (its package surface) or
server/enrollment/csv_import.py, and render. Facilitators may look at their cohort's roster;
only coordinators change it.

The member to enroll is searched for, never listed (issue 15): the form's search answers
with a few matches to choose from, as a page (no JavaScript needed) or, for
static/member-search.js, as JSON suggestions while the coordinator types.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role
from models.cohorts import Cohort, Enrollment, EnrollmentStatus
from server import clock, dashboard
from server import enrollment as service
from server.accounts import access, link_mail
from server.enrollment import candidates, csv_import
from server.errors import REFUSALS, BadRequest, NotFound, refusal
from server.web import read_only
from server.web.auth import requires, user_of
from server.web.forms import form_data
from server.web.templating import render

COORD = (Role.COORDINATOR,)
STAFF = (Role.COORDINATOR, Role.FACILITATOR)
MAX_CSV_BYTES = 1024 * 1024
PAGE_MATCHES = 20  # members found by the form's search, to choose from
SUGGESTIONS = 10  # members suggested while typing
ENROLL_FIELDS = ("member_id", "member_q", "name", "email", "status", "late_join_reason",
                 "consent_at", "consent_method", "consent_version")


# --- shared little parsers ----------------------------------------------------------------

def int_or_none(value, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{field} must be a number.", fields={field: "Not a number."}) from None
    if not 0 < number < 2**31:
        raise BadRequest(f"{field} is out of range.", fields={field: "Out of range."})
    return number


def record_id(raw) -> int:
    """A path id that fits the database's integer, else 404 (never a database error)."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise NotFound("There is no such record.") from None
    if not 0 < number < 2**31:
        raise NotFound("There is no such record.")
    return number


# --- pages --------------------------------------------------------------------------------

async def dashboard_page(request: Request) -> Response:
    # The overview (fill, waitlist, next meeting, attendance, safety) is the staff start page.
    return RedirectResponse("/", status_code=301)


async def _cohort_page(request: Request, cohort: Cohort, *, notice: str = "", error: str = "",
                       warnings: list[str] | None = None, values: dict | None = None,
                       invitation: str = "", invitation_mail: link_mail.LinkMail | None = None,
                       status_code: int = 200, errors: dict | None = None) -> Response:
    user = user_of(request)
    enrollments = await Enrollment.filter(cohort_id=cohort.id, member__restricted_at=None).prefetch_related("member").order_by("status", "waitlisted_at", "id")
    overview = (await dashboard.cohort_overview(user, [cohort]))[cohort.id]
    late = await service.late_join_state(cohort, cohort.template, clock.now())
    values = values or {}
    search = await _member_search(cohort, values) if user.role == Role.COORDINATOR else {}
    waitlist = [e for e in enrollments if e.status == EnrollmentStatus.WAITLISTED]
    # Enrolled (or waiting to be) without a full consent record: the roster flags them.
    consent_gaps = {e.id: service.consent_missing(e) for e in enrollments
                    if e.status in (EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED) and service.consent_missing(e)}
    return render(request, "enrollment/cohort.html", {
        **await read_only.viewer(user, cohort),
        "consent_gaps": consent_gaps, "consent_parts": service.CONSENT_PARTS,
        "consent_methods": service.CONSENT_METHOD_LABELS,
        "cohort": cohort, "enrollments": enrollments, "overview": overview, "late": late,
        **search, "labels": service.STATUS_LABELS,
        "waitlist": waitlist, "notice": notice, "error": error,
        "warnings": list(dict.fromkeys([*(warnings or []), *overview.warnings])),
        "values": values, "invitation": invitation, "invitation_mail": invitation_mail, "errors": errors or {},
        "base_url": request.app.state.settings.base_url,
    }, status_code=status_code)


async def _member_search(cohort: Cohort, values: dict[str, str]) -> dict:
    """The form's member chooser: the members matching what was searched for (none when
    nothing was), and the one already chosen, so a re-rendered form keeps the choice."""
    typed = candidates.search_text(values.get("member_q"))
    matches, more = await candidates.members_to_enroll(cohort.id, typed, limit=PAGE_MATCHES)
    try:
        chosen_id = int_or_none(values.get("member_id"), "member_id")
    except BadRequest:
        chosen_id = None
    chosen = None
    if chosen_id is not None and chosen_id not in {m.id for m in matches}:
        chosen = await candidates.chosen_member(cohort.id, chosen_id)
    listed = [chosen] if chosen else []
    picked = chosen_id if chosen_id in {m.id for m in [*listed, *matches]} else None
    return {"member_q": typed, "member_choices": [*listed, *matches], "more_matches": more, "picked_id": picked}


@requires(*STAFF)
async def cohort_enrollment(request: Request) -> Response:
    # ?member_q= searches for the member to enroll (a bookmarkable search; the form's own
    # Search button posts, so what else was typed stays out of the address and the logs).
    cohort = await access.viewable_cohort(user_of(request), request.path_params["cohort_id"])
    return await _cohort_page(request, cohort, values={"member_q": request.query_params.get("member_q", "")})


@requires(*COORD)
async def member_suggestions(request: Request) -> Response:
    """Members matching ?q= who may be enrolled into this cohort, for the form's script:
    who they are (id, name, e-mail) and nothing else; none once the cohort is closed."""
    cohort = await access.staff_cohort(user_of(request), request.path_params["cohort_id"])
    found, more = [], False
    if cohort.status in service.OPEN_COHORT:
        found, more = await candidates.members_to_enroll(cohort.id, request.query_params.get("q", ""), limit=SUGGESTIONS)
    return JSONResponse({"members": [{"id": m.id, "name": m.display_name, "email": m.email} for m in found],
                         "more": more})


@requires(*COORD)
async def enroll_page(request: Request) -> Response:
    user = user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    form = await form_data(request)
    values = {k: str(form.get(k) or "") for k in ENROLL_FIELDS}
    if form.get("action") == "search":
        # The search button: find members to choose from, keep what was typed, change nothing.
        return await _cohort_page(request, cohort, values=values)
    try:
        outcome = await service.enroll(
            cohort.id, by=user, member_id=int_or_none(values["member_id"], "member_id"),
            name=values["name"], email=values["email"], status=values["status"] or EnrollmentStatus.ENROLLED,
            late_override=values["late_join_reason"],
            consent=service.parse_consent(values, ZoneInfo(cohort.time_zone)),
        )
    except REFUSALS as refused:
        exc = refusal(refused)
        message = exc.message
        if exc.code == "ambiguous_person":
            message += " Clear the name and e-mail, or choose “None of these: a new person” among the members found."
        return await _cohort_page(request, cohort, error=message, values=values, status_code=exc.status_code,
                                  errors=exc.fields)
    cohort = await Cohort.get(id=cohort.id).prefetch_related("template")
    mail = await mail_invitation(request, outcome, by=user)
    return await _cohort_page(request, cohort, notice=outcome.message, warnings=outcome.warnings,
                              invitation=outcome.invitation_path or "", invitation_mail=mail)


async def mail_invitation(request: Request, outcome: service.Outcome, *, by) -> link_mail.LinkMail | None:
    """A new person's invitation goes to them by e-mail as soon as they are enrolled."""
    if not outcome.invitation_path:
        return None
    settings = request.app.state.settings
    return await link_mail.mail_link(link_mail.LinkKind.INVITATION, outcome.enrollment.member,
                                     settings.base_url + outcome.invitation_path, settings=settings, by=by)


async def _enrollment_page(request: Request, enrollment: Enrollment, *, notice: str = "", error: str = "",
                           warnings: list[str] | None = None, status_code: int = 200) -> Response:
    enrollment = await Enrollment.get(id=enrollment.id).prefetch_related("member", "cohort", "cohort__template", "transferred_from__cohort")
    transitions = await service.history(enrollment)
    user = user_of(request)
    others = await Cohort.exclude(id=enrollment.cohort_id).filter(status__in=list(service.OPEN_COHORT)).order_by("name")
    return render(request, "enrollment/enrollment.html", {
        "enrollment": enrollment, "cohort": enrollment.cohort, "transitions": transitions,
        "labels": service.STATUS_LABELS, "allowed": sorted(service.ALLOWED[enrollment.status] - {EnrollmentStatus.WITHDRAWN}),
        "other_cohorts": others, "notice": notice, "error": error, "warnings": warnings or [],
        "can_change": user.role == Role.COORDINATOR,
        "supervising": (await read_only.viewer(user, enrollment.cohort_id))["supervising"],
        "zone": ZoneInfo(enrollment.cohort.time_zone),
        "consent_missing": service.consent_missing(enrollment), "consent_parts": service.CONSENT_PARTS,
        "consent_methods": service.CONSENT_METHOD_LABELS,
    }, status_code=status_code)


async def _staff_enrollment(request: Request) -> Enrollment:
    return await access.staff_enrollment(user_of(request), request.path_params["enrollment_id"])


@requires(*STAFF)
async def enrollment_detail(request: Request) -> Response:
    return await _enrollment_page(
        request, await access.viewable_enrollment(user_of(request), request.path_params["enrollment_id"]))


def _enrollment_action(run):
    """A coordinator's POST on one enrollment: run the service and show the enrollment page."""
    @requires(*COORD)
    async def endpoint(request: Request) -> Response:
        enrollment = await _staff_enrollment(request)
        form = await form_data(request)
        try:
            outcome = await run(enrollment, form, user_of(request))
        except REFUSALS as refused:
            exc = refusal(refused)
            return await _enrollment_page(request, enrollment, error=exc.message, status_code=exc.status_code)
        return await _enrollment_page(request, outcome.enrollment, notice=outcome.message, warnings=outcome.warnings)

    endpoint.__name__ = run.__name__
    return endpoint


def _consent(enrollment, form) -> service.ConsentGiven:
    return service.parse_consent(form, ZoneInfo(enrollment.cohort.time_zone))


async def _status(enrollment, form, user):
    return await service.change_status(
        enrollment.id, str(form.get("status") or ""), by=user, reason=str(form.get("reason") or ""),
        late_override=str(form.get("late_join_reason") or ""), consent=_consent(enrollment, form),
    )


async def _withdraw(enrollment, form, user):
    return await service.withdraw(enrollment.id, by=user, reason=str(form.get("reason") or ""))


async def _transfer(enrollment, form, user):
    target = int_or_none(form.get("to_cohort"), "to_cohort")
    if target is None:
        raise BadRequest("Pick the cohort to transfer to.", fields={"to_cohort": "Required."})
    target_cohort = await Cohort.get_or_none(id=target)
    zone = ZoneInfo(target_cohort.time_zone if target_cohort else enrollment.cohort.time_zone)
    return await service.transfer(enrollment.id, target, by=user, reason=str(form.get("reason") or ""),
                                  late_override=str(form.get("late_join_reason") or ""),
                                  consent=service.parse_consent(form, zone))


async def _record_consent(enrollment, form, user):
    return await service.record_consent(enrollment.id, by=user, consent=_consent(enrollment, form))


change_status_page = _enrollment_action(_status)
withdraw_page = _enrollment_action(_withdraw)
transfer_page = _enrollment_action(_transfer)
consent_page = _enrollment_action(_record_consent)


# --- CSV import -----------------------------------------------------------------------------

@requires(*COORD)
async def import_form(request: Request) -> Response:
    cohort = await access.staff_cohort(user_of(request), request.path_params["cohort_id"])
    return render(request, "enrollment/import.html", {"cohort": cohort, "plan": None, "csv_text": ""})


async def _csv_from_form(request: Request) -> tuple[str, dict]:
    form = await form_data(request, max_files=1)
    upload = form.get("file")
    text = ""
    # Multipart uploads work once the CSRF layer can read them; the page posts URL-encoded.
    if upload is not None and hasattr(upload, "read"):
        data = await upload.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            raise BadRequest("The file is larger than 1 MB; split it up.", fields={"file": "Too large."})
        text = csv_import.decode(data)
    if not text.strip():
        text = str(form.get("csv_text") or "")
    if not text.strip():
        raise BadRequest("Choose a CSV file or paste its rows.", fields={"csv_text": "Required."})
    options = {
        "over_capacity_is_error": form.get("over_capacity") == "error",
        "late_override": str(form.get("late_join_reason") or "").strip()[:500],
    }
    return text, options


def _import_action(run_import: bool):
    @requires(*COORD)
    async def endpoint(request: Request) -> Response:
        user = user_of(request)
        cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
        context = {"cohort": cohort, "plan": None, "csv_text": ""}
        try:
            text, options = await _csv_from_form(request)
            context["csv_text"] = text
            context["options"] = options
            if run_import:
                plan = await csv_import.run_import(cohort.id, text, by=user, **options)
            else:
                plan = await csv_import.preview(cohort.id, text, by=user, **options)
        except REFUSALS as refused:
            exc = refusal(refused)
            return render(request, "enrollment/import.html", {**context, "error": exc.message}, status_code=exc.status_code)
        context["plan"] = plan
        if run_import and not plan.ok:
            return render(request, "enrollment/import.html", {
                **context, "error": f"Nothing was imported: {len(plan.errors)} rows have errors. Fix them and try again.",
            }, status_code=400)
        if run_import:
            settings = request.app.state.settings
            mails = await link_mail.mail_invitations(plan.invitations, settings=settings, by=user)
            return render(request, "enrollment/import_done.html", {"cohort": cohort, "plan": plan, "mails": mails,
                                                                   "base_url": settings.base_url})
        return render(request, "enrollment/import.html", context, status_code=200 if plan.ok else 400)

    endpoint.__name__ = "import_run" if run_import else "import_preview"
    return endpoint


import_preview = _import_action(False)
import_run = _import_action(True)


routes = [
    Route("/enrollment", dashboard_page, methods=["GET"]),
    Route("/cohorts/{cohort_id:id}/enrollment", cohort_enrollment, methods=["GET"]),
    Route("/cohorts/{cohort_id:id}/enrollment", enroll_page, methods=["POST"]),
    Route("/cohorts/{cohort_id:id}/enrollment/member-suggestions", member_suggestions, methods=["GET"]),
    Route("/cohorts/{cohort_id:id}/enrollment/import", import_form, methods=["GET"]),
    Route("/cohorts/{cohort_id:id}/enrollment/import/preview", import_preview, methods=["POST"]),
    Route("/cohorts/{cohort_id:id}/enrollment/import", import_run, methods=["POST"]),
    Route("/enrollments/{enrollment_id:id}", enrollment_detail, methods=["GET"]),
    Route("/enrollments/{enrollment_id:id}/status", change_status_page, methods=["POST"]),
    Route("/enrollments/{enrollment_id:id}/withdraw", withdraw_page, methods=["POST"]),
    Route("/enrollments/{enrollment_id:id}/transfer", transfer_page, methods=["POST"]),
    Route("/enrollments/{enrollment_id:id}/consent", consent_page, methods=["POST"]),
]
