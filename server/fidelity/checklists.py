"""A meeting's session checklist: what is asked, who may answer it, and the answers kept.

The items come from the cohort's protocol template (calendars/checklists.py): the phase's
checklist for a group session, the kind's for an individual meeting. Once answered, the
stored wording is what is asked again on a later edit, so a template edit never rewrites
what a facilitator answered (models/fidelity.py).

Who: the cohort's facilitators answer and edit (an individual meeting's own facilitator
too); coordinators and the facilitators' supervisors read (server.accounts.viewable_cohort).
When: once the meeting is completed (a board closed), or for an individual meeting, which
has no board to close, once it has ended and was not cancelled.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from calendars.checklists import CHECKLIST_TITLES, ChecklistItem, checklist_name
from calendars.vocabulary import MeetingKind, MeetingStatus, Phase
from models.accounts import Role, User
from models.cohorts import Cohort, Meeting
from models.fidelity import ChecklistAnswer, SessionChecklist
from server import schedule
from server.accounts import access, audit
from server.errors import BadRequest, Conflict, Forbidden

ANSWER_LABELS: dict[ChecklistAnswer, str] = {
    ChecklistAnswer.DONE: "Done",
    ChecklistAnswer.PARTLY: "Partly",
    ChecklistAnswer.NOT_DONE: "Not done",
    ChecklistAnswer.NOT_APPLICABLE: "Not applicable",
}
RATING_LABELS = {1: "1 (poorly)", 2: "2", 3: "3", 4: "4", 5: "5 (very well)"}
MAX_NOTE = 2000
MAX_SESSION_NOTE = 4000


@dataclass(frozen=True, kw_only=True)
class Answer:
    answer: ChecklistAnswer
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class MeetingChecklist:
    """One meeting's checklist as a page or the API shows it."""

    meeting: Meeting
    cohort: Cohort
    name: str  # "group:middle", "pregroup", ...
    title: str
    items: tuple[ChecklistItem, ...]  # as asked: the stored wording once answered
    stored: SessionChecklist | None
    may_edit: bool
    held: bool

    def answer_of(self, key: str) -> dict[str, str]:
        for item in (self.stored.items if self.stored else []):
            if item.get("key") == key:
                return item
        return {}

    def to_json(self) -> dict:
        stored = self.stored
        return {
            "meeting_id": self.meeting.id,
            "cohort_id": self.cohort.id,
            "checklist": self.name,
            "title": self.title,
            "held": self.held,
            "may_edit": self.may_edit,
            "submitted": stored is not None,
            "items": [{"key": i.key, "label": i.label, "answer": self.answer_of(i.key).get("answer"),
                       "note": self.answer_of(i.key).get("note", "")} for i in self.items],
            "rating": stored.rating if stored else None,
            "note": stored.note if stored else "",
            "submitted_by": stored.submitted_by_id if stored else None,
            "submitted_at": stored.submitted_at.isoformat() if stored else None,
            "updated_at": stored.updated_at.isoformat() if stored else None,
        }


def meeting_held(meeting: Meeting, *, now: datetime) -> bool:
    if meeting.status == MeetingStatus.COMPLETED:
        return True
    return (meeting.kind != MeetingKind.GROUP and meeting.status != MeetingStatus.CANCELLED
            and meeting.ends_at <= now)


async def may_answer(user: User, meeting: Meeting) -> bool:
    """The cohort's facilitators, and an individual meeting's own facilitator."""
    if user.role != Role.FACILITATOR:
        return False
    return meeting.facilitator_id == user.id or await access.facilitates(user, meeting.cohort_id)


async def meeting_checklist(user: User, meeting_id: int | str, *, now: datetime) -> MeetingChecklist:
    meeting = await schedule.meeting_row(meeting_id)
    cohort = await access.viewable_cohort(user, meeting.cohort_id)
    stored = await SessionChecklist.get_or_none(meeting_id=meeting.id)
    name = stored.checklist if stored else _name_of(meeting)
    if stored is not None:
        items = tuple(ChecklistItem(key=str(i.get("key", "")), label=str(i.get("label", ""))) for i in stored.items)
    else:
        items = await _template_items(cohort, name)
    return MeetingChecklist(
        meeting=meeting, cohort=cohort, name=name, title=CHECKLIST_TITLES.get(name, name), items=items,
        stored=stored, may_edit=await may_answer(user, meeting), held=meeting_held(meeting, now=now),
    )


def _name_of(meeting: Meeting) -> str:
    if meeting.kind == MeetingKind.GROUP and meeting.phase not in {p.value for p in Phase}:
        return "group:"  # a group session without a phase asks nothing
    return checklist_name(meeting.kind, meeting.phase or None)


async def _template_items(cohort: Cohort, name: str) -> tuple[ChecklistItem, ...]:
    row = cohort.template
    if row.is_builtin and row.checklists is None:
        # A shipped protocol stored before it carried checklists: bring it up to date first.
        await schedule.ensure_builtin_templates()
        await row.refresh_from_db()
    return schedule.template_from_row(row).checklist(name)


async def save_checklist(
    user: User,
    meeting_id: int | str,
    *,
    answers: Mapping[str, Answer],
    rating: int | None,
    note: str,
    now: datetime,
) -> MeetingChecklist:
    """Store (or replace) the meeting's answers: one for every item, nothing else. A refusal
    changes nothing."""
    current = await meeting_checklist(user, meeting_id, now=now)
    if not current.may_edit:
        raise Forbidden("Only this cohort's facilitators fill in its session checklists.")
    if not current.held:
        raise Conflict("This meeting has not been held yet; its checklist is asked once it is closed.",
                       code="meeting_not_held")
    keys = [item.key for item in current.items]
    fields: dict[str, str] = {}
    for key in keys:
        if key not in answers:
            fields[f"answer_{key}"] = "Choose done, partly, not done or not applicable."
        elif len(answers[key].note) > MAX_NOTE:
            fields[f"note_{key}"] = f"At most {MAX_NOTE} characters."
    unknown = sorted(set(answers) - set(keys))
    if unknown:
        raise BadRequest(f"Not items of this checklist: {', '.join(unknown)}.", fields={"answers": "Unknown item keys."})
    if rating is None or not 1 <= rating <= 5:
        fields["rating"] = "Rate the session from 1 (poorly) to 5 (very well)."
    if len(note) > MAX_SESSION_NOTE:
        fields["note"] = f"At most {MAX_SESSION_NOTE} characters."
    if fields:
        missing = sum(1 for f in fields if f.startswith("answer_"))
        message = (f"{missing} of {len(keys)} items have no answer yet." if missing
                   else "Some answers need attention.")
        raise BadRequest(message, fields=fields)
    items = [{"key": i.key, "label": i.label, "answer": answers[i.key].answer.value, "note": answers[i.key].note}
             for i in current.items]
    async with in_transaction():
        if current.stored is None:
            await SessionChecklist.create(meeting_id=current.meeting.id, checklist=current.name, items=items,
                                          rating=rating, note=note, submitted_by=user, submitted_at=now)
            verb = "filled in"
        else:
            await SessionChecklist.filter(id=current.stored.id).update(items=items, rating=rating, note=note,
                                                                       updated_at=now)
            verb = "edited"
        done = sum(1 for i in items if i["answer"] == ChecklistAnswer.DONE)
        await audit.record(user, "change", "session_checklist", current.meeting.id,
                           detail=f"{verb}: {done} of {len(items)} done, rating {rating}")
    return await meeting_checklist(user, current.meeting.id, now=now)


def answers_from_form(form: Mapping[str, str], keys: list[str]) -> dict[str, Answer]:
    """`answer_<key>` and `note_<key>` fields; a key left unanswered is left out."""
    answers = {}
    for key in keys:
        raw = (form.get(f"answer_{key}") or "").strip()
        if not raw:
            continue
        try:
            answer = ChecklistAnswer(raw)
        except ValueError:
            raise BadRequest(f"{raw!r} is not an answer; choose done, partly, not done or not applicable.",
                             fields={f"answer_{key}": "Not one of the answers."}) from None
        answers[key] = Answer(answer=answer, note=(form.get(f"note_{key}") or "").strip())
    return answers


def rating_from_form(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest("Rate the session from 1 to 5.", fields={"rating": "A whole number from 1 to 5."}) from None
