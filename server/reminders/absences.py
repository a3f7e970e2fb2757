"""A member's "I can't come", and "I can come after all", before a meeting.

Recorded as a `NotifiedAbsence` (the board opens with that member's attendance pre-filled as
absent_notified, server/board/roster.py) and told to the meeting's facilitators by e-mail
with nothing but the meeting's neutral title and time: the reason, if any, is read behind
sign-in, like safety notices (domain-ipt.md 9, [S46]).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from calendars import MeetingKind, MeetingStatus
from models.accounts import User
from models.cohorts import Cohort, Enrollment, EnrollmentStatus, Meeting
from models.mail import OutboxMessage
from models.reminders import NotifiedAbsence
from server.errors import BadRequest, Conflict, NotFound, PlatformError
from server.platform import mailer
from server.platform.settings import Settings
from server.reminders.join import join_open
from server.reminders.links import cant_come_path, read_cant_come_token
from server.reminders.messages import neutral_title
from server.reminders.online import join_details_for

log = logging.getLogger("groupipt.reminders")
REASON_MAX = 500


class MeetingPassed(PlatformError):
    status_code = 410
    code = "meeting_passed"
    title = "This meeting has passed"


@dataclass(frozen=True, kw_only=True)
class AbsenceContext:
    meeting: Meeting
    cohort: Cohort
    enrollment: Enrollment
    title: str
    absence: NotifiedAbsence | None

    @property
    def said_cant_come(self) -> bool:
        return self.absence is not None and self.absence.withdrawn_at is None


async def context_for_token(token: str, *, settings: Settings, now: datetime) -> AbsenceContext:
    claim = read_cant_come_token(settings.secret_key, token)
    if claim is None:
        raise NotFound("This link is not known. Please use the link from your reminder, or sign in to your portal.")
    if now >= claim.expires_at:
        raise MeetingPassed("This link was for a meeting that has now ended.")
    return await context_for(claim.meeting_id, claim.enrollment_id, now=now)


async def context_for(meeting_id: int, enrollment_id: int, *, now: datetime) -> AbsenceContext:
    meeting = await Meeting.get_or_none(id=meeting_id)
    enrollment = await Enrollment.get_or_none(id=enrollment_id).select_related("member")
    if meeting is None or enrollment is None or not _attends(meeting, enrollment):
        raise NotFound("This meeting is not one of yours.")
    if now >= meeting.ends_at:
        raise MeetingPassed("This meeting has now ended.")
    cohort = await Cohort.get(id=meeting.cohort_id).select_related("template")
    absence = await NotifiedAbsence.get_or_none(meeting_id=meeting.id, enrollment_id=enrollment.id)
    return AbsenceContext(meeting=meeting, cohort=cohort, enrollment=enrollment, absence=absence,
                          title=neutral_title(meeting, cohort, cohort.template.n_pregroup_individual))


def _attends(meeting: Meeting, enrollment: Enrollment) -> bool:
    if enrollment.status in (EnrollmentStatus.WITHDRAWN, EnrollmentStatus.WAITLISTED):
        return False
    if meeting.kind == MeetingKind.GROUP:
        return enrollment.cohort_id == meeting.cohort_id
    return meeting.enrollment_id == enrollment.id


def _still_open(ctx: AbsenceContext, now: datetime) -> None:
    if ctx.meeting.status == MeetingStatus.CANCELLED:
        raise Conflict("This meeting was cancelled, so there is nothing to tell us.", code="meeting_cancelled")
    if now >= ctx.meeting.starts_at:
        raise Conflict("This meeting has already begun. Please tell your facilitator directly.",
                       code="meeting_started")


async def say_cant_come(ctx: AbsenceContext, *, reason: str, now: datetime, settings: Settings) -> NotifiedAbsence:
    _still_open(ctx, now)
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        message = f"Please keep the reason under {REASON_MAX} characters."
        raise BadRequest(message, fields={"reason": message})
    was_absent = ctx.said_cant_come
    absence = ctx.absence
    if absence is None:
        try:
            absence = await NotifiedAbsence.create(meeting_id=ctx.meeting.id, enrollment_id=ctx.enrollment.id,
                                                   reason=reason, notified_at=now)
        except IntegrityError:  # the same member, twice at once: keep one row
            absence = await NotifiedAbsence.get(meeting_id=ctx.meeting.id, enrollment_id=ctx.enrollment.id)
    absence.reason, absence.notified_at, absence.withdrawn_at = reason, now, None
    await absence.save(update_fields=["reason", "notified_at", "withdrawn_at"])
    if not was_absent:
        await _tell_facilitators(ctx, cant_come=True, now=now, settings=settings)
    return absence


async def say_can_come(ctx: AbsenceContext, *, now: datetime, settings: Settings) -> None:
    _still_open(ctx, now)
    if not ctx.said_cant_come:
        return
    await NotifiedAbsence.filter(id=ctx.absence.id).update(withdrawn_at=now)
    await _tell_facilitators(ctx, cant_come=False, now=now, settings=settings)


async def notified_absences(meeting_id: int) -> dict[int, NotifiedAbsence]:
    """The meeting's standing absences by enrollment id."""
    rows = await NotifiedAbsence.filter(meeting_id=meeting_id, withdrawn_at=None)
    return {row.enrollment_id: row for row in rows}


async def _facilitators(ctx: AbsenceContext) -> list[User]:
    if ctx.meeting.kind != MeetingKind.GROUP and ctx.meeting.facilitator_id is not None:
        people = await User.filter(id=ctx.meeting.facilitator_id, is_active=True)
        if people:
            return list(people)
    return list(await ctx.cohort.facilitators.filter(is_active=True).order_by("id"))


def facilitator_message(person: User, ctx: AbsenceContext, *, cant_come: bool, settings: Settings) -> tuple[str, str]:
    start = ctx.meeting.starts_at.astimezone(mailer._zone(person.time_zone))
    when = f"{ctx.title}, {start:%a %d %b %Y, %H:%M}"
    if cant_come:
        subject = f"A member can't come: {when}"
        lead = f"A member has told us they can't come to {when}."
    else:
        subject = f"A member can come after all: {when}"
        lead = f"A member who had said they can't come to {when} now says they can."
    link = f"{settings.base_url}/boards/{ctx.meeting.id}" if ctx.meeting.kind == MeetingKind.GROUP else \
        f"{settings.base_url}/meetings/{ctx.meeting.id}"
    body = (f"Hello {person.first_name or 'there'},\n\n{lead} Please sign in to see who:\n\n{link}\n\n"
            "This message holds no details on purpose.\n\n"
            f"{settings.organizer_name}\n")
    return subject, body


async def _tell_facilitators(ctx: AbsenceContext, *, cant_come: bool, now: datetime, settings: Settings) -> None:
    for person in await _facilitators(ctx):
        try:
            subject, body = facilitator_message(person, ctx, cant_come=cant_come, settings=settings)
            message = await OutboxMessage.create(to_email=person.email, to_user=person, subject=subject, body=body,
                                                 meeting_id=ctx.meeting.id)
            await mailer.deliver(message, settings=settings, now=now)
        except Exception:  # the absence is recorded; one facilitator's mail must not stop the others'
            log.exception("absence notice to facilitator %s failed", person.id)


@dataclass(frozen=True, kw_only=True)
class UpcomingMeeting:
    meeting: Meeting
    title: str
    zone: str
    said_cant_come: bool
    cant_come_path: str
    join_url: str | None  # only inside the join window
    dial_in: str = ""


async def upcoming_for_member(user: User, *, now: datetime, settings: Settings, limit: int = 6) -> list[UpcomingMeeting]:
    """The member's next meetings, each with its "I can't come" page (the reminder's link)."""
    enrollments = await Enrollment.filter(member_id=user.id).exclude(
        status__in=[EnrollmentStatus.WITHDRAWN, EnrollmentStatus.WAITLISTED]).select_related("cohort__template")
    if not enrollments:
        return []
    by_cohort = {e.cohort_id: e for e in enrollments if e.status == EnrollmentStatus.ENROLLED}
    by_id = {e.id: e for e in enrollments}
    rows = await Meeting.filter(status=MeetingStatus.SCHEDULED, ends_at__gt=now).filter(
        Q(kind=MeetingKind.GROUP, cohort_id__in=list(by_cohort) or [0])
        | Q(enrollment_id__in=list(by_id))).order_by("starts_at", "id").limit(limit)
    absent = set(await NotifiedAbsence.filter(meeting_id__in=[m.id for m in rows], withdrawn_at=None,
                                              enrollment_id__in=list(by_id)).values_list("meeting_id", flat=True))
    joins = await join_details_for(rows, {e.cohort_id: e.cohort for e in enrollments})
    upcoming = []
    for m in rows:
        enrollment = by_cohort[m.cohort_id] if m.kind == MeetingKind.GROUP else by_id[m.enrollment_id]
        cohort = enrollment.cohort
        upcoming.append(UpcomingMeeting(
            meeting=m, title=neutral_title(m, cohort, cohort.template.n_pregroup_individual),
            zone=user.time_zone or cohort.time_zone, said_cant_come=m.id in absent,
            join_url=joins[m.id].video_link if joins[m.id].online and join_open(
                starts_at=m.starts_at, ends_at=m.ends_at, now=now,
                minutes_before=settings.join_minutes_before) else None,
            dial_in=joins[m.id].dial_in if joins[m.id].online else "",
            cant_come_path=cant_come_path(settings.secret_key, meeting_id=m.id, enrollment_id=enrollment.id,
                                          ends_at=m.ends_at)))
    return upcoming


async def context_for_member(user: User, meeting_id: int, *, now: datetime) -> AbsenceContext:
    """The member's own place in a meeting (their enrollment attending it), or NotFound."""
    meeting = await Meeting.get_or_none(id=meeting_id)
    if meeting is None:
        raise NotFound("There is no such meeting of yours.")
    if meeting.kind == MeetingKind.GROUP:
        enrollment = await Enrollment.get_or_none(cohort_id=meeting.cohort_id, member_id=user.id,
                                                  status=EnrollmentStatus.ENROLLED)
    else:
        enrollment = await Enrollment.get_or_none(id=meeting.enrollment_id or 0, member_id=user.id)
    if enrollment is None:
        raise NotFound("There is no such meeting of yours.")
    return await context_for(meeting.id, enrollment.id, now=now)


async def joinable_now(user: User, *, now: datetime, settings: Settings) -> list[UpcomingMeeting]:
    """The member's online meetings whose Join button shows now (GROUPIPT_JOIN_MINUTES_BEFORE)."""
    return [u for u in await upcoming_for_member(user, now=now, settings=settings, limit=3) if u.join_url]
