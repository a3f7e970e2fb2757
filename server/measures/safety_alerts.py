"""Who is told about a safety item, at once, and again until it is handled.

Routing (issue 13; domain-ipt.md 5b: item 9 above 0 "always needs prompt follow-up"):
every facilitator of the member's cohort who is not away; when there is none, the duty
clinicians who are not away; when there is none of those either, the coordinators, so an
item never reaches no one. Each person gets a notice on their home page and an e-mail
(SMTP when configured, otherwise the outbox, as schedule changes do).

An item with no documented contact by its due time (GROUPIPT_SAFETY_RESPONSE_HOURS after
it opened) is escalated to the duty clinicians and the coordinators, and again at twice
the target. A follow-up date set by a risk check is reminded on its day, routed as a new
item is. Each escalation and reminder is claimed by one conditional UPDATE, so several
server processes running the same sweep send it once.

Messages carry nothing clinical (domain-ipt.md 9, [S46] minimum necessary): no member
name, no answer, no clinical word, only a link that needs signing in.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.accounts import AwayPeriod, Role, User
from models.clinical import (
    RiskCheck,
    SafetyItem,
    SafetyItemStatus,
    SafetyNotice,
    SafetyNoticeKind,
    SafetySource,
)
from models.cohorts import Cohort
from models.mail import OutboxMessage
from server import clock
from server.accounts import audit
from server.platform import mailer
from server.platform.settings import Settings

log = logging.getLogger("groupipt.safety")

FACILITATOR, DUTY, TEAM = "facilitator", "duty", "team"


@dataclass(frozen=True)
class Recipients:
    people: list[User]
    routed_to: str  # FACILITATOR, DUTY or TEAM: what the member is told as well


def cohort_today(cohort: Cohort, now: datetime) -> date:
    try:
        return now.astimezone(ZoneInfo(cohort.time_zone)).date()
    except Exception:
        return now.date()


async def away_on(user_ids: Iterable[int], on: date) -> set[int]:
    ids = list(user_ids)
    if not ids:
        return set()
    rows = await AwayPeriod.filter(user_id__in=ids, starts_on__lte=on, ends_on__gte=on).values_list("user_id", flat=True)
    return set(rows)


async def duty_clinicians(on: date) -> list[User]:
    people = await User.filter(on_duty=True, is_active=True).exclude(role=Role.MEMBER).order_by("id")
    away = await away_on([p.id for p in people], on)
    return [p for p in people if p.is_clinician and p.id not in away]


async def responsible_for(cohort: Cohort, now: datetime) -> Recipients:
    """Who is told when an item opens (or a follow-up falls due) for a member of `cohort`."""
    today = cohort_today(cohort, now)
    facilitators = [f for f in await cohort.facilitators.filter(is_active=True).order_by("id")]
    away = await away_on([f.id for f in facilitators], today)
    present = [f for f in facilitators if f.id not in away]
    if present:
        return Recipients(present, FACILITATOR)
    duty = await duty_clinicians(today)
    if duty:
        return Recipients(duty, DUTY)
    # No clinician can be reached: the coordinators must find one (escalation goes to them too).
    return Recipients(await _coordinators(), TEAM)


async def escalation_recipients(now: datetime, cohort: Cohort) -> list[User]:
    """Duty clinicians and coordinators, once each."""
    people = {p.id: p for p in await duty_clinicians(cohort_today(cohort, now))}
    for coordinator in await _coordinators():
        people.setdefault(coordinator.id, coordinator)
    return list(people.values())


async def _coordinators() -> list[User]:
    return list(await User.filter(role=Role.COORDINATOR, is_active=True).order_by("id"))


async def record_notices(item: SafetyItem, people: Sequence[User], kind: SafetyNoticeKind, *,
                         level: int = 0, risk_check: RiskCheck | None = None) -> list[SafetyNotice]:
    """Home-page notices; written inside the caller's transaction when there is one."""
    notices = []
    for person in people:
        notice = await SafetyNotice.create(safety_item_id=item.id, recipient=person, kind=kind, level=level,
                                           risk_check=risk_check)
        notice.recipient = person
        notices.append(notice)
    return notices


def compose(person: User, item: SafetyItem, notice: SafetyNotice, *, settings: Settings) -> tuple[str, str]:
    """Subject and body: that something needs attention and where to sign in, nothing more."""
    link = f"{settings.base_url}/attention/{item.id}"
    what = "a questionnaire answer" if item.source == SafetySource.ANSWER else "a record"
    if notice.kind == SafetyNoticeKind.OPENED:
        subject = f"{what[0].upper()}{what[1:]} needs your attention"
        lead = f"{subject}."
    elif notice.kind == SafetyNoticeKind.ESCALATED:
        subject = f"Reminder: {what} still needs attention"
        lead = (f"{what[0].upper()}{what[1:]} still needs attention and has not been followed up in time "
                f"({'first' if notice.level <= 1 else 'second'} reminder).")
    else:
        subject = "A follow-up is due today"
        lead = "A follow-up planned for today needs your attention."
    name = person.first_name or "there"
    body = (
        f"Hello {name},\n\n{lead} Please sign in to see it:\n\n{link}\n\n"
        "This message holds no details on purpose.\n\n"
        f"{settings.organizer_name}\n"
    )
    return subject, body


async def send_notices(item: SafetyItem, notices: Sequence[SafetyNotice], *, now: datetime,
                       settings: Settings | None = None, wait: bool = True) -> int:
    """E-mail each notice (after the caller's commit); returns the messages made. Never
    raises: a failed message stays in the outbox with its error, and the notice is on the
    person's home page regardless. With `wait=False` inside a running server, the outbox rows
    are written now and the SMTP delivery runs beside the request, so a slow mail server never
    keeps a member waiting on their thank-you page, and a new notice never waits behind a
    sweep that is escalating many older items."""
    settings = settings or Settings.from_env()
    made: list[OutboxMessage] = []
    for notice in notices:
        person = notice.recipient
        try:
            subject, body = compose(person, item, notice, settings=settings)
            message = await OutboxMessage.create(to_email=person.email, to_user=person, subject=subject, body=body)
            await SafetyNotice.filter(id=notice.id).update(message_id=message.id)
            made.append(message)
        except Exception:  # the answer is stored; one person's mail must not stop the others'
            log.exception("safety notice %s could not be written to the outbox", notice.id)
    nudge(item)
    batch = [(message, settings) for message in made]
    if wait:
        await _deliver_all(batch, now=now)
    else:
        await mailer.beside(lambda: _deliver_all(batch, now=now), name=f"safety-notices-{item.id}")
    return len(made)


async def _deliver_all(batch: Sequence[tuple[OutboxMessage, Settings]], *, now: datetime) -> None:
    for message, settings in batch:
        try:
            await mailer.deliver(message, settings=settings, now=now)
        except Exception:
            log.exception("outbox message %s could not be delivered", message.id)


# --------------------------------------------------------------------- the sweep

@dataclass
class SweepResult:
    escalated: list[tuple[int, int]] = field(default_factory=list)  # (item id, level)
    reminded: list[int] = field(default_factory=list)  # risk check ids


async def sweep(*, now: datetime, settings: Settings) -> SweepResult:
    """One pass: escalate overdue items, remind follow-ups due today. Safe to run anywhere at once.

    Most overdue first. Each item is claimed, its notices written and audited in one
    transaction, so an escalation is never claimed without its notices (a failure rolls the
    claim back and the next pass tries again), and one item that fails does not hold back the
    others. The e-mails go out after the commit; inside a server they are sent beside the sweep,
    so a pile of overdue items (after downtime) is escalated at once, not one SMTP exchange at a time.
    """
    result = SweepResult()
    target = timedelta(hours=settings.safety_response_hours)
    # The second escalation is later than the first, so nothing before its due time is a candidate.
    candidates = await SafetyItem.filter(
        Q(due_at__lte=now) | Q(due_at=None), status=SafetyItemStatus.OPEN, escalations__lt=2,
    ).order_by("opened_at", "id").prefetch_related("enrollment", "enrollment__cohort")
    for item in candidates:
        opened = item.opened_at
        due = item.due_at or opened + target
        level = item.escalations + 1
        if now < (due if level == 1 else opened + 2 * (due - opened)):
            continue
        try:
            notices = await _escalate(item, level, now=now)
        except Exception:
            log.exception("safety item %s could not be escalated; the next pass tries again", item.id)
            continue
        if notices is None:  # another process sent it, or a check closed the item meanwhile
            continue
        await send_notices(item, notices, now=now, settings=settings, wait=False)
        result.escalated.append((item.id, level))
    result.reminded = await _remind_follow_ups(now=now, settings=settings)
    return result


async def _escalate(item: SafetyItem, level: int, *, now: datetime) -> list[SafetyNotice] | None:
    async with in_transaction():
        claimed = await SafetyItem.filter(id=item.id, status=SafetyItemStatus.OPEN,
                                          escalations=item.escalations).update(escalations=level, last_escalated_at=now)
        if not claimed:
            return None
        people = await escalation_recipients(now, item.enrollment.cohort)
        notices = await record_notices(item, people, SafetyNoticeKind.ESCALATED, level=level)
        await audit.record(None, "change", "safety_item", item.id, member=item.enrollment.member_id,
                           detail=f"escalated ({'first' if level == 1 else 'second'} time) to {len(people)} "
                                  "duty clinician(s) and coordinator(s): no documented contact by the target time")
    return notices


async def _remind_follow_ups(*, now: datetime, settings: Settings) -> list[int]:
    reminded = []
    # Any zone's today is within a day of UTC's: the cohort's own date decides below.
    checks = await RiskCheck.filter(follow_up_date__lte=now.date() + timedelta(days=1),
                                    follow_up_reminded_at=None).order_by("follow_up_date", "id").prefetch_related(
        "safety_item", "safety_item__enrollment", "safety_item__enrollment__cohort")
    for check in checks:
        item = check.safety_item
        cohort = item.enrollment.cohort
        if check.follow_up_date > cohort_today(cohort, now):
            continue
        try:
            notices = await _remind(check, now=now)
        except Exception:
            log.exception("follow-up of risk check %s could not be reminded; the next pass tries again", check.id)
            continue
        if notices is None:
            continue
        await send_notices(item, notices, now=now, settings=settings, wait=False)
        reminded.append(check.id)
    return reminded


async def _remind(check: RiskCheck, *, now: datetime) -> list[SafetyNotice] | None:
    item = check.safety_item
    async with in_transaction():
        claimed = await RiskCheck.filter(id=check.id, follow_up_reminded_at=None).update(follow_up_reminded_at=now)
        if not claimed:
            return None
        recipients = await responsible_for(item.enrollment.cohort, now)
        notices = await record_notices(item, recipients.people, SafetyNoticeKind.FOLLOW_UP, risk_check=check)
        await audit.record(None, "change", "risk_check", check.id, member=item.enrollment.member_id,
                           detail=f"follow-up of {check.follow_up_date.isoformat()} reminded to {len(recipients.people)}")
    return notices


# --------------------------------------------------------------------- in the server

_changed_cohorts: set[int] = set()
_wake = asyncio.Event()


def nudge(item: SafetyItem | int) -> None:
    """Tell this process's watcher that a cohort's safety items changed (boards refresh)."""
    cohort_id = item if isinstance(item, int) else getattr(getattr(item, "enrollment", None), "cohort_id", None)
    if cohort_id is None:
        return
    _changed_cohorts.add(cohort_id)
    _wake.set()


def sweep_interval(settings: Settings) -> float:
    """Often enough that an escalation is at most a tenth of the target late, at most every minute."""
    return min(60.0, max(0.5, settings.safety_response_hours * 3600 / 10))


@contextlib.asynccontextmanager
async def watching(app, settings: Settings):  # noqa: ANN001 (Starlette app)
    """The periodic sweep, for the app's lifespan; also refreshes live boards on a nudge."""
    task = asyncio.create_task(_watch(app, settings), name="safety-watch")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _watch(app, settings: Settings) -> None:  # noqa: ANN001
    interval = sweep_interval(settings)
    loop = asyncio.get_running_loop()
    next_sweep = loop.time()
    while True:
        if loop.time() >= next_sweep:
            try:
                await sweep(now=clock.now(), settings=settings)
            except Exception:
                log.exception("safety sweep failed; trying again in %.0f s", interval)
            next_sweep = loop.time() + interval
        cohorts = set(_changed_cohorts)
        _changed_cohorts.difference_update(cohorts)
        if cohorts:
            await _refresh_boards(app, cohorts)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_wake.wait(), timeout=max(0.05, next_sweep - loop.time()))
        _wake.clear()


async def _refresh_boards(app, cohort_ids: set[int]) -> None:  # noqa: ANN001
    """Open live boards of these cohorts show the items on their facilitator view at once."""
    from models.board import Board
    from server.web.routes.boards import board_service

    try:
        now = clock.now()
        boards = await Board.filter(
            closed_at=None, meeting__cohort_id__in=list(cohort_ids),
            meeting__starts_at__gte=now - timedelta(days=1), meeting__starts_at__lte=now + timedelta(days=1),
        ).prefetch_related("meeting")
        for board in boards:
            await board_service(app).refresh_safety(board.id, board.meeting)
    except Exception:
        log.exception("live boards could not be refreshed with safety items")


