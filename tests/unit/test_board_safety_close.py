"""close_meeting and open safety items (domain-ipt.md 5b: the risk assessment comes before
the session ends): refused with `safety_open` while a member who was in the room has an item
with no documented contact, unless a clinician gives a reason."""
from __future__ import annotations

import pytest

from server.board.decide import decide
from server.board.state import BoardInvalid, BoardRejected, Command, apply
from server.board.views import display_event
from tests.unit.test_board_state import ANA, Board


@pytest.fixture
def board() -> Board:
    return Board()  # member 3 has open safety item 5


def close(board: Board, **data):
    return decide(board.state, Command("close_meeting", data), ANA, board.now)


@pytest.mark.parametrize("status", ["present", "late"])
def test_a_member_in_the_room_with_an_open_item_holds_the_close(board, status):
    board.present("1", "2")
    board.do("mark_attendance", member="3", status=status)
    with pytest.raises(BoardRejected) as info:
        close(board)
    assert info.value.code == "safety_open" and "1 member(s)" in info.value.message
    assert info.value.fields == {"count": "1"}


@pytest.mark.parametrize("status", ["absent_notified", "absent_unnotified"])
def test_an_absent_member_does_not_hold_the_close(board, status):
    board.present("1", "2")
    board.do("mark_attendance", member="3", status=status)
    [event] = close(board)
    assert "safety_confirmed" not in event.data


def test_only_a_clinician_with_a_reason_in_words_may_close_anyway(board):
    board.present("1", "2", "3")
    with pytest.raises(BoardInvalid):
        close(board, confirm_safety_reason=" . ", by_clinician=True)
    with pytest.raises(BoardRejected) as info:
        close(board, confirm_safety_reason="Spoke after the session", by_clinician=False)
    assert info.value.code == "clinician_required"
    with pytest.raises(BoardRejected):
        close(board, confirm_safety_reason="Spoke after the session")  # no server fact: not a clinician
    [event] = close(board, confirm_safety_reason="Spoke after the session", by_clinician=True)
    assert event.data["safety_confirmed"] == {"count": 1, "items": ["5"], "reason": "Spoke after the session"}
    state = apply(board.state, event)
    assert state["status"] == "closed"
    # The room's display never receives the reason or the count.
    assert display_event(event)["data"] == {}


def test_a_refreshed_list_without_the_item_lets_the_close_through(board):
    from server.board.opening import safety_event

    board.present("1", "2", "3")
    refresh = safety_event(board.state, [], now=board.now)
    board.state = apply(board.state, refresh)
    [event] = close(board)
    assert event.type == "meeting_closed"
