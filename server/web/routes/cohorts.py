"""Cohorts: creation with a live preview, the draft, activation and status; pages and /api/v1.

Who may do what: coordinators create and change; a cohort's facilitators read its
schedule; members see their schedule in the portal and their calendar feed, not here.
"""
from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlencode
from zoneinfo import available_timezones

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from calendars import PlannedMeeting, SchedulePlan
from calendars.discretion import check_public_fields
from calendars.planning import WEEKDAYS
from models.accounts import Role, User
from models.cohorts import Cohort, CohortStatus, Enrollment, Meeting
from server import clock, schedule
from server.accounts import access
from server.closure import signoff
from server.errors import REFUSALS, BadRequest, Conflict, Forbidden, NotFound, refusal
from server.reminders import follow_ups
from server.schedule import CohortInput
from server.web import auth, read_only
from server.web.api_models import (
    Activation,
    CohortSettings,
)
from server.web.api_schema import body, broken_rules, read_body
from server.web.forms import form_data
from server.web.templating import render

COMMON_ZONES = (
    "Europe/London", "Europe/Dublin", "Europe/Berlin", "Europe/Paris", "Africa/Kampala", "Africa/Addis_Ababa",
    "Africa/Nairobi", "Asia/Kathmandu", "America/New_York", "America/Chicago", "America/Denver",
    "America/Los_Angeles", "Australia/Sydney", "UTC",
)


@cache
def _all_zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def zone_choices(current: str) -> dict[str, tuple[str, ...]]:
    """The time zone list: the cohort's (or the coordinator's default) first, then the
    zones clinics here use, then every IANA zone, so nobody has to type one."""
    first = (current,) if current in _all_zones() else ()
    common = tuple(z for z in COMMON_ZONES if z not in first)
    return {"first": first, "common": common,
            "all": tuple(z for z in _all_zones() if z not in first and z not in COMMON_ZONES)}


def meeting_view(m: PlannedMeeting, group_label: str = "Group session") -> dict[str, Any]:
    return {
        "title": m.titled(group_label),
        "phase": m.phase.value,
        "date": m.start.strftime("%a %d %b %Y"),
        "time": f"{m.start:%H:%M}-{m.end:%H:%M} {m.start.tzname()}",
        "utc": m.start_utc.strftime("%Y-%m-%d %H:%M UTC"),
        "status": m.status.value,
        "adjusted": m.adjustment.value != "none",
    }


async def _facilitator_choices() -> list[User]:
    return await User.filter(role=Role.FACILITATOR, is_active=True).order_by("display_name", "id")


def _plan_rows(plan: SchedulePlan) -> list[dict[str, Any]]:
    return [meeting_view(m) for m in plan.group_sessions]


def _form_values(data: Any) -> dict[str, Any]:
    keys = ("name", "public_title", "template", "time_zone", "start_date", "weekday", "start_time",
            "session_minutes", "n_group_sessions", "initial_sessions", "termination_sessions", "skip_dates",
            "capacity", "location", "video_link", "confirm_public_words")
    values = {k: (data.get(k) or "") for k in keys}
    values["facilitators"] = [str(v) for v in (data.getlist("facilitators") if hasattr(data, "getlist") else data.get("facilitators") or [])]
    values["requires_signoff"] = data.get("requires_signoff") or ""  # issue 17: "", "yes" or "no"
    return values


def _values_from_input(values: CohortInput) -> dict[str, Any]:
    return {
        "name": values.name, "public_title": values.public_title, "template": str(values.template_id),
        "time_zone": values.time_zone, "start_date": values.start_date.isoformat(), "weekday": str(values.weekday),
        "start_time": values.start_time.strftime("%H:%M"), "session_minutes": str(values.session_minutes or ""),
        "n_group_sessions": str(values.group_sessions or ""), "initial_sessions": str(values.initial_sessions or ""),
        "termination_sessions": str(values.termination_sessions or ""),
        "skip_dates": " ".join(sorted(d.isoformat() for d in values.skip_dates)),
        "capacity": str(values.capacity), "location": values.location, "video_link": values.video_link,
        "facilitators": [str(i) for i in values.facilitator_ids],
    }


async def _form_context(values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    templates_ = await schedule.template_rows()
    return {
        "public_words": _public_words(values),
        "values": values, "templates": templates_, "facilitator_choices": await _facilitator_choices(),
        "weekdays": list(enumerate(WEEKDAYS)), "zones": zone_choices(str(values.get("time_zone") or "")), **extra,
    }


def _public_words(data: Any) -> dict[str, tuple[str, ...]]:
    fields = {name: str(data.get(name) or "") for name in schedule.PUBLIC_FIELDS}
    return dict(check_public_fields(fields).found)


async def _preview_context(data: Any, *, cohort: Cohort | None = None) -> dict[str, Any]:
    """Plan from the submitted fields: {plan, rows} or {preview_error, errors}."""
    try:
        values = schedule.parse_cohort_input(data, facilitator_ids=_form_values(data)["facilitators"])
        plan = await schedule.preview(values, now=clock.now(), cohort=cohort)
    except REFUSALS as refused:
        exc = refusal(refused)
        return {"preview_error": exc.message, "errors": exc.fields}
    return {"plan": plan, "rows": _plan_rows(plan), "protocol": plan.protocol, "public_words": _public_words(data),
            "skip_dates": sorted(values.skip_dates), "unused_skips": set(plan.unused_skip_dates)}


@auth.requires(Role.COORDINATOR)
async def cohort_new(request: Request) -> Response:
    user = auth.user_of(request)
    if request.method == "GET":
        params = request.query_params
        if params.get("template"):
            context = await _form_context(_form_values(params), **await _preview_context(params))
        else:
            rows = await schedule.template_rows()
            values = {"template": str(rows[0].id) if rows else "", "time_zone": user.time_zone or "Europe/London",
                      "start_time": "18:00", "capacity": "9", "public_title": "Group session", "facilitators": []}
            context = await _form_context(values)
        return render(request, "schedule/cohort_form.html", {**context, "cohort": None})
    form = await form_data(request)
    values = _form_values(form)
    if form.get("action") == "preview":  # the no-JavaScript preview: show the plan, store nothing
        context = await _form_context(values, **await _preview_context(form))
        return render(request, "schedule/cohort_form.html", {**context, "cohort": None})
    try:
        parsed = schedule.parse_cohort_input(form, facilitator_ids=values["facilitators"])
        requires_signoff = signoff.parse_requirement(form.get("requires_signoff"))
        cohort = await schedule.create_cohort(parsed, by=user, now=clock.now())
        await signoff.set_requirement(cohort, requires_signoff, by=user)
    except REFUSALS as refused:
        exc = refusal(refused)
        context = await _form_context(values, **{**await _preview_context(form), "error": exc.message, "errors": exc.fields})
        return render(request, "schedule/cohort_form.html", {**context, "cohort": None}, status_code=exc.status_code)
    return RedirectResponse(f"/cohorts/{cohort.id}?done=created", status_code=303)


@auth.requires(Role.COORDINATOR)
async def cohort_preview_fragment(request: Request) -> Response:
    """The preview alone, for the form's script to swap in as fields change."""
    cohort = None
    if request.query_params.get("cohort"):
        cohort = await access.staff_cohort(auth.user_of(request), request.query_params["cohort"])
    context = await _preview_context(request.query_params, cohort=cohort)
    return render(request, "schedule/_preview.html", context, status_code=200)


async def _cohort_context(request: Request, user: User, cohort: Cohort) -> dict[str, Any]:
    meetings = await Meeting.filter(cohort_id=cohort.id).order_by("starts_at", "id").prefetch_related("enrollment__member")
    facilitators = await cohort.facilitators.all().order_by("display_name")
    context: dict[str, Any] = {
        "cohort": cohort, "facilitators": facilitators, "meetings": meetings,
        "group": [m for m in meetings if m.kind.value == "group"],
        "individual": [m for m in meetings if m.kind.value != "group"],
        "is_coordinator": user.role == Role.COORDINATOR, "zone": cohort.time_zone,
        "weekday": WEEKDAYS[cohort.weekday] if 0 <= cohort.weekday <= 6 else "?",
        "enrolled": await Enrollment.filter(cohort_id=cohort.id, status="enrolled", member__restricted_at=None).count(),
        "notice": {"created": "The cohort was created as a draft.",
                   "activated": "The cohort is active: its meetings are in everyone's calendar feed.",
                   "edited": "The draft was saved.", "changed": "The schedule was changed.",
                   "status": "The status was changed."}.get(request.query_params.get("done", "")),
    }
    if user.role == Role.COORDINATOR:
        context["notices"] = await schedule.read_notices(request.query_params.get("notices"))
        context["smtp"] = bool(request.app.state.settings.smtp_host)
    if not meetings and cohort.status in schedule.EDITABLE:
        try:
            facilitator_ids = [u.id for u in facilitators]
            plan = await schedule.preview(schedule.input_from_cohort(cohort, facilitator_ids), now=clock.now(), cohort=cohort)
            context.update({"plan": plan, "rows": _plan_rows(plan)})
            context["activation_problems"] = plan.protocol.activation_problems(
                members=context["enrolled"], facilitators=len(facilitators))
        except REFUSALS as refused:
            exc = refusal(refused)
            context["preview_error"] = exc.message
    if cohort.activation_override_reason:
        context["override_by"] = await User.get_or_none(id=cohort.activation_override_by_id) if cohort.activation_override_by_id else None
    context["cohort_public_words"] = _public_words({name: getattr(cohort, name) for name in schedule.PUBLIC_FIELDS})
    context["at_risk"] = await follow_ups.at_risk([cohort.id])  # issue 16: members who stopped coming
    return context


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def cohort_page(request: Request) -> Response:
    user = auth.user_of(request)
    cohort = await access.viewable_cohort(user, request.path_params["cohort_id"])
    context = await _cohort_context(request, user, cohort) | await read_only.viewer(user, cohort)
    return render(request, "schedule/cohort.html", context)


@auth.requires(Role.COORDINATOR)
async def cohort_edit(request: Request) -> Response:
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    if cohort.status not in schedule.EDITABLE:
        raise Conflict(f"The cohort is {cohort.status.value}; change single meetings on its schedule page instead.")
    if request.method == "GET":
        facilitator_ids = [u.id for u in await cohort.facilitators.all()]
        values = _values_from_input(schedule.input_from_cohort(cohort, facilitator_ids))
        values["requires_signoff"] = signoff.REQUIREMENT_CHOICES[cohort.requires_signoff]
        preview = await _preview_context(values | {"facilitators": values["facilitators"]}, cohort=cohort)
        context = await _form_context(values, **preview)
        return render(request, "schedule/cohort_form.html", {**context, "cohort": cohort})
    form = await form_data(request)
    values = _form_values(form)
    if form.get("action") == "preview":
        context = await _form_context(values, **await _preview_context(form, cohort=cohort))
        return render(request, "schedule/cohort_form.html", {**context, "cohort": cohort})
    try:
        parsed = schedule.parse_cohort_input(form, facilitator_ids=values["facilitators"])
        requires_signoff = signoff.parse_requirement(form.get("requires_signoff"))
        await schedule.update_draft(cohort, parsed, by=user, now=clock.now())
        await signoff.set_requirement(cohort, requires_signoff, by=user)
    except REFUSALS as refused:
        exc = refusal(refused)
        context = await _form_context(
            values, **{**await _preview_context(form, cohort=cohort), "error": exc.message, "errors": exc.fields}
        )
        return render(request, "schedule/cohort_form.html", {**context, "cohort": cohort}, status_code=exc.status_code)
    return RedirectResponse(f"/cohorts/{cohort.id}?done=edited", status_code=303)


async def cohort_action(request: Request, action) -> Response:
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    form = await form_data(request)
    try:
        done = await action(cohort, form, user)
        # An action says what was done, and may add query values for the landing page.
        done, extra = done if isinstance(done, tuple) else (done, {})
    except REFUSALS as refused:
        exc = refusal(refused)
        if isinstance(exc, (NotFound, Forbidden)):
            raise
        cohort = await Cohort.get(id=cohort.id).select_related("template")
        context = await _cohort_context(request, user, cohort)
        context.update({"error": exc.message, "errors": exc.fields, "form": dict(form)})
        return render(request, "schedule/cohort.html", context, status_code=exc.status_code)
    return RedirectResponse(f"/cohorts/{cohort.id}?{urlencode({'done': done, **extra})}", status_code=303)


@auth.requires(Role.COORDINATOR)
async def cohort_activate(request: Request) -> Response:
    async def action(cohort: Cohort, form: Any, user: User) -> str:
        await schedule.activate(cohort, by=user, now=clock.now(), override_reason=str(form.get("override_reason") or ""))
        return "activated"

    return await cohort_action(request, action)


@auth.requires(Role.COORDINATOR)
async def cohort_status(request: Request) -> Response:
    async def action(cohort: Cohort, form: Any, user: User) -> str:
        try:
            status = CohortStatus(form.get("status") or "")
        except ValueError:
            raise BadRequest("Choose 'enrolling' or 'cancelled'.", fields={"status": "Invalid."}) from None
        await schedule.set_status(cohort, status, by=user)
        return "status"

    return await cohort_action(request, action)


def meeting_json(row: Meeting) -> dict[str, Any]:
    return {
        "id": row.id, "uid": row.uid, "kind": row.kind.value, "number": row.number, "phase": row.phase,
        "enrollment_id": row.enrollment_id, "facilitator_id": row.facilitator_id,
        "starts_at": row.starts_at.isoformat(), "ends_at": row.ends_at.isoformat(), "status": row.status.value,
        "replaces_id": row.replaces_id, "sequence": row.sequence, "revised_at": row.revised_at.isoformat(),
    }


def _plan_json(plan: SchedulePlan) -> dict[str, Any]:
    return {
        "protocol": plan.protocol.to_dict(),
        "time_zone": plan.time_zone,
        "warnings": list(plan.warnings),
        "unused_skip_dates": [d.isoformat() for d in plan.unused_skip_dates],
        "meetings": [
            {"kind": m.kind.value, "number": m.number, "of": m.of, "title": m.title, "phase": m.phase.value,
             "start": m.start.isoformat(), "end": m.end.isoformat(), "start_utc": m.start_utc.isoformat(),
             "wall_clock_adjustment": m.adjustment.value}
            for m in plan.meetings
        ],
    }


@auth.requires(Role.COORDINATOR)
@body(CohortSettings)
async def api_preview(request: Request) -> Response:
    """
    post:
      summary: Preview a cohort's schedule (nothing is stored)
      tags: [schedule]
      responses:
        200: {description: The planned meetings with phases and warnings}
        404: {description: No such protocol template}
    """
    settings = await read_body(request, CohortSettings)
    values = schedule.parse_cohort_input(settings.fields_sent())
    plan = await schedule.preview(values, now=clock.now())
    return JSONResponse(_plan_json(plan))


@auth.requires(Role.COORDINATOR)
@body(CohortSettings)
async def api_create_cohort(request: Request) -> Response:
    """
    post:
      summary: Create a cohort as a draft (same fields as the preview, plus name)
      tags: [schedule]
      description: "A clinical word (therapy, depression, IPT, ...) in public_title, location or video_link is refused with code clinical_words unless confirm_public_words is true: every member's calendar and e-mail show them."
      responses:
        201: {description: "The cohort id and its planned meetings"}
        404: {description: No such protocol template}
    """
    user = auth.user_of(request)
    settings = await read_body(request, CohortSettings)
    values = schedule.parse_cohort_input(settings.fields_sent())
    cohort = await schedule.create_cohort(values, by=user, now=clock.now())
    plan = await schedule.preview(values, now=clock.now(), cohort=cohort)
    return JSONResponse({"id": cohort.id, "status": cohort.status.value, "plan": _plan_json(plan)}, status_code=201)


@auth.requires(Role.COORDINATOR)
@body(CohortSettings)
async def api_edit_draft(request: Request) -> Response:
    """
    put:
      summary: Replace a draft cohort's settings (only before activation)
      tags: [schedule]
      description: "As creating: clinical words in public fields need confirm_public_words: true."
      responses:
        200: {description: The new plan}
        409: {description: The cohort is no longer a draft}
    """
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    settings = await read_body(request, CohortSettings)
    values = schedule.parse_cohort_input(settings.fields_sent())
    cohort = await schedule.update_draft(cohort, values, by=user, now=clock.now())
    plan = await schedule.preview(values, now=clock.now(), cohort=cohort)
    return JSONResponse({"id": cohort.id, "status": cohort.status.value, "plan": _plan_json(plan)})


@auth.requires(Role.COORDINATOR)
@body(Activation, required=False)
async def api_activate(request: Request) -> Response:
    """
    post:
      summary: Activate a draft or enrolling cohort; its meetings are created
      tags: [schedule]
      description: "Checks the protocol's group size bounds and facilitator count; outside them, give override_reason (stored, audited, shown on the cohort page)."
      responses:
        200: {description: The created meetings}
        409: {description: "Already active, or outside the protocol without override_reason (code protocol_checks, fields name each problem)"}
        422: {description: "What to change first (for example, no facilitator)"}
    """
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    activation = await read_body(request, Activation, optional=True)
    with broken_rules():
        rows = await schedule.activate(cohort, by=user, now=clock.now(), override_reason=activation.override_reason)
    cohort = await Cohort.get(id=cohort.id)
    return JSONResponse({"id": cohort.id, "status": "active", "meetings": [meeting_json(r) for r in rows],
                         "override": _override_json(cohort)})


def _override_json(cohort: Cohort) -> dict[str, Any] | None:
    if not cohort.activation_override_reason:
        return None
    return {"reason": cohort.activation_override_reason, "problems": list(cohort.activation_override_problems or []),
            "by": cohort.activation_override_by_id,
            "at": cohort.activation_override_at.isoformat() if cohort.activation_override_at else None}


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def api_meetings(request: Request) -> Response:
    """
    get:
      summary: A cohort's meetings (group sessions and individual meetings)
      tags: [schedule]
      responses:
        200: {description: "meetings: a list in time order"}
        403: {description: Neither this cohort's facilitator nor their supervisor}
    """
    user = auth.user_of(request)
    cohort = await access.viewable_cohort(user, request.path_params["cohort_id"])
    rows = await Meeting.filter(cohort_id=cohort.id).order_by("starts_at", "id")
    return JSONResponse({"cohort_id": cohort.id, "meetings": [meeting_json(r) for r in rows]})


routes = [
    Route("/cohorts/new", cohort_new, methods=["GET", "POST"]),
    Route("/cohorts/new/preview", cohort_preview_fragment, methods=["GET"]),
    Route("/cohorts/{cohort_id:id}", cohort_page, methods=["GET"]),
    Route("/cohorts/{cohort_id:id}/edit", cohort_edit, methods=["GET", "POST"]),
    Route("/cohorts/{cohort_id:id}/activate", cohort_activate, methods=["POST"]),
    Route("/cohorts/{cohort_id:id}/status", cohort_status, methods=["POST"]),
    Route("/api/v1/schedule/preview", api_preview, methods=["POST"]),
    Route("/api/v1/cohorts", api_create_cohort, methods=["POST"]),
    Route("/api/v1/cohorts/{cohort_id:id}/draft", api_edit_draft, methods=["PUT"]),
    Route("/api/v1/cohorts/{cohort_id:id}/activate", api_activate, methods=["POST"]),
    Route("/api/v1/cohorts/{cohort_id:id}/meetings", api_meetings, methods=["GET"]),
]
