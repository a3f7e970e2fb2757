"""Sessions already held, run on the real live board and closed there, as a facilitator runs
them: attendance, role-play turns with feedback and a next step, goal ratings, a note, close.
Closing writes the meeting's record (server/board/record.py), as it does after a real session."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from models.accounts import User
from models.cohorts import Cohort, Enrollment, Meeting, MeetingKind
from server.board.hub import Hub
from server.board.service import BoardService
from server.board.state import Command


@dataclass(frozen=True)
class Turn:
    protagonist: int  # index of the member among the cohort's enrollments
    role_label: str  # the other person, by role only
    scenario: str
    next_step: str


@dataclass(frozen=True)
class HeldSession:
    absences: dict[int, tuple[str, str]] = field(default_factory=dict)  # member index -> (status, reason)
    turns: list[Turn] = field(default_factory=list)
    note: str = ""


async def run_held_sessions(cohort: Cohort, enrollments: list[Enrollment], session: Callable[[int], HeldSession], *,
                            lead: User, counterpart: User, now: datetime, safety_reason: str = "") -> None:
    """Every group session of `cohort` that has begun by `now`, in order. `session(number)` says
    who was away and which turns were played; `counterpart` plays the other person and gives
    the first feedback; goals of the members in the room are rated as the weeks go by."""
    hub = Hub.from_url("memory://")
    service = BoardService(hub)
    held = await Meeting.filter(cohort_id=cohort.id, kind=MeetingKind.GROUP, starts_at__lt=now).order_by("number")
    async with hub.running():
        for meeting in held:
            board = await service.board_for(meeting)
            state = await service.state(board.id)
            plan = session(meeting.number)

            async def run(name: str, actor: User = lead, **data):
                await service.execute(board.id, Command(name, data), actor, client_cmd_id=None)

            for index, enrollment in enumerate(enrollments):
                status, reason = plan.absences.get(index, ("present", ""))
                await run("mark_attendance", member=str(enrollment.id), status=status, reason=reason)
            for turn in plan.turns:
                protagonist = enrollments[turn.protagonist]
                goal = next((gid for gid, g in state["goals"].items() if g["member"] == str(protagonist.id)), None)
                await run("add_turn", protagonist=str(protagonist.id), role_label=turn.role_label,
                          scenario=turn.scenario, counterpart={"kind": "facilitator", "id": str(counterpart.id)},
                          goal=goal)
                number = str((await service.state(board.id))["next_turn"] - 1)
                await run("start_turn", turn=number)
                await run("start_feedback", turn=number, actor=counterpart)
                for _stage in range(3):
                    await run("next_feedback", turn=number)
                await run("record_next_step", turn=number, text=turn.next_step)
                await run("end_turn", turn=number)
            in_room = {str(e.id) for i, e in enumerate(enrollments)
                       if plan.absences.get(i, ("present",))[0] in ("present", "late")}
            for gid, goal in state["goals"].items():
                if goal["member"] is None or goal["member"] in in_room:
                    await run("rate_goal", goal=gid, rating=min(4, meeting.number - 1 + (int(gid) % 2)))
            if plan.note:
                await run("add_note", text=plan.note)
            close = {"confirm_unmarked": True}
            if safety_reason:  # used only where a member in the room has an item with no documented contact
                close["confirm_safety_reason"] = safety_reason
            await run("close_meeting", **close)
