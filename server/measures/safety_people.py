"""The people a safety item can reach: clinicians, the clinic's duty clinicians, and away dates.

Facilitators are clinicians unless a coordinator says otherwise; a coordinator is one only
when marked (issue 13). A facilitator sets their own away dates, or a coordinator sets them
for them; items that arise while a facilitator is away go to the co-facilitator or to the
duty clinicians (server/measures/safety_alerts.py).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from models.accounts import AwayPeriod, Role, User
from server import clock
from server.accounts import audit
from server.errors import BadRequest, Forbidden, NotFound

MAX_AWAY_DAYS = 366


async def staff() -> list[User]:
    return list(await User.filter(role__in=[Role.COORDINATOR, Role.FACILITATOR]).order_by("role", "display_name", "id"))


async def _staff_member(user_id: int) -> User:
    person = await User.get_or_none(id=user_id)
    if person is None or person.role == Role.MEMBER:
        raise NotFound("There is no such member of staff.")
    return person


def _coordinator(viewer: User) -> None:
    if viewer.role != Role.COORDINATOR:
        raise Forbidden("Only coordinators change who is a clinician or on duty.")


async def set_clinician(viewer: User, user_id: int, clinician: bool | None) -> User:
    """True or False marks the person; None goes back to their role's default."""
    _coordinator(viewer)
    person = await _staff_member(user_id)
    person.clinician = clinician
    await person.save(update_fields=["clinician"])
    await audit.record(viewer, "change", "clinician", person.id,
                       detail=f"clinician {'default' if clinician is None else clinician}")
    return person


async def set_duty(viewer: User, user_ids: Iterable[int]) -> list[User]:
    """The clinic's duty clinicians are exactly these people (each must be a clinician)."""
    _coordinator(viewer)
    wanted = sorted(set(user_ids))
    people = [await _staff_member(uid) for uid in wanted]
    not_clinicians = [p.display_name for p in people if not p.is_clinician]
    if not_clinicians:
        raise BadRequest("Only clinicians can be duty clinicians: " + ", ".join(not_clinicians)
                         + " first need to be marked as clinicians.", fields={"user_ids": "Not clinicians."})
    await User.filter(on_duty=True).exclude(id__in=wanted).update(on_duty=False)
    if wanted:
        await User.filter(id__in=wanted).update(on_duty=True)
    await audit.record(viewer, "change", "duty_clinicians", "", detail=f"{len(wanted)} duty clinician(s)")
    return await duty_list()


async def duty_list() -> list[User]:
    return list(await User.filter(on_duty=True).exclude(role=Role.MEMBER).order_by("display_name", "id"))


async def apply_people_form(viewer: User, form: Mapping[str, object], people: list[User]) -> None:
    """The coordinator's table: a clinician choice and an on-duty box per person listed in it
    (an empty or replayed-empty form changes nobody)."""
    _coordinator(viewer)
    listed = {str(v) for v in (form.getlist("person") if hasattr(form, "getlist") else [form.get("person")])}
    people = [p for p in people if str(p.id) in listed]
    if not people:
        raise BadRequest("The form lists nobody to change.", fields={"person": "Required."})
    for person in people:
        raw = str(form.get(f"clinician_{person.id}") or "default")
        choice = {"yes": True, "no": False, "default": None}.get(raw)
        if choice is None and raw != "default":
            raise BadRequest("Choose yes, no or the role's default.", fields={f"clinician_{person.id}": "Unknown."})
        if person.clinician != choice:
            await set_clinician(viewer, person.id, choice)
            person.clinician = choice
    others = [p.id for p in await duty_list() if p.id not in {q.id for q in people}]
    await set_duty(viewer, others + [p.id for p in people if form.get(f"duty_{p.id}")])


# --------------------------------------------------------------------- away

async def away_subject(viewer: User, user_id: int) -> User:
    """Whose away dates `viewer` may see and set: their own, or anyone's for a coordinator."""
    person = await _staff_member(user_id)
    if viewer.id != person.id and viewer.role != Role.COORDINATOR:
        raise Forbidden("You can set only your own away dates; a coordinator can set them for you.")
    return person


async def away_periods(person: User, *, today: date) -> list[AwayPeriod]:
    return list(await AwayPeriod.filter(user_id=person.id, ends_on__gte=today).order_by("starts_on", "id"))


def _date(raw: object, field: str, errors: dict[str, str]) -> date | None:
    text = str(raw or "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = "Use a date such as 2026-03-10."
        return None


async def add_away(viewer: User, person: User, form: Mapping[str, object], *, now: datetime | None = None) -> AwayPeriod:
    now = now or clock.now()
    errors: dict[str, str] = {}
    starts = _date(form.get("starts_on"), "starts_on", errors)
    ends = _date(form.get("ends_on"), "ends_on", errors)
    if starts and ends:
        if ends < starts:
            errors["ends_on"] = "The last day cannot be before the first."
        elif ends - starts > timedelta(days=MAX_AWAY_DAYS):
            errors["ends_on"] = "One period can last a year at most."
        elif ends < now.date() - timedelta(days=1):
            errors["ends_on"] = "This period is already over."
    if errors:
        raise BadRequest("The away dates need attention: " + "; ".join(errors.values()), fields=errors)
    period = await AwayPeriod.create(user=person, starts_on=starts, ends_on=ends, created_by=viewer)
    await audit.record(viewer, "change", "away_period", period.id, detail=f"{person.id}: {starts} to {ends}")
    return period


async def remove_away(viewer: User, period_id: int) -> None:
    period = await AwayPeriod.get_or_none(id=period_id)
    if period is None:
        raise NotFound("There is no such away period.")
    await away_subject(viewer, period.user_id)
    await period.delete()
    await audit.record(viewer, "change", "away_period", period_id, detail="removed")
