"""The board's words are defined once (server/board/vocabulary.py): the models store them,
the board's rules accept them, the page receives them; and the pure modules stay pure."""
from __future__ import annotations

import ast
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.board import vocabulary
from server.board.decide import decide
from server.board.state import BoardInvalid, Command
from server.board.vocabulary import (
    ATTENDED,
    FEEDBACK_STAGES,
    MARKS,
    AttendanceStatus,
    FeedbackStage,
    GoalStatus,
    TurnStage,
    TurnStatus,
    page_words,
)
from tests.unit.test_board_state import ANA, Board

BOARD = Path(__file__).resolve().parents[2] / "server" / "board"
PURE = ("vocabulary", "state", "decide", "arguments", "turns", "opening", "views", "frames")


def test_the_models_store_the_vocabulary_itself():
    from models import board, clinical

    assert board.AttendanceStatus is AttendanceStatus and board.TurnStatus is TurnStatus
    assert clinical.GoalStatus is GoalStatus
    assert board.Attendance._meta.fields_map["status"].enum_type is AttendanceStatus
    assert clinical.Goal._meta.fields_map["status"].enum_type is GoalStatus


def test_the_page_gets_every_mark_goal_status_stage_and_voice_in_order():
    words = page_words()
    assert [value for value, _ in words["attendance"]] == [
        "present", "late", "absent_notified", "absent_unnotified"]
    assert all(label for _, label in words["attendance"])
    assert words["attended"] == ["present", "late"]
    assert words["goal_statuses"] == ["active", "achieved", "revised", "dropped"]
    assert words["rating_max"] == vocabulary.RATING_MAX == 4
    assert set(words["stage_labels"]) == {str(stage) for stage in TurnStage}
    assert [voice for voice, _ in words["feedback_voices"]] == [str(s) for s in FEEDBACK_STAGES]
    assert FEEDBACK_STAGES[0] is FeedbackStage.PROTAGONIST  # IPT-G: the protagonist speaks first


def test_every_event_has_words_a_facilitator_reads_for_undo_and_the_activity_list():
    from server.board.state import EVENT_TYPES

    labels = page_words()["event_labels"]
    assert set(labels) == set(EVENT_TYPES)
    assert all(label and "_" not in label and "checkin" not in label for label in labels.values())
    assert labels["checkin_advanced"] == "moved on in the check-in"  # not "checkin advanced"
    assert labels["turn_started"] == "role play started" and labels["role_reversal_started"] == "moved to role reversal"


def test_attended_marks_are_marks_and_withdrawn_is_never_one():
    assert set(ATTENDED) <= set(MARKS)
    assert AttendanceStatus.WITHDRAWN not in MARKS


@pytest.mark.parametrize("status", ["withdrawn", "absent", "Present"])
def test_the_board_refuses_a_mark_outside_the_vocabulary(status):
    board = Board()
    with pytest.raises(BoardInvalid) as refused:
        decide(board.state, Command("mark_attendance", {"member": "1", "status": status}), ANA,
               datetime(2026, 11, 23, 18, 5, tzinfo=UTC))
    assert refused.value.code == "invalid_argument"


def test_state_never_imports_decide():
    """decide reads the state; the state knows nothing of deciding."""
    for name in ("state", "vocabulary", "arguments"):
        tree = ast.parse((BOARD / f"{name}.py").read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not imported & {"server.board.decide", "server.board.turns"}, name


def test_the_pure_modules_and_the_package_import_no_database_web_or_clock():
    code = (
        "import sys\n"
        f"for name in {PURE!r}: __import__('server.board.' + name)\n"
        "import server.board\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tortoise', 'starlette', 'models')"
        " or m == 'server.clock')\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            cwd=BOARD.parents[1])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""

