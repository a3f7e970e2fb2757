"""Secrets sealed at rest (TOTP secrets; calendar-link tokens, feed_secrets.py): Fernet (AES-128-CBC with HMAC-SHA256) under a key derived
from GROUPIPT_SECRET_KEY with HKDF (RFC 5869), so a copy of the database alone, a backup say,
does not yield the codes of anyone's authenticator app.

A stored value without the prefix is a secret from before sealing (or written by the demo
loader); it is still read, and sealed the next time it is used.
"""
from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "f1:"
_INFO = b"groupipt totp secrets v1"


class UnreadableSecret(Exception):
    """Sealed under another secret key: GROUPIPT_SECRET_KEY changed since it was stored."""


@functools.lru_cache(maxsize=8)
def _fernet(secret_key: str, info: bytes = _INFO) -> Fernet:
    # One key per use (`info`, RFC 5869 §3.2), so a value sealed for one use opens in no other.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, secret_key: str, *, info: bytes = _INFO) -> str:
    return PREFIX + _fernet(secret_key, info).encrypt(secret.encode()).decode()


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def unseal(stored: str, secret_key: str, *, info: bytes = _INFO) -> str:
    if not is_sealed(stored):
        return stored
    try:
        return _fernet(secret_key, info).decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        raise UnreadableSecret("this secret was sealed under another GROUPIPT_SECRET_KEY") from None
