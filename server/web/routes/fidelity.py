"""Session fidelity: a meeting's checklist (asked after it is closed) and adherence over
time for supervisors. Pages and /api/v1, over server/fidelity.

A meeting's checklist: its cohort's facilitators fill it in and edit it; coordinators and
the facilitators' supervisors read it. Adherence: a coordinator sees every facilitator, a
facilitator themself and the facilitators they supervise.
"""
from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role
from models.fidelity import ChecklistAnswer
from server import clock, fidelity
from server.errors import REFUSALS, BadRequest, Forbidden, NotFound, Unprocessable, refusal
from server.fidelity import checklists as checklist_service
from server.fidelity.charts import adherence_chart, percent
from server.web import auth
from server.web.api_models import SessionChecklistBody
from server.web.api_schema import body, read_body
from server.web.forms import form_data
from server.web.templating import render


def _page(request: Request, current: fidelity.MeetingChecklist, **extra) -> Response:
    status = extra.pop("status_code", 200)
    return render(request, "fidelity/checklist.html", {
        "c": current, "answers": fidelity.ANSWER_LABELS, "ratings": checklist_service.RATING_LABELS,
        "zone": current.cohort.time_zone, **extra}, status_code=status)


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def checklist_page(request: Request) -> Response:
    user = auth.user_of(request)
    current = await fidelity.meeting_checklist(user, request.path_params["meeting_id"], now=clock.now())
    if request.method == "GET":
        return _page(request, current, saved=bool(request.query_params.get("saved")))
    form = await form_data(request)
    try:
        if not current.may_edit:
            raise Forbidden("Only this cohort's facilitators fill in its session checklists.")
        answers = checklist_service.answers_from_form(form, [i.key for i in current.items])
        await fidelity.save_checklist(
            user, current.meeting.id, answers=answers, rating=checklist_service.rating_from_form(form.get("rating")),
            note=(form.get("note") or "").strip(), now=clock.now())
    except REFUSALS as refused:
        exc = refusal(refused)
        if isinstance(exc, (NotFound, Forbidden)):
            raise
        return _page(request, current, error=exc.message, errors=exc.fields, form=dict(form),
                     status_code=exc.status_code)
    return RedirectResponse(f"/meetings/{current.meeting.id}/checklist?saved=1", status_code=303)


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
@body(SessionChecklistBody)
async def api_checklist(request: Request) -> Response:
    """
    get:
      summary: A meeting's session checklist, its items as asked and any answers (facilitators, coordinators, supervisors)
      tags: [fidelity]
      responses:
        200: {description: "checklist, items [{key, label, answer, note}], rating, note, may_edit, held"}
    put:
      summary: "Answer or replace a completed meeting's checklist: {answers: [{key, answer, note}], rating 1-5, note}; the cohort's facilitators"
      tags: [fidelity]
      responses:
        200: {description: The checklist as stored}
        403: {description: Not one of this cohort's facilitators}
        409: {description: The meeting has not been held yet}
    """
    user = auth.user_of(request)
    now = clock.now()
    current = await fidelity.meeting_checklist(user, request.path_params["meeting_id"], now=now)
    if request.method == "GET":
        return JSONResponse(current.to_json())
    if not current.may_edit:
        raise Forbidden("Only this cohort's facilitators fill in its session checklists.")
    sent = await read_body(request, SessionChecklistBody)
    answers: dict[str, fidelity.Answer] = {}
    for given in sent.answers:
        if given.key in answers:
            raise BadRequest(f"The item {given.key!r} is answered twice.", fields={"answers": "One answer per item."})
        answers[given.key] = fidelity.Answer(answer=ChecklistAnswer(given.answer), note=given.note.strip())
    saved = await fidelity.save_checklist(user, current.meeting.id, answers=answers, rating=sent.rating,
                                          note=sent.note.strip(), now=now)
    return JSONResponse(saved.to_json())


def _period(request: Request, *, blank_allowed: bool) -> tuple[date | None, date | None]:
    """?since= and ?until= (ISO dates). The page's form sends blanks for "no limit"; the API
    takes the parameter left out instead."""
    values = []
    for name in ("since", "until"):
        raw = request.query_params.get(name)
        if raw is None or (blank_allowed and not raw.strip()):
            values.append(None)
            continue
        try:
            values.append(date.fromisoformat(raw.strip()))
        except ValueError:
            raise BadRequest(f"{name} must be a date like 2027-01-05.", fields={name: "A date like 2027-01-05."}) from None
    since, until = values
    if since and until and since > until:
        raise Unprocessable("since must not be after until.", fields={"since": "Not after until."})
    return since, until


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def adherence_page(request: Request) -> Response:
    user = auth.user_of(request)
    since, until = _period(request, blank_allowed=True)
    people = await fidelity.adherence(user, since=since, until=until)
    charts = {p.facilitator.id: adherence_chart(p.facilitator.display_name, p.week_rows(),
                                                 chart_id=f"adherence-{p.facilitator.id}") for p in people}
    return render(request, "fidelity/adherence.html", {
        "people": people, "charts": charts, "rule": fidelity.RULE, "percent": percent,
        "since": since, "until": until})


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def api_adherence(request: Request) -> Response:
    """
    get:
      summary: Checklist adherence per facilitator, per item and per week (a coordinator sees everyone, a facilitator themself and those they supervise)
      tags: [fidelity]
      parameters:
        - {name: since, in: query, required: false, schema: {type: string, format: date}}
        - {name: until, in: query, required: false, schema: {type: string, format: date}}
      responses:
        200: {description: "rule, facilitators [{facilitator, checklists, mean_rating, overall, items, weeks}]"}
        422: {description: since is after until}
    """
    user = auth.user_of(request)
    since, until = _period(request, blank_allowed=False)
    people = await fidelity.adherence(user, since=since, until=until)
    return JSONResponse({"rule": fidelity.RULE, "since": since.isoformat() if since else None,
                         "until": until.isoformat() if until else None,
                         "facilitators": [p.to_json() for p in people]})


routes = [
    Route("/meetings/{meeting_id:id}/checklist", checklist_page, methods=["GET", "POST"]),
    Route("/supervision/adherence", adherence_page, methods=["GET"]),
    Route("/api/v1/meetings/{meeting_id:id}/checklist", api_checklist, methods=["GET", "PUT"]),
    Route("/api/v1/supervision/adherence", api_adherence, methods=["GET"]),
]
