"""People, their credentials, and the audit trail of clinical reads and changes."""
from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    COORDINATOR = "coordinator"
    FACILITATOR = "facilitator"
    MEMBER = "member"


class User(Model):
    id = fields.IntField(primary_key=True)
    # Stored case-folded so that "Ana@Clinic.org" and "ana@clinic.org" are one person.
    email = fields.CharField(max_length=254, unique=True)
    display_name = fields.CharField(max_length=120)
    # Empty until the person accepts their invitation and chooses a password.
    password_hash = fields.CharField(max_length=255, default="")
    role = fields.CharEnumField(Role, max_length=16)
    time_zone = fields.CharField(max_length=64, default="UTC")
    is_active = fields.BooleanField(default=True)
    # Bumped by "log out everywhere", password change and deactivation; every session
    # cookie carries the epoch it was issued under and dies when they differ.
    session_epoch = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)
    # Null follows the role: facilitators are clinicians, coordinators are not until marked.
    clinician = fields.BooleanField(null=True)
    # One of the clinic's duty clinicians, who are told when no facilitator can be.
    on_duty = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "users"

    @property
    def is_clinician(self) -> bool:
        if self.role == Role.MEMBER:
            return False
        if self.clinician is None:
            return self.role == Role.FACILITATOR
        return self.clinician

    @property
    def first_name(self) -> str:
        return self.display_name.split()[0] if self.display_name.strip() else ""

    @property
    def initials(self) -> str:
        return "".join(part[0].upper() for part in self.display_name.split()[:2])

    def __str__(self) -> str:
        return self.display_name


class AwayPeriod(Model):
    """Dates a facilitator is away, inclusive: safety items arising then go to others."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="away_periods")
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    created_by = fields.ForeignKeyField(
        "models.User", related_name="away_periods_set", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "away_periods"
        ordering = ["starts_on", "id"]


class LinkPurpose(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"
    SETUP = "setup"


class AccountLink(Model):
    """A one-time link: an invitation, a password reset, or the first-run setup link."""

    id = fields.IntField(primary_key=True)
    token_sha256 = fields.CharField(max_length=64, unique=True)
    purpose = fields.CharEnumField(LinkPurpose, max_length=16)
    user = fields.ForeignKeyField("models.User", related_name="account_links", null=True)
    created_by = fields.ForeignKeyField(
        "models.User", related_name="issued_links", null=True
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "account_links"


class ApiToken(Model):
    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="api_tokens")
    name = fields.CharField(max_length=80)
    token_sha256 = fields.CharField(max_length=64, unique=True)
    # The first characters, shown on the account page so a person can tell tokens apart.
    prefix = fields.CharField(max_length=12)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_tokens"


class FeedToken(Model):
    """The secret in a private calendar feed URL, only its SHA-256 is kept."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="feed_tokens")
    token_sha256 = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "feed_tokens"


class LoginFailure(Model):
    """Failed logins, counted per e-mail and per address to throttle guessing."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, db_index=True)
    client_ip = fields.CharField(max_length=64, db_index=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "login_failures"


class AuditEvent(Model):
    """Who read or changed a member's clinical data, and when."""

    id = fields.IntField(primary_key=True)
    actor = fields.ForeignKeyField("models.User", related_name="audit_actions", null=True)
    action = fields.CharField(max_length=16)  # "read" or "change"
    subject = fields.CharField(max_length=64)  # e.g. "measure_response", "closure_summary"
    subject_id = fields.CharField(max_length=64, default="")
    member = fields.ForeignKeyField(
        "models.User", related_name="audit_subject_events", null=True
    )
    detail = fields.CharField(max_length=255, default="")
    at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_events"
