"""Second factors: an authenticator app (TOTP, RFC 6238), passkeys (server/accounts/passkeys.py)
and single-use recovery codes.

Coordinators and facilitators must have one (unless GROUPIPT_STAFF_MFA=optional); members
may add one. The person is e-mailed whenever a factor is added to or removed from their
account, and every change is a security event in the audit log.
"""
from __future__ import annotations

import hmac
import logging
import secrets

import pyotp
import segno
from tortoise.transactions import in_transaction

from models.accounts import FactorKind, RecoveryCode, Role, SecondFactor, User
from models.mail import OutboxMessage
from server import clock
from server.accounts import _sealed
from server.accounts.audit import security_event
from server.accounts.tokens import sha256
from server.errors import BadRequest, NotFound
from server.platform import mailer
from server.platform.settings import Settings

log = logging.getLogger("groupipt.accounts")

RECOVERY_CODE_COUNT = 10
ISSUER = "Group IPT"
STAFF = {Role.COORDINATOR, Role.FACILITATOR}


def must_have_factor(user: User, settings: Settings) -> bool:
    return user.role in STAFF and settings.staff_mfa_required


async def has_factor(user: User) -> bool:
    return await SecondFactor.filter(user=user, confirmed_at__isnull=False).exists()


async def has_totp(user: User) -> bool:
    return await SecondFactor.filter(user=user, kind=FactorKind.TOTP, confirmed_at__isnull=False).exists()


async def has_code_factor(user: User) -> bool:
    """An authenticator app or recovery codes: something to type on the second step."""
    return await has_totp(user) or await RecoveryCode.filter(user=user, used_at=None).exists()


async def factors(user: User) -> list[SecondFactor]:
    return await SecondFactor.filter(user=user, confirmed_at__isnull=False).order_by("created_at")


async def recovery_codes_left(user: User) -> int:
    return await RecoveryCode.filter(user=user, used_at=None).count()


# --- adding an authenticator --------------------------------------------------------------

async def begin_totp(user: User, settings: Settings) -> str:
    """The secret of the authenticator being set up (one at a time), waiting for a first code."""
    pending = await SecondFactor.filter(user=user, kind=FactorKind.TOTP, confirmed_at=None).first()
    if pending is None:
        pending = await SecondFactor.create(user=user, kind=FactorKind.TOTP,
                                            secret=_sealed.seal(pyotp.random_base32(), settings.secret_key))
    try:
        return _secret(pending, settings)
    except _sealed.UnreadableSecret:  # the secret key changed while it waited: start afresh
        await pending.delete()
        return await begin_totp(user, settings)


def provisioning_uri(secret: str, user: User) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _secret(factor: SecondFactor, settings: Settings) -> str:
    return _sealed.unseal(factor.secret, settings.secret_key)


def qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code (no image request, nothing sent elsewhere)."""
    return segno.make(uri, error="m").svg_inline(scale=4, title="QR code for your authenticator app")


async def confirm_totp(user: User, code: str, *, name: str, settings: Settings) -> list[str]:
    """Turn the pending authenticator on with a first code from it. Returns new recovery
    codes when this is the account's first factor (shown once), else []."""
    factor = await SecondFactor.filter(user=user, kind=FactorKind.TOTP, confirmed_at=None).first()
    if factor is None:
        raise BadRequest("Start again: no authenticator is being set up.")
    name = (name or "").strip() or "Authenticator app"
    if len(name) > 80:
        raise BadRequest("Give the authenticator a name of 80 characters at most.", fields={"name": "Too long."})
    step = _matching_step(factor, code, settings)
    if step is None:
        raise BadRequest("That code is not right. Check the clock on your phone and enter the code shown now.",
                         fields={"code": "Six digits from the app."})
    first = not await has_factor(user)
    async with in_transaction():
        factor.name, factor.confirmed_at, factor.last_used_step = name, clock.now(), step
        await factor.save(update_fields=["name", "confirmed_at", "last_used_step"])
        codes = await new_recovery_codes(user) if first else []
    await security_event("second_factor_added", person=user, actor=user, detail=f"authenticator app {name!r}")
    await notify(user, settings, "A sign-in method was added to your account",
                f"An authenticator app ({name}) was added to your account as a second factor.")
    return codes


async def regenerate_recovery_codes(user: User) -> list[str]:
    if not await has_factor(user):
        raise BadRequest("Add an authenticator app or a passkey first; recovery codes stand in for it.")
    async with in_transaction():
        codes = await new_recovery_codes(user)
    await security_event("recovery_codes_renewed", person=user, actor=user)
    return codes


async def new_recovery_codes(user: User) -> list[str]:
    await RecoveryCode.filter(user=user).delete()
    codes = [_format_code(secrets.token_hex(5)) for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        await RecoveryCode.create(user=user, code_sha256=_code_hash(user, code))
    return codes


# --- checking a code ----------------------------------------------------------------------

async def verify(user: User, code: str, settings: Settings) -> str | None:
    """'totp' or 'recovery' when the code proves the second factor, else None. A TOTP code
    is accepted once only; a recovery code is used up."""
    code = (code or "").strip().replace(" ", "")
    if not code or len(code) > 20:
        return None
    if code.isdigit():
        for factor in await SecondFactor.filter(user=user, kind=FactorKind.TOTP, confirmed_at__isnull=False):
            step = _matching_step(factor, code, settings)
            if step is not None and (factor.last_used_step is None or step > factor.last_used_step):
                # Compare-and-set on the step last seen, so two requests cannot both use one code.
                seen = SecondFactor.filter(id=factor.id, last_used_step=factor.last_used_step)
                if factor.last_used_step is None:
                    seen = SecondFactor.filter(id=factor.id, last_used_step__isnull=True)
                updated = await seen.update(last_used_step=step, last_used_at=clock.now())
                if updated:
                    await _seal_if_plain(factor, settings)
                    return "totp"
        return None
    used = await RecoveryCode.filter(user=user, code_sha256=_code_hash(user, _format_code(code.replace("-", "").lower())),
                                     used_at=None).update(used_at=clock.now())
    if used:
        await security_event("recovery_code_used", person=user, actor=user,
                             detail=f"{await recovery_codes_left(user)} left")
        return "recovery"
    return None


def _matching_step(factor: SecondFactor, code: str, settings: Settings) -> int | None:
    """The 30-second step whose code this is, allowing one step of clock drift either way."""
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    try:
        totp = pyotp.TOTP(_secret(factor, settings))
    except _sealed.UnreadableSecret:
        log.error("second factor %s: its secret was sealed under another GROUPIPT_SECRET_KEY", factor.id)
        return None
    now = totp.timecode(clock.now())
    for step in (now - 1, now, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


async def _seal_if_plain(factor: SecondFactor, settings: Settings) -> None:
    """A secret stored before sealing (or by the demo loader) is sealed once it has worked."""
    if not _sealed.is_sealed(factor.secret):
        await SecondFactor.filter(id=factor.id, secret=factor.secret).update(
            secret=_sealed.seal(factor.secret, settings.secret_key))


def _format_code(raw: str) -> str:
    raw = raw.lower()
    return f"{raw[:5]}-{raw[5:]}"


def _code_hash(user: User, code: str) -> str:
    # Ten random 40-bit codes: SHA-256 with the user id is enough (no password to stretch).
    return sha256(f"{user.id}:{code}")


# --- removing and resetting ---------------------------------------------------------------

async def own_factor(user: User, factor_id: int) -> SecondFactor:
    factor = await SecondFactor.get_or_none(id=factor_id, user=user, confirmed_at__isnull=False)
    if factor is None:
        raise NotFound("No such second factor on your account.")
    return factor


async def remove_factor(user: User, factor_id: int, *, settings: Settings) -> SecondFactor:
    factor = await own_factor(user, factor_id)
    remaining = await SecondFactor.filter(user=user, confirmed_at__isnull=False).exclude(id=factor.id).count()
    if remaining == 0 and must_have_factor(user, settings):
        raise BadRequest("Staff must keep a second factor: add another authenticator app or passkey "
                         "before removing this one.")
    async with in_transaction():
        await factor.delete()
        if remaining == 0:
            await RecoveryCode.filter(user=user).delete()
    await security_event("second_factor_removed", person=user, actor=user, detail=f"{factor.kind_label} {factor.name!r}")
    await notify(user, settings, "A sign-in method was removed from your account",
                 f"The {factor.kind_label} {factor.name} was removed from your account.")
    return factor


async def rename_factor(user: User, factor_id: int, name: str) -> SecondFactor:
    factor = await own_factor(user, factor_id)
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise BadRequest("Give it a name of 1 to 80 characters.", fields={"name": "1 to 80 characters."})
    old, factor.name = factor.name, name
    await factor.save(update_fields=["name"])
    await security_event("second_factor_renamed", person=user, actor=user,
                         detail=f"{factor.kind_label} {old!r} is now {name!r}")
    return factor


async def reset_factors(person: User, *, by: User, settings: Settings) -> int:
    """A coordinator clears another person's factors (a lost phone); they set one up again."""
    if person.id == by.id:
        raise BadRequest("You cannot reset your own second factors; another coordinator can, "
                         "or remove one on your account page.")
    async with in_transaction():
        count = await SecondFactor.filter(user=person).delete()
        await RecoveryCode.filter(user=person).delete()
    await security_event("second_factors_reset", person=person, actor=by, detail=f"{count} factor(s)")
    await notify(person, settings, "Your sign-in methods were reset",
                f"{by.display_name} reset the second factors of your account. You will be asked to "
                "set up an authenticator app when you next sign in.")
    return count


async def notify(user: User, settings: Settings, subject: str, line: str) -> None:
    body = (f"Hello {user.first_name or 'there'},\n\n{line}\n\nIf this was not you, tell your "
            f"coordinator today: someone may know your password.\n\n{settings.organizer_name}\n")
    try:
        message = await OutboxMessage.create(to_email=user.email, to_user=user, subject=subject, body=body)
        await mailer.deliver(message, settings=settings, now=clock.now())
    except Exception:  # the change is made; a mail failure must not undo or hide it
        log.exception("could not write the factor notice for user %s", user.id)
