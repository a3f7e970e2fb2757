"""A member's own record as a ZIP of JSON and PDFs: from the portal and the API for the
member, and for a member by a coordinator (audited either way, see server/records/export.py);
and the coordinator's page of a member's record: export, restrict, lift the restriction.

Exports by staff and restriction are sensitive actions (issue 18): in a browser they ask for
the password or a code again when the last one is older than five minutes. An API token is
a program's credential, made with a fresh second factor; it exports without asking.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role, User
from models.closure import ClosureSummary
from server import clock
from server.accounts import sessions
from server.errors import BadRequest, NotFound
from server.platform.pdf import render_pdf
from server.records import fhir, fhir_read, restriction
from server.records.export import RecordExport, member_record_export
from server.records.retention import retention_years
from server.web import auth
from server.web.forms import form_data
from server.web.routes.closure import document_context  # the member's copy, as /summaries/{id}/pdf renders it
from server.web.templating import render, templates


def _summary_renderer(request: Request):
    async def render_summary_pdf(row: ClosureSummary, member: User) -> bytes:
        html = templates.get_template("closure/print.html").render(
            {**document_context(row, "member", member), "for_pdf": True, "request": request, "user": member})
        return await render_pdf(html)

    return render_summary_pdf


def _download(export: RecordExport) -> Response:
    return Response(export.content, media_type="application/zip", headers={
        "content-disposition": f'attachment; filename="{export.filename}"',
        "cache-control": "private, no-store",
    })


async def _export(request: Request, member: User) -> Response:
    export = await member_record_export(member, actor=auth.user_of(request), now=clock.now(),
                                        render_summary_pdf=_summary_renderer(request))
    return _download(export)


async def _member(user_id: int) -> User:
    member = await User.get_or_none(id=user_id, role=Role.MEMBER)  # {user_id:id} is in range
    if member is None:
        raise NotFound("There is no member with this id.")
    return member


@auth.requires(Role.MEMBER)
async def my_record(request: Request) -> Response:
    return await _export(request, auth.user_of(request))


@auth.requires(Role.MEMBER)
async def my_record_api(request: Request) -> Response:
    """
    get:
      summary: Your own record as a ZIP of JSON files and the PDF of each finalized closure summary (members)
      description: "account.json, groups.json, meetings.json, attendance.json, goals.json, measures.json,
        closure_summaries.json and summaries/*.pdf. Other members appear by initials or role label only."
      tags: [records]
      responses:
        200:
          description: The ZIP archive
          content: {application/zip: {schema: {type: string, format: binary}}}
        403: {description: "Staff export a member's record from /api/v1/users/{user_id}/export"}
    """
    return await _export(request, auth.user_of(request))


@auth.requires(Role.COORDINATOR)
async def member_record(request: Request) -> Response:
    """GET: the download when the coordinator proved who they are in the last five minutes,
    else the record page to confirm it. POST (from that page, with `proof`): the download."""
    member = await _member(request.path_params["user_id"])
    if request.method == "GET":
        if not sessions.recently_authenticated(auth.session_of(request)):
            return RedirectResponse(f"/people/{member.id}/record", status_code=303)
        return await _export(request, member)
    form = await form_data(request)
    try:
        await auth.confirm_recent(request, form.get("proof"))
    except BadRequest as exc:
        return await _record_page(request, member, error=exc.message, status_code=400)
    return await _export(request, member)


@auth.requires(Role.COORDINATOR)
async def member_record_api(request: Request) -> Response:
    """
    get:
      summary: A member's record as a ZIP, as the member would download it (coordinators; audited)
      tags: [records]
      responses:
        200:
          description: The ZIP archive
          content: {application/zip: {schema: {type: string, format: binary}}}
        400: {description: "A browser session whose last password or code is older than five minutes
          (reauthentication_required); API tokens are not asked"}
        404: {description: No member with this id}
    """
    member = await _member(request.path_params["user_id"])
    if not getattr(request.user, "via_token", False):
        await auth.confirm_recent(request, None)  # a browser session: recent proof, or 400
    return await _export(request, member)


# --- the record page: export, restrict, lift ------------------------------------------------


async def _record_page(request: Request, member: User, *, status_code: int = 200, **extra) -> Response:
    restricted_by = await User.get_or_none(id=member.restricted_by_id) if member.restricted_by_id else None
    return render(request, "records/member.html", {
        "member": member, "restricted_by": restricted_by,
        "needs_proof": not sessions.recently_authenticated(auth.session_of(request)),
        "retention_years": retention_years(request.app.state.settings), **extra,
    }, status_code=status_code)


@auth.requires(Role.COORDINATOR)
async def record_page(request: Request) -> Response:
    return await _record_page(request, await restriction.member_for_restriction(request.path_params["user_id"]))


async def _change_restriction(request: Request, *, lift: bool) -> Response:
    member = await restriction.member_for_restriction(request.path_params["user_id"])
    form = await form_data(request)
    try:
        await auth.confirm_recent(request, form.get("proof"))
        if lift:
            member = await restriction.lift_restriction(member, by=auth.user_of(request), reason=form.get("reason"))
        else:
            member = await restriction.restrict_member(member, by=auth.user_of(request), reason=form.get("reason"),
                                                       now=clock.now())
    except BadRequest as exc:  # Conflict too: already restricted, or not
        return await _record_page(request, member, error=exc.message, values={"reason": form.get("reason", "")},
                                  status_code=exc.status_code)
    notice = ("The restriction is lifted: the member appears in lists again and their record can be changed. "
              "Their calendar feed needs a new link." if lift else
              "The record is restricted: the member is left out of lists, boards, reminders and feeds, "
              "and their record is read-only.")
    return await _record_page(request, member, notice=notice)


@auth.requires(Role.COORDINATOR)
async def restrict(request: Request) -> Response:
    return await _change_restriction(request, lift=False)


@auth.requires(Role.COORDINATOR)
async def lift(request: Request) -> Response:
    return await _change_restriction(request, lift=True)


@auth.requires(Role.COORDINATOR)
async def restricted_list(request: Request) -> Response:
    return render(request, "records/restricted.html", {"members": await restriction.restricted_members()})


# --- FHIR R4, read-only (issue 19) ---------------------------------------------------------


def _fhir(body: dict, status_code: int = 200) -> Response:
    return JSONResponse(body, status_code=status_code, media_type=fhir.MEDIA_TYPE,
                        headers={"cache-control": "private, no-store"})


def _fhir_base(request: Request) -> str:
    return str(request.url_for("fhir_search", resource_type="X")).rsplit("/", 1)[0]


@auth.requires()
async def fhir_search(request: Request) -> Response:
    """A searchset Bundle of one type: `_id`, and `patient`/`subject` on the patient-scoped types."""
    user = auth.user_of(request)
    kind = request.path_params["resource_type"]
    found = await fhir_read.search(await fhir_read.scope_for(user), kind, dict(request.query_params))
    await fhir_read.audit_read(user, f"{kind}?{request.url.query}", found)
    return _fhir(fhir.as_json(fhir.searchset(found, base_url=_fhir_base(request), self_url=str(request.url))))


@auth.requires()
async def fhir_resource(request: Request) -> Response:
    """One resource by type and logical id; 404 alike for unknown and not readable."""
    user = auth.user_of(request)
    kind, rid = request.path_params["resource_type"], request.path_params["ident"]
    found = await fhir_read.read(await fhir_read.scope_for(user), kind, rid)
    await fhir_read.audit_read(user, f"{kind}/{rid}", [found])
    return _fhir(fhir.as_json(found))


@auth.requires()
async def fhir_everything(request: Request) -> Response:
    """Patient/{id}/$everything: the Patient and what is theirs, as one Bundle."""
    user = auth.user_of(request)
    rid = str(request.path_params["patient_id"])
    found = await fhir_read.everything(await fhir_read.scope_for(user), rid)
    await fhir_read.audit_read(user, f"Patient/{rid}/$everything", found[:1])
    return _fhir(fhir.as_json(fhir.searchset(found, base_url=_fhir_base(request), self_url=str(request.url))))


@auth.requires()
async def fhir_metadata(request: Request) -> Response:
    return _fhir(fhir.as_json(fhir.capability_statement(date=clock.now().date().isoformat(),
                                                        base_url=_fhir_base(request))))


routes = [
    Route("/portal/record.zip", my_record, methods=["GET"]),
    Route("/people/{user_id:id}/record.zip", member_record, methods=["GET", "POST"]),
    Route("/people/{user_id:id}/record", record_page, methods=["GET"]),
    Route("/people/{user_id:id}/restriction", restrict, methods=["POST"]),
    Route("/people/{user_id:id}/restriction/lift", lift, methods=["POST"]),
    Route("/people/restricted", restricted_list, methods=["GET"]),
    # FHIR describes itself (GET /api/v1/fhir/metadata, a CapabilityStatement), not in the
    # OpenAPI document, whose path parameters are all row ids; FHIR's are logical ids and types.
    Route("/api/v1/fhir/metadata", fhir_metadata, methods=["GET"], include_in_schema=False),
    Route("/api/v1/fhir/Patient/{patient_id:id}/$everything", fhir_everything, methods=["GET"], include_in_schema=False),
    Route("/api/v1/fhir/{resource_type}", fhir_search, methods=["GET"], name="fhir_search", include_in_schema=False),
    Route("/api/v1/fhir/{resource_type}/{ident}", fhir_resource, methods=["GET"], include_in_schema=False),
    Route("/api/v1/me/export", my_record_api, methods=["GET"]),
    Route("/api/v1/users/{user_id:id}/export", member_record_api, methods=["GET"]),
]
