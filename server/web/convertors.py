"""The `{name:id}` path convertor: a database row id, or no match (404) at all.

Every table's primary key is an IntField: INTEGER on SQLite but int4 (SERIAL) on
PostgreSQL, whose largest value is 2**31 - 1. An id segment beyond it used to reach the
query and fail differently per database; this convertor matches only 1..2**31 - 1 (no sign,
no leading zeros), so any other segment is simply an address with nothing at it, on both.
"""
from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

MAX_ID = 2**31 - 1


def _at_most(limit: int) -> str:
    """A regex for the decimal numbers 1..limit, written without leading zeros."""
    digits = str(limit)
    shorter = f"[1-9][0-9]{{0,{len(digits) - 2}}}" if len(digits) > 1 else None
    same_length = []
    for i, digit in enumerate(digits):
        prefix, rest = digits[:i], len(digits) - i - 1
        low = "1" if i == 0 else "0"
        high = int(digit) - 1
        if high >= int(low):
            same_length.append(f"{prefix}[{low}-{high}][0-9]{{{rest}}}")
    same_length.append(digits)
    return "|".join(([shorter] if shorter else []) + same_length)


class IdConvertor(Convertor[int]):
    regex = f"(?:{_at_most(MAX_ID)})"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        value = int(value)
        if not 1 <= value <= MAX_ID:
            raise ValueError(f"{value} is not a row id (1..{MAX_ID}).")
        return str(value)


register_url_convertor("id", IdConvertor())
