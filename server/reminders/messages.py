"""What a reminder says, built once for the sweep, the demo and the tests alike.

Minimum necessary, as the calendar feed (domain-ipt.md 9, [S46]): the member's first name,
the cohort's neutral title ("Group session 3 of 12", schedule/feeds.py), the time, the
place or the join link, and the "I can't come" link. Nothing about what the group is for,
no other member's name.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from calendars import MeetingKind, MeetingStatus, meeting_title
from models.accounts import User
from models.cohorts import Cohort, Enrollment, EnrollmentStatus, Meeting
from models.reminders import NotifiedAbsence
from server.platform.settings import Settings
from server.reminders.join import JoinDetails
from server.reminders.links import cant_come_path
from server.reminders.online import join_details_of

# Who a meeting reminds: the cohort's members for a group session; the one member for an
# individual meeting while they are still on their way into (or in) the group.
GROUP_ATTENDEES = (EnrollmentStatus.ENROLLED,)
INDIVIDUAL_ATTENDEES = (EnrollmentStatus.INVITED, EnrollmentStatus.SCREENING, EnrollmentStatus.ENROLLED,
                        EnrollmentStatus.COMPLETED)


@dataclass(frozen=True, kw_only=True)
class Reminder:
    meeting_id: int
    member_id: int
    enrollment_id: int
    to: str
    subject: str
    body: str
    cant_come_url: str

    def as_json(self) -> dict[str, object]:
        return {"meeting_id": self.meeting_id, "to": self.to, "subject": self.subject, "body": self.body,
                "cant_come_url": self.cant_come_url}


def neutral_title(meeting: Meeting, cohort: Cohort, pre_group_meetings: int) -> str:
    kind = MeetingKind(meeting.kind)
    of = cohort.n_group_sessions if kind is MeetingKind.GROUP else (
        pre_group_meetings if kind is MeetingKind.PREGROUP else 1)
    return meeting_title(kind=kind, number=meeting.number, of=of, make_up=meeting.replaces_id is not None,
                         group_label=cohort.public_title or "Group session")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception:
        return ZoneInfo("UTC")


def compose_reminder(*, meeting: Meeting, cohort: Cohort, member: User, enrollment_id: int, title: str,
                     settings: Settings, said_cant_come: bool, join: JoinDetails | None = None) -> Reminder:
    zone = _zone(member.time_zone or cohort.time_zone)
    start = meeting.starts_at.astimezone(zone)
    end = meeting.ends_at.astimezone(zone)
    url = settings.base_url + cant_come_path(settings.secret_key, meeting_id=meeting.id,
                                             enrollment_id=enrollment_id, ends_at=meeting.ends_at)
    where = []
    if join is not None and join.online:
        where.append(f"Join online: {join.video_link}")
        if join.dial_in:
            where.append(f"By phone: {join.dial_in}")
    place = meeting.location or cohort.location
    if place:
        where.append(f"Place: {place}")
    if said_cant_come:
        answer = ("You have told us you can't come. If that has changed, you can say so here:\n"
                  f"{url}")
    else:
        answer = f"If you can't come, please tell us here (you can add a reason if you wish):\n{url}"
    name = member.first_name or "there"
    subject = f"Reminder: {title}, {start:%a %d %b, %H:%M}"
    body = (
        f"Hello {name},\n\n"
        f"A reminder of your appointment:\n\n"
        f"{title}\n{start:%a %d %b %Y}, {start:%H:%M}-{end:%H:%M} ({zone.key})\n"
        + "".join(f"{line}\n" for line in where)
        + f"\n{answer}\n\n"
        f"{settings.organizer_name}\n"
    )
    return Reminder(meeting_id=meeting.id, member_id=member.id, enrollment_id=enrollment_id, to=member.email,
                    subject=subject, body=body, cant_come_url=url)


async def attendees(meeting: Meeting) -> list[Enrollment]:
    """The enrollments (with their member) a meeting reminds, in a stable order."""
    if meeting.kind == MeetingKind.GROUP:
        rows = Enrollment.filter(cohort_id=meeting.cohort_id, status__in=GROUP_ATTENDEES)
    elif meeting.enrollment_id is not None:
        rows = Enrollment.filter(id=meeting.enrollment_id, status__in=INDIVIDUAL_ATTENDEES)
    else:
        return []
    return [e for e in await rows.order_by("id").select_related("member") if e.member.is_active and e.member.restricted_at is None]


async def reminders_for_meeting(meeting: Meeting, *, settings: Settings,
                                only: Sequence[int] | None = None) -> list[Reminder]:
    """Each attendee's reminder for `meeting` (or only those of the given member ids)."""
    if meeting.status != MeetingStatus.SCHEDULED:
        return []
    cohort = await Cohort.get(id=meeting.cohort_id).select_related("template")
    title = neutral_title(meeting, cohort, cohort.template.n_pregroup_individual)
    join = await join_details_of(meeting, cohort)
    absent = set(await NotifiedAbsence.filter(meeting_id=meeting.id, withdrawn_at=None).values_list(
        "enrollment_id", flat=True))
    return [
        compose_reminder(meeting=meeting, cohort=cohort, member=e.member, enrollment_id=e.id, title=title,
                         settings=settings, said_cant_come=e.id in absent, join=join)
        for e in await attendees(meeting) if only is None or e.member_id in only
    ]
