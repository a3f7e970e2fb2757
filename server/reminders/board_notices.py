"""What the facilitator's board shows of reminders: the group's open follow-ups, and the Join
button inside an online meeting's window (the same window members have)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from models.cohorts import Cohort, Meeting
from server.platform.settings import Settings
from server.reminders.follow_ups import open_follow_ups
from server.reminders.join import join_open
from server.reminders.online import join_details_of


async def board_reminders_context(meeting: Meeting, *, settings: Settings, now: datetime) -> dict[str, Any]:
    cohort = await Cohort.get(id=meeting.cohort_id)
    join = await join_details_of(meeting, cohort)
    inside = join.online and join_open(starts_at=meeting.starts_at, ends_at=meeting.ends_at, now=now,
                                       minutes_before=settings.join_minutes_before)
    return {"follow_up_items": await open_follow_ups([cohort.id]), "show_cohort": False,
            "join_url": join.video_link if inside else None, "join_dial_in": join.dial_in if inside else ""}
