"""Enrolling members into cohorts: statuses, capacity and waitlist, late joining, transfer.

Every change runs inside one transaction that first locks the cohort row
(``select_for_update``; tech-notes 2.3). On PostgreSQL that row lock serializes two
coordinators taking the last place; on SQLite the process-wide transaction lock does.
Either way one of them gets the place and the other is waitlisted, never both enrolled.

Rules (domain-ipt.md section 7):
- capacity counts *enrolled* members; asking to enroll into a full cohort waitlists;
- a withdrawal promotes the longest-waiting member, unless the late-join cutoff has passed;
- joining (enrolled or waitlisted) is refused once the cutoff session has been held
  (template ``late_join_cutoff_session``: by default the initial phase's last session, at
  most 3, see calendars.protocols.default_late_join_cutoff), unless a coordinator overrides
  it with a reason;
- a cohort below the template's minimum size gets a warning (below 6 is "increasingly
  difficult", S12 /75479);
- becoming *enrolled* needs recorded consent: when, how, and to which version of the group
  agreement (the pre-group meeting contracts the group's terms, S12 /75483, domain-ipt.md
  section 10), unless the template says otherwise. This holds for every way in: the form and
  API, CSV import, waitlist promotion and transfer. A request without it is refused with a
  400 naming what is missing, and nothing is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from calendars.protocol_rules import PhaseRange, adapted_late_join_cutoff
from calendars.vocabulary import Phase
from models.accounts import LinkPurpose, Role, User
from models.clinical import Goal, InventoryEntry
from models.cohorts import (
    Cohort,
    CohortStatus,
    ConsentMethod,
    Enrollment,
    EnrollmentStatus,
    EnrollmentTransition,
    Meeting,
    MeetingKind,
    MeetingStatus,
    ProtocolTemplate,
)
from server import accounts, clock
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


CONSENT_METHOD_LABELS = {
    ConsentMethod.SIGNED_FORM: "Signed consent form",
    ConsentMethod.VERBAL_IN_PERSON: "Verbally, in person",
    ConsentMethod.PHONE: "By phone",
    ConsentMethod.VIDEO: "By video call",
    ConsentMethod.ONLINE: "Online form or e-mail",
}
# The parts of a consent record, as the refusal names them (field -> words).
CONSENT_PARTS = {
    "consent_at": "when it was given",
    "consent_method": "how it was given",
    "consent_version": "which group agreement version",
}


@dataclass(frozen=True)
class ConsentGiven:
    """Consent as a request states it; any part may be missing."""

    at: datetime | None = None
    method: ConsentMethod | None = None
    version: str = ""

    def __bool__(self) -> bool:
        return bool(self.at or self.method or self.version)


def parse_consent(data: Mapping[str, object], zone: ZoneInfo, *, now: datetime | None = None) -> ConsentGiven:
    """consent_at (ISO date or date and time, in the cohort's zone unless it says otherwise),
    consent_method and consent_version (or version) from a form, a JSON body or a CSV row."""
    now = now or clock.now()
    raw_at = str(data.get("consent_at") or "").strip()
    at = None
    if raw_at:
        try:
            at = datetime.fromisoformat(raw_at)
        except ValueError:
            try:
                at = datetime.combine(date.fromisoformat(raw_at), time(0))
            except ValueError:
                raise BadRequest(f"{raw_at!r} is not a date and time.",
                                 fields={"consent_at": "Use 2026-03-03T18:30 or 2026-03-03."}) from None
        at = at if at.tzinfo else at.replace(tzinfo=zone)
        if at > now + timedelta(minutes=5):
            raise BadRequest("Consent cannot be recorded in the future.", fields={"consent_at": "In the future."})
    raw_method = str(data.get("consent_method") or "").strip().lower()
    method = None
    if raw_method:
        try:
            method = ConsentMethod(raw_method)
        except ValueError:
            raise BadRequest(
                f"{raw_method!r} is not a way of giving consent; use one of "
                f"{', '.join(m.value for m in ConsentMethod)}.", fields={"consent_method": "Unknown."}) from None
    version = str(data.get("consent_version") or data.get("version") or "").strip()
    if len(version) > 32:
        raise BadRequest("The group agreement version is too long (32 characters at most).",
                         fields={"consent_version": "Too long."})
    return ConsentGiven(at=at, method=method, version=version)


def consent_missing(enrollment: Enrollment) -> list[str]:
    """The parts of the consent record this enrollment lacks (field names of CONSENT_PARTS)."""
    values = {"consent_at": enrollment.consent_at, "consent_method": enrollment.consent_method,
              "consent_version": enrollment.consent_version}
    return [name for name, value in values.items() if not value]


def _apply_consent(enrollment: Enrollment, consent: ConsentGiven | None, cohort: Cohort) -> None:
    if not consent:
        return
    enrollment.consent_at = consent.at or enrollment.consent_at
    enrollment.consent_method = consent.method or enrollment.consent_method
    enrollment.consent_version = consent.version or enrollment.consent_version or cohort.group_agreement_version


def consent_refusal(name: str, missing: list[str]) -> BadRequest:
    words = [CONSENT_PARTS[m] for m in missing]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return BadRequest(
        f"{name} cannot be enrolled before their consent is recorded: say {listed}. "
        "Nothing was changed.",
        fields={m: "Required to enroll." for m in missing}, code="consent_missing",
    )


@dataclass
class Outcome:
    enrollment: Enrollment
    message: str
    invitation_path: str | None = None
    promoted: Enrollment | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LateJoin:
    sessions_held: int
    cutoff: int

    @property
    def allowed(self) -> bool:
        return self.sessions_held < self.cutoff

    def refusal(self) -> str:
        return (
            f"Late joining closed after session {self.cutoff}: {self.sessions_held} group "
            "sessions have already been held. A coordinator can override this with a reason."
        )


# --- reading -----------------------------------------------------------------------------


async def late_join_state(cohort: Cohort, template: ProtocolTemplate, now: datetime) -> LateJoin:
    numbers = await Meeting.filter(
        cohort_id=cohort.id, kind=MeetingKind.GROUP, starts_at__lte=now
    ).exclude(status=MeetingStatus.CANCELLED).values_list("number", flat=True)
    return LateJoin(sessions_held=max(numbers, default=0), cutoff=cohort_late_join_cutoff(cohort, template))


def cohort_late_join_cutoff(cohort: Cohort, template: ProtocolTemplate) -> int:
    """The template's cutoff, following the cohort's own initial phase where the template
    follows its initial phase (calendars.protocols.default_late_join_cutoff, domain-ipt.md 2, 7)."""
    try:
        phases = _phase_ranges(cohort.phases or template.phases)
        template_phases = _phase_ranges(template.phases)
    except (KeyError, TypeError, ValueError):
        return template.late_join_cutoff_session
    if not phases or not template_phases:
        return template.late_join_cutoff_session
    return adapted_late_join_cutoff(template.late_join_cutoff_session, template_phases, phases)


def _phase_ranges(raw) -> tuple[PhaseRange, ...]:
    return tuple(PhaseRange(phase=Phase(p.get("name") or p.get("phase")), first=int(p["first"]), last=int(p["last"]))
                 for p in raw or [])


async def enrolled_count(cohort_id: int) -> int:
    return await Enrollment.filter(cohort_id=cohort_id, status=S.ENROLLED).count()


def size_warnings(cohort: Cohort, template: ProtocolTemplate, enrolled: int) -> list[str]:
    if cohort.status not in (CohortStatus.ENROLLING, CohortStatus.ACTIVE):
        return []
    if enrolled < template.group_size_min:
        return [
            f"{cohort.name} has {enrolled} enrolled, below the minimum of "
            f"{template.group_size_min} for {template.name}."
        ]
    if enrolled < template.group_size_target_low and cohort.status == CohortStatus.ACTIVE:
        return [
            f"{cohort.name} has {enrolled} enrolled; below {template.group_size_target_low} "
            "it becomes hard to keep a strong interactive group."
        ]
    return []


async def history(enrollment: Enrollment) -> list[EnrollmentTransition]:
    return await EnrollmentTransition.filter(enrollment_id=enrollment.id).order_by("at", "id").prefetch_related("by")


# --- changing ----------------------------------------------------------------------------


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


async def _place(
    enrollment: Enrollment,
    wanted: EnrollmentStatus,
    cohort: Cohort,
    template: ProtocolTemplate,
    *,
    by: User,
    reason: str,
    late_override: str,
    now: datetime,
) -> str:
    """Move to `wanted`, applying capacity and the late-join cutoff. Returns a message."""
    current = enrollment.status if enrollment.id else None
    if wanted not in ALLOWED[current]:
        raise Conflict(
            f"An enrollment that is {STATUS_LABELS[current].lower() if current else 'new'} "
            f"cannot become {STATUS_LABELS[wanted].lower()}."
        )
    if wanted in JOINING:
        late = await late_join_state(cohort, template, now)
        if not late.allowed:
            if by.role != Role.COORDINATOR or not late_override:
                raise Conflict(late.refusal(), fields={"late_join_reason": "A reason is needed to override."})
            enrollment.late_join_reason = late_override[:500]
            reason = (reason + "; " if reason else "") + f"late join after session {late.sessions_held}: {late_override}"
    name = enrollment.member.display_name if enrollment.member_id else "The member"
    if wanted == S.ENROLLED and template.consent_required:
        # The version is asked for only when the cohort has none to default to.
        missing = [m for m in consent_missing(enrollment) if m != "consent_version" or not cohort.group_agreement_version]
        if missing:
            raise consent_refusal(name, missing)
    if wanted == S.ENROLLED:
        if await enrolled_count(cohort.id) >= cohort.capacity:
            if current == S.WAITLISTED:
                raise Conflict(f"{cohort.name} is full ({cohort.capacity} places); {name} stays on the waitlist.")
            wanted = S.WAITLISTED
            reason = (reason + "; " if reason else "") + "cohort full"
            await _save_then_transition(enrollment, wanted, by=by, reason=reason, now=now)
            return f"{cohort.name} is full ({cohort.capacity} places), so {name} was added to the waitlist."
    await _save_then_transition(enrollment, wanted, by=by, reason=reason, now=now)
    return f"{name} is now {STATUS_LABELS[wanted].lower()} in {cohort.name}."


async def _save_then_transition(enrollment: Enrollment, to: EnrollmentStatus, *, by, reason, now) -> None:
    if not enrollment.id:
        enrollment.status = to
        await enrollment.save()
        enrollment.status = None  # so the transition records "new -> to"
    await _transition(enrollment, to, by=by, reason=reason, now=now)


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


async def _promote_first_waitlisted(
    cohort: Cohort, template: ProtocolTemplate, *, by: User, now: datetime
) -> tuple[Enrollment | None, str]:
    if await enrolled_count(cohort.id) >= cohort.capacity:
        return None, ""
    first = (
        await Enrollment.filter(cohort_id=cohort.id, status=S.WAITLISTED)
        .order_by("waitlisted_at", "id").select_related("member").first()
    )
    if first is None:
        return None, ""
    late = await late_join_state(cohort, template, now)
    if not late.allowed:
        return None, (
            f"Nobody was promoted from the waitlist: late joining closed after session "
            f"{late.cutoff}. {first.member.display_name} is first on the waitlist."
        )
    missing = consent_missing(first) if template.consent_required else []
    if missing:
        # The place stays free rather than passing over the longest-waiting member.
        return None, (
            f"Nobody was promoted from the waitlist: {first.member.display_name}, first on the "
            f"waitlist, has no recorded consent ({', '.join(CONSENT_PARTS[m] for m in missing)} "
            "missing). Record it, then enroll them."
        )
    await _transition(first, S.ENROLLED, by=by, reason="promoted from the waitlist: a place became free", now=now)
    return first, f"{first.member.display_name} was promoted from the waitlist and is now enrolled."


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


async def record_consent(
    enrollment_id: int,
    *,
    by: User,
    consent: ConsentGiven,
    now: datetime | None = None,
) -> Outcome:
    """Record when, how and to which group agreement version a member consented (the time
    defaults to now, the version to the cohort's current agreement)."""
    now = now or clock.now()
    enrollment = await Enrollment.get_or_none(id=enrollment_id).select_related("cohort", "member")
    if enrollment is None:
        raise NotFound("There is no such enrollment.")
    if consent.method is None:
        raise BadRequest("Say how the member gave consent.", fields={"consent_method": "Required."})
    at = consent.at or now
    version = consent.version or enrollment.cohort.group_agreement_version
    if not version:
        raise BadRequest("Give the group agreement version (up to 32 characters).", fields={"consent_version": "Required."})
    enrollment.consent_at = at
    enrollment.consent_method = consent.method
    enrollment.consent_version = version
    await enrollment.save(update_fields=["consent_at", "consent_method", "consent_version", "updated_at"])
    await EnrollmentTransition.create(
        enrollment=enrollment, from_status=enrollment.status.value, to_status=enrollment.status.value,
        reason=_consent_note(ConsentGiven(at=at, method=consent.method, version=version)),
        by=by, at=now,
    )
    await audit.record(by, "change", "consent", enrollment.id, member=enrollment.member_id,
                       detail=f"version {version}, {consent.method.value}")
    return Outcome(enrollment, f"Consent recorded for {enrollment.member.display_name} (agreement version {version}).")


def _consent_note(consent: ConsentGiven | None) -> str:
    if not consent:
        return ""
    parts = ["consent recorded"]
    if consent.version:
        parts.append(f"group agreement version {consent.version}")
    if consent.method:
        parts.append(CONSENT_METHOD_LABELS[consent.method].lower())
    if consent.at:
        parts.append(f"given {consent.at.isoformat()}")
    return ": ".join([parts[0], ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]


async def _cohort_of(enrollment_id: int) -> int:
    row = await Enrollment.filter(id=enrollment_id).values_list("cohort_id", flat=True)
    if not row:
        raise NotFound("There is no such enrollment.")
    return row[0]

