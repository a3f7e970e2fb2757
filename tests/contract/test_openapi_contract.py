"""The API document tells the truth: schemathesis against /api/v1/openapi.json.

A real server over the demo clinic (cohorts, enrollments, meetings, summaries), probed with
every schemathesis check as a coordinator, a facilitator and a member, on a budget that fits CI. The
document must predict every answer: no server error, no response outside its schema, no
status it does not list, no body that matches the schema refused.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKENDS, POSTGRES_URL
from tests.support.server import ROOT, LiveServer, fresh_database

# Cases per operation and phase: about 3,000 requests per role over 49 operations.
MAX_EXAMPLES = int(os.environ.get("GROUPIPT_CONTRACT_EXAMPLES", "20"))
SEED = int(os.environ.get("GROUPIPT_CONTRACT_SEED", "12"))
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module", params=BACKENDS)
def demo_clinic(request, tmp_path_factory):
    """Its own server and database: the fuzzer changes what it finds, so no one shares it."""
    var_dir: Path = tmp_path_factory.mktemp(f"contract-{request.param}")
    database_url, drop = fresh_database(request.param, var_dir, POSTGRES_URL, migrated=True)
    server = LiveServer(var_dir=var_dir, database_url=database_url).start()
    try:
        loaded = subprocess.run(
            [sys.executable, "-m", "server.cli", "demo", "--json"],
            cwd=ROOT, env=server.env, capture_output=True, text=True, timeout=120, check=True,
        )
        demo = json.loads(loaded.stdout)
        tokens = {}
        for person in demo["users"]:
            tokens.setdefault(person["role"], person["api_token"])
        yield server, tokens, _real_ids(server.url, tokens["coordinator"])
    finally:
        server.stop()
        if drop:
            drop()


def _real_ids(base_url: str, token: str) -> dict[str, list[int]]:
    """The ids of rows the demo made, per path parameter name."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
        def get(path: str) -> dict:
            response = api.get(path)
            response.raise_for_status()
            return response.json()

        cohorts = [c["id"] for c in get("/api/v1/cohorts")["cohorts"]]
        enrollments, meetings, summaries = [], [], []
        for cohort_id in cohorts:
            enrollments += [e["id"] for e in get(f"/api/v1/cohorts/{cohort_id}/enrollments")["enrollments"]]
            meetings += [m["id"] for m in get(f"/api/v1/cohorts/{cohort_id}/meetings")["meetings"]]
            summaries += [s["latest_id"] for s in get(f"/api/v1/cohorts/{cohort_id}/summaries")["items"] if s["latest_id"]]
        return {
            "user_id": [u["id"] for u in get("/api/v1/users")["users"]],
            "cohort_id": cohorts,
            "enrollment_id": enrollments,
            "meeting_id": meetings,
            "template_id": [t["id"] for t in get("/api/v1/templates")["templates"]],
            "item_id": [i["id"] for i in get("/api/v1/safety-items")],
            "summary_id": summaries,
        }


def run_schemathesis(server: LiveServer, token: str, real_ids: dict, work_dir: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.contract.hooks",
        "GROUPIPT_CONTRACT_IDS": json.dumps(real_ids),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", f"{server.url}/api/v1/openapi.json",
            "--url", server.url,
            "--checks", "all",
            "--header", f"Authorization: Bearer {token}",
            "--max-examples", str(MAX_EXAMPLES),
            "--seed", str(SEED),
            # One worker: hypothesis describes filters with ast.parse, which CPython 3.11 can
            # break when two threads parse at once ("AST constructor recursion depth mismatch").
            "--workers", "1",
            "--generation-database", "none",
            "--no-color",
            "--report", "json", "--report-json-path", str(work_dir / "report.json"),
        ],
        cwd=work_dir, env=env, capture_output=True, text=True, timeout=600,  # its caches stay out of the tree
    )


@pytest.mark.parametrize("role", ["coordinator", "facilitator", "member"])
def test_the_document_predicts_every_answer(demo_clinic, role, tmp_path):
    server, tokens, real_ids = demo_clinic
    result = run_schemathesis(server, tokens[role], real_ids, tmp_path)
    output = result.stdout[-12000:] + result.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    failures = {failure["code"]: failure["count"] for failure in report["failures"]}
    print(f"{role}: {report['test_cases']['generated']} cases, failures by check: {failures or 'none'}")
    assert report["operations"]["tested"] == report["operations"]["total"] >= 45, output
    assert report["test_cases"]["generated"] >= 20 * report["operations"]["total"], output
    assert not report["errors"], output  # a document schemathesis cannot use is an error, not a failure
    assert failures == {}, output  # ST100 server error, ST103 undocumented status, ST200s schema, ...
    assert result.returncode == 0, output
    assert "Exception in ASGI application" not in server.log()
