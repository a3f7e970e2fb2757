"""What a coordinator asks for a cohort, parsed from a form or a JSON body (pure: no database).

parse_cohort_input names every bad field at once; the public words a member calendar shows
are checked against the clinical-words list (domain-ipt.md section 9).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from calendars.discretion import PublicWordsWarning, check_public_fields
from server.errors import BadRequest
from server.reminders.join import is_join_link


@dataclass(frozen=True, kw_only=True)
class CohortInput:
    name: str
    public_title: str
    template_id: int
    time_zone: str
    start_date: date
    weekday: int
    start_time: time
    session_minutes: int | None
    group_sessions: int | None
    initial_sessions: int | None
    termination_sessions: int | None
    skip_dates: frozenset[date]
    capacity: int
    location: str
    video_link: str
    facilitator_ids: tuple[int, ...] = ()
    individual_hours: Any = field(default=None)
    # The coordinator saw the clinical-words warning and keeps the wording.
    confirm_public_words: bool = False


def parse_cohort_input(data: Mapping[str, Any], *, facilitator_ids: Sequence[Any] = ()) -> CohortInput:
    """Form or JSON fields to a CohortInput, or BadRequest naming every bad field."""
    problems: dict[str, str] = {}

    def text(name: str, *, required: bool = True, max_length: int = 120, default: str = "") -> str:
        value = str(data.get(name) or "").strip()
        if not value and required:
            problems[name] = "Required."
        if len(value) > max_length:
            problems[name] = f"At most {max_length} characters."
        return value or default

    def number(name: str, *, required: bool = False, low: int = 0, high: int = 10_000) -> int | None:
        raw = str(data.get(name) if data.get(name) is not None else "").strip()
        if not raw:
            if required:
                problems[name] = "Required."
            return None
        try:
            value = int(raw)
        except ValueError:
            problems[name] = f"'{raw}' is not a whole number."
            return None
        if not low <= value <= high:
            problems[name] = f"Use a number from {low} to {high}."
            return None
        return value

    def day(name: str, raw: Any) -> date | None:
        try:
            return date.fromisoformat(str(raw).strip())
        except ValueError:
            problems[name] = f"'{raw}' is not a date like 2027-01-05."
            return None

    name = text("name")
    public_title = text("public_title", required=False, default="Group session", max_length=60)
    template_id = number("template", required=True, low=1, high=2**31 - 1)
    time_zone = text("time_zone", max_length=64)
    start_date = day("start_date", data.get("start_date") or "") if data.get("start_date") else None
    if not data.get("start_date"):
        problems["start_date"] = "Required."
    weekday = number("weekday", low=0, high=6)
    raw_time = str(data.get("start_time") or "").strip()
    start_time = None
    try:
        start_time = time.fromisoformat(raw_time) if raw_time else None
    except ValueError:
        problems["start_time"] = f"'{raw_time}' is not a time like 18:00."
    if not raw_time:
        problems["start_time"] = "Required."
    raw_skips = data.get("skip_dates") or ""
    if isinstance(raw_skips, str):
        raw_skips = [part for part in raw_skips.replace(",", " ").split() if part]
    skips = {d for d in (day("skip_dates", r) for r in raw_skips) if d is not None} if isinstance(raw_skips, list) else set()
    if len(skips) > 52:
        problems["skip_dates"] = "At most 52 skip dates."
    video_link = text("video_link", required=False, max_length=500)
    if video_link and not is_join_link(video_link):
        problems["video_link"] = "Give the full https:// address of the video meeting, as the video service shows it."
    ids = []
    for raw in facilitator_ids or data.get("facilitators") or []:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            problems["facilitators"] = f"'{raw}' is not a facilitator."
    result = dict(
        name=name,
        public_title=public_title,
        template_id=template_id or 0,
        time_zone=time_zone,
        start_date=start_date or date.min,
        weekday=(weekday if weekday is not None else (start_date.weekday() if start_date else 0)),
        start_time=start_time or time(0),
        session_minutes=number("session_minutes", low=1, high=1440),
        group_sessions=number("n_group_sessions", low=0, high=1000),
        initial_sessions=number("initial_sessions", low=0, high=1000),
        termination_sessions=number("termination_sessions", low=0, high=1000),
        skip_dates=frozenset(skips),
        capacity=number("capacity", required=True, low=0, high=1000) or 0,
        location=text("location", required=False, max_length=200),
        video_link=video_link,
        facilitator_ids=tuple(dict.fromkeys(ids)),
        confirm_public_words=confirmed(data.get("confirm_public_words")),
    )
    if problems:
        raise BadRequest(
            "Some fields need attention: " + "; ".join(f"{k}: {v}" for k, v in problems.items()), fields=problems
        )
    return CohortInput(**result)


def confirmed(value: Any) -> bool:
    """A ticked checkbox or a JSON true."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}


# What calendars and e-mails show of a cohort (domain-ipt.md section 9).
PUBLIC_FIELDS = {"public_title": "The public title", "location": "The location", "video_link": "The video link"}


def require_confirmed_public_words(values: CohortInput) -> PublicWordsWarning:
    """A clinical word in a public field is kept only when the coordinator confirms it."""
    warning = check_public_fields({name: getattr(values, name) for name in PUBLIC_FIELDS})
    if warning and not values.confirm_public_words:
        fields = {name: "Contains " + ", ".join(repr(w) for w in words) + "." for name, words in warning.found.items()}
        fields["confirm_public_words"] = "Tick to keep these words in every member's calendar."
        raise BadRequest(warning.message(PUBLIC_FIELDS), fields=fields, code="clinical_words")
    return warning
