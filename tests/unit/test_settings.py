from __future__ import annotations

import pytest

from server.platform.logconfig import mask_secrets
from server.platform.settings import Settings, SettingsError


def test_defaults_use_sqlite_under_var_and_generate_a_secret_once(tmp_path):
    settings = Settings.from_env({"GROUPIPT_VAR_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite://{tmp_path / 'groupipt.sqlite3'}"
    assert settings.broadcast_url == "memory://"
    assert len(settings.secret_key) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert Settings.from_env({"GROUPIPT_VAR_DIR": str(tmp_path)}).secret_key == settings.secret_key


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GROUPIPT_DATABASE_URL", "mysql://x", "GROUPIPT_DATABASE_URL has value 'mysql://x'"),
        ("GROUPIPT_BROADCAST_URL", "kafka://x", "Expected memory:// or redis://"),
        ("GROUPIPT_BASE_URL", "example.org", "Expected an absolute http(s) URL"),
        ("GROUPIPT_HTTPS_ONLY", "maybe", "Not a valid bool"),
        ("GROUPIPT_SMTP_PORT", "twenty-five", "Not a valid integer"),
        ("GROUPIPT_PASSWORD_PROFILE", "weak", "Expected 'default' or 'cheapest'"),
        # '*' would let any client choose the address throttling and the audit log record.
        ("GROUPIPT_TRUSTED_PROXIES", "*", "Expected IP addresses or networks"),
        ("GROUPIPT_TRUSTED_PROXIES", "proxy.internal", "Expected IP addresses or networks"),
    ],
)
def test_bad_values_name_the_variable_and_what_is_expected(tmp_path, name, value, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env({"GROUPIPT_VAR_DIR": str(tmp_path), "GROUPIPT_SECRET_KEY": "k", name: value})


def test_https_base_url_turns_on_secure_cookies(tmp_path):
    settings = Settings.from_env({"GROUPIPT_VAR_DIR": str(tmp_path), "GROUPIPT_BASE_URL": "https://groups.example.org/"})
    assert settings.https_only and settings.origin == "https://groups.example.org"


def test_access_log_masks_feed_tokens_and_one_time_links():
    line = '127.0.0.1 - "GET /feeds/abcDEF_123-xyz.ics HTTP/1.1" 200 and "GET /invitations/s3cr3t HTTP/1.1"'
    masked = mask_secrets(line)
    assert "abcDEF_123-xyz" not in masked and "s3cr3t" not in masked
    assert "/feeds/***.ics" in masked and "/invitations/***" in masked


def test_trusted_proxies_default_to_the_local_host_and_take_networks(tmp_path):
    env = {"GROUPIPT_VAR_DIR": str(tmp_path), "GROUPIPT_SECRET_KEY": "k"}
    assert Settings.from_env(env).trusted_proxies == "127.0.0.1"
    assert Settings.from_env({**env, "GROUPIPT_TRUSTED_PROXIES": "172.30.0.10, 10.0.0.0/8"}).trusted_proxies == \
        "172.30.0.10,10.0.0.0/8"
