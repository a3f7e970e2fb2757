"""Reminders sent before meetings, members' reminder choices, and absences told ahead."""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ReminderSent(Model):
    """One reminder to one person for one meeting at one lead time. Unique, so two sweeps
    running at once send it once (the second insert fails and that sweep moves on)."""

    id = fields.IntField(primary_key=True)
    meeting = fields.ForeignKeyField("models.Meeting", related_name="reminders_sent")
    member = fields.ForeignKeyField("models.User", related_name="reminders_sent")
    hours_before = fields.FloatField()
    channel = fields.CharField(max_length=16, default="email")
    message = fields.ForeignKeyField("models.OutboxMessage", related_name="reminders", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "reminders_sent"
        unique_together = (("meeting", "member", "hours_before", "channel"),)


class ReminderChoice(Model):
    """A member's own choice of lead times. Without a row, the clinic's setting applies."""

    id = fields.IntField(primary_key=True)
    user = fields.OneToOneField("models.User", related_name="reminder_choice")
    hours = fields.JSONField(default=list)  # e.g. [24, 2]; [] = no reminders
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "reminder_choices"


class NotifiedAbsence(Model):
    """A member said ahead that they cannot come to a meeting, withdrawn when they can after all."""

    id = fields.IntField(primary_key=True)
    meeting = fields.ForeignKeyField("models.Meeting", related_name="notified_absences")
    enrollment = fields.ForeignKeyField("models.Enrollment", related_name="notified_absences")
    reason = fields.CharField(max_length=500, default="")  # private: facilitators' eyes only
    notified_at = fields.DatetimeField()
    withdrawn_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notified_absences"
        unique_together = (("meeting", "enrollment"),)
