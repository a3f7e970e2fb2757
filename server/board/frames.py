"""Reading a client's frame: the one place where what a board socket receives is checked.

Whatever is in a frame, it is refused here, as a whole, before any of it reaches the
command loop, a message or the database, when it holds what no real frame needs and the
rest of the stack cannot carry (issue 12):

- containers nested deeper than MAX_DEPTH (a command is frame > data > counterpart);
- integers outside a signed 64-bit range (orjson, which encodes every frame, stops there);
- strings that cannot be encoded as UTF-8 (lone surrogates such as "\\ud800", valid
  JSON): neither the wire nor the database can carry them;
- the NUL character, which PostgreSQL refuses in text and JSON;
- NaN and infinities.

The common frame costs one orjson parse (it rejects surrogates, NaN and infinities by
itself) and a few scans of the text, about what `json.loads` alone took; only a frame that
might hold a deep nest, a long number or a NUL is parsed again by the standard library
and walked.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

MAX_DEPTH = 8  # objects and lists inside one another; real frames use three
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
MAX_ID_CHARS = 64
_LONG_NUMBER = re.compile(r"[0-9]{19}")  # may be an integer beyond 64 bits (as fast as any test found)


class FrameRefused(Exception):
    """The frame changes nothing: its `error` frame's code and message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def parse(text: str) -> dict[str, Any]:
    """The frame as a JSON object whose every part the board can carry, or FrameRefused."""
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        frame = _parse_strictly(text)  # says why: a surrogate, a number, or not JSON at all
    else:
        if text.count("{") + text.count("[") > MAX_DEPTH or "\\u0000" in text or _LONG_NUMBER.search(text):
            frame = _parse_strictly(text)
    if not isinstance(frame, dict):
        raise FrameRefused("malformed", "A frame must be a JSON object with a 'type'.")
    return frame


def command_id(text: str | None) -> str | None:
    """The command id of a refused frame, when one can be read, so the client can match the
    error to its command. Never raises."""
    if text is None or len(text) > 16 * 1024:
        return None
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        return None
    value = frame.get("id") if isinstance(frame, dict) else None
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS and _carried(value):
        return value
    return None


def _parse_strictly(text: str) -> Any:
    try:
        frame = json.loads(text, parse_int=_integer, parse_constant=_no_constant)
    except FrameRefused:
        raise
    except RecursionError:
        raise FrameRefused("malformed", f"A frame may nest objects and lists at most {MAX_DEPTH} deep.") from None
    except ValueError:
        raise FrameRefused("malformed", "That frame is not valid JSON.") from None
    _check(frame, 0)
    return frame


def _integer(digits: str) -> int:
    # Compared as text first: int() of thousands of digits is slow, and refused beyond 4300.
    if len(digits.lstrip("-")) > 19 or not INT_MIN <= int(digits) <= INT_MAX:
        raise FrameRefused("invalid_argument", "Numbers in a frame must be whole numbers within 64 bits.")
    return int(digits)


def _no_constant(name: str) -> Any:
    raise FrameRefused("invalid_argument", f"{name} is not a number a frame may carry.")


def _check(value: Any, depth: int) -> None:
    if isinstance(value, str):
        if not _carried(value):
            raise FrameRefused("invalid_argument", "Text in a frame must be valid Unicode (UTF-8) without NUL.")
    elif isinstance(value, dict):
        _check_depth(depth)
        for key, item in value.items():
            _check(key, depth)
            _check(item, depth + 1)
    elif isinstance(value, list):
        _check_depth(depth)
        for item in value:
            _check(item, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise FrameRefused("invalid_argument", "Numbers in a frame must be finite.")


def _check_depth(depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise FrameRefused("malformed", f"A frame may nest objects and lists at most {MAX_DEPTH} deep.")


def _carried(text: str) -> bool:
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
