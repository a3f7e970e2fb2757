"""Opening a safety item: a PHQ-9 item 9 answer above 0, or a disclosure in session.

The item and its home-page notices are written in the caller's transaction; the e-mails go
after it commits (`announce`), so a mail problem never loses the answer. Who is told, and
the escalations, are in server/measures/safety_alerts.py.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from models.accounts import Role, User
from models.clinical import MeasureResponse, SafetyItem, SafetyItemStatus, SafetyNoticeKind, SafetySource
from models.cohorts import Cohort, Enrollment, EnrollmentStatus, Meeting, MeetingKind, MeetingStatus
from server import clock
from server.accounts import audit
from server.errors import BadRequest, Conflict, Forbidden
from server.measures import safety_alerts
from server.measures.safety._entry import MAX_TEXT, _parse_when, says_something
from server.platform.settings import Settings


log = logging.getLogger("groupipt.safety")


async def next_group_meeting(cohort_id: int, after: datetime) -> Meeting | None:
    return (
        await Meeting.filter(cohort_id=cohort_id, kind=MeetingKind.GROUP, ends_at__gt=after)
        .exclude(status=MeetingStatus.CANCELLED)
        .order_by("starts_at", "id")
        .first()
    )


def alert_settings() -> Settings:
    """The running server's settings (set by its lifespan), else the environment's."""
    if _configured is not None:
        return _configured
    # Scripts and tests in-process: mail needs no signing key, so none is generated for it.
    env = {**os.environ, "GROUPIPT_SECRET_KEY": os.environ.get("GROUPIPT_SECRET_KEY") or "unused-by-mail"}
    return Settings.from_env(env)


_configured: Settings | None = None


def configure(settings: Settings) -> None:
    global _configured
    _configured = settings


async def _open(enrollment: Enrollment, *, now: datetime, source: SafetySource, raised_at: datetime,
                response: MeasureResponse | None = None, item9: int | None = None, note: str = "",
                opened_by: User | None = None, meeting: Meeting | None = None) -> SafetyItem:
    """Create the item and its home-page notices; call inside the caller's transaction."""
    cohort = await Cohort.get(id=enrollment.cohort_id)
    recipients = await safety_alerts.responsible_for(cohort, now)
    target = timedelta(hours=alert_settings().safety_response_hours)
    item = await SafetyItem.create(
        enrollment_id=enrollment.id, response=response, item9=item9, source=source, raised_at=raised_at,
        disclosure_note=note, opened_by=opened_by, meeting=meeting or await next_group_meeting(cohort.id, now),
        status=SafetyItemStatus.OPEN, due_at=now + target, routed_to=recipients.routed_to,
    )
    item.opened_at = item.opened_at or now
    item.enrollment = enrollment
    item.pending_notices = await safety_alerts.record_notices(item, recipients.people, SafetyNoticeKind.OPENED)
    return item


async def open_for_response(response: MeasureResponse, enrollment: Enrollment, now: datetime) -> SafetyItem | None:
    """Called inside the submission's transaction; `announce` after it commits."""
    if not response.item9:
        return None
    return await _open(enrollment, now=now, source=SafetySource.ANSWER, raised_at=response.administered_at,
                       response=response, item9=response.item9)


async def announce(item: SafetyItem | None, *, now: datetime) -> None:
    """After the commit: e-mail the people told. A failure is logged, never raised, so the
    answer that opened the item is never lost to a mail problem."""
    if item is None:
        return
    try:
        await safety_alerts.send_notices(item, getattr(item, "pending_notices", []), now=now,
                                         settings=alert_settings(), wait=False)
    except Exception:
        log.exception("safety item %s: notices could not be sent", item.id)


async def record_disclosure(viewer: User, enrollment: Enrollment, form: Mapping[str, object], *,
                            now: datetime | None = None) -> SafetyItem:
    """A clinician (or any of the member's staff) opens an item from something said in session."""
    now = now or clock.now()
    if viewer.role == Role.MEMBER:
        raise Forbidden("Members cannot open safety items.")
    zone = _zone(enrollment.cohort.time_zone)
    errors: dict[str, str] = {}
    note = str(form.get("note") or "").strip()
    if not says_something(note):
        errors["note"] = "Say briefly what was disclosed and in what context."
    elif len(note) > MAX_TEXT:
        errors["note"] = f"{MAX_TEXT} characters at most."
    disclosed_at = _parse_when(form.get("disclosed_at"), now=now, zone=zone, errors=errors, field="disclosed_at")
    if errors:
        raise BadRequest("The disclosure is incomplete: " + "; ".join(errors.values()), fields=errors)
    if enrollment.status not in (EnrollmentStatus.SCREENING, EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED,
                                 EnrollmentStatus.INVITED, EnrollmentStatus.COMPLETED):
        raise Conflict(f"This enrollment is {enrollment.status.value}; record the disclosure on the member's current one.")
    async with in_transaction():
        item = await _open(enrollment, now=now, source=SafetySource.DISCLOSURE, raised_at=disclosed_at,
                           note=note, opened_by=viewer)
        await audit.record(viewer, "change", "safety_item", item.id, member=enrollment.member_id,
                           detail="opened from a disclosure")
    await announce(item, now=now)
    return item


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception:
        return ZoneInfo("UTC")
