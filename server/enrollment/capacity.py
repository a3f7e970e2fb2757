"""Places in a cohort: capacity and the waitlist, the late-join cutoff, the size warnings.

Rules (domain-ipt.md section 7):
- capacity counts *enrolled* members; asking to enroll into a full cohort waitlists;
- a place that becomes free goes to the longest-waiting member, unless the late-join
  cutoff has passed or their consent is not recorded (the place then stays free);
- joining (enrolled or waitlisted) is refused once the cutoff session has been held
  (template ``late_join_cutoff_session``: by default the initial phase's last session, at
  most 3, see calendars.protocols.default_late_join_cutoff), unless a coordinator overrides
  it with a reason;
- a cohort below the template's minimum size gets a warning (below 6 is "increasingly
  difficult", S12 /75479).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from calendars.protocol_rules import PhaseRange, adapted_late_join_cutoff
from calendars.vocabulary import Phase
from models.accounts import Role, User
from models.cohorts import (
    Cohort,
    CohortStatus,
    Enrollment,
    EnrollmentStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
    ProtocolTemplate,
)
from server.enrollment.consent import CONSENT_PARTS, consent_missing, consent_refusal
from server.enrollment.transitions import ALLOWED, JOINING, STATUS_LABELS, _transition
from server.errors import Conflict


S = EnrollmentStatus


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
