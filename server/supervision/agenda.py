"""The weekly supervision agenda: the flags of a supervisor's cohorts since their last
supervision meeting (issue 17; domain-ipt.md section 13: "a supervisor's weekly review").

The cohorts are those the supervisor's facilitators lead (`server.accounts.
supervised_facilitator_ids`). The period starts on the day of the supervisor's last
supervision meeting (in the supervisor's time zone, so nothing said after the meeting on
that day is lost), or 7 days ago when there is none. Flags, in the order the page shows:

- safety items open now, and those closed during the period (models/clinical.py);
- members with `run` (2) group sessions in a row missed, notified or not (`rules.absence_runs`;
  domain-ipt.md 7: no IPT source gives an absence limit, "2 consecutive no-shows" is a
  clinic policy seen for other groups [S50]);
- members not improving by mid-treatment: once the middle phase's midpoint session has been
  held, a PHQ-9 that has not dropped by at least GROUPIPT_EARLY_IMPROVEMENT_PERCENT (default
  20) from baseline. No source in domain-ipt.md gives this rule: it is the clinic's setting.
  Only members whose baseline was at or above the clinical threshold and who have a later
  score (server/measures/outcomes.py: those below are "reported apart");
- completed meetings without a session checklist (models/fidelity.py);
- questionnaires missed during the period (server/measures/responses.missed_between);
- closure summaries awaiting the supervisor's sign-off;
- actions from earlier supervision meetings still open (they carry over until done).

The number of queries does not grow with cohorts, members or flags.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from tortoise.expressions import Q, Subquery

from models.accounts import AuditEvent, Role, User
from models.clinical import SafetyItem, SafetyItemStatus, SafetySource
from models.closure import ClosureSummary, SummaryStatus
from models.cohorts import Cohort, CohortStatus, Enrollment, EnrollmentStatus, Meeting, MeetingKind, MeetingStatus
from models.fidelity import SessionChecklist
from models.supervision import SupervisionAction, SupervisionMeeting
from server.accounts import supervised_facilitator_ids
from server.measures import safety
from server.measures.instruments import Instrument
from server.measures.outcomes import Standing, episode_outcome
from server.measures.progress import episode_responses
from server.measures.responses import missed_between
from server.supervision.rules import IMPROVEMENT_RULE, absence_runs, middle_midpoint, not_improving
from server.supervision.scope import last_meeting, period_start, supervised_cohorts, zone_of



class FlagKind:
    SAFETY_OPEN = "safety_open"
    SAFETY_CLOSED = "safety_closed"
    ABSENCES = "absences"
    NOT_IMPROVING = "not_improving"
    MISSING_CHECKLIST = "missing_checklist"
    MISSED_MEASURE = "missed_measure"
    AWAITING_SIGNOFF = "awaiting_signoff"
    OPEN_ACTION = "open_action"


SECTIONS: tuple[tuple[str, str], ...] = (
    (FlagKind.SAFETY_OPEN, "Open safety items"),
    (FlagKind.SAFETY_CLOSED, "Safety items closed since the last meeting"),
    (FlagKind.ABSENCES, "Absent from two sessions in a row"),
    (FlagKind.NOT_IMPROVING, "Not improving by mid-treatment"),
    (FlagKind.MISSING_CHECKLIST, "Sessions without a checklist"),
    (FlagKind.MISSED_MEASURE, "Questionnaires missed"),
    (FlagKind.AWAITING_SIGNOFF, "Closure summaries awaiting sign-off"),
    (FlagKind.OPEN_ACTION, "Open actions from earlier supervision"),
)


@dataclass(frozen=True)
class Flag:
    kind: str
    text: str
    href: str
    cohort_id: int | None = None
    cohort_name: str = ""
    enrollment_id: int | None = None
    member_name: str = ""
    meeting_id: int | None = None
    record_id: int | None = None  # the safety item, summary, meeting or action flagged
    at: datetime | None = None
    overdue: bool = False

    def to_json(self) -> dict:
        return {
            "kind": self.kind, "text": self.text, "href": self.href, "cohort_id": self.cohort_id,
            "cohort_name": self.cohort_name, "enrollment_id": self.enrollment_id, "member_name": self.member_name,
            "meeting_id": self.meeting_id, "record_id": self.record_id,
            "at": self.at.isoformat() if self.at else None, "overdue": self.overdue,
        }


@dataclass
class Agenda:
    supervisor: User
    since: datetime
    now: datetime
    last_meeting: SupervisionMeeting | None
    facilitators: list[User]
    cohorts: list[Cohort]
    flags: list[Flag]
    improvement_percent: int
    open_actions: list[SupervisionAction] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.now.astimezone(zone_of(self.supervisor)).date()

    @property
    def since_day(self) -> date:
        return self.since.astimezone(zone_of(self.supervisor)).date()

    def sections(self) -> list[tuple[str, str, list[Flag]]]:
        return [(kind, title, [f for f in self.flags if f.kind == kind]) for kind, title in SECTIONS]

    def cases(self) -> list[Flag]:
        """One entry per member flagged, the first flag of each, for "cases discussed"."""
        seen: dict[int, Flag] = {}
        for flag in self.flags:
            if flag.enrollment_id is not None and flag.enrollment_id not in seen:
                seen[flag.enrollment_id] = flag
        return list(seen.values())

    @property
    def improvement_rule(self) -> str:
        return IMPROVEMENT_RULE.format(percent=self.improvement_percent)


# --- the flags ----------------------------------------------------------------------------

async def _not_improving_flags(cohorts: Sequence[Cohort], enrollments: Sequence[Enrollment], *,
                               percent: int) -> list[Flag]:
    midpoints = {c.id: middle_midpoint(c.phases) for c in cohorts if c.status == CohortStatus.ACTIVE}
    midpoints = {k: v for k, v in midpoints.items() if v is not None}
    if not midpoints:
        return []
    held = set(await Meeting.filter(cohort_id__in=list(midpoints), kind=MeetingKind.GROUP,
                                    status=MeetingStatus.COMPLETED).values_list("cohort_id", "number"))
    due = [e for e in enrollments if e.status == EnrollmentStatus.ENROLLED
           and e.cohort_id in midpoints and (e.cohort_id, midpoints[e.cohort_id]) in held]
    if not due:
        return []
    answers = await episode_responses(due)
    flags = []
    for enrollment in due:
        phq9 = [r for r in answers[enrollment.id] if r.instrument == Instrument.PHQ9 and not r.superseded]
        outcome = episode_outcome(Instrument.PHQ9, [(r.window, r.total) for r in phq9])
        if outcome.standing is not Standing.COUNTED or outcome.last_total is None:
            continue
        if not not_improving(outcome.baseline_total, outcome.last_total, percent):
            continue
        change = outcome.change.percent_change if outcome.change else None
        said = f"{-change:.0f}% lower" if change is not None and change < 0 else (
            "no lower" if not change else f"{change:.0f}% higher")
        baseline = "late baseline" if outcome.late_baseline else "baseline"
        flags.append(_member_flag(
            FlagKind.NOT_IMPROVING, enrollment,
            f"PHQ-9 {outcome.last_total} against a {baseline} of {outcome.baseline_total} ({said}), "
            f"after session {midpoints[enrollment.cohort_id]}, the middle phase's midpoint",
            href=f"/enrollments/{enrollment.id}/measures", at=phq9[outcome.last_index].administered_at))
    return flags


def _member_flag(kind: str, enrollment: Enrollment, text: str, *, href: str | None = None, **kw) -> Flag:
    return Flag(kind=kind, text=text, href=href or f"/enrollments/{enrollment.id}",
                cohort_id=enrollment.cohort_id, cohort_name=enrollment.cohort.name,
                enrollment_id=enrollment.id, member_name=enrollment.member.display_name, **kw)


def _safety_flags(items: Sequence[SafetyItem], viewer: User, *, since: datetime, now: datetime) -> list[Flag]:
    flags = []
    for item in items:
        what = ("a disclosure in session" if item.source == SafetySource.DISCLOSURE
                else f"PHQ-9 item 9 answered {item.item9}")
        # Supervisors read the member's record; the item's own page is its cohort's
        # clinicians' and the coordinators' (server/measures/safety/reading.py).
        href = f"/safety/{item.id}" if viewer.role == Role.COORDINATOR else f"/enrollments/{item.enrollment_id}"
        if item.status == SafetyItemStatus.OPEN:
            timing = safety.timing(item, now)
            flags.append(_member_flag(FlagKind.SAFETY_OPEN, item.enrollment,
                                      f"Open for {timing['age']}, after {what}" + (
                                          "; no documented contact yet and past its target" if timing["overdue"] else ""),
                                      href=href, record_id=item.id, at=item.opened_at, overdue=bool(timing["overdue"])))
        elif item.closed_at is not None and item.closed_at > since:
            flags.append(_member_flag(FlagKind.SAFETY_CLOSED, item.enrollment, f"Closed with a risk check, after {what}",
                                      href=href, record_id=item.id, at=item.closed_at))
    return flags


def _meeting_label(meeting: Meeting) -> str:
    if meeting.kind == MeetingKind.GROUP:
        return f"Group session {meeting.number}"
    return {MeetingKind.PREGROUP: "Pre-group meeting", MeetingKind.MID: "Mid-treatment meeting",
            MeetingKind.POST: "Post-group meeting"}.get(MeetingKind(meeting.kind), "Individual meeting")


async def build_agenda(viewer: User, supervisor: User, *, now: datetime, improvement_percent: int) -> Agenda:
    """The supervisor's agenda, read by `viewer` (the supervisor, or a coordinator); every
    safety item and summary it shows is audited as read, in one INSERT."""
    zone = zone_of(supervisor)
    facilitator_ids = await supervised_facilitator_ids(supervisor)
    facilitators = list(await User.filter(id__in=facilitator_ids).order_by("display_name", "id")) if facilitator_ids else []
    last = await last_meeting(supervisor, today=now.astimezone(zone).date())
    since = period_start(last, now=now, zone=zone)
    cohorts = await supervised_cohorts(facilitator_ids)
    flags: list[Flag] = []
    if cohorts:
        by_id = {c.id: c for c in cohorts}
        enrollments = list(await Enrollment.filter(cohort_id__in=list(by_id), member__restricted_at=None)
                           .prefetch_related("member").order_by("id"))
        for e in enrollments:
            e.cohort = by_id[e.cohort_id]  # with its template, already loaded
        enrollment_of = {e.id: e for e in enrollments}
        items = await SafetyItem.filter(
            Q(status=SafetyItemStatus.OPEN) | Q(closed_at__gt=since), enrollment_id__in=list(enrollment_of)
        ).order_by("opened_at", "id")
        for item in items:
            item.enrollment = enrollment_of[item.enrollment_id]
        summaries = await ClosureSummary.filter(enrollment_id__in=list(enrollment_of),
                                                status=SummaryStatus.AWAITING_SIGNOFF).order_by("updated_at", "id")
        flags += _safety_flags(items, viewer, since=since, now=now)
        flags += await _absence_flags(enrollment_of, since=since)
        flags += await _not_improving_flags(cohorts, enrollments, percent=improvement_percent)
        flags += await _checklist_flags(by_id, enrollment_of)
        flags += await _missed_flags(enrollments, since=since, now=now)
        flags += [_member_flag(FlagKind.AWAITING_SIGNOFF, enrollment_of[s.enrollment_id],
                               f"Closure summary, version {s.version}, awaiting sign-off",
                               href=f"/summaries/{s.id}", record_id=s.id, at=s.updated_at) for s in summaries]
        await _audit_reads(viewer, [("safety_item", i.id, enrollment_of[i.enrollment_id].member_id) for i in items]
                           + [("closure_summary", s.id, enrollment_of[s.enrollment_id].member_id) for s in summaries])
    open_actions = await open_actions_of(supervisor)
    flags += _action_flags(open_actions, zone=zone, today=now.astimezone(zone).date())
    return Agenda(supervisor=supervisor, since=since, now=now, last_meeting=last, facilitators=facilitators,
                  cohorts=cohorts, flags=flags, improvement_percent=improvement_percent, open_actions=open_actions)


async def _absence_flags(enrollment_of: dict[int, Enrollment], *, since: datetime) -> list[Flag]:
    flags = []
    for stretch in await absence_runs({e.cohort_id for e in enrollment_of.values()}):
        if stretch.last_at < since:
            continue  # raised at an earlier supervision meeting
        sessions = ", ".join(str(n) for n in stretch.numbers)
        said = f"; said beforehand for {stretch.notified} of them" if stretch.notified else "; none notified"
        flags.append(_member_flag(FlagKind.ABSENCES, enrollment_of[stretch.enrollment_id],
                                  f"Missed {len(stretch.numbers)} sessions in a row (sessions {sessions}){said}",
                                  meeting_id=stretch.meeting_ids[-1], at=stretch.last_at))
    return flags


async def _checklist_flags(cohort_of: dict[int, Cohort], enrollment_of: dict[int, Enrollment]) -> list[Flag]:
    """Completed meetings of these cohorts without a SessionChecklist row, in one query."""
    ids = list(cohort_of)
    unchecked = await Meeting.filter(cohort_id__in=ids, status=MeetingStatus.COMPLETED).exclude(
        id__in=Subquery(SessionChecklist.filter(meeting__cohort_id__in=ids).values("meeting_id"))
    ).order_by("starts_at", "id")
    flags = []
    for meeting in unchecked:
        cohort = cohort_of[meeting.cohort_id]
        member = enrollment_of.get(meeting.enrollment_id) if meeting.enrollment_id else None
        flags.append(Flag(
            kind=FlagKind.MISSING_CHECKLIST, text=f"{_meeting_label(meeting)}: no session checklist",
            href=f"/meetings/{meeting.id}", cohort_id=cohort.id, cohort_name=cohort.name,
            enrollment_id=member.id if member else None, member_name=member.member.display_name if member else "",
            meeting_id=meeting.id, record_id=meeting.id, at=meeting.starts_at))
    return flags


async def _missed_flags(enrollments: Sequence[Enrollment], *, since: datetime, now: datetime) -> list[Flag]:
    missed = await missed_between(enrollments, since=since, now=now)
    return [
        _member_flag(FlagKind.MISSED_MEASURE, enrollment,
                     f"{'PHQ-9' if due.instrument == Instrument.PHQ9 else 'GAD-7'} {due.occasion.label.lower()} not answered",
                     href=f"/enrollments/{enrollment.id}/measures", meeting_id=due.occasion.meeting_id,
                     at=due.occasion.closes_at, overdue=True)
        for enrollment in enrollments for due in missed[enrollment.id]
    ]


def _action_flags(actions: Sequence[SupervisionAction], *, zone: ZoneInfo, today: date) -> list[Flag]:
    return [
        Flag(kind=FlagKind.OPEN_ACTION,
             text=f"{a.text} ({a.owner.display_name if a.owner else 'no owner'}, due {a.due_on:%d %b %Y})",
             href=f"/supervision/meetings/{a.meeting_id}", record_id=a.id,
             at=datetime.combine(a.due_on, time.min, tzinfo=zone), overdue=a.due_on < today)
        for a in actions
    ]


async def _audit_reads(viewer: User, reads: list[tuple[str, int, int]]) -> None:
    """One INSERT however many records were read, each event naming its member."""
    if reads:
        await AuditEvent.bulk_create([
            AuditEvent(actor=viewer, action="read", subject=subject, subject_id=str(record_id), member_id=member_id,
                       detail="supervision agenda")
            for subject, record_id, member_id in reads])


async def open_actions_of(supervisor: User) -> list[SupervisionAction]:
    return list(await SupervisionAction.filter(meeting__supervisor_id=supervisor.id, done_at=None).order_by(
        "due_on", "id").prefetch_related("owner", "meeting"))


__all__ = ["SECTIONS", "Agenda", "Flag", "FlagKind", "build_agenda", "open_actions_of"]

