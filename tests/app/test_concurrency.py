"""Ten simultaneous app sessions edit and solve different scenarios and never see each other.

The ten sessions are alive at the same time, each with its own session state, and their solves
run in parallel in background threads (one per session, each with its own cancel token) while
every session keeps re-running its page. AppTest itself is not thread-safe -- each run sets up
and tears down a process-wide Streamlit ``Runtime`` singleton, and CPython 3.11's
``ast.parse`` fails when scripts are compiled in several threads at once -- so the *script
runs* of the sessions are interleaved through a lock, which is what a real server's event
loop does too. What is shared between sessions is exactly what a server shares: modules,
``st.cache_resource`` values and the workspace database.
"""

from __future__ import annotations

import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from planner.store import Workspace, default_path
from tests.app.conftest import APP, PAGES, run

pytestmark = [pytest.mark.slow, pytest.mark.solver]

N_SESSIONS = 10


def _session(
    k: int, barrier: threading.Barrier, lock: threading.Lock, out: dict[int, object]
) -> None:
    def step(at: AppTest) -> AppTest:
        with lock:
            return run(at)

    try:
        at = step(AppTest.from_file(APP, default_timeout=300))
        at.switch_page(PAGES["scenario"])
        step(at)
        p = 2 + k % 5
        n_farms = 500 + 20 * k
        at.text_input(key="sc_name").set_value(f"session {k}")
        at.number_input(key="sc_p").set_value(p)
        at.number_input(key="sc_n_farms").set_value(n_farms)
        at.number_input(key="sc_farm_seed").set_value(100 + k)
        at.selectbox(key="sc_backend").set_value("heuristic")
        at.number_input(key="sc_time_limit").set_value(3.0)
        step(at)
        barrier.wait(timeout=300)
        at.button(key="sc_run").click()
        step(at)
        deadline = time.monotonic() + 400
        while "sc_job" in at.session_state and time.monotonic() < deadline:
            time.sleep(0.2)
            step(at)
        assert "sc_job" not in at.session_state, f"session {k}: the solve did not finish in time"
        step(at)
        result = at.session_state["sc_result"]
        summary = result["tables"].summary
        at.button(key="sc_save").click()
        step(at)
        out[k] = {
            "name": at.session_state["sc_name"],
            "scenario": result["scenario"].name,
            "summary_scenario": summary["scenario"],
            "open": summary["n_open_sites"],
            "farms": len(result["tables"].farms),
            "p": p,
            "n_farms": n_farms,
            "success": [s.value for s in at.success],
            "errors": [e.value for e in at.error],
        }
    except BaseException as exc:  # noqa: BLE001 - reported by the main thread
        out[k] = exc


def test_ten_sessions_solve_and_save_in_parallel_without_sharing_state() -> None:
    barrier = threading.Barrier(N_SESSIONS)
    lock = threading.Lock()
    out: dict[int, object] = {}
    threads = [
        threading.Thread(target=_session, args=(k, barrier, lock, out), name=f"session-{k}")
        for k in range(N_SESSIONS)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=900)
    failures = {k: v for k, v in out.items() if isinstance(v, BaseException)}
    assert not failures, failures
    assert sorted(out) == list(range(N_SESSIONS))
    for k, got in out.items():
        assert isinstance(got, dict)
        own = f"session {k}"
        assert got["name"] == own
        assert got["scenario"] == own
        assert got["summary_scenario"] == own
        assert got["open"] == got["p"], (k, got)
        assert got["farms"] == got["n_farms"], (k, got)
        assert not got["errors"], (k, got["errors"])
        assert any(own in s for s in got["success"]), (k, got["success"])
        assert not any(f"session {j}" in "".join(got["success"]) for j in out if j != k)
    ws = Workspace(default_path())
    assert sorted(ws.names()) == sorted(f"session {k}" for k in range(N_SESSIONS))
    for k in range(N_SESSIONS):
        res = ws.results(f"session {k}")
        assert res is not None
        assert f'"scenario": "session {k}"' in res.summary_json
