"""Each cohort's next group session comes from one query with one row per cohort (issue 15)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from tortoise import connections

from models.accounts import Role
from models.cohorts import Meeting, MeetingKind, MeetingStatus
from server import dashboard
from tests.support.world import make_cohort, make_template, make_user


async def naive_next(cohort_ids, *, statuses, starts_from=None, ends_after=None) -> dict[int, int]:
    """What the pages did before: every matching meeting loaded, the first kept per cohort."""
    rows = Meeting.filter(cohort_id__in=cohort_ids, kind=MeetingKind.GROUP, status__in=list(statuses))
    if starts_from is not None:
        rows = rows.filter(starts_at__gte=starts_from)
    if ends_after is not None:
        rows = rows.filter(ends_at__gt=ends_after)
    nearest: dict[int, int] = {}
    for meeting in await rows.order_by("starts_at", "id"):
        nearest.setdefault(meeting.cohort_id, meeting.id)
    return nearest


async def test_one_row_per_cohort_from_one_statement_as_the_pages_chose_before(db, monkeypatch):
    template = await make_template()
    lead = await make_user(Role.FACILITATOR, "Nell Nextmeeting")
    now = datetime.now(timezone.utc)
    plain, _ = await make_cohort(template, "Next A", lead)
    moved, moved_meetings = await make_cohort(template, "Next B", lead, start=(now - timedelta(days=22)).date())
    past, _ = await make_cohort(template, "Next C", lead, start=(now - timedelta(days=120)).date())
    await Meeting.filter(cohort_id=past.id).update(status=MeetingStatus.COMPLETED)
    # B: a coming session cancelled and made up tomorrow, twice at the same time (ties go by id).
    following = next(m for m in moved_meetings if m.starts_at > now + timedelta(days=2))
    await Meeting.filter(id=following.id).update(status=MeetingStatus.CANCELLED)
    make_up_at = (now + timedelta(days=1)).replace(microsecond=0)
    for _ in range(2):
        await Meeting.create(cohort=moved, kind=MeetingKind.GROUP, number=following.number, phase="middle",
                             starts_at=make_up_at, ends_at=make_up_at + timedelta(minutes=90),
                             uid=str(uuid.uuid4()), revised_at=now, replaces=following)
    ids = [plain.id, moved.id, past.id, 2**31 - 1]

    connection = connections.get("default")
    statements = []
    execute = connection.execute_query

    async def counted(sql, values=None):
        statements.append(sql)
        return await execute(sql, values)

    cases = [
        {"statuses": (MeetingStatus.SCHEDULED,), "starts_from": now - timedelta(hours=3)},
        {"statuses": (MeetingStatus.SCHEDULED, MeetingStatus.COMPLETED), "ends_after": now},
        {"statuses": (MeetingStatus.COMPLETED,)},
    ]
    for case in cases:
        monkeypatch.setattr(connection, "execute_query", counted)
        statements.clear()
        found = await dashboard.next_group_meetings(ids, **case)
        assert len(statements) == 1
        monkeypatch.undo()
        assert {c: m.id for c, m in found.items()} == await naive_next(ids, **case), case
    found = await dashboard.next_group_meetings(ids, statuses=(MeetingStatus.SCHEDULED,), starts_from=now)
    assert set(found) == {plain.id, moved.id}  # one row each; C has nothing ahead, the last id no cohort
    loaded = found[moved.id]
    assert loaded.starts_at == make_up_at and loaded.starts_at.tzinfo is not None
    assert loaded.replaces_id == following.id and loaded.kind == MeetingKind.GROUP
    assert loaded.id == min(m.id for m in await Meeting.filter(replaces_id=following.id))
    assert await dashboard.next_group_meetings([], statuses=(MeetingStatus.SCHEDULED,)) == {}
