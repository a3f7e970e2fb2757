"""Reminders and "I can't come": the signed link's page, and the member's own reminder page.

The link's page needs no sign-in (a member taps it on their phone from the e-mail); the
token names one member and one meeting and works until the meeting ends (server/reminders/links.py).
"""
from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role
from models.board import Board
from models.reminders import ReminderChoice
from server import clock, reminders
from server.errors import BadRequest, NotFound
from server.reminders.absences import upcoming_for_member
from server.reminders.links import read_questionnaire_token
from server.reminders.questionnaires import form_of_reminder
from server.web.api_models import ApiBody
from server.web.api_schema import body, read_body
from server.web.auth import requires, user_of
from server.web.forms import form_data
from server.web.routes.enrollment import record_id
from server.web.routes.boards import board_service
from server.web.templating import render

CHOICES = {"none": [], "24": [24], "2": [2], "both": [24, 2]}


def _choice_key(hours: list[float] | None) -> str:
    if hours is None:
        return ""
    wanted = sorted((float(h) for h in hours), reverse=True)
    return next((key for key, value in CHOICES.items() if [float(v) for v in value] == wanted), "")


async def cant_come_page(request: Request) -> Response:
    settings = request.app.state.settings
    ctx = await reminders.context_for_token(request.path_params["token"], settings=settings, now=clock.now())
    return render(request, "reminders/cant_come.html", {
        "ctx": ctx, "zone": ctx.enrollment.member.time_zone or ctx.cohort.time_zone,
        "started": clock.now() >= ctx.meeting.starts_at, "done": request.query_params.get("done", ""),
    })


async def cant_come_submit(request: Request) -> Response:
    settings = request.app.state.settings
    now = clock.now()
    ctx = await reminders.context_for_token(request.path_params["token"], settings=settings, now=now)
    form = await form_data(request)
    action = form.get("action", "")
    if action == "cant_come":
        absence = await reminders.say_cant_come(ctx, reason=str(form.get("reason", "")), now=now, settings=settings)
        board = await Board.get_or_none(meeting_id=ctx.meeting.id, closed_at=None)
        if board is not None:  # opened early: the facilitators see it at once
            await board_service(request.app).mark_notified_absence(board.id, ctx.enrollment.id, absence.reason)
    elif action == "can_come":
        await reminders.say_can_come(ctx, now=now, settings=settings)
    else:
        raise BadRequest("Choose “I can't come” or “I can come after all”.", fields={"action": "Required."})
    return RedirectResponse(f"{request.url.path}?done={action}", status_code=303)


@requires(Role.MEMBER)
async def member_reminders(request: Request) -> Response:
    user = user_of(request)
    choice = await ReminderChoice.get_or_none(user_id=user.id)
    settings = request.app.state.settings
    return render(request, "reminders/portal.html", {
        "choice": _choice_key(choice.hours) if choice else "",
        "clinic_hours": settings.reminder_hours, "saved": request.query_params.get("saved") == "1",
        "upcoming": await upcoming_for_member(user, now=clock.now(), settings=settings),
    })


@requires(Role.MEMBER)
async def member_reminders_save(request: Request) -> Response:
    user = user_of(request)
    form = await form_data(request)
    key = str(form.get("choice", ""))
    if key == "clinic":
        await ReminderChoice.filter(user_id=user.id).delete()
    elif key in CHOICES:
        choice, created = await ReminderChoice.get_or_create(user_id=user.id, defaults={"hours": CHOICES[key]})
        if not created:
            choice.hours = CHOICES[key]
            await choice.save(update_fields=["hours", "updated_at"])
    else:
        raise BadRequest("Choose when you would like reminders.", fields={"choice": "Choose one."})
    return RedirectResponse("/portal/reminders?saved=1", status_code=303)


@requires(Role.MEMBER)
async def questionnaire_link(request: Request) -> Response:
    """A questionnaire reminder's link: after sign-in, the member's form for that occasion."""
    reminder_id = read_questionnaire_token(request.app.state.settings.secret_key, request.path_params["token"])
    if reminder_id is None:
        raise NotFound("This link is not known. Please use the link from your reminder, or open your portal.")
    path = await form_of_reminder(reminder_id, user_of(request).id, now=clock.now())
    return RedirectResponse(path, status_code=303)


# --- API ----------------------------------------------------------------------------------


class AbsenceBody(ApiBody):
    reason: str = Field("", max_length=500)


def _upcoming_json(u, base_url: str) -> dict:
    return {"meeting_id": u.meeting.id, "title": u.title, "starts_at": u.meeting.starts_at.isoformat(),
            "ends_at": u.meeting.ends_at.isoformat(), "said_cant_come": u.said_cant_come,
            "cant_come_url": base_url + u.cant_come_path, "join_url": u.join_url,
            "dial_in": (u.dial_in or None) if u.join_url else None}


@requires(Role.MEMBER)
async def api_my_meetings(request: Request) -> Response:
    """
    summary: The member's next meetings, each with whether they said they can't come, the link to say so, and the join link (and dial-in) inside its window
    responses:
      200: {description: "Up to six meetings, soonest first"}
    """
    settings = request.app.state.settings
    upcoming = await upcoming_for_member(user_of(request), now=clock.now(), settings=settings)
    return JSONResponse([_upcoming_json(u, settings.base_url) for u in upcoming])


@requires(Role.MEMBER)
@body(AbsenceBody, required=False)
async def api_say_cant_come(request: Request) -> Response:
    """
    summary: Say the member can't come to one of their meetings, with an optional private reason (its facilitators are told)
    responses:
      200: {description: The absence is recorded}
      409: {description: The meeting has begun or was cancelled}
      410: {description: The meeting has ended}
    """
    settings, now = request.app.state.settings, clock.now()
    # The body first: a malformed one is refused as such (400/422) whatever the meeting's state.
    sent = await read_body(request, AbsenceBody, optional=True)
    ctx = await reminders.context_for_member(user_of(request), record_id(request.path_params["meeting_id"]), now=now)
    absence = await reminders.say_cant_come(ctx, reason=sent.reason, now=now, settings=settings)
    board = await Board.get_or_none(meeting_id=ctx.meeting.id, closed_at=None)
    if board is not None:
        await board_service(request.app).mark_notified_absence(board.id, ctx.enrollment.id, absence.reason)
    return JSONResponse({"meeting_id": ctx.meeting.id, "said_cant_come": True, "reason": absence.reason})


@requires(Role.MEMBER)
async def api_say_can_come(request: Request) -> Response:
    """
    summary: Say the member can come after all, before the meeting (its facilitators are told)
    responses:
      200: {description: The member is expected again}
      409: {description: The meeting has begun or was cancelled}
      410: {description: The meeting has ended}
    """
    settings, now = request.app.state.settings, clock.now()
    ctx = await reminders.context_for_member(user_of(request), record_id(request.path_params["meeting_id"]), now=now)
    await reminders.say_can_come(ctx, now=now, settings=settings)
    return JSONResponse({"meeting_id": ctx.meeting.id, "said_cant_come": False})


routes = [
    Route("/reminders/cant-come/{token}", cant_come_page, methods=["GET"]),
    Route("/reminders/cant-come/{token}", cant_come_submit, methods=["POST"]),
    Route("/reminders/questionnaire/{token}", questionnaire_link, methods=["GET"]),
    Route("/portal/reminders", member_reminders, methods=["GET"]),
    Route("/portal/reminders", member_reminders_save, methods=["POST"]),
    Route("/api/v1/me/meetings", api_my_meetings, methods=["GET"]),
    Route("/api/v1/me/meetings/{meeting_id:id}/absence", api_say_cant_come, methods=["PUT"]),
    Route("/api/v1/me/meetings/{meeting_id:id}/absence", api_say_can_come, methods=["DELETE"]),
]
