"""Changes to a running schedule: each one bumps SEQUENCE and the revision time."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from calendars.changes import (
    MakeUp,
    add_skip_dates,
    cancel,
    reschedule,
    schedule_make_up,
    shift_remaining,
)
from calendars.errors import ChangeError
from calendars.meetings import Busy, Facilitator
from calendars import CohortSpec, plan_meetings
from calendars.protocols import shipped_template
from calendars.vocabulary import MeetingKind, MeetingStatus, Phase

NY = ZoneInfo("America/New_York")
CREATED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
NOW = datetime(2027, 1, 20, 12, 0, tzinfo=UTC)  # after session 3 (19 Jan), before session 4


def stored(template="who-group-ipt", start=date(2027, 1, 5), members=("m1",), **changes):
    values = dict(
        template=shipped_template(template), time_zone="America/New_York", start_date=start,
        start_time=time(18, 0), facilitators=(Facilitator(id="f1", name="Dana"),),
    )
    spec = CohortSpec(**(values | changes))
    plan = plan_meetings(spec=spec, now=CREATED, members=list(members))
    return [replace(m, uid=f"uid-{m.key}", revised_at=CREATED) for m in plan.meetings]


def session(meetings, number):
    return next(m for m in meetings if m.is_group and m.number == number and m.is_active)


def by_uid(result, uid):
    return next(m for m in result.meetings if m.uid == uid)


# -- reschedule -------------------------------------------------------------------------------


def test_reschedule_moves_one_meeting_and_bumps_its_sequence():
    meetings = stored()
    target = session(meetings, 5)  # Tue 2 Feb
    result = reschedule(meetings=meetings, uid=target.uid, day=date(2027, 2, 4), wall_time=time(17, 0), now=NOW)
    moved = by_uid(result, target.uid)
    assert moved.start == datetime(2027, 2, 4, 17, 0, tzinfo=NY)
    assert moved.end == datetime(2027, 2, 4, 18, 30, tzinfo=NY)
    assert (moved.sequence, moved.revised_at) == (1, NOW)
    assert moved.title == "Group session 5 of 8"
    assert result.changed == (moved,)
    untouched = [m for m in result.meetings if m.uid != target.uid]
    assert all(m.sequence == 0 and m.revised_at == CREATED for m in untouched)


def test_reschedule_past_the_next_session_is_refused_and_points_to_shift():
    meetings = stored()
    with pytest.raises(ChangeError) as info:
        reschedule(meetings=meetings, uid=session(meetings, 5).uid, day=date(2027, 2, 10), wall_time=time(18), now=NOW)
    message = info.value.problems[0].message
    assert "Session 5 must stay after session 4" in message and "before session 6" in message
    assert "shift the remaining sessions" in message


def test_reschedule_into_the_past_is_refused():
    meetings = stored()
    with pytest.raises(ChangeError, match="is in the past"):
        reschedule(meetings=meetings, uid=session(meetings, 4).uid, day=date(2027, 1, 20), wall_time=time(6), now=NOW)


def test_a_meeting_that_already_happened_cannot_be_moved():
    meetings = stored()
    with pytest.raises(ChangeError, match="already started"):
        reschedule(meetings=meetings, uid=session(meetings, 2).uid, day=date(2027, 1, 21), wall_time=time(18), now=NOW)


def test_reschedule_to_the_same_time_changes_nothing():
    meetings = stored()
    result = reschedule(meetings=meetings, uid=session(meetings, 5).uid, day=date(2027, 2, 2), wall_time=time(18), now=NOW)
    assert result.changed == ()


def test_reschedule_onto_a_busy_facilitator_is_refused():
    meetings = stored()
    busy = [Busy(facilitator="f1", start=datetime(2027, 2, 4, 17, 30, tzinfo=NY),
                 end=datetime(2027, 2, 4, 19, 0, tzinfo=NY), label="another cohort's session")]
    with pytest.raises(ChangeError, match="overlaps Dana's another cohort's session"):
        reschedule(meetings=meetings, uid=session(meetings, 5).uid, day=date(2027, 2, 4), wall_time=time(17),
                   now=NOW, busy=busy, names={"f1": "Dana"})


def test_reschedule_onto_a_nonexistent_local_time_follows_the_rule():
    meetings = stored(start=date(2027, 3, 2))
    now = datetime(2027, 3, 3, tzinfo=UTC)
    result = reschedule(meetings=meetings, uid=session(meetings, 2).uid, day=date(2027, 3, 14), wall_time=time(2, 30), now=now)
    moved = by_uid(result, session(meetings, 2).uid)
    assert (moved.start.time(), moved.start.tzname()) == (time(3, 30), "EDT")


def test_unknown_meeting_is_refused():
    with pytest.raises(ChangeError, match="No such meeting"):
        reschedule(meetings=stored(), uid="nope", day=date(2027, 2, 4), wall_time=time(18), now=NOW)


# -- cancel and make-up -------------------------------------------------------------------------


def test_cancel_keeps_the_meeting_as_cancelled_with_a_new_sequence():
    meetings = stored()
    target = session(meetings, 5)
    result = cancel(meetings=meetings, uid=target.uid, now=NOW)
    cancelled = by_uid(result, target.uid)
    assert cancelled.status is MeetingStatus.CANCELLED
    assert (cancelled.sequence, cancelled.revised_at, cancelled.start) == (1, NOW, target.start)
    assert len(result.meetings) == len(meetings)
    assert session(result.meetings, 6).title == "Group session 6 of 8"  # later numbers stay


def test_cancel_with_make_up_keeps_the_numbering():
    meetings = stored()
    target = session(meetings, 5)
    result = cancel(meetings=meetings, uid=target.uid, now=NOW,
                    make_up=MakeUp(day=date(2027, 2, 4), wall_time=time(18), uid="uid-make-up"))
    (make_up,) = result.added
    assert make_up.title == "Group session 5 of 8 (make-up)"
    assert (make_up.number, make_up.phase, make_up.kind) == (5, Phase.MIDDLE, MeetingKind.GROUP)
    assert (make_up.sequence, make_up.revised_at, make_up.makeup_for) == (0, NOW, target.uid)
    assert make_up.start == datetime(2027, 2, 4, 18, 0, tzinfo=NY)
    numbers = [m.number for m in result.meetings if m.is_group and m.is_active]
    assert numbers == list(range(1, 9))
    assert result.touched == (by_uid(result, target.uid), make_up)


def test_make_up_after_the_next_session_is_refused():
    meetings = stored()
    with pytest.raises(ChangeError) as info:
        cancel(meetings=meetings, uid=session(meetings, 5).uid, now=NOW,
               make_up=MakeUp(day=date(2027, 2, 11), wall_time=time(18), uid="mu"))
    assert info.value.problems[0].field == "make_up_day"
    assert "The make-up for session 5 must stay" in info.value.problems[0].message


def test_make_up_for_an_earlier_cancellation_and_only_one():
    meetings = stored()
    target = session(meetings, 5)
    first = cancel(meetings=meetings, uid=target.uid, now=NOW)
    second = schedule_make_up(meetings=first.meetings, uid=target.uid, now=NOW,
                              make_up=MakeUp(day=date(2027, 2, 3), wall_time=time(18), uid="mu-1"))
    assert second.added[0].number == 5 and second.changed == ()
    with pytest.raises(ChangeError, match="already has a make-up"):
        schedule_make_up(meetings=second.meetings, uid=target.uid, now=NOW,
                         make_up=MakeUp(day=date(2027, 2, 4), wall_time=time(18), uid="mu-2"))


def test_make_up_needs_a_cancelled_meeting():
    meetings = stored()
    with pytest.raises(ChangeError, match="is not cancelled"):
        schedule_make_up(meetings=meetings, uid=session(meetings, 5).uid, now=NOW,
                         make_up=MakeUp(day=date(2027, 2, 4), wall_time=time(18), uid="mu"))


def test_a_cancelled_meeting_cannot_be_cancelled_or_moved_again():
    meetings = stored()
    uid = session(meetings, 5).uid
    result = cancel(meetings=meetings, uid=uid, now=NOW)
    with pytest.raises(ChangeError, match="is cancelled"):
        cancel(meetings=result.meetings, uid=uid, now=NOW)
    with pytest.raises(ChangeError, match="schedule a make-up"):
        reschedule(meetings=result.meetings, uid=uid, day=date(2027, 2, 4), wall_time=time(18), now=NOW)


def test_cancel_an_individual_meeting_with_a_make_up():
    meetings = stored(start=date(2027, 2, 2))
    now = datetime(2027, 1, 20, tzinfo=UTC)
    pre = next(m for m in meetings if m.kind is MeetingKind.PREGROUP)
    result = cancel(meetings=meetings, uid=pre.uid, now=now,
                    make_up=MakeUp(day=date(2027, 1, 29), wall_time=time(11), uid="mu"))
    assert result.added[0].member == "m1" and result.added[0].title == "Individual meeting (make-up)"


# -- shift remaining and skip dates ---------------------------------------------------------------


def test_shift_remaining_moves_every_upcoming_meeting_one_cadence_keeping_wall_time():
    meetings = stored(start=date(2027, 2, 23))  # sessions into DST (14 March)
    now = datetime(2027, 3, 3, tzinfo=UTC)  # after session 2 (2 March)
    result = shift_remaining(meetings=meetings, now=now, cadence_days=7)
    assert session(result.meetings, 2).start == session(meetings, 2).start
    assert session(result.meetings, 2).sequence == 0
    s3_before, s3_after = session(meetings, 3), session(result.meetings, 3)
    assert s3_after.local_date == date(2027, 3, 16)
    assert s3_after.start.time() == time(18, 0) and s3_after.start.tzname() == "EDT"
    assert s3_after.start_utc - s3_before.start_utc == timedelta(days=7, hours=-1)
    assert {m.sequence for m in result.changed} == {1}
    assert len(result.changed) == 6  # sessions 3-8


def test_shift_from_a_given_session_and_through_skip_dates():
    meetings = stored()
    result = shift_remaining(meetings=meetings, now=NOW, cadence_days=7, from_session=6,
                             skip_dates={date(2027, 2, 16)})
    dates = [session(result.meetings, n).local_date for n in (5, 6, 7)]
    assert dates == [date(2027, 2, 2), date(2027, 2, 23), date(2027, 3, 2)]


def test_shift_refuses_nonsense():
    meetings = stored()
    with pytest.raises(ChangeError, match="1 to 8 cadences"):
        shift_remaining(meetings=meetings, now=NOW, cadence_days=7, cadences=0)
    with pytest.raises(ChangeError, match="Group session 2 is not an upcoming"):
        shift_remaining(meetings=meetings, now=NOW, cadence_days=7, from_session=2)


def test_adding_a_skip_date_pushes_that_session_and_the_rest():
    meetings = stored()
    result = add_skip_dates(meetings=meetings, dates=[date(2027, 2, 9)], skip_dates=(), cadence_days=7, now=NOW)
    assert session(result.meetings, 5).local_date == date(2027, 2, 2)
    assert session(result.meetings, 6).local_date == date(2027, 2, 16)
    assert session(result.meetings, 8).local_date == date(2027, 3, 2)
    assert [m.number for m in result.changed] == [6, 7, 8]
    assert result.skip_dates == {date(2027, 2, 9)}


def test_adding_a_skip_date_cascades_through_existing_ones():
    meetings = stored(skip_dates=frozenset({date(2027, 2, 16)}))
    result = add_skip_dates(meetings=meetings, dates=[date(2027, 2, 9)], skip_dates={date(2027, 2, 16)},
                            cadence_days=7, now=NOW)
    assert session(result.meetings, 6).local_date == date(2027, 2, 23)


def test_skip_dates_in_the_past_are_refused():
    with pytest.raises(ChangeError, match="must be after today"):
        add_skip_dates(meetings=stored(), dates=[date(2027, 1, 12)], skip_dates=(), cadence_days=7, now=NOW)


def test_a_skip_date_on_an_individual_meeting_is_reported():
    meetings = stored(template="wilfley-ipt-g", facilitators=())
    mid = next(m for m in meetings if m.kind is MeetingKind.MID)
    result = add_skip_dates(meetings=meetings, dates=[mid.local_date], skip_dates=(), cadence_days=7, now=NOW)
    assert result.changed == ()
    assert result.warnings == (f"Individual check-in of member m1 on {mid.local_date:%Y-%m-%d} falls on a skip date; reschedule it.",)


def test_mid_group_meeting_moves_with_the_sessions_around_it():
    meetings = stored(template="wilfley-ipt-g", facilitators=())
    s10 = session(meetings, 10)
    result = add_skip_dates(meetings=meetings, dates=[s10.local_date], skip_dates=(), cadence_days=7, now=NOW)
    mid = next(m for m in result.meetings if m.kind is MeetingKind.MID)
    assert session(result.meetings, 10).end < mid.start < session(result.meetings, 11).start
