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
