"""The live board of a group session: facilitators send commands, every client sees the
resulting events in the same order (protocol: PROTOCOL.md beside this file).

Pure (values in, values out; no database, no Starlette, no clock read):
  vocabulary  the board's words: attendance, goal and turn statuses, turn and feedback stages
  state       the board's values and `apply(state, event) -> state`, the only way they change
  decide      `decide(state, command, actor, now) -> [event]`, or why the command does not apply
  arguments   a command's arguments read, and what they name found on the board
  turns       the role play's rules: the queue, who plays whom, a turn's stages
  opening     the events the server makes: the board's opening, safety refreshes
  views       what the facilitators and the participant display may see
  frames      a client's frame checked before anything reads it
Database:
  roster      who is in the room, read for the opening and for safety refreshes
  store       the log appended by one conditional statement, and read back
  snapshots   the state stored every 100 events, so a load replays only the tail
  record      the meeting's record, written when the board closes
  service     `BoardService`: open a board, run commands, catch a client up
  access      who may stay on a socket, checked again while it is open
Edge:
  wire        frames as JSON text, stamped with the server's clock
  hub         the fan-out to every socket of a board (in process, or through Redis)
  connection  `BoardConnection`: one socket's receive, command and send loops

The database and edge names below are imported when first used: `models/` stores the
vocabulary, so importing this package must not import `models/` in turn.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from server.board.decide import COMMANDS, decide, favoured_order
from server.board.hub import Hub
from server.board.opening import opening_event, safety_event
from server.board.state import (
    BoardInvalid,
    BoardRejected,
    Command,
    Event,
    State,
    apply,
    empty_state,
    replay,
    timer_remaining_ms,
)
from server.board.views import DISPLAY, FACILITATOR, display_event, display_view, facilitator_view
from server.board.vocabulary import (
    AttendanceStatus,
    FeedbackStage,
    GoalStatus,
    TurnStage,
    TurnStatus,
    page_words,
)

if TYPE_CHECKING:
    from server.board.connection import BoardConnection
    from server.board.service import BoardService, Outcome

__all__ = [
    "COMMANDS", "DISPLAY", "FACILITATOR", "AttendanceStatus", "BoardConnection", "BoardInvalid",
    "BoardRejected", "BoardService", "Command", "Event", "FeedbackStage", "GoalStatus", "Hub", "Outcome",
    "State", "TurnStage", "TurnStatus", "apply", "decide", "display_event", "display_view", "empty_state",
    "facilitator_view", "favoured_order", "opening_event", "page_words", "replay", "safety_event",
    "timer_remaining_ms",
]

_LATER = {
    "BoardService": "server.board.service",
    "Outcome": "server.board.service",
    "BoardConnection": "server.board.connection",
}


def __getattr__(name: str) -> Any:
    module = _LATER.get(name)
    if module is None:
        raise AttributeError(f"module 'server.board' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
