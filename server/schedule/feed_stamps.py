"""A feed's version, from one aggregate query instead of building the feed.

A person's feed is a function of their meetings, the cohorts those meetings belong to, their
own time zone (for an empty feed, also the year), the token's creation time and the
organizer's settings. One grouped query (written out below) returns, per cohort that
contributes events, the cohort's fields a feed shows and an aggregate of its meetings: how
many, the sum of their
ids (a meeting added, removed or moved in or out of the feed), the sum of their SEQUENCEs
and the latest revision time. Every change a calendar client must notice bumps a meeting's
SEQUENCE and revision time (RFC 5545 §3.8.7.4; calendars.changes does it), so the sums move.

The rows grow with the number of cohorts a person is in, never with their meetings, and no
event is built: a 304 costs the token lookup and this query.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cached_property

from tortoise import connections
from tortoise.expressions import Q, Subquery

from models.accounts import FeedToken, Role
from models.cohorts import Cohort, CohortStatus, Enrollment, EnrollmentStatus, Meeting, MeetingKind
from server.platform.settings import Settings

# Raised whenever the bytes a builder makes for the same rows change (calendars/feed.py or
# the event fields in feeds.py), so a deploy does not answer 304 for a body it now builds
# differently.
FEED_FORMAT = 1
VISIBLE_COHORTS = (CohortStatus.ACTIVE, CohortStatus.COMPLETED)
FEED_ENROLLMENTS = (EnrollmentStatus.ENROLLED, EnrollmentStatus.COMPLETED)


@dataclass(frozen=True, kw_only=True)
class FeedVersion:
    etag: str
    last_modified: datetime

    @cached_property
    def http_last_modified(self) -> str:
        # Formatted once per version: the cached path answers with no date arithmetic.
        return format_datetime(self.last_modified.astimezone(UTC), usegmt=True)


def member_meetings(user_id: int) -> Q:
    """The meetings in a member's feed: their cohorts' group sessions and their own meetings."""
    enrollments = Enrollment.filter(
        member_id=user_id, status__in=list(FEED_ENROLLMENTS), cohort__status__in=list(VISIBLE_COHORTS)
    )
    return Q(cohort_id__in=Subquery(enrollments.values("cohort_id")), kind=MeetingKind.GROUP) | Q(
        enrollment_id__in=Subquery(enrollments.values("id"))
    )


def facilitator_meetings(user_id: int) -> Q:
    """The group sessions of the cohorts they co-lead, and every individual meeting they hold."""
    led = Cohort.filter(facilitators__id=user_id, status__in=list(VISIBLE_COHORTS))
    return Q(cohort_id__in=Subquery(led.values("id")), kind=MeetingKind.GROUP) | Q(facilitator_id=user_id)


# The same rows as member_meetings / facilitator_meetings, grouped per cohort. Written out
# because building it through the ORM cost three times what running it does (the query a
# 304 waits for); tests/integration/test_feed_versions.py holds the two together.
_PER_COHORT = """
SELECT m.cohort_id, c.public_title, c.location, c.video_link, c.time_zone, c.n_group_sessions,
       t.n_pregroup_individual, COUNT(m.id), SUM(m.id), SUM(m.sequence), MAX(m.revised_at)
FROM meetings m JOIN cohorts c ON c.id = m.cohort_id JOIN protocol_templates t ON t.id = c.template_id
WHERE {where}
GROUP BY m.cohort_id, c.public_title, c.location, c.video_link, c.time_zone, c.n_group_sessions,
         t.n_pregroup_individual
ORDER BY m.cohort_id"""
_FEED_ENROLLMENTS_OF = (
    "SELECT e.{column} FROM enrollments e JOIN cohorts ec ON ec.id = e.cohort_id "
    "WHERE e.member_id = ? AND e.status IN (?, ?) AND ec.status IN (?, ?)"
)
_MEMBER = _PER_COHORT.format(where=(
    f"(m.kind = ? AND m.cohort_id IN ({_FEED_ENROLLMENTS_OF.format(column='cohort_id')})) "
    f"OR m.enrollment_id IN ({_FEED_ENROLLMENTS_OF.format(column='id')})"
))
_FACILITATOR = _PER_COHORT.format(where=(
    "(m.kind = ? AND m.cohort_id IN (SELECT lc.id FROM cohorts lc JOIN cohort_facilitators cf ON cf.cohorts_id = lc.id "
    "WHERE cf.user_id = ? AND lc.status IN (?, ?))) OR m.facilitator_id = ?"
))


def _numbered(sql: str) -> str:
    # asyncpg numbers its parameters: $1, $2, ...
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))


_STATEMENTS = {
    "sqlite": {Role.MEMBER: _MEMBER, Role.FACILITATOR: _FACILITATOR},
    "postgres": {Role.MEMBER: _numbered(_MEMBER), Role.FACILITATOR: _numbered(_FACILITATOR)},
}


def _parameters(role: Role, user_id: int) -> list[object]:
    visible = [s.value for s in VISIBLE_COHORTS]
    if role == Role.MEMBER:
        of_member = [user_id, *(s.value for s in FEED_ENROLLMENTS), *visible]
        return [MeetingKind.GROUP.value, *of_member, *of_member]
    return [MeetingKind.GROUP.value, user_id, *visible, user_id]


async def feed_version(token: FeedToken, *, settings: Settings, now: datetime) -> FeedVersion:
    """The version of this token's feed; `token.user` must be loaded."""
    user = token.user
    role = Role.MEMBER if user.role == Role.MEMBER else Role.FACILITATOR
    connection = connections.get(Meeting._meta.default_connection)
    sql = _STATEMENTS[connection.capabilities.dialect][role]
    _, rows = await connection.execute_query(sql, _parameters(role, user.id))
    return version_of([tuple(row) for row in rows], role=user.role.value, time_zone=user.time_zone,
                      floor=token.created_at, settings=settings, now=now)


def version_of(
    rows: list[tuple], *, role: str, time_zone: str, floor: datetime, settings: Settings, now: datetime,
) -> FeedVersion:
    """Pure: the ETag and Last-Modified for these aggregate rows (one per cohort)."""
    latest = floor
    parts: list[object] = [FEED_FORMAT, role, time_zone, _instant(floor), settings.organizer_name, settings.mail_from]
    for *cohort, n, ids, sequences, revised in rows:
        revised_at = _aware(revised)
        latest = max(latest, revised_at)
        parts.append((*cohort, int(n), int(ids or 0), int(sequences or 0), _instant(revised_at)))
    if not rows:
        parts.append(now.year)  # an empty feed carries the VTIMEZONE of this year (calendars.feed)
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:40]
    return FeedVersion(etag=f'"{digest}"', last_modified=latest.replace(microsecond=0))


def _aware(value: datetime | str) -> datetime:
    # SQLite hands an aggregate back as the stored text, PostgreSQL as a datetime.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
