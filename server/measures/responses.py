"""Recording PHQ-9 / GAD-7 answers against the schedule, and reading them back.

One response per instrument per window (server/measures/occasions.py states the rule). A
member's repeat in the same window is refused; a facilitator's entry for a window that
already has an answer must say it is a correction and why: the earlier answer is kept,
marked superseded. Submissions for one enrollment are serialized by locking its row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.accounts import Role, User
from models.clinical import MeasureResponse, SafetyItem
from models.cohorts import (
    Enrollment,
    EnrollmentStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
    ProtocolTemplate,
)
from server import clock
from server.accounts import audit
from server.errors import BadRequest, Conflict, NotFound
from server.measures import safety
from server.measures.charts import TrendPoint
from server.measures.instruments import (
    Instrument,
    Score,
    parse_form,
    questionnaire,
)
from server.measures.occasions import (
    MeetingSlot,
    Occasion,
    next_occasion,
    occasion_at,
    occasions,
    parse_schedule,
)

ANSWERING = frozenset({EnrollmentStatus.SCREENING, EnrollmentStatus.ENROLLED})


@dataclass
class Submission:
    response: MeasureResponse
    score: Score
    occasion: Occasion
    safety_item: SafetyItem | None
    corrected: MeasureResponse | None = None


@dataclass
class Due:
    instrument: Instrument
    occasion: Occasion
    answered: MeasureResponse | None


def _instruments(template: ProtocolTemplate) -> dict[Instrument, tuple[str, ...]]:
    return parse_schedule(template.measures_schedule)  # InvalidMeasureSchedule: see server.errors


async def _slots(enrollments: Sequence[Enrollment]) -> dict[int, list[MeetingSlot]]:
    """Each enrollment's meetings (its group's sessions and its own), one query for all."""
    meetings = await Meeting.filter(
        Q(cohort_id__in={e.cohort_id for e in enrollments})
        & (Q(kind=MeetingKind.GROUP) | Q(enrollment_id__in=[e.id for e in enrollments]))
    ).order_by("starts_at", "id")
    # Grouped by cohort first: each enrollment looks at its own cohort's meetings, not the
    # clinic's (the reminder sweep passes every answering enrollment, once a minute).
    by_cohort: dict[int, list[Meeting]] = defaultdict(list)
    for m in meetings:
        by_cohort[m.cohort_id].append(m)
    return {
        e.id: [
            MeetingSlot(m.id, MeetingKind(m.kind), m.number,
                        m.starts_at, m.ends_at, m.status == MeetingStatus.CANCELLED)
            for m in by_cohort[e.cohort_id]
            if m.kind == MeetingKind.GROUP or m.enrollment_id == e.id
        ]
        for e in enrollments
    }


def _schedules(enrollment: Enrollment, template: ProtocolTemplate, cohort_sessions: int,
               slots: list[MeetingSlot]) -> dict[Instrument, list[Occasion]]:
    return {
        instrument: occasions(tokens, slots, n_group_sessions=cohort_sessions, enrolled_at=enrollment.created_at)
        for instrument, tokens in _instruments(template).items()
    }


async def schedules(enrollment: Enrollment, template: ProtocolTemplate, cohort_sessions: int) -> dict[Instrument, list[Occasion]]:
    slots = (await _slots([enrollment]))[enrollment.id]
    return _schedules(enrollment, template, cohort_sessions, slots)


async def lineage(enrollment: Enrollment) -> list[int]:
    """This enrollment and the ones it was transferred from: one treatment episode, so the
    trend and the baseline carry across a transfer (the history stays where it was written)."""
    return (await lineages([enrollment]))[enrollment.id]


async def lineages(enrollments: Sequence[Enrollment]) -> dict[int, list[int]]:
    """`lineage` of many enrollments at once, one query per step back along the chain."""
    parent: dict[int, int | None] = {e.id: e.transferred_from_id for e in enrollments}
    wanted = {p for p in parent.values() if p is not None and p not in parent}
    for _ in range(20):
        if not wanted:
            break
        rows = await Enrollment.filter(id__in=list(wanted)).values_list("id", "transferred_from_id")
        for enrollment_id, previous in rows:
            parent[enrollment_id] = previous
        wanted = {p for _, p in rows if p is not None and p not in parent}
    chains: dict[int, list[int]] = {}
    for e in enrollments:
        ids = [e.id]
        previous = parent.get(e.id)
        while previous is not None and previous not in ids and len(ids) < 20:
            ids.append(previous)
            previous = parent.get(previous)
        chains[e.id] = ids
    return chains


async def due_now(enrollment: Enrollment, *, now: datetime | None = None) -> list[Due]:
    """The windows open now for this enrollment, answered or not."""
    return (await due_now_of([enrollment], now=now))[enrollment.id]


async def due_now_of(enrollments: Sequence[Enrollment], *, now: datetime | None = None) -> dict[int, list[Due]]:
    """`due_now` of many enrollments (cohort and template loaded) in two queries, however many."""
    now = now or clock.now()
    out: dict[int, list[Due]] = {e.id: [] for e in enrollments}
    answering = [e for e in enrollments if e.status in ANSWERING]
    if not answering:
        return out
    answers = await MeasureResponse.filter(
        enrollment_id__in=[e.id for e in answering], superseded=False
    ).order_by("administered_at", "id")
    slots = await _slots(answering)
    answers_of: dict[int, list[MeasureResponse]] = defaultdict(list)
    for r in answers:
        answers_of[r.enrollment_id].append(r)
    for enrollment in answering:
        cohort = enrollment.cohort
        mine = answers_of[enrollment.id]
        for instrument, schedule in _schedules(enrollment, cohort.template, cohort.n_group_sessions,
                                               slots[enrollment.id]).items():
            occasion = occasion_at(schedule, now)
            if occasion is None:
                continue
            answered = next((r for r in mine if r.instrument == instrument and r.window == occasion.key), None)
            out[enrollment.id].append(Due(instrument, occasion, answered))
    return out


async def missed_between(enrollments: Sequence[Enrollment], *, since: datetime, now: datetime) -> dict[int, list[Due]]:
    """The windows that closed unanswered after `since` and by `now` ("missed", as the
    window rule says), of many enrollments (cohort and template loaded), in two queries."""
    out: dict[int, list[Due]] = {e.id: [] for e in enrollments}
    answering = [e for e in enrollments if e.status in ANSWERING]
    if not answering:
        return out
    answered = set(await MeasureResponse.filter(
        enrollment_id__in=[e.id for e in answering], superseded=False
    ).values_list("enrollment_id", "instrument", "window"))
    slots = await _slots(answering)
    for enrollment in answering:
        cohort = enrollment.cohort
        for instrument, schedule in _schedules(enrollment, cohort.template, cohort.n_group_sessions,
                                               slots[enrollment.id]).items():
            for occasion in schedule:
                closed = occasion.closes_at is not None and since < occasion.closes_at <= now
                if closed and (enrollment.id, instrument, occasion.key) not in answered:
                    out[enrollment.id].append(Due(instrument, occasion, None))
    return out


@dataclass
class MemberDue:
    """One questionnaire due to a member: one enrollment, one instrument, one occasion."""

    enrollment: Enrollment
    due: Due

    @property
    def path(self) -> str:
        return member_form_path(self.enrollment.id, self.due.instrument, self.due.occasion.key)


def member_form_path(enrollment_id: int, instrument: Instrument | str, occasion_key: str) -> str:
    """Each questionnaire due has its own link, so an answer lands on exactly that one."""
    return f"/portal/enrollments/{enrollment_id}/measures/{Instrument(instrument).value}/{occasion_key}"


async def member_answering(member: User) -> list[Enrollment]:
    return await Enrollment.filter(member_id=member.id, status__in=list(ANSWERING)).prefetch_related(
        "cohort", "cohort__template"
    ).order_by("created_at", "id")


async def due_for_member(member: User, instrument: Instrument, *, now: datetime | None = None) -> list[MemberDue]:
    """Every open window of `instrument` across the member's groups, answered or not."""
    enrollments = await member_answering(member)
    due = await due_now_of(enrollments, now=now)
    return [MemberDue(e, d) for e in enrollments for d in due[e.id] if d.instrument == instrument]


async def submit(
    enrollment: Enrollment,
    instrument: Instrument | str,
    form: Mapping[str, object],
    *,
    by: User,
    window: str = "",
    for_occasion: str = "",
    correction_reason: str = "",
    now: datetime | None = None,
) -> Submission:
    """Score and store one administration. `enrollment` must have cohort and template loaded.

    Staff name any open occasion with `window`. A member answers the occasion open now; when
    their link named one (`for_occasion`), the answer is stored for exactly that one or refused
    (code ``occasion_closed``), never moved to another occasion."""
    now = now or clock.now()
    q = questionnaire(instrument)  # InvalidAnswers, translated by server.errors
    result = parse_form(q.instrument, form)
    on_behalf = by.id != enrollment.member_id
    if on_behalf and by.role == Role.MEMBER:
        raise BadRequest("Members answer only for themselves.")
    correction_reason = (correction_reason or "").strip()
    if len(correction_reason) > 500:
        raise BadRequest("The correction reason is too long (500 characters at most).",
                         fields={"correction_reason": "Too long."})
    if enrollment.status not in ANSWERING:
        raise Conflict(f"No questionnaires are due for an enrollment that is {enrollment.status.value}.")
    schedule = (await schedules(enrollment, enrollment.cohort.template, enrollment.cohort.n_group_sessions)).get(q.instrument)
    if not schedule:
        raise Conflict(f"The {q.name} is not on this group's measure schedule.")
    if window and on_behalf:
        occasion = next((o for o in schedule if o.key == window), None)
        if occasion is None:
            raise BadRequest(f"{window!r} is not a {q.name} occasion for this member.", fields={"window": "Unknown."})
        if occasion.opens_at is not None and occasion.opens_at > now:
            raise Conflict(f"The {q.name} for {occasion.label.lower()} is not open yet.")
    else:
        named = next((o for o in schedule if o.key == for_occasion), None) if for_occasion else None
        if for_occasion and named is None:
            raise NotFound(f"There is no {q.name} for {for_occasion!r} in this group.")
        found = occasion_at(schedule, now)
        if found is None:
            upcoming = next_occasion(schedule, now)
            when = f" The next one opens {upcoming.opens_at:%d %b %Y}." if upcoming and upcoming.opens_at else ""
            raise Conflict(f"No {q.name} is due now.{when}")
        if named is not None and found.key != named.key:
            raise Conflict(
                f"The {q.name} for {named.label.lower()} is not open now; the one open now is for "
                f"{found.label.lower()}.", code="occasion_closed",
            )
        occasion = found
    async with in_transaction():
        locked = await Enrollment.select_for_update().get(id=enrollment.id)
        earlier = await MeasureResponse.filter(
            enrollment_id=locked.id, instrument=q.instrument.value, window=occasion.key, superseded=False
        ).first()
        if earlier is not None:
            if not on_behalf:
                raise Conflict(
                    f"You have already answered the {q.name} for {occasion.label.lower()}. "
                    "If something was wrong, please tell your facilitator."
                )
            if not correction_reason:
                raise Conflict(
                    f"This member already has a {q.name} for {occasion.label.lower()}. "
                    "To replace it, tick 'correction' and give a reason.",
                    fields={"correction_reason": "Required to replace an answer."},
                )
        response = await MeasureResponse.create(
            enrollment_id=locked.id,
            instrument=q.instrument.value,
            items=list(result.items),
            total=result.total,
            band=result.band.key,
            item9=result.item9,
            difficulty=result.difficulty,
            meeting_id=occasion.meeting_id,
            window=occasion.key,
            administered_at=now,
            entered_by=by,
            on_behalf=on_behalf,
            correction_reason=correction_reason if earlier else "",
        )
        if earlier is not None:
            earlier.superseded = True
            earlier.superseded_by = response
            await earlier.save(update_fields=["superseded", "superseded_by_id"])
        item = await safety.open_for_response(response, enrollment, now)
        await audit.record(
            by, "change", "measure_response", response.id, member=enrollment.member_id,
            detail=f"{q.name} {occasion.key} total {result.total}" + (" (correction)" if earlier else ""),
        )
    # Told only once the answer is committed; a mail failure is logged, the answer stays.
    await safety.announce(item, now=now)
    return Submission(response, result, occasion, item, corrected=earlier)


async def trend_points(enrollment: Enrollment, instrument: Instrument, zone) -> list[TrendPoint]:
    rows = await MeasureResponse.filter(
        enrollment_id__in=await lineage(enrollment), instrument=instrument.value, superseded=False
    ).order_by("administered_at", "id")
    return trend_points_of(rows, zone)


def trend_points_of(rows: Sequence[MeasureResponse], zone) -> list[TrendPoint]:
    """The chart's points from one instrument's current answers, oldest first."""
    labels = {"baseline": "Baseline", "closure": "Closure", "midpoint": "Midpoint"}
    return [
        TrendPoint(
            when=r.administered_at.astimezone(zone).date(),
            total=r.total,
            label=labels.get(r.window) or (f"S{r.window.split('-', 1)[1]}" if r.window.startswith("session-") else "Extra"),
            window=r.window,
        )
        for r in rows
    ]


# --- for scripts (the demo loader, imports from paper) ------------------------------------

async def occasions_for(enrollment_id: int) -> dict[str, list[Occasion]]:
    """Every occasion of every scheduled instrument for one enrollment, keyed "phq9"/"gad7".

    Occasions before the enrollment's created_at are never due, so a script building past
    history must create (or back-date) the enrollment before the cohort's first meeting.
    """
    enrollment = await Enrollment.get(id=enrollment_id).prefetch_related("cohort", "cohort__template", "member")
    found = await schedules(enrollment, enrollment.cohort.template, enrollment.cohort.n_group_sessions)
    return {instrument.value: list(items) for instrument, items in found.items()}


async def record_on_behalf(
    enrollment_id: int,
    instrument: Instrument | str,
    items: list[int],
    *,
    by: User,
    window: str,
    at: datetime,
    difficulty: int | None = None,
) -> Submission:
    """Record one administration as staff for a given occasion, dated `at` (not in the future).

    Goes through `submit`, so scoring, the one-per-window rule, safety items (item 9 > 0)
    and the audit trail all apply.
    """
    if at > clock.now():
        raise BadRequest("A questionnaire cannot be dated in the future.")
    enrollment = await Enrollment.get(id=enrollment_id).prefetch_related("cohort", "cohort__template", "member")
    form: dict[str, object] = {f"item{n}": value for n, value in enumerate(items, start=1)}
    if difficulty is not None:
        form["difficulty"] = difficulty
    return await submit(enrollment, instrument, form, by=by, window=window, now=at)
