"""Retention: a member's record is kept for GROUPIPT_RETENTION_YEARS after their last
enrollment ends, then purged. Nothing is purged while the setting is unset.

Health records are exempt from immediate erasure (GDPR Art. 17(3)(c) and (h)), so the end
of retention is when they go. A purge deletes the member's clinical rows (answers, safety
items and risk checks, inventory, closure summaries, attendance, goal check-ins), blanks
what other records still point at (goals, role-play turns, the enrollment's clinical
fields), turns the account into "Former member" with no way to sign in, and redacts the
member's content in the board logs in place: the events and their sequence stay, so every
board still replays gap-free (design.md, "Live board"). One audit entry says what was
removed, never the data itself.
"""
from __future__ import annotations

import asyncio
import contextlib
import copy
import fcntl
import logging
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from models.accounts import AccountLink, ApiToken, FeedToken, Role, User
from models.board import Attendance, BoardEvent, FacilitatorNote, RolePlayTurn
from models.clinical import (
    Goal,
    GoalProgress,
    InventoryEntry,
    MeasureResponse,
    RiskCheck,
    SafetyItem,
    SafetyNotice,
)
from models.closure import ClosureSummary
from models.cohorts import Enrollment, EnrollmentStatus, EnrollmentTransition
from models.mail import OutboxMessage
from server import clock
from server.accounts import audit
from server.errors import Conflict
from server.platform.settings import Settings, SettingsError
from server.records.errors import BackupError

log = logging.getLogger("groupipt.records")

PURGE_EVERY_SECONDS = 24 * 3600
REDACTED = "[removed]"
# The free text a board event can carry; ids, statuses and times stay so the log replays.
TEXT_KEYS = frozenset({"text", "scenario", "role_label", "reason", "next_step", "note", "label"})
ENDED = (EnrollmentStatus.COMPLETED, EnrollmentStatus.WITHDRAWN)
# The advisory lock's key (PostgreSQL): one bigint that only the purge takes ("gIPT", 19).
PURGE_LOCK_KEY = 0x67495054_0019


class PurgeBusy(Conflict):
    code = "purge_busy"
    title = "A purge is already running"


def retention_years(settings: Settings) -> int | None:
    raw = settings.extra.get("GROUPIPT_RETENTION_YEARS", "").strip()
    if not raw:
        return None
    try:
        years = int(raw)
    except ValueError:
        years = 0
    if years < 1:
        raise SettingsError(f"GROUPIPT_RETENTION_YEARS has value {raw!r}. Expected a whole number of years "
                            "(1 or more), as the clinic's health-records law requires; leave it unset to keep everything.")
    return years


def years_before(now: datetime, years: int) -> datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


# --- pure: what the board log keeps of a purged member ---------------------------------------


def redact_board_log(events: Iterable[tuple[int, str, Mapping[str, Any]]], *, enrollments: set[str],
                     goals: set[str]) -> dict[int, dict[str, Any]]:
    """The new data of each event (by seq) that carries this member's content: free text
    replaced by REDACTED, ids and statuses kept. `events` in seq order, for one board."""
    turns: set[str] = set()
    changed: dict[int, dict[str, Any]] = {}
    for seq, _type, data in events:
        # A turn where they only played the other part is the protagonist's content: it stays,
        # naming an account that is now "Former member".
        theirs = (
            str(data.get("member")) in enrollments
            or str(data.get("protagonist")) in enrollments
            or str(data.get("goal")) in goals
        )
        if theirs and "turn" in data and data.get("protagonist") is not None:
            turns.add(str(data["turn"]))
        theirs = theirs or str(data.get("turn")) in turns
        if theirs:
            redacted = _redact_texts(data)
            if redacted != data:
                changed[seq] = redacted
    return changed


def _redact_texts(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: (REDACTED if k in TEXT_KEYS and isinstance(v, str) and v else _redact_texts(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_texts(v) for v in value]
    return copy.copy(value)


# --- the database --------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    member_id: int
    ended_at: datetime


@dataclass(frozen=True)
class Purged:
    member_id: int
    removed: dict[str, int]


async def members_due(*, now: datetime, years: int) -> list[Due]:
    """Members whose every enrollment has ended, the last more than `years` ago (a restricted
    member's open ones end on the day of the restriction)."""
    cutoff = years_before(now, years)
    ended: dict[int, datetime] = {}
    open_members: set[int] = set()
    rows = await Enrollment.filter(member__role=Role.MEMBER).exclude(member__email__endswith="@invalid").values(
        "id", "member_id", "status", "updated_at", "member__restricted_at")
    transitions: dict[int, datetime] = {}
    for t in await EnrollmentTransition.filter(enrollment_id__in=[r["id"] for r in rows],
                                               to_status__in=[s.value for s in ENDED]).values("enrollment_id", "at"):
        transitions[t["enrollment_id"]] = max(t["at"], transitions.get(t["enrollment_id"], t["at"]))
    for row in rows:
        if row["status"] not in ENDED and row["member__restricted_at"] is None:
            open_members.add(row["member_id"])
            continue
        # A restricted member's open enrollments ended when the restriction began.
        at = transitions.get(row["id"], row["updated_at"]) if row["status"] in ENDED else row["member__restricted_at"]
        ended[row["member_id"]] = max(at, ended.get(row["member_id"], at))
    return sorted((Due(member_id=m, ended_at=at) for m, at in ended.items()
                   if m not in open_members and at < cutoff), key=lambda d: d.member_id)


async def purge_member(member_id: int, *, years: int) -> Purged | None:
    """One member's purge, in one transaction; None if another pass purged them first."""
    async with in_transaction():
        if await User.filter(id=member_id, email__endswith="@invalid").exists():
            return None  # purged a moment ago by another pass: once is the record
        enrollment_rows = await Enrollment.filter(member_id=member_id).values("id", "cohort_id")
        ids = [r["id"] for r in enrollment_rows]
        goal_ids = await Goal.filter(enrollment_id__in=ids).values_list("id", flat=True)
        removed: dict[str, int] = {}
        removed["board events redacted"] = await _redact_boards(
            {r["cohort_id"] for r in enrollment_rows}, {str(i) for i in ids}, {str(g) for g in goal_ids})
        items = await SafetyItem.filter(enrollment_id__in=ids).values_list("id", flat=True)
        removed["safety notices"] = await SafetyNotice.filter(safety_item_id__in=items).delete()
        removed["risk checks"] = await RiskCheck.filter(safety_item_id__in=items).delete()
        removed["safety items"] = await SafetyItem.filter(id__in=items).delete()
        await MeasureResponse.filter(enrollment_id__in=ids).update(superseded_by_id=None)
        removed["questionnaire answers"] = await MeasureResponse.filter(enrollment_id__in=ids).delete()
        removed["inventory entries"] = await InventoryEntry.filter(enrollment_id__in=ids).delete()
        # Finalized versions are immutable through the ORM's save/delete; the end of
        # retention is the one time they go, by a queryset delete.
        removed["closure summary versions"] = await ClosureSummary.filter(enrollment_id__in=ids).delete()
        removed["attendance marks"] = await Attendance.filter(enrollment_id__in=ids).delete()
        removed["goal check-ins"] = await GoalProgress.filter(goal_id__in=goal_ids).delete()
        removed["goals blanked"] = await Goal.filter(id__in=goal_ids).update(text=REDACTED)
        removed["role-play turns blanked"] = await RolePlayTurn.filter(protagonist_id__in=ids).update(
            role_label=REDACTED, scenario="", next_step="", feedback=[])
        await RolePlayTurn.filter(counterpart_enrollment_id__in=ids).update(counterpart_enrollment_id=None)
        await EnrollmentTransition.filter(enrollment_id__in=ids).update(reason="")
        await Enrollment.filter(id__in=ids).update(
            formulation="", formulation_agreed=None, formulation_agreed_at=None, primary_problem_area=None,
            secondary_problem_area=None, withdrawal_reason="", late_join_reason="")
        removed["messages"] = await OutboxMessage.filter(to_user_id=member_id).delete()
        for model in (ApiToken, FeedToken, AccountLink):
            await model.filter(user_id=member_id).delete()
        user = await User.get(id=member_id)
        await User.filter(id=member_id).update(
            email=f"purged-{member_id}@invalid", display_name="Former member", password_hash="",
            is_active=False, session_epoch=user.session_epoch + 1, last_login_at=None)
        kept = {k: v for k, v in removed.items() if v}
        await audit.record(None, "change", "member_record", member_id, member=member_id,
                           detail=f"purged after {years} years' retention: "
                           + (", ".join(f"{v} {k}" for k, v in kept.items()) or "nothing clinical was held"))
    return Purged(member_id=member_id, removed=kept)


async def _redact_boards(cohort_ids: set[int], enrollments: set[str], goals: set[str]) -> int:
    rows = await BoardEvent.filter(board__meeting__cohort_id__in=list(cohort_ids)).order_by(
        "board_id", "seq").values("id", "board_id", "seq", "type", "data", "board__meeting_id")
    by_board: dict[int, list[dict]] = {}
    for row in rows:
        by_board.setdefault(row["board_id"], []).append(row)
    count = 0
    for events in by_board.values():
        changes = redact_board_log(((e["seq"], e["type"], e["data"]) for e in events),
                                   enrollments=enrollments, goals=goals)
        for event in events:
            if event["seq"] not in changes:
                continue
            await BoardEvent.filter(id=event["id"]).update(data=changes[event["seq"]])
            if event["type"] == "note_added":
                # The note a closed board stored as the meeting's record goes the same way.
                await FacilitatorNote.filter(meeting_id=event["board__meeting_id"],
                                             text=event["data"].get("text", "")).update(text=REDACTED)
            count += 1
    return count


@contextlib.asynccontextmanager
async def purge_lock(settings: Settings) -> AsyncIterator[None]:
    """One purge at a time, across every server on the database, or PurgeBusy.

    PostgreSQL: a session advisory lock (`pg_try_advisory_lock`), taken without waiting on
    one pooled connection held for the whole pass and released on it, so a second server's
    daily task (or `groupipt purge --due`) finds it taken and leaves the pass to the first.

    SQLite: every process that shares the file is on its machine, so an exclusive `flock` on
    a lock file beside it does the same. SQLite's one writer alone keeps a member's purge
    whole (one transaction each) but is not enough: a pass whose transaction read before the
    other's write fails with "database is locked" instead of waiting (a WAL snapshot cannot
    be upgraded), so two passes at once would make one fail halfway through the list. A
    member purged by a pass that ran just before is skipped inside the transaction."""
    if settings.is_sqlite:
        with _sqlite_purge_lock(settings):
            yield
        return
    client = connections.get("default")
    async with client.acquire_connection() as raw:
        if not await raw.fetchval("SELECT pg_try_advisory_lock($1)", PURGE_LOCK_KEY):
            raise _busy()
        try:
            yield
        finally:
            await raw.execute("SELECT pg_advisory_unlock($1)", PURGE_LOCK_KEY)


def _busy() -> PurgeBusy:
    return PurgeBusy("Another server (or `groupipt purge`) is purging right now; this pass was skipped. "
                     "Nothing was changed.")


@contextlib.contextmanager
def _sqlite_purge_lock(settings: Settings):
    from server.records.sqlite_copy import database_path

    try:
        database = database_path(settings.database_url)
    except BackupError:  # in memory: one process, nothing to share
        yield
        return
    fd = os.open(database.with_name(database.name + ".purge-lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy() from None
        yield
    finally:
        os.close(fd)  # releases the lock


async def purge_due(settings: Settings, *, now: datetime) -> tuple[int | None, list[Purged]]:
    years = retention_years(settings)
    if years is None:
        return None, []
    async with purge_lock(settings):
        purged = [await purge_member(due.member_id, years=years) for due in await members_due(now=now, years=years)]
    return years, [p for p in purged if p is not None]


@contextlib.asynccontextmanager
async def daily_purges(settings: Settings) -> AsyncIterator[None]:
    """For the app's lifespan: `purge_due` at start and then once a day, only when a
    retention is set (a bad value stops the server at start, naming the variable)."""
    if retention_years(settings) is None:
        yield
        return

    async def run() -> None:
        while True:
            try:
                years, purged = await purge_due(settings, now=clock.now())
                if purged:
                    log.info("purged %d member record(s) past %s years' retention", len(purged), years)
            except PurgeBusy:
                log.info("retention purge skipped: another server is purging")
            except Exception:  # logged and tried again tomorrow; nothing is half-purged (one transaction each)
                log.exception("retention purge failed")
            await asyncio.sleep(PURGE_EVERY_SECONDS)

    task = asyncio.create_task(run(), name="retention-purge")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
