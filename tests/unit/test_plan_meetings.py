"""plan_meetings: numbering, phases, individual meetings, DST, skip dates, refusals."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from calendars.errors import PlanError
from calendars.meetings import Busy, Facilitator
from calendars import CohortSpec, IndividualHours, member_meetings, plan_meetings
from calendars.protocols import shipped_template
from calendars.vocabulary import MeetingKind, Phase
from calendars.wallclock import WallClockAdjustment

NOW = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
DANA = Facilitator(id="f1", name="Dana")
LEE = Facilitator(id="f2", name="Lee")


def spec(template="who-group-ipt", **changes) -> CohortSpec:
    values = dict(
        template=shipped_template(template),
        time_zone="America/New_York",
        start_date=date(2027, 1, 5),  # a Tuesday
        start_time=time(18, 0),
        facilitators=(DANA,),
    )
    values.update(changes)
    return CohortSpec(**values)


def group(plan):
    return plan.group_sessions


# -- each shipped template ---------------------------------------------------------------


def test_who_plan_numbers_eight_weekly_sessions_with_phases():
    plan = plan_meetings(spec=spec(), now=NOW, members=["m1", "m2"])
    sessions = group(plan)
    assert [m.title for m in sessions][:3] == ["Group session 1 of 8", "Group session 2 of 8", "Group session 3 of 8"]
    assert [m.local_date for m in sessions] == [date(2027, 1, 5) + timedelta(weeks=i) for i in range(8)]
    assert [m.phase for m in sessions] == [Phase.INITIAL] + [Phase.MIDDLE] * 6 + [Phase.TERMINATION]
    assert all(m.start.time() == time(18, 0) and m.end.time() == time(19, 30) for m in sessions)
    pre = [m for m in plan.meetings if m.kind is MeetingKind.PREGROUP]
    assert [(m.member, m.title) for m in pre] == [("m1", "Individual meeting"), ("m2", "Individual meeting")]
    assert all(date(2026, 12, 29) <= m.local_date <= date(2027, 1, 4) for m in pre)
    assert all(m.minutes == 50 for m in pre)


def test_uganda_plan_puts_two_pre_group_meetings_in_the_two_weeks_before():
    plan = plan_meetings(spec=spec("uganda-ipt-g", capacity=8), now=NOW, members=["m1"])
    assert len(group(plan)) == 16
    assert group(plan)[-1].title == "Group session 16 of 16"
    first, second = [m for m in plan.meetings if m.kind is MeetingKind.PREGROUP]
    assert (first.title, second.title) == ("Individual meeting 1 of 2", "Individual meeting 2 of 2")
    assert date(2026, 12, 22) <= first.local_date <= date(2026, 12, 28)
    assert date(2026, 12, 29) <= second.local_date <= date(2027, 1, 4)
    assert [m.phase for m in group(plan)].count(Phase.INITIAL) == 4


def test_wilfley_plan_has_mid_group_between_10_and_11_and_post_within_a_week():
    plan = plan_meetings(spec=spec("wilfley-ipt-g", facilitators=(DANA, LEE)), now=NOW, members=["m1", "m2", "m3"])
    sessions = {m.number: m for m in group(plan)}
    mids = [m for m in plan.meetings if m.kind is MeetingKind.MID]
    posts = [m for m in plan.meetings if m.kind is MeetingKind.POST]
    assert len(mids) == len(posts) == 3
    for mid in mids:
        assert sessions[10].end < mid.start and mid.end < sessions[11].start
        assert mid.title == "Individual check-in" and mid.phase is Phase.MIDDLE
    for post in posts:
        assert sessions[20].end < post.start
        assert post.local_date <= sessions[20].local_date + timedelta(days=7)
        assert post.title == "Individual follow-up" and post.phase is Phase.TERMINATION


def test_co_facilitators_take_members_in_turn_and_never_double_book():
    plan = plan_meetings(spec=spec("wilfley-ipt-g", facilitators=(DANA, LEE)), now=NOW, members=["m1", "m2", "m3"])
    pre = {m.member: m for m in plan.meetings if m.kind is MeetingKind.PREGROUP}
    assert (pre["m1"].facilitators, pre["m2"].facilitators, pre["m3"].facilitators) == (("f1",), ("f2",), ("f1",))
    assert pre["m1"].start == pre["m2"].start  # two facilitators, two rooms
    assert pre["m3"].start >= pre["m1"].end
    assert all(m.facilitators == ("f1", "f2") for m in group(plan))


def test_without_facilitators_individual_meetings_are_booked_one_after_another():
    plan = plan_meetings(spec=spec(facilitators=()), now=NOW, members=["a", "b", "c"])
    pre = [m for m in plan.meetings if m.kind is MeetingKind.PREGROUP]
    assert pre[0].end <= pre[1].start and pre[1].end <= pre[2].start
    assert "No facilitator assigned yet" in " ".join(plan.warnings)


def test_start_date_off_the_weekday_moves_session_one_to_that_weekday():
    plan = plan_meetings(spec=spec(start_date=date(2027, 1, 4), weekday=3), now=NOW)  # Monday, Thursday groups
    assert group(plan)[0].local_date == date(2027, 1, 7)


def test_cohort_overrides_session_count_length_and_phase_split():
    plan = plan_meetings(
        spec=spec(group_sessions=12, initial_sessions=2, termination_sessions=3, session_minutes=60), now=NOW
    )
    sessions = group(plan)
    assert sessions[-1].title == "Group session 12 of 12"
    assert [m.phase for m in sessions].count(Phase.TERMINATION) == 3
    assert sessions[0].end - sessions[0].start == timedelta(minutes=60)


# -- DST: wall clock kept; nonexistent and ambiguous local times -----------------------------


def test_new_york_weekly_session_keeps_18_00_across_spring_forward():
    plan = plan_meetings(spec=spec(start_date=date(2027, 3, 2)), now=NOW)  # Tuesdays, DST starts 14 March
    before, after = group(plan)[1], group(plan)[2]
    assert (before.local_date, after.local_date) == (date(2027, 3, 9), date(2027, 3, 16))
    assert before.start.time() == after.start.time() == time(18, 0)
    assert before.start_utc.time() == time(23, 0) and after.start_utc.time() == time(22, 0)


def test_new_york_weekly_session_keeps_18_00_across_fall_back():
    plan = plan_meetings(spec=spec(start_date=date(2027, 10, 26)), now=NOW)  # DST ends 7 November
    utc_times = [m.start_utc.time() for m in group(plan)[:3]]
    assert utc_times == [time(22, 0), time(22, 0), time(23, 0)]
    assert {m.start.time() for m in group(plan)} == {time(18, 0)}


def test_new_york_nonexistent_time_moves_forward_by_the_gap():
    # Sunday groups at 02:30; on 14 March 2027 clocks jump from 02:00 to 03:00.
    plan = plan_meetings(spec=spec(start_date=date(2027, 3, 7), start_time=time(2, 30)), now=NOW)
    normal, shifted, after = group(plan)[:3]
    assert shifted.local_date == date(2027, 3, 14)
    assert shifted.start.time() == time(3, 30) and shifted.start.tzname() == "EDT"
    assert shifted.start_utc == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)
    assert shifted.adjustment is WallClockAdjustment.NONEXISTENT
    assert shifted.wall_time == time(2, 30)  # what the schedule asked for is kept
    assert after.start.time() == time(2, 30) and normal.start.time() == time(2, 30)
    assert any("02:30 does not exist on 2027-03-14" in w and "starts at 03:30" in w for w in plan.warnings)


def test_new_york_ambiguous_time_means_the_first_occurrence():
    # Sunday groups at 01:30; on 7 November 2027 01:00-02:00 happens twice.
    plan = plan_meetings(spec=spec(start_date=date(2027, 10, 31), start_time=time(1, 30)), now=NOW)
    ambiguous = group(plan)[1]
    assert ambiguous.local_date == date(2027, 11, 7)
    assert ambiguous.start.tzname() == "EDT"
    assert ambiguous.start_utc == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
    assert ambiguous.adjustment is WallClockAdjustment.AMBIGUOUS
    # A 90-minute session across the change lasts 90 real minutes: it ends at 02:00 EST.
    assert ambiguous.end_utc - ambiguous.start_utc == timedelta(minutes=90)
    assert ambiguous.end.time() == time(2, 0) and ambiguous.end.tzname() == "EST"
    assert any("happens twice on 2027-11-07" in w for w in plan.warnings)


def test_london_nonexistent_time_on_spring_forward_day():
    plan = plan_meetings(
        spec=spec(time_zone="Europe/London", start_date=date(2027, 3, 21), start_time=time(1, 30)), now=NOW
    )
    shifted = group(plan)[1]
    assert shifted.local_date == date(2027, 3, 28)
    assert (shifted.start.time(), shifted.start.tzname()) == (time(2, 30), "BST")
    assert shifted.start_utc == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


def test_london_ambiguous_time_on_fall_back_day():
    plan = plan_meetings(
        spec=spec(time_zone="Europe/London", start_date=date(2027, 10, 24), start_time=time(1, 30)), now=NOW
    )
    first_of_two = group(plan)[1]
    assert first_of_two.local_date == date(2027, 10, 31)
    assert first_of_two.start.tzname() == "BST"
    assert first_of_two.start_utc == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_london_evening_sessions_on_both_transition_days():
    plan = plan_meetings(
        spec=spec(time_zone="Europe/London", start_date=date(2027, 3, 21), start_time=time(18, 0),
                  group_sessions=20), now=NOW,
    )
    by_date = {m.local_date: m for m in group(plan)}
    assert by_date[date(2027, 3, 21)].start_utc.time() == time(18, 0)
    assert by_date[date(2027, 3, 28)].start_utc.time() == time(17, 0)
    assert by_date[date(2027, 3, 28)].start.time() == time(18, 0)
    assert by_date[date(2027, 3, 28)].adjustment is WallClockAdjustment.NONE


# -- skip dates ------------------------------------------------------------------------------


def test_skip_date_pushes_that_session_and_the_rest_one_cadence_later():
    plan = plan_meetings(spec=spec(skip_dates=frozenset({date(2027, 1, 19)})), now=NOW)
    dates = [m.local_date for m in group(plan)]
    assert dates[:3] == [date(2027, 1, 5), date(2027, 1, 12), date(2027, 1, 26)]
    assert dates[-1] == date(2027, 3, 2)  # eight sessions, nine weeks
    assert [m.number for m in group(plan)] == list(range(1, 9))


def test_consecutive_skip_dates_cascade():
    skips = frozenset({date(2027, 1, 19), date(2027, 1, 26)})
    dates = [m.local_date for m in group(plan_meetings(spec=spec(skip_dates=skips), now=NOW))]
    assert dates[2] == date(2027, 2, 2)


def test_skip_date_off_the_session_day_only_blocks_individual_meetings():
    skips = frozenset(date(2026, 12, 29) + timedelta(days=i) for i in range(6))  # Tue 29 Dec - Sun 3 Jan
    plan = plan_meetings(spec=spec(skip_dates=skips), now=NOW, members=["m1"])
    pre = next(m for m in plan.meetings if m.kind is MeetingKind.PREGROUP)
    assert pre.local_date == date(2027, 1, 4)  # the only free weekday left in the window
    assert group(plan)[0].local_date == date(2027, 1, 5)
    assert plan.unused_skip_dates[0] == date(2026, 12, 29)
    assert any("fall on no group session" in w for w in plan.warnings)


# -- refusals that say what to change -------------------------------------------------------


def refused(**kwargs) -> dict[str, list[str]]:
    with pytest.raises(PlanError) as info:
        plan_meetings(**kwargs)
    return info.value.by_field()


def test_unknown_zone_suggests_the_close_one():
    problems = refused(spec=spec(time_zone="America/NewYork"), now=NOW)
    assert problems["time_zone"] == ["Unknown time zone 'America/NewYork'; did you mean 'America/New_York'?"]


@pytest.mark.parametrize("name", ["", "Mars/Olympus", "../../etc/passwd", " Europe/London"])
def test_nonsense_zones_are_refused(name):
    assert "time_zone" in refused(spec=spec(time_zone=name), now=NOW)


def test_zero_sessions_are_refused():
    assert "between 3 and 26; got 0" in refused(spec=spec(group_sessions=0), now=NOW)["group_sessions"][0]


def test_too_many_sessions_are_refused():
    assert "got 52" in refused(spec=spec(group_sessions=52), now=NOW)["group_sessions"][0]


def test_start_date_in_the_past_names_the_earliest_start():
    message = refused(spec=spec(start_date=date(2026, 11, 3)), now=NOW)["start_date"][0]
    assert "in the past" in message
    assert "on or after 2026-12-01" in message  # next Tuesday with a day left for the pre-group meeting


def test_start_too_soon_for_two_pre_group_meetings():
    message = refused(spec=spec("uganda-ipt-g", start_date=date(2026, 11, 24)), now=NOW)["start_date"][0]
    assert "the 2 pre-group meetings" in message and "on or after 2026-12-08" in message
    plan_meetings(spec=spec("uganda-ipt-g", start_date=date(2026, 12, 8)), now=NOW, members=["m"])


def test_an_existing_cohort_may_be_replanned_after_it_started():
    plan = plan_meetings(spec=spec(start_date=date(2026, 11, 3)), now=NOW, new_cohort=False)
    assert group(plan)[0].local_date == date(2026, 11, 3)


def test_capacity_outside_the_template_bounds():
    assert refused(spec=spec(capacity=14), now=NOW)["capacity"] == [
        "Capacity 14 is outside this protocol's group size; choose 4 to 12."
    ]
    assert "choose 6 to 12" in refused(spec=spec("wilfley-ipt-g", capacity=5), now=NOW)["capacity"][0]


def test_capacity_below_the_target_is_allowed_with_a_warning():
    plan = plan_meetings(spec=spec(capacity=4), now=NOW)
    assert any("below the 6-9 members" in w for w in plan.warnings)


def test_more_members_than_capacity():
    problems = refused(spec=spec(capacity=4), now=NOW, members=["a", "b", "c", "d", "e"])
    assert "5 members do not fit a capacity of 4" in problems["capacity"][0]


def test_overlapping_meetings_of_the_same_facilitator_are_refused():
    other = Busy(
        facilitator="f1",
        start=datetime(2027, 1, 19, 18, 30, tzinfo=NY),
        end=datetime(2027, 1, 19, 20, 0, tzinfo=NY),
        label="Thursday cohort session 5 of 8",
    )
    problems = refused(spec=spec(), now=NOW, busy=[other])["start_time"]
    assert problems == [
        "Group session 3 of 8 on Tue 2027-01-19 18:00-19:30 overlaps Dana's Thursday cohort session 5 of 8 "
        "(Tue 2027-01-19 18:30-20:00); choose another time or weekday, or another facilitator."
    ]


def test_another_facilitators_busy_time_is_no_clash():
    other = Busy(facilitator="f9", start=datetime(2027, 1, 19, 18, 0, tzinfo=NY),
                 end=datetime(2027, 1, 19, 20, 0, tzinfo=NY), label="x")
    plan_meetings(spec=spec(), now=NOW, busy=[other])


def test_individual_meetings_avoid_the_facilitators_busy_time():
    busy = [Busy(facilitator="f1", start=datetime(2026, 12, 29, 9, 0, tzinfo=NY),
                 end=datetime(2026, 12, 29, 12, 0, tzinfo=NY), label="clinic")]
    plan = plan_meetings(spec=spec(), now=NOW, members=["m1"], busy=busy)
    pre = next(m for m in plan.meetings if m.kind is MeetingKind.PREGROUP)
    assert pre.start == datetime(2026, 12, 29, 12, 0, tzinfo=NY)


def test_several_problems_are_reported_together():
    problems = refused(spec=spec(time_zone="Nowhere/City", capacity=40, weekday=9), now=NOW)
    assert {"time_zone", "capacity", "weekday"} <= set(problems)


def test_no_free_individual_slot_says_to_widen_the_hours():
    hours = IndividualHours(first_start=time(9, 0), last_end=time(9, 30))
    problems = refused(spec=spec(individual_hours=hours), now=NOW, members=["m1"])
    assert "widen the individual-meeting hours" in problems["individual_hours"][0]


def test_now_must_be_aware():
    with pytest.raises(ValueError, match="aware"):
        plan_meetings(spec=spec(), now=datetime(2026, 11, 23, 19, 0))


# -- late joiners -----------------------------------------------------------------------------


def test_late_joiner_gets_pre_group_meetings_before_the_next_session():
    s = spec("uganda-ipt-g", start_date=date(2026, 11, 10))
    plan = plan_meetings(spec=s, now=NOW, new_cohort=False)  # sessions 1-3 on 10, 17, 24 Nov
    meetings = member_meetings(
        spec=s, protocol=plan.protocol, group_sessions=plan.group_sessions, member="late",
        taken=plan.meetings, busy=(), now=NOW, late_join=True, facilitator="f1",
    )
    pre = [m for m in meetings if m.kind is MeetingKind.PREGROUP]
    assert len(pre) == 2 and pre[0].local_date < pre[1].local_date
    assert all(NOW < m.start and m.end <= plan.group_sessions[2].start for m in pre)


def test_late_join_after_the_cutoff_is_refused():
    s = spec("uganda-ipt-g", start_date=date(2026, 10, 27))  # session 5 is the next one on 24 November
    plan = plan_meetings(spec=s, now=NOW, new_cohort=False)
    with pytest.raises(PlanError, match="up to session 3; the next session is 5"):
        member_meetings(spec=s, protocol=plan.protocol, group_sessions=plan.group_sessions, member="late",
                        taken=plan.meetings, busy=(), now=NOW, late_join=True, facilitator="f1")


def test_who_late_joiner_cannot_miss_the_whole_initial_phase():
    # WHO Group IPT's initial phase is session 1 alone (S6), so its cutoff is session 1.
    s = spec(start_date=date(2026, 11, 17))  # session 1 held on 17 November, session 2 next
    plan = plan_meetings(spec=s, now=NOW, new_cohort=False)
    with pytest.raises(PlanError, match="up to session 1; the next session is 2"):
        member_meetings(spec=s, protocol=plan.protocol, group_sessions=plan.group_sessions, member="late",
                        taken=plan.meetings, busy=(), now=NOW, late_join=True, facilitator="f1")
