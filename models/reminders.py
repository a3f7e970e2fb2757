"""Reminders sent before meetings, members' reminder choices, absences told ahead, members
followed up after absences, how to join online, and questionnaire reminders."""
from __future__ import annotations

from enum import StrEnum

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


class FollowUpReason(StrEnum):
    ABSENCES_IN_A_ROW = "absences_in_a_row"  # the cohort's (or clinic's) number, default 2
    ABSENT_WITHOUT_WORD = "absent_without_word"  # a session missed without telling anyone


class OutreachOutcome(StrEnum):
    REACHED = "reached"
    NOT_REACHED = "not_reached"
    PLANS_TO_RETURN = "plans_to_return"
    LEAVING = "leaving"


class FollowUp(Model):
    """A member who has stopped coming, for the cohort's facilitators to call: one per run of
    absences (keyed by the run's first missed session), closed once the outreach settles it."""

    id = fields.IntField(primary_key=True)
    enrollment = fields.ForeignKeyField("models.Enrollment", related_name="follow_ups")
    cohort = fields.ForeignKeyField("models.Cohort", related_name="follow_ups")
    first_missed = fields.ForeignKeyField("models.Meeting", related_name="follow_ups_started")
    last_missed = fields.ForeignKeyField("models.Meeting", related_name="follow_ups_ended")
    reason = fields.CharEnumField(FollowUpReason, max_length=24)
    absences_in_a_row = fields.IntField(default=1)
    unnotified = fields.IntField(default=0)  # of those, how many without a word
    raised_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)
    outcome = fields.CharEnumField(OutreachOutcome, max_length=16, null=True)

    class Meta:
        table = "follow_ups"
        unique_together = (("enrollment", "first_missed"),)


class Outreach(Model):
    """A facilitator's attempt to reach the member of a follow-up, with a private note."""

    id = fields.IntField(primary_key=True)
    follow_up = fields.ForeignKeyField("models.FollowUp", related_name="outreach")
    outcome = fields.CharEnumField(OutreachOutcome, max_length=16)
    note = fields.CharField(max_length=1000, default="")  # facilitators' eyes only
    by = fields.ForeignKeyField("models.User", related_name="outreach_recorded", null=True,
                                on_delete=fields.SET_NULL)
    at = fields.DatetimeField()

    class Meta:
        table = "follow_up_outreach"
        ordering = ["at", "id"]


class OnlineJoin(Model):
    """How to join online: a cohort's dial-in text (its video link is `Cohort.video_link`), or
    one meeting's own video link and dial-in, which then take the cohort's place."""

    id = fields.IntField(primary_key=True)
    cohort = fields.ForeignKeyField("models.Cohort", related_name="online_joins")
    meeting = fields.OneToOneField("models.Meeting", related_name="online_join", null=True)
    video_link = fields.CharField(max_length=500, default="")
    dial_in = fields.CharField(max_length=300, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "online_joins"


class QuestionnaireReminderSent(Model):
    """One reminder of one questionnaire window (enrollment, instrument, occasion): sent once."""

    id = fields.IntField(primary_key=True)
    enrollment = fields.ForeignKeyField("models.Enrollment", related_name="questionnaire_reminders")
    instrument = fields.CharField(max_length=16)
    occasion = fields.CharField(max_length=32)
    message = fields.ForeignKeyField("models.OutboxMessage", related_name="questionnaire_reminders", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "questionnaire_reminders_sent"
        unique_together = (("enrollment", "instrument", "occasion"),)


class KioskSession(Model):
    """A shared tablet in the room, for members to fill in their questionnaire: opened by a
    facilitator (the tablet then holds only this, never a staff session), unlocked for one
    member at a time by that member's 4-digit code, locked again when they are done."""

    id = fields.IntField(primary_key=True)
    cohort = fields.ForeignKeyField("models.Cohort", related_name="kiosk_sessions")
    started_by = fields.ForeignKeyField("models.User", related_name="kiosk_sessions", null=True,
                                        on_delete=fields.SET_NULL)
    token_hash = fields.CharField(max_length=64, unique=True)  # sha256 of the tablet's cookie
    started_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)
    wrong_codes = fields.IntField(default=0)
    # Unlocked for: this member's questionnaire of this occasion, since unlocked_at.
    member = fields.ForeignKeyField("models.Enrollment", related_name="kiosk_unlocks", null=True)
    instrument = fields.CharField(max_length=16, default="")
    occasion = fields.CharField(max_length=32, default="")
    unlocked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "kiosk_sessions"
