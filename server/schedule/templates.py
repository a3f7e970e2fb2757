"""Protocol templates as rows: the shipped formats (calendars/templates), coordinators own ones,
and the way back to calendars values.
"""
from __future__ import annotations

from typing import Any

from calendars import (
    Phase,
    ProtocolTemplate,
    TemplateError,
    shipped_templates,
)
from calendars.checklists import checklists_dict, parse_checklists
from calendars.protocol_rules import PhaseRange
from calendars.protocols import GroupSize
from calendars.vocabulary import CompositionRule, LabelStyle, ProblemArea
from models.accounts import User
from models.cohorts import ProtocolTemplate as TemplateRow
from server.errors import BadRequest, Conflict, NotFound


async def ensure_builtin_templates() -> None:
    """The shipped formats exist as rows, as published (idempotent; run on first use).

    Shipped rows cannot be edited, so a row that differs from its JSON is from an older
    release (such as the WHO late-join cutoff, 3 before it followed the initial phase) and
    is brought up to date."""
    existing = {row.slug: row for row in await TemplateRow.filter(is_builtin=True)}
    for template in shipped_templates().values():
        values = template_row_values(template)
        row = existing.get(template.key)
        if row is None:
            await TemplateRow.create(is_builtin=True, **values)
        elif any(getattr(row, name) != value for name, value in values.items()):
            await TemplateRow.filter(id=row.id).update(**values)


def template_row_values(t: ProtocolTemplate) -> dict[str, Any]:
    return {
        "slug": t.key,
        "name": t.name,
        "n_pregroup_individual": t.pre_group_meetings,
        "n_group_sessions": t.group_sessions,
        "session_minutes": t.session_minutes,
        "individual_minutes": t.individual_minutes,
        "cadence_days": t.cadence_days,
        "phases": [{"name": p.phase.value, "first": p.first, "last": p.last} for p in t.phases],
        "mid_individual_after_session": t.mid_group_after_session,
        "post_individual_within_days": t.post_group_within_days,
        "group_size_min": t.group_size.minimum,
        "group_size_target_low": t.group_size.target_low,
        "group_size_target_high": t.group_size.target_high,
        "group_size_max": t.group_size.maximum,
        "facilitator_count": t.facilitator_count,
        "late_join_cutoff_session": t.late_join_cutoff_session,
        "problem_area_labels": t.label_style.value,
        "grief_enabled": t.grief_enabled,
        "homework_enabled": t.homework,
        "consent_required": t.consent_required,
        "measures_schedule": t.measures_schedule,
        "checklists": checklists_dict(t.checklists),
        "checklist_notes": t.checklist_notes,
    }


def template_from_row(row: TemplateRow) -> ProtocolTemplate:
    shipped = shipped_templates().get(row.slug) if row.is_builtin else None
    areas = tuple(a for a in ProblemArea if row.grief_enabled or a is not ProblemArea.GRIEF)
    measures = tuple(
        (str(name), tokens if isinstance(tokens, str) else ",".join(str(t) for t in tokens))
        for name, tokens in dict(row.measures_schedule or {}).items()
    )
    try:
        return ProtocolTemplate(
            key=row.slug,
            name=row.name,
            pre_group_meetings=row.n_pregroup_individual,
            group_sessions=row.n_group_sessions,
            session_minutes=row.session_minutes,
            individual_minutes=row.individual_minutes,
            cadence_days=row.cadence_days,
            phases=phase_ranges(row.phases),
            mid_group_after_session=row.mid_individual_after_session,
            post_group_within_days=row.post_individual_within_days,
            group_size=GroupSize(
                minimum=row.group_size_min,
                target_low=row.group_size_target_low,
                target_high=row.group_size_target_high,
                maximum=row.group_size_max,
            ),
            facilitator_count=row.facilitator_count,
            composition=shipped.composition if shipped else CompositionRule.ANY,
            late_join_cutoff_session=row.late_join_cutoff_session,
            problem_areas=areas,
            label_style=LabelStyle(row.problem_area_labels),
            homework=row.homework_enabled,
            consent_required=row.consent_required,
            measures=measures,
            description=shipped.description if shipped else "",
            sources=shipped.sources if shipped else (),
            notes=shipped.notes if shipped else (),
            checklists=parse_checklists(row.checklists),
            checklist_notes=row.checklist_notes or "",
        )
    except TemplateError:
        raise  # a refusal server.errors translates, with the fields at fault
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRequest(f"The protocol template '{row.name}' is malformed: {exc}") from None


def phase_ranges(raw: Any) -> tuple[PhaseRange, ...]:
    return tuple(
        PhaseRange(phase=Phase(p.get("name") or p.get("phase")), first=int(p["first"]), last=int(p["last"]))
        for p in (raw or [])
    )


async def template_rows() -> list[TemplateRow]:
    await ensure_builtin_templates()
    return await TemplateRow.all().order_by("-is_builtin", "id")


async def template_row(template_id: int | str) -> TemplateRow:
    try:
        number = int(template_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such protocol template.") from None
    row = await TemplateRow.get_or_none(id=number) if 0 < number < 2**31 else None
    if row is None:
        raise NotFound("There is no such protocol template.")
    return row


async def save_template(template: ProtocolTemplate, *, by: User, row: TemplateRow | None = None) -> TemplateRow:
    values = template_row_values(template)
    if row is not None and row.is_builtin:
        raise Conflict("Shipped protocols stay as published; make a copy to change it.")
    clash = TemplateRow.filter(slug=values["slug"])
    if row is not None:
        clash = clash.exclude(id=row.id)
    if await clash.exists():
        raise BadRequest("Another protocol already uses that short name.", fields={"key": "Choose another short name."})
    if row is None:
        return await TemplateRow.create(created_by=by, **values)
    await TemplateRow.filter(id=row.id).update(**values)
    return await TemplateRow.get(id=row.id)
