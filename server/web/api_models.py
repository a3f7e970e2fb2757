"""The JSON bodies of /api/v1, each declared once: it validates the request and is the
schema in /api/v1/openapi.json (see server/web/api_schema.py).

Models check what a schema can say: types, required fields, enums, lengths, bounds and
forms such as "18:00". Rules across fields or against the record (the start date falls on
that weekday, the member is not already enrolled) stay with the services, which answer
422 or 409. Every integer is bounded, so nothing reaches a database column it cannot fit.
Field names are the API's published keys: extend, never rename. The words a field accepts
come from the enum that defines them (`one_of`), never a second list.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from calendars.checklists import CHECKLIST_NAMES
from calendars.vocabulary import CompositionRule, Instrument, LabelStyle, Phase as PhaseName, ProblemArea
from models.accounts import Role
from models.clinical import ContactMethod, RiskAction, RiskLevel, SuicidalThoughts
from models.cohorts import ConsentMethod, EnrollmentStatus
from models.fidelity import ChecklistAnswer
from models.reminders import OutreachOutcome
from server.closure.record import NEXT_STEP_KINDS
from server.enrollment.intake import FORMULATION_AGREEMENT
from server.measures.instruments import questionnaire
from server.web.api_schema import WALL_CLOCK_PATTERN, RuleBroken
from server.web.convertors import MAX_ID

# Dates a clinic could mean; the planner adds weeks to them, so year 9999 would overflow.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2200, 12, 31)


def _plausible_day(value: date) -> date:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise RuleBroken("date_out_of_range", "Give a date between 1900 and 2200.")
    return value


def _plausible_moment(value: datetime) -> datetime:
    _plausible_day(value.date())
    return value


def _whole_number(value: Any) -> Any:
    # JSON Schema counts 5.0 as an integer; strict pydantic would not.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(v) for v in value)
    return False


def whole(low: int, high: int) -> Any:
    """An integer from low to high. (Bounds before the validator, so the schema shows them.)"""
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(_whole_number)]


def one_of(*words: str) -> Any:
    """One of these words (enum members or strings), inline in the document as
    {"enum": [...]}, and named as they are in a 400's "Choose one of ..."."""
    return Literal[tuple(str(word) for word in words)]


RowId = whole(1, MAX_ID)
Day = Annotated[date, AfterValidator(_plausible_day), Field(examples=["2027-01-05"])]
Moment = Annotated[datetime, AfterValidator(_plausible_moment), Field(examples=["2027-01-05T18:30:00+00:00"])]
WallClock = Annotated[str, Field(pattern=WALL_CLOCK_PATTERN, examples=["18:00"])]
# An IANA zone; the planner checks it, and suggests the zone a typo meant (422).
TimeZoneName = Annotated[str, Field(min_length=1, max_length=64, examples=["Europe/London"])]
Reason = Annotated[str, Field(max_length=500)]
ClinicalText = Annotated[str, Field(max_length=4000)]
Count = whole(0, 1000)


class ApiBody(BaseModel):
    # Strict: a number sent as text, or a field the API does not know, is a 400 naming it.
    model_config = ConfigDict(strict=True, extra="forbid")

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold U+0000 (SQLite can): refuse it on both, before any write.
        if _holds_nul(value):
            raise RuleBroken("nul_character", "Text cannot contain the NUL character (U+0000).")
        return value

    def fields_sent(self) -> dict:
        """The fields the client sent, as JSON values: what the services read."""
        return self.model_dump(mode="json", exclude_unset=True)


# --- people -----------------------------------------------------------------------------

class Invitation(ApiBody):
    email: str = Field(min_length=3, max_length=254, examples=["name@example.org"], json_schema_extra={"format": "email"})
    name: str = Field(min_length=1, max_length=120)
    role: one_of(*Role)


class Supervisees(ApiBody):
    facilitator_ids: list[RowId] = Field(max_length=200, description="The active facilitators this person supervises (replaces the list); [] names none")


# --- schedule ---------------------------------------------------------------------------

class CohortSettings(ApiBody):
    """A cohort's settings, for the preview, a new draft, or a draft's replacement."""

    name: str = Field(min_length=1, max_length=120)
    public_title: str = Field("Group session", max_length=60, description="The title members' calendars show")
    template: RowId = Field(description="The protocol template's id")
    time_zone: TimeZoneName
    start_date: Day
    weekday: whole(0, 6) | None = Field(None, description="0 = Monday; defaults to the start date's weekday")
    start_time: WallClock
    capacity: Count
    session_minutes: whole(1, 1440) | None = None
    n_group_sessions: Count | None = None
    initial_sessions: Count | None = None
    termination_sessions: Count | None = None
    skip_dates: list[Day] = Field(default_factory=list, max_length=52)
    location: str = Field("", max_length=200)
    video_link: str = Field("", max_length=500, pattern=r"^(https://\S+)?$", description=(
        "An online cohort's join link: an https address (members see it from shortly before each meeting)"))
    facilitators: list[RowId] = Field(default_factory=list, max_length=20, description="Facilitators' user ids")
    confirm_public_words: bool = Field(False, description=(
        "A clinical word (therapy, depression, IPT, ...) in public_title, location or video_link is refused "
        "(code clinical_words) unless this is true: every member's calendar and e-mail show them"))


class Activation(ApiBody):
    override_reason: Reason = Field("", description=(
        "Needed to go ahead outside the protocol's group size or facilitator count; stored and audited"))


class Phase(ApiBody):
    name: one_of(*PhaseName)
    first: Count
    last: Count


class GroupSize(ApiBody):
    minimum: Count
    target_low: Count
    target_high: Count
    maximum: Count


class ChecklistItemBody(ApiBody):
    key: str = Field(min_length=1, max_length=64, description="Stable within its checklist: lower-case letters, digits, hyphens")
    label: str = Field(min_length=1, max_length=300, description="The wording the facilitator is asked")


class ProtocolTemplateBody(ApiBody):
    """A protocol template as GET returns it, without `id` and `builtin`."""

    key: str | None = Field(None, max_length=80, description="Kept on replace; made from the name if left out")
    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=4000)
    pre_group_meetings: Count
    group_sessions: Count
    session_minutes: whole(1, 1440)
    individual_minutes: whole(1, 1440)
    cadence_days: whole(1, 366) = 7
    phases: list[Phase] = Field(min_length=1, max_length=3)
    mid_group_after_session: Count | None = None
    post_group_within_days: Count | None = None
    group_size: GroupSize
    facilitator_count: whole(1, 20) = 1
    composition: one_of(*CompositionRule) = CompositionRule.ANY.value
    late_join_cutoff_session: Count | None = Field(None, description=(
        "Left out: derived from the initial phase (the last session a late joiner can still take part in it)"))
    consent_required: bool = Field(True, description="Members need recorded consent before they are enrolled")
    problem_areas: list[one_of(*ProblemArea)] = Field(
        default_factory=lambda: [area.value for area in ProblemArea], max_length=len(ProblemArea),
    )
    label_style: one_of(*LabelStyle) = LabelStyle.CLINICAL.value
    homework: bool = False
    measures_schedule: dict[one_of(*Instrument), str] = Field(
        default_factory=dict, description='Instrument -> comma list, e.g. {"phq9": "baseline,every_group_session,closure"}',
    )
    sources: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=50)
    notes: list[Annotated[str, Field(max_length=2000)]] = Field(default_factory=list, max_length=50)
    checklists: dict[one_of(*CHECKLIST_NAMES), list[ChecklistItemBody]] = Field(
        default_factory=dict, description='Session fidelity checklists: {"group:middle": [{"key", "label"}, ...], "pregroup": [...]}',
    )
    checklist_notes: str = Field("", max_length=4000, description="Where the checklists' items come from")


class Reschedule(ApiBody):
    date: Day
    time: WallClock = Field(description="In the cohort's time zone")


class Cancellation(ApiBody):
    confirm: Literal[True] = Field(description="Must be true: people will be told")
    make_up_date: Day | None = None
    make_up_time: WallClock | None = None


class MakeUp(ApiBody):
    make_up_date: Day
    make_up_time: WallClock


class Shift(ApiBody):
    cadences: whole(1, 52) = Field(description="How many cadences (weeks) later")
    from_session: whole(1, 1000) | None = None


class SkipDates(ApiBody):
    dates: list[Day] = Field(min_length=1, max_length=52)


# --- enrollment -------------------------------------------------------------------------

ConsentMethodName = one_of(*ConsentMethod)
S = EnrollmentStatus


class ConsentFields(ApiBody):
    """The member's consent, recorded with an enrollment or a status change (domain-ipt.md 10)."""

    consent_at: Moment | None = Field(None, description=(
        "When consent was given; a time without offset is in the cohort's zone. Needed to enroll "
        "unless the protocol says otherwise (code consent_missing)"))
    consent_method: ConsentMethodName | None = None
    consent_version: str = Field("", max_length=32, description="Group agreement version; default the cohort's current one")

class Enroll(ConsentFields):
    """An existing member (member_id), or a new person (name and email), never both: a
    body with member_id and name or email is refused (422, code ambiguous_person) and
    nobody is enrolled."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["member_id"]}, {"required": ["name", "email"]}]})

    member_id: RowId = None  # type: ignore[assignment]  # absent, never null
    name: str = Field("", min_length=1, max_length=120)
    email: str = Field("", min_length=3, max_length=254, json_schema_extra={"format": "email"})

    @model_validator(mode="after")
    def _someone(self) -> Enroll:
        # The schema's anyOf, checked here so a body unlike it is a 400 like any other.
        if "member_id" not in self.model_fields_set and not {"name", "email"} <= self.model_fields_set:
            raise PydanticCustomError("someone", "Give member_id, or both name and email.")
        return self
    status: one_of(S.ENROLLED, S.SCREENING, S.INVITED) = S.ENROLLED.value
    late_join_reason: Reason = ""


class StatusChange(ConsentFields):
    status: one_of(*EnrollmentStatus)
    reason: Reason = ""
    late_join_reason: Reason = ""


class Withdrawal(ApiBody):
    reason: Reason = Field(min_length=1)


class Transfer(ConsentFields):
    to_cohort: RowId
    reason: Reason = Field(min_length=1)
    late_join_reason: Reason = ""


class Consent(ConsentFields):
    consent_at: Moment | None = Field(None, description="Defaults to now; a time without offset is in the cohort's zone")
    version: str = Field("", max_length=32, description="The older name of consent_version")


# --- measures and safety ----------------------------------------------------------------

ITEM_COUNTS = {i.value: len(questionnaire(i).items) for i in Instrument}  # one answer per item


class MeasureAnswers(ApiBody):
    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"properties": {"instrument": {"const": name}, "items": {"minItems": count, "maxItems": count}}}
        for name, count in ITEM_COUNTS.items()
    ]})

    instrument: one_of(*Instrument)
    items: list[whole(0, 3)] = Field(
        min_length=7, max_length=9, description="Answers 0-3: nine for the PHQ-9, seven for the GAD-7",
    )
    difficulty: whole(0, 3) | None = None
    window: str = Field("", max_length=40, description="Staff entering on a member's behalf: the occasion's key")
    correction_reason: Reason = ""

    @field_validator("items")
    @classmethod
    def _one_answer_per_item(cls, items: list[int], info: ValidationInfo) -> list[int]:
        instrument = info.data.get("instrument")
        if instrument in ITEM_COUNTS and len(items) != ITEM_COUNTS[instrument]:
            name = questionnaire(instrument).name
            raise PydanticCustomError("item_count", f"The {name} has {ITEM_COUNTS[instrument]} items; {len(items)} answers were given.")
        return items

    @staticmethod
    def problem_field(loc: tuple) -> str:
        # Answers keep the questionnaire form's names: items[8] is "item9".
        if len(loc) == 2 and loc[0] == "items" and isinstance(loc[1], int):
            return f"item{loc[1] + 1}"
        return ".".join(str(part) for part in loc) or "body"


class RiskCheckBody(ApiBody):
    """A structured risk assessment (domain-ipt.md 5b), or a logged attempt that did not reach the member."""

    contact_method: one_of(*ContactMethod)
    outcome: ClinicalText = Field(min_length=1, description="What the check found (or, unreached, what was tried)")
    thoughts: one_of(*SuicidalThoughts) | None = None
    plan: bool | None = None
    intent: bool | None = None
    access_to_means: bool | None = None
    past_attempts: bool | None = None
    protective_factors: ClinicalText = ""
    risk_level: one_of(*RiskLevel) | None = Field(None, description="Required unless unreached")
    action: one_of(*RiskAction) | None = Field(None, description="Required unless unreached")
    checked_at: Moment | None = None
    follow_up_date: Day | None = Field(None, description="Required unless the action is none")


class DutyClinicians(ApiBody):
    user_ids: list[RowId] = Field(max_length=200, description="The clinicians on duty (replaces the list); [] names none")


class ClinicianMark(ApiBody):
    clinician: bool | None = Field(description="true or false; null for the role's default (facilitators are clinicians)")


class AwayDates(ApiBody):
    starts_on: Day
    ends_on: Day = Field(description="Inclusive")


class Disclosure(ApiBody):
    note: ClinicalText = Field(min_length=1, description="What was disclosed, in words")
    disclosed_at: Moment | None = None


class CrisisHelp(ApiBody):
    help_text: ClinicalText = Field(description="Empty goes back to the general text")


class Formulation(ApiBody):
    text: ClinicalText = ""
    agreement: one_of(*FORMULATION_AGREEMENT) | None = Field(
        None, description="Whether the member agreed to these words; left out with new text clears the old agreement")
    agreed_at: Moment | None = None


# --- closure summaries ------------------------------------------------------------------

class SummaryEdit(ApiBody):
    """The narrative of a draft summary; fields left out keep their text."""

    unknown_field_message: ClassVar[str] = "Not editable."  # sections 1-5 and 10 come from the record

    goal_words: dict[str, ClinicalText] = Field(
        default_factory=dict, description="goal id -> the member's words (ids of this summary's goals)",
    )
    areas_needing_work: ClinicalText | None = None
    warning_signs: ClinicalText | None = None
    who_to_tell: ClinicalText | None = None
    relapse_strategies: ClinicalText | None = None
    relapse_supports: ClinicalText | None = None
    seek_help: ClinicalText | None = None
    feelings_about_ending: ClinicalText | None = Field(None, description="Section 9: the member's feelings about ending the group")
    next_step_kind: one_of(*NEXT_STEP_KINDS) | None = None
    next_step_details: ClinicalText | None = None
    follow_up_date: Day | None = None


class Amendment(ApiBody):
    reason: Reason = Field(min_length=1)


# --- session fidelity -------------------------------------------------------------------

class ChecklistAnswerBody(ApiBody):
    key: str = Field(min_length=1, max_length=64, description="An item key of the meeting's checklist")
    answer: one_of(*ChecklistAnswer)
    note: str = Field("", max_length=2000)


class SessionChecklistBody(ApiBody):
    """A meeting's checklist answers: one per item of the checklist GET shows."""

    answers: list[ChecklistAnswerBody] = Field(max_length=100)
    rating: whole(1, 5) = Field(description="How the session went, 1 (poorly) to 5 (very well)")
    note: str = Field("", max_length=4000)


# --- supervision meetings ---------------------------------------------------------------

class SupervisionCaseBody(ApiBody):
    enrollment_id: RowId = Field(description="A member of a cohort the supervisor's facilitators lead")
    note: Reason = ""


class SupervisionActionBody(ApiBody):
    text: str = Field(min_length=1, max_length=500)
    owner_id: RowId = Field(description="An active member of staff")
    due_on: Day = Field(description="On or after held_on")


class SupervisionMeetingBody(ApiBody):
    supervisor_id: RowId | None = Field(None, description="Coordinators: whose meeting this is (default: yourself)")
    held_on: Day = Field(description="Today or earlier, in the supervisor's time zone")
    facilitator_ids: list[RowId] = Field(default_factory=list, max_length=50,
                                         description="Facilitators present: ones the supervisor supervises")
    cases: list[SupervisionCaseBody] = Field(default_factory=list, max_length=60)
    actions: list[SupervisionActionBody] = Field(default_factory=list, max_length=30)
    actions_done: list[RowId] = Field(default_factory=list, max_length=100,
                                      description="Open actions of earlier meetings that are done by now")
    notes: ClinicalText = ""


# --- follow-ups and online meetings (server/reminders) ------------------------------------


class OutreachBody(ApiBody):
    outcome: one_of(*OutreachOutcome) = Field(description=(
        "reached, not_reached (the follow-up stays open), plans_to_return, or leaving (the member is withdrawn "
        "with withdrawal_reason, and the first waitlisted member is offered the place)"))
    note: str = Field("", max_length=1000, description="Private to the cohort's staff")
    withdrawal_reason: str = Field("", max_length=500, description="Needed with leaving (the note is used if empty)")


class OnlineJoinBody(ApiBody):
    video_link: str = Field("", max_length=500, description=(
        "An https address; empty: held in a room (a meeting's empty link follows its cohort's)"))
    dial_in: str = Field("", max_length=300, description="Optional phone dial-in text, with a video link")
