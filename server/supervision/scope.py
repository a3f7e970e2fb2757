"""Who reads a supervision agenda, whose cohorts it covers, and the period it looks back on
(issue 17; domain-ipt.md section 13). The rules that raise flags are in `rules`; the agenda
that gathers them in `agenda`."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.accounts import Role, User
from models.cohorts import Cohort, CohortStatus
from models.supervision import SupervisionMeeting
from server.accounts import supervised_facilitator_ids
from server.errors import Forbidden, NotFound

DEFAULT_PERIOD = timedelta(days=7)
IN_SCOPE = (CohortStatus.ENROLLING, CohortStatus.ACTIVE, CohortStatus.COMPLETED)


def zone_of(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.time_zone or "UTC")
    except Exception:  # an unknown zone name stored earlier: the clinic's records stay readable
        return ZoneInfo("UTC")


async def supervisors() -> list[User]:
    """Everyone who supervises an active facilitator, by name (clinicians only, as
    `supervised_facilitator_ids` counts them)."""
    people = await User.filter(is_active=True, supervisees__facilitator__is_active=True).distinct().order_by(
        "display_name", "id")
    return [p for p in people if p.is_clinician and p.role != Role.MEMBER]


async def agenda_supervisor(viewer: User, requested: int | None = None) -> User | None:
    """Whose agenda `viewer` reads: their own as a supervisor; a coordinator chooses one
    (default: themself if they supervise, else the first supervisor by name; None when the
    clinic has no supervisor yet)."""
    if viewer.role == Role.COORDINATOR:
        if requested is None:
            if await supervised_facilitator_ids(viewer):
                return viewer
            found = await supervisors()
            return found[0] if found else None
        person = await User.get_or_none(id=requested)
        if person is None or not await supervised_facilitator_ids(person):
            raise NotFound("There is no such supervisor.")
        return person
    if viewer.role != Role.FACILITATOR:
        raise NotFound("There is no such page.")
    if requested is not None and requested != viewer.id:
        raise Forbidden("You can read your own supervision agenda only.")
    if not await supervised_facilitator_ids(viewer):
        raise Forbidden("You do not supervise any facilitator. A coordinator sets who supervises whom.")
    return viewer


async def may_supervise_as(viewer: User, supervisor: User) -> None:
    """Recording a supervisor's meetings and actions: the supervisor, or a coordinator."""
    if viewer.role == Role.COORDINATOR or viewer.id == supervisor.id:
        return
    raise NotFound("There is no such supervision record.")


async def supervised_cohorts(facilitator_ids: Sequence[int]) -> list[Cohort]:
    if not facilitator_ids:
        return []
    return list(await Cohort.filter(facilitators__id__in=list(facilitator_ids), status__in=list(IN_SCOPE))
                .distinct().order_by("name", "id").prefetch_related("template", "facilitators"))


async def last_meeting(supervisor: User, *, today: date) -> SupervisionMeeting | None:
    return await SupervisionMeeting.filter(supervisor_id=supervisor.id, held_on__lte=today).order_by(
        "-held_on", "-id").first()


def period_start(meeting: SupervisionMeeting | None, *, now: datetime, zone: ZoneInfo) -> datetime:
    """The start of the last meeting's day in the supervisor's zone, or a week ago."""
    if meeting is None:
        return now - DEFAULT_PERIOD
    return datetime.combine(meeting.held_on, time.min, tzinfo=zone)
