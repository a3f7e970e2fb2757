"""The intake page of one member (facilitators of the cohort and coordinators only).

Interpersonal inventory, problem areas, formulation and target goals; every read and
change is audited by the services in server/enrollment/intake.py.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models.accounts import Role
from models.clinical import GoalStatus
from server.accounts import access, audit
from server.enrollment import intake
from server.errors import REFUSALS, BadRequest, NotFound, refusal
from server.web.api_models import Formulation
from server.web.api_schema import body, read_body
from server.web.auth import requires, user_of
from server.web.forms import form_data
from server.web.routes.enrollment import record_id
from server.web.templating import render

STAFF = (Role.COORDINATOR, Role.FACILITATOR)


async def _enrollment(request: Request):
    return await access.staff_enrollment(user_of(request), request.path_params["enrollment_id"])


async def _page(request: Request, enrollment, *, notice: str = "", error: str = "", status_code: int = 200) -> Response:
    record = await intake.intake_record(enrollment, by=user_of(request))
    template = enrollment.cohort.template
    return render(request, "intake/intake.html", {
        "enrollment": enrollment, "cohort": enrollment.cohort, "member": enrollment.member,
        "inventory": record["inventory"], "goals": record["goals"],
        "areas": intake.problem_area_choices(template),
        "primary_label": intake.problem_area_label(template, enrollment.primary_problem_area),
        "secondary_label": intake.problem_area_label(template, enrollment.secondary_problem_area),
        "text_fields": intake.TEXT_FIELDS, "tristate_fields": intake.TRISTATE_FIELDS,
        "goal_statuses": list(GoalStatus), "max_goals": intake.MAX_TARGET_GOALS,
        "notice": notice, "error": error,
    }, status_code=status_code)


@requires(*STAFF)
async def intake_page(request: Request) -> Response:
    return await _page(request, await _enrollment(request))


def _action(run, done: str):
    @requires(*STAFF)
    async def endpoint(request: Request) -> Response:
        enrollment = await _enrollment(request)
        form = await form_data(request)
        try:
            await run(request, enrollment, form)
        except REFUSALS as refused:
            exc = refusal(refused)
            if isinstance(exc, NotFound):
                raise
            return await _page(request, enrollment, error=exc.message, status_code=exc.status_code)
        return await _page(request, enrollment, notice=done)

    endpoint.__name__ = run.__name__.strip("_")
    return endpoint


def _id(request: Request, name: str) -> int:
    return record_id(request.path_params[name])


async def _problem_areas(request, enrollment, form):
    await intake.set_problem_areas(enrollment, enrollment.cohort.template, by=user_of(request),
                                   primary=str(form.get("primary") or ""), secondary=str(form.get("secondary") or ""))


def _agreed_at(enrollment, raw) -> datetime | None:
    raw = str(raw or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{raw!r} is not a date and time.", fields={"agreed_at": "Use 2026-03-03T18:30."}) from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(enrollment.cohort.time_zone))


async def _formulation(request, enrollment, form):
    agreement = form.get("agreement")
    await intake.set_formulation(enrollment, by=user_of(request), text=str(form.get("formulation") or ""),
                                 agreement=None if agreement is None else str(agreement),
                                 agreed_at=_agreed_at(enrollment, form.get("agreed_at")))


def _formulation_json(enrollment) -> dict:
    agreement = {True: "agreed", False: "not_agreed", None: ""}[enrollment.formulation_agreed]
    return {"enrollment_id": enrollment.id, "text": enrollment.formulation, "agreement": agreement,
            "agreed_at": enrollment.formulation_agreed_at.isoformat() if enrollment.formulation_agreed_at else None}


@requires(*STAFF)
@body(Formulation)
async def api_formulation(request: Request) -> Response:
    """
    get:
      summary: A member's interpersonal formulation and whether and when they agreed to it
      responses:
        200: {description: "text, agreement (agreed, not_agreed or empty: not recorded), agreed_at"}
    put:
      summary: "Save the formulation: {text, agreement, agreed_at}; new wording without an agreement clears the old one"
      responses:
        200: {description: The formulation as saved}
        422: {description: "What to change (a time in the future, agreement without text)"}
    """
    enrollment = await _enrollment(request)
    user = user_of(request)
    if request.method == "GET":
        await audit.record(user, "read", "formulation", enrollment.id, member=enrollment.member_id)
        return JSONResponse(_formulation_json(enrollment))
    formulation = (await read_body(request, Formulation)).fields_sent()
    agreement = formulation.get("agreement")
    await intake.set_formulation(
        enrollment, by=user, text=formulation.get("text", ""),
        agreement=None if agreement is None else str(agreement),
        agreed_at=_agreed_at(enrollment, formulation.get("agreed_at")),
    )
    return JSONResponse(_formulation_json(enrollment))


async def _add_entry(request, enrollment, form):
    await intake.add_inventory_entry(enrollment, by=user_of(request), form=form)


async def _update_entry(request, enrollment, form):
    await intake.update_inventory_entry(enrollment, _id(request, "entry_id"), by=user_of(request), form=form)


async def _delete_entry(request, enrollment, form):
    await intake.delete_inventory_entry(enrollment, _id(request, "entry_id"), by=user_of(request))


async def _add_goal(request, enrollment, form):
    await intake.add_goal(enrollment, by=user_of(request), text=str(form.get("text") or ""))


async def _goal_status(request, enrollment, form):
    await intake.set_goal_status(enrollment, _id(request, "goal_id"), by=user_of(request), status=str(form.get("status") or ""))


base = "/enrollments/{enrollment_id:id}/intake"
routes = [
    Route(base, intake_page, methods=["GET"]),
    Route(base + "/problem-areas", _action(_problem_areas, "Problem areas saved."), methods=["POST"]),
    Route(base + "/formulation", _action(_formulation, "Formulation saved."), methods=["POST"]),
    Route(base + "/inventory", _action(_add_entry, "Relationship added to the inventory."), methods=["POST"]),
    Route(base + "/inventory/{entry_id:id}", _action(_update_entry, "Inventory entry saved."), methods=["POST"]),
    Route(base + "/inventory/{entry_id:id}/delete", _action(_delete_entry, "Inventory entry removed."), methods=["POST"]),
    Route(base + "/goals", _action(_add_goal, "Goal added."), methods=["POST"]),
    Route(base + "/goals/{goal_id:id}/status", _action(_goal_status, "Goal status saved."), methods=["POST"]),
    Route("/api/v1/enrollments/{enrollment_id:id}/formulation", api_formulation, methods=["GET", "PUT"]),
]
