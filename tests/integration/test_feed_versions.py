"""A token feed's version: known without building the feed, moved by every change to it.

The test process computes versions itself (server.schedule.feeds on the live server's
database) and checks them against what the server answers: the same tag, a 304 for it, and
a new tag after each kind of change, whether the server made the change or not.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from starlette.requests import Request
from tortoise import connections

from models.cohorts import Cohort, Enrollment, EnrollmentStatus, Meeting
from server.platform.settings import Settings
from server.schedule import feed_stamps, feeds
from server.web.routes import feeds as feed_routes
from tests.integration.schedule_support import active_cohort, future_weekday
from tests.integration.test_feed_http import mint
from tests.support.clients import bearer


@pytest.fixture
async def cohort(world, live_server):
    return await active_cohort(world, live_server, members=2, start=future_weekday(200, 2))


@pytest.fixture
def settings(live_server):
    return Settings.from_env(live_server.env)  # the server's own


def secret_of(url: str) -> str:
    return url.rsplit("/", 1)[1].removesuffix(".ics")


async def version(secret: str, settings: Settings) -> str:
    feeds._cache.clear()  # read from the database, as a fresh process would
    presented = await feeds.token_version(secret, settings=settings, now=datetime.now(timezone.utc))
    assert presented is not None
    return presented.version.etag


def group(cohort: dict, number: int) -> dict:
    return next(m for m in cohort["meetings"] if m["kind"] == "group" and m["number"] == number)


async def test_the_served_etag_is_the_version_and_the_body_is_what_the_builder_makes(cohort, live_server, settings):
    member = cohort["members"][0]
    url = await mint(live_server, member)
    async with httpx.AsyncClient() as http:
        served = await http.get(url)
    assert served.status_code == 200
    assert served.headers["etag"] == await version(secret_of(url), settings)
    token = await feeds.FeedToken.get(token_sha256=feeds.token_hash(secret_of(url))).select_related("user")
    built = await feeds.feed_for_member(token.user, settings=settings, now=datetime.now(timezone.utc),
                                        floor=token.created_at)
    assert served.content == built.body
    assert served.headers["last-modified"] == built.http_last_modified


async def test_every_change_to_a_members_meetings_moves_the_version(world, cohort, live_server, settings):
    member = cohort["members"][0]
    url = await mint(live_server, member)
    secret = secret_of(url)
    api = bearer(live_server.url, world.tokens["coordinator"])
    seen = [await version(secret, settings)]

    async def moved(what: str) -> str:
        now = await version(secret, settings)
        assert now not in seen, what
        seen.append(now)
        return now

    try:
        s2, s3, s4 = group(cohort, 2), group(cohort, 3), group(cohort, 4)
        day = datetime.fromisoformat(s2["starts_at"]).date() + timedelta(days=1)
        response = await api.post(f"/api/v1/meetings/{s2['id']}/reschedule", json={"date": day.isoformat(), "time": "19:00"})
        assert response.status_code == 200, response.text
        await moved("reschedule")
        response = await api.post(f"/api/v1/meetings/{s3['id']}/cancel", json={"confirm": True})
        assert response.status_code == 200, response.text
        await moved("cancel")
        later = datetime.fromisoformat(s4["starts_at"]).date() - timedelta(days=2)
        response = await api.post(f"/api/v1/meetings/{s3['id']}/make-up",
                                  json={"make_up_date": later.isoformat(), "make_up_time": "18:00"})
        assert response.status_code == 200, response.text
        assert response.json()["added"], response.text
        await moved("a new meeting")
        response = await api.post(f"/api/v1/cohorts/{cohort['id']}/shift", json={"cadences": 1})
        assert response.status_code == 200, response.text
        await moved("shift")
    finally:
        await api.aclose()

    enrollment = await Enrollment.get(cohort_id=cohort["id"], member_id=member.id)
    await Enrollment.filter(id=enrollment.id).update(status=EnrollmentStatus.WITHDRAWN)
    await moved("withdrawn")
    await Enrollment.filter(id=enrollment.id).update(status=EnrollmentStatus.ENROLLED)
    assert await version(secret, settings) == seen[-2]  # a version is a function of the rows
    seen.pop()
    for field, value in (("public_title", "Wednesday group"), ("location", "Room 9"),
                         ("video_link", "https://video.example/j/9"), ("time_zone", "Europe/Dublin")):
        await Cohort.filter(id=cohort["id"]).update(**{field: value})
        await moved(field)


async def test_a_change_the_server_did_not_make_is_served_within_the_recheck(cohort, live_server, settings):
    url = await mint(live_server, cohort["members"][0])
    async with httpx.AsyncClient() as http:
        before = await http.get(url)
        assert (await http.get(url, headers={"If-None-Match": before.headers["etag"]})).status_code == 304
        # Another process (here, the test) changes the cohort: no signal reaches this server.
        await Cohort.filter(id=cohort["id"]).update(location="Annexe, Room 2")
        await asyncio.sleep(feeds.RECHECK + 0.2)
        after = await http.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert b"LOCATION:Annexe\\, Room 2" in after.content
    assert after.headers["etag"] == await version(secret_of(url), settings)


async def test_a_facilitators_version_follows_their_cohorts_and_not_others(world, cohort, live_server, settings):
    other = await active_cohort(world, live_server, members=1, start=future_weekday(230, 3))
    secret = secret_of(await mint(live_server, cohort["facilitator"]))
    first = await version(secret, settings)
    api = bearer(live_server.url, world.tokens["coordinator"])
    try:
        s1 = group(other, 1)
        day = datetime.fromisoformat(s1["starts_at"]).date() + timedelta(days=1)
        response = await api.post(f"/api/v1/meetings/{s1['id']}/reschedule", json={"date": day.isoformat(), "time": "19:00"})
        assert response.status_code == 200, response.text
        assert await version(secret, settings) == first  # someone else's cohort
        individual = next(m for m in cohort["meetings"] if m["kind"] != "group")
        day = datetime.fromisoformat(individual["starts_at"]).date() + timedelta(days=1)
        response = await api.post(f"/api/v1/meetings/{individual['id']}/reschedule",
                                  json={"date": day.isoformat(), "time": "10:00"})
        assert response.status_code == 200, response.text
    finally:
        await api.aclose()
    assert await version(secret, settings) != first


def _request(secret: str, settings: Settings, headers: dict[str, str]) -> Request:
    app = type("App", (), {"state": type("State", (), {"settings": settings})()})()
    return Request({
        "type": "http", "method": "GET", "path": f"/feeds/{secret}.ics", "query_string": b"", "app": app,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()], "path_params": {"token": secret},
    })


async def test_a_304_is_answered_without_building_the_feed(cohort, live_server, settings, monkeypatch):
    secret = secret_of(await mint(live_server, cohort["members"][1]))
    feeds._cache.clear()
    first = await feed_routes.token_feed(_request(secret, settings, {}))
    assert first.status_code == 200 and b"BEGIN:VEVENT" in first.body

    async def refuse(*args, **kwargs):
        raise AssertionError("the feed was built")

    monkeypatch.setattr(feeds, "feed_for_member", refuse)
    feeds._cache.clear()  # as after a restart: nothing built in memory
    answer = await feed_routes.token_feed(_request(secret, settings, {"If-None-Match": first.headers["etag"]}))
    assert answer.status_code == 304 and answer.headers["etag"] == first.headers["etag"]
    assert answer.headers["last-modified"] == first.headers["last-modified"]
    # Served again from memory within the recheck: neither built nor looked up.
    monkeypatch.setattr(feeds, "feed_version", refuse)
    again = await feed_routes.token_feed(_request(secret, settings, {"If-None-Match": first.headers["etag"]}))
    assert again.status_code == 304


async def test_the_written_out_version_query_counts_the_meetings_the_builder_puts_in(world, cohort, live_server):
    """feed_stamps runs its own SQL for speed; it must see exactly the builder's meetings."""
    connection = connections.get("default")
    for person, meetings in ((cohort["members"][0], feed_stamps.member_meetings),
                             (cohort["facilitator"], feed_stamps.facilitator_meetings),
                             (world.users["facilitator"], feed_stamps.facilitator_meetings)):
        per_cohort: dict[int, list[int]] = {}
        for cohort_id, meeting_id in await Meeting.filter(meetings(person.id)).values_list("cohort_id", "id"):
            per_cohort.setdefault(cohort_id, []).append(meeting_id)
        sql = feed_stamps._STATEMENTS[connection.capabilities.dialect][person.role]
        _, rows = await connection.execute_query(sql, feed_stamps._parameters(person.role, person.id))
        assert per_cohort, person.display_name
        assert sorted((row[0], row[7], row[8]) for row in map(tuple, rows)) == sorted(
            (c, len(ids), sum(ids)) for c, ids in per_cohort.items())
