"""Schedule services over the models: templates, cohort drafts, activation, changes.

Handlers parse input, call one function here, and map errors; the rules themselves live in
`calendars` (pure). Every change to a meeting bumps its SEQUENCE and revision time, runs in
one transaction under the cohort's row lock, and then tells the people affected (mailer.py)
when the meeting is within the next 48 hours.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from calendars import (
    Busy,
    ChangeResult,
    CohortSpec,
    Facilitator,
    MakeUp,
    MeetingKind,
    MeetingStatus,
    Phase,
    PlannedMeeting,
    ProtocolTemplate,
    ScheduleError,
    SchedulePlan,
    TemplateError,
    add_skip_dates,
    cancel,
    local_start,
    member_meetings,
    plan_meetings,
    reschedule,
    schedule_make_up,
    shift_remaining,
    shipped_templates,
)
from calendars.discretion import PublicWordsWarning, check_public_fields
from calendars.protocols import (
    CompositionRule,
    GroupSize,
    LabelStyle,
    PhaseRange,
    ProblemArea,
)
from calendars.wallclock import load_zone
from models.accounts import Role, User
from models.cohorts import Cohort, CohortStatus, Enrollment, EnrollmentStatus, Meeting
from models.cohorts import MeetingKind as RowKind
from models.cohorts import MeetingStatus as RowStatus
from models.cohorts import ProtocolTemplate as TemplateRow
from server.accounts import audit
from server.errors import BadRequest, Conflict, NotFound
from server.platform import mailer
from server.platform.settings import Settings
from server.schedule import feeds

EDITABLE = (CohortStatus.DRAFT, CohortStatus.ENROLLING)


def schedule_error(exc: ScheduleError) -> BadRequest:
    """A refused plan or change as the platform's 400, with the message per field."""
    fields = {field: " ".join(messages) for field, messages in exc.by_field().items()}
    return BadRequest(str(exc), fields=fields, code="schedule_refused")


# --- protocol templates ---------------------------------------------------------------------


async def ensure_builtin_templates() -> None:
    """The shipped formats exist as rows, as published (idempotent; run on first use).

    Shipped rows cannot be edited, so a row that differs from its JSON is from an older
    release (such as the WHO late-join cutoff, 3 before it followed the initial phase) and
    is brought up to date."""
    existing = {row.slug: row for row in await TemplateRow.filter(is_builtin=True)}
    for template in shipped_templates().values():
        values = template_row_values(template)
        row = existing.get(template.key)
        if row is None:
            await TemplateRow.create(is_builtin=True, **values)
        elif any(getattr(row, name) != value for name, value in values.items()):
            await TemplateRow.filter(id=row.id).update(**values)


def template_row_values(t: ProtocolTemplate) -> dict[str, Any]:
    return {
        "slug": t.key,
        "name": t.name,
        "n_pregroup_individual": t.pre_group_meetings,
        "n_group_sessions": t.group_sessions,
        "session_minutes": t.session_minutes,
        "individual_minutes": t.individual_minutes,
        "cadence_days": t.cadence_days,
        "phases": [{"name": p.phase.value, "first": p.first, "last": p.last} for p in t.phases],
        "mid_individual_after_session": t.mid_group_after_session,
        "post_individual_within_days": t.post_group_within_days,
        "group_size_min": t.group_size.minimum,
        "group_size_target_low": t.group_size.target_low,
        "group_size_target_high": t.group_size.target_high,
        "group_size_max": t.group_size.maximum,
        "facilitator_count": t.facilitator_count,
        "late_join_cutoff_session": t.late_join_cutoff_session,
        "problem_area_labels": t.label_style.value,
        "grief_enabled": t.grief_enabled,
        "homework_enabled": t.homework,
        "consent_required": t.consent_required,
        "measures_schedule": t.measures_schedule,
    }


def template_from_row(row: TemplateRow) -> ProtocolTemplate:
    shipped = shipped_templates().get(row.slug) if row.is_builtin else None
    areas = tuple(a for a in ProblemArea if row.grief_enabled or a is not ProblemArea.GRIEF)
    measures = tuple(
        (str(name), tokens if isinstance(tokens, str) else ",".join(str(t) for t in tokens))
        for name, tokens in dict(row.measures_schedule or {}).items()
    )
    try:
        return ProtocolTemplate(
            key=row.slug,
            name=row.name,
            pre_group_meetings=row.n_pregroup_individual,
            group_sessions=row.n_group_sessions,
            session_minutes=row.session_minutes,
            individual_minutes=row.individual_minutes,
            cadence_days=row.cadence_days,
            phases=_phase_ranges(row.phases),
            mid_group_after_session=row.mid_individual_after_session,
            post_group_within_days=row.post_individual_within_days,
            group_size=GroupSize(
                minimum=row.group_size_min,
                target_low=row.group_size_target_low,
                target_high=row.group_size_target_high,
                maximum=row.group_size_max,
            ),
            facilitator_count=row.facilitator_count,
            composition=shipped.composition if shipped else CompositionRule.ANY,
            late_join_cutoff_session=row.late_join_cutoff_session,
            problem_areas=areas,
            label_style=LabelStyle(row.problem_area_labels),
            homework=row.homework_enabled,
            consent_required=row.consent_required,
            measures=measures,
            description=shipped.description if shipped else "",
            sources=shipped.sources if shipped else (),
            notes=shipped.notes if shipped else (),
        )
    except (TemplateError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, TemplateError):
            raise schedule_error(exc) from None
        raise BadRequest(f"The protocol template '{row.name}' is malformed: {exc}") from None


def _phase_ranges(raw: Any) -> tuple[PhaseRange, ...]:
    return tuple(
        PhaseRange(phase=Phase(p.get("name") or p.get("phase")), first=int(p["first"]), last=int(p["last"]))
        for p in (raw or [])
    )


async def template_rows() -> list[TemplateRow]:
    await ensure_builtin_templates()
    return await TemplateRow.all().order_by("-is_builtin", "id")


async def template_row(template_id: int | str) -> TemplateRow:
    try:
        number = int(template_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such protocol template.") from None
    row = await TemplateRow.get_or_none(id=number) if 0 < number < 2**31 else None
    if row is None:
        raise NotFound("There is no such protocol template.")
    return row


async def save_template(template: ProtocolTemplate, *, by: User, row: TemplateRow | None = None) -> TemplateRow:
    values = template_row_values(template)
    if row is not None and row.is_builtin:
        raise Conflict("Shipped protocols stay as published; make a copy to change it.")
    clash = TemplateRow.filter(slug=values["slug"])
    if row is not None:
        clash = clash.exclude(id=row.id)
    if await clash.exists():
        raise BadRequest("Another protocol already uses that short name.", fields={"key": "Choose another short name."})
    if row is None:
        return await TemplateRow.create(created_by=by, **values)
    await TemplateRow.filter(id=row.id).update(**values)
    return await TemplateRow.get(id=row.id)


# --- cohort input -----------------------------------------------------------------------------


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
    if video_link and not video_link.startswith(("https://", "http://")):
        problems["video_link"] = "Give a full https:// address."
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


def _require_confirmed_public_words(values: CohortInput) -> PublicWordsWarning:
    """A clinical word in a public field is kept only when the coordinator confirms it."""
    warning = check_public_fields({name: getattr(values, name) for name in PUBLIC_FIELDS})
    if warning and not values.confirm_public_words:
        fields = {name: "Contains " + ", ".join(repr(w) for w in words) + "." for name, words in warning.found.items()}
        fields["confirm_public_words"] = "Tick to keep these words in every member's calendar."
        raise BadRequest(warning.message(PUBLIC_FIELDS), fields=fields, code="clinical_words")
    return warning


async def _record_kept_words(by: User, cohort_id: int, warning: PublicWordsWarning) -> None:
    if warning:
        kept = "; ".join(f"{name}: {', '.join(words)}" for name, words in warning.found.items())
        await audit.record(by, "change", "cohort", cohort_id, detail=f"kept clinical words in public fields ({kept})"[:255])


async def _facilitators(ids: Iterable[int]) -> list[User]:
    ids = list(ids)
    users = await User.filter(id__in=ids, role=Role.FACILITATOR, is_active=True)
    if len(users) != len(set(ids)):
        raise BadRequest("Choose facilitators from the list.", fields={"facilitators": "Unknown facilitator."})
    order = {uid: i for i, uid in enumerate(ids)}
    return sorted(users, key=lambda u: order[u.id])


def _spec(template: ProtocolTemplate, values: CohortInput, facilitators: Sequence[User]) -> CohortSpec:
    return CohortSpec(
        template=template,
        time_zone=values.time_zone,
        start_date=values.start_date,
        start_time=values.start_time,
        weekday=values.weekday,
        group_sessions=values.group_sessions,
        initial_sessions=values.initial_sessions,
        termination_sessions=values.termination_sessions,
        session_minutes=values.session_minutes,
        skip_dates=values.skip_dates,
        capacity=values.capacity,
        facilitators=tuple(Facilitator(id=str(u.id), name=u.display_name) for u in facilitators),
    )


async def preview(values: CohortInput, *, now: datetime, cohort: Cohort | None = None) -> SchedulePlan:
    """The plan a create or edit would make (no members yet), or BadRequest."""
    row = await template_row(values.template_id)
    facilitators = await _facilitators(values.facilitator_ids)
    busy = await busy_time([u.id for u in facilitators], now=now, exclude_cohort=cohort.id if cohort else None)
    try:
        return plan_meetings(spec=_spec(template_from_row(row), values, facilitators), now=now, busy=busy)
    except ScheduleError as exc:
        raise schedule_error(exc) from None


def _cohort_values(values: CohortInput, plan: SchedulePlan) -> dict[str, Any]:
    protocol = plan.protocol
    return {
        "name": values.name,
        "public_title": values.public_title,
        "template_id": values.template_id,
        "time_zone": values.time_zone,
        "weekday": values.weekday,
        "local_start_time": values.start_time.strftime("%H:%M"),
        "duration_minutes": protocol.session_minutes,
        "n_group_sessions": protocol.group_sessions,
        "phases": [{"name": p.phase.value, "first": p.first, "last": p.last} for p in protocol.phases],
        "start_date": values.start_date,
        "skip_dates": sorted(d.isoformat() for d in values.skip_dates),
        "capacity": values.capacity,
        "location": values.location,
        "video_link": values.video_link,
    }


async def create_cohort(values: CohortInput, *, by: User, now: datetime) -> Cohort:
    plan = await preview(values, now=now)
    kept = _require_confirmed_public_words(values)
    facilitators = await _facilitators(values.facilitator_ids)
    async with in_transaction():
        cohort = await Cohort.create(status=CohortStatus.DRAFT, **_cohort_values(values, plan))
        if facilitators:
            await cohort.facilitators.add(*facilitators)
    await audit.record(by, "change", "cohort", cohort.id, detail="created as draft")
    await _record_kept_words(by, cohort.id, kept)
    return cohort


async def update_draft(cohort: Cohort, values: CohortInput, *, by: User, now: datetime) -> Cohort:
    if cohort.status not in EDITABLE or await Meeting.filter(cohort_id=cohort.id).exists():
        raise Conflict("Only a draft or enrolling cohort without meetings can be edited; change single meetings instead.")
    plan = await preview(values, now=now, cohort=cohort)
    kept = _require_confirmed_public_words(values)
    facilitators = await _facilitators(values.facilitator_ids)
    async with in_transaction():
        await Cohort.filter(id=cohort.id).update(**_cohort_values(values, plan))
        await cohort.facilitators.clear()
        if facilitators:
            await cohort.facilitators.add(*facilitators)
    await audit.record(by, "change", "cohort", cohort.id, detail="draft edited")
    await _record_kept_words(by, cohort.id, kept)
    return await Cohort.get(id=cohort.id).select_related("template")


def input_from_cohort(cohort: Cohort, facilitator_ids: Sequence[int]) -> CohortInput:
    phases = _phase_ranges(cohort.phases)
    return CohortInput(
        name=cohort.name,
        public_title=cohort.public_title,
        template_id=cohort.template_id,
        time_zone=cohort.time_zone,
        start_date=cohort.start_date,
        weekday=cohort.weekday,
        start_time=time.fromisoformat(cohort.local_start_time),
        session_minutes=cohort.duration_minutes,
        group_sessions=cohort.n_group_sessions,
        initial_sessions=phases[0].sessions if phases else None,
        termination_sessions=phases[-1].sessions if phases else None,
        skip_dates=skip_dates_of(cohort),
        capacity=cohort.capacity,
        location=cohort.location,
        video_link=cohort.video_link,
        facilitator_ids=tuple(facilitator_ids),
    )


def skip_dates_of(cohort: Cohort) -> frozenset[date]:
    return frozenset(date.fromisoformat(str(d)) for d in (cohort.skip_dates or []))


async def cohort_spec(cohort: Cohort) -> CohortSpec:
    facilitators = await cohort.facilitators.all().order_by("id")
    template = await TemplateRow.get(id=cohort.template_id)
    values = input_from_cohort(cohort, [u.id for u in facilitators])
    return _spec(template_from_row(template), values, facilitators)


async def set_status(cohort: Cohort, status: CohortStatus, *, by: User) -> None:
    allowed = {
        CohortStatus.ENROLLING: {CohortStatus.DRAFT},
        CohortStatus.CANCELLED: {CohortStatus.DRAFT, CohortStatus.ENROLLING},
    }
    if cohort.status not in allowed.get(status, set()):
        raise Conflict(f"A {cohort.status.value} cohort cannot become {status.value}.")
    await Cohort.filter(id=cohort.id).update(status=status)
    await audit.record(by, "change", "cohort", cohort.id, detail=f"status {status.value}")


async def activate(cohort: Cohort, *, by: User, now: datetime, override_reason: str = "") -> list[Meeting]:
    """Create the cohort's meetings: numbered group sessions and each enrolled member's
    individual meetings. The cohort becomes active.

    The cohort must fit its protocol's group size bounds and facilitator count; a
    coordinator may go ahead outside them with a reason, which is stored with what the
    checks said, audited and shown on the cohort page."""
    reason = (override_reason or "").strip()
    if len(reason) > 500:
        raise BadRequest("The reason is too long (500 characters at most).", fields={"override_reason": "Too long."})
    async with in_transaction():
        locked = await Cohort.select_for_update().get(id=cohort.id)
        if locked.status not in EDITABLE:
            raise Conflict(f"The cohort is {locked.status.value}; only a draft or enrolling cohort can be activated.")
        if await Meeting.filter(cohort_id=cohort.id).exists():
            raise Conflict("This cohort already has meetings.")
        spec = await cohort_spec(locked)
        if not spec.facilitators:
            raise BadRequest("Assign a facilitator before activating.", fields={"facilitators": "Required."})
        enrollments = await Enrollment.filter(cohort_id=cohort.id, status=EnrollmentStatus.ENROLLED).order_by("id")
        problems = spec.protocol().activation_problems(members=len(enrollments), facilitators=len(spec.facilitators))
        if problems and not reason:
            raise Conflict(
                "This cohort does not fit its protocol: " + " ".join(problems.values())
                + " Change it first, or give a reason to activate it anyway.",
                fields={**problems, "override_reason": "A reason is needed to activate outside the protocol."},
                code="protocol_checks",
            )
        busy = await busy_time([int(f) for f in spec.facilitator_ids], now=now, exclude_cohort=cohort.id)
        try:
            plan = plan_meetings(spec=spec, now=now, members=[str(e.id) for e in enrollments], busy=busy)
        except ScheduleError as exc:
            raise schedule_error(exc) from None
        rows = [await Meeting.create(**_row_values(cohort.id, m, location=locked.location, now=now)) for m in plan.meetings]
        override = {}
        if problems:
            override = {"activation_override_reason": reason, "activation_override_problems": list(problems.values()),
                        "activation_override_by_id": by.id, "activation_override_at": now}
        await Cohort.filter(id=cohort.id).update(status=CohortStatus.ACTIVE, **override)
    feeds.schedule_changed()
    await audit.record(by, "change", "cohort", cohort.id, detail=f"activated with {len(rows)} meetings")
    if problems:
        await audit.record(by, "change", "cohort", cohort.id,
                           detail=f"activated outside the protocol: {' '.join(problems.values())} Reason: {reason}"[:255])
    return rows


async def add_member_meetings(enrollment: Enrollment, *, now: datetime, by: User | None = None) -> list[Meeting]:
    """Individual meetings for a member enrolled after activation (late join up to the
    template's cutoff). For the enrollment area to call when a member is enrolled."""
    async with in_transaction():
        cohort = await Cohort.select_for_update().get(id=enrollment.cohort_id)
        if cohort.status != CohortStatus.ACTIVE:
            return []
        if await Meeting.filter(enrollment_id=enrollment.id).exclude(status=RowStatus.CANCELLED).exists():
            return []
        spec = await cohort_spec(cohort)
        stored = await stored_meetings(cohort)
        taken = [m for m in stored if m.is_active]
        index = await Enrollment.filter(cohort_id=cohort.id, id__lt=enrollment.id).count()
        facilitator = spec.facilitator_ids[index % len(spec.facilitator_ids)] if spec.facilitator_ids else None
        busy = await busy_time([int(f) for f in spec.facilitator_ids], now=now, exclude_cohort=cohort.id)
        groups = [m for m in stored if m.is_group]
        try:
            planned = member_meetings(
                spec=spec, protocol=spec.protocol(), group_sessions=groups, member=str(enrollment.id),
                taken=taken, busy=busy, now=now, late_join=any(m.start <= now for m in groups if m.is_active),
                facilitator=facilitator,
            )
        except ScheduleError as exc:
            raise schedule_error(exc) from None
        rows = [await Meeting.create(**_row_values(cohort.id, m, location=cohort.location, now=now)) for m in planned]
    feeds.schedule_changed()
    if by is not None:
        await audit.record(by, "change", "cohort", cohort.id, detail=f"{len(rows)} individual meetings for a new member")
    return rows


def _row_values(cohort_id: int, m: PlannedMeeting, *, location: str, now: datetime, replaces_id: int | None = None) -> dict[str, Any]:
    return {
        "cohort_id": cohort_id,
        "kind": RowKind(m.kind.value),
        "number": m.number,
        "phase": m.phase.value,
        "enrollment_id": int(m.member) if m.member else None,
        "facilitator_id": int(m.facilitators[0]) if m.member and m.facilitators else None,
        "starts_at": m.start_utc,
        "ends_at": m.end_utc,
        "status": RowStatus(m.status.value),
        "replaces_id": replaces_id,
        "location": location,
        "uid": m.uid or str(uuid.uuid4()),
        "sequence": m.sequence,
        "revised_at": m.revised_at or now,
    }


# --- stored meetings as plain values ------------------------------------------------------------


async def stored_meetings(cohort: Cohort) -> list[PlannedMeeting]:
    rows = await Meeting.filter(cohort_id=cohort.id).order_by("starts_at", "id")
    facilitator_ids = tuple(str(u) for u in await cohort.facilitators.all().order_by("id").values_list("id", flat=True))
    template = await TemplateRow.get(id=cohort.template_id)
    return meeting_values(cohort, rows, facilitator_ids=facilitator_ids, pre_group_meetings=template.n_pregroup_individual)


def meeting_values(
    cohort: Cohort, rows: Sequence[Meeting], *, facilitator_ids: tuple[str, ...], pre_group_meetings: int
) -> list[PlannedMeeting]:
    zone = load_zone(cohort.time_zone)
    group_wall = time.fromisoformat(cohort.local_start_time)
    uids = {row.id: row.uid for row in rows}
    values = []
    for row in rows:
        start = row.starts_at.astimezone(zone)
        end = row.ends_at.astimezone(zone)
        kind = MeetingKind(RowKind(row.kind).value)
        wall = start.timetz().replace(tzinfo=None)
        if kind is MeetingKind.GROUP and local_start(start.date(), group_wall, zone).start == start:
            wall = group_wall  # the cohort's time, even where DST moved this one (wallclock.py)
        of = cohort.n_group_sessions if kind is MeetingKind.GROUP else (pre_group_meetings if kind is MeetingKind.PRE_GROUP else 1)
        values.append(
            PlannedMeeting(
                key=f"id:{row.id}",
                kind=kind,
                number=row.number,
                of=max(of, 1),
                phase=Phase(row.phase) if row.phase in Phase._value2member_map_ else Phase.MIDDLE,
                start=start,
                end=end,
                wall_time=wall,
                minutes=max(1, int((row.ends_at - row.starts_at).total_seconds() // 60)),
                member=str(row.enrollment_id) if row.enrollment_id else None,
                facilitators=(str(row.facilitator_id),) if row.facilitator_id else (() if row.enrollment_id else facilitator_ids),
                status=MeetingStatus(RowStatus(row.status).value),
                uid=row.uid,
                sequence=row.sequence,
                revised_at=row.revised_at,
                makeup_for=uids.get(row.replaces_id) if row.replaces_id else None,
            )
        )
    return values


async def busy_time(facilitator_ids: Sequence[int], *, now: datetime, exclude_cohort: int | None) -> list[Busy]:
    """Upcoming meetings the facilitators lead in other cohorts."""
    if not facilitator_ids:
        return []
    busy: list[Busy] = []
    cohorts = await Cohort.filter(facilitators__id__in=list(facilitator_ids)).prefetch_related("facilitators").distinct()
    for other in cohorts:
        if other.id == exclude_cohort:
            continue
        leads = [u.id for u in other.facilitators if u.id in facilitator_ids]
        rows = await Meeting.filter(cohort_id=other.id, ends_at__gt=now, status=RowStatus.SCHEDULED)
        for row in rows:
            people = [row.facilitator_id] if row.enrollment_id else leads
            for person in people:
                if person in facilitator_ids:
                    busy.append(Busy(facilitator=str(person), start=row.starts_at, end=row.ends_at,
                                     label=f"meeting in {other.name}"))
    return busy


# --- changes ---------------------------------------------------------------------------------------


async def meeting_row(meeting_id: int | str) -> Meeting:
    try:
        number = int(meeting_id)
    except (TypeError, ValueError):
        raise NotFound("There is no such meeting.") from None
    row = await Meeting.get_or_none(id=number).select_related("cohort") if 0 < number < 2**31 else None
    if row is None:
        raise NotFound("There is no such meeting.")
    return row


@dataclass(frozen=True, kw_only=True)
class Applied:
    cohort: Cohort
    changed: list[Meeting]
    added: list[Meeting]
    warnings: tuple[str, ...] = ()
    notified: int = 0


async def _apply(
    cohort: Cohort, operation, *, by: User, now: datetime, what: str, settings: Settings | None
) -> Applied:
    """Run a pure change under the cohort's lock and store its result."""
    async with in_transaction():
        locked = await Cohort.select_for_update().get(id=cohort.id)
        if locked.status != CohortStatus.ACTIVE:
            raise Conflict(f"The cohort is {locked.status.value}; meetings change only while it is active.")
        spec = await cohort_spec(locked)
        meetings = await stored_meetings(locked)
        before = {m.uid: m for m in meetings}
        busy = await busy_time([int(f) for f in spec.facilitator_ids], now=now, exclude_cohort=locked.id)
        try:
            result: ChangeResult = operation(meetings=meetings, spec=spec, busy=busy, names=spec.facilitator_names)
        except ScheduleError as exc:
            raise schedule_error(exc) from None
        changed = []
        for m in result.changed:
            await Meeting.filter(uid=m.uid).update(
                starts_at=m.start_utc, ends_at=m.end_utc, status=RowStatus(m.status.value),
                sequence=m.sequence, revised_at=m.revised_at,
            )
            changed.append(await Meeting.get(uid=m.uid))
        added = []
        for m in result.added:
            original = await Meeting.get_or_none(uid=m.makeup_for) if m.makeup_for else None
            added.append(await Meeting.create(**_row_values(
                locked.id, m, location=original.location if original else locked.location, now=now,
                replaces_id=original.id if original else None,
            )))
        if result.skip_dates:
            await Cohort.filter(id=locked.id).update(skip_dates=sorted(d.isoformat() for d in result.skip_dates))
    feeds.schedule_changed()
    await audit.record(by, "change", "schedule", locked.id, detail=what[:255])
    notified = await mailer.notify_changes(
        cohort=locked, before=before, after=[*result.changed, *result.added], now=now, settings=settings,
    )
    return Applied(cohort=locked, changed=changed, added=added, warnings=result.warnings, notified=notified)


def _make_up(data: Mapping[str, Any], *, required: bool) -> MakeUp | None:
    raw_day = str(data.get("make_up_date") or "").strip()
    raw_time = str(data.get("make_up_time") or "").strip()
    if not raw_day and not raw_time and not required:
        return None
    fields = {}
    try:
        day = date.fromisoformat(raw_day)
    except ValueError:
        fields["make_up_date"] = "Give the make-up date like 2027-02-04."
    try:
        wall = time.fromisoformat(raw_time)
    except ValueError:
        fields["make_up_time"] = "Give the make-up time like 18:00."
    if fields:
        raise BadRequest("The make-up session needs a date and a time.", fields=fields)
    return MakeUp(day=day, wall_time=wall.replace(tzinfo=None), uid=str(uuid.uuid4()))


def _day_and_time(data: Mapping[str, Any]) -> tuple[date, time]:
    fields = {}
    try:
        day = date.fromisoformat(str(data.get("date") or "").strip())
    except ValueError:
        fields["date"] = "Give a date like 2027-02-04."
    try:
        wall = time.fromisoformat(str(data.get("time") or "").strip())
    except ValueError:
        fields["time"] = "Give a time like 18:00."
    if fields:
        raise BadRequest("Give the new date and time.", fields=fields)
    return day, wall.replace(tzinfo=None)


async def reschedule_meeting(
    row: Meeting, data: Mapping[str, Any], *, by: User, now: datetime, settings: Settings | None = None
) -> Applied:
    day, wall = _day_and_time(data)
    return await _apply(
        row.cohort,
        lambda meetings, spec, busy, names: reschedule(
            meetings=meetings, uid=row.uid, day=day, wall_time=wall, now=now, busy=busy, names=names
        ),
        by=by, now=now, what=f"meeting {row.id} moved to {day} {wall:%H:%M}", settings=settings,
    )


async def cancel_meeting(
    row: Meeting, data: Mapping[str, Any], *, by: User, now: datetime, settings: Settings | None = None
) -> Applied:
    if str(data.get("confirm") or "").lower() not in {"yes", "true", "1", "on"}:
        raise BadRequest("Confirm the cancellation: people will be told.", fields={"confirm": "Tick to confirm."})
    make_up = _make_up(data, required=False)
    return await _apply(
        row.cohort,
        lambda meetings, spec, busy, names: cancel(
            meetings=meetings, uid=row.uid, now=now, make_up=make_up, busy=busy, names=names
        ),
        by=by, now=now, what=f"meeting {row.id} cancelled" + (" with a make-up" if make_up else ""), settings=settings,
    )


async def make_up_meeting(
    row: Meeting, data: Mapping[str, Any], *, by: User, now: datetime, settings: Settings | None = None
) -> Applied:
    make_up = _make_up(data, required=True)
    assert make_up is not None
    return await _apply(
        row.cohort,
        lambda meetings, spec, busy, names: schedule_make_up(
            meetings=meetings, uid=row.uid, make_up=make_up, now=now, busy=busy, names=names
        ),
        by=by, now=now, what=f"make-up for meeting {row.id}", settings=settings,
    )


async def shift_cohort(
    cohort: Cohort, data: Mapping[str, Any], *, by: User, now: datetime, settings: Settings | None = None
) -> Applied:
    fields = {}
    try:
        cadences = int(str(data.get("cadences") or "").strip())
    except ValueError:
        fields["cadences"] = "How many cadences (weeks) later, such as 1."
        cadences = 0
    raw_from = str(data.get("from_session") or "").strip()
    from_session = None
    if raw_from:
        try:
            from_session = int(raw_from)
        except ValueError:
            fields["from_session"] = "A session number."
    if fields:
        raise BadRequest("Check the shift.", fields=fields)
    return await _apply(
        cohort,
        lambda meetings, spec, busy, names: shift_remaining(
            meetings=meetings, now=now, cadence_days=spec.protocol().cadence_days, skip_dates=spec.skip_dates,
            from_session=from_session, cadences=cadences, busy=busy, names=names,
        ),
        by=by, now=now, what=f"remaining meetings shifted by {cadences} cadence(s)", settings=settings,
    )


async def add_cohort_skip_dates(
    cohort: Cohort, data: Mapping[str, Any], *, by: User, now: datetime, settings: Settings | None = None
) -> Applied:
    raw = data.get("dates") or data.get("skip_dates") or ""
    parts = raw if isinstance(raw, list) else str(raw).replace(",", " ").split()
    dates = set()
    for part in parts:
        try:
            dates.add(date.fromisoformat(str(part).strip()))
        except ValueError:
            raise BadRequest(f"'{part}' is not a date like 2027-02-09.", fields={"dates": "Dates like 2027-02-09."}) from None
    if not dates or len(dates) > 52:
        raise BadRequest("Give one to 52 skip dates.", fields={"dates": "Required."})
    return await _apply(
        cohort,
        lambda meetings, spec, busy, names: add_skip_dates(
            meetings=meetings, dates=dates, skip_dates=spec.skip_dates, cadence_days=spec.protocol().cadence_days,
            now=now, busy=busy, names=names,
        ),
        by=by, now=now, what="skip dates " + ", ".join(sorted(d.isoformat() for d in dates)), settings=settings,
    )


def upcoming_window(now: datetime) -> tuple[datetime, datetime]:
    return now, now + timedelta(hours=48)
