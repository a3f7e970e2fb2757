"""Sign-in a health service accepts (issue 18): throttling no stranger can turn against a
person, second factors, sessions with limits, re-authentication, security events."""
from __future__ import annotations

import re
from datetime import timedelta

import pyotp

from models.accounts import AuditEvent, RecoveryCode, SecondFactor, SignInSession, User
from models.mail import OutboxMessage
from server import clock
from tests.support import totp
from tests.support.clients import Browserish, bearer, finish_sign_in, logged_in
from tests.support.world import PASSWORD, make_user


def stranger(base_url: str, address: str = "203.0.113.9") -> Browserish:
    # The server trusts X-Forwarded-For from loopback (uvicorn proxy_headers), as behind a proxy.
    return Browserish(base_url, headers={"X-Forwarded-For": address})


async def security_events(person: User, subject: str) -> list[AuditEvent]:
    return await AuditEvent.filter(action="security", subject=subject, member_id=person.id).order_by("at")


async def test_a_stranger_guessing_passwords_does_not_lock_the_person_out(live_server, world):
    person = await make_user("facilitator", "Tess Targeted")
    limit = 50  # GROUPIPT_LOGIN_ATTEMPTS in tests/support/server.py
    async with stranger(live_server.url) as attacker:
        for i in range(limit):
            wrong = await attacker.submit("/login", {"email": person.email, "password": f"guess {i}"})
            assert wrong.status_code == 400
        throttled = await attacker.submit("/login", {"email": person.email, "password": PASSWORD})
        assert throttled.status_code == 429 and "from this device" in throttled.text
    # From the person's own device: password, then the code, and they are told what happened.
    client = Browserish(live_server.url)
    answer = await client.submit("/login", {"email": person.email, "password": PASSWORD})
    assert answer.status_code == 303 and answer.headers["location"] == "/login/second-factor"
    code = await totp.next_code(person.email, totp.SECRETS[person.email])
    signed = await client.submit("/login/second-factor", {"code": code})
    assert signed.status_code == 303 and signed.headers["location"] == "/login/attempts"
    notice = await client.get("/login/attempts")
    assert f"{limit} failed attempts" in notice.text
    assert (await client.get("/login/attempts", follow_redirects=False)).status_code == 303  # once only
    await client.aclose()
    # Recorded for coordinators, without the guessed passwords.
    assert len(await security_events(person, "sign_in_failed")) == limit
    assert len(await security_events(person, "sign_in_throttled")) == 1
    async with bearer(live_server.url, world.tokens["coordinator"]) as api:
        events = (await api.get("/api/v1/audit", params={"member": person.id})).json()["events"]
    subjects = {e["subject"] for e in events}
    assert {"sign_in", "sign_in_failed", "sign_in_throttled"} <= subjects
    assert not any("guess" in e["detail"] or PASSWORD in e["detail"] for e in events)


async def test_a_second_factor_code_cannot_be_guessed_forever_or_replayed(live_server, world):
    person = await make_user("coordinator", "Rae Replay")
    secret = totp.SECRETS[person.email]
    client = Browserish(live_server.url)
    await client.submit("/login", {"email": person.email, "password": PASSWORD})
    wrong = await client.submit("/login/second-factor", {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert wrong.status_code == 400 and "not right" in wrong.text
    code = await totp.next_code(person.email, secret)
    assert (await client.submit("/login/second-factor", {"code": code})).status_code == 303
    assert (await client.get("/account")).status_code == 200
    # The same code again, from another browser, is refused: codes are single-use.
    other = Browserish(live_server.url)
    await other.submit("/login", {"email": person.email, "password": PASSWORD})
    replay = await other.submit("/login/second-factor", {"code": code})
    assert replay.status_code == 400
    assert await security_events(person, "second_factor_failed")
    await client.aclose()
    await other.aclose()


async def test_staff_without_a_factor_set_one_up_before_anything_else(live_server, world):
    person = await make_user("facilitator", "Nia New", second_factor=False)
    client = Browserish(live_server.url)
    answer = await client.submit("/login", {"email": person.email, "password": PASSWORD})
    assert answer.headers["location"] == "/account/second-factor"
    # Nothing else until then: pages go to the set-up page, the API with this cookie refuses.
    for path in ("/", "/account", "/safety", f"/cohorts/{world.cohort.id}"):
        response = await client.get(path)
        assert response.status_code in (303, 307), path
        assert response.headers["location"] in ("/account/second-factor", "/login", "/login?next=%2F"), path
    assert (await client.get("/login")).headers["location"] == "/account/second-factor"
    assert (await client.get("/api/v1/me")).status_code in (401, 403)
    page = await client.get("/account/second-factor")
    assert page.status_code == 200 and "<svg" in page.text and "needs a second factor" in page.text
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.text).group(1)
    bad = await client.submit("/account/second-factor", {"code": "12345"})
    assert bad.status_code == 400
    totp.remember(person.email, secret)
    done = await client.submit("/account/second-factor", {"code": await totp.next_code(person.email, secret), "name": "work phone"})
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", done.text)
    assert done.status_code == 200 and len(codes) == 10 and "shown only now" in done.text
    stored = await RecoveryCode.filter(user=person)
    assert len(stored) == 10 and not any(c.code_sha256 in codes or c.code_sha256.startswith(codes[0][:5]) for c in stored)
    assert (await client.get("/")).status_code == 200
    assert await security_events(person, "second_factor_added")
    mail = await OutboxMessage.filter(to_user=person).first()
    assert mail is not None and "added" in mail.subject and secret not in mail.body
    await client.aclose()
    # A recovery code signs in once, in place of the app.
    second = Browserish(live_server.url)
    await second.submit("/login", {"email": person.email, "password": PASSWORD})
    assert (await second.submit("/login/second-factor", {"code": codes[0].upper()})).status_code == 303
    third = Browserish(live_server.url)
    await third.submit("/login", {"email": person.email, "password": PASSWORD})
    assert (await third.submit("/login/second-factor", {"code": codes[0]})).status_code == 400
    assert await security_events(person, "recovery_code_used")
    await second.aclose()
    await third.aclose()


async def test_members_are_never_forced_to_add_a_factor(live_server, world):
    person = await make_user("member", "Mo Member")
    client = await logged_in(live_server.url, person.email, PASSWORD)
    assert (await client.get("/account")).status_code == 200
    assert not await SecondFactor.filter(user=person).exists()
    await client.aclose()


async def test_an_idle_staff_session_ends_and_a_member_session_lasts_longer(live_server, world):
    staff = await make_user("facilitator", "Ida Idle")
    member = await make_user("member", "Lena Long")
    staff_client = await logged_in(live_server.url, staff.email, PASSWORD)
    member_client = await logged_in(live_server.url, member.email, PASSWORD)
    gone = clock.now() - timedelta(minutes=31)
    await SignInSession.filter(user_id__in=[staff.id, member.id]).update(last_seen_at=gone)
    assert (await staff_client.get("/account")).status_code == 303  # back to sign-in
    assert (await member_client.get("/account")).status_code == 200
    ended = await SignInSession.get(user=staff)
    assert ended.ended_at is not None and ended.end_reason == "idle"
    assert await security_events(staff, "session_ended")
    # Twelve hours after sign-in a staff session ends however busy it was.
    busy = await logged_in(live_server.url, staff.email, PASSWORD)
    await SignInSession.filter(user=staff, ended_at=None).update(created_at=clock.now() - timedelta(hours=12, minutes=1))
    assert (await busy.get("/account")).status_code == 303
    assert (await SignInSession.filter(user=staff).order_by("-id").first()).end_reason == "expired"
    for client in (staff_client, member_client, busy):
        await client.aclose()


async def test_asking_how_long_is_left_is_not_activity_but_the_keep_alive_is(live_server, world):
    staff = await make_user("facilitator", "Kim Keepalive")
    client = await logged_in(live_server.url, staff.email, PASSWORD)
    earlier = clock.now() - timedelta(minutes=20)
    await SignInSession.filter(user=staff).update(last_seen_at=earlier)
    status = (await client.get("/session/status", headers={"Accept": "application/json"})).json()
    assert status["session"] and status["ends_for"] == "inactivity" and 9 * 60 <= status["seconds_left"] <= 10 * 60
    assert abs(((await SignInSession.get(user=staff)).last_seen_at - earlier).total_seconds()) < 1
    alive = await client.submit("/session/keepalive", headers={"Accept": "application/json"})
    assert alive.status_code == 200 and alive.json()["seconds_left"] > 29 * 60
    await client.aclose()


async def test_the_account_page_lists_sessions_and_ends_another_one(live_server, world):
    staff = await make_user("coordinator", "Sam Sessions")
    phone = await logged_in(live_server.url, staff.email, PASSWORD)
    laptop = Browserish(live_server.url, headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Gecko/20100101 Firefox/128.0"})
    response = await laptop.submit("/login", {"email": staff.email, "password": PASSWORD})
    await finish_sign_in(laptop, response, staff.email)
    page = await laptop.get("/account")
    assert "Firefox on Windows" in page.text and "this device" in page.text
    phone_session = await SignInSession.filter(user=staff, ended_at=None).order_by("id").first()
    assert (await laptop.submit(f"/account/sessions/{phone_session.id}/end")).status_code == 303
    assert (await phone.get("/account")).status_code == 303
    assert (await laptop.get("/account")).status_code == 200
    # Someone else's session is not there to end.
    other = await SignInSession.filter(user=world.users["member"]).first()
    if other is not None:
        assert (await laptop.submit(f"/account/sessions/{other.id}/end")).status_code == 404
    await phone.aclose()
    await laptop.aclose()


async def test_sensitive_actions_ask_again_after_five_minutes(live_server, world):
    staff = await make_user("facilitator", "Ravi Reauth")
    client = await logged_in(live_server.url, staff.email, PASSWORD)
    await SignInSession.filter(user=staff).update(authenticated_at=clock.now() - timedelta(minutes=6))
    refused = await client.submit("/account/tokens", {"name": "reporting script"})
    assert refused.status_code == 400 and "confirm it is you" in refused.text
    assert 'value="reporting script"' in refused.text  # what was typed stays
    wrong = await client.submit("/account/tokens", {"name": "reporting script", "proof": "not it at all"})
    assert wrong.status_code == 400
    made = await client.submit("/account/tokens", {"name": "reporting script", "proof": PASSWORD})
    assert made.status_code == 200 and 'id="new_token"' in made.text
    # Within five minutes of that, no need to ask again.
    again = await client.submit("/account/tokens", {"name": "second script"})
    assert again.status_code == 200 and 'id="new_token"' in again.text
    await client.aclose()


async def test_a_coordinator_resets_someone_elses_factors_not_their_own(live_server, world):
    coordinator = await make_user("coordinator", "Cleo Reset")
    person = await make_user("facilitator", "Phil Lostphone")
    person_client = await logged_in(live_server.url, person.email, PASSWORD)
    client = await logged_in(live_server.url, coordinator.email, PASSWORD)
    await SignInSession.filter(user=coordinator).update(authenticated_at=clock.now() - timedelta(minutes=6))
    assert (await client.submit(f"/people/{person.id}/second-factors/reset")).status_code == 400
    code = await totp.next_code(coordinator.email, totp.SECRETS[coordinator.email])
    done = await client.submit(f"/people/{person.id}/second-factors/reset", {"proof": code})
    assert done.status_code == 200 and "were reset" in done.text
    assert not await SecondFactor.filter(user=person).exists()
    assert (await person_client.get("/account")).status_code == 303  # their sessions ended
    (event,) = await security_events(person, "second_factors_reset")
    assert event.actor_id == coordinator.id
    assert await OutboxMessage.filter(to_user=person, subject__contains="reset").exists()
    own = await client.submit(f"/people/{coordinator.id}/second-factors/reset", {"proof": PASSWORD})
    assert own.status_code == 400 and "your own" in own.text
    # Next sign-in: set one up again.
    again = Browserish(live_server.url)
    answer = await again.submit("/login", {"email": person.email, "password": PASSWORD})
    assert answer.headers["location"] == "/account/second-factor"
    for c in (person_client, client, again):
        await c.aclose()


async def test_staff_keep_a_factor_but_may_remove_one_of_two(live_server, world):
    staff = await make_user("facilitator", "Two Phones")
    client = await logged_in(live_server.url, staff.email, PASSWORD)
    (first,) = await SecondFactor.filter(user=staff)
    refused = await client.submit(f"/account/second-factor/{first.id}/remove")
    assert refused.status_code == 400 and "keep a second factor" in refused.text
    page = await client.get("/account/second-factor")
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.text).group(1)
    added = await client.submit("/account/second-factor", {"code": pyotp.TOTP(secret).now(), "name": "spare"})
    assert added.status_code == 200 and "recovery" not in added.text.lower().split("your authenticator app is on")[1][:40]
    removed = await client.submit(f"/account/second-factor/{first.id}/remove")
    assert removed.status_code == 200 and "was removed" in removed.text
    assert await security_events(staff, "second_factor_removed")
    assert await OutboxMessage.filter(to_user=staff, subject__contains="removed").exists()
    await client.aclose()


async def test_logging_out_ends_the_session_record(live_server, world):
    staff = await make_user("facilitator", "Olu Logout")
    client = await logged_in(live_server.url, staff.email, PASSWORD)
    cookie = client.cookies["session"]
    assert (await client.submit("/logout")).status_code == 303
    session = await SignInSession.get(user=staff)
    assert session.ended_at is not None and session.end_reason == "signed out"
    # The old cookie, replayed, opens nothing.
    async with Browserish(live_server.url) as thief:
        thief.cookies.set("session", cookie)
        assert (await thief.get("/account")).status_code == 303
    await client.aclose()
