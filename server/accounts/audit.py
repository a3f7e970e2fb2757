"""Audit trail: every read or change of a member's clinical data records who, what, when."""
from __future__ import annotations

from models.accounts import AuditEvent, User


async def record(
    actor: User | None,
    action: str,
    subject: str,
    subject_id: object = "",
    *,
    member: User | int | None = None,
    detail: str = "",
) -> None:
    if action not in {"read", "change"}:
        raise ValueError(f"audit action must be 'read' or 'change', not {action!r}")
    member_id = member.id if isinstance(member, User) else member
    await AuditEvent.create(
        actor=actor,
        action=action,
        subject=subject,
        subject_id=str(subject_id),
        member_id=member_id,
        detail=detail[:255],
    )
