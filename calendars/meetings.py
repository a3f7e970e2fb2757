"""A meeting as the scheduling code sees it: plain values, no database."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from calendars.vocabulary import MeetingKind, MeetingStatus, Phase
from calendars.wallclock import WallClockAdjustment


@dataclass(frozen=True, kw_only=True)
class Facilitator:
    id: str
    name: str


@dataclass(frozen=True, kw_only=True)
class Busy:
    """Time a facilitator is already committed elsewhere (another cohort's meeting)."""

    facilitator: str
    start: datetime
    end: datetime
    label: str


@dataclass(frozen=True, kw_only=True)
class PlannedMeeting:
    """One group session or one member's individual meeting.

    `start`/`end` are aware and in the cohort's zone; `wall_time` is the local time the
    schedule asked for (it differs from `start` only on a DST day, see wallclock.py) and
    is what later moves keep. `uid`, `sequence` and `revised_at` are empty in a fresh
    plan and filled once the meeting is stored."""

    key: str
    kind: MeetingKind
    number: int
    of: int
    phase: Phase
    start: datetime
    end: datetime
    wall_time: time
    minutes: int
    member: str | None = None
    facilitators: tuple[str, ...] = ()
    status: MeetingStatus = MeetingStatus.SCHEDULED
    uid: str = ""
    sequence: int = 0
    revised_at: datetime | None = None
    makeup_for: str | None = None
    adjustment: WallClockAdjustment = WallClockAdjustment.NONE

    @property
    def tzid(self) -> str:
        return str(self.start.tzinfo)

    @property
    def local_date(self) -> date:
        return self.start.date()

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        return self.end.astimezone(UTC)

    @property
    def is_group(self) -> bool:
        return self.kind is MeetingKind.GROUP

    @property
    def is_active(self) -> bool:
        return self.status is not MeetingStatus.CANCELLED

    @property
    def title(self) -> str:
        return self.titled()

    def titled(self, group_label: str = "Group session") -> str:
        return meeting_title(
            kind=self.kind,
            number=self.number,
            of=self.of,
            make_up=self.makeup_for is not None,
            group_label=group_label,
        )


def meeting_title(
    *, kind: MeetingKind, number: int, of: int, make_up: bool = False, group_label: str = "Group session"
) -> str:
    """A neutral title: it says when and what kind of meeting, never what it treats.

    Calendars leak titles (lock screens, shared calendars, notifications), so nothing
    clinical goes here (domain-ipt.md §9, [S45], [S46])."""
    match kind:
        case MeetingKind.GROUP:
            title = f"{group_label} {number} of {of}"
        case MeetingKind.PREGROUP:
            title = "Individual meeting" if of <= 1 else f"Individual meeting {number} of {of}"
        case MeetingKind.MID:
            title = "Individual check-in"
        case MeetingKind.POST:
            title = "Individual follow-up"
    return f"{title} (make-up)" if make_up else title


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


# At the same start, meetings sort in the order a member meets them over the programme.
_KIND_ORDER = {kind: i for i, kind in enumerate(
    (MeetingKind.PREGROUP, MeetingKind.GROUP, MeetingKind.MID, MeetingKind.POST)
)}


def sorted_meetings(meetings: Iterable[PlannedMeeting]) -> tuple[PlannedMeeting, ...]:
    kind_order = _KIND_ORDER
    return tuple(
        sorted(
            meetings,
            key=lambda m: (m.start_utc, kind_order[m.kind], m.member or "", m.number, m.key),
        )
    )


@dataclass(frozen=True, kw_only=True)
class Clash:
    meeting: PlannedMeeting
    facilitator: str
    other_label: str
    other_start: datetime
    other_end: datetime
    other_uid: str | None = None  # set when the other side is a meeting of the same list


def facilitator_clashes(
    meetings: Sequence[PlannedMeeting], busy: Sequence[Busy] = ()
) -> list[Clash]:
    """Active meetings that share a facilitator with another active meeting or busy time."""
    clashes: list[Clash] = []
    active = [m for m in meetings if m.is_active]
    by_facilitator: dict[str, list[Busy]] = {}
    for b in busy:
        by_facilitator.setdefault(b.facilitator, []).append(b)
    for i, m in enumerate(active):
        for facilitator in m.facilitators:
            for b in by_facilitator.get(facilitator, ()):
                if overlaps(m.start, m.end, b.start, b.end):
                    clashes.append(Clash(meeting=m, facilitator=facilitator, other_label=b.label,
                                         other_start=b.start, other_end=b.end))
            for other in active[i + 1:]:
                if facilitator in other.facilitators and overlaps(m.start, m.end, other.start, other.end):
                    clashes.append(Clash(meeting=m, facilitator=facilitator, other_label=other.title,
                                         other_start=other.start, other_end=other.end,
                                         other_uid=other.uid or other.key))
    return clashes


def describe_clash(clash: Clash, names: dict[str, str]) -> str:
    m = clash.meeting
    zone = m.start.tzinfo
    other_start = clash.other_start.astimezone(zone)
    other_end = clash.other_end.astimezone(zone)
    who = names.get(clash.facilitator, clash.facilitator)
    return (
        f"{m.title} on {m.start:%a %Y-%m-%d %H:%M}-{m.end:%H:%M} overlaps {who}'s "
        f"{clash.other_label} ({other_start:%a %Y-%m-%d %H:%M}-{other_end:%H:%M}); "
        "choose another time or weekday, or another facilitator."
    )
