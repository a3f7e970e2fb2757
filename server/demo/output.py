"""What `demo --json` says about each cohort, its next board and its reminders."""
from __future__ import annotations

from datetime import datetime, timedelta

from models.cohorts import Cohort, Enrollment, Meeting, MeetingKind, MeetingStatus
from models.reminders import NotifiedAbsence
from server import reminders
from server.platform.settings import Settings


async def cohort_json(settings: Settings, cohort: Cohort, now: datetime) -> dict:
    cohort = await Cohort.get(id=cohort.id).prefetch_related("template", "facilitators")
    next_group = await Meeting.filter(cohort_id=cohort.id, kind=MeetingKind.GROUP, status=MeetingStatus.SCHEDULED,
                                      starts_at__gte=now).order_by("starts_at").first()
    held = await Meeting.filter(cohort_id=cohort.id, kind=MeetingKind.GROUP, status=MeetingStatus.COMPLETED).count()
    return {
        "id": cohort.id,
        "name": cohort.name,
        "status": cohort.status.value,
        "template": cohort.template.name,
        "n_group_sessions": cohort.n_group_sessions,
        "sessions_held": held,
        "start_date": cohort.start_date.isoformat(),
        "enrolled": await Enrollment.filter(cohort_id=cohort.id, status="enrolled").count(),
        "facilitators": [f.email for f in cohort.facilitators],
        "url": f"{settings.base_url}/cohorts/{cohort.id}",
        "next_group_meeting_id": next_group.id if next_group else None,
    }


async def boards_json(settings: Settings, cohort: Cohort, now: datetime) -> list[dict]:
    meeting = await Meeting.filter(cohort_id=cohort.id, kind=MeetingKind.GROUP, status=MeetingStatus.SCHEDULED,
                                   starts_at__gte=now - timedelta(hours=3)).order_by("starts_at").first()
    if meeting is None:
        return []
    ws_base = "ws" + settings.base_url[len("http"):]
    return [{
        "meeting_id": meeting.id,
        "ws_url": f"{ws_base}/boards/{meeting.id}/ws",
        "display_url": f"{settings.base_url}/boards/{meeting.id}/display",
        "facilitator_url": f"{settings.base_url}/boards/{meeting.id}",
        "number": meeting.number,
        "starts_at": meeting.starts_at.isoformat(),
    }]


async def reminders_json(settings: Settings, cohort: Cohort, now: datetime) -> list[dict]:
    """Each member's reminder for the active cohort's next session, as the sweep will send it;
    one member has already said they can't come (issue 16)."""
    meeting = await Meeting.filter(cohort_id=cohort.id, kind=MeetingKind.GROUP, status=MeetingStatus.SCHEDULED,
                                   starts_at__gt=now).order_by("starts_at").first()
    if meeting is None:
        return []
    enrolled = await Enrollment.filter(cohort_id=cohort.id, status="enrolled").order_by("id")
    if enrolled and not await NotifiedAbsence.filter(meeting_id=meeting.id).exists():
        await NotifiedAbsence.create(meeting_id=meeting.id, enrollment_id=enrolled[-1].id, notified_at=now,
                                     reason="Visiting family that week")
    return [r.as_json() for r in await reminders.reminders_for_meeting(meeting, settings=settings)]
