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
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from calendars.errors import Problem, TemplateError

# Published formats run 6-20 group sessions (domain-ipt.md §1). Three is the least that
# gives every phase a session; 26 (half a year weekly) leaves room for custom extended
# protocols while still refusing an obvious typo such as 120.
MIN_GROUP_SESSIONS = 3
MAX_GROUP_SESSIONS = 26
MAX_PRE_GROUP_MEETINGS = 2  # 0-2 in every published format (domain-ipt.md §1, §10)
MIN_MINUTES, MAX_MINUTES = 15, 240
MAX_CADENCE_DAYS = 28
MAX_GROUP_SIZE = 30
# Adding members is allowed "only over the first 2-3 sessions" (Wilfley IPT-G, S12 /75479,
# domain-ipt.md section 7): no template's default cutoff is later than session 3.
LATE_JOIN_LATEST_SESSION = 3

_TEMPLATE_DIR = Path(__file__).with_name("templates")


class Phase(StrEnum):
    INITIAL = "initial"
    MIDDLE = "middle"
    TERMINATION = "termination"


class MeetingKind(StrEnum):
    # Values as models/cohorts.py stores them.
    PRE_GROUP = "pregroup"
    GROUP = "group"
    MID_GROUP = "mid"
    POST_GROUP = "post"


class ProblemArea(StrEnum):
    GRIEF = "grief"
    ROLE_DISPUTE = "role_dispute"
    ROLE_TRANSITION = "role_transition"
    INTERPERSONAL_DEFICITS = "interpersonal_deficits"


class LabelStyle(StrEnum):
    CLINICAL = "clinical"
    LAY = "lay"


# Clinical names after ISIPT / Weissman [S15]; lay names as WHO-derived group IPT [S4] and
# StrongMinds [S52] use them (domain-ipt.md §3).
PROBLEM_AREA_LABELS: dict[LabelStyle, dict[ProblemArea, str]] = {
    LabelStyle.CLINICAL: {
        ProblemArea.GRIEF: "Grief",
        ProblemArea.ROLE_DISPUTE: "Role dispute",
        ProblemArea.ROLE_TRANSITION: "Role transition",
        ProblemArea.INTERPERSONAL_DEFICITS: "Interpersonal deficits",
    },
    LabelStyle.LAY: {
        ProblemArea.GRIEF: "Grief",
        ProblemArea.ROLE_DISPUTE: "Disputes",
        ProblemArea.ROLE_TRANSITION: "Life changes",
        ProblemArea.INTERPERSONAL_DEFICITS: "Loneliness / isolation",
    },
}


class CompositionRule(StrEnum):
    ANY = "any"
    SINGLE_SEX = "single_sex"
    MIXED = "mixed"
    AGE_BAND = "age_band"


# Measure schedule tokens, as server/measure_schedule.py reads them (instrument -> comma list).
MEASURE_INSTRUMENTS = ("phq9", "gad7")
_MEASURE_TOKEN = re.compile(r"^(baseline|every_group_session|midpoint|closure|every_[1-9]\d*_sessions|session_[1-9]\d*)$")


@dataclass(frozen=True, kw_only=True)
class PhaseRange:
    phase: Phase
    first: int
    last: int

    def __contains__(self, session: object) -> bool:
        return isinstance(session, int) and self.first <= session <= self.last

    @property
    def sessions(self) -> int:
        return self.last - self.first + 1


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

    def __post_init__(self) -> None:
        problems = _template_problems(self)
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
        problems = _phase_split_problems(n, initial, termination)
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
            )
        except TemplateError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise TemplateError.single("template", f"Template data is malformed: {exc!r}") from exc


def phases_for(n: int, *, initial: int, termination: int) -> tuple[PhaseRange, ...]:
    return (
        PhaseRange(phase=Phase.INITIAL, first=1, last=initial),
        PhaseRange(phase=Phase.MIDDLE, first=initial + 1, last=n - termination),
        PhaseRange(phase=Phase.TERMINATION, first=n - termination + 1, last=n),
    )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def default_late_join_cutoff(phases: tuple[PhaseRange, ...]) -> int:
    """The last session a newcomer may first attend, by default.

    Two rules meet here (domain-ipt.md): members may be added "only over the first 2-3
    sessions" (section 7, S12 /75479), and the initial phase is where each member tells
    the group about their symptoms and problem area and the group sets its goals (section 2,
    S6 for WHO, S12 for Wilfley). A newcomer must still take part in at least one session
    of that phase, so the default is the earlier of session 3 and the initial phase's last
    session: 1 for WHO Group IPT (initial phase = session 1), 3 for Uganda and Wilfley."""
    initial = next((p for p in phases if p.phase is Phase.INITIAL), None)
    last_initial = initial.last if initial is not None else LATE_JOIN_LATEST_SESSION
    return max(1, min(LATE_JOIN_LATEST_SESSION, last_initial))


def adapted_late_join_cutoff(
    cutoff: int, template_phases: tuple[PhaseRange, ...], phases: tuple[PhaseRange, ...]
) -> int:
    """A cohort's cutoff when it changes the template's phases: a template that follows the
    initial-phase rule keeps following it for the cohort's own initial phase."""
    n = phases[-1].last if phases else cutoff
    if cutoff <= default_late_join_cutoff(template_phases):
        return max(1, min(cutoff, n, default_late_join_cutoff(phases)))
    return max(1, min(cutoff, n))


def late_join_warnings(cutoff: int, phases: tuple[PhaseRange, ...]) -> list[str]:
    initial = next((p for p in phases if p.phase is Phase.INITIAL), None)
    warnings = []
    if initial is not None and cutoff > initial.last:
        span = f"session {initial.last}" if initial.first == initial.last else f"sessions {initial.first}-{initial.last}"
        warnings.append(
            f"Members may join up to session {cutoff}, but the initial phase is {span}: a member "
            f"joining at session {cutoff} misses the whole initial phase, where the group shares "
            f"its problems and sets its goals. The protocol's default is session "
            f"{default_late_join_cutoff(phases)}."
        )
    if cutoff > LATE_JOIN_LATEST_SESSION:
        warnings.append(
            f"Members may join up to session {cutoff}; group IPT adds members only over the "
            f"first {LATE_JOIN_LATEST_SESSION} sessions (Wilfley IPT-G)."
        )
    return warnings


def _phase_split_problems(n: int, initial: int, termination: int) -> list[Problem]:
    problems = []
    if not MIN_GROUP_SESSIONS <= n <= MAX_GROUP_SESSIONS:
        problems.append(
            Problem(
                "group_sessions",
                f"Number of group sessions must be between {MIN_GROUP_SESSIONS} and "
                f"{MAX_GROUP_SESSIONS}; got {n}. Each phase needs at least one session.",
            )
        )
        return problems
    if initial < 1:
        problems.append(Problem("initial_sessions", "The initial phase needs at least 1 session."))
    if termination < 1:
        problems.append(
            Problem("termination_sessions", "The termination phase needs at least 1 session.")
        )
    if initial >= 1 and termination >= 1 and initial + termination > n - 1:
        problems.append(
            Problem(
                "initial_sessions",
                f"Initial ({initial}) and termination ({termination}) sessions leave no middle "
                f"phase in {n} sessions; make them add up to at most {n - 1}.",
            )
        )
    return problems


def _template_problems(t: ProtocolTemplate) -> list[Problem]:
    problems: list[Problem] = []
    if not t.key.strip():
        problems.append(Problem("key", "A template needs a key."))
    if not t.name.strip():
        problems.append(Problem("name", "A template needs a name."))
    if not 0 <= t.pre_group_meetings <= MAX_PRE_GROUP_MEETINGS:
        problems.append(
            Problem(
                "pre_group_meetings",
                f"Pre-group individual meetings must be 0 to {MAX_PRE_GROUP_MEETINGS}; "
                f"got {t.pre_group_meetings}.",
            )
        )
    n = t.group_sessions
    if not MIN_GROUP_SESSIONS <= n <= MAX_GROUP_SESSIONS:
        problems.extend(_phase_split_problems(n, 1, 1))
        return problems
    for name in ("session_minutes", "individual_minutes"):
        minutes = getattr(t, name)
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            problems.append(
                Problem(name, f"Minutes must be {MIN_MINUTES} to {MAX_MINUTES}; got {minutes}.")
            )
    if not 1 <= t.cadence_days <= MAX_CADENCE_DAYS:
        problems.append(
            Problem("cadence_days", f"Cadence must be 1 to {MAX_CADENCE_DAYS} days; got {t.cadence_days}.")
        )
    phases = tuple(p.phase for p in t.phases)
    if phases != tuple(Phase):
        problems.append(
            Problem("phases", "Phases must be initial, middle and termination, in that order.")
        )
    else:
        expected = 1
        for p in t.phases:
            if p.first != expected or p.last < p.first:
                problems.append(
                    Problem(
                        "phases",
                        f"The {p.phase} phase must start at session {expected} and hold at "
                        f"least one session; got {p.first}-{p.last}.",
                    )
                )
                break
            expected = p.last + 1
        else:
            if expected != n + 1:
                problems.append(
                    Problem("phases", f"Phases must end at session {n}; they end at {expected - 1}.")
                )
    if t.mid_group_after_session is not None and not 1 <= t.mid_group_after_session < n:
        problems.append(
            Problem(
                "mid_group_after_session",
                f"The mid-group meeting must come after a session from 1 to {n - 1}; "
                f"got {t.mid_group_after_session}.",
            )
        )
    if t.post_group_within_days is not None and not 1 <= t.post_group_within_days <= 28:
        problems.append(
            Problem(
                "post_group_within_days",
                f"The post-group meeting window must be 1 to 28 days; got {t.post_group_within_days}.",
            )
        )
    size = t.group_size
    if not 1 <= size.minimum <= size.target_low <= size.target_high <= size.maximum <= MAX_GROUP_SIZE:
        problems.append(
            Problem(
                "group_size",
                "Group size must satisfy 1 <= minimum <= target low <= target high <= maximum "
                f"<= {MAX_GROUP_SIZE}; got {size.minimum}/{size.target_low}/"
                f"{size.target_high}/{size.maximum}.",
            )
        )
    if not 1 <= t.facilitator_count <= 2:
        problems.append(
            Problem("facilitator_count", f"Facilitators must be 1 or 2; got {t.facilitator_count}.")
        )
    if not 1 <= t.late_join_cutoff_session <= n:
        problems.append(
            Problem(
                "late_join_cutoff_session",
                f"The late-join cutoff must be a session from 1 to {n}; got {t.late_join_cutoff_session}.",
            )
        )
    areas = set(t.problem_areas)
    if len(areas) != len(t.problem_areas) or not areas - {ProblemArea.GRIEF}:
        problems.append(
            Problem(
                "problem_areas",
                "List each problem area once and keep at least role disputes, role transitions "
                "or interpersonal deficits.",
            )
        )
    instruments = [name for name, _ in t.measures]
    if len(set(instruments)) != len(instruments):
        problems.append(Problem("measures_schedule", "Each questionnaire may appear only once."))
    for name, tokens in t.measures:
        if name not in MEASURE_INSTRUMENTS:
            problems.append(
                Problem("measures_schedule", f"Unknown questionnaire '{name}'; use {' or '.join(MEASURE_INSTRUMENTS)}.")
            )
        for token in (part.strip() for part in tokens.split(",")):
            if not _MEASURE_TOKEN.match(token):
                problems.append(
                    Problem(
                        "measures_schedule",
                        f"'{token}' is not a measure occasion; use baseline, every_group_session, "
                        "every_N_sessions, session_N, midpoint or closure.",
                    )
                )
    return problems


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
