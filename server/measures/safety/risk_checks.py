"""The risk check: a structured assessment that closes a safety item once it documents
contact with the member (domain-ipt.md 5b: "a structured suicide risk assessment is
required"). Only clinicians record one; "could not reach" is logged and keeps the item open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.transactions import in_transaction

from models.accounts import User
from models.clinical import (
    ContactMethod,
    RiskAction,
    RiskCheck,
    RiskLevel,
    SafetyItem,
    SafetyItemStatus,
    SuicidalThoughts,
)
from models.cohorts import Enrollment
from server import clock
from server.accounts import audit
from server.errors import BadRequest, Conflict, Forbidden, NotFound
from server.measures import safety_alerts
from server.measures.safety._entry import MAX_TEXT, _parse_when, says_something
from server.measures.safety.reading import _may_see


ACTION_LABELS = {
    RiskAction.NONE: "No further action",
    RiskAction.SAFETY_PLAN: "Safety plan made or reviewed",
    RiskAction.REFERRAL: "Referral",
    RiskAction.EMERGENCY: "Emergency response",
}
CONTACT_LABELS = {
    ContactMethod.IN_PERSON: "In person",
    ContactMethod.PHONE: "By phone",
    ContactMethod.VIDEO: "By video",
    ContactMethod.UNREACHED: "Tried, could not reach the member",
}
THOUGHTS_LABELS = {
    SuicidalThoughts.NONE: "None now",
    SuicidalThoughts.PASSIVE: "Passive (wishing to be dead, no thought of acting)",
    SuicidalThoughts.ACTIVE: "Active (thoughts of ending their life)",
}
RISK_LABELS = {
    RiskLevel.LOW: "Low", RiskLevel.MODERATE: "Moderate", RiskLevel.HIGH: "High", RiskLevel.IMMINENT: "Imminent",
}
# The yes/no questions of a structured assessment (domain-ipt.md 5b, 5c: mhGAP asks about
# plans and acts, and restricting access to means).
YES_NO_QUESTIONS = {
    "plan": "A plan",
    "intent": "Intent to act",
    "access_to_means": "Access to means",
    "past_attempts": "Past attempts",
}


@dataclass(frozen=True, kw_only=True)
class RiskCheckInput:
    checked_at: datetime
    outcome: str
    contact_method: ContactMethod = ContactMethod.IN_PERSON
    thoughts: SuicidalThoughts | None = None
    plan: bool | None = None
    intent: bool | None = None
    access_to_means: bool | None = None
    past_attempts: bool | None = None
    protective_factors: str = ""
    risk_level: RiskLevel | None = None
    action: RiskAction | None = None
    follow_up_date: date | None = None

    @property
    def reached(self) -> bool:
        return self.contact_method != ContactMethod.UNREACHED


def _yes_no(value: object) -> bool | None:
    text = str(value if value is not None else "").strip().lower()
    return {"yes": True, "true": True, "no": False, "false": False}.get(text)


def parse_risk_check(form: Mapping[str, object], *, now: datetime, zone) -> RiskCheckInput:  # noqa: ANN001
    """Validate a risk check from a form or a JSON body (values as text)."""
    errors: dict[str, str] = {}
    try:
        contact = ContactMethod(str(form.get("contact_method") or ""))
    except ValueError:
        contact = ContactMethod.IN_PERSON
        errors["contact_method"] = "Say how contact was made: in person, phone, video, or could not reach."
    outcome = str(form.get("outcome") or "").strip()
    if not says_something(outcome):
        errors["outcome"] = ("Say what was tried and when you will try again." if contact == ContactMethod.UNREACHED
                             else "Describe what the check found.")
    elif len(outcome) > MAX_TEXT:
        errors["outcome"] = f"{MAX_TEXT} characters at most."
    checked_at = _parse_when(form.get("checked_at"), now=now, zone=zone, errors=errors, field="checked_at")
    if contact == ContactMethod.UNREACHED:
        # An attempt is logged as such; the assessment fields belong to a check that reached the member.
        if errors:
            raise BadRequest("The attempt is incomplete: " + "; ".join(errors.values()), fields=errors)
        return RiskCheckInput(checked_at=checked_at, contact_method=contact, outcome=outcome)
    try:
        thoughts = SuicidalThoughts(str(form.get("thoughts") or ""))
    except ValueError:
        thoughts = None
        errors["thoughts"] = "Record current thoughts: none, passive or active."
    answers: dict[str, bool | None] = {}
    for key, label in YES_NO_QUESTIONS.items():
        answers[key] = _yes_no(form.get(key))
        if answers[key] is None:
            errors[key] = f"{label}: answer yes or no."
    protective = str(form.get("protective_factors") or "").strip()
    if protective and not says_something(protective):
        errors["protective_factors"] = "Name the protective factors in words, or leave this empty."
    elif len(protective) > MAX_TEXT:
        errors["protective_factors"] = f"{MAX_TEXT} characters at most."
    try:
        risk_level = RiskLevel(str(form.get("risk_level") or ""))
    except ValueError:
        risk_level = None
        errors["risk_level"] = "Choose a risk level: low, moderate, high or imminent."
    try:
        action = RiskAction(str(form.get("action") or ""))
    except ValueError:
        action = None
        errors["action"] = "Choose none, safety plan, referral or emergency."
    follow_up: date | None = None
    raw_follow = str(form.get("follow_up_date") or "").strip()
    if raw_follow:
        try:
            follow_up = date.fromisoformat(raw_follow)
        except ValueError:
            errors["follow_up_date"] = "Use a date such as 2026-03-10."
    if follow_up is None and action not in (None, RiskAction.NONE) and "follow_up_date" not in errors:
        errors["follow_up_date"] = "A follow-up date is needed for this action."
    if follow_up is not None and "checked_at" not in errors and follow_up < checked_at.astimezone(zone).date():
        errors["follow_up_date"] = "The follow-up cannot be before the check."
    if errors:
        raise BadRequest("The risk check is incomplete: " + "; ".join(errors.values()), fields=errors)
    return RiskCheckInput(
        checked_at=checked_at, contact_method=contact, outcome=outcome, thoughts=thoughts,
        protective_factors=protective, risk_level=risk_level, action=action, follow_up_date=follow_up, **answers,
    )


def require_clinician(viewer: User) -> None:
    if not viewer.is_clinician:
        raise Forbidden("Only a clinician may record a risk check. A coordinator can mark you as a clinician.")


async def record_risk_check(
    viewer: User, item_id: int, data: RiskCheckInput, *, now: datetime | None = None
) -> RiskCheck:
    """Store the check. One that reached the member closes the item; an unreached attempt is
    logged and the item stays open (and keeps escalating)."""
    now = now or clock.now()
    require_clinician(viewer)
    async with in_transaction():
        item = await SafetyItem.select_for_update().get_or_none(id=item_id)
        if item is None:
            raise NotFound("There is no such safety item.")
        if not await _may_see(viewer, item.id):
            raise Forbidden("You do not facilitate this member's cohort.")
        enrollment = await Enrollment.get(id=item.enrollment_id)
        if item.status == SafetyItemStatus.CLOSED:
            raise Conflict("This safety item was already closed by a risk check.")
        raised = item.raised_at or item.opened_at
        # Forms give minutes: a check in the answer's own minute is not before it.
        if data.checked_at < raised.replace(second=0, microsecond=0):
            raise BadRequest("The check is dated before the answer that raised this item.",
                             fields={"checked_at": "Before the answer that raised this item."})
        check = await RiskCheck.create(
            safety_item=item, checked_by=viewer, checked_at=data.checked_at, outcome=data.outcome,
            contact_method=data.contact_method, thoughts=data.thoughts, plan=data.plan, intent=data.intent,
            access_to_means=data.access_to_means, past_attempts=data.past_attempts,
            protective_factors=data.protective_factors, risk_level=data.risk_level, action=data.action,
            follow_up_date=data.follow_up_date,
        )
        if data.reached:
            item.status = SafetyItemStatus.CLOSED
            item.closed_at = now
            item.closed_by = viewer
            await item.save(update_fields=["status", "closed_at", "closed_by_id"])
            detail = (f"safety item {item.id} closed; contact {data.contact_method.value}; risk "
                      f"{data.risk_level.value if data.risk_level else ''}; action {data.action.value if data.action else ''}")
        else:
            detail = f"safety item {item.id}: attempt, member not reached; item stays open"
        await audit.record(viewer, "change", "risk_check", check.id, member=enrollment.member_id, detail=detail)
    safety_alerts.nudge(enrollment.cohort_id)
    return check


async def close_with_check(
    item_id: int,
    *,
    by: User,
    outcome: str,
    action: RiskAction | str,
    follow_up_date: date | None = None,
    checked_at: datetime | None = None,
    contact_method: ContactMethod | str = ContactMethod.IN_PERSON,
    thoughts: SuicidalThoughts | str = SuicidalThoughts.PASSIVE,
    plan: bool = False,
    intent: bool = False,
    access_to_means: bool = False,
    past_attempts: bool = False,
    protective_factors: str = "",
    risk_level: RiskLevel | str = RiskLevel.LOW,
) -> RiskCheck:
    """For scripts: record a risk check from plain values (validated as the form is)."""
    now = clock.now()
    when = checked_at or now
    form = {
        "outcome": outcome, "action": RiskAction(action).value, "checked_at": when.isoformat(),
        "follow_up_date": follow_up_date.isoformat() if follow_up_date else "",
        "contact_method": ContactMethod(contact_method).value, "thoughts": SuicidalThoughts(thoughts).value,
        "plan": "yes" if plan else "no", "intent": "yes" if intent else "no",
        "access_to_means": "yes" if access_to_means else "no", "past_attempts": "yes" if past_attempts else "no",
        "protective_factors": protective_factors, "risk_level": RiskLevel(risk_level).value,
    }
    data = parse_risk_check(form, now=now, zone=when.tzinfo)
    return await record_risk_check(by, item_id, data, now=now)
