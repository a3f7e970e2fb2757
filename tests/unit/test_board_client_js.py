"""The board client's modules that touch no page (its clock and its copy of the view),
tested with Node's own test runner: tests/js/board/*.test.mjs."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS_TESTS = Path(__file__).resolve().parents[1] / "js" / "board"


def test_board_client_modules_pass_their_node_tests():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; `make test` installs it (scripts/install-system-deps)")
    files = sorted(str(p) for p in JS_TESTS.glob("*.test.mjs"))
    assert files, "no board client tests found"
    result = subprocess.run([node, "--test", *files], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
