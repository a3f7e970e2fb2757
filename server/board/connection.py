"""One board socket: a receive loop for commands and a send loop fed by a bounded queue.

Everything this socket sends goes through its hub subscription's queue, in order: an
`ack` is queued before the event it produced, so a facilitator sees their ack first.
When the queue overflows the socket is closed with 1013 and the client resumes with
`hello`; the other clients never wait for it (tech-notes.md 4.4).

A supervisor observing a supervised cohort's board (`observer`) receives everything the view
carries and changes nothing: every command is answered `read_only`. A socket opened with a
sign-in session closes (4401, "signed out") as soon as that session ends in this process
(`server.accounts.sessions.on_end`), and within ACCESS_RECHECK_SECONDS in any other.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import Any

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect

from models.accounts import User
from models.board import Board
from models.cohorts import Meeting
from server.accounts import audit
from server.accounts import sessions as sign_in_sessions
from server.board import access, frames, store
from server.board.hub import SlowConsumer, Subscription
from server.board.service import BoardService, Outcome
from server.board.state import Command
from server.board.views import DISPLAY, FACILITATOR
from server.board.wire import now_ms, plain_answer, split_payload, wire_json
from server.errors import Forbidden, PlatformError

log = logging.getLogger("groupipt.board")

MAX_FRAME_CHARS = 16 * 1024
RATE_PER_SECOND = 50.0  # sustained frames a client may send (GROUPIPT_BOARD_COMMANDS_PER_SECOND)
FLOOD_LIMIT = 100  # frames refused for rate before the socket is closed
ACCESS_RECHECK_SECONDS = 30.0
MAX_BATCH = 64  # commands stored with one commit
MAX_PENDING_COMMANDS = 256  # waiting to be stored, per socket
HELLO = "hello:"
RESYNC = "resync"


def _frame(**fields: Any) -> str:
    return wire_json(fields)


def _rate(websocket: WebSocket) -> float:
    raw = websocket.app.state.settings.extra.get("GROUPIPT_BOARD_COMMANDS_PER_SECOND", "")
    try:
        return max(1.0, float(raw)) if raw else RATE_PER_SECOND
    except ValueError:
        return RATE_PER_SECOND


# The open sockets of each sign-in session in this process, closed when it ends.
_by_session: dict[int, set[BoardConnection]] = {}


def _session_ended(user_id: int, session_ids: list[int]) -> None:
    for session_id in session_ids:
        for connection in list(_by_session.get(session_id, ())):
            connection.stop(access.SIGNED_OUT, access.SIGNED_OUT_REASON)


sign_in_sessions.on_end(_session_ended)


class BoardConnection:
    def __init__(self, websocket: WebSocket, service: BoardService, *, board: Board, meeting: Meeting,
                 user: User, view: str, credential: dict[str, Any], observer: bool = False):
        self.ws, self.service = websocket, service
        self.board, self.meeting, self.user, self.view = board, meeting, user, view
        self.credential = credential
        self.observer = observer  # a supervisor: reads the board, changes nothing
        self.sent_seq: int | None = None  # last seq this client has, once it said hello
        self.close_code: tuple[int, str] | None = None
        self.scope: anyio.CancelScope | None = None
        self.closed = asyncio.Event()
        self.rate = _rate(websocket)
        self.tokens, self.refill_at, self.refused = 2 * self.rate, time.monotonic(), 0
        self.epoch = f"{board.id}.{int(board.created_at.timestamp())}"
        self.commands: list[tuple[Command, str]] = []  # received, not yet stored
        self.has_commands = asyncio.Event()
        self.receiving = True

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        await self.ws.accept()
        session_id = self.credential.get(access.SESSION)
        if session_id is not None:
            _by_session.setdefault(session_id, set()).add(self)
        hub = self.service.hub
        self.sub = hub.subscribe(self.board.id, on_overflow=self._overflowed, on_resync=self._resync,
                                 on_shutdown=self._shutdown)
        try:
            self._queue(_frame(type="welcome", board=self.board.id, meeting=self.meeting.id, view=self.view,
                               epoch=self.epoch, user=self._who(),
                               read_only=self.view != FACILITATOR or self.observer, observer=self.observer,
                               limits={"max_frame_chars": MAX_FRAME_CHARS, "frames_per_second": self.rate},
                               now=now_ms()))
            if self.view == FACILITATOR:
                # The facilitator view carries notes and safety items: reading it is audited.
                await audit.record(self.user, "read", "board", self.board.id, detail="live board socket")
                if not self.observer:
                    try:
                        await self.service.refresh_safety(self.board.id, self.meeting)
                    except PlatformError:
                        pass
            async with anyio.create_task_group() as tg:
                self.scope = tg.cancel_scope
                if self.close_code is not None:  # stopped before the loops started
                    tg.cancel_scope.cancel()
                tg.start_soon(self._receive_loop)
                tg.start_soon(self._command_loop)
                tg.start_soon(self._send_loop)
                tg.start_soon(self._watch_access)
        finally:
            if session_id is not None:
                watchers = _by_session.get(session_id)
                if watchers is not None:
                    watchers.discard(self)
                    if not watchers:
                        del _by_session[session_id]
            self.sub.hub._remove(self.sub)
            if self.close_code is not None:
                code, reason = self.close_code
                try:
                    with anyio.move_on_after(5):
                        await self.ws.close(code=code, reason=reason)
                except Exception:  # the client went away first
                    pass
            self.closed.set()

    def _who(self) -> dict[str, str]:
        # The display may be on the room's screen: it carries no full names at all.
        if self.view == DISPLAY:
            return {"id": str(self.user.id)}
        return {"id": str(self.user.id), "name": self.user.display_name}

    def stop(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code = (code, reason)
        self.has_commands.set()  # the command loop ends once the batch it is storing is done
        if self.scope is not None:
            self.scope.cancel()

    def _overflowed(self) -> None:
        self.stop(1013, "Too far behind; reconnect and resume with hello.")

    def _resync(self) -> None:
        self.sub.deliver(RESYNC)

    async def _shutdown(self, code: int) -> None:
        self.stop(code, "The server is restarting; reconnect and resume with hello.")
        with anyio.move_on_after(3):
            await self.closed.wait()

    def _queue(self, frame: str) -> None:
        self.sub.deliver(frame)

    def _error(self, code: str, message: str, command_id: Any = None) -> None:
        self._queue(_frame(type="error", id=command_id, code=code, message=message))

    # ------------------------------------------------------------ sending

    async def _send_loop(self) -> None:
        try:
            await self._send_all()
        except (WebSocketDisconnect, RuntimeError):  # the client went away mid-send
            self.receiving = False
            self.has_commands.set()
        except Exception:  # the log could not be read, or a frame made: the client resumes with hello
            log.exception("board %s: sending to a socket failed", self.board.id)
            self.stop(1011, "The server could not send the board; reconnect and resume with hello.")

    async def _send_all(self) -> None:
        sub: Subscription = self.sub
        send = self.ws.send_text
        facilitator = self.view == FACILITATOR
        while True:
            try:
                item = sub.take()
            except SlowConsumer:
                self._overflowed()
                return
            if item is None:
                await sub.wait()
                continue
            if item[0].isdigit():  # a hub payload: seq, display frame, facilitator frame
                if self.sent_seq is None:  # no hello yet: the snapshot will carry it
                    continue
                seq, display, for_facilitator = split_payload(item)
                if seq <= self.sent_seq:
                    continue
                if seq > self.sent_seq + 1:
                    await self._fill_gap(seq - 1)  # a message was lost or overtaken: read the log
                frame = for_facilitator if facilitator else display
                if frame:
                    await send(frame)
                self.sent_seq = seq
            elif item[0] == "{":
                await send(item)
            elif item.startswith(HELLO):
                await self._answer_hello(item[len(HELLO):])
            elif item == RESYNC:
                await self._fill_gap(None)

    async def _answer_hello(self, arg: str) -> None:
        last_seq, _, epoch = arg.partition(":")
        last = int(last_seq) if epoch == self.epoch else 0  # another log: start from a snapshot
        frames, head = await self.service.catch_up(self.board.id, last, self.view)
        for frame in frames:
            await self.ws.send_text(frame)
        self.sent_seq = head
        await self.ws.send_text(_frame(type="synced", seq=head, epoch=self.epoch, now=now_ms()))

    async def _fill_gap(self, upto: int | None) -> None:
        if self.sent_seq is None:
            return
        if upto is None:
            upto = await self.service.head(self.board.id)
        if upto <= self.sent_seq:
            return
        for frame in await self.service.event_frames(self.board.id, self.sent_seq, upto, self.view):
            await self.ws.send_text(frame)
        self.sent_seq = upto

    # ------------------------------------------------------------ receiving

    async def _receive_loop(self) -> None:
        try:
            await self._receive_all()
        finally:  # the client went away, or the socket is being closed: the command loop
            self.receiving = False  # stores what was received (unless stopping), then ends
            self.has_commands.set()

    async def _receive_all(self) -> None:
        while True:
            try:
                message = await self.ws.receive()
            except (WebSocketDisconnect, RuntimeError):
                break
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if not self._within_rate():
                self.refused += 1
                if self.refused > FLOOD_LIMIT:
                    self.stop(1008, "Too many messages; slow down and reconnect.")
                    return
                self._error("rate_limited", f"More than {self.rate:g} messages a second; this one was ignored.",
                            frames.command_id(text))
                continue
            if text is None:
                self._error("malformed", "Send JSON text frames, not binary.")
                continue
            if len(text) > MAX_FRAME_CHARS:
                self._error("too_large", f"A frame may carry at most {MAX_FRAME_CHARS} characters.")
                continue
            try:
                self._handle(frames.parse(text))
            except frames.FrameRefused as refused:
                self._error(refused.code, refused.message, frames.command_id(text))
            except Exception:  # a bug must not end the socket: say so, and go on with the next frame
                log.exception("board %s: a frame could not be handled", self.board.id)
                self._error("unavailable", "That frame could not be handled; nothing changed. Try again.",
                            frames.command_id(text))

    def _within_rate(self) -> bool:
        now = time.monotonic()
        self.tokens = min(2 * self.rate, self.tokens + (now - self.refill_at) * self.rate)
        self.refill_at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "hello":
            last_seq, epoch = frame.get("last_seq", 0), frame.get("epoch", self.epoch)
            if isinstance(last_seq, bool) or not isinstance(last_seq, int) or last_seq < 0 \
                    or not isinstance(epoch, str):
                self._error("malformed", "hello needs last_seq, a whole number of 0 or more.")
                return
            self._queue(f"{HELLO}{last_seq}:{epoch}")
        elif kind == "ping":
            self._queue(_frame(type="pong", t=frame.get("t") if isinstance(frame.get("t"), (int, float)) else None,
                               now=now_ms()))
        elif kind == "command":
            self._command(frame)
        else:
            self._error("unknown_type", "Frame type must be hello, command or ping.")

    def _command(self, frame: dict[str, Any]) -> None:
        command_id, name, data = frame.get("id"), frame.get("command"), frame.get("data", {})
        if not isinstance(command_id, str) or not 0 < len(command_id) <= 64:
            self._error("malformed", "A command needs an 'id': 1-64 characters, unique per command.",
                        command_id if isinstance(command_id, (str, int)) else None)
            return
        if not isinstance(name, str) or not isinstance(data, dict):
            self._error("malformed", "A command needs 'command' (a name) and 'data' (an object).", command_id)
            return
        if self.view != FACILITATOR:
            self._error("read_only", "The participant display is read-only.", command_id)
            return
        if self.observer:
            self._error("read_only", "The board is read-only for a supervisor: you are observing, "
                        "and this changed nothing.", command_id)
            return
        if self.sent_seq is None:
            self._error("hello_first", "Say hello first, so that you see the board you change.", command_id)
            return

        if len(self.commands) >= MAX_PENDING_COMMANDS:
            self._error("busy", "Too many commands are waiting to be stored; this one was ignored.", command_id)
            return
        self.commands.append((Command(name, data), command_id))
        self.has_commands.set()

    async def _command_loop(self) -> None:
        """Commands that arrived while the previous ones were being stored go in one commit.

        Shielded for the socket's whole life: a commit that has started is answered and
        broadcast even if this socket is being closed, so the other clients never miss a
        stored event. It ends by itself: at once when the socket is stopped (what has not
        started is not stored; the client resends it on reconnecting), or once the client
        has gone and what it sent is stored. (One shielded scope per socket, not per batch:
        making one cost about 10 us of every command in the running server.)
        """
        with anyio.CancelScope(shield=True):
            while True:
                await self.has_commands.wait()
                if self.close_code is not None:
                    return
                if not self.commands:  # woken because the client went away, and all it sent is stored
                    self.stop(1000, "")
                    return
                batch, self.commands = self.commands[:MAX_BATCH], self.commands[MAX_BATCH:]
                if not self.commands and self.receiving:
                    self.has_commands.clear()
                await self._run(batch)

    async def _run(self, batch: list[tuple[Command, str]]) -> None:
        answered: set[str | None] = set()

        def answer(command_id: str | None, result: Outcome | PlatformError) -> None:
            # Called after the commit: whatever goes wrong making this answer, the command is
            # stored, so it still gets one (a plainer one), and the batch goes on.
            answered.add(command_id)
            try:
                if isinstance(result, Outcome):
                    frame = _frame(type="ack", id=command_id, seq=result.seq, duplicate=result.duplicate)
                else:
                    frame = _frame(type="error", id=command_id, code=result.code, message=result.message)
            except Exception:
                log.exception("board %s: the answer to command %r could not be made; sent a plain one",
                              self.board.id, command_id)
                frame = (plain_answer(command_id, seq=result.seq, duplicate=result.duplicate)
                         if isinstance(result, Outcome) else plain_answer(command_id, code=str(result.code)))
            self._queue(frame)
            if isinstance(result, Forbidden):
                self.stop(1008, "Access to this board has ended.")

        try:
            await self.service.execute_batch(self.board.id, batch, self.user, guard=self.staff_guard,
                                             on_result=answer)
        except Exception:
            log.exception("board %s: commands %s failed", self.board.id, [c.name for c, _ in batch])
            for _, command_id in batch:
                if command_id not in answered:
                    self._error("unavailable", "The board could not store that just now; nothing changed. "
                                "Try again.", command_id)

    # ------------------------------------------------------------ authorization, again

    @functools.cached_property
    def staff_guard(self) -> store.Guard:
        # Made once per socket: what it names (person, credential, cohort) stays the same.
        return access.staff_guard(self.user, self.credential, self.meeting.cohort_id)

    async def _watch_access(self) -> None:
        # Displays send no commands; look again now and then so a revoked person is dropped.
        settings = self.ws.app.state.settings
        while True:
            await anyio.sleep(ACCESS_RECHECK_SECONDS)
            if not await access.session_live(self.credential, settings):
                self.stop(access.SIGNED_OUT, access.SIGNED_OUT_REASON)
                return
            if not await access.still_allowed(self.user, self.credential, self.meeting.cohort_id, self.view,
                                              staff=self.staff_guard, observer=self.observer):
                self.stop(1008, "Access to this board has ended.")
                return
