"""Questionnaire reminders: one e-mail per window that opens, with the link to that very form.

The link is the member's own form for that cohort and occasion (server/measures/responses.py
`member_form_path`), opened after sign-in: the answers are clinical, so they are only ever
shown behind the member's password. The e-mail names neither the questionnaire nor what it
measures (domain-ipt.md 9, [S46]): "a short questionnaire" and the group's neutral title.
A member who chose no reminders (/portal/reminders) gets none of these either.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError

from models.cohorts import CohortStatus, Enrollment
from models.mail import OutboxMessage
from models.reminders import QuestionnaireReminderSent, ReminderChoice
from server.measures import responses as measure_responses
from server.platform import mailer
from server.platform.settings import Settings

log = logging.getLogger("groupipt.reminders")
OPEN_COHORTS = (CohortStatus.ENROLLING, CohortStatus.ACTIVE)


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


def compose_questionnaire_reminder(*, enrollment: Enrollment, instrument: str, occasion_key: str,
                                   closes_at: datetime | None, settings: Settings) -> QuestionnaireReminder:
    member, cohort = enrollment.member, enrollment.cohort
    title = cohort.public_title or "Group session"
    url = settings.base_url + measure_responses.member_form_path(enrollment.id, instrument, occasion_key)
    until = ""
    if closes_at is not None:
        try:
            zone = ZoneInfo(member.time_zone or cohort.time_zone)
        except Exception:
            zone = ZoneInfo("UTC")
        until = f" It is open until {closes_at.astimezone(zone):%a %d %b, %H:%M}."
    body = (f"Hello {member.first_name or 'there'},\n\n"
            f"A short questionnaire for {title} is ready for you; it takes a few minutes.{until}\n\n"
            f"Please sign in to fill it in:\n{url}\n\n"
            f"{settings.organizer_name}\n")
    return QuestionnaireReminder(enrollment_id=enrollment.id, member_id=member.id, instrument=str(instrument),
                                 occasion=occasion_key, to=member.email,
                                 subject=f"A short questionnaire is ready: {title}", body=body, form_url=url)


async def questionnaire_reminders_due(*, now: datetime, settings: Settings) -> list[QuestionnaireReminder]:
    """The reminders of windows open now, not answered, and not reminded yet."""
    enrollments = await Enrollment.filter(
        status__in=list(measure_responses.ANSWERING), cohort__status__in=list(OPEN_COHORTS), member__is_active=True,
    ).select_related("member", "cohort__template").order_by("id")
    if not enrollments:
        return []
    quiet = set(await ReminderChoice.filter(user_id__in=[e.member_id for e in enrollments], hours=[]).values_list(
        "user_id", flat=True))
    enrollments = [e for e in enrollments if e.member_id not in quiet]
    due = await measure_responses.due_now_of(enrollments, now=now)
    sent = set(await QuestionnaireReminderSent.filter(enrollment_id__in=[e.id for e in enrollments]).values_list(
        "enrollment_id", "instrument", "occasion"))
    out = []
    for e in enrollments:
        for d in due[e.id]:
            key = (e.id, str(d.instrument.value), d.occasion.key)
            if d.answered is None and key not in sent:
                out.append(compose_questionnaire_reminder(enrollment=e, instrument=d.instrument.value,
                                                          occasion_key=d.occasion.key, closes_at=d.occasion.closes_at,
                                                          settings=settings))
    return out


async def send_questionnaire_reminders(*, now: datetime, settings: Settings) -> list[QuestionnaireReminder]:
    sent = []
    for reminder in await questionnaire_reminders_due(now=now, settings=settings):
        try:
            claim = await QuestionnaireReminderSent.create(enrollment_id=reminder.enrollment_id,
                                                           instrument=reminder.instrument, occasion=reminder.occasion)
        except IntegrityError:  # another process claimed it first
            continue
        message = await OutboxMessage.create(to_email=reminder.to, to_user_id=reminder.member_id,
                                             subject=reminder.subject, body=reminder.body)
        await QuestionnaireReminderSent.filter(id=claim.id).update(message_id=message.id)
        try:
            await mailer.deliver(message, settings=settings, now=now)
        except Exception:  # the message stays in the outbox with the coordinator
            log.exception("questionnaire reminder %s could not be delivered", message.id)
        sent.append(reminder)
    return sent
