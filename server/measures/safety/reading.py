"""Who sees which safety items, and the lists and counts the pages show.

The cohort's facilitators, the duty clinicians, the coordinators, and anyone told about
that item; never the member, other members, or the shared board display (domain-ipt.md
5b: "a private facilitator alert"). Every read of an item is audited.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tortoise.expressions import Q

from models.accounts import Role, User
from models.clinical import RiskCheck, SafetyItem, SafetyItemStatus, SafetyNotice
from server import clock
from server.clock import duration_words
from server.accounts import audit
from server.errors import Forbidden, NotFound
from server.measures.safety.opening import alert_settings


def _visible(viewer: User, *, reading: bool = False) -> Q | None:
    """A filter on SafetyItem for what `viewer` may see (and act on); None means everything.
    `reading`: also the items of cohorts whose facilitators `viewer` supervises (issue 17),
    which a supervisor reads but does not act on."""
    if viewer.role == Role.COORDINATOR or (viewer.on_duty and viewer.role != Role.MEMBER):
        return None
    if viewer.role == Role.FACILITATOR:
        rule = Q(enrollment__cohort__facilitators__id=viewer.id) | Q(notices__recipient_id=viewer.id)
        if reading and viewer.is_clinician:
            rule |= Q(enrollment__cohort__facilitators__supervisors__supervisor_id=viewer.id)
        return rule
    raise Forbidden("Safety items are for the clinic's staff.")


async def _visible_ids(viewer: User, query, *, reading: bool = False) -> list[int]:  # noqa: ANN001 (a SafetyItem queryset)
    rule = _visible(viewer, reading=reading)
    if rule is not None:
        query = query.filter(rule)
    return list(set(await query.values_list("id", flat=True)))


async def open_items(viewer: User, *, cohort_id: int | None = None) -> list[SafetyItem]:
    query = SafetyItem.filter(status=SafetyItemStatus.OPEN)
    if cohort_id is not None:
        query = query.filter(enrollment__cohort_id=cohort_id)
    ids = await _visible_ids(viewer, query, reading=True)
    items = await SafetyItem.filter(id__in=ids).order_by("opened_at", "id").prefetch_related(
        "enrollment", "enrollment__member", "enrollment__cohort", "meeting", "response"
    ) if ids else []
    now = clock.now()
    for item in items:
        item.timing = timing(item, now)
        await audit.record(viewer, "read", "safety_item", item.id, member=item.enrollment.member_id)
    return items


async def attention_for(viewer: User) -> list[SafetyItem]:
    """Open items this person was told about, for their home page (oldest first)."""
    if viewer.role == Role.MEMBER:
        return []
    ids = await SafetyNotice.filter(recipient_id=viewer.id, safety_item__status=SafetyItemStatus.OPEN).values_list(
        "safety_item_id", flat=True)
    if not ids:
        return []
    return await open_items_by_id(viewer, list(set(ids)))


async def open_items_by_id(viewer: User, ids: list[int]) -> list[SafetyItem]:
    items = await SafetyItem.filter(id__in=ids, status=SafetyItemStatus.OPEN).order_by("opened_at", "id").prefetch_related(
        "enrollment", "enrollment__member", "enrollment__cohort")
    now = clock.now()
    for item in items:
        item.timing = timing(item, now)
        await audit.record(viewer, "read", "safety_item", item.id, member=item.enrollment.member_id, detail="home page")
    return list(items)


async def follow_ups(viewer: User, *, today: date, days_back: int = 7) -> list[RiskCheck]:
    """Follow-ups set by risk checks, from a week ago on, for the items `viewer` may see."""
    ids = await _visible_ids(viewer, SafetyItem.all(), reading=True)
    if not ids:
        return []
    checks = await RiskCheck.filter(safety_item_id__in=ids, follow_up_date__gte=today - timedelta(days=days_back)).order_by(
        "follow_up_date", "id").prefetch_related("safety_item", "safety_item__enrollment", "safety_item__enrollment__member",
                                                 "safety_item__enrollment__cohort", "checked_by")
    for check in checks:
        await audit.record(viewer, "read", "risk_check", check.id, member=check.safety_item.enrollment.member_id,
                           detail="follow-up list")
    return list(checks)


async def open_counts(cohort_ids: list[int]) -> dict[int, int]:
    rows = await SafetyItem.filter(
        status=SafetyItemStatus.OPEN, enrollment__cohort_id__in=cohort_ids
    ).values_list("enrollment__cohort_id", flat=True)
    out: dict[int, int] = {}
    for cid in rows:
        out[cid] = out.get(cid, 0) + 1
    return out


async def open_item_count(member_id: int) -> int:
    """How many open items the member has, in any of their enrollments."""
    return await SafetyItem.filter(enrollment__member_id=member_id, status=SafetyItemStatus.OPEN).count()


async def _may_see(viewer: User, item_id: int) -> bool:
    """May `viewer` act on the item (record a risk check): not a supervisor's read."""
    return bool(await _visible_ids(viewer, SafetyItem.filter(id=item_id)))


async def may_act_on(viewer: User, item_id: int) -> bool:
    return await _may_see(viewer, item_id)


async def actionable_ids(viewer: User, item_ids: list[int]) -> set[int]:
    """Of these items, those `viewer` acts on (the rest they read as a supervisor): one query."""
    return set(await _visible_ids(viewer, SafetyItem.filter(id__in=item_ids))) if item_ids else set()


async def get_item(viewer: User, item_id: int) -> SafetyItem:
    item = await SafetyItem.get_or_none(id=item_id).prefetch_related(
        "enrollment", "enrollment__member", "enrollment__cohort", "meeting", "response", "closed_by", "opened_by"
    )
    if item is None:
        raise NotFound("There is no such safety item.")
    if not await _visible_ids(viewer, SafetyItem.filter(id=item.id), reading=True):
        raise Forbidden("You do not facilitate this member's cohort.")
    item.timing = timing(item, clock.now())
    await audit.record(viewer, "read", "safety_item", item.id, member=item.enrollment.member_id)
    return item


async def checks_of(item: SafetyItem) -> list[RiskCheck]:
    return await RiskCheck.filter(safety_item_id=item.id).order_by("checked_at", "id").prefetch_related("checked_by")


def timing(item: SafetyItem, now: datetime) -> dict[str, object]:
    """Age and due time of an item, for pages and the API."""
    due = item.due_at or item.opened_at + timedelta(hours=alert_settings().safety_response_hours)
    age = now - item.opened_at
    return {"age": duration_words(age), "due_at": due, "overdue": item.status == SafetyItemStatus.OPEN and now > due,
            "escalations": item.escalations}
