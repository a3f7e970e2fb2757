"""Reminder lead times, the "I can't come" link's signature, and the settings that drive them."""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from server.platform.settings import Settings, SettingsError
from server.reminders.links import cant_come_token, read_cant_come_token
from server.reminders.messages import Reminder
from server.reminders.sms import ConsoleSms, OutboxSms, sender_from, sms_text
from server.reminders.sweep import lead_time_due

START = datetime(2027, 3, 2, 18, tzinfo=UTC)


def test_nothing_is_due_before_the_first_lead_time():
    assert lead_time_due(START, [24.0], START - timedelta(hours=25)) is None


def test_the_lead_time_is_due_once_its_moment_has_passed():
    assert lead_time_due(START, [24.0, 2.0], START - timedelta(hours=23)) == 24.0


def test_when_several_are_past_only_the_nearest_is_due():
    assert lead_time_due(START, [24.0, 2.0], START - timedelta(hours=1)) == 2.0


def test_nothing_is_due_once_the_meeting_has_begun_or_with_no_lead_times():
    assert lead_time_due(START, [24.0], START) is None
    assert lead_time_due(START, [], START - timedelta(hours=1)) is None


def test_a_link_reads_back_what_it_was_made_for():
    token = cant_come_token("secret", meeting_id=12, enrollment_id=34, ends_at=START)
    claim = read_cant_come_token("secret", token)
    assert (claim.meeting_id, claim.enrollment_id, claim.expires_at) == (12, 34, START)


@pytest.mark.parametrize("mangle", [
    lambda t: t.replace("12.", "13.", 1),  # another meeting
    lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),  # altered signature
    lambda t: t + "0",
    lambda t: "",
    lambda t: "12.34.abc.def",
])
def test_an_altered_link_is_unknown(mangle):
    token = cant_come_token("secret", meeting_id=12, enrollment_id=34, ends_at=START)
    assert read_cant_come_token("secret", mangle(token)) is None


def test_a_link_made_with_another_key_is_unknown():
    token = cant_come_token("other", meeting_id=12, enrollment_id=34, ends_at=START)
    assert read_cant_come_token("secret", token) is None


def env(**values: str) -> dict[str, str]:
    return {"GROUPIPT_SECRET_KEY": "x", **values}


@pytest.mark.parametrize(("value", "hours"), [("", (24.0,)), ("24", (24.0,)), ("2,24", (24.0, 2.0)),
                                              ("24, 2", (24.0, 2.0)), ("none", ()), ("0.5", (0.5,))])
def test_reminder_hours_are_read_from_the_environment(value, hours, tmp_path):
    settings = Settings.from_env({**env(GROUPIPT_REMINDER_HOURS=value), "GROUPIPT_VAR_DIR": str(tmp_path)})
    assert settings.reminder_hours == hours


@pytest.mark.parametrize("value", ["soon", "0", "-2", "24,,2", "1000"])
def test_unusable_reminder_hours_are_refused_with_the_setting_named(value, tmp_path):
    with pytest.raises(SettingsError, match="GROUPIPT_REMINDER_HOURS"):
        Settings.from_env({**env(GROUPIPT_REMINDER_HOURS=value), "GROUPIPT_VAR_DIR": str(tmp_path)})


def reminder() -> Reminder:
    return Reminder(meeting_id=1, member_id=2, enrollment_id=3, to="a@example.org",
                    subject="Reminder: Group session 4 of 8, Tue 02 Mar, 18:00", body="...",
                    cant_come_url="https://clinic.example/reminders/cant-come/t")


def test_a_text_message_is_the_subject_and_the_link():
    assert sms_text(reminder()) == ("Group session 4 of 8, Tue 02 Mar, 18:00. "
                                    "Can't come? https://clinic.example/reminders/cant-come/t")


def test_the_sms_sender_is_chosen_by_setting():
    base = Settings(database_url="sqlite://:memory:", secret_key="x", base_url="http://127.0.0.1")
    assert isinstance(sender_from(base), OutboxSms)
    console = Settings(database_url="sqlite://:memory:", secret_key="x", base_url="http://127.0.0.1",
                       extra={"GROUPIPT_SMS_SENDER": "console"})
    assert isinstance(sender_from(console), ConsoleSms)
    custom = Settings(database_url="sqlite://:memory:", secret_key="x", base_url="http://127.0.0.1",
                      extra={"GROUPIPT_SMS_SENDER": "server.reminders.sms:ConsoleSms"})
    assert isinstance(sender_from(custom), ConsoleSms)
    with pytest.raises(SettingsError, match="GROUPIPT_SMS_SENDER"):
        sender_from(Settings(database_url="sqlite://:memory:", secret_key="x", base_url="http://127.0.0.1",
                             extra={"GROUPIPT_SMS_SENDER": "nowhere:Nothing"}))


async def test_the_console_sender_logs_the_text(caplog):
    with caplog.at_level(logging.INFO, logger="groupipt.sms"):
        await ConsoleSms().send(to="+441234", text=sms_text(reminder()))
    assert "+441234" in caplog.text and "Can't come?" in caplog.text


@pytest.mark.parametrize(("url", "ok"), [("https://meet.example.org/room-4", True), ("http://meet.example.org/x", False),
                                         ("javascript:alert(1)", False), ("https://", False), ("", False),
                                         ("https://meet.example.org/a b", False), ("https://[::1", False)])
def test_only_https_addresses_are_join_links(url, ok):
    from server.reminders.join import is_join_link

    assert is_join_link(url) is ok


def test_the_join_window_opens_before_the_start_and_closes_at_the_end():
    from server.reminders.join import join_open

    end = START + timedelta(minutes=90)
    assert not join_open(starts_at=START, ends_at=end, now=START - timedelta(minutes=31), minutes_before=30)
    assert join_open(starts_at=START, ends_at=end, now=START - timedelta(minutes=30), minutes_before=30)
    assert join_open(starts_at=START, ends_at=end, now=end - timedelta(seconds=1), minutes_before=30)
    assert not join_open(starts_at=START, ends_at=end, now=end, minutes_before=30)
