"""Every route of the app, tried as anonymous and as each role, against its table row."""
from __future__ import annotations

import inspect
import re
import secrets

import httpx
import pytest
import pytest_asyncio
import websockets

from models.accounts import ApiToken
from server.platform.settings import Settings
from server.web.app import create_app
from tests.integration.authz_rows import DENY, LOGIN, OK, PUBLIC, all_rows
from tests.support.clients import Browserish
from tests.support.world import ROLES, build_world

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def app_routes() -> set[tuple[str, str]]:
    settings = Settings(database_url="sqlite://:memory:", secret_key="x", base_url="http://127.0.0.1")
    found = set()
    for route in create_app(settings).routes:
        path = getattr(route, "path", "")
        if path.startswith("/static"):
            continue  # public static files
        template = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
        methods = getattr(route, "methods", None)
        if methods is None:  # WebSocketRoute
            found.add(("WS", template))
        else:
            found.update((m, template) for m in methods if m != "HEAD")
    return found


def test_every_route_has_a_row():
    rows = {(row.method, row.path) for row in all_rows()}
    missing = sorted(app_routes() - rows)
    assert not missing, "routes without an authorization row (add them under tests/integration/authz_rows/): " + ", ".join(f"{m} {p}" for m, p in missing)


def test_no_row_without_a_route():
    stale = sorted({(row.method, row.path) for row in all_rows()} - app_routes())
    assert not stale, f"rows for routes that do not exist: {stale}"


def test_rows_are_unique():
    keys = [(row.method, row.path) for row in all_rows()]
    assert len(keys) == len(set(keys)), "duplicate rows"


@pytest_asyncio.fixture(scope="module")
async def authz_world(live_server, db):
    built = await build_world(live_server.url)
    built.coordinator_token_id = (await ApiToken.filter(user=built.users["coordinator"]).first()).id
    yield built
    await built.close()


DEFAULT_PARAMS = {
    "cohort_id": lambda w: w.cohort.id,
    "enrollment_id": lambda w: w.enrollment.id,
    "meeting_id": lambda w: w.meetings[3].id,
    "user_id": lambda w: w.users["member"].id,
    "token": lambda w: secrets.token_urlsafe(32),
    "token_id": lambda w: 999999,
}


async def fill(row, world) -> str:
    path = row.path
    for name in re.findall(r"\{(\w+)\}", row.path):
        maker = row.params.get(name) or DEFAULT_PARAMS.get(name)
        assert maker, f"{row.method} {row.path}: no value for path parameter {name!r}; give the row params={{...}}"
        value = maker(world)
        if inspect.isawaitable(value):
            value = await value
        path = path.replace("{" + name + "}", str(value))
    return path


def classify_http(response: httpx.Response) -> str:
    status = response.status_code
    location = response.headers.get("location", "")
    if status == 401 or (status in (302, 303, 307) and location.startswith("/login") and "next=" in location):
        return LOGIN
    if status in (403, 404):
        return DENY
    return OK


async def try_http(row, role, world, live_server) -> tuple[str, int, str]:
    client = Browserish(live_server.url) if role == "anon" else await world.client(role)
    path = await fill(row, world)
    try:
        if row.method in UNSAFE:
            if row.json:
                response = await client.request(row.method, path, json=row.body or {},
                                                headers={"x-csrftoken": await client.csrf()}, follow_redirects=False)
            else:
                response = await client.request(row.method, path, data={"csrftoken": await client.csrf(), **(row.body or {})},
                                                follow_redirects=False)
        else:
            response = await client.request(row.method, path, follow_redirects=False)
    finally:
        if role == "anon":
            await client.aclose()
    return classify_http(response), response.status_code, response.text[:300]


async def try_ws(row, role, world, live_server) -> tuple[str, int, str]:
    path = await fill(row, world)
    headers = {}
    if role != "anon":
        client = await world.client(role)
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    try:
        async with websockets.connect(live_server.ws_url + path, origin=live_server.url,
                                      additional_headers=headers, open_timeout=10):
            return OK, 101, ""
    except websockets.InvalidStatus as exc:
        status = exc.response.status_code
        return (LOGIN if status == 401 else DENY), status, ""


@pytest.mark.parametrize("row", all_rows(), ids=lambda r: f"{r.method} {r.path}")
async def test_route_answers_as_its_row_says(row, authz_world, live_server):
    for role in ("anon", *ROLES):
        expected = row.anon if role == "anon" else row.expected(role)
        if row.method == "WS":
            got, status, body = await try_ws(row, role, authz_world, live_server)
        else:
            got, status, body = await try_http(row, role, authz_world, live_server)
        assert status < 500, f"{row.method} {row.path} as {role}: server error {status}\n{body}"
        if expected == PUBLIC:
            assert got != LOGIN or role == "anon", f"{row.method} {row.path} as {role}: got {status}"
            continue
        if expected == LOGIN and row.method == "WS":
            assert got in (LOGIN, DENY), f"{row.method} {row.path} as anon: socket was accepted"
            continue
        assert got == expected, f"{row.method} {row.path} as {role}: expected {expected}, got {got} ({status})\n{body}"
