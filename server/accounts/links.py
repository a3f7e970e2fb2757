"""One-time links (invitations, password resets, first-run setup), stored only hashed."""
from __future__ import annotations

import secrets
from datetime import timedelta

from models.accounts import AccountLink, LinkPurpose, User
from server import clock
from server.accounts.tokens import sha256

LINK_LIFETIME = {
    LinkPurpose.INVITATION: timedelta(days=14),
    LinkPurpose.PASSWORD_RESET: timedelta(hours=24),
    LinkPurpose.SETUP: timedelta(days=7),
}


def lifetime_words(purpose: LinkPurpose | str) -> str:
    """How long a link of `purpose` works, as pages and e-mails say it ("14 days", "24 hours")."""
    return clock.duration_words(LINK_LIFETIME[LinkPurpose(purpose)])


LINK_PATH = {
    LinkPurpose.INVITATION: "/invitations/{token}",
    LinkPurpose.PASSWORD_RESET: "/password-reset/{token}",
    LinkPurpose.SETUP: "/setup/{token}",
}


async def issue_link(purpose: LinkPurpose, *, user: User | None = None, created_by: User | None = None) -> str:
    """Create a one-time link and return its path; the secret exists only in that path."""
    if user is not None or purpose == LinkPurpose.SETUP:
        # A new link of the same kind replaces older unused ones.
        await AccountLink.filter(user=user, purpose=purpose, used_at=None).update(used_at=clock.now())
    secret = secrets.token_urlsafe(32)
    await AccountLink.create(
        token_sha256=sha256(secret),
        purpose=purpose,
        user=user,
        created_by=created_by,
        expires_at=clock.now() + LINK_LIFETIME[purpose],
    )
    return LINK_PATH[purpose].format(token=secret)


async def find_link(purpose: LinkPurpose, secret: str) -> AccountLink | None:
    if not secret or len(secret) > 100:
        return None
    link = await AccountLink.get_or_none(token_sha256=sha256(secret), purpose=purpose).select_related("user")
    if link is None or link.used_at is not None or link.expires_at < clock.now():
        return None
    return link
