"""Lists a person can work with (issue 15): every list page and API list is keyset-paged,
with search and filters, and the same number of statements on every page.

One module seeds its rows through the ORM (a few dozen people and cohorts whose names all
carry a marker), walks each list a few rows a page through the live server, and removes its
rows afterwards, so the shared world's other tests see the clinic they always saw.
"""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import pytest_asyncio
from starlette.requests import Request

from models.accounts import FeedToken, Role, User
from models.cohorts import Cohort, CohortStatus
from server import dashboard
from server.web import paging
from server.web.routes.accounts import PEOPLE_ORDER, _supervision_words
from server.web.routes.feeds import _overview_page
from server.web.routes.home import COHORT_ORDER
from tests.integration.test_portal_statements import statements
from tests.support.clients import bearer

pytestmark = pytest.mark.asyncio(loop_scope="session")

PEOPLE, COHORTS, LIMIT = 23, 26, 5
STATUSES = [CohortStatus.ACTIVE, CohortStatus.ENROLLING, CohortStatus.DRAFT, CohortStatus.COMPLETED, CohortStatus.CANCELLED]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def seeded(world):
    marker = "Pgw" + uuid.uuid4().hex[:6]
    # Mixed case, so search is shown to ignore case on both databases.
    people = [User(email=f"{marker.lower()}-{n}@lists.example", role=Role.FACILITATOR if n % 4 == 0 else Role.MEMBER,
                   display_name=f"{marker.upper() if n % 2 else marker} Person {n % 7}", password_hash="x")
              for n in range(PEOPLE)]
    await User.bulk_create(people)
    people = await User.filter(email__startswith=marker.lower())
    leads = [p for p in people if p.role == Role.FACILITATOR]
    start = date.today() + timedelta(days=30)
    await Cohort.bulk_create([
        Cohort(template=world.template, name=f"{marker} cohort {n}", status=STATUSES[n % len(STATUSES)],
               time_zone="Europe/London", weekday=start.weekday(), local_start_time="18:00", n_group_sessions=8,
               phases=[], start_date=start) for n in range(COHORTS)])
    cohorts = await Cohort.filter(name__startswith=marker).order_by("id")
    for n, cohort in enumerate(cohorts):
        await cohort.facilitators.add(leads[n % len(leads)])
    yield SimpleNamespace(marker=marker, people=people, leads=leads, cohorts=cohorts)
    await FeedToken.filter(user_id__in=[p.id for p in people]).delete()
    for cohort in cohorts:
        await cohort.facilitators.clear()
    await Cohort.filter(id__in=[c.id for c in cohorts]).delete()
    await User.filter(id__in=[p.id for p in people]).delete()


async def walk_pages(client, path: str, attribute: str) -> tuple[list[int], list[str]]:
    """Every id on every page, following the rel=next links; and the pages' paths."""
    seen, paths = [], []
    while path:
        page = await client.get(path)
        assert page.status_code == 200, page.text[:300]
        paths.append(path)
        seen += [int(i) for i in re.findall(rf'<tr {attribute}="(\d+)"', page.text)]
        found = re.search(r'rel="next" href="([^"]+)"', page.text)
        path = found.group(1).replace("&amp;", "&") if found else None
        assert len(paths) < 50
    return seen, paths


async def walk_api(api, path: str, key: str) -> list[dict]:
    rows = []
    while path:
        answer = await api.get(path)
        assert answer.status_code == 200, answer.text[:300]
        body = answer.json()
        rows += body[key]
        assert len(body[key]) <= LIMIT
        path = body["next"]
        assert (answer.headers.get("link") == f'<{path}>; rel="next"') if path else "link" not in answer.headers
        assert len(rows) < 200
    return rows


async def test_every_list_walks_every_row_once_in_order_with_search_and_filters(world, seeded):
    coordinator = await world.client("coordinator")
    marker, people = seeded.marker, seeded.people
    by_name = await User.filter(id__in=[p.id for p in people]).order_by("display_name", "id").values_list("id", flat=True)
    by_role = await User.filter(id__in=[p.id for p in people]).order_by("role", "display_name", "id").values_list(
        "id", flat=True)

    # People: by role then name, searched in any case; filtered by role; back with "Previous page".
    seen, paths = await walk_pages(coordinator, f"/people?q={marker.lower()}&limit={LIMIT}", "data-person")
    assert seen == list(by_role) and len(paths) == -(-PEOPLE // LIMIT)
    second = await coordinator.get(paths[1])
    back = re.search(r'rel="prev" href="([^"]+)"', second.text).group(1).replace("&amp;", "&")
    first_again = await coordinator.get(back)
    assert re.findall(r'<tr data-person="(\d+)"', first_again.text) == [str(i) for i in by_role[:LIMIT]]
    assert 'rel="prev"' not in first_again.text and f'value="{marker.lower()}"' in first_again.text
    facilitators, _ = await walk_pages(coordinator, f"/people?q={marker.upper()}&role=facilitator&limit={LIMIT}",
                                       "data-person")
    assert sorted(facilitators) == sorted(p.id for p in seeded.leads)

    # Calendar links: by name, searched by person.
    seen, _ = await walk_pages(coordinator, f"/calendar-feeds?person={marker.upper()}&limit={LIMIT}", "data-person")
    assert seen == list(by_name)

    # The start page: current cohorts newest first; any status on asking; by facilitator and protocol.
    ours = seeded.cohorts
    current = [c.id for c in reversed(ours) if c.status in dashboard.CURRENT_STATUSES]
    seen, _ = await walk_pages(coordinator, f"/?name={marker.lower()}&limit={LIMIT}", "data-cohort")
    assert seen == current
    seen, _ = await walk_pages(coordinator, f"/?name={marker}&status=all&limit={LIMIT}", "data-cohort")
    assert seen == [c.id for c in reversed(ours)]
    completed, _ = await walk_pages(coordinator, f"/?name={marker}&status=completed", "data-cohort")
    assert completed == [c.id for c in reversed(ours) if c.status == CohortStatus.COMPLETED]
    lead = seeded.leads[0]
    led, _ = await walk_pages(coordinator, f"/?status=all&facilitator={lead.display_name.lower()}&name={marker}",
                              "data-cohort")
    assert led == [c.id for n, c in reversed(list(enumerate(ours))) if seeded.leads[n % len(seeded.leads)] == lead]
    none, _ = await walk_pages(coordinator, f"/?name={marker}&protocol=999999", "data-cohort")
    assert none == []
    page = await coordinator.get(f"/?name={marker}&status=all&protocol={world.template.id}&limit={LIMIT}")
    assert f'<option value="{world.template.id}" selected' in page.text and 'id="cohort-filter"' in page.text
    assert 'id="next-meetings"' in page.text  # the clinic's next group sessions, above the filters

    # The API: by id, `next` links (and Link headers) to the end.
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        users = await walk_api(api, f"/api/v1/users?q={marker.upper()}&limit={LIMIT}", "users")
        assert [u["id"] for u in users] == sorted(p.id for p in people)
        cohorts = await walk_api(api, f"/api/v1/cohorts?q={marker.lower()}&limit={LIMIT}", "cohorts")
        assert [c["id"] for c in cohorts] == [c.id for c in ours]
        assert all(c["facilitator_ids"] for c in cohorts)
        enrolling = await walk_api(api, f"/api/v1/cohorts?q={marker}&status=enrolling&limit={LIMIT}", "cohorts")
        assert [c["id"] for c in enrolling] == [c.id for c in ours if c.status == CohortStatus.ENROLLING]
        feeds = await walk_api(api, f"/api/v1/calendar-feeds?person={marker}&limit={LIMIT}", "people")
        assert [p["user_id"] for p in feeds] == list(by_name)
        small = (await api.get("/api/v1/users?limit=1")).json()
        assert len(small["users"]) == 1 and small["next"].startswith(world.base_url)


async def test_bad_limits_and_cursors_are_refused_never_a_server_error(world, seeded):
    coordinator = await world.client("coordinator")
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        foreign = (await api.get("/api/v1/users?limit=1")).json()["next"].split("cursor=")[1]
        for path in ("/api/v1/users", "/api/v1/cohorts", "/api/v1/calendar-feeds"):
            for query, status in (("limit=0", 400), ("limit=201", 400), ("limit=ten", 400), ("cursor=%3Cx%3E", 400),
                                  ("cursor=abc.def", 422), ("q=" + "x" * 121, 400)):
                if query.startswith("q=") and path.endswith("feeds"):
                    query = "person=" + "x" * 121
                answer = await api.get(f"{path}?{query}")
                assert answer.status_code == status, (path, query, answer.text)
                assert answer.headers["content-type"].startswith("application/problem+json")
            if path != "/api/v1/users":  # a cursor of one list means nothing on another
                assert (await api.get(f"{path}?cursor={foreign}")).status_code == 422
        assert (await api.get("/api/v1/cohorts?status=finished")).status_code == 400
    for path in ("/", "/people", "/calendar-feeds"):
        for query in ("limit=0", "limit=999", "cursor=%3Cx%3E", "cursor=abc.def", f"cursor={foreign}"):
            answer = await coordinator.get(f"{path}?{query}")
            assert answer.status_code in (400, 422) and "text/html" in answer.headers["content-type"], (path, query)
    for query in ("status=finished", "protocol=abc", "protocol=0", "protocol=%C2%B2"):
        assert (await coordinator.get(f"/?{query}")).status_code == 400
    assert (await coordinator.get("/people?role=boss")).status_code == 400


def _request(path: str, query: str) -> Request:
    settings = SimpleNamespace(secret_key="statement count", base_url="http://testserver")
    return Request({"type": "http", "method": "GET", "path": path, "query_string": query.encode(), "headers": [],
                    "app": SimpleNamespace(state=SimpleNamespace(settings=settings))})


async def _statements_per_page(path: str, query: str, load) -> list[int]:
    counts, cursor = [], ""
    for _ in range(3):
        request = _request(path, query + (f"&cursor={cursor}" if cursor else ""))
        with statements() as sql:
            page = await load(request)
        counts.append(len(sql))
        cursor = page.next_cursor
        assert cursor
    return counts


async def test_statements_per_page_do_not_grow_with_the_page(world, seeded):
    coordinator = world.users["coordinator"]
    marker = seeded.marker

    async def home(request):
        wanted = paging.page_request(request, COHORT_ORDER)
        filters = dashboard.CohortFilters(status="all", name=marker)
        page = await paging.fetch(request, dashboard.cohorts_for(coordinator, filters).prefetch_related(
            "template", "facilitators"), COHORT_ORDER, wanted)
        await dashboard.cohort_overview(coordinator, page.rows)
        return page

    async def people(request):
        page = await paging.fetch(request, User.filter(display_name__icontains=marker), PEOPLE_ORDER,
                                  paging.page_request(request, PEOPLE_ORDER))
        await _supervision_words([p.id for p in page.rows])
        return page

    async def feeds(request):
        return (await _overview_page(request))[1]

    for path, query, load in (("/", f"limit={LIMIT}", home), ("/people", f"limit={LIMIT}", people),
                              ("/calendar-feeds", f"person={marker}&limit={LIMIT}", feeds)):
        counts = await _statements_per_page(path, query, load)
        assert len(set(counts)) == 1, (path, counts)
