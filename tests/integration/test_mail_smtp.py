"""Schedule-change mail through a real SMTP server (aiosmtpd) on loopback."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone


from calendars import MeetingStatus
from models.cohorts import Cohort
from models.mail import OutboxMessage
from server import schedule
from server.platform import mailer
from server.platform.settings import Settings
from server.web.templating import templates  # noqa: F401  (the app's import order)
from tests.integration.schedule_support import active_cohort, future_weekday
from tests.support.server import free_port


def settings_for(controller) -> Settings:
    return Settings(database_url="sqlite://:memory:", secret_key="x", base_url="http://127.0.0.1",
                    smtp_host="127.0.0.1", smtp_port=controller.port, mail_from="calendar@clinic.example",
                    organizer_name="Riverside appointments")


async def test_changes_within_48_hours_are_sent_by_smtp(world, live_server, smtp_server):
    controller, collector = smtp_server
    made = await active_cohort(world, live_server, members=2, start=future_weekday(25, 2))
    cohort = await Cohort.get(id=made["id"])
    meetings = await schedule.stored_meetings(cohort)
    now = datetime.now(timezone.utc)
    s1 = next(m for m in meetings if m.is_group and m.number == 1)
    soon = replace(s1, start=now + timedelta(hours=20), end=now + timedelta(hours=21, minutes=30), sequence=1)
    cancelled = replace(next(m for m in meetings if m.is_group and m.number == 2), status=MeetingStatus.CANCELLED)
    made_count = await mailer.notify_changes(
        cohort=cohort, before={m.uid: m for m in meetings}, after=[soon, cancelled], now=now,
        settings=settings_for(controller),
    )
    assert made_count == 3  # two members and the facilitator, one message each
    for _ in range(50):
        if len(collector.messages) == 3:
            break
        await asyncio.sleep(0.05)
    assert sorted(r[0][0] for r in collector.messages) == sorted(
        [p.email for p in made["members"]] + [made["facilitator"].email]
    )
    for recipients, message in collector.messages:
        assert message["From"] == "calendar@clinic.example"
        assert message["Subject"] == "Your schedule has changed"
        text = message.get_payload()
        assert "Group session 1 of 8: now" in text
        assert "Riverside appointments" in text
        assert "Group session 2 of 8" not in text  # weeks away: not part of a 48-hour notice
    stored = await OutboxMessage.filter(to_email=made["members"][0].email).order_by("-id").first()
    assert stored.sent_at is not None and stored.error == ""


async def test_an_unreachable_smtp_server_leaves_the_message_in_the_outbox(world, live_server):
    made = await active_cohort(world, live_server, members=1, start=future_weekday(26, 3))
    cohort = await Cohort.get(id=made["id"])
    meetings = await schedule.stored_meetings(cohort)
    now = datetime.now(timezone.utc)
    s1 = next(m for m in meetings if m.is_group and m.number == 1)
    soon = replace(s1, start=now + timedelta(hours=5), end=now + timedelta(hours=6))
    dead = Settings(database_url="sqlite://:memory:", secret_key="x", base_url="http://127.0.0.1",
                    smtp_host="127.0.0.1", smtp_port=free_port())
    assert await mailer.notify_changes(cohort=cohort, before={m.uid: m for m in meetings}, after=[soon], now=now,
                                     settings=dead) == 2
    stored = await OutboxMessage.filter(to_email=made["members"][0].email).order_by("-id").first()
    assert stored.sent_at is None and stored.error


def test_a_change_counts_if_the_old_or_the_new_time_is_within_48_hours():
    from calendars.meetings import PlannedMeeting
    from calendars.vocabulary import MeetingKind, Phase

    now = datetime(2027, 1, 1, 12, tzinfo=timezone.utc)

    def at(hours: float) -> PlannedMeeting:
        start = now + timedelta(hours=hours)
        return PlannedMeeting(key="k", kind=MeetingKind.GROUP, number=1, of=8, phase=Phase.INITIAL, start=start,
                              end=start + timedelta(minutes=90), wall_time=start.time(), minutes=90, uid="u")

    assert mailer.affected_soon(at(200), at(30), now)  # moved into the window
    assert mailer.affected_soon(at(30), at(200), now)  # moved out of it: people still need to know
    assert not mailer.affected_soon(at(100), at(200), now)
    assert not mailer.affected_soon(at(-5), at(-4), now)
