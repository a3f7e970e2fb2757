"""Session fidelity: the checklist a facilitator fills in after a meeting (issue 17;
domain-ipt.md section 13: "a facilitator fidelity checklist after every session").

The items asked come from the cohort's protocol template (per phase, and per individual
meeting kind); the answers are stored here with the meeting, with the item's wording as it
was asked, so a later edit of the template does not rewrite what was answered.
"""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class ChecklistAnswer(StrEnum):
    DONE = "done"
    PARTLY = "partly"
    NOT_DONE = "not_done"
    NOT_APPLICABLE = "not_applicable"


class SessionChecklist(Model):
    """One meeting's checklist, as its facilitator answered it."""

    id = fields.IntField(primary_key=True)
    meeting = fields.OneToOneField("models.Meeting", related_name="checklist")
    # Which checklist of the template was asked: "group:<phase>" for a group session, or
    # the individual meeting's kind ("pregroup", "mid", "post").
    checklist = fields.CharField(max_length=64)
    # [{"key": str, "label": str, "answer": ChecklistAnswer value, "note": str}, ...]
    items = fields.JSONField(default=list)
    # How the facilitator rates the session, 1 (poorly) to 5 (very well); null: not rated.
    rating = fields.IntField(null=True)
    note = fields.TextField(default="")
    submitted_by = fields.ForeignKeyField(
        "models.User", related_name="checklists_submitted", null=True, on_delete=fields.SET_NULL
    )
    submitted_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "session_checklists"
