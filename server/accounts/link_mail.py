"""One-time links by e-mail: invitations, password resets and calendar links (issue 20, item 5).

Each message goes through the platform's outbox (server/platform/mailer.py): it is sent by
SMTP when GROUPIPT_SMTP_HOST is set, and otherwise waits in the outbox for the coordinator
to pass on, so the page that made it says which ("e-mailed to ..." or "waiting in the outbox
for ..."). A message carries the person's first name, the link and what it is for, nothing
about the group. The link is a credential: it goes into the message and nowhere else, never
into a log line or the audit trail (whose entry says only what kind of link was mailed), and
once the mail server has taken the message the outbox copy keeps the words without the link.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from models.accounts import LinkPurpose, User
from models.mail import OutboxMessage
from server import clock
from server.accounts.audit import security_event
from server.accounts.links import issue_link, lifetime_words
from server.errors import BadRequest, Conflict
from server.platform import mailer
from server.platform.settings import Settings


log = logging.getLogger("groupipt.mail")

SENT_LINK = "[the link: sent by e-mail, not kept here]"


class LinkKind(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"
    CALENDAR = "calendar"


class MailState(StrEnum):
    SENT = "sent"  # handed to the mail server
    QUEUED = "queued"  # no mail server is set: waiting in the outbox
    FAILED = "failed"  # the mail server refused or could not be reached: waiting in the outbox
    SENDING = "sending"  # written to the outbox; being e-mailed after the answer (the outbox shows how it went)


@dataclass(frozen=True)
class LinkMail:
    to_email: str
    state: MailState
    message_id: int

    @property
    def words(self) -> str:
        """What the page says about it."""
        if self.state is MailState.SENT:
            return f"E-mailed to {self.to_email}."
        if self.state is MailState.SENDING:
            return f"Being e-mailed to {self.to_email}; the outbox shows when it has gone."
        if self.state is MailState.QUEUED:
            return f"Waiting in the outbox for {self.to_email}: no mail server is set, so pass it on from the outbox."
        return f"Could not be e-mailed to {self.to_email} just now; it is waiting in the outbox."


def compose(kind: LinkKind, person: User, url: str, *, settings: Settings) -> tuple[str, str]:
    name = person.first_name or "there"
    sender = settings.organizer_name
    if kind is LinkKind.INVITATION:
        subject = f"Your account with {sender}"
        text = ("An account has been made for you, so you can see your appointments and fill in the "
                "short questionnaires between them. Choose your password with this link; it works once, "
                f"within {lifetime_words(LinkPurpose.INVITATION)}:")
    elif kind is LinkKind.PASSWORD_RESET:
        subject = "Choose a new password"
        text = f"Choose a new password with this link; it works once, within {lifetime_words(LinkPurpose.PASSWORD_RESET)}:"
    else:
        subject = "Your private calendar address"
        text = ("This is the address of your private calendar: add it to the calendar app on your phone "
                "or computer (\"subscribe\" or \"add from URL\") to see your appointment times there. "
                "Anyone with it can see those times, so keep it to yourself:")
    body = (f"Hello {name},\n\n{text}\n\n{url}\n\n"
            "If you did not expect this message, you can ignore it.\n\n"
            f"{sender}\n")
    return subject, body


async def mail_link(kind: LinkKind, person: User, url: str, *, settings: Settings, by: User | None,
                    now: datetime | None = None) -> LinkMail:
    """Put the link in the outbox for `person`, send it if a mail server is set, and say which."""
    message, body = await _outbox_copy(kind, person, url, settings=settings)
    return await _deliver(kind, person, url, message, body, settings=settings, by=by, now=now)


async def _outbox_copy(kind: LinkKind, person: User, url: str, *, settings: Settings) -> tuple[OutboxMessage, str]:
    subject, body = compose(kind, person, url, settings=settings)
    return await OutboxMessage.create(to_email=person.email, to_user=person, subject=subject, body=body), body


async def _deliver(kind: LinkKind, person: User, url: str, message: OutboxMessage, body: str, *,
                   settings: Settings, by: User | None, now: datetime | None = None) -> LinkMail:
    await mailer.deliver(message, settings=settings, now=now or clock.now())
    if message.sent_at is not None:
        state = MailState.SENT
        # Sent: the outbox keeps that it went, not the credential (staff read the outbox).
        message.body = body.replace(url, SENT_LINK)
        await message.save(update_fields=["body"])
    elif settings.smtp_host:
        state = MailState.FAILED
    else:
        state = MailState.QUEUED
    await security_event(f"{kind.value}_link_mailed", person=person, actor=by, detail=state.value)
    return LinkMail(person.email, state, message.id)


# An import's invitations go out after the answer (mailer.beside), this many SMTP exchanges at
# a time: one at a time in the request, 40 rows against a mail server that does not answer
# (15 s each) kept the coordinator's page waiting ten minutes, past any proxy's timeout.
SENDING_AT_ONCE = 4


async def mail_invitations(paths: dict[str, str], *, settings: Settings, by: User | None) -> dict[str, LinkMail]:
    """Each new member's invitation (e-mail -> link path, as the CSV import gives them), written
    to the outbox now. With a mail server set they are `SENDING`: e-mailed after the answer, a
    few at a time, each marked sent or failed in the outbox (and audited) as it goes. Without
    one they wait in the outbox (`QUEUED`), as any message does."""
    people = {u.email: u for u in await User.filter(email__in=list(paths))}
    mails: dict[str, LinkMail] = {}
    pending: list[tuple[User, str, OutboxMessage, str]] = []
    for email, path in paths.items():
        person = people.get(email)
        if person is None:
            continue
        url = settings.base_url + path
        message, body = await _outbox_copy(LinkKind.INVITATION, person, url, settings=settings)
        if settings.smtp_host:
            pending.append((person, url, message, body))
            mails[email] = LinkMail(email, MailState.SENDING, message.id)
        else:
            mails[email] = await _deliver(LinkKind.INVITATION, person, url, message, body, settings=settings, by=by)
    if pending:
        await mailer.beside(lambda: _send_all(pending, settings=settings, by=by), name=f"invitations-{len(pending)}")
    return mails


async def _send_all(pending: list[tuple[User, str, OutboxMessage, str]], *, settings: Settings,
                    by: User | None) -> None:
    turns = asyncio.Semaphore(SENDING_AT_ONCE)

    async def send(person: User, url: str, message: OutboxMessage, body: str) -> None:
        async with turns:
            try:
                await _deliver(LinkKind.INVITATION, person, url, message, body, settings=settings, by=by)
            except Exception:  # stays in the outbox, with the link, for the coordinator to pass on
                log.exception("invitation %s could not be sent", message.id)

    await asyncio.gather(*(send(*each) for each in pending))


@dataclass(frozen=True)
class SentLink:
    mail: LinkMail
    kind: LinkKind
    # The person's calendar link could not be read again (made before sealing), so a new one
    # was made and mailed: the old one stopped working.
    replaced: bool = False


async def send_link(kind: LinkKind | str, person: User, *, by: User, settings: Settings) -> SentLink:
    """A coordinator's "e-mail it": a new invitation or reset link (older unused ones stop
    working), or the person's calendar link, made if they have none that can be read again."""
    try:
        kind = LinkKind(kind)
    except ValueError:
        raise BadRequest("Choose which link to e-mail: invitation, password_reset or calendar.",
                         fields={"kind": "Unknown."}) from None
    if not person.is_active:
        raise Conflict(f"{person.display_name}'s account is deactivated; no link was sent.")
    if kind is LinkKind.INVITATION:
        if person.password_hash:
            raise Conflict(f"{person.display_name} has already chosen a password: e-mail a password reset link instead.")
        path = await issue_link(LinkPurpose.INVITATION, user=person, created_by=by)
        return SentLink(await mail_link(kind, person, settings.base_url + path, settings=settings, by=by), kind)
    if kind is LinkKind.PASSWORD_RESET:
        path = await issue_link(LinkPurpose.PASSWORD_RESET, user=person, created_by=by)
        return SentLink(await mail_link(kind, person, settings.base_url + path, settings=settings, by=by), kind)
    # Imported here: the feeds area builds on accounts, not the other way round.
    from server.schedule import feeds

    if not feeds.can_have_feed(person):
        raise Conflict(f"{person.display_name} has no personal calendar link: coordinators follow each "
                       "cohort's calendar, and restricted records have none.")
    token = await feeds.active_feed_token(person)
    secret = feeds.readable_feed_secret(token, settings.secret_key)
    replaced = token is not None and secret is None
    if secret is None:
        secret = await feeds.mint_feed_token(person, secret_key=settings.secret_key)
    url = feeds.feed_url(settings.base_url, secret)
    return SentLink(await mail_link(kind, person, url, settings=settings, by=by), kind, replaced)
