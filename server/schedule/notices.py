"""Who was told of a schedule change: the notices one change made, read back for the page
the coordinator lands on, so notices waiting in the outbox (no mail server set, or a send
that failed) are passed on by hand rather than forgotten.

The change's notices travel in the redirect as an id range ("12-15"); only ids, never
addresses, appear in the URL.
"""
from __future__ import annotations

from dataclasses import dataclass

from models.mail import OutboxMessage


@dataclass(frozen=True, kw_only=True)
class Notices:
    emailed: tuple[str, ...]
    waiting: tuple[str, ...]

    @property
    def nobody(self) -> bool:
        return not self.emailed and not self.waiting


async def last_id() -> int:
    row = await OutboxMessage.all().order_by("-id").first()
    return row.id if row else 0


async def made_since(after_id: int, *, count: int) -> list[OutboxMessage]:
    if count <= 0:
        return []
    return await OutboxMessage.filter(id__gt=after_id).order_by("id").limit(count)


def as_param(messages: list[OutboxMessage]) -> str:
    """'first-last' of the change's notices, or '0' when nobody needed telling."""
    if not messages:
        return "0"
    return f"{messages[0].id}-{messages[-1].id}"


async def read_param(raw: str | None) -> Notices | None:
    if raw is None:
        return None
    if raw.strip() == "0":
        return Notices(emailed=(), waiting=())
    first, _, last = raw.partition("-")
    try:
        low, high = int(first), int(last or first)
    except ValueError:
        return None
    if not (0 < low <= high < 2**31) or high - low > 1000:
        return None
    rows = await OutboxMessage.filter(id__gte=low, id__lte=high).order_by("id").select_related("to_user")
    def who(m: OutboxMessage) -> str:
        return f"{m.to_user.display_name} <{m.to_email}>" if m.to_user else m.to_email
    return Notices(
        emailed=tuple(who(m) for m in rows if m.sent_at is not None),
        waiting=tuple(who(m) for m in rows if m.sent_at is None),
    )
