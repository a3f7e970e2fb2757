"""Passkeys over HTTP with a software authenticator (issue 18): each challenge answers once,
in the browser that asked for it; the counter must grow; the origin must be this site's; a
passkey alone signs in only when it verified its user; adding one wants a recent password."""
from __future__ import annotations

from datetime import timedelta

from models.accounts import AuditEvent, FactorKind, SecondFactor, SignInSession
from models.mail import OutboxMessage
from server import clock
from tests.support.clients import Browserish, logged_in
from tests.support.soft_authenticator import SoftAuthenticator
from tests.support.world import PASSWORD, make_user

JSON = {"Accept": "application/json"}


async def _options(client: Browserish, url: str) -> dict:
    answer = await client.submit(url, headers=JSON)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["cache-control"] == "no-store"
    return answer.json()


async def _add_passkey(client: Browserish, authenticator: SoftAuthenticator, name: str = "Laptop"):
    options = await _options(client, "/account/passkeys/options")
    return await client.submit("/account/passkeys", {"credential": authenticator.create(options), "name": name})


async def test_a_passkey_added_on_the_account_page_signs_in_alone_and_each_answer_counts_once(live_server, world):
    person = await make_user("facilitator", "Kemal Key")
    client = await logged_in(live_server.url, person.email, PASSWORD)
    authenticator = SoftAuthenticator(origin=live_server.url)
    options = await _options(client, "/account/passkeys/options")
    assert options["rp"]["id"] == "127.0.0.1" and options["authenticatorSelection"]["residentKey"] == "required"
    assert person.email not in options["user"]["id"]  # an opaque handle, not the address
    added = await client.submit("/account/passkeys", {"credential": authenticator.create(options), "name": "Laptop"})
    assert added.status_code == 200 and "Your passkey is added" in added.text
    assert 'aria-label="Recovery codes"' not in added.text  # the authenticator app came first and brought them
    (passkey,) = await SecondFactor.filter(user=person, kind=FactorKind.PASSKEY)
    assert passkey.name == "Laptop" and passkey.transports == "internal"
    assert await OutboxMessage.filter(to_email=person.email, subject__contains="was added").exists()
    assert await AuditEvent.filter(subject="second_factor_added", member_id=person.id, detail="passkey 'Laptop'").exists()
    # Registering the same passkey again is refused: the challenge was taken.
    again = await client.submit("/account/passkeys", {"credential": authenticator.create(options), "name": "Twice"})
    assert again.status_code == 400 and "expired or was used already" in again.text
    await client.aclose()

    async with Browserish(live_server.url) as device:
        options = await _options(device, "/login/passkey/options")
        assert options["userVerification"] == "required" and options["allowCredentials"] == []
        answer = authenticator.get(options)
        signed = await device.submit("/login/passkey", {"credential": answer, "next": "/account"})
        assert signed.status_code == 303 and signed.headers["location"] == "/account"
        assert (await device.get("/account")).status_code == 200
        assert (await SecondFactor.get(id=passkey.id)).sign_count == authenticator.sign_count
    sign_in = await AuditEvent.filter(subject="sign_in", member_id=person.id).order_by("-id").first()
    assert sign_in.detail.startswith("passkey;")

    async with Browserish(live_server.url) as replayer:
        replayed = await replayer.submit("/login/passkey", {"credential": answer})
        assert replayed.status_code == 400 and "/account" not in replayed.headers.get("location", "")
        # A fresh challenge signed with a counter that went backwards: a cloned authenticator.
        options = await _options(replayer, "/login/passkey/options")
        cloned = await replayer.submit("/login/passkey", {"credential": authenticator.get(options, count=1)})
        assert cloned.status_code == 400 and "not accepted" in cloned.text
    assert await AuditEvent.filter(subject="passkey_counter_mismatch", member_id=person.id).exists()


async def test_a_challenge_answers_only_in_the_browser_that_asked_for_it(live_server, world):
    person = await make_user("member", "Mira Member")
    client = await logged_in(live_server.url, person.email, PASSWORD)
    authenticator = SoftAuthenticator(origin=live_server.url)
    added = await _add_passkey(client, authenticator)
    assert added.status_code == 200 and 'aria-label="Recovery codes"' in added.text  # the member's first factor
    await client.aclose()
    async with Browserish(live_server.url) as asker, Browserish(live_server.url) as other:
        options = await _options(asker, "/login/passkey/options")
        await other.csrf()
        stolen = await other.submit("/login/passkey", {"credential": authenticator.get(options)})
        assert stolen.status_code == 400
        # ...and the asker's challenge is still unanswered, so theirs goes through.
        mine = await asker.submit("/login/passkey", {"credential": authenticator.get(options)})
        assert mine.status_code == 303


async def test_answers_for_another_site_or_without_user_verification_are_refused(live_server, world):
    person = await make_user("member", "Otto Origin")
    client = await logged_in(live_server.url, person.email, PASSWORD)
    phished = SoftAuthenticator(origin="https://groupipt.example.net")
    refused = await _add_passkey(client, phished)
    assert refused.status_code == 400 and "could not be added" in refused.text
    assert not await SecondFactor.filter(user=person).exists()
    authenticator = SoftAuthenticator(origin=live_server.url)
    assert (await _add_passkey(client, authenticator)).status_code == 200
    await client.aclose()
    async with Browserish(live_server.url) as device:
        for wrong in ({"origin": "https://groupipt.example.net"}, {"rp_id": "example.net"}, {"user_verified": False}):
            options = await _options(device, "/login/passkey/options")
            answer = await device.submit("/login/passkey", {"credential": authenticator.get(options, **wrong)})
            assert answer.status_code == 400, wrong
        garbage = await device.submit("/login/passkey", {"credential": "{not json"})
        assert garbage.status_code == 400


async def test_a_passkey_stands_in_for_the_code_after_the_password(live_server, world):
    person = await make_user("facilitator", "Sofia Second")
    client = await logged_in(live_server.url, person.email, PASSWORD)
    authenticator = SoftAuthenticator(origin=live_server.url)
    assert (await _add_passkey(client, authenticator)).status_code == 200
    await client.aclose()
    async with Browserish(live_server.url) as device:
        # Without the password step there is no one to ask a passkey of.
        early = await device.submit("/login/passkey/options?step=second-factor", headers=JSON)
        assert early.status_code == 400 and early.json()["code"] == "passkey_expired"
        step = await device.submit("/login", {"email": person.email, "password": PASSWORD})
        assert step.headers["location"] == "/login/second-factor"
        page = await device.get("/login/second-factor")
        assert "Use passkey" in page.text and 'name="code"' in page.text
        options = await _options(device, "/login/passkey/options?step=second-factor")
        (allowed,) = options["allowCredentials"]
        passkey = await SecondFactor.get(user=person, kind=FactorKind.PASSKEY)
        assert allowed["id"] == passkey.credential_id
        done = await device.submit("/login/second-factor", {"passkey": authenticator.get(options, user_verified=False)})
        assert done.status_code == 303 and done.headers["location"] == "/"
    sign_in = await AuditEvent.filter(subject="sign_in", member_id=person.id).order_by("-id").first()
    assert sign_in.detail.startswith("password and passkey;")


async def test_adding_or_renaming_a_passkey_wants_a_recent_password(live_server, world):
    person = await make_user("facilitator", "Rita Recent")
    client = await logged_in(live_server.url, person.email, PASSWORD)
    session = await SignInSession.filter(user=person, ended_at=None).order_by("-id").first()
    await SignInSession.filter(id=session.id).update(authenticated_at=clock.now() - timedelta(minutes=6))
    refused = await client.submit("/account/passkeys/options", headers=JSON)
    assert refused.status_code == 403 and refused.json()["code"] == "reauthentication_required"
    page = await client.get("/account/passkeys/new")
    assert 'action="/account/reauthenticate"' in page.text and 'data-passkey="register"' not in page.text
    confirmed = await client.submit("/account/reauthenticate", {"proof": PASSWORD, "next": "/account/passkeys/new"})
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/account/passkeys/new"
    authenticator = SoftAuthenticator(origin=live_server.url)
    assert (await _add_passkey(client, authenticator, name="Desk key")).status_code == 200
    passkey = await SecondFactor.get(user=person, kind=FactorKind.PASSKEY)

    await SignInSession.filter(id=session.id).update(authenticated_at=clock.now() - timedelta(minutes=6))
    unproven = await client.submit(f"/account/second-factor/{passkey.id}/rename", {"name": "Hall key"})
    assert unproven.status_code == 400 and (await SecondFactor.get(id=passkey.id)).name == "Desk key"
    renamed = await client.submit(f"/account/second-factor/{passkey.id}/rename", {"name": "Hall key", "proof": PASSWORD})
    assert renamed.status_code == 200 and "Renamed: Hall key" in renamed.text
    too_long = await client.submit(f"/account/second-factor/{passkey.id}/rename", {"name": "x" * 81})
    assert too_long.status_code == 400 and (await SecondFactor.get(id=passkey.id)).name == "Hall key"
    removed = await client.submit(f"/account/second-factor/{passkey.id}/remove")
    assert removed.status_code == 200 and "The passkey Hall key was removed" in removed.text
    assert await OutboxMessage.filter(to_email=person.email, subject__contains="was removed").exists()
    await client.aclose()
