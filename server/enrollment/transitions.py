"""Enrollment statuses and how one becomes another: which status may follow which, and
one transaction per change.

Every change runs inside one transaction that first locks the cohort row
(``select_for_update``; tech-notes 2.3). On PostgreSQL that row lock serializes two
coordinators taking the last place; on SQLite the process-wide transaction lock does.
Either way one of them gets the place and the other is waitlisted, never both enrolled.
Each change is kept as an EnrollmentTransition and in the audit log.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.accounts import User
from models.cohorts import (
    Cohort,
    CohortStatus,
    Enrollment,
    EnrollmentStatus,
    EnrollmentTransition,
    ProtocolTemplate,
)
from server.accounts import audit
from server.errors import BadRequest, Conflict, NotFound


S = EnrollmentStatus

ALLOWED: dict[EnrollmentStatus | None, frozenset[EnrollmentStatus]] = {
    None: frozenset({S.INVITED, S.SCREENING, S.ENROLLED, S.WAITLISTED}),
    S.INVITED: frozenset({S.SCREENING, S.ENROLLED, S.WAITLISTED, S.WITHDRAWN}),
    S.SCREENING: frozenset({S.ENROLLED, S.WAITLISTED, S.WITHDRAWN}),
    S.WAITLISTED: frozenset({S.ENROLLED, S.SCREENING, S.WITHDRAWN}),
    S.ENROLLED: frozenset({S.WITHDRAWN, S.COMPLETED}),
    S.WITHDRAWN: frozenset({S.SCREENING, S.ENROLLED, S.WAITLISTED}),
    S.COMPLETED: frozenset(),
}
# Statuses that mean "this person is joining the group" and so meet the late-join cutoff.
JOINING = frozenset({S.ENROLLED, S.WAITLISTED})
OPEN_COHORT = frozenset({CohortStatus.DRAFT, CohortStatus.ENROLLING, CohortStatus.ACTIVE})

STATUS_LABELS = {
    S.INVITED: "Invited",
    S.SCREENING: "Screening",
    S.ENROLLED: "Enrolled",
    S.WAITLISTED: "Waitlisted",
    S.WITHDRAWN: "Withdrawn",
    S.COMPLETED: "Completed",
}


@dataclass
class Outcome:
    enrollment: Enrollment
    message: str
    invitation_path: str | None = None
    promoted: Enrollment | None = None
    warnings: list[str] = field(default_factory=list)


async def history(enrollment: Enrollment) -> list[EnrollmentTransition]:
    return await EnrollmentTransition.filter(enrollment_id=enrollment.id).order_by("at", "id").prefetch_related("by")


@contextlib.asynccontextmanager
async def changing():
    """One transaction; a unique-constraint race becomes a 409, never a 500."""
    try:
        async with in_transaction():
            yield
    except IntegrityError:
        # Two requests created the same account or enrollment at the same moment; the
        # loser's transaction was rolled back, so nothing half-written remains.
        raise Conflict("Someone else changed this at the same moment. Please reload and try again.") from None


async def _locked_cohort(cohort_id: int) -> tuple[Cohort, ProtocolTemplate]:
    cohort = await Cohort.select_for_update().get_or_none(id=cohort_id)
    if cohort is None:
        raise NotFound("There is no such cohort.")
    template = await ProtocolTemplate.get(id=cohort.template_id)
    return cohort, template


async def _transition(
    enrollment: Enrollment, to: EnrollmentStatus, *, by: User | None, reason: str, now: datetime
) -> None:
    before = enrollment.status
    enrollment.status = to
    if to == S.WAITLISTED:
        enrollment.waitlisted_at = now
    elif before == S.WAITLISTED:
        enrollment.waitlisted_at = None
    await enrollment.save()
    await EnrollmentTransition.create(
        enrollment=enrollment,
        from_status=before.value if before else "",
        to_status=to.value,
        reason=reason[:500],
        by=by,
        at=now,
    )
    await audit.record(
        by, "change", "enrollment", enrollment.id, member=enrollment.member_id,
        detail=f"{before.value if before else 'new'} -> {to.value}",
    )


def _check_reason(reason: str, label: str = "Reason") -> str:
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise BadRequest(f"{label} is too long (500 characters at most).", fields={"reason": "Too long."})
    return reason


async def _cohort_of(enrollment_id: int) -> int:
    row = await Enrollment.filter(id=enrollment_id).values_list("cohort_id", flat=True)
    if not row:
        raise NotFound("There is no such enrollment.")
    return row[0]
