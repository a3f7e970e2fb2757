"""A command's arguments: each read as the type it must be, and what it names found on the board.

Every failure says which field: BoardInvalid when the value is malformed (a 4xx, or an
`error` frame with `invalid_argument`), BoardRejected when it names nothing on this board.
Pure, as `decide`, its only user, is.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from server.board.state import BoardInvalid, BoardRejected, State
from server.board.vocabulary import ATTENDED, LIVE_TURN, TurnStatus

# What a command's rule gives: the event's type, its data and its audience ("all",
# "facilitators", or None for the type's fixed one).
Decision = tuple[str, dict[str, Any], str | None]

class Args:
    """Typed access to a command's arguments, each failure a BoardInvalid naming the field."""

    def __init__(self, data: Mapping[str, Any]):
        self.data = data

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def ident(self, key: str, *, optional: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)) or str(value).strip() == "":
            raise BoardInvalid(f"'{key}' must be an id.", code="invalid_argument", fields={key: "required id"})
        return str(value).strip()

    def text(self, key: str, *, max_len: int, required: bool = True, default: str = "") -> str:
        value = self.data.get(key, None)
        if value is None:
            if required:
                raise BoardInvalid(f"'{key}' is required.", code="invalid_argument", fields={key: "required"})
            return default
        if not isinstance(value, str):
            raise BoardInvalid(f"'{key}' must be text.", code="invalid_argument", fields={key: "text"})
        value = " ".join(value.split()) if max_len <= 200 else value.strip()
        if required and not value:
            raise BoardInvalid(f"'{key}' must not be empty.", code="invalid_argument", fields={key: "empty"})
        if len(value) > max_len:
            raise BoardInvalid(f"'{key}' is longer than {max_len} characters.", code="invalid_argument",
                               fields={key: "too long"})
        return value

    def integer(self, key: str, *, lo: int, hi: int, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise BoardInvalid(f"'{key}' must be a whole number from {lo} to {hi}.", code="invalid_argument",
                               fields={key: f"{lo}..{hi}"})
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.data.get(key)
        if value not in choices:
            raise BoardInvalid(f"'{key}' must be one of: {', '.join(choices)}.", code="invalid_argument",
                               fields={key: "choice"})
        return value

    def id_list(self, key: str) -> list[str]:
        value = self.data.get(key)
        if not isinstance(value, list) or len(value) > 200:
            raise BoardInvalid(f"'{key}' must be a list of ids.", code="invalid_argument", fields={key: "list"})
        return [Args({"v": v}).ident("v") for v in value]


Rule = Callable[[State, Args], Decision]


# ---------------------------------------------------------------- what the arguments name

_NOT_RUNNING = (TurnStatus.DONE, TurnStatus.SKIPPED, TurnStatus.QUEUED)
_DESCRIBED = {
    TurnStatus.DONE: "has already ended", TurnStatus.SKIPPED: "was skipped", TurnStatus.QUEUED: "has not started",
    TurnStatus.ACTIVE: "is running", TurnStatus.PAUSED: "is paused",
}


def find_member(state: State, member_id: str) -> dict[str, Any]:
    found = state["members"].get(member_id)
    if found is None:
        raise BoardRejected(f"No member {member_id} in this cohort.", code="member_not_found")
    return found


def is_absent(state: State, member_id: str) -> bool:
    mark = state["attendance"].get(member_id)
    return mark is not None and mark["status"] not in ATTENDED


def find_turn(state: State, turn_id: str) -> dict[str, Any]:
    found = state["turns"].get(turn_id)
    if found is None:
        raise BoardRejected(f"No turn {turn_id} on this board.", code="turn_not_found")
    return found


def live_turn(state: State, args: Args, *, statuses: tuple[str, ...] = LIVE_TURN) -> str:
    tid = args.ident("turn")
    found = find_turn(state, tid)
    status = found["status"]
    if status not in statuses:
        code = "turn_not_active" if status in _NOT_RUNNING else f"turn_{status}"
        raise BoardRejected(f"Turn {tid} {_DESCRIBED[status]}.", code=code)
    return tid


def find_goal(state: State, goal_id: str) -> dict[str, Any]:
    found = state["goals"].get(goal_id)
    if found is None:
        raise BoardRejected(f"No goal {goal_id} for this cohort.", code="goal_not_found")
    return found
