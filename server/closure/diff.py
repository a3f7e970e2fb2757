"""What changed between two versions of a summary, per section and word by word."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date

from server.closure.record import (
    GOAL_STATUS_LABELS,
    NEXT_STEP_LABELS,
    SECTION_TITLES,
    SafetyItem,
    SkillPractised,
    SummaryRecord,
    Trajectory,
)
from server.measures.outcomes import BELOW_THRESHOLD_LABEL


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str
    # Word-level pieces for rendering: ("equal" | "delete" | "insert", text).
    pieces: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SectionChange:
    section: str
    title: str
    changes: tuple[FieldChange, ...]


def diff_summaries(old: SummaryRecord, new: SummaryRecord, *, include_safety: bool = True) -> list[SectionChange]:
    """Per section, the fields that differ between two versions, in words a reader follows."""
    old_fields, new_fields = _readable_fields(old), _readable_fields(new)
    sections = []
    for section, title in SECTION_TITLES.items():
        if section == "safety" and not include_safety:
            continue
        before, after = old_fields.get(section, {}), new_fields.get(section, {})
        changes = []
        for label in list(dict.fromkeys([*before, *after])):
            a, b = before.get(label, ""), after.get(label, "")
            if a != b:
                changes.append(FieldChange(label, a, b, word_diff(a, b)))
        if changes:
            sections.append(SectionChange(section, title, tuple(changes)))
    return sections


def word_diff(before: str, after: str) -> tuple[tuple[str, str], ...]:
    a, b = re.findall(r"\S+|\s+", before), re.findall(r"\S+|\s+", after)
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("delete", "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(("insert", "".join(b[j1:j2])))
    return tuple(pieces)


def _readable_fields(s: SummaryRecord) -> dict[str, dict[str, str]]:
    o = s.overview
    fields_: dict[str, dict[str, str]] = {
        "overview": {
            "Cohort": o.cohort_title,
            "Protocol": o.protocol_label,
            "Dates": f"{_d(o.start_date)} to {_d(o.end_date)}",
            "Group sessions attended": f"{o.group_sessions_attended} of {o.group_sessions_held}",
            "Individual meetings held": str(o.individual_meetings_held),
        },
        "problem_areas": {
            "Primary problem area": s.problem_areas.primary,
            "Secondary problem areas": ", ".join(s.problem_areas.secondary),
            "Formulation": s.problem_areas.formulation,
        },
        "goals": {},
        "symptoms": {},
        "skills": {
            f"Role play {i}": _skill_line(k) for i, k in enumerate(s.skills, 1)
        },
        "areas_needing_work": {"Areas still needing work": s.areas_needing_work},
        "warning_signs": {"Warning signs": s.warning_signs, "Who they will tell": s.who_to_tell},
        "relapse_plan": {
            "Strategies": s.relapse_plan.strategies,
            "Supports": s.relapse_plan.supports,
            "When and where to seek help": s.relapse_plan.seek_help,
        },
        "feelings_about_ending": {"Feelings about ending": s.feelings_about_ending},
        "next_step": {
            "Next step": NEXT_STEP_LABELS.get(s.next_step.kind, s.next_step.kind),
            "Details": s.next_step.details,
            "Follow-up date": _d(s.next_step.follow_up_date),
        },
        "safety": {
            f"Safety item {i}": _safety_line(item) for i, item in enumerate(s.safety, 1)
        },
    }
    for goal in s.goals:
        name = f"Goal \u201c{goal.text}\u201d"
        fields_["goals"][f"{name}: status"] = GOAL_STATUS_LABELS.get(goal.status, goal.status)
        fields_["goals"][f"{name}: progress"] = "; ".join(
            f"{p.meeting_label}: {p.progress}" for p in goal.progress
        )
        fields_["goals"][f"{name}: the member's words"] = goal.member_words
    for t in s.symptoms:
        fields_["symptoms"][t.name] = trajectory_line(t)
    return fields_


def trajectory_line(t: Trajectory) -> str:
    base = f"{t.baseline_label.lower()} {t.baseline.total} ({t.baseline.band}, {_d(t.baseline.on)})"
    if t.late_baseline:
        base = f"baseline missed; {base}"
    if t.last is None:
        return f"{base}; no later score"
    line = f"{base}; last {t.last.total} ({t.last.band}, {_d(t.last.on)}); change {t.change:+d}"
    if t.percent_change is not None:
        line += f" ({t.percent_change:+d}%)"
    if t.below_threshold:
        return f"{line}; {BELOW_THRESHOLD_LABEL}: response and remission not counted"
    line += "; response" if t.response else "; no response"
    if t.remission is not None:
        line += ", remission" if t.remission else ", no remission"
    return line


def _skill_line(k: SkillPractised) -> str:
    line = f"{k.meeting_label}: {k.role_label} \u2014 {k.scenario}"
    if k.goal_text:
        line += f" (goal: {k.goal_text})"
    return f"{line}; next step: {k.next_step}" if k.next_step else line


def _safety_line(item: SafetyItem) -> str:
    closed = f"closed {_d(item.closed_on)}" if item.closed_on else "still open"
    return f"{_d(item.raised_on)} {item.trigger}: {item.outcome or 'no outcome recorded'}; {item.action or 'no action recorded'}; {closed}"


def _d(value: date | None) -> str:
    return value.isoformat() if value else "\u2014"
