"""Safety items: a PHQ-9 item 9 answer above 0 opens one; only a recorded risk check closes it.

Who sees them: the cohort's facilitators and the coordinators; never the member, other
members, or the shared board display (domain-ipt.md 5b: "a private facilitator alert",
"a documented risk check (who, when, outcome, action: none / safety plan / referral /
emergency)"). An item 9 of 0 opens nothing and is never described as "no risk".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise.transactions import in_transaction

from models.accounts import Role, User
from models.clinical import MeasureResponse, RiskAction, RiskCheck, SafetyItem, SafetyItemStatus
from models.cohorts import Cohort, Enrollment, Meeting, MeetingKind, MeetingStatus
from server import audit, auth
from server.errors import BadRequest, Conflict, Forbidden, NotFound

ACTION_LABELS = {
    RiskAction.NONE: "No further action",
    RiskAction.SAFETY_PLAN: "Safety plan made or reviewed",
    RiskAction.REFERRAL: "Referral",
    RiskAction.EMERGENCY: "Emergency response",
}


@dataclass(frozen=True)
class RiskCheckInput:
    checked_at: datetime
    outcome: str
    action: RiskAction
    follow_up_date: date | None


async def next_group_meeting(cohort_id: int, after: datetime) -> Meeting | None:
    return (
        await Meeting.filter(cohort_id=cohort_id, kind=MeetingKind.GROUP, ends_at__gt=after)
        .exclude(status=MeetingStatus.CANCELLED)
        .order_by("starts_at", "id")
        .first()
    )


async def open_for_response(response: MeasureResponse, enrollment: Enrollment, now: datetime) -> SafetyItem | None:
    """Called inside the submission's transaction."""
    if not response.item9:
        return None
    meeting = await next_group_meeting(enrollment.cohort_id, now)
    return await SafetyItem.create(
        enrollment=enrollment, response=response, item9=response.item9, meeting=meeting,
        status=SafetyItemStatus.OPEN,
    )


async def _cohort_ids_visible(viewer: User) -> list[int] | None:
    """None means every cohort (coordinators)."""
    if viewer.role == Role.COORDINATOR:
        return None
    if viewer.role == Role.FACILITATOR:
        return list(await Cohort.filter(facilitators__id=viewer.id).values_list("id", flat=True))
    raise Forbidden("Safety items are for facilitators and coordinators.")


async def open_items(viewer: User, *, cohort_id: int | None = None) -> list[SafetyItem]:
    allowed = await _cohort_ids_visible(viewer)
    query = SafetyItem.filter(status=SafetyItemStatus.OPEN)
    if allowed is not None:
        query = query.filter(enrollment__cohort_id__in=allowed)
    if cohort_id is not None:
        query = query.filter(enrollment__cohort_id=cohort_id)
    items = await query.order_by("opened_at", "id").prefetch_related(
        "enrollment", "enrollment__member", "enrollment__cohort", "meeting", "response"
    )
    for item in items:
        await audit.record(viewer, "read", "safety_item", item.id, member=item.enrollment.member_id)
    return items


async def open_counts(cohort_ids: list[int]) -> dict[int, int]:
    rows = await SafetyItem.filter(
        status=SafetyItemStatus.OPEN, enrollment__cohort_id__in=cohort_ids
    ).values_list("enrollment__cohort_id", flat=True)
    out: dict[int, int] = {}
    for cid in rows:
        out[cid] = out.get(cid, 0) + 1
    return out


async def get_item(viewer: User, item_id: int) -> SafetyItem:
    item = await SafetyItem.get_or_none(id=item_id).prefetch_related(
        "enrollment", "enrollment__member", "enrollment__cohort", "meeting", "response", "closed_by"
    )
    if item is None:
        raise NotFound("There is no such safety item.")
    allowed = await _cohort_ids_visible(viewer)
    if allowed is not None and item.enrollment.cohort_id not in allowed:
        raise Forbidden("You do not facilitate this member's cohort.")
    await audit.record(viewer, "read", "safety_item", item.id, member=item.enrollment.member_id)
    return item


async def checks_of(item: SafetyItem) -> list[RiskCheck]:
    return await RiskCheck.filter(safety_item_id=item.id).order_by("checked_at", "id").prefetch_related("checked_by")


def parse_risk_check(form, *, now: datetime, zone) -> RiskCheckInput:
    errors: dict[str, str] = {}
    outcome = str(form.get("outcome") or "").strip()
    if not outcome:
        errors["outcome"] = "Describe what the check found."
    elif len(outcome) > 4000:
        errors["outcome"] = "4000 characters at most."
    try:
        action = RiskAction(str(form.get("action") or ""))
    except ValueError:
        action = RiskAction.NONE
        errors["action"] = "Choose none, safety plan, referral or emergency."
    checked_at = now
    raw_when = str(form.get("checked_at") or "").strip()
    if raw_when:
        try:
            parsed = datetime.fromisoformat(raw_when)
            checked_at = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
        except ValueError:
            errors["checked_at"] = "Use a date and time such as 2026-03-03T18:30."
    if checked_at > now + timedelta(minutes=5):
        errors["checked_at"] = "The check cannot be in the future."
    follow_up: date | None = None
    raw_follow = str(form.get("follow_up_date") or "").strip()
    if raw_follow:
        try:
            follow_up = date.fromisoformat(raw_follow)
        except ValueError:
            errors["follow_up_date"] = "Use a date such as 2026-03-10."
    if follow_up is None and action != RiskAction.NONE and "action" not in errors and "follow_up_date" not in errors:
        errors["follow_up_date"] = "A follow-up date is needed for this action."
    if follow_up is not None and "checked_at" not in errors and follow_up < checked_at.astimezone(zone).date():
        errors["follow_up_date"] = "The follow-up cannot be before the check."
    if errors:
        raise BadRequest("The risk check is incomplete: " + "; ".join(errors.values()), fields=errors)
    return RiskCheckInput(checked_at=checked_at, outcome=outcome, action=action, follow_up_date=follow_up)


async def record_risk_check(
    viewer: User, item_id: int, data: RiskCheckInput, *, now: datetime | None = None
) -> RiskCheck:
    now = now or auth.now()
    if viewer.role not in (Role.FACILITATOR, Role.COORDINATOR):
        raise Forbidden("Risk checks are recorded by facilitators and coordinators.")
    async with in_transaction():
        item = await SafetyItem.select_for_update().get_or_none(id=item_id)
        if item is None:
            raise NotFound("There is no such safety item.")
        enrollment = await Enrollment.get(id=item.enrollment_id)
        allowed = await _cohort_ids_visible(viewer)
        if allowed is not None and enrollment.cohort_id not in allowed:
            raise Forbidden("You do not facilitate this member's cohort.")
        if item.status == SafetyItemStatus.CLOSED:
            raise Conflict("This safety item was already closed by a risk check.")
        if data.checked_at < item.opened_at - timedelta(days=1):
            raise BadRequest("The check is dated before the answer that raised this item.",
                             fields={"checked_at": "Too early."})
        check = await RiskCheck.create(
            safety_item=item, checked_by=viewer, checked_at=data.checked_at, outcome=data.outcome,
            action=data.action, follow_up_date=data.follow_up_date,
        )
        item.status = SafetyItemStatus.CLOSED
        item.closed_at = now
        item.closed_by = viewer
        await item.save(update_fields=["status", "closed_at", "closed_by_id"])
        await audit.record(viewer, "change", "risk_check", check.id, member=enrollment.member_id,
                           detail=f"safety item {item.id} closed; action {data.action.value}")
    return check


def member_message(help_text: str) -> tuple[str, str]:
    """What a member reads right after an answer above 0 on item 9: calm, and where to get help."""
    return (
        "Thank you for answering honestly. Your answer to the last question is shared "
        "privately with your group's facilitators, so they can follow it up with you. "
        "It is not shown to other members."
    ), help_text


async def close_with_check(
    item_id: int,
    *,
    by: User,
    outcome: str,
    action: RiskAction | str,
    follow_up_date: date | None = None,
    checked_at: datetime | None = None,
) -> RiskCheck:
    """For scripts: record a risk check from plain values (validated as the form is)."""
    now = auth.now()
    when = checked_at or now
    form = {
        "outcome": outcome,
        "action": RiskAction(action).value,
        "checked_at": when.isoformat(),
        "follow_up_date": follow_up_date.isoformat() if follow_up_date else "",
    }
    data = parse_risk_check(form, now=now, zone=when.tzinfo)
    return await record_risk_check(by, item_id, data, now=now)
