"""The live board's words, defined once: attendance, goals, role-play turns and their feedback.

`models/` stores these enums as they are (their member names and order make the column
descriptions in the migrations, so keep both); the board's rules, the closure summaries
and the board page (through `page_words`, in its boot JSON) take them from here.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT_NOTIFIED = "absent_notified"
    ABSENT_UNNOTIFIED = "absent_unnotified"
    WITHDRAWN = "withdrawn"  # a stored value the board never marks (not in MARKS)


# What a facilitator marks on the board (mark_attendance), in the order the page offers them.
MARKS = (
    AttendanceStatus.PRESENT, AttendanceStatus.LATE,
    AttendanceStatus.ABSENT_NOTIFIED, AttendanceStatus.ABSENT_UNNOTIFIED,
)
# Marks that mean the member was in the room (for the session record and the closure
# summary's attendance count; on the board, "not marked yet" may be in the room too).
ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)
MARK_LABELS = {
    AttendanceStatus.PRESENT: "Present",
    AttendanceStatus.LATE: "Late",
    AttendanceStatus.ABSENT_NOTIFIED: "Absent (told us)",
    AttendanceStatus.ABSENT_UNNOTIFIED: "Absent (no word)",
}


class GoalStatus(StrEnum):
    ACTIVE = "active"
    ACHIEVED = "achieved"
    REVISED = "revised"
    DROPPED = "dropped"


# A goal's progress in one session (models.clinical.GoalProgress.rating): 0 none .. 4 achieved.
RATING_MIN, RATING_MAX = 0, 4


class TurnStatus(StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"
    SKIPPED = "skipped"


# A turn that is running: it can be paused, advanced through its stages, or ended.
LIVE_TURN = (TurnStatus.ACTIVE, TurnStatus.PAUSED)
# A turn the protagonist has had (for favouring those who have had fewer).
TURN_TAKEN = (TurnStatus.ACTIVE, TurnStatus.PAUSED, TurnStatus.DONE)


class TurnStage(StrEnum):
    """Where a running turn is: the practice, then optionally the role reversal, then the
    feedback round, then the member's next step for the week."""

    PRACTICE = "practice"
    ROLE_REVERSAL = "role_reversal"
    FEEDBACK = "feedback"
    NEXT_STEP = "next_step"


STAGE_LABELS = {
    TurnStage.PRACTICE: "Practice",
    TurnStage.ROLE_REVERSAL: "Role reversal",
    TurnStage.FEEDBACK: "Feedback round",
    TurnStage.NEXT_STEP: "Next step for the week",
}


class FeedbackStage(StrEnum):
    """IPT-G feedback norms (domain-ipt.md section 6): the protagonist's own feelings first,
    then the counterpart, then the observers' positive feedback, then the facilitator."""

    PROTAGONIST = "protagonist"
    COUNTERPART = "counterpart"
    OBSERVERS = "observers"
    FACILITATOR = "facilitator"


FEEDBACK_STAGES = tuple(FeedbackStage)
FEEDBACK_LABELS = {
    FeedbackStage.PROTAGONIST: "The protagonist: how did that feel?",
    FeedbackStage.COUNTERPART: "The counterpart",
    FeedbackStage.OBSERVERS: "Observers: positive feedback",
    FeedbackStage.FACILITATOR: "Facilitator",
}


# What each board event did, as a facilitator reads it in the activity list and on the undo
# button ("Undo: moved on in the check-in"); one per event type of server/board/state.py.
EVENT_LABELS = {
    "board_opened": "board opened",
    "safety_items_updated": "safety items updated",
    "attendance_marked": "attendance marked",
    "checkin_started": "check-in started",
    "checkin_advanced": "moved on in the check-in",
    "checkin_ended": "check-in ended",
    "turn_added": "role play added to the queue",
    "turn_updated": "role play changed",
    "queue_reordered": "queue reordered",
    "turn_started": "role play started",
    "turn_paused": "role play paused",
    "turn_resumed": "role play resumed",
    "role_reversal_started": "moved to role reversal",
    "feedback_started": "moved to the feedback round",
    "feedback_advanced": "moved on in the feedback round",
    "next_step_recorded": "next step recorded",
    "turn_ended": "role play ended",
    "turn_skipped": "role play skipped",
    "timer_started": "timer started",
    "timer_paused": "timer paused",
    "timer_resumed": "timer resumed",
    "timer_extended": "timer extended",
    "timer_stopped": "timer stopped",
    "goal_rated": "goal rated",
    "goal_status_changed": "goal status changed",
    "note_added": "note added",
    "display_labels_set": "display names changed",
    "step_undone": "step undone",
    "meeting_closed": "session closed",
}


def page_words() -> dict[str, Any]:
    """The words the board page offers and shows, in order, for its boot JSON."""
    return {
        "attendance": [[str(mark), MARK_LABELS[mark]] for mark in MARKS],
        "attended": [str(mark) for mark in ATTENDED],
        "goal_statuses": [str(status) for status in GoalStatus],
        "rating_max": RATING_MAX,
        "stage_labels": {str(stage): label for stage, label in STAGE_LABELS.items()},
        "feedback_voices": [[str(stage), FEEDBACK_LABELS[stage]] for stage in FeedbackStage],
        "event_labels": EVENT_LABELS,
    }
