"""Who supervises whom: a clinician supervises named facilitators (domain-ipt.md section 13).

Supervision is a relation, not a role: a facilitator can also supervise colleagues, and a
coordinator who is a clinician can supervise too. Rows belong to the supervision area
(`server.supervision`).
"""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Supervision(Model):
    """`supervisor` supervises `facilitator`: sees that facilitator's cohorts, read-only
    unless also facilitating there."""

    id = fields.IntField(primary_key=True)
    supervisor = fields.ForeignKeyField("models.User", related_name="supervisees")
    facilitator = fields.ForeignKeyField("models.User", related_name="supervisors")
    created_by = fields.ForeignKeyField(
        "models.User", related_name="supervisions_set", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "supervisions"
        unique_together = (("supervisor", "facilitator"),)
        ordering = ["supervisor_id", "facilitator_id"]


class SupervisionMeeting(Model):
    """A weekly supervision meeting, as its supervisor recorded it.

    Issue 17 and domain-ipt.md section 13 (weekly supervision, a supervisor's weekly
    review). The next agenda's flags start from the most recent one."""

    id = fields.IntField(primary_key=True)
    supervisor = fields.ForeignKeyField("models.User", related_name="supervision_meetings_held")
    held_on = fields.DateField()
    notes = fields.TextField(default="")
    facilitators_present = fields.ManyToManyField(
        "models.User", related_name="supervision_meetings_attended", through="supervision_meeting_facilitators"
    )
    created_by = fields.ForeignKeyField(
        "models.User", related_name="supervision_meetings_recorded", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "supervision_meetings"
        ordering = ["-held_on", "-id"]


class SupervisionCase(Model):
    """A member's case discussed at a supervision meeting, with a short note."""

    id = fields.IntField(primary_key=True)
    meeting = fields.ForeignKeyField("models.SupervisionMeeting", related_name="cases")
    enrollment = fields.ForeignKeyField("models.Enrollment", related_name="supervision_cases")
    note = fields.CharField(max_length=500, default="")

    class Meta:
        table = "supervision_cases"
        unique_together = (("meeting", "enrollment"),)
        ordering = ["id"]


class SupervisionAction(Model):
    """Something agreed at a supervision meeting, open until marked done.

    An open action carries over to every later agenda of that supervisor."""

    id = fields.IntField(primary_key=True)
    meeting = fields.ForeignKeyField("models.SupervisionMeeting", related_name="actions")
    text = fields.CharField(max_length=500)
    owner = fields.ForeignKeyField(
        "models.User", related_name="supervision_actions", null=True, on_delete=fields.SET_NULL
    )
    due_on = fields.DateField()
    done_at = fields.DatetimeField(null=True)
    done_by = fields.ForeignKeyField(
        "models.User", related_name="supervision_actions_done", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "supervision_actions"
        ordering = ["due_on", "id"]
