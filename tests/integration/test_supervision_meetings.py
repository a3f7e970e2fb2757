"""Recording supervision meetings from the agenda, over HTTP (pages and /api/v1): what is
saved, the actions that carry over until done, and refusals that change nothing (issue 17)."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from models.accounts import Role
from models.clinical import SafetyItem, SafetyItemStatus
from models.supervision import Supervision, SupervisionAction, SupervisionCase, SupervisionMeeting
from tests.support.clients import bearer, logged_in
from tests.support.world import PASSWORD, enroll, make_cohort, make_user

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def clinic(world, name: str):
    supervisor = await make_user(Role.FACILITATOR, f"Supervisor {name}")
    facilitator = await make_user(Role.FACILITATOR, f"Facilitator {name}")
    await Supervision.create(supervisor=supervisor, facilitator=facilitator)
    cohort, meetings = await make_cohort(world.template, f"Group {name}", facilitator)
    enrollment = await enroll(cohort, await make_user(Role.MEMBER, f"Member {name}"))
    await SafetyItem.create(enrollment=enrollment, item9=1, status=SafetyItemStatus.OPEN)
    client = await logged_in(world.base_url, supervisor.email, PASSWORD)
    return supervisor, facilitator, cohort, enrollment, client


def today() -> str:
    return datetime.now(UTC).date().isoformat()


async def counts(supervisor) -> tuple[int, int, int]:
    return (await SupervisionMeeting.filter(supervisor=supervisor).count(),
            await SupervisionCase.filter(meeting__supervisor=supervisor).count(),
            await SupervisionAction.filter(meeting__supervisor=supervisor).count())


async def test_the_agenda_page_shows_the_flags_and_the_form_is_prefilled_from_them(world):
    supervisor, facilitator, cohort, enrollment, client = await clinic(world, "page")
    page = await client.get("/supervision")
    assert page.status_code == 200
    assert 'href="/supervision"' in page.text, "the navigation links to the agenda for a supervisor"
    assert f'data-enrollment="{enrollment.id}"' in page.text and "Open safety items" in page.text
    assert "the last 7 days; no supervision meeting is recorded yet" in page.text
    assert "clinic&#39;s setting" in page.text and "GROUPIPT_EARLY_IMPROVEMENT_PERCENT" in page.text
    form = await client.get("/supervision/meetings/new")
    assert form.status_code == 200
    assert f'name="case" value="{enrollment.id}"' in form.text
    assert f'name="facilitator" value="{facilitator.id}" checked' in form.text
    await client.aclose()


async def test_the_navigation_link_is_for_supervisors_and_coordinators_only(world):
    for role, shown in (("supervisor", True), ("coordinator", True), ("facilitator", False), ("member", False)):
        client = await world.client(role)
        home = await client.get("/account")
        assert ('href="/supervision"' in home.text) is shown, role


async def test_recording_a_meeting_from_the_form_and_carrying_its_actions_over(world):
    supervisor, facilitator, cohort, enrollment, client = await clinic(world, "form")
    due = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    saved = await client.submit("/supervision/meetings/new", {
        "supervisor": str(supervisor.id), "held_on": today(), "facilitator": str(facilitator.id),
        "case": str(enrollment.id), f"note_{enrollment.id}": "Risk check done; safety plan reviewed",
        "action_text_1": "Phone the member before session 5", "action_owner_1": str(facilitator.id),
        "action_due_1": due, "action_text_2": "", "action_owner_2": str(supervisor.id), "action_due_2": due,
        "notes": "Discussed the group's attendance.",
    })
    assert saved.status_code == 303, saved.text[:400]
    meeting_path = saved.headers["location"].split("?")[0]
    meeting = await SupervisionMeeting.get(id=int(meeting_path.rsplit("/", 1)[1])).prefetch_related(
        "facilitators_present", "cases", "actions")
    assert meeting.held_on.isoformat() == today() and [f.id for f in meeting.facilitators_present] == [facilitator.id]
    assert [(c.enrollment_id, c.note) for c in meeting.cases] == [(enrollment.id, "Risk check done; safety plan reviewed")]
    [action] = meeting.actions
    assert (action.text, action.owner_id, action.due_on.isoformat(), action.done_at) == (
        "Phone the member before session 5", facilitator.id, due, None)
    page = await client.get(meeting_path)
    assert page.status_code == 200 and "Phone the member before session 5" in page.text and "Risk check done" in page.text
    agenda = await client.get("/supervision")
    assert f'data-flag="open_action" data-record="{action.id}"' in agenda.text, "an open action carries over"
    assert f'href="/supervision/meetings/{meeting.id}">' in agenda.text
    done = await client.submit(f"/supervision/actions/{action.id}/done", {"back": "agenda"})
    assert done.status_code == 303 and done.headers["location"].startswith("/supervision?")
    agenda = await client.get("/supervision")
    assert f'data-record="{action.id}"' not in agenda.text, "a done action no longer carries over"
    again = await client.submit(f"/supervision/actions/{action.id}/done")
    assert again.status_code == 409
    await client.aclose()


async def test_refused_forms_change_nothing_and_say_why(world):
    supervisor, facilitator, cohort, enrollment, client = await clinic(world, "refused")
    before = await counts(supervisor)
    tomorrow = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    cases = [
        ({"held_on": tomorrow}, "recorded once held"),
        ({"held_on": "soon"}, "not a date"),
        ({"held_on": today(), "facilitator": str(world.users["other_facilitator"].id)}, "ones this supervisor supervises"),
        ({"held_on": today(), "case": str(world.other_enrollment.id)}, "cohorts this supervisor"),
        ({"held_on": today(), "action_text_1": "Something", "action_owner_1": str(world.users["member"].id),
          "action_due_1": today()}, "active member of staff"),
        ({"held_on": today(), "action_text_1": "Something", "action_owner_1": str(facilitator.id),
          "action_due_1": "2000-01-01"}, "on or after the meeting"),
    ]
    for fields, words in cases:
        answer = await client.submit("/supervision/meetings/new", {"supervisor": str(supervisor.id), **fields})
        assert answer.status_code == 400, (fields, answer.status_code)
        assert words in answer.text, (fields, answer.text[:600])
    assert await counts(supervisor) == before
    await client.aclose()


async def test_other_people_cannot_read_or_change_a_supervisors_records(world):
    supervisor, facilitator, cohort, enrollment, client = await clinic(world, "others")
    meeting = await SupervisionMeeting.create(supervisor=supervisor, held_on=datetime.now(UTC).date(), created_by=supervisor)
    action = await SupervisionAction.create(meeting=meeting, text="Watch attendance", owner=facilitator,
                                            due_on=meeting.held_on)
    supervised = await logged_in(world.base_url, facilitator.email, PASSWORD)
    for path in ("/supervision", f"/supervision/meetings/{meeting.id}", "/supervision/meetings/new"):
        assert (await supervised.get(path)).status_code in (403, 404), path
    refused = await supervised.submit(f"/supervision/actions/{action.id}/done")
    assert refused.status_code in (403, 404)
    assert (await SupervisionAction.get(id=action.id)).done_at is None
    # A supervisor cannot read another supervisor's agenda by asking for it.
    other = await client.get(f"/supervision?supervisor={world.users['supervisor'].id}")
    assert other.status_code == 403
    assert (await client.get("/supervision?supervisor=abc")).status_code == 400
    await supervised.aclose()
    await client.aclose()


async def test_a_coordinator_chooses_the_supervisor_and_records_for_them(world):
    supervisor, facilitator, cohort, enrollment, client = await clinic(world, "coordinated")
    await client.aclose()
    coordinator = await world.client("coordinator")
    page = await coordinator.get(f"/supervision?supervisor={supervisor.id}")
    assert page.status_code == 200 and f'<option value="{supervisor.id}" selected>' in page.text
    assert f'href="/safety/' in page.text, "a coordinator's flags link to the safety item itself"
    assert (await coordinator.get(f"/supervision?supervisor={world.users['member'].id}")).status_code == 404
    saved = await coordinator.submit("/supervision/meetings/new", {"supervisor": str(supervisor.id), "held_on": today()})
    assert saved.status_code == 303
    meeting = await SupervisionMeeting.filter(supervisor=supervisor).order_by("-id").first()
    assert meeting.created_by_id == world.users["coordinator"].id


async def test_the_api_agenda_meetings_and_actions(world):
    supervisor, facilitator, cohort, enrollment, client = await clinic(world, "api")
    await client.aclose()
    from server import accounts

    _, token = await accounts.create_api_token(supervisor, "tests")
    api = bearer(world.base_url, token)
    agenda = (await api.get("/api/v1/supervision/agenda")).json()
    assert agenda["supervisor_id"] == supervisor.id and agenda["cohort_ids"] == [cohort.id]
    assert any(f["kind"] == "safety_open" and f["enrollment_id"] == enrollment.id for f in agenda["flags"])
    assert agenda["improvement_percent"] == 20
    due = (datetime.now(UTC).date() + timedelta(days=5)).isoformat()
    body = {"held_on": today(), "facilitator_ids": [facilitator.id],
            "cases": [{"enrollment_id": enrollment.id, "note": "Discussed"}],
            "actions": [{"text": "Call the duty clinician", "owner_id": supervisor.id, "due_on": due}],
            "notes": "Short meeting"}
    before = await counts(supervisor)
    refused = [
        ({**body, "held_on": "2999-01-01"}, 422),  # outside the plausible dates
        ({**body, "held_on": (datetime.now(UTC).date() + timedelta(days=2)).isoformat()}, 422),
        ({**body, "cases": [{"enrollment_id": world.other_enrollment.id}]}, 422),
        ({**body, "actions": [{"text": "x", "owner_id": supervisor.id}]}, 400),  # no due date
        ({**body, "extra": 1}, 400),
        ({**body, "supervisor_id": world.users["supervisor"].id}, 403),
    ]
    for payload, status in refused:
        answer = await api.post("/api/v1/supervision/meetings", json=payload)
        assert answer.status_code == status, (payload, answer.status_code, answer.text[:300])
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert await counts(supervisor) == before
    created = await api.post("/api/v1/supervision/meetings", json=body)
    assert created.status_code == 201, created.text
    meeting = created.json()
    assert meeting["cases"] == [{"enrollment_id": enrollment.id, "note": "Discussed"}]
    [action] = meeting["actions"]
    assert action["done_at"] is None and action["owner_id"] == supervisor.id
    listed = (await api.get("/api/v1/supervision/meetings")).json()["meetings"]
    assert listed[0]["id"] == meeting["id"] and listed[0]["open_actions"] == 1
    assert (await api.get(f"/api/v1/supervision/meetings/{meeting['id']}")).json()["notes"] == "Short meeting"
    agenda = (await api.get("/api/v1/supervision/agenda")).json()
    assert agenda["last_meeting_id"] == meeting["id"] and [a["id"] for a in agenda["open_actions"]] == [action["id"]]
    done = await api.post(f"/api/v1/supervision/actions/{action['id']}/done")
    assert done.status_code == 200 and done.json()["done_by_id"] == supervisor.id
    assert (await api.post(f"/api/v1/supervision/actions/{action['id']}/done")).status_code == 409
    assert (await api.get("/api/v1/supervision/agenda")).json()["open_actions"] == []
    await api.aclose()


async def test_the_api_document_lists_the_supervision_operations(world):
    document = (await (await world.client("coordinator")).get("/api/v1/openapi.json")).json()
    for path in ("/api/v1/supervision/agenda", "/api/v1/supervision/meetings",
                 "/api/v1/supervision/meetings/{supervision_meeting_id}", "/api/v1/supervision/actions/{action_id}/done"):
        assert path in document["paths"], path
    post = document["paths"]["/api/v1/supervision/meetings"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("SupervisionMeetingBody")
    assert re.search("422", " ".join(post["responses"]))
