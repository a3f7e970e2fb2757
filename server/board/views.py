"""What each kind of client may see of a board: the facilitator view and the display view.

The participant display (the room's screen, a shared video window) sees the queue, the
current turn and its timer, the check-in round and the group goals, with first names or
initials only. It never sees notes, attendance reasons, measures, safety items, problem
areas, scenarios, members' own goals or next steps, and it never receives the events that
carry them (`display_event` returns None for those).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.board.state import Event, State

# Parts of an "all" event's data the display may receive; anything else is dropped.
_DISPLAY_DATA = {
    "turn_added": ("turn", "protagonist", "counterpart", "role_label", "duration_s"),
    "turn_updated": ("turn", "counterpart", "role_label", "duration_s"),
    "meeting_closed": (),
}


def facilitator_view(state: State) -> dict[str, Any]:
    if state.get("status") == "new":
        return {"seq": state["seq"], "status": "new"}
    view = {k: v for k, v in state.items() if k != "history"}
    history = state.get("history") or ()
    view["undo"] = {"seq": history[-1]["seq"], "type": history[-1]["type"]} if history else None
    return view


def display_view(state: State) -> dict[str, Any]:
    if state.get("status") == "new":
        return {"seq": state["seq"], "status": "new"}
    mode = state["display_labels"]
    meeting = state["meeting"]
    return {
        "seq": state["seq"],
        "status": state["status"],
        "meeting": {k: meeting.get(k) for k in ("number", "phase", "title", "starts_at", "ends_at")},
        "members": {mid: {"id": mid, "label": m[mode]} for mid, m in state["members"].items()},
        "facilitators": {fid: {"id": fid, "label": f["first_name"]} for fid, f in state["facilitators"].items()},
        "checkin": state["checkin"],
        "queue": state["queue"],
        "active_turn": state["active_turn"],
        "turns": {tid: _display_turn(t) for tid, t in state["turns"].items() if t["status"] != "skipped"},
        "timers": state["timers"],
        "goals": {gid: _display_goal(g) for gid, g in state["goals"].items() if g["member"] is None},
        "display_labels": mode,
    }


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
