"""Passkeys (WebAuthn Level 3): added on the account page as a second factor, then used after
the password, or alone to sign in (a passkey that verified its user is two factors in one:
NIST SP 800-63B 5.1.9, multi-factor cryptographic authenticator).

The relying party is the site of GROUPIPT_BASE_URL: its host is the RP ID and its scheme and
host the one origin accepted. Every ceremony's challenge is kept here, bound to the browser
that asked for it (the cookie holds a random key, the row its SHA-256), and taken once.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import webauthn
from tortoise.transactions import in_transaction
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from models.accounts import FactorKind, PasskeyChallenge, SecondFactor, User
from server import clock
from server.accounts import second_factors
from server.accounts.audit import security_event
from server.accounts.tokens import sha256
from server.errors import BadRequest
from server.platform.settings import Settings

CHALLENGE_LIFETIME = timedelta(minutes=5)
TIMEOUT_MS = 120_000
REGISTER, SECOND_FACTOR, SIGN_IN = "register", "second_factor", "sign_in"
MAX_RESPONSE_CHARS = 20_000  # an attestation "none" response is about 1 kB
RP_NAME = second_factors.ISSUER


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str


def relying_party(settings: Settings) -> RelyingParty:
    parts = urlsplit(settings.base_url)
    return RelyingParty(id=parts.hostname or "localhost", origin=f"{parts.scheme}://{parts.netloc}")


def user_handle(user: User, settings: Settings) -> bytes:
    """The opaque user.id authenticators keep (WebAuthn 14.6.1: no e-mail, no row id in
    clear); derived, so the same for every passkey of one person."""
    return hmac.new(settings.secret_key.encode(), f"webauthn-user:{user.id}".encode(), hashlib.sha256).digest()


async def passkeys_of(user: User) -> list[SecondFactor]:
    return await SecondFactor.filter(user=user, kind=FactorKind.PASSKEY, confirmed_at__isnull=False).order_by("id")


async def has_passkey(user: User) -> bool:
    return await SecondFactor.filter(user=user, kind=FactorKind.PASSKEY, confirmed_at__isnull=False).exists()


# --- challenges -----------------------------------------------------------------------------

async def _new_challenge(purpose: str, user: User | None) -> tuple[bytes, str]:
    """A fresh challenge and the browser's key to it."""
    await PasskeyChallenge.filter(expires_at__lt=clock.now()).delete()
    challenge, binding = secrets.token_bytes(32), secrets.token_urlsafe(32)
    await PasskeyChallenge.create(binding_sha256=sha256(binding), purpose=purpose, user=user,
                                  challenge=bytes_to_base64url(challenge), expires_at=clock.now() + CHALLENGE_LIFETIME)
    return challenge, binding


async def _take_challenge(purpose: str, binding: str | None, user: User | None) -> bytes:
    """The challenge this browser was given for this purpose, removed so it answers once."""
    stale = BadRequest("That passkey request has expired or was used already. Try again.", code="passkey_expired")
    if not isinstance(binding, str) or not binding or len(binding) > 100:
        raise stale
    row = await PasskeyChallenge.get_or_none(binding_sha256=sha256(binding), purpose=purpose)
    if row is None or not await PasskeyChallenge.filter(id=row.id).delete():  # a parallel answer took it
        raise stale
    if row.expires_at < clock.now() or row.user_id != (user.id if user else None):
        raise stale
    return webauthn.base64url_to_bytes(row.challenge)


def _descriptor(factor: SecondFactor) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in filter(None, factor.transports.split(",")):
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(factor.credential_id),
                                         transports=transports or None)


# --- adding a passkey -------------------------------------------------------------------------

async def registration_options(user: User, settings: Settings) -> tuple[str, str]:
    """(PublicKeyCredentialCreationOptions as JSON, the browser's key to its challenge)."""
    challenge, binding = await _new_challenge(REGISTER, user)
    options = webauthn.generate_registration_options(
        rp_id=relying_party(settings).id, rp_name=RP_NAME, user_id=user_handle(user, settings),
        user_name=user.email, user_display_name=user.display_name, challenge=challenge, timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            # Discoverable, so the same passkey can later sign in without the e-mail address.
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(f) for f in await passkeys_of(user)],
    )
    return webauthn.options_to_json(options), binding


async def finish_registration(user: User, settings: Settings, *, response: str, binding: str | None,
                              name: str) -> list[str]:
    """Keep the passkey the browser made. Returns new recovery codes when it is the
    account's first factor (shown once), else []."""
    name = (name or "").strip() or "Passkey"
    if len(name) > 80:
        raise BadRequest("Give the passkey a name of 80 characters at most.", fields={"name": "Too long."})
    _check_size(response)
    challenge = await _take_challenge(REGISTER, binding, user)
    rp = relying_party(settings)
    try:
        verified = webauthn.verify_registration_response(
            credential=response, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin)
    except WebAuthnException as exc:
        raise BadRequest(f"The passkey could not be added: {exc}", code="passkey_refused") from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if await SecondFactor.filter(credential_id=credential_id).exists():
        raise BadRequest("That passkey is already registered.", code="passkey_refused")
    first = not await second_factors.has_factor(user)
    async with in_transaction():
        await SecondFactor.create(
            user=user, kind=FactorKind.PASSKEY, name=name, confirmed_at=clock.now(), credential_id=credential_id,
            public_key=bytes_to_base64url(verified.credential_public_key), sign_count=verified.sign_count,
            transports=_transports(response),
        )
        codes = await second_factors.new_recovery_codes(user) if first else []
    await security_event("second_factor_added", person=user, actor=user, detail=f"passkey {name!r}")
    await second_factors.notify(user, settings, "A sign-in method was added to your account",
                                f"A passkey ({name}) was added to your account.")
    return codes


def _transports(response: str) -> str:
    try:
        found = json.loads(response).get("response", {}).get("transports") or []
    except (ValueError, AttributeError):
        return ""
    known = {t.value for t in AuthenticatorTransport}
    return ",".join(t for t in found if isinstance(t, str) and t in known)[:120]


# --- using a passkey ----------------------------------------------------------------------------

async def authentication_options(settings: Settings, *, user: User | None) -> tuple[str, str]:
    """Options for the browser's navigator.credentials.get: for this person's passkeys after
    their password, or (user None) for any passkey of this site, which must verify its user."""
    purpose = SECOND_FACTOR if user else SIGN_IN
    challenge, binding = await _new_challenge(purpose, user)
    options = webauthn.generate_authentication_options(
        rp_id=relying_party(settings).id, challenge=challenge, timeout=TIMEOUT_MS,
        allow_credentials=[_descriptor(f) for f in await passkeys_of(user)] if user else [],
        user_verification=UserVerificationRequirement.PREFERRED if user else UserVerificationRequirement.REQUIRED,
    )
    return webauthn.options_to_json(options), binding


async def verify_second_factor(user: User, settings: Settings, *, response: str, binding: str | None) -> bool:
    """True when one of this person's passkeys signed this browser's challenge."""
    challenge = await _take_challenge(SECOND_FACTOR, binding, user)
    factor = await _factor_for(response)
    if factor is None or factor.user_id != user.id:
        return False
    return await _check_assertion(factor, settings, response=response, challenge=challenge, need_user_verified=False)


async def sign_in(settings: Settings, *, response: str, binding: str | None) -> User | None:
    """The active person whose passkey (verifying its user) signed the challenge, or None."""
    challenge = await _take_challenge(SIGN_IN, binding, None)
    factor = await _factor_for(response)
    if factor is None:
        return None
    user = await User.get_or_none(id=factor.user_id, is_active=True)
    if user is None:
        return None
    if not await _check_assertion(factor, settings, response=response, challenge=challenge, need_user_verified=True):
        return None
    return user


async def _factor_for(response: str) -> SecondFactor | None:
    _check_size(response)
    try:
        credential_id = json.loads(response).get("id")
    except (ValueError, AttributeError):
        raise BadRequest("The browser's passkey answer is not readable.", code="passkey_refused") from None
    if not isinstance(credential_id, str) or not credential_id or len(credential_id) > 1400:
        return None
    return await SecondFactor.get_or_none(credential_id=credential_id, kind=FactorKind.PASSKEY,
                                          confirmed_at__isnull=False)


async def _check_assertion(factor: SecondFactor, settings: Settings, *, response: str, challenge: bytes,
                           need_user_verified: bool) -> bool:
    rp = relying_party(settings)
    try:
        verified = webauthn.verify_authentication_response(
            credential=response, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin,
            credential_public_key=webauthn.base64url_to_bytes(factor.public_key),
            credential_current_sign_count=factor.sign_count, require_user_verification=need_user_verified,
        )
    except WebAuthnException as exc:
        if "sign count" in str(exc).lower():
            # The counter went backwards: a cloned authenticator, or a replayed answer (7.2 step 21).
            await security_event("passkey_counter_mismatch", person=await factor.user, detail=f"passkey {factor.name!r}")
        return False
    # Compare-and-set on the counter, so two answers cannot both pass on one count.
    updated = await SecondFactor.filter(id=factor.id, sign_count=factor.sign_count).update(
        sign_count=verified.new_sign_count, last_used_at=clock.now())
    return bool(updated)


def _check_size(response: str) -> None:
    if not isinstance(response, str) or not response or len(response) > MAX_RESPONSE_CHARS:
        raise BadRequest("The browser sent no usable passkey answer. Try again.", code="passkey_refused")
