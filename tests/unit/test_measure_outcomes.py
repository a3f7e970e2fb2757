"""The one definition of response, remission, the baseline and the referral suggestion
(server/measures/instruments.py, "Outcomes: the one definition"; domain-ipt.md 5a, 4c, 8)."""
from __future__ import annotations

import pytest

from server.measures.outcomes import (
    BELOW_THRESHOLD_LABEL,
    CLINICAL_THRESHOLD,
    NO_RESPONSE,
    STILL_AT_THRESHOLD,
    Standing,
    change_from_baseline,
    episode_outcome,
)


def phq9(*answers: tuple[str, int]):
    return episode_outcome("phq9", list(answers))


# ---- the clinical threshold ---------------------------------------------------------


def test_threshold_is_ten():
    assert CLINICAL_THRESHOLD == 10
    assert BELOW_THRESHOLD_LABEL == "below the clinical threshold at baseline"


def test_baseline_9_is_below_the_threshold_and_never_counted():
    outcome = phq9(("baseline", 9), ("closure", 2))
    assert outcome.standing is Standing.BELOW_THRESHOLD and outcome.below_threshold
    # A 78% drop to below 5 is neither a response nor a remission from a baseline of 9.
    assert outcome.response is None and outcome.remission is None
    assert outcome.change is not None and outcome.change.difference == -7
    assert outcome.referral_suggested is False


def test_baseline_10_is_counted():
    outcome = phq9(("baseline", 10), ("closure", 4))
    assert outcome.standing is Standing.COUNTED
    assert outcome.response is True and outcome.remission is True


def test_a_member_who_starts_at_3_and_ends_at_2_has_not_remitted():
    outcome = phq9(("baseline", 3), ("closure", 2))
    assert outcome.below_threshold and outcome.remission is None


def test_a_zero_baseline_is_below_the_threshold():
    outcome = phq9(("baseline", 0), ("closure", 0))
    assert outcome.below_threshold and outcome.response is None
    assert outcome.change.percent_change is None


@pytest.mark.parametrize(("baseline", "last", "response"), [
    (20, 10, True),   # exactly 50%
    (10, 5, True),    # exactly 50% from the threshold
    (11, 6, False),   # 45%
    (11, 5, True),    # 55%
    (20, 11, False),  # 45%
    (10, 10, False),
    (10, 14, False),  # worse
])
def test_response_is_a_drop_of_at_least_half(baseline, last, response):
    assert phq9(("baseline", baseline), ("closure", last)).response is response


@pytest.mark.parametrize(("last", "remission"), [(4, True), (5, False), (0, True)])
def test_remission_is_a_last_phq9_below_5(last, remission):
    assert phq9(("baseline", 18), ("closure", last)).remission is remission


def test_gad7_response_is_counted_from_10_and_has_no_remission():
    assert episode_outcome("gad7", [("baseline", 12), ("closure", 5)]).response is True
    assert episode_outcome("gad7", [("baseline", 12), ("closure", 5)]).remission is None
    below = episode_outcome("gad7", [("baseline", 8), ("closure", 2)])
    assert below.below_threshold and below.response is None
    # The referral rule reads the PHQ-9 only.
    assert episode_outcome("gad7", [("baseline", 15), ("closure", 14)]).referral_suggested is False


def test_change_from_baseline_carries_the_same_rule():
    assert change_from_baseline("phq9", 9, 0).response is None
    assert change_from_baseline("phq9", 9, 0).below_threshold is True
    assert change_from_baseline("phq9", 10, 5).response is True


# ---- the baseline occasion ----------------------------------------------------------


def test_the_baseline_is_the_baseline_occasions_score_not_the_first_answer():
    # A staff entry for the baseline made after an earlier answer: the occasion decides.
    outcome = phq9(("session-1", 8), ("baseline", 15), ("session-2", 12), ("closure", 6))
    assert (outcome.baseline_total, outcome.late_baseline, outcome.baseline_index) == (15, False, 1)
    assert outcome.last_total == 6 and outcome.response is True


def test_a_missed_baseline_is_said_and_a_later_score_stands_in_as_late_baseline():
    outcome = phq9(("session-2", 14), ("session-3", 12), ("closure", 6))
    assert outcome.late_baseline and outcome.baseline_missed
    assert outcome.baseline_label == "Late baseline"
    assert (outcome.baseline_total, outcome.last_total) == (14, 6)
    assert outcome.standing is Standing.COUNTED and outcome.response is True


def test_the_first_baseline_of_an_episode_counts():
    # After a transfer the new group schedules its own baseline; the episode began earlier.
    outcome = phq9(("baseline", 18), ("session-2", 15), ("baseline", 14), ("closure", 8))
    assert (outcome.baseline_total, outcome.baseline_index, outcome.last_total) == (18, 0, 8)
    assert outcome.response is True


def test_no_answers():
    outcome = phq9()
    assert outcome.standing is Standing.NO_ANSWERS and outcome.baseline_missed
    assert outcome.response is None and outcome.referral_suggested is False


# ---- a missing final score ---------------------------------------------------------


def test_a_baseline_alone_has_no_change_and_is_not_in_the_rates():
    outcome = phq9(("baseline", 14))
    assert outcome.standing is Standing.NO_LATER_SCORE
    assert outcome.change is None and outcome.last_total is None
    assert outcome.response is None and outcome.remission is None


def test_a_baseline_alone_at_or_above_10_still_suggests_a_referral():
    # The last PHQ-9 known is the baseline, and it is still 10 or more.
    assert phq9(("baseline", 14)).referral_reasons == (STILL_AT_THRESHOLD,)
    assert phq9(("baseline", 9)).referral_suggested is False


# ---- the referral rule: no response OR the last PHQ-9 still 10 or more -------------


@pytest.mark.parametrize(("baseline", "last", "reasons"), [
    (20, 4, ()),                                   # response and remission
    (20, 10, (STILL_AT_THRESHOLD,)),               # a response, but still at 10
    (20, 9, ()),                                   # a response, below 10
    (16, 11, (NO_RESPONSE, STILL_AT_THRESHOLD)),   # neither
    (12, 8, (NO_RESPONSE,)),                       # 33% drop, below 10: no response still counts
    (8, 12, (STILL_AT_THRESHOLD,)),                # started below, now at 12
    (8, 9, ()),                                    # below throughout
])
def test_referral_is_suggested_on_no_response_or_a_last_phq9_of_10_or_more(baseline, last, reasons):
    assert phq9(("baseline", baseline), ("closure", last)).referral_reasons == reasons
