"""The intake page of one member (facilitators of the cohort and coordinators only).

Interpersonal inventory, problem areas, formulation and target goals; every read and
change is audited by the services in server/intake.py.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.accounts import Role
from models.clinical import GoalStatus
from server import access, intake
from server.auth import requires, user_of
from server.errors import NotFound, PlatformError
from server.forms import form_data
from server.routes.enrollment import record_id
from server.templating import render

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
        except PlatformError as exc:
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


async def _formulation(request, enrollment, form):
    await intake.set_formulation(enrollment, by=user_of(request), text=str(form.get("formulation") or ""))


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
]
