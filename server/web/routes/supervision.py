"""The weekly supervision agenda and the supervision meetings recorded from it (issue 17).

Pages: /supervision (the agenda), /supervision/meetings/new (record a meeting, prefilled
from the agenda), /supervision/meetings/{id}, and marking an action done. The /api/v1 side
has the same. Supervisors read their own; coordinators choose a supervisor
(`?supervisor=` on pages, `supervisor_id` in the API). Members never reach any of it.
"""
from __future__ import annotations

from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role, User
from models.supervision import SupervisionAction, SupervisionMeeting
from server import clock
from server.errors import REFUSALS, BadRequest, NotFound, refusal
from server.supervision import agenda as agendas
from server.supervision import meetings, scope
from server.web.api_models import SupervisionMeetingBody
from server.web.api_schema import body, read_body
from server.web.auth import requires, user_of
from server.web.convertors import MAX_ID
from server.web.forms import form_data
from server.web.routes.enrollment import record_id
from server.web.templating import render

STAFF = (Role.COORDINATOR, Role.FACILITATOR)
ACTION_ROWS = 3  # empty action rows on the form


def _requested(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        number = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a person's id.", fields={name: "Not an id."}) from None
    if not 0 < number <= MAX_ID:
        raise BadRequest(f"{name} must be a person's id.", fields={name: "Not an id."})
    return number


async def _agenda(request: Request, supervisor: User) -> agendas.Agenda:
    return await agendas.build_agenda(user_of(request), supervisor, now=clock.now(),
                                      improvement_percent=request.app.state.settings.early_improvement_percent)


def _action_json(action: SupervisionAction) -> dict:
    return {
        "id": action.id, "meeting_id": action.meeting_id, "text": action.text, "owner_id": action.owner_id,
        "owner_name": action.owner.display_name if action.owner else None, "due_on": action.due_on.isoformat(),
        "done_at": action.done_at.isoformat() if action.done_at else None, "done_by_id": action.done_by_id,
    }


def _meeting_json(meeting: SupervisionMeeting, *, full: bool = True) -> dict:
    out = {
        "id": meeting.id, "supervisor_id": meeting.supervisor_id, "held_on": meeting.held_on.isoformat(),
        "facilitator_ids": sorted(f.id for f in meeting.facilitators_present),
        "created_by_id": meeting.created_by_id, "created_at": meeting.created_at.isoformat(),
    }
    if full:
        out |= {
            "notes": meeting.notes,
            "cases": [{"enrollment_id": c.enrollment_id, "note": c.note} for c in meeting.cases],
            "actions": [_action_json(a) for a in meeting.actions],
        }
    else:
        out |= {"cases": len(meeting.cases), "actions": len(meeting.actions),
                "open_actions": sum(1 for a in meeting.actions if a.done_at is None)}
    return out


def _agenda_json(agenda: agendas.Agenda) -> dict:
    return {
        "supervisor_id": agenda.supervisor.id,
        "since": agenda.since.isoformat(),
        "last_meeting_id": agenda.last_meeting.id if agenda.last_meeting else None,
        "facilitator_ids": [f.id for f in agenda.facilitators],
        "cohort_ids": [c.id for c in agenda.cohorts],
        "improvement_rule": agenda.improvement_rule,
        "improvement_percent": agenda.improvement_percent,
        "flags": [f.to_json() for f in agenda.flags],
        "open_actions": [_action_json(a) for a in agenda.open_actions],
    }


# --- pages --------------------------------------------------------------------------------

@requires(*STAFF)
async def agenda_page(request: Request) -> Response:
    viewer = user_of(request)
    supervisor = await scope.agenda_supervisor(viewer, _requested(request.query_params.get("supervisor"), "supervisor"))
    choices = await scope.supervisors() if viewer.role == Role.COORDINATOR else []
    if supervisor is None:
        return render(request, "supervision/agenda.html", {"agenda": None, "choices": choices, "recent": []})
    agenda = await _agenda(request, supervisor)
    recent = await meetings.meetings_of(viewer, supervisor, limit=10)
    return render(request, "supervision/agenda.html", {
        "agenda": agenda, "choices": choices, "recent": recent, "notice": request.query_params.get("done") and
        "The action is marked done.",
    })


def _day(raw: object, name: str, label: str) -> date:
    text = str(raw or "").strip()
    if not text:
        raise BadRequest(f"{label} is required.", fields={name: "Required."})
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{label}: {text[:20]!r} is not a date like 2027-01-05.", fields={name: "Not a date."}) from None
    if not date(1900, 1, 1) <= value <= date(2200, 12, 31):
        raise BadRequest(f"{label}: give a date between 1900 and 2200.", fields={name: "Out of range."})
    return value


def _ids(values: list[str], name: str) -> list[int]:
    out = []
    for raw in values:
        number = _requested(raw, name)
        if number is not None:
            out.append(number)
    return out


def meeting_from_form(form) -> meetings.MeetingInput:  # noqa: ANN001 (starlette FormData)
    """The new-meeting form as the service takes it. Action rows left empty are skipped."""
    held_on = _day(form.get("held_on"), "held_on", "The meeting's date")
    cases = [(eid, str(form.get(f"note_{eid}") or "")) for eid in _ids(form.getlist("case"), "case")]
    actions = []
    rows = sorted({key.removeprefix("action_text_") for key in form.keys() if key.startswith("action_text_")})
    for row in rows:
        text = str(form.get(f"action_text_{row}") or "").strip()
        if not text:
            continue
        owner = _requested(form.get(f"action_owner_{row}"), f"action_owner_{row}")
        if owner is None:
            raise BadRequest("Each action needs an owner.", fields={f"action_owner_{row}": "Required."})
        due = _day(form.get(f"action_due_{row}"), f"action_due_{row}", "An action's due date")
        actions.append(meetings.ActionInput(text=text, owner_id=owner, due_on=due))
    return meetings.MeetingInput(
        held_on=held_on, facilitator_ids=_ids(form.getlist("facilitator"), "facilitator"), cases=cases,
        actions=actions, done_action_ids=_ids(form.getlist("done"), "done"), notes=str(form.get("notes") or ""),
    )


async def _new_page(request: Request, supervisor: User, *, values=None, error: str = "", field_errors=None,
                    status_code: int = 200) -> Response:
    agenda = await _agenda(request, supervisor)
    owners = [supervisor, *[f for f in agenda.facilitators if f.id != supervisor.id]]
    today = agenda.today
    return render(request, "supervision/new_meeting.html", {
        "agenda": agenda, "owners": owners, "today": today, "default_due": today + timedelta(days=7),
        "rows": range(1, ACTION_ROWS + 1), "values": values, "error": error, "field_errors": field_errors or {},
    }, status_code=status_code)


@requires(*STAFF)
async def new_meeting(request: Request) -> Response:
    viewer = user_of(request)
    if request.method == "GET":
        supervisor = await scope.agenda_supervisor(viewer, _requested(request.query_params.get("supervisor"), "supervisor"))
        if supervisor is None:
            raise NotFound("Nobody supervises yet: a coordinator sets who supervises whom first.")
        return await _new_page(request, supervisor)
    form = await form_data(request)
    supervisor = await scope.agenda_supervisor(viewer, _requested(form.get("supervisor"), "supervisor"))
    if supervisor is None:
        raise BadRequest("Choose the supervisor whose meeting this is.", fields={"supervisor": "Required."})
    try:
        meeting = await meetings.record_meeting(viewer, supervisor, meeting_from_form(form), now=clock.now())
    except REFUSALS as refused:
        exc = refusal(refused)
        return await _new_page(request, supervisor, values=form, error=exc.message, field_errors=exc.fields,
                               status_code=exc.status_code)
    return RedirectResponse(f"/supervision/meetings/{meeting.id}?saved=1", status_code=303)


@requires(*STAFF)
async def meeting_page(request: Request) -> Response:
    viewer = user_of(request)
    meeting = await meetings.get_meeting(viewer, record_id(request.path_params["supervision_meeting_id"]))
    notice = {"saved": "The supervision meeting is recorded.", "done": "The action is marked done."}
    shown = next((text for key, text in notice.items() if request.query_params.get(key)), "")
    today = clock.now().astimezone(scope.zone_of(meeting.supervisor)).date()
    return render(request, "supervision/meeting.html", {"meeting": meeting, "notice": shown, "today": today})


@requires(*STAFF)
async def action_done(request: Request) -> Response:
    viewer = user_of(request)
    action_id = record_id(request.path_params["action_id"])
    form = await form_data(request)
    action = await meetings.mark_done(viewer, action_id, now=clock.now())
    if form.get("back") == "agenda":
        meeting = await SupervisionMeeting.get(id=action.meeting_id)
        return RedirectResponse(f"/supervision?supervisor={meeting.supervisor_id}&done=1", status_code=303)
    return RedirectResponse(f"/supervision/meetings/{action.meeting_id}?done=1", status_code=303)


# --- API ----------------------------------------------------------------------------------

@requires(*STAFF)
async def api_agenda(request: Request) -> Response:
    """
    summary: A supervisor's agenda, the flags since their last supervision meeting (or the last 7 days)
    tags: [supervision]
    parameters:
      - {name: supervisor_id, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 2147483647}, description: "Coordinators: whose agenda (default: yourself if you supervise, else the first supervisor)"}
    responses:
      200: {description: "The agenda: since, flags (kind, text, href, cohort, member, meeting), open actions"}
      403: {description: "You supervise nobody, or asked for another supervisor's agenda"}
      404: {description: "No such supervisor, or none yet"}
    """
    viewer = user_of(request)
    supervisor = await scope.agenda_supervisor(viewer, _requested(request.query_params.get("supervisor_id"), "supervisor_id"))
    if supervisor is None:
        raise NotFound("Nobody supervises yet: a coordinator sets who supervises whom first.")
    return JSONResponse(_agenda_json(await _agenda(request, supervisor)))


@requires(*STAFF)
@body(SupervisionMeetingBody)
async def api_meetings(request: Request) -> Response:
    """
    get:
      summary: A supervisor's supervision meetings, the latest first (50 at most)
      tags: [supervision]
      parameters:
        - {name: supervisor_id, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 2147483647}, description: "Coordinators: whose meetings"}
      responses:
        200: {description: The meetings}
        403: {description: You supervise nobody}
        404: {description: No such supervisor}
    post:
      summary: Record a supervision meeting (facilitators present, cases discussed, actions with owners and due dates)
      tags: [supervision]
      responses:
        201: {description: The meeting}
        403: {description: You supervise nobody}
        404: {description: No such supervisor}
    """
    viewer = user_of(request)
    if request.method == "GET":
        supervisor = await scope.agenda_supervisor(
            viewer, _requested(request.query_params.get("supervisor_id"), "supervisor_id"))
        if supervisor is None:
            raise NotFound("Nobody supervises yet.")
        found = await meetings.meetings_of(viewer, supervisor)
        return JSONResponse({"meetings": [_meeting_json(m, full=False) for m in found]})
    supervisor = await scope.agenda_supervisor(viewer, None)  # who may record at all, before the body
    given = await read_body(request, SupervisionMeetingBody)
    if given.supervisor_id is not None:
        supervisor = await scope.agenda_supervisor(viewer, given.supervisor_id)
    if supervisor is None:
        raise BadRequest("Name the supervisor whose meeting this is.", fields={"supervisor_id": "Required."})
    meeting = await meetings.record_meeting(viewer, supervisor, meetings.MeetingInput(
        held_on=given.held_on, facilitator_ids=list(given.facilitator_ids),
        cases=[(c.enrollment_id, c.note) for c in given.cases],
        actions=[meetings.ActionInput(text=a.text, owner_id=a.owner_id, due_on=a.due_on) for a in given.actions],
        done_action_ids=list(given.actions_done), notes=given.notes,
    ), now=clock.now())
    meeting = await meetings.get_meeting(viewer, meeting.id)
    return JSONResponse(_meeting_json(meeting), status_code=201)


@requires(*STAFF)
async def api_meeting(request: Request) -> Response:
    """
    summary: One supervision meeting, with its cases and actions (its supervisor and coordinators)
    tags: [supervision]
    responses:
      200: {description: The meeting}
    """
    meeting = await meetings.get_meeting(user_of(request), record_id(request.path_params["supervision_meeting_id"]))
    return JSONResponse(_meeting_json(meeting))


@requires(*STAFF)
async def api_action_done(request: Request) -> Response:
    """
    summary: Mark a supervision action done (it no longer carries over to the agenda)
    tags: [supervision]
    responses:
      200: {description: The action}
      409: {description: Already marked done}
    """
    action = await meetings.mark_done(user_of(request), record_id(request.path_params["action_id"]), now=clock.now())
    return JSONResponse(_action_json(action))


routes = [
    Route("/supervision", agenda_page, methods=["GET"]),
    Route("/supervision/meetings/new", new_meeting, methods=["GET", "POST"]),
    Route("/supervision/meetings/{supervision_meeting_id:id}", meeting_page, methods=["GET"]),
    Route("/supervision/actions/{action_id:id}/done", action_done, methods=["POST"]),
    Route("/api/v1/supervision/agenda", api_agenda, methods=["GET"]),
    Route("/api/v1/supervision/meetings", api_meetings, methods=["GET", "POST"]),
    Route("/api/v1/supervision/meetings/{supervision_meeting_id:id}", api_meeting, methods=["GET"]),
    Route("/api/v1/supervision/actions/{action_id:id}/done", api_action_done, methods=["POST"]),
]
