"""Migration 0003 on a SQLite database that 0002 left with duplicate boards for a meeting:
the duplicates are merged without losing an event, or, when their logs cannot be merged
into one that replays, the migration stops and changes nothing."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import ROOT

OPENED = {"meeting": {"id": 5}, "members": [], "facilitators": [], "goals": [], "safety": []}
AT = "2026-11-23 18:00:00.000000+00:00"


def _migrate(path: Path, target: str | None = None) -> subprocess.CompletedProcess:
    code = """
import asyncio, sys
from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate
from server.platform.settings import tortoise_config

async def main():
    config = tortoise_config(sys.argv[1])
    async with TortoiseContext() as ctx:  # as `groupipt migrate` does (server/platform/db.py), with a target
        await ctx.init(config=config)
        await migrate(config=config, target=sys.argv[2] or None)

asyncio.run(main())
"""
    env = {**os.environ, "GROUPIPT_VAR_DIR": str(path.parent)}
    return subprocess.run([sys.executable, "-c", code, f"sqlite://{path}", target or ""], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def _board(db: sqlite3.Connection, board_id: int, events: list[tuple[str, dict, str | None]]) -> None:
    db.execute("INSERT INTO boards (id, meeting_id, created_at) VALUES (?, 5, ?)", (board_id, AT))
    for seq, (kind, data, command_id) in enumerate(events, start=1):
        db.execute("INSERT INTO board_events (board_id, seq, type, data, audience, actor_id, client_cmd_id, at)"
                   " VALUES (?, ?, ?, ?, 'facilitators', NULL, ?, ?)", (board_id, seq, kind, json.dumps(data),
                                                                         command_id, AT))


@pytest.fixture
def duplicated(tmp_path) -> Path:
    path = tmp_path / "duplicated.sqlite3"
    result = _migrate(path, "models.0002_board_head_from_log")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(path) as db:  # (foreign keys are not enforced on this connection)
        _board(db, 1, [("board_opened", OPENED, None), ("note_added", {"text": "on board 1", "member": None}, "a1")])
        _board(db, 2, [("board_opened", OPENED, None), ("note_added", {"text": "on board 2", "member": None}, "b1"),
                       ("note_added", {"text": "also on board 2", "member": None}, "a1")])
        _board(db, 3, [("board_opened", OPENED, None)])
    return path


def test_duplicate_boards_are_merged_into_the_busiest_without_losing_an_event(duplicated):
    result = _migrate(duplicated)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(duplicated) as db:
        assert db.execute("SELECT id FROM boards WHERE meeting_id = 5").fetchall() == [(2,)]
        events = db.execute("SELECT board_id, seq, type, json_extract(data, '$.text'), client_cmd_id"
                            " FROM board_events ORDER BY board_id, seq").fetchall()
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO boards (meeting_id, created_at) VALUES (5, ?)", (AT,))
    assert events == [
        (2, 1, "board_opened", None, None),
        (2, 2, "note_added", "on board 2", "b1"),
        (2, 3, "note_added", "also on board 2", "a1"),
        (2, 4, "note_added", "on board 1", None),  # moved; its command id was taken on board 2
    ]


def test_logs_that_cannot_be_merged_stop_the_migration_and_change_nothing(duplicated):
    with sqlite3.connect(duplicated) as db:  # a log that only replays on its own board
        db.execute("INSERT INTO board_events (board_id, seq, type, data, audience, client_cmd_id, at)"
                   " VALUES (1, 3, 'checkin_advanced', '{\"from\": \"9\"}', 'all', 'c1', ?)", (AT,))
    before = _dump(duplicated)
    result = _migrate(duplicated)
    assert result.returncode != 0 and "cannot be merged" in result.stderr, result.stderr
    assert _dump(duplicated) == before


def _dump(path: Path) -> tuple[list, list]:
    with sqlite3.connect(path) as db:
        return (db.execute("SELECT * FROM boards ORDER BY id").fetchall(),
                db.execute("SELECT * FROM board_events ORDER BY id").fetchall())
