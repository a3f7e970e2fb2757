"""Kiosk mode on a shared tablet (server/reminders/kiosk.py): the facilitator's page that
opens it, and the tablet's pages, which answer only to the kiosk cookie."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role
from server import clock
from server.accounts.access import staff_cohort
from server.errors import REFUSALS, BadRequest, NotFound, refusal
from server.measures import safety
from server.measures.instruments import ANSWER_SCALE, DIFFICULTY_SCALE, questionnaire
from server.measures.occasions import WINDOW_RULE
from server.portal import group_words
from server.reminders import kiosk
from server.web.auth import log_out, requires, user_of
from server.web.forms import form_data
from server.web.templating import render

STAFF = (Role.COORDINATOR, Role.FACILITATOR)


@requires(*STAFF)
async def kiosk_staff_page(request: Request) -> Response:
    cohort = await staff_cohort(user_of(request), request.path_params["cohort_id"])
    secret = request.app.state.settings.secret_key
    kiosks = await kiosk.open_kiosks(cohort.id, now=clock.now())
    codes = await kiosk.codes_for_staff(kiosks[-1], secret) if kiosks else []
    return render(request, "reminders/kiosk_staff.html", {"cohort": cohort, "kiosks": kiosks, "codes": codes,
                                                           "error": ""})


@requires(*STAFF)
async def kiosk_start(request: Request) -> Response:
    user = user_of(request)
    cohort = await staff_cohort(user, request.path_params["cohort_id"])
    form = await form_data(request)
    if form.get("confirm") != "yes":
        raise BadRequest("Tick the box to confirm this device is the shared tablet: you will be signed out on it.",
                         fields={"confirm": "Required."})
    now = clock.now()
    _, token = await kiosk.start_kiosk(cohort, by=user, now=now)
    await log_out(request, "kiosk opened on this device")  # the tablet keeps no staff session
    response = RedirectResponse("/kiosk", status_code=303)
    response.set_cookie(kiosk.COOKIE, token, max_age=kiosk.OPEN_HOURS * 3600, path="/kiosk", httponly=True,
                        samesite="strict", secure=request.app.state.settings.https_only)
    return response


@requires(*STAFF)
async def kiosk_end(request: Request) -> Response:
    user = user_of(request)
    cohort = await staff_cohort(user, request.path_params["cohort_id"])
    await kiosk.end_kiosks(cohort.id, by=user, now=clock.now())
    return RedirectResponse(f"/cohorts/{cohort.id}/kiosk", status_code=303)


async def _tablet(request: Request):
    found = await kiosk.kiosk_of(request.cookies.get(kiosk.COOKIE), now=clock.now())
    if found is None:
        raise NotFound("This device is not an open kiosk. A facilitator opens one from the group's page.")
    return found


def _code_page(request: Request, *, error: str = "", status_code: int = 200, done: bool = False) -> Response:
    return render(request, "reminders/kiosk.html", {"error": error, "done": done}, status_code=status_code)


async def kiosk_page(request: Request) -> Response:
    tablet = await _tablet(request)
    if await kiosk.unlocked(tablet, now=clock.now()) is not None:
        return RedirectResponse("/kiosk/questionnaire", status_code=303)
    return _code_page(request)


async def kiosk_unlock(request: Request) -> Response:
    tablet = await _tablet(request)
    form = await form_data(request)
    try:
        await kiosk.unlock(tablet, str(form.get("code", "")), secret=request.app.state.settings.secret_key,
                           now=clock.now())
    except REFUSALS as exc:
        error = refusal(exc)
        return _code_page(request, error=error.message, status_code=error.status_code)
    return RedirectResponse("/kiosk/questionnaire", status_code=303)


def _form_context(current: kiosk.Unlocked, **extra: Any) -> dict[str, Any]:
    return {"q": questionnaire(current.instrument), "scale": ANSWER_SCALE, "difficulty_scale": DIFFICULTY_SCALE,
            "group": group_words(current.enrollment.cohort), "first_name": current.enrollment.member.first_name,
            "values": {}, "error": "", "field_errors": {}, "window_rule": WINDOW_RULE, **extra}


async def kiosk_form(request: Request) -> Response:
    tablet = await _tablet(request)
    current = await kiosk.unlocked(tablet, now=clock.now())
    if current is None:
        return RedirectResponse("/kiosk", status_code=303)
    return render(request, "reminders/kiosk_form.html", _form_context(current))


async def kiosk_submit(request: Request) -> Response:
    tablet = await _tablet(request)
    form = await form_data(request)
    current = await kiosk.unlocked(tablet, now=clock.now())
    try:
        current, submission = await kiosk.submit_on_kiosk(tablet, form, now=clock.now())
    except REFUSALS as exc:
        error = refusal(exc)
        if current is None or error.code in ("kiosk_locked", "nothing_due"):
            return _code_page(request, error=error.message, status_code=error.status_code)
        return render(request, "reminders/kiosk_form.html", _form_context(
            current, values=dict(form), error=error.message, field_errors=error.fields or {}),
            status_code=error.status_code)
    message = help_text = ""
    if submission.safety_item:  # the same words the portal shows, then the tablet is locked again
        message = await safety.member_message(submission.safety_item, safety.member_zone(
            current.enrollment.member, current.enrollment.cohort))
        help_text = (await safety.crisis_help(request.app.state.settings)).text
    return render(request, "reminders/kiosk.html", {"error": "", "done": True, "safety_message": message,
                                                   "help_text": help_text})


@requires(Role.MEMBER)
async def api_my_kiosk_codes(request: Request) -> Response:
    """
    summary: The member's own 4-digit code for each kiosk open in their groups (to unlock the shared tablet)
    responses:
      200: {description: "[{group, code}]; empty while no kiosk is open"}
    """
    codes = await kiosk.codes_for_member(user_of(request), request.app.state.settings.secret_key, now=clock.now())
    return JSONResponse([{"group": c.group, "code": c.code} for c in codes])


@requires(*STAFF)
async def api_cohort_kiosk(request: Request) -> Response:
    """
    summary: The cohort's open kiosk, if any, with each member's code for the facilitator to read out
    responses:
      200: {description: "{open, started_at, expires_at, codes: [{enrollment_id, member, code}]}"}
    """
    cohort = await staff_cohort(user_of(request), request.path_params["cohort_id"])
    kiosks = await kiosk.open_kiosks(cohort.id, now=clock.now())
    if not kiosks:
        return JSONResponse({"open": False, "started_at": None, "expires_at": None, "codes": []})
    codes = await kiosk.codes_for_staff(kiosks[-1], request.app.state.settings.secret_key)
    return JSONResponse({"open": True, "started_at": kiosks[-1].started_at.isoformat(),
                         "expires_at": kiosks[-1].expires_at.isoformat(),
                         "codes": [{"enrollment_id": e.id, "member": e.member.display_name, "code": c} for e, c in codes]})


@requires(*STAFF)
async def api_end_kiosk(request: Request) -> Response:
    """
    summary: End the cohort's open kiosks (the tablet then shows nothing until one is opened on it again)
    responses:
      200: {description: "{ended: how many}"}
    """
    user = user_of(request)
    cohort = await staff_cohort(user, request.path_params["cohort_id"])
    return JSONResponse({"ended": await kiosk.end_kiosks(cohort.id, by=user, now=clock.now())})


routes = [
    Route("/cohorts/{cohort_id:id}/kiosk", kiosk_staff_page, methods=["GET"]),
    Route("/cohorts/{cohort_id:id}/kiosk", kiosk_start, methods=["POST"]),
    Route("/cohorts/{cohort_id:id}/kiosk/end", kiosk_end, methods=["POST"]),
    Route("/kiosk", kiosk_page, methods=["GET"]),
    Route("/kiosk", kiosk_unlock, methods=["POST"]),
    Route("/kiosk/questionnaire", kiosk_form, methods=["GET"]),
    Route("/kiosk/questionnaire", kiosk_submit, methods=["POST"]),
    Route("/api/v1/me/kiosk-codes", api_my_kiosk_codes, methods=["GET"]),
    Route("/api/v1/cohorts/{cohort_id:id}/kiosk", api_cohort_kiosk, methods=["GET"]),
    Route("/api/v1/cohorts/{cohort_id:id}/kiosk", api_end_kiosk, methods=["DELETE"]),
]
