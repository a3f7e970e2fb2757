"""Calendar-link tokens sealed at rest, so the owner's account page can show their link again.

The feed is looked up by the token's SHA-256 alone (server/schedule/feeds.py); the sealed copy
only serves the owner's own pages. It is sealed like TOTP secrets (_sealed.py), under a key of
its own, so a copy of the database alone yields no calendar. A token stored before sealing, or
sealed under an earlier GROUPIPT_SECRET_KEY, reads as None: its owner makes a new link to see it.
"""
from __future__ import annotations

from server.accounts import _sealed

_INFO = b"groupipt calendar links v1"


def seal_feed_secret(secret: str, secret_key: str) -> str:
    return _sealed.seal(secret, secret_key, info=_INFO)


def open_feed_secret(stored: str | None, secret_key: str) -> str | None:
    if not stored or not _sealed.is_sealed(stored):
        return None
    try:
        return _sealed.unseal(stored, secret_key, info=_INFO)
    except _sealed.UnreadableSecret:
        return None
