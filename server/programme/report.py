"""The programme report: whose cohorts, grouped how, with the figures of each group.

Coordinators see every cohort. A supervisor (a clinician with Supervision rows) sees the
cohorts of the facilitators they supervise, and groups by those facilitators only.
Facilitators who supervise nobody, and members, are refused.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from tortoise.expressions import Q

from models.accounts import Role, User
from models.cohorts import ProtocolTemplate
from server.accounts import access
from server.errors import Forbidden, NotFound, Unprocessable
from server.programme.figures import CohortMembers, Group, group_figures
from server.programme.loading import CohortRow, Selection, cohorts_in, member_facts


class Grouping(StrEnum):
    COHORT = "cohort"
    TEMPLATE = "template"
    FACILITATOR = "facilitator"
    QUARTER = "quarter"  # the quarter in which the cohort started


GROUPING_LABELS = {
    Grouping.COHORT: "Cohort",
    Grouping.TEMPLATE: "Protocol template",
    Grouping.FACILITATOR: "Facilitator",
    Grouping.QUARTER: "Quarter the cohort started",
}
NO_FACILITATOR = "none"


@dataclass(frozen=True, kw_only=True)
class Scope:
    """`facilitator_ids` None: every cohort (a coordinator)."""

    facilitator_ids: tuple[int, ...] | None


@dataclass(frozen=True, kw_only=True)
class Filters:
    group_by: Grouping = Grouping.COHORT
    template_id: int | None = None
    facilitator_id: int | None = None
    starts_from: date | None = None
    starts_to: date | None = None


@dataclass(frozen=True, kw_only=True)
class Row:
    group: Group
    subject_id: int | None  # the cohort, template or facilitator id; None for a quarter or "no facilitator"
    name: str  # what staff call it (the page only; exports use export.label)


@dataclass(frozen=True, kw_only=True)
class Report:
    filters: Filters
    rows: list[Row]
    total: Group
    cohorts: list[CohortRow]

    @property
    def cohorts_left_out(self) -> int:
        return len(self.total.cohort_ids) - len(self.total.shown_cohort_ids)


async def scope_of(user: User) -> Scope:
    if user.role == Role.COORDINATOR:
        return Scope(facilitator_ids=None)
    supervised = await access.supervised_facilitator_ids(user) if user.role == Role.FACILITATOR else []
    if not supervised:
        raise Forbidden("The programme figures are for coordinators and supervisors.")
    return Scope(facilitator_ids=tuple(supervised))


async def programme_report(scope: Scope, filters: Filters, *, now: datetime, names: dict[int, str]) -> Report:
    """`names`: facilitator id -> display name, for the page's rows (choices_for gives them)."""
    if scope.facilitator_ids is not None and filters.facilitator_id is not None \
            and filters.facilitator_id not in scope.facilitator_ids:
        raise Forbidden("You do not supervise this facilitator.")
    cohorts = await cohorts_in(Selection(
        facilitator_ids=scope.facilitator_ids, template_id=filters.template_id, facilitator_id=filters.facilitator_id,
        starts_from=filters.starts_from, starts_to=filters.starts_to,
    ))
    facts = await member_facts(cohorts, now=now)
    members = {c.id: CohortMembers(c.id, tuple(facts.get(c.id, ()))) for c in cohorts}
    template_names = dict(await ProtocolTemplate.filter(id__in={c.template_id for c in cohorts} or {0})
                          .values_list("id", "name"))
    rows = _rows(filters.group_by, cohorts, members, scope, template_names, names)
    total = group_figures("total", [members[c.id] for c in cohorts])
    return Report(filters=filters, rows=rows, total=total, cohorts=cohorts)


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _rows(grouping: Grouping, cohorts: Sequence[CohortRow], members: dict[int, CohortMembers], scope: Scope,
          template_names: dict[int, str], names: dict[int, str]) -> list[Row]:
    if grouping is Grouping.COHORT:
        return [Row(group=group_figures(f"cohort:{c.id}", [members[c.id]]), subject_id=c.id, name=c.name)
                for c in cohorts]
    buckets: dict[tuple[int, int | str], list[CohortRow]] = defaultdict(list)
    for c in cohorts:
        if grouping is Grouping.TEMPLATE:
            buckets[(0, c.template_id)].append(c)
        elif grouping is Grouping.QUARTER:
            buckets[(0, quarter_of(c.start_date))].append(c)
        else:
            # A co-facilitated cohort counts for each of its facilitators; a supervisor
            # groups by the facilitators they supervise only.
            led = [f for f in c.facilitator_ids if scope.facilitator_ids is None or f in scope.facilitator_ids]
            for f in led:
                buckets[(0, f)].append(c)
            if not c.facilitator_ids:
                buckets[(1, NO_FACILITATOR)].append(c)
    rows = []
    for (_, subject), group_cohorts in sorted(buckets.items(), key=lambda item: (item[0][0], str(item[0][1]).zfill(12))):
        key = f"{grouping.value}:{subject}"
        group = group_figures(key, [members[c.id] for c in group_cohorts])
        if grouping is Grouping.TEMPLATE:
            rows.append(Row(group=group, subject_id=int(subject), name=template_names.get(int(subject), "")))
        elif grouping is Grouping.QUARTER:
            rows.append(Row(group=group, subject_id=None, name=str(subject)))
        elif subject == NO_FACILITATOR:
            rows.append(Row(group=group, subject_id=None, name="No facilitator assigned"))
        else:
            rows.append(Row(group=group, subject_id=int(subject), name=names.get(int(subject), "")))
    return rows


@dataclass(frozen=True, kw_only=True)
class Choices:
    """What the filters offer: (id, name) pairs."""

    templates: list[tuple[int, str]]
    facilitators: list[tuple[int, str]]

    @property
    def facilitator_names(self) -> dict[int, str]:
        return dict(self.facilitators)


async def choices_for(scope: Scope) -> Choices:
    templates = await ProtocolTemplate.all().order_by("name", "id").values_list("id", "name")
    if scope.facilitator_ids is None:
        # A coordinator may also lead a cohort: everyone who leads one is offered.
        people = User.filter(Q(role=Role.FACILITATOR) | Q(facilitated_cohorts__id__not_isnull=True))
    else:
        people = User.filter(id__in=list(scope.facilitator_ids))
    facilitators = await people.distinct().order_by("display_name", "id").values_list("id", "display_name")
    return Choices(templates=list(templates), facilitators=list(facilitators))


def check_filters(scope: Scope, filters: Filters, options: Choices) -> None:
    """Well-formed filters that name nothing here: 404 (403 for a facilitator a supervisor
    does not supervise), and a period that ends before it starts: 422."""
    if filters.template_id is not None and filters.template_id not in dict(options.templates):
        raise NotFound("There is no such protocol template.")
    if filters.facilitator_id is not None and filters.facilitator_id not in options.facilitator_names:
        if scope.facilitator_ids is not None:
            raise Forbidden("You do not supervise this facilitator.")
        raise NotFound("There is no such facilitator.")
    if filters.starts_from and filters.starts_to and filters.starts_from > filters.starts_to:
        raise Unprocessable("The period's start is after its end.", fields={"from": "After the end of the period."})
