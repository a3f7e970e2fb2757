"""Outgoing messages; the outbox the coordinator reads when no SMTP server is configured."""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class OutboxMessage(Model):
    id = fields.IntField(primary_key=True)
    to_email = fields.CharField(max_length=254)
    to_user = fields.ForeignKeyField("models.User", related_name="messages", null=True)
    subject = fields.CharField(max_length=200)
    body = fields.TextField()
    meeting = fields.ForeignKeyField("models.Meeting", related_name="messages", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    error = fields.CharField(max_length=500, default="")

    class Meta:
        table = "outbox_messages"
        ordering = ["-created_at", "-id"]
