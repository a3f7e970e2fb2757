"""Members who stop coming, followed up by the cohort's facilitators.

The rule is `needs_follow_up`: the run of group sessions a member has missed most recently
is followed up once it is `in_a_row` sessions long (GROUPIPT_FOLLOW_UP_AFTER_ABSENCES,
default 2), or at once if any of it was missed without a word. Early, personal outreach
after missed sessions is what keeps members in a closed group; group IPT's published
manuals do not fix a number, so the clinic sets it (domain-ipt.md is silent on a threshold).

One `FollowUp` per run of absences (unique on the run's first missed session), so the sweep
may raise items every minute and each run is raised once. The e-mail to the facilitators
says only that "a member of <public title> may need a call" (design.md, privacy); who, and
why, is read behind sign-in.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError

from models.accounts import Role, User
from models.board import Attendance
from models.cohorts import Cohort, CohortStatus, Enrollment, EnrollmentStatus, Meeting, MeetingKind, MeetingStatus
from models.mail import OutboxMessage
from models.reminders import FollowUp, FollowUpReason, Outreach, OutreachOutcome
from server import enrollment as enrollment_service
from server.accounts import audit
from server.accounts.access import facilitates, viewable_cohort
from server.board.vocabulary import AttendanceStatus
from server.errors import BadRequest, Conflict, Forbidden, NotFound
from server.platform import mailer
from server.platform.settings import Settings

log = logging.getLogger("groupipt.reminders")
NOTE_MAX = 1000
# Outcomes that settle a follow-up; "not reached" leaves it open for another try.
SETTLES = {OutreachOutcome.REACHED, OutreachOutcome.PLANS_TO_RETURN, OutreachOutcome.LEAVING}
OUTCOME_LABELS = {
    OutreachOutcome.REACHED: "Reached",
    OutreachOutcome.NOT_REACHED: "Not reached",
    OutreachOutcome.PLANS_TO_RETURN: "Plans to return",
    OutreachOutcome.LEAVING: "Leaving the group",
}
REASON_LABELS = {
    FollowUpReason.ABSENCES_IN_A_ROW: "sessions missed in a row",
    FollowUpReason.ABSENT_WITHOUT_WORD: "missed a session without a word",
}


# --- the rule (pure) ----------------------------------------------------------------------


MISSED = frozenset({AttendanceStatus.ABSENT_NOTIFIED, AttendanceStatus.ABSENT_UNNOTIFIED})


@dataclass(frozen=True, kw_only=True)
class MissedRun:
    first_meeting_id: int
    last_meeting_id: int
    length: int
    unnotified: int


@dataclass(frozen=True, kw_only=True)
class FollowUpDue:
    run: MissedRun
    reason: FollowUpReason


def absence_stretches(statuses: Sequence[str | None]) -> list[tuple[int, ...]]:
    """Maximal stretches of sessions missed in a row, as indexes into `statuses`: a member's
    completed group sessions, oldest first, each the attendance status recorded on the board
    or None where nothing was recorded for them.

    The one reading of "in a row" that these follow-ups and the supervision agenda
    (server/supervision/agenda.py) share: an absence, notified or not, extends a stretch; a
    session attended (or a withdrawal mark) ends it; a session with nothing recorded neither
    counts nor ends it. The member was not seen there, so the absences either side of it are
    still sessions missed in a row: the stricter reading, since the limit is the clinic's
    own policy and no IPT source gives one (domain-ipt.md 7 [S50])."""
    found: list[tuple[int, ...]] = []
    current: list[int] = []
    for index, status in enumerate(statuses):
        if status is None:
            continue
        if status in MISSED:
            current.append(index)
            continue
        if current:
            found.append(tuple(current))
        current = []
    if current:
        found.append(tuple(current))
    return found


def missed_run(marks: Sequence[tuple[int, str | None]]) -> MissedRun | None:
    """The sessions missed since the member last came: `marks` are (meeting id, attendance
    status or None) of the member's group sessions, oldest first."""
    stretches = absence_stretches([status for _, status in marks])
    if not stretches:
        return None
    last = stretches[-1]
    if any(status is not None for _, status in marks[last[-1] + 1:]):
        return None  # they came (or withdrew) after it
    run = [marks[i] for i in last]
    return MissedRun(first_meeting_id=run[0][0], last_meeting_id=run[-1][0], length=len(run),
                     unnotified=sum(1 for _, s in run if s == AttendanceStatus.ABSENT_UNNOTIFIED))


def needs_follow_up(marks: Sequence[tuple[int, str]], *, in_a_row: int) -> FollowUpDue | None:
    """Two (or `in_a_row`) sessions missed in a row, or any session missed without a word."""
    run = missed_run(marks)
    if run is None:
        return None
    if run.length >= in_a_row:
        return FollowUpDue(run=run, reason=FollowUpReason.ABSENCES_IN_A_ROW)
    if run.unnotified:
        return FollowUpDue(run=run, reason=FollowUpReason.ABSENT_WITHOUT_WORD)
    return None


# --- raising items ------------------------------------------------------------------------


async def attendance_marks(cohort_ids: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
    """Per enrolled enrollment of these cohorts: its recorded group sessions, oldest first."""
    ids = list(cohort_ids)
    if not ids:
        return {}
    meetings = await Meeting.filter(cohort_id__in=ids, kind=MeetingKind.GROUP, status=MeetingStatus.COMPLETED
                                    ).order_by("starts_at", "id").values_list("id", flat=True)
    order = {meeting_id: i for i, meeting_id in enumerate(meetings)}
    enrolled = await Enrollment.filter(cohort_id__in=ids, status=EnrollmentStatus.ENROLLED,
                                       member__restricted_at=None).values_list("id", flat=True)
    marks: dict[int, list[tuple[int, str]]] = {e: [] for e in enrolled}
    if not order or not marks:
        return marks
    rows = await Attendance.filter(meeting_id__in=list(order), enrollment_id__in=list(marks)).values_list(
        "enrollment_id", "meeting_id", "status")
    for enrollment_id, meeting_id, status in sorted(rows, key=lambda r: order[r[1]]):
        marks[enrollment_id].append((meeting_id, str(status)))
    return marks


async def raise_follow_ups(*, now: datetime, settings: Settings,
                           cohort_ids: Iterable[int] | None = None) -> list[FollowUp]:
    """Raise the items due in the active cohorts (or those given); the newly raised ones."""
    in_a_row = settings.follow_up_after_absences
    if in_a_row is None:
        return []
    query = Cohort.filter(status=CohortStatus.ACTIVE)
    if cohort_ids is not None:
        query = query.filter(id__in=list(cohort_ids) or [0])
    cohorts = {c.id: c for c in await query}
    marks = await attendance_marks(cohorts)
    due = {e: d for e, marks_of in marks.items()
           if (d := needs_follow_up(marks_of, in_a_row=in_a_row)) is not None}
    if not due:
        return []
    existing = {(f.enrollment_id, f.first_missed_id): f
                for f in await FollowUp.filter(enrollment_id__in=list(due))}
    cohort_of = dict(await Enrollment.filter(id__in=list(due)).values_list("id", "cohort_id"))
    raised = []
    for enrollment_id, item in due.items():
        run = item.run
        known = existing.get((enrollment_id, run.first_meeting_id))
        if known is not None:
            if known.closed_at is None and known.last_missed_id != run.last_meeting_id:
                await FollowUp.filter(id=known.id).update(
                    last_missed_id=run.last_meeting_id, absences_in_a_row=run.length, unnotified=run.unnotified,
                    reason=item.reason)
            continue
        try:
            follow_up = await FollowUp.create(
                enrollment_id=enrollment_id, cohort_id=cohort_of[enrollment_id], first_missed_id=run.first_meeting_id,
                last_missed_id=run.last_meeting_id, reason=item.reason, absences_in_a_row=run.length,
                unnotified=run.unnotified, raised_at=now)
        except IntegrityError:  # another sweep raised it a moment ago
            continue
        raised.append(follow_up)
        await _tell_facilitators(follow_up, cohorts[follow_up.cohort_id], now=now, settings=settings)
    return raised


def facilitator_message(person: User, cohort: Cohort, follow_up: FollowUp, *, settings: Settings) -> tuple[str, str]:
    title = cohort.public_title or "Group session"
    subject = f"A member may need a call: {title}"
    body = (f"Hello {person.first_name or 'there'},\n\n"
            f"A member of {title} may need a call. Please sign in to see who, and to record how it went:\n\n"
            f"{settings.base_url}/follow-ups/{follow_up.id}\n\n"
            "This message holds no details on purpose.\n\n"
            f"{settings.organizer_name}\n")
    return subject, body


async def _tell_facilitators(follow_up: FollowUp, cohort: Cohort, *, now: datetime, settings: Settings) -> None:
    for person in await cohort.facilitators.filter(is_active=True).order_by("id"):
        try:
            subject, body = facilitator_message(person, cohort, follow_up, settings=settings)
            message = await OutboxMessage.create(to_email=person.email, to_user=person, subject=subject, body=body)
            await mailer.deliver(message, settings=settings, now=now)
        except Exception:  # the item is raised; one facilitator's mail must not stop the others'
            log.exception("follow-up notice to facilitator %s failed", person.id)


# --- reading ------------------------------------------------------------------------------


async def open_follow_ups(cohort_ids: Iterable[int]) -> list[FollowUp]:
    ids = list(cohort_ids)
    if not ids:
        return []
    # A member withdrawn another way, or a group that has ended, has nobody left to call.
    return list(await FollowUp.filter(cohort_id__in=ids, closed_at=None, enrollment__status=EnrollmentStatus.ENROLLED,
                                      enrollment__member__restricted_at=None,
                                      cohort__status=CohortStatus.ACTIVE).select_related(
        "enrollment__member", "cohort", "last_missed").order_by("raised_at", "id"))


async def follow_ups_for_staff_home(user: User) -> list[FollowUp]:
    """The open items of the cohorts this person leads (the facilitators are the ones to call)."""
    led = await Cohort.filter(facilitators__id=user.id).values_list("id", flat=True)
    return await open_follow_ups(led)


async def viewable_follow_up(user: User, follow_up_id: int) -> FollowUp:
    """A follow-up its cohort's staff and their supervisors may read."""
    follow_up = await FollowUp.get_or_none(id=follow_up_id).select_related(
        "enrollment__member", "cohort", "first_missed", "last_missed")
    if follow_up is None or user.role == Role.MEMBER:
        raise NotFound("There is no such follow-up.")
    await viewable_cohort(user, follow_up.cohort_id)
    return follow_up


async def outreach_of(follow_up_id: int) -> list[Outreach]:
    return list(await Outreach.filter(follow_up_id=follow_up_id).select_related("by").order_by("at", "id"))


@dataclass(frozen=True, kw_only=True)
class AtRisk:
    enrollment: Enrollment
    missed_in_a_row: int
    unnotified: int
    follow_up: FollowUp | None  # the open item, if raised

    @property
    def name(self) -> str:
        return self.enrollment.member.display_name


async def at_risk(cohort_ids: Iterable[int]) -> dict[int, list[AtRisk]]:
    """Per cohort: the enrolled members missing sessions now, or with an item still open."""
    ids = list(cohort_ids)
    out: dict[int, list[AtRisk]] = {c: [] for c in ids}
    if not ids:
        return out
    marks = await attendance_marks(ids)
    runs = {e: run for e, m in marks.items() if (run := missed_run(m)) is not None}
    items = {f.enrollment_id: f for f in await open_follow_ups(ids)}
    wanted = set(runs) | {e for e in items if e in marks}
    if not wanted:
        return out
    for e in await Enrollment.filter(id__in=list(wanted)).select_related("member").order_by("member__display_name", "id"):
        run = runs.get(e.id)
        out[e.cohort_id].append(AtRisk(enrollment=e, missed_in_a_row=run.length if run else 0,
                                       unnotified=run.unnotified if run else 0, follow_up=items.get(e.id)))
    return out


# --- recording the outreach ---------------------------------------------------------------


def parse_outcome(value: object) -> OutreachOutcome:
    try:
        return OutreachOutcome(str(value or ""))
    except ValueError:
        message = "Choose how it went: reached, not reached, plans to return, or leaving."
        raise BadRequest(message, fields={"outcome": message}) from None


@dataclass(frozen=True, kw_only=True)
class OutreachRecorded:
    follow_up: FollowUp
    outreach: Outreach
    withdrawal_message: str = ""


async def record_outreach(follow_up: FollowUp, *, by: User, outcome: object, note: str = "",
                          withdrawal_reason: str = "", now: datetime) -> OutreachRecorded:
    """A facilitator's call: "leaving" withdraws the member with a reason (and the waitlist's
    first member is offered the place, server/enrollment/withdrawal.py)."""
    if not (by.role == Role.COORDINATOR or await facilitates(by, follow_up.cohort_id)):
        raise Forbidden("Only this group's facilitators and coordinators record outreach.")
    chosen = parse_outcome(outcome)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        message = f"Please keep the note under {NOTE_MAX} characters."
        raise BadRequest(message, fields={"note": message})
    if follow_up.closed_at is not None:
        raise Conflict("This follow-up is already settled.", code="follow_up_closed")
    withdrawal_message = ""
    if chosen is OutreachOutcome.LEAVING:
        reason = (withdrawal_reason or "").strip() or note
        if not reason:
            message = "Give a reason for the withdrawal (it is kept with the member's enrollment)."
            raise BadRequest(message, fields={"withdrawal_reason": message})
        outcome_of_withdrawal = await enrollment_service.withdraw(follow_up.enrollment_id, by=by, reason=reason,
                                                                  now=now)
        withdrawal_message = outcome_of_withdrawal.message
    outreach = await Outreach.create(follow_up_id=follow_up.id, outcome=chosen, note=note, by=by, at=now)
    if chosen in SETTLES:
        await FollowUp.filter(id=follow_up.id, closed_at=None).update(closed_at=now, outcome=chosen)
        follow_up.closed_at, follow_up.outcome = now, chosen
    await audit.record(by, "change", "follow_up", follow_up.id, member=follow_up.enrollment.member_id,
                       detail=f"outreach: {chosen.value}")
    return OutreachRecorded(follow_up=follow_up, outreach=outreach, withdrawal_message=withdrawal_message)
