"""Meetings and changes to an active schedule: the meeting page; reschedule, cancel and
make-up of one meeting; shift and skip dates for the rest of the cohort; and the outbox of
the notices those changes sent. Pages and /api/v1, mirroring server/schedule/changes.py.
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from models.accounts import Role, User
from models.cohorts import Cohort, Enrollment, Meeting
from models.fidelity import SessionChecklist
from server import clock, fidelity, schedule
from server.accounts import access
from server.board.record import meeting_record
from server.board.vocabulary import MARK_LABELS
from server.errors import REFUSALS, Forbidden, NotFound, refusal
from server.platform import mailer
from server.web import auth, read_only
from server.web.api_models import (
    Cancellation,
    MakeUp,
    Reschedule,
    Shift,
    SkipDates,
)
from server.web.api_schema import body, read_body
from server.web.forms import form_data
from server.web.routes.cohorts import cohort_action, meeting_json, meeting_view
from server.web.templating import render


async def _staff_meeting(user: User, meeting_id: Any) -> Meeting:
    row = await schedule.meeting_row(meeting_id)
    await access.staff_cohort(user, row.cohort_id)
    return row


async def _viewable_meeting(user: User, meeting_id: Any) -> Meeting:
    row = await schedule.meeting_row(meeting_id)
    await access.viewable_cohort(user, row.cohort_id)
    return row


async def _meeting_context(row: Meeting) -> dict[str, Any]:
    cohort = await Cohort.get(id=row.cohort_id).select_related("template")
    values = await schedule.stored_meetings(cohort)
    value = next(v for v in values if v.uid == row.uid)
    replaced_by = await Meeting.filter(replaces_id=row.id).first()
    member = None
    if row.enrollment_id:
        enrollment = await Enrollment.get(id=row.enrollment_id).select_related("member")
        member = enrollment.member
    return {"row": row, "cohort": cohort, "value": value, "view": meeting_view(value, cohort.public_title),
            "replaced_by": replaced_by, "member": member, "zone": cohort.time_zone,
            "record": await meeting_record(row.id), "mark_labels": MARK_LABELS,
            "checklist": await SessionChecklist.get_or_none(meeting_id=row.id),
            "checklist_due": fidelity.meeting_held(row, now=clock.now())}


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def meeting_page(request: Request) -> Response:
    user = auth.user_of(request)
    row = await _viewable_meeting(user, request.path_params["meeting_id"])
    context = await _meeting_context(row) | await read_only.viewer(user, row.cohort_id)
    context["is_coordinator"] = user.role == Role.COORDINATOR
    context["notice"] = "The meeting was changed; calendar feeds show it now." if request.query_params.get("done") else None
    if context["is_coordinator"]:
        context["notices"] = await schedule.read_notices(request.query_params.get("notices"))
        context["smtp"] = bool(request.app.state.settings.smtp_host)
    return render(request, "schedule/meeting.html", context)


def _meeting_action(kind: str):
    @auth.requires(Role.COORDINATOR)
    async def endpoint(request: Request) -> Response:
        user = auth.user_of(request)
        row = await _staff_meeting(user, request.path_params["meeting_id"])
        form = await form_data(request)
        service = {"reschedule": schedule.reschedule_meeting, "cancel": schedule.cancel_meeting,
                   "make-up": schedule.make_up_meeting}[kind]
        try:
            applied = await service(row, form, by=user, now=clock.now(), settings=request.app.state.settings)
        except REFUSALS as refused:
            exc = refusal(refused)
            if isinstance(exc, (NotFound, Forbidden)):
                raise
            context = await _meeting_context(row)
            context.update({"is_coordinator": True, "error": exc.message, "errors": exc.fields, "form": dict(form)})
            return render(request, "schedule/meeting.html", context, status_code=exc.status_code)
        target = applied.added[0].id if applied.added else row.id
        return RedirectResponse(f"/meetings/{target}?done=1&notices={applied.notices}", status_code=303)

    endpoint.__name__ = f"meeting_{kind.replace('-', '_')}"
    return endpoint


@auth.requires(Role.COORDINATOR)
async def outbox_page(request: Request) -> Response:
    messages = await mailer.outbox()
    return render(request, "schedule/outbox.html", {"messages": messages, "smtp": bool(request.app.state.settings.smtp_host)})


def applied_json(applied: schedule.Applied) -> dict[str, Any]:
    return {
        "changed": [meeting_json(r) for r in applied.changed],
        "added": [meeting_json(r) for r in applied.added],
        "warnings": list(applied.warnings),
        "notified": applied.notified,
    }


def _api_meeting_action(kind: str):
    model = {"reschedule": Reschedule, "cancel": Cancellation, "make-up": MakeUp}[kind]

    @auth.requires(Role.COORDINATOR)
    @body(model)
    async def endpoint(request: Request) -> Response:
        user = auth.user_of(request)
        row = await _staff_meeting(user, request.path_params["meeting_id"])
        change = await read_body(request, model)
        service = {"reschedule": schedule.reschedule_meeting, "cancel": schedule.cancel_meeting,
                   "make-up": schedule.make_up_meeting}[kind]
        applied = await service(row, change.fields_sent(), by=user, now=clock.now(), settings=request.app.state.settings)
        return JSONResponse(applied_json(applied))

    endpoint.__name__ = f"api_meeting_{kind.replace('-', '_')}"
    endpoint.__doc__ = {
        "reschedule": """
    post:
      summary: "Move one meeting: {date: YYYY-MM-DD, time: HH:MM} in the cohort's zone; SEQUENCE grows"
      tags: [schedule]
      responses:
        200: {description: The changed meeting}
        409: {description: The meeting is cancelled or already held}
""",
        "cancel": """
    post:
      summary: "Cancel one meeting: {confirm: true}, optionally with a make-up {make_up_date, make_up_time} that keeps its number"
      tags: [schedule]
      responses:
        200: {description: The cancelled meeting and any make-up}
        409: {description: The meeting is already cancelled or held}
""",
        "make-up": """
    post:
      summary: "A make-up for a cancelled meeting: {make_up_date, make_up_time}"
      tags: [schedule]
      responses:
        200: {description: The new meeting}
        409: {description: The meeting is not cancelled, or already has a make-up}
""",
    }[kind]
    return endpoint


@auth.requires(Role.COORDINATOR)
async def api_outbox(request: Request) -> Response:
    """
    get:
      summary: Messages about schedule changes (sent by SMTP, or waiting to be passed on)
      tags: [schedule]
      responses:
        200: {description: "messages: newest first"}
    """
    messages = await mailer.outbox()
    return JSONResponse({"messages": [
        {"id": m.id, "to": m.to_email, "subject": m.subject, "body": m.body, "created_at": m.created_at.isoformat(),
         "sent_at": m.sent_at.isoformat() if m.sent_at else None, "error": m.error or None}
        for m in messages
    ]})


@auth.requires(Role.COORDINATOR)
async def cohort_shift(request: Request) -> Response:
    settings = request.app.state.settings

    async def action(cohort: Cohort, form: Any, user: User) -> str:
        applied = await schedule.shift_cohort(cohort, form, by=user, now=clock.now(), settings=settings)
        return "changed", {"notices": applied.notices}

    return await cohort_action(request, action)


@auth.requires(Role.COORDINATOR)
async def cohort_skip_dates(request: Request) -> Response:
    settings = request.app.state.settings

    async def action(cohort: Cohort, form: Any, user: User) -> str:
        applied = await schedule.add_cohort_skip_dates(cohort, form, by=user, now=clock.now(), settings=settings)
        return "changed", {"notices": applied.notices}

    return await cohort_action(request, action)


@auth.requires(Role.COORDINATOR)
@body(Shift)
async def api_shift(request: Request) -> Response:
    """
    post:
      summary: "Move all remaining meetings later by whole cadences: {cadences: 1, from_session: optional}"
      tags: [schedule]
      responses:
        200: {description: The changed meetings}
        409: {description: The cohort is not active}
    """
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    shift = await read_body(request, Shift)
    applied = await schedule.shift_cohort(cohort, shift.fields_sent(), by=user, now=clock.now(),
                                            settings=request.app.state.settings)
    return JSONResponse(applied_json(applied))


@auth.requires(Role.COORDINATOR)
@body(SkipDates)
async def api_skip_dates(request: Request) -> Response:
    """
    post:
      summary: "Add skip dates to an active cohort: {dates: [YYYY-MM-DD, ...]}; sessions on them move one cadence on"
      tags: [schedule]
      responses:
        200: {description: The changed meetings and warnings}
        409: {description: The cohort is not active}
    """
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    skip = await read_body(request, SkipDates)
    applied = await schedule.add_cohort_skip_dates(cohort, skip.fields_sent(), by=user, now=clock.now(),
                                                     settings=request.app.state.settings)
    return JSONResponse(applied_json(applied))


routes = [
    Route("/cohorts/{cohort_id:id}/shift", cohort_shift, methods=["POST"]),
    Route("/cohorts/{cohort_id:id}/skip-dates", cohort_skip_dates, methods=["POST"]),
    Route("/meetings/{meeting_id:id}", meeting_page, methods=["GET"]),
    Route("/meetings/{meeting_id:id}/reschedule", _meeting_action("reschedule"), methods=["POST"]),
    Route("/meetings/{meeting_id:id}/cancel", _meeting_action("cancel"), methods=["POST"]),
    Route("/meetings/{meeting_id:id}/make-up", _meeting_action("make-up"), methods=["POST"]),
    Route("/outbox", outbox_page, methods=["GET"]),
    Route("/api/v1/cohorts/{cohort_id:id}/shift", api_shift, methods=["POST"]),
    Route("/api/v1/cohorts/{cohort_id:id}/skip-dates", api_skip_dates, methods=["POST"]),
    Route("/api/v1/meetings/{meeting_id:id}/reschedule", _api_meeting_action("reschedule"), methods=["POST"]),
    Route("/api/v1/meetings/{meeting_id:id}/cancel", _api_meeting_action("cancel"), methods=["POST"]),
    Route("/api/v1/meetings/{meeting_id:id}/make-up", _api_meeting_action("make-up"), methods=["POST"]),
    Route("/api/v1/outbox", api_outbox, methods=["GET"]),
]
