"""Deciding a board command: the events it leads to, or why it does not apply to the board now.

Pure, as `state` is (the caller passes `now` and the actor): `decide` reads the state and
never changes it; the events it returns change the board only once stored and applied.
Each command's arguments are read by `server.board.arguments`; the role play's rules
are in `server.board.turns`.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from server.board import turns
from server.board.arguments import Args, Decision, Rule, find_goal, find_member, is_absent
from server.board.state import MAX_TIMER_SECONDS, BoardInvalid, BoardRejected, Command, Event, State
from server.board.turns import favoured_order
from server.board.vocabulary import ATTENDED, MARKS, RATING_MAX, RATING_MIN, GoalStatus

__all__ = ["COMMANDS", "decide", "favoured_order"]

DISPLAY_LABELS = ("first_name", "initials")
TIMER_NAMES = ("turn", "agenda")

# Events whose audience depends on their data (a member's goal vs a group goal) say so in
# their decision; every other type has one fixed audience.
FACILITATOR_EVENTS = frozenset({
    "board_opened", "safety_items_updated", "attendance_marked", "next_step_recorded", "note_added",
})


def decide(state: State, command: Command, actor: Mapping[str, Any], now: datetime) -> list[Event]:
    """The events `command` leads to, or BoardInvalid / BoardRejected saying why not."""
    handler = _DECIDE.get(command.name)
    if handler is None:
        raise BoardInvalid(f"Unknown command {command.name!r}.", code="unknown_command")
    if state.get("status") != "open":
        if state.get("status") == "closed":
            raise BoardRejected("The meeting is closed; the board no longer changes.", code="board_closed")
        raise BoardRejected("The board has not been opened yet.", code="board_not_open")
    if not isinstance(command.data, Mapping):
        raise BoardInvalid("A command's data must be an object.", code="invalid_argument")
    event_type, data, audience = handler(state, Args(command.data))
    if audience is None:
        audience = "facilitators" if event_type in FACILITATOR_EVENTS else "all"
    actor_ref = {"id": str(actor["id"]), "name": actor.get("name", "")}
    return [Event(seq=state["seq"] + 1, type=event_type, data=data, audience=audience, actor=actor_ref, at=now)]


def _decide_attendance(state: State, a: Args) -> Decision:
    member = find_member(state, a.ident("member"))["id"]
    status = a.choice("status", MARKS)
    reason = a.text("reason", max_len=500, required=False)
    current = state["attendance"].get(member)
    if current == {"status": status, "reason": reason}:
        raise BoardRejected("Attendance is already recorded like that.", code="no_change")
    return "attendance_marked", {"member": member, "status": status, "reason": reason}, None


def _decide_checkin_start(state: State, a: Args) -> Decision:
    if state["checkin"] and not state["checkin"]["done"]:
        raise BoardRejected("A check-in round is already running.", code="checkin_running")
    if a.has("order"):
        order = a.id_list("order")
        for mid in order:
            find_member(state, mid)
        if len(set(order)) != len(order):
            raise BoardInvalid("A member appears twice in the check-in order.", code="invalid_argument")
    else:
        order = [mid for mid, mark in state["attendance"].items() if mark["status"] in ATTENDED]
        order.sort(key=list(state["members"]).index)
    if not order:
        raise BoardRejected("Mark who is present before starting the check-in round.", code="nobody_present")
    absent = [mid for mid in order if is_absent(state, mid)]
    if absent:
        raise BoardRejected("An absent member cannot be in the check-in round.", code="member_absent")
    return "checkin_started", {"order": order}, None


def _running_checkin(state: State, a: Args) -> dict[str, Any]:
    checkin = state["checkin"]
    if not checkin or checkin["done"]:
        raise BoardRejected("No check-in round is running.", code="checkin_not_running")
    if a.has("current"):
        current = a.ident("current")
        if checkin["order"][checkin["index"]] != current:
            raise BoardRejected("The check-in round has already moved on.", code="checkin_moved")
    return checkin


def _decide_checkin_next(state: State, a: Args) -> Decision:
    checkin = _running_checkin(state, a)
    return "checkin_advanced", {"from": checkin["order"][checkin["index"]]}, None


def _decide_checkin_end(state: State, a: Args) -> Decision:
    _running_checkin(state, a)
    return "checkin_ended", {}, None


def _agenda_or_turn(state: State, a: Args, *, must_exist: bool = True) -> str:
    name = a.choice("name", TIMER_NAMES)
    if must_exist and name not in state["timers"]:
        raise BoardRejected(f"The {name} timer is not set.", code="timer_not_set")
    return name


def _decide_timer_start(state: State, a: Args) -> Decision:
    if a.data.get("name", "agenda") != "agenda":
        raise BoardInvalid("The turn timer starts with the turn.", code="invalid_argument")
    data = {"name": "agenda", "label": a.text("label", max_len=80, required=False, default="Agenda"),
            "duration_s": a.integer("duration_s", lo=1, hi=MAX_TIMER_SECONDS)}
    return "timer_started", data, None


def _decide_timer_pause(state: State, a: Args) -> Decision:
    name = _agenda_or_turn(state, a)
    if name == "turn":
        raise BoardInvalid("Pause the turn to pause its timer.", code="invalid_argument")
    if not state["timers"][name]["running"]:
        raise BoardRejected("The timer is already paused.", code="timer_paused")
    return "timer_paused", {"name": name}, None


def _decide_timer_resume(state: State, a: Args) -> Decision:
    name = _agenda_or_turn(state, a)
    if name == "turn":
        raise BoardInvalid("Resume the turn to resume its timer.", code="invalid_argument")
    if state["timers"][name]["running"]:
        raise BoardRejected("The timer is already running.", code="timer_running")
    return "timer_resumed", {"name": name}, None


def _decide_timer_extend(state: State, a: Args) -> Decision:
    name = _agenda_or_turn(state, a)
    seconds = a.integer("seconds", lo=-3600, hi=3600)
    if seconds == 0:
        raise BoardInvalid("'seconds' must not be 0.", code="invalid_argument")
    if state["timers"][name]["duration_ms"] + seconds * 1000 > MAX_TIMER_SECONDS * 1000:
        raise BoardInvalid("A timer runs at most four hours.", code="invalid_argument")
    return "timer_extended", {"name": name, "seconds": seconds}, None


def _decide_timer_stop(state: State, a: Args) -> Decision:
    name = _agenda_or_turn(state, a)
    if name == "turn":
        raise BoardInvalid("End the turn to stop its timer.", code="invalid_argument")
    return "timer_stopped", {"name": name}, None


def _goal_audience(goal: Mapping[str, Any]) -> str:
    # Group goals belong on the room's screen; a member's own target goals do not.
    return "all" if goal["member"] is None else "facilitators"


def _decide_goal_rate(state: State, a: Args) -> Decision:
    goal = find_goal(state, a.ident("goal"))
    rating = a.integer("rating", lo=RATING_MIN, hi=RATING_MAX)
    return "goal_rated", {"goal": goal["id"], "rating": rating}, _goal_audience(goal)


def _decide_goal_status(state: State, a: Args) -> Decision:
    goal = find_goal(state, a.ident("goal"))
    status = a.choice("status", tuple(GoalStatus))
    data: dict[str, Any] = {"goal": goal["id"], "status": status, "from": goal["status"]}
    if status == GoalStatus.REVISED:
        data["revised_text"] = a.text("text", max_len=500)
    elif status == goal["status"]:
        raise BoardRejected(f"The goal is already {status}.", code="no_change")
    return "goal_status_changed", data, _goal_audience(goal)


def _decide_note(state: State, a: Args) -> Decision:
    member = a.ident("member", optional=True)
    if member is not None:
        find_member(state, member)
    return "note_added", {"text": a.text("text", max_len=4000), "member": member}, None


def _decide_display_labels(state: State, a: Args) -> Decision:
    mode = a.choice("mode", DISPLAY_LABELS)
    if mode == state["display_labels"]:
        raise BoardRejected("The display already shows names that way.", code="no_change")
    return "display_labels_set", {"mode": mode}, None


def _decide_undo(state: State, a: Args) -> Decision:
    history = state["history"]
    if not history:
        raise BoardRejected("There is no step to undo.", code="nothing_to_undo")
    step = history[-1]
    # The client names the step it means to undo; if a co-facilitator acted meanwhile,
    # undoing "the last step" would undo theirs.
    if a.has("seq") and a.integer("seq", lo=1, hi=2**31) != step["seq"]:
        raise BoardRejected("Another step happened since; look again before undoing.", code="undo_conflict")
    return "step_undone", {"undone_seq": step["seq"], "undone_type": step["type"]}, step["audience"]


def _decide_close(state: State, a: Args) -> Decision:
    unmarked = [mid for mid in state["members"] if mid not in state["attendance"]]
    if unmarked and not a.data.get("confirm_unmarked"):
        raise BoardRejected(f"Attendance is not marked for {len(unmarked)} member(s); mark it, or close "
                            "anyway with confirm_unmarked.", code="attendance_incomplete")
    # domain-ipt.md 5b: a structured risk assessment is required "before the consultation
    # ends", so the session record waits for a documented contact with every member who was
    # in the room (present, late, or not marked) and has an open safety item.
    in_room = {mid for mid in state["members"]
               if mid not in state["attendance"] or state["attendance"][mid]["status"] in ATTENDED}
    open_items = [s for s in state.get("safety") or () if s.get("member") in in_room]
    data: dict[str, Any] = {"unmarked": unmarked}
    if open_items:
        people = len({s["member"] for s in open_items})
        if a.data.get("confirm_safety_reason") is None:
            raise BoardRejected(
                f"{people} member(s) who were here have a safety item with no documented contact. Record the "
                "risk check first, or a clinician may close anyway with confirm_safety_reason.",
                code="safety_open", fields={"count": str(people)})
        reason = a.text("confirm_safety_reason", max_len=500)
        if len(re.findall(r"[^\W_]", reason)) < 2:
            raise BoardInvalid("'confirm_safety_reason' must say why, in words.", code="invalid_argument",
                               fields={"confirm_safety_reason": "words"})
        if a.data.get("by_clinician") is not True:
            raise BoardRejected("Only a clinician may close the session while a safety item has no documented "
                                "contact.", code="clinician_required", fields={"count": str(people)})
        data["safety_confirmed"] = {"count": people, "items": [s["id"] for s in open_items], "reason": reason}
    return "meeting_closed", data, None


_DECIDE: dict[str, Rule] = {
    "mark_attendance": _decide_attendance,
    "start_checkin": _decide_checkin_start,
    "next_checkin": _decide_checkin_next,
    "end_checkin": _decide_checkin_end,
    **turns.RULES,
    "start_timer": _decide_timer_start,
    "pause_timer": _decide_timer_pause,
    "resume_timer": _decide_timer_resume,
    "extend_timer": _decide_timer_extend,
    "stop_timer": _decide_timer_stop,
    "rate_goal": _decide_goal_rate,
    "set_goal_status": _decide_goal_status,
    "add_note": _decide_note,
    "set_display_labels": _decide_display_labels,
    "undo": _decide_undo,
    "close_meeting": _decide_close,
}
COMMANDS = frozenset(_DECIDE)
