"""Reading a board frame: each class of value the board cannot carry is refused as a whole,
with the code the `error` frame will carry; real frames pass unchanged."""
from __future__ import annotations

import json

import pytest

from server.board.frames import MAX_DEPTH, FrameRefused, command_id, parse


def _nest(depth: int) -> str:
    return '{"type":"ping","t":1,"x":' + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "}"


@pytest.mark.parametrize("text", [
    '{"type":"command","id":"c1","command":"add_note","data":{"text":"Tom smiled \\ud83d\\ude42"}}',
    '{"type":"command","id":"c2","command":"add_turn","data":{"counterpart":{"kind":"member","id":"3"}}}',
    '{"type":"ping","t":9223372036854775807}',
    '{"type":"ping","t":-9223372036854775808}',
    '{"type":"ping","t":1.5e300}',
    '{"type":"command","id":"c3","command":"add_note","data":{"text":"typed \\\\u0000 and 12345678901234567890"}}',
    '{"type":"command","id":"c4","command":"add_note","data":{"text":"[[[[[[[[[[{{{{{{{{{{"}}',
    _nest(MAX_DEPTH),
])
def test_real_frames_pass_unchanged(text):
    assert parse(text) == json.loads(text)


@pytest.mark.parametrize("text,code", [
    (_nest(MAX_DEPTH + 1), "malformed"),
    ("[" * 16000, "malformed"),  # deeper than the parser's own recursion, under the 16 KiB cap
    ('{"type":"ping","t":' + "[" * 2000 + "]" * 2000 + "}", "malformed"),
    ('{"type":"ping","t":9223372036854775808}', "invalid_argument"),
    ('{"type":"ping","t":-9223372036854775809}', "invalid_argument"),
    ('{"type":"ping","t":' + "9" * 5000 + "}", "invalid_argument"),  # beyond int()'s 4300 digits
    ('{"type":"hello","last_seq":18446744073709551617}', "invalid_argument"),
    ('{"type":"ping","t":"\\ud800"}', "invalid_argument"),
    ('{"type":"ping","\\udfff":1}', "invalid_argument"),
    ('{"type":"command","id":"c","data":{"order":["\\udc00"]}}', "invalid_argument"),
    ('{"type":"command","id":"c","data":{"text":"a\\u0000b"}}', "invalid_argument"),
    ('{"type":"ping","t":NaN}', "invalid_argument"),
    ('{"type":"ping","t":1e999}', "invalid_argument"),
    ("not json", "malformed"),
    ("[1, 2]", "malformed"),
])
def test_what_the_board_cannot_carry_is_refused(text, code):
    with pytest.raises(FrameRefused) as refused:
        parse(text)
    assert refused.value.code == code and refused.value.message


def test_a_refused_command_keeps_its_id_when_it_can_be_read():
    assert command_id('{"type":"command","id":"c9","data":{"text":"\\ud800"}}') == "c9"
    assert command_id('{"type":"command","id":"\\ud800","data":{}}') is None
    assert command_id('{"type":"command","id":"x' + "y" * 64 + '"}') is None
    assert command_id("[" * 16000) is None
    assert command_id("not json") is None and command_id(None) is None
