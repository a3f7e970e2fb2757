"""The live board's pure state machine: the board's values, and `apply` an event to them.

Values in, values out, no database and no clock (an event carries its time). Commands
become events in `server.board.decide`, which reads this module; this module knows nothing
of commands beyond their shape. The live path, the tests and the replay after a restart all fold the same `apply` over
the same log, so a rebuilt board is the board the facilitators saw.

The state is a plain JSON value (dicts, lists, strings, numbers) treated as immutable:
`apply` copies the sections it changes and shares the rest. That makes a snapshot
`json.dumps(state)` away, and undo a matter of putting back the sections a step changed.

Every event has an audience: "all" (the participant display may receive it, projected
by `server.board.views.display_event`) or "facilitators" (the display never receives it).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server.board.vocabulary import FEEDBACK_STAGES, TurnStage, TurnStatus
from server.errors import BadRequest, Conflict

State = dict[str, Any]

UNDO_DEPTH = 50
MAX_TIMER_SECONDS = 4 * 60 * 60  # a turn's or the agenda's timer

# Sections of the state a facilitation step may change (and undo may put back).
SECTIONS = (
    "attendance", "checkin", "turns", "queue", "active_turn", "timers", "goals",
    "notes", "display_labels", "safety",
)


class BoardRejected(Conflict):
    """The command was well formed but does not apply to the board as it is now."""


class BoardInvalid(BadRequest):
    """The command is malformed: unknown name, missing or invalid arguments."""


@dataclass(frozen=True)
class Command:
    name: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    data: Mapping[str, Any]
    audience: str  # "all" | "facilitators"
    actor: Mapping[str, Any] | None
    at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "type": self.type, "data": self.data,
            "actor": self.actor, "at": self.at.isoformat(),
        }


def empty_state() -> State:
    return {"seq": 0, "status": "new"}


# ---------------------------------------------------------------- apply

def apply(state: State, event: Event) -> State:
    """The state after `event`. Pure; the only way any board state changes."""
    if event.seq != state["seq"] + 1:
        raise ValueError(f"event seq {event.seq} does not follow {state['seq']}")
    handler = _APPLY.get(event.type)
    if handler is None:
        raise ValueError(f"unknown event type {event.type!r}")
    new = handler(state, event)
    new["seq"] = event.seq
    if event.type in UNDOABLE:
        prior = {k: state.get(k) for k in SECTIONS if new.get(k) is not state.get(k)}
        step = {"seq": event.seq, "type": event.type, "audience": event.audience, "prior": prior}
        new["history"] = (list(state.get("history", ()))[-(UNDO_DEPTH - 1):]) + [step]
    return new


def replay(events: list[Event], state: State | None = None) -> State:
    state = state or empty_state()
    for event in events:
        state = apply(state, event)
    return state


def _with(state: State, **changes: Any) -> State:
    new = dict(state)
    new.update(changes)
    return new


def _apply_opened(state: State, e: Event) -> State:
    d = e.data
    return _with(
        state, status="open", meeting=d["meeting"],
        members={m["id"]: m for m in d["members"]},
        facilitators={f["id"]: f for f in d["facilitators"]},
        goals={g["id"]: g for g in d["goals"]}, safety=list(d["safety"]),
        attendance=dict(d.get("attendance") or {}), checkin=None, turns={}, queue=[], active_turn=None, timers={},
        notes=[], display_labels="first_name", history=[], next_turn=1, opened_at=e.at.isoformat(),
    )


def _apply_safety(state: State, e: Event) -> State:
    return _with(state, safety=list(e.data["items"]))


def _apply_attendance(state: State, e: Event) -> State:
    d = e.data
    attendance = dict(state["attendance"])
    attendance[d["member"]] = {"status": d["status"], "reason": d.get("reason", "")}
    return _with(state, attendance=attendance)


def _apply_checkin_started(state: State, e: Event) -> State:
    return _with(state, checkin={"order": list(e.data["order"]), "index": 0, "done": False})


def _apply_checkin_advanced(state: State, e: Event) -> State:
    checkin = dict(state["checkin"])
    nxt = checkin["index"] + 1
    if nxt >= len(checkin["order"]):
        checkin.update(index=None, done=True)
    else:
        checkin["index"] = nxt
    return _with(state, checkin=checkin)


def _apply_checkin_ended(state: State, e: Event) -> State:
    return _with(state, checkin=dict(state["checkin"], index=None, done=True))


def _apply_turn_added(state: State, e: Event) -> State:
    d = e.data
    turn = {
        "id": d["turn"], "protagonist": d["protagonist"], "counterpart": d["counterpart"],
        "role_label": d["role_label"], "scenario": d.get("scenario", ""), "goal": d.get("goal"),
        "duration_s": d["duration_s"], "status": TurnStatus.QUEUED, "stage": None, "feedback_stage": None,
        "role_reversal": False, "next_step": "", "started_at": None, "ended_at": None,
    }
    return _with(state, turns=_set(state["turns"], turn["id"], turn), queue=state["queue"] + [turn["id"]],
                 next_turn=state["next_turn"] + 1)


def _apply_turn_updated(state: State, e: Event) -> State:
    d = e.data
    turn = dict(state["turns"][d["turn"]])
    for key in ("counterpart", "role_label", "scenario", "goal", "duration_s"):
        if key in d:
            turn[key] = d[key]
    return _with(state, turns=_set(state["turns"], turn["id"], turn))


def _apply_queue_reordered(state: State, e: Event) -> State:
    return _with(state, queue=list(e.data["order"]))


def _apply_turn_started(state: State, e: Event) -> State:
    tid = e.data["turn"]
    turn = dict(state["turns"][tid], status=TurnStatus.ACTIVE, stage=TurnStage.PRACTICE, started_at=e.at.isoformat())
    timers = _set(state["timers"], "turn", _timer("turn", f"Turn {tid}", turn["duration_s"], e))
    return _with(state, turns=_set(state["turns"], tid, turn), active_turn=tid, timers=timers,
                 queue=[t for t in state["queue"] if t != tid])


def _apply_turn_paused(state: State, e: Event) -> State:
    tid = e.data["turn"]
    turn = dict(state["turns"][tid], status=TurnStatus.PAUSED)
    return _with(state, turns=_set(state["turns"], tid, turn), timers=_pause(state["timers"], "turn", e))


def _apply_turn_resumed(state: State, e: Event) -> State:
    tid = e.data["turn"]
    turn = dict(state["turns"][tid], status=TurnStatus.ACTIVE)
    return _with(state, turns=_set(state["turns"], tid, turn), timers=_resume(state["timers"], "turn", e))


def _apply_role_reversal(state: State, e: Event) -> State:
    tid = e.data["turn"]
    turn = dict(state["turns"][tid], stage=TurnStage.ROLE_REVERSAL, role_reversal=True)
    return _with(state, turns=_set(state["turns"], tid, turn))


def _apply_feedback_started(state: State, e: Event) -> State:
    tid = e.data["turn"]
    turn = dict(state["turns"][tid], stage=TurnStage.FEEDBACK, feedback_stage=FEEDBACK_STAGES[0])
    return _with(state, turns=_set(state["turns"], tid, turn))


def _apply_feedback_advanced(state: State, e: Event) -> State:
    tid = e.data["turn"]
    turn = dict(state["turns"][tid])
    position = FEEDBACK_STAGES.index(turn["feedback_stage"]) + 1
    if position < len(FEEDBACK_STAGES):
        turn["feedback_stage"] = FEEDBACK_STAGES[position]
    else:
        turn.update(stage=TurnStage.NEXT_STEP, feedback_stage=None)
    return _with(state, turns=_set(state["turns"], tid, turn))


def _apply_next_step(state: State, e: Event) -> State:
    tid = e.data["turn"]
    turn = dict(state["turns"][tid], next_step=e.data["text"])
    return _with(state, turns=_set(state["turns"], tid, turn))


def _apply_turn_ended(state: State, e: Event) -> State:
    tid = e.data["turn"]
    turn = dict(state["turns"][tid], status=TurnStatus.DONE, stage=None, feedback_stage=None, ended_at=e.at.isoformat())
    timers = {k: v for k, v in state["timers"].items() if k != "turn"}
    return _with(state, turns=_set(state["turns"], tid, turn), active_turn=None, timers=timers)


def _apply_turn_skipped(state: State, e: Event) -> State:
    tid = e.data["turn"]
    turn = dict(state["turns"][tid], status=TurnStatus.SKIPPED)
    return _with(state, turns=_set(state["turns"], tid, turn), queue=[t for t in state["queue"] if t != tid])


def _apply_timer_started(state: State, e: Event) -> State:
    d = e.data
    return _with(state, timers=_set(state["timers"], d["name"], _timer(d["name"], d["label"], d["duration_s"], e)))


def _apply_timer_paused(state: State, e: Event) -> State:
    return _with(state, timers=_pause(state["timers"], e.data["name"], e))


def _apply_timer_resumed(state: State, e: Event) -> State:
    return _with(state, timers=_resume(state["timers"], e.data["name"], e))


def _apply_timer_extended(state: State, e: Event) -> State:
    name = e.data["name"]
    timer = dict(state["timers"][name])
    timer["duration_ms"] = max(0, timer["duration_ms"] + e.data["seconds"] * 1000)
    timer["rev"] = e.seq
    return _with(state, timers=_set(state["timers"], name, timer))


def _apply_timer_stopped(state: State, e: Event) -> State:
    return _with(state, timers={k: v for k, v in state["timers"].items() if k != e.data["name"]})


def _apply_goal_rated(state: State, e: Event) -> State:
    gid = e.data["goal"]
    return _with(state, goals=_set(state["goals"], gid, dict(state["goals"][gid], rating=e.data["rating"])))


def _apply_goal_status(state: State, e: Event) -> State:
    gid = e.data["goal"]
    goal = dict(state["goals"][gid], status=e.data["status"])
    if e.data.get("revised_text"):
        goal["revised_text"] = e.data["revised_text"]
    return _with(state, goals=_set(state["goals"], gid, goal))


def _apply_note_added(state: State, e: Event) -> State:
    d = e.data
    note = {"id": e.seq, "text": d["text"], "member": d.get("member"),
            "by": (e.actor or {}).get("id"), "at": e.at.isoformat()}
    return _with(state, notes=state["notes"] + [note])


def _apply_display_labels(state: State, e: Event) -> State:
    return _with(state, display_labels=e.data["mode"])


def _apply_undone(state: State, e: Event) -> State:
    history = list(state["history"])
    step = history.pop()
    new = _with(state, history=history)
    new.update(step["prior"])
    return new


def _apply_closed(state: State, e: Event) -> State:
    turns, timers = state["turns"], {}
    if state["active_turn"] is not None:
        tid = state["active_turn"]
        turns = _set(turns, tid, dict(turns[tid], status=TurnStatus.DONE, stage=None, feedback_stage=None,
                                      ended_at=e.at.isoformat()))
    checkin = state["checkin"] and dict(state["checkin"], index=None, done=True)
    return _with(state, status="closed", turns=turns, active_turn=None, timers=timers, checkin=checkin,
                 history=[], closed_at=e.at.isoformat())


def _set(mapping: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    new = dict(mapping)
    new[key] = value
    return new


# Timers are server-authoritative: remaining = duration - elapsed - (now - started_at)
# while running, all in the server's epoch milliseconds; clients correct for skew.
def _timer(name: str, label: str, duration_s: int, e: Event) -> dict[str, Any]:
    return {"name": name, "label": label, "duration_ms": duration_s * 1000, "elapsed_ms": 0,
            "started_at_ms": _ms(e.at), "running": True, "rev": e.seq}


def _pause(timers: Mapping[str, Any], name: str, e: Event) -> dict[str, Any]:
    t = dict(timers[name])
    t["elapsed_ms"] = t["elapsed_ms"] + max(0, _ms(e.at) - t["started_at_ms"])
    t.update(running=False, started_at_ms=None, rev=e.seq)
    return _set(timers, name, t)


def _resume(timers: Mapping[str, Any], name: str, e: Event) -> dict[str, Any]:
    return _set(timers, name, dict(timers[name], running=True, started_at_ms=_ms(e.at), rev=e.seq))


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def timer_remaining_ms(timer: Mapping[str, Any], now: datetime) -> int:
    elapsed = timer["elapsed_ms"]
    if timer["running"]:
        elapsed += max(0, _ms(now) - timer["started_at_ms"])
    return max(0, timer["duration_ms"] - elapsed)


_APPLY: dict[str, Callable[[State, Event], State]] = {
    "board_opened": _apply_opened,
    "safety_items_updated": _apply_safety,
    "attendance_marked": _apply_attendance,
    "checkin_started": _apply_checkin_started,
    "checkin_advanced": _apply_checkin_advanced,
    "checkin_ended": _apply_checkin_ended,
    "turn_added": _apply_turn_added,
    "turn_updated": _apply_turn_updated,
    "queue_reordered": _apply_queue_reordered,
    "turn_started": _apply_turn_started,
    "turn_paused": _apply_turn_paused,
    "turn_resumed": _apply_turn_resumed,
    "role_reversal_started": _apply_role_reversal,
    "feedback_started": _apply_feedback_started,
    "feedback_advanced": _apply_feedback_advanced,
    "next_step_recorded": _apply_next_step,
    "turn_ended": _apply_turn_ended,
    "turn_skipped": _apply_turn_skipped,
    "timer_started": _apply_timer_started,
    "timer_paused": _apply_timer_paused,
    "timer_resumed": _apply_timer_resumed,
    "timer_extended": _apply_timer_extended,
    "timer_stopped": _apply_timer_stopped,
    "goal_rated": _apply_goal_rated,
    "goal_status_changed": _apply_goal_status,
    "note_added": _apply_note_added,
    "display_labels_set": _apply_display_labels,
    "step_undone": _apply_undone,
    "meeting_closed": _apply_closed,
}
EVENT_TYPES = frozenset(_APPLY)
NOT_UNDOABLE = frozenset({"board_opened", "safety_items_updated", "step_undone", "meeting_closed"})
UNDOABLE = EVENT_TYPES - NOT_UNDOABLE
