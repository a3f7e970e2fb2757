"""The portal's queries are countable and do not grow with the member's groups (issue 14):
the same number of SQL statements for a member in one group as for one in three, and the
same audit events as before, one per group for goals and one for measures."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from models.accounts import AuditEvent, Role
from models.clinical import Goal, GoalProgress, MeasureResponse
from models.cohorts import EnrollmentStatus
from server.portal import member_portal
from tests.support.world import enroll, make_cohort, make_user

pytestmark = pytest.mark.asyncio(loop_scope="session")

SQL = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class _Statements(logging.Handler):
    """Tortoise logs every statement it sends (execute_query, execute_insert, ...) at DEBUG."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = str(record.args[0]) if record.args else str(record.msg)
        if text.lstrip().upper().startswith(SQL):
            self.sql.append(text)


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = _Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.sql
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def member_in_groups(world, count: int, status: EnrollmentStatus):
    member = await make_user(Role.MEMBER, f"Statement Counter {count}")
    today = datetime.now(timezone.utc).date()
    enrollments = []
    for n in range(count):
        cohort, meetings = await make_cohort(world.template, f"Counted group {count}-{n}", world.users["facilitator"],
                                             start=today - timedelta(days=21 - n))
        enrollment = await enroll(cohort, member, status=status)
        if status == EnrollmentStatus.WAITLISTED:
            ahead = await enroll(cohort, await make_user(Role.MEMBER, f"Ahead {count}-{n}"), status=status)
            for row, hours_ago in ((ahead, 2), (enrollment, 1)):
                row.waitlisted_at = datetime.now(timezone.utc) - timedelta(hours=hours_ago)
                await row.save(update_fields=["waitlisted_at"])
        goal = await Goal.create(cohort=cohort, enrollment=enrollment, text=f"Goal {n}")
        await GoalProgress.create(goal=goal, rating=2, note="a little better")
        await MeasureResponse.create(enrollment=enrollment, instrument="phq9", items=[1] * 9, total=9, band="mild",
                                     item9=0, window="baseline", administered_at=meetings[0].starts_at)
        enrollments.append(enrollment)
    return member, enrollments


@pytest.mark.parametrize("status", [EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED])
async def test_one_group_and_three_groups_take_the_same_statements(world, status):
    one, _ = await member_in_groups(world, 1, status)
    three, enrollments = await member_in_groups(world, 3, status)
    now = datetime.now(timezone.utc)
    with statements() as for_one:
        groups_one = await member_portal(one, now)
    with statements() as for_three:
        groups_three = await member_portal(three, now)
    assert len(groups_one) == 1 and len(groups_three) == 3
    assert all(g.goals and g.progress and g.measures["sections"] for g in groups_three)
    assert len(for_one) == len(for_three), "\n".join(for_three)
    if status == EnrollmentStatus.WAITLISTED:
        assert [g.waitlist_position for g in groups_three] == [2, 2, 2]


async def test_the_portal_still_audits_each_groups_goals_and_measures(world):
    member, enrollments = await member_in_groups(world, 3, EnrollmentStatus.ENROLLED)
    await member_portal(member, datetime.now(timezone.utc))
    events = await AuditEvent.filter(member_id=member.id, actor_id=member.id, action="read").order_by("id")
    assert sorted((e.subject, e.subject_id, e.detail) for e in events) == sorted(
        [("goal", str(e.id), "portal") for e in enrollments]
        + [("measure_response", str(e.id), "1 responses") for e in enrollments]
    )
    assert all(e.at is not None for e in events)
