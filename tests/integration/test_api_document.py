"""The API's edges over a real server, on SQLite and PostgreSQL: id segments beyond the
database's integer are an address with nothing at it (404, pages and API alike), a 405
lists every method the address takes, and a JSON body is refused for the right reason:
415 not JSON, 400 not as the document says, 422 as it says but against a rule.
"""
from __future__ import annotations

import pytest
import websockets

from server.web.convertors import MAX_ID
from tests.support.clients import bearer

pytestmark = pytest.mark.asyncio(loop_scope="session")

OUT_OF_RANGE = [str(MAX_ID + 1), "9223372036854775808", "9" * 40]


@pytest.mark.parametrize("segment", OUT_OF_RANGE)
async def test_an_id_beyond_the_database_is_a_404_on_a_page(world, segment):
    coordinator = await world.client("coordinator")
    for path in (f"/cohorts/{segment}", f"/enrollments/{segment}", f"/meetings/{segment}/measures"):
        response = await coordinator.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert "There is nothing at this address" in response.text


@pytest.mark.parametrize("segment", OUT_OF_RANGE)
async def test_an_id_beyond_the_database_is_a_404_in_the_api(world, segment):
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        for method, path in (("GET", f"/api/v1/cohorts/{segment}"), ("GET", f"/api/v1/users/{segment}"),
                             ("POST", f"/api/v1/meetings/{segment}/cancel")):
            response = await api.request(method, path, json={"confirm": True})
            assert response.status_code == 404, (path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["status"] == 404


async def test_an_id_beyond_the_database_is_a_404_on_a_board_socket(world):
    ws_url = world.base_url.replace("http://", "ws://", 1)
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(f"{ws_url}/boards/{MAX_ID + 1}/ws",
                                 additional_headers={"Authorization": f"Bearer {world.tokens['facilitator']}"})
    assert refused.value.response.status_code == 404


async def test_the_largest_id_is_looked_up_and_simply_not_found(world):
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        response = await api.get(f"/api/v1/cohorts/{MAX_ID}")
    assert response.status_code == 404 and response.json()["detail"] == "There is no such cohort."


async def test_ids_with_a_sign_or_leading_zeros_match_no_route(world):
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        for segment in ("0", "-1", "+1", f"0{world.cohort.id}"):
            assert (await api.get(f"/api/v1/cohorts/{segment}")).status_code == 404, segment
        assert (await api.get(f"/api/v1/cohorts/{world.cohort.id}")).status_code == 200


async def test_a_405_lists_every_method_of_the_address(world):
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        # /api/v1/cohorts is served by two routes (list in api.py, create in schedule.py).
        cohorts = await api.delete("/api/v1/cohorts")
        measures = await api.put(f"/api/v1/enrollments/{world.enrollment.id}/measures", json={})
    assert cohorts.status_code == 405 and cohorts.json()["status"] == 405
    assert cohorts.headers["allow"] == "GET, HEAD, POST"
    assert measures.status_code == 405 and measures.headers["allow"] == "GET, HEAD, POST"


async def test_a_405_page_lists_the_methods_too(world):
    coordinator = await world.client("coordinator")
    response = await coordinator.send_json("DELETE", f"/cohorts/{world.cohort.id}")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"


def _preview(world, **change) -> dict:
    body = {"name": "Spring group", "template": world.template.id, "time_zone": "Europe/London",
            "start_date": "2031-03-04", "start_time": "18:00", "capacity": 9}
    return {**body, **change}


async def test_a_body_that_is_not_json_is_a_415(world):
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        response = await api.post("/api/v1/schedule/preview", content=b"name=x",
                                  headers={"content-type": "application/x-www-form-urlencoded"})
        multipart = await api.post("/api/v1/schedule/preview", files={"f": ("a.csv", b"x")})
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"
    assert multipart.status_code == 415 and multipart.headers["content-type"] == "application/problem+json"


async def test_a_body_unlike_the_document_is_a_400_naming_each_field(world):
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        broken = await api.post("/api/v1/schedule/preview", content=b"{not json",
                                headers={"content-type": "application/json"})
        wrong = await api.post("/api/v1/schedule/preview",
                               json=_preview(world, capacity="nine", start_time="6pm", colour="blue") | {"name": None})
        not_object = await api.post("/api/v1/schedule/preview", json=[1, 2])
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["detail"]
    problem = wrong.json()
    assert wrong.status_code == 400 and problem["code"] == "bad_request"
    assert set(problem["fields"]) == {"capacity", "start_time", "colour", "name"}
    assert problem["fields"]["colour"] == "Not a field of this request."
    assert not_object.status_code == 400 and not_object.json()["detail"] == "The body must be a JSON object."


async def test_a_body_as_documented_but_against_a_rule_is_a_422(world):
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        zone = await api.post("/api/v1/schedule/preview", json=_preview(world, time_zone="Mars/Olympus_Mons"))
        far = await api.post("/api/v1/schedule/preview", json=_preview(world, start_date="9999-12-30"))
        planned = await api.post("/api/v1/schedule/preview", json=_preview(world, start_date="2031-03-04"))
    assert zone.status_code == 422 and "time_zone" in zone.json()["fields"]
    assert far.status_code == 422 and "start_date" in far.json()["fields"]
    assert planned.status_code == 200, planned.text


async def test_a_nul_character_in_text_is_refused_on_every_database(world):
    # PostgreSQL cannot store U+0000 in text; the answer must be a 4xx, never a 500.
    async with bearer(world.base_url, world.tokens["coordinator"]) as api:
        invite = await api.post("/api/v1/users", json={"email": "nul@example.org", "name": "A\u0000B", "role": "member"})
        csv = await api.post(f"/api/v1/cohorts/{world.cohort.id}/enrollments/import?dry_run=1",
                             content="name,email\nA\u0000B,nul@example.org\n".encode())
    assert invite.status_code == 422 and "name" in invite.json()["fields"], invite.text
    assert csv.status_code == 422 and "NUL" in csv.json()["detail"], csv.text
    coordinator = await world.client("coordinator")
    page = await coordinator.submit("/cohorts/new", {"name": "A\u0000B", "action": "preview"})
    assert page.status_code == 400 and "NUL character" in page.text
