"""Settings, read once from GROUPIPT_* environment variables, with precise errors.

Modelled on starlette.config: every variable is parsed here and nowhere else, and a bad
value names the variable, the value and what would be accepted.
"""
from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tortoise.backends.base.config_generator import expand_db_url

from calendars.discretion import clinical_words
from models import MODEL_MODULES

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class SettingsError(Exception):
    """A GROUPIPT_* variable has a value the platform cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    base_url: str
    broadcast_url: str = "memory://"
    var_dir: Path = PROJECT_ROOT / "var"
    # "default" is argon2-cffi's RFC 9106 low-memory profile; "cheapest" is for tests only.
    password_profile: str = "default"
    https_only: bool = False
    # Addresses (or networks) of the reverse proxies whose X-Forwarded-For/-Proto the server
    # believes (uvicorn's forwarded_allow_ips). Anyone else's are ignored.
    trusted_proxies: str = "127.0.0.1"
    max_body_bytes: int = 2 * 1024 * 1024
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "no-reply@localhost"
    organizer_name: str = "Clinic appointments"
    # Shown until a coordinator sets the clinic's own crisis help text (server/measures/safety/member_help.py).
    # It names no phone number and promises nothing: who will get in touch, and by when, is
    # said separately from what will actually happen.
    help_text: str = (
        "If you are thinking about harming yourself or feel unsafe right now, please call "
        "your local emergency number, or talk to someone you trust today."
    )
    help_text_from_env: bool = False
    # How soon a safety item should have a documented risk check (hours, fractions allowed).
    safety_response_hours: float = 24.0
    login_attempts_per_15_min: int = 5
    extra: Mapping[str, str] = field(default_factory=dict)
    # Reminders before each meeting (server/reminders): hours before, largest first.
    reminder_hours: tuple[float, ...] = (24.0,)
    # Members see the Join button of an online meeting from this many minutes before its start.
    join_minutes_before: int = 30
    # The supervision agenda flags a member "not improving by mid-treatment" when their PHQ-9
    # has not dropped by at least this many percent from baseline by the middle phase's
    # midpoint. domain-ipt.md gives no such rule: this is the clinic's setting (issue 17).
    early_improvement_percent: int = 20
    # A follow-up call is raised after this many group sessions missed in a row (server/reminders/follow_ups.py);
    # None ("none"): the sweep raises none.
    follow_up_after_absences: int | None = 2

    # --- sign-in limits and second factors (issue 18; read by _sign_in_settings) -----------
    # Staff read and write clinical records: NIST SP 800-63B (AAL2) asks for re-authentication
    # after 30 minutes without activity and 12 hours after sign-in.
    idle_minutes: int = 30
    session_hours: int = 12
    # Members see only their own record, mostly from a phone once a week, to answer the week's
    # questionnaire; a sign-in wall every visit would cost answers, not protect others' data.
    # A week without activity (one group's cycle) and the session cookie's 14 days at most.
    member_idle_hours: int = 7 * 24
    member_session_days: int = 14
    # "required": coordinators and facilitators must have a second factor; "optional": the
    # clinic relaxes that (members may always add one and are never forced).
    staff_mfa: str = "required"

    @property
    def staff_mfa_required(self) -> bool:
        return self.staff_mfa == "required"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def tortoise_config(self) -> dict:
        return tortoise_config(self.database_url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        var_dir = Path(env.get("GROUPIPT_VAR_DIR", str(PROJECT_ROOT / "var")))
        database_url = env.get("GROUPIPT_DATABASE_URL") or f"sqlite://{var_dir / 'groupipt.sqlite3'}"
        scheme = database_url.split("://", 1)[0]
        if "://" not in database_url or scheme not in {"sqlite", "postgres", "postgresql", "asyncpg"}:
            raise SettingsError(
                f"GROUPIPT_DATABASE_URL has value {database_url!r}. Expected sqlite://PATH "
                "or postgres://USER@HOST:PORT/DB."
            )
        broadcast_url = env.get("GROUPIPT_BROADCAST_URL", "memory://")
        if not broadcast_url.startswith(("memory://", "redis://", "rediss://")):
            raise SettingsError(
                f"GROUPIPT_BROADCAST_URL has value {broadcast_url!r}. Expected memory:// or redis://HOST:PORT/DB."
            )
        base_url = env.get("GROUPIPT_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise SettingsError(
                f"GROUPIPT_BASE_URL has value {base_url!r}. Expected an absolute http(s) URL "
                "such as https://groups.example.org."
            )
        profile = env.get("GROUPIPT_PASSWORD_PROFILE", "default")
        if profile not in {"default", "cheapest"}:
            raise SettingsError(
                f"GROUPIPT_PASSWORD_PROFILE has value {profile!r}. Expected 'default' or 'cheapest' (tests only)."
            )
        return cls(
            database_url=database_url,
            secret_key=env.get("GROUPIPT_SECRET_KEY") or _secret_key_from(var_dir),
            base_url=base_url,
            broadcast_url=broadcast_url,
            var_dir=var_dir,
            password_profile=profile,
            https_only=_bool(env, "GROUPIPT_HTTPS_ONLY", parts.scheme == "https"),
            trusted_proxies=_trusted_proxies(env),
            max_body_bytes=_int(env, "GROUPIPT_MAX_BODY_BYTES", 2 * 1024 * 1024),
            smtp_host=env.get("GROUPIPT_SMTP_HOST", ""),
            smtp_port=_int(env, "GROUPIPT_SMTP_PORT", 25),
            smtp_user=env.get("GROUPIPT_SMTP_USER", ""),
            smtp_password=env.get("GROUPIPT_SMTP_PASSWORD", ""),
            smtp_starttls=_bool(env, "GROUPIPT_SMTP_STARTTLS", False),
            mail_from=env.get("GROUPIPT_MAIL_FROM", f"no-reply@{parts.hostname or 'localhost'}"),
            organizer_name=_organizer_name(env),
            help_text=env.get("GROUPIPT_HELP_TEXT") or cls.help_text,
            help_text_from_env=bool(env.get("GROUPIPT_HELP_TEXT")),
            safety_response_hours=_positive_float(env, "GROUPIPT_SAFETY_RESPONSE_HOURS", 24.0),
            login_attempts_per_15_min=_int(env, "GROUPIPT_LOGIN_ATTEMPTS", 5),
            reminder_hours=_reminder_hours(env),
            join_minutes_before=_int(env, "GROUPIPT_JOIN_MINUTES_BEFORE", 30),
            early_improvement_percent=_percent(env, "GROUPIPT_EARLY_IMPROVEMENT_PERCENT", 20),
            follow_up_after_absences=_follow_up_after(env),
            extra={k: v for k, v in env.items() if k.startswith("GROUPIPT_")},
            **_sign_in_settings(env),
        )


def _sign_in_settings(env: Mapping[str, str]) -> dict:
    staff_mfa = env.get("GROUPIPT_STAFF_MFA", "required") or "required"
    if staff_mfa not in {"required", "optional"}:
        raise SettingsError(f"GROUPIPT_STAFF_MFA has value {staff_mfa!r}. Expected 'required' or 'optional'.")
    values = {
        "idle_minutes": _int(env, "GROUPIPT_IDLE_MINUTES", 30),
        "session_hours": _int(env, "GROUPIPT_SESSION_HOURS", 12),
        "member_idle_hours": _int(env, "GROUPIPT_MEMBER_IDLE_HOURS", 7 * 24),
        "member_session_days": _int(env, "GROUPIPT_MEMBER_SESSION_DAYS", 14),
    }
    for name, value in values.items():
        if value < 1:
            raise SettingsError(f"GROUPIPT_{name.upper()} has value {value!r}. Expected a whole number of at least 1.")
    return {**values, "staff_mfa": staff_mfa}


def _organizer_name(env: Mapping[str, str]) -> str:
    """Every member's calendar and e-mail show this name as the organizer, so a clinical word
    in it (domain-ipt.md section 9) must be confirmed, like a cohort's public title."""
    name = env.get("GROUPIPT_ORGANIZER_NAME", "Clinic appointments")
    words = clinical_words(name)
    if words and not _bool(env, "GROUPIPT_ORGANIZER_NAME_CONFIRMED", False):
        raise SettingsError(
            f"GROUPIPT_ORGANIZER_NAME has value {name!r}, which contains "
            f"{', '.join(repr(w) for w in words)}. Every member's calendar and e-mail show it as the "
            "organizer. Choose a neutral name, or set GROUPIPT_ORGANIZER_NAME_CONFIRMED=true to keep it."
        )
    return name


def _trusted_proxies(env: Mapping[str, str]) -> str:
    """A comma-separated list of IP addresses or networks: never '*', which would let any
    client choose the address that sign-in throttling and the audit log record."""
    value = (env.get("GROUPIPT_TRUSTED_PROXIES") or "127.0.0.1").replace(" ", "")
    for item in value.split(","):
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise SettingsError(
                f"GROUPIPT_TRUSTED_PROXIES has value {value!r}. Expected IP addresses or networks "
                "separated by commas, such as 127.0.0.1,10.0.0.0/8."
            ) from None
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None or value == "":
        return default
    mapping = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    if value.lower() not in mapping:
        raise SettingsError(f"{name} has value {value!r}. Not a valid bool (true/false).")
    return mapping[value.lower()]


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"{name} has value {value!r}. Not a valid integer.") from None


def _follow_up_after(env: Mapping[str, str]) -> int | None:
    name = "GROUPIPT_FOLLOW_UP_AFTER_ABSENCES"
    if env.get(name, "").strip().lower() == "none":
        return None
    number = _int(env, name, 2)
    if number < 1:
        raise SettingsError(f"{name} has value {number!r}. Expected a whole number of 1 or more, or 'none'.")
    return number


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number > 0 or number == float("inf"):
        raise SettingsError(f"{name} has value {value!r}. Expected a positive number of hours, such as 24 or 0.002.")
    return number


def _percent(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if not 1 <= value <= 100:
        raise SettingsError(f"{name} has value {value!r}. Expected a whole percentage from 1 to 100.")
    return value


def _reminder_hours(env: Mapping[str, str]) -> tuple[float, ...]:
    value = (env.get("GROUPIPT_REMINDER_HOURS") or "24").strip()
    if value in ("", "none"):
        return ()
    try:
        hours = sorted({float(part) for part in value.split(",")}, reverse=True)
    except ValueError:
        hours = [-1.0]
    if any(not 0 < h <= 24 * 14 for h in hours):
        raise SettingsError(f"GROUPIPT_REMINDER_HOURS has value {value!r}. Expected hours before the "
                            "meeting separated by commas, such as 24 or 24,2 (or none).")
    return tuple(hours)


def _secret_key_from(var_dir: Path) -> str:
    """Generate the signing key once and keep it under var/, readable by its owner only."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def tortoise_config(database_url: str) -> dict:
    """Tortoise's configuration, through our clients: server/platform/sqlite_engine.py and,
    for asyncpg, server/platform/postgres_engine.py."""
    connection: str | dict = database_url
    if database_url.startswith("sqlite"):
        connection = {**expand_db_url(database_url), "engine": "server.platform.sqlite_engine"}
    elif (expanded := expand_db_url(database_url))["engine"] == "tortoise.backends.asyncpg":
        connection = {**expanded, "engine": "server.platform.postgres_engine"}
    return {
        "connections": {"default": connection},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default", "migrations": "migrations"}},
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str):
    # `tortoise` CLI reads [tool.tortoise] tortoise_orm = "server.platform.settings.TORTOISE_ORM".
    if name == "TORTOISE_ORM":
        return Settings.from_env().tortoise_config()
    raise AttributeError(name)
