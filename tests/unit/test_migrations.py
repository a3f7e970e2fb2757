"""Models and migrations must agree: `tortoise makemigrations` on a copy finds nothing new."""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_makemigrations_finds_no_changes(tmp_path):
    work = tmp_path / "project"
    work.mkdir()
    for name in ("models", "migrations", "server", "calendars"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
    before = sorted(p.name for p in (work / "migrations").glob("*.py"))
    env = {**os.environ, "GROUPIPT_VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(work)}
    env.pop("GROUPIPT_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", "from tortoise.cli import main; main()", "makemigrations"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    after = sorted(p.name for p in (work / "migrations").glob("*.py"))
    assert after == before, (
        f"models changed without a migration; run `make migrations` (new: {set(after) - set(before)})\n{result.stdout}"
    )


def test_model_docstrings_have_no_semicolons():
    # Tortoise 1.1.9 turns a model's docstring into a table comment, and its SQLite
    # migration splits statements on ';', so a docstring with ';' breaks `migrate`.
    offenders = []
    for path in (ROOT / "models").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                doc = ast.get_docstring(node) or ""
                if ";" in doc:
                    offenders.append(f"{path.name}:{node.name}")
    assert not offenders, f"model docstrings with ';' (use ',' instead): {offenders}"
