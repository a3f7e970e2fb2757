"""Restriction of processing: "restrict now, purge at the end of retention".

Health records are exempt from erasure on request (GDPR Art. 17(3)(c) and (h)); what a
member who asks can have at once is restriction (Art. 18): the record is kept, stored and
nothing else. While a member is restricted:

- they are left out of cohort lists, rosters (the board of every meeting opened from now
  on), reminders, calendar feeds (their feed answers the same bare 404 as an unknown one)
  and the pickers staff search; each of those queries filters on `User.restricted_at`;
- their record is read-only: a save or delete of any row of it is refused here, once, by
  the ORM's pre-save and pre-delete signals, whatever route or socket asked, before the row
  is written (so the surrounding transaction rolls back and nothing is changed);
- for retention their open enrollments count as ended on the day of the restriction, so
  `groupipt purge --due` removes the record when the retention that followed has passed.

Safety items and risk checks are not guarded: a clinician who must document a risk check
for someone at risk still can (Art. 18(2): protecting another person's, here the member's
own, vital interests). The purge itself uses queryset updates and deletes, which bypass the
signals, as it must.

Coordinators restrict and lift (audited, with a reason); the member keeps their right of
access (Art. 15) and can still download their own record.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.signals import pre_delete, pre_save

from models.accounts import Role, User
from models.board import Attendance, RolePlayTurn
from models.clinical import Goal, GoalProgress, InventoryEntry, MeasureResponse
from models.closure import ClosureSummary
from models.cohorts import Enrollment
from server.accounts import audit
from server.errors import BadRequest, Conflict, NotFound
from server.schedule.feeds import revoke_feed_tokens

REASON_MAX = 500


class RecordRestricted(Conflict):
    code = "record_restricted"
    title = "This record is restricted"


def refused() -> RecordRestricted:
    return RecordRestricted(
        "This member's record is restricted (GDPR Art. 18): it is kept read-only until a coordinator "
        "lifts the restriction. Nothing was changed.")


def is_restricted(user: User) -> bool:
    return user.restricted_at is not None


def _reason(raw: str | None, *, what: str) -> str:
    reason = " ".join((raw or "").split())
    if not reason:
        raise BadRequest(f"Say why the record is {what} (for the audit log).", fields={"reason": "Required."})
    if len(reason) > REASON_MAX:
        raise BadRequest(f"The reason is too long ({REASON_MAX} characters at most).", fields={"reason": "Too long."})
    return reason


async def member_for_restriction(user_id: int) -> User:
    member = await User.get_or_none(id=user_id, role=Role.MEMBER)
    if member is None or member.email.endswith("@invalid"):  # purged records have nothing left to restrict
        raise NotFound("There is no member with this id.")
    return member


async def restrict_member(member: User, *, by: User, reason: str | None, now: datetime) -> User:
    reason = _reason(reason, what="restricted")
    if is_restricted(member):
        raise Conflict(f"{member.display_name}'s record is already restricted (since "
                       f"{member.restricted_at:%Y-%m-%d}).")
    updated = await User.filter(id=member.id, restricted_at=None).update(
        restricted_at=now, restriction_reason=reason, restricted_by_id=by.id)
    if not updated:  # restricted by someone else a moment ago
        raise Conflict(f"{member.display_name}'s record is already restricted.")
    # Their feed URL stops at once (every process re-reads tokens within the feed cache's recheck).
    await revoke_feed_tokens(member.id)
    await audit.record(by, "change", "member_record", member.id, member=member.id,
                       detail=f"restricted: {reason}"[:255])
    return await User.get(id=member.id)


async def lift_restriction(member: User, *, by: User, reason: str | None) -> User:
    reason = _reason(reason, what="no longer restricted")
    if not is_restricted(member):
        raise Conflict(f"{member.display_name}'s record is not restricted.")
    await User.filter(id=member.id).update(restricted_at=None, restriction_reason="", restricted_by_id=None)
    await audit.record(by, "change", "member_record", member.id, member=member.id,
                       detail=f"restriction lifted: {reason}"[:255])
    return await User.get(id=member.id)


async def restricted_members() -> list[User]:
    return list(await User.filter(role=Role.MEMBER, restricted_at__isnull=False).exclude(
        email__endswith="@invalid").order_by("restricted_at", "id").prefetch_related("restricted_by"))


# --- the record is read-only: one guard under every writer ------------------------------


async def _member_restricted(model: type, instance: Any, using_db: BaseDBAsyncClient | None) -> bool:
    if isinstance(instance, Enrollment):
        query = User.filter(id=instance.member_id, restricted_at__isnull=False)
    elif isinstance(instance, GoalProgress):
        query = Enrollment.filter(goals__id=instance.goal_id, member__restricted_at__isnull=False)
    elif isinstance(instance, RolePlayTurn):
        query = Enrollment.filter(id=instance.protagonist_id, member__restricted_at__isnull=False)
    else:
        enrollment_id = getattr(instance, "enrollment_id", None)
        if enrollment_id is None:  # a group goal: nobody's record
            return False
        query = Enrollment.filter(id=enrollment_id, member__restricted_at__isnull=False)
    if using_db is not None:
        query = query.using_db(using_db)
    return await query.exists()


GUARDED = (Enrollment, Goal, GoalProgress, MeasureResponse, InventoryEntry, ClosureSummary, Attendance, RolePlayTurn)


@pre_save(*GUARDED)
async def _refuse_saving(sender: type, instance: Any, using_db: BaseDBAsyncClient | None, update_fields: Any) -> None:
    if await _member_restricted(sender, instance, using_db):
        raise refused()


@pre_delete(*GUARDED)
async def _refuse_deleting(sender: type, instance: Any, using_db: BaseDBAsyncClient | None) -> None:
    if await _member_restricted(sender, instance, using_db):
        raise refused()
