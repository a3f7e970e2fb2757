"""Who is in the room and what they work on, read from the database for the board's opening
(`server.board.opening` makes the events) and for each refresh of the open safety items."""
from __future__ import annotations

from typing import Any

from models.board import RolePlayTurn, TurnStatus
from models.clinical import Goal, GoalStatus, SafetyItem, SafetyItemStatus
from models.cohorts import Cohort, Enrollment, EnrollmentStatus, Meeting
from server.reminders.absences import notified_absences


async def safety_items(cohort_id: int) -> list[dict[str, Any]]:
    """The open safety items of the cohort's enrolled members, as the board carries them."""
    rows = await SafetyItem.filter(enrollment__cohort_id=cohort_id, status=SafetyItemStatus.OPEN,
                                   enrollment__status=EnrollmentStatus.ENROLLED,
                                   enrollment__member__restricted_at=None).order_by("opened_at", "id").values(
        "id", "enrollment_id", "item9", "opened_at", "source", "due_at")
    return [{"id": r["id"], "member": r["enrollment_id"], "item9": r["item9"],
             "opened_at": r["opened_at"].isoformat(), "source": str(r["source"]),
             "due_at": r["due_at"].isoformat() if r["due_at"] else None} for r in rows]


async def roster(meeting: Meeting) -> dict[str, Any]:
    """`opening_event`'s roster: the meeting, its enrolled members (with the turns each had in
    earlier sessions), the facilitators, the goals still open and the open safety items."""
    cohort = await Cohort.get(id=meeting.cohort_id)
    enrollments = await Enrollment.filter(cohort_id=cohort.id, status=EnrollmentStatus.ENROLLED,
                                          member__restricted_at=None).order_by("id").select_related("member")
    ids = [e.id for e in enrollments]
    prior: dict[int, int] = {}
    for pid in await RolePlayTurn.filter(protagonist_id__in=ids, status=TurnStatus.DONE).exclude(
            meeting_id=meeting.id).values_list("protagonist_id", flat=True):
        prior[pid] = prior.get(pid, 0) + 1
    goals = await Goal.filter(cohort_id=cohort.id, status__in=[GoalStatus.ACTIVE, GoalStatus.REVISED]).filter(
        enrollment_id__in=ids).values("id", "enrollment_id", "text", "status") if ids else []
    group_goals = await Goal.filter(cohort_id=cohort.id, enrollment_id=None,
                                    status__in=[GoalStatus.ACTIVE, GoalStatus.REVISED]).values(
        "id", "enrollment_id", "text", "status")
    facilitators = await cohort.facilitators.all().order_by("id")
    return {
        "meeting": {
            "id": meeting.id, "cohort": cohort.id, "number": meeting.number, "phase": meeting.phase,
            "title": f"{cohort.public_title} {meeting.number} of {cohort.n_group_sessions}",
            "starts_at": meeting.starts_at.isoformat(), "ends_at": meeting.ends_at.isoformat(),
        },
        "members": [
            {"id": e.id, "name": e.member.display_name, "first_name": e.member.first_name,
             "initials": e.member.initials, "problem_area": e.primary_problem_area and str(e.primary_problem_area),
             "prior_turns": prior.get(e.id, 0)}
            for e in enrollments
        ],
        "facilitators": [{"id": f.id, "name": f.display_name, "first_name": f.first_name} for f in facilitators],
        "goals": [{"id": g["id"], "member": g["enrollment_id"], "text": g["text"], "status": str(g["status"])}
                  for g in [*goals, *group_goals]],
        "safety": await safety_items(cohort.id),
        # Members who said ahead they can't come (server/reminders): pre-filled, still changeable.
        "absences": [{"member": a.enrollment_id, "reason": a.reason}
                     for a in (await notified_absences(meeting.id)).values()],
    }
