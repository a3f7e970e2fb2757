"""A member's own record as a ZIP of JSON and PDFs: from the portal and the API for the
member, and for a member by a coordinator (audited either way, see server/records/export.py).
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.accounts import Role, User
from models.closure import ClosureSummary
from server import clock
from server.errors import NotFound
from server.platform.pdf import render_pdf
from server.records.export import RecordExport, member_record_export
from server.web import auth
from server.web.routes.closure import document_context  # the member's copy, as /summaries/{id}/pdf renders it
from server.web.templating import templates


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
    return await _export(request, await _member(request.path_params["user_id"]))


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
        404: {description: No member with this id}
    """
    return await _export(request, await _member(request.path_params["user_id"]))


routes = [
    Route("/portal/record.zip", my_record, methods=["GET"]),
    Route("/people/{user_id:id}/record.zip", member_record, methods=["GET"]),
    Route("/api/v1/me/export", my_record_api, methods=["GET"]),
    Route("/api/v1/users/{user_id:id}/export", member_record_api, methods=["GET"]),
]
