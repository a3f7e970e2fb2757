"""Audit trail: every read or change of a member's clinical data records who, what, when;
and the security events of accounts (sign-ins, failures, factors, sessions), never a secret."""
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
    if action not in {"read", "change", "security"}:
        raise ValueError(f"audit action must be 'read', 'change' or 'security', not {action!r}")
    member_id = member.id if isinstance(member, User) else member
    await AuditEvent.create(
        actor=actor,
        action=action,
        subject=subject,
        subject_id=str(subject_id),
        member_id=member_id,
        detail=detail[:255],
    )


async def record_many(actor: User, action: str, events: list[tuple[str, object, str]], *,
                      member: User | int | None = None) -> None:
    """Several events of one actor as `record` writes them, in one INSERT: a page that reads
    many records audits them at a cost that does not grow with their number."""
    if action not in {"read", "change", "security"}:
        raise ValueError(f"audit action must be 'read', 'change' or 'security', not {action!r}")
    member_id = member.id if isinstance(member, User) else member
    await AuditEvent.bulk_create([
        AuditEvent(actor=actor, action=action, subject=subject, subject_id=str(subject_id),
                   member_id=member_id, detail=detail[:255])
        for subject, subject_id, detail in events
    ])


async def security_event(subject: str, *, person: User | None, actor: User | None = None, detail: str = "") -> None:
    """A sign-in event about `person` (None: an address with no account), done by `actor`
    (None: someone not signed in). `detail` names the client, never a password or code."""
    await record(actor, "security", subject, person.id if person else "", member=person, detail=detail)
