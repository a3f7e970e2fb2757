"""Login throttling: failed attempts per address and per client, over a sliding window."""
from __future__ import annotations

from datetime import timedelta

from models.accounts import LoginFailure
from server import clock
from server.errors import TooManyRequests

THROTTLE_WINDOW = timedelta(minutes=15)


async def check_login_throttle(email: str, client_ip: str, limit: int) -> None:
    since = clock.now() - THROTTLE_WINDOW
    by_email = await LoginFailure.filter(email=email, at__gte=since).count()
    by_ip = await LoginFailure.filter(client_ip=client_ip, at__gte=since).count()
    if by_email >= limit or by_ip >= limit * 4:
        raise TooManyRequests(
            "Too many failed attempts. Please wait 15 minutes, or ask a coordinator for a password reset link."
        )


async def record_login_failure(email: str, client_ip: str) -> None:
    await LoginFailure.create(email=email, client_ip=client_ip)
    await LoginFailure.filter(at__lt=clock.now() - THROTTLE_WINDOW * 4).delete()


async def clear_login_failures(email: str) -> None:
    await LoginFailure.filter(email=email).delete()
