"""A cohort's settings as the planner reads them, and their checks.

`CohortSpec` is what a coordinator chose (template, zone, start, weekday, counts, skip
dates, capacity, facilitators, individual-meeting hours); `validated_protocol` adapts the
template to it, or raises PlanError naming every setting to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time

from calendars.errors import PlanError, Problem, TemplateError
from calendars.meetings import Facilitator
from calendars.protocol_rules import MAX_MINUTES, MIN_MINUTES
from calendars.protocols import ProtocolTemplate
from calendars.wallclock import zone_problem


@dataclass(frozen=True, kw_only=True)
class IndividualHours:
    first_start: time = time(9, 0)
    last_end: time = time(17, 0)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # the group's weekday is added
    gap_minutes: int = 10


@dataclass(frozen=True, kw_only=True)
class CohortSpec:
    template: ProtocolTemplate
    time_zone: str
    start_date: date
    start_time: time
    weekday: int | None = None  # 0 = Monday; None: the start date's weekday
    group_sessions: int | None = None
    initial_sessions: int | None = None
    termination_sessions: int | None = None
    session_minutes: int | None = None
    skip_dates: frozenset[date] = frozenset()
    capacity: int | None = None
    facilitators: tuple[Facilitator, ...] = ()
    individual_hours: IndividualHours = field(default_factory=IndividualHours)

    @property
    def session_weekday(self) -> int:
        return self.start_date.weekday() if self.weekday is None else self.weekday

    @property
    def facilitator_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.facilitators)

    @property
    def facilitator_names(self) -> dict[str, str]:
        return {f.id: f.name for f in self.facilitators}

    def protocol(self) -> ProtocolTemplate:
        """The template adapted to this cohort (raises TemplateError)."""
        return self.template.adapted(
            group_sessions=self.group_sessions,
            initial_sessions=self.initial_sessions,
            termination_sessions=self.termination_sessions,
            session_minutes=self.session_minutes,
        )



def validated_protocol(spec: CohortSpec, members: Sequence[str]) -> ProtocolTemplate:
    """The spec's adapted protocol, or PlanError listing every setting to change."""
    problems: list[Problem] = []
    if (zone := zone_problem(spec.time_zone)) is not None:
        problems.append(zone)
    protocol: ProtocolTemplate | None = None
    try:
        protocol = spec.protocol()
    except TemplateError as exc:
        problems.extend(exc.problems)
    if not 0 <= spec.session_weekday <= 6:
        problems.append(Problem("weekday", f"Weekday must be 0 (Monday) to 6 (Sunday); got {spec.session_weekday}."))
    if spec.session_minutes is not None and not MIN_MINUTES <= spec.session_minutes <= MAX_MINUTES:
        problems.append(
            Problem("session_minutes", f"Session length must be {MIN_MINUTES} to {MAX_MINUTES} minutes; got {spec.session_minutes}.")
        )
    if spec.start_time.tzinfo is not None:
        problems.append(Problem("start_time", "Give the start time as local wall-clock time, without a zone."))
    hours = spec.individual_hours
    if hours.first_start >= hours.last_end:
        problems.append(Problem("individual_hours", "Individual-meeting hours must start before they end."))
    if not hours.weekdays <= set(range(7)):
        problems.append(Problem("individual_hours", "Individual-meeting weekdays must be 0 (Monday) to 6 (Sunday)."))
    if protocol is not None:
        size = protocol.group_size
        if spec.capacity is not None and not size.minimum <= spec.capacity <= size.maximum:
            problems.append(
                Problem(
                    "capacity",
                    f"Capacity {spec.capacity} is outside this protocol's group size; "
                    f"choose {size.minimum} to {size.maximum}.",
                )
            )
        limit = spec.capacity if spec.capacity is not None else size.maximum
        if len(members) > limit:
            problems.append(
                Problem("capacity", f"{len(members)} members do not fit a capacity of {limit}; raise the capacity or move members.")
            )
        if len(set(members)) != len(members):
            problems.append(Problem("members", "A member is listed twice."))
        if len(spec.facilitators) > 2:
            problems.append(Problem("facilitators", f"A group has 1 or 2 facilitators; got {len(spec.facilitators)}."))
    if problems:
        raise PlanError(problems)
    assert protocol is not None
    return protocol


__all__ = ["CohortSpec", "IndividualHours", "validated_protocol"]
