"""Choosing the member to enroll is a search, never a list of every member (issue 15), and
an existing member together with a typed new person is refused, not half-obeyed (issue 20,
item 4). SQLite, and PostgreSQL when GROUPIPT_TEST_POSTGRES_URL is set.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from models.accounts import Role, User
from models.cohorts import Enrollment, EnrollmentStatus
from tests.support.clients import bearer
from tests.support.world import consent_fields, make_cohort, unique_email

pytestmark = pytest.mark.asyncio(loop_scope="session")

RADIO = re.compile(r'name="member_id" value="(\d+)"')


async def open_cohort(world):
    start = (datetime.now(timezone.utc) + timedelta(days=7)).date()
    cohort, _ = await make_cohort(world.template, f"Search {uuid.uuid4().hex[:6]}", world.users["facilitator"],
                                  start=start, capacity=8)
    return cohort


async def member(name: str, email: str | None = None, **extra) -> User:
    return await User.create(email=email or unique_email("find"), display_name=name, role=Role.MEMBER, **extra)


def choices(page) -> list[int]:
    """The members the page offers to choose from (its radio buttons)."""
    return [int(found) for found in RADIO.findall(page.text)]


def page_consent() -> dict[str, str]:
    return {"consent_at": (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "consent_method": "verbal_in_person", "consent_version": "1"}


async def test_search_finds_by_name_or_email_and_only_who_may_join(world):
    cohort = await open_cohort(world)
    tag = uuid.uuid4().hex[:8]
    ana = await member(f"Ana Findme{tag}")
    bo = await member("Bo Byemail", email=f"bo.{tag}@example.org")
    restricted = await member(f"Rita Findme{tag}")
    await User.filter(id=restricted.id).update(restricted_at=datetime.now(timezone.utc))  # as restriction.py does
    inactive = await member(f"Ina Findme{tag}", is_active=False)
    staff = await User.create(email=unique_email("fac"), display_name=f"Fay Findme{tag}", role=Role.FACILITATOR)
    enrolled = await member(f"Eno Findme{tag}")
    waiting = await member(f"Wai Findme{tag}")
    await Enrollment.create(cohort=cohort, member=enrolled, status=EnrollmentStatus.ENROLLED)
    await Enrollment.create(cohort=cohort, member=waiting, status=EnrollmentStatus.WAITLISTED)
    client = await world.client("coordinator")
    url = f"/cohorts/{cohort.id}/enrollment"

    by_name = await client.get(url, params={"member_q": f"findme{tag.upper()}"})  # any case
    assert by_name.status_code == 200
    assert choices(by_name) == [ana.id]
    for hidden in (restricted, inactive, staff):
        assert hidden.display_name not in by_name.text
    by_email = await client.get(url, params={"member_q": f"  BO.{tag.upper()}@EXAMPLE "})
    assert choices(by_email) == [bo.id] and "Bo Byemail (bo." in by_email.text
    for nothing in ("%", "_", "x" * 300, f"zz\x00{tag}"):  # LIKE wildcards are literal; NUL never reaches PostgreSQL
        page = await client.get(url, params={"member_q": nothing})
        assert page.status_code == 200 and choices(page) == [], nothing

    # The form's Search button keeps what was typed and changes nothing.
    email = unique_email("kept")
    searched = await client.submit(url, {"action": "search", "member_q": f"Findme{tag}", "name": "Kim Kept",
                                         "email": email, "late_join_reason": "agreed with the GP", **page_consent()})
    assert searched.status_code == 200 and choices(searched) == [ana.id]
    assert 'value="Kim Kept"' in searched.text and f'value="{email}"' in searched.text
    assert 'value="agreed with the GP"' in searched.text and 'value="verbal_in_person" selected' in searched.text
    assert not await User.filter(email=email).exists()

    done = await client.submit(url, {"member_q": f"Findme{tag}", "member_id": str(ana.id), **page_consent()})
    assert done.status_code == 200 and "Ana Findme" in done.text and "is now enrolled" in done.text
    assert (await Enrollment.get(cohort_id=cohort.id, member_id=ana.id)).status == EnrollmentStatus.ENROLLED
    assert ana.id not in choices(done)  # now in the cohort, so no longer offered

    # The suggestions: coordinators only; who they are and nothing else.
    suggest = f"{url}/member-suggestions"
    answer = await client.get(suggest, params={"q": tag})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    assert answer.json() == {"members": [{"id": bo.id, "name": "Bo Byemail", "email": f"bo.{tag}@example.org"}],
                             "more": False}
    assert (await client.get(suggest)).json() == {"members": [], "more": False}
    assert (await client.get(suggest, params={"q": "\x00"})).json()["members"] == []
    for role in ("facilitator", "member"):
        refused = await (await world.client(role)).get(suggest, params={"q": tag})
        assert refused.status_code == 403 and "Bo Byemail" not in refused.text


async def test_page_size_does_not_grow_with_the_clinic(world):
    cohort = await open_cohort(world)
    client = await world.client("coordinator")
    url = f"/cohorts/{cohort.id}/enrollment"
    before = len((await client.get(url)).content)
    tag = uuid.uuid4().hex[:8]
    await User.bulk_create([User(email=f"crowd{n:03d}-{tag}@example.org", display_name=f"Crowd{tag} {n:03d}",
                                 role=Role.MEMBER) for n in range(300)])
    page = await client.get(url)
    assert abs(len(page.content) - before) < 64, (before, len(page.content))
    assert len(page.content) < 40_000
    assert f"Crowd{tag}" not in page.text and choices(page) == []

    searched = await client.get(url, params={"member_q": f"crowd{tag}"})
    assert len(choices(searched)) == 20 and 'id="more-matches"' in searched.text
    assert len(searched.content) < 40_000 + 20 * 400
    suggested = (await client.get(f"{url}/member-suggestions", params={"q": f"Crowd{tag} 00"})).json()
    assert [m["name"] for m in suggested["members"]] == [f"Crowd{tag} 00{n}" for n in range(10)]
    assert suggested["more"] is False
    assert (await client.get(f"{url}/member-suggestions", params={"q": tag})).json()["more"] is True


async def test_a_member_and_a_typed_person_at_once_are_refused_everywhere(world):
    cohort = await open_cohort(world)
    existing = await member(f"Eve Either{uuid.uuid4().hex[:6]}")
    typed = unique_email("typed")
    client = await world.client("coordinator")
    page = await client.submit(f"/cohorts/{cohort.id}/enrollment", {
        "member_id": str(existing.id), "name": "  ", "email": typed, **page_consent()})
    assert page.status_code == 400 and "not both" in page.text
    # The refused form keeps the chosen member chosen, and the typed address typed.
    assert f'value="{existing.id}" id="member-{existing.id}" checked' in page.text and f'value="{typed}"' in page.text

    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        url = f"/api/v1/cohorts/{cohort.id}/enrollments"
        both = await api.post(url, json={"member_id": existing.id, "name": "Tia Typed", "email": typed, **consent_fields()})
        email_only = await api.post(url, json={"member_id": existing.id, "email": typed, **consent_fields()})
        document = (await api.get("/api/v1/openapi.json")).json()
    for refused in (both, email_only):
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["code"] == "ambiguous_person" and "not both" in problem["detail"]
        assert set(problem["fields"]) == {"member_id", "name", "email"}
    assert await Enrollment.filter(cohort_id=cohort.id).count() == 0
    assert not await User.filter(email=typed).exists()
    operation = document["paths"]["/api/v1/cohorts/{cohort_id}/enrollments"]["post"]
    assert "ambiguous_person" in operation["responses"]["422"]["description"]
    assert "not both" in operation["description"]
