"""Text-message reminders through a pluggable sender; no provider is needed to run.

GROUPIPT_SMS_SENDER picks one: "outbox" (default: kept in the outbox for the coordinator, as
e-mail is without SMTP), "console" (logged), or "package.module:ClassName" for a provider's
adapter, a class with `async def send(self, *, to: str, text: str) -> None`.
"""
from __future__ import annotations

import importlib
import logging
from typing import Protocol

from models.mail import OutboxMessage
from server.platform.settings import Settings, SettingsError
from server.reminders.messages import Reminder

log = logging.getLogger("groupipt.sms")
SMS_PREFIX = "sms:"  # outbox rows of text messages carry the number as "sms:+4420..."


class SmsSender(Protocol):
    async def send(self, *, to: str, text: str) -> None: ...


class OutboxSms:
    async def send(self, *, to: str, text: str) -> None:
        await OutboxMessage.create(to_email=f"{SMS_PREFIX}{to}"[:254], subject="Text message", body=text)


class ConsoleSms:
    async def send(self, *, to: str, text: str) -> None:
        log.info("text message to %s: %s", to, text)


def sms_text(reminder: Reminder) -> str:
    """The reminder in one short text: its subject and the "I can't come" link."""
    return f"{reminder.subject.removeprefix('Reminder: ')}. Can't come? {reminder.cant_come_url}"


def sender_from(settings: Settings) -> SmsSender:
    choice = settings.extra.get("GROUPIPT_SMS_SENDER", "outbox") or "outbox"
    if choice == "outbox":
        return OutboxSms()
    if choice == "console":
        return ConsoleSms()
    module_name, _, class_name = choice.partition(":")
    try:
        return getattr(importlib.import_module(module_name), class_name)()
    except (ImportError, AttributeError, ValueError, TypeError) as exc:
        raise SettingsError(f"GROUPIPT_SMS_SENDER has value {choice!r}. Expected outbox, console or "
                            "package.module:ClassName.") from exc
