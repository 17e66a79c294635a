"""Lint and type checks run as part of the test suite (ruff, mypy --strict on planner/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.lint


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)


def test_ruff_check() -> None:
    res = _run(
        str(BIN / "ruff"), "check", "planner", "app.py", "setup.py", "tests", "bench", "geodata"
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_ruff_format() -> None:
    res = _run(str(BIN / "ruff"), "format", "--check", "planner", "app.py", "setup.py", "tests")
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_strict() -> None:
    res = _run(str(BIN / "mypy"), "--strict", "planner")
    assert res.returncode == 0, res.stdout + res.stderr


def test_only_ui_imports_streamlit() -> None:
    offenders = [
        str(p.relative_to(REPO))
        for p in (REPO / "planner").rglob("*.py")
        if "ui" not in p.relative_to(REPO / "planner").parts
        and "import streamlit" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_no_pickle_eval_exec() -> None:
    needles = ("import pickle", "pickle.load", "eval(", "exec(")
    bad = [
        f"{p.relative_to(REPO)}: {needle}"
        for p in (REPO / "planner").rglob("*.py")
        for needle in needles
        if needle in p.read_text(encoding="utf-8")
    ]
    assert bad == []
