"""Session fidelity checklists as protocol data (domain-ipt.md section 13: "a facilitator
fidelity checklist after every session", whose items follow the protocol's session plan).

A template holds one checklist per group phase ("group:initial", "group:middle",
"group:termination") and per individual meeting kind ("pregroup", "mid", "post"); each is a
list of items with a stable key and the wording asked. Pure: values in, values out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from calendars.errors import Problem, TemplateError
from calendars.vocabulary import MeetingKind, Phase

CHECKLIST_NAMES: tuple[str, ...] = (
    *(f"group:{phase.value}" for phase in Phase),
    MeetingKind.PREGROUP.value,
    MeetingKind.MID.value,
    MeetingKind.POST.value,
)
CHECKLIST_TITLES: dict[str, str] = {
    "group:initial": "Group sessions, initial phase",
    "group:middle": "Group sessions, middle phase",
    "group:termination": "Group sessions, termination phase",
    "pregroup": "Individual pre-group meetings",
    "mid": "Individual mid-group meeting",
    "post": "Individual post-group meeting",
}
MAX_ITEMS = 40
MAX_LABEL = 300
MAX_NOTES = 4000
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    key: str
    label: str


Checklists = tuple[tuple[str, tuple[ChecklistItem, ...]], ...]


def checklist_name(kind: MeetingKind | str, phase: Phase | str | None) -> str:
    """Which checklist a meeting asks: its phase's for a group session, else its kind's."""
    kind = MeetingKind(kind)
    if kind is MeetingKind.GROUP:
        return f"group:{Phase(phase).value}"
    return kind.value


def checklist_problems(checklists: Checklists, notes: str = "") -> list[Problem]:
    problems: list[Problem] = []
    seen_names: set[str] = set()
    for name, items in checklists:
        if name not in CHECKLIST_NAMES:
            problems.append(Problem("checklists", f"There is no checklist called {name!r}; the checklists are "
                                                  f"{', '.join(CHECKLIST_NAMES)}."))
            continue
        if name in seen_names:
            problems.append(Problem("checklists", f"The checklist {name!r} is given twice."))
        seen_names.add(name)
        if len(items) > MAX_ITEMS:
            problems.append(Problem(_field(name), f"{CHECKLIST_TITLES[name]}: at most {MAX_ITEMS} items; got {len(items)}."))
        keys: set[str] = set()
        for n, item in enumerate(items, start=1):
            if not item.label.strip():
                problems.append(Problem(_field(name), f"{CHECKLIST_TITLES[name]}: item {n} has no wording."))
            elif len(item.label) > MAX_LABEL:
                problems.append(Problem(_field(name), f"{CHECKLIST_TITLES[name]}: item {n} is longer than {MAX_LABEL} characters."))
            if not _KEY.match(item.key):
                problems.append(Problem(_field(name), f"{CHECKLIST_TITLES[name]}: item {n} has the key {item.key!r}; a key is "
                                                      "1-64 lower-case letters, digits or hyphens."))
            elif item.key in keys:
                problems.append(Problem(_field(name), f"{CHECKLIST_TITLES[name]}: the key {item.key!r} is used twice."))
            keys.add(item.key)
    if len(notes) > MAX_NOTES:
        problems.append(Problem("checklist_notes", f"The checklist notes are longer than {MAX_NOTES} characters."))
    return problems


def _field(name: str) -> str:
    return "checklist_" + name.replace(":", "_")


def form_field(name: str) -> str:
    """The form's textarea for checklist `name` ("group:middle" -> "checklist_group_middle")."""
    return _field(name)


def parse_checklists(raw: Any) -> Checklists:
    """{"group:middle": [{"key": ..., "label": ...}, ...], ...} as values, in the order of
    CHECKLIST_NAMES; a refusal (TemplateError) names what to change."""
    if raw in (None, ""):
        return ()
    if not isinstance(raw, Mapping):
        raise TemplateError.single("checklists", "Checklists must be an object of checklist name -> list of items.")
    problems: list[Problem] = []
    parsed: dict[str, tuple[ChecklistItem, ...]] = {}
    for name, items in raw.items():
        if not isinstance(items, list):
            problems.append(Problem("checklists", f"The checklist {name!r} must be a list of items."))
            continue
        values = []
        for n, item in enumerate(items, start=1):
            if not isinstance(item, Mapping) or not isinstance(item.get("key"), str) or not isinstance(item.get("label"), str):
                problems.append(Problem("checklists", f"Item {n} of {name!r} must be an object with a key and a label."))
                continue
            values.append(ChecklistItem(key=item["key"].strip(), label=item["label"].strip()))
        parsed[str(name)] = tuple(values)
    if problems:
        raise TemplateError(problems)
    known = [(name, parsed[name]) for name in CHECKLIST_NAMES if name in parsed]
    unknown = [(name, items) for name, items in parsed.items() if name not in CHECKLIST_NAMES]
    result = tuple(known + unknown)
    problems = checklist_problems(result)
    if problems:
        raise TemplateError(problems)
    return tuple((name, items) for name, items in result if items)


def checklists_dict(checklists: Checklists) -> dict[str, list[dict[str, str]]]:
    return {name: [{"key": i.key, "label": i.label} for i in items] for name, items in checklists}


def items_from_lines(text: str, *, keep: Iterable[ChecklistItem] = ()) -> tuple[ChecklistItem, ...]:
    """One item per non-blank line. An item whose wording is unchanged keeps its key, so
    answers given before an edit still count towards the same item; a new wording gets a key
    made from it."""
    kept = {item.label: item.key for item in keep}
    used: set[str] = set()
    items = []
    for line in text.splitlines():
        label = " ".join(line.split())
        if not label:
            continue
        key = kept.get(label)
        if key is None or key in used:
            key = _key_for(label, used | set(kept.values()))
        used.add(key)
        items.append(ChecklistItem(key=key, label=label))
    return tuple(items)


def _key_for(label: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:48].strip("-") or "item"
    key, n = base, 2
    while key in taken:
        key = f"{base}-{n}"
        n += 1
    return key
