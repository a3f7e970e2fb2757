"""Members who stop coming are followed up (issue 16), on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from calendars.discretion import clinical_words
from models.board import Attendance
from models.cohorts import EnrollmentStatus, MeetingStatus
from models.mail import OutboxMessage
from models.reminders import FollowUp, FollowUpReason, Outreach
from server import accounts
from server.platform.settings import Settings
from server.reminders import follow_ups
from server.web.templating import templates  # noqa: F401  (the app's import order)
from tests.support.clients import bearer, logged_in
from tests.support.world import PASSWORD, enroll, make_cohort, make_template, make_user


def settings_of(live_server, **changes) -> Settings:
    base = Settings(database_url=live_server.database_url, secret_key=live_server.env["GROUPIPT_SECRET_KEY"],
                    base_url=live_server.url, organizer_name="Riverside appointments")
    return replace(base, **changes)


async def group_with(marks: dict[str, list[str]], *, start_days_ago: int = 21, capacity: int = 9):
    """A cohort whose sessions 1-3 are held, each named member with their attendance at them."""
    facilitator = await make_user("facilitator", "Fay Followup")
    start = (datetime.now(timezone.utc) - timedelta(days=start_days_ago)).date()
    cohort, meetings = await make_cohort(await make_template(), "Follow-up group", facilitator, start=start,
                                         capacity=capacity)
    enrollments = {}
    for name, statuses in marks.items():
        e = enrollments[name] = await enroll(cohort, await make_user("member", name))
        for meeting, status in zip(meetings, statuses, strict=False):
            await Attendance.create(meeting=meeting, enrollment=e, status=status, recorded_by=facilitator)
    return cohort, meetings, enrollments, facilitator


async def test_two_sessions_missed_in_a_row_raise_one_item_and_a_mail_saying_nothing_else(live_server, db):
    cohort, _, people, facilitator = await group_with({
        "Ada Twice": ["present", "absent_notified", "absent_notified"],
        "Ben Once": ["present", "present", "absent_notified"],
        "Cas Always": ["present", "late", "present"],
    })
    settings = settings_of(live_server)
    now = datetime.now(timezone.utc)
    first, second = await asyncio.gather(follow_ups.raise_follow_ups(now=now, settings=settings, cohort_ids=[cohort.id]),
                                         follow_ups.raise_follow_ups(now=now, settings=settings, cohort_ids=[cohort.id]))
    again = await follow_ups.raise_follow_ups(now=now, settings=settings, cohort_ids=[cohort.id])
    assert again == [] and len(first) + len(second) == 1
    (item,) = await FollowUp.filter(cohort_id=cohort.id)
    assert item.enrollment_id == people["Ada Twice"].id and item.reason == FollowUpReason.ABSENCES_IN_A_ROW
    assert item.absences_in_a_row == 2 and item.closed_at is None
    (mail,) = await OutboxMessage.filter(to_email=facilitator.email)
    assert mail.subject == "A member may need a call: Group session"
    assert "A member of Group session may need a call" in mail.body and f"/follow-ups/{item.id}" in mail.body
    assert "Ada" not in mail.subject + mail.body and cohort.name not in mail.body
    assert clinical_words(mail.subject + mail.body) == []


async def test_a_session_missed_without_a_word_is_followed_up_at_once_and_its_run_stays_one_item(live_server, db):
    cohort, meetings, people, facilitator = await group_with({"Dee Silent": ["present", "present", "absent_unnotified"]})
    settings = settings_of(live_server)
    (raised,) = await follow_ups.raise_follow_ups(now=datetime.now(timezone.utc), settings=settings, cohort_ids=[cohort.id])
    assert raised.reason == FollowUpReason.ABSENT_WITHOUT_WORD and raised.first_missed_id == meetings[2].id
    # Session 4 is missed too: the same run, the same item, now two in a row; no second e-mail.
    await meetings[3].__class__.filter(id=meetings[3].id).update(status=MeetingStatus.COMPLETED)
    await Attendance.create(meeting=meetings[3], enrollment=people["Dee Silent"], status="absent_notified")
    assert await follow_ups.raise_follow_ups(now=datetime.now(timezone.utc), settings=settings,
                                             cohort_ids=[cohort.id]) == []
    item = await FollowUp.get(id=raised.id)
    assert (item.absences_in_a_row, item.unnotified, item.last_missed_id) == (2, 1, meetings[3].id)
    assert item.reason == FollowUpReason.ABSENCES_IN_A_ROW
    assert await OutboxMessage.filter(to_email=facilitator.email).count() == 1


async def test_the_clinic_sets_how_many_in_a_row(live_server, db):
    cohort, _, _, _ = await group_with({"Eli Three": ["present", "absent_notified", "absent_notified"]})
    settings = settings_of(live_server, follow_up_after_absences=3)
    assert await follow_ups.raise_follow_ups(now=datetime.now(timezone.utc), settings=settings,
                                             cohort_ids=[cohort.id]) == []


async def test_the_facilitator_sees_the_item_on_home_board_and_cohort_page_and_records_the_call(live_server, db):
    cohort, meetings, people, facilitator = await group_with({
        "Fen Away": ["present", "absent_notified", "absent_notified"], "Gil Here": ["present"] * 3})
    (item,) = await follow_ups.raise_follow_ups(now=datetime.now(timezone.utc), settings=settings_of(live_server),
                                                cohort_ids=[cohort.id])
    client = await logged_in(live_server.url, facilitator.email, PASSWORD)
    try:
        home = await client.get("/")
        assert 'id="follow-ups"' in home.text and f'href="/follow-ups/{item.id}"' in home.text and "Fen Away" in home.text
        assert f'data-at-risk="{cohort.id}"' in home.text
        board = await client.get(f"/boards/{meetings[3].id}")
        assert board.status_code == 200 and 'id="board-follow-ups"' in board.text and "Fen Away" in board.text
        page = await client.get(f"/cohorts/{cohort.id}")
        assert 'id="at-risk"' in page.text and "2 sessions missed since last here" in page.text
        assert "Gil Here" not in page.text.split('id="at-risk"')[1].split("</ul>")[0]
        # No outcome: a clear error, nothing recorded.
        refused = await client.submit(f"/follow-ups/{item.id}", {"note": "Rang twice"})
        assert refused.status_code == 400 and "Choose how it went" in refused.text
        assert await Outreach.filter(follow_up_id=item.id).count() == 0
        tried = await client.submit(f"/follow-ups/{item.id}", {"outcome": "not_reached", "note": "Voicemail"})
        assert tried.status_code == 303
        assert (await FollowUp.get(id=item.id)).closed_at is None
        done = await client.submit(f"/follow-ups/{item.id}", {"outcome": "plans_to_return", "note": "Back next week"})
        assert done.status_code == 303
        settled = await FollowUp.get(id=item.id)
        assert settled.closed_at is not None and settled.outcome.value == "plans_to_return"
        shown = await client.get(f"/follow-ups/{item.id}")
        assert "Voicemail" in shown.text and "Plans to return" in shown.text and 'id="outreach-form"' not in shown.text
        assert 'id="follow-ups"' not in (await client.get("/")).text
    finally:
        await client.aclose()


async def test_leaving_withdraws_the_member_with_a_reason_and_offers_the_place_from_the_waitlist(live_server, db):
    # Session 1 a week ago: late joining is still open, so the waitlist's first member is promoted.
    cohort, _, people, facilitator = await group_with(
        {"Hal Leaving": ["absent_notified", "absent_notified"], "Ivy Staying": ["present", "present"]},
        start_days_ago=7, capacity=2)
    waiting = await enroll(cohort, await make_user("member", "Jo Waiting"), EnrollmentStatus.WAITLISTED)
    await waiting.__class__.filter(id=waiting.id).update(waitlisted_at=datetime.now(timezone.utc) - timedelta(days=3))
    (item,) = await follow_ups.raise_follow_ups(now=datetime.now(timezone.utc), settings=settings_of(live_server),
                                                cohort_ids=[cohort.id])
    _, token = await accounts.create_api_token(facilitator, "tests")
    async with bearer(live_server.url, token) as api:
        listed = await api.get(f"/api/v1/cohorts/{cohort.id}/follow-ups")
        assert listed.status_code == 200
        assert [f["id"] for f in listed.json()["follow_ups"]] == [item.id]
        assert {r["member"]: r["missed_in_a_row"] for r in listed.json()["at_risk"]} == {"Hal Leaving": 2}
        bad = await api.post(f"/api/v1/follow-ups/{item.id}/outreach", json={"outcome": "gone"})
        assert bad.status_code == 400
        no_reason = await api.post(f"/api/v1/follow-ups/{item.id}/outreach", json={"outcome": "leaving"})
        assert no_reason.status_code == 422 and "withdrawal_reason" in no_reason.text
        assert (await people["Hal Leaving"].__class__.get(id=people["Hal Leaving"].id)).status == EnrollmentStatus.ENROLLED
        left = await api.post(f"/api/v1/follow-ups/{item.id}/outreach",
                              json={"outcome": "leaving", "note": "New job, evening shifts",
                                    "withdrawal_reason": "Work hours changed"})
        assert left.status_code == 200, left.text
        assert left.json()["outcome"] == "leaving" and "promoted" in left.json()["withdrawal"]
        again = await api.post(f"/api/v1/follow-ups/{item.id}/outreach", json={"outcome": "reached"})
        assert again.status_code == 409
    hal = await people["Hal Leaving"].__class__.get(id=people["Hal Leaving"].id)
    assert hal.status == EnrollmentStatus.WITHDRAWN and hal.withdrawal_reason == "Work hours changed"
    assert (await waiting.__class__.get(id=waiting.id)).status == EnrollmentStatus.ENROLLED


async def test_the_sweep_raises_items_in_active_cohorts_unless_the_clinic_says_none(live_server, db):
    from server import reminders

    _, _, people, _ = await group_with({"Kit Gone": ["present", "absent_unnotified", "absent_unnotified"]})
    result = await reminders.sweep(now=datetime.now(timezone.utc), settings=settings_of(live_server, reminder_hours=()))
    assert people["Kit Gone"].id in {f.enrollment_id for f in result.follow_ups}
    assert await FollowUp.filter(enrollment_id=people["Kit Gone"].id).count() == 1
    quiet = await group_with({"Lou Gone": ["absent_unnotified"] * 3})
    result = await reminders.sweep(now=datetime.now(timezone.utc),
                                   settings=settings_of(live_server, reminder_hours=(), follow_up_after_absences=None))
    assert result.follow_ups == [] and not await FollowUp.filter(cohort_id=quiet[0].id).exists()
