"""Enrolling members into cohorts and changing their status.

Enrolling finds or invites the person, then places them (capacity.py: capacity, waitlist,
late-join cutoff) with their consent (consent.py). Withdrawal and transfer, which free a
place, are in withdrawal.py; the statuses and the one transaction per change in
transitions.py.
"""

from __future__ import annotations

from datetime import datetime

from models.accounts import LinkPurpose, Role, User
from models.cohorts import Enrollment, EnrollmentStatus
from server import accounts, clock
from server.enrollment.capacity import _place, enrolled_count, size_warnings
from server.enrollment.consent import ConsentGiven, _apply_consent, _consent_note
from server.enrollment.transitions import (
    JOINING,
    OPEN_COHORT,
    STATUS_LABELS,
    Outcome,
    _check_reason,
    _cohort_of,
    _locked_cohort,
    changing,
)
from server.errors import BadRequest, Conflict


S = EnrollmentStatus


async def _find_or_create_member(
    *, by: User, member_id: int | None, name: str, email: str
) -> tuple[User, str | None]:
    if member_id:
        member = await User.get_or_none(id=member_id)
        if member is None:
            raise BadRequest("There is no such account.", fields={"member_id": "Pick a member."})
        if member.role != Role.MEMBER:
            raise BadRequest(f"{member.display_name} has a staff account; only members can be enrolled.")
        if not member.is_active:
            raise BadRequest(f"{member.display_name}'s account is deactivated.", fields={"member_id": "Deactivated."})
        return member, None
    name = (name or "").strip()
    if not name:
        raise BadRequest("Give the person's name, or pick an existing member.", fields={"name": "Required."})
    if len(name) > 120:
        raise BadRequest("The name is too long (120 characters at most).", fields={"name": "Too long."})
    address = accounts.normalize_email(email)
    member = await User.get_or_none(email=address)
    if member is not None:
        if member.role != Role.MEMBER:
            raise BadRequest(f"{address} belongs to a staff account; only members can be enrolled.",
                             fields={"email": "A staff account."})
        invitation = None
        if not member.password_hash:
            invitation = await accounts.issue_link(LinkPurpose.INVITATION, user=member, created_by=by)
        return member, invitation
    member = await User.create(email=address, display_name=name, role=Role.MEMBER)
    invitation = await accounts.issue_link(LinkPurpose.INVITATION, user=member, created_by=by)
    return member, invitation


def _one_person(member_id: int | None, name: str, email: str) -> None:
    # An existing member and a typed new person at once: we cannot know who was meant, so
    # nobody is enrolled, rather than the typed person silently dropped (issue 20, item 4).
    if member_id and ((name or "").strip() or (email or "").strip()):
        raise BadRequest("Choose an existing member or type a new person, not both: nothing was changed.",
                         fields={"member_id": "Either this member…", "name": "…or a new person.",
                                 "email": "…or a new person."}, code="ambiguous_person")


def _parse_status(value: str | EnrollmentStatus, *, allowed=frozenset({S.INVITED, S.SCREENING, S.ENROLLED})):
    try:
        status = EnrollmentStatus(value)
    except ValueError:
        raise BadRequest(f"{value!r} is not an enrollment status.", fields={"status": "Unknown."}) from None
    if status not in allowed:
        raise BadRequest(f"A new enrollment cannot start as {status.value}.", fields={"status": "Not allowed."})
    return status


async def enroll(
    cohort_id: int,
    *,
    by: User,
    member_id: int | None = None,
    name: str = "",
    email: str = "",
    status: str | EnrollmentStatus = S.ENROLLED,
    late_override: str = "",
    consent: ConsentGiven | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Enroll an existing member, or a new person by name and e-mail (with an invitation).

    `consent` is needed to start as enrolled, unless the template says otherwise."""
    now = now or clock.now()
    _one_person(member_id, name, email)
    wanted = _parse_status(status)
    late_override = _check_reason(late_override, "The late-join reason")
    async with changing():
        cohort, template = await _locked_cohort(cohort_id)
        if cohort.status not in OPEN_COHORT:
            raise Conflict(f"{cohort.name} is {cohort.status.value}; nobody can be enrolled.")
        member, invitation = await _find_or_create_member(by=by, member_id=member_id, name=name, email=email)
        existing = await Enrollment.get_or_none(cohort_id=cohort.id, member_id=member.id)
        if existing is not None:
            raise Conflict(
                f"{member.display_name} is already in {cohort.name} "
                f"({STATUS_LABELS[existing.status].lower()}).",
                fields={"email": "Already in this cohort."},
            )
        enrollment = Enrollment(cohort=cohort, member=member, status=wanted)
        _apply_consent(enrollment, consent, cohort)
        message = await _place(enrollment, wanted, cohort, template, by=by, reason=_consent_note(consent),
                               late_override=late_override, now=now)
        warnings = size_warnings(cohort, template, await enrolled_count(cohort.id))
    return Outcome(enrollment, message, invitation_path=invitation, warnings=warnings)


async def change_status(
    enrollment_id: int,
    to: str | EnrollmentStatus,
    *,
    by: User,
    reason: str = "",
    late_override: str = "",
    consent: ConsentGiven | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Any status change except withdrawal (which has its own function for the promotion).
    Consent given with the change is recorded with it."""
    now = now or clock.now()
    wanted = _parse_status(to, allowed=frozenset(S) - {S.WITHDRAWN})
    reason = _check_reason(reason)
    late_override = _check_reason(late_override, "The late-join reason")
    cohort_id = await _cohort_of(enrollment_id)
    async with changing():
        cohort, template = await _locked_cohort(cohort_id)
        enrollment = await Enrollment.get(id=enrollment_id).select_related("member")
        if enrollment.status == S.WITHDRAWN and not reason:
            raise BadRequest("Re-admitting a withdrawn member needs a reason.", fields={"reason": "Required."})
        if wanted in JOINING | {S.SCREENING} and cohort.status not in OPEN_COHORT:
            raise Conflict(f"{cohort.name} is {cohort.status.value}; nobody can join it.")
        _apply_consent(enrollment, consent, cohort)
        note = _consent_note(consent)
        message = await _place(enrollment, wanted, cohort, template, by=by,
                               reason="; ".join(part for part in (reason, note) if part),
                               late_override=late_override, now=now)
        warnings = size_warnings(cohort, template, await enrolled_count(cohort.id))
    return Outcome(enrollment, message, warnings=warnings)
