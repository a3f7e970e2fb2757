"""Accounts over a real server: first-run setup, invitations, resets, sessions, CSRF, tokens."""
from __future__ import annotations

import re

import httpx
import pytest

from models.accounts import AccountLink, ApiToken, User
from tests.support.clients import Browserish, bearer, finish_sign_in, logged_in
from tests.support.server import LiveServer, migrated_sqlite
from tests.support.world import PASSWORD, make_user, unique_email

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def empty_server(tmp_path):
    server = LiveServer(var_dir=tmp_path, database_url=f"sqlite://{migrated_sqlite(tmp_path / 'fresh.sqlite3')}").start()
    yield server
    server.stop()


async def test_first_run_setup_link_creates_the_first_coordinator_who_invites_people(empty_server):
    link = re.search(r"(http://\S+/setup/\S+)", empty_server.log()).group(1)
    async with Browserish(empty_server.url) as anon:
        home = await anon.get("/")
        assert "not set up yet" in home.text
        page = await anon.get(link)
        assert page.status_code == 200 and "create the first coordinator" in page.text
        bad = await anon.submit(link, {"display_name": "Ada", "email": "not-an-email", "password": "short", "password_again": "short"})
        assert bad.status_code == 400 and "not an e-mail address" in bad.text
        made = await anon.submit(link, {"display_name": "Ada Lovelace", "email": "Ada@Clinic.example.org",
                                        "password": PASSWORD, "password_again": PASSWORD})
        assert made.status_code == 303
        await finish_sign_in(anon, made, "ada@clinic.example.org")  # staff add an authenticator first
        # The link is single-use, for anyone.
        async with Browserish(empty_server.url) as other:
            assert (await other.get(link)).status_code == 404

        # The coordinator (e-mail case-folded) invites a facilitator and a member.
        invited = {}
        for role, name in (("facilitator", "Fay Facil"), ("member", "Milo Member")):
            email = unique_email(role)
            response = await anon.submit("/people/invite", {"display_name": name, "email": email, "role": role})
            assert response.status_code == 200, response.text
            invited[role] = (email, re.search(r'value="(http://\S+/invitations/[^"]+)"', response.text).group(1))
        duplicate = await anon.submit("/people/invite", {"display_name": "Again", "email": invited["member"][0], "role": "member"})
        assert duplicate.status_code == 409 and "already has an account" in duplicate.text

    for role, (email, url) in invited.items():
        async with Browserish(empty_server.url) as person:
            page = await person.get(url)
            assert page.status_code == 200 and "Choose a password" in page.text
            mismatch = await person.submit(url, {"password": NEW_PASSWORD, "password_again": "something else"})
            assert mismatch.status_code == 400
            done = await person.submit(url, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
            assert done.status_code == 303
            assert (await person.get(url)).status_code == 404  # used
        client = await logged_in(empty_server.url, email, NEW_PASSWORD)
        home = await client.get("/")
        if role == "member":
            assert home.status_code == 303 and home.headers["location"] == "/portal"
        else:
            assert home.status_code == 200 and "not facilitating any cohort yet" in home.text
        await client.aclose()
    async with Browserish(empty_server.url) as late:
        assert "admin" not in (await late.get("/login")).text.lower()


async def test_login_rejects_wrong_password_without_saying_which_part_was_wrong(world, live_server):
    async with Browserish(live_server.url) as anon:
        wrong = await anon.submit("/login", {"email": world.email("member"), "password": "nope nope nope"})
        unknown = await anon.submit("/login", {"email": unique_email(), "password": "nope nope nope"})
        assert wrong.status_code == unknown.status_code == 400
        assert "do not match an account" in wrong.text and "do not match an account" in unknown.text
        malformed = await anon.submit("/login", {"email": "nobody", "password": "x"})
        assert malformed.status_code == 400 and "not an e-mail address" in malformed.text


async def test_login_is_throttled_per_email(tmp_path):
    server = LiveServer(var_dir=tmp_path, database_url=f"sqlite://{migrated_sqlite(tmp_path / 'db.sqlite3')}",
                        extra_env={"GROUPIPT_LOGIN_ATTEMPTS": "3"}).start()
    try:
        async with Browserish(server.url) as anon:
            codes = [(await anon.submit("/login", {"email": "victim@example.org", "password": f"guess {i}"})).status_code for i in range(5)]
        assert codes[:3] == [400, 400, 400]
        assert codes[3:] == [429, 429]
    finally:
        server.stop()


async def test_forms_without_a_valid_csrf_token_are_refused_and_change_nothing(world, live_server):
    client = await world.client("coordinator")
    email = unique_email("csrf")
    response = await client.post("/people/invite", data={"csrftoken": "forged", "display_name": "X", "email": email, "role": "member"})
    assert response.status_code == 403 and "Please try again" in response.text
    missing = await client.post("/people/invite", data={"display_name": "X", "email": email, "role": "member"})
    assert missing.status_code == 403
    # Even without any cookie (login CSRF), a form post is refused.
    async with httpx.AsyncClient(base_url=live_server.url) as bare:
        assert (await bare.post("/login", data={"email": world.email("member"), "password": PASSWORD})).status_code == 403
    assert not await User.filter(email=email).exists()


async def test_cross_site_posts_are_refused_by_the_origin_check(world, live_server):
    client = await world.client("coordinator")
    email = unique_email("origin")
    response = await client.post(
        "/people/invite",
        data={"csrftoken": await client.csrf(), "display_name": "X", "email": email, "role": "member"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403 and "another site" in response.text
    assert not await User.filter(email=email).exists()


async def test_oversized_bodies_get_413(world, live_server):
    client = await world.client("coordinator")
    response = await client.post("/people/invite", data={"csrftoken": await client.csrf(), "display_name": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


async def test_bad_invitation_input_is_a_400_that_writes_nothing(world):
    client = await world.client("coordinator")
    before = await User.all().count()
    for data in ({"display_name": "", "email": unique_email(), "role": "member"},
                 {"display_name": "Ok", "email": "bad@", "role": "member"},
                 {"display_name": "Ok", "email": unique_email(), "role": "superuser"}):
        response = await client.submit("/people/invite", data)
        assert response.status_code == 400, data
    assert await User.all().count() == before


async def test_password_reset_link_issued_by_a_coordinator(world, live_server):
    person = await make_user("member", "Rita Reset")
    coordinator = await world.client("coordinator")
    issued = await coordinator.submit(f"/people/{person.id}/password-reset")
    url = re.search(r'value="(http://\S+/password-reset/[^"]+)"', issued.text).group(1)
    old_session = await logged_in(live_server.url, person.email, PASSWORD)
    async with Browserish(live_server.url) as anon:
        assert (await anon.submit(url, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})).status_code == 303
    # The old session ended with the password change; the new password works.
    assert (await old_session.get("/account")).status_code == 303
    await old_session.aclose()
    (await logged_in(live_server.url, person.email, NEW_PASSWORD))
    await AccountLink.filter(user=person).delete()


async def test_log_out_everywhere_ends_every_session(live_server, db):
    person = await make_user("facilitator", "Lou Everywhere")
    phone = await logged_in(live_server.url, person.email, PASSWORD)
    laptop = await logged_in(live_server.url, person.email, PASSWORD)
    assert (await phone.get("/account")).status_code == 200
    response = await laptop.submit("/account/logout-everywhere")
    assert response.status_code == 303
    assert (await phone.get("/account")).status_code == 303
    assert (await laptop.get("/account")).status_code == 303
    await phone.aclose()
    await laptop.aclose()


async def test_session_cookie_holds_only_user_id_epoch_and_session_key(live_server, world):
    import base64
    import json

    client = await world.client("member")
    raw = client.cookies["session"].split(".")[0]
    data = json.loads(base64.b64decode(raw + "=" * (-len(raw) % 4)))
    # The key opens the server-side session record (issue 18), which holds its limits.
    assert set(data) == {"uid", "epoch", "sid"}


async def test_personal_api_token_created_on_the_account_page_works_until_revoked(live_server, world):
    client = await world.client("facilitator")
    page = await client.submit("/account/tokens", {"name": "my script"})
    secret = re.search(r'id="new_token" class="copy" readonly value="([^"]+)"', page.text).group(1)
    stored = await ApiToken.get(name="my script", user=world.users["facilitator"])
    assert stored.token_sha256 != secret and secret not in stored.token_sha256
    async with bearer(live_server.url, secret) as api:
        me = await api.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["role"] == "facilitator"
        await client.submit(f"/account/tokens/{stored.id}/revoke")
        assert (await api.get("/api/v1/me")).status_code == 401


async def test_api_errors_are_problem_documents(live_server, world):
    async with bearer(live_server.url, world.tokens["coordinator"]) as api:
        response = await api.post("/api/v1/users", json={"email": "nope", "name": "X", "role": "member"})
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["detail"]
        not_json = await api.post("/api/v1/users", content=b"{", headers={"content-type": "application/json"})
        assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["detail"]
        missing = await api.get("/api/v1/users/999999")
        assert missing.status_code == 404
        created = await api.post("/api/v1/users", json={"email": unique_email("api"), "name": "Api Person", "role": "member"})
        assert created.status_code == 201 and "/invitations/" in created.json()["invitation_url"]


async def test_openapi_document_lists_the_api(live_server):
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        doc = (await client.get("/api/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/users" in doc["paths"] and "post" in doc["paths"]["/api/v1/users"]
    assert all(path.startswith("/api/v1") for path in doc["paths"])


async def test_unknown_pages_get_a_friendly_404(live_server):
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.get("/no/such/page")
    assert response.status_code == 404 and "There is nothing at this address" in response.text


async def test_multipart_posts_get_a_clear_415_not_a_crash(world):
    client = await world.client("coordinator")
    email = unique_email("multipart")
    response = await client.post("/people/invite", data={"csrftoken": await client.csrf(), "display_name": "X",
                                                         "email": email, "role": "member"},
                                 files={"file": ("rows.csv", b"name,email")})
    assert response.status_code == 415 and "not accepted" in response.text
    assert not await User.filter(email=email).exists()
