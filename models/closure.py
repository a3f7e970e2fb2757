"""Closure summaries: one row per version of a member's summary (owned by the closure area).

A finalized version is immutable: later changes go into a new version (an amendment), so
every version a member or a colleague has read stays readable as it was.
"""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class SummaryStatus(StrEnum):
    """draft -> finalized, or where the cohort requires a supervisor's sign-off (issue 17):
    draft -> awaiting_signoff -> approved -> finalized, or awaiting_signoff -> returned
    (with the supervisor's comment) -> awaiting_signoff again."""

    DRAFT = "draft"
    AWAITING_SIGNOFF = "awaiting_signoff"
    RETURNED = "returned"
    APPROVED = "approved"
    FINALIZED = "finalized"


class FinalizedSummaryError(RuntimeError):
    """Raised when code tries to save or delete a finalized version (make an amendment)."""


class ClosureSummary(Model):
    id = fields.IntField(primary_key=True)
    enrollment = fields.ForeignKeyField("models.Enrollment", related_name="closure_summaries")
    version = fields.IntField(default=1)
    status = fields.CharEnumField(SummaryStatus, max_length=16, default=SummaryStatus.DRAFT)
    # server.closure.SummaryRecord.to_json(): sections 1-10.
    content = fields.JSONField(default=dict)
    # Why an amendment was made (empty for version 1).
    amendment_reason = fields.CharField(max_length=500, default="")
    created_by = fields.ForeignKeyField(
        "models.User", related_name="summaries_created", null=True,
        on_delete=fields.SET_NULL,
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_by = fields.ForeignKeyField(
        "models.User", related_name="summaries_updated", null=True,
        on_delete=fields.SET_NULL,
    )
    updated_at = fields.DatetimeField(auto_now=True)
    finalized_by = fields.ForeignKeyField(
        "models.User", related_name="summaries_finalized", null=True,
        on_delete=fields.SET_NULL,
    )
    finalized_at = fields.DatetimeField(null=True)
    # SHA-256 of the content as last submitted for sign-off (server.closure.signoff): an
    # approval names it, so a supervisor approves exactly the text they read.
    # db_default: SQLite adds a NOT NULL column to an existing table only with a default.
    submitted_hash = fields.CharField(max_length=64, default="", db_default="")

    class Meta:
        table = "closure_summaries"
        unique_together = (("enrollment", "version"),)
        ordering = ["enrollment_id", "version"]

    @property
    def is_final(self) -> bool:
        return self.status == SummaryStatus.FINALIZED

    async def save(self, *args, **kwargs) -> None:
        # Defence in depth under the services' conditional updates: no code path may
        # rewrite a finalized version through the ORM either.
        if self.pk is not None and await ClosureSummary.filter(
            pk=self.pk, status=SummaryStatus.FINALIZED
        ).exists():
            raise FinalizedSummaryError(f"Closure summary {self.pk} is finalized and cannot be changed.")
        await super().save(*args, **kwargs)

    async def delete(self, *args, **kwargs) -> None:
        if self.is_final:
            raise FinalizedSummaryError(f"Closure summary {self.pk} is finalized and cannot be deleted.")
        await super().delete(*args, **kwargs)


class SignoffAction(StrEnum):
    SUBMITTED = "submitted"  # facilitator -> awaiting_signoff
    RETURNED = "returned"  # supervisor, with a comment -> returned
    APPROVED = "approved"  # supervisor -> approved
    WITHDRAWN = "withdrawn"  # facilitator pulls it back to draft to change it
    FINALIZED = "finalized"  # facilitator finalizes the approved version


class SignoffEvent(Model):
    """One step of a summary version's sign-off, never changed or deleted: which version
    and content (hash), what was done, the supervisor's comment, by whom and when."""

    id = fields.IntField(primary_key=True)
    summary = fields.ForeignKeyField("models.ClosureSummary", related_name="signoff_events")
    version = fields.IntField()
    content_hash = fields.CharField(max_length=64)
    action = fields.CharEnumField(SignoffAction, max_length=16)
    comment = fields.TextField(default="")
    by = fields.ForeignKeyField("models.User", related_name="signoff_events", null=True, on_delete=fields.SET_NULL)
    at = fields.DatetimeField()

    class Meta:
        table = "closure_signoff_events"
        ordering = ["summary_id", "at", "id"]
