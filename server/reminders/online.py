"""Online cohorts and meetings: where their join details are kept, and changing them.

A cohort's video link is `Cohort.video_link` (the cohort form edits it too); its dial-in text,
and one meeting's own link and dial-in, are `OnlineJoin` rows. A change reaches calendars as
any other change does: the meetings concerned get a new SEQUENCE and revision time (RFC 5545
3.8.7.4), so feeds answer with a new ETag.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from tortoise.expressions import F

from models.cohorts import Cohort, Meeting, MeetingStatus
from models.reminders import OnlineJoin
from server.errors import BadRequest
from server.reminders.join import JoinDetails, check_join_input, join_details


async def join_details_for(meetings: Sequence[Meeting], cohorts: Mapping[int, Cohort]) -> dict[int, JoinDetails]:
    """Each meeting's join details, in one query however many meetings."""
    if not meetings:
        return {}
    rows = await OnlineJoin.filter(cohort_id__in=list(cohorts))
    cohort_rows = {r.cohort_id: r for r in rows if r.meeting_id is None}
    meeting_rows = {r.meeting_id: r for r in rows if r.meeting_id is not None}
    out = {}
    for m in meetings:
        cohort = cohorts[m.cohort_id]
        own, shared = meeting_rows.get(m.id), cohort_rows.get(m.cohort_id)
        out[m.id] = join_details(cohort_video_link=cohort.video_link, cohort_dial_in=shared.dial_in if shared else "",
                                 meeting_video_link=own.video_link if own else "",
                                 meeting_dial_in=own.dial_in if own else "")
    return out


async def join_details_of(meeting: Meeting, cohort: Cohort) -> JoinDetails:
    return (await join_details_for([meeting], {cohort.id: cohort}))[meeting.id]


async def cohort_dial_in(cohort_id: int) -> str:
    row = await OnlineJoin.get_or_none(cohort_id=cohort_id, meeting_id=None)
    return row.dial_in if row else ""


async def meeting_override(meeting_id: int) -> OnlineJoin | None:
    return await OnlineJoin.get_or_none(meeting_id=meeting_id)


def _checked(video_link: object, dial_in: object) -> tuple[str, str]:
    link, phone, problems = check_join_input(video_link, dial_in)
    if problems:
        raise BadRequest(next(iter(problems.values())), fields=problems)
    return link, phone


async def set_cohort_join(cohort: Cohort, *, video_link: object, dial_in: object, now: datetime) -> JoinDetails:
    link, phone = _checked(video_link, dial_in)
    if link != cohort.video_link:
        cohort.video_link = link
        await cohort.save(update_fields=["video_link", "updated_at"])
    row = await OnlineJoin.get_or_none(cohort_id=cohort.id, meeting_id=None)
    if row is None and phone:
        await OnlineJoin.create(cohort_id=cohort.id, meeting_id=None, dial_in=phone)
    elif row is not None and row.dial_in != phone:
        row.dial_in = phone
        await row.save(update_fields=["dial_in", "updated_at"])
    await _revise(Meeting.filter(cohort_id=cohort.id, status=MeetingStatus.SCHEDULED, ends_at__gt=now), now)
    return join_details(cohort_video_link=link, cohort_dial_in=phone)


async def set_meeting_join(meeting: Meeting, *, video_link: object, dial_in: object, now: datetime) -> OnlineJoin | None:
    """One meeting's own join details; an empty link returns it to the cohort's."""
    link, phone = _checked(video_link, dial_in)
    row = await OnlineJoin.get_or_none(meeting_id=meeting.id)
    if not link:
        if row is not None:
            await row.delete()
        result = None
    elif row is None:
        result = await OnlineJoin.create(cohort_id=meeting.cohort_id, meeting_id=meeting.id, video_link=link,
                                         dial_in=phone)
    else:
        row.video_link, row.dial_in = link, phone
        await row.save(update_fields=["video_link", "dial_in", "updated_at"])
        result = row
    await _revise(Meeting.filter(id=meeting.id), now)
    return result


async def _revise(meetings, now: datetime) -> None:
    await meetings.update(sequence=F("sequence") + 1, revised_at=now)
