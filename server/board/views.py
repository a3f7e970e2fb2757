"""What each kind of client may see of a board: the facilitator view and the display view.

The participant display (the room's screen, a shared video window) sees the queue, the
current turn and its timer, the check-in round and the group goals, with first names or
initials only. It never sees notes, attendance reasons, measures, safety items, problem
areas, scenarios, members' own goals or next steps, and it never receives the events that
carry them (`display_event` returns None for those).
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from server.board.state import Event, State
from server.board.vocabulary import TurnStatus

# The two kinds of client (the socket's `?view=`): the facilitators' board and the display.
FACILITATOR, DISPLAY = "facilitator", "display"

# Parts of an "all" event's data the display may receive; anything else is dropped.
_DISPLAY_DATA = {
    "turn_added": ("turn", "protagonist", "counterpart", "role_label", "duration_s"),
    "turn_updated": ("turn", "counterpart", "role_label", "duration_s"),
    "meeting_closed": (),
}


def facilitator_view(state: State, only: Collection[str] | None = None) -> dict[str, Any]:
    """The facilitator's view of the board (or only the named parts of it)."""
    if state.get("status") == "new":
        return {"seq": state["seq"], "status": "new"}
    if only is None:
        view = {k: v for k, v in state.items() if k != "history"}
    else:
        view = {k: state[k] for k in only if k in state and k != "history"}
    if only is None or "undo" in only:
        history = state.get("history") or ()
        view["undo"] = {"seq": history[-1]["seq"], "type": history[-1]["type"]} if history else None
    return view


def display_view(state: State, only: Collection[str] | None = None) -> dict[str, Any]:
    """The participant display's view of the board (or only the named parts of it)."""
    if state.get("status") == "new":
        return {"seq": state["seq"], "status": "new"}
    if only is None:
        return {key: part(state) for key, part in _DISPLAY_PARTS.items()}
    return {key: _DISPLAY_PARTS[key](state) for key in only}


_MEETING_PUBLIC = ("number", "phase", "title", "starts_at", "ends_at")
_DISPLAY_PARTS: dict[str, Callable[[State], Any]] = {
    "seq": lambda s: s["seq"],
    "status": lambda s: s["status"],
    "meeting": lambda s: {k: s["meeting"].get(k) for k in _MEETING_PUBLIC},
    "members": lambda s: {mid: {"id": mid, "label": m[s["display_labels"]]} for mid, m in s["members"].items()},
    "facilitators": lambda s: {fid: {"id": fid, "label": f["first_name"]} for fid, f in s["facilitators"].items()},
    "checkin": lambda s: s["checkin"],
    "queue": lambda s: s["queue"],
    "active_turn": lambda s: s["active_turn"],
    "turns": lambda s: {tid: _display_turn(t) for tid, t in s["turns"].items() if t["status"] != TurnStatus.SKIPPED},
    "timers": lambda s: s["timers"],
    "goals": lambda s: {gid: _display_goal(g) for gid, g in s["goals"].items() if g["member"] is None},
    "display_labels": lambda s: s["display_labels"],
}
# The display parts made from each part of the state.
_DISPLAY_MADE_FROM = {key: (key,) for key in _DISPLAY_PARTS} | {"display_labels": ("members", "display_labels")}


def _display_turn(turn: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("id", "protagonist", "counterpart", "role_label", "duration_s", "status", "stage",
            "feedback_stage", "role_reversal")
    return {k: turn[k] for k in keep}


def _display_goal(goal: Mapping[str, Any]) -> dict[str, Any]:
    return {k: goal[k] for k in ("id", "text", "status", "rating", "revised_text")}


def display_event(event: Event) -> dict[str, Any] | None:
    """The event as the display receives it, or None when the display must not get it."""
    if event.audience != "all":
        return None
    wire = event.to_wire()
    keep = _DISPLAY_DATA.get(event.type)
    if keep is not None:
        wire["data"] = {k: v for k, v in event.data.items() if k in keep}
    wire["actor"] = None
    return wire


def changed_sections(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level parts of a view that differ, for clients that render views, not events."""
    return {k: v for k, v in after.items() if k not in before or before[k] != v}


def view_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(replaced, appended): a list that only grew at its end travels as its new items."""
    replaced, appended = {}, {}
    for key, value in changed_sections(before, after).items():
        old = before.get(key)
        if isinstance(old, list) and isinstance(value, list) and len(value) > len(old) and value[:len(old)] == old:
            appended[key] = value[len(old):]
        else:
            replaced[key] = value
    return replaced, appended


def moved_parts(before: State, after: State) -> list[str] | None:
    """The parts of the state that `apply` replaced between two successive states, in order
    (it shares every part it leaves alone); None when either state is a new board's."""
    if before.get("status") == "new" or after.get("status") == "new":
        return None
    return [key for key, part in after.items() if before.get(key) is not part]


def event_view_changes(before: State, after: State, view: str, moved: list[str] | None) -> tuple[
        dict[str, Any], dict[str, Any]]:
    """view_changes between the views of two successive states, made from only the `moved`
    parts of the state (`moved_parts`): an event makes and compares a part or two of each
    view, not the whole board twice."""
    if view == FACILITATOR:
        if moved is None:
            return view_changes(facilitator_view(before), facilitator_view(after))
        only = [*moved, "undo"] if "history" in moved else moved
        return view_changes(facilitator_view(before, only), facilitator_view(after, only))
    if moved is None:
        return view_changes(display_view(before), display_view(after))
    parts = list(dict.fromkeys(part for key in moved for part in _DISPLAY_MADE_FROM.get(key, ())))
    return view_changes(display_view(before, parts), display_view(after, parts))
