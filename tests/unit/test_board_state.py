"""The board's pure state machine: commands decided against the state, events applied."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from server.board.decide import decide, favoured_order
from server.board.opening import opening_event, safety_event
from server.board.state import (
    BoardInvalid, BoardRejected, Command, Event, apply, empty_state, replay, timer_remaining_ms,
)
from server.board.vocabulary import FEEDBACK_STAGES

T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
ANA = {"id": 101, "name": "Dr Ana Ruiz"}
BEN = {"id": 102, "name": "Ben Okafor"}

ROSTER = {
    "meeting": {"id": 7, "number": 5, "phase": "middle", "title": "Group session 5 of 12"},
    "members": [
        {"id": 1, "name": "Maria Lopez", "problem_area": "role_dispute", "prior_turns": 2},
        {"id": 2, "name": "Tom Hill", "problem_area": "grief", "prior_turns": 0},
        {"id": 3, "name": "Sara Kim", "problem_area": "role_transition", "prior_turns": 1},
    ],
    "facilitators": [ANA, BEN],
    "goals": [
        {"id": 11, "member": 1, "text": "Ask my sister for help once a week"},
        {"id": 12, "member": 2, "text": "Call one friend"},
        {"id": 20, "member": None, "text": "Everyone gives one piece of positive feedback"},
    ],
    "safety": [{"id": 5, "member": 3, "item9": 1, "opened_at": "2026-11-20T10:00:00+00:00"}],
}


class Board:
    """A board in a test: commands go through decide, events through apply, like the service."""

    def __init__(self) -> None:
        self.now = T0
        self.log: list[Event] = [opening_event(ROSTER, now=self.now)]
        self.state = apply(empty_state(), self.log[0])

    def do(self, command: str, actor: dict = ANA, **data) -> Event:
        self.now += timedelta(seconds=1)
        [event] = decide(self.state, Command(command, data), actor, self.now)
        self.state = apply(self.state, event)
        self.log.append(event)
        return event

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def present(self, *members: str) -> None:
        for m in members:
            self.do("mark_attendance", member=m, status="present")

    def add_turn(self, protagonist: str = "1", **extra) -> str:
        data = {"protagonist": protagonist, "counterpart": {"kind": "facilitator", "id": "101"},
                "role_label": "my boss", "scenario": "Ask for a day off", **extra}
        return self.do("add_turn", **data).data["turn"]


@pytest.fixture
def board() -> Board:
    return Board()


def rejected(board: Board, command: str, code: str, **data) -> None:
    with pytest.raises(BoardRejected) as info:
        decide(board.state, Command(command, data), ANA, board.now)
    assert info.value.code == code, info.value.message


def invalid(board: Board, command: str, **data) -> str:
    with pytest.raises(BoardInvalid) as info:
        decide(board.state, Command(command, data), ANA, board.now)
    return info.value.code


def test_opening_event_is_for_facilitators_and_sets_up_the_roster(board: Board) -> None:
    assert board.log[0].audience == "facilitators"
    assert board.state["status"] == "open"
    assert set(board.state["members"]) == {"1", "2", "3"}
    assert board.state["members"]["1"]["first_name"] == "Maria"
    assert board.state["members"]["1"]["initials"] == "ML"
    assert board.state["safety"][0]["member"] == "3"


def test_commands_before_the_board_is_opened_are_rejected() -> None:
    with pytest.raises(BoardRejected) as info:
        decide(empty_state(), Command("undo"), ANA, T0)
    assert info.value.code == "board_not_open"


def test_unknown_command_is_invalid(board: Board) -> None:
    assert invalid(board, "launch_rockets") == "unknown_command"


def test_apply_refuses_an_event_out_of_sequence(board: Board) -> None:
    event = Event(seq=5, type="note_added", data={"text": "x"}, audience="facilitators", actor=ANA, at=T0)
    with pytest.raises(ValueError):
        apply(board.state, event)


def test_apply_does_not_mutate_the_state_it_is_given(board: Board) -> None:
    before = json.dumps(board.state, sort_keys=True)
    old = board.state
    board.present("1")
    board.add_turn()
    assert json.dumps(old, sort_keys=True) == before


# ------------------------------------------------------------------ attendance

def test_attendance_is_private_with_a_reason(board: Board) -> None:
    event = board.do("mark_attendance", member="2", status="absent_notified", reason="Child is ill")
    assert event.audience == "facilitators"
    assert board.state["attendance"]["2"] == {"status": "absent_notified", "reason": "Child is ill"}


def test_attendance_validates_status_and_member(board: Board) -> None:
    assert invalid(board, "mark_attendance", member="1", status="asleep") == "invalid_argument"
    rejected(board, "mark_attendance", "member_not_found", member="99", status="present")
    board.present("1")
    rejected(board, "mark_attendance", "no_change", member="1", status="present")


# ------------------------------------------------------------------ check-in round

def test_checkin_round_goes_through_present_members_in_roster_order(board: Board) -> None:
    board.present("3", "1")
    board.do("mark_attendance", member="2", status="late")
    board.do("start_checkin")
    assert board.state["checkin"] == {"order": ["1", "2", "3"], "index": 0, "done": False}
    board.do("next_checkin", current="1")
    assert board.state["checkin"]["index"] == 1
    board.do("next_checkin")
    board.do("next_checkin")
    assert board.state["checkin"]["done"] is True
    rejected(board, "next_checkin", "checkin_not_running")


def test_two_facilitators_pressing_next_do_not_skip_a_member(board: Board) -> None:
    board.present("1", "2")
    board.do("start_checkin")
    board.do("next_checkin", current="1")
    rejected(board, "next_checkin", "checkin_moved", current="1")


def test_checkin_needs_someone_present(board: Board) -> None:
    rejected(board, "start_checkin", "nobody_present")
    board.do("mark_attendance", member="2", status="absent_unnotified")
    rejected(board, "start_checkin", "member_absent", order=["1", "2"])


# ------------------------------------------------------------------ role play

def test_a_full_role_play_turn(board: Board) -> None:
    board.present("1", "2", "3")
    tid = board.add_turn(goal="11")
    board.do("start_turn", turn=tid)
    turn = board.state["turns"][tid]
    assert (turn["status"], turn["stage"]) == ("active", "practice")
    assert board.state["active_turn"] == tid and board.state["queue"] == []
    board.do("start_role_reversal", turn=tid)
    assert board.state["turns"][tid]["role_reversal"] is True
    board.do("start_feedback", turn=tid)
    seen = [board.state["turns"][tid]["feedback_stage"]]
    for _ in FEEDBACK_STAGES:
        board.do("next_feedback", turn=tid, from_stage=seen[-1])
        seen.append(board.state["turns"][tid]["feedback_stage"])
    assert seen == ["protagonist", "counterpart", "observers", "facilitator", None]
    assert board.state["turns"][tid]["stage"] == "next_step"
    board.do("record_next_step", turn=tid, text="Ask on Monday morning")
    board.do("end_turn", turn=tid)
    turn = board.state["turns"][tid]
    assert turn["status"] == "done" and turn["next_step"] == "Ask on Monday morning"
    assert board.state["active_turn"] is None and "turn" not in board.state["timers"]


def test_ending_a_turn_another_facilitator_already_ended_is_a_clear_error(board: Board) -> None:
    board.present("1")
    tid = board.add_turn()
    board.do("start_turn", turn=tid)
    board.do("end_turn", actor=BEN, turn=tid)
    rejected(board, "end_turn", "turn_not_active", turn=tid)


def test_only_one_turn_runs_at_a_time(board: Board) -> None:
    board.present("1", "2")
    first, second = board.add_turn("1"), board.add_turn("2")
    board.do("start_turn", turn=first)
    rejected(board, "start_turn", "turn_already_active", turn=second)


def test_feedback_order_is_fixed_and_racing_advances_are_rejected(board: Board) -> None:
    board.present("1")
    tid = board.add_turn()
    board.do("start_turn", turn=tid)
    rejected(board, "next_feedback", "wrong_stage", turn=tid)
    board.do("start_feedback", turn=tid)
    rejected(board, "start_role_reversal", "wrong_stage", turn=tid)
    board.do("next_feedback", turn=tid, from_stage="protagonist")
    rejected(board, "next_feedback", "feedback_moved", turn=tid, from_stage="protagonist")


def test_turn_arguments_are_validated(board: Board) -> None:
    board.do("mark_attendance", member="2", status="absent_notified")
    base = {"protagonist": "1", "counterpart": {"kind": "facilitator", "id": "101"}, "role_label": "my boss"}
    assert invalid(board, "add_turn", **{**base, "role_label": ""}) == "invalid_argument"
    assert invalid(board, "add_turn", **{**base, "counterpart": "Ana"}) == "invalid_argument"
    assert invalid(board, "add_turn", **{**base, "counterpart": {"kind": "member", "id": "1"}}) == "invalid_argument"
    assert invalid(board, "add_turn", **{**base, "duration_s": 5}) == "invalid_argument"
    assert invalid(board, "add_turn", **{**base, "protagonist": ["1"]}) == "invalid_argument"
    rejected(board, "add_turn", "member_absent", **{**base, "protagonist": "2"})
    rejected(board, "add_turn", "member_absent", **{**base, "counterpart": {"kind": "member", "id": "2"}})
    rejected(board, "add_turn", "facilitator_not_found", **{**base, "counterpart": {"kind": "facilitator", "id": "9"}})
    rejected(board, "add_turn", "goal_not_members", **{**base, "goal": "12"})
    rejected(board, "add_turn", "goal_not_found", **{**base, "goal": "999"})


def test_role_label_must_not_be_a_name_from_the_group(board: Board) -> None:
    assert invalid(board, "add_turn", protagonist="1", counterpart={"kind": "facilitator", "id": "101"},
                   role_label="Tom") == "role_label_is_a_name"


def test_volunteer_member_can_play_the_counterpart(board: Board) -> None:
    tid = board.add_turn("1", counterpart={"kind": "member", "id": "3"})
    assert board.state["turns"][tid]["counterpart"] == {"kind": "member", "id": "3"}


def test_reorder_skip_and_update_the_queue(board: Board) -> None:
    a, b, c = board.add_turn("1"), board.add_turn("2"), board.add_turn("3")
    board.do("reorder_queue", order=[c, a, b])
    assert board.state["queue"] == [c, a, b]
    rejected(board, "reorder_queue", "queue_changed", order=[a, b])
    board.do("skip_turn", turn=a)
    assert board.state["queue"] == [c, b] and board.state["turns"][a]["status"] == "skipped"
    rejected(board, "skip_turn", "turn_not_active", turn=a)
    event = board.do("update_turn", turn=b, scenario="New scenario")
    assert event.audience == "facilitators"
    event = board.do("update_turn", turn=b, role_label="my landlord")
    assert event.audience == "all"


def test_favour_members_without_a_turn_yet(board: Board) -> None:
    maria, sara, tom = board.add_turn("1"), board.add_turn("3"), board.add_turn("2")
    assert favoured_order(board.state) == [tom, sara, maria]
    event = board.do("favour_new_members")
    assert event.type == "queue_reordered" and board.state["queue"] == [tom, sara, maria]
    rejected(board, "favour_new_members", "no_change")


def test_turns_this_meeting_count_towards_favouring(board: Board) -> None:
    tom1 = board.add_turn("2")
    board.do("start_turn", turn=tom1)
    board.do("end_turn", turn=tom1)
    sara, tom2 = board.add_turn("3"), board.add_turn("2")
    # Tom now has 1 turn (this meeting), Sara 1 (earlier): stable, so Sara stays first.
    assert favoured_order(board.state) == [sara, tom2]


# ------------------------------------------------------------------ timers

def test_turn_timer_is_server_authoritative_and_pauses(board: Board) -> None:
    tid = board.add_turn(duration_s=300)
    start = board.do("start_turn", turn=tid)
    timer = board.state["timers"]["turn"]
    assert timer["started_at_ms"] == int(start.at.timestamp() * 1000)
    assert timer["duration_ms"] == 300_000 and timer["running"]
    board.tick(59)
    board.do("pause_turn", turn=tid)  # 60 s after the start (do() adds one)
    assert timer_remaining_ms(board.state["timers"]["turn"], board.now + timedelta(hours=1)) == 240_000
    rejected(board, "pause_turn", "turn_paused", turn=tid)
    board.tick(99)
    board.do("resume_turn", turn=tid)
    board.tick(10)
    assert timer_remaining_ms(board.state["timers"]["turn"], board.now) == 230_000
    board.do("extend_timer", name="turn", seconds=120)
    assert timer_remaining_ms(board.state["timers"]["turn"], board.now) == 349_000


def test_agenda_timer(board: Board) -> None:
    board.do("start_timer", name="agenda", label="Check-in", duration_s=900)
    board.tick(99)
    board.do("pause_timer", name="agenda")
    assert timer_remaining_ms(board.state["timers"]["agenda"], board.now) == 800_000
    rejected(board, "pause_timer", "timer_paused", name="agenda")
    board.do("resume_timer", name="agenda")
    board.do("stop_timer", name="agenda")
    rejected(board, "pause_timer", "timer_not_set", name="agenda")
    assert invalid(board, "start_timer", name="turn", duration_s=60) == "invalid_argument"
    assert invalid(board, "start_timer", duration_s=0) == "invalid_argument"


def test_remaining_time_never_goes_below_zero(board: Board) -> None:
    board.do("start_timer", duration_s=60)
    assert timer_remaining_ms(board.state["timers"]["agenda"], board.now + timedelta(hours=2)) == 0


# ------------------------------------------------------------------ goals

def test_group_goal_updates_reach_everyone_member_goals_only_facilitators(board: Board) -> None:
    assert board.do("rate_goal", goal="20", rating=3).audience == "all"
    assert board.do("rate_goal", goal="11", rating=2).audience == "facilitators"
    assert board.state["goals"]["11"]["rating"] == 2
    event = board.do("set_goal_status", goal="12", status="achieved")
    assert event.audience == "facilitators" and event.data["from"] == "active"
    board.do("set_goal_status", goal="20", status="revised", text="Each gives two pieces of feedback")
    assert board.state["goals"]["20"]["revised_text"] == "Each gives two pieces of feedback"


def test_goal_input_is_validated(board: Board) -> None:
    assert invalid(board, "rate_goal", goal="11", rating=9) == "invalid_argument"
    assert invalid(board, "rate_goal", goal="11", rating="3") == "invalid_argument"
    assert invalid(board, "set_goal_status", goal="11", status="done") == "invalid_argument"
    assert invalid(board, "set_goal_status", goal="11", status="revised") == "invalid_argument"
    rejected(board, "set_goal_status", "no_change", goal="11", status="active")
    rejected(board, "rate_goal", "goal_not_found", goal="404", rating=1)


# ------------------------------------------------------------------ notes, safety

def test_notes_are_private(board: Board) -> None:
    event = board.do("add_note", text="Maria tearful when talking about her sister", member="1")
    assert event.audience == "facilitators"
    assert board.state["notes"][0]["by"] == "101"
    assert invalid(board, "add_note", text="   ") == "invalid_argument"
    assert invalid(board, "add_note", text="x" * 4001) == "invalid_argument"


def test_safety_refresh_only_when_changed(board: Board) -> None:
    assert safety_event(board.state, ROSTER["safety"], now=board.now) is None
    event = safety_event(board.state, [], now=board.now)
    assert event is not None and event.audience == "facilitators"
    board.state = apply(board.state, event)
    assert board.state["safety"] == []


# ------------------------------------------------------------------ undo

def test_undo_reverses_the_last_step_with_a_new_event(board: Board) -> None:
    board.present("1")
    tid = board.add_turn()
    before_start = board.state
    start = board.do("start_turn", turn=tid)
    undo = board.do("undo", seq=start.seq)
    assert undo.type == "step_undone" and undo.data == {"undone_seq": start.seq, "undone_type": "turn_started"}
    for key in ("turns", "queue", "active_turn", "timers"):
        assert board.state[key] == before_start[key]
    assert [e.type for e in board.log][-2:] == ["turn_started", "step_undone"]  # the log is not rewritten


def test_undo_steps_back_repeatedly_and_then_stops(board: Board) -> None:
    board.present("1")
    board.add_turn()
    board.do("undo")
    board.do("undo")
    assert board.state["attendance"] == {} and board.state["turns"] == {}
    rejected(board, "undo", "nothing_to_undo")


def test_undo_names_the_step_so_a_co_facilitators_step_is_not_undone_by_mistake(board: Board) -> None:
    mine = board.do("add_note", text="A note")
    board.do("mark_attendance", actor=BEN, member="1", status="present")
    rejected(board, "undo", "undo_conflict", seq=mine.seq)


def test_undo_of_a_private_step_is_private(board: Board) -> None:
    board.do("add_note", text="private")
    assert board.do("undo").audience == "facilitators"
    board.do("rate_goal", goal="20", rating=1)
    assert board.do("undo").audience == "all"


# ------------------------------------------------------------------ close

def test_close_meeting_needs_attendance_or_confirmation(board: Board) -> None:
    board.present("1", "2")
    rejected(board, "close_meeting", "attendance_incomplete")
    tid = board.add_turn()
    board.do("start_turn", turn=tid)
    # Sara (not marked, so maybe in the room) has an open safety item: a clinician's reason is needed.
    rejected(board, "close_meeting", "safety_open", confirm_unmarked=True)
    event = board.do("close_meeting", confirm_unmarked=True, by_clinician=True,
                     confirm_safety_reason="Left before the check; the duty clinician calls tonight")
    assert event.data["unmarked"] == ["3"] and event.data["safety_confirmed"]["count"] == 1
    assert board.state["status"] == "closed"
    assert board.state["turns"][tid]["status"] == "done"  # the running turn ends with the meeting
    rejected(board, "add_note", "board_closed", text="late note")
    rejected(board, "undo", "board_closed")


# ------------------------------------------------------------------ replay

def test_replay_of_the_log_rebuilds_the_same_state(board: Board) -> None:
    board.present("1", "2", "3")
    board.do("start_checkin")
    board.do("next_checkin")
    tid = board.add_turn(goal="11")
    board.do("start_turn", turn=tid)
    board.do("pause_turn", turn=tid)
    board.do("rate_goal", goal="11", rating=3)
    board.do("undo")
    board.do("add_note", text="n")
    assert replay(board.log) == board.state
    # and through JSON, as the database stores it
    stored = [Event(e.seq, e.type, json.loads(json.dumps(e.data)), e.audience, e.actor, e.at) for e in board.log]
    assert json.dumps(replay(stored), sort_keys=True) == json.dumps(board.state, sort_keys=True)
