"""What the member reads: the clinic's crisis help text, and, right after an answer above 0
on item 9, who was told and by when they were asked to get in touch. An item 9 of 0 opens
nothing and is never described as "no risk"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from models.accounts import Role, User
from models.clinical import ClinicSafetySettings, SafetyItem, SafetyNotice, SafetyNoticeKind
from models.cohorts import Cohort
from server import clock
from server.errors import BadRequest, Forbidden
from server.measures import safety_alerts
from server.measures.safety._entry import says_something
from server.measures.safety.opening import alert_settings
from server.platform.settings import Settings


@dataclass(frozen=True)
class HelpText:
    text: str
    set_by_clinic: bool


async def crisis_help(settings: Settings) -> HelpText:
    """The clinic's own crisis help text, set by a coordinator (or GROUPIPT_HELP_TEXT); until
    then a general one that names no number (never invent a phone number)."""
    row = await ClinicSafetySettings.get_or_none(id=1)
    if row is not None and row.help_text.strip():
        return HelpText(row.help_text.strip(), True)
    return HelpText(settings.help_text, settings.help_text_from_env)


async def set_crisis_help(viewer: User, text: str, *, now: datetime | None = None) -> HelpText:
    if viewer.role != Role.COORDINATOR:
        raise Forbidden("Only coordinators set the clinic's crisis help text.")
    text = (text or "").strip()
    if text and not says_something(text):
        raise BadRequest("Write the help text in words (who to call, and how).", fields={"help_text": "Too short."})
    if len(text) > 2000:
        raise BadRequest("2000 characters at most.", fields={"help_text": "Too long."})
    row, _ = await ClinicSafetySettings.get_or_create(id=1)
    row.help_text, row.updated_by, row.updated_at = text, viewer, now or clock.now()
    await row.save()
    return await crisis_help(alert_settings())


WHO_WORDS = {
    safety_alerts.FACILITATOR: ("your group's facilitator", "your group's facilitators"),
    safety_alerts.DUTY: ("a clinician of the clinic", "a clinician of the clinic"),
    safety_alerts.TEAM: ("the clinic's team", "the clinic's team"),
}


async def member_message(item: SafetyItem, zone: ZoneInfo) -> str:
    """What a member reads right after an answer above 0 on item 9: who was actually told,
    and by when they were asked to get in touch. Calm, and no promise the platform does not keep."""
    told = await SafetyNotice.filter(safety_item_id=item.id, kind=SafetyNoticeKind.OPENED).count()
    one, many = WHO_WORDS.get(item.routed_to, WHO_WORDS[safety_alerts.TEAM])
    who = many if told > 1 else one
    due = (item.due_at or item.opened_at).astimezone(zone)
    when = f"{due:%A} {due.day} {due:%B} at {due:%H:%M}"
    return (
        "Thank you for answering honestly. Your answer to the last question has been passed on "
        f"privately to {who}, who has been asked to get in touch with you by {when}. "
        "It is not shown to other members."
    )


def member_zone(user: User, cohort: Cohort) -> ZoneInfo:
    for name in (user.time_zone, cohort.time_zone):
        try:
            return ZoneInfo(name)
        except Exception:
            continue
    return ZoneInfo("UTC")
