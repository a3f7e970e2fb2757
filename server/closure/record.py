"""A closure summary as plain values: the facts read from the record, the summary's
sections, their JSON form, and the member's copy."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

GOAL_STATUSES = ("achieved", "partly", "not_yet")
GOAL_STATUS_LABELS = {"achieved": "Achieved", "partly": "Partly", "not_yet": "Not yet"}

NEXT_STEP_KINDS = ("maintenance", "referral", "follow_up", "none")
NEXT_STEP_LABELS = {
    "maintenance": "Maintenance or continuation contract",
    "referral": "Referral",
    "follow_up": "Follow-up meeting",
    "none": "No further care planned",
}

# GoalProgress.rating, 0..4 (models/clinical.py).
PROGRESS_LABELS = {
    0: "No progress yet", 1: "A little progress", 2: "Some progress",
    3: "Good progress", 4: "Achieved",
}

SECTION_TITLES = {
    "overview": "1. Cohort and attendance",
    "problem_areas": "2. Problem areas and formulation",
    "goals": "3. Target goals",
    "symptoms": "4. Symptom trajectory",
    "skills": "5. Skills practised",
    "areas_needing_work": "6. Areas still needing work",
    "warning_signs": "7. Warning signs",
    "relapse_plan": "8. Relapse-prevention plan",
    # Section 9 is the ending: feelings about it (domain-ipt.md 4c) and what comes next.
    "feelings_about_ending": "9. Feelings about ending",
    "next_step": "9. Next step",
    "safety": "10. Safety items (facilitators only)",
}


# --- Facts: what the service reads from the record, as plain values ---------------------


@dataclass(frozen=True, kw_only=True)
class MeetingFact:
    kind: str  # a calendars.vocabulary.MeetingKind value
    label: str  # "Group session 3", "Post-group meeting"
    on: date
    held: bool
    attended: bool = False  # group sessions only: present or late


@dataclass(frozen=True, kw_only=True)
class ProgressFact:
    meeting_label: str
    on: date
    rating: int | None  # 0 (no progress) .. 4 (achieved), as the board records it
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class GoalFact:
    goal_id: int
    text: str
    status: str  # one of GOAL_STATUSES
    progress: Sequence[ProgressFact] = ()


@dataclass(frozen=True, kw_only=True)
class MeasureFact:
    instrument: str  # server.measures.instruments.Instrument value: "phq9" or "gad7"
    on: date
    total: int
    label: str = ""  # "Baseline", "Session 3"
    window: str = ""  # the occasion key ("baseline", "session-3"): the baseline is chosen by it


@dataclass(frozen=True, kw_only=True)
class RolePlayFact:
    meeting_label: str
    on: date
    role_label: str
    scenario: str
    next_step: str = ""
    goal_text: str = ""  # the member's goal the turn worked on, if the board linked one


@dataclass(frozen=True, kw_only=True)
class SafetyFact:
    raised_on: date
    trigger: str  # "PHQ-9 item 9 answered 2", "Disclosure in session"
    outcome: str = ""
    action: str = ""
    closed_on: date | None = None


@dataclass(frozen=True, kw_only=True)
class RecordFacts:
    cohort_title: str
    n_group_sessions: int
    start_date: date | None
    end_date: date | None
    meetings: Sequence[MeetingFact] = ()
    primary_problem_area: str = ""
    secondary_problem_areas: Sequence[str] = ()
    formulation: str = ""
    goals: Sequence[GoalFact] = ()
    measures: Sequence[MeasureFact] = ()
    role_plays: Sequence[RolePlayFact] = ()
    safety: Sequence[SafetyFact] = ()


# --- The summary itself ----------------------------------------------------------------


@dataclass(kw_only=True)
class Overview:
    cohort_title: str
    protocol_label: str
    start_date: date | None
    end_date: date | None
    group_sessions_held: int
    group_sessions_attended: int
    individual_meetings_held: int


@dataclass(kw_only=True)
class ProblemAreas:
    primary: str
    secondary: list[str]
    formulation: str


@dataclass(kw_only=True)
class GoalProgressPoint:
    meeting_label: str
    on: date
    rating: int | None
    note: str = ""

    @property
    def progress(self) -> str:
        return PROGRESS_LABELS.get(self.rating, "No rating") if self.rating is not None else "No rating"


@dataclass(kw_only=True)
class GoalSummary:
    goal_id: int
    text: str
    status: str
    progress: list[GoalProgressPoint]
    member_words: str = ""


@dataclass(kw_only=True)
class ScorePoint:
    on: date
    total: int
    band: str
    label: str = ""


@dataclass(kw_only=True)
class Trajectory:
    instrument: str
    name: str  # "PHQ-9"
    points: list[ScorePoint]
    baseline: ScorePoint
    last: ScorePoint | None  # None while only the baseline was collected
    change: int | None
    percent_change: int | None
    response: bool | None  # None when not counted (below the threshold, or no later score)
    remission: bool | None  # PHQ-9 only
    # server.measures.outcomes.Standing value; "below_threshold" members are reported apart.
    standing: str = "counted"
    late_baseline: bool = False  # the baseline occasion was missed; `baseline` stands in
    referral_reasons: list[str] = field(default_factory=list)  # PHQ-9 only

    @property
    def baseline_label(self) -> str:
        return "Late baseline" if self.late_baseline else "Baseline"

    @property
    def below_threshold(self) -> bool:
        return self.standing == "below_threshold"


@dataclass(kw_only=True)
class SkillPractised:
    meeting_label: str
    on: date
    role_label: str
    scenario: str
    next_step: str
    goal_text: str = ""


@dataclass(kw_only=True)
class RelapsePlan:
    strategies: str = ""
    supports: str = ""
    seek_help: str = ""


@dataclass(kw_only=True)
class NextStep:
    kind: str = ""  # one of NEXT_STEP_KINDS once chosen
    details: str = ""
    follow_up_date: date | None = None
    referral_suggested: bool = False
    suggestion: str = ""


@dataclass(kw_only=True)
class SafetyItem:
    raised_on: date
    trigger: str
    outcome: str
    action: str
    closed_on: date | None


@dataclass(kw_only=True)
class SummaryRecord:
    overview: Overview
    problem_areas: ProblemAreas
    goals: list[GoalSummary]
    symptoms: list[Trajectory]
    skills: list[SkillPractised]
    areas_needing_work: str = ""
    warning_signs: str = ""
    who_to_tell: str = ""
    relapse_plan: RelapsePlan = field(default_factory=RelapsePlan)
    feelings_about_ending: str = ""  # domain-ipt.md 4c: feelings about ending, formal goodbyes
    next_step: NextStep = field(default_factory=NextStep)
    safety: list[SafetyItem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return _to_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SummaryRecord:
        try:
            return _from_json(cls, data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"Stored summary content is malformed: {exc}") from exc

    def trajectory(self, instrument: str) -> Trajectory | None:
        return next((t for t in self.symptoms if t.instrument == instrument), None)


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value



def _from_json(cls: type, data: Mapping[str, Any]) -> Any:
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        kwargs[f.name] = _decode(_FIELD_TYPES.get((cls, f.name)), data[f.name])
    return cls(**kwargs)


def _decode(kind: Any, value: Any) -> Any:
    if kind is None or value is None:
        return value
    if kind is date:
        return date.fromisoformat(value)
    if isinstance(kind, list):
        return [_decode(kind[0], v) for v in value]
    return _from_json(kind, value)


# Which fields hold dates or nested dataclasses; everything else is a JSON scalar.
_FIELD_TYPES: dict[tuple[type, str], Any] = {
    (SummaryRecord, "overview"): Overview,
    (SummaryRecord, "problem_areas"): ProblemAreas,
    (SummaryRecord, "goals"): [GoalSummary],
    (SummaryRecord, "symptoms"): [Trajectory],
    (SummaryRecord, "skills"): [SkillPractised],
    (SummaryRecord, "relapse_plan"): RelapsePlan,
    (SummaryRecord, "next_step"): NextStep,
    (SummaryRecord, "safety"): [SafetyItem],
    (Overview, "start_date"): date,
    (Overview, "end_date"): date,
    (GoalSummary, "progress"): [GoalProgressPoint],
    (GoalProgressPoint, "on"): date,
    (Trajectory, "points"): [ScorePoint],
    (Trajectory, "baseline"): ScorePoint,
    (Trajectory, "last"): ScorePoint,
    (ScorePoint, "on"): date,
    (SkillPractised, "on"): date,
    (NextStep, "follow_up_date"): date,
    (SafetyItem, "raised_on"): date,
    (SafetyItem, "closed_on"): date,
}


# --- What the member sees -------------------------------------------------------------


def member_view(summary: SummaryRecord) -> dict[str, Any]:
    """The summary as the member may read it: section 10 is for facilitators only."""
    data = summary.to_json()
    del data["safety"]
    return data
