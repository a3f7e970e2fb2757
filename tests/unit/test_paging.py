"""The list cursor (server/web/paging.py): what it carries back, what it refuses."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from starlette.requests import Request

from models.accounts import Role
from server.errors import BadRequest, Unprocessable
from server.web import paging

SECRET = "unit test secret"
PEOPLE = paging.Keyset("people", (paging.SortKey("role", load=Role), paging.SortKey("display_name"), paging.SortKey("id")))
DATED = paging.Keyset("dated", (paging.SortKey("start_date", descending=True, load=date.fromisoformat),
                                paging.SortKey("id", descending=True)))


def request(query: str) -> Request:
    settings = SimpleNamespace(secret_key=SECRET, base_url="https://clinic.example/")
    return Request({"type": "http", "method": "GET", "path": "/people", "query_string": query.encode(), "headers": [],
                    "app": SimpleNamespace(state=SimpleNamespace(settings=settings))})


def test_a_cursor_carries_the_sort_key_back_with_its_types_and_direction():
    cursor = paging.encode_cursor(SECRET, PEOPLE, [Role.MEMBER, "Ana Bé", 42])
    assert paging.decode_cursor(SECRET, PEOPLE, cursor) == ([Role.MEMBER, "Ana Bé", 42], False)
    back = paging.encode_cursor(SECRET, DATED, [date(2027, 1, 5), 7], backward=True)
    assert paging.decode_cursor(SECRET, DATED, back) == ([date(2027, 1, 5), 7], True)
    assert paging.page_request(request(f"cursor={back}&limit=3"), DATED) == paging.PageRequest(3, before=[date(2027, 1, 5), 7])


def test_a_tampered_foreign_or_garbled_cursor_is_refused():
    cursor = paging.encode_cursor(SECRET, PEOPLE, [Role.MEMBER, "Ana", 42])
    payload, signature = cursor.rsplit(".", 1)
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    for forged in (tampered, paging.encode_cursor("another secret", PEOPLE, [Role.MEMBER, "Ana", 42]),
                   paging.encode_cursor(SECRET, DATED, ["2027-01-05", 1]), "abc.def"):
        with pytest.raises(Unprocessable):
            paging.decode_cursor(SECRET, PEOPLE, forged)
    for garbled in ("", "<script>", "a b", "x" * 1001):  # "" too: `cursor=` is not the first page
        with pytest.raises(BadRequest) as caught:
            paging.decode_cursor(SECRET, PEOPLE, garbled)
        assert type(caught.value) is BadRequest


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten", "1.5", " 5", "", "²", "99999"])
def test_a_limit_outside_1_to_200_is_refused(limit):
    with pytest.raises(BadRequest, match="limit must be a whole number from 1 to 200"):
        paging.page_request(request(f"limit={limit}"), PEOPLE)


def test_an_empty_cursor_parameter_is_refused_not_read_as_the_first_page():
    with pytest.raises(BadRequest):
        paging.page_request(request("cursor="), PEOPLE)


def test_the_limit_defaults_and_bounds():
    assert paging.page_request(request(""), PEOPLE) == paging.PageRequest(paging.DEFAULT_LIMIT)
    assert paging.page_request(request("limit=200"), PEOPLE, default_limit=20).limit == 200
    assert paging.page_request(request(""), PEOPLE, default_limit=20).limit == 20


def test_the_order_ends_in_the_id_and_turns_round_backward():
    assert PEOPLE.order() == ["role", "display_name", "id"]
    assert PEOPLE.order(backward=True) == ["-role", "-display_name", "-id"]
    assert DATED.order() == ["-start_date", "-id"]


def test_links_keep_the_filters_and_the_api_link_is_absolute():
    page = paging.Page(rows=[], next_cursor="n.x", prev_cursor="p.x")
    links = paging.links(request("q=ana&role=member&cursor=old.c"), page)
    assert links == {"prev": "/people?q=ana&role=member&cursor=p.x", "next": "/people?q=ana&role=member&cursor=n.x"}
    assert paging.api_next(request("q=ana"), page) == "https://clinic.example/people?q=ana&cursor=n.x"
    assert paging.next_link_header(None) == {}
