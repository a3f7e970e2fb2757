"""The reminder sweep: every minute in the server, or `groupipt reminders-sweep` from cron.

Each pass also raises the follow-ups of members who stopped coming (follow_ups.py) and sends
the reminders of questionnaire windows just opened (questionnaires.py).

A reminder is due once `hours_before` the meeting's start is past; when several lead times
are past at once (the server was down), only the nearest one is sent. Each is claimed by
inserting its unique `ReminderSent` row first, so two servers sweeping at the same moment
send it once: the second insert fails and that process moves on.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from models.cohorts import Meeting, MeetingStatus
from models.mail import OutboxMessage
from models.reminders import FollowUp, ReminderChoice, ReminderSent
from server import clock
from server.platform import mailer
from server.platform.settings import Settings
from server.reminders.follow_ups import raise_follow_ups
from server.reminders.messages import Reminder, reminders_for_meeting
from server.reminders.questionnaires import QuestionnaireReminder, send_questionnaire_reminders

log = logging.getLogger("groupipt.reminders")
SWEEP_EVERY = 60.0  # seconds
MEMBER_CHOICES = (24.0, 2.0)  # what a member may pick on /portal/reminders


@dataclass
class SweepResult:
    sent: list[tuple[Reminder, float]] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    questionnaires: list[QuestionnaireReminder] = field(default_factory=list)


def lead_time_due(starts_at: datetime, hours: tuple[float, ...] | list[float], now: datetime) -> float | None:
    """The nearest lead time already reached before a meeting that has not started, else None."""
    if now >= starts_at:
        return None
    reached = [h for h in hours if starts_at - timedelta(hours=h) <= now]
    return min(reached) if reached else None


async def sweep(*, now: datetime, settings: Settings) -> SweepResult:
    result = SweepResult()
    horizon = max([*settings.reminder_hours, *MEMBER_CHOICES])
    meetings = await Meeting.filter(status=MeetingStatus.SCHEDULED, starts_at__gt=now,
                                    starts_at__lte=now + timedelta(hours=horizon)).order_by("starts_at", "id")
    # What went out on an earlier pass is skipped here, not refused by the unique row on every
    # pass for the day before each meeting; the claim still settles two sweeps racing.
    sent = set(await ReminderSent.filter(meeting_id__in=[m.id for m in meetings], channel="email").values_list(
        "meeting_id", "member_id", "hours_before")) if meetings else set()
    for meeting in meetings:
        reminders = await reminders_for_meeting(meeting, settings=settings)
        if not reminders:
            continue
        choices = {c.user_id: c.hours for c in await ReminderChoice.filter(
            user_id__in=[r.member_id for r in reminders])}
        for reminder in reminders:
            hours = [float(h) for h in choices.get(reminder.member_id, settings.reminder_hours)]
            due = lead_time_due(meeting.starts_at, hours, now)
            if due is None or (meeting.id, reminder.member_id, due) in sent:
                continue
            if await _send(reminder, meeting, due, settings=settings, now=now):
                result.sent.append((reminder, due))
    if settings.follow_up_after_absences is not None:
        result.follow_ups = await raise_follow_ups(now=now, settings=settings)
    if settings.reminder_hours:  # GROUPIPT_REMINDER_HOURS=none: the clinic sends no reminders at all
        result.questionnaires = await send_questionnaire_reminders(now=now, settings=settings)
    return result


async def _send(reminder: Reminder, meeting: Meeting, hours_before: float, *, settings: Settings,
                now: datetime) -> bool:
    try:
        claim = await ReminderSent.create(meeting_id=meeting.id, member_id=reminder.member_id,
                                          hours_before=hours_before, channel="email")
    except IntegrityError:  # another process claimed it first
        return False
    message = await OutboxMessage.create(to_email=reminder.to, to_user_id=reminder.member_id,
                                         subject=reminder.subject, body=reminder.body, meeting_id=meeting.id)
    await ReminderSent.filter(id=claim.id).update(message_id=message.id)
    try:
        await mailer.deliver(message, settings=settings, now=now)
    except Exception:  # the message stays in the outbox with the coordinator
        log.exception("reminder %s could not be delivered", message.id)
    return True


@contextlib.asynccontextmanager
async def sweeping(settings: Settings):
    """The periodic sweep, for the app's lifespan."""
    task = asyncio.create_task(_loop(settings), name="reminder-sweep")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _loop(settings: Settings) -> None:
    while True:
        try:
            await sweep(now=clock.now(), settings=settings)
        except Exception:
            log.exception("reminder sweep failed; trying again in %.0f s", SWEEP_EVERY)
        await asyncio.sleep(SWEEP_EVERY)
