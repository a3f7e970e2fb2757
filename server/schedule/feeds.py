"""Private calendar feeds: tokens, feed contents, the feed cache, and log masking.

A feed URL carries a random token (32 bytes from `secrets`); only its SHA-256 is stored,
the plain token is shown once. Rotating revokes the old one. A member's feed has their
cohorts' group sessions and their own individual meetings, never another member's; a
facilitator's has the group sessions they lead and their individual meetings.

Feeds are built from the database and kept for a few seconds per token (`_cache`), so a
calendar client that polls, or a crowd of them, costs a dictionary lookup. Any schedule
change in this process clears the cache at once; other processes see it within FEED_TTL.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import time as monotonic_time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cached_property
from urllib.parse import quote

from tortoise.expressions import Q

from calendars import (
    FeedEvent,
    MeetingKind,
    MeetingStatus,
    Organizer,
    build_feed,
    feed_etag,
    meeting_title,
)
from calendars.wallclock import load_zone
from models.accounts import FeedToken, Role, User
from models.cohorts import Cohort, CohortStatus, Enrollment, EnrollmentStatus, Meeting
from server.platform.settings import Settings

FEED_TTL = 15.0  # seconds a built feed is reused by this process
LAST_USED_EVERY = timedelta(minutes=1)
REFRESH = timedelta(hours=1)
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
VISIBLE_COHORTS = (CohortStatus.ACTIVE, CohortStatus.COMPLETED)
FEED_ENROLLMENTS = (EnrollmentStatus.ENROLLED, EnrollmentStatus.COMPLETED)


@dataclass(frozen=True, kw_only=True)
class FeedBody:
    body: bytes
    etag: str
    last_modified: datetime

    @cached_property
    def http_last_modified(self) -> str:
        # Formatted once per built feed: the cached path answers with no date arithmetic.
        return format_datetime(self.last_modified.astimezone(UTC), usegmt=True)


# --- tokens ----------------------------------------------------------------------------------


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def can_have_feed(user: User) -> bool:
    return user.role in (Role.MEMBER, Role.FACILITATOR)


async def mint_feed_token(user: User) -> str:
    """A new feed secret for this person; any earlier one stops working."""
    await revoke_feed_tokens(user)
    secret = secrets.token_urlsafe(32)
    await FeedToken.create(user=user, token_sha256=token_hash(secret))
    return secret


async def revoke_feed_tokens(user: User | int) -> int:
    user_id = user if isinstance(user, int) else user.id
    revoked = await FeedToken.filter(user_id=user_id, revoked_at=None).update(revoked_at=datetime.now(UTC))
    _cache.clear()
    return revoked


async def active_feed_token(user: User) -> FeedToken | None:
    return await FeedToken.filter(user_id=user.id, revoked_at=None).order_by("-created_at").first()


def feed_url(base_url: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}/feeds/{secret}.ics"


def subscribe_links(url: str, *, name: str) -> dict[str, str]:
    webcal = "webcal://" + url.split("://", 1)[1]
    return {
        "https": url,
        "webcal": webcal,
        # Google takes the webcal address in `cid` (tech-notes §3.4).
        "google": "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=""),
        # Outlook.com "add from web" deep link [unverified in tech-notes; widely used].
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?url="
        + quote(url, safe="")
        + "&name="
        + quote(name, safe=""),
    }


async def mint_feed_urls(users: Iterable[User], *, base_url: str) -> dict[str, str]:
    """For the demo: a fresh feed URL per member and facilitator, keyed by e-mail."""
    urls = {}
    for user in users:
        if can_have_feed(user):
            urls[user.email] = feed_url(base_url, await mint_feed_token(user))
    return urls


async def feed_overview() -> list[dict]:
    """Per member and facilitator: whether they have a feed and when it was last fetched."""
    people = await User.filter(role__in=[Role.MEMBER, Role.FACILITATOR]).order_by("display_name", "id")
    tokens = await FeedToken.filter(revoked_at=None).order_by("created_at")
    by_user = {t.user_id: t for t in tokens}
    return [{"user": p, "token": by_user.get(p.id)} for p in people]


# --- feed contents ----------------------------------------------------------------------------


def _event(row: Meeting, cohort: Cohort, pre_group_meetings: int, *, with_link: bool) -> FeedEvent:
    kind = MeetingKind(row.kind)
    of = cohort.n_group_sessions if kind is MeetingKind.GROUP else (pre_group_meetings if kind is MeetingKind.PREGROUP else 1)
    link = cohort.video_link if with_link and cohort.video_link else None
    return FeedEvent(
        uid=row.uid,
        summary=meeting_title(kind=kind, number=row.number, of=of, make_up=row.replaces_id is not None,
                              group_label=cohort.public_title or "Group session"),
        start=row.starts_at,
        end=row.ends_at,
        tzid=cohort.time_zone,
        sequence=row.sequence,
        revised_at=row.revised_at,
        cancelled=row.status == MeetingStatus.CANCELLED,
        location=row.location or cohort.location or None,
        url=link,
        description=f"Join online: {link}" if link else None,
    )


def _render(
    *, name: str, rows: Sequence[Meeting], cohorts: dict[int, Cohort], settings: Settings, zone: str,
    now: datetime, with_link: bool, floor: datetime,
) -> FeedBody:
    events = [
        _event(row, cohorts[row.cohort_id], cohorts[row.cohort_id].template.n_pregroup_individual, with_link=with_link)
        for row in rows
    ]
    try:
        load_zone(zone)
    except LookupError:
        zone = "UTC"
    body = build_feed(
        name=name,
        events=events,
        fallback_tzid=zone,
        fallback_day=now.date(),
        organization=settings.organizer_name,
        product="Sessions",
        refresh_interval=REFRESH,
        organizer=Organizer(name=settings.organizer_name, email=settings.mail_from),
    )
    last = max([floor, *(row.revised_at for row in rows)])
    return FeedBody(body=body, etag=feed_etag(body), last_modified=last.replace(microsecond=0))


async def feed_for_member(user: User, *, settings: Settings, now: datetime, floor: datetime | None = None) -> FeedBody:
    enrollments = await Enrollment.filter(
        member_id=user.id, status__in=list(FEED_ENROLLMENTS), cohort__status__in=list(VISIBLE_COHORTS)
    ).select_related("cohort", "cohort__template")
    cohorts = {e.cohort_id: e.cohort for e in enrollments}
    rows: list[Meeting] = []
    if enrollments:
        rows = await Meeting.filter(
            Q(cohort_id__in=list(cohorts), kind=MeetingKind.GROUP) | Q(enrollment_id__in=[e.id for e in enrollments])
        ).order_by("starts_at", "id")
    return _render(name=settings.organizer_name, rows=rows, cohorts=cohorts, settings=settings,
                   zone=user.time_zone, now=now, with_link=True, floor=floor or user.created_at)


async def feed_for_facilitator(user: User, *, settings: Settings, now: datetime, floor: datetime | None = None) -> FeedBody:
    led = await Cohort.filter(facilitators__id=user.id, status__in=list(VISIBLE_COHORTS)).select_related("template")
    cohorts = {c.id: c for c in led}
    rows = await Meeting.filter(
        Q(cohort_id__in=list(cohorts), kind=MeetingKind.GROUP) | Q(facilitator_id=user.id)
    ).order_by("starts_at", "id")
    missing = {r.cohort_id for r in rows} - set(cohorts)
    if missing:  # an individual meeting in a cohort this person no longer co-leads
        for c in await Cohort.filter(id__in=list(missing)).select_related("template"):
            cohorts[c.id] = c
    return _render(name=settings.organizer_name, rows=rows, cohorts=cohorts, settings=settings,
                   zone=user.time_zone, now=now, with_link=True, floor=floor or user.created_at)


async def feed_for_cohort(cohort: Cohort, *, settings: Settings, now: datetime) -> FeedBody:
    """Every meeting of one cohort, for coordinators and its facilitators (behind login)."""
    full = await Cohort.get(id=cohort.id).select_related("template")
    rows = await Meeting.filter(cohort_id=cohort.id).order_by("starts_at", "id")
    return _render(name=f"{full.name} schedule", rows=rows, cohorts={full.id: full}, settings=settings,
                   zone=full.time_zone, now=now, with_link=True, floor=full.created_at)


async def meeting_download(row: Meeting, *, settings: Settings) -> bytes:
    """One meeting as an .ics file to import (METHOD:PUBLISH)."""
    cohort = await Cohort.get(id=row.cohort_id).select_related("template")
    event = _event(row, cohort, cohort.template.n_pregroup_individual, with_link=True)
    return build_feed(
        name=settings.organizer_name, events=[event], fallback_tzid=cohort.time_zone,
        fallback_day=row.starts_at.date(), organization=settings.organizer_name, product="Sessions",
        organizer=Organizer(name=settings.organizer_name, email=settings.mail_from), method="PUBLISH",
    )


# --- serving a token, with the cache ------------------------------------------------------------


class _FeedCache:
    def __init__(self) -> None:
        self.entries: dict[str, tuple[float, FeedBody]] = {}
        self.last_used: dict[str, datetime] = {}

    def get(self, key: str) -> FeedBody | None:
        entry = self.entries.get(key)
        if entry is None or entry[0] < monotonic_time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, feed: FeedBody) -> None:
        if len(self.entries) > 10_000:
            self.entries.clear()
        self.entries[key] = (monotonic_time.monotonic() + FEED_TTL, feed)

    def clear(self) -> None:
        self.entries.clear()


_cache = _FeedCache()


def schedule_changed() -> None:
    """Meetings changed in this process: every cached feed is stale."""
    _cache.clear()


async def serve_token(secret: str, *, settings: Settings, now: datetime) -> FeedBody | None:
    """The feed for a presented token, or None for anything unknown or revoked."""
    if not _TOKEN_SHAPE.match(secret):
        return None
    key = token_hash(secret)
    cached = _cache.get(key)
    if cached is not None:
        await _touch(key, now)
        return cached
    token = await FeedToken.get_or_none(token_sha256=key, revoked_at=None).select_related("user")
    if token is None or not token.user.is_active or not can_have_feed(token.user):
        return None
    if token.user.role == Role.MEMBER:
        feed = await feed_for_member(token.user, settings=settings, now=now, floor=token.created_at)
    else:
        feed = await feed_for_facilitator(token.user, settings=settings, now=now, floor=token.created_at)
    _cache.put(key, feed)
    await _touch(key, now, token=token)
    return feed


async def _touch(key: str, now: datetime, token: FeedToken | None = None) -> None:
    # "Last fetched" for the coordinator, written at most once a minute per token.
    previous = _cache.last_used.get(key) or (token.last_used_at if token else None)
    if previous is not None and now - previous < LAST_USED_EVERY:
        return
    _cache.last_used[key] = now
    await FeedToken.filter(token_sha256=key, revoked_at=None).update(last_used_at=now)
