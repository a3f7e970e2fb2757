"""Retention's pure parts: the setting, the cutoff, and what a purged member leaves in a board log."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.platform.settings import Settings, SettingsError
from server.records.retention import REDACTED, redact_board_log, retention_years, years_before


def settings(**extra: str) -> Settings:
    return Settings(database_url="sqlite://:memory:", secret_key="x", base_url="http://127.0.0.1", extra=extra)


def test_nothing_is_purged_until_the_clinic_sets_a_retention():
    assert retention_years(settings()) is None
    assert retention_years(settings(GROUPIPT_RETENTION_YEARS="")) is None
    assert retention_years(settings(GROUPIPT_RETENTION_YEARS="10")) == 10


@pytest.mark.parametrize("value", ["0", "-3", "ten", "2.5"])
def test_a_retention_that_is_not_a_whole_number_of_years_is_refused_by_name(value):
    with pytest.raises(SettingsError, match=f"GROUPIPT_RETENTION_YEARS has value '{value}'"):
        retention_years(settings(GROUPIPT_RETENTION_YEARS=value))


def test_the_cutoff_of_a_leap_day_is_the_28th():
    assert years_before(datetime(2028, 2, 29, 12, tzinfo=UTC), 1) == datetime(2027, 2, 28, 12, tzinfo=UTC)
    assert years_before(datetime(2026, 12, 2, tzinfo=UTC), 10) == datetime(2016, 12, 2, tzinfo=UTC)


LOG = [
    (1, "board_opened", {"meeting": 4}),
    (2, "attendance_marked", {"member": "7", "status": "present", "reason": "came late, upset"}),
    (3, "attendance_marked", {"member": "8", "status": "present", "reason": "on time"}),
    (4, "turn_added", {"turn": "1", "protagonist": "7", "counterpart": {"kind": "facilitator", "id": "2"},
                       "role_label": "my husband", "scenario": "Tell him I need help", "goal": "30"}),
    (5, "turn_added", {"turn": "2", "protagonist": "8", "counterpart": {"kind": "member", "id": "7"},
                       "role_label": "my boss", "scenario": "Ask for a day off"}),
    (6, "next_step_recorded", {"turn": "1", "text": "Talk to him on Sunday"}),
    (7, "next_step_recorded", {"turn": "2", "text": "Ask on Monday"}),
    (8, "goal_rated", {"goal": "30", "rating": 2}),
    (9, "note_added", {"text": "Seven spoke of the divorce", "member": "7"}),
    (10, "note_added", {"text": "A calm start"}),
]


def test_a_purged_members_content_is_redacted_in_place_and_nothing_else_changes():
    changed = redact_board_log(LOG, enrollments={"7"}, goals={"30"})
    assert sorted(changed) == [2, 4, 6, 9]
    assert changed[2] == {"member": "7", "status": "present", "reason": REDACTED}
    assert changed[4]["scenario"] == REDACTED and changed[4]["role_label"] == REDACTED
    assert changed[4]["protagonist"] == "7" and changed[4]["goal"] == "30"  # ids stay: the log replays
    assert 5 not in changed and 7 not in changed  # another member's turn, where they only played a part
    assert changed[6] == {"turn": "1", "text": REDACTED}  # the next step of their own turn
    assert changed[9] == {"text": REDACTED, "member": "7"}
    # the event data given in is not modified
    assert LOG[1][2]["reason"] == "came late, upset"


def test_a_log_without_the_member_is_untouched():
    assert redact_board_log(LOG, enrollments={"99"}, goals=set()) == {}
