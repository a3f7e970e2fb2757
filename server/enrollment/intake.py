"""Intake in the pre-group meeting: interpersonal inventory, problem areas, formulation, goals.

Inventory entries hold the member's own role label ("my sister", "boss"), never a name
(domain-ipt.md 4a). Problem areas follow the template: grief can be switched off
(IPT-AST uses three areas, S22) and labels are clinical or lay (section 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from models.accounts import User
from models.clinical import Goal, GoalStatus, InventoryEntry
from models.cohorts import Enrollment, ProblemArea, ProtocolTemplate
from server import clock
from server.accounts import audit
from server.errors import BadRequest, Conflict, NotFound

MAX_TARGET_GOALS = 2  # "1-2 target goals" (Wilfley IPT-G, S12)

CLINICAL_LABELS = {
    ProblemArea.GRIEF: "Grief",
    ProblemArea.ROLE_DISPUTE: "Role dispute",
    ProblemArea.ROLE_TRANSITION: "Role transition",
    ProblemArea.INTERPERSONAL_DEFICITS: "Interpersonal deficits",
}
LAY_LABELS = {
    ProblemArea.GRIEF: "Grief over a loss",
    ProblemArea.ROLE_DISPUTE: "Disputes",
    ProblemArea.ROLE_TRANSITION: "Life changes",
    ProblemArea.INTERPERSONAL_DEFICITS: "Loneliness and isolation",
}

TEXT_FIELDS = {  # field -> (label, max length)
    "relationship_type": ("Relationship", 80),
    "contact_frequency": ("How often in contact", 200),
    "shared_activities": ("What they do together", 2000),
    "can_talk_about": ("What they can talk about", 2000),
    "cannot_talk_about": ("What they cannot talk about", 2000),
    "likes": ("What the member likes about the relationship", 2000),
    "dislikes": ("What the member dislikes", 2000),
    "feelings_together": ("Feelings when together", 2000),
    "conflict": ("Conflict: how often, resolved or dropped", 2000),
    "wants_to_change": ("What the member would like to change", 2000),
}
TRISTATE_FIELDS = {
    "knows_about_depression": "Knows the member is depressed",
    "is_support": "A source of support",
    "changed_near_onset": "Changed near the start of the symptoms",
}


def problem_area_label(template: ProtocolTemplate, area: ProblemArea | str | None) -> str:
    if not area:
        return ""
    labels = LAY_LABELS if template.problem_area_labels == "lay" else CLINICAL_LABELS
    return labels[ProblemArea(area)]


def problem_area_choices(template: ProtocolTemplate) -> list[tuple[str, str]]:
    return [
        (area.value, problem_area_label(template, area))
        for area in ProblemArea
        if template.grief_enabled or area != ProblemArea.GRIEF
    ]


def _area(template: ProtocolTemplate, raw: str, field: str, *, required: bool) -> ProblemArea | None:
    raw = (raw or "").strip()
    if not raw:
        if required:
            raise BadRequest("Choose a primary problem area.", fields={field: "Required."})
        return None
    if raw not in dict(problem_area_choices(template)):
        raise BadRequest(f"{raw!r} is not a problem area this protocol offers.", fields={field: "Not offered."})
    return ProblemArea(raw)


async def set_problem_areas(
    enrollment: Enrollment, template: ProtocolTemplate, *, by: User, primary: str, secondary: str = ""
) -> None:
    first = _area(template, primary, "primary", required=True)
    second = _area(template, secondary, "secondary", required=False)
    if second == first:
        raise BadRequest("The secondary problem area must differ from the primary.", fields={"secondary": "Same as primary."})
    enrollment.primary_problem_area = first
    enrollment.secondary_problem_area = second
    await enrollment.save(update_fields=["primary_problem_area", "secondary_problem_area", "updated_at"])
    await audit.record(by, "change", "problem_area", enrollment.id, member=enrollment.member_id,
                       detail=f"{first.value}/{second.value if second else '-'}")


FORMULATION_AGREEMENT = {"agreed": True, "not_agreed": False, "": None}


async def set_formulation(
    enrollment: Enrollment, *, by: User, text: str, agreement: str | None = None,
    agreed_at: datetime | None = None, now: datetime | None = None,
) -> None:
    """Save the formulation and whether the member agreed to it, and when (domain-ipt.md 8:
    "the interpersonal formulation as agreed").

    `agreement` is "agreed", "not_agreed" or "" (not recorded); None leaves it as it was,
    unless the wording changed: an agreement covers the words the member heard, so new
    wording is "not recorded" until it is agreed again."""
    now = now or clock.now()
    text = (text or "").strip()
    if len(text) > 4000:
        raise BadRequest("The formulation is too long (4000 characters at most).", fields={"formulation": "Too long."})
    if agreement is not None and agreement not in FORMULATION_AGREEMENT:
        raise BadRequest("Say whether the member agreed to the formulation.", fields={"agreement": "Invalid."})
    if agreed_at is not None and (agreed_at.tzinfo is None or agreed_at > now + timedelta(minutes=5)):
        raise BadRequest("The agreement time must be a past time with a zone.", fields={"agreed_at": "Invalid."})
    changed = text != (enrollment.formulation or "")
    before = enrollment.formulation_agreed
    if agreement is None:
        agreed = None if changed else enrollment.formulation_agreed
    else:
        agreed = FORMULATION_AGREEMENT[agreement]
    if agreed is None and agreed_at is not None:
        raise BadRequest("Give a time only when the member agreed or did not agree.", fields={"agreed_at": "Not needed."})
    if agreed is not None and not text:
        raise BadRequest("Write the formulation before recording the member's agreement.",
                         fields={"formulation": "Required."})
    if agreed is None:
        at = None
    elif agreed_at is not None:
        at = agreed_at
    elif not changed and agreed == before and enrollment.formulation_agreed_at:
        at = enrollment.formulation_agreed_at  # the same agreement, saved again
    else:
        at = now
    enrollment.formulation = text
    enrollment.formulation_agreed = agreed
    enrollment.formulation_agreed_at = at
    await enrollment.save(update_fields=["formulation", "formulation_agreed", "formulation_agreed_at", "updated_at"])
    state = {True: "agreed", False: "not agreed", None: "agreement not recorded"}[agreed]
    await audit.record(by, "change", "formulation", enrollment.id, member=enrollment.member_id,
                       detail=("text changed, " if changed else "") + state)


def _inventory_values(form: Mapping[str, object]) -> dict[str, object]:
    values: dict[str, object] = {}
    label = str(form.get("role_label") or "").strip()
    if not label:
        raise BadRequest("Give the relationship a role label, such as 'my sister'.", fields={"role_label": "Required."})
    if len(label) > 80:
        raise BadRequest("The role label is too long (80 characters at most).", fields={"role_label": "Too long."})
    values["role_label"] = label
    for name, (title, limit) in TEXT_FIELDS.items():
        value = str(form.get(name) or "").strip()
        if len(value) > limit:
            raise BadRequest(f"{title} is too long ({limit} characters at most).", fields={name: "Too long."})
        values[name] = value
    for name, title in TRISTATE_FIELDS.items():
        raw = str(form.get(name) or "").strip().lower()
        if raw not in {"", "yes", "no", "unknown"}:
            raise BadRequest(f"{title}: answer yes, no or not known.", fields={name: "Invalid."})
        values[name] = {"yes": True, "no": False}.get(raw)
    return values


async def add_inventory_entry(enrollment: Enrollment, *, by: User, form: Mapping[str, object]) -> InventoryEntry:
    entry = await InventoryEntry.create(enrollment=enrollment, created_by=by, **_inventory_values(form))
    await audit.record(by, "change", "inventory_entry", entry.id, member=enrollment.member_id, detail="added")
    return entry


async def update_inventory_entry(enrollment: Enrollment, entry_id: int, *, by: User, form: Mapping[str, object]) -> InventoryEntry:
    entry = await InventoryEntry.get_or_none(id=entry_id, enrollment_id=enrollment.id)
    if entry is None:
        raise NotFound("There is no such inventory entry for this member.")
    for key, value in _inventory_values(form).items():
        setattr(entry, key, value)
    await entry.save()
    await audit.record(by, "change", "inventory_entry", entry.id, member=enrollment.member_id, detail="updated")
    return entry


async def delete_inventory_entry(enrollment: Enrollment, entry_id: int, *, by: User) -> None:
    deleted = await InventoryEntry.filter(id=entry_id, enrollment_id=enrollment.id).delete()
    if not deleted:
        raise NotFound("There is no such inventory entry for this member.")
    await audit.record(by, "change", "inventory_entry", entry_id, member=enrollment.member_id, detail="deleted")


async def add_goal(enrollment: Enrollment, *, by: User, text: str) -> Goal:
    text = (text or "").strip()
    if not text:
        raise BadRequest("Write the goal in the member's words.", fields={"text": "Required."})
    if len(text) > 500:
        raise BadRequest("The goal is too long (500 characters at most).", fields={"text": "Too long."})
    current = await Goal.filter(enrollment_id=enrollment.id, status=GoalStatus.ACTIVE).count()
    if current >= MAX_TARGET_GOALS:
        raise Conflict(
            f"A member works on {MAX_TARGET_GOALS} target goals at most. Mark one achieved, "
            "revised or dropped first.", fields={"text": "Too many goals."},
        )
    position = await Goal.filter(enrollment_id=enrollment.id).count()
    goal = await Goal.create(cohort_id=enrollment.cohort_id, enrollment=enrollment, text=text,
                             position=position, created_by=by)
    await audit.record(by, "change", "goal", goal.id, member=enrollment.member_id, detail="added")
    return goal


async def set_goal_status(enrollment: Enrollment, goal_id: int, *, by: User, status: str) -> Goal:
    goal = await Goal.get_or_none(id=goal_id, enrollment_id=enrollment.id)
    if goal is None:
        raise NotFound("There is no such goal for this member.")
    try:
        new = GoalStatus(status)
    except ValueError:
        raise BadRequest(f"{status!r} is not a goal status.", fields={"status": "Invalid."}) from None
    if new == GoalStatus.ACTIVE and goal.status != GoalStatus.ACTIVE:
        if await Goal.filter(enrollment_id=enrollment.id, status=GoalStatus.ACTIVE).count() >= MAX_TARGET_GOALS:
            raise Conflict(f"{MAX_TARGET_GOALS} goals are already active.")
    goal.status = new
    await goal.save(update_fields=["status", "updated_at"])
    await audit.record(by, "change", "goal", goal.id, member=enrollment.member_id, detail=f"status {new.value}")
    return goal


async def intake_record(enrollment: Enrollment, *, by: User) -> dict:
    inventory = await InventoryEntry.filter(enrollment_id=enrollment.id).order_by("id")
    goals = await Goal.filter(enrollment_id=enrollment.id).prefetch_related("progress")
    await audit.record(by, "read", "intake", enrollment.id, member=enrollment.member_id)
    return {"inventory": inventory, "goals": goals}
