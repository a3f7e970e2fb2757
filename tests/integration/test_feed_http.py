"""Private calendar feeds over a real server: tokens, HTTP caching rules, privacy, parsers."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from models.accounts import FeedToken
from models.cohorts import Meeting
from server.schedule.feeds import token_hash
from tests.integration.schedule_support import active_cohort, future_weekday
from tests.support.clients import bearer, logged_in
from tests.support.world import PASSWORD
from tests.unit.test_feed_parsers import assert_parsers_agree

URL = re.compile(r'id="feed_url" class="copy" readonly value="([^"]+)"')


async def mint(live_server, person) -> str:
    client = await logged_in(live_server.url, person.email, PASSWORD)
    try:
        page = await client.submit("/account/calendar", {})
        assert page.status_code == 200, page.text[:300]
        return URL.search(page.text).group(1)
    finally:
        await client.aclose()


@pytest.fixture
async def cohort(world, live_server):
    # Sessions across the UK clock change on the last Sunday of March.
    return await active_cohort(world, live_server, members=2, start=future_weekday(100, 1))


async def test_member_feed_follows_the_http_rules(cohort, live_server):
    member = cohort["members"][0]
    url = await mint(live_server, member)
    assert url.startswith(live_server.url + "/feeds/") and url.endswith(".ics")
    async with httpx.AsyncClient() as http:
        first = await http.get(url)
        assert first.status_code == 200
        assert first.headers["content-type"] == "text/calendar; charset=utf-8"
        assert first.headers["cache-control"].startswith("private")
        assert first.headers["referrer-policy"] == "no-referrer"
        assert "content-disposition" not in first.headers
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert re.fullmatch(r'"[0-9a-f]{40}"', etag)
        second = await http.get(url)
        assert second.content == first.content and second.headers["etag"] == etag
        not_modified = await http.get(url, headers={"If-None-Match": etag})
        assert not_modified.status_code == 304 and not_modified.content == b"" and not_modified.headers["etag"] == etag
        since = await http.get(url, headers={"If-Modified-Since": modified})
        assert since.status_code == 304
        older = format_datetime(datetime(2000, 1, 1, tzinfo=timezone.utc), usegmt=True)
        assert (await http.get(url, headers={"If-Modified-Since": older})).status_code == 200
        assert (await http.get(url, headers={"If-None-Match": '"other"', "If-Modified-Since": modified})).status_code == 200
        head = await http.head(url)
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag
    assert_parsers_agree(first.content)


async def test_member_feed_holds_own_meetings_only_and_nothing_clinical(cohort, live_server):
    me, other = cohort["members"]
    async with httpx.AsyncClient() as http:
        body = (await http.get(await mint(live_server, me))).text
    mine = {m["uid"] for m in cohort["meetings"] if m["kind"] == "group" or m["enrollment_id"] == _enrollment_of(cohort, me)}
    theirs = {m["uid"] for m in cohort["meetings"] if m["enrollment_id"] and m["uid"] not in mine}
    assert theirs and all(uid in body for uid in mine) and not any(uid in body for uid in theirs)
    for leak in (other.display_name, other.email, me.email, "IPT", "WHO", "depress", "therap", "Integration"):
        assert not re.search(rf"\b{re.escape(leak)}", body, re.I), leak
    assert "SUMMARY:Group session 1 of 8" in body and "CLASS:PRIVATE" in body
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in body and "X-PUBLISHED-TTL:PT1H" in body
    assert body.count("BEGIN:VTIMEZONE") == 1 and "TZID:Europe/London" in body


def _enrollment_of(cohort, person):
    return next(m["enrollment_id"] for m in cohort["meetings"] if m["enrollment_id"] and _member_of(m, cohort) == person.id)


def _member_of(meeting, cohort):
    index = sorted({m["enrollment_id"] for m in cohort["meetings"] if m["enrollment_id"]}).index(meeting["enrollment_id"])
    return cohort["members"][index].id


async def test_a_change_shows_at_once_with_a_new_etag_and_sequence(world, cohort, live_server):
    url = await mint(live_server, cohort["members"][0])
    api = bearer(live_server.url, world.tokens["coordinator"])
    async with httpx.AsyncClient() as http:
        before = await http.get(url)
        s2 = next(m for m in cohort["meetings"] if m["kind"] == "group" and m["number"] == 2)
        day = datetime.fromisoformat(s2["starts_at"]).date() + timedelta(days=1)
        moved = await api.post(f"/api/v1/meetings/{s2['id']}/reschedule", json={"date": day.isoformat(), "time": "19:00"})
        assert moved.status_code == 200, moved.text
        after = await http.get(url, headers={"If-None-Match": before.headers["etag"]})
    await api.aclose()
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    rows = {row[0]: row for row in assert_parsers_agree(after.content)}
    assert rows[s2["uid"]][3] == 1  # SEQUENCE
    assert rows[s2["uid"]][1].startswith(day.isoformat())
    # One-second resolution: the revision may fall in the same second; never earlier.
    from email.utils import parsedate_to_datetime

    assert parsedate_to_datetime(after.headers["last-modified"]) >= parsedate_to_datetime(before.headers["last-modified"])


async def test_rotate_and_revoke_make_old_links_404_without_a_hint(world, cohort, live_server):
    member = cohort["members"][1]
    old = await mint(live_server, member)
    new = await mint(live_server, member)
    async with httpx.AsyncClient() as http:
        gone, fresh = await http.get(old), await http.get(new)
        unknown = await http.get(live_server.url + "/feeds/" + "A" * 43 + ".ics")
        junk = await http.get(live_server.url + "/feeds/%3Cscript%3E.ics")
        assert fresh.status_code == 200
        assert gone.status_code == unknown.status_code == junk.status_code == 404
        assert gone.content == unknown.content == junk.content
        assert "ical" not in gone.headers.get("content-type", "")
        coordinator = await world.client("coordinator")
        overview = await coordinator.get("/calendar-feeds", params={"person": member.email})
        assert member.display_name in overview.text
        revoke = await coordinator.submit(f"/calendar-feeds/{member.id}/revoke", {}, follow_redirects=False)
        assert revoke.status_code == 303
        assert (await http.get(new)).status_code == 404
    assert await FeedToken.filter(user_id=member.id, revoked_at=None).count() == 0


async def test_tokens_are_stored_only_as_hashes_and_last_fetch_is_recorded(cohort, live_server):
    member = cohort["members"][0]
    url = await mint(live_server, member)
    secret = url.rsplit("/", 1)[1][: -len(".ics")]
    token = await FeedToken.get(user_id=member.id, revoked_at=None)
    assert token.token_sha256 == token_hash(secret) and secret not in token.token_sha256
    # Never in plain text: sealed under the secret key, for the owner's page (issue 20, item 1).
    assert token.token_sealed and secret not in token.token_sealed
    async with httpx.AsyncClient() as http:
        await http.get(url)
    assert (await FeedToken.get(id=token.id)).last_used_at is not None
    account = await logged_in(live_server.url, member.email, PASSWORD)
    page = await account.get("/account/calendar")
    await account.aclose()
    assert url in page.text and "last fetched by a calendar app" in page.text


async def test_feed_tokens_are_masked_in_the_access_log(cohort, live_server):
    url = await mint(live_server, cohort["members"][0])
    secret = url.rsplit("/", 1)[1][: -len(".ics")]
    async with httpx.AsyncClient() as http:
        await http.get(url)
    log = live_server.log()
    assert secret not in log
    assert "/feeds/***.ics" in log


async def test_subscribe_links_for_each_client(cohort, live_server):
    client = await logged_in(live_server.url, cohort["members"][0].email, PASSWORD)
    page = (await client.submit("/account/calendar", {})).text
    await client.aclose()
    url = URL.search(page).group(1)
    webcal = "webcal://" + url.split("://", 1)[1]
    assert f'href="{webcal}"' in page
    assert "https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2F" in page
    assert "https://outlook.live.com/calendar/0/addfromweb?url=http" in page


async def test_facilitator_feed_and_api(world, cohort, live_server):
    lead = cohort["facilitator"]
    api = bearer(live_server.url, world.tokens["coordinator"])
    await api.aclose()
    url = await mint(live_server, lead)
    async with httpx.AsyncClient() as http:
        body = (await http.get(url)).content
    uids = {row[0] for row in assert_parsers_agree(body)}
    assert {m["uid"] for m in cohort["meetings"]} <= uids  # all groups plus every individual meeting they lead


async def test_my_feed_api_and_coordinators_use_cohort_feeds(world, cohort, live_server):
    member_api = bearer(live_server.url, world.tokens["member"])
    made = await member_api.post("/api/v1/me/calendar-feed")
    assert made.status_code == 201 and made.json()["links"]["webcal"].startswith("webcal://")
    status = (await member_api.get("/api/v1/me/calendar-feed")).json()
    assert status["active"] is True and "url" not in status
    assert (await member_api.delete("/api/v1/me/calendar-feed")).json()["revoked"] == 1
    await member_api.aclose()
    coordinator_api = bearer(live_server.url, world.tokens["coordinator"])
    assert (await coordinator_api.post("/api/v1/me/calendar-feed")).status_code == 409
    people = (await coordinator_api.get("/api/v1/calendar-feeds", params={"person": world.users["member"].email})).json()["people"]
    assert any(p["user_id"] == world.users["member"].id for p in people)
    await coordinator_api.aclose()
    coordinator = await world.client("coordinator")
    cohort_feed = await coordinator.get(f"/cohorts/{cohort['id']}/calendar.ics")
    assert cohort_feed.status_code == 200 and cohort_feed.headers["content-type"].startswith("text/calendar")
    assert_parsers_agree(cohort_feed.content)


async def test_one_meeting_download(world, cohort, live_server):
    member = cohort["members"][0]
    s1 = next(m for m in cohort["meetings"] if m["kind"] == "group" and m["number"] == 1)
    client = await logged_in(live_server.url, member.email, PASSWORD)
    response = await client.get(f"/meetings/{s1['id']}.ics")
    other = next(m for m in cohort["meetings"] if m["enrollment_id"] and m["enrollment_id"] != _enrollment_of(cohort, member))
    hidden = await client.get(f"/meetings/{other['id']}.ics")
    await client.aclose()
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="meeting-{s1["id"]}.ics"'
    assert "METHOD:PUBLISH" in response.text and response.text.count("BEGIN:VEVENT") == 1
    assert hidden.status_code == 404
    assert (await Meeting.get(id=s1["id"])).uid in response.text
