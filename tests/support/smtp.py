"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""
from __future__ import annotations

import asyncio
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from tests.support.server import free_port


class Collector:
    def __init__(self) -> None:
        self.messages: list = []  # (recipients, email.message.Message)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


class SlowCollector(Collector):
    """Takes 3 s over each message, as a mail server under load may."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        await asyncio.sleep(3)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp_server():
    """(controller, collector): the controller's port to send to, the collector's messages."""
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, collector
    controller.stop()
