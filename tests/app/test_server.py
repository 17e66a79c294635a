"""The server's start-up warm-up: idle detection and the first solve's caches."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from planner import references
from planner import run as planner_run
from planner.ui import cache, scenario, server, solving
from tests.app.conftest import open_page, run, wait_for_solve


def test_wait_until_idle_returns_when_the_process_is_quiet() -> None:
    t0 = time.monotonic()
    assert server.wait_until_idle(window_s=0.05, windows=2, timeout_s=5.0)
    assert time.monotonic() - t0 < 5.0


def test_wait_until_idle_times_out_while_the_process_is_busy() -> None:
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(range(1000))

    worker = threading.Thread(target=spin, daemon=True)
    worker.start()
    try:
        # the spinning thread uses far more than 5 % of a core in every window
        assert not server.wait_until_idle(window_s=0.1, windows=2, timeout_s=0.6)
    finally:
        stop.set()
        worker.join(5)


def test_warm_solver_fills_the_default_scenarios_inputs(monkeypatch: pytest.MonkeyPatch) -> None:

    solving._inputs_for_key.clear()
    cache._sites_for_key.clear()
    server.warm_solver()

    def fail(*_: object, **__: object) -> None:
        pytest.fail("the first solve built its inputs again after the warm-up")

    monkeypatch.setattr(planner_run, "build_inputs", fail)
    monkeypatch.setattr(planner_run, "load_sites", fail)
    monkeypatch.setattr(references, "candidate_sites", fail)  # what the sites cache calls
    default = scenario.default_scenario()
    assert len(solving.scenario_inputs(default).farms) > 0
    assert len(cache.candidate_sites(default)) > 0


def test_the_oblast_table_marks_the_first_page_as_sent() -> None:
    cache.first_page_sent.clear()  # a new event
    assert not cache.first_page_sent().is_set()
    cache.oblast_table("en")
    assert cache.first_page_sent().is_set()


def test_the_scenario_pages_first_solve_uses_the_warmed_inputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The warm-up builds the inputs under the key the Scenario page's default solve asks for."""
    solving._inputs_for_key.clear()
    server.warm_solver()

    def fail(*_: object, **__: object) -> None:
        msg = "inputs built again"
        raise AssertionError(msg)

    monkeypatch.setattr(planner_run, "build_inputs", fail)
    at = open_page("scenario")
    at.button(key="sc_run").click()
    wait_for_solve(run(at))
    assert not any("inputs built again" in str(e.value) for e in at.error), at.error
    assert any("run 1," in c.value for c in at.caption)


def test_the_first_maps_warm_up_imports_no_solver_stack() -> None:
    """Step 1 of the warm-up (the Explore map's data) stays off scipy, numba and the MIP
    solvers: each would cost the first map 0.1-0.5 s of CPU (a fresh process, as at server
    start)."""
    code = (
        "import sys\n"
        "from planner.ui import server\n"
        "assert server.warm_up() is not None\n"
        "heavy = ('scipy', 'numba', 'ortools', 'highspy')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
