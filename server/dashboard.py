"""The coordinator's figures per cohort: fill, next meeting, attendance so far, open safety items.

A fixed number of queries whatever the number of cohorts (style.md: a page's queries do not
grow with rows). ``cohort_overview`` has the signature the start page's hook expects
(``app.state.cohort_overview(user, cohorts)``). ``next_group_meetings`` is each cohort's next
group session from one query that returns one row per cohort, never every upcoming meeting.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tortoise import connections
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from models.accounts import Role, User
from models.board import Attendance, AttendanceStatus
from models.cohorts import (
    Cohort,
    CohortStatus,
    Enrollment,
    EnrollmentStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
    ProtocolTemplate,
)
from server import clock
from server.enrollment import size_warnings
from server.measures import safety

ATTENDED = {AttendanceStatus.PRESENT.value, AttendanceStatus.LATE.value}
MISSED = {AttendanceStatus.ABSENT_NOTIFIED.value, AttendanceStatus.ABSENT_UNNOTIFIED.value}


@dataclass
class Overview:
    enrolled: int
    waitlisted: int
    capacity: int
    in_screening: int
    next_meeting: str
    next_meeting_at: datetime | None
    attendance: str
    attendance_rate: float | None
    open_safety_items: int
    warnings: list[str] = field(default_factory=list)

    @property
    def fill_percent(self) -> int:
        return round(100 * self.enrolled / self.capacity) if self.capacity else 0


async def cohort_overview(user: User, cohorts: Sequence[Cohort], *, now: datetime | None = None) -> dict[int, Overview]:
    now = now or clock.now()
    ids = [c.id for c in cohorts]
    if not ids or user.role not in (Role.COORDINATOR, Role.FACILITATOR):
        return {}
    statuses: dict[int, Counter] = defaultdict(Counter)
    for cohort_id, status in await Enrollment.filter(cohort_id__in=ids, member__restricted_at=None).values_list(
            "cohort_id", "status"):
        statuses[cohort_id][str(status.value if hasattr(status, "value") else status)] += 1
    nearest = await next_group_meetings(ids, statuses=(MeetingStatus.SCHEDULED, MeetingStatus.COMPLETED),
                                        ends_after=now)
    upcoming = {cohort_id: meeting.starts_at for cohort_id, meeting in nearest.items()}
    attended: Counter = Counter()
    counted: Counter = Counter()
    for cohort_id, status in await Attendance.filter(meeting__cohort_id__in=ids).values_list(
        "meeting__cohort_id", "status"
    ):
        value = str(status.value if hasattr(status, "value") else status)
        if value in ATTENDED:
            attended[cohort_id] += 1
            counted[cohort_id] += 1
        elif value in MISSED:
            counted[cohort_id] += 1
    open_items = await safety.open_counts(ids)
    # Enrolled without a complete consent record (enrollment.py: when, how, agreement version).
    without_consent = Counter(await Enrollment.filter(
        Q(consent_at=None) | Q(consent_method=None) | Q(consent_version=""),
        cohort_id__in=ids, status=EnrollmentStatus.ENROLLED, member__restricted_at=None,
    ).values_list("cohort_id", flat=True))
    out: dict[int, Overview] = {}
    for cohort in cohorts:
        counts = statuses[cohort.id]
        starts = upcoming.get(cohort.id)
        rate = attended[cohort.id] / counted[cohort.id] if counted[cohort.id] else None
        overview = Overview(
            enrolled=counts[EnrollmentStatus.ENROLLED.value],
            waitlisted=counts[EnrollmentStatus.WAITLISTED.value],
            in_screening=counts[EnrollmentStatus.SCREENING.value] + counts[EnrollmentStatus.INVITED.value],
            capacity=cohort.capacity,
            next_meeting=starts.astimezone(ZoneInfo(cohort.time_zone)).strftime("%a %d %b, %H:%M") if starts else "",
            next_meeting_at=starts,
            attendance=f"{round(100 * rate)}%" if rate is not None else "",
            attendance_rate=rate,
            open_safety_items=open_items.get(cohort.id, 0),
        )
        template = getattr(cohort, "template", None)
        if isinstance(template, ProtocolTemplate):  # only when the caller fetched it
            overview.warnings = size_warnings(cohort, template, overview.enrolled)
            missing = without_consent[cohort.id]
            if missing and template.consent_required:
                overview.warnings.append(
                    f"{missing} enrolled {'member has' if missing == 1 else 'members have'} no complete "
                    "consent record (when, how, agreement version).")
        out[cohort.id] = overview
    return out


ALL_STATUSES = "all"
# What the start page lists unless asked otherwise: cohorts running, enrolling or being prepared.
CURRENT_STATUSES = (CohortStatus.ACTIVE, CohortStatus.ENROLLING, CohortStatus.DRAFT)


@dataclass(frozen=True)
class CohortFilters:
    """The start page's filters: status ("" = current, "all", or one status), a part of a
    facilitator's name, a protocol template's id, a part of the cohort's name."""

    status: str = ""
    facilitator: str = ""
    protocol: int | None = None
    name: str = ""

    @property
    def narrowed(self) -> bool:
        return bool(self.status or self.facilitator or self.protocol or self.name)


def cohorts_for(user: User, filters: CohortFilters) -> QuerySet[Cohort]:
    """The cohorts `user` sees on the start page, filtered: a query to page, one row per cohort
    (the facilitator conditions are subqueries, so the many-to-many join never repeats a row)."""
    query = Cohort.all()
    if user.role == Role.FACILITATOR:
        query = query.filter(id__in=Subquery(Cohort.filter(facilitators__id=user.id).values("id")))
    if filters.status == "":
        query = query.filter(status__in=list(CURRENT_STATUSES))
    elif filters.status != ALL_STATUSES:
        query = query.filter(status=filters.status)
    if filters.facilitator:
        query = query.filter(id__in=Subquery(
            Cohort.filter(facilitators__display_name__icontains=filters.facilitator).values("id")))
    if filters.protocol is not None:
        query = query.filter(template_id=filters.protocol)
    if filters.name:
        query = query.filter(name__icontains=filters.name)
    return query


NEXT_MEETINGS = 8


async def next_meetings(user: User, *, now: datetime, limit: int = NEXT_MEETINGS) -> list[Meeting]:
    """The next group sessions of the cohorts `user` runs (all of them, for a coordinator),
    soonest first: one query with a limit, whatever the number of cohorts."""
    query = Meeting.filter(kind=MeetingKind.GROUP, status=MeetingStatus.SCHEDULED, ends_at__gt=now,
                           cohort__status__in=[CohortStatus.ACTIVE, CohortStatus.ENROLLING])
    if user.role == Role.FACILITATOR:
        query = query.filter(cohort_id__in=Subquery(Cohort.filter(facilitators__id=user.id).values("id")))
    return list(await query.order_by("starts_at", "id").limit(limit).select_related("cohort"))


@dataclass
class SupervisedCohort:
    id: int
    name: str
    status: str


@dataclass
class Supervisee:
    """A facilitator `user` supervises, and their cohorts that are enrolling or running."""

    id: int
    name: str
    cohorts: list[SupervisedCohort] = field(default_factory=list)
    more_cohorts: int = 0


@dataclass
class SupervisionCard:
    """The start page's "Supervision" card: the first supervisees by name, and whether there
    are more (the supervision page lists them all)."""

    people: list[Supervisee] = field(default_factory=list)
    more: bool = False

    def __bool__(self) -> bool:
        return bool(self.people)


SUPERVISED_STATUSES = (CohortStatus.ENROLLING, CohortStatus.ACTIVE)
# A card, not a list: a supervisor of many lay facilitators sees the first dozen by name, each
# with a few cohorts, and finds the rest on /supervision or through the cohort filter.
SUPERVISEES_SHOWN = 12
COHORTS_SHOWN = 5


async def supervision_overview(user: User, *, limit: int | None = None) -> SupervisionCard:
    """The start page's "Supervision" section: two queries, and rows bounded by `limit`
    (SUPERVISEES_SHOWN unless given) whatever the number of supervisees."""
    limit = SUPERVISEES_SHOWN if limit is None else max(1, limit)
    if user.role == Role.MEMBER or not user.is_clinician:
        return SupervisionCard()
    people = await User.filter(supervisors__supervisor_id=user.id, is_active=True).order_by(
        "display_name", "id").limit(limit + 1).values_list("id", "display_name")
    if not people:
        return SupervisionCard()
    out = {person_id: Supervisee(person_id, name) for person_id, name in people[:limit]}
    rows = await Cohort.filter(facilitators__id__in=list(out), status__in=list(SUPERVISED_STATUSES)).order_by(
        "name", "id").values_list("id", "name", "status", "facilitators__id")
    for cohort_id, name, status, facilitator_id in rows:
        person = out.get(facilitator_id)
        if person is None:
            continue
        if len(person.cohorts) < COHORTS_SHOWN:
            person.cohorts.append(
                SupervisedCohort(cohort_id, name, str(status.value if hasattr(status, "value") else status)))
        else:
            person.more_cohorts += 1
    return SupervisionCard(list(out.values()), more=len(people) > limit)


async def next_group_meetings(
    cohort_ids: Sequence[int], *, statuses: Sequence[MeetingStatus],
    starts_from: datetime | None = None, ends_after: datetime | None = None,
) -> dict[int, Meeting]:
    """Each cohort's earliest group session in `statuses` that starts at or after
    `starts_from` and ends after `ends_after`: one query, one row per cohort.

    ROW_NUMBER() OVER a partition is standard SQL that SQLite (3.25+) and PostgreSQL both run;
    the ORM has no window functions, so the statement is written here, with parameters.
    """
    if not cohort_ids or not statuses:
        return {}
    connection = connections.get(Meeting._meta.default_connection)
    values: list[object] = []

    def param(value: object) -> str:
        values.append(value)
        return "?" if connection.capabilities.dialect == "sqlite" else f"${len(values)}"

    where = [
        f"cohort_id IN ({', '.join(param(int(i)) for i in cohort_ids)})",
        f"kind = {param(MeetingKind.GROUP.value)}",
        f"status IN ({', '.join(param(MeetingStatus(s).value) for s in statuses)})",
    ]
    # SQLite compares the stored text; Tortoise stores and binds UTC as isoformat(" ").
    if starts_from is not None:
        where.append(f"starts_at >= {param(starts_from.astimezone(UTC))}")
    if ends_after is not None:
        where.append(f"ends_at > {param(ends_after.astimezone(UTC))}")
    table = Meeting._meta.db_table
    sql = (
        f"SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY cohort_id ORDER BY starts_at, id) AS place "
        f"FROM {table} WHERE {' AND '.join(where)}) AS ranked WHERE place = 1"
    )
    _, rows = await connection.execute_query(sql, values)
    nearest: dict[int, Meeting] = {}
    for row in rows:
        fields = {key: row[key] for key in row.keys() if key != "place"}
        meeting = Meeting._init_from_db(**fields)
        nearest[meeting.cohort_id] = meeting
    return nearest
