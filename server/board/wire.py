"""The board's frames as the wire carries them: compact JSON text, each stamped with the
server's clock (`now`, epoch milliseconds, which clients correct their timers by).

An event is encoded once per view for every socket on the board: `payload` makes the
one hub message that carries both frames, and `split_payload` reads it back.
"""
from __future__ import annotations

import functools
import json
import time
from typing import Any

import orjson

from server.board.state import Event, State
from server.board.views import (
    DISPLAY,
    FACILITATOR,
    display_event,
    display_view,
    event_view_changes,
    facilitator_view,
    moved_parts,
)


def wire_json(value: Any) -> str:
    """A frame's compact JSON text. orjson, because every event's frames are encoded here:
    it took a fifth of the broadcast's time with the standard library's encoder."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def now_ms() -> int:
    return int(time.time() * 1000)


def snapshot_frame(state: State, view: str) -> str:
    body = facilitator_view(state) if view == FACILITATOR else display_view(state)
    return wire_json({"type": "snapshot", "seq": state["seq"], "state": body, "now": now_ms()})


def event_frame(event: Event, before: State, after: State, view: str, moved: list[str] | None) -> str | None:
    wire = event.to_wire() if view == FACILITATOR else display_event(event)
    if wire is None:  # the display never receives this event
        return None
    replaced, appended = event_view_changes(before, after, view, moved)
    frame = {"type": "event", "event": wire, "view": replaced, "now": now_ms()}
    if appended:
        frame["append"] = appended
    return wire_json(frame)


def payload(event: Event, before: State, after: State) -> str:
    """One hub message per event: its seq, the display frame (may be empty), the facilitator frame."""
    moved = moved_parts(before, after)
    display = event_frame(event, before, after, DISPLAY, moved) or ""
    return f"{event.seq}\n{display}\n{event_frame(event, before, after, FACILITATOR, moved)}"


@functools.lru_cache(maxsize=256)
def split_payload(message: str) -> tuple[int, str, str]:
    """A hub payload's seq, display frame ("" when the display does not get the event) and
    facilitator frame. Every socket on a board is handed the same string: split once."""
    seq, display, facilitator = message.split("\n", 2)
    return int(seq), display, facilitator


def plain_answer(command_id: str | None, *, seq: int | None = None, duplicate: bool = False,
                 code: str | None = None) -> str:
    """An answer made of the command's id and outcome only (`seq` for an ack, `code` for an
    error), by the standard library's encoder, which writes any string (ASCII escapes): for
    when the usual answer could not be made."""
    if code is None:
        fields = {"type": "ack", "id": command_id, "seq": seq, "duplicate": duplicate}
    else:
        fields = {"type": "error", "id": command_id, "code": code,
                  "message": "That command did not apply; nothing changed for it."}
    return json.dumps(fields, separators=(",", ":"))
