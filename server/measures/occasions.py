"""When each questionnaire is due: occasions tied to meetings, and their answer windows.

Pure code over plain values. The template's ``measures_schedule`` names occasions per
instrument, e.g. ``{"phq9": "baseline,every_group_session,closure",
"gad7": "baseline,midpoint,closure"}`` (domain-ipt.md 5e: the recommended default).
Accepted tokens: ``baseline``, ``every_group_session``, ``every_N_sessions``,
``session_N``, ``midpoint``, ``closure`` (a comma-separated string or a list).

The window rule (shown to members and staff as WINDOW_RULE):
- every occasion belongs to one meeting; its window closes when that meeting ends;
- it opens one cadence (7 days) before the meeting starts, or when the previous occasion's
  window closed if that is later; the baseline is open from enrollment;
- one response per instrument per window: a member's second answer in the same window is
  refused; a facilitator may correct an answer (the original is kept, marked superseded);
- an answer after a window closed counts for the next window if that is open, otherwise it
  is refused; a window that closed unanswered stays "missed".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from calendars.vocabulary import MeetingKind
from server.measures.instruments import Instrument

DEFAULT_SCHEDULE: dict[str, str] = {
    Instrument.PHQ9: "baseline,every_group_session,closure",
    Instrument.GAD7: "baseline,midpoint,closure",
}

WINDOW_RULE = (
    "Each questionnaire belongs to a meeting. It can be answered from a week before that "
    "meeting until the meeting ends (the first one from enrollment). One answer counts per "
    "meeting; an answer given after a meeting has ended counts for the next one."
)

_TOKEN = re.compile(r"^(baseline|every_group_session|midpoint|closure|every_(\d+)_sessions|session_(\d+))$")


@dataclass(frozen=True)
class MeetingSlot:
    id: int
    kind: MeetingKind
    number: int
    starts_at: datetime
    ends_at: datetime
    cancelled: bool = False


@dataclass(frozen=True)
class Occasion:
    key: str
    label: str
    meeting_id: int | None
    meeting_starts_at: datetime | None
    opens_at: datetime | None
    closes_at: datetime | None

    def contains(self, moment: datetime) -> bool:
        after_open = self.opens_at is None or moment > self.opens_at
        before_close = self.closes_at is None or moment <= self.closes_at
        return after_open and before_close


class InvalidMeasureSchedule(ValueError):
    """A template's measure schedule names an unknown questionnaire or occasion."""


def parse_schedule(spec: Mapping[str, str] | None) -> dict[Instrument, tuple[str, ...]]:
    spec = dict(spec or {}) or DEFAULT_SCHEDULE
    out: dict[Instrument, tuple[str, ...]] = {}
    for name, raw in spec.items():
        try:
            instrument = Instrument(name)
        except ValueError:
            raise InvalidMeasureSchedule(f"Unknown questionnaire {name!r} in the measure schedule.") from None
        parts = raw.split(",") if isinstance(raw, str) else list(raw or [])
        tokens = tuple(str(t).strip() for t in parts if str(t).strip())
        for token in tokens:
            if not _TOKEN.match(token):
                raise InvalidMeasureSchedule(
                    f"{token!r} is not a measure occasion. Use baseline, every_group_session, "
                    "every_N_sessions, session_N, midpoint or closure."
                )
        if tokens:
            out[instrument] = tokens
    return out


def occasions(
    tokens: Sequence[str],
    meetings: Sequence[MeetingSlot],
    *,
    n_group_sessions: int,
    enrolled_at: datetime,
    cadence: timedelta = timedelta(days=7),
) -> list[Occasion]:
    """The occasions of one instrument for one enrollment, in time order."""
    live = [m for m in meetings if not m.cancelled]
    groups = sorted((m for m in live if m.kind == MeetingKind.GROUP), key=lambda m: (m.starts_at, m.id))
    individual = sorted((m for m in live if m.kind != MeetingKind.GROUP), key=lambda m: (m.starts_at, m.id))

    chosen: dict[int, tuple[int, str, str]] = {}  # meeting id -> (precedence, key, label)
    baseline_without_meeting = False

    def choose(meeting: MeetingSlot, precedence: int, key: str, label: str) -> None:
        current = chosen.get(meeting.id)
        if current is None or precedence < current[0]:
            chosen[meeting.id] = (precedence, key, label)

    by_id = {m.id: m for m in live}
    for token in tokens:
        if token == "baseline":
            pre = [m for m in individual if m.kind == MeetingKind.PREGROUP]
            later_groups = [g for g in groups if g.ends_at > enrolled_at]
            target = pre[0] if pre else (later_groups[0] if later_groups else None)
            if target is None:
                baseline_without_meeting = not groups
            else:
                choose(target, 0, "baseline", "Baseline")
        elif token == "closure":
            post = [m for m in individual if m.kind == MeetingKind.POST]
            target = post[-1] if post else (groups[-1] if groups else None)
            if target is not None:
                choose(target, 1, "closure", "Closure")
        elif token == "midpoint":
            mid = [m for m in individual if m.kind == MeetingKind.MID]
            half = math.ceil(n_group_sessions / 2)
            target = mid[0] if mid else next((g for g in groups if g.number == half), None)
            if target is not None:
                choose(target, 2, "midpoint", "Midpoint")
        else:
            every = re.fullmatch(r"every_(\d+)_sessions", token)
            single = re.fullmatch(r"session_(\d+)", token)
            for g in groups:
                if (
                    token == "every_group_session"
                    or (every and int(every.group(1)) > 0 and g.number % int(every.group(1)) == 0)
                    or (single and g.number == int(single.group(1)))
                ):
                    choose(g, 3, f"session-{g.number}", f"Before session {g.number}")

    ordered = sorted(chosen.items(), key=lambda item: (by_id[item[0]].starts_at, item[0]))
    result: list[Occasion] = []
    if baseline_without_meeting:
        result.append(Occasion("baseline", "Baseline", None, None, None, None))
    previous_close: datetime | None = None
    for meeting_id, (_, key, label) in ordered:
        meeting = by_id[meeting_id]
        if meeting.ends_at <= enrolled_at and key != "baseline":
            previous_close = meeting.ends_at
            continue  # before this person joined: never due for them
        if key == "baseline" and not result:
            opens = None
        else:
            opens = meeting.starts_at - cadence
            if previous_close is not None and previous_close > opens:
                opens = previous_close
        result.append(Occasion(key, label, meeting.id, meeting.starts_at, opens, meeting.ends_at))
        previous_close = meeting.ends_at
    return result


def occasion_at(schedule: Sequence[Occasion], moment: datetime) -> Occasion | None:
    for occasion in schedule:
        if occasion.contains(moment):
            return occasion
    return None


def next_occasion(schedule: Sequence[Occasion], moment: datetime) -> Occasion | None:
    for occasion in schedule:
        if occasion.opens_at is not None and occasion.opens_at >= moment:
            return occasion
    return None
