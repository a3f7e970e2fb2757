"""One board per meeting on SQLite again (issue 12).

On SQLite, 0002 rebuilt `boards` without the UNIQUE on `meeting_id` that the model (a
one-to-one field) and PostgreSQL have, so concurrent first connections to a board could
open it several times. This restores the rule as a unique index (SQLite's way of adding
one to an existing table, without rebuilding it), after merging any duplicates:

- the meeting keeps the board with the most events (the oldest if equal);
- a duplicate's events after its opening are appended to the kept board's log in their
  own order, renumbered after its head (a command id the kept log already holds is
  dropped from the moved event, the event itself is kept): nothing anyone did is lost;
- the merged log must replay through the board's state machine, as every board is read
  on start-up; if it does not, the migration stops and changes nothing, naming the boards.

PostgreSQL kept the constraint, so it cannot hold duplicates: there this does nothing.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tortoise import migrations
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations import operations as ops

INDEX = "boards_meeting_id_key"  # PostgreSQL's name for the same constraint


async def one_board_per_meeting(apps: Any, schema_editor: Any) -> None:
    db: BaseDBAsyncClient = schema_editor.client
    if db.capabilities.dialect != "sqlite":
        return
    duplicated = await db.execute_query_dict(
        "SELECT meeting_id FROM boards GROUP BY meeting_id HAVING count(*) > 1 ORDER BY meeting_id")
    for row in duplicated:
        await _merge_boards_of(db, row["meeting_id"])
    await db.execute_script(f'CREATE UNIQUE INDEX IF NOT EXISTS "{INDEX}" ON "boards" ("meeting_id")')


async def back_to_0002(apps: Any, schema_editor: Any) -> None:
    db: BaseDBAsyncClient = schema_editor.client
    if db.capabilities.dialect == "sqlite":
        await db.execute_script(f'DROP INDEX IF EXISTS "{INDEX}"')


async def _merge_boards_of(db: BaseDBAsyncClient, meeting_id: int) -> None:
    boards = await db.execute_query_dict(
        "SELECT b.id, b.closed_at, (SELECT count(*) FROM board_events e WHERE e.board_id = b.id) AS events"
        " FROM boards b WHERE b.meeting_id = ? ORDER BY events DESC, b.id", [meeting_id])
    keep, others = boards[0], boards[1:]
    log = await _events(db, keep["id"])
    taken = {e["client_cmd_id"] for e in log if e["client_cmd_id"] is not None}
    moved: list[dict[str, Any]] = []
    for other in others:
        for event in await _events(db, other["id"]):
            if event["seq"] == 1 and event["type"] == "board_opened":
                continue  # the same roster the kept board opened with
            command_id = event["client_cmd_id"]
            event = dict(event, seq=len(log) + 1, client_cmd_id=None if command_id in taken else command_id)
            taken.add(command_id)
            log.append(event)
            moved.append(event)
    _check_replays(meeting_id, [b["id"] for b in boards], log)
    for event in moved:
        await db.execute_query(
            "INSERT INTO board_events (board_id, seq, type, data, audience, actor_id, client_cmd_id, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [keep["id"], event["seq"], event["type"], event["raw_data"], event["audience"], event["actor_id"],
             event["client_cmd_id"], event["at"]])
    closed = [b["closed_at"] for b in boards if b["closed_at"] is not None]
    if closed:
        await db.execute_query("UPDATE boards SET closed_at = ? WHERE id = ?", [max(closed), keep["id"]])
    for other in others:
        await db.execute_query("DELETE FROM board_events WHERE board_id = ?", [other["id"]])
        await db.execute_query("DELETE FROM boards WHERE id = ?", [other["id"]])


async def _events(db: BaseDBAsyncClient, board_id: int) -> list[dict[str, Any]]:
    rows = await db.execute_query_dict(
        "SELECT seq, type, data AS raw_data, audience, actor_id, client_cmd_id, at FROM board_events"
        " WHERE board_id = ? ORDER BY seq", [board_id])
    return [dict(row) for row in rows]


def _check_replays(meeting_id: int, board_ids: list[int], log: list[dict[str, Any]]) -> None:
    from server.board.state import Event, replay

    try:
        replay([Event(seq=e["seq"], type=e["type"], data=json.loads(e["raw_data"]), audience=e["audience"],
                      actor={"id": str(e["actor_id"]), "name": ""} if e["actor_id"] is not None else None,
                      at=datetime.fromisoformat(str(e["at"]))) for e in log])
    except Exception as exc:
        raise RuntimeError(
            f"meeting {meeting_id} has boards {board_ids}, whose logs cannot be merged into one that replays"
            f" ({exc!r}); nothing was changed. Keep the board to use and delete the others' rows by hand,"
            " then migrate again.") from exc


class Migration(migrations.Migration):
    dependencies = [('models', '0002_board_head_from_log')]

    initial = False

    operations = [
        ops.RunPython(one_board_per_meeting, back_to_0002),
    ]
