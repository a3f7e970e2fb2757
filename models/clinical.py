"""Intake, goals, measures and safety items of members (owned by the enrollment/measures area)."""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


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


class GoalStatus(StrEnum):
    ACTIVE = "active"
    ACHIEVED = "achieved"
    REVISED = "revised"
    DROPPED = "dropped"


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


class Instrument(StrEnum):
    PHQ9 = "phq9"
    GAD7 = "gad7"


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


class SafetyItem(Model):
    """Opened by a PHQ-9 item 9 answer above 0, private to the cohort's facilitators."""

    id = fields.IntField(primary_key=True)
    enrollment = fields.ForeignKeyField("models.Enrollment", related_name="safety_items")
    response = fields.ForeignKeyField(
        "models.MeasureResponse", related_name="safety_items", null=True, on_delete=fields.SET_NULL
    )
    item9 = fields.IntField()
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


class RiskCheck(Model):
    id = fields.IntField(primary_key=True)
    safety_item = fields.ForeignKeyField("models.SafetyItem", related_name="risk_checks")
    # A person who recorded a risk check cannot be deleted (deactivate them instead).
    checked_by = fields.ForeignKeyField("models.User", related_name="risk_checks", on_delete=fields.RESTRICT)
    checked_at = fields.DatetimeField()
    outcome = fields.TextField()
    action = fields.CharEnumField(RiskAction, max_length=16)
    follow_up_date = fields.DateField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "risk_checks"
