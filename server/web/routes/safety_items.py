"""Safety items and their risk checks: the staff list, one item's page, recording a risk
check, and the /api/v1 side.

Safety items are shown only here (and on the member's own staff pages): the cohort's
facilitators and coordinators, never members, never the shared board display.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models.clinical import RiskAction, SafetyItemStatus
from server import clock
from server.errors import REFUSALS, Forbidden, NotFound, refusal
from server.measures import safety
from server.measures.instruments import ANSWER_SCALE, item9_statement
from server.measures.safety.reading import actionable_ids, may_act_on
from server.web.api_models import RiskCheckBody
from server.web.api_schema import body, read_body
from server.web.auth import requires, user_of
from server.web.forms import form_data
from server.web.routes.enrollment import STAFF, record_id
from server.web.templating import render


@requires(*STAFF)
async def safety_list(request: Request) -> Response:
    user = user_of(request)
    items = await safety.open_items(user)
    follow_ups = await safety.follow_ups(user, today=clock.now().date())
    acts = await actionable_ids(user, [i.id for i in items])
    return render(request, "measures/safety_list.html", {
        "items": items, "observed": {i.id for i in items if i.id not in acts}, "follow_ups": follow_ups, "action_labels": safety.ACTION_LABELS, "today": clock.now().date(),
    })


def _check_labels() -> dict:
    return {"action_labels": safety.ACTION_LABELS, "contact_labels": safety.CONTACT_LABELS,
            "thoughts_labels": safety.THOUGHTS_LABELS, "risk_labels": safety.RISK_LABELS,
            "yes_no_questions": safety.YES_NO_QUESTIONS}


async def _item_page(request: Request, item_id: int, *, error: str = "", notice: str = "",
                     field_errors: dict | None = None, values: dict | None = None, status_code: int = 200) -> Response:
    user = user_of(request)
    item = await safety.get_item(user, item_id)
    checks = await safety.checks_of(item)
    acts = await may_act_on(user, item.id)
    return render(request, "measures/safety_item.html", {
        "item": item, "checks": checks, "actions": list(RiskAction), **_check_labels(),
        "statement": item9_statement(item.item9) if item.item9 is not None else "",
        "cohort": item.enrollment.cohort, "member": item.enrollment.member, "error": error, "notice": notice,
        "field_errors": field_errors or {}, "values": values or {},
        "scale_label": ANSWER_SCALE[item.item9].label if item.item9 is not None else "",
        "may_record": user.is_clinician and acts, "supervising": not acts,
    }, status_code=status_code)


@requires(*STAFF)
async def safety_item_page(request: Request) -> Response:
    return await _item_page(request, record_id(request.path_params["item_id"]))


@requires(*STAFF)
async def risk_check_submit(request: Request) -> Response:
    user = user_of(request)
    item_id = record_id(request.path_params["item_id"])
    item = await safety.get_item(user, item_id)
    await _may_act(user, item_id)
    form = await form_data(request)
    zone = ZoneInfo(item.enrollment.cohort.time_zone)
    try:
        safety.require_clinician(user)
        data = safety.parse_risk_check(form, now=clock.now(), zone=zone)
        await safety.record_risk_check(user, item_id, data)
    except REFUSALS as refused:
        exc = refusal(refused)
        if isinstance(exc, NotFound):
            raise
        return await _item_page(request, item_id, error=exc.message, field_errors=exc.fields,
                                values=dict(form), status_code=exc.status_code)
    notice = ("Risk check recorded; the safety item is closed." if data.reached else
              "The attempt is logged. The item stays open until contact is made and documented.")
    return await _item_page(request, item_id, notice=notice)


async def _may_act(user, item_id: int) -> None:  # noqa: ANN001 (a User)
    # Supervisors read the items of the cohorts they supervise; only those who act record checks.
    if not await may_act_on(user, item_id):
        raise Forbidden("You supervise this cohort: its safety items are read-only for you.")


# --- API ----------------------------------------------------------------------------------

@requires(*STAFF)
async def api_safety_items(request: Request) -> Response:
    """
    summary: Open safety items visible to the caller (their cohorts; coordinators all)
    responses:
      200: {description: Open safety items}
    """
    items = await safety.open_items(user_of(request))
    return JSONResponse([_item_json(i) for i in items])


def _item_json(item) -> dict:
    timing = item.timing
    return {
        "id": item.id, "enrollment_id": item.enrollment_id, "cohort_id": item.enrollment.cohort_id,
        "member": item.enrollment.member.display_name, "item9": item.item9, "source": item.source.value,
        "status": item.status.value, "opened_at": item.opened_at.isoformat(),
        "due_at": timing["due_at"].isoformat(), "age": timing["age"], "overdue": timing["overdue"],
        "escalations": item.escalations, "routed_to": item.routed_to,
        "meeting_id": item.meeting_id, "closed_at": item.closed_at.isoformat() if item.closed_at else None,
    }


@requires(*STAFF)
@body(RiskCheckBody)
async def api_risk_check(request: Request) -> Response:
    """
    summary: Record a risk check (clinicians only); one that reached the member closes the item
    responses:
      201: {description: "The risk check; the item is closed unless the member was not reached"}
      403: {description: Not a clinician}
      409: {description: Already closed}
    """
    user = user_of(request)
    item_id = record_id(request.path_params["item_id"])
    item = await safety.get_item(user, item_id)
    await _may_act(user, item_id)
    safety.require_clinician(user)  # authorized before the body is read
    risk_check = await read_body(request, RiskCheckBody)
    zone = ZoneInfo(item.enrollment.cohort.time_zone)
    # The form's words for what the API sends as JSON: booleans are the form's yes / no.
    sent = {k: "" if v is None else ("yes" if v is True else "no" if v is False else str(v))
            for k, v in risk_check.fields_sent().items()}
    data = safety.parse_risk_check(sent, now=clock.now(), zone=zone)
    check = await safety.record_risk_check(user, item_id, data)
    return JSONResponse({
        "id": check.id, "safety_item_id": item_id,
        "status": (SafetyItemStatus.CLOSED if data.reached else SafetyItemStatus.OPEN).value,
        "checked_by": user.display_name, "checked_at": check.checked_at.isoformat(),
        "contact_method": check.contact_method.value, "outcome": check.outcome,
        "thoughts": check.thoughts.value if check.thoughts else None, "plan": check.plan, "intent": check.intent,
        "access_to_means": check.access_to_means, "past_attempts": check.past_attempts,
        "protective_factors": check.protective_factors,
        "risk_level": check.risk_level.value if check.risk_level else None,
        "action": check.action.value if check.action else None,
        "follow_up_date": check.follow_up_date.isoformat() if check.follow_up_date else None,
    }, status_code=201)


routes = [
    Route("/safety", safety_list, methods=["GET"]),
    Route("/safety/{item_id:id}", safety_item_page, methods=["GET"]),
    Route("/safety/{item_id:id}/risk-check", risk_check_submit, methods=["POST"]),
    Route("/api/v1/safety-items", api_safety_items, methods=["GET"]),
    Route("/api/v1/safety-items/{item_id:id}/risk-check", api_risk_check, methods=["POST"]),
]
