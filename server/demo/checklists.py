"""Session fidelity (issue 17): the checklists facilitators filled in after the meetings held."""
from __future__ import annotations

from datetime import datetime, timedelta

from models.accounts import User
from models.cohorts import Cohort, Meeting, MeetingKind, MeetingStatus
from server import fidelity

# What the facilitator answered after each meeting held, by session number ->
# {item key: (answer, note)}; items not named were done.
CHECKLIST_ANSWERS = {
    2: {"homework-every-member": ("partly", "Two members left before we agreed theirs.")},
    3: {"decision-analysis": ("not_done", "Ran out of time after a long check-in."),
        "on-time": ("partly", "Started ten minutes late: the room was booked.")},
}
CHECKLIST_RATINGS = {1: 4, 2: 3, 3: 3}


async def session_checklists(cohort: Cohort, facilitator: User, now: datetime, *, skip_latest: bool = True) -> None:
    """The checklists filled in after the meetings held, through the service the page uses;
    the latest session's is still to do (a missing checklist for the supervision agenda)."""
    held = await Meeting.filter(cohort_id=cohort.id, status=MeetingStatus.COMPLETED).order_by("starts_at")
    latest = max((m.number for m in held if m.kind == MeetingKind.GROUP), default=None)
    for meeting in held:
        if skip_latest and meeting.kind == MeetingKind.GROUP and meeting.number == latest:
            continue
        current = await fidelity.meeting_checklist(facilitator, meeting.id, now=now)
        given = CHECKLIST_ANSWERS.get(meeting.number, {}) if meeting.kind == MeetingKind.GROUP else {}
        answers = {item.key: fidelity.Answer(answer=fidelity.ChecklistAnswer(given.get(item.key, ("done", ""))[0]),
                                             note=given.get(item.key, ("done", ""))[1]) for item in current.items}
        rating = CHECKLIST_RATINGS.get(meeting.number, 4) if meeting.kind == MeetingKind.GROUP else 4
        await fidelity.save_checklist(facilitator, meeting.id, answers=answers, note="", rating=rating,
                                      now=meeting.ends_at + timedelta(minutes=20))
