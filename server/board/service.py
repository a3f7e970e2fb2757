"""The board's durable side: open a board, run a command, read the log, close the meeting.

A command is decided against the board's state (cached per process, the log is the
truth) and its events appended by one conditional statement (`store.append`): written
only if the log's head is still the one the decision saw and the actor is still
authorized. Two facilitators are serialized by a per-board lock in one process and by
that head check across processes; the loser reads the log and is decided again, so a
command that no longer applies gets a clear error. A retried client command id gets
the same answer. The acknowledgement and the broadcast happen only after the commit,
so a restart loses nothing acknowledged; the state is rebuilt by folding `apply` over
the log, from the newest usable stored snapshot (server/board/snapshots.py, written after
the commit every SNAPSHOT_EVERY events) when there is one.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.accounts import User
from models.board import Board, BoardEvent
from models.cohorts import Meeting, MeetingKind, MeetingStatus
from server import clock
from server.board import snapshots, store, wire
from server.board.decide import decide
from server.board.hub import Hub
from server.board.opening import notified_absence_event, opening_event, safety_event
from server.board.record import store_meeting_record
from server.board.roster import roster, safety_items
from server.board.state import Command, Event, State, apply, empty_state
from server.board.views import moved_parts
from server.errors import Conflict, Forbidden, NotFound, PlatformError

log = logging.getLogger("groupipt.board")

CATCH_UP_LIMIT = 500  # beyond this many missed events a snapshot is cheaper
STATE_CACHE_SIZE = 200  # boards kept in memory per process
ATTEMPTS = 3  # a command decided again after another process wrote first


@dataclass(frozen=True)
class Outcome:
    seq: int
    duplicate: bool = False


class BoardService:
    """One per process. Caches each board's state; the database stays the truth."""

    def __init__(self, hub: Hub):
        self.hub = hub
        self._states: dict[int, State] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._due: dict[int, tuple[State, Event]] = {}  # snapshots to store once the board's lock is free

    def _lock(self, board_id: int) -> asyncio.Lock:
        lock = self._locks.get(board_id)
        return lock if lock is not None else self._locks.setdefault(board_id, asyncio.Lock())

    # ------------------------------------------------------------ opening

    async def board_for(self, meeting: Meeting) -> Board:
        """The meeting's board, opened (first event written) on first use."""
        board = await Board.get_or_none(meeting_id=meeting.id)
        if board is not None:
            return board
        if meeting.kind != MeetingKind.GROUP:
            raise NotFound("Only group sessions have a live board.")
        if meeting.status == MeetingStatus.CANCELLED:
            raise Conflict("This session was cancelled, so it has no live board.", code="meeting_cancelled")
        if meeting.status == MeetingStatus.COMPLETED:
            raise Conflict("This session is already completed.", code="meeting_completed")
        opening = opening_event(await roster(meeting), now=clock.now())
        try:
            async with in_transaction():
                board = await Board.create(meeting_id=meeting.id)
                await store.append(board.id, 0, [opening])
        except IntegrityError:
            # Another socket (or process) opened it at the same moment: unique meeting_id, on
            # every database since migration 0003, lets one board through; read that one.
            board = await Board.get_or_none(meeting_id=meeting.id)
            if board is None:
                raise
        return board

    # ------------------------------------------------------------ state and log

    async def state(self, board_id: int) -> State:
        async with self._lock(board_id):
            state = await self._current(board_id)
        await self._snapshot(board_id)
        return state

    async def _current(self, board_id: int) -> State:
        """The cached state brought up to the log's head (one query); not cached: the newest
        usable snapshot and the events after it (two)."""
        state = self._states.get(board_id)
        if state is None:
            state, _, replayed, last = await self._fold(board_id)
            if replayed > snapshots.SNAPSHOT_EVERY and last is not None:  # no usable snapshot near the head
                self._due[board_id] = (state, last)
            self._remember(board_id, state)
            return state
        newer = await self.events(board_id, after=state["seq"])
        if newer:
            for event in newer:
                state = apply(state, event)
            self._remember(board_id, state)
        return state

    async def _fold(self, board_id: int, *, start: int | None = None, upto: int | None = None,
                    ) -> tuple[State, list[tuple[Event, State, State]], int, Event | None]:
        """The state at `upto` (the head when None) from the newest usable snapshot at or before
        `start` (the newest at all when None) and the events after it, folded with `apply`;
        each event after `start` with the states before and after it; how many were applied,
        and the last of them. A snapshot that cannot be used, or whose tail does not apply, is ignored."""
        for snapshot in await snapshots.candidates(board_id, start):
            tail = await store.read(board_id, after=snapshot.seq - 1, upto=upto)
            state = snapshots.usable(snapshot, tail[0] if tail else None)
            if state is None:
                continue
            try:
                return self._folded(state, tail[1:], start)
            except Exception:  # the snapshot said something the log's events do not follow from
                log.warning("board %s: events after the snapshot at seq %s do not apply to it; ignored",
                            board_id, snapshot.seq, exc_info=True)
        return self._folded(empty_state(), await store.read(board_id, upto=upto), start)

    def _folded(self, state: State, tail: list[Event], start: int | None,
                ) -> tuple[State, list[tuple[Event, State, State]], int, Event | None]:
        steps = []
        for event in tail:
            before, state = state, apply(state, event)
            if start is not None and event.seq > start:
                steps.append((event, before, state))
        return state, steps, len(tail), tail[-1] if tail else None

    async def _snapshot(self, board_id: int) -> None:
        """The snapshot due for this board, if any: after the commit, outside any transaction."""
        due = self._due.pop(board_id, None)
        if due is None:
            return
        state, last = due
        try:
            await snapshots.write(board_id, state, last)
        except Exception:  # a longer replay next time, nothing lost: the log is the truth
            log.exception("board %s: the snapshot at seq %s could not be stored", board_id, last.seq)

    def _remember(self, board_id: int, state: State) -> None:
        # A cache, not the truth: past boards fall out and are rebuilt from the log on demand.
        self._states.pop(board_id, None)
        self._states[board_id] = state
        while len(self._states) > STATE_CACHE_SIZE:
            del self._states[next(iter(self._states))]

    async def events(self, board_id: int, *, after: int = 0, upto: int | None = None) -> list[Event]:
        return await store.read(board_id, after=after, upto=upto)

    async def head(self, board_id: int) -> int:
        seq = await BoardEvent.filter(board_id=board_id).order_by("-seq").first().values_list("seq", flat=True)
        return seq or 0

    # ------------------------------------------------------------ commands

    async def execute(
        self, board_id: int, command: Command, actor: User, *, client_cmd_id: str | None,
        guard: store.Guard | None = None, on_commit: Callable[[Outcome], None] | None = None,
    ) -> Outcome:
        """Decide, store and apply one command; then `on_commit` (the ack), then publish.

        Raises the command's PlatformError (Forbidden when the guard fails); nothing is written.
        """
        def answered(_: str | None, result: Outcome | PlatformError) -> None:
            if isinstance(result, Outcome) and on_commit is not None:
                on_commit(result)

        [result] = await self.execute_batch(board_id, [(command, client_cmd_id)], actor, guard=guard,
                                            on_result=answered)
        if isinstance(result, PlatformError):
            raise result
        return result

    async def execute_batch(
        self, board_id: int, commands: Sequence[tuple[Command, str | None]], actor: User, *,
        guard: store.Guard | None = None,
        on_result: Callable[[str | None, Outcome | PlatformError], None] | None = None,
    ) -> list[Outcome | PlatformError]:
        """Commands that arrived together, decided in order and written with one commit.

        Each (command, client command id) gets its own answer: an Outcome (the seq of its
        last event; `duplicate` for a retried id) or the PlatformError saying why it does
        not apply, in which case it changed nothing and the others go ahead without it.
        `guard` is the actor's authorization as SQL, checked by the statement that writes:
        if it no longer holds, every command gets Forbidden. `on_result` sees the answers
        in order after the commit and before the broadcast, so a client's ack comes before
        the event it produced.
        """
        if any(command.name == "close_meeting" for command, _ in commands):
            await self._refresh_safety_of(board_id)  # close against the items as they are now
        async with self._lock(board_id):
            try:
                results, before, states, events = await self._commit(board_id, commands, actor, guard)
            except IntegrityError:  # a retried command id that still applies is among them
                results, before, states, events = None, None, [], []
                if len(commands) == 1:
                    seq = await _seq_of(board_id, commands[0][1])
                    results = [Outcome(seq, duplicate=True) if seq is not None else _busy()]
            if results is not None:
                if on_result is not None:
                    for (_, client_cmd_id), result in zip(commands, results):
                        try:
                            on_result(client_cmd_id, result)
                        except Exception:  # after the commit: one answer must not cost the others
                            log.exception("board %s: answering command %r failed after the commit",
                                          board_id, client_cmd_id)
                if events:
                    await asyncio.sleep(0)  # let the acks go out before the frames are encoded
                    await self.publish(board_id, before, states, events)
        if results is not None:
            await self._snapshot(board_id)  # after the commit, the acks and the broadcast
            return results
        answers = []  # several: answer them one at a time, so the retry gets its original ack
        for command in commands:
            answers += await self.execute_batch(board_id, [command], actor, guard=guard, on_result=on_result)
        return answers

    async def _commit(
        self, board_id: int, commands: Sequence[tuple[Command, str | None]], actor: User, guard: store.Guard | None,
    ) -> tuple[list[Outcome | PlatformError], State | None, list[State], list[Event]]:
        """Answers, the state before, the states after each event, the events. IntegrityError:
        a client command id among them is in the log already (nothing was written)."""
        who = {"id": actor.id, "name": actor.display_name}
        now = clock.now()
        results: list[Outcome | PlatformError] = []

        async def decided(state: State) -> list[tuple[Event, str | None, State]]:
            results.clear()
            made: list[tuple[Event, str | None, State]] = []
            for command, client_cmd_id in commands:
                command = _with_server_facts(command, actor)
                try:
                    events = decide(state, command, who, now)
                except PlatformError as exc:
                    # A retry of a command that already committed may no longer apply ("turn
                    # already ended"): it gets its original ack, not an error. A retry that
                    # still applies is stopped by unique (board, client_cmd_id) when written.
                    seq = await _seq_of(board_id, client_cmd_id)
                    results.append(Outcome(seq, duplicate=True) if seq is not None else exc)
                    continue
                for i, event in enumerate(events):
                    state = apply(state, event)
                    made.append((event, client_cmd_id if i == len(events) - 1 else None, state))
                results.append(Outcome(events[-1].seq))
            return made

        async def record(state: State) -> None:
            await store_meeting_record(board_id, state, actor, now)

        try:
            before, states, events = await self._write(board_id, decided, guard=guard, on_close=record)
        except PlatformError as exc:  # Forbidden, or the board too busy to decide against
            return [exc] * len(commands), None, [], []
        return list(results), before, states, events

    async def _refresh_safety_of(self, board_id: int) -> None:
        board = await Board.get_or_none(id=board_id).prefetch_related("meeting")
        if board is not None:
            await self.refresh_safety(board_id, board.meeting)

    async def refresh_safety(self, board_id: int, meeting: Meeting) -> None:
        """Bring the open safety items up to date (a member may answer a PHQ-9 mid-session)."""
        items = await safety_items(meeting.cohort_id)

        async def refreshed(state: State) -> list[tuple[Event, str | None, State]]:
            event = safety_event(state, items, now=clock.now()) if state.get("status") == "open" else None
            return [(event, None, apply(state, event))] if event is not None else []

        async with self._lock(board_id):
            before, states, events = await self._write(board_id, refreshed)
            if events:
                await self.publish(board_id, before, states, events)
        await self._snapshot(board_id)

    async def mark_notified_absence(self, board_id: int, enrollment_id: int, reason: str) -> None:
        """A member's "I can't come" (server/reminders) reaches a board that is already open."""
        async def marked(state: State) -> list[tuple[Event, str | None, State]]:
            event = notified_absence_event(state, str(enrollment_id), reason, now=clock.now())
            return [(event, None, apply(state, event))] if event is not None else []

        async with self._lock(board_id):
            before, states, events = await self._write(board_id, marked)
            if events:
                await self.publish(board_id, before, states, events)
        await self._snapshot(board_id)

    async def _write(
        self, board_id: int, make: Callable[[State], Awaitable[list[tuple[Event, str | None, State]]]], *,
        guard: store.Guard | None = None, on_close: Callable[[State], Awaitable[None]] | None = None,
    ) -> tuple[State, list[State], list[Event]]:
        """Events made from the current state and appended; made again if the log moved on.

        `make` gives each event with the client command id it answers (or None) and the
        state after it. Returns the state before, the states after each event, the events.
        Closing the meeting also writes the meeting's record, in the same transaction.
        IntegrityError: a client command id is in the log already."""
        # The first try is one autocommitted statement; one that lost a race to another
        # process tries again holding the board's row lock (store.exclusive), where it wins.
        written = await self._attempt(board_id, make, guard, on_close, None)
        if written is not None:
            return written
        async with store.exclusive(board_id) as db:
            for _ in range(ATTEMPTS - 1):
                written = await self._attempt(board_id, make, guard, on_close, db)
                if written is not None:
                    return written
        raise _busy()

    async def _attempt(
        self, board_id: int, make: Callable[[State], Awaitable[list[tuple[Event, str | None, State]]]],
        guard: store.Guard | None, on_close: Callable[[State], Awaitable[None]] | None,
        db: BaseDBAsyncClient | None,
    ) -> tuple[State, list[State], list[Event]] | None:
        """One try of `_write`; None when the log moved on (the cached state is dropped)."""
        before = self._states.get(board_id) or await self._current(board_id)
        made = await make(before)
        if not made:
            return before, [], []
        events = [event for event, _, _ in made]
        states = [state for _, _, state in made]
        ids = {event.seq: client_cmd_id for event, client_cmd_id, _ in made if client_cmd_id is not None}
        after = states[-1]
        if on_close is not None and after["status"] == "closed" and before["status"] != "closed":
            async with in_transaction():
                result = await store.append(board_id, before["seq"], events, command_ids=ids, guard=guard)
                if result is store.Appended.OK:
                    await on_close(after)
        elif db is not None:  # holding the row lock: nobody else writes, an IntegrityError is a command id
            result = await store.append(board_id, before["seq"], events, command_ids=ids, guard=guard, db=db)
        else:
            try:
                result = await store.append(board_id, before["seq"], events, command_ids=ids, guard=guard)
            except IntegrityError:
                if await store.head(board_id) == before["seq"]:
                    raise  # not another writer's events: a client command id already in the log
                result = store.Appended.STALE  # another process took these seq numbers first
        if result is store.Appended.OK:
            self._remember(board_id, after)
            if snapshots.due(before["seq"], after["seq"]):  # stored once the lock is free
                self._due[board_id] = (after, events[-1])
            return before, states, events
        if result is store.Appended.REFUSED:
            raise Forbidden("You may no longer change this board.")
        self._states.pop(board_id, None)  # the log moved on: read it and decide again
        return None

    # ------------------------------------------------------------ frames

    async def publish(self, board_id: int, before: State, states: list[State], events: list[Event]) -> None:
        """Each event to every socket on the board; `states[i]` is the state after `events[i]`."""
        for event, state in zip(events, states):
            try:
                await self.hub.publish(board_id, wire.payload(event, before, state))
            except Exception:  # stored all the same: the sockets read it from the log at the next event
                log.exception("board %s: event %s could not be broadcast", board_id, event.seq)
            before = state

    async def catch_up(self, board_id: int, last_seq: int, view: str) -> tuple[list[str], int]:
        """Frames for everything after `last_seq` (the events missed, or one snapshot), and the head."""
        async with self._lock(board_id):
            state = await self._current(board_id)
        await self._snapshot(board_id)
        head = state["seq"]
        if 0 < last_seq <= head and head - last_seq <= CATCH_UP_LIMIT:
            return await self.event_frames(board_id, last_seq, head, view), head
        return [wire.snapshot_frame(state, view)], head

    async def event_frames(self, board_id: int, after: int, upto: int, view: str) -> list[str]:
        """Event frames (after, upto] for one kind of client, each with its view changes: the
        state at `after` comes from the newest usable snapshot at or before it and the events
        since, so the cost is what was missed (and at most SNAPSHOT_EVERY events more)."""
        frames = []
        _, steps, _, _ = await self._fold(board_id, start=after, upto=upto)
        for event, before, state in steps:
            frame = wire.event_frame(event, before, state, view, moved_parts(before, state))
            if frame is not None:
                frames.append(frame)
        return frames


# ---------------------------------------------------------------- persistence helpers

def _busy() -> Conflict:
    return Conflict("Another change happened at the same moment; please try again.", code="retry")

def _with_server_facts(command: Command, actor: User) -> Command:
    """Facts a decision needs that only the server knows: whether the actor is a clinician
    (a clinician may close a meeting over open safety items, with a reason). Whatever a
    client sent under that name is replaced."""
    if command.name != "close_meeting" or not isinstance(command.data, Mapping):
        return command
    return Command(command.name, {**command.data, "by_clinician": actor.is_clinician})


async def _seq_of(board_id: int, client_cmd_id: str | None) -> int | None:
    if client_cmd_id is None:
        return None
    return await BoardEvent.filter(board_id=board_id, client_cmd_id=client_cmd_id).first().values_list(
        "seq", flat=True)
