"""The live board's event log and the meeting record it leaves (owned by the board area)."""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

# The board's words live in the pure layer; the columns below store them as they are.
from server.board.vocabulary import AttendanceStatus, TurnStatus

__all__ = [
    "Attendance", "AttendanceStatus", "Board", "BoardEvent", "BoardSnapshot", "FacilitatorNote", "RolePlayTurn",
    "TurnStatus",
]


class Board(Model):
    id = fields.IntField(primary_key=True)
    meeting = fields.OneToOneField("models.Meeting", related_name="board")
    created_at = fields.DatetimeField(auto_now_add=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "boards"


class BoardEvent(Model):
    id = fields.IntField(primary_key=True)
    board = fields.ForeignKeyField("models.Board", related_name="events")
    seq = fields.IntField()
    type = fields.CharField(max_length=48)
    data = fields.JSONField(default=dict)
    audience = fields.CharField(max_length=16, default="all")  # "all" or "facilitators"
    actor = fields.ForeignKeyField("models.User", related_name="board_events", null=True)
    client_cmd_id = fields.CharField(max_length=64, null=True)
    at = fields.DatetimeField()

    class Meta:
        table = "board_events"
        unique_together = (("board", "seq"), ("board", "client_cmd_id"))
        ordering = ["seq"]


class BoardSnapshot(Model):
    """The board's state as of event `seq`, so that loading it replays only the events after.

    A summary of the log, never trusted over it (server/board/snapshots.py): written after
    the commit of every SNAPSHOT_EVERY-th event, read only if its `version` is the state
    format `apply` makes now and `fingerprint` still matches the log's event `seq`.
    `state` is the state's JSON text (read and written by hand, on the board's hot path).
    """

    id = fields.IntField(primary_key=True)
    board = fields.ForeignKeyField("models.Board", related_name="snapshots")
    seq = fields.IntField()
    version = fields.IntField()
    fingerprint = fields.CharField(max_length=100)
    state = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "board_snapshots"
        unique_together = (("board", "seq"),)


class Attendance(Model):
    id = fields.IntField(primary_key=True)
    meeting = fields.ForeignKeyField("models.Meeting", related_name="attendance")
    enrollment = fields.ForeignKeyField("models.Enrollment", related_name="attendance")
    status = fields.CharEnumField(AttendanceStatus, max_length=20)
    reason = fields.CharField(max_length=500, default="")  # facilitators only
    recorded_by = fields.ForeignKeyField("models.User", related_name="attendance_recorded", null=True)
    recorded_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "attendance"
        unique_together = (("meeting", "enrollment"),)


class RolePlayTurn(Model):
    id = fields.IntField(primary_key=True)
    meeting = fields.ForeignKeyField("models.Meeting", related_name="turns")
    protagonist = fields.ForeignKeyField("models.Enrollment", related_name="turns")
    counterpart_user = fields.ForeignKeyField("models.User", related_name="counterpart_turns", null=True)
    counterpart_enrollment = fields.ForeignKeyField(
        "models.Enrollment", related_name="counterpart_turns", null=True
    )
    role_label = fields.CharField(max_length=80)  # "my boss", never a real name
    scenario = fields.TextField(default="")
    goal = fields.ForeignKeyField("models.Goal", related_name="turns", null=True)
    status = fields.CharEnumField(TurnStatus, max_length=16, default=TurnStatus.QUEUED)
    role_reversal = fields.BooleanField(default=False)
    feedback = fields.JSONField(default=list)
    next_step = fields.TextField(default="")
    position = fields.IntField(default=0)
    started_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "roleplay_turns"
        ordering = ["position", "id"]


class FacilitatorNote(Model):
    id = fields.IntField(primary_key=True)
    meeting = fields.ForeignKeyField("models.Meeting", related_name="notes")
    author = fields.ForeignKeyField("models.User", related_name="notes_written", null=True)
    text = fields.TextField()
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "facilitator_notes"
