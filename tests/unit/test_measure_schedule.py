from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from calendars.vocabulary import MeetingKind
from server.measures.instruments import Instrument
from server.measures.occasions import (
    MeetingSlot,
    InvalidMeasureSchedule,
    next_occasion,
    occasion_at,
    occasions,
    parse_schedule,
)

T0 = datetime(2026, 3, 3, 17, 0, tzinfo=timezone.utc)  # group session 1


def group(n, *, cancelled=False, mid=None):
    start = T0 + timedelta(weeks=n - 1)
    return MeetingSlot(mid or n, MeetingKind.GROUP, n, start, start + timedelta(minutes=90), cancelled)


def pregroup():
    start = T0 - timedelta(days=10)
    return MeetingSlot(100, MeetingKind.PREGROUP, 1, start, start + timedelta(hours=1))


def plan(n=8, with_pre=True):
    return ([pregroup()] if with_pre else []) + [group(i) for i in range(1, n + 1)]


ENROLLED = T0 - timedelta(days=30)


def test_default_schedule_parses():
    parsed = parse_schedule({})
    assert parsed[Instrument.PHQ9] == ("baseline", "every_group_session", "closure")
    assert parsed[Instrument.GAD7] == ("baseline", "midpoint", "closure")


@pytest.mark.parametrize("spec", [{"bdi": "baseline"}, {"phq9": "weekly"}, {"phq9": "session_x"}])
def test_bad_schedule_is_refused(spec):
    with pytest.raises(InvalidMeasureSchedule):
        parse_schedule(spec)


def test_phq9_baseline_every_session_and_closure():
    occ = occasions(("baseline", "every_group_session", "closure"), plan(), n_group_sessions=8,
                    enrolled_at=ENROLLED)
    assert [o.key for o in occ] == ["baseline"] + [f"session-{n}" for n in range(1, 8)] + ["closure"]
    assert occ[0].meeting_id == 100 and occ[0].opens_at is None
    assert occ[-1].meeting_id == 8 and occ[-1].label == "Closure"
    # session 1 opens a week before it starts (the baseline meeting ended earlier)
    assert occ[1].opens_at == T0 - timedelta(days=7)
    assert occasion_at(occ, T0 - timedelta(days=8)) is None  # between the two windows
    # session 3 opens when session 2 ended (later than a week before session 3)
    assert occ[3].opens_at == group(2).ends_at
    assert occ[3].closes_at == group(3).ends_at


def test_without_pregroup_the_first_session_is_the_baseline():
    occ = occasions(("baseline", "every_group_session"), plan(with_pre=False), n_group_sessions=8,
                    enrolled_at=ENROLLED)
    assert occ[0].key == "baseline" and occ[0].meeting_id == 1
    assert [o.key for o in occ][1] == "session-2"


def test_gad7_midpoint_uses_session_half_way():
    occ = occasions(("baseline", "midpoint", "closure"), plan(), n_group_sessions=8, enrolled_at=ENROLLED)
    assert [(o.key, o.meeting_id) for o in occ] == [("baseline", 100), ("midpoint", 4), ("closure", 8)]
    # opens a week before session 4, not right after the baseline
    assert occ[1].opens_at == group(4).starts_at - timedelta(days=7)


def test_cancelled_sessions_are_not_due():
    meetings = plan()
    meetings[3] = group(3, cancelled=True)
    occ = occasions(("every_group_session",), meetings, n_group_sessions=8, enrolled_at=ENROLLED)
    assert "session-3" not in [o.key for o in occ]


def test_every_4_sessions():
    occ = occasions(("every_4_sessions",), plan(), n_group_sessions=8, enrolled_at=ENROLLED)
    assert [o.key for o in occ] == ["session-4", "session-8"]


def test_late_joiner_is_not_asked_for_past_sessions():
    enrolled = group(2).ends_at + timedelta(hours=1)
    occ = occasions(("baseline", "every_group_session", "closure"), plan(with_pre=False),
                    n_group_sessions=8, enrolled_at=enrolled)
    assert occ[0].key == "baseline" and occ[0].meeting_id == 3
    assert "session-1" not in [o.key for o in occ] and "session-2" not in [o.key for o in occ]


def test_no_meetings_yet_leaves_an_open_baseline():
    occ = occasions(("baseline", "every_group_session"), [], n_group_sessions=8, enrolled_at=ENROLLED)
    assert len(occ) == 1 and occ[0].key == "baseline" and occ[0].closes_at is None


def test_window_lookup_and_late_answers():
    occ = occasions(("baseline", "every_group_session", "closure"), plan(), n_group_sessions=8,
                    enrolled_at=ENROLLED)
    assert occasion_at(occ, T0 - timedelta(days=20)).key == "baseline"
    assert occasion_at(occ, T0 - timedelta(hours=1)).key == "session-1"
    # during session 1 still counts for session 1; after it ended, for session 2
    assert occasion_at(occ, T0 + timedelta(minutes=30)).key == "session-1"
    assert occasion_at(occ, T0 + timedelta(hours=3)).key == "session-2"
    # after the closure meeting ended nothing is open
    assert occasion_at(occ, group(8).ends_at + timedelta(minutes=1)) is None


def test_gap_between_windows_reports_the_next_one():
    occ = occasions(("baseline", "midpoint", "closure"), plan(), n_group_sessions=8, enrolled_at=ENROLLED)
    moment = T0 + timedelta(days=1)
    assert occasion_at(occ, moment) is None
    assert next_occasion(occ, moment).key == "midpoint"
