"""Two servers' daily purges never run at once (issue 19): a pass that finds the lock taken
(PostgreSQL's advisory lock, SQLite's lock file) skips and changes nothing, and two passes at
the same moment purge each member once."""
from __future__ import annotations

import asyncio
import fcntl
from datetime import timedelta

import pytest

from models.accounts import AuditEvent, Role, User
from models.clinical import MeasureResponse
from models.cohorts import Enrollment, EnrollmentStatus, EnrollmentTransition
from server import clock
from server.records import sqlite_copy
from server.records.retention import PURGE_LOCK_KEY
from tests.integration.test_retention import groupipt
from tests.support.world import enroll, make_cohort, make_template, make_user


async def member_past_retention() -> User:
    """A member whose only group ended three years ago, with one answer on record."""
    lead = await make_user(Role.FACILITATOR, "Lock Lead")
    cohort, meetings = await make_cohort(await make_template(), "Lock group", lead)
    member = await make_user(Role.MEMBER, "Lock Member")
    enrollment = await enroll(cohort, member)
    await MeasureResponse.create(enrollment=enrollment, instrument="phq9", items=[1] * 9, total=9, band="mild",
                                 item9=1, window="baseline", administered_at=meetings[0].starts_at)
    await Enrollment.filter(id=enrollment.id).update(status=EnrollmentStatus.COMPLETED)
    ended = await EnrollmentTransition.create(enrollment=enrollment, from_status="enrolled", to_status="completed")
    await EnrollmentTransition.filter(id=ended.id).update(at=clock.now() - timedelta(days=3 * 366))
    return member


async def purge_entries(member: User) -> int:
    return await AuditEvent.filter(subject="member_record", member_id=member.id, detail__startswith="purged").count()


async def test_a_purge_that_finds_the_sqlite_lock_file_taken_skips_and_changes_nothing(live_server, db):
    if live_server.backend != "sqlite":
        pytest.skip("SQLite's lock file; PostgreSQL's advisory lock is the next test")
    member = await member_past_retention()
    env = {**live_server.env, "GROUPIPT_RETENTION_YEARS": "2"}
    database = sqlite_copy.database_path(live_server.database_url)
    with open(database.with_name(database.name + ".purge-lock"), "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        rc, out, err = await groupipt(env, "purge", "--due")
        assert rc != 0 and "Another server" in err and "Nothing was changed" in err, (out, err)
        assert await MeasureResponse.filter(enrollment__member_id=member.id).count() == 1
    rc, out, err = await groupipt(env, "purge", "--due")
    assert rc == 0 and f"member {member.id}:" in out, err
    assert await purge_entries(member) == 1


async def test_a_purge_that_finds_the_advisory_lock_taken_skips_and_changes_nothing(live_server, db):
    if live_server.backend != "postgres":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite's lock file is the test above")
    import asyncpg

    member = await member_past_retention()
    env = {**live_server.env, "GROUPIPT_RETENTION_YEARS": "2"}
    holder = await asyncpg.connect(live_server.database_url.replace("postgres://", "postgresql://", 1))
    try:
        assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", PURGE_LOCK_KEY)
        rc, out, err = await groupipt(env, "purge", "--due")
        assert rc != 0 and "Another server" in err and "Nothing was changed" in err, (out, err)
        assert await MeasureResponse.filter(enrollment__member_id=member.id).count() == 1
        assert await purge_entries(member) == 0
    finally:
        await holder.execute("SELECT pg_advisory_unlock($1)", PURGE_LOCK_KEY)
        await holder.close()
    rc, out, err = await groupipt(env, "purge", "--due")
    assert rc == 0 and f"member {member.id}:" in out, err
    assert await MeasureResponse.filter(enrollment__member_id=member.id).count() == 0
    assert await purge_entries(member) == 1
    # The lock was released on its own connection: the next pass takes it again.
    rc, out, err = await groupipt(env, "purge", "--due")
    assert rc == 0 and "Purged 0 member record(s)" in out, err


async def test_two_purges_at_the_same_moment_purge_each_member_once(live_server, db):
    members = [await member_past_retention() for _ in range(3)]
    env = {**live_server.env, "GROUPIPT_RETENTION_YEARS": "2"}
    results = await asyncio.gather(groupipt(env, "purge", "--due"), groupipt(env, "purge", "--due"))
    for rc, out, err in results:
        # The one that lost the lock says so (or both finished, one after the other).
        assert rc == 0 or "Another server" in err, (out, err)
    assert any(rc == 0 for rc, _, _ in results)
    for member in members:
        assert await MeasureResponse.filter(enrollment__member_id=member.id).count() == 0
        assert await purge_entries(member) == 1
