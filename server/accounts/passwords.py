"""Passwords (argon2id), e-mail addresses as account keys, and ending every session of a user."""
from __future__ import annotations

import argon2
from argon2 import PasswordHasher, profiles
from starlette.concurrency import run_in_threadpool

from models.accounts import User
from server.errors import BadRequest


def normalize_email(raw: str) -> str:
    email = (raw or "").strip().casefold()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > 254 or domain.startswith("."):
        raise BadRequest(f"{raw!r} is not an e-mail address.", fields={"email": "Enter an address like name@example.org."})
    return email


class Passwords:
    """argon2id hashing, always off the event loop (about 110 ms of CPU per call)."""

    MIN_LENGTH = 10

    def __init__(self, profile: str = "default"):
        params = profiles.CHEAPEST if profile == "cheapest" else profiles.RFC_9106_LOW_MEMORY
        self._hasher = PasswordHasher.from_parameters(params)
        self._dummy = self._hasher.hash("not a real password")

    def check_strength(self, password: str) -> None:
        if len(password) < self.MIN_LENGTH:
            raise BadRequest(
                f"Choose a password of at least {self.MIN_LENGTH} characters.",
                fields={"password": f"At least {self.MIN_LENGTH} characters."},
            )
        if len(password) > 1024:
            raise BadRequest("That password is too long (1024 characters at most).")

    async def hash(self, password: str) -> str:
        self.check_strength(password)
        return await run_in_threadpool(self._hasher.hash, password)

    async def verify(self, user: User | None, password: str) -> bool:
        # Verify against a dummy hash for unknown users so timing does not reveal accounts.
        stored = user.password_hash if user and user.password_hash else self._dummy
        try:
            await run_in_threadpool(self._hasher.verify, stored, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False
        if user is None or not user.password_hash:
            return False
        if self._hasher.check_needs_rehash(stored):
            user.password_hash = await run_in_threadpool(self._hasher.hash, password)
            await user.save(update_fields=["password_hash"])
        return True


async def log_out_everywhere(user: User) -> None:
    from server.accounts.sessions import end_all  # sessions audits through accounts.audit

    user.session_epoch += 1
    await user.save(update_fields=["session_epoch"])
    await end_all(user, "signed out everywhere", actor=user)
