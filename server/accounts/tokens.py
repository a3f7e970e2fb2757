"""API tokens: a secret shown once, stored only as its SHA-256."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from models.accounts import ApiToken, User
from server import clock
from server.errors import BadRequest, NotFound


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


API_TOKEN_PREFIX = "gipt_"


async def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise BadRequest("Give the token a name of 1-80 characters, such as 'reporting script'.", fields={"name": "Required."})
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = await ApiToken.create(user=user, name=name, token_sha256=sha256(secret), prefix=secret[:9])
    return token, secret


async def revoke_api_token(user: User, token_id: int) -> ApiToken:
    token = await ApiToken.get_or_none(id=token_id, user=user, revoked_at=None)
    if token is None:
        raise NotFound("No such active token on your account.")
    token.revoked_at = clock.now()
    await token.save(update_fields=["revoked_at"])
    return token


async def user_for_api_token(secret: str) -> User | None:
    if not secret.startswith(API_TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = await ApiToken.get_or_none(token_sha256=sha256(secret), revoked_at=None).select_related("user")
    if token is None or not token.user.is_active:
        return None
    stamp = clock.now()
    if token.last_used_at is None or stamp - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = stamp
        await token.save(update_fields=["last_used_at"])
    return token.user
