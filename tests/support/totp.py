"""Codes from a test person's authenticator, as their phone would show them.

The server accepts each 30-second step once per factor (no replays) and one step of drift
either way, so a person signing in several times in a row gets the next unused step, and
waits for the clock only past that. The step before now is never used: on a busy machine
the server may check it after it has expired.
"""
from __future__ import annotations

import asyncio
import time

import pyotp

# email -> secret, for people whose factor a test made or set up (make_user, the set-up page).
SECRETS: dict[str, str] = {}
_last_step: dict[str, int] = {}


def remember(email: str, secret: str) -> None:
    if SECRETS.get(email) != secret:
        _last_step.pop(email, None)
    SECRETS[email] = secret


async def secret_for(email: str) -> str | None:
    if email in SECRETS:
        return SECRETS[email]
    try:  # a person made some other way, in the database this test process also opened
        from models.accounts import SecondFactor

        factor = await SecondFactor.filter(user__email=email, kind="totp", confirmed_at__isnull=False).first()
    except Exception:
        return None
    if factor is None or factor.secret.startswith("f1:"):  # none, or sealed by the server (unreadable here)
        return None
    remember(email, factor.secret)
    return factor.secret


async def next_code(email: str, secret: str) -> str:
    totp = pyotp.TOTP(secret)
    while True:
        now = int(time.time()) // 30
        step = max(now, _last_step.get(email, now - 1) + 1)
        if step <= now + 1:
            _last_step[email] = step
            return totp.generate_otp(step)
        await asyncio.sleep(30 - time.time() % 30 + 0.05)


def code_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()
