"""The follow-up rule and the join details, as pure functions (server/reminders)."""
from __future__ import annotations

from models.reminders import FollowUpReason
from server.reminders.follow_ups import missed_run, needs_follow_up
from server.reminders.join import check_join_input, join_details

P, L, N, U = "present", "late", "absent_notified", "absent_unnotified"


def test_two_sessions_missed_in_a_row_need_a_call():
    due = needs_follow_up([(1, P), (2, N), (3, N)], in_a_row=2)
    assert due is not None and due.reason is FollowUpReason.ABSENCES_IN_A_ROW
    assert (due.run.first_meeting_id, due.run.last_meeting_id, due.run.length, due.run.unnotified) == (2, 3, 2, 0)


def test_one_absence_told_ahead_needs_no_call():
    assert needs_follow_up([(1, P), (2, N)], in_a_row=2) is None


def test_one_absence_without_a_word_needs_a_call_at_once():
    due = needs_follow_up([(1, P), (2, U)], in_a_row=2)
    assert due is not None and due.reason is FollowUpReason.ABSENT_WITHOUT_WORD and due.run.length == 1


def test_coming_back_ends_the_run():
    assert needs_follow_up([(1, N), (2, N), (3, L)], in_a_row=2) is None
    assert missed_run([(1, U), (2, P)]) is None


def test_the_number_in_a_row_is_the_clinics():
    marks = [(1, P), (2, N), (3, N)]
    assert needs_follow_up(marks, in_a_row=3) is None
    assert needs_follow_up([*marks, (4, N)], in_a_row=3).run.length == 3


def test_a_run_is_keyed_by_its_first_missed_session_as_it_grows():
    assert missed_run([(1, P), (2, U)]).first_meeting_id == missed_run([(1, P), (2, U), (3, N)]).first_meeting_id == 2


def test_a_session_with_nothing_recorded_does_not_end_the_run():
    due = needs_follow_up([(1, P), (2, N), (3, None), (4, N)], in_a_row=2)
    assert due is not None and due.run.length == 2 and (due.run.first_meeting_id, due.run.last_meeting_id) == (2, 4)
    assert needs_follow_up([(1, N), (2, "withdrawn"), (3, N)], in_a_row=2) is None


def test_no_sessions_recorded_needs_nothing():
    assert needs_follow_up([], in_a_row=2) is None


def test_a_meetings_own_link_takes_the_cohorts_place():
    assert join_details(cohort_video_link="https://a.example/x", cohort_dial_in="0800",
                        meeting_video_link="https://b.example/y").video_link == "https://b.example/y"
    both = join_details(cohort_video_link="https://a.example/x", cohort_dial_in="0800")
    assert both.online and both.dial_in == "0800"
    assert not join_details(cohort_video_link="").online


def test_join_links_must_be_https_addresses():
    for bad in ("http://meet.example.org/r", "https://", "meet.example.org/r", "https://a b.example", "javascript:alert(1)"):
        _, _, problems = check_join_input(bad, "")
        assert "https://" in problems["video_link"], bad
    link, phone, problems = check_join_input(" https://meet.example.org/r ", " +44 20 7946 0000 ")
    assert (link, phone, problems) == ("https://meet.example.org/r", "+44 20 7946 0000", {})
    assert "dial_in" in check_join_input("https://meet.example.org/r", "x" * 301)[2]
