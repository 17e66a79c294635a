"""App tests: a private workspace per test, a small farm count and a short time limit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "planner" / "ui" / "main.py")
# page paths relative to the app script (planner/ui/main.py), as ``switch_page`` wants them
PAGES = {
    name: f"page_scripts/{name}.py"
    for name in ("explore", "scenario", "compare", "network", "data", "export")
}
N_FARMS = 1500


@pytest.fixture(autouse=True)
def _app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    ws = tmp_path / "workspace.sqlite"
    monkeypatch.setenv("PLANNER_WORKSPACE", str(ws))
    monkeypatch.setenv("PLANNER_APP_N_FARMS", str(N_FARMS))
    monkeypatch.setenv("PLANNER_APP_TIME_LIMIT", "3")
    return ws


def run(at: AppTest) -> AppTest:
    """Run the app once and fail on any exception element."""
    at.run(timeout=180)
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(page: str, at: AppTest | None = None) -> AppTest:
    """Start the app (or reuse ``at``) and switch to ``page``."""
    if at is None:
        at = run(AppTest.from_file(APP, default_timeout=180))
    at.switch_page(PAGES[page])
    return run(at)


def wait_for_solve(at: AppTest, timeout_s: float = 120.0) -> AppTest:
    """Re-run the page until the background solve has finished."""
    deadline = time.monotonic() + timeout_s
    while "sc_job" in at.session_state and time.monotonic() < deadline:
        time.sleep(0.3)
        run(at)
    assert "sc_job" not in at.session_state, "the solve did not finish in time"
    return run(at)


def metric(at: AppTest, label: str) -> str:
    """Value of the metric with this label."""
    return next(m.value for m in at.metric if m.label == label)
