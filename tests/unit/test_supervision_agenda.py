"""The pure rules of the supervision agenda: absence stretches, the middle phase's
midpoint, and "not improving" at the clinic's percentage (issue 17)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.board import AttendanceStatus
from server.platform.settings import Settings, SettingsError
from server.reminders.follow_ups import missed_run
from server.supervision.rules import middle_midpoint, not_improving, runs_of_absences

P, L = AttendanceStatus.PRESENT, AttendanceStatus.LATE
N, U = AttendanceStatus.ABSENT_NOTIFIED, AttendanceStatus.ABSENT_UNNOTIFIED
START = datetime(2027, 1, 5, 18, tzinfo=UTC)


def sessions(*statuses):
    return [(100 + i, i + 1, START + timedelta(days=7 * i), s) for i, s in enumerate(statuses)]


def test_two_absences_in_a_row_notified_or_not_make_a_run():
    assert runs_of_absences(sessions(P, N, U, P), 2) == [(1, 2)]
    assert runs_of_absences(sessions(U, U), 2) == [(0, 1)]


def test_absences_apart_make_no_run():
    assert runs_of_absences(sessions(U, P, N, L, U), 2) == []


def test_a_session_without_attendance_recorded_neither_counts_nor_breaks_a_run():
    # Not seen there: the absences either side are still two missed in a row (the stricter
    # reading, shared with the follow-ups).
    assert runs_of_absences(sessions(U, None, U), 2) == [(0, 2)]
    assert runs_of_absences(sessions(None, None), 1) == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([P, L, N, U, AttendanceStatus.WITHDRAWN, None]), max_size=12), st.integers(1, 4))
def test_the_agenda_and_the_follow_ups_read_in_a_row_alike(statuses, run):
    """The follow-up rule's current run is the agenda's last stretch when nothing attended
    follows it: one reading of attendance, not two."""
    rows = sessions(*statuses)
    stretches = runs_of_absences(rows, 1)
    trailing = missed_run([(meeting_id, status) for meeting_id, _, _, status in rows])
    recorded_after = stretches and any(s is not None for s in statuses[stretches[-1][-1] + 1:])
    if not stretches or recorded_after:
        assert trailing is None
    else:
        assert trailing.length == len(stretches[-1])
        assert trailing.first_meeting_id == rows[stretches[-1][0]][0]
    assert runs_of_absences(rows, run) == [s for s in stretches if len(s) >= run]


def test_a_withdrawn_mark_is_not_an_absence():
    assert runs_of_absences(sessions(U, AttendanceStatus.WITHDRAWN, U), 2) == []


def test_each_maximal_run_is_found_once_and_runs_can_be_longer():
    assert runs_of_absences(sessions(U, U, U, P, N, N), 2) == [(0, 1, 2), (4, 5)]
    assert runs_of_absences(sessions(U, U, P), 3) == []


@pytest.mark.parametrize(("phases", "expected"), [
    ([{"name": "initial", "first": 1, "last": 1}, {"name": "middle", "first": 2, "last": 7},
      {"name": "termination", "first": 8, "last": 8}], 4),  # WHO 1 + 8: sessions 2-7
    ([{"name": "initial", "first": 1, "last": 5}, {"name": "middle", "first": 6, "last": 15},
      {"name": "termination", "first": 16, "last": 20}], 10),  # Wilfley: before the mid-treatment meeting
    ([{"name": "middle", "first": 5, "last": 5}], 5),
    ([{"name": "initial", "first": 1, "last": 8}], None),  # no middle phase: no midpoint
    ([{"name": "middle", "first": "x", "last": 3}], None),
    ([], None),
])
def test_the_middle_phases_midpoint(phases, expected):
    assert middle_midpoint(phases) == expected


@pytest.mark.parametrize(("baseline", "latest", "flagged"), [
    (15, 12, False),  # a 20% drop exactly is improvement
    (15, 13, True),  # 13% lower
    (10, 8, False),  # 20% exactly
    (10, 9, True),
    (12, 12, True),  # no change
    (12, 14, True),  # worse
    (20, 4, False),
])
def test_not_improving_is_less_than_the_percentage_drop(baseline, latest, flagged):
    assert not_improving(baseline, latest, 20) is flagged


def test_the_percentage_is_the_clinics_setting():
    assert not_improving(15, 12, 25) is True  # 20% is not enough for a clinic asking 25%
    assert Settings.from_env({"GROUPIPT_SECRET_KEY": "k"}).early_improvement_percent == 20
    assert Settings.from_env({"GROUPIPT_SECRET_KEY": "k", "GROUPIPT_EARLY_IMPROVEMENT_PERCENT": "30"}
                             ).early_improvement_percent == 30


@pytest.mark.parametrize("value", ["0", "101", "-5", "twenty"])
def test_a_bad_percentage_names_the_variable(value):
    with pytest.raises(SettingsError, match="GROUPIPT_EARLY_IMPROVEMENT_PERCENT"):
        Settings.from_env({"GROUPIPT_SECRET_KEY": "k", "GROUPIPT_EARLY_IMPROVEMENT_PERCENT": value})
