"""Safety items: a PHQ-9 item 9 answer above 0 (or a disclosure in session) opens one; only a
risk check that documents contact with the member closes it.

Who sees them: the cohort's facilitators, the duty clinicians, the coordinators, and anyone
told about that item; never the member, other members, or the shared board display
(domain-ipt.md 5b: "a private facilitator alert", "a structured suicide risk assessment is
required"). Only clinicians record a risk check. An item 9 of 0 opens nothing and is never
described as "no risk". Who is told, and the escalations, are in server/measures/safety_alerts.py.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.accounts import Role, User
from models.clinical import (
    ClinicSafetySettings,
    ContactMethod,
    MeasureResponse,
    RiskAction,
    RiskCheck,
    RiskLevel,
    SafetyItem,
    SafetyItemStatus,
    SafetyNotice,
    SafetyNoticeKind,
    SafetySource,
    SuicidalThoughts,
)
from models.cohorts import (
    Cohort,
    Enrollment,
    EnrollmentStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
)
from server import clock
from server.accounts import audit
from server.errors import BadRequest, Conflict, Forbidden, NotFound
from server.measures import safety_alerts
from server.platform.settings import Settings

log = logging.getLogger("groupipt.safety")

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
ANSWER_WORDS = ["Not at all", "Several days", "More than half the days", "Nearly every day"]
MAX_TEXT = 4000


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


@dataclass(frozen=True)
class HelpText:
    text: str
    set_by_clinic: bool


# --------------------------------------------------------------------- opening items

async def next_group_meeting(cohort_id: int, after: datetime) -> Meeting | None:
    return (
        await Meeting.filter(cohort_id=cohort_id, kind=MeetingKind.GROUP, ends_at__gt=after)
        .exclude(status=MeetingStatus.CANCELLED)
        .order_by("starts_at", "id")
        .first()
    )


def alert_settings() -> Settings:
    """The running server's settings (set by its lifespan), else the environment's."""
    if _configured is not None:
        return _configured
    # Scripts and tests in-process: mail needs no signing key, so none is generated for it.
    env = {**os.environ, "GROUPIPT_SECRET_KEY": os.environ.get("GROUPIPT_SECRET_KEY") or "unused-by-mail"}
    return Settings.from_env(env)


_configured: Settings | None = None


def configure(settings: Settings) -> None:
    global _configured
    _configured = settings


async def _open(enrollment: Enrollment, *, now: datetime, source: SafetySource, raised_at: datetime,
                response: MeasureResponse | None = None, item9: int | None = None, note: str = "",
                opened_by: User | None = None, meeting: Meeting | None = None) -> SafetyItem:
    """Create the item and its home-page notices; call inside the caller's transaction."""
    cohort = await Cohort.get(id=enrollment.cohort_id)
    recipients = await safety_alerts.responsible_for(cohort, now)
    target = timedelta(hours=alert_settings().safety_response_hours)
    item = await SafetyItem.create(
        enrollment_id=enrollment.id, response=response, item9=item9, source=source, raised_at=raised_at,
        disclosure_note=note, opened_by=opened_by, meeting=meeting or await next_group_meeting(cohort.id, now),
        status=SafetyItemStatus.OPEN, due_at=now + target, routed_to=recipients.routed_to,
    )
    item.opened_at = item.opened_at or now
    item.enrollment = enrollment
    item.pending_notices = await safety_alerts.record_notices(item, recipients.people, SafetyNoticeKind.OPENED)
    return item


async def open_for_response(response: MeasureResponse, enrollment: Enrollment, now: datetime) -> SafetyItem | None:
    """Called inside the submission's transaction; `announce` after it commits."""
    if not response.item9:
        return None
    return await _open(enrollment, now=now, source=SafetySource.ANSWER, raised_at=response.administered_at,
                       response=response, item9=response.item9)


async def announce(item: SafetyItem | None, *, now: datetime) -> None:
    """After the commit: e-mail the people told. A failure is logged, never raised, so the
    answer that opened the item is never lost to a mail problem."""
    if item is None:
        return
    try:
        await safety_alerts.send_notices(item, getattr(item, "pending_notices", []), now=now,
                                         settings=alert_settings(), wait=False)
    except Exception:
        log.exception("safety item %s: notices could not be sent", item.id)


async def record_disclosure(viewer: User, enrollment: Enrollment, form: Mapping[str, object], *,
                            now: datetime | None = None) -> SafetyItem:
    """A clinician (or any of the member's staff) opens an item from something said in session."""
    now = now or clock.now()
    if viewer.role == Role.MEMBER:
        raise Forbidden("Members cannot open safety items.")
    zone = _zone(enrollment.cohort.time_zone)
    errors: dict[str, str] = {}
    note = str(form.get("note") or "").strip()
    if not says_something(note):
        errors["note"] = "Say briefly what was disclosed and in what context."
    elif len(note) > MAX_TEXT:
        errors["note"] = f"{MAX_TEXT} characters at most."
    disclosed_at = _parse_when(form.get("disclosed_at"), now=now, zone=zone, errors=errors, field="disclosed_at")
    if errors:
        raise BadRequest("The disclosure is incomplete: " + "; ".join(errors.values()), fields=errors)
    if enrollment.status not in (EnrollmentStatus.SCREENING, EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED,
                                 EnrollmentStatus.INVITED, EnrollmentStatus.COMPLETED):
        raise Conflict(f"This enrollment is {enrollment.status.value}; record the disclosure on the member's current one.")
    async with in_transaction():
        item = await _open(enrollment, now=now, source=SafetySource.DISCLOSURE, raised_at=disclosed_at,
                           note=note, opened_by=viewer)
        await audit.record(viewer, "change", "safety_item", item.id, member=enrollment.member_id,
                           detail="opened from a disclosure")
    await announce(item, now=now)
    return item


# --------------------------------------------------------------------- who sees what

def _visible(viewer: User) -> Q | None:
    """A filter on SafetyItem for what `viewer` may see; None means everything."""
    if viewer.role == Role.COORDINATOR or (viewer.on_duty and viewer.role != Role.MEMBER):
        return None
    if viewer.role == Role.FACILITATOR:
        return Q(enrollment__cohort__facilitators__id=viewer.id) | Q(notices__recipient_id=viewer.id)
    raise Forbidden("Safety items are for the clinic's staff.")


async def _visible_ids(viewer: User, query) -> list[int]:  # noqa: ANN001 (a SafetyItem queryset)
    rule = _visible(viewer)
    if rule is not None:
        query = query.filter(rule)
    return list(set(await query.values_list("id", flat=True)))


async def open_items(viewer: User, *, cohort_id: int | None = None) -> list[SafetyItem]:
    query = SafetyItem.filter(status=SafetyItemStatus.OPEN)
    if cohort_id is not None:
        query = query.filter(enrollment__cohort_id=cohort_id)
    ids = await _visible_ids(viewer, query)
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
    ids = await _visible_ids(viewer, SafetyItem.all())
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
    return bool(await _visible_ids(viewer, SafetyItem.filter(id=item_id)))


async def get_item(viewer: User, item_id: int) -> SafetyItem:
    item = await SafetyItem.get_or_none(id=item_id).prefetch_related(
        "enrollment", "enrollment__member", "enrollment__cohort", "meeting", "response", "closed_by", "opened_by"
    )
    if item is None:
        raise NotFound("There is no such safety item.")
    if not await _may_see(viewer, item.id):
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


def duration_words(delta: timedelta) -> str:
    """An age or a target as a person says it: "90 seconds", "24 hours", "3 days"."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{seconds // 60} minutes"
    if seconds < 3 * 86400:
        return f"{seconds // 3600} hours"
    return f"{seconds // 86400} days"


# --------------------------------------------------------------------- the risk check

def says_something(text: str) -> bool:
    """Free text must carry words, not "." or "-" (at least two letters or digits)."""
    return len(re.findall(r"[^\W_]", text or "")) >= 2


def _parse_when(raw: object, *, now: datetime, zone: ZoneInfo, errors: dict[str, str], field: str) -> datetime:
    text = str(raw or "").strip()
    when = now
    if text:
        try:
            parsed = datetime.fromisoformat(text)
            when = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
        except ValueError:
            errors[field] = "Use a date and time such as 2026-03-03T18:30."
            return now
    if when > now + timedelta(minutes=5):
        errors[field] = "This cannot be in the future."
    return when


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


# --------------------------------------------------------------------- what the member reads

async def crisis_help(settings: Settings) -> HelpText:
    """The clinic's own crisis help text, set by a coordinator (or GROUPIPT_HELP_TEXT); until
    then a general one that names no number (never invent a phone number)."""
    row = await ClinicSafetySettings.get_or_none(id=1)
    if row is not None and row.help_text.strip():
        return HelpText(row.help_text.strip(), True)
    return HelpText(settings.help_text, settings.help_text_from_env)


async def set_crisis_help(viewer: User, text: str, *, now: datetime | None = None) -> HelpText:
    if viewer.role != Role.COORDINATOR:
        raise Forbidden("Only coordinators set the clinic's crisis help text.")
    text = (text or "").strip()
    if text and not says_something(text):
        raise BadRequest("Write the help text in words (who to call, and how).", fields={"help_text": "Too short."})
    if len(text) > 2000:
        raise BadRequest("2000 characters at most.", fields={"help_text": "Too long."})
    row, _ = await ClinicSafetySettings.get_or_create(id=1)
    row.help_text, row.updated_by, row.updated_at = text, viewer, now or clock.now()
    await row.save()
    return await crisis_help(alert_settings())


WHO_WORDS = {
    safety_alerts.FACILITATOR: ("your group's facilitator", "your group's facilitators"),
    safety_alerts.DUTY: ("a clinician of the clinic", "a clinician of the clinic"),
    safety_alerts.TEAM: ("the clinic's team", "the clinic's team"),
}


async def member_message(item: SafetyItem, zone: ZoneInfo) -> str:
    """What a member reads right after an answer above 0 on item 9: who was actually told,
    and by when they were asked to get in touch. Calm, and no promise the platform does not keep."""
    told = await SafetyNotice.filter(safety_item_id=item.id, kind=SafetyNoticeKind.OPENED).count()
    one, many = WHO_WORDS.get(item.routed_to, WHO_WORDS[safety_alerts.TEAM])
    who = many if told > 1 else one
    due = (item.due_at or item.opened_at).astimezone(zone)
    when = f"{due:%A} {due.day} {due:%B} at {due:%H:%M}"
    return (
        "Thank you for answering honestly. Your answer to the last question has been passed on "
        f"privately to {who}, who has been asked to get in touch with you by {when}. "
        "It is not shown to other members."
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception:
        return ZoneInfo("UTC")


def member_zone(user: User, cohort: Cohort) -> ZoneInfo:
    for name in (user.time_zone, cohort.time_zone):
        try:
            return ZoneInfo(name)
        except Exception:
            continue
    return ZoneInfo("UTC")
