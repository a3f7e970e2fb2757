"""Editing a summary's narrative (the member's words for each goal, sections 6-9) and
what stops a summary from being finalized."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from server.closure.names import names_mentioned
from server.closure.record import NEXT_STEP_KINDS, SECTION_TITLES, SummaryRecord

MAX_TEXT = 4000


class SummaryInputError(ValueError):
    """Raised when an edit of the narrative fields is not acceptable; `problems` maps a
    form field to a message a facilitator can act on."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.problems.items()))


# The form fields a facilitator edits; nothing else in a summary comes from a form.
NARRATIVE_FIELDS = (
    "areas_needing_work", "warning_signs", "who_to_tell",
    "relapse_strategies", "relapse_supports", "seek_help", "feelings_about_ending",
    "next_step_kind", "next_step_details", "follow_up_date",
)
GOAL_WORDS_PREFIX = "goal_words_"


def apply_edits(summary: SummaryRecord, form: Mapping[str, str]) -> SummaryRecord:
    """A copy of `summary` with the narrative fields from `form`. Fields the form leaves
    out keep their value, so a partial API edit is safe."""
    problems: dict[str, str] = {}
    edited = SummaryRecord.from_json(summary.to_json())

    def text(name: str) -> str | None:
        if name not in form:
            return None
        value = form[name]
        if not isinstance(value, str):
            problems[name] = "must be text"
            return None
        value = value.replace("\r\n", "\n").strip()
        if len(value) > MAX_TEXT:
            problems[name] = f"is {len(value)} characters long; keep it under {MAX_TEXT}"
            return None
        return value

    goal_ids = {g.goal_id for g in edited.goals}
    for name in form:
        if name.startswith(GOAL_WORDS_PREFIX):
            raw = name.removeprefix(GOAL_WORDS_PREFIX)
            if not raw.isdigit() or int(raw) not in goal_ids:
                problems[name] = "names a goal that is not in this summary"
    for goal in edited.goals:
        words = text(f"{GOAL_WORDS_PREFIX}{goal.goal_id}")
        if words is not None:
            goal.member_words = words

    for name, setter in (
        ("areas_needing_work", lambda v: setattr(edited, "areas_needing_work", v)),
        ("warning_signs", lambda v: setattr(edited, "warning_signs", v)),
        ("who_to_tell", lambda v: setattr(edited, "who_to_tell", v)),
        ("relapse_strategies", lambda v: setattr(edited.relapse_plan, "strategies", v)),
        ("relapse_supports", lambda v: setattr(edited.relapse_plan, "supports", v)),
        ("seek_help", lambda v: setattr(edited.relapse_plan, "seek_help", v)),
        ("feelings_about_ending", lambda v: setattr(edited, "feelings_about_ending", v)),
        ("next_step_details", lambda v: setattr(edited.next_step, "details", v)),
    ):
        value = text(name)
        if value is not None:
            setter(value)

    kind = text("next_step_kind")
    if kind is not None:
        if kind and kind not in NEXT_STEP_KINDS:
            problems["next_step_kind"] = f"must be one of {', '.join(NEXT_STEP_KINDS)}"
        else:
            edited.next_step.kind = kind
    follow_up = text("follow_up_date")
    if follow_up is not None:
        try:
            edited.next_step.follow_up_date = date.fromisoformat(follow_up) if follow_up else None
        except ValueError:
            problems["follow_up_date"] = "must be a date like 2026-03-31"
    if edited.next_step.kind == "follow_up" and edited.next_step.follow_up_date is None and "next_step_kind" not in problems:
        problems["follow_up_date"] = "a follow-up needs a date"
    if problems:
        raise SummaryInputError(problems)
    return edited


def finalize_problems(summary: SummaryRecord, *, other_member_names: Iterable[str],
                      own_name: str = "") -> list[str]:
    """What stops this summary from being finalized; empty when it may be."""
    problems = [
        f"Section 3: add the member's own words for the goal \u201c{goal.text}\u201d."
        for goal in summary.goals if not goal.member_words
    ]
    if not summary.warning_signs:
        problems.append("Section 7: write the member's personal warning signs.")
    if not summary.who_to_tell:
        problems.append("Section 7: say who the member will tell.")
    if not summary.relapse_plan.strategies:
        problems.append("Section 8: write the relapse-prevention strategies.")
    if not summary.next_step.kind:
        problems.append("Section 9: choose the next step.")
    for found in names_mentioned(summary, other_member_names, own_name=own_name):
        problems.append(
            f"{SECTION_TITLES[found.section]}: \u201c{found.word}\u201d names another member of the cohort; "
            "a summary names no other member (use a role label)."
        )
    return problems
