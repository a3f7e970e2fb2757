"""Group-IPT protocol templates as data.

A cohort follows a template: how many individual pre-group meetings, how many weekly group
sessions and how long, which sessions belong to the initial, middle and termination
phases, optional mid- and post-group individual meetings, group size bounds, the late-join
cutoff, the measure schedule and the problem-area label set. Published formats differ in
every one of these (docs domain-ipt.md §1, §11), so nothing here is a constant of the code.

Three templates ship as JSON beside this module (calendars/templates/*.json); each names
its sources and marks what could not be verified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from calendars.checklists import (
    ChecklistItem,
    Checklists,
    checklist_problems,
    checklists_dict,
    parse_checklists,
)
from calendars.errors import TemplateError
from calendars.protocol_rules import (
    PhaseRange,
    adapted_late_join_cutoff,
    default_late_join_cutoff,
    late_join_warnings,
    phase_split_problems,
    phases_for,
    template_problems,
)
from calendars.vocabulary import (
    PROBLEM_AREA_LABELS,
    CompositionRule,
    LabelStyle,
    Phase,
    ProblemArea,
)

_TEMPLATE_DIR = Path(__file__).with_name("templates")


@dataclass(frozen=True, kw_only=True)
class GroupSize:
    minimum: int
    target_low: int
    target_high: int
    maximum: int


@dataclass(frozen=True, kw_only=True)
class ProtocolTemplate:
    key: str
    name: str
    pre_group_meetings: int
    group_sessions: int
    session_minutes: int
    individual_minutes: int
    phases: tuple[PhaseRange, ...]
    group_size: GroupSize
    late_join_cutoff_session: int
    cadence_days: int = 7
    mid_group_after_session: int | None = None
    post_group_within_days: int | None = None
    facilitator_count: int = 1
    composition: CompositionRule = CompositionRule.ANY
    problem_areas: tuple[ProblemArea, ...] = tuple(ProblemArea)
    label_style: LabelStyle = LabelStyle.CLINICAL
    homework: bool = False
    # Members need recorded consent (when, how, which agreement version) to be enrolled; the
    # pre-group meeting contracts the group's terms (S12, domain-ipt.md section 2b and 10).
    consent_required: bool = True
    measures: tuple[tuple[str, str], ...] = ()  # (instrument, "baseline,every_group_session,...")
    description: str = ""
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)
    # The session fidelity checklists (calendars/checklists.py), and where they come from.
    checklists: Checklists = field(default=(), compare=False)
    checklist_notes: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        problems = template_problems(self) + checklist_problems(self.checklists, self.checklist_notes)
        if problems:
            raise TemplateError(problems)

    # -- reading -------------------------------------------------------------------------

    def phase_of(self, session: int) -> Phase:
        for phase_range in self.phases:
            if session in phase_range:
                return phase_range.phase
        raise ValueError(f"session {session} is outside 1..{self.group_sessions}")

    def phase_range(self, phase: Phase) -> PhaseRange:
        return next(p for p in self.phases if p.phase is phase)

    @property
    def initial_sessions(self) -> int:
        return self.phase_range(Phase.INITIAL).sessions

    @property
    def termination_sessions(self) -> int:
        return self.phase_range(Phase.TERMINATION).sessions

    @property
    def grief_enabled(self) -> bool:
        return ProblemArea.GRIEF in self.problem_areas

    def checklist(self, name: str) -> tuple[ChecklistItem, ...]:
        return dict(self.checklists).get(name, ())

    def problem_area_labels(self) -> dict[ProblemArea, str]:
        labels = PROBLEM_AREA_LABELS[self.label_style]
        return {area: labels[area] for area in ProblemArea if area in self.problem_areas}

    @property
    def measures_schedule(self) -> dict[str, str]:
        return dict(self.measures)

    @property
    def default_late_join_cutoff(self) -> int:
        return default_late_join_cutoff(self.phases)

    def activation_problems(self, *, members: int, facilitators: int) -> dict[str, str]:
        """Where a cohort about to start departs from this protocol: its group size bounds
        and its number of facilitators (domain-ipt.md sections 1 and 7). Field -> problem."""
        problems: dict[str, str] = {}
        size = self.group_size
        if members < size.minimum:
            who = "Nobody is enrolled" if members == 0 else f"{members} {'member is' if members == 1 else 'members are'} enrolled"
            problems["members"] = f"{who}; {self.name} starts with at least {size.minimum} members."
        elif members > size.maximum:
            problems["members"] = f"{members} members are enrolled; {self.name} has at most {size.maximum} in a group."
        if facilitators != self.facilitator_count:
            wanted = "1 facilitator" if self.facilitator_count == 1 else f"{self.facilitator_count} co-facilitators"
            assigned = f"{facilitators} {'is' if facilitators == 1 else 'are'} assigned"
            problems["facilitators"] = f"{self.name} is led by {wanted}; {assigned}."
        return problems

    def late_join_warnings(self) -> list[str]:
        """Why this template's late-join cutoff is later than the protocol supports."""
        return late_join_warnings(self.late_join_cutoff_session, self.phases)

    # -- deriving ------------------------------------------------------------------------

    def adapted(
        self,
        *,
        group_sessions: int | None = None,
        initial_sessions: int | None = None,
        termination_sessions: int | None = None,
        session_minutes: int | None = None,
    ) -> ProtocolTemplate:
        """This template with a cohort's own session count, phase split and length.

        The initial and termination phases keep their length unless given; the middle
        phase takes the rest. A mid-group meeting moves to the new midpoint (Wilfley puts
        it after session 10 of 20), a design inference."""
        n = self.group_sessions if group_sessions is None else group_sessions
        initial = self.initial_sessions if initial_sessions is None else initial_sessions
        termination = (
            self.termination_sessions if termination_sessions is None else termination_sessions
        )
        mid_after = self.mid_group_after_session
        if mid_after is not None and n != self.group_sessions:
            mid_after = max(1, n // 2)
        problems = phase_split_problems(n, initial, termination)
        if problems:
            raise TemplateError(problems)
        return replace(
            self,
            group_sessions=n,
            phases=phases_for(n, initial=initial, termination=termination),
            mid_group_after_session=mid_after,
            late_join_cutoff_session=adapted_late_join_cutoff(
                self.late_join_cutoff_session, self.phases, phases_for(n, initial=initial, termination=termination)
            ),
            session_minutes=self.session_minutes if session_minutes is None else session_minutes,
        )

    # -- (de)serialising -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "pre_group_meetings": self.pre_group_meetings,
            "group_sessions": self.group_sessions,
            "session_minutes": self.session_minutes,
            "individual_minutes": self.individual_minutes,
            "cadence_days": self.cadence_days,
            "phases": [
                {"name": p.phase.value, "first": p.first, "last": p.last} for p in self.phases
            ],
            "mid_group_after_session": self.mid_group_after_session,
            "post_group_within_days": self.post_group_within_days,
            "group_size": {
                "minimum": self.group_size.minimum,
                "target_low": self.group_size.target_low,
                "target_high": self.group_size.target_high,
                "maximum": self.group_size.maximum,
            },
            "facilitator_count": self.facilitator_count,
            "composition": self.composition.value,
            "late_join_cutoff_session": self.late_join_cutoff_session,
            "default_late_join_cutoff": self.default_late_join_cutoff,
            "late_join_warnings": self.late_join_warnings(),
            "consent_required": self.consent_required,
            "problem_areas": [a.value for a in self.problem_areas],
            "label_style": self.label_style.value,
            "homework": self.homework,
            "measures_schedule": dict(self.measures),
            "sources": list(self.sources),
            "notes": list(self.notes),
            "checklists": checklists_dict(self.checklists),
            "checklist_notes": self.checklist_notes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProtocolTemplate:
        try:
            phases = tuple(
                PhaseRange(phase=Phase(p["name"]), first=int(p["first"]), last=int(p["last"]))
                for p in data["phases"]
            )
            cutoff = data.get("late_join_cutoff_session")
            return cls(
                key=str(data["key"]),
                name=str(data["name"]),
                description=str(data.get("description", "")),
                pre_group_meetings=int(data["pre_group_meetings"]),
                group_sessions=int(data["group_sessions"]),
                session_minutes=int(data["session_minutes"]),
                individual_minutes=int(data["individual_minutes"]),
                cadence_days=int(data.get("cadence_days", 7)),
                phases=phases,
                mid_group_after_session=_optional_int(data.get("mid_group_after_session")),
                post_group_within_days=_optional_int(data.get("post_group_within_days")),
                group_size=GroupSize(**{k: int(v) for k, v in data["group_size"].items()}),
                facilitator_count=int(data.get("facilitator_count", 1)),
                composition=CompositionRule(data.get("composition", "any")),
                # Left out, the cutoff follows the initial phase (default_late_join_cutoff).
                late_join_cutoff_session=(
                    default_late_join_cutoff(phases) if cutoff in (None, "") else int(cutoff)
                ),
                problem_areas=tuple(ProblemArea(a) for a in data.get("problem_areas", ProblemArea)),
                label_style=LabelStyle(data.get("label_style", "clinical")),
                homework=bool(data.get("homework", False)),
                consent_required=_bool(data.get("consent_required", True)),
                measures=tuple(
                    (str(k), str(v)) for k, v in dict(data.get("measures_schedule", {})).items()
                ),
                sources=tuple(str(s) for s in data.get("sources", ())),
                notes=tuple(str(n) for n in data.get("notes", ())),
                checklists=parse_checklists(data.get("checklists")),
                checklist_notes=str(data.get("checklist_notes") or ""),
            )
        except TemplateError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise TemplateError.single("template", f"Template data is malformed: {exc!r}") from exc


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


@lru_cache(maxsize=1)
def shipped_templates() -> dict[str, ProtocolTemplate]:
    """The published formats that ship with the platform, by key, in a stable order."""
    templates = {}
    for path in sorted(_TEMPLATE_DIR.glob("*.json")):
        template = ProtocolTemplate.from_dict(json.loads(path.read_text(encoding="utf-8")))
        templates[template.key] = template
    return templates


def shipped_template(key: str) -> ProtocolTemplate:
    try:
        return shipped_templates()[key]
    except KeyError:
        known = ", ".join(shipped_templates())
        raise TemplateError.single("template", f"No template '{key}'; choose one of {known}.") from None
