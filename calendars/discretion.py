"""Clinical words in what every member's calendar and e-mail show.

A cohort's public title and location, its video link and the organizer name travel in
every member's feed, invitation and reminder, where family, colleagues and the calendar's
provider can read them. The nature of the appointment must not be disclosed ("Appointment",
not "Therapy Session"; a business name containing "therapy" is itself a leak): domain-ipt.md
section 9, S45 and S46. This is the one list of words the platform warns about; a match is
a whole word, case-insensitive, so "Room 2" passes and "Therapy room" does not.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Words that name a diagnosis, a treatment, a profession or a service of mental health care.
CLINICAL_WORDS: tuple[str, ...] = (
    "depression", "depressed", "depressive", "antidepressant", "antidepressants",
    "therapy", "therapies", "therapist", "therapists", "therapeutic",
    "psychotherapy", "psychotherapist", "psychotherapists",
    "ipt", "interpersonal",
    "psychiatry", "psychiatric", "psychiatrist", "psychiatrists",
    "psychology", "psychological", "psychologist", "psychologists",
    "mental", "mental health", "mental-health",
    "grief", "grieving", "bereavement", "bereaved", "mourning", "loss group",
    "counselling", "counseling", "counsellor", "counselor", "counsellors", "counselors",
    "trauma", "traumatic", "ptsd",
    "anxiety", "anxious", "panic", "ocd", "bipolar", "schizophrenia", "psychosis",
    "suicide", "suicidal", "self-harm", "self harm",
    "eating disorder", "binge", "bulimia", "anorexia",
    "addiction", "alcoholics", "substance",
    "phq-9", "phq9", "gad-7", "gad7", "mood disorder",
)

_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(w) for w in sorted(CLINICAL_WORDS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def clinical_words(text: str) -> list[str]:
    """The clinical words in `text`, lower-cased, each once, in order of appearance."""
    found = [match.group(1).lower() for match in _PATTERN.finditer(text or "")]
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class PublicWordsWarning:
    """Clinical words found per field (field name -> words)."""

    found: Mapping[str, tuple[str, ...]]

    def __bool__(self) -> bool:
        return bool(self.found)

    def message(self, labels: Mapping[str, str]) -> str:
        parts = [
            f"{labels.get(name, name)} contains {', '.join(repr(w) for w in words)}"
            for name, words in self.found.items()
        ]
        return (
            "; ".join(parts) + ". These appear in every member's calendar and e-mail, where others can "
            "read them. Use a neutral wording, or confirm that you want to keep it."
        )


def check_public_fields(values: Mapping[str, str]) -> PublicWordsWarning:
    found = {name: tuple(words) for name, text in values.items() if (words := clinical_words(text))}
    return PublicWordsWarning(found=found)
