"""Questionnaire reminders: one e-mail per window that opens, with the link to that very form.

The link (links.py, `questionnaire_path`) names only the reminder's own row; opened after the
member signs in, it leads to their form for that cohort and occasion (server/measures/
responses.py `member_form_path`) while its answer window is open, and says so plainly once it
has closed. Neither the e-mail nor its link names the questionnaire or what it measures
(domain-ipt.md 9, [S46]): "a short questionnaire" and the group's neutral title.
A member who chose no reminders (/portal/reminders) gets none of these either.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError

from models.cohorts import CohortStatus, Enrollment
from models.mail import OutboxMessage
from models.reminders import QuestionnaireReminderSent, ReminderChoice
from server.measures import responses as measure_responses
from server.errors import NotFound, PlatformError
from server.platform import mailer
from server.platform.settings import Settings
from server.reminders.links import questionnaire_path

log = logging.getLogger("groupipt.reminders")
OPEN_COHORTS = (CohortStatus.ENROLLING, CohortStatus.ACTIVE)


@dataclass(frozen=True, kw_only=True)
class QuestionnaireDue:
    enrollment: Enrollment
    instrument: str
    occasion: str
    closes_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class QuestionnaireReminder:
    enrollment_id: int
    member_id: int
    instrument: str
    occasion: str
    to: str
    subject: str
    body: str
    form_url: str


def compose_questionnaire_reminder(due: QuestionnaireDue, *, reminder_id: int, settings: Settings) -> QuestionnaireReminder:
    enrollment = due.enrollment
    member, cohort = enrollment.member, enrollment.cohort
    title = cohort.public_title or "Group session"
    url = settings.base_url + questionnaire_path(settings.secret_key, reminder_id)
    until = ""
    if due.closes_at is not None:
        try:
            zone = ZoneInfo(member.time_zone or cohort.time_zone)
        except Exception:
            zone = ZoneInfo("UTC")
        until = f" It is open until {due.closes_at.astimezone(zone):%a %d %b, %H:%M}."
    body = (f"Hello {member.first_name or 'there'},\n\n"
            f"A short questionnaire for {title} is ready for you; it takes a few minutes.{until}\n\n"
            f"Please sign in to fill it in:\n{url}\n\n"
            f"{settings.organizer_name}\n")
    return QuestionnaireReminder(enrollment_id=enrollment.id, member_id=member.id, instrument=due.instrument,
                                 occasion=due.occasion, to=member.email,
                                 subject=f"A short questionnaire is ready: {title}", body=body, form_url=url)


# The sweep runs on the event loop that serves the live boards: a clinic's enrollments are
# read in batches by id, so no stretch of its work holds the loop for long (a thousand
# cohorts are about 0.4 ms of CPU per enrollment, seconds in one piece).
SWEEP_BATCH = 200


async def questionnaire_reminders_due(*, now: datetime, batch: int = SWEEP_BATCH) -> list[QuestionnaireDue]:
    """The windows open now, not answered, and not reminded yet."""
    out: list[QuestionnaireDue] = []
    after = 0
    while True:
        enrollments = await Enrollment.filter(
            id__gt=after, status__in=list(measure_responses.ANSWERING), cohort__status__in=list(OPEN_COHORTS),
            member__is_active=True,
        ).select_related("member", "cohort__template").order_by("id").limit(batch)
        if not enrollments:
            return out
        after = enrollments[-1].id
        out += await _due_of(enrollments, now=now)
        await asyncio.sleep(0)  # let the boards' frames in between two batches


async def _due_of(enrollments: list[Enrollment], *, now: datetime) -> list[QuestionnaireDue]:
    quiet = set(await ReminderChoice.filter(user_id__in=[e.member_id for e in enrollments], hours=[]).values_list(
        "user_id", flat=True))
    enrollments = [e for e in enrollments if e.member_id not in quiet]
    if not enrollments:
        return []
    due = await measure_responses.due_now_of(enrollments, now=now)
    sent = set(await QuestionnaireReminderSent.filter(enrollment_id__in=[e.id for e in enrollments]).values_list(
        "enrollment_id", "instrument", "occasion"))
    return [QuestionnaireDue(enrollment=e, instrument=d.instrument.value, occasion=d.occasion.key,
                             closes_at=d.occasion.closes_at)
            for e in enrollments for d in due[e.id]
            if d.answered is None and (e.id, d.instrument.value, d.occasion.key) not in sent]


async def send_questionnaire_reminders(*, now: datetime, settings: Settings) -> list[QuestionnaireReminder]:
    sent = []
    for due in await questionnaire_reminders_due(now=now):
        try:
            claim = await QuestionnaireReminderSent.create(enrollment_id=due.enrollment.id, instrument=due.instrument,
                                                           occasion=due.occasion)
        except IntegrityError:  # another process claimed it first
            continue
        reminder = compose_questionnaire_reminder(due, reminder_id=claim.id, settings=settings)
        message = await OutboxMessage.create(to_email=reminder.to, to_user_id=reminder.member_id,
                                             subject=reminder.subject, body=reminder.body)
        await QuestionnaireReminderSent.filter(id=claim.id).update(message_id=message.id)
        try:
            await mailer.deliver(message, settings=settings, now=now)
        except Exception:  # the message stays in the outbox with the coordinator
            log.exception("questionnaire reminder %s could not be delivered", message.id)
        sent.append(reminder)
    return sent


async def form_of_reminder(reminder_id: int, member_id: int, *, now: datetime) -> str:
    """The form a reminder's link opens for the member signed in, or why not."""
    row = await QuestionnaireReminderSent.get_or_none(id=reminder_id)
    enrollment = await Enrollment.get_or_none(id=row.enrollment_id, member_id=member_id).prefetch_related(
        "cohort", "cohort__template") if row is not None else None
    if row is None or enrollment is None:
        raise NotFound("This link is not one of yours. Please sign in as the person it was sent to.")
    due = await measure_responses.due_now(enrollment, now=now)
    if not any(d.instrument.value == row.instrument and d.occasion.key == row.occasion for d in due):
        raise QuestionnaireClosed("This questionnaire is closed now. Thank you; your portal shows any that are open.")
    return measure_responses.member_form_path(row.enrollment_id, row.instrument, row.occasion)


class QuestionnaireClosed(PlatformError):
    status_code = 410
    code = "questionnaire_closed"
    title = "This questionnaire has closed"
