"""The weekly supervision agenda (issue 17): each flag appears when it should and not
otherwise, for the supervisor's cohorts only, with a bounded number of queries."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.accounts import Role
from models.board import Attendance, AttendanceStatus
from models.clinical import MeasureResponse, SafetyItem, SafetyItemStatus, SafetySource
from models.closure import ClosureSummary, SummaryStatus
from models.cohorts import Enrollment, MeetingStatus
from models.fidelity import SessionChecklist
from models.supervision import Supervision, SupervisionAction, SupervisionMeeting
from server.measures.instruments import Instrument, band_for
from server.supervision.agenda import FlagKind, build_agenda
from server.supervision.rules import absence_runs
from tests.integration.test_portal_statements import statements
from tests.support.world import enroll, make_cohort, make_user

pytestmark = pytest.mark.asyncio(loop_scope="session")

ABSENT_UNNOTIFIED, ABSENT_NOTIFIED = AttendanceStatus.ABSENT_UNNOTIFIED, AttendanceStatus.ABSENT_NOTIFIED
PRESENT = AttendanceStatus.PRESENT


async def supervised_group(world, name: str):
    """A supervisor, the facilitator they supervise, and that facilitator's cohort
    (sessions 1-3 held, 4 today)."""
    supervisor = await make_user(Role.FACILITATOR, f"Supervisor {name}")
    facilitator = await make_user(Role.FACILITATOR, f"Facilitator {name}")
    await Supervision.create(supervisor=supervisor, facilitator=facilitator)
    cohort, meetings = await make_cohort(world.template, f"Group {name}", facilitator)
    return supervisor, facilitator, cohort, meetings


async def member(cohort, name: str) -> Enrollment:
    enrollment = await enroll(cohort, await make_user(Role.MEMBER, name))
    return await Enrollment.get(id=enrollment.id).prefetch_related("member")


async def phq9(enrollment: Enrollment, total: int, window: str, at: datetime) -> MeasureResponse:
    items = [min(3, max(0, total - 3 * i)) for i in range(8)] + [0]
    assert sum(items) == total
    return await MeasureResponse.create(enrollment=enrollment, instrument=Instrument.PHQ9, items=items, total=total,
                                        band=band_for(Instrument.PHQ9, total).key, item9=0, window=window,
                                        administered_at=at)


async def agenda_of(supervisor, *, now: datetime | None = None, percent: int = 20):
    return await build_agenda(supervisor, supervisor, now=now or datetime.now(UTC), improvement_percent=percent)


def flagged(agenda, kind: str) -> list:
    return [f for f in agenda.flags if f.kind == kind]


def members(agenda, kind: str) -> set[int]:
    return {f.enrollment_id for f in flagged(agenda, kind)}


async def test_open_safety_items_and_those_closed_since_the_last_meeting(world):
    supervisor, _, cohort, _ = await supervised_group(world, "safety")
    open_one, closed_lately, closed_long_ago = [await member(cohort, f"Safety {n}") for n in range(3)]
    now = datetime.now(UTC)
    item = await SafetyItem.create(enrollment=open_one, item9=2, status=SafetyItemStatus.OPEN,
                                   due_at=now - timedelta(hours=1))
    recent = await SafetyItem.create(enrollment=closed_lately, source=SafetySource.DISCLOSURE,
                                     status=SafetyItemStatus.CLOSED, closed_at=now - timedelta(days=2))
    await SafetyItem.create(enrollment=closed_long_ago, item9=1, status=SafetyItemStatus.CLOSED,
                            closed_at=now - timedelta(days=10))
    agenda = await agenda_of(supervisor, now=now)
    [shown] = flagged(agenda, FlagKind.SAFETY_OPEN)
    assert shown.record_id == item.id and shown.overdue and "item 9 answered 2" in shown.text
    assert shown.href == f"/enrollments/{item.enrollment_id}"  # the supervisor reads the member's record
    assert [f.record_id for f in flagged(agenda, FlagKind.SAFETY_CLOSED)] == [recent.id]
    # A supervision meeting today: the period starts today; the open item stays.
    await SupervisionMeeting.create(supervisor=supervisor, held_on=now.date(), created_by=supervisor)
    later = await agenda_of(supervisor, now=now)
    assert flagged(later, FlagKind.SAFETY_CLOSED) == []
    assert [f.record_id for f in flagged(later, FlagKind.SAFETY_OPEN)] == [item.id]
    coordinator_view = await build_agenda(world.users["coordinator"], supervisor, now=now, improvement_percent=20)
    assert flagged(coordinator_view, FlagKind.SAFETY_OPEN)[0].href == f"/safety/{item.id}"


async def test_two_absences_in_a_row_notified_or_not(world):
    supervisor, _, cohort, meetings = await supervised_group(world, "absences")
    s1, s2, s3 = meetings[:3]
    twice = await member(cohort, "Absent Twice")
    apart = await member(cohort, "Absent Apart")
    long_ago = await member(cohort, "Absent Long Ago")
    unknown = await member(cohort, "Absent Unrecorded")
    marks = {
        twice: (PRESENT, ABSENT_UNNOTIFIED, ABSENT_NOTIFIED),
        apart: (ABSENT_UNNOTIFIED, PRESENT, ABSENT_UNNOTIFIED),
        long_ago: (ABSENT_UNNOTIFIED, ABSENT_NOTIFIED, PRESENT),
        unknown: (ABSENT_UNNOTIFIED, None, ABSENT_UNNOTIFIED),
    }
    for enrollment, statuses in marks.items():
        for meeting, status in zip((s1, s2, s3), statuses):
            if status is not None:
                await Attendance.create(meeting=meeting, enrollment=enrollment, status=status)
    runs = await absence_runs([cohort.id])
    # Nothing recorded for session 2 neither counts nor breaks: not seen there, the unknown
    # member missed sessions 1 and 3 in a row (as the follow-ups read it).
    assert {(r.enrollment_id, r.numbers, r.notified) for r in runs} == {
        (twice.id, (2, 3), 1), (long_ago.id, (1, 2), 1), (unknown.id, (1, 3), 0)}
    # Sessions 2 and 3 were 14 and 7 days ago: with no supervision meeting the period is the
    # last 7 days, so only the runs that ended with session 3 (7 days ago, at 18:00) are new.
    now = s3.starts_at + timedelta(days=6)
    agenda = await agenda_of(supervisor, now=now)
    assert members(agenda, FlagKind.ABSENCES) == {twice.id, unknown.id}
    by_member = {f.enrollment_id: f for f in flagged(agenda, FlagKind.ABSENCES)}
    assert by_member[twice.id].meeting_id == s3.id and "sessions 2, 3" in by_member[twice.id].text
    assert "sessions 1, 3" in by_member[unknown.id].text


async def test_not_improving_by_mid_treatment(world):
    supervisor, _, cohort, meetings = await supervised_group(world, "improving")
    start = meetings[0].starts_at
    cases = {
        "slow": (15, 13),  # 13% lower: flagged
        "exactly": (15, 12),  # 20% lower exactly: improving
        "below": (8, 8),  # below the clinical threshold at baseline: not counted
        "baseline only": (15, None),  # nothing later to compare
    }
    enrollments = {}
    for name, (baseline, latest) in cases.items():
        enrollments[name] = e = await member(cohort, f"Member {name}")
        await phq9(e, baseline, "baseline", start - timedelta(days=3))
        if latest is not None:
            await phq9(e, latest, "session-3", meetings[2].starts_at - timedelta(hours=2))
    enrollments["no answers"] = await member(cohort, "Member no answers")
    before = await agenda_of(supervisor)
    assert flagged(before, FlagKind.NOT_IMPROVING) == [], "session 4, the midpoint of sessions 2-7, is not held yet"
    await type(meetings[3]).filter(id=meetings[3].id).update(status=MeetingStatus.COMPLETED)
    after = await agenda_of(supervisor)
    assert members(after, FlagKind.NOT_IMPROVING) == {enrollments["slow"].id}
    [flag] = flagged(after, FlagKind.NOT_IMPROVING)
    assert "PHQ-9 13" in flag.text and "baseline of 15" in flag.text and flag.href.endswith("/measures")
    assert "clinic's setting" in after.improvement_rule and "20%" in after.improvement_rule
    stricter = await agenda_of(supervisor, percent=25)
    assert members(stricter, FlagKind.NOT_IMPROVING) == {enrollments["slow"].id, enrollments["exactly"].id}


async def test_completed_meetings_without_a_checklist(world):
    supervisor, facilitator, cohort, meetings = await supervised_group(world, "checklists")
    for meeting in meetings[:2]:
        await SessionChecklist.create(meeting=meeting, checklist="group:middle", items=[], submitted_by=facilitator,
                                      submitted_at=meeting.ends_at)
    agenda = await agenda_of(supervisor)
    assert [f.meeting_id for f in flagged(agenda, FlagKind.MISSING_CHECKLIST)] == [meetings[2].id]
    assert flagged(agenda, FlagKind.MISSING_CHECKLIST)[0].href == f"/meetings/{meetings[2].id}"


async def test_questionnaires_missed_during_the_period(world):
    supervisor, _, cohort, meetings = await supervised_group(world, "missed")
    e = await member(cohort, "Member missing answers")
    await Enrollment.filter(id=e.id).update(created_at=meetings[0].starts_at - timedelta(days=7))
    e = await Enrollment.get(id=e.id).prefetch_related("member")
    now = meetings[2].ends_at + timedelta(days=1)  # the period: 6 days before session 3 ended, to a day after
    agenda = await agenda_of(supervisor, now=now)
    missed = flagged(agenda, FlagKind.MISSED_MEASURE)
    assert [(f.enrollment_id, f.meeting_id) for f in missed] == [(e.id, meetings[2].id)]
    assert "PHQ-9" in missed[0].text and missed[0].overdue
    await phq9(e, 11, "session-3", meetings[2].starts_at)
    assert flagged(await agenda_of(supervisor, now=now), FlagKind.MISSED_MEASURE) == []


async def test_closure_summaries_awaiting_sign_off(world):
    supervisor, _, cohort, _ = await supervised_group(world, "sign-off")
    waiting, drafting = await member(cohort, "Member waiting"), await member(cohort, "Member drafting")
    summary = await ClosureSummary.create(enrollment=waiting, status=SummaryStatus.AWAITING_SIGNOFF, content={})
    await ClosureSummary.create(enrollment=drafting, status=SummaryStatus.DRAFT, content={})
    agenda = await agenda_of(supervisor)
    assert [(f.record_id, f.href) for f in flagged(agenda, FlagKind.AWAITING_SIGNOFF)] == [
        (summary.id, f"/summaries/{summary.id}")]


async def test_open_actions_carry_over_until_done(world):
    supervisor, facilitator, _, _ = await supervised_group(world, "actions")
    today = datetime.now(UTC).date()
    old = await SupervisionMeeting.create(supervisor=supervisor, held_on=today - timedelta(days=14), created_by=supervisor)
    last = await SupervisionMeeting.create(supervisor=supervisor, held_on=today - timedelta(days=7), created_by=supervisor)
    overdue = await SupervisionAction.create(meeting=old, text="Role-play practice", owner=facilitator,
                                             due_on=today - timedelta(days=1))
    coming = await SupervisionAction.create(meeting=last, text="Review the checklist", owner=supervisor,
                                            due_on=today + timedelta(days=3))
    await SupervisionAction.create(meeting=old, text="Done already", owner=facilitator, due_on=today,
                                   done_at=datetime.now(UTC), done_by=supervisor)
    agenda = await agenda_of(supervisor)
    assert agenda.last_meeting.id == last.id and agenda.since_day == last.held_on
    actions = flagged(agenda, FlagKind.OPEN_ACTION)
    assert [(f.record_id, f.overdue) for f in actions] == [(overdue.id, True), (coming.id, False)]
    assert actions[0].href == f"/supervision/meetings/{old.id}"
    await SupervisionAction.filter(id=overdue.id).update(done_at=datetime.now(UTC), done_by_id=supervisor.id)
    assert [f.record_id for f in flagged(await agenda_of(supervisor), FlagKind.OPEN_ACTION)] == [coming.id]


async def test_only_the_supervised_facilitators_cohorts_are_read(world):
    supervisor, _, cohort, _ = await supervised_group(world, "scope")
    mine = await member(cohort, "Member in scope")
    others = await member(world.other_cohort, "Member out of scope")
    for e in (mine, others):
        await SafetyItem.create(enrollment=e, item9=1, status=SafetyItemStatus.OPEN)
        await ClosureSummary.create(enrollment=e, status=SummaryStatus.AWAITING_SIGNOFF, content={})
    agenda = await agenda_of(supervisor)
    assert {f.enrollment_id for f in agenda.flags if f.enrollment_id} == {mine.id}
    assert [c.id for c in agenda.cohorts] == [cohort.id]
    assert not any(f.cohort_id == world.other_cohort.id for f in agenda.flags)


async def busy_cohort(world, supervisor, facilitator, name: str):
    """A cohort with every kind of flag, for counting statements."""
    cohort, meetings = await make_cohort(world.template, f"Busy {name}", facilitator)
    await type(meetings[3]).filter(id=meetings[3].id).update(status=MeetingStatus.COMPLETED)
    for n in range(3):
        e = await member(cohort, f"Busy {name} {n}")
        await phq9(e, 15, "baseline", meetings[0].starts_at - timedelta(days=2))
        await phq9(e, 14, "session-3", meetings[2].starts_at)
        for meeting in meetings[1:4]:
            await Attendance.create(meeting=meeting, enrollment=e, status=ABSENT_UNNOTIFIED)
        await SafetyItem.create(enrollment=e, item9=1, status=SafetyItemStatus.OPEN)
        await ClosureSummary.create(enrollment=e, status=SummaryStatus.AWAITING_SIGNOFF, content={})
    return cohort


async def test_the_agenda_takes_the_same_statements_for_one_cohort_or_four(world):
    counts = {}
    for size in (1, 4):
        supervisor = await make_user(Role.FACILITATOR, f"Counting supervisor {size}")
        for n in range(size):
            facilitator = await make_user(Role.FACILITATOR, f"Counting facilitator {size}-{n}")
            await Supervision.create(supervisor=supervisor, facilitator=facilitator)
            await busy_cohort(world, supervisor, facilitator, f"{size}-{n}")
        meeting = await SupervisionMeeting.create(supervisor=supervisor, held_on=datetime.now(UTC).date() - timedelta(days=7))
        await SupervisionAction.create(meeting=meeting, text="Follow up", owner=supervisor, due_on=meeting.held_on)
        with statements() as sql:
            agenda = await agenda_of(supervisor)
        assert {f.kind for f in agenda.flags} >= {FlagKind.SAFETY_OPEN, FlagKind.ABSENCES, FlagKind.NOT_IMPROVING,
                                                  FlagKind.MISSING_CHECKLIST, FlagKind.AWAITING_SIGNOFF,
                                                  FlagKind.OPEN_ACTION}
        assert len(members(agenda, FlagKind.ABSENCES)) == 3 * size
        counts[size] = len(sql)
    assert counts[1] == counts[4] and counts[1] > 10, counts
