"""Helpers for the schedule and feed integration tests: cohorts made through the real API."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import httpx

from models.accounts import Role
from models.cohorts import ProtocolTemplate
from tests.support.clients import bearer
from tests.support.world import enroll, make_user


def future_weekday(days_ahead: int, weekday: int) -> date:
    day = datetime.now(timezone.utc).date() + timedelta(days=days_ahead)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


async def template_id(slug: str, api: httpx.AsyncClient) -> int:
    response = await api.get("/api/v1/templates")  # creates the shipped rows on first use
    assert response.status_code == 200, response.text
    return (await ProtocolTemplate.get(slug=slug)).id


async def active_cohort(
    world, live_server, *, slug: str = "who-group-ipt", members: int = 2, start: date | None = None,
    time_zone: str = "Europe/London", start_time: str = "18:00", facilitator: str | None = None,
    override_reason: str = "A small test group, below the protocol's size", **extra,
) -> dict:
    """A cohort created, filled and activated the way a coordinator does it, over HTTP.

    Each gets a facilitator of its own unless one of the world's is named, so cohorts
    made by different tests never overlap in anyone's diary. Test cohorts are smaller than
    their protocols allow, so activation gives `override_reason` (used only when needed)."""
    api = bearer(live_server.url, world.tokens["coordinator"])
    try:
        start = start or future_weekday(40, 1)
        lead = world.users[facilitator] if facilitator else await make_user(Role.FACILITATOR, "Fay Schedulefacilitator")
        body = {
            "name": f"Integration {slug} {start}", "template": await template_id(slug, api), "time_zone": time_zone,
            "start_date": start.isoformat(), "start_time": start_time, "capacity": 8 if slug != "wilfley-ipt-g" else 9,
            "facilitators": [lead.id], **extra,
        }
        created = await api.post("/api/v1/cohorts", json=body)
        assert created.status_code == 201, created.text
        cohort_id = created.json()["id"]
        from models.cohorts import Cohort

        cohort = await Cohort.get(id=cohort_id)
        people = []
        for i in range(members):
            person = await make_user(Role.MEMBER, f"Member{i} Schedule")
            await enroll(cohort, person)
            people.append(person)
        activated = await api.post(f"/api/v1/cohorts/{cohort_id}/activate", json={"override_reason": override_reason})
        assert activated.status_code == 200, activated.text
        return {"id": cohort_id, "members": people, "meetings": activated.json()["meetings"], "body": body,
                "facilitator": lead}
    finally:
        await api.aclose()
