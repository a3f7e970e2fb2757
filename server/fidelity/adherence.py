"""Facilitators' adherence to the session checklists, over time (issue 17; domain-ipt.md
section 13: a supervisor reviews the checklists every week).

The rule, stated on the page and in the API: of the answers that apply, the share "done".
"Partly" is counted apart (shown as its own share, never as done); "not done" counts
against; "not applicable" is left out of both. A checklist counts for the facilitators who
led the meeting: an individual meeting's own facilitator, or else the cohort's facilitators.

Who sees whom: a coordinator every facilitator; a facilitator themself, and the
facilitators they supervise.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from calendars.checklists import CHECKLIST_TITLES
from models.accounts import Role, User
from models.cohorts import Cohort
from models.fidelity import ChecklistAnswer, SessionChecklist
from server.accounts import access

RULE = ("Share done = items answered \u201cdone\u201d \u00f7 items that applied (done, partly or not done). "
        "\u201cPartly\u201d is counted apart and never as done; \u201cnot applicable\u201d is left out. "
        "A checklist counts for the facilitators who led the meeting.")


@dataclass
class Tally:
    done: int = 0
    partly: int = 0
    not_done: int = 0
    not_applicable: int = 0

    def add(self, answer: str) -> None:
        if answer == ChecklistAnswer.DONE:
            self.done += 1
        elif answer == ChecklistAnswer.PARTLY:
            self.partly += 1
        elif answer == ChecklistAnswer.NOT_DONE:
            self.not_done += 1
        elif answer == ChecklistAnswer.NOT_APPLICABLE:
            self.not_applicable += 1

    @property
    def applicable(self) -> int:
        return self.done + self.partly + self.not_done

    @property
    def share_done(self) -> float | None:
        return self.done / self.applicable if self.applicable else None

    @property
    def share_partly(self) -> float | None:
        return self.partly / self.applicable if self.applicable else None

    def to_json(self) -> dict:
        return {"done": self.done, "partly": self.partly, "not_done": self.not_done,
                "not_applicable": self.not_applicable, "applicable": self.applicable,
                "share_done": _rounded(self.share_done), "share_partly": _rounded(self.share_partly)}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass
class ItemAdherence:
    checklist: str
    key: str
    label: str
    tally: Tally = field(default_factory=Tally)

    @property
    def title(self) -> str:
        return CHECKLIST_TITLES.get(self.checklist, self.checklist)


@dataclass
class WeekAdherence:
    week: date  # the Monday of the week the meetings started in (UTC)
    meetings: int = 0
    tally: Tally = field(default_factory=Tally)


@dataclass
class FacilitatorAdherence:
    facilitator: User
    checklists: int = 0
    ratings: list[int] = field(default_factory=list)
    overall: Tally = field(default_factory=Tally)
    items: dict[tuple[str, str], ItemAdherence] = field(default_factory=dict)
    weeks: dict[date, WeekAdherence] = field(default_factory=dict)

    @property
    def mean_rating(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None

    def item_rows(self) -> list[ItemAdherence]:
        order = {name: n for n, name in enumerate(CHECKLIST_TITLES)}
        return sorted(self.items.values(), key=lambda i: (order.get(i.checklist, 99), i.label))

    def week_rows(self) -> list[WeekAdherence]:
        return [self.weeks[w] for w in sorted(self.weeks)]

    def to_json(self) -> dict:
        return {
            "facilitator": {"id": self.facilitator.id, "name": self.facilitator.display_name},
            "checklists": self.checklists,
            "mean_rating": _rounded(self.mean_rating),
            "overall": self.overall.to_json(),
            "items": [{"checklist": i.checklist, "key": i.key, "label": i.label, **i.tally.to_json()}
                      for i in self.item_rows()],
            "weeks": [{"week": w.week.isoformat(), "meetings": w.meetings, **w.tally.to_json()}
                      for w in self.week_rows()],
        }


async def visible_facilitators(viewer: User) -> list[User]:
    if viewer.role == Role.COORDINATOR:
        return await User.filter(role=Role.FACILITATOR).order_by("display_name", "id")
    if viewer.role != Role.FACILITATOR:
        return []
    ids = {viewer.id, *await access.supervised_facilitator_ids(viewer)}
    return await User.filter(id__in=ids).order_by("display_name", "id")


async def adherence(viewer: User, *, since: date | None = None, until: date | None = None) -> list[FacilitatorAdherence]:
    """Per facilitator the viewer may see: the overall share done, per item, and per week.
    A fixed number of queries, however many checklists."""
    people = await visible_facilitators(viewer)
    by_id = {u.id: FacilitatorAdherence(facilitator=u) for u in people}
    if not by_id:
        return []
    led = await Cohort.filter(facilitators__id__in=list(by_id)).values_list("id", "facilitators__id")
    leads: dict[int, set[int]] = defaultdict(set)
    for cohort_id, facilitator_id in led:
        if facilitator_id in by_id:
            leads[cohort_id].add(facilitator_id)
    query = SessionChecklist.filter(meeting__cohort_id__in=list(leads)) if leads else None
    individual = SessionChecklist.filter(meeting__facilitator_id__in=list(by_id))
    rows = []
    for q in (query, individual):
        if q is None:
            continue
        if since is not None:
            q = q.filter(meeting__starts_at__gte=datetime.combine(since, time.min, tzinfo=timezone.utc))
        if until is not None:
            q = q.filter(meeting__starts_at__lt=datetime.combine(until + timedelta(days=1), time.min, tzinfo=timezone.utc))
        rows += await q.order_by("meeting__starts_at", "id").values("id", "checklist", "items", "rating", "meeting__starts_at", "meeting__cohort_id",
                               "meeting__facilitator_id")
    seen: set[int] = set()
    for row in rows:
        if row["id"] in seen:
            continue
        seen.add(row["id"])
        own = row["meeting__facilitator_id"]
        counted = {own} if own in by_id else leads.get(row["meeting__cohort_id"], set())
        for facilitator_id in counted:
            _count(by_id[facilitator_id], row)
    return [by_id[u.id] for u in people]


def _count(person: FacilitatorAdherence, row: dict) -> None:
    starts: datetime = row["meeting__starts_at"]
    week = starts.date() - timedelta(days=starts.weekday())
    person.checklists += 1
    if row["rating"] is not None:
        person.ratings.append(int(row["rating"]))
    week_row = person.weeks.setdefault(week, WeekAdherence(week=week))
    week_row.meetings += 1
    for item in row["items"] or []:
        answer, key = str(item.get("answer", "")), str(item.get("key", ""))
        person.overall.add(answer)
        week_row.tally.add(answer)
        entry = person.items.setdefault((row["checklist"], key),
                                        ItemAdherence(checklist=row["checklist"], key=key, label=str(item.get("label", key))))
        entry.label = str(item.get("label", key))  # the latest wording asked (rows come oldest first)
        entry.tally.add(answer)
