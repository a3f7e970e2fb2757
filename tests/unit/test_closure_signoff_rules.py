"""The sign-off rules (server.closure.signoff_rules) as a table: from each status, which step
may be taken, with and without the cohort's requirement, and the content hash."""
from __future__ import annotations

import pytest

from models.closure import SummaryStatus as S
from server.closure import signoff_rules as rules

ALL = list(S)


@pytest.mark.parametrize("status", ALL)
def test_only_a_draft_or_a_returned_version_can_be_edited(status):
    refusal = rules.edit_refusal(status, 1)
    assert (refusal is None) == (status in (S.DRAFT, S.RETURNED))
    if status in (S.AWAITING_SIGNOFF, S.APPROVED):
        assert "withdraw" in refusal.lower()


@pytest.mark.parametrize("status", ALL)
def test_submitting_starts_from_draft_or_returned_and_only_where_required(status):
    assert (rules.submit_refusal(status, 1, required=True) is None) == (status in (S.DRAFT, S.RETURNED))
    assert "does not require" in rules.submit_refusal(status, 1, required=False)


@pytest.mark.parametrize("status", ALL)
def test_a_supervisor_reviews_only_a_version_awaiting_sign_off(status):
    assert (rules.review_refusal(status, 2) is None) == (status == S.AWAITING_SIGNOFF)


@pytest.mark.parametrize("status", ALL)
def test_withdrawing_starts_from_awaiting_or_approved(status):
    assert (rules.withdraw_refusal(status, 1) is None) == (status in (S.AWAITING_SIGNOFF, S.APPROVED))


@pytest.mark.parametrize("status", ALL)
def test_where_sign_off_is_required_only_an_approved_version_is_finalized(status):
    refusal = rules.finalize_refusal(status, 3, required=True)
    assert (refusal is None) == (status == S.APPROVED)
    assert (refusal is None) == (status in rules.finalizable(required=True))
    if status in (S.DRAFT, S.AWAITING_SIGNOFF, S.RETURNED):
        assert "sign-off" in refusal and "version 3" in refusal.lower()


@pytest.mark.parametrize("status", ALL)
def test_without_the_requirement_anything_but_awaiting_or_final_is_finalized(status):
    refusal = rules.finalize_refusal(status, 1, required=False)
    assert (refusal is None) == (status in (S.DRAFT, S.RETURNED, S.APPROVED))
    assert (refusal is None) == (status in rules.finalizable(required=False))


def test_a_return_needs_a_comment_of_reasonable_length():
    assert rules.comment_problem("  \n ") is not None
    assert rules.comment_problem("x" * (rules.MAX_COMMENT + 1)) is not None
    assert rules.comment_problem("Section 7: add one early sign.") is None


def test_the_content_hash_ignores_key_order_and_sees_every_change():
    a = {"warning_signs": "Staying in bed", "goals": [{"goal_id": 1, "member_words": "I asked"}]}
    b = {"goals": [{"member_words": "I asked", "goal_id": 1}], "warning_signs": "Staying in bed"}
    assert rules.content_hash(a) == rules.content_hash(b)
    assert len(rules.content_hash(a)) == 64
    assert rules.content_hash(a) != rules.content_hash({**a, "warning_signs": "Staying in bed."})
