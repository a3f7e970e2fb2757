"""`groupipt purge --due`: nothing until GROUPIPT_RETENTION_YEARS is set; then a member past
retention is purged, their board content redacted in place with the log gap-free, one audit
entry says what went, and everyone else's record is untouched."""
from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta

import pytest

from models.accounts import AuditEvent, User
from models.board import BoardEvent, FacilitatorNote
from models.clinical import Goal, MeasureResponse
from models.closure import ClosureSummary, SummaryStatus
from models.cohorts import Enrollment, EnrollmentStatus, EnrollmentTransition
from server import clock
from server.closure import RecordFacts, draft_summary
from tests.integration.test_board_support import BoardClient, make_board_world, turn_data
from tests.support.server import ROOT, LiveServer


async def groupipt(env: dict, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def ended_long_ago(db, live_server):
    """A board where Maria (whose only group ended three years ago) and Tom (still in one) both took part."""
    bw = await make_board_world(n_members=2)
    fac = await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
    maria, tom = bw.members
    await fac.ok("mark_attendance", {"member": maria, "status": "late", "reason": "Maria was crying in the hall"})
    await fac.ok("mark_attendance", {"member": tom, "status": "present", "reason": "Tom on time"})
    await fac.ok("add_turn", turn_data(bw, scenario="Tell my husband about the divorce lawyer"))
    await fac.ok("start_turn", {"turn": "1"})
    await fac.ok("record_next_step", {"turn": "1", "text": "Call the lawyer on Monday"})
    await fac.ok("end_turn", {"turn": "1"})
    await fac.ok("add_turn", turn_data(bw, protagonist=1, scenario="Tom asks his boss for a day off"))
    await fac.ok("rate_goal", {"goal": bw.member_goal, "rating": 3})
    await fac.ok("add_note", {"text": "Maria spoke of the divorce", "member": maria})
    await fac.ok("add_note", {"text": "Tom was calm", "member": tom})
    await fac.ok("close_meeting", {"confirm_unmarked": True})
    await fac.close()

    enrollment = await Enrollment.get(id=int(maria)).prefetch_related("member")
    await MeasureResponse.create(enrollment=enrollment, instrument="phq9", items=[2] * 9, total=18,
                                 band="moderately severe", item9=0, window="baseline", administered_at=clock.now())
    await MeasureResponse.create(enrollment_id=int(tom), instrument="phq9", items=[1] * 9, total=9, band="mild",
                                 item9=0, window="baseline", administered_at=clock.now())
    content = draft_summary(RecordFacts(cohort_title="Group session", n_group_sessions=8, start_date=None,
                                        end_date=None)).to_json()
    await ClosureSummary.create(enrollment=enrollment, version=1, status=SummaryStatus.FINALIZED, content=content,
                                finalized_at=clock.now())
    await Enrollment.filter(id=enrollment.id).update(status=EnrollmentStatus.COMPLETED,
                                                     formulation="Grief after her mother's death")
    ended = await EnrollmentTransition.create(enrollment=enrollment, from_status="enrolled", to_status="completed")
    await EnrollmentTransition.filter(id=ended.id).update(at=clock.now() - timedelta(days=3 * 366))
    return bw, enrollment.member


async def board_texts(meeting_id: int) -> str:
    rows = await BoardEvent.filter(board__meeting_id=meeting_id).order_by("seq").values_list("data", flat=True)
    return json.dumps(rows)


async def test_purge_waits_for_the_setting_then_removes_only_what_is_past_retention(live_server, ended_long_ago,
                                                                                    tmp_path):
    bw, maria = ended_long_ago
    seqs_before = await BoardEvent.filter(board__meeting_id=bw.meeting_id).order_by("seq").values_list("seq", flat=True)
    assert "divorce" in await board_texts(bw.meeting_id)

    rc, out, err = await groupipt(live_server.env, "purge", "--due")
    assert rc == 0 and "not set, so nothing is ever purged" in out, err
    assert await MeasureResponse.filter(enrollment__member_id=maria.id).count() == 1

    env = {**live_server.env, "GROUPIPT_RETENTION_YEARS": "4"}  # three years ago is within four
    rc, out, err = await groupipt(env, "purge", "--due")
    assert rc == 0, err
    assert await MeasureResponse.filter(enrollment__member_id=maria.id).count() == 1

    env = {**live_server.env, "GROUPIPT_RETENTION_YEARS": "2"}
    rc, out, err = await groupipt(env, "purge", "--due", "--dry-run")
    assert rc == 0 and f"member {maria.id}," in out
    assert await MeasureResponse.filter(enrollment__member_id=maria.id).count() == 1
    rc, out, err = await groupipt(env, "purge", "--due")
    assert rc == 0, err
    assert f"member {maria.id}:" in out

    # Maria's record is gone; the account remains as "Former member", unable to sign in.
    gone = await User.get(id=maria.id)
    assert gone.display_name == "Former member" and not gone.is_active and not gone.password_hash
    assert maria.email not in gone.email
    assert await MeasureResponse.filter(enrollment__member_id=maria.id).count() == 0
    assert await ClosureSummary.filter(enrollment__member_id=maria.id).count() == 0
    assert (await Enrollment.get(member_id=maria.id)).formulation == ""
    assert (await Goal.get(id=int(bw.member_goal))).text == "[removed]"

    # The board log keeps every event, gap-free; Maria's words are redacted in place, Tom's stay.
    seqs_after = await BoardEvent.filter(board__meeting_id=bw.meeting_id).order_by("seq").values_list("seq", flat=True)
    assert seqs_after == seqs_before == list(range(1, len(seqs_before) + 1))
    texts = await board_texts(bw.meeting_id)
    for word in ("Maria was crying", "divorce", "Call the lawyer"):
        assert word not in texts, word
    for word in ("Tom on time", "Tom asks his boss", "Tom was calm"):
        assert word in texts, word
    assert await MeasureResponse.filter(enrollment_id=int(bw.members[1])).count() == 1
    stored_notes = await FacilitatorNote.filter(meeting_id=bw.meeting_id).values_list("text", flat=True)
    assert sorted(stored_notes) == ["Tom was calm", "[removed]"]  # the meeting record the board left

    # One audit entry says what went, not what it said.
    entry = await AuditEvent.filter(subject="member_record", member_id=maria.id, action="change").first()
    assert entry is not None and "purged after 2 years" in entry.detail and "questionnaire answers" in entry.detail
    assert "divorce" not in entry.detail and "Grief" not in entry.detail

    # A server started on the purged database replays the board from its log.
    again = LiveServer(var_dir=tmp_path, database_url=live_server.database_url).start(timeout=120)
    try:
        client = await BoardClient.open(again.ws_url, bw.meeting_id, bw.tokens["fac1"])
        state = client.snapshot["state"]
        assert client.snapshot["seq"] == seqs_after[-1]
        notes = [n["text"] for n in state["notes"]]
        assert "Tom was calm" in notes and "Maria spoke of the divorce" not in notes
        await client.close()
    finally:
        again.stop()

    # Purging again finds nothing more to do.
    rc, out, err = await groupipt(env, "purge", "--due")
    assert rc == 0 and f"member {maria.id}:" not in out


async def test_the_server_purges_what_is_due_once_a_retention_is_set(live_server, ended_long_ago, tmp_path):
    bw, maria = ended_long_ago
    server = LiveServer(var_dir=tmp_path, database_url=live_server.database_url,
                        extra_env={"GROUPIPT_RETENTION_YEARS": "2"}).start(timeout=120)
    try:
        for _ in range(300):
            if (await User.get(id=maria.id)).display_name == "Former member":
                break
            await asyncio.sleep(0.2)
    finally:
        server.stop()
    assert (await User.get(id=maria.id)).display_name == "Former member"
    assert await MeasureResponse.filter(enrollment__member_id=maria.id).count() == 0
    assert "divorce" not in await board_texts(bw.meeting_id)
    assert await AuditEvent.filter(subject="member_record", member_id=maria.id, action="change").count() == 1


def test_a_retention_that_is_not_a_number_of_years_stops_the_server_at_start(live_server, tmp_path):
    server = LiveServer(var_dir=tmp_path, database_url=live_server.database_url,
                        extra_env={"GROUPIPT_RETENTION_YEARS": "forever"})
    with pytest.raises(RuntimeError, match="GROUPIPT_RETENTION_YEARS has value 'forever'"):
        server.start(timeout=120)
    server.stop()
