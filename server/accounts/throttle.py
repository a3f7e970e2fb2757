"""Login throttling that a stranger cannot turn against a person.

Failures are counted per (address, client) pair and per client overall, never per address
alone: five wrong passwords from one client slow that client down, while the person, from
their own device, still signs in (and, with a second factor, always can).
"""
from __future__ import annotations

from datetime import timedelta

from models.accounts import LoginFailure
from server import clock
from server.errors import TooManyRequests

THROTTLE_WINDOW = timedelta(minutes=15)
# One client may try several addresses (a shared clinic computer), but not an address book.
CLIENT_FACTOR = 4
# Second-factor failures are kept apart from password failures under this prefix.
FACTOR_PREFIX = "factor:"


async def check_login_throttle(email: str, client_ip: str, limit: int) -> None:
    since = clock.now() - THROTTLE_WINDOW
    by_pair = await LoginFailure.filter(email=email, client_ip=client_ip, at__gte=since).count()
    by_client = await LoginFailure.filter(client_ip=client_ip, at__gte=since).count()
    if by_pair >= limit or by_client >= limit * CLIENT_FACTOR:
        raise TooManyRequests(
            "Too many failed attempts from this device. Please wait 15 minutes, or ask a coordinator "
            "for a password reset link."
        )


async def record_login_failure(email: str, client_ip: str, limit: int | None = None) -> bool:
    """Count a failure; True when this one reached a limit (worth an audit event)."""
    await LoginFailure.create(email=email, client_ip=client_ip)
    await LoginFailure.filter(at__lt=clock.now() - THROTTLE_WINDOW * 4).delete()
    if limit is None:
        return False
    since = clock.now() - THROTTLE_WINDOW
    by_pair = await LoginFailure.filter(email=email, client_ip=client_ip, at__gte=since).count()
    by_client = await LoginFailure.filter(client_ip=client_ip, at__gte=since).count()
    return by_pair == limit or by_client == limit * CLIENT_FACTOR


async def clear_login_failures(email: str, client_ip: str) -> None:
    """After a sign-in: this client's failures for this address, not a stranger's elsewhere."""
    await LoginFailure.filter(email=email, client_ip=client_ip).delete()
