"""The other members' names: a summary names no other member of the cohort."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from server.closure.record import SECTION_TITLES, SummaryRecord


@dataclass(frozen=True)
class NameFound:
    section: str
    word: str


def names_mentioned(summary: SummaryRecord, other_member_names: Iterable[str], *,
                    own_name: str = "") -> list[NameFound]:
    """Every place the text names another member of the cohort.

    A full name matches in any case; a single part of a name ("Bea", "Okafor") matches as a
    capitalised word, so "may" in a sentence is not mistaken for a member called May. Parts
    the member shares with their own name are skipped: the summary may address them."""
    patterns = _name_patterns(other_member_names, own_name)
    found: list[NameFound] = []
    for section, text in _texts(summary):
        for word, pattern, _ in patterns:
            hit = NameFound(section, word)
            if hit not in found and pattern.search(text):
                found.append(hit)
    return found


# Sections drafted from the record: a facilitator cannot edit them, so names the record
# carries (a scenario typed on the board, a goal note) are reduced to initials when
# drafting, as IPT-G group summaries do (domain-ipt.md section 8, S12).
RECORD_SECTIONS = ("overview", "problem_areas", "goals", "symptoms", "skills", "safety")


def name_redactor(other_member_names: Iterable[str], *, own_name: str = "",
                  keep: Iterable[str] = ()) -> Callable[[Any], Any]:
    """A function that copies a JSON value with other members' names in its strings replaced
    by initials, leaving the values under the keys in `keep` as they are."""
    patterns = _name_patterns(other_member_names, own_name)
    kept = set(keep)

    def scrub(value: Any, key: str = "") -> Any:
        if key in kept:
            return value
        if isinstance(value, str):
            for _, pattern, initials in patterns:
                value = pattern.sub(initials, value)
            return value
        if isinstance(value, dict):
            return {k: scrub(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    return scrub


def redact_record_names(summary: SummaryRecord, other_member_names: Iterable[str], *,
                        own_name: str = "") -> SummaryRecord:
    """A copy with other members' names in the record sections replaced by initials."""
    if not _name_patterns(other_member_names, own_name):
        return summary
    # member_words are the facilitator's own writing: checked, not rewritten.
    scrub = name_redactor(other_member_names, own_name=own_name, keep=("member_words",))
    data = summary.to_json()
    for section in RECORD_SECTIONS:
        data[section] = scrub(data[section])
    return SummaryRecord.from_json(data)


def _name_patterns(other_member_names: Iterable[str], own_name: str) -> list[tuple[str, re.Pattern[str], str]]:
    """(the name as written, its pattern, its initials), full names before their parts."""
    own_parts = {p.casefold() for p in _name_parts(own_name)}
    full: list[tuple[str, re.Pattern[str], str]] = []
    parts: list[tuple[str, re.Pattern[str], str]] = []
    for name in other_member_names:
        name = " ".join(name.split())
        if not name:
            continue
        initials = "".join(f"{p[0].upper()}." for p in re.split(r"[\s\-]+", name) if p)
        full.append((name, re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE), initials))
        for part in _name_parts(name):
            if part.casefold() not in own_parts:
                parts.append((part, re.compile(rf"(?<!\w){re.escape(part)}(?!\w)"), f"{part[0].upper()}."))
    return full + parts


def _name_parts(name: str) -> list[str]:
    # Initials and one-letter parts are too short to tell a name from a word.
    return [p for p in re.split(r"[\s\-]+", name) if len(p.strip(".")) > 1]


def _texts(summary: SummaryRecord) -> Iterable[tuple[str, str]]:
    data = summary.to_json()
    for section in SECTION_TITLES:
        keys = [section] if section in data else []
        if section == "warning_signs":
            keys.append("who_to_tell")
        for key in keys:
            for text in _strings(data[key]):
                yield section, text


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
