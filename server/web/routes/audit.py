"""The audit log, for coordinators: who read or changed which member's clinical data, when."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models.accounts import AuditEvent, Role, User
from server.errors import BadRequest
from server.web import auth
from server.web.convertors import MAX_ID
from server.web.templating import render

PAGE_SIZE = 100
MAX_PAGE = 1_000_000  # keeps the OFFSET within any database's integer


async def _events(request: Request) -> tuple[list[AuditEvent], User | None, int]:
    query = AuditEvent.all().select_related("actor", "member").order_by("-at", "-id")
    member = None
    member_id = request.query_params.get("member")
    if member_id is not None:
        if not member_id.isdigit() or not 1 <= int(member_id) <= MAX_ID:
            raise BadRequest("member must be a user id.")
        member = await User.get_or_none(id=int(member_id))
        query = query.filter(member_id=int(member_id))
    page_raw = request.query_params.get("page", "1")
    if not page_raw.isdigit() or not 1 <= int(page_raw) <= MAX_PAGE:
        raise BadRequest(f"page must be a number from 1 to {MAX_PAGE}.")
    page = int(page_raw)
    return await query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE), member, page


@auth.requires(Role.COORDINATOR)
async def audit_page(request: Request) -> Response:
    events, member, page = await _events(request)
    return render(request, "audit/list.html", {"events": events, "member": member, "page": page, "page_size": PAGE_SIZE})


@auth.requires(Role.COORDINATOR)
async def audit_api(request: Request) -> Response:
    """
    get:
      summary: The audit log, newest first, 100 per page (coordinators only)
      tags: [audit]
      parameters:
        - {name: member, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 2147483647}}
        - {name: page, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 1000000}}
      responses:
        200: {description: Audit events}
    """
    events, _, page = await _events(request)
    return JSONResponse({
        "page": page,
        "events": [
            {
                "at": e.at.isoformat(), "actor_id": e.actor_id, "action": e.action, "subject": e.subject,
                "subject_id": e.subject_id, "member_id": e.member_id, "detail": e.detail,
            }
            for e in events
        ],
    })


routes = [
    Route("/audit", audit_page, methods=["GET"]),
    Route("/api/v1/audit", audit_api, methods=["GET"]),
]
