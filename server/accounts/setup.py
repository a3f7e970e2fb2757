"""Accounts that begin from a link: the first coordinator, invitations, password resets."""
from __future__ import annotations

from tortoise.transactions import in_transaction

from models.accounts import AccountLink, LinkPurpose, Role, User
from server import clock
from server.accounts.audit import security_event
from server.accounts.links import find_link, issue_link
from server.accounts.passwords import Passwords, normalize_email
from server.accounts.sessions import end_all
from server.errors import BadRequest, Conflict, NotFound


async def open_setup_link(secret: str) -> AccountLink:
    """The first-run link, while no coordinator exists yet."""
    link = await find_link(LinkPurpose.SETUP, secret)
    if link is None or await User.filter(role=Role.COORDINATOR).exists():
        raise NotFound("This setup link has been used or has expired. Log in instead.")
    return link


async def create_first_coordinator(
    link: AccountLink, passwords: Passwords, *, display_name: str, email: str, password: str, password_again: str
) -> User:
    email = normalize_email(email)
    password_hash = await passwords.hash(password)
    if password != password_again:
        raise BadRequest("The two passwords differ.", fields={"password_again": "Type the same password twice."})
    async with in_transaction():
        if await User.filter(role=Role.COORDINATOR).exists():
            raise Conflict("A coordinator was created a moment ago. Log in instead.")
        user = await User.create(email=email, display_name=display_name, password_hash=password_hash, role=Role.COORDINATOR)
        link.used_at = clock.now()
        await link.save(update_fields=["used_at"])
    return user


async def open_password_link(purpose: LinkPurpose, secret: str) -> AccountLink:
    """An invitation or password-reset link for an active person."""
    link = await find_link(purpose, secret)
    if link is None or link.user is None or not link.user.is_active:
        raise NotFound("This link has been used or has expired. Ask your coordinator for a new one.")
    return link


async def choose_password_from_link(link: AccountLink, passwords: Passwords, *, password: str, password_again: str) -> User:
    user = link.user
    if password != password_again:
        raise BadRequest("The two passwords differ.", fields={"password_again": "Type the same password twice."})
    user.password_hash = await passwords.hash(password)
    async with in_transaction():
        user.session_epoch += 1  # a new password ends every other session
        await user.save(update_fields=["password_hash", "session_epoch"])
        link.used_at = clock.now()
        await link.save(update_fields=["used_at"])
    await end_all(user, "new password from a link")
    await security_event("password_set_from_link", person=user, actor=user, detail=str(link.purpose))
    return user


async def invite_person(*, email: str, display_name: str, role: Role, invited_by: User) -> tuple[User, str]:
    """Create an account without a password and the invitation link that completes it."""
    email = normalize_email(email)
    if await User.filter(email=email).exists():
        raise Conflict(f"{email} already has an account.", fields={"email": "Already registered."})
    async with in_transaction():
        user = await User.create(email=email, display_name=display_name, role=role)
        path = await issue_link(LinkPurpose.INVITATION, user=user, created_by=invited_by)
    return user, path
