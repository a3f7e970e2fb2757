"""Intake, goals, measures and safety items of members (owned by the enrollment/measures area)."""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

# The questionnaire and the goal statuses are the pure layer's words; the columns store them
# as they are.
from calendars.vocabulary import Instrument
from server.board.vocabulary import GoalStatus


class InventoryEntry(Model):
    """One relationship in the interpersonal inventory (domain-ipt.md 4a), role labels only."""

    id = fields.IntField(primary_key=True)
    enrollment = fields.ForeignKeyField("models.Enrollment", related_name="inventory")
    role_label = fields.CharField(max_length=80)
    relationship_type = fields.CharField(max_length=80, default="")
    contact_frequency = fields.CharField(max_length=200, default="")
    shared_activities = fields.TextField(default="")
    can_talk_about = fields.TextField(default="")
    cannot_talk_about = fields.TextField(default="")
    likes = fields.TextField(default="")
    dislikes = fields.TextField(default="")
    feelings_together = fields.TextField(default="")
    conflict = fields.TextField(default="")
    knows_about_depression = fields.BooleanField(null=True)
    wants_to_change = fields.TextField(default="")
    is_support = fields.BooleanField(null=True)
    changed_near_onset = fields.BooleanField(null=True)
    created_by = fields.ForeignKeyField(
        "models.User", related_name="inventory_entries", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "inventory_entries"


class Goal(Model):
    """A member's target goal (enrollment set) or a group goal (enrollment null)."""

    id = fields.IntField(primary_key=True)
    cohort = fields.ForeignKeyField("models.Cohort", related_name="goals")
    enrollment = fields.ForeignKeyField("models.Enrollment", related_name="goals", null=True)
    text = fields.CharField(max_length=500)
    status = fields.CharEnumField(GoalStatus, max_length=16, default=GoalStatus.ACTIVE)
    position = fields.IntField(default=0)
    created_by = fields.ForeignKeyField(
        "models.User", related_name="goals_created", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "goals"
        ordering = ["position", "id"]


class GoalProgress(Model):
    """A progress check-in on a goal, usually made on the board during a meeting."""

    id = fields.IntField(primary_key=True)
    goal = fields.ForeignKeyField("models.Goal", related_name="progress")
    meeting = fields.ForeignKeyField(
        "models.Meeting", related_name="goal_progress", null=True, on_delete=fields.SET_NULL
    )
    rating = fields.IntField(null=True)  # 0 (no progress) .. 4 (achieved)
    status = fields.CharEnumField(GoalStatus, max_length=16, null=True)  # a status change
    note = fields.TextField(default="")
    recorded_by = fields.ForeignKeyField(
        "models.User", related_name="goal_checkins", null=True, on_delete=fields.SET_NULL
    )
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "goal_progress"
        ordering = ["at", "id"]


class MeasureResponse(Model):
    id = fields.IntField(primary_key=True)
    enrollment = fields.ForeignKeyField("models.Enrollment", related_name="measures")
    instrument = fields.CharEnumField(Instrument, max_length=8)
    items = fields.JSONField()  # list of 0..3 answers in item order
    total = fields.IntField()
    band = fields.CharField(max_length=32)
    item9 = fields.IntField(null=True)  # PHQ-9 only
    difficulty = fields.IntField(null=True)  # the optional "how difficult" question, 0..3
    # The meeting whose window this response belongs to (baseline: the pre-group meeting).
    meeting = fields.ForeignKeyField(
        "models.Meeting", related_name="measures", null=True, on_delete=fields.SET_NULL
    )
    window = fields.CharField(max_length=32, default="")  # "baseline", "session-3", "closure"
    administered_at = fields.DatetimeField()
    entered_by = fields.ForeignKeyField(
        "models.User", related_name="measures_entered", null=True, on_delete=fields.SET_NULL
    )
    on_behalf = fields.BooleanField(default=False)  # entered by a facilitator for the member
    # A facilitator's correction replaces a response; the original stays, marked superseded.
    superseded = fields.BooleanField(default=False)
    superseded_by = fields.ForeignKeyField(
        "models.MeasureResponse", related_name="supersedes", null=True, on_delete=fields.SET_NULL
    )
    correction_reason = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "measure_responses"
        ordering = ["administered_at", "id"]


class SafetyItemStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class SafetySource(StrEnum):
    ANSWER = "answer"  # a PHQ-9 item 9 answer above 0
    DISCLOSURE = "disclosure"  # recorded by staff from something said in session


class SafetyItem(Model):
    """Opened by a PHQ-9 item 9 answer above 0 or a disclosure, private to the clinicians."""

    id = fields.IntField(primary_key=True)
    enrollment = fields.ForeignKeyField("models.Enrollment", related_name="safety_items")
    response = fields.ForeignKeyField(
        "models.MeasureResponse", related_name="safety_items", null=True, on_delete=fields.SET_NULL
    )
    source = fields.CharEnumField(SafetySource, max_length=16, default=SafetySource.ANSWER, db_default="answer")
    item9 = fields.IntField(null=True)  # null for a disclosure
    # When the answer was given or the disclosure made: no risk check may be dated before.
    raised_at = fields.DatetimeField(null=True)
    disclosure_note = fields.TextField(default="", db_default="")
    opened_by = fields.ForeignKeyField(
        "models.User", related_name="safety_items_opened", null=True, on_delete=fields.SET_NULL
    )
    # The response target (GROUPIPT_SAFETY_RESPONSE_HOURS after opening).
    due_at = fields.DatetimeField(null=True)
    # 0 none yet, 1 at the target, 2 at twice the target: raised by one conditional UPDATE
    # each, so with several processes an escalation is sent once.
    escalations = fields.IntField(default=0, db_default=0)
    # Who was told when it opened: "facilitator", "duty" (duty clinicians) or "team"
    # (coordinators, when no clinician could be), which is what the member is told too.
    routed_to = fields.CharField(max_length=16, default="", db_default="")
    last_escalated_at = fields.DatetimeField(null=True)
    status = fields.CharEnumField(SafetyItemStatus, max_length=8, default=SafetyItemStatus.OPEN)
    # The first group meeting after the answer: its facilitator view shows the item on top.
    meeting = fields.ForeignKeyField(
        "models.Meeting", related_name="safety_items", null=True, on_delete=fields.SET_NULL
    )
    opened_at = fields.DatetimeField(auto_now_add=True)
    closed_at = fields.DatetimeField(null=True)
    closed_by = fields.ForeignKeyField(
        "models.User", related_name="safety_items_closed", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "safety_items"


class RiskAction(StrEnum):
    NONE = "none"
    SAFETY_PLAN = "safety_plan"
    REFERRAL = "referral"
    EMERGENCY = "emergency"


class ContactMethod(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"
    UNREACHED = "unreached"  # an attempt that did not reach the member: the item stays open


class SuicidalThoughts(StrEnum):
    NONE = "none"
    PASSIVE = "passive"
    ACTIVE = "active"


class RiskLevel(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    IMMINENT = "imminent"


class RiskCheck(Model):
    """A structured risk assessment (domain-ipt.md 5b), or a logged attempt that did not reach the member."""

    id = fields.IntField(primary_key=True)
    safety_item = fields.ForeignKeyField("models.SafetyItem", related_name="risk_checks")
    # A person who recorded a risk check cannot be deleted (deactivate them instead).
    checked_by = fields.ForeignKeyField("models.User", related_name="risk_checks", on_delete=fields.RESTRICT)
    checked_at = fields.DatetimeField()
    contact_method = fields.CharEnumField(ContactMethod, max_length=16, default=ContactMethod.IN_PERSON, db_default="in_person")
    thoughts = fields.CharEnumField(SuicidalThoughts, max_length=16, null=True)
    plan = fields.BooleanField(null=True)
    intent = fields.BooleanField(null=True)
    access_to_means = fields.BooleanField(null=True)
    past_attempts = fields.BooleanField(null=True)
    protective_factors = fields.TextField(default="", db_default="")
    risk_level = fields.CharEnumField(RiskLevel, max_length=16, null=True)
    outcome = fields.TextField()
    action = fields.CharEnumField(RiskAction, max_length=16, null=True)  # null for an unreached attempt
    follow_up_date = fields.DateField(null=True)
    # Set by the one process that claims the follow-up reminder on its day.
    follow_up_reminded_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "risk_checks"


class SafetyNoticeKind(StrEnum):
    OPENED = "opened"
    ESCALATED = "escalated"
    FOLLOW_UP = "follow_up"


class SafetyNotice(Model):
    """One person told about a safety item: by e-mail (its outbox row) and on their home page."""

    id = fields.IntField(primary_key=True)
    safety_item = fields.ForeignKeyField("models.SafetyItem", related_name="notices")
    recipient = fields.ForeignKeyField("models.User", related_name="safety_notices")
    kind = fields.CharEnumField(SafetyNoticeKind, max_length=16)
    level = fields.IntField(default=0)  # the escalation (1, 2) for kind escalated
    risk_check = fields.ForeignKeyField(
        "models.RiskCheck", related_name="notices", null=True, on_delete=fields.SET_NULL
    )
    message = fields.ForeignKeyField(
        "models.OutboxMessage", related_name="safety_notices", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "safety_notices"


class ClinicSafetySettings(Model):
    """The clinic's crisis help text shown to a member after a positive item 9 (one row)."""

    id = fields.IntField(primary_key=True)
    help_text = fields.TextField(default="")
    updated_by = fields.ForeignKeyField(
        "models.User", related_name="safety_settings_updates", null=True, on_delete=fields.SET_NULL
    )
    updated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "clinic_safety_settings"
