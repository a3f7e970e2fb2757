"""The meeting's record, written when its board closes, in the transaction that stores the
`meeting_closed` event: attendance, role-play turns, goal progress and the facilitators'
notes, from the board's final state; the meeting is then completed. Read back, as plain
rows, for the meeting's page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.accounts import User
from models.board import Attendance, Board, FacilitatorNote, RolePlayTurn, TurnStatus
from models.clinical import Goal, GoalProgress, GoalStatus
from models.cohorts import Meeting, MeetingStatus
from server.accounts import audit
from server.board.state import State

# A turn still queued, or skipped, is recorded as such; every other turn was taken (closing
# the board ends the one running).
_NOT_TAKEN = (TurnStatus.QUEUED, TurnStatus.SKIPPED)

async def store_meeting_record(board_id: int, state: State, actor: User, now: datetime) -> None:
    """Attendance, role-play turns, goal progress and notes become the meeting's record."""
    meeting_id = state["meeting"]["id"]
    for member, mark in state["attendance"].items():
        await Attendance.update_or_create(
            defaults={"status": mark["status"], "reason": mark["reason"], "recorded_by_id": actor.id},
            meeting_id=meeting_id, enrollment_id=int(member))
    await RolePlayTurn.filter(meeting_id=meeting_id).delete()
    position = {tid: i for i, tid in enumerate(state["queue"])}
    for tid, turn in state["turns"].items():
        counterpart = turn["counterpart"]
        await RolePlayTurn.create(
            meeting_id=meeting_id, protagonist_id=int(turn["protagonist"]),
            counterpart_user_id=int(counterpart["id"]) if counterpart["kind"] == "facilitator" else None,
            counterpart_enrollment_id=int(counterpart["id"]) if counterpart["kind"] == "member" else None,
            role_label=turn["role_label"], scenario=turn["scenario"],
            goal_id=int(turn["goal"]) if turn["goal"] else None,
            status=TurnStatus(turn["status"]) if turn["status"] in _NOT_TAKEN else TurnStatus.DONE,
            role_reversal=turn["role_reversal"], next_step=turn["next_step"],
            position=position.get(tid, int(tid)),
            started_at=_parse(turn["started_at"]), ended_at=_parse(turn["ended_at"]),
        )
    for gid, goal in state["goals"].items():
        changed_status = goal["status"] != goal["status_at_open"]
        if goal["rating"] is None and not changed_status and not goal["revised_text"]:
            continue
        row = await Goal.get(id=int(gid))
        note = ""
        if goal["revised_text"] and goal["revised_text"] != row.text:
            note = f"Revised from: {row.text}"
            row.text = goal["revised_text"]
        row.status = GoalStatus(goal["status"])
        await row.save(update_fields=["text", "status", "updated_at"])
        await GoalProgress.create(goal_id=row.id, meeting_id=meeting_id, rating=goal["rating"],
                                  status=GoalStatus(goal["status"]) if changed_status else None,
                                  note=note, recorded_by_id=actor.id)
    for note in state["notes"]:
        await FacilitatorNote.create(meeting_id=meeting_id, author_id=int(note["by"]) if note["by"] else None,
                                     text=note["text"])
    await Board.filter(id=board_id).update(closed_at=now)
    await Meeting.filter(id=meeting_id).update(status=MeetingStatus.COMPLETED)
    await audit.record(actor, "change", "meeting_record", meeting_id,
                       detail=f"board closed: {len(state['attendance'])} attendance, {len(state['turns'])} turns")


@dataclass(frozen=True, kw_only=True)
class MeetingRecord:
    closed_at: datetime
    attendance: list[Attendance]
    turns: list[RolePlayTurn]
    goals: list[GoalProgress]
    notes: list[FacilitatorNote]


async def meeting_record(meeting_id: int) -> MeetingRecord | None:
    """What the closed board recorded for a meeting; None while its board is open or unused."""
    board = await Board.get_or_none(meeting_id=meeting_id)
    if board is None or board.closed_at is None:
        return None
    return MeetingRecord(
        closed_at=board.closed_at,
        attendance=await Attendance.filter(meeting_id=meeting_id).select_related("enrollment__member")
        .order_by("enrollment__member__display_name"),
        turns=await RolePlayTurn.filter(meeting_id=meeting_id).select_related(
            "protagonist__member", "counterpart_user", "counterpart_enrollment__member", "goal").order_by("position", "id"),
        goals=await GoalProgress.filter(meeting_id=meeting_id).select_related("goal__enrollment__member").order_by("id"),
        notes=await FacilitatorNote.filter(meeting_id=meeting_id).select_related("author").order_by("at", "id"),
    )


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
