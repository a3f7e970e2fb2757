"""The cohort's outcomes, without names or narrative."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from server.closure.record import GOAL_STATUSES, SummaryRecord
from server.measures.outcomes import Standing

COUNTED, BELOW, NO_LATER = Standing.COUNTED.value, Standing.BELOW_THRESHOLD.value, Standing.NO_LATER_SCORE.value


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
    """Response and remission count only members whose baseline was 10 or more and who have
    a later score (server.measures.instruments, "Outcomes: the one definition"); the others are counted
    apart so the rates never include them."""

    members: int
    attendance: Rate  # group sessions attended, summed over members, of sessions held
    phq9_response: Rate  # of members counted: a baseline PHQ-9 of 10 or more and a later one
    phq9_remission: Rate
    gad7_response: Rate  # likewise from a GAD-7 baseline of 10 or more
    goals: Mapping[str, int]  # GOAL_STATUSES -> count
    role_plays_done: int
    phq9_below_threshold: int = 0  # below the clinical threshold at baseline: reported apart
    phq9_no_later_score: int = 0  # a baseline of 10 or more and nothing after it
    phq9_no_answers: int = 0
    phq9_late_baseline: int = 0  # of those counted: the baseline occasion was missed
    phq9_baseline_missed: int = 0  # every member whose PHQ-9 baseline occasion was missed
    gad7_below_threshold: int = 0
    referrals_suggested: int = 0  # no response, or a last PHQ-9 still 10 or more

    @property
    def goals_total(self) -> int:
        return sum(self.goals.values())

    @property
    def goals_achieved(self) -> Rate:
        return Rate(self.goals.get("achieved", 0), self.goals_total)


def outcome_report(summaries: Sequence[SummaryRecord]) -> OutcomeReport:
    """Aggregates over a cohort's members: numbers only, so nobody can be picked out by name."""
    phq9_all = [t for s in summaries if (t := s.trajectory("phq9"))]
    gad7_all = [t for s in summaries if (t := s.trajectory("gad7"))]
    phq9 = [t for t in phq9_all if t.standing == COUNTED]
    gad7 = [t for t in gad7_all if t.standing == COUNTED]
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
        phq9_response=Rate(sum(1 for t in phq9 if t.response), len(phq9)),
        phq9_remission=Rate(sum(1 for t in phq9 if t.remission), len(phq9)),
        gad7_response=Rate(sum(1 for t in gad7 if t.response), len(gad7)),
        goals=goals,
        role_plays_done=sum(len(s.skills) for s in summaries),
        phq9_below_threshold=sum(1 for t in phq9_all if t.standing == BELOW),
        phq9_no_later_score=sum(1 for t in phq9_all if t.standing == NO_LATER),
        phq9_no_answers=len(summaries) - len(phq9_all),
        phq9_late_baseline=sum(1 for t in phq9 if t.late_baseline),
        phq9_baseline_missed=len(summaries) - sum(1 for t in phq9_all if not t.late_baseline),
        gad7_below_threshold=sum(1 for t in gad7_all if t.standing == BELOW),
        referrals_suggested=sum(1 for s in summaries if s.next_step.referral_suggested),
    )
