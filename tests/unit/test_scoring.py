from __future__ import annotations

import re

import pytest

from server.measures import instruments as measures
from server.measures.instruments import (
    ANSWER_SCALE,
    GAD7,
    PHQ9,
    Instrument,
    InvalidAnswers,
    band_for,
    item9_statement,
    parse_form,
    score,
)
from server.measures.outcomes import change_from_baseline

# Wording that would present an item-9 answer of 0 as reassurance.
REASSURING = re.compile(
    r"no risk|not at risk|low risk|risk[- ]free|no concern|safe\b|negative screen|all clear",
    re.IGNORECASE,
)


def items_totalling(total: int, n: int) -> list[int]:
    """n answers in 0..3 adding up to total, filled from the front."""
    out = []
    for _ in range(n):
        take = min(3, total)
        out.append(take)
        total -= take
    assert total == 0
    return out


# ---- the published instruments ---------------------------------------------------------


def test_phq9_wording_is_the_published_text():
    assert PHQ9.stem == (
        "Over the last 2 weeks, how often have you been bothered by any of the "
        "following problems?"
    )
    assert len(PHQ9.items) == 9
    assert PHQ9.items[0] == "Little interest or pleasure in doing things"
    assert PHQ9.items[1] == "Feeling down, depressed, or hopeless"
    assert PHQ9.items[8] == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert PHQ9.difficulty_question.startswith("If you checked off any problems, how difficult")
    assert PHQ9.max_total == 27


def test_gad7_wording_is_the_published_text():
    assert GAD7.stem.startswith("Over the last 2 weeks, how often have you been bothered")
    assert GAD7.items == (
        "Feeling nervous, anxious or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid as if something awful might happen",
    )
    assert GAD7.max_total == 21


def test_answer_scale():
    assert [(o.value, o.label) for o in ANSWER_SCALE] == [
        (0, "Not at all"),
        (1, "Several days"),
        (2, "More than half the days"),
        (3, "Nearly every day"),
    ]


def test_bands_cover_every_total_once():
    for q in (PHQ9, GAD7):
        covered = [t for b in q.bands for t in range(b.low, b.high + 1)]
        assert covered == list(range(q.max_total + 1))


# ---- band edges -----------------------------------------------------------------------

PHQ9_EDGES = [
    (0, "minimal"), (4, "minimal"),
    (5, "mild"), (9, "mild"),
    (10, "moderate"), (14, "moderate"),
    (15, "moderately_severe"), (19, "moderately_severe"),
    (20, "severe"), (27, "severe"),
]
GAD7_EDGES = [
    (0, "minimal"), (4, "minimal"),
    (5, "mild"), (9, "mild"),
    (10, "moderate"), (14, "moderate"),
    (15, "severe"), (21, "severe"),
]


@pytest.mark.parametrize("total,key", PHQ9_EDGES)
def test_phq9_band_edges(total, key):
    result = score(Instrument.PHQ9, items_totalling(total, 9))
    assert result.total == total
    assert result.band.key == key
    assert band_for("phq9", total).key == key


@pytest.mark.parametrize("total,key", GAD7_EDGES)
def test_gad7_band_edges(total, key):
    result = score(Instrument.GAD7, items_totalling(total, 7))
    assert result.total == total
    assert result.band.key == key


def test_band_labels():
    assert [b.label for b in PHQ9.bands] == [
        "Minimal", "Mild", "Moderate", "Moderately severe", "Severe",
    ]
    assert [b.label for b in GAD7.bands] == ["Minimal", "Mild", "Moderate", "Severe"]


@pytest.mark.parametrize("instrument,total", [("phq9", 28), ("phq9", -1), ("gad7", 22)])
def test_band_for_rejects_impossible_totals(instrument, total):
    with pytest.raises(InvalidAnswers):
        band_for(instrument, total)


# ---- validation ------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 8, 10])
def test_phq9_wrong_item_count(count):
    with pytest.raises(InvalidAnswers) as exc:
        score("phq9", [0] * count)
    assert "9 items" in exc.value.errors["items"]


@pytest.mark.parametrize("count", [6, 9])
def test_gad7_wrong_item_count(count):
    with pytest.raises(InvalidAnswers) as exc:
        score("gad7", [0] * count)
    assert "7 items" in exc.value.errors["items"]


@pytest.mark.parametrize("bad", [-1, 4, 2.0, "2", None, True])
def test_item_values_outside_the_scale(bad):
    answers = [0] * 9
    answers[3] = bad
    with pytest.raises(InvalidAnswers) as exc:
        score("phq9", answers)
    assert list(exc.value.errors) == ["item4"]


def test_every_bad_item_is_named():
    with pytest.raises(InvalidAnswers) as exc:
        score("phq9", [5, 0, 0, -2, 0, 0, 0, 0, 9])
    assert set(exc.value.errors) == {"item1", "item4", "item9"}


def test_unknown_instrument():
    with pytest.raises(InvalidAnswers) as exc:
        score("bdi", [0] * 21)
    assert "instrument" in exc.value.errors


def test_items_must_be_a_list():
    with pytest.raises(InvalidAnswers):
        score("gad7", "0000000")


def test_difficulty_is_optional_and_checked():
    assert score("phq9", [1] * 9).difficulty is None
    assert score("phq9", [1] * 9, difficulty=2).difficulty == 2
    with pytest.raises(InvalidAnswers) as exc:
        score("phq9", [1] * 9, difficulty=4)
    assert "difficulty" in exc.value.errors


def test_parse_form_reads_item_fields():
    form = {f"item{n}": str(n % 4) for n in range(1, 10)}
    form["difficulty"] = "1"
    result = parse_form("phq9", form)
    assert result.items == (1, 2, 3, 0, 1, 2, 3, 0, 1)
    assert result.total == 13
    assert result.difficulty == 1


def test_parse_form_names_missing_and_bad_fields():
    form = {f"item{n}": "0" for n in range(1, 8)}
    form["item2"] = "x"
    form["item3"] = "7"
    form["difficulty"] = "9"
    with pytest.raises(InvalidAnswers) as exc:
        parse_form("gad7", form)
    assert set(exc.value.errors) == {"item2", "item3", "difficulty"}
    with pytest.raises(InvalidAnswers) as exc:
        parse_form("phq9", {})
    assert set(exc.value.errors) == set(PHQ9.item_fields)


# ---- item 9 ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, 2, 3])
def test_item9_every_value(value):
    answers = [0] * 9
    answers[8] = value
    result = score("phq9", answers)
    assert result.item9 == value
    assert result.item9_positive is (value > 0)
    statement = item9_statement(value)
    assert ANSWER_SCALE[value].label in statement
    assert not REASSURING.search(statement)
    if value == 0:
        assert "does not rule out risk" in statement
    else:
        assert "risk check" in statement


def test_item9_zero_with_high_total_is_not_positive_and_not_reassuring():
    result = score("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert result.total == 24
    assert not result.item9_positive
    assert not REASSURING.search(item9_statement(result.item9))
    assert not REASSURING.search(measures.describe_total(result))


def test_gad7_has_no_item9():
    result = score("gad7", [3] * 7)
    assert result.item9 is None
    assert not result.item9_positive


def test_item9_statement_rejects_bad_values():
    with pytest.raises(InvalidAnswers):
        item9_statement(4)


def test_no_module_text_is_reassuring():
    # Anything this module could show must not describe an answer as "no risk".
    texts = [PHQ9.stem, *PHQ9.items, *GAD7.items, *(b.label for b in PHQ9.bands)]
    texts += [item9_statement(v) for v in range(4)]
    for text in texts:
        assert not REASSURING.search(text), text


# ---- change, response, remission ----------------------------------------------------


@pytest.mark.parametrize(
    "baseline,current,response",
    [
        (20, 10, True),   # exactly 50%
        (20, 11, False),  # 45%
        (15, 7, True),    # 53%
        (15, 8, False),   # 47%
        (1, 0, None),     # below the clinical threshold at baseline: not counted
        (10, 10, False),
        (10, 14, False),  # worse
    ],
)
def test_response_edges(baseline, current, response):
    change = change_from_baseline("phq9", baseline, current)
    assert change.response is response
    assert change.difference == current - baseline


def test_response_undefined_from_a_zero_baseline():
    change = change_from_baseline("phq9", 0, 0)
    assert change.response is None
    assert change.percent_change is None


@pytest.mark.parametrize("current,remission", [(4, True), (5, False), (0, True), (27, False)])
def test_remission_edges(current, remission):
    assert change_from_baseline("phq9", 18, current).remission is remission


def test_gad7_has_no_remission_definition():
    change = change_from_baseline("gad7", 16, 3)
    assert change.remission is None
    assert change.response is True


def test_change_reports_bands_and_percent():
    change = change_from_baseline("phq9", 16, 8)
    assert change.baseline_band.key == "moderately_severe"
    assert change.current_band.key == "mild"
    assert change.percent_change == -50.0


def test_change_rejects_impossible_totals():
    with pytest.raises(InvalidAnswers):
        change_from_baseline("gad7", 25, 3)
