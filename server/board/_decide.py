"""Deciding a board command: validate it against the state, or say why it does not apply.

Split from state.py for length; `server.board.state` re-exports `decide`, `favoured_order`
and `COMMANDS`, the public names.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from server.board.state import (
    ATTENDANCE_STATUSES, BoardInvalid, BoardRejected, Command, DEFAULT_TURN_SECONDS, DISPLAY_LABELS,
    Event, FACILITATOR_EVENTS, FEEDBACK_STAGES, GOAL_STATUSES, MAX_QUEUE, MAX_TIMER_SECONDS,
    PRESENT_STATUSES, RATING_MAX, RATING_MIN, State, TIMER_NAMES,
)


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
    event_type, data, audience = handler(state, _Args(command.data))
    if audience is None:
        audience = "facilitators" if event_type in FACILITATOR_EVENTS else "all"
    actor_ref = {"id": str(actor["id"]), "name": actor.get("name", "")}
    return [Event(seq=state["seq"] + 1, type=event_type, data=data, audience=audience, actor=actor_ref, at=now)]


class _Args:
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
        return [_Args({"v": v}).ident("v") for v in value]


Decision = tuple[str, dict[str, Any], str | None]


def _member(state: State, member_id: str) -> dict[str, Any]:
    member = state["members"].get(member_id)
    if member is None:
        raise BoardRejected(f"No member {member_id} in this cohort.", code="member_not_found")
    return member


def _is_absent(state: State, member_id: str) -> bool:
    mark = state["attendance"].get(member_id)
    return mark is not None and mark["status"] not in PRESENT_STATUSES


def _turn(state: State, turn_id: str) -> dict[str, Any]:
    turn = state["turns"].get(turn_id)
    if turn is None:
        raise BoardRejected(f"No turn {turn_id} on this board.", code="turn_not_found")
    return turn


def _live_turn(state: State, args: _Args, *, statuses: tuple[str, ...] = ("active", "paused")) -> str:
    tid = args.ident("turn")
    turn = _turn(state, tid)
    if turn["status"] not in statuses:
        described = {"done": "has already ended", "skipped": "was skipped", "queued": "has not started",
                     "active": "is running", "paused": "is paused"}[turn["status"]]
        code = "turn_not_active" if turn["status"] in ("done", "skipped", "queued") else f"turn_{turn['status']}"
        raise BoardRejected(f"Turn {tid} {described}.", code=code)
    return tid


def _goal(state: State, goal_id: str) -> dict[str, Any]:
    goal = state["goals"].get(goal_id)
    if goal is None:
        raise BoardRejected(f"No goal {goal_id} for this cohort.", code="goal_not_found")
    return goal


def _names_in(state: State) -> set[str]:
    names: set[str] = set()
    for person in [*state["members"].values(), *state["facilitators"].values()]:
        names.update(part.casefold() for part in person["name"].split() if len(part) > 1)
    return names


def _decide_attendance(state: State, a: _Args) -> Decision:
    member = _member(state, a.ident("member"))["id"]
    status = a.choice("status", ATTENDANCE_STATUSES)
    reason = a.text("reason", max_len=500, required=False)
    current = state["attendance"].get(member)
    if current == {"status": status, "reason": reason}:
        raise BoardRejected("Attendance is already recorded like that.", code="no_change")
    return "attendance_marked", {"member": member, "status": status, "reason": reason}, None


def _decide_checkin_start(state: State, a: _Args) -> Decision:
    if state["checkin"] and not state["checkin"]["done"]:
        raise BoardRejected("A check-in round is already running.", code="checkin_running")
    if a.has("order"):
        order = a.id_list("order")
        for mid in order:
            _member(state, mid)
        if len(set(order)) != len(order):
            raise BoardInvalid("A member appears twice in the check-in order.", code="invalid_argument")
    else:
        order = [mid for mid, mark in state["attendance"].items() if mark["status"] in PRESENT_STATUSES]
        order.sort(key=list(state["members"]).index)
    if not order:
        raise BoardRejected("Mark who is present before starting the check-in round.", code="nobody_present")
    absent = [mid for mid in order if _is_absent(state, mid)]
    if absent:
        raise BoardRejected("An absent member cannot be in the check-in round.", code="member_absent")
    return "checkin_started", {"order": order}, None


def _running_checkin(state: State, a: _Args) -> dict[str, Any]:
    checkin = state["checkin"]
    if not checkin or checkin["done"]:
        raise BoardRejected("No check-in round is running.", code="checkin_not_running")
    if a.has("current"):
        current = a.ident("current")
        if checkin["order"][checkin["index"]] != current:
            raise BoardRejected("The check-in round has already moved on.", code="checkin_moved")
    return checkin


def _decide_checkin_next(state: State, a: _Args) -> Decision:
    checkin = _running_checkin(state, a)
    return "checkin_advanced", {"from": checkin["order"][checkin["index"]]}, None


def _decide_checkin_end(state: State, a: _Args) -> Decision:
    _running_checkin(state, a)
    return "checkin_ended", {}, None


def _counterpart(state: State, a: _Args, protagonist: str) -> dict[str, str]:
    raw = a.data.get("counterpart")
    if not isinstance(raw, Mapping):
        raise BoardInvalid("'counterpart' must be {kind: facilitator|member, id}.", code="invalid_argument",
                           fields={"counterpart": "required"})
    ca = _Args(raw)
    kind = ca.choice("kind", ("facilitator", "member"))
    cid = ca.ident("id")
    if kind == "facilitator":
        if cid not in state["facilitators"]:
            raise BoardRejected(f"No facilitator {cid} on this cohort.", code="facilitator_not_found")
    else:
        _member(state, cid)
        if cid == protagonist:
            raise BoardInvalid("The protagonist cannot also play the counterpart.", code="invalid_argument")
        if _is_absent(state, cid):
            raise BoardRejected("The volunteer counterpart is marked absent.", code="member_absent")
    return {"kind": kind, "id": cid}


def _role_label(state: State, a: _Args) -> str:
    label = a.text("role_label", max_len=60)
    # The significant other is named by role only ("my boss"), never by a real name
    # (domain-ipt.md section 6); at least keep the group's own names out of it.
    words = {w.casefold() for w in re.findall(r"[^\W\d_]+", label)}
    if words & _names_in(state):
        raise BoardInvalid("Use a role (\"my sister\", \"boss\"), not a person's name.",
                           code="role_label_is_a_name", fields={"role_label": "a name"})
    return label


def _linked_goal(state: State, a: _Args, protagonist: str) -> str | None:
    gid = a.ident("goal", optional=True)
    if gid is not None and _goal(state, gid)["member"] != protagonist:
        raise BoardRejected("The linked goal must be one of the protagonist's goals.", code="goal_not_members")
    return gid


def _decide_turn_add(state: State, a: _Args) -> Decision:
    protagonist = _member(state, a.ident("protagonist"))["id"]
    if _is_absent(state, protagonist):
        raise BoardRejected("The protagonist is marked absent.", code="member_absent")
    if len(state["queue"]) >= MAX_QUEUE:
        raise BoardRejected("The queue is full.", code="queue_full")
    data = {
        "turn": str(state["next_turn"]), "protagonist": protagonist,
        "counterpart": _counterpart(state, a, protagonist), "role_label": _role_label(state, a),
        "scenario": a.text("scenario", max_len=1000, required=False),
        "goal": _linked_goal(state, a, protagonist),
        "duration_s": a.integer("duration_s", lo=60, hi=MAX_TIMER_SECONDS, default=DEFAULT_TURN_SECONDS),
    }
    return "turn_added", data, None


def _decide_turn_update(state: State, a: _Args) -> Decision:
    tid = _live_turn(state, a, statuses=("queued",))
    turn = state["turns"][tid]
    data: dict[str, Any] = {"turn": tid}
    if a.has("counterpart"):
        data["counterpart"] = _counterpart(state, a, turn["protagonist"])
    if a.has("role_label"):
        data["role_label"] = _role_label(state, a)
    if a.has("scenario"):
        data["scenario"] = a.text("scenario", max_len=1000, required=False)
    if "goal" in a.data:
        data["goal"] = _linked_goal(state, a, turn["protagonist"])
    if a.has("duration_s"):
        data["duration_s"] = a.integer("duration_s", lo=60, hi=MAX_TIMER_SECONDS)
    if len(data) == 1:
        raise BoardInvalid("Nothing to change.", code="invalid_argument")
    # Scenario and linked goal are for facilitators; the display only learns of the rest.
    shown = {"counterpart", "role_label", "duration_s"} & set(data)
    return "turn_updated", data, "all" if shown else "facilitators"


def _decide_reorder(state: State, a: _Args) -> Decision:
    order = a.id_list("order")
    if sorted(order) != sorted(state["queue"]):
        raise BoardRejected("The queue has changed since you started reordering; try again.",
                            code="queue_changed")
    if order == state["queue"]:
        raise BoardRejected("The queue is already in that order.", code="no_change")
    return "queue_reordered", {"order": order}, None


def favoured_order(state: State) -> list[str]:
    """The queue with members who have had fewer turns in this cohort first (stable)."""
    had: dict[str, int] = {mid: m["prior_turns"] for mid, m in state["members"].items()}
    for turn in state["turns"].values():
        if turn["status"] in ("active", "paused", "done"):
            had[turn["protagonist"]] = had.get(turn["protagonist"], 0) + 1
    return sorted(state["queue"], key=lambda tid: had.get(state["turns"][tid]["protagonist"], 0))


def _decide_favour(state: State, a: _Args) -> Decision:
    order = favoured_order(state)
    if order == state["queue"]:
        raise BoardRejected("Members without a turn are already first.", code="no_change")
    return "queue_reordered", {"order": order, "favoured": True}, None


def _decide_turn_start(state: State, a: _Args) -> Decision:
    tid = _live_turn(state, a, statuses=("queued",))
    if state["active_turn"] is not None:
        raise BoardRejected(f"Turn {state['active_turn']} is still running; end it first.",
                            code="turn_already_active")
    protagonist = state["turns"][tid]["protagonist"]
    if _is_absent(state, protagonist):
        raise BoardRejected("The protagonist is marked absent.", code="member_absent")
    return "turn_started", {"turn": tid}, None


def _decide_turn_pause(state: State, a: _Args) -> Decision:
    return "turn_paused", {"turn": _live_turn(state, a, statuses=("active",))}, None


def _decide_turn_resume(state: State, a: _Args) -> Decision:
    return "turn_resumed", {"turn": _live_turn(state, a, statuses=("paused",))}, None


def _decide_role_reversal(state: State, a: _Args) -> Decision:
    tid = _live_turn(state, a)
    if state["turns"][tid]["stage"] != "practice":
        raise BoardRejected("Role reversal follows the practice, before feedback.", code="wrong_stage")
    return "role_reversal_started", {"turn": tid}, None


def _decide_feedback_start(state: State, a: _Args) -> Decision:
    tid = _live_turn(state, a)
    if state["turns"][tid]["stage"] not in ("practice", "role_reversal"):
        raise BoardRejected("Feedback has already started for this turn.", code="wrong_stage")
    return "feedback_started", {"turn": tid}, None


def _decide_feedback_next(state: State, a: _Args) -> Decision:
    tid = _live_turn(state, a)
    turn = state["turns"][tid]
    if turn["stage"] != "feedback":
        raise BoardRejected("The feedback round is not running for this turn.", code="wrong_stage")
    if a.has("from_stage") and a.choice("from_stage", FEEDBACK_STAGES) != turn["feedback_stage"]:
        raise BoardRejected("The feedback round has already moved on.", code="feedback_moved")
    return "feedback_advanced", {"turn": tid, "from_stage": turn["feedback_stage"]}, None


def _decide_next_step(state: State, a: _Args) -> Decision:
    tid = _live_turn(state, a, statuses=("active", "paused", "done"))
    return "next_step_recorded", {"turn": tid, "text": a.text("text", max_len=1000)}, None


def _decide_turn_end(state: State, a: _Args) -> Decision:
    return "turn_ended", {"turn": _live_turn(state, a)}, None


def _decide_turn_skip(state: State, a: _Args) -> Decision:
    return "turn_skipped", {"turn": _live_turn(state, a, statuses=("queued",))}, None


def _agenda_or_turn(state: State, a: _Args, *, must_exist: bool = True) -> str:
    name = a.choice("name", TIMER_NAMES)
    if must_exist and name not in state["timers"]:
        raise BoardRejected(f"The {name} timer is not set.", code="timer_not_set")
    return name


def _decide_timer_start(state: State, a: _Args) -> Decision:
    if a.data.get("name", "agenda") != "agenda":
        raise BoardInvalid("The turn timer starts with the turn.", code="invalid_argument")
    data = {"name": "agenda", "label": a.text("label", max_len=80, required=False, default="Agenda"),
            "duration_s": a.integer("duration_s", lo=1, hi=MAX_TIMER_SECONDS)}
    return "timer_started", data, None


def _decide_timer_pause(state: State, a: _Args) -> Decision:
    name = _agenda_or_turn(state, a)
    if name == "turn":
        raise BoardInvalid("Pause the turn to pause its timer.", code="invalid_argument")
    if not state["timers"][name]["running"]:
        raise BoardRejected("The timer is already paused.", code="timer_paused")
    return "timer_paused", {"name": name}, None


def _decide_timer_resume(state: State, a: _Args) -> Decision:
    name = _agenda_or_turn(state, a)
    if name == "turn":
        raise BoardInvalid("Resume the turn to resume its timer.", code="invalid_argument")
    if state["timers"][name]["running"]:
        raise BoardRejected("The timer is already running.", code="timer_running")
    return "timer_resumed", {"name": name}, None


def _decide_timer_extend(state: State, a: _Args) -> Decision:
    name = _agenda_or_turn(state, a)
    seconds = a.integer("seconds", lo=-3600, hi=3600)
    if seconds == 0:
        raise BoardInvalid("'seconds' must not be 0.", code="invalid_argument")
    if state["timers"][name]["duration_ms"] + seconds * 1000 > MAX_TIMER_SECONDS * 1000:
        raise BoardInvalid("A timer runs at most four hours.", code="invalid_argument")
    return "timer_extended", {"name": name, "seconds": seconds}, None


def _decide_timer_stop(state: State, a: _Args) -> Decision:
    name = _agenda_or_turn(state, a)
    if name == "turn":
        raise BoardInvalid("End the turn to stop its timer.", code="invalid_argument")
    return "timer_stopped", {"name": name}, None


def _goal_audience(goal: Mapping[str, Any]) -> str:
    # Group goals belong on the room's screen; a member's own target goals do not.
    return "all" if goal["member"] is None else "facilitators"


def _decide_goal_rate(state: State, a: _Args) -> Decision:
    goal = _goal(state, a.ident("goal"))
    rating = a.integer("rating", lo=RATING_MIN, hi=RATING_MAX)
    return "goal_rated", {"goal": goal["id"], "rating": rating}, _goal_audience(goal)


def _decide_goal_status(state: State, a: _Args) -> Decision:
    goal = _goal(state, a.ident("goal"))
    status = a.choice("status", GOAL_STATUSES)
    data: dict[str, Any] = {"goal": goal["id"], "status": status, "from": goal["status"]}
    if status == "revised":
        data["revised_text"] = a.text("text", max_len=500)
    elif status == goal["status"]:
        raise BoardRejected(f"The goal is already {status}.", code="no_change")
    return "goal_status_changed", data, _goal_audience(goal)


def _decide_note(state: State, a: _Args) -> Decision:
    member = a.ident("member", optional=True)
    if member is not None:
        _member(state, member)
    return "note_added", {"text": a.text("text", max_len=4000), "member": member}, None


def _decide_display_labels(state: State, a: _Args) -> Decision:
    mode = a.choice("mode", DISPLAY_LABELS)
    if mode == state["display_labels"]:
        raise BoardRejected("The display already shows names that way.", code="no_change")
    return "display_labels_set", {"mode": mode}, None


def _decide_undo(state: State, a: _Args) -> Decision:
    history = state["history"]
    if not history:
        raise BoardRejected("There is no step to undo.", code="nothing_to_undo")
    step = history[-1]
    # The client names the step it means to undo; if a co-facilitator acted meanwhile,
    # undoing "the last step" would undo theirs.
    if a.has("seq") and a.integer("seq", lo=1, hi=2**31) != step["seq"]:
        raise BoardRejected("Another step happened since; look again before undoing.", code="undo_conflict")
    return "step_undone", {"undone_seq": step["seq"], "undone_type": step["type"]}, step["audience"]


def _decide_close(state: State, a: _Args) -> Decision:
    unmarked = [mid for mid in state["members"] if mid not in state["attendance"]]
    if unmarked and not a.data.get("confirm_unmarked"):
        raise BoardRejected(f"Attendance is not marked for {len(unmarked)} member(s); mark it, or close "
                            "anyway with confirm_unmarked.", code="attendance_incomplete")
    # domain-ipt.md 5b: a structured risk assessment is required "before the consultation
    # ends", so the session record waits for a documented contact with every member who was
    # in the room (present, late, or not marked) and has an open safety item.
    in_room = {mid for mid in state["members"]
               if mid not in state["attendance"] or state["attendance"][mid]["status"] in PRESENT_STATUSES}
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


_DECIDE: dict[str, Callable[[State, _Args], Decision]] = {
    "mark_attendance": _decide_attendance,
    "start_checkin": _decide_checkin_start,
    "next_checkin": _decide_checkin_next,
    "end_checkin": _decide_checkin_end,
    "add_turn": _decide_turn_add,
    "update_turn": _decide_turn_update,
    "reorder_queue": _decide_reorder,
    "favour_new_members": _decide_favour,
    "start_turn": _decide_turn_start,
    "pause_turn": _decide_turn_pause,
    "resume_turn": _decide_turn_resume,
    "start_role_reversal": _decide_role_reversal,
    "start_feedback": _decide_feedback_start,
    "next_feedback": _decide_feedback_next,
    "record_next_step": _decide_next_step,
    "end_turn": _decide_turn_end,
    "skip_turn": _decide_turn_skip,
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
