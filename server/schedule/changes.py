"""Changes to an active cohort schedule: reschedule, cancel, make up, shift, skip dates.

Every change bumps the meeting SEQUENCE and revision time, runs in one transaction under the
cohort row lock, and then tells the people affected (platform.mailer) when the meeting is within
the next 48 hours.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from calendars import (
    ChangeResult,
    MakeUp,
    MeetingStatus,
    add_skip_dates,
    cancel,
    reschedule,
    schedule_make_up,
    shift_remaining,
)
from models.accounts import User
from models.cohorts import Cohort, CohortStatus, Meeting
from server.accounts import audit
from server.errors import BadRequest, Conflict, NotFound
from server.platform import mailer
from server.platform.settings import Settings
from server.schedule import feeds, notices
from server.schedule.cohorts import (
    busy_time,
    cohort_spec,
    meeting_row_values,
    stored_meetings,
)

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
    notices: str = "0"


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
        result: ChangeResult = operation(meetings=meetings, spec=spec, busy=busy, names=spec.facilitator_names)
        changed = []
        for m in result.changed:
            await Meeting.filter(uid=m.uid).update(
                starts_at=m.start_utc, ends_at=m.end_utc, status=m.status,
                sequence=m.sequence, revised_at=m.revised_at,
            )
            changed.append(await Meeting.get(uid=m.uid))
        added = []
        for m in result.added:
            original = await Meeting.get_or_none(uid=m.makeup_for) if m.makeup_for else None
            added.append(await Meeting.create(**meeting_row_values(
                locked.id, m, location=original.location if original else locked.location, now=now,
                replaces_id=original.id if original else None,
            )))
        if result.skip_dates:
            await Cohort.filter(id=locked.id).update(skip_dates=sorted(d.isoformat() for d in result.skip_dates))
    feeds.schedule_changed()
    await audit.record(by, "change", "schedule", locked.id, detail=what[:255])
    mark = await notices.last_id()
    notified = await mailer.notify_changes(
        cohort=locked, before=before, after=[*result.changed, *result.added], now=now, settings=settings,
    )
    made = notices.as_param(await notices.made_since(mark, count=notified))
    return Applied(cohort=locked, changed=changed, added=added, warnings=result.warnings, notified=notified,
                   notices=made)


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
