"""Reaching a clinician: the clinic's safety settings, away dates, disclosures, and their API.

Pages: /clinic/safety (coordinators: crisis help text, who is a clinician, duty clinicians),
/staff/{user_id}/away (one's own away dates; coordinators for anyone),
/enrollments/{id}/safety/new (open an item from a disclosure in session), and
/attention/{item_id}, the link e-mails carry (it says nothing; it needs signing in).
"""
from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from models.accounts import AwayPeriod, Role, User
from server import clock
from server.accounts import access
from server.errors import REFUSALS, refusal
from server.measures import safety, safety_people
from server.web.api_models import (
    AwayDates,
    ClinicianMark,
    CrisisHelp,
    Disclosure,
    DutyClinicians,
)
from server.web.api_schema import body, read_body
from server.web.auth import requires, user_of
from server.web.forms import form_data
from server.web.routes.enrollment import record_id
from server.web.templating import render

STAFF = (Role.COORDINATOR, Role.FACILITATOR)


def _person_json(person: User) -> dict:
    return {"id": person.id, "name": person.display_name, "role": person.role.value,
            "clinician": person.is_clinician, "clinician_marked": person.clinician, "on_duty": person.on_duty}


def _period_json(period: AwayPeriod) -> dict:
    return {"id": period.id, "user_id": period.user_id, "starts_on": period.starts_on.isoformat(),
            "ends_on": period.ends_on.isoformat()}


# --- pages --------------------------------------------------------------------------------

@requires(*STAFF)
async def attention(request: Request) -> Response:
    item_id = record_id(request.path_params["item_id"])
    return RedirectResponse(f"/safety/{item_id}", status_code=303)


async def _settings_page(request: Request, *, notice: str = "", error: str = "", field_errors=None,
                         status_code: int = 200) -> Response:
    help_text = await safety.crisis_help(request.app.state.settings)
    return render(request, "safety/settings.html", {
        "help": help_text, "people": await safety_people.staff(), "notice": notice, "error": error,
        "field_errors": field_errors or {}, "target": safety.duration_words(timedelta(hours=request.app.state.settings.safety_response_hours)),
    }, status_code=status_code)


@requires(Role.COORDINATOR)
async def settings_page(request: Request) -> Response:
    return await _settings_page(request)


@requires(Role.COORDINATOR)
async def help_text_submit(request: Request) -> Response:
    form = await form_data(request)
    try:
        await safety.set_crisis_help(user_of(request), str(form.get("help_text") or ""))
    except REFUSALS as refused:
        exc = refusal(refused)
        return await _settings_page(request, error=exc.message, field_errors=exc.fields, status_code=exc.status_code)
    return await _settings_page(request, notice="The crisis help text is saved; members see it from now on.")


@requires(Role.COORDINATOR)
async def people_submit(request: Request) -> Response:
    form = await form_data(request)
    try:
        await safety_people.apply_people_form(user_of(request), form, await safety_people.staff())
    except REFUSALS as refused:
        exc = refusal(refused)
        return await _settings_page(request, error=exc.message, field_errors=exc.fields, status_code=exc.status_code)
    return await _settings_page(request, notice="Clinicians and duty clinicians are saved.")


async def _away_page(request: Request, person: User, *, notice: str = "", error: str = "", field_errors=None,
                     values=None, status_code: int = 200) -> Response:
    return render(request, "safety/away.html", {
        "person": person, "periods": await safety_people.away_periods(person, today=clock.now().date()),
        "notice": notice, "error": error, "field_errors": field_errors or {}, "values": values or {},
    }, status_code=status_code)


@requires(*STAFF)
async def my_away(request: Request) -> Response:
    return RedirectResponse(f"/staff/{user_of(request).id}/away", status_code=303)


@requires(*STAFF)
async def away_page(request: Request) -> Response:
    person = await safety_people.away_subject(user_of(request), record_id(request.path_params["user_id"]))
    return await _away_page(request, person)


@requires(*STAFF)
async def away_submit(request: Request) -> Response:
    user = user_of(request)
    person = await safety_people.away_subject(user, record_id(request.path_params["user_id"]))
    form = await form_data(request)
    try:
        period = await safety_people.add_away(user, person, form)
    except REFUSALS as refused:
        exc = refusal(refused)
        return await _away_page(request, person, error=exc.message, field_errors=exc.fields, values=dict(form),
                                status_code=exc.status_code)
    return await _away_page(request, person, notice=f"Away from {period.starts_on:%d %b %Y} to {period.ends_on:%d %b %Y}.")


@requires(*STAFF)
async def away_delete(request: Request) -> Response:
    user = user_of(request)
    person = await safety_people.away_subject(user, record_id(request.path_params["user_id"]))
    await safety_people.remove_away(user, record_id(request.path_params["period_id"]))
    return await _away_page(request, person, notice="The away period is removed.")


async def _disclosure_page(request: Request, enrollment, *, error: str = "", field_errors=None, values=None,
                           status_code: int = 200) -> Response:
    return render(request, "safety/disclosure.html", {
        "enrollment": enrollment, "member": enrollment.member, "cohort": enrollment.cohort,
        "error": error, "field_errors": field_errors or {}, "values": values or {},
    }, status_code=status_code)


@requires(*STAFF)
async def disclosure_form(request: Request) -> Response:
    enrollment = await access.staff_enrollment(user_of(request), request.path_params["enrollment_id"])
    return await _disclosure_page(request, enrollment)


@requires(*STAFF)
async def disclosure_submit(request: Request) -> Response:
    user = user_of(request)
    enrollment = await access.staff_enrollment(user, request.path_params["enrollment_id"])
    form = await form_data(request)
    try:
        item = await safety.record_disclosure(user, enrollment, form)
    except REFUSALS as refused:
        exc = refusal(refused)
        return await _disclosure_page(request, enrollment, error=exc.message, field_errors=exc.fields,
                                      values=dict(form), status_code=exc.status_code)
    return RedirectResponse(f"/safety/{item.id}", status_code=303)


# --- API ----------------------------------------------------------------------------------

@requires(Role.COORDINATOR)
async def api_duty(request: Request) -> Response:
    """
    summary: The clinic's duty clinicians (told when no facilitator of a cohort can be)
    responses:
      200: {description: The duty clinicians}
    """
    return JSONResponse([_person_json(p) for p in await safety_people.duty_list()])


@requires(Role.COORDINATOR)
@body(DutyClinicians)
async def api_set_duty(request: Request) -> Response:
    """
    summary: Name the clinic's duty clinicians (replaces the list)
    responses:
      200: {description: The duty clinicians now}
      404: {description: An id is no member of staff}
    """
    duty = await read_body(request, DutyClinicians)
    people = await safety_people.set_duty(user_of(request), duty.user_ids)
    return JSONResponse([_person_json(p) for p in people])


@requires(Role.COORDINATOR)
@body(ClinicianMark)
async def api_set_clinician(request: Request) -> Response:
    """
    summary: Mark a member of staff as a clinician or not (null for the role's default)
    responses:
      200: {description: The person}
    """
    mark = await read_body(request, ClinicianMark)
    person = await safety_people.set_clinician(user_of(request), record_id(request.path_params["user_id"]),
                                               mark.clinician)
    return JSONResponse(_person_json(person))


@requires(*STAFF)
async def api_away(request: Request) -> Response:
    """
    summary: A member of staff's current and coming away dates (their own, or anyone's for coordinators)
    responses:
      200: {description: Away periods}
    """
    person = await safety_people.away_subject(user_of(request), record_id(request.path_params["user_id"]))
    return JSONResponse([_period_json(p) for p in await safety_people.away_periods(person, today=clock.now().date())])


@requires(*STAFF)
@body(AwayDates)
async def api_add_away(request: Request) -> Response:
    """
    summary: Add away dates (inclusive); safety items arising then go to others
    responses:
      201: {description: The period}
    """
    user = user_of(request)
    person = await safety_people.away_subject(user, record_id(request.path_params["user_id"]))
    dates = await read_body(request, AwayDates)
    period = await safety_people.add_away(user, person, dates.fields_sent())
    return JSONResponse(_period_json(period), status_code=201)


@requires(*STAFF)
async def api_delete_away(request: Request) -> Response:
    """
    summary: Remove away dates
    responses:
      204: {description: Removed}
      404: {description: No such period}
    """
    await safety_people.remove_away(user_of(request), record_id(request.path_params["period_id"]))
    return Response(status_code=204)


@requires(*STAFF)
@body(Disclosure)
async def api_disclosure(request: Request) -> Response:
    """
    summary: Open a safety item from a disclosure in session (the member's staff)
    responses:
      201: {description: The safety item; its people are told}
      409: {description: "The enrollment has ended (withdrawn or transferred): record it on the member's current one"}
    """
    user = user_of(request)
    enrollment = await access.staff_enrollment(user, request.path_params["enrollment_id"])
    disclosure = await read_body(request, Disclosure)
    item = await safety.record_disclosure(user, enrollment, disclosure.fields_sent())
    timing = safety.timing(item, clock.now())
    return JSONResponse({"id": item.id, "enrollment_id": enrollment.id, "source": item.source.value,
                         "status": item.status.value, "due_at": timing["due_at"].isoformat(),
                         "routed_to": item.routed_to}, status_code=201)


@requires(Role.COORDINATOR)
async def api_crisis_help(request: Request) -> Response:
    """
    summary: The crisis help text members read after an item 9 answer above 0
    responses:
      200: {description: "The text and whether the clinic has set it"}
    """
    help_text = await safety.crisis_help(request.app.state.settings)
    return JSONResponse({"help_text": help_text.text, "set_by_clinic": help_text.set_by_clinic})


@requires(Role.COORDINATOR)
@body(CrisisHelp)
async def api_set_crisis_help(request: Request) -> Response:
    """
    summary: Set the clinic's crisis help text (empty goes back to the general text)
    responses:
      200: {description: The text now}
    """
    crisis = await read_body(request, CrisisHelp)
    help_text = await safety.set_crisis_help(user_of(request), crisis.help_text)
    return JSONResponse({"help_text": help_text.text, "set_by_clinic": help_text.set_by_clinic})


routes = [
    Route("/attention/{item_id:id}", attention, methods=["GET"]),
    Route("/clinic/safety", settings_page, methods=["GET"]),
    Route("/clinic/safety/help-text", help_text_submit, methods=["POST"]),
    Route("/clinic/safety/people", people_submit, methods=["POST"]),
    Route("/away", my_away, methods=["GET"]),
    Route("/staff/{user_id:id}/away", away_page, methods=["GET"]),
    Route("/staff/{user_id:id}/away", away_submit, methods=["POST"]),
    Route("/staff/{user_id:id}/away/{period_id:id}/delete", away_delete, methods=["POST"]),
    Route("/enrollments/{enrollment_id:id}/safety/new", disclosure_form, methods=["GET"]),
    Route("/enrollments/{enrollment_id:id}/safety/new", disclosure_submit, methods=["POST"]),
    Route("/api/v1/duty-clinicians", api_duty, methods=["GET"]),
    Route("/api/v1/duty-clinicians", api_set_duty, methods=["PUT"]),
    Route("/api/v1/users/{user_id:id}/clinician", api_set_clinician, methods=["PUT"]),
    Route("/api/v1/users/{user_id:id}/away-periods", api_away, methods=["GET"]),
    Route("/api/v1/users/{user_id:id}/away-periods", api_add_away, methods=["POST"]),
    Route("/api/v1/away-periods/{period_id:id}", api_delete_away, methods=["DELETE"]),
    Route("/api/v1/enrollments/{enrollment_id:id}/safety-items", api_disclosure, methods=["POST"]),
    Route("/api/v1/clinic/crisis-help", api_crisis_help, methods=["GET"]),
    Route("/api/v1/clinic/crisis-help", api_set_crisis_help, methods=["PUT"]),
]
