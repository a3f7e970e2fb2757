"""Questionnaires due send their own reminder, with the link to that very form (issue 16)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from calendars.discretion import clinical_words
from models.clinical import MeasureResponse
from models.reminders import QuestionnaireReminderSent, ReminderChoice
from server import reminders
from server.measures.responses import member_form_path
from server.reminders.questionnaires import questionnaire_reminders_due, send_questionnaire_reminders
from server.web.templating import templates  # noqa: F401  (the app's import order)
from tests.integration.test_reminders import group_soon, settings_of
from tests.support.clients import Browserish, finish_sign_in
from tests.support.world import PASSWORD


async def _arrived(collector, email: str, count: int = 1):
    for _ in range(100):
        got = [m for rcpt, m in collector.messages if email in rcpt]
        if len(got) >= count:
            return got
        await asyncio.sleep(0.05)
    return [m for rcpt, m in collector.messages if email in rcpt]


async def test_a_questionnaire_due_is_reminded_once_through_smtp_and_its_link_opens_that_form(live_server, db, smtp_server):
    controller, collector = smtp_server
    _, _, enrollments, _ = await group_soon(30, members=2)
    member = enrollments[0].member
    settings = settings_of(live_server, reminder_hours=(1.0,), smtp_host="127.0.0.1", smtp_port=controller.port,
                           mail_from="calendar@clinic.example")
    now = datetime.now(timezone.utc)
    due = [d for d in await questionnaire_reminders_due(now=now) if d.enrollment.member_id == member.id]
    assert due, "the test template's baseline questionnaires are open for a new member"
    result = await reminders.sweep(now=now, settings=settings)
    mine = [r for r in result.questionnaires if r.member_id == member.id]
    assert sorted((r.instrument, r.occasion) for r in mine) == sorted((r.instrument, r.occasion) for r in due)
    got = await _arrived(collector, member.email, len(mine))
    assert len(got) == len(mine)
    for message in got:
        text = message["Subject"] + "\n" + message.get_payload()
        assert message["Subject"] == "A short questionnaire is ready: Group session"
        assert clinical_words(text) == [], text  # not "PHQ-9", not what it measures
        assert enrollments[1].member.first_name not in text
    # Once per window: the next passes send nothing more for this member.
    again = await send_questionnaire_reminders(now=now, settings=settings)
    assert not [r for r in again if r.member_id == member.id]
    assert await QuestionnaireReminderSent.filter(enrollment_id=enrollments[0].id).count() == len(mine)
    # The link opens that form after sign-in.
    link = mine[0].form_url
    assert link in got[0].get_payload(decode=True).decode() or any(
        link in m.get_payload(decode=True).decode() for m in got)
    form_path = member_form_path(enrollments[0].id, mine[0].instrument, mine[0].occasion)
    async with Browserish(live_server.url) as browser:
        first = await browser.get(link)
        assert first.status_code == 303 and first.headers["location"].startswith("/login?next=")
        signed_in = await browser.submit("/login", {"email": member.email, "password": PASSWORD,
                                                    "next": link.removeprefix(live_server.url)})
        signed_in = await finish_sign_in(browser, signed_in, member.email)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == link.removeprefix(live_server.url)
        opened = await browser.get(link)
        assert opened.status_code == 303 and opened.headers["location"] == form_path
        form = await browser.get(form_path)
        assert form.status_code == 200 and f'action="{form_path}"' in form.text
        forged = await browser.get(link[:-4] + "0000")
        assert forged.status_code == 404


async def test_nothing_is_reminded_once_answered_or_when_the_member_chose_no_reminders(live_server, db):
    _, _, enrollments, _ = await group_soon(30, members=2)
    now = datetime.now(timezone.utc)
    due = [d for d in await questionnaire_reminders_due(now=now) if d.enrollment.id == enrollments[0].id]
    answered = due[0]
    await MeasureResponse.create(enrollment_id=enrollments[0].id, instrument=answered.instrument,
                                 window=answered.occasion, items=[0] * (9 if answered.instrument == "phq9" else 7),
                                 total=0, band="minimal", administered_at=now)
    await ReminderChoice.create(user_id=enrollments[1].member_id, hours=[])
    after = await questionnaire_reminders_due(now=now)
    assert (enrollments[0].id, answered.instrument, answered.occasion) not in {
        (d.enrollment.id, d.instrument, d.occasion) for d in after}
    assert not [d for d in after if d.enrollment.id == enrollments[1].id]


async def test_the_link_says_plainly_once_its_window_has_closed(live_server, db):
    from models.reminders import QuestionnaireReminderSent as Sent
    from server.reminders.links import questionnaire_path
    from tests.support.clients import logged_in

    _, _, enrollments, _ = await group_soon(30, members=1)
    # The closure window is weeks away, so it is not open now: the link must not open a form.
    row = await Sent.create(enrollment_id=enrollments[0].id, instrument="phq9", occasion="closure")
    client = await logged_in(live_server.url, enrollments[0].member.email, PASSWORD)
    try:
        closed = await client.get(questionnaire_path(live_server.env["GROUPIPT_SECRET_KEY"], row.id))
        assert closed.status_code == 410 and "closed" in closed.text
    finally:
        await client.aclose()


async def test_the_sweep_reads_enrollments_in_batches_and_finds_the_same_windows(live_server, db):
    """Batches keep the event loop free for the boards; they must not drop or repeat a window."""
    _, _, enrollments, _ = await group_soon(30, members=5)
    now = datetime.now(timezone.utc)

    def key(d):
        return (d.enrollment.id, d.instrument, d.occasion)

    whole = sorted(map(key, await questionnaire_reminders_due(now=now, batch=10_000)))
    assert {e.id for e in enrollments} <= {enrollment_id for enrollment_id, _, _ in whole}
    for batch in (1, 2, 3):
        assert sorted(map(key, await questionnaire_reminders_due(now=now, batch=batch))) == whole
