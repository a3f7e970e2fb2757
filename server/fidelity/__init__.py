"""Session fidelity (issue 17; domain-ipt.md section 13): the checklist a facilitator fills
in after each meeting, and adherence over time for supervisors.

checklists  what a meeting's checklist asks, who answers it, storing the answers
adherence   per facilitator and per item, the share done, per week
charts      the weekly share as an accessible SVG

`missing_checklists` is what the supervision agenda reads.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from tortoise.expressions import Subquery

from models.cohorts import Meeting, MeetingStatus
from models.fidelity import ChecklistAnswer, SessionChecklist
from server.fidelity.adherence import RULE, FacilitatorAdherence, adherence, visible_facilitators
from server.fidelity.checklists import (
    ANSWER_LABELS,
    Answer,
    MeetingChecklist,
    meeting_checklist,
    meeting_held,
    save_checklist,
)


async def missing_checklists(cohort_ids: Iterable[int], since: datetime | None = None) -> list[Meeting]:
    """Completed meetings of these cohorts (started at or after `since`) with no checklist,
    oldest first, each with its cohort loaded."""
    ids = list(cohort_ids)
    if not ids:
        return []
    query = Meeting.filter(cohort_id__in=ids, status=MeetingStatus.COMPLETED).exclude(
        id__in=Subquery(SessionChecklist.all().values("meeting_id")))
    if since is not None:
        query = query.filter(starts_at__gte=since)
    return await query.order_by("starts_at", "id").select_related("cohort")


__all__ = [
    "ANSWER_LABELS",
    "RULE",
    "Answer",
    "ChecklistAnswer",
    "FacilitatorAdherence",
    "MeetingChecklist",
    "adherence",
    "meeting_checklist",
    "meeting_held",
    "missing_checklists",
    "save_checklist",
    "visible_facilitators",
]
