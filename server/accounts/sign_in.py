"""Signing in with a password, and changing it: the bookkeeping around the check."""
from __future__ import annotations

from models.accounts import User
from server import clock
from server.accounts.passwords import Passwords, normalize_email
from server.accounts.throttle import check_login_throttle, clear_login_failures, record_login_failure
from server.errors import BadRequest


class WrongCredentials(BadRequest):
    """The e-mail and password match no active account (which of the two is never said)."""


async def check_password(
    passwords: Passwords, *, email: str, password: str, client_ip: str, attempts_per_window: int
) -> User:
    """The active account these credentials open, or WrongCredentials / TooManyRequests."""
    email = normalize_email(email)
    await check_login_throttle(email, client_ip, attempts_per_window)
    user = await User.get_or_none(email=email, is_active=True)
    if not await passwords.verify(user, password):
        await record_login_failure(email, client_ip)
        raise WrongCredentials("That e-mail and password do not match an account.")
    await clear_login_failures(email)
    user.last_login_at = clock.now()
    await user.save(update_fields=["last_login_at"])
    return user


async def change_password(
    passwords: Passwords, user: User, *, current: str, password: str, password_again: str
) -> None:
    """A new password for a signed-in person; every session issued before it ends."""
    if not await passwords.verify(user, current):
        raise BadRequest("Your current password is not right.", fields={"current_password": "Check it."})
    if password != password_again:
        raise BadRequest("The two new passwords differ.", fields={"password_again": "Type the same password twice."})
    user.password_hash = await passwords.hash(password)
    user.session_epoch += 1
    await user.save(update_fields=["password_hash", "session_epoch"])
