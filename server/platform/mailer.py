"""E-mail: `deliver` sends any outbox message, `beside` sends slowly-answered ones after the
request that made them; and the messages about schedule changes that calendar feeds may
deliver too late.

Google refreshes subscribed calendars every 12-24 hours (tech-notes §3.4), so a change to a
meeting in the next 48 hours is also mailed to each person it affects. Every message is kept
in the outbox table; with GROUPIPT_SMTP_HOST set it is also sent by SMTP (and marked sent or
failed), without it the coordinator reads the outbox page and passes the news on.

Messages carry the minimum (domain-ipt.md §9, [S46]): first name, neutral meeting titles,
date, time, place. Nothing about what the group is for, and no other member's name.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool

from calendars import MeetingKind, PlannedMeeting
from models.accounts import User
from models.cohorts import Cohort, Enrollment, EnrollmentStatus
from models.mail import OutboxMessage
from server.platform.settings import Settings

log = logging.getLogger("groupipt.mail")
NOTICE_WINDOW = timedelta(hours=48)


@dataclass(frozen=True, kw_only=True)
class Line:
    title: str
    start: datetime
    end: datetime
    cancelled: bool
    previous_start: datetime | None


def affected_soon(before: PlannedMeeting | None, after: PlannedMeeting, now: datetime) -> bool:
    """A change counts if the meeting was, or now is, within the next 48 hours."""
    horizon = now + NOTICE_WINDOW
    starts = [after.start] + ([before.start] if before is not None else [])
    return any(now < s <= horizon for s in starts)


async def notify_changes(
    *,
    cohort: Cohort,
    before: Mapping[str, PlannedMeeting],
    after: Sequence[PlannedMeeting],
    now: datetime,
    settings: Settings | None = None,
) -> int:
    """Mail each person affected by changed meetings within 48 h; returns messages made."""
    soon = [m for m in after if affected_soon(before.get(m.uid), m, now)]
    if not soon:
        return 0
    facilitators = await cohort.facilitators.all()
    members: dict[str, User] = {}
    enrollments = await Enrollment.filter(cohort_id=cohort.id, member__restricted_at=None).select_related("member")
    for e in enrollments:
        members[str(e.id)] = e.member
    enrolled = [e.member for e in enrollments if e.status == EnrollmentStatus.ENROLLED]
    by_person: dict[int, tuple[User, list[Line]]] = {}
    for m in soon:
        if m.kind is MeetingKind.GROUP:
            people = enrolled + list(facilitators)
        else:
            people = [p for p in (members.get(m.member or ""),) if p is not None]
            people += [f for f in facilitators if str(f.id) in m.facilitators]
        previous = before.get(m.uid)
        line = Line(
            title=m.titled(cohort.public_title),
            start=m.start,
            end=m.end,
            cancelled=not m.is_active,
            previous_start=previous.start if previous is not None and previous.start != m.start else None,
        )
        for person in people:
            if person.is_active:
                by_person.setdefault(person.id, (person, []))[1].append(line)
    settings = settings or Settings.from_env()
    made = 0
    for person, lines in by_person.values():
        subject, body = compose(person, lines, settings=settings)
        message = await OutboxMessage.create(
            to_email=person.email, to_user=person, subject=subject, body=body,
            meeting=None,
        )
        await deliver(message, settings=settings, now=now)
        made += 1
    return made


def compose(person: User, lines: Sequence[Line], *, settings: Settings) -> tuple[str, str]:
    zone = _zone(person.time_zone)
    def when(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%a %d %b %Y, %H:%M")

    rows = []
    for line in lines:
        if line.cancelled:
            rows.append(f"- {line.title}: cancelled (was {when(line.start)})")
        elif line.previous_start is not None:
            rows.append(f"- {line.title}: now {when(line.start)}-{line.end.astimezone(zone):%H:%M} (was {when(line.previous_start)})")
        else:
            rows.append(f"- {line.title}: {when(line.start)}-{line.end.astimezone(zone):%H:%M}")
    subject = "Your schedule has changed"
    name = person.first_name or "there"
    body = (
        f"Hello {name},\n\n"
        "A change to your upcoming appointments (times in "
        f"{zone.key}):\n\n" + "\n".join(rows) + "\n\n"
        "Your calendar subscription will show this too, but some calendar apps take up to a day "
        "to refresh.\n\n"
        f"{settings.organizer_name}\n"
    )
    return subject, body


async def deliver(message: OutboxMessage, *, settings: Settings, now: datetime) -> None:
    """Send by SMTP when configured; otherwise the message waits in the outbox."""
    if not settings.smtp_host:
        return
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.to_email
    email["Subject"] = message.subject
    email.set_content(message.body)
    try:
        await run_in_threadpool(_send, email, settings)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail to outbox message %s failed: %s", message.id, exc)
        message.error = str(exc)[:500]
        await message.save(update_fields=["error"])
        return
    message.sent_at = now
    await message.save(update_fields=["sent_at"])


# --- beside the request ------------------------------------------------------------------------
# A mail server may take seconds per message, or 15 s to time out: inside a running server,
# messages that a page must not wait for are sent beside it (`beside`), and the server waits
# for them when it stops (`sending_beside`, in the app's lifespan). What is still on its way
# after SHUTDOWN_WAIT stays in the outbox, unsent, for the coordinator.
SHUTDOWN_WAIT = 60.0
_beside: set[asyncio.Task[None]] = set()
_serving = False


async def beside(work: Callable[[], Awaitable[None]], *, name: str) -> None:
    """Run `work` (sending, and what follows it) after the caller answers, inside a running
    server; outside one (the command line), at once, and return when it is done."""
    if not _serving:
        await work()
        return
    task = asyncio.get_running_loop().create_task(work(), name=name)
    _beside.add(task)  # kept until done (the loop holds tasks weakly)
    task.add_done_callback(_beside.discard)


@contextlib.asynccontextmanager
async def sending_beside(timeout: float = SHUTDOWN_WAIT) -> AsyncIterator[None]:
    """For the app's lifespan: messages on their way still go out before the process ends."""
    global _serving
    _serving = True
    try:
        yield
    finally:
        _serving = False
        if _beside:
            _, late = await asyncio.wait(set(_beside), timeout=timeout)
            if late:
                log.warning("%d mail deliveries still running at shutdown; their messages stay in the outbox",
                            len(late))


def _send(email: EmailMessage, settings: Settings) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(email)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception:
        return ZoneInfo("UTC")


async def outbox(limit: int = 200) -> list[OutboxMessage]:
    return await OutboxMessage.all().order_by("-created_at", "-id").limit(limit).select_related("to_user")
