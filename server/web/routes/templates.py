"""Protocol templates: the shipped formats and coordinators' own; pages and /api/v1.

Coordinators create and edit; every member of staff may read a template.
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from calendars import shipped_templates
from calendars.checklists import CHECKLIST_NAMES, CHECKLIST_TITLES, checklists_dict, form_field, items_from_lines
from calendars.vocabulary import Instrument
from calendars.protocols import ProtocolTemplate
from models.accounts import Role
from models.cohorts import ProtocolTemplate as TemplateRow
from server import schedule
from server.errors import REFUSALS, BadRequest, Conflict, Forbidden, refusal
from server.web import auth
from server.web.api_models import (
    ProtocolTemplateBody,
)
from server.web.api_schema import body, read_body
from server.web.forms import form_data
from server.web.templating import render


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def template_list(request: Request) -> Response:
    rows = await schedule.template_rows()
    return render(request, "schedule/templates.html", {"rows": rows, "shipped": shipped_templates()})


@auth.requires(Role.COORDINATOR, Role.FACILITATOR)
async def template_view(request: Request) -> Response:
    row = await schedule.template_row(request.path_params["template_id"])
    return render(request, "schedule/template.html", {"row": row, "template": schedule.template_from_row(row),
                                                       "checklist_titles": CHECKLIST_TITLES})


def _template_from_form(form: Any, *, key: str, keep: ProtocolTemplate | None = None) -> ProtocolTemplate:
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
    for instrument in Instrument:
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
        # One item per line; unchanged wording keeps its key (calendars.checklists.items_from_lines).
        "checklists": checklists_dict(tuple(
            (name, items_from_lines(form.get(form_field(name)) or "", keep=keep.checklist(name) if keep else ()))
            for name in CHECKLIST_NAMES
        )),
        "checklist_notes": (form.get("checklist_notes") or "").strip(),
    }
    return ProtocolTemplate.from_dict(data)


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
        "checklist_notes": t.checklist_notes,
        **{form_field(name): "\n".join(item.label for item in t.checklist(name)) for name in CHECKLIST_NAMES},
    }


@auth.requires(Role.COORDINATOR)
async def template_new(request: Request) -> Response:
    user = auth.user_of(request)
    if request.method == "GET":
        source = None
        if request.query_params.get("from"):
            source = schedule.template_from_row(await schedule.template_row(request.query_params["from"]))
        values = _template_form_values(source)
        if source is not None:
            values["name"] = f"{source.name} (our version)"
            values["from"] = request.query_params["from"]
        return render(request, "schedule/template_form.html", {"checklist_titles": CHECKLIST_TITLES, "values": values, "row": None})
    form = await form_data(request)
    try:
        # A copy's checklist items keep the keys of the protocol it was copied from.
        source = None
        if (form.get("from") or "").strip():
            source = schedule.template_from_row(await schedule.template_row(form.get("from")))
        template = _template_from_form(form, key="custom-" + _slug(form.get("name") or ""), keep=source)
        row = await schedule.save_template(template, by=user)
        await _save_requires_signoff(row, form)
    except REFUSALS as refused:
        exc = refusal(refused)
        return render(request, "schedule/template_form.html",
                      {"checklist_titles": CHECKLIST_TITLES, "values": dict(form), "row": None, "error": exc.message, "errors": exc.fields}, status_code=400)
    return RedirectResponse(f"/templates/{row.id}", status_code=303)


@auth.requires(Role.COORDINATOR)
async def template_edit(request: Request) -> Response:
    user = auth.user_of(request)
    row = await schedule.template_row(request.path_params["template_id"])
    if row.is_builtin:
        raise Conflict("Published protocols stay as published; make your own copy to change it.")
    if request.method == "GET":
        template = schedule.template_from_row(row)
        values = {**_template_form_values(template), "requires_signoff": row.requires_signoff}
        return render(request, "schedule/template_form.html", {"checklist_titles": CHECKLIST_TITLES,
            "values": values, "row": row, "late_join_warnings": template.late_join_warnings()})
    form = await form_data(request)
    try:
        template = _template_from_form(form, key=row.slug, keep=schedule.template_from_row(row))
        await schedule.save_template(template, by=user, row=row)
        await _save_requires_signoff(row, form)
    except REFUSALS as refused:
        exc = refusal(refused)
        return render(request, "schedule/template_form.html",
                      {"checklist_titles": CHECKLIST_TITLES, "values": dict(form), "row": row, "error": exc.message, "errors": exc.fields},
                      status_code=exc.status_code)
    return RedirectResponse(f"/templates/{row.id}", status_code=303)


async def _save_requires_signoff(row: TemplateRow, form: Any) -> None:
    # Kept beside the protocol's own fields (calendars.ProtocolTemplate): it is the clinic's
    # rule for closure summaries (issue 17), not part of a published format.
    await TemplateRow.filter(id=row.id).update(requires_signoff=bool(form.get("requires_signoff")))


def _slug(name: str) -> str:
    import re

    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return slug or "protocol"


def _template_json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "builtin": row.is_builtin, **schedule.template_from_row(row).to_dict()}


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
        return JSONResponse({"templates": [_template_json(r) for r in await schedule.template_rows()]})
    user = auth.user_of(request)
    if user.role != Role.COORDINATOR:
        raise Forbidden("Only coordinators define protocols.")
    template_body = await read_body(request, ProtocolTemplateBody)
    template = _template_from_json(template_body.fields_sent())
    row = await schedule.save_template(template, by=user)
    return JSONResponse(_template_json(row), status_code=201)


def _template_from_json(fields: dict[str, Any], key: str | None = None) -> ProtocolTemplate:
    data = {k: v for k, v in fields.items() if v is not None or k in {"mid_group_after_session", "post_group_within_days"}}
    data.setdefault("key", "custom-" + _slug(str(data.get("name") or "")))
    if key is not None:
        data["key"] = key
    return ProtocolTemplate.from_dict(data)


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
    row = await schedule.template_row(request.path_params["template_id"])
    if request.method == "GET":
        return JSONResponse(_template_json(row))
    user = auth.user_of(request)
    if user.role != Role.COORDINATOR:
        raise Forbidden("Only coordinators define protocols.")
    template_body = await read_body(request, ProtocolTemplateBody)
    template = _template_from_json(template_body.fields_sent(), key=row.slug)
    row = await schedule.save_template(template, by=user, row=row)
    return JSONResponse(_template_json(row))


routes = [
    Route("/templates", template_list, methods=["GET"]),
    Route("/templates/new", template_new, methods=["GET", "POST"]),
    Route("/templates/{template_id:id}", template_view, methods=["GET"]),
    Route("/templates/{template_id:id}/edit", template_edit, methods=["GET", "POST"]),
    Route("/api/v1/templates", api_templates, methods=["GET", "POST"]),
    Route("/api/v1/templates/{template_id:id}", api_template, methods=["GET", "PUT"]),
]
