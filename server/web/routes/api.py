"""The JSON API under /api/v1: people and cohorts (other areas add their own endpoints).

Every endpoint's docstring is its OpenAPI operation; /api/v1/openapi.json is built from them.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise.expressions import Q, Subquery

from models.accounts import Role, User
from models.cohorts import Cohort, CohortStatus, Enrollment
from server.accounts import access, link_mail
from server.errors import BadRequest, NotFound
from server.web import auth, paging
from server.supervision import assignments
from server.web.api_models import Invitation, Supervisees
from server.web.api_schema import ApiSchemaGenerator, body, read_body

OPENAPI_BASE = {
    "openapi": "3.1.0",
    "info": {
        "title": "Group IPT platform API",
        "version": "1",
        "description": "Authenticate with `Authorization: Bearer <personal API token>` (create one on your account page). "
        "Errors are RFC 9457 problem documents with `status`, `title`, `detail` and `code`. "
        "A body that does not match this document answers 400; one that matches it but breaks a rule "
        "(a date in the past, a full cohort) answers 422 or 409, with `fields` naming what to change.",
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
    "security": [{"bearer": []}],
}


USERS_BY_ID = paging.Keyset("api-users", (paging.SortKey("id"),))
COHORTS_BY_ID = paging.Keyset("api-cohorts", (paging.SortKey("id"),))
# Cohorts are the heavy rows: a page holds a small clinic's all (the start page shows as many).
COHORTS_PER_PAGE = 15


def paged_json(request: Request, key: str, items: list[dict], page: paging.Page) -> JSONResponse:
    """A page of an API list: the rows under `key`, and `next` (a URL or null), also as a Link header."""
    next_url = paging.api_next(request, page)
    return JSONResponse({key: items, "next": next_url}, headers=paging.next_link_header(next_url))


def user_json(user: User) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.display_name,
        "role": user.role.value,
        "time_zone": user.time_zone,
        "active": user.is_active,
        "has_password": bool(user.password_hash),
    }


def cohort_json(cohort: Cohort, facilitator_ids: list[int] | None = None) -> dict:
    return {
        "id": cohort.id,
        "name": cohort.name,
        "public_title": cohort.public_title,
        "status": cohort.status.value,
        "template_id": cohort.template_id,
        "time_zone": cohort.time_zone,
        "weekday": cohort.weekday,
        "local_start_time": cohort.local_start_time,
        "duration_minutes": cohort.duration_minutes,
        "n_group_sessions": cohort.n_group_sessions,
        "start_date": cohort.start_date.isoformat(),
        "skip_dates": cohort.skip_dates,
        "capacity": cohort.capacity,
        "location": cohort.location,
        "facilitator_ids": facilitator_ids if facilitator_ids is not None else [],
    }


def enrollment_json(enrollment: Enrollment) -> dict:
    return {
        "id": enrollment.id,
        "cohort_id": enrollment.cohort_id,
        "member_id": enrollment.member_id,
        "status": enrollment.status.value,
        "primary_problem_area": enrollment.primary_problem_area.value if enrollment.primary_problem_area else None,
        "secondary_problem_area": enrollment.secondary_problem_area.value if enrollment.secondary_problem_area else None,
        "consent_at": enrollment.consent_at.isoformat() if enrollment.consent_at else None,
        "consent_version": enrollment.consent_version or None,
        "waitlisted_at": enrollment.waitlisted_at.isoformat() if enrollment.waitlisted_at else None,
    }


@auth.requires()
async def me(request: Request) -> Response:
    """
    get:
      summary: The person this token or session belongs to
      tags: [people]
      responses:
        200: {description: The current user}
        401: {description: Not authenticated}
    """
    return JSONResponse(user_json(auth.user_of(request)))


@auth.requires(Role.COORDINATOR)
@body(Invitation)
async def users(request: Request) -> Response:
    """
    get:
      summary: Everyone with an account (coordinators only), by id, a page at a time
      tags: [people]
      parameters:
        - {name: role, in: query, required: false, schema: {type: string, enum: [coordinator, facilitator, member]}}
        - {name: q, in: query, required: false, description: "Part of the name or e-mail, any case", schema: {type: string, maxLength: 120}}
        - {name: limit, in: query, required: false, description: "Rows per page (default 100)", schema: {type: integer, minimum: 1, maximum: 200, default: 100}}
        - {name: cursor, in: query, required: false, description: "Where the page starts: from the previous page's `next`", schema: {type: string, pattern: "^[A-Za-z0-9_.-]{1,1000}$"}}
      responses:
        200:
          description: "users: a page of users; next: the next page's URL, or null on the last page (also a Link rel=next header)"
          headers: {Link: {description: "RFC 8288 link to the next page (rel=next), while more pages follow", schema: {type: string}}}
        403: {description: Not a coordinator}
        422: {description: "A cursor this list did not give out"}
    post:
      summary: Invite a person (coordinators only); e-mails the invitation and returns its one-time URL
      tags: [people]
      responses:
        201: {description: "The new user, its invitation_url, and invitation_mail: sent, queued (no mail server is set, so it waits in the outbox) or failed (it waits in the outbox)"}
        409: {description: The e-mail already has an account}
    """
    if request.method == "GET":
        query = User.all()
        role = request.query_params.get("role")
        if role is not None:  # ?role= names no role: refused, not ignored
            if role not in {r.value for r in Role}:
                raise BadRequest("role must be coordinator, facilitator or member.")
            query = query.filter(role=role)
        if search := paging.text_filter(request, "q"):
            query = query.filter(Q(display_name__icontains=search) | Q(email__icontains=search))
        page = await paging.fetch(request, query, USERS_BY_ID, paging.page_request(request, USERS_BY_ID))
        return paged_json(request, "users", [user_json(u) for u in page.rows], page)
    from server.web.routes.accounts import invite_person

    invitation = await read_body(request, Invitation)
    name = invitation.name.strip()
    if not name:
        raise BadRequest("name is required (1-120 characters).", fields={"name": "Required."})
    person, path = await invite_person(
        email=invitation.email, display_name=name, role=Role(invitation.role), invited_by=auth.user_of(request)
    )
    settings = request.app.state.settings
    mail = await link_mail.mail_link(link_mail.LinkKind.INVITATION, person, settings.base_url + path,
                                     settings=settings, by=auth.user_of(request))
    # invitation_mail: sent, queued (no mail server: waiting in the outbox) or failed (also in the outbox)
    payload = user_json(person) | {"invitation_url": settings.base_url + path, "invitation_mail": mail.state.value}
    return JSONResponse(payload, status_code=201)


@auth.requires()
async def user_detail(request: Request) -> Response:
    """
    get:
      summary: "One person (coordinators: anyone; others: themselves)"
      tags: [people]
      responses:
        200: {description: The user}
        404: {description: No such user, or not visible to you}
    """
    viewer = auth.user_of(request)
    user_id = request.path_params["user_id"]
    if viewer.role != Role.COORDINATOR and viewer.id != user_id:
        raise NotFound("There is no such person.")
    person = await User.get_or_none(id=user_id)
    if person is None:
        raise NotFound("There is no such person.")
    return JSONResponse(user_json(person))


def _supervisees_json(supervisor: User, people: list[User]) -> dict:
    return {"supervisor_id": supervisor.id, "facilitator_ids": [p.id for p in people],
            "facilitators": [{"id": p.id, "name": p.display_name} for p in people]}


@auth.requires(Role.COORDINATOR)
@body(Supervisees)
async def user_supervisees(request: Request) -> Response:
    """
    get:
      summary: The facilitators this person supervises (coordinators only)
      tags: [people, supervision]
      responses:
        200: {description: "{supervisor_id, facilitator_ids, facilitators: [{id, name}]}"}
    put:
      summary: Set the facilitators this person supervises (coordinators only; replaces the list, audited)
      tags: [people, supervision]
      responses:
        200: {description: The list now}
        422: {description: "The person is not an active clinician, or an id is not an active facilitator; nothing changed"}
    """
    supervisor = await User.get_or_none(id=request.path_params["user_id"])
    if supervisor is None:
        raise NotFound("There is no such person.")
    if request.method == "GET":
        return JSONResponse(_supervisees_json(supervisor, await assignments.supervisees(supervisor)))
    wanted = await read_body(request, Supervisees)
    people = await assignments.set_supervisees(supervisor, wanted.facilitator_ids, by=auth.user_of(request))
    return JSONResponse(_supervisees_json(supervisor, people))


async def visible_cohorts(user: User):
    """The cohorts `user` may list, as a query (one id each: a subquery, not a join that repeats rows)."""
    query = Cohort.all()
    if user.role == Role.FACILITATOR:
        # Their own cohorts, and those of the facilitators they supervise (read-only).
        ids = [user.id, *await access.supervised_facilitator_ids(user)]
        query = query.filter(id__in=Subquery(Cohort.filter(facilitators__id__in=ids).values("id")))
    elif user.role == Role.MEMBER:
        query = query.filter(id__in=Subquery(Cohort.filter(enrollments__member_id=user.id).values("id")))
    return query


@auth.requires()
async def cohorts(request: Request) -> Response:
    """
    get:
      summary: Cohorts visible to you (coordinators all, facilitators their own and those of the facilitators they supervise, members the ones they are enrolled in), by id, a page at a time
      tags: [cohorts]
      parameters:
        - {name: status, in: query, required: false, schema: {type: string, enum: [draft, enrolling, active, completed, cancelled]}}
        - {name: q, in: query, required: false, description: "Part of the cohort's name, any case", schema: {type: string, maxLength: 120}}
        - {name: limit, in: query, required: false, description: "Rows per page (default 15)", schema: {type: integer, minimum: 1, maximum: 200, default: 15}}
        - {name: cursor, in: query, required: false, description: "Where the page starts: from the previous page's `next`", schema: {type: string, pattern: "^[A-Za-z0-9_.-]{1,1000}$"}}
      responses:
        200:
          description: "cohorts: a page of cohorts; next: the next page's URL, or null on the last page (also a Link rel=next header)"
          headers: {Link: {description: "RFC 8288 link to the next page (rel=next), while more pages follow", schema: {type: string}}}
        422: {description: "A cursor this list did not give out"}
    """
    user = auth.user_of(request)
    query = await visible_cohorts(user)
    status = request.query_params.get("status")
    if status is not None:
        if status not in {s.value for s in CohortStatus}:
            raise BadRequest("status must be draft, enrolling, active, completed or cancelled.", fields={"status": "Unknown."})
        query = query.filter(status=status)
    if search := paging.text_filter(request, "q"):
        query = query.filter(name__icontains=search)
    page = await paging.fetch(request, query.prefetch_related("facilitators"), COHORTS_BY_ID,
                              paging.page_request(request, COHORTS_BY_ID, default_limit=COHORTS_PER_PAGE))
    return paged_json(request, "cohorts", [
        cohort_json(c, [f.id for f in c.facilitators] if user.role != Role.MEMBER else []) for c in page.rows], page)


@auth.requires()
async def cohort_detail(request: Request) -> Response:
    """
    get:
      summary: One cohort
      tags: [cohorts]
      responses:
        200: {description: The cohort}
        403: {description: Neither a facilitator of this cohort nor their supervisor}
        404: {description: No such cohort, or not yours}
    """
    user = auth.user_of(request)
    cohort_id = request.path_params["cohort_id"]
    if user.role == Role.MEMBER:
        cohort = await Cohort.get_or_none(id=cohort_id, enrollments__member_id=user.id)
        if cohort is None:
            raise NotFound("There is no such cohort.")
        return JSONResponse(cohort_json(cohort))
    cohort = await access.viewable_cohort(user, cohort_id)
    facilitator_ids = await cohort.facilitators.all().values_list("id", flat=True)
    return JSONResponse(cohort_json(cohort, list(facilitator_ids)))


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def cohort_enrollments(request: Request) -> Response:
    """
    get:
      summary: Enrollments of a cohort (its facilitators, their supervisors, and coordinators)
      tags: [enrollments]
      responses:
        200: {description: A list of enrollments}
        403: {description: Neither a facilitator of this cohort nor their supervisor}
    """
    cohort = await access.viewable_cohort(auth.user_of(request), request.path_params["cohort_id"])
    rows = await Enrollment.filter(cohort=cohort, member__restricted_at=None).order_by("id")
    return JSONResponse({"enrollments": [enrollment_json(e) for e in rows]})


_schemas = ApiSchemaGenerator(OPENAPI_BASE)


async def openapi(request: Request) -> Response:
    api_routes = [route for route in request.app.routes if getattr(route, "path", "").startswith("/api/v1/")]
    return JSONResponse(_schemas.get_schema(routes=api_routes))


routes = [
    Route("/api/v1/openapi.json", openapi, methods=["GET"], include_in_schema=False),
    Route("/api/v1/me", me, methods=["GET"]),
    Route("/api/v1/users", users, methods=["GET", "POST"]),
    Route("/api/v1/users/{user_id:id}", user_detail, methods=["GET"]),
    Route("/api/v1/users/{user_id:id}/supervisees", user_supervisees, methods=["GET", "PUT"]),
    Route("/api/v1/cohorts", cohorts, methods=["GET"]),
    Route("/api/v1/cohorts/{cohort_id:id}", cohort_detail, methods=["GET"]),
    Route("/api/v1/cohorts/{cohort_id:id}/enrollments", cohort_enrollments, methods=["GET"]),
]
