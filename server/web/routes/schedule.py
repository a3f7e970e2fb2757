"""Protocol templates, cohort creation with a live preview, the cohort schedule, and the
coordinator's changes to single meetings; pages and /api/v1.

Who may do what: coordinators create and change; a cohort's facilitators read its
schedule; members see their schedule in the portal and their calendar feed, not here.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from calendars import PlannedMeeting, SchedulePlan, TemplateError, shipped_templates
from calendars.discretion import check_public_fields
from calendars.planning import WEEKDAYS
from calendars.protocols import ProtocolTemplate
from models.accounts import Role, User
from models.cohorts import Cohort, CohortStatus, Enrollment, Meeting
from server import clock
from server.accounts import access
from server.errors import BadRequest, Conflict, Forbidden, NotFound, PlatformError
from server.platform import mailer
from server.schedule import scheduling
from server.schedule.scheduling import CohortInput
from server.web import auth
from server.web.api_models import (
    Activation,
    Cancellation,
    CohortSettings,
    MakeUp,
    ProtocolTemplateBody,
    Reschedule,
    Shift,
    SkipDates,
)
from server.web.api_schema import body, broken_rules, read_body
from server.web.forms import form_data
from server.web.templating import render

COMMON_ZONES = (
    "Europe/London", "Europe/Dublin", "Europe/Berlin", "Europe/Paris", "Africa/Kampala", "Africa/Addis_Ababa",
    "Africa/Nairobi", "Asia/Kathmandu", "America/New_York", "America/Chicago", "America/Denver",
    "America/Los_Angeles", "Australia/Sydney", "UTC",
)



def _fields(exc: PlatformError) -> dict[str, str]:
    return dict(exc.fields) if exc.fields else {}


async def _facilitator_choices() -> list[User]:
    return await User.filter(role=Role.FACILITATOR, is_active=True).order_by("display_name", "id")


def _plan_rows(plan: SchedulePlan) -> list[dict[str, Any]]:
    return [_meeting_view(m) for m in plan.group_sessions]


def _meeting_view(m: PlannedMeeting, group_label: str = "Group session") -> dict[str, Any]:
    return {
        "title": m.titled(group_label),
        "phase": m.phase.value,
        "date": m.start.strftime("%a %d %b %Y"),
        "time": f"{m.start:%H:%M}-{m.end:%H:%M} {m.start.tzname()}",
        "utc": m.start_utc.strftime("%Y-%m-%d %H:%M UTC"),
        "status": m.status.value,
        "adjusted": m.adjustment.value != "none",
    }


def _form_values(data: Any) -> dict[str, Any]:
    keys = ("name", "public_title", "template", "time_zone", "start_date", "weekday", "start_time",
            "session_minutes", "n_group_sessions", "initial_sessions", "termination_sessions", "skip_dates",
            "capacity", "location", "video_link", "confirm_public_words")
    values = {k: (data.get(k) or "") for k in keys}
    values["facilitators"] = [str(v) for v in (data.getlist("facilitators") if hasattr(data, "getlist") else data.get("facilitators") or [])]
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
    templates_ = await scheduling.template_rows()
    return {
        "public_words": _public_words(values),
        "values": values, "templates": templates_, "facilitator_choices": await _facilitator_choices(),
        "weekdays": list(enumerate(WEEKDAYS)), "zones": COMMON_ZONES, **extra,
    }


def _public_words(data: Any) -> dict[str, tuple[str, ...]]:
    fields = {name: str(data.get(name) or "") for name in scheduling.PUBLIC_FIELDS}
    return dict(check_public_fields(fields).found)


async def _preview_context(data: Any, *, cohort: Cohort | None = None) -> dict[str, Any]:
    """Plan from the submitted fields: {plan, rows} or {preview_error, errors}."""
    try:
        values = scheduling.parse_cohort_input(data, facilitator_ids=_form_values(data)["facilitators"])
        plan = await scheduling.preview(values, now=clock.now(), cohort=cohort)
    except PlatformError as exc:
        return {"preview_error": exc.message, "errors": _fields(exc)}
    return {"plan": plan, "rows": _plan_rows(plan), "protocol": plan.protocol, "public_words": _public_words(data)}


# --- protocol templates ------------------------------------------------------------------------


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def template_list(request: Request) -> Response:
    rows = await scheduling.template_rows()
    return render(request, "schedule/templates.html", {"rows": rows, "shipped": shipped_templates()})


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def template_view(request: Request) -> Response:
    row = await scheduling.template_row(request.path_params["template_id"])
    return render(request, "schedule/template.html", {"row": row, "template": scheduling.template_from_row(row)})


def _template_from_form(form: Any, *, key: str) -> ProtocolTemplate:
    def number(name: str, default: int | None = None) -> int | None:
        raw = (form.get(name) or "").strip()
        if not raw:
            return default
        try:
            return int(raw)
        except ValueError:
            raise BadRequest(f"{name.replace('_', ' ').capitalize()} must be a whole number.", fields={name: "A whole number."}) from None

    n = number("group_sessions", 0) or 0
    initial = number("initial_sessions", 1) or 0
    termination = number("termination_sessions", 1) or 0
    measures = {}
    for instrument in ("phq9", "gad7"):
        tokens = (form.get(f"measures_{instrument}") or "").strip()
        if tokens:
            measures[instrument] = tokens
    data = {
        "key": key,
        "name": (form.get("name") or "").strip()[:120],
        "pre_group_meetings": number("pre_group_meetings", 0),
        "group_sessions": n,
        "session_minutes": number("session_minutes", 90),
        "individual_minutes": number("individual_minutes", 50),
        "cadence_days": number("cadence_days", 7),
        "phases": [
            {"name": "initial", "first": 1, "last": initial},
            {"name": "middle", "first": initial + 1, "last": n - termination},
            {"name": "termination", "first": n - termination + 1, "last": n},
        ],
        "mid_group_after_session": number("mid_group_after_session"),
        "post_group_within_days": number("post_group_within_days"),
        "group_size": {
            "minimum": number("group_size_min", 4), "target_low": number("group_size_target_low", 6),
            "target_high": number("group_size_target_high", 9), "maximum": number("group_size_max", 12),
        },
        "facilitator_count": number("facilitator_count", 1),
        # Blank: derived from the initial phase (calendars.protocols.default_late_join_cutoff).
        "late_join_cutoff_session": number("late_join_cutoff_session"),
        "consent_required": not form.get("consent_not_required"),
        "problem_areas": ["role_dispute", "role_transition", "interpersonal_deficits"]
        + (["grief"] if form.get("grief_enabled") else []),
        "label_style": form.get("label_style") or "clinical",
        "homework": bool(form.get("homework_enabled")),
        "measures_schedule": measures,
    }
    try:
        return ProtocolTemplate.from_dict(data)
    except TemplateError as exc:
        raise scheduling.schedule_error(exc) from None


def _template_form_values(t: ProtocolTemplate | None) -> dict[str, Any]:
    if t is None:
        return {"pre_group_meetings": 1, "group_sessions": 12, "session_minutes": 90, "individual_minutes": 50,
                "cadence_days": 7, "initial_sessions": 2, "termination_sessions": 2, "group_size_min": 4,
                "group_size_target_low": 6, "group_size_target_high": 9, "group_size_max": 12,
                "facilitator_count": 1, "late_join_cutoff_session": "", "grief_enabled": True,
                "label_style": "clinical", "measures_phq9": "baseline,every_group_session,closure",
                "measures_gad7": "baseline,midpoint,closure", "name": ""}
    d = t.to_dict()
    return {
        "name": t.name, "pre_group_meetings": t.pre_group_meetings, "group_sessions": t.group_sessions,
        "session_minutes": t.session_minutes, "individual_minutes": t.individual_minutes, "cadence_days": t.cadence_days,
        "initial_sessions": t.initial_sessions, "termination_sessions": t.termination_sessions,
        "mid_group_after_session": t.mid_group_after_session or "", "post_group_within_days": t.post_group_within_days or "",
        "group_size_min": t.group_size.minimum, "group_size_target_low": t.group_size.target_low,
        "group_size_target_high": t.group_size.target_high, "group_size_max": t.group_size.maximum,
        "facilitator_count": t.facilitator_count, "late_join_cutoff_session": t.late_join_cutoff_session,
        "grief_enabled": t.grief_enabled, "homework_enabled": t.homework, "label_style": t.label_style.value,
        "consent_not_required": not t.consent_required,
        "measures_phq9": d["measures_schedule"].get("phq9", ""), "measures_gad7": d["measures_schedule"].get("gad7", ""),
    }


@auth.requires(Role.COORDINATOR)
async def template_new(request: Request) -> Response:
    user = auth.user_of(request)
    if request.method == "GET":
        source = None
        if request.query_params.get("from"):
            source = scheduling.template_from_row(await scheduling.template_row(request.query_params["from"]))
        values = _template_form_values(source)
        if source is not None:
            values["name"] = f"{source.name} (our version)"
        return render(request, "schedule/template_form.html", {"values": values, "row": None})
    form = await form_data(request)
    try:
        template = _template_from_form(form, key="custom-" + _slug(form.get("name") or ""))
        row = await scheduling.save_template(template, by=user)
    except PlatformError as exc:
        return render(request, "schedule/template_form.html",
                      {"values": dict(form), "row": None, "error": exc.message, "errors": _fields(exc)}, status_code=400)
    return RedirectResponse(f"/templates/{row.id}", status_code=303)


@auth.requires(Role.COORDINATOR)
async def template_edit(request: Request) -> Response:
    user = auth.user_of(request)
    row = await scheduling.template_row(request.path_params["template_id"])
    if row.is_builtin:
        raise Conflict("Published protocols stay as published; make your own copy to change it.")
    if request.method == "GET":
        template = scheduling.template_from_row(row)
        return render(request, "schedule/template_form.html", {
            "values": _template_form_values(template), "row": row, "late_join_warnings": template.late_join_warnings()})
    form = await form_data(request)
    try:
        template = _template_from_form(form, key=row.slug)
        await scheduling.save_template(template, by=user, row=row)
    except PlatformError as exc:
        return render(request, "schedule/template_form.html",
                      {"values": dict(form), "row": row, "error": exc.message, "errors": _fields(exc)},
                      status_code=exc.status_code)
    return RedirectResponse(f"/templates/{row.id}", status_code=303)


def _slug(name: str) -> str:
    import re

    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return slug or "protocol"


# --- cohorts: create with preview, edit the draft, activate ---------------------------------------


@auth.requires(Role.COORDINATOR)
async def cohort_new(request: Request) -> Response:
    user = auth.user_of(request)
    if request.method == "GET":
        params = request.query_params
        if params.get("template"):
            context = await _form_context(_form_values(params), **await _preview_context(params))
        else:
            rows = await scheduling.template_rows()
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
        parsed = scheduling.parse_cohort_input(form, facilitator_ids=values["facilitators"])
        cohort = await scheduling.create_cohort(parsed, by=user, now=clock.now())
    except PlatformError as exc:
        context = await _form_context(values, **{**await _preview_context(form), "error": exc.message, "errors": _fields(exc)})
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
        "enrolled": await Enrollment.filter(cohort_id=cohort.id, status="enrolled").count(),
        "notice": {"created": "The cohort was created as a draft.",
                   "activated": "The cohort is active: its meetings are in everyone's calendar feed.",
                   "edited": "The draft was saved.", "changed": "The schedule was changed.",
                   "status": "The status was changed."}.get(request.query_params.get("done", "")),
    }
    if not meetings and cohort.status in scheduling.EDITABLE:
        try:
            facilitator_ids = [u.id for u in facilitators]
            plan = await scheduling.preview(scheduling.input_from_cohort(cohort, facilitator_ids), now=clock.now(), cohort=cohort)
            context.update({"plan": plan, "rows": _plan_rows(plan)})
            context["activation_problems"] = plan.protocol.activation_problems(
                members=context["enrolled"], facilitators=len(facilitators))
        except PlatformError as exc:
            context["preview_error"] = exc.message
    if cohort.activation_override_reason:
        context["override_by"] = await User.get_or_none(id=cohort.activation_override_by_id) if cohort.activation_override_by_id else None
    context["cohort_public_words"] = _public_words({name: getattr(cohort, name) for name in scheduling.PUBLIC_FIELDS})
    return context


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def cohort_page(request: Request) -> Response:
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    return render(request, "schedule/cohort.html", await _cohort_context(request, user, cohort))


@auth.requires(Role.COORDINATOR)
async def cohort_edit(request: Request) -> Response:
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    if cohort.status not in scheduling.EDITABLE:
        raise Conflict(f"The cohort is {cohort.status.value}; change single meetings on its schedule page instead.")
    if request.method == "GET":
        facilitator_ids = [u.id for u in await cohort.facilitators.all()]
        values = _values_from_input(scheduling.input_from_cohort(cohort, facilitator_ids))
        preview = await _preview_context(values | {"facilitators": values["facilitators"]}, cohort=cohort)
        context = await _form_context(values, **preview)
        return render(request, "schedule/cohort_form.html", {**context, "cohort": cohort})
    form = await form_data(request)
    values = _form_values(form)
    if form.get("action") == "preview":
        context = await _form_context(values, **await _preview_context(form, cohort=cohort))
        return render(request, "schedule/cohort_form.html", {**context, "cohort": cohort})
    try:
        parsed = scheduling.parse_cohort_input(form, facilitator_ids=values["facilitators"])
        await scheduling.update_draft(cohort, parsed, by=user, now=clock.now())
    except PlatformError as exc:
        context = await _form_context(
            values, **{**await _preview_context(form, cohort=cohort), "error": exc.message, "errors": _fields(exc)}
        )
        return render(request, "schedule/cohort_form.html", {**context, "cohort": cohort}, status_code=exc.status_code)
    return RedirectResponse(f"/cohorts/{cohort.id}?done=edited", status_code=303)


async def _cohort_action(request: Request, action) -> Response:
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    form = await form_data(request)
    try:
        done = await action(cohort, form, user)
    except PlatformError as exc:
        if isinstance(exc, (NotFound, Forbidden)):
            raise
        cohort = await Cohort.get(id=cohort.id).select_related("template")
        context = await _cohort_context(request, user, cohort)
        context.update({"error": exc.message, "errors": _fields(exc), "form": dict(form)})
        return render(request, "schedule/cohort.html", context, status_code=exc.status_code)
    return RedirectResponse(f"/cohorts/{cohort.id}?done={done}", status_code=303)


@auth.requires(Role.COORDINATOR)
async def cohort_activate(request: Request) -> Response:
    async def action(cohort: Cohort, form: Any, user: User) -> str:
        await scheduling.activate(cohort, by=user, now=clock.now(), override_reason=str(form.get("override_reason") or ""))
        return "activated"

    return await _cohort_action(request, action)


@auth.requires(Role.COORDINATOR)
async def cohort_status(request: Request) -> Response:
    async def action(cohort: Cohort, form: Any, user: User) -> str:
        try:
            status = CohortStatus(form.get("status") or "")
        except ValueError:
            raise BadRequest("Choose 'enrolling' or 'cancelled'.", fields={"status": "Invalid."}) from None
        await scheduling.set_status(cohort, status, by=user)
        return "status"

    return await _cohort_action(request, action)


@auth.requires(Role.COORDINATOR)
async def cohort_shift(request: Request) -> Response:
    settings = request.app.state.settings

    async def action(cohort: Cohort, form: Any, user: User) -> str:
        await scheduling.shift_cohort(cohort, form, by=user, now=clock.now(), settings=settings)
        return "changed"

    return await _cohort_action(request, action)


@auth.requires(Role.COORDINATOR)
async def cohort_skip_dates(request: Request) -> Response:
    settings = request.app.state.settings

    async def action(cohort: Cohort, form: Any, user: User) -> str:
        await scheduling.add_cohort_skip_dates(cohort, form, by=user, now=clock.now(), settings=settings)
        return "changed"

    return await _cohort_action(request, action)


# --- single meetings ------------------------------------------------------------------------------


async def _staff_meeting(user: User, meeting_id: Any) -> Meeting:
    row = await scheduling.meeting_row(meeting_id)
    await access.staff_cohort(user, row.cohort_id)
    return row


async def _meeting_context(row: Meeting) -> dict[str, Any]:
    cohort = await Cohort.get(id=row.cohort_id).select_related("template")
    values = await scheduling.stored_meetings(cohort)
    value = next(v for v in values if v.uid == row.uid)
    replaced_by = await Meeting.filter(replaces_id=row.id).first()
    member = None
    if row.enrollment_id:
        enrollment = await Enrollment.get(id=row.enrollment_id).select_related("member")
        member = enrollment.member
    return {"row": row, "cohort": cohort, "value": value, "view": _meeting_view(value, cohort.public_title),
            "replaced_by": replaced_by, "member": member, "zone": cohort.time_zone}


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def meeting_page(request: Request) -> Response:
    user = auth.user_of(request)
    row = await _staff_meeting(user, request.path_params["meeting_id"])
    context = await _meeting_context(row)
    context["is_coordinator"] = user.role == Role.COORDINATOR
    context["notice"] = "The meeting was changed; calendar feeds show it now." if request.query_params.get("done") else None
    return render(request, "schedule/meeting.html", context)


def _meeting_action(kind: str):
    @auth.requires(Role.COORDINATOR)
    async def endpoint(request: Request) -> Response:
        user = auth.user_of(request)
        row = await _staff_meeting(user, request.path_params["meeting_id"])
        form = await form_data(request)
        service = {"reschedule": scheduling.reschedule_meeting, "cancel": scheduling.cancel_meeting,
                   "make-up": scheduling.make_up_meeting}[kind]
        try:
            applied = await service(row, form, by=user, now=clock.now(), settings=request.app.state.settings)
        except PlatformError as exc:
            if isinstance(exc, (NotFound, Forbidden)):
                raise
            context = await _meeting_context(row)
            context.update({"is_coordinator": True, "error": exc.message, "errors": _fields(exc), "form": dict(form)})
            return render(request, "schedule/meeting.html", context, status_code=exc.status_code)
        target = applied.added[0].id if applied.added else row.id
        return RedirectResponse(f"/meetings/{target}?done=1", status_code=303)

    endpoint.__name__ = f"meeting_{kind.replace('-', '_')}"
    return endpoint


@auth.requires(Role.COORDINATOR)
async def outbox_page(request: Request) -> Response:
    messages = await mailer.outbox()
    return render(request, "schedule/outbox.html", {"messages": messages, "smtp": bool(request.app.state.settings.smtp_host)})


# --- JSON API -------------------------------------------------------------------------------------------


def _meeting_json(row: Meeting) -> dict[str, Any]:
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


def _template_json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "builtin": row.is_builtin, **scheduling.template_from_row(row).to_dict()}


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
@body(ProtocolTemplateBody)
async def api_templates(request: Request) -> Response:
    """
    get:
      summary: Protocol templates (shipped and the clinic's own)
      tags: [schedule]
      responses:
        200: {description: "templates: a list"}
    post:
      summary: Create a protocol template (coordinators); body as returned by GET, without id
      tags: [schedule]
      responses:
        201: {description: The new template}
        403: {description: Not a coordinator}
    """
    if request.method == "GET":
        return JSONResponse({"templates": [_template_json(r) for r in await scheduling.template_rows()]})
    user = auth.user_of(request)
    if user.role != Role.COORDINATOR:
        raise Forbidden("Only coordinators define protocols.")
    template_body = await read_body(request, ProtocolTemplateBody)
    template = _template_from_json(template_body.fields_sent())
    row = await scheduling.save_template(template, by=user)
    return JSONResponse(_template_json(row), status_code=201)


def _template_from_json(fields: dict[str, Any], key: str | None = None) -> ProtocolTemplate:
    data = {k: v for k, v in fields.items() if v is not None or k in {"mid_group_after_session", "post_group_within_days"}}
    data.setdefault("key", "custom-" + _slug(str(data.get("name") or "")))
    if key is not None:
        data["key"] = key
    try:
        return ProtocolTemplate.from_dict(data)
    except TemplateError as exc:
        raise scheduling.schedule_error(exc) from None


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
@body(ProtocolTemplateBody)
async def api_template(request: Request) -> Response:
    """
    get:
      summary: One protocol template
      tags: [schedule]
      responses:
        200: {description: The template}
        404: {description: No such template}
    put:
      summary: Replace a clinic-defined template (coordinators; shipped ones are read-only)
      tags: [schedule]
      responses:
        200: {description: The template}
        409: {description: A shipped template}
    """
    row = await scheduling.template_row(request.path_params["template_id"])
    if request.method == "GET":
        return JSONResponse(_template_json(row))
    user = auth.user_of(request)
    if user.role != Role.COORDINATOR:
        raise Forbidden("Only coordinators define protocols.")
    template_body = await read_body(request, ProtocolTemplateBody)
    template = _template_from_json(template_body.fields_sent(), key=row.slug)
    row = await scheduling.save_template(template, by=user, row=row)
    return JSONResponse(_template_json(row))


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
    values = scheduling.parse_cohort_input(settings.fields_sent())
    plan = await scheduling.preview(values, now=clock.now())
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
    values = scheduling.parse_cohort_input(settings.fields_sent())
    cohort = await scheduling.create_cohort(values, by=user, now=clock.now())
    plan = await scheduling.preview(values, now=clock.now(), cohort=cohort)
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
    values = scheduling.parse_cohort_input(settings.fields_sent())
    cohort = await scheduling.update_draft(cohort, values, by=user, now=clock.now())
    plan = await scheduling.preview(values, now=clock.now(), cohort=cohort)
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
        rows = await scheduling.activate(cohort, by=user, now=clock.now(), override_reason=activation.override_reason)
    cohort = await Cohort.get(id=cohort.id)
    return JSONResponse({"id": cohort.id, "status": "active", "meetings": [_meeting_json(r) for r in rows],
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
        403: {description: Not this cohort's facilitator}
    """
    user = auth.user_of(request)
    cohort = await access.staff_cohort(user, request.path_params["cohort_id"])
    rows = await Meeting.filter(cohort_id=cohort.id).order_by("starts_at", "id")
    return JSONResponse({"cohort_id": cohort.id, "meetings": [_meeting_json(r) for r in rows]})


def _applied_json(applied: scheduling.Applied) -> dict[str, Any]:
    return {
        "changed": [_meeting_json(r) for r in applied.changed],
        "added": [_meeting_json(r) for r in applied.added],
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
        service = {"reschedule": scheduling.reschedule_meeting, "cancel": scheduling.cancel_meeting,
                   "make-up": scheduling.make_up_meeting}[kind]
        applied = await service(row, change.fields_sent(), by=user, now=clock.now(), settings=request.app.state.settings)
        return JSONResponse(_applied_json(applied))

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
    applied = await scheduling.shift_cohort(cohort, shift.fields_sent(), by=user, now=clock.now(),
                                            settings=request.app.state.settings)
    return JSONResponse(_applied_json(applied))


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
    applied = await scheduling.add_cohort_skip_dates(cohort, skip.fields_sent(), by=user, now=clock.now(),
                                                     settings=request.app.state.settings)
    return JSONResponse(_applied_json(applied))


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


routes = [
    Route("/templates", template_list, methods=["GET"]),
    Route("/templates/new", template_new, methods=["GET", "POST"]),
    Route("/templates/{template_id:id}", template_view, methods=["GET"]),
    Route("/templates/{template_id:id}/edit", template_edit, methods=["GET", "POST"]),
    Route("/cohorts/new", cohort_new, methods=["GET", "POST"]),
    Route("/cohorts/new/preview", cohort_preview_fragment, methods=["GET"]),
    Route("/cohorts/{cohort_id:id}", cohort_page, methods=["GET"]),
    Route("/cohorts/{cohort_id:id}/edit", cohort_edit, methods=["GET", "POST"]),
    Route("/cohorts/{cohort_id:id}/activate", cohort_activate, methods=["POST"]),
    Route("/cohorts/{cohort_id:id}/status", cohort_status, methods=["POST"]),
    Route("/cohorts/{cohort_id:id}/shift", cohort_shift, methods=["POST"]),
    Route("/cohorts/{cohort_id:id}/skip-dates", cohort_skip_dates, methods=["POST"]),
    Route("/meetings/{meeting_id:id}", meeting_page, methods=["GET"]),
    Route("/meetings/{meeting_id:id}/reschedule", _meeting_action("reschedule"), methods=["POST"]),
    Route("/meetings/{meeting_id:id}/cancel", _meeting_action("cancel"), methods=["POST"]),
    Route("/meetings/{meeting_id:id}/make-up", _meeting_action("make-up"), methods=["POST"]),
    Route("/outbox", outbox_page, methods=["GET"]),
    Route("/api/v1/templates", api_templates, methods=["GET", "POST"]),
    Route("/api/v1/templates/{template_id:id}", api_template, methods=["GET", "PUT"]),
    Route("/api/v1/schedule/preview", api_preview, methods=["POST"]),
    Route("/api/v1/cohorts", api_create_cohort, methods=["POST"]),
    Route("/api/v1/cohorts/{cohort_id:id}/draft", api_edit_draft, methods=["PUT"]),
    Route("/api/v1/cohorts/{cohort_id:id}/activate", api_activate, methods=["POST"]),
    Route("/api/v1/cohorts/{cohort_id:id}/meetings", api_meetings, methods=["GET"]),
    Route("/api/v1/cohorts/{cohort_id:id}/shift", api_shift, methods=["POST"]),
    Route("/api/v1/cohorts/{cohort_id:id}/skip-dates", api_skip_dates, methods=["POST"]),
    Route("/api/v1/meetings/{meeting_id:id}/reschedule", _api_meeting_action("reschedule"), methods=["POST"]),
    Route("/api/v1/meetings/{meeting_id:id}/cancel", _api_meeting_action("cancel"), methods=["POST"]),
    Route("/api/v1/meetings/{meeting_id:id}/make-up", _api_meeting_action("make-up"), methods=["POST"]),
    Route("/api/v1/outbox", api_outbox, methods=["GET"]),
]

