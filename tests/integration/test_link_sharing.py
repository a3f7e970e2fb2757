"""One-time links and calendar links over a real server (issue 20, items 1, 5 and 8): the owner
sees their own calendar link again, links are e-mailed through the outbox and the page says
whether they went or wait there, and personal API tokens are staff's."""
from __future__ import annotations

import asyncio
from contextlib import aclosing
import re
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from aiosmtpd.controller import Controller

from models.accounts import ApiToken, AuditEvent, FeedToken, Role, User
from models.cohorts import Enrollment
from models.mail import OutboxMessage
from server.accounts import link_mail
from server.platform.settings import Settings
from server.schedule.feeds import token_hash
from tests.support.clients import bearer, logged_in
from tests.support.server import LiveServer, free_port
from tests.support.smtp import SlowCollector
from tests.support.world import PASSWORD, consent_fields, make_cohort, make_user, unique_email

pytestmark = pytest.mark.asyncio(loop_scope="session")

FEED_URL = re.compile(r'id="feed_url" class="copy" readonly value="(http://[^"]+/feeds/([A-Za-z0-9_-]+)\.ics)"')


async def member_client(live_server, name: str = "Lena Link"):
    member = await make_user(Role.MEMBER, f"{name} {uuid.uuid4().hex[:4]}")
    return member, await logged_in(live_server.url, member.email, PASSWORD)


async def outbox_for(email: str) -> list[OutboxMessage]:
    return await OutboxMessage.filter(to_email=email).order_by("id")


# --- item 1: the owner's calendar link ------------------------------------------------------------------


async def test_the_owner_sees_their_own_calendar_link_again_with_subscribe_buttons(world, live_server):
    member, client = await member_client(live_server)
    async with aclosing(client):
        made = await client.submit("/account/calendar")
        url, secret = FEED_URL.search(made.text).groups()
        page = await client.get("/account")
        assert page.status_code == 200
        assert FEED_URL.search(page.text).groups() == (url, secret)  # the same link, on a later visit
        assert "You have a calendar link" in page.text and "Copy this link now" not in page.text
        assert f'href="webcal://{url.split("://", 1)[1]}"' in page.text
        assert "https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2F" in page.text
        assert f'href="{url}" download="sessions.ics"' in page.text
        assert (await client.get("/account/calendar")).text.count(secret) >= 1
        feed = await client.get(url)
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    stored = await FeedToken.get(user=member, revoked_at=None)
    assert stored.token_sha256 == token_hash(secret)
    assert stored.token_sealed and stored.token_sealed.startswith("f1:") and secret not in stored.token_sealed


async def test_a_link_from_before_sealing_asks_for_a_new_one(world, live_server):
    member, client = await member_client(live_server, "Olde Link")
    async with aclosing(client):
        made = await client.submit("/account/calendar")
        old_secret = FEED_URL.search(made.text).group(2)
        await FeedToken.filter(user=member).update(token_sealed=None)  # as links made before this change
        page = await client.get("/account")
        assert "Make a new link to see it here" in page.text and 'id="feed_url"' not in page.text
        assert old_secret not in page.text
        renewed = await client.submit("/account/calendar")
        assert FEED_URL.search(renewed.text).group(2) != old_secret
        assert FEED_URL.search((await client.get("/account")).text)


async def test_staff_pages_never_show_anyones_calendar_link(world, live_server):
    member, client = await member_client(live_server, "Private Person")
    async with aclosing(client):
        secret = FEED_URL.search((await client.submit("/account/calendar")).text).group(2)
    coordinator = await world.client("coordinator")
    for path in (f"/calendar-feeds?person={member.email}", f"/people?q={member.email}", "/api/v1/calendar-feeds"):
        answer = await coordinator.get(path)
        assert answer.status_code == 200 and secret not in answer.text, path
    facilitator = await world.client("facilitator")
    assert secret not in (await facilitator.get("/account")).text
    overview = await coordinator.get(f"/calendar-feeds?person={member.email}")
    assert member.display_name in overview.text and "/feeds/" not in overview.text


# --- item 5: links by e-mail ---------------------------------------------------------------------------


async def test_an_invitation_from_the_form_is_emailed_or_waits_in_the_outbox(world, live_server):
    email = unique_email("invited")
    coordinator = await world.client("coordinator")
    page = await coordinator.submit("/people/invite", {"display_name": "Ivy Invited", "email": email, "role": "member"})
    assert page.status_code == 200
    assert f"Waiting in the outbox for {email}" in page.text and 'href="/outbox"' in page.text
    link = re.search(r'id="link" class="copy" readonly value="([^"]+)"', page.text).group(1)
    [message] = await outbox_for(email)
    assert link in message.body and message.subject.startswith("Your account with")
    assert "Ivy" in message.body and "group" not in message.body.lower()  # nothing about what the group is for
    secret = link.rsplit("/", 1)[1]
    person = await User.get(email=email)
    events = await AuditEvent.filter(member=person)
    assert [e.subject for e in events] == ["invitation_link_mailed"] and events[0].detail == "queued"
    assert all(secret not in e.detail for e in events)
    assert secret not in live_server.log()


async def test_send_link_emails_a_calendar_link_without_showing_it_to_the_coordinator(world, live_server):
    member, client = await member_client(live_server, "Cal Sender")
    async with aclosing(client):
        url = FEED_URL.search((await client.submit("/account/calendar")).text).group(1)
    coordinator = await world.client("coordinator")
    page = await coordinator.submit("/people/send-link", {"user_id": str(member.id), "kind": "calendar"})
    assert page.status_code == 200
    assert f"calendar link: Waiting in the outbox for {member.email}" in page.text
    assert url not in page.text and "/feeds/" not in page.text
    [message] = await outbox_for(member.email)
    assert url in message.body  # the link they already have: their subscription keeps working
    assert await FeedToken.filter(user=member, revoked_at=None).count() == 1


async def test_send_link_makes_a_calendar_link_when_the_old_one_cannot_be_shown(world, live_server):
    member, client = await member_client(live_server, "Cal Older")
    async with aclosing(client):
        old_url = FEED_URL.search((await client.submit("/account/calendar")).text).group(1)
        await FeedToken.filter(user=member).update(token_sealed=None)
        coordinator = await world.client("coordinator")
        page = await coordinator.submit("/people/send-link", {"user_id": str(member.id), "kind": "calendar"})
        assert "a new one was made and the old one stopped working" in page.text
        [message] = await outbox_for(member.email)
        new_url = re.search(r"http://\S+/feeds/\S+\.ics", message.body).group(0)
        assert new_url != old_url
        assert (await client.get(old_url)).status_code == 404 and (await client.get(new_url)).status_code == 200
        assert FEED_URL.search((await client.get("/account")).text).group(1) == new_url


async def test_send_link_emails_a_new_invitation_and_the_old_one_stops_working(world, live_server):
    email = unique_email("again")
    coordinator = await world.client("coordinator")
    first = await coordinator.submit("/people/invite", {"display_name": "Ann Again", "email": email, "role": "member"})
    first_link = re.search(r'id="link" class="copy" readonly value="([^"]+)"', first.text).group(1)
    person = await User.get(email=email)
    page = await coordinator.submit("/people/send-link", {"user_id": str(person.id), "kind": "invitation"})
    assert page.status_code == 200 and f"A new invitation link: Waiting in the outbox for {email}" in page.text
    assert "/invitations/" not in page.text.split('id="people-list"')[0]
    _, second = await outbox_for(email)
    second_link = re.search(r"http://\S+/invitations/\S+", second.body).group(0)
    async with httpx.AsyncClient(base_url=live_server.url) as anon:
        assert (await anon.get(first_link)).status_code == 404
        assert (await anon.get(second_link)).status_code == 200


@pytest.mark.parametrize("form, status, words", [
    ({}, 400, "Choose a person to e-mail a link to"),
    ({"user_id": "abc", "kind": "calendar"}, 400, "Choose a person"),
    ({"user_id": "99999999", "kind": "calendar"}, 400, "Choose a person"),
    ({"kind": "telegram"}, 400, "Choose which link to e-mail"),
    ({"kind": "invitation"}, 409, "has already chosen a password"),
])
async def test_send_link_refuses_bad_input_and_sends_nothing(world, live_server, form, status, words):
    member = world.users["member"]
    form = {"user_id": str(member.id), **form} if "user_id" not in form and form else form
    before = await OutboxMessage.all().count()
    coordinator = await world.client("coordinator")
    page = await coordinator.submit("/people/send-link", form)
    assert page.status_code == status and words in page.text
    assert await OutboxMessage.all().count() == before


async def test_send_link_needs_the_csrf_token(world, live_server):
    coordinator = await world.client("coordinator")
    answer = await coordinator.post("/people/send-link", data={"user_id": str(world.users["member"].id),
                                                               "kind": "password_reset"})
    assert answer.status_code == 403


async def test_enrolling_a_new_person_emails_their_invitation(world, live_server):
    start = (datetime.now(timezone.utc) + timedelta(days=7)).date()
    cohort, _ = await make_cohort(world.template, f"Mail {uuid.uuid4().hex[:6]}", world.users["facilitator"],
                                  start=start, capacity=8)
    email = unique_email("enrolled")
    coordinator = await world.client("coordinator")
    page = await coordinator.submit(f"/cohorts/{cohort.id}/enrollment", {
        "name": "Nia New", "email": email, "status": "enrolled",
        "consent_at": (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "consent_method": "verbal_in_person", "consent_version": "1",
    })
    assert page.status_code == 200 and f"Waiting in the outbox for {email}" in page.text
    link = re.search(r'id="invitation-link" readonly value="([^"]+)"', page.text).group(1)
    [message] = await outbox_for(email)
    assert link in message.body
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        other = unique_email("api-enrolled")
        answer = await api.post(f"/api/v1/cohorts/{cohort.id}/enrollments",
                                json={"name": "Api Enrolled", "email": other, **consent_fields()})
        assert answer.status_code == 201, answer.text
        assert answer.json()["invitation_mail"] == "queued" and "invitation_path" in answer.json()
        [api_message] = await outbox_for(other)
        assert answer.json()["invitation_path"] in api_message.body


async def test_the_csv_import_emails_every_new_members_invitation(world, live_server):
    start = (datetime.now(timezone.utc) + timedelta(days=7)).date()
    cohort, _ = await make_cohort(world.template, f"Csv mail {uuid.uuid4().hex[:6]}", world.users["facilitator"],
                                  start=start, capacity=8)
    tag = uuid.uuid4().hex[:6]
    a, b, c, d = (f"mail{i}-{tag}@example.org" for i in range(4))
    coordinator = await world.client("coordinator")
    text = f"name,email,consent_at,consent_method\nUla Mail,{a},2026-11-01,phone\nVic Mail,{b},2026-11-02,video\n"
    done = await coordinator.submit(f"/cohorts/{cohort.id}/enrollment/import", {"csv_text": text, "over_capacity": "waitlist"})
    assert done.status_code == 200 and "2 of 2 are waiting in the" in done.text and "no mail server is set" in done.text
    for email in (a, b):
        [message] = await outbox_for(email)
        assert re.search(r"/invitations/[A-Za-z0-9_-]{20,}", message.body)
        assert re.search(r"/invitations/[A-Za-z0-9_-]{20,}", message.body).group(0) in done.text
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        body = f"name,email,consent_at,consent_method\nCid Mail,{c},2026-11-01,phone\nDee Mail,{d},2026-11-01,phone\n"
        answer = await api.post(f"/api/v1/cohorts/{cohort.id}/enrollments/import", content=body,
                                headers={"content-type": "text/csv"})
        assert answer.status_code == 200, answer.text
        assert [r["invitation_mail"] for r in answer.json()["rows"]] == ["queued", "queued"]
        assert "/invitations/" not in answer.text  # the answer says whether, never the link
    assert [len(await outbox_for(e)) for e in (c, d)] == [1, 1]
    assert await Enrollment.filter(cohort_id=cohort.id).count() == 4


async def test_an_imports_invitations_are_emailed_after_the_answer_a_few_at_a_time(world, live_server, tmp_path):
    collector = SlowCollector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    server = LiveServer(var_dir=tmp_path, database_url=live_server.database_url, extra_env={
        "GROUPIPT_SMTP_HOST": "127.0.0.1", "GROUPIPT_SMTP_PORT": str(controller.port),
        # the shared server's key, which seals the coordinator's second factor
        "GROUPIPT_SECRET_KEY": live_server.env["GROUPIPT_SECRET_KEY"]}).start()
    try:
        start = (datetime.now(timezone.utc) + timedelta(days=7)).date()
        cohort, _ = await make_cohort(world.template, f"Csv slow {uuid.uuid4().hex[:6]}", world.users["facilitator"],
                                      start=start, capacity=8)
        tag = uuid.uuid4().hex[:6]
        emails = [f"slow{i}-{tag}@example.org" for i in range(6)]
        coordinator = await logged_in(server.url, world.users["coordinator"].email, PASSWORD)
        async with aclosing(coordinator):
            text = "name,email,consent_at,consent_method\n" + "".join(
                f"Sol Slow{i},{email},2026-11-01,phone\n" for i, email in enumerate(emails[:2]))
            began = asyncio.get_running_loop().time()
            done = await coordinator.submit(f"/cohorts/{cohort.id}/enrollment/import",
                                            {"csv_text": text, "over_capacity": "waitlist"})
            page_took = asyncio.get_running_loop().time() - began
        assert done.status_code == 200 and "being e-mailed to them now" in done.text, done.text[-2000:]
        assert done.text.count("being e-mailed</td>") == 2
        async with bearer(server.url, world.tokens["coordinator"]) as api:
            body = "name,email,consent_at,consent_method\n" + "".join(
                f"Sol Slow{i},{email},2026-11-01,phone\n" for i, email in enumerate(emails[2:], start=2))
            began = asyncio.get_running_loop().time()
            answer = await api.post(f"/api/v1/cohorts/{cohort.id}/enrollments/import", content=body,
                                    headers={"content-type": "text/csv"})
            api_took = asyncio.get_running_loop().time() - began
        assert answer.status_code == 200, answer.text
        assert [r["invitation_mail"] for r in answer.json()["rows"]] == ["sending"] * 4
        # Neither waited for one message (3 s), let alone their six in turn (18 s).
        assert page_took < 3 and api_took < 3, (page_took, api_took)

        async def all_sent():
            rows = [row for email in emails for row in await outbox_for(email)]
            return rows if len(rows) == 6 and all(row.sent_at for row in rows) else None

        rows = None
        for _ in range(200):  # four at a time: about 6 s on a quiet machine
            rows = await all_sent()
            if rows:
                break
            await asyncio.sleep(0.1)
        assert rows, [(row.to_email, row.sent_at, row.error) for e in emails for row in await outbox_for(e)]
        assert sorted(r for recipients, _ in collector.messages for r in recipients) == sorted(emails)
        for row in rows:  # sent: the outbox keeps the words, not the credential
            assert link_mail.SENT_LINK in row.body and "/invitations/" not in row.body
        for _, message in collector.messages:
            assert re.search(re.escape(server.url) + r"/invitations/[A-Za-z0-9_-]{20,}", message.get_payload())
        mailed = await AuditEvent.filter(subject="invitation_link_mailed", detail="sent",
                                         member_id__in=[u.id for u in await User.filter(email__in=emails)]).count()
        assert mailed == 6
    finally:
        server.stop()
        controller.stop()


async def test_the_api_invitation_says_whether_it_was_emailed(world, live_server):
    email = unique_email("api-invite")
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        answer = await api.post("/api/v1/users", json={"name": "Api Invitee", "email": email, "role": "facilitator"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["invitation_mail"] == "queued" and body["email"] == email
    [message] = await outbox_for(email)
    assert body["invitation_url"] in message.body


async def test_with_a_mail_server_the_link_is_sent_and_the_page_says_emailed(world, live_server, smtp_server):
    controller, collector = smtp_server
    settings = Settings(database_url="sqlite://:memory:", secret_key="k" * 32, base_url=live_server.url,
                        smtp_host="127.0.0.1", smtp_port=controller.port, mail_from="clinic@example.org",
                        organizer_name="Riverside appointments")
    member = await make_user(Role.MEMBER, "Sam Sent")
    sent = await link_mail.send_link("calendar", member, by=world.users["coordinator"], settings=settings)
    assert sent.mail.state is link_mail.MailState.SENT and sent.mail.words == f"E-mailed to {member.email}."
    for _ in range(50):
        if collector.messages:
            break
        await asyncio.sleep(0.05)
    [(recipients, message)] = collector.messages
    assert recipients == [member.email] and message["Subject"] == "Your private calendar address"
    url = re.search(re.escape(live_server.url) + r"/feeds/[A-Za-z0-9_-]{40,}\.ics", message.get_payload()).group(0)
    stored = await OutboxMessage.get(id=sent.mail.message_id)
    assert stored.sent_at is not None
    assert url not in stored.body and link_mail.SENT_LINK in stored.body  # staff's outbox keeps no credential
    dead = Settings(database_url="sqlite://:memory:", secret_key="k" * 32, base_url=live_server.url,
                    smtp_host="127.0.0.1", smtp_port=1)
    failed = await link_mail.send_link("password_reset", member, by=None, settings=dead)
    assert failed.mail.state is link_mail.MailState.FAILED and "waiting in the outbox" in failed.mail.words


# --- item 8: personal API tokens are staff's ------------------------------------------------------------


async def test_members_see_no_api_tokens_and_cannot_make_one(world, live_server):
    member, client = await member_client(live_server, "Tia Token")
    async with aclosing(client):
        page = await client.get("/account")
        assert page.status_code == 200 and "Personal API tokens" not in page.text
        refused = await client.submit("/account/tokens", {"name": "my script", "proof": PASSWORD})
        assert refused.status_code == 403 and "Personal API tokens are for staff" in refused.text
        assert not await ApiToken.filter(user=member).exists()
        # A token made earlier (the demo makes one for everyone) can still be seen and revoked.
        await ApiToken.create(user=member, name="demo", token_sha256=uuid.uuid4().hex * 2, prefix="gipt_demo")
        page = await client.get("/account")
        assert "Personal API tokens" in page.text and "You can revoke these" in page.text
        assert 'action="/account/tokens"' not in page.text
    facilitator = await world.client("facilitator")
    staff_page = await facilitator.get("/account")
    assert "Personal API tokens" in staff_page.text and 'action="/account/tokens"' in staff_page.text
