"""Reminders before meetings and "I can't come" (issue 16), on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from calendars.discretion import clinical_words
from models.cohorts import MeetingStatus
from models.mail import OutboxMessage
from models.reminders import NotifiedAbsence, ReminderChoice, ReminderSent
from server import reminders
from server.board import apply, empty_state, opening_event
from server.board.roster import roster
from server.platform.settings import Settings
from server.reminders.links import cant_come_token
from server.web.templating import templates  # noqa: F401  (the app's import order)
from tests.integration.test_board_support import BoardClient, make_board_world
from tests.support.clients import Browserish
from tests.support.world import enroll, make_cohort, make_template, make_user


def settings_of(live_server, **changes) -> Settings:
    base = Settings(database_url=live_server.database_url, secret_key=live_server.env["GROUPIPT_SECRET_KEY"],
                    base_url=live_server.url, organizer_name="Riverside appointments")
    return replace(base, **changes)


async def group_soon(hours_ahead: float, *, members: int = 3):
    """A cohort whose session 4 starts `hours_ahead` from now, with `members` enrolled members."""
    facilitator = await make_user("facilitator", "Fay Reminders")
    cohort, meetings = await make_cohort(await make_template(), "Reminder group", facilitator)
    meeting = meetings[3]
    meeting.starts_at = datetime.now(timezone.utc) + timedelta(hours=hours_ahead)
    meeting.ends_at = meeting.starts_at + timedelta(minutes=90)
    await meeting.save()
    names = ["Alma Quist", "Bruno Vale", "Cleo Marsh", "Dev Okafor"]
    enrollments = [await enroll(cohort, await make_user("member", name)) for name in names[:members]]
    return cohort, meeting, enrollments, facilitator


async def test_a_reminder_holds_nothing_clinical_and_no_other_members_name(live_server, db):
    cohort, meeting, enrollments, _ = await group_soon(30)
    built = await reminders.reminders_for_meeting(meeting, settings=settings_of(live_server))
    assert [r.to for r in built] == [e.member.email for e in enrollments]
    for reminder, enrollment in zip(built, enrollments, strict=True):
        text = reminder.subject + "\n" + reminder.body
        assert clinical_words(text) == [], text
        assert "Group session 4 of 8" in text and "Room 2" in text
        assert f"Hello {enrollment.member.first_name}," in text
        for other in enrollments:
            if other.id != enrollment.id:
                assert other.member.first_name not in text and other.member.display_name not in text
        assert reminder.cant_come_url in reminder.body
        assert cohort.name not in text  # the cohort's internal name is not its neutral title


async def test_two_sweeps_at_once_send_each_reminder_once(live_server, db):
    # 30 h ahead with a 48 h lead time: outside the live server's own 24 h sweep.
    _, meeting, enrollments, _ = await group_soon(30)
    settings = settings_of(live_server, reminder_hours=(48.0, 2.0))
    now = datetime.now(timezone.utc)
    first, second = await asyncio.gather(reminders.sweep(now=now, settings=settings),
                                         reminders.sweep(now=now, settings=settings))
    mine = [r for r, _ in first.sent + second.sent if r.meeting_id == meeting.id]
    assert sorted(r.to for r in mine) == sorted(e.member.email for e in enrollments)
    assert await ReminderSent.filter(meeting_id=meeting.id).count() == len(enrollments)
    assert await OutboxMessage.filter(meeting_id=meeting.id).count() == len(enrollments)
    again = await reminders.sweep(now=now + timedelta(minutes=1), settings=settings)
    assert not [r for r, _ in again.sent if r.meeting_id == meeting.id]
    # Two hours before, the second lead time sends one more each.
    later = await reminders.sweep(now=meeting.starts_at - timedelta(hours=1.5), settings=settings)
    assert len([r for r, h in later.sent if r.meeting_id == meeting.id and h == 2.0]) == len(enrollments)


async def test_a_member_who_chose_no_reminders_gets_none(live_server, db):
    _, meeting, enrollments, _ = await group_soon(30, members=2)
    await ReminderChoice.create(user_id=enrollments[0].member_id, hours=[])
    settings = settings_of(live_server, reminder_hours=(48.0,))
    result = await reminders.sweep(now=datetime.now(timezone.utc), settings=settings)
    assert [r.to for r, _ in result.sent if r.meeting_id == meeting.id] == [enrollments[1].member.email]


async def test_reminders_go_through_a_real_smtp_server(live_server, db, smtp_server):
    controller, collector = smtp_server
    _, meeting, enrollments, _ = await group_soon(30, members=2)
    settings = settings_of(live_server, reminder_hours=(48.0,), smtp_host="127.0.0.1", smtp_port=controller.port,
                           mail_from="calendar@clinic.example")
    await reminders.sweep(now=datetime.now(timezone.utc), settings=settings)
    # The same pass sends questionnaire reminders too (test_questionnaire_reminders.py): read the meetings' own.
    def meeting_reminders():
        return [(r, m) for r, m in collector.messages if m["Subject"].startswith("Reminder: ")]
    for _ in range(50):
        if len(meeting_reminders()) >= 2:
            break
        await asyncio.sleep(0.05)
    got = {rcpt[0]: message for rcpt, message in meeting_reminders()}
    assert set(got) == {e.member.email for e in enrollments}
    for message in got.values():
        assert message["Subject"].startswith("Reminder: Group session 4 of 8")
        assert "/reminders/cant-come/" in message.get_payload()
    sent = await OutboxMessage.filter(meeting_id=meeting.id)
    assert all(m.sent_at is not None and m.error == "" for m in sent)


async def test_the_cant_come_link_records_the_absence_and_tells_the_facilitator(live_server, db):
    _, meeting, enrollments, facilitator = await group_soon(30, members=2)
    settings = settings_of(live_server)
    (reminder, _) = await reminders.reminders_for_meeting(meeting, settings=settings)
    async with Browserish(live_server.url) as browser:
        page = await browser.get(reminder.cant_come_url)
        assert page.status_code == 200 and "I can't come" in page.text
        sent = await browser.submit(reminder.cant_come_url, {"action": "cant_come", "reason": "Night shift"})
        assert sent.status_code == 303
        absence = await NotifiedAbsence.get(meeting_id=meeting.id, enrollment_id=enrollments[0].id)
        assert absence.reason == "Night shift" and absence.withdrawn_at is None
        told = await OutboxMessage.filter(to_email=facilitator.email, meeting_id=meeting.id)
        assert len(told) == 1
        assert "Night shift" not in told[0].body and enrollments[0].member.first_name not in told[0].body
        assert clinical_words(told[0].subject + told[0].body) == []
        page = await browser.get(reminder.cant_come_url)
        assert "I can come after all" in page.text
        # The reminder, built again, says so.
        again = (await reminders.reminders_for_meeting(meeting, settings=settings))[0]
        assert "You have told us you can't come" in again.body
        changed = await browser.submit(reminder.cant_come_url, {"action": "can_come"})
        assert changed.status_code == 303
        await absence.refresh_from_db()
        assert absence.withdrawn_at is not None
        assert await OutboxMessage.filter(to_email=facilitator.email, meeting_id=meeting.id).count() == 2
        # Changing one's mind again works with the same link.
        assert (await browser.submit(reminder.cant_come_url, {"action": "cant_come"})).status_code == 303
        await absence.refresh_from_db()
        assert absence.withdrawn_at is None


async def test_the_link_stops_after_the_meeting_and_forged_links_are_unknown(live_server, db):
    cohort, meeting, enrollments, _ = await group_soon(30, members=1)
    secret = live_server.env["GROUPIPT_SECRET_KEY"]
    past = await cohort.meetings.filter(status=MeetingStatus.COMPLETED).order_by("number").first()
    ended = cant_come_token(secret, meeting_id=past.id, enrollment_id=enrollments[0].id, ends_at=past.ends_at)
    good = cant_come_token(secret, meeting_id=meeting.id, enrollment_id=enrollments[0].id, ends_at=meeting.ends_at)
    forged = good[:-4] + ("0000" if not good.endswith("0000") else "1111")
    other = await group_soon(30, members=1)
    not_theirs = cant_come_token(secret, meeting_id=other[1].id, enrollment_id=enrollments[0].id,
                                 ends_at=other[1].ends_at)
    async with Browserish(live_server.url) as browser:
        gone = await browser.get(f"/reminders/cant-come/{ended}")
        assert gone.status_code == 410 and "ended" in gone.text
        for token in (forged, "abc", "1.2.3.", "9" * 40, not_theirs, "%00", "x" * 300):
            answer = await browser.get(f"/reminders/cant-come/{token}")
            assert answer.status_code in (400, 404), (token, answer.status_code)
            posted = await browser.submit(f"/reminders/cant-come/{token}", {"action": "cant_come"})
            assert posted.status_code in (400, 404), (token, posted.status_code)
        assert (await browser.submit(f"/reminders/cant-come/{good}", {"action": "maybe"})).status_code == 400
    assert not await NotifiedAbsence.filter(enrollment_id=enrollments[0].id).exists()


async def test_after_the_start_the_page_says_to_tell_the_facilitator(live_server, db):
    _, meeting, enrollments, _ = await group_soon(-0.5, members=1)
    token = cant_come_token(live_server.env["GROUPIPT_SECRET_KEY"], meeting_id=meeting.id,
                            enrollment_id=enrollments[0].id, ends_at=meeting.ends_at)
    async with Browserish(live_server.url) as browser:
        page = await browser.get(f"/reminders/cant-come/{token}")
        assert page.status_code == 200 and "already begun" in page.text
        refused = await browser.submit(f"/reminders/cant-come/{token}", {"action": "cant_come"})
        assert refused.status_code == 409


async def test_a_notified_absence_is_prefilled_on_the_board(live_server, db):
    bw = await make_board_world()
    await NotifiedAbsence.create(meeting_id=bw.meeting_id, enrollment_id=int(bw.members[1]), reason="Away",
                                 notified_at=datetime.now(timezone.utc))
    client = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
    try:
        attendance = client.snapshot["state"]["attendance"]
        assert attendance == {bw.members[1]: {"status": "absent_notified", "reason": "Away"}}
        # Still the facilitator's to change.
        answer = await client.command("mark_attendance", {"member": bw.members[1], "status": "present"})
        assert answer["type"] == "ack"
    finally:
        await client.close()


async def test_the_roster_leaves_out_withdrawn_absences(live_server, db):
    _, meeting, enrollments, _ = await group_soon(30, members=2)
    now = datetime.now(timezone.utc)
    await NotifiedAbsence.create(meeting_id=meeting.id, enrollment_id=enrollments[0].id, notified_at=now)
    await NotifiedAbsence.create(meeting_id=meeting.id, enrollment_id=enrollments[1].id, notified_at=now,
                                 withdrawn_at=now)
    state = apply(empty_state(), opening_event(await roster(meeting), now=now))
    assert state["attendance"] == {str(enrollments[0].id): {"status": "absent_notified", "reason": ""}}


async def test_the_portal_page_lists_next_meetings_and_keeps_the_choice(live_server, db, world):
    client = await world.client("member")
    page = await client.get("/portal/reminders")
    assert page.status_code == 200 and "I can't come" in page.text
    links = re.findall(r'href="(/reminders/cant-come/[^"]+)"', page.text)
    assert links
    saved = await client.submit("/portal/reminders", {"choice": "both"})
    assert saved.status_code == 303
    assert (await ReminderChoice.get(user_id=world.users["member"].id)).hours == [24, 2]
    assert 'value="both" checked' in (await client.get("/portal/reminders")).text
    assert (await client.submit("/portal/reminders", {"choice": "often"})).status_code == 400
    assert (await client.submit("/portal/reminders", {"choice": "clinic"})).status_code == 303
    assert not await ReminderChoice.filter(user_id=world.users["member"].id).exists()
    assert "/portal/reminders" in (await client.get("/portal")).text


async def test_a_genuine_link_answers_whoever_holds_it_and_a_random_one_no_one(live_server, db, world):
    meeting = world.meetings[4]
    token = cant_come_token(live_server.env["GROUPIPT_SECRET_KEY"], meeting_id=meeting.id,
                            enrollment_id=world.enrollment.id, ends_at=meeting.ends_at)
    async with Browserish(live_server.url) as anonymous:
        clients = [anonymous] + [await world.client(role) for role in world.users]
        for client in clients:
            assert (await client.get(f"/reminders/cant-come/{token}")).status_code == 200
            assert (await client.submit(f"/reminders/cant-come/{token}", {})).status_code == 400
            assert (await client.get("/reminders/cant-come/" + "A" * 43)).status_code == 404


async def test_the_command_line_runs_one_sweep(live_server, db):
    import os
    import subprocess
    import sys

    from tests.support.server import ROOT

    _, meeting, enrollments, _ = await group_soon(40, members=1)
    env = {**os.environ, "GROUPIPT_DATABASE_URL": live_server.database_url, "GROUPIPT_SECRET_KEY": "cli",
           "GROUPIPT_VAR_DIR": str(live_server.var_dir), "GROUPIPT_BASE_URL": live_server.url,
           "GROUPIPT_REMINDER_HOURS": "48"}
    result = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "server.cli", "reminders-sweep"],
                                     cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.search(r"Sent \d+ reminder\(s\)\.", result.stdout)
    assert await ReminderSent.filter(meeting_id=meeting.id, member_id=enrollments[0].member_id).exists()


async def test_the_join_button_shows_only_inside_its_window_and_the_link_is_in_the_reminder(live_server, db):
    from models.cohorts import Cohort
    from tests.support.clients import logged_in
    from tests.support.world import PASSWORD

    cohort, meeting, enrollments, _ = await group_soon(0.25, members=1)
    await Cohort.filter(id=cohort.id).update(video_link="https://meet.example.org/room-4")
    member = enrollments[0].member
    client = await logged_in(live_server.url, member.email, PASSWORD)
    try:
        page = await client.get("/portal/reminders")
        assert 'href="https://meet.example.org/room-4"' in page.text and ">Join</a>" in page.text
        meeting.starts_at = datetime.now(timezone.utc) + timedelta(minutes=45)
        meeting.ends_at = meeting.starts_at + timedelta(minutes=90)
        await meeting.save()
        assert ">Join</a>" not in (await client.get("/portal/reminders")).text
    finally:
        await client.aclose()
    (reminder,) = await reminders.reminders_for_meeting(meeting, settings=settings_of(live_server))
    assert "Join online: https://meet.example.org/room-4" in reminder.body
    await Cohort.filter(id=cohort.id).update(video_link="http://meet.example.org/room-4")
    (reminder,) = await reminders.reminders_for_meeting(meeting, settings=settings_of(live_server))
    assert "meet.example.org" not in reminder.body


async def test_saying_so_while_the_board_is_open_marks_it_live_unless_the_facilitator_has(live_server, db):
    from models.cohorts import Meeting

    bw = await make_board_world()
    starts = datetime.now(timezone.utc) + timedelta(hours=5)
    await Meeting.filter(id=bw.meeting_id).update(starts_at=starts, ends_at=starts + timedelta(minutes=90))
    secret = live_server.env["GROUPIPT_SECRET_KEY"]

    def link(member: str) -> str:
        return "/reminders/cant-come/" + cant_come_token(secret, meeting_id=bw.meeting_id, enrollment_id=int(member),
                                                         ends_at=starts + timedelta(minutes=90))

    client = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
    try:
        assert (await client.command("mark_attendance", {"member": bw.members[2], "status": "present"}))["type"] == "ack"
        async with Browserish(live_server.url) as browser:
            assert (await browser.submit(link(bw.members[1]), {"action": "cant_come", "reason": "Exam"})).status_code == 303
            assert (await browser.submit(link(bw.members[2]), {"action": "cant_come"})).status_code == 303
        later = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac2"])
        attendance = later.snapshot["state"]["attendance"]
        await later.close()
        assert attendance[bw.members[1]] == {"status": "absent_notified", "reason": "Exam"}
        assert attendance[bw.members[2]]["status"] == "present"  # the facilitator's mark stands
    finally:
        await client.close()


async def test_the_api_says_i_cant_come_and_i_can_after_all(live_server, db):
    from tests.support.clients import logged_in
    from tests.support.world import PASSWORD

    _, meeting, enrollments, facilitator = await group_soon(30, members=2)
    client = await logged_in(live_server.url, enrollments[0].member.email, PASSWORD)
    other = await logged_in(live_server.url, enrollments[1].member.email, PASSWORD)
    try:
        listed = (await client.get("/api/v1/me/meetings")).json()
        mine = next(m for m in listed if m["meeting_id"] == meeting.id)
        assert mine["said_cant_come"] is False and mine["title"] == "Group session 4 of 8"
        assert mine["cant_come_url"].startswith(live_server.url + "/reminders/cant-come/")
        put = await client.send_json("PUT", f"/api/v1/me/meetings/{meeting.id}/absence", {"reason": "Away"})
        assert put.status_code == 200 and put.json() == {"meeting_id": meeting.id, "said_cant_come": True,
                                                         "reason": "Away"}
        assert next(m for m in (await client.get("/api/v1/me/meetings")).json()
                    if m["meeting_id"] == meeting.id)["said_cant_come"] is True
        bad = await client.send_json("PUT", f"/api/v1/me/meetings/{meeting.id}/absence", {"reason": 5})
        assert bad.status_code == 400
        # The other member's view of the same meeting is their own.
        assert next(m for m in (await other.get("/api/v1/me/meetings")).json()
                    if m["meeting_id"] == meeting.id)["said_cant_come"] is False
        deleted = await client.send_json("DELETE", f"/api/v1/me/meetings/{meeting.id}/absence")
        assert deleted.status_code == 200 and deleted.json()["said_cant_come"] is False
        absence = await NotifiedAbsence.get(meeting_id=meeting.id, enrollment_id=enrollments[0].id)
        assert absence.withdrawn_at is not None
        from models.cohorts import Meeting

        past = await Meeting.filter(cohort_id=meeting.cohort_id, status=MeetingStatus.COMPLETED).first()
        ended = await client.send_json("PUT", f"/api/v1/me/meetings/{past.id}/absence", {})
        assert ended.status_code == 410 and ended.json()["code"] == "meeting_passed"
        gone = await client.send_json("PUT", "/api/v1/me/meetings/999999/absence", {})
        assert gone.status_code == 404
    finally:
        await client.aclose()
        await other.aclose()


async def test_a_running_server_sweeps_by_itself(live_server, db, tmp_path):
    from tests.support.server import LiveServer

    _, meeting, enrollments, _ = await group_soon(40, members=1)
    own = LiveServer(var_dir=tmp_path, database_url=live_server.database_url,
                     extra_env={"GROUPIPT_REMINDER_HOURS": "48"})
    await asyncio.to_thread(own.start)
    try:
        for _ in range(300):
            if await ReminderSent.filter(meeting_id=meeting.id).exists():
                break
            await asyncio.sleep(0.1)
    finally:
        await asyncio.to_thread(own.stop)
    sent = await ReminderSent.filter(meeting_id=meeting.id).prefetch_related("message")
    assert [(r.member_id, r.hours_before) for r in sent] == [(enrollments[0].member_id, 48.0)]
    assert "/reminders/cant-come/" in sent[0].message.body
