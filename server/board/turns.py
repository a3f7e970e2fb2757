"""Deciding the role play: the queue of turns, who plays whom, and a turn's stages.

A turn is queued (protagonist, counterpart, the other person's role, a scenario and a
linked goal), started, practised, optionally reversed, followed by the feedback round in
the order IPT-G's norms give (`FeedbackStage`), and closed with the member's next step.
Pure, as `decide` is; its table of rules takes these from `RULES`.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from server.board.arguments import (
    Args,
    Decision,
    Rule,
    find_goal,
    find_member,
    is_absent,
    live_turn,
)
from server.board.state import MAX_TIMER_SECONDS, BoardInvalid, BoardRejected, State
from server.board.vocabulary import FEEDBACK_STAGES, LIVE_TURN, TURN_TAKEN, TurnStage, TurnStatus

MAX_QUEUE = 60
DEFAULT_TURN_SECONDS = 10 * 60


def _names_in(state: State) -> set[str]:
    names: set[str] = set()
    for person in [*state["members"].values(), *state["facilitators"].values()]:
        names.update(part.casefold() for part in person["name"].split() if len(part) > 1)
    return names


def _counterpart(state: State, a: Args, protagonist: str) -> dict[str, str]:
    raw = a.data.get("counterpart")
    if not isinstance(raw, Mapping):
        raise BoardInvalid("'counterpart' must be {kind: facilitator|member, id}.", code="invalid_argument",
                           fields={"counterpart": "required"})
    ca = Args(raw)
    kind = ca.choice("kind", ("facilitator", "member"))
    cid = ca.ident("id")
    if kind == "facilitator":
        if cid not in state["facilitators"]:
            raise BoardRejected(f"No facilitator {cid} on this cohort.", code="facilitator_not_found")
    else:
        find_member(state, cid)
        if cid == protagonist:
            raise BoardInvalid("The protagonist cannot also play the counterpart.", code="invalid_argument")
        if is_absent(state, cid):
            raise BoardRejected("The volunteer counterpart is marked absent.", code="member_absent")
    return {"kind": kind, "id": cid}


def _role_label(state: State, a: Args) -> str:
    label = a.text("role_label", max_len=60)
    # The significant other is named by role only ("my boss"), never by a real name
    # (domain-ipt.md section 6); at least keep the group's own names out of it.
    words = {w.casefold() for w in re.findall(r"[^\W\d_]+", label)}
    if words & _names_in(state):
        raise BoardInvalid("Use a role (\"my sister\", \"boss\"), not a person's name.",
                           code="role_label_is_a_name", fields={"role_label": "a name"})
    return label


def _linked_goal(state: State, a: Args, protagonist: str) -> str | None:
    gid = a.ident("goal", optional=True)
    if gid is not None and find_goal(state, gid)["member"] != protagonist:
        raise BoardRejected("The linked goal must be one of the protagonist's goals.", code="goal_not_members")
    return gid


def _decide_turn_add(state: State, a: Args) -> Decision:
    protagonist = find_member(state, a.ident("protagonist"))["id"]
    if is_absent(state, protagonist):
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


def _decide_turn_update(state: State, a: Args) -> Decision:
    tid = live_turn(state, a, statuses=(TurnStatus.QUEUED,))
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


def _decide_reorder(state: State, a: Args) -> Decision:
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
        if turn["status"] in TURN_TAKEN:
            had[turn["protagonist"]] = had.get(turn["protagonist"], 0) + 1
    return sorted(state["queue"], key=lambda tid: had.get(state["turns"][tid]["protagonist"], 0))


def _decide_favour(state: State, a: Args) -> Decision:
    order = favoured_order(state)
    if order == state["queue"]:
        raise BoardRejected("Members without a turn are already first.", code="no_change")
    return "queue_reordered", {"order": order, "favoured": True}, None


def _decide_turn_start(state: State, a: Args) -> Decision:
    tid = live_turn(state, a, statuses=(TurnStatus.QUEUED,))
    if state["active_turn"] is not None:
        raise BoardRejected(f"Turn {state['active_turn']} is still running; end it first.",
                            code="turn_already_active")
    protagonist = state["turns"][tid]["protagonist"]
    if is_absent(state, protagonist):
        raise BoardRejected("The protagonist is marked absent.", code="member_absent")
    return "turn_started", {"turn": tid}, None


def _decide_turn_pause(state: State, a: Args) -> Decision:
    return "turn_paused", {"turn": live_turn(state, a, statuses=(TurnStatus.ACTIVE,))}, None


def _decide_turn_resume(state: State, a: Args) -> Decision:
    return "turn_resumed", {"turn": live_turn(state, a, statuses=(TurnStatus.PAUSED,))}, None


def _decide_role_reversal(state: State, a: Args) -> Decision:
    tid = live_turn(state, a)
    if state["turns"][tid]["stage"] != TurnStage.PRACTICE:
        raise BoardRejected("Role reversal follows the practice, before feedback.", code="wrong_stage")
    return "role_reversal_started", {"turn": tid}, None


def _decide_feedback_start(state: State, a: Args) -> Decision:
    tid = live_turn(state, a)
    if state["turns"][tid]["stage"] not in (TurnStage.PRACTICE, TurnStage.ROLE_REVERSAL):
        raise BoardRejected("Feedback has already started for this turn.", code="wrong_stage")
    return "feedback_started", {"turn": tid}, None


def _decide_feedback_next(state: State, a: Args) -> Decision:
    tid = live_turn(state, a)
    turn = state["turns"][tid]
    if turn["stage"] != TurnStage.FEEDBACK:
        raise BoardRejected("The feedback round is not running for this turn.", code="wrong_stage")
    if a.has("from_stage") and a.choice("from_stage", FEEDBACK_STAGES) != turn["feedback_stage"]:
        raise BoardRejected("The feedback round has already moved on.", code="feedback_moved")
    return "feedback_advanced", {"turn": tid, "from_stage": turn["feedback_stage"]}, None


def _decide_next_step(state: State, a: Args) -> Decision:
    tid = live_turn(state, a, statuses=(*LIVE_TURN, TurnStatus.DONE))
    return "next_step_recorded", {"turn": tid, "text": a.text("text", max_len=1000)}, None


def _decide_turn_end(state: State, a: Args) -> Decision:
    return "turn_ended", {"turn": live_turn(state, a)}, None


def _decide_turn_skip(state: State, a: Args) -> Decision:
    return "turn_skipped", {"turn": live_turn(state, a, statuses=(TurnStatus.QUEUED,))}, None


RULES: dict[str, Rule] = {
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
}
