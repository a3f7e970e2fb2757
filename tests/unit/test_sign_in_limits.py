"""Session limits, the sign-in settings, devices in words, recovery-code shapes (issue 18)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from models.accounts import Role
from server.accounts import sessions
from server.accounts.second_factors import _format_code
from server.platform.settings import Settings, SettingsError

ENV = {"GROUPIPT_SECRET_KEY": "x"}


def test_staff_limits_follow_nist_aal2_by_default_and_members_last_longer():
    settings = Settings.from_env(ENV)
    assert sessions.limits(settings, Role.FACILITATOR) == (timedelta(minutes=30), timedelta(hours=12))
    assert sessions.limits(settings, Role.COORDINATOR) == (timedelta(minutes=30), timedelta(hours=12))
    idle, absolute = sessions.limits(settings, Role.MEMBER)
    assert idle == timedelta(days=7) and absolute == timedelta(days=14)
    assert settings.staff_mfa_required


def test_the_limits_and_the_factor_rule_are_read_from_the_environment():
    settings = Settings.from_env({**ENV, "GROUPIPT_IDLE_MINUTES": "15", "GROUPIPT_SESSION_HOURS": "8",
                                  "GROUPIPT_STAFF_MFA": "optional"})
    assert sessions.limits(settings, Role.FACILITATOR) == (timedelta(minutes=15), timedelta(hours=8))
    assert not settings.staff_mfa_required


@pytest.mark.parametrize("name, value, words", [
    ("GROUPIPT_STAFF_MFA", "sometimes", "Expected 'required' or 'optional'"),
    ("GROUPIPT_IDLE_MINUTES", "0", "at least 1"),
    ("GROUPIPT_SESSION_HOURS", "twelve", "Not a valid integer"),
])
def test_bad_sign_in_settings_name_the_variable(name, value, words):
    with pytest.raises(SettingsError, match=name) as caught:
        Settings.from_env({**ENV, name: value})
    assert words in str(caught.value)


def test_a_session_ends_at_the_earlier_of_idle_and_absolute():
    settings = Settings.from_env(ENV)
    start = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
    record = SimpleNamespace(created_at=start, last_seen_at=start + timedelta(hours=11, minutes=50))
    idle_until, absolute_until = sessions.expiry(record, settings, Role.FACILITATOR)
    assert idle_until == start + timedelta(hours=12, minutes=20)
    assert absolute_until == start + timedelta(hours=12)


@pytest.mark.parametrize("agent, words", [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36", "Chrome on Windows"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPhone"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"),
    ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0", "Edge on Windows"),
    ("python-httpx/0.28.1", "python-httpx/0.28.1"),
    ("", "Unknown device"),
])
def test_devices_are_named_as_a_person_would_recognise_them(agent, words):
    assert sessions.describe_device(agent) == words


def test_recovery_codes_read_in_two_groups_whatever_was_typed():
    assert _format_code("a1b2c3d4e5") == "a1b2c-3d4e5"
    assert _format_code("A1B2C3D4E5") == "a1b2c-3d4e5"
