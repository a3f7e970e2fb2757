"""Leaving a cohort: withdrawal, and transfer to another cohort.

A withdrawal frees a place, which goes to the longest-waiting member (capacity.py). A
transfer withdraws the old enrollment (kept as history) and places the member in the new
cohort as enrolling would, carrying the treatment episode across.
"""

from __future__ import annotations

from datetime import datetime

from models.accounts import User
from models.clinical import Goal, InventoryEntry
from models.cohorts import Cohort, Enrollment, EnrollmentStatus
from server import clock
from server.accounts import audit
from server.enrollment.capacity import _place, _promote_first_waitlisted, enrolled_count, size_warnings
from server.enrollment.consent import ConsentGiven, _apply_consent, _consent_note
from server.enrollment.transitions import (
    ALLOWED,
    OPEN_COHORT,
    Outcome,
    _check_reason,
    _cohort_of,
    _locked_cohort,
    _transition,
    changing,
)
from server.errors import BadRequest, Conflict


S = EnrollmentStatus


async def withdraw(
    enrollment_id: int, *, by: User, reason: str, now: datetime | None = None
) -> Outcome:
    now = now or clock.now()
    reason = _check_reason(reason)
    if not reason:
        raise BadRequest("Give a reason for the withdrawal.", fields={"reason": "Required."})
    cohort_id = await _cohort_of(enrollment_id)
    async with changing():
        cohort, template = await _locked_cohort(cohort_id)
        enrollment = await Enrollment.get(id=enrollment_id).select_related("member")
        if S.WITHDRAWN not in ALLOWED[enrollment.status]:
            raise Conflict(f"{enrollment.member.display_name} is {enrollment.status.value} and cannot be withdrawn.")
        enrollment.withdrawal_reason = reason
        await _transition(enrollment, S.WITHDRAWN, by=by, reason=reason, now=now)
        promoted, note = await _promote_first_waitlisted(cohort, template, by=by, now=now)
        warnings = size_warnings(cohort, template, await enrolled_count(cohort.id))
    message = f"{enrollment.member.display_name} was withdrawn from {cohort.name}."
    if note:
        message += " " + note
    return Outcome(enrollment, message, promoted=promoted, warnings=warnings)


async def transfer(
    enrollment_id: int,
    to_cohort_id: int,
    *,
    by: User,
    reason: str,
    late_override: str = "",
    consent: ConsentGiven | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Move a member to another cohort: the old enrollment is withdrawn and kept as history.
    Consent is to one group's agreement, so joining the new group as enrolled needs
    `consent` recorded afresh."""
    now = now or clock.now()
    reason = _check_reason(reason)
    late_override = _check_reason(late_override, "The late-join reason")
    if not reason:
        raise BadRequest("Give a reason for the transfer.", fields={"reason": "Required."})
    from_cohort_id = await _cohort_of(enrollment_id)
    if from_cohort_id == to_cohort_id:
        raise BadRequest("Pick a different cohort to transfer to.", fields={"to_cohort": "Same cohort."})
    # Lock both cohorts in id order so two transfers in opposite directions cannot deadlock.
    async with changing():
        locked = {}
        for cid in sorted((from_cohort_id, to_cohort_id)):
            locked[cid] = await _locked_cohort(cid)
        source, source_template = locked[from_cohort_id]
        target, target_template = locked[to_cohort_id]
        if target.status not in OPEN_COHORT:
            raise Conflict(f"{target.name} is {target.status.value}; nobody can be transferred into it.")
        old = await Enrollment.get(id=enrollment_id).select_related("member")
        if old.status not in (S.INVITED, S.SCREENING, S.ENROLLED, S.WAITLISTED):
            raise Conflict(f"{old.member.display_name} is {old.status.value}; only current members can be transferred.")
        if await Enrollment.exists(cohort_id=target.id, member_id=old.member_id):
            raise Conflict(f"{old.member.display_name} already has an enrollment in {target.name}; change its status there.")
        wanted = old.status if old.status != S.WAITLISTED else S.ENROLLED
        new = Enrollment(
            cohort=target, member=old.member, status=wanted, transferred_from=old,
            primary_problem_area=old.primary_problem_area,
            secondary_problem_area=old.secondary_problem_area,
            formulation=old.formulation,  # the rest of the episode: _carry_episode
            formulation_agreed=old.formulation_agreed, formulation_agreed_at=old.formulation_agreed_at,
            # Consent is to one group's agreement, so it is recorded afresh for the new group.
        )
        _apply_consent(new, consent, target)
        message = await _place(new, wanted, target, target_template, by=by,
                               reason="; ".join(p for p in (f"transferred from {source.name}: {reason}", _consent_note(consent)) if p),
                               late_override=late_override, now=now)
        await _carry_episode(old, new, target, by=by)
        old.withdrawal_reason = f"Transferred to {target.name}: {reason}"[:500]
        await _transition(old, S.WITHDRAWN, by=by, reason=old.withdrawal_reason, now=now)
        promoted, note = await _promote_first_waitlisted(source, source_template, by=by, now=now)
        warnings = size_warnings(source, source_template, await enrolled_count(source.id))
        warnings += size_warnings(target, target_template, await enrolled_count(target.id))
    text = f"{old.member.display_name} moved from {source.name} to {target.name}. {message}"
    if note:
        text += " " + note
    return Outcome(new, text, promoted=promoted, warnings=warnings)


async def _carry_episode(old: Enrollment, new: Enrollment, target: Cohort, *, by: User) -> None:
    """A transfer continues one treatment episode in the new group.

    Problem areas and formulation are copied onto the new enrollment (fields it may revise).
    Goals (with their progress check-ins) and the interpersonal inventory are the member's,
    not the group's: they move to the new enrollment, so the new group's board, intake
    page and closure summary work on them and nothing is duplicated. Measures stay where
    they were answered (each belongs to an occasion of the old group's schedule) and are
    read across the chain of enrollments (server.measures.responses.lineage)."""
    goals = await Goal.filter(enrollment_id=old.id).update(enrollment_id=new.id, cohort_id=target.id)
    entries = await InventoryEntry.filter(enrollment_id=old.id).update(enrollment_id=new.id)
    if goals or entries:
        await audit.record(by, "change", "enrollment", new.id, member=new.member_id,
                           detail=f"transfer from enrollment {old.id}: {goals} goals, {entries} inventory entries carried")
