"""Recording a supervision meeting (who was there, which cases, what was agreed) and
marking its actions done.

A meeting belongs to its supervisor; the supervisor records it, or a coordinator does for
them. Facilitators present must be ones the supervisor supervises, cases members of the
cohorts those facilitators lead, owners active staff. Every refusal changes nothing: the
whole meeting is written in one transaction, and an action is marked done by one
conditional UPDATE, so two clicks mark it once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from tortoise.transactions import in_transaction

from models.accounts import Role, User
from models.cohorts import Enrollment
from models.supervision import SupervisionAction, SupervisionCase, SupervisionMeeting
from server.accounts import audit, supervised_facilitator_ids
from server.errors import BadRequest, Conflict, NotFound
from server.supervision.scope import IN_SCOPE, may_supervise_as, zone_of

MAX_CASES = 60
MAX_ACTIONS = 30
NOTE_MAX = 500
NOTES_MAX = 4000


@dataclass(frozen=True)
class ActionInput:
    text: str
    owner_id: int
    due_on: date


@dataclass
class MeetingInput:
    held_on: date
    facilitator_ids: list[int] = field(default_factory=list)
    cases: list[tuple[int, str]] = field(default_factory=list)  # (enrollment id, note)
    actions: list[ActionInput] = field(default_factory=list)
    done_action_ids: list[int] = field(default_factory=list)  # earlier actions done by now
    notes: str = ""


async def record_meeting(by: User, supervisor: User, given: MeetingInput, *, now: datetime) -> SupervisionMeeting:
    await may_supervise_as(by, supervisor)
    problems = await _problems(supervisor, given, today=now.astimezone(zone_of(supervisor)).date())
    if problems:
        summary = " ".join(dict.fromkeys(problems.values()))
        raise BadRequest(f"The supervision meeting was not saved. {summary}", fields=problems)
    async with in_transaction():
        meeting = await SupervisionMeeting.create(supervisor=supervisor, held_on=given.held_on,
                                                  notes=given.notes.strip(), created_by=by)
        if given.facilitator_ids:
            await meeting.facilitators_present.add(*await User.filter(id__in=sorted(set(given.facilitator_ids))))
        if given.cases:
            await SupervisionCase.bulk_create([SupervisionCase(meeting=meeting, enrollment_id=eid, note=note.strip())
                                               for eid, note in given.cases])
        if given.actions:
            await SupervisionAction.bulk_create([
                SupervisionAction(meeting=meeting, text=a.text.strip(), owner_id=a.owner_id, due_on=a.due_on)
                for a in given.actions])
        if given.done_action_ids:
            await SupervisionAction.filter(id__in=given.done_action_ids, done_at=None).update(done_at=now, done_by_id=by.id)
        await audit.record(by, "change", "supervision_meeting", meeting.id,
                           detail=f"recorded: {len(given.cases)} cases, {len(given.actions)} actions")
    return meeting


async def _problems(supervisor: User, given: MeetingInput, *, today: date) -> dict[str, str]:
    problems: dict[str, str] = {}
    if given.held_on > today:
        problems["held_on"] = "A supervision meeting is recorded once held: give today's date or an earlier one."
    if len(given.notes) > NOTES_MAX:
        problems["notes"] = f"Notes are at most {NOTES_MAX} characters."
    supervised = set(await supervised_facilitator_ids(supervisor))
    if not set(given.facilitator_ids) <= supervised:
        problems["facilitators"] = "Facilitators present must be ones this supervisor supervises."
    case_ids = [eid for eid, _ in given.cases]
    if len(case_ids) > MAX_CASES:
        problems["cases"] = f"At most {MAX_CASES} cases per meeting."
    elif len(set(case_ids)) != len(case_ids):
        problems["cases"] = "Each member's case is listed once."
    elif case_ids:
        allowed = set(await Enrollment.filter(
            id__in=case_ids, cohort__facilitators__id__in=sorted(supervised) or [0], cohort__status__in=list(IN_SCOPE),
        ).values_list("id", flat=True))
        if set(case_ids) - allowed:
            problems["cases"] = "Cases discussed must be members of the cohorts this supervisor's facilitators lead."
    if any(len(note) > NOTE_MAX for _, note in given.cases):
        problems["cases"] = f"A case's note is at most {NOTE_MAX} characters."
    if len(given.actions) > MAX_ACTIONS:
        problems["actions"] = f"At most {MAX_ACTIONS} actions per meeting."
    for action in given.actions:
        if not action.text.strip() or len(action.text) > NOTE_MAX:
            problems["actions"] = f"Each action needs words (at most {NOTE_MAX} characters)."
        elif action.due_on < given.held_on:
            problems["actions"] = "An action's due date is on or after the meeting."
    owners = {a.owner_id for a in given.actions}
    if owners:
        staff = set(await User.filter(id__in=sorted(owners), is_active=True,
                                      role__in=[Role.COORDINATOR, Role.FACILITATOR]).values_list("id", flat=True))
        if owners - staff:
            problems.setdefault("actions", "Each action's owner must be an active member of staff.")
    if given.done_action_ids:
        open_ids = set(await SupervisionAction.filter(id__in=given.done_action_ids, done_at=None,
                                                      meeting__supervisor_id=supervisor.id).values_list("id", flat=True))
        if set(given.done_action_ids) - open_ids:
            problems["done"] = "Only this supervisor's open actions can be marked done."
    return problems


async def get_meeting(viewer: User, meeting_id: int) -> SupervisionMeeting:
    """A meeting with its people, cases and actions: for its supervisor and coordinators."""
    meeting = await SupervisionMeeting.get_or_none(id=meeting_id).prefetch_related(
        "supervisor", "created_by", "facilitators_present", "cases__enrollment__member", "cases__enrollment__cohort",
        "actions__owner", "actions__done_by")
    if meeting is None:
        raise NotFound("There is no such supervision meeting.")
    await may_supervise_as(viewer, meeting.supervisor)
    if meeting.cases:
        await audit.record(viewer, "read", "supervision_meeting", meeting.id, detail=f"{len(meeting.cases)} cases")
    return meeting


async def meetings_of(viewer: User, supervisor: User, *, limit: int = 50) -> list[SupervisionMeeting]:
    await may_supervise_as(viewer, supervisor)
    return list(await SupervisionMeeting.filter(supervisor_id=supervisor.id).order_by("-held_on", "-id").limit(limit)
                .prefetch_related("facilitators_present", "cases", "actions"))


async def mark_done(viewer: User, action_id: int, *, now: datetime) -> SupervisionAction:
    action = await SupervisionAction.get_or_none(id=action_id).prefetch_related("meeting__supervisor")
    if action is None:
        raise NotFound("There is no such action.")
    await may_supervise_as(viewer, action.meeting.supervisor)
    changed = await SupervisionAction.filter(id=action.id, done_at=None).update(done_at=now, done_by_id=viewer.id)
    if not changed:
        raise Conflict("This action is already marked done.")
    await audit.record(viewer, "change", "supervision_action", action.id, detail="done")
    return await SupervisionAction.get(id=action.id).prefetch_related("owner", "done_by")

