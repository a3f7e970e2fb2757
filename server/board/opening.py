"""The events the server makes without a command: the board's opening and safety refreshes.

Pure, as `state` and `decide` are: the roster and the open safety items are read from the
database by `server.board.roster` and passed in, with the time.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from server.board.state import Event, State
from server.board.vocabulary import AttendanceStatus, GoalStatus


def opening_event(roster: Mapping[str, Any], *, now: datetime) -> Event:
    """The first event of every board: who is in the room and what they work on.

    `roster` = {"meeting": {...}, "members": [{"id", "name", "first_name", "initials",
    "problem_area", "prior_turns"}], "facilitators": [{"id", "name", "first_name"}],
    "goals": [{"id", "member" (None for a group goal), "text", "status"}],
    "safety": [{"id", "member", "item9", "opened_at"}], "absences": [{"member", "reason"}]}.
    Facilitators only: it names problem areas and safety items.
    """
    members = {str(m["id"]) for m in roster.get("members", ())}
    data = {
        "meeting": dict(roster.get("meeting") or {}),
        "members": [_member_entry(m) for m in roster.get("members", ())],
        "facilitators": [_facilitator_entry(f) for f in roster.get("facilitators", ())],
        "goals": [_goal_entry(g) for g in roster.get("goals", ())],
        "safety": [dict(s, id=str(s["id"]), member=_id(s.get("member"))) for s in roster.get("safety", ())],
        "attendance": {str(a["member"]): {"status": AttendanceStatus.ABSENT_NOTIFIED, "reason": a.get("reason", "")}
                       for a in roster.get("absences", ()) if str(a["member"]) in members},
    }
    return Event(seq=1, type="board_opened", data=data, audience="facilitators", actor=None, at=now)


def safety_event(state: State, items: list[Mapping[str, Any]], *, now: datetime) -> Event | None:
    """A refresh of the open safety items, or None when nothing changed."""
    normalized = [dict(s, id=str(s["id"]), member=_id(s.get("member"))) for s in items]
    if normalized == state.get("safety"):
        return None
    return Event(seq=state["seq"] + 1, type="safety_items_updated", data={"items": normalized},
                 audience="facilitators", actor=None, at=now)


def notified_absence_event(state: State, member: str, reason: str, *, now: datetime) -> Event | None:
    """A member said they can't come while the board is open: marked so unless the facilitator
    has marked them otherwise already (theirs is the last word)."""
    mark = state.get("attendance", {}).get(member)
    if state.get("status") != "open" or member not in state.get("members", {}) or (
            mark is not None and mark["status"] != AttendanceStatus.ABSENT_NOTIFIED):
        return None
    data = {"member": member, "status": AttendanceStatus.ABSENT_NOTIFIED.value, "reason": reason}
    if mark == {"status": data["status"], "reason": reason}:
        return None
    return Event(seq=state["seq"] + 1, type="attendance_marked", data=data, audience="facilitators", actor=None, at=now)


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


def _member_entry(m: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(m["id"]), "name": m["name"], "first_name": m.get("first_name") or m["name"].split()[0],
        "initials": m.get("initials") or "".join(p[0].upper() for p in m["name"].split()[:2]),
        "problem_area": m.get("problem_area"), "prior_turns": int(m.get("prior_turns") or 0),
    }


def _facilitator_entry(f: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": str(f["id"]), "name": f["name"], "first_name": f.get("first_name") or f["name"].split()[0]}


def _goal_entry(g: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(g["id"]), "member": _id(g.get("member")), "text": g["text"],
        "status": g.get("status", GoalStatus.ACTIVE), "status_at_open": g.get("status", GoalStatus.ACTIVE),
        "rating": None, "revised_text": None,
    }
