"""What the participant display may see: never notes, measures, safety items or problem areas."""
from __future__ import annotations

import json

from server.board.state import apply
from server.board.views import (
    changed_sections, display_event, display_view, event_view_changes, facilitator_view, moved_parts,
    view_changes,
)
from tests.unit.test_board_state import BEN, Board

PRIVATE_STRINGS = (
    "Child is ill", "Ask for a day off", "tearful", "role_dispute", "grief", "role_transition",
    "Ask my sister", "Call one friend", "Monday morning", "Lopez", "Okafor", "Ruiz", "item9",
)


def _meeting(board: Board) -> Board:
    board.present("1", "3")
    board.do("mark_attendance", member="2", status="absent_notified", reason="Child is ill")
    board.do("start_checkin")
    board.do("next_checkin")
    tid = board.add_turn("1", goal="11")
    board.do("update_turn", turn=tid, scenario="Ask for a day off, again")
    board.do("start_turn", turn=tid)
    board.do("start_feedback", turn=tid)
    board.do("next_feedback", turn=tid)
    board.do("record_next_step", turn=tid, text="Ask on Monday morning")
    board.do("rate_goal", goal="11", rating=2)
    board.do("rate_goal", goal="20", rating=3)
    board.do("add_note", actor=BEN, text="Maria tearful", member="1")
    board.do("undo")
    board.do("add_note", text="Maria tearful again", member="1")
    board.do("end_turn", turn=tid)
    board.do("close_meeting", confirm_unmarked=True, by_clinician=True,
             confirm_safety_reason="Sara is called tonight by the duty clinician")
    return board


def test_display_view_carries_nothing_private() -> None:
    board = _meeting(Board())
    text = json.dumps(display_view(board.state))
    for private in PRIVATE_STRINGS:
        assert private not in text, private
    view = display_view(board.state)
    assert set(view["goals"]) == {"20"}
    assert view["members"]["1"] == {"id": "1", "label": "Maria"}


def test_display_never_receives_facilitator_events_and_all_events_are_projected() -> None:
    board = _meeting(Board())
    sent = [display_event(e) for e in board.log]
    assert [e.type for e, w in zip(board.log, sent) if w is None] == [
        e.type for e in board.log if e.audience == "facilitators"]
    text = json.dumps([w for w in sent if w])
    for private in PRIVATE_STRINGS:
        assert private not in text, private
    assert all(w["actor"] is None for w in sent if w)


def test_an_event_for_facilitators_never_changes_what_the_display_shows() -> None:
    board = _meeting(Board())
    state = apply({"seq": 0, "status": "new"}, board.log[0])
    for event in board.log[1:]:
        after = apply(state, event)
        if event.audience == "facilitators":
            assert changed_sections(display_view(state), display_view(after)).keys() <= {"seq"}, event.type
        state = after


def test_initials_mode() -> None:
    board = Board()
    board.do("set_display_labels", mode="initials")
    assert display_view(board.state)["members"]["2"]["label"] == "TH"


def test_facilitator_view_offers_the_step_to_undo() -> None:
    board = Board()
    event = board.do("add_note", text="n")
    view = facilitator_view(board.state)
    assert view["undo"] == {"seq": event.seq, "type": "note_added"} and "history" not in view
    assert view["safety"][0]["member"] == "3"


def test_an_events_view_changes_are_those_of_the_whole_views() -> None:
    # Made from the parts apply replaced only; they must be what diffing whole views gives.
    board = Board()
    board.do("set_display_labels", mode="initials")
    board.do("skip_turn", turn=board.add_turn("2"))
    _meeting(board)
    state = {"seq": 0, "status": "new"}
    for event in board.log:
        after = apply(state, event)
        for view, whole in (("facilitator", facilitator_view), ("display", display_view)):
            assert event_view_changes(state, after, view, moved_parts(state, after)) == view_changes(
                whole(state), whole(after)), (
                event.type, view)
        state = after


def test_view_changes_follow_the_display_labels() -> None:
    board = Board()
    before = board.state
    board.do("set_display_labels", mode="initials")
    replaced, _ = event_view_changes(before, board.state, "display", moved_parts(before, board.state))
    assert replaced["members"]["2"]["label"] == "TH" and replaced["display_labels"] == "initials"
