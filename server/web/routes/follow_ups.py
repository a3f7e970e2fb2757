"""Follow-ups of members who stopped coming, and how to join a cohort or meeting online.

Pages and /api/v1. A follow-up is read by its cohort's staff and their supervisors; only the
cohort's facilitators and coordinators record the outreach (server/reminders/follow_ups.py).
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role
from models.cohorts import Cohort, Meeting
from server import clock
from server.accounts import audit
from server.accounts.access import facilitates, staff_cohort, viewable_cohort
from server.errors import REFUSALS, Forbidden, NotFound, refusal
from server.reminders import follow_ups, online
from server.reminders.join import check_join_input, join_details
from server.reminders.messages import neutral_title
from server.web.api_models import OnlineJoinBody, OutreachBody
from server.web.api_schema import body, read_body
from server.web.auth import requires, user_of
from server.web.forms import form_data
from server.web.routes.enrollment import record_id
from server.web.templating import render

STAFF = (Role.COORDINATOR, Role.FACILITATOR)
DONE = ("recorded", "withdrawn")


# --- follow-ups ---------------------------------------------------------------------------


async def _may_record(user, follow_up) -> bool:
    return user.role == Role.COORDINATOR or await facilitates(user, follow_up.cohort_id)


async def _follow_up_context(request: Request, follow_up, **extra: Any) -> dict[str, Any]:
    user = user_of(request)
    return {"f": follow_up, "outreach": await follow_ups.outreach_of(follow_up.id),
            "may_record": await _may_record(user, follow_up), "outcomes": follow_ups.OUTCOME_LABELS,
            "reasons": follow_ups.REASON_LABELS, "values": {}, "errors": {}, "message": "", **extra}


@requires(*STAFF)
async def follow_up_page(request: Request) -> Response:
    user = user_of(request)
    follow_up = await follow_ups.viewable_follow_up(user, record_id(request.path_params["follow_up_id"]))
    await audit.record(user, "read", "follow_up", follow_up.id, member=follow_up.enrollment.member_id)
    return render(request, "reminders/follow_up.html", await _follow_up_context(
        request, follow_up, message=done if (done := request.query_params.get("done", "")) in DONE else ""))


@requires(*STAFF)
async def follow_up_record(request: Request) -> Response:
    user = user_of(request)
    follow_up = await follow_ups.viewable_follow_up(user, record_id(request.path_params["follow_up_id"]))
    form = await form_data(request)
    values = {k: str(form.get(k, "")) for k in ("outcome", "note", "withdrawal_reason")}
    try:
        recorded = await follow_ups.record_outreach(follow_up, by=user, now=clock.now(), **values)
    except REFUSALS as exc:
        error = refusal(exc)
        context = await _follow_up_context(request, follow_up, values=values, errors=error.fields or {},
                                           message=error.message)
        return render(request, "reminders/follow_up.html", context, status_code=error.status_code)
    done = "withdrawn" if recorded.withdrawal_message else "recorded"
    return RedirectResponse(f"/follow-ups/{follow_up.id}?done={done}", status_code=303)


def follow_up_json(f) -> dict[str, Any]:
    return {"id": f.id, "cohort_id": f.cohort_id, "enrollment_id": f.enrollment_id,
            "member": f.enrollment.member.display_name, "reason": f.reason.value,
            "absences_in_a_row": f.absences_in_a_row, "unnotified": f.unnotified,
            "first_missed_meeting_id": f.first_missed_id, "last_missed_meeting_id": f.last_missed_id,
            "raised_at": f.raised_at.isoformat(), "closed_at": f.closed_at.isoformat() if f.closed_at else None,
            "outcome": f.outcome.value if f.outcome else None}


def outreach_json(o) -> dict[str, Any]:
    return {"outcome": o.outcome.value, "note": o.note, "by": o.by.display_name if o.by else None,
            "at": o.at.isoformat()}


@requires(*STAFF)
async def api_cohort_follow_ups(request: Request) -> Response:
    """
    summary: A cohort's open follow-ups, and who is at risk of dropping out (sessions missed since they last came)
    responses:
      200: {description: "{follow_ups: [...], at_risk: [{enrollment_id, member, missed_in_a_row, unnotified, follow_up_id}]}"}
    """
    cohort = await viewable_cohort(user_of(request), request.path_params["cohort_id"])
    items = await follow_ups.open_follow_ups([cohort.id])
    risk = (await follow_ups.at_risk([cohort.id]))[cohort.id]
    return JSONResponse({
        "follow_ups": [follow_up_json(f) for f in items],
        "at_risk": [{"enrollment_id": r.enrollment.id, "member": r.name, "missed_in_a_row": r.missed_in_a_row,
                     "unnotified": r.unnotified, "follow_up_id": r.follow_up.id if r.follow_up else None}
                    for r in risk],
    })


@requires(*STAFF)
async def api_follow_up(request: Request) -> Response:
    """
    summary: One follow-up with the outreach recorded so far
    responses:
      200: {description: "The follow-up, with outreach: [{outcome, note, by, at}]"}
    """
    user = user_of(request)
    f = await follow_ups.viewable_follow_up(user, record_id(request.path_params["follow_up_id"]))
    await audit.record(user, "read", "follow_up", f.id, member=f.enrollment.member_id)
    return JSONResponse({**follow_up_json(f), "outreach": [outreach_json(o) for o in await follow_ups.outreach_of(f.id)]})


@requires(*STAFF)
@body(OutreachBody)
async def api_record_outreach(request: Request) -> Response:
    """
    summary: Record a call or message to the member (facilitators and coordinators; supervisors read only)
    responses:
      200: {description: "The follow-up after it, settled unless not_reached; leaving withdraws the member"}
      403: {description: Not one of the cohort's facilitators}
      409: {description: Already settled, or the member cannot be withdrawn}
    """
    user = user_of(request)
    f = await follow_ups.viewable_follow_up(user, record_id(request.path_params["follow_up_id"]))
    if not await _may_record(user, f):  # before the body is read: supervisors learn nothing from a 400
        raise Forbidden("Only this group's facilitators and coordinators record outreach.")
    sent = await read_body(request, OutreachBody)
    recorded = await follow_ups.record_outreach(f, by=user, outcome=sent.outcome, note=sent.note,
                                                withdrawal_reason=sent.withdrawal_reason, now=clock.now())
    return JSONResponse({**follow_up_json(recorded.follow_up), "outreach": outreach_json(recorded.outreach),
                         "withdrawal": recorded.withdrawal_message or None})


# --- online cohorts and meetings ----------------------------------------------------------


async def _cohort_online_context(cohort: Cohort, **extra: Any) -> dict[str, Any]:
    return {"cohort": cohort, "meeting": None,
            "values": {"video_link": cohort.video_link, "dial_in": await online.cohort_dial_in(cohort.id)},
            "errors": {}, "saved": False, **extra}


@requires(*STAFF)
async def cohort_online_page(request: Request) -> Response:
    cohort = await staff_cohort(user_of(request), request.path_params["cohort_id"])
    return render(request, "reminders/online.html", await _cohort_online_context(
        cohort, saved=request.query_params.get("saved") == "1"))


async def _online_form(request: Request, *, save, context) -> Response:
    form = await form_data(request)
    values = {"video_link": str(form.get("video_link", "")), "dial_in": str(form.get("dial_in", ""))}
    _, _, problems = check_join_input(values["video_link"], values["dial_in"])
    if problems:
        return render(request, "reminders/online.html", {**context, "values": values, "errors": problems},
                      status_code=400)
    await save(values)
    return RedirectResponse(f"{request.url.path}?saved=1", status_code=303)


@requires(*STAFF)
async def cohort_online_save(request: Request) -> Response:
    cohort = await staff_cohort(user_of(request), request.path_params["cohort_id"])

    async def save(values):
        await online.set_cohort_join(cohort, now=clock.now(), **values)
    return await _online_form(request, save=save, context=await _cohort_online_context(cohort))


async def _staff_meeting(request: Request) -> tuple[Meeting, Cohort]:
    meeting = await Meeting.get_or_none(id=record_id(request.path_params["meeting_id"]))
    if meeting is None:
        raise NotFound("There is no such meeting.")
    return meeting, await staff_cohort(user_of(request), meeting.cohort_id)


async def _meeting_online_context(meeting: Meeting, cohort: Cohort, **extra: Any) -> dict[str, Any]:
    own = await online.meeting_override(meeting.id)
    return {"cohort": cohort, "meeting": meeting,
            "title": neutral_title(meeting, cohort, cohort.template.n_pregroup_individual),
            "values": {"video_link": own.video_link if own else "", "dial_in": own.dial_in if own else ""},
            "errors": {}, "saved": False, **extra}


@requires(*STAFF)
async def meeting_online_page(request: Request) -> Response:
    meeting, cohort = await _staff_meeting(request)
    return render(request, "reminders/online.html", await _meeting_online_context(
        meeting, cohort, saved=request.query_params.get("saved") == "1"))


@requires(*STAFF)
async def meeting_online_save(request: Request) -> Response:
    meeting, cohort = await _staff_meeting(request)

    async def save(values):
        await online.set_meeting_join(meeting, now=clock.now(), **values)
    return await _online_form(request, save=save, context=await _meeting_online_context(meeting, cohort))


def _join_json(details) -> dict[str, Any]:
    return {"online": details.online, "video_link": details.video_link or None, "dial_in": details.dial_in or None}


@requires(*STAFF)
async def api_cohort_online(request: Request) -> Response:
    """
    summary: How to join a cohort's meetings online (its video link and dial-in text)
    responses:
      200: {description: "{online, video_link, dial_in}"}
    """
    cohort = await viewable_cohort(user_of(request), request.path_params["cohort_id"])
    return JSONResponse(_join_json(join_details(cohort_video_link=cohort.video_link,
                                                cohort_dial_in=await online.cohort_dial_in(cohort.id))))


@requires(*STAFF)
@body(OnlineJoinBody)
async def api_set_cohort_online(request: Request) -> Response:
    """
    summary: Hold a cohort online (an https video link, optional dial-in text), or in its room again (empty link)
    responses:
      200: {description: "{online, video_link, dial_in}"}
      422: {description: The link is not an https address}
    """
    cohort = await staff_cohort(user_of(request), request.path_params["cohort_id"])
    sent = await read_body(request, OnlineJoinBody)
    details = await online.set_cohort_join(cohort, video_link=sent.video_link, dial_in=sent.dial_in, now=clock.now())
    return JSONResponse(_join_json(details))


@requires(*STAFF)
@body(OnlineJoinBody)
async def api_set_meeting_online(request: Request) -> Response:
    """
    summary: Give one meeting its own video link and dial-in text (an empty link follows the cohort's again)
    responses:
      200: {description: "The meeting's join details now: {online, video_link, dial_in}"}
      422: {description: The link is not an https address}
    """
    meeting, cohort = await _staff_meeting(request)
    sent = await read_body(request, OnlineJoinBody)
    await online.set_meeting_join(meeting, video_link=sent.video_link, dial_in=sent.dial_in, now=clock.now())
    return JSONResponse(_join_json(await online.join_details_of(meeting, cohort)))


routes = [
    Route("/follow-ups/{follow_up_id:id}", follow_up_page, methods=["GET"]),
    Route("/follow-ups/{follow_up_id:id}", follow_up_record, methods=["POST"]),
    Route("/cohorts/{cohort_id:id}/online", cohort_online_page, methods=["GET"]),
    Route("/cohorts/{cohort_id:id}/online", cohort_online_save, methods=["POST"]),
    Route("/meetings/{meeting_id:id}/online", meeting_online_page, methods=["GET"]),
    Route("/meetings/{meeting_id:id}/online", meeting_online_save, methods=["POST"]),
    Route("/api/v1/cohorts/{cohort_id:id}/follow-ups", api_cohort_follow_ups, methods=["GET"]),
    Route("/api/v1/follow-ups/{follow_up_id:id}", api_follow_up, methods=["GET"]),
    Route("/api/v1/follow-ups/{follow_up_id:id}/outreach", api_record_outreach, methods=["POST"]),
    Route("/api/v1/cohorts/{cohort_id:id}/online", api_cohort_online, methods=["GET"]),
    Route("/api/v1/cohorts/{cohort_id:id}/online", api_set_cohort_online, methods=["PUT"]),
    Route("/api/v1/meetings/{meeting_id:id}/online", api_set_meeting_online, methods=["PUT"]),
]
