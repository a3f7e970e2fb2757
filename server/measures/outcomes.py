"""Outcomes, the one definition: change from baseline, response, remission and the
reasons a referral is suggested, for one member on one instrument.

Pure code: plain values in, plain values out; no database and no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from server.measures.instruments import Band, Instrument, band_for, questionnaire

# Every figure about change (the portal, staff pages, the API, closure summaries, the
# cohort outcome report, the charts' descriptions) comes from `change_from_baseline` and
# `episode_outcome`, so no two pages can count differently.
#
# - Response is a drop of at least 50% from the baseline; remission is a PHQ-9 below 5.
#   Both are counted only for members whose baseline was at or above the clinical
#   threshold of 10: "a member who starts at 3 and ends at 2 has not remitted"; members
#   who started below are reported apart, "below the clinical threshold at baseline"
#   (domain-ipt.md 5a, S36). The GAD-7's cut point is also 10 (5d), and its response is
#   counted the same way (the stricter reading: S36 counts both metrics from the threshold).
# - The baseline is the answer given for the baseline occasion. If that occasion was
#   missed, the first later answer may stand in, always labelled "late baseline".
# - A referral is suggested when a member who started at or above the threshold did not
#   respond, or when the last PHQ-9 is still 10 or more: symptoms persist (domain-ipt.md
#   4c and 8.9; S6, S43).

CLINICAL_THRESHOLD = 10
REMISSION_BELOW = 5  # PHQ-9 total below 5
BASELINE_OCCASION = "baseline"  # the occasion key of the baseline (server/measures/occasions.py)
BELOW_THRESHOLD_LABEL = "below the clinical threshold at baseline"
LATE_BASELINE_LABEL = "late baseline"


@dataclass(frozen=True)
class Change:
    """How a later total compares with the baseline total.

    ``response`` and ``remission`` are None when the baseline was below the clinical
    threshold (``below_threshold``): they are not counted for that member. ``remission``
    is also None for instruments without a remission definition (GAD-7).
    """

    instrument: Instrument
    baseline_total: int
    current_total: int
    baseline_band: Band
    current_band: Band
    response: bool | None
    remission: bool | None
    below_threshold: bool = False

    @property
    def difference(self) -> int:
        return self.current_total - self.baseline_total

    @property
    def percent_change(self) -> float | None:
        if self.baseline_total == 0:
            return None
        return 100.0 * self.difference / self.baseline_total


def change_from_baseline(
    instrument: Instrument | str, baseline_total: int, current_total: int
) -> Change:
    q = questionnaire(instrument)
    baseline_band = band_for(q.instrument, baseline_total)
    current_band = band_for(q.instrument, current_total)
    counted = baseline_total >= CLINICAL_THRESHOLD
    response: bool | None = None
    remission: bool | None = None
    if counted:
        # At least a 50% drop, in integers: (baseline - current) / baseline >= 1/2.
        response = 2 * (baseline_total - current_total) >= baseline_total
        if q.instrument is Instrument.PHQ9:
            remission = current_total < REMISSION_BELOW
    return Change(
        instrument=q.instrument,
        baseline_total=baseline_total,
        current_total=current_total,
        baseline_band=baseline_band,
        current_band=current_band,
        response=response,
        remission=remission,
        below_threshold=not counted,
    )


class Standing(StrEnum):
    """Where a member stands in the outcome figures."""

    COUNTED = "counted"  # baseline at or above the threshold and a later score
    BELOW_THRESHOLD = "below_threshold"  # reported apart, never in the rates
    NO_LATER_SCORE = "no_later_score"  # at or above the threshold, nothing after the baseline
    NO_ANSWERS = "no_answers"


STANDING_LABELS = {
    Standing.COUNTED: "counted in response and remission",
    Standing.BELOW_THRESHOLD: BELOW_THRESHOLD_LABEL,
    Standing.NO_LATER_SCORE: "no score after the baseline yet",
    Standing.NO_ANSWERS: "no answers yet",
}


@dataclass(frozen=True)
class Outcome:
    """One member's outcome on one instrument over a treatment episode.

    ``baseline_index`` and ``last_index`` point into the answers `episode_outcome` was
    given; ``late_baseline`` means the baseline occasion was missed and a later answer
    stands in (say so wherever it is shown)."""

    instrument: Instrument
    standing: Standing
    baseline_index: int | None = None
    baseline_total: int | None = None
    late_baseline: bool = False
    last_index: int | None = None
    last_total: int | None = None
    change: Change | None = None
    referral_reasons: tuple[str, ...] = ()

    @property
    def response(self) -> bool | None:
        return self.change.response if self.change else None

    @property
    def remission(self) -> bool | None:
        return self.change.remission if self.change else None

    @property
    def below_threshold(self) -> bool:
        return self.standing is Standing.BELOW_THRESHOLD

    @property
    def baseline_missed(self) -> bool:
        return self.late_baseline or self.standing is Standing.NO_ANSWERS

    @property
    def referral_suggested(self) -> bool:
        return bool(self.referral_reasons)

    @property
    def baseline_label(self) -> str:
        return "Late baseline" if self.late_baseline else "Baseline"


# Why a referral is suggested (the words the summary's suggestion uses).
NO_RESPONSE = "no_response"
STILL_AT_THRESHOLD = "still_at_threshold"


def episode_outcome(instrument: Instrument | str, answers: Sequence[tuple[str, int]]) -> Outcome:
    """The outcome from one episode's answers, given as (occasion key, total) in time order.

    The baseline is the first answer for the baseline occasion; without one, the first
    answer stands in as a late baseline. The last score is the latest answer after it."""
    q = questionnaire(instrument)
    if not answers:
        return Outcome(q.instrument, Standing.NO_ANSWERS)
    index = next((i for i, (key, _) in enumerate(answers) if key == BASELINE_OCCASION), None)
    late = index is None
    if index is None:
        index = 0
    baseline_total = answers[index][1]
    last_index = len(answers) - 1 if len(answers) - 1 > index else None
    last_total = answers[last_index][1] if last_index is not None else None
    change = change_from_baseline(q.instrument, baseline_total, last_total) if last_total is not None else None
    if baseline_total < CLINICAL_THRESHOLD:
        standing = Standing.BELOW_THRESHOLD
    elif change is None:
        standing = Standing.NO_LATER_SCORE
    else:
        standing = Standing.COUNTED
    reasons: list[str] = []
    if q.instrument is Instrument.PHQ9:
        if standing is Standing.COUNTED and change is not None and change.response is False:
            reasons.append(NO_RESPONSE)
        # The last PHQ-9 known: with nothing after the baseline, the baseline itself.
        latest = last_total if last_total is not None else baseline_total
        if latest >= CLINICAL_THRESHOLD:
            reasons.append(STILL_AT_THRESHOLD)
    return Outcome(
        instrument=q.instrument,
        standing=standing,
        baseline_index=index,
        baseline_total=baseline_total,
        late_baseline=late,
        last_index=last_index,
        last_total=last_total,
        change=change,
        referral_reasons=tuple(reasons),
    )


