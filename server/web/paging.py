"""Keyset paging for list pages and API lists: a page is the rows after (or before) the last
row seen, in a fixed order that ends in the primary key, never OFFSET, so page 500 costs what
page 1 costs and a row added meanwhile is neither skipped nor shown twice.

The cursor is the last row's sort key and id, signed with the app's secret (itsdangerous) and
salted with the list's name: a client cannot forge a position, and a cursor from one list
means nothing on another. A cursor that is not in the documented form answers 400; one in the
form that this server did not sign answers 422 (the API document's rule: 400 for what the
document refuses, 422 for what it allows but the server cannot honour).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, Generic, TypeVar

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from server.errors import BadRequest, Unprocessable

DEFAULT_LIMIT = 100
MAX_LIMIT = 200
CURSOR_PATTERN = r"^[A-Za-z0-9_.-]{1,1000}$"
_CURSOR = re.compile(CURSOR_PATTERN)
_LIMIT = re.compile(r"^[0-9]{1,4}$")  # ASCII digits only: str.isdigit() takes "²", which int() refuses

T = TypeVar("T")

def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False
    load: Callable[[Any], Any] = lambda value: value  # the cursor's JSON value back to the column's type


@dataclass(frozen=True)
class Keyset:
    """A list's order: `keys` end in a unique column (the id), so every row has one place."""

    name: str
    keys: tuple[SortKey, ...]

    def order(self, *, backward: bool = False) -> list[str]:
        return [("-" if key.descending != backward else "") + key.field for key in self.keys]

    def beyond(self, values: Sequence[Any], *, backward: bool = False) -> Q:
        """Rows strictly after `values` in this order (before them, backward)."""
        clauses = []
        for i, key in enumerate(self.keys):
            equal = {k.field: v for k, v in zip(self.keys[:i], values[:i], strict=True)}
            op = "lt" if key.descending != backward else "gt"
            clauses.append(Q(**equal, **{f"{key.field}__{op}": values[i]}))
        return Q(*clauses, join_type="OR")

    def values_of(self, row: Any) -> list[Any]:
        return [_plain(getattr(row, key.field)) for key in self.keys]


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: list[Any] | None = None
    before: list[Any] | None = None


@dataclass
class Page(Generic[T]):
    rows: list[T]
    next_cursor: str | None
    prev_cursor: str | None


def _serializer(secret: str, keyset: Keyset) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=f"groupipt.list-cursor.{keyset.name}")


def encode_cursor(secret: str, keyset: Keyset, values: Sequence[Any], *, backward: bool = False) -> str:
    return _serializer(secret, keyset).dumps({"k": [_plain(v) for v in values], "b": backward})


def decode_cursor(secret: str, keyset: Keyset, text: str) -> tuple[list[Any], bool]:
    """The sort key values and direction a cursor holds; BadRequest/Unprocessable if none."""
    if not _CURSOR.match(text):
        raise BadRequest("cursor is not a cursor: copy it from a `next` or `prev` link.", fields={"cursor": "Not a cursor."})
    try:
        payload = _serializer(secret, keyset).loads(text)
        raw, backward = payload["k"], payload["b"]
        if len(raw) != len(keyset.keys) or not isinstance(backward, bool):
            raise ValueError("wrong shape")
        return [key.load(value) for key, value in zip(keyset.keys, raw, strict=True)], backward
    except (BadSignature, KeyError, TypeError, ValueError):
        raise Unprocessable("cursor is not one this list gave out: start again from the first page.",
                            fields={"cursor": "Unknown cursor."}, code="cursor_unknown") from None


def page_request(request: Request, keyset: Keyset, *, default_limit: int = DEFAULT_LIMIT) -> PageRequest:
    """`limit` (1..MAX_LIMIT) and `cursor` from the query string, or a 4xx."""
    raw_limit = request.query_params.get("limit")
    limit = default_limit
    if raw_limit is not None:
        if not _LIMIT.match(raw_limit) or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}.", fields={"limit": "Out of range."})
        limit = int(raw_limit)
    cursor = request.query_params.get("cursor")
    if cursor is None:  # `cursor=` with nothing is refused below, as the document's pattern says
        return PageRequest(limit)
    values, backward = decode_cursor(request.app.state.settings.secret_key, keyset, cursor)
    return PageRequest(limit, before=values) if backward else PageRequest(limit, after=values)


async def fetch(request: Request, query: QuerySet, keyset: Keyset, wanted: PageRequest) -> Page:
    """One statement for the rows (limit + 1, to know whether more follow), whatever the page."""
    backward = wanted.before is not None
    position = wanted.before if backward else wanted.after
    if position is not None:
        query = query.filter(keyset.beyond(position, backward=backward))
    rows = list(await query.order_by(*keyset.order(backward=backward)).limit(wanted.limit + 1))
    more = len(rows) > wanted.limit
    rows = rows[: wanted.limit]
    if backward:
        rows.reverse()
    secret = request.app.state.settings.secret_key
    next_cursor = prev_cursor = None
    if rows and (more if not backward else True):
        next_cursor = encode_cursor(secret, keyset, keyset.values_of(rows[-1]))
    if rows and (position is not None if not backward else more):
        prev_cursor = encode_cursor(secret, keyset, keyset.values_of(rows[0]), backward=True)
    return Page(rows, next_cursor, prev_cursor)


def page_url(request: Request, cursor: str | None) -> str | None:
    """This page's path and query with another cursor (for links within the site)."""
    if cursor is None:
        return None
    url = request.url.include_query_params(cursor=cursor)
    return f"{url.path}?{url.query}"


def api_next(request: Request, page: Page) -> str | None:
    """The absolute `next` URL of an API list, on the clinic's own base URL."""
    relative = page_url(request, page.next_cursor)
    return request.app.state.settings.base_url.rstrip("/") + relative if relative else None


def next_link_header(url: str | None) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="next"'} if url else {}


def links(request: Request, page: Page) -> dict[str, str | None]:
    """What templates/_paging.html renders: previous and next page links."""
    return {"prev": page_url(request, page.prev_cursor), "next": page_url(request, page.next_cursor)}


def text_filter(request: Request, name: str, *, max_length: int = 120) -> str:
    """A search box's value, trimmed; over-long input is refused, not cut."""
    value = request.query_params.get(name, "").strip()
    if len(value) > max_length:
        raise BadRequest(f"{name} is at most {max_length} characters.", fields={name: "Too long."})
    return value
