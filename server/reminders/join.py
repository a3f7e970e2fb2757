"""The join link of an online meeting: an https address, open from shortly before the start."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit


def is_join_link(url: str) -> bool:
    """An https address with a host: what a member's phone can open without a warning."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname) and not any(c.isspace() for c in url)


def join_open(*, starts_at: datetime, ends_at: datetime, now: datetime, minutes_before: int) -> bool:
    return starts_at - timedelta(minutes=minutes_before) <= now < ends_at


DIAL_IN_MAX = 300


@dataclass(frozen=True, kw_only=True)
class JoinDetails:
    """How to join one meeting online; empty when it is held in a room."""

    video_link: str = ""
    dial_in: str = ""

    @property
    def online(self) -> bool:
        return is_join_link(self.video_link)


def join_details(*, cohort_video_link: str, cohort_dial_in: str = "", meeting_video_link: str = "",
                 meeting_dial_in: str = "") -> JoinDetails:
    """A meeting's own link, with its own dial-in, takes the cohort's place; otherwise the cohort's."""
    if is_join_link(meeting_video_link):
        return JoinDetails(video_link=meeting_video_link, dial_in=meeting_dial_in)
    if is_join_link(cohort_video_link):
        return JoinDetails(video_link=cohort_video_link, dial_in=cohort_dial_in)
    return JoinDetails()


def check_join_input(video_link: object, dial_in: object) -> tuple[str, str, dict[str, str]]:
    """The cleaned link and dial-in text, and a message per field that is not right."""
    link = str(video_link or "").strip()
    phone = str(dial_in or "").strip()
    problems = {}
    if link and (len(link) > 500 or not is_join_link(link)):
        problems["video_link"] = "Give the full https:// address of the video meeting, as the video service shows it."
    if len(phone) > DIAL_IN_MAX:
        problems["dial_in"] = f"Please keep the dial-in text under {DIAL_IN_MAX} characters."
    if phone and not link:
        problems.setdefault("video_link", "Give the video link too: dial-in text goes with an online meeting.")
    return link, phone, problems
