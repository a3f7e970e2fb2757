"""Cohorts over the database: preview, create and edit a draft, activate, and the stored
meetings as calendars values. The rules themselves live in calendars (pure).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any

from tortoise.transactions import in_transaction

from calendars import (
    Busy,
    CohortSpec,
    Facilitator,
    MeetingKind,
    MeetingStatus,
    Phase,
    PlannedMeeting,
    ProtocolTemplate,
    SchedulePlan,
    local_start,
    member_meetings,
    plan_meetings,
)
from calendars.discretion import PublicWordsWarning
from calendars.wallclock import load_zone
from models.accounts import Role, User
from models.cohorts import Cohort, CohortStatus, Enrollment, EnrollmentStatus, Meeting
from models.cohorts import ProtocolTemplate as TemplateRow
from server.accounts import audit
from server.errors import BadRequest, Conflict
from server.schedule import feeds
from server.schedule.cohort_input import CohortInput, require_confirmed_public_words
from server.schedule.templates import (
    phase_ranges,
    template_from_row,
    template_row,
)

EDITABLE = (CohortStatus.DRAFT, CohortStatus.ENROLLING)


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
    """The plan a create or edit would make (no members yet); a PlanError says why not."""
    row = await template_row(values.template_id)
    facilitators = await _facilitators(values.facilitator_ids)
    busy = await busy_time([u.id for u in facilitators], now=now, exclude_cohort=cohort.id if cohort else None)
    return plan_meetings(spec=_spec(template_from_row(row), values, facilitators), now=now, busy=busy)


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
    kept = require_confirmed_public_words(values)
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
    kept = require_confirmed_public_words(values)
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
    phases = phase_ranges(cohort.phases)
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
        enrollments = await Enrollment.filter(cohort_id=cohort.id, status=EnrollmentStatus.ENROLLED,
                                              member__restricted_at=None).order_by("id")
        problems = spec.protocol().activation_problems(members=len(enrollments), facilitators=len(spec.facilitators))
        if problems and not reason:
            raise Conflict(
                "This cohort does not fit its protocol: " + " ".join(problems.values())
                + " Change it first, or give a reason to activate it anyway.",
                fields={**problems, "override_reason": "A reason is needed to activate outside the protocol."},
                code="protocol_checks",
            )
        busy = await busy_time([int(f) for f in spec.facilitator_ids], now=now, exclude_cohort=cohort.id)
        plan = plan_meetings(spec=spec, now=now, members=[str(e.id) for e in enrollments], busy=busy)
        rows = [await Meeting.create(**meeting_row_values(cohort.id, m, location=locked.location, now=now)) for m in plan.meetings]
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
        if await Meeting.filter(enrollment_id=enrollment.id).exclude(status=MeetingStatus.CANCELLED).exists():
            return []
        spec = await cohort_spec(cohort)
        stored = await stored_meetings(cohort)
        taken = [m for m in stored if m.is_active]
        index = await Enrollment.filter(cohort_id=cohort.id, id__lt=enrollment.id).count()
        facilitator = spec.facilitator_ids[index % len(spec.facilitator_ids)] if spec.facilitator_ids else None
        busy = await busy_time([int(f) for f in spec.facilitator_ids], now=now, exclude_cohort=cohort.id)
        groups = [m for m in stored if m.is_group]
        planned = member_meetings(
            spec=spec, protocol=spec.protocol(), group_sessions=groups, member=str(enrollment.id),
            taken=taken, busy=busy, now=now, late_join=any(m.start <= now for m in groups if m.is_active),
            facilitator=facilitator,
        )
        rows = [await Meeting.create(**meeting_row_values(cohort.id, m, location=cohort.location, now=now)) for m in planned]
    feeds.schedule_changed()
    if by is not None:
        await audit.record(by, "change", "cohort", cohort.id, detail=f"{len(rows)} individual meetings for a new member")
    return rows


def meeting_row_values(cohort_id: int, m: PlannedMeeting, *, location: str, now: datetime, replaces_id: int | None = None) -> dict[str, Any]:
    return {
        "cohort_id": cohort_id,
        "kind": m.kind,
        "number": m.number,
        "phase": m.phase.value,
        "enrollment_id": int(m.member) if m.member else None,
        "facilitator_id": int(m.facilitators[0]) if m.member and m.facilitators else None,
        "starts_at": m.start_utc,
        "ends_at": m.end_utc,
        "status": m.status,
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
        kind = MeetingKind(row.kind)
        wall = start.timetz().replace(tzinfo=None)
        if kind is MeetingKind.GROUP and local_start(start.date(), group_wall, zone).start == start:
            wall = group_wall  # the cohort's time, even where DST moved this one (wallclock.py)
        of = cohort.n_group_sessions if kind is MeetingKind.GROUP else (pre_group_meetings if kind is MeetingKind.PREGROUP else 1)
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
                status=MeetingStatus(row.status),
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
        rows = await Meeting.filter(cohort_id=other.id, ends_at__gt=now, status=MeetingStatus.SCHEDULED)
        for row in rows:
            people = [row.facilitator_id] if row.enrollment_id else leads
            for person in people:
                if person in facilitator_ids:
                    busy.append(Busy(facilitator=str(person), start=row.starts_at, end=row.ends_at,
                                     label=f"meeting in {other.name}"))
    return busy
