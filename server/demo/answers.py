"""Questionnaire answers that add up to the totals the demo's trajectories name."""
from __future__ import annotations


def phq9_items(total: int, item9: int = 0) -> list[int]:
    """Nine PHQ-9 answers (0-3) adding up to `total`, with item 9 as given."""
    answers = [0] * 9
    answers[8] = item9
    remaining = total - item9
    for index in [0, 1, 3, 2, 5, 6, 4, 7] * 3:
        if remaining <= 0:
            break
        if answers[index] < 3:
            answers[index] += 1
            remaining -= 1
    return answers


def gad7_items(total: int) -> list[int]:
    """Seven GAD-7 answers (0-3) adding up to `total`."""
    answers = [0] * 7
    for index in list(range(7)) * 3:
        if total <= 0:
            break
        if answers[index] < 3:
            answers[index] += 1
            total -= 1
    return answers
