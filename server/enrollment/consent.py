"""A member's consent: when, how, and to which version of the group agreement.

Becoming *enrolled* needs recorded consent (the pre-group meeting contracts the group's
terms, S12 /75483, domain-ipt.md section 10), unless the template says otherwise. This
holds for every way in: the form and API, CSV import, waitlist promotion and transfer. A
request without it is refused with a 400 naming what is missing, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.accounts import User
from models.cohorts import Cohort, ConsentMethod, Enrollment, EnrollmentTransition
from server import clock
from server.accounts import audit
from server.enrollment.transitions import Outcome
from server.errors import BadRequest, NotFound


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
