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
    # Restriction of processing (GDPR Art. 18): health records cannot be erased at once
    # (Art. 17(3)), so a member who asks is restricted now and purged at the end of retention.
    # While set, they are left out of every list, board and feed, and their record is read-only.
    restricted_at = fields.DatetimeField(null=True)
    restriction_reason = fields.CharField(max_length=500, default="", db_default="")
    restricted_by = fields.ForeignKeyField(
        "models.User", related_name="restrictions_set", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "users"
        # The people list (by role and name) and the calendar-links list (by name), keyset-paged.
        indexes = (("role", "display_name", "id"), ("display_name", "id"))

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
    """The secret in a private calendar feed URL: looked up by its SHA-256, and kept sealed so
    that its owner's account page can show the link again (issue 20, item 1)."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="feed_tokens")
    token_sha256 = fields.CharField(max_length=64, unique=True)
    # Fernet under a key derived from GROUPIPT_SECRET_KEY (server/accounts/feed_secrets.py), so a
    # copy of the database alone yields no feed. Null for links made before sealing: their
    # owner makes a new one to see it.
    token_sealed = fields.CharField(max_length=255, null=True)
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
    action = fields.CharField(max_length=16)  # "read", "change", or "security" (sign-in events)
    subject = fields.CharField(max_length=64)  # e.g. "measure_response", "closure_summary"
    subject_id = fields.CharField(max_length=64, default="")
    member = fields.ForeignKeyField(
        "models.User", related_name="audit_subject_events", null=True
    )
    detail = fields.CharField(max_length=255, default="")
    at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_events"


class SignInSession(Model):
    """A sign-in of one browser, kept on the server so it can be listed, limited and ended."""

    # The cookie holds only a random key, and this table its SHA-256 (server/accounts/sessions.py).

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="sign_in_sessions")
    key_sha256 = fields.CharField(max_length=64, unique=True)
    # The browser and system in words ("Firefox on Windows"), never the raw header.
    device = fields.CharField(max_length=120, default="")
    client_ip = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField()
    # The last time the person proved who they are here (password, second factor): sensitive
    # actions ask again once this is older than five minutes.
    authenticated_at = fields.DatetimeField()
    # Staff signed in with a password alone, where a second factor is required: the session
    # reaches only the factor set-up pages until one is added.
    factor_setup_required = fields.BooleanField(default=False)
    ended_at = fields.DatetimeField(null=True)
    end_reason = fields.CharField(max_length=32, default="")

    class Meta:
        table = "sign_in_sessions"


class FactorKind(StrEnum):
    TOTP = "totp"
    PASSKEY = "passkey"


class SecondFactor(Model):
    """A second factor: an authenticator app (TOTP, RFC 6238) or a passkey (WebAuthn)."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="second_factors")
    kind = fields.CharEnumField(FactorKind, max_length=16)
    name = fields.CharField(max_length=80, default="")
    # TOTP needs the shared secret itself to check a code, so it cannot be stored hashed: it
    # is sealed instead, under a key derived from the secret key (server/accounts/_sealed.py).
    secret = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    # Null while being set up: a factor counts only once a code from it was entered.
    confirmed_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    # The 30-second step of the last accepted code, so a code is never accepted twice.
    last_used_step = fields.BigIntField(null=True)
    # Passkeys only (null for TOTP): the credential's id and COSE public key, base64url
    # (WebAuthn Level 3, 6.1: ids are at most 1023 bytes), and the authenticator's signature
    # counter, which must grow on every use unless the authenticator keeps none (7.2 step 21).
    credential_id = fields.CharField(max_length=1400, null=True, unique=True)
    public_key = fields.TextField(null=True)
    sign_count = fields.BigIntField(default=0, db_default=0)
    transports = fields.CharField(max_length=120, default="", db_default="")

    class Meta:
        table = "second_factors"

    @property
    def kind_label(self) -> str:
        return "passkey" if self.kind == FactorKind.PASSKEY else "authenticator app"


class PasskeyChallenge(Model):
    """A WebAuthn challenge waiting for its answer: kept on the server, bound to the browser
    that asked (the cookie holds a random key, this row its SHA-256), used at most once."""

    id = fields.IntField(primary_key=True)
    binding_sha256 = fields.CharField(max_length=64, unique=True)
    purpose = fields.CharField(max_length=16)  # "register", "second_factor" or "sign_in"
    challenge = fields.CharField(max_length=128)  # base64url
    user = fields.ForeignKeyField("models.User", related_name="passkey_challenges", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "passkey_challenges"


class RecoveryCode(Model):
    """Single-use codes for when the authenticator is lost, shown once and stored as SHA-256."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="recovery_codes")
    code_sha256 = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "recovery_codes"
