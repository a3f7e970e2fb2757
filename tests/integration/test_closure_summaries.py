"""Closure summaries over a real server: drafted from a cohort run through the real board
service and the real measures service, finalized, amended, read by the member, as a PDF.

The board is driven in this process through `server.board.service.BoardService` (the same
decide/apply/commit path the WebSocket handler uses) against the live server's database;
measures go through `server.measures.responses.submit`, risk checks through
`server.measures.safety.record_risk_check`.
"""
from __future__ import annotations

import re

import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from models.board import RolePlayTurn, TurnStatus
from models.clinical import Goal, RiskAction, SafetyItem
from models.closure import ClosureSummary, FinalizedSummaryError
from models.cohorts import Meeting, MeetingKind, MeetingStatus
from server.board.hub import Hub
from server.board.service import BoardService
from server.board.state import Command
from server.measures import responses, safety
from tests.support.clients import logged_in
from tests.support.world import PASSWORD, enroll, make_cohort, make_template, make_user

pytestmark = pytest.mark.asyncio(loop_scope="session")

SUBJECT, OTHER = "Ada Quinnell", "Bea Okafor"
def pdf_text(pdf: bytes) -> str:
    """The PDF's text as poppler's pdftotext reads it, whitespace folded (a real reader, not ours)."""
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(result.stdout.decode("utf-8").split())


LONDON = ZoneInfo("Europe/London")
GOALS = ("Tell my sister what I need", "Join the Saturday walking group")


def phq9(total: int, item9: int = 0) -> dict[str, str]:
    """Nine answers adding up to `total`, with item 9 as given."""
    answers = [0] * 9
    answers[8] = item9
    remaining = total - item9
    for i in range(8):
        answers[i] = min(3, remaining)
        remaining -= answers[i]
    assert remaining == 0
    return {f"item{i + 1}": str(v) for i, v in enumerate(answers)}


def gad7(total: int) -> dict[str, str]:
    answers = []
    for _ in range(7):
        answers.append(min(3, total))
        total -= answers[-1]
    return {f"item{i + 1}": str(v) for i, v in enumerate(answers)}


async def _run_board(service: BoardService, meeting: Meeting, actor, commands: list[tuple[str, dict]]) -> None:
    board = await service.board_for(meeting)
    for name, data in commands:
        await service.execute(board.id, Command(name, data), actor, client_cmd_id=uuid.uuid4().hex)


async def _turn_id(service: BoardService, meeting: Meeting) -> str:
    board = await service.board_for(meeting)
    state = await service.state(board.id)
    return state["queue"][-1] if state["queue"] else max(state["turns"], key=int)


@pytest_asyncio.fixture(scope="module")
async def cohort_run(live_server, db):
    """A 1 + 8 cohort whose eight sessions have all been held, with a post-group meeting ahead."""
    facilitator = await make_user("facilitator", "Faye Lindqvist")
    subject = await make_user("member", SUBJECT)
    other = await make_user("member", OTHER)
    template = await make_template()
    start = (datetime.now(timezone.utc) - timedelta(days=7 * 8 + 2)).date()
    cohort, meetings = await make_cohort(template, "Closure test group", facilitator, start=start)
    # The board opens only meetings that are not completed yet; closing it completes them.
    await Meeting.filter(cohort_id=cohort.id).update(status=MeetingStatus.SCHEDULED)
    meetings = await Meeting.filter(cohort_id=cohort.id, kind=MeetingKind.GROUP).order_by("number")
    enrollment = await enroll(cohort, subject)
    other_enrollment = await enroll(cohort, other)
    first = meetings[0].starts_at
    await type(enrollment).filter(id=enrollment.id).update(
        primary_problem_area="role_dispute", secondary_problem_area="role_transition",
        formulation="Low mood deepened as arguments with my sister about our mother's care grew.",
    )
    # Both joined before the pre-group meetings, so every occasion of the schedule is theirs.
    await type(enrollment).filter(cohort_id=cohort.id).update(created_at=first - timedelta(days=10))
    for e, offset in ((enrollment, 5), (other_enrollment, 4)):
        await Meeting.create(
            cohort=cohort, kind=MeetingKind.PREGROUP, number=1, phase="pregroup", enrollment=e,
            facilitator=facilitator, starts_at=first - timedelta(days=offset), ends_at=first - timedelta(days=offset, minutes=-60),
            status=MeetingStatus.COMPLETED, uid=str(uuid.uuid4()), revised_at=datetime.now(timezone.utc),
        )
    post_at = datetime.now(timezone.utc) + timedelta(days=3)
    await Meeting.create(
        cohort=cohort, kind=MeetingKind.POST, number=1, phase="post", enrollment=enrollment,
        facilitator=facilitator, starts_at=post_at, ends_at=post_at + timedelta(hours=1),
        uid=str(uuid.uuid4()), revised_at=datetime.now(timezone.utc),
    )
    goals = [await Goal.create(cohort=cohort, enrollment=enrollment, text=text, position=i, created_by=facilitator)
             for i, text in enumerate(GOALS)]
    other_goal = await Goal.create(cohort=cohort, enrollment=other_enrollment, text="Phone my brother", created_by=facilitator)

    # Measures through the measures service, on behalf of the members, one per occasion.
    enrollment = await type(enrollment).get(id=enrollment.id).select_related("cohort__template", "member")
    other_enrollment = await type(other_enrollment).get(id=other_enrollment.id).select_related("cohort__template", "member")
    now = datetime.now(timezone.utc)
    schedules = await responses.schedules(enrollment, template, cohort.n_group_sessions)
    phq_occasions = [o for o in schedules[next(k for k in schedules if k.value == "phq9")] if o.opens_at is None or o.opens_at <= now]
    gad_occasions = [o for o in schedules[next(k for k in schedules if k.value == "gad7")] if o.opens_at is None or o.opens_at <= now]
    phq_totals = {"baseline": (16, 1)}
    submitted = []
    def when(occasion):  # answered at the meeting it belongs to (not in the future)
        return min(occasion.meeting_starts_at or now, now)

    for occasion in phq_occasions:
        total, item9 = phq_totals.get(occasion.key, (None, 0))
        if total is None:
            total = 12 if occasion is not phq_occasions[-1] else 6
        await responses.submit(enrollment, "phq9", phq9(total, item9), by=facilitator,
                                       window=occasion.key, now=when(occasion))
        submitted.append((occasion.key, total))
    for occasion, total in ((gad_occasions[0], 12), (gad_occasions[-1], 5)):
        await responses.submit(enrollment, "gad7", gad7(total), by=facilitator, window=occasion.key,
                                       now=when(occasion))
    other_schedules = await responses.schedules(other_enrollment, template, cohort.n_group_sessions)
    other_phq = [o for o in other_schedules[next(k for k in other_schedules if k.value == "phq9")]
                 if o.opens_at is None or o.opens_at <= now]
    for occasion, total in ((other_phq[0], 20), (other_phq[-1], 4)):
        await responses.submit(other_enrollment, "phq9", phq9(total), by=facilitator, window=occasion.key,
                                       now=when(occasion))

    # The item-9 answer at baseline opened a safety item; the facilitator closes it with a check.
    item = await SafetyItem.get(enrollment_id=enrollment.id)
    await safety.record_risk_check(
        facilitator, item.id,
        safety.RiskCheckInput(checked_at=now, outcome="Passive thoughts, no plan or intent",
                              action=RiskAction.SAFETY_PLAN, follow_up_date=now.date() + timedelta(days=7)),
    )

    # Eight sessions through the board: Ada misses sessions 3 and 5 (notified).
    hub = Hub.from_url("memory://")
    service = BoardService(hub)
    e, o = str(enrollment.id), str(other_enrollment.id)
    async with hub.running():
        for meeting in meetings:
            n = meeting.number
            commands = [
                ("mark_attendance", {"member": e, "status": "absent_notified" if n in (3, 5) else "present"}),
                ("mark_attendance", {"member": o, "status": "present"}),
            ]
            await _run_board(service, meeting, facilitator, commands)
            if n in (2, 4, 6, 8):
                await _run_board(service, meeting, facilitator, [
                    ("rate_goal", {"goal": str(goals[0].id), "rating": {2: 1, 4: 2, 6: 3, 8: 4}[n]}),
                    ("rate_goal", {"goal": str(goals[1].id), "rating": {2: 0, 4: 1, 6: 1, 8: 2}[n]}),
                    ("rate_goal", {"goal": str(other_goal.id), "rating": 2}),
                ])
            if n in (4, 6):
                scenario = {4: "Asking for help with mum's appointments", 6: "Saying no to extra shifts, as Bea suggested"}[n]
                label = {4: "my sister", 6: "my manager"}[n]
                await _run_board(service, meeting, facilitator, [
                    ("add_turn", {"protagonist": e, "counterpart": {"kind": "facilitator", "id": str(facilitator.id)},
                                  "role_label": label, "scenario": scenario}),
                ])
                turn = await _turn_id(service, meeting)
                await _run_board(service, meeting, facilitator, [
                    ("start_turn", {"turn": turn}),
                    ("record_next_step", {"turn": turn, "text": f"Try it this week ({label})"}),
                    ("end_turn", {"turn": turn}),
                ])
            if n == 7:
                # A turn added and skipped is not a skill practised.
                await _run_board(service, meeting, facilitator, [
                    ("add_turn", {"protagonist": e, "counterpart": {"kind": "facilitator", "id": str(facilitator.id)},
                                  "role_label": "my neighbour", "scenario": "Noise at night"}),
                ])
                turn = await _turn_id(service, meeting)
                await _run_board(service, meeting, facilitator, [("skip_turn", {"turn": turn})])
            if n == 8:
                await _run_board(service, meeting, facilitator, [
                    ("set_goal_status", {"goal": str(goals[0].id), "status": "achieved"}),
                ])
            await _run_board(service, meeting, facilitator, [("close_meeting", {})])

    assert await RolePlayTurn.filter(protagonist_id=enrollment.id, status=TurnStatus.DONE).count() == 2
    client = await logged_in(live_server.url, facilitator.email, PASSWORD)
    member_client = await logged_in(live_server.url, subject.email, PASSWORD)
    other_client = await logged_in(live_server.url, other.email, PASSWORD)
    run = dict(
        cohort=cohort, facilitator=facilitator, subject=subject, other=other, enrollment=enrollment,
        other_enrollment=other_enrollment, goals=goals, client=client, member_client=member_client,
        other_client=other_client, submitted=submitted, post_at=post_at,
    )
    yield run
    for c in (client, member_client, other_client):
        await c.aclose()


COMPLETE = {
    "areas_needing_work": "Saying no without apologising.",
    "warning_signs": "Staying in bed at the weekend; skipping meals.",
    "who_to_tell": "My partner and my GP.",
    "relapse_strategies": "Walk on Saturdays; call my sister on Sundays.",
    "relapse_supports": "Partner, sister, GP.",
    "seek_help": "See the GP if low mood lasts two weeks; emergency number if unsafe.",
    "next_step_kind": "follow_up",
    "next_step_details": "Post-group meeting to review the plan.",
}


def _form(run, **overrides) -> dict[str, str]:
    form = dict(COMPLETE)
    form[f"goal_words_{run['goals'][0].id}"] = "I told her what I needed and she listened."
    form[f"goal_words_{run['goals'][1].id}"] = "I went twice; I want to keep going."
    form.update(overrides)
    return form


async def _draft(run) -> int:
    response = await run["client"].submit(f"/enrollments/{run['enrollment'].id}/summary/draft")
    assert response.status_code == 303, response.text[:500]
    return int(response.headers["location"].split("/")[2])


async def test_draft_from_the_record_has_the_right_numbers(cohort_run):
    run = cohort_run
    summary_id = await _draft(run)
    response = await run["client"].get(f"/api/v1/summaries/{summary_id}")
    assert response.status_code == 200
    body = response.json()
    assert (body["version"], body["status"]) == (1, "draft")
    content = body["content"]
    overview = content["overview"]
    assert overview["protocol_label"] == "Group IPT, 8 sessions"
    assert (overview["group_sessions_attended"], overview["group_sessions_held"]) == (6, 8)
    assert overview["individual_meetings_held"] == 1  # the pre-group meeting; the post-group one is ahead

    assert content["problem_areas"] == {
        "primary": "Role dispute", "secondary": ["Role transition"],
        "formulation": "Low mood deepened as arguments with my sister about our mother's care grew.",
    }

    [phq, gad] = content["symptoms"]
    assert phq["instrument"] == "phq9"
    assert (phq["baseline"]["total"], phq["baseline"]["band"]) == (16, "Moderately severe")
    assert (phq["last"]["total"], phq["last"]["band"]) == (6, "Mild")
    assert (phq["change"], phq["percent_change"]) == (-10, -62)
    assert phq["response"] is True and phq["remission"] is False
    assert [p["total"] for p in phq["points"]] == [t for _, t in run["submitted"]]
    assert (gad["baseline"]["total"], gad["last"]["total"], gad["response"]) == (12, 5, True)

    goals = {g["text"]: g for g in content["goals"]}
    assert goals[GOALS[0]]["status"] == "achieved"
    assert [p["rating"] for p in goals[GOALS[0]]["progress"]] == [1, 2, 3, 4]
    assert goals[GOALS[1]]["status"] == "partly"
    assert [p["meeting_label"] for p in goals[GOALS[1]]["progress"]] == [
        "Group session 2", "Group session 4", "Group session 6", "Group session 8"]

    skills = content["skills"]
    assert [(s["meeting_label"], s["role_label"]) for s in skills] == [
        ("Group session 4", "my sister"), ("Group session 6", "my manager")]
    assert skills[0]["next_step"] == "Try it this week (my sister)"
    # A name typed on the board reaches the summary only as initials.
    assert skills[1]["scenario"] == "Saying no to extra shifts, as B. suggested"

    assert content["next_step"]["kind"] == "follow_up"
    assert content["next_step"]["referral_suggested"] is False
    assert content["next_step"]["follow_up_date"] == run["post_at"].astimezone(LONDON).date().isoformat()

    [item] = content["safety"]
    assert item["trigger"] == "PHQ-9 item 9 answered 1 of 3"
    assert item["outcome"] == "Passive thoughts, no plan or intent"
    assert item["action"] == "Safety plan made or reviewed" and item["closed_on"]


async def test_the_cohort_page_shows_who_is_drafted_and_who_is_missing(cohort_run):
    run = cohort_run
    page = await run["client"].get(f"/cohorts/{run['cohort'].id}/summaries")
    assert page.status_code == 200
    assert "Draft, version 1" in page.text and "Missing" in page.text
    api = await run["client"].get(f"/api/v1/cohorts/{run['cohort'].id}/summaries")
    states = {i["member"]: i["state"] for i in api.json()["items"]}
    assert states == {SUBJECT: "draft", OTHER: "missing"}


async def test_naming_another_member_blocks_finalizing(cohort_run):
    run = cohort_run
    summary_id = await _draft(run)
    response = await run["client"].submit(f"/summaries/{summary_id}/edit",
                                          _form(run, relapse_supports="Bea from the group", then="finalize"))
    assert response.status_code == 400
    assert "names another member" in response.text
    row = await ClosureSummary.get(id=summary_id)
    assert row.status == "draft"


async def test_bad_input_is_a_clear_400_and_changes_nothing(cohort_run):
    run = cohort_run
    summary_id = await _draft(run)
    before = (await ClosureSummary.get(id=summary_id)).content
    response = await run["client"].submit(f"/summaries/{summary_id}/edit", {"next_step_kind": "holiday"})
    assert response.status_code == 400
    assert "must be one of" in response.text
    api = await run["client"].send_json("PATCH", f"/api/v1/summaries/{summary_id}", {"overview": {"group_sessions_held": 1}})
    assert api.status_code == 400 and api.json()["fields"] == {"overview": "Not editable."}
    api = await run["client"].send_json("PATCH", f"/api/v1/summaries/{summary_id}", {"follow_up_date": "soon"})
    assert api.status_code == 400 and "follow_up_date" in api.json()["fields"]
    # 400: not as the API document says; 422: as it says, but naming a goal of no summary's.
    for payload, field, status in (({"goal_words": "nice"}, "goal_words", 400),
                                   ({"goal_words": {"999999": "x"}}, "goal_words_999999", 422),
                                   ({"warning_signs": 5}, "warning_signs", 400),
                                   ({"warning_signs": "x" * 5000}, "warning_signs", 400)):
        api = await run["client"].send_json("PATCH", f"/api/v1/summaries/{summary_id}", payload)
        assert api.status_code == status and field in api.json()["fields"], (payload, api.text)
    not_json = await run["client"].patch(f"/api/v1/summaries/{summary_id}", content=b"{oops",
                                         headers={"x-csrftoken": await run["client"].csrf(), "content-type": "application/json"})
    assert not_json.status_code == 400
    assert (await run["client"].get(f"/api/v1/summaries/{summary_id}/diff", params={"against": "abc"})).status_code == 404
    assert (await run["client"].get(f"/api/v1/summaries/{summary_id}/diff")).status_code == 400
    assert (await run["client"].get("/summaries/99999999999")).status_code == 404
    assert (await ClosureSummary.get(id=summary_id)).content == before


async def test_finalized_cannot_change_and_an_amendment_makes_version_2(cohort_run):
    run = cohort_run
    client = run["client"]
    summary_id = await _draft(run)
    edit = await client.submit(f"/summaries/{summary_id}/edit", _form(run, then="save"))
    assert edit.status_code == 303
    final = await client.submit(f"/summaries/{summary_id}/finalize")
    assert final.status_code == 303, final.text[:800]
    row = await ClosureSummary.get(id=summary_id)
    assert row.status == "finalized" and row.finalized_by_id == run["facilitator"].id
    frozen = row.content

    # Not by the API...
    api = await client.send_json("PATCH", f"/api/v1/summaries/{summary_id}", {"warning_signs": "changed"})
    assert api.status_code == 409 and api.json()["code"] == "finalized"
    # ...not by replaying the editor form, nor by re-drafting or finalizing again.
    replay = await client.submit(f"/summaries/{summary_id}/edit", _form(run, warning_signs="changed", then="save"))
    assert replay.status_code == 409
    assert (await client.submit(f"/summaries/{summary_id}/redraft")).status_code == 409
    assert (await client.post(f"/api/v1/summaries/{summary_id}/finalize",
                              headers={"x-csrftoken": await client.csrf()})).status_code == 409
    assert (await client.submit(f"/enrollments/{run['enrollment'].id}/summary/draft")).status_code == 409
    assert (await ClosureSummary.get(id=summary_id)).content == frozen
    # ...and not through the ORM either.
    row.content = {}
    with pytest.raises(FinalizedSummaryError):
        await row.save()
    with pytest.raises(FinalizedSummaryError):
        await row.delete()

    amend = await client.submit(f"/enrollments/{run['enrollment'].id}/summary/amend", {"reason": "GP details corrected"})
    assert amend.status_code == 303
    v2_id = int(amend.headers["location"].split("/")[2])
    edited = await client.submit(f"/summaries/{v2_id}/edit", _form(run, relapse_supports="Partner, sister, Dr Hale (GP).", then="finalize"))
    assert edited.status_code == 303, edited.text[:800]

    versions = (await client.get(f"/api/v1/enrollments/{run['enrollment'].id}/summaries")).json()["items"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "finalized"), (2, "finalized")]
    assert versions[0]["content"]["relapse_plan"]["supports"] == "Partner, sister, GP."
    assert versions[1]["content"]["relapse_plan"]["supports"] == "Partner, sister, Dr Hale (GP)."
    assert versions[1]["amendment_reason"] == "GP details corrected"

    diff = (await client.get(f"/api/v1/summaries/{v2_id}/diff", params={"against": summary_id})).json()
    assert diff["sections"] == [{
        "section": "relapse_plan", "title": "8. Relapse-prevention plan",
        "changes": [{"field": "Supports", "before": "Partner, sister, GP.", "after": "Partner, sister, Dr Hale (GP)."}],
    }]
    history = await client.get(f"/enrollments/{run['enrollment'].id}/summary/history")
    assert history.status_code == 200
    assert "<del>GP.</del>" in history.text and "<ins>Dr Hale (GP).</ins>" in history.text
    old = await client.get(f"/summaries/{summary_id}")
    assert old.status_code == 200 and "The latest is" in old.text


async def test_the_member_reads_it_without_section_10_or_anyone_elses_name(cohort_run):
    run = cohort_run
    member = run["member_client"]
    versions = (await member.get(f"/api/v1/enrollments/{run['enrollment'].id}/summaries")).json()["items"]
    assert versions and all(v["status"] == "finalized" for v in versions)
    assert all("safety" not in v["content"] for v in versions)
    latest = versions[-1]["id"]
    listing = await member.get("/portal/summaries")
    assert listing.status_code == 200 and f"/summaries/{latest}/pdf" in listing.text

    page = await member.get(f"/summaries/{latest}")
    assert page.status_code == 200
    for forbidden in ("Safety items", "item 9", "Passive thoughts", OTHER, "Bea", "Okafor", "Phone my brother"):
        assert forbidden not in page.text, forbidden
    assert GOALS[0] in page.text

    pdf = await member.get(f"/summaries/{latest}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text_flat = pdf_text(pdf.content)
    for goal in GOALS:
        assert goal in text_flat
    assert "6 of 8 held" in text_flat
    for forbidden in ("Safety items", "item 9", "Passive thoughts", "Bea", "Okafor"):
        assert forbidden not in text_flat, forbidden


async def test_the_facilitators_pdf_and_print_page_carry_section_10(cohort_run):
    run = cohort_run
    versions = (await run["client"].get(f"/api/v1/enrollments/{run['enrollment'].id}/summaries")).json()["items"]
    latest = versions[-1]["id"]
    pdf = await run["client"].get(f"/summaries/{latest}/pdf")
    text = pdf_text(pdf.content)
    assert "10. Safety items (facilitators only)" in text and "Passive thoughts" in text
    member_copy = await run["client"].get(f"/summaries/{latest}/pdf", params={"copy": "member"})
    member_text = pdf_text(member_copy.content)
    assert "Safety items" not in member_text
    printed = await run["client"].get(f"/summaries/{latest}/print")
    assert printed.status_code == 200 and "/static/print.css" in printed.text and "10. Safety items" in printed.text


async def test_drafts_stay_hidden_from_the_member_and_others_see_nothing(cohort_run):
    run = cohort_run
    member, other = run["member_client"], run["other_client"]
    draft_row = await ClosureSummary.filter(enrollment_id=run["enrollment"].id).order_by("-version").first()
    amend = await run["client"].submit(f"/enrollments/{run['enrollment'].id}/summary/amend", {"reason": "Add the follow-up time"})
    assert amend.status_code == 303
    v3 = int(amend.headers["location"].split("/")[2])
    assert (await member.get(f"/summaries/{v3}")).status_code == 404
    assert (await member.get(f"/api/v1/summaries/{v3}")).status_code == 404
    assert (await member.get(f"/summaries/{v3}/pdf")).status_code == 404
    # Another member of the same cohort: nothing of Ada's exists for them.
    for path in (f"/summaries/{draft_row.id}", f"/api/v1/summaries/{draft_row.id}", f"/summaries/{draft_row.id}/pdf",
                 f"/enrollments/{run['enrollment'].id}/summary/history"):
        assert (await other.get(path)).status_code == 404, path
    # Members cannot write: their finalized version is refused, a draft does not exist for them.
    assert (await member.send_json("PATCH", f"/api/v1/summaries/{draft_row.id}", {"warning_signs": "x"})).status_code == 403
    assert (await member.send_json("PATCH", f"/api/v1/summaries/{v3}", {"warning_signs": "x"})).status_code == 404


async def test_drafting_waits_for_the_termination_phase(live_server, world):
    client = await world.client("facilitator")
    response = await client.submit(f"/enrollments/{world.enrollment.id}/summary/draft")
    assert response.status_code == 409
    assert "termination phase" in response.text


async def test_the_outcome_report_has_rates_and_no_names(cohort_run, live_server):
    run = cohort_run
    coordinator = await make_user("coordinator", "Coco Ordinator")
    client = await logged_in(live_server.url, coordinator.email, PASSWORD)
    try:
        page = await client.get(f"/cohorts/{run['cohort'].id}/outcomes")
        assert page.status_code == 200
        # Tokens (CSRF, nonces) are random text that may hold "Bea": names are looked for in
        # what the page says, not in its attribute values.
        words = re.sub(r'"[^"]*"', '""', page.text)
        for name in (SUBJECT, OTHER, "Ada", "Bea"):
            assert name not in words
        assert "Saying no" not in page.text  # no narrative
        assert "Closure summaries</th><td>1 finalized, 0 in draft, 1 not started" in page.text
        api = (await client.get(f"/api/v1/cohorts/{run['cohort'].id}/outcomes")).json()
        assert api["members"] == 2
        assert api["attendance"] == {"count": 14, "of": 16, "percent": 88}
        assert api["phq9_response"] == {"count": 2, "of": 2, "percent": 100}
        assert api["phq9_remission"] == {"count": 1, "of": 2, "percent": 50}
        assert api["goals"] == {"achieved": 1, "partly": 2, "not_yet": 0}
        assert api["role_plays_done"] == 2
        # A coordinator reads but does not write summaries.
        assert (await client.submit(f"/enrollments/{run['enrollment'].id}/summary/draft")).status_code == 403
    finally:
        await client.aclose()


async def test_drafting_all_missing_keeps_each_members_record_apart(cohort_run):
    run = cohort_run
    response = await run["client"].submit(f"/cohorts/{run['cohort'].id}/summaries/draft-all")
    assert response.status_code == 303 and "drafted=1" in response.headers["location"]
    states = (await run["client"].get(f"/api/v1/cohorts/{run['cohort'].id}/summaries")).json()["items"]
    assert all(item["state"] != "missing" for item in states)
    bea = next(item for item in states if item["member"] == OTHER)
    content = (await run["client"].get(f"/api/v1/summaries/{bea['latest_id']}")).json()["content"]
    assert [g["text"] for g in content["goals"]] == ["Phone my brother"]
    assert content["skills"] == [] and content["safety"] == []
    assert (content["overview"]["group_sessions_attended"], content["overview"]["group_sessions_held"]) == (8, 8)
    phq = content["symptoms"][0]
    assert (phq["baseline"]["total"], phq["last"]["total"], phq["remission"]) == (20, 4, True)
    # Nothing left to draft: a second press changes nothing.
    again = await run["client"].submit(f"/cohorts/{run['cohort'].id}/summaries/draft-all")
    assert "drafted=0" in again.headers["location"]


async def test_no_summary_for_someone_who_never_joined(cohort_run):
    from models.cohorts import EnrollmentStatus

    run = cohort_run
    invited = await make_user("member", "Ivo Invited")
    enrollment = await enroll(run["cohort"], invited, status=EnrollmentStatus.INVITED)
    response = await run["client"].send_json("POST", f"/api/v1/enrollments/{enrollment.id}/summaries")
    assert response.status_code == 409 and response.json()["code"] == "not_enrolled"
