"""Backups tested by restoring them: `groupipt backup` while two facilitators write on a live
board, `groupipt restore` into a fresh database, and a server on the restored database that
still has every event acknowledged before the backup began. On SQLite and on PostgreSQL."""
from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import sys
import tarfile
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL
from tests.integration.test_board_support import BoardClient, make_board_world
from tests.support.server import ROOT, LiveServer, fresh_database


@pytest.fixture
async def bw(db):
    return await make_board_world()


@pytest.fixture
def empty_database(live_server, tmp_path):
    """A database of the live server's kind, with nothing in it."""
    url, drop = fresh_database(live_server.backend, tmp_path / "restored", POSTGRES_URL)
    (tmp_path / "restored").mkdir(exist_ok=True)
    yield url
    if drop:
        drop()


async def groupipt(env: dict, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


def env_for(live_server: LiveServer, database_url: str, var_dir: Path) -> dict:
    return {**live_server.env, "GROUPIPT_DATABASE_URL": database_url, "GROUPIPT_VAR_DIR": str(var_dir)}


async def query(database_url: str, sql: str) -> list[tuple]:
    if database_url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(database_url.split("://", 1)[1], isolation_level=None)) as conn:
            return conn.execute(sql).fetchall()
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


async def test_a_backup_taken_while_two_facilitators_write_restores_everything_acknowledged_before_it(
        live_server, bw, tmp_path, empty_database):
    loop = asyncio.get_running_loop()
    writers = [await BoardClient.open(live_server.ws_url, bw.meeting_id, bw.tokens[who]) for who in ("fac1", "fac2")]
    acked: list[tuple[float, int, str]] = []  # when the ack arrived, its seq, the note's text
    stop = asyncio.Event()

    async def write(client: BoardClient, who: str) -> None:
        n = 0
        while not stop.is_set():
            text = f"{who} note {n}"
            seq = await client.ok("add_note", {"text": text})
            acked.append((loop.time(), seq, text))
            n += 1
            await asyncio.sleep(0.03)  # under the board's 50 commands a second per client

    tasks = [asyncio.create_task(write(client, who)) for client, who in zip(writers, ("fac1", "fac2"))]
    try:
        while len(acked) < 20:
            await asyncio.sleep(0.05)
        began = loop.time()
        backup = tmp_path / "clinic.gipt"
        rc, out, err = await groupipt(live_server.env, "backup", str(backup))
        ended = loop.time()
        assert rc == 0, err
        await asyncio.sleep(0.3)  # and the board goes on after it
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    before = {text for at, _, text in acked if at <= began}
    during = [text for at, _, text in acked if began < at < ended]
    assert len(before) >= 20 and during, "both facilitators kept writing while the backup ran"
    assert "Backed up" in out

    rc, out, err = await groupipt(env_for(live_server, empty_database, tmp_path / "restored"), "restore", str(backup))
    assert rc == 0, err
    assert "migrated to models." in out and "board_events" in out

    # The restored log is whole: gap-free from 1, and it holds every note acknowledged before.
    seqs = [row[0] for row in await query(
        empty_database, f"SELECT e.seq FROM board_events e JOIN boards b ON b.id = e.board_id "
                        f"WHERE b.meeting_id = {bw.meeting_id} ORDER BY e.seq")]
    assert seqs == list(range(1, len(seqs) + 1))
    assert max(seq for at, seq, _ in acked if at <= began) <= seqs[-1]

    restored_server = LiveServer(var_dir=tmp_path / "restored", database_url=empty_database).start(timeout=120)
    try:
        back = await BoardClient.open(restored_server.ws_url, bw.meeting_id, bw.tokens["fac1"])
        notes = {note["text"] for note in back.snapshot["state"]["notes"]}
        assert before <= notes, sorted(before - notes)
        assert back.snapshot["seq"] == seqs[-1]
        await back.close()
    finally:
        restored_server.stop()
    for client in writers:
        await client.close()


async def test_backup_verify_restores_into_a_scratch_database_and_compares(live_server, bw, tmp_path):
    backup = tmp_path / "verified.gipt"
    rc, out, err = await groupipt(live_server.env, "backup", "--verify", str(backup))
    assert rc == 0, err
    assert "Verified" in out and "as its manifest lists" in out
    with tarfile.open(backup) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert manifest["backend"] == live_server.backend
    assert manifest["migration"].startswith("models.00") and manifest["counts"]["board_events"] > 0
    assert len(manifest["sha256"]) == 64 and backup.stat().st_mode & 0o077 == 0  # health records: owner only
    # an existing backup is only checked, never overwritten
    rc, out, err = await groupipt(live_server.env, "backup", "--verify", str(backup))
    assert rc == 0 and "Backed up" not in out and "Verified" in out
    rc, _, err = await groupipt(live_server.env, "backup", str(backup))
    assert rc == 2 and "already exists" in err


async def test_restore_refuses_a_database_that_holds_data(live_server, bw, tmp_path, empty_database):
    backup = tmp_path / "clinic.gipt"
    assert (await groupipt(live_server.env, "backup", str(backup)))[0] == 0
    events = "SELECT count(*) FROM board_events"
    (count_before,), = await query(live_server.database_url, events)
    rc, out, err = await groupipt(live_server.env, "restore", str(backup))
    assert rc == 2
    assert "already holds a clinic's data" in err and "--force" in err
    (count_after,), = await query(live_server.database_url, events)
    assert count_after >= count_before  # nothing was replaced (the live server may have written more)

    # Into a database of its own: once, then refused, then replaced when told to.
    env = env_for(live_server, empty_database, tmp_path / "restored")
    assert (await groupipt(env, "restore", str(backup)))[0] == 0
    tokens = "SELECT count(*) FROM api_tokens"
    await query(empty_database, "DELETE FROM api_tokens WHERE id = (SELECT max(id) FROM api_tokens)")
    (changed,), = await query(empty_database, tokens)
    rc, _, err = await groupipt(env, "restore", str(backup))
    assert rc == 2 and "already holds a clinic's data" in err
    rc, out, err = await groupipt(env, "restore", "--force", str(backup))
    assert rc == 0, err
    (restored,), = await query(empty_database, tokens)
    with tarfile.open(backup) as tar:
        assert restored == changed + 1 == json.loads(tar.extractfile("manifest.json").read())["counts"]["api_tokens"]


def damaged(backup: Path, target: Path) -> Path:
    """`backup` with one byte of its database changed."""
    with tarfile.open(backup) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("database"))
        offset = member.offset_data + member.size // 2
    data = bytearray(backup.read_bytes())
    data[offset] ^= 0xFF
    target.write_bytes(bytes(data))
    return target


async def test_a_corrupted_backup_is_refused_with_a_clear_message_and_nothing_is_restored(
        live_server, bw, tmp_path, empty_database):
    backup = tmp_path / "clinic.gipt"
    assert (await groupipt(live_server.env, "backup", str(backup)))[0] == 0
    env = env_for(live_server, empty_database, tmp_path / "restored")

    rc, out, err = await groupipt(env, "restore", str(damaged(backup, tmp_path / "flipped.gipt")))
    assert rc == 2
    assert "is damaged: its database does not match the checksum in its manifest" in err
    assert "Nothing was restored" in err and "Traceback" not in err

    cut = tmp_path / "cut.gipt"
    cut.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
    rc, out, err = await groupipt(env, "restore", str(cut))
    assert rc == 2 and "Nothing was restored" in err and "Traceback" not in err

    rc, _, err = await groupipt(env, "restore", str(tmp_path / "missing.gipt"))
    assert rc == 2 and "There is no backup at" in err

    rc, _, err = await groupipt(live_server.env, "backup", "--verify", str(tmp_path / "flipped.gipt"))
    assert rc == 2 and "does not match the checksum" in err

    tables = ("SELECT name FROM sqlite_master WHERE type = 'table'" if empty_database.startswith("sqlite")
              else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    if empty_database.startswith("sqlite") and not Path(empty_database.split("://", 1)[1]).exists():
        return  # never even created
    assert await query(empty_database, tables) == []
