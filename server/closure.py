"""Closure summaries: one per member at the end of a cohort (domain-ipt.md section 8).

The pure half of this module turns plain facts gathered from the record into a
`SummaryRecord`, lets the facilitator edit its narrative fields, projects it for the
member (without section 10), compares two versions and checks that the text names no
other member. The service half (below the line "Services") reads and writes the
database and keeps finalized versions immutable.

Sections, as the issue numbers them:
 1 overview      cohort, protocol, dates, attendance, individual meetings
 2 problem areas primary and secondary, formulation
 3 goals         status, progress across meetings, the member's own words
 4 symptoms      PHQ-9 (and GAD-7) baseline to last, bands, change, response, remission
 5 skills        role-play turns done: role label, scenario, next step
 6-9 narrative   areas still needing work, warning signs, relapse plan, next step
10 safety        facilitators only: safety items raised and how they closed
"""
from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.accounts import Role
from models.board import Attendance, RolePlayTurn, TurnStatus
from models.clinical import Goal, GoalProgress, GoalStatus, MeasureResponse, RiskAction, RiskCheck
from models.clinical import SafetyItem as SafetyItemRow
from models.closure import ClosureSummary, SummaryStatus
from models.cohorts import CohortStatus, Enrollment, EnrollmentStatus, Meeting, MeetingKind, MeetingStatus
from server import audit, measures
from server.access import visible_enrollment
from server.errors import BadRequest, Conflict, NotFound
from server.intake import problem_area_label
from server.safety import ACTION_LABELS

GOAL_STATUSES = ("achieved", "partly", "not_yet")
GOAL_STATUS_LABELS = {"achieved": "Achieved", "partly": "Partly", "not_yet": "Not yet"}

NEXT_STEP_KINDS = ("maintenance", "referral", "follow_up", "none")
NEXT_STEP_LABELS = {
    "maintenance": "Maintenance or continuation contract",
    "referral": "Referral",
    "follow_up": "Follow-up meeting",
    "none": "No further care planned",
}

# The instruments a summary reports, in the order it reports them (section 4).
INSTRUMENTS = (measures.Instrument.PHQ9.value, measures.Instrument.GAD7.value)

# GoalProgress.rating, 0..4 (models/clinical.py).
PROGRESS_LABELS = {
    0: "No progress yet", 1: "A little progress", 2: "Some progress",
    3: "Good progress", 4: "Achieved",
}

MAX_TEXT = 4000

SECTION_TITLES = {
    "overview": "1. Cohort and attendance",
    "problem_areas": "2. Problem areas and formulation",
    "goals": "3. Target goals",
    "symptoms": "4. Symptom trajectory",
    "skills": "5. Skills practised",
    "areas_needing_work": "6. Areas still needing work",
    "warning_signs": "7. Warning signs",
    "relapse_plan": "8. Relapse-prevention plan",
    "next_step": "9. Next step",
    "safety": "10. Safety items (facilitators only)",
}


class SummaryInputError(ValueError):
    """Raised when an edit of the narrative fields is not acceptable; `problems` maps a
    form field to a message a facilitator can act on."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.problems.items()))


# --- Facts: what the service reads from the record, as plain values ---------------------


@dataclass(frozen=True, kw_only=True)
class MeetingFact:
    kind: str  # models.cohorts.MeetingKind: "group", "pregroup", "mid" or "post"
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
    instrument: str  # server.measures.Instrument value: "phq9" or "gad7"
    on: date
    total: int
    label: str = ""  # "Baseline", "Session 3"


@dataclass(frozen=True, kw_only=True)
class RolePlayFact:
    meeting_label: str
    on: date
    role_label: str
    scenario: str
    next_step: str = ""


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
    response: bool | None
    remission: bool | None  # PHQ-9 only


@dataclass(kw_only=True)
class SkillPractised:
    meeting_label: str
    on: date
    role_label: str
    scenario: str
    next_step: str


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


# --- Drafting from the record -----------------------------------------------------------


def goal_status(record_status: str, last_rating: int | None) -> str:
    """Achieved / partly / not yet, from the goal's status and its last check-in rating."""
    if record_status == "achieved" or last_rating == 4:
        return "achieved"
    if last_rating:
        return "partly"
    return "not_yet"


def protocol_label(n_group_sessions: int) -> str:
    return f"Group IPT, {n_group_sessions} sessions"


def draft_summary(facts: RecordFacts, *, previous: SummaryRecord | None = None) -> SummaryRecord:
    """Sections 1-5 and 10 from the record; sections 6-9 and each goal's words are kept
    from `previous` (a re-draft must not throw away what the facilitator wrote)."""
    group = [m for m in facts.meetings if m.kind == "group" and m.held]
    individual = [m for m in facts.meetings if m.kind != "group" and m.held]
    overview = Overview(
        cohort_title=facts.cohort_title,
        protocol_label=protocol_label(facts.n_group_sessions),
        start_date=facts.start_date,
        end_date=facts.end_date,
        group_sessions_held=len(group),
        group_sessions_attended=sum(1 for m in group if m.attended),
        individual_meetings_held=len(individual),
    )
    previous_words = {g.goal_id: g.member_words for g in previous.goals} if previous else {}
    goals = [
        GoalSummary(
            goal_id=g.goal_id,
            text=g.text,
            status=g.status if g.status in GOAL_STATUSES else "not_yet",
            progress=[
                GoalProgressPoint(meeting_label=p.meeting_label, on=p.on, rating=p.rating, note=p.note)
                for p in sorted(g.progress, key=lambda p: p.on)
            ],
            member_words=previous_words.get(g.goal_id, ""),
        )
        for g in facts.goals
    ]
    symptoms = [t for t in (trajectory(i, facts.measures) for i in INSTRUMENTS) if t is not None]
    skills = [
        SkillPractised(
            meeting_label=r.meeting_label, on=r.on, role_label=r.role_label,
            scenario=r.scenario, next_step=r.next_step,
        )
        for r in sorted(facts.role_plays, key=lambda r: r.on)
    ]
    safety = [
        SafetyItem(raised_on=s.raised_on, trigger=s.trigger, outcome=s.outcome,
                   action=s.action, closed_on=s.closed_on)
        for s in sorted(facts.safety, key=lambda s: s.raised_on)
    ]
    post_group = [m for m in facts.meetings if m.kind == "post"]
    next_step = _draft_next_step(
        previous.next_step if previous else NextStep(),
        phq9=next((t for t in symptoms if t.instrument == measures.Instrument.PHQ9.value), None),
        post_group_on=min((m.on for m in post_group), default=None),
    )
    summary = SummaryRecord(
        overview=overview,
        problem_areas=ProblemAreas(
            primary=facts.primary_problem_area,
            secondary=list(facts.secondary_problem_areas),
            formulation=facts.formulation,
        ),
        goals=goals,
        symptoms=symptoms,
        skills=skills,
        next_step=next_step,
        safety=safety,
    )
    if previous is not None:
        summary.areas_needing_work = previous.areas_needing_work
        summary.warning_signs = previous.warning_signs
        summary.who_to_tell = previous.who_to_tell
        summary.relapse_plan = dataclasses.replace(previous.relapse_plan)
    return summary


def trajectory(instrument: str, facts: Iterable[MeasureFact]) -> Trajectory | None:
    points = sorted((m for m in facts if m.instrument == instrument), key=lambda m: m.on)
    if not points:
        return None
    scores = [ScorePoint(on=m.on, total=m.total, band=measures.band_for(instrument, m.total).label, label=m.label) for m in points]
    baseline, last = scores[0], (scores[-1] if len(scores) > 1 else None)
    outcome = measures.change_from_baseline(instrument, baseline.total, last.total) if last else None
    percent = outcome.percent_change if outcome else None
    return Trajectory(
        instrument=instrument,
        name=measures.questionnaire(instrument).name,
        points=scores,
        baseline=baseline,
        last=last,
        change=outcome.difference if outcome else None,
        percent_change=round(percent) if percent is not None else None,
        response=outcome.response if outcome else None,
        remission=outcome.remission if outcome else None,
    )


def _draft_next_step(chosen: NextStep, *, phq9: Trajectory | None, post_group_on: date | None) -> NextStep:
    step = dataclasses.replace(chosen)
    # Members who have not improved "should be offered alternative effective treatment"
    # (domain-ipt.md 4c, S6, S43): suggest a referral, the facilitator decides.
    step.referral_suggested = bool(phq9 and phq9.response is False)
    if step.referral_suggested:
        assert phq9 is not None and phq9.last is not None
        step.suggestion = (
            f"No response on the PHQ-9 ({phq9.baseline.total} to {phq9.last.total}, "
            "less than a 50% drop): consider a referral or another effective treatment."
        )
    elif post_group_on is not None:
        step.suggestion = f"The post-group meeting on {post_group_on.isoformat()} can serve as the follow-up."
    else:
        step.suggestion = ""
    if not step.kind:
        if step.referral_suggested:
            step.kind = "referral"
        elif post_group_on is not None:
            step.kind = "follow_up"
    if step.follow_up_date is None and post_group_on is not None:
        step.follow_up_date = post_group_on
    return step


# --- Editing the narrative ---------------------------------------------------------------

# The form fields a facilitator edits; nothing else in a summary comes from a form.
NARRATIVE_FIELDS = (
    "areas_needing_work", "warning_signs", "who_to_tell",
    "relapse_strategies", "relapse_supports", "seek_help",
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


# --- What the member sees -------------------------------------------------------------


def member_view(summary: SummaryRecord) -> dict[str, Any]:
    """The summary as the member may read it: section 10 is for facilitators only."""
    data = summary.to_json()
    del data["safety"]
    return data


# --- The other members' names ---------------------------------------------------------


@dataclass(frozen=True)
class NameFound:
    section: str
    word: str


def names_mentioned(summary: SummaryRecord, other_member_names: Iterable[str], *,
                    own_name: str = "") -> list[NameFound]:
    """Every place the text names another member of the cohort.

    A full name matches in any case; a single part of a name ("Bea", "Okafor") matches as a
    capitalised word, so "may" in a sentence is not mistaken for a member called May. Parts
    the member shares with their own name are skipped: the summary may address them."""
    patterns = _name_patterns(other_member_names, own_name)
    found: list[NameFound] = []
    for section, text in _texts(summary):
        for word, pattern, _ in patterns:
            hit = NameFound(section, word)
            if hit not in found and pattern.search(text):
                found.append(hit)
    return found


# Sections drafted from the record: a facilitator cannot edit them, so names the record
# carries (a scenario typed on the board, a goal note) are reduced to initials when
# drafting, as IPT-G group summaries do (domain-ipt.md section 8, S12).
RECORD_SECTIONS = ("overview", "problem_areas", "goals", "symptoms", "skills", "safety")


def redact_record_names(summary: SummaryRecord, other_member_names: Iterable[str], *,
                        own_name: str = "") -> SummaryRecord:
    """A copy with other members' names in the record sections replaced by initials."""
    patterns = _name_patterns(other_member_names, own_name)
    if not patterns:
        return summary

    def scrub(value: Any, key: str = "") -> Any:
        if key == "member_words":  # the facilitator's own writing: checked, not rewritten
            return value
        if isinstance(value, str):
            for _, pattern, initials in patterns:
                value = pattern.sub(initials, value)
            return value
        if isinstance(value, dict):
            return {k: scrub(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    data = summary.to_json()
    for section in RECORD_SECTIONS:
        data[section] = scrub(data[section])
    return SummaryRecord.from_json(data)


def _name_patterns(other_member_names: Iterable[str], own_name: str) -> list[tuple[str, re.Pattern[str], str]]:
    """(the name as written, its pattern, its initials), full names before their parts."""
    own_parts = {p.casefold() for p in _name_parts(own_name)}
    full: list[tuple[str, re.Pattern[str], str]] = []
    parts: list[tuple[str, re.Pattern[str], str]] = []
    for name in other_member_names:
        name = " ".join(name.split())
        if not name:
            continue
        initials = "".join(f"{p[0].upper()}." for p in re.split(r"[\s\-]+", name) if p)
        full.append((name, re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE), initials))
        for part in _name_parts(name):
            if part.casefold() not in own_parts:
                parts.append((part, re.compile(rf"(?<!\w){re.escape(part)}(?!\w)"), f"{part[0].upper()}."))
    return full + parts


def _name_parts(name: str) -> list[str]:
    # Initials and one-letter parts are too short to tell a name from a word.
    return [p for p in re.split(r"[\s\-]+", name) if len(p.strip(".")) > 1]


def _texts(summary: SummaryRecord) -> Iterable[tuple[str, str]]:
    data = summary.to_json()
    for section in SECTION_TITLES:
        keys = [section] if section in data else []
        if section == "warning_signs":
            keys.append("who_to_tell")
        for key in keys:
            for text in _strings(data[key]):
                yield section, text


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


# --- What changed between two versions ------------------------------------------------


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
    base = f"baseline {t.baseline.total} ({t.baseline.band}, {_d(t.baseline.on)})"
    if t.last is None:
        return f"{base}; no later score"
    line = f"{base}; last {t.last.total} ({t.last.band}, {_d(t.last.on)}); change {t.change:+d}"
    if t.percent_change is not None:
        line += f" ({t.percent_change:+d}%)"
    line += "; response" if t.response else "; no response"
    if t.remission is not None:
        line += ", remission" if t.remission else ", no remission"
    return line


def _skill_line(k: SkillPractised) -> str:
    line = f"{k.meeting_label}: {k.role_label} \u2014 {k.scenario}"
    return f"{line}; next step: {k.next_step}" if k.next_step else line


def _safety_line(item: SafetyItem) -> str:
    closed = f"closed {_d(item.closed_on)}" if item.closed_on else "still open"
    return f"{_d(item.raised_on)} {item.trigger}: {item.outcome or 'no outcome recorded'}; {item.action or 'no action recorded'}; {closed}"


def _d(value: date | None) -> str:
    return value.isoformat() if value else "\u2014"


# --- The cohort's outcomes, without names or narrative -------------------------------


@dataclass(frozen=True)
class Rate:
    count: int
    of: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.count / self.of) if self.of else None

    def __str__(self) -> str:
        return f"{self.count} of {self.of} ({self.percent}%)" if self.of else "no data"


@dataclass(frozen=True, kw_only=True)
class OutcomeReport:
    members: int
    attendance: Rate  # group sessions attended, summed over members, of sessions held
    phq9_response: Rate  # of members with a baseline and a later PHQ-9
    phq9_remission: Rate
    gad7_response: Rate
    goals: Mapping[str, int]  # GOAL_STATUSES -> count
    role_plays_done: int

    @property
    def goals_total(self) -> int:
        return sum(self.goals.values())

    @property
    def goals_achieved(self) -> Rate:
        return Rate(self.goals.get("achieved", 0), self.goals_total)


def outcome_report(summaries: Sequence[SummaryRecord]) -> OutcomeReport:
    """Aggregates over a cohort's members: numbers only, so nobody can be picked out by name."""
    phq9 = [t for s in summaries if (t := s.trajectory("phq9")) and t.last is not None]
    gad7 = [t for s in summaries if (t := s.trajectory("gad7")) and t.last is not None]
    goals = {status: 0 for status in GOAL_STATUSES}
    for s in summaries:
        for g in s.goals:
            goals[g.status] = goals.get(g.status, 0) + 1
    return OutcomeReport(
        members=len(summaries),
        attendance=Rate(
            sum(s.overview.group_sessions_attended for s in summaries),
            sum(s.overview.group_sessions_held for s in summaries),
        ),
        phq9_response=Rate(sum(1 for t in phq9 if t.response), sum(1 for t in phq9 if t.response is not None)),
        phq9_remission=Rate(sum(1 for t in phq9 if t.remission), len(phq9)),
        gad7_response=Rate(sum(1 for t in gad7 if t.response), sum(1 for t in gad7 if t.response is not None)),
        goals=goals,
        role_plays_done=sum(len(s.skills) for s in summaries),
    )


# =======================================================================================
# Services: the record in, versions out. Everything above is pure; below reads the DB.
# =======================================================================================

_ATTENDED = ("present", "late")
# Who gets a summary: members who joined the group, including those who left it early.
SUMMARY_STATUSES = (EnrollmentStatus.ENROLLED, EnrollmentStatus.COMPLETED, EnrollmentStatus.WITHDRAWN)


def meeting_label(kind: str, number: int) -> str:
    return {
        "group": f"Group session {number}",
        "pregroup": "Pre-group meeting" if number <= 1 else f"Pre-group meeting {number}",
        "mid": "Mid-group meeting",
        "post": "Post-group meeting",
    }.get(str(kind), f"Meeting {number}")


def _measure_label(window: str, meeting_name: str) -> str:
    if window == "baseline":
        return "Baseline"
    if window == "closure":
        return "Closure"
    if window.startswith("session-") and window.removeprefix("session-").isdigit():
        return f"Session {window.removeprefix('session-')}"
    return meeting_name


async def cohort_record(cohort: Any, enrollments: Sequence[Any], *, now: Any) -> dict[int, RecordFacts]:
    """The record of each enrollment in one cohort, read in a fixed number of queries."""
    zone = ZoneInfo(cohort.time_zone)
    ids = [e.id for e in enrollments]
    meetings = await Meeting.filter(cohort_id=cohort.id).order_by("starts_at", "id")
    attendance = await Attendance.filter(enrollment_id__in=ids).values_list("meeting_id", "enrollment_id", "status")
    # A revised goal is the same goal in new words (the board rewrites its text); only
    # dropped goals are no longer the member's target goals.
    goals = await Goal.filter(enrollment_id__in=ids).exclude(status=GoalStatus.DROPPED).order_by("position", "id")
    progress = await GoalProgress.filter(goal_id__in=[g.id for g in goals]).order_by("at", "id")
    responses = await MeasureResponse.filter(enrollment_id__in=ids, superseded=False).order_by("administered_at", "id")
    turns = await RolePlayTurn.filter(protagonist_id__in=ids, status=TurnStatus.DONE)
    safety = await SafetyItemRow.filter(enrollment_id__in=ids).order_by("opened_at", "id")
    checks = await RiskCheck.filter(safety_item_id__in=[s.id for s in safety]).order_by("checked_at", "id")

    by_id = {m.id: m for m in meetings}
    attended = {(m, e) for m, e, status in attendance if str(status) in _ATTENDED}
    recorded = {m for m, _, _ in attendance}

    def local(moment: Any) -> date:
        return moment.astimezone(zone).date()

    def held(m: Any) -> bool:
        if m.status == MeetingStatus.CANCELLED:
            return False
        return m.status == MeetingStatus.COMPLETED or m.id in recorded or m.ends_at <= now

    def label_of(meeting_id: int | None) -> str:
        m = by_id.get(meeting_id) if meeting_id else None
        return meeting_label(m.kind, m.number) if m else ""

    group = [m for m in meetings if m.kind == "group" and m.status != MeetingStatus.CANCELLED]
    template = cohort.template  # the cohort must come with its template (problem-area labels)
    last_check = {c.safety_item_id: c for c in checks}
    facts: dict[int, RecordFacts] = {}
    for e in enrollments:
        own_meetings = [
            MeetingFact(
                kind=str(m.kind), label=meeting_label(m.kind, m.number), on=local(m.starts_at),
                held=held(m), attended=(m.id, e.id) in attended,
            )
            for m in meetings
            if m.kind == "group" or m.enrollment_id == e.id
        ]
        own_goals = [g for g in goals if g.enrollment_id == e.id]
        goal_facts = []
        for g in own_goals:
            checkins = [p for p in progress if p.goal_id == g.id]
            ratings = [p.rating for p in checkins if p.rating is not None]
            goal_facts.append(GoalFact(
                goal_id=g.id, text=g.text,
                status=goal_status(str(g.status), ratings[-1] if ratings else None),
                progress=[
                    ProgressFact(meeting_label=label_of(p.meeting_id) or "Between meetings",
                                 on=local(by_id[p.meeting_id].starts_at if p.meeting_id in by_id else p.at),
                                 rating=p.rating, note=p.note)
                    for p in checkins if p.rating is not None or p.note
                ],
            ))
        facts[e.id] = RecordFacts(
            cohort_title=cohort.public_title or cohort.name,
            n_group_sessions=cohort.n_group_sessions,
            start_date=local(group[0].starts_at) if group else cohort.start_date,
            end_date=local(group[-1].starts_at) if group else None,
            meetings=own_meetings,
            primary_problem_area=problem_area_label(template, e.primary_problem_area),
            secondary_problem_areas=[problem_area_label(template, e.secondary_problem_area)]
            if e.secondary_problem_area else [],
            formulation=e.formulation,
            goals=goal_facts,
            measures=[
                MeasureFact(instrument=str(r.instrument), on=local(r.administered_at), total=r.total,
                            label=_measure_label(r.window, label_of(r.meeting_id)))
                for r in responses if r.enrollment_id == e.id
            ],
            role_plays=[
                RolePlayFact(meeting_label=label_of(t.meeting_id), on=local(by_id[t.meeting_id].starts_at),
                             role_label=t.role_label, scenario=t.scenario, next_step=t.next_step)
                for t in sorted(turns, key=lambda t: (by_id[t.meeting_id].starts_at, t.position, t.id))
                if t.protagonist_id == e.id and t.meeting_id in by_id
            ],
            safety=[
                SafetyFact(
                    raised_on=local(s.opened_at),
                    trigger=f"PHQ-9 item 9 answered {s.item9} of 3",
                    outcome=last_check[s.id].outcome if s.id in last_check else "",
                    action=ACTION_LABELS[RiskAction(last_check[s.id].action)] if s.id in last_check else "",
                    closed_on=local(s.closed_at) if s.closed_at else None,
                )
                for s in safety if s.enrollment_id == e.id
            ],
        )
    return facts


async def termination_reached(cohort: Any, *, now: Any) -> bool:
    """Summaries may be drafted from the first termination-phase session on (issue 6)."""
    if cohort.status == CohortStatus.COMPLETED:
        return True
    first = _first_termination_session(cohort.phases, cohort.n_group_sessions)
    meeting = await Meeting.filter(
        cohort_id=cohort.id, kind=MeetingKind.GROUP, number__gte=first,
    ).exclude(status=MeetingStatus.CANCELLED).order_by("starts_at").first()
    return meeting is not None and meeting.starts_at <= now


def _first_termination_session(phases: Any, n_group_sessions: int) -> int:
    for phase in phases or []:
        if isinstance(phase, Mapping) and phase.get("name") == "termination":
            try:
                return int(phase.get("first"))
            except (TypeError, ValueError):
                break
    return n_group_sessions


# --- Versions -----------------------------------------------------------------------------


async def other_member_names(enrollment: Any) -> list[str]:
    """Everyone else ever enrolled in the cohort (whatever their status): none may be named."""
    return await Enrollment.filter(cohort_id=enrollment.cohort_id).exclude(id=enrollment.id).values_list(
        "member__display_name", flat=True
    )


async def versions_of(enrollment: Any) -> list[Any]:
    return await ClosureSummary.filter(enrollment_id=enrollment.id).order_by("version").select_related(
        "created_by", "finalized_by", "updated_by"
    )


async def draft(enrollment: Any, actor: Any, *, now: Any) -> Any:
    """Start the summary (version 1) or refresh the open draft from the record.

    Refreshing replaces sections 1-5 and 10 and keeps what the facilitator wrote."""
    if enrollment.status not in SUMMARY_STATUSES:
        raise Conflict(
            f"A closure summary is written for members who joined the group; this enrollment is {enrollment.status}.",
            code="not_enrolled",
        )
    if not await termination_reached(enrollment.cohort, now=now):
        raise Conflict(
            "Summaries can be drafted from the first session of the termination phase on.",
            code="too_early",
        )
    facts = (await cohort_record(enrollment.cohort, [enrollment], now=now))[enrollment.id]
    other_names = await other_member_names(enrollment)
    try:
        async with in_transaction():
            latest = await ClosureSummary.filter(enrollment_id=enrollment.id).order_by("-version").first()
            if latest is not None and latest.is_final:
                raise finalized_conflict(latest)
            previous = SummaryRecord.from_json(latest.content) if latest is not None else None
            content = redact_record_names(
                draft_summary(facts, previous=previous), other_names, own_name=enrollment.member.display_name,
            ).to_json()
            if latest is None:
                row = await ClosureSummary.create(
                    enrollment_id=enrollment.id, version=1, status=SummaryStatus.DRAFT,
                    content=content, created_by=actor, updated_by=actor,
                )
            else:
                await _update_draft(latest, actor, content, now=now)
                row = latest
    except IntegrityError:
        raise Conflict("Someone else started this summary a moment ago; reload the page.") from None
    await audit.record(actor, "change", "closure_summary", row.id, member=enrollment.member_id,
                       detail=f"drafted version {row.version} from the record")
    return row


def finalized_conflict(row: Any) -> Conflict:
    return Conflict(
        f"Version {row.version} is finalized and cannot change. Make an amendment instead.",
        code="finalized",
    )


async def draft_missing(cohort: Any, actor: Any, *, now: Any) -> int:
    """Draft a summary for every member who has none yet; returns how many were started."""
    if not await termination_reached(cohort, now=now):
        raise Conflict(
            "Summaries can be drafted from the first session of the termination phase on.",
            code="too_early",
        )
    started = ClosureSummary.filter(enrollment__cohort_id=cohort.id).values_list("enrollment_id", flat=True)
    enrollments = await Enrollment.filter(cohort_id=cohort.id, status__in=list(SUMMARY_STATUSES)).exclude(
        id__in=await started
    ).select_related("cohort__template", "member").order_by("id")
    for enrollment in enrollments:
        await draft(enrollment, actor, now=now)
    return len(enrollments)


async def _update_draft(row: Any, actor: Any, content: dict[str, Any], *, now: Any) -> None:
    """Write a draft's content; refuses (409) if the version was finalized meanwhile."""
    # The status test is inside the UPDATE itself, so a form replayed after finalizing,
    # or a finalize racing an edit, can never change a finalized version.
    changed = await ClosureSummary.filter(id=row.id, status=SummaryStatus.DRAFT).update(
        content=content, updated_by_id=actor.id, updated_at=now,
    )
    if not changed:
        raise finalized_conflict(row)
    row.content = content


async def save_edits(row: Any, actor: Any, form: Mapping[str, Any], *, now: Any) -> SummaryRecord:
    if row.is_final:
        raise finalized_conflict(row)
    try:
        edited = apply_edits(SummaryRecord.from_json(row.content), form)
    except SummaryInputError as exc:
        raise BadRequest("Some fields need attention: " + "; ".join(exc.problems.values()),
                         fields=exc.problems) from None
    await _update_draft(row, actor, edited.to_json(), now=now)
    await audit.record(actor, "change", "closure_summary", row.id, member=row.enrollment.member_id,
                       detail=f"edited version {row.version}")
    return edited


async def finalize(row: Any, actor: Any, *, now: Any) -> Any:
    if row.is_final:
        raise Conflict(f"Version {row.version} is already finalized.", code="finalized")
    enrollment = row.enrollment
    other_names = await other_member_names(enrollment)
    problems = finalize_problems(
        SummaryRecord.from_json(row.content), other_member_names=other_names,
        own_name=enrollment.member.display_name,
    )
    if problems:
        raise BadRequest("This summary cannot be finalized yet: " + " ".join(problems),
                         fields={f"problem_{i}": p for i, p in enumerate(problems, 1)}, code="incomplete")
    changed = await ClosureSummary.filter(id=row.id, status=SummaryStatus.DRAFT).update(
        status=SummaryStatus.FINALIZED, finalized_by_id=actor.id, finalized_at=now,
    )
    if not changed:
        raise Conflict(f"Version {row.version} is already finalized.", code="finalized")
    row.status, row.finalized_by, row.finalized_at = SummaryStatus.FINALIZED, actor, now
    await audit.record(actor, "change", "closure_summary", row.id, member=enrollment.member_id,
                       detail=f"finalized version {row.version}")
    return row


async def amend(enrollment: Any, actor: Any, reason: str, *, now: Any) -> Any:
    """A new draft version from the latest finalized one; earlier versions stay as they were."""
    reason = (reason or "").strip()
    if not reason:
        raise BadRequest("Say why the summary is being amended.", fields={"reason": "Required."})
    if len(reason) > 500:
        raise BadRequest("Keep the reason under 500 characters.", fields={"reason": "Too long."})
    try:
        async with in_transaction():
            latest = await ClosureSummary.filter(enrollment_id=enrollment.id).order_by("-version").first()
            if latest is None:
                raise NotFound("There is no summary to amend yet; draft one first.")
            if not latest.is_final:
                raise Conflict(
                    f"Version {latest.version} is still a draft; edit it instead of amending.",
                    code="draft_open",
                )
            row = await ClosureSummary.create(
                enrollment_id=enrollment.id, version=latest.version + 1, status=SummaryStatus.DRAFT,
                content=latest.content, amendment_reason=reason, created_by=actor, updated_by=actor,
            )
    except IntegrityError:
        raise Conflict("Someone else amended this summary a moment ago; reload the page.") from None
    await audit.record(actor, "change", "closure_summary", row.id, member=enrollment.member_id,
                       detail=f"amendment: version {row.version}")
    return row


async def summary_row(summary_id: Any, user: Any) -> Any:
    """One version, if this person may see it (members: only their own, finalized)."""
    row = await ClosureSummary.get_or_none(id=_positive_id(summary_id)).select_related(
        "created_by", "updated_by", "finalized_by"
    )
    if row is None:
        raise NotFound("There is no such summary.")
    row.enrollment = await visible_enrollment(user, row.enrollment_id)
    if user.role == Role.MEMBER and not row.is_final:
        raise NotFound("There is no such summary.")
    return row


def _positive_id(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound("There is no such summary.") from None
    if not 0 < number < 2**31:
        raise NotFound("There is no such summary.")
    return number


async def cohort_overview(cohort: Any) -> list[dict[str, Any]]:
    """Each member's summary state (see `_summary_state`) with their latest and finalized versions."""
    enrollments = await Enrollment.filter(cohort_id=cohort.id, status__in=list(SUMMARY_STATUSES)).select_related("member").order_by("id")
    rows = await ClosureSummary.filter(enrollment_id__in=[e.id for e in enrollments]).order_by("version")
    latest: dict[int, Any] = {}
    finalized: dict[int, Any] = {}
    for row in rows:
        latest[row.enrollment_id] = row
        if row.is_final:
            finalized[row.enrollment_id] = row
    return [
        {
            "enrollment": e,
            "latest": latest.get(e.id),
            "finalized": finalized.get(e.id),
            "state": _summary_state(latest.get(e.id), finalized.get(e.id)),
        }
        for e in enrollments
    ]


def _summary_state(latest: Any, finalized: Any) -> str:
    """missing, draft, finalized, or amending (finalized, with the next version in draft)."""
    if latest is None:
        return "missing"
    if latest.is_final:
        return "finalized"
    return "amending" if finalized is not None else "draft"


def summary_counts(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Members with a finalized summary (amending or not), with only a draft, with none."""
    states = [r["state"] for r in rows]
    return {
        "finalized": states.count("finalized") + states.count("amending"),
        "draft": states.count("draft"),
        "missing": states.count("missing"),
    }


async def cohort_outcomes(cohort: Any, *, now: Any) -> OutcomeReport:
    """The outcome report, from the record of members who stayed to the end."""
    enrollments = await Enrollment.filter(
        cohort_id=cohort.id, status__in=[EnrollmentStatus.ENROLLED, EnrollmentStatus.COMPLETED]
    )
    facts = await cohort_record(cohort, enrollments, now=now)
    return outcome_report([draft_summary(f) for f in facts.values()])
