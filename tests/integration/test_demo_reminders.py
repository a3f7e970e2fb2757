"""`groupipt demo --json` lists the reminders of the active cohort's next session (issue 16)."""
from __future__ import annotations

import httpx

from calendars.discretion import clinical_words
from tests.integration.test_board_support import BoardClient
from tests.integration.test_demo import demo  # noqa: F401  (the module's demo, loaded once)


def test_each_member_of_the_active_cohort_has_a_neutral_reminder(demo):  # noqa: F811
    _, data = demo
    halfway = data["cohorts"][0]
    found = data["reminders"]
    assert len(found) == halfway["enrolled"]
    names = {u["email"]: u["name"] for u in data["users"] if u["role"] == "member"}
    for reminder in found:
        assert set(reminder) == {"meeting_id", "to", "subject", "body", "cant_come_url"}
        assert reminder["meeting_id"] == halfway["next_group_meeting_id"]
        text = reminder["subject"] + "\n" + reminder["body"]
        assert clinical_words(text) == []
        for email, name in names.items():
            if email != reminder["to"]:
                assert name not in text and name.split()[0] not in text.split(), (name, text)
        assert reminder["cant_come_url"] in reminder["body"]
    said = [r for r in found if "You have told us you can't come" in r["body"]]
    assert len(said) == 1


async def test_the_demo_link_works_and_the_board_shows_the_absence(demo):  # noqa: F811
    server, data = demo
    found = data["reminders"]
    async with httpx.AsyncClient() as client:
        for reminder in found:
            page = await client.get(reminder["cant_come_url"])
            assert page.status_code == 200
    facilitator = next(u for u in data["users"] if u["email"] in data["cohorts"][0]["facilitators"])
    meeting_id = found[0]["meeting_id"]
    board = await BoardClient.open(server.ws_url, meeting_id, facilitator["api_token"])
    try:
        marks = board.snapshot["state"]["attendance"]
    finally:
        await board.close()
    assert [m["status"] for m in marks.values()] == ["absent_notified"]


async def test_the_demo_has_an_online_cohort_and_a_member_missing_two_in_a_row(demo):  # noqa: F811
    server, data = demo
    halfway = data["cohorts"][0]
    assert all("Join online: https://meet.example.org/tuesday-group" in r["body"] for r in data["reminders"])
    facilitator = next(u for u in data["users"] if u["email"] in halfway["facilitators"])
    async with httpx.AsyncClient(base_url=data["base_url"],
                                 headers={"Authorization": f"Bearer {facilitator['api_token']}"}) as api:
        joined = (await api.get(f"/api/v1/cohorts/{halfway['id']}/online")).json()
        assert joined["online"] and joined["dial_in"]
        listed = (await api.get(f"/api/v1/cohorts/{halfway['id']}/follow-ups")).json()
    (item,) = listed["follow_ups"]
    assert item["member"] == "Amara Diallo" and item["absences_in_a_row"] == 2 and item["reason"] == "absences_in_a_row"
    assert {r["member"] for r in listed["at_risk"]} == {"Amara Diallo"}
