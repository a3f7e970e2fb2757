"""Private calendar feeds: tokens, feed contents, the feed cache, and log masking.

A feed URL carries a random token (32 bytes from `secrets`), looked up by its SHA-256; a
sealed copy lets its owner's own pages show the link again (server/accounts/feed_secrets.py),
nobody else's. Rotating revokes the old one. A member's feed has their
cohorts' group sessions and their own individual meetings, never another member's; a
facilitator's has the group sessions they lead and their individual meetings.

A token feed's ETag is its version (feed_stamps): one aggregate query, no feed built, so a
304 costs what the token lookup and that query cost. A built feed is kept (`_cache`) until
its version moves, however long that is. The version is looked at again at most every
RECHECK seconds per token, and at once after a schedule change in this process; other
processes see a change within RECHECK.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import time as monotonic_time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

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
from models.cohorts import Cohort, Enrollment, Meeting
from server.accounts.feed_secrets import open_feed_secret, seal_feed_secret
from server.platform.settings import Settings
from server.reminders.join import JoinDetails
from server.reminders.online import join_details_for, join_details_of
from server.schedule.feed_stamps import (
    FEED_ENROLLMENTS,
    VISIBLE_COHORTS,
    FeedVersion,
    facilitator_meetings,
    feed_version,
    member_meetings,
)

RECHECK = 1.0  # seconds a token's version is trusted before it is looked at again
CACHE_BYTES = 64 * 1024 * 1024  # built feeds kept, least recently served dropped first
CACHE_TOKENS = 100_000  # versions kept (a few hundred bytes each), least recently read dropped first
LAST_USED_EVERY = timedelta(minutes=1)
REFRESH = timedelta(hours=1)
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


@dataclass(frozen=True, kw_only=True)
class FeedBody(FeedVersion):
    body: bytes


# --- tokens ----------------------------------------------------------------------------------


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def can_have_feed(user: User) -> bool:
    return user.role in (Role.MEMBER, Role.FACILITATOR) and user.restricted_at is None


async def mint_feed_token(user: User, *, secret_key: str | None = None) -> str:
    """A new feed secret for this person; any earlier one stops working. With `secret_key`
    it is also kept sealed, so the person's account page can show it again."""
    await revoke_feed_tokens(user)
    secret = secrets.token_urlsafe(32)
    sealed = seal_feed_secret(secret, secret_key) if secret_key else None
    await FeedToken.create(user=user, token_sha256=token_hash(secret), token_sealed=sealed)
    return secret


def readable_feed_secret(token: FeedToken | None, secret_key: str) -> str | None:
    """The token's secret for its owner's pages, or None if it was made before sealing."""
    return open_feed_secret(token.token_sealed, secret_key) if token is not None else None


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


async def mint_feed_urls(users: Iterable[User], *, base_url: str, secret_key: str | None = None) -> dict[str, str]:
    """For the demo: a fresh feed URL per member and facilitator, keyed by e-mail."""
    urls = {}
    for user in users:
        if can_have_feed(user):
            urls[user.email] = feed_url(base_url, await mint_feed_token(user, secret_key=secret_key))
    return urls


def feed_people():
    """The members and facilitators who may have a feed (restricted records left out), as a query to page."""
    return User.filter(role__in=[Role.MEMBER, Role.FACILITATOR], restricted_at=None)


async def feed_overview(people: list[User]) -> list[dict]:
    """Per person of a page: whether they have a feed and when it was last fetched (one query)."""
    tokens = await FeedToken.filter(revoked_at=None, user_id__in=[p.id for p in people]).order_by("created_at")
    by_user = {t.user_id: t for t in tokens}
    return [{"user": p, "token": by_user.get(p.id)} for p in people]


# --- feed contents ----------------------------------------------------------------------------


def _event(row: Meeting, cohort: Cohort, pre_group_meetings: int, *, with_link: bool,
           join: JoinDetails | None = None) -> FeedEvent:
    kind = MeetingKind(row.kind)
    of = cohort.n_group_sessions if kind is MeetingKind.GROUP else (pre_group_meetings if kind is MeetingKind.PREGROUP else 1)
    # The join link is not clinical: private feeds carry it (design.md, Calendars), in URL and DESCRIPTION.
    join = join if join is not None else JoinDetails(video_link=cohort.video_link)
    link = join.video_link if with_link and join.online else None
    description = f"Join online: {link}" if link else None
    if link and join.dial_in:
        description += f"\nBy phone: {join.dial_in}"
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
        description=description,
    )


def _render(
    *, name: str, rows: Sequence[Meeting], cohorts: dict[int, Cohort], settings: Settings, zone: str,
    now: datetime, with_link: bool, floor: datetime, joins: Mapping[int, JoinDetails] | None = None,
) -> FeedBody:
    joins = joins or {}
    events = [
        _event(row, cohorts[row.cohort_id], cohorts[row.cohort_id].template.n_pregroup_individual, with_link=with_link,
               join=joins.get(row.id))
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
        rows = await Meeting.filter(member_meetings(user.id)).order_by("starts_at", "id")
    return _render(name=settings.organizer_name, rows=rows, cohorts=cohorts, settings=settings,
                   zone=user.time_zone, now=now, with_link=True, floor=floor or user.created_at,
                   joins=await join_details_for(rows, cohorts))


async def feed_for_facilitator(user: User, *, settings: Settings, now: datetime, floor: datetime | None = None) -> FeedBody:
    rows = await Meeting.filter(facilitator_meetings(user.id)).order_by("starts_at", "id")
    # Individual meetings may lie in a cohort this person no longer co-leads.
    ids = sorted({r.cohort_id for r in rows})
    cohorts = {c.id: c for c in await Cohort.filter(id__in=ids).select_related("template")} if ids else {}
    return _render(name=settings.organizer_name, rows=rows, cohorts=cohorts, settings=settings,
                   zone=user.time_zone, now=now, with_link=True, floor=floor or user.created_at,
                   joins=await join_details_for(rows, cohorts))


async def feed_for_cohort(cohort: Cohort, *, settings: Settings, now: datetime) -> FeedBody:
    """Every meeting of one cohort, for coordinators and its facilitators (behind login)."""
    full = await Cohort.get(id=cohort.id).select_related("template")
    rows = await Meeting.filter(cohort_id=cohort.id).order_by("starts_at", "id")
    return _render(name=f"{full.name} schedule", rows=rows, cohorts={full.id: full}, settings=settings,
                   zone=full.time_zone, now=now, with_link=True, floor=full.created_at,
                   joins=await join_details_for(rows, {full.id: full}))


async def meeting_download(row: Meeting, *, settings: Settings) -> bytes:
    """One meeting as an .ics file to import (METHOD:PUBLISH)."""
    cohort = await Cohort.get(id=row.cohort_id).select_related("template")
    event = _event(row, cohort, cohort.template.n_pregroup_individual, with_link=True,
                   join=await join_details_of(row, cohort))
    return build_feed(
        name=settings.organizer_name, events=[event], fallback_tzid=cohort.time_zone,
        fallback_day=row.starts_at.date(), organization=settings.organizer_name, product="Sessions",
        organizer=Organizer(name=settings.organizer_name, email=settings.mail_from), method="PUBLISH",
    )


# --- serving a token, with the cache ------------------------------------------------------------


@dataclass(kw_only=True)
class _Entry:
    version: FeedVersion
    token: FeedToken
    checked: float  # monotonic time the version was last read from the database
    generation: int
    feed: FeedBody | None = None


class _FeedCache:
    """Per token hash: the feed's version and, once someone needed the bytes, the feed."""

    def __init__(self) -> None:
        self.entries: OrderedDict[str, _Entry] = OrderedDict()
        self.generation = 0
        self.bytes = 0
        self.last_used: dict[str, datetime] = {}

    def fresh(self, key: str) -> _Entry | None:
        entry = self.entries.get(key)
        if entry is None or entry.generation != self.generation or entry.checked + RECHECK < monotonic_time.monotonic():
            return None
        return entry

    def remember(self, key: str, version: FeedVersion, token: FeedToken) -> _Entry:
        """The version just read; a feed built for the same version is kept."""
        entry = self.entries.get(key)
        feed = entry.feed if entry is not None and entry.version == version else None
        self.forget(key)
        entry = _Entry(version=version, token=token, checked=monotonic_time.monotonic(),
                       generation=self.generation, feed=None)
        self.entries[key] = entry
        while len(self.entries) > CACHE_TOKENS:
            self.forget(next(iter(self.entries)))
        if feed is not None:
            self.keep(key, entry, feed)
        return entry

    def keep(self, key: str, entry: _Entry, feed: FeedBody) -> None:
        if self.entries.get(key) is not entry:
            return  # replaced or dropped by another request while this feed was built
        if entry.feed is not None:
            self.bytes -= len(entry.feed.body)
        entry.feed = feed
        self.bytes += len(feed.body)
        self.entries.move_to_end(key)
        while self.bytes > CACHE_BYTES and self.entries:
            self.forget(next(iter(self.entries)))

    def forget(self, key: str) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None and entry.feed is not None:
            self.bytes -= len(entry.feed.body)

    def changed(self) -> None:
        # Versions are read again before use; feeds whose version did not move are kept.
        self.generation += 1

    def clear(self) -> None:
        self.entries.clear()
        self.bytes = 0


_cache = _FeedCache()


def schedule_changed() -> None:
    """Meetings changed in this process: read every token's version again before answering."""
    _cache.changed()


@dataclass(frozen=True)
class TokenFeed:
    """A presented token that is valid, with its feed's version; the bytes come from `feed_body`."""
    key: str
    version: FeedVersion


async def token_version(secret: str, *, settings: Settings, now: datetime) -> TokenFeed | None:
    """The version of a presented token's feed, or None for anything unknown or revoked."""
    if not _TOKEN_SHAPE.match(secret):
        return None
    key = token_hash(secret)
    entry = _cache.fresh(key)
    if entry is None:
        token = await FeedToken.get_or_none(token_sha256=key, revoked_at=None).select_related("user")
        if token is None or not token.user.is_active or not can_have_feed(token.user):
            _cache.forget(key)
            return None
        entry = _cache.remember(key, await feed_version(token, settings=settings, now=now), token)
    await _touch(key, now, token=entry.token)
    return TokenFeed(key=key, version=entry.version)


async def feed_body(presented: TokenFeed, *, settings: Settings, now: datetime) -> FeedBody:
    """The feed's bytes, built once per version. The version is read before the rows, so a
    change between the two leaves a feed newer than its tag, which the next read replaces."""
    entry = _cache.entries.get(presented.key)
    if entry is not None and entry.feed is not None and entry.version == presented.version:
        _cache.entries.move_to_end(presented.key)
        return entry.feed
    token = entry.token if entry is not None else await FeedToken.get(token_sha256=presented.key).select_related("user")
    build = feed_for_member if token.user.role == Role.MEMBER else feed_for_facilitator
    built = await build(token.user, settings=settings, now=now, floor=token.created_at)
    feed = FeedBody(body=built.body, etag=presented.version.etag, last_modified=presented.version.last_modified)
    current = _cache.entries.get(presented.key)  # other requests ran while this one built
    if current is not None and current.version == presented.version:
        _cache.keep(presented.key, current, feed)
    return feed


async def serve_token(secret: str, *, settings: Settings, now: datetime) -> FeedBody | None:
    """The feed for a presented token, or None for anything unknown or revoked."""
    presented = await token_version(secret, settings=settings, now=now)
    return None if presented is None else await feed_body(presented, settings=settings, now=now)


async def _touch(key: str, now: datetime, token: FeedToken | None = None) -> None:
    # "Last fetched" for the coordinator, written at most once a minute per token.
    previous = _cache.last_used.get(key) or (token.last_used_at if token else None)
    if previous is not None and now - previous < LAST_USED_EVERY:
        return
    _cache.last_used[key] = now
    await FeedToken.filter(token_sha256=key, revoked_at=None).update(last_used_at=now)
