"""Signing in: the password, the second factor, and the bookkeeping around them.

A sign-in is two steps for a person with a second factor: `check_password`, then
`check_second_factor`; `complete_sign_in` then opens the session. Neither step is refused
because of failures from other clients (server/accounts/throttle.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.accounts import AuditEvent, SignInSession, User
from server import clock
from server.accounts import passkeys, second_factors, sessions
from server.accounts.audit import security_event
from server.accounts.passwords import Passwords, normalize_email
from server.accounts.throttle import (
    FACTOR_PREFIX,
    check_login_throttle,
    clear_login_failures,
    record_login_failure,
)
from server.errors import BadRequest
from server.platform.settings import Settings

PASSKEY_KEY = "passkey:"  # failures of sign-in by passkey alone, counted per client
# How far back "failed attempts since you last signed in" looks for someone never signed in.
FAILURES_LOOK_BACK = timedelta(days=30)


class WrongCredentials(BadRequest):
    """The e-mail and password match no active account (which of the two is never said)."""


class WrongCode(BadRequest):
    """The second-factor code is not right (or was used already)."""


@dataclass(frozen=True)
class SignedIn:
    session: SignInSession
    key: str  # for the cookie; never stored
    failed_attempts: int  # since the previous sign-in, from anywhere
    last_failure_at: datetime | None


async def check_password(
    passwords: Passwords, *, email: str, password: str, client_ip: str, attempts_per_window: int
) -> User:
    """The active account these credentials open, or WrongCredentials / TooManyRequests."""
    email = normalize_email(email)
    await check_login_throttle(email, client_ip, attempts_per_window)
    user = await User.get_or_none(email=email, is_active=True)
    if not await passwords.verify(user, password):
        reached = await record_login_failure(email, client_ip, attempts_per_window)
        await security_event("sign_in_failed", person=user, detail=f"wrong password; client {client_ip}"
                             + ("" if user else "; no account with that address"))
        if reached:
            await security_event("sign_in_throttled", person=user, detail=f"client {client_ip} waits 15 minutes")
        raise WrongCredentials("That e-mail and password do not match an account.")
    await clear_login_failures(email, client_ip)
    return user


async def check_second_factor(user: User, code: str, settings: Settings, *, client_ip: str,
                              attempts_per_window: int) -> str:
    """'totp' or 'recovery' when the code is right; throttled per (person, client) like
    passwords, so guessing codes from one client never blocks the person's own."""
    key = FACTOR_PREFIX + user.email
    await check_login_throttle(key, client_ip, attempts_per_window)
    kind = await second_factors.verify(user, code, settings)
    if kind is None:
        reached = await record_login_failure(key, client_ip, attempts_per_window)
        await security_event("second_factor_failed", person=user, detail=f"client {client_ip}")
        if reached:
            await security_event("sign_in_throttled", person=user, detail=f"second factor; client {client_ip}")
        raise WrongCode("That code is not right, or was used already. Enter the code your app shows now, "
                        "or one of your recovery codes.", fields={"code": "Check it."})
    await clear_login_failures(key, client_ip)
    return kind


async def check_passkey_second_factor(user: User, settings: Settings, *, response: str, binding: str | None,
                                      client_ip: str, attempts_per_window: int) -> str:
    """'passkey' when one of the person's passkeys answered this browser's challenge;
    failures count with wrong codes, per (person, client)."""
    key = FACTOR_PREFIX + user.email
    await check_login_throttle(key, client_ip, attempts_per_window)
    if not await passkeys.verify_second_factor(user, settings, response=response, binding=binding):
        await record_login_failure(key, client_ip, attempts_per_window)
        await security_event("second_factor_failed", person=user, detail=f"passkey; client {client_ip}")
        raise WrongCode("That passkey was not accepted. Try again, or enter a code instead.")
    await clear_login_failures(key, client_ip)
    return "passkey"


async def check_passkey(settings: Settings, *, response: str, binding: str | None, client_ip: str,
                        attempts_per_window: int) -> User:
    """Signing in with a passkey alone: the person it belongs to, when it verified them.
    Only this client's failures slow it down; no e-mail address is involved to lock out."""
    await check_login_throttle(PASSKEY_KEY, client_ip, attempts_per_window)
    user = await passkeys.sign_in(settings, response=response, binding=binding)
    if user is None:
        await record_login_failure(PASSKEY_KEY, client_ip, attempts_per_window)
        await security_event("sign_in_failed", person=None, detail=f"passkey not accepted; client {client_ip}")
        raise WrongCredentials("That passkey was not accepted here. Sign in with your e-mail and password instead.")
    return user


async def complete_sign_in(
    user: User, settings: Settings, *, user_agent: str, client_ip: str, second_factor: str | None,
    password: bool = True,
) -> SignedIn:
    """Open the session; staff without a required factor get one that only reaches set-up."""
    previous = user.last_login_at
    setup_needed = second_factor is None and second_factors.must_have_factor(user, settings) \
        and not await second_factors.has_factor(user)
    session, key = await sessions.start_session(
        user, user_agent=user_agent, client_ip=client_ip, factor_setup_required=setup_needed)
    since = previous or clock.now() - FAILURES_LOOK_BACK
    failures = AuditEvent.filter(action="security", subject__in=["sign_in_failed", "second_factor_failed"],
                                 member_id=user.id, at__gt=since)
    count = await failures.count()
    last = await failures.order_by("-at").first() if count else None
    user.last_login_at = clock.now()
    await user.save(update_fields=["last_login_at"])
    how = f"password and {second_factor}" if second_factor else "password"
    if not password:
        how = second_factor or "link"
    await security_event("sign_in", person=user, actor=user, detail=f"{how}; {session.device}; client {client_ip}")
    return SignedIn(session=session, key=key, failed_attempts=count, last_failure_at=last.at if last else None)


async def reauthenticate(passwords: Passwords, settings: Settings, session: SignInSession, user: User,
                         proof: str) -> None:
    """A password, or a second-factor code, again: sensitive actions want one from the last
    five minutes."""
    proof = proof or ""
    if await second_factors.has_factor(user) and await second_factors.verify(user, proof, settings):
        ok = True
    else:
        ok = await passwords.verify(user, proof)
    if not ok:
        await security_event("reauthentication_failed", person=user, actor=user)
        raise BadRequest("That is not your password or a current code.", fields={"proof": "Check it."})
    await sessions.mark_authenticated(session)


async def change_password(
    passwords: Passwords, user: User, *, keep: SignInSession | None, current: str, password: str, password_again: str
) -> None:
    """A new password for a signed-in person; every other session ends."""
    if not await passwords.verify(user, current):
        raise BadRequest("Your current password is not right.", fields={"current_password": "Check it."})
    if password != password_again:
        raise BadRequest("The two new passwords differ.", fields={"password_again": "Type the same password twice."})
    user.password_hash = await passwords.hash(password)
    user.session_epoch += 1
    await user.save(update_fields=["password_hash", "session_epoch"])
    await sessions.end_all(user, "password changed", actor=user, keep=keep)
    await security_event("password_changed", person=user, actor=user)
