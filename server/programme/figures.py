"""Programme figures: what one member's treatment episode counts as, and the sums over a group.

Pure code: plain values in, plain values out; no database and no clock.

The rules (shown on the page and in the API's `definitions`):
- A member is counted once per treatment episode, in the cohort where the episode is now: a
  member transferred to another cohort counts there, with the attendance and answers of the
  earlier group (server.measures.responses.lineage), and not in the group they left.
- Enrolled: enrolled in the group at some point (enrolled, completed, or withdrawn after
  having been enrolled). People only invited, in screening or on the waitlist are not counted.
- Started: attended (present or late) at least one group session.
- Completed: started, never withdrew, and the cohort has finished (its last group session has
  taken place, or the cohort or the enrollment is marked completed).
- Dropped out: started, then withdrawn. Withdrawn before the first session attended is "left
  before starting". Started and still in a cohort that has not finished is "still attending".
- Attendance: group sessions marked present or late, of those marked present, late or absent
  for members who started (the staff home's rule; an unmarked session counts neither way).
- Response, remission and change from baseline come from server.measures.outcomes (the one
  definition): response and remission count only members whose baseline was at or above the
  clinical threshold (10) and who have a later score; members who started below it are
  reported apart (domain-ipt.md 5a, S36). Mean change (last score minus baseline; negative is
  better) is over the same members.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from server.measures.outcomes import Outcome, Standing

MINIMUM_PEOPLE = 5


@dataclass(frozen=True, kw_only=True)
class MemberFacts:
    """One treatment episode, as the programme counts it."""

    cohort_id: int
    withdrawn: bool
    cohort_finished: bool
    enrollment_completed: bool = False
    sessions_attended: int = 0
    sessions_missed: int = 0  # marked absent, notified or not
    phq9: Outcome | None = None
    gad7: Outcome | None = None

    @property
    def started(self) -> bool:
        return self.sessions_attended > 0

    @property
    def completed(self) -> bool:
        return self.started and not self.withdrawn and (self.cohort_finished or self.enrollment_completed)

    @property
    def dropped_out(self) -> bool:
        return self.started and self.withdrawn

    @property
    def still_attending(self) -> bool:
        return self.started and not self.withdrawn and not self.completed

    @property
    def left_before_starting(self) -> bool:
        return self.withdrawn and not self.started


@dataclass(frozen=True)
class Share:
    count: int
    of: int

    @property
    def rate(self) -> float | None:
        return round(self.count / self.of, 3) if self.of else None

    @property
    def percent(self) -> int | None:
        return round(100 * self.count / self.of) if self.of else None

    def __str__(self) -> str:
        return f"{self.count} of {self.of} ({self.percent}%)" if self.of else "none to count"


@dataclass(frozen=True, kw_only=True)
class InstrumentFigures:
    counted: int  # baseline at or above the threshold and a later score
    responders: int
    remitters: int | None  # None for an instrument without remission (GAD-7)
    below_threshold: int  # reported apart, never in the rates
    no_later_score: int
    no_answers: int
    mean_change: float | None  # over the members counted

    @property
    def response(self) -> Share:
        return Share(self.responders, self.counted)

    @property
    def remission(self) -> Share | None:
        return Share(self.remitters, self.counted) if self.remitters is not None else None


@dataclass(frozen=True, kw_only=True)
class Figures:
    enrolled: int
    started: int
    completed: int
    dropped_out: int
    still_attending: int
    not_started: int  # enrolled, not withdrawn, no session attended yet
    left_before_starting: int
    sessions_attended: int
    sessions_marked: int
    phq9: InstrumentFigures
    gad7: InstrumentFigures

    @property
    def people(self) -> int:
        return self.enrolled

    @property
    def completion(self) -> Share:
        return Share(self.completed, self.started)

    @property
    def dropout(self) -> Share:
        return Share(self.dropped_out, self.started)

    @property
    def attendance(self) -> Share:
        return Share(self.sessions_attended, self.sessions_marked)


def _instrument(outcomes: Sequence[Outcome | None], *, remission: bool) -> InstrumentFigures:
    counted = [o for o in outcomes if o is not None and o.standing is Standing.COUNTED and o.change is not None]
    changes = [o.change.difference for o in counted if o.change is not None]
    return InstrumentFigures(
        counted=len(counted),
        responders=sum(1 for o in counted if o.response),
        remitters=sum(1 for o in counted if o.remission) if remission else None,
        below_threshold=sum(1 for o in outcomes if o is not None and o.standing is Standing.BELOW_THRESHOLD),
        no_later_score=sum(1 for o in outcomes if o is not None and o.standing is Standing.NO_LATER_SCORE),
        no_answers=sum(1 for o in outcomes if o is None or o.standing is Standing.NO_ANSWERS),
        mean_change=round(sum(changes) / len(changes), 1) if changes else None,
    )


def figures_of(members: Iterable[MemberFacts]) -> Figures:
    members = list(members)
    started = [m for m in members if m.started]
    return Figures(
        enrolled=len(members),
        started=len(started),
        completed=sum(1 for m in members if m.completed),
        dropped_out=sum(1 for m in members if m.dropped_out),
        still_attending=sum(1 for m in members if m.still_attending),
        not_started=sum(1 for m in members if not m.started and not m.withdrawn),
        left_before_starting=sum(1 for m in members if m.left_before_starting),
        sessions_attended=sum(m.sessions_attended for m in started),
        sessions_marked=sum(m.sessions_attended + m.sessions_missed for m in started),
        phq9=_instrument([m.phq9 for m in members], remission=True),
        gad7=_instrument([m.gad7 for m in members], remission=False),
    )


# --- groups and suppression ------------------------------------------------------------------

SUPPRESSION_RULE = (
    f"Every figure is a sum over whole cohorts. A cohort of fewer than {MINIMUM_PEOPLE} people is "
    "left out of every figure (its own row, its template's, its facilitators', the period's and "
    f"the total), and a group left with fewer than {MINIMUM_PEOPLE} people shows no figures at all. "
    "The total is over the same cohorts as the groups, so subtracting shown figures from it, or "
    "one report from another, only ever gives sums over whole cohorts of "
    f"{MINIMUM_PEOPLE} or more people."
)


@dataclass(frozen=True, kw_only=True)
class Group:
    key: str  # stable within a grouping: "cohort:12", "template:3", "facilitator:7", "quarter:2027-Q1"
    cohort_ids: tuple[int, ...]  # every cohort of the group in scope, small ones included
    shown_cohort_ids: tuple[int, ...]  # those with at least MINIMUM_PEOPLE people
    figures: Figures | None  # None: suppressed

    @property
    def suppressed(self) -> bool:
        return self.figures is None


@dataclass(frozen=True)
class CohortMembers:
    cohort_id: int
    members: tuple[MemberFacts, ...] = field(default_factory=tuple)

    @property
    def large_enough(self) -> bool:
        return len(self.members) >= MINIMUM_PEOPLE


def group_figures(key: str, cohorts: Sequence[CohortMembers]) -> Group:
    """The figures over the group's cohorts of MINIMUM_PEOPLE or more, or none if too few."""
    shown = [c for c in cohorts if c.large_enough]
    figures = figures_of(m for c in shown for m in c.members)
    return Group(
        key=key,
        cohort_ids=tuple(c.cohort_id for c in cohorts),
        shown_cohort_ids=tuple(c.cohort_id for c in shown),
        figures=figures if figures.people >= MINIMUM_PEOPLE else None,
    )
