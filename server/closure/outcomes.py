"""The cohort's outcomes, without names or narrative."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from server.closure.record import GOAL_STATUSES, SummaryRecord


@dataclass(frozen=True)
class Rate:
    count: int
    of: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.count / self.of) if self.of else None

    def __str__(self) -> str:
        return f"{self.count} of {self.of} ({self.percent}%)" if self.of else "no data"


@dataclass(frozen=True, kw_only=True)
class OutcomeReport:
    members: int
    attendance: Rate  # group sessions attended, summed over members, of sessions held
    phq9_response: Rate  # of members with a baseline and a later PHQ-9
    phq9_remission: Rate
    gad7_response: Rate
    goals: Mapping[str, int]  # GOAL_STATUSES -> count
    role_plays_done: int

    @property
    def goals_total(self) -> int:
        return sum(self.goals.values())

    @property
    def goals_achieved(self) -> Rate:
        return Rate(self.goals.get("achieved", 0), self.goals_total)


def outcome_report(summaries: Sequence[SummaryRecord]) -> OutcomeReport:
    """Aggregates over a cohort's members: numbers only, so nobody can be picked out by name."""
    phq9 = [t for s in summaries if (t := s.trajectory("phq9")) and t.last is not None]
    gad7 = [t for s in summaries if (t := s.trajectory("gad7")) and t.last is not None]
    goals = {status: 0 for status in GOAL_STATUSES}
    for s in summaries:
        for g in s.goals:
            goals[g.status] = goals.get(g.status, 0) + 1
    return OutcomeReport(
        members=len(summaries),
        attendance=Rate(
            sum(s.overview.group_sessions_attended for s in summaries),
            sum(s.overview.group_sessions_held for s in summaries),
        ),
        phq9_response=Rate(sum(1 for t in phq9 if t.response), sum(1 for t in phq9 if t.response is not None)),
        phq9_remission=Rate(sum(1 for t in phq9 if t.remission), len(phq9)),
        gad7_response=Rate(sum(1 for t in gad7 if t.response), sum(1 for t in gad7 if t.response is not None)),
        goals=goals,
        role_plays_done=sum(len(s.skills) for s in summaries),
    )
