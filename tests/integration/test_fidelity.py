"""Session fidelity over a real server (issue 17): the checklist asked after a meeting, who
may answer and read it, the rule adherence is counted by, and checklists as protocol data
that coordinators edit (domain-ipt.md sections 2, 4 and 13)."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio

from models.accounts import AuditEvent
from models.cohorts import Meeting, MeetingKind, MeetingStatus, ProtocolTemplate
from models.fidelity import SessionChecklist
from models.supervision import Supervision
from server import accounts, fidelity, schedule
from tests.support.clients import bearer, logged_in
from tests.support.world import PASSWORD, enroll, make_cohort, make_user

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass
class FidelityWorld:
    clients: dict
    api: dict
    cohort_id: int
    initial: int  # session 1, held
    middle: list[int]  # sessions 2 and 3, held
    scheduled: int  # session 4
    pregroup: int  # an individual meeting that has ended (no board closes it)
    facilitator_id: int
    template_id: int

    async def close(self):
        for client in [*self.clients.values(), *self.api.values()]:
            await client.aclose()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fw(world, live_server):
    await schedule.ensure_builtin_templates()
    who = await ProtocolTemplate.get(slug="who-group-ipt")
    lead = await make_user("facilitator", "Faye Fidelity")
    supervisor = await make_user("facilitator", "Sid Supervisor")
    await Supervision.create(supervisor=supervisor, facilitator=lead)
    cohort, meetings = await make_cohort(who, f"Fidelity group {uuid.uuid4().hex[:4]}", lead)
    member = await make_user("member", "Mo Fidelity")
    enrollment = await enroll(cohort, member)
    ended = datetime.now(timezone.utc) - timedelta(days=30)
    pregroup = await Meeting.create(cohort=cohort, kind=MeetingKind.PREGROUP, number=1, phase="", enrollment=enrollment,
                                    facilitator=lead, starts_at=ended, ends_at=ended + timedelta(minutes=50),
                                    uid=str(uuid.uuid4()), revised_at=ended)
    people = {"lead": lead, "supervisor": supervisor, "member": member, "coordinator": world.users["coordinator"],
              "other_facilitator": world.users["other_facilitator"]}
    clients, api = {}, {}
    for role, user in people.items():
        clients[role] = await logged_in(live_server.url, user.email, PASSWORD)
        api[role] = bearer(live_server.url, (await accounts.create_api_token(user, "fidelity tests"))[1])
    built = FidelityWorld(clients=clients, api=api, cohort_id=cohort.id, initial=meetings[0].id,
                          middle=[meetings[1].id, meetings[2].id], scheduled=meetings[3].id, pregroup=pregroup.id,
                          facilitator_id=lead.id, template_id=who.id)
    yield built
    await built.close()


def full_answers(page: str, answer: str = "done") -> dict[str, str]:
    keys = re.findall(r'name="answer_([a-z0-9-]+)"', page)
    assert keys, "the page asks no item"
    return {f"answer_{key}": answer for key in dict.fromkeys(keys)}


async def test_a_held_middle_session_asks_the_protocols_middle_checklist(fw):
    page = await fw.clients["lead"].get(f"/meetings/{fw.middle[0]}/checklist")
    assert page.status_code == 200
    for words in ("Reviewed each member&#39;s symptoms", "Used decision analysis", "Agreed homework with every member",
                  "Started and ended the group on time"):
        assert words in page.text
    for answer in ("Done", "Partly", "Not done", "Not applicable"):
        assert answer in page.text
    meeting_page = await fw.clients["lead"].get(f"/meetings/{fw.middle[0]}")
    assert "Fill in the session checklist" in meeting_page.text


async def test_refusals_change_nothing_and_a_full_answer_is_kept_with_its_wording(fw):
    client, url = fw.clients["lead"], f"/meetings/{fw.middle[0]}/checklist"
    page = (await client.get(url)).text
    answers = full_answers(page)
    first_key = next(iter(answers)).removeprefix("answer_")
    missing = dict(answers)
    missing.pop(f"answer_{first_key}")
    for bad in ({**missing, "rating": "4"}, {**answers}, {**answers, "rating": "9"}, {**answers, "rating": "x"},
                {**answers, f"answer_{first_key}": "maybe", "rating": "3"},
                {**answers, "rating": "3", f"note_{first_key}": "n" * 2001}):
        refused = await client.submit(url, bad)
        assert refused.status_code == 400, (bad, refused.status_code)
        assert 'role="alert"' in refused.text
    assert not await SessionChecklist.filter(meeting_id=fw.middle[0]).exists()

    answers[f"answer_{first_key}"] = "partly"
    saved = await client.submit(url, {**answers, "rating": "4", f"note_{first_key}": "Ran ten minutes over",
                                      "note": "Quiet group tonight"}, follow_redirects=False)
    assert saved.status_code == 303
    row = await SessionChecklist.get(meeting_id=fw.middle[0])
    assert row.checklist == "group:middle" and row.rating == 4 and row.note == "Quiet group tonight"
    assert row.submitted_by_id == fw.facilitator_id
    assert row.items[0]["key"] == first_key and row.items[0]["answer"] == "partly"
    assert row.items[0]["note"] == "Ran ten minutes over" and row.items[0]["label"]
    assert await AuditEvent.filter(subject="session_checklist", subject_id=str(fw.middle[0]), action="change").exists()
    page = await client.get(url)
    assert "The wording is kept as it was asked" in page.text and "Ran ten minutes over" in page.text
    meeting_page = await client.get(f"/meetings/{fw.middle[0]}")
    assert "The session checklist (filled in)" in meeting_page.text


async def test_an_edit_of_the_template_does_not_rewrite_what_was_asked(fw):
    await _ensure_answered(fw, fw.middle[0])
    row = await ProtocolTemplate.get(id=fw.template_id)
    original = row.checklists
    changed = {**original, "group:middle": [{"key": "symptoms-reviewed", "label": "Reworded later"}]}
    await ProtocolTemplate.filter(id=row.id).update(checklists=changed)
    try:
        answer = await fw.api["lead"].get(f"/api/v1/meetings/{fw.middle[0]}/checklist")
        labels = [item["label"] for item in answer.json()["items"]]
        assert "Reworded later" not in labels and len(labels) > 1
    finally:
        await ProtocolTemplate.filter(id=row.id).update(checklists=original)


async def _ensure_answered(fw, meeting_id: int, answer: str = "done", rating: int = 4) -> dict:
    current = (await fw.api["lead"].get(f"/api/v1/meetings/{meeting_id}/checklist")).json()
    body = {"answers": [{"key": i["key"], "answer": i["answer"] or answer} for i in current["items"]],
            "rating": current["rating"] or rating}
    saved = await fw.api["lead"].put(f"/api/v1/meetings/{meeting_id}/checklist", json=body)
    assert saved.status_code == 200, saved.text
    return saved.json()


async def test_the_api_answers_and_refuses_with_problems_and_changes_nothing(fw):
    api, url = fw.api["lead"], f"/api/v1/meetings/{fw.initial}/checklist"
    current = (await api.get(url)).json()
    assert current["checklist"] == "group:initial" and current["held"] and current["may_edit"]
    assert not current["submitted"] and all(i["answer"] is None for i in current["items"])
    keys = [i["key"] for i in current["items"]]
    every = [{"key": k, "answer": "done"} for k in keys]
    for body, status in (
        ({"answers": every[1:], "rating": 3}, 422),  # an item unanswered
        ({"answers": every + [{"key": "made-up", "answer": "done"}], "rating": 3}, 422),
        ({"answers": every + every[:1], "rating": 3}, 422),  # twice
        ({"answers": every, "rating": 6}, 400),
        ({"answers": [{"key": keys[0], "answer": "sort of"}], "rating": 3}, 400),
        ({"answers": every}, 400),
        ({"answers": every, "rating": 3, "extra": 1}, 400),
    ):
        refused = await api.put(url, json=body)
        assert refused.status_code == status, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert not await SessionChecklist.filter(meeting_id=fw.initial).exists()
    not_held = await api.put(f"/api/v1/meetings/{fw.scheduled}/checklist", json={"answers": [], "rating": 3})
    assert not_held.status_code == 409
    assert not await SessionChecklist.filter(meeting_id=fw.scheduled).exists()

    every[0]["answer"] = "not_applicable"
    saved = await api.put(url, json={"answers": every, "rating": 5, "note": "Good start"})
    assert saved.status_code == 200
    assert saved.json()["submitted"] and saved.json()["items"][0]["answer"] == "not_applicable"
    first_at = saved.json()["submitted_at"]
    every[0]["answer"] = "done"
    again = await api.put(url, json={"answers": every, "rating": 4})
    assert again.json()["submitted_at"] == first_at and again.json()["rating"] == 4


async def test_an_individual_meeting_that_has_ended_asks_the_pregroup_checklist(fw):
    current = (await fw.api["lead"].get(f"/api/v1/meetings/{fw.pregroup}/checklist")).json()
    assert current["checklist"] == "pregroup" and current["held"]
    assert any("PHQ-9" in i["label"] for i in current["items"])


async def test_supervisors_and_coordinators_read_but_do_not_answer_others_are_refused(fw):
    await _ensure_answered(fw, fw.middle[0])
    url, api_url = f"/meetings/{fw.middle[0]}/checklist", f"/api/v1/meetings/{fw.middle[0]}/checklist"
    before = await SessionChecklist.get(meeting_id=fw.middle[0])
    for role in ("supervisor", "coordinator"):
        page = await fw.clients[role].get(url)
        assert page.status_code == 200 and "<form method=\"post\"" not in page.text
        assert "Session rating" in page.text
        assert (await fw.api[role].get(api_url)).json()["may_edit"] is False
        assert (await fw.clients[role].submit(url, {"rating": "1"})).status_code == 403
        assert (await fw.api[role].put(api_url, json={"answers": [], "rating": 1})).status_code == 403
    assert (await fw.clients["other_facilitator"].get(url)).status_code == 403
    assert (await fw.api["member"].get(api_url)).status_code in (403, 404)
    assert (await fw.clients["member"].get(url, follow_redirects=False)).status_code in (403, 404)
    after = await SessionChecklist.get(meeting_id=fw.middle[0])
    assert (after.items, after.rating) == (before.items, before.rating)


async def test_adherence_counts_done_apart_from_partly_and_leaves_out_not_applicable(fw):
    # Session 3: two done, one partly, one not done, the rest not applicable.
    current = (await fw.api["lead"].get(f"/api/v1/meetings/{fw.middle[1]}/checklist")).json()
    answers = ["done", "done", "partly", "not_done"] + ["not_applicable"] * (len(current["items"]) - 4)
    body = {"answers": [{"key": i["key"], "answer": a} for i, a in zip(current["items"], answers)], "rating": 2}
    assert (await fw.api["lead"].put(f"/api/v1/meetings/{fw.middle[1]}/checklist", json=body)).status_code == 200
    await _ensure_answered(fw, fw.middle[0])
    await _ensure_answered(fw, fw.initial)

    report = (await fw.api["supervisor"].get("/api/v1/supervision/adherence")).json()
    assert "partly" in report["rule"].lower() and "not applicable" in report["rule"].lower()
    names = [f["facilitator"]["name"] for f in report["facilitators"]]
    assert "Faye Fidelity" in names and "Sid Supervisor" in names
    assert "Fiona Facilitator" not in names and "Gus Otherfacilitator" not in names
    faye = next(f for f in report["facilitators"] if f["facilitator"]["id"] == fw.facilitator_id)
    rows = await SessionChecklist.filter(meeting__cohort_id=fw.cohort_id).values_list("items", flat=True)
    flat = [i["answer"] for items in rows for i in items]
    applicable = sum(1 for a in flat if a != "not_applicable")
    assert faye["overall"]["done"] == flat.count("done") and faye["overall"]["partly"] == flat.count("partly")
    assert faye["overall"]["applicable"] == applicable
    assert faye["overall"]["share_done"] == round(flat.count("done") / applicable, 4)
    assert faye["checklists"] == len(rows)
    starts = (await Meeting.get(id=fw.middle[1])).starts_at
    monday = (starts.date() - timedelta(days=starts.weekday())).isoformat()
    week_of_session_3 = next(w for w in faye["weeks"] if w["week"] == monday)
    assert week_of_session_3["share_done"] == 0.5 and week_of_session_3["not_applicable"] == len(answers) - 4
    item = next(i for i in faye["items"] if i["checklist"] == "group:middle" and i["key"] == current["items"][2]["key"])
    assert item["partly"] >= 1

    own = (await fw.api["other_facilitator"].get("/api/v1/supervision/adherence")).json()
    assert [f["facilitator"]["name"] for f in own["facilitators"]] == ["Gus Otherfacilitator"]
    everyone = (await fw.api["coordinator"].get("/api/v1/supervision/adherence")).json()
    assert fw.facilitator_id in {f["facilitator"]["id"] for f in everyone["facilitators"]}
    page = await fw.clients["supervisor"].get("/supervision/adherence")
    assert page.status_code == 200 and 'role="img"' in page.text and "Faye Fidelity" in page.text
    assert "Share done" in page.text and "never as done" in page.text
    for bad, status in (("since=yesterday", 400), ("until=", 400), ("since=2027-02-01&until=2027-01-01", 422)):
        assert (await fw.api["supervisor"].get(f"/api/v1/supervision/adherence?{bad}")).status_code == status, bad
    for bad, status in (("since=yesterday", 400), ("since=2027-02-01&until=2027-01-01", 422)):
        assert (await fw.clients["supervisor"].get(f"/supervision/adherence?{bad}")).status_code == status, bad
    assert (await fw.clients["supervisor"].get("/supervision/adherence?since=&until=")).status_code == 200
    later = (await fw.api["supervisor"].get("/api/v1/supervision/adherence?since=2200-01-01")).json()
    assert all(f["checklists"] == 0 for f in later["facilitators"])
    assert (await fw.api["member"].get("/api/v1/supervision/adherence")).status_code == 403


async def test_missing_checklists_lists_completed_meetings_without_one(fw):
    await _ensure_answered(fw, fw.initial)
    missing = await fidelity.missing_checklists([fw.cohort_id])
    ids = [m.id for m in missing]
    answered = set(await SessionChecklist.filter(meeting__cohort_id=fw.cohort_id).values_list("meeting_id", flat=True))
    completed = await Meeting.filter(cohort_id=fw.cohort_id, status=MeetingStatus.COMPLETED).values_list("id", flat=True)
    assert ids == [i for i in completed if i not in answered]
    assert fw.initial not in ids and fw.scheduled not in ids
    assert all(m.cohort.id == fw.cohort_id for m in missing)
    assert await fidelity.missing_checklists([]) == []
    assert await fidelity.missing_checklists([fw.cohort_id], since=datetime.now(timezone.utc)) == []


async def test_a_shipped_protocol_stored_before_checklists_gets_them_when_first_asked(fw):
    await ProtocolTemplate.filter(id=fw.template_id).update(checklists=None, checklist_notes="")
    current = await fw.api["lead"].get(f"/api/v1/meetings/{fw.scheduled}/checklist")
    assert current.status_code == 200 and current.json()["items"], "asked from the shipped checklists"
    row = await ProtocolTemplate.get(id=fw.template_id)
    assert row.checklists and "not copied from" in row.checklist_notes


async def test_coordinators_edit_checklists_with_the_template_and_keys_stay_stable(fw):
    coordinator = fw.clients["coordinator"]
    form_page = await coordinator.get(f"/templates/new?from={fw.template_id}")
    assert "Group sessions, middle phase" in form_page.text and "Agreed homework with every member" in form_page.text
    fields = dict(re.findall(r'<input id="(\w+)" name="\1"[^>]*value="([^"]*)"', form_page.text))
    textareas = dict(re.findall(r'<textarea id="([\w]+)" name="\1"[^>]*>([^<]*)</textarea>', form_page.text))
    form = {**fields, **{k: v.replace("&#39;", "'") for k, v in textareas.items()}, "from": str(fw.template_id),
            "grief_enabled": "1", "homework_enabled": "1", "label_style": "lay",
            "name": f"Our WHO {uuid.uuid4().hex[:4]}"}
    bad = {**form, "checklist_pregroup": "x" * 301}
    before = await ProtocolTemplate.all().count()
    refused = await coordinator.submit("/templates/new", bad)
    assert refused.status_code == 400 and "longer than 300" in refused.text
    assert await ProtocolTemplate.all().count() == before
    created = await coordinator.submit("/templates/new", form, follow_redirects=False)
    assert created.status_code == 303, created.text[:500]
    copy = await ProtocolTemplate.get(id=int(created.headers["location"].rsplit("/", 1)[1]))
    who = await ProtocolTemplate.get(id=fw.template_id)
    assert copy.checklists == who.checklists, "a copy keeps the items and their keys"
    view = await coordinator.get(f"/templates/{copy.id}")
    assert "Session checklists" in view.text and "Used decision analysis" in view.text

    edit_page = await coordinator.get(f"/templates/{copy.id}/edit")
    textareas = dict(re.findall(r'<textarea id="([\w]+)" name="\1"[^>]*>([^<]*)</textarea>', edit_page.text))
    fields = dict(re.findall(r'<input id="(\w+)" name="\1"[^>]*value="([^"]*)"', edit_page.text))
    middle = textareas["checklist_group_middle"].replace("&#39;", "'") + "\nPractised a role play"
    edited = {**fields, **{k: v.replace("&#39;", "'") for k, v in textareas.items()}, "checklist_group_middle": middle,
              "checklist_mid": "", "grief_enabled": "1", "homework_enabled": "1", "label_style": "lay"}
    saved = await coordinator.submit(f"/templates/{copy.id}/edit", edited, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:500]
    copy = await ProtocolTemplate.get(id=copy.id)
    keys = [i["key"] for i in copy.checklists["group:middle"]]
    assert keys[:-1] == [i["key"] for i in who.checklists["group:middle"]]
    assert keys[-1] == "practised-a-role-play"

    api = fw.api["coordinator"]
    body = (await api.get(f"/api/v1/templates/{fw.template_id}")).json()
    for drop in ("id", "builtin", "default_late_join_cutoff", "late_join_warnings"):
        body.pop(drop)
    body.update(key=None, name=f"API copy {uuid.uuid4().hex[:4]}")
    body["checklists"]["group:middle"].append(dict(body["checklists"]["group:middle"][0]))
    before = await ProtocolTemplate.all().count()
    refused = await api.post("/api/v1/templates", json=body)
    assert refused.status_code == 422 and "used twice" in refused.json()["detail"]
    body["checklists"]["group:middle"].pop()
    body["checklists"]["session:9"] = []
    assert (await api.post("/api/v1/templates", json=body)).status_code == 400
    assert await ProtocolTemplate.all().count() == before
    body["checklists"].pop("session:9")
    made = await api.post("/api/v1/templates", json=body)
    assert made.status_code == 201 and made.json()["checklists"] == who.checklists
