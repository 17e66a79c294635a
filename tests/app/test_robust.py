"""AppTest: the Robustness page (futures on a local Dask cluster, regret, frequency, files)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, run

PAGE = "page_scripts/robust.py"


@pytest.fixture(autouse=True)
def _private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run folders under this test's tmp_path (never reused between tests)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def _open() -> AppTest:
    at = run(AppTest.from_file(APP, default_timeout=180))
    at.switch_page(PAGE)
    return run(at)


def _wait(at: AppTest, timeout_s: float = 240.0) -> AppTest:
    deadline = time.monotonic() + timeout_s
    while "rb_job" in at.session_state and time.monotonic() < deadline:
        time.sleep(0.5)
        run(at)
    assert "rb_job" not in at.session_state, "the robustness run did not finish in time"
    return run(at)


def test_page_lists_the_ranges_in_every_language() -> None:
    at = _open()
    for lang, title in (("ru", "Устойчивость"), ("kk", "Орнықтылық"), ("en", "Robustness")):
        at.selectbox(key="ui_lang").set_value(lang)
        run(at)
        assert at.title[0].value == title
    assert at.selectbox(key="rb_source").value == "capacitated"  # first built-in
    at.selectbox(key="rb_source").set_value("default")
    run(at)
    assert at.number_input(key="rb_samples").value == 8
    assert at.button(key="rb_run").label == "Run robustness analysis"


def test_run_shows_recommendation_map_tables_and_downloads() -> None:
    at = _open()
    at.selectbox(key="rb_source").set_value("default")
    at.number_input(key="rb_samples").set_value(3)
    at.number_input(key="rb_workers").set_value(1)
    run(at)
    at.button(key="rb_run").click()
    run(at)
    at = _wait(at)
    assert not at.error, [e.value for e in at.error]
    result = at.session_state["rb_result"]
    summary = result["summary"]
    assert summary["samples"] == 3
    labels = {m.label: m.value for m in at.metric}
    assert labels["Recommended network"] == summary["recommended_network"]
    heads = [h.value for h in at.subheader]
    for head in ("Selection frequency", "Networks and regret", "Sensitivity (PAWN)"):
        assert head in heads
    assert "Recommended network against the base-case optimum" in heads
    frames = [d.value for d in at.dataframe]
    regret = next(f for f in frames if "max_regret" in f.columns)
    assert summary["recommended_network"] in set(regret["network_id"])
    vs_base = next(f for f in frames if "Base case" in f.columns)
    assert set(vs_base.loc[vs_base["Recommended network"], "site_id"]) == set(
        summary["recommended_sites"]
    )
    assert result["base_sites"], "the base-case optimum is shown against the recommendation"
    assert set(result["files"]) >= {"robust.json", "regret_matrix.csv", "robust_brief.html"}


def test_cancel_keeps_finished_futures_and_says_so() -> None:
    at = _open()
    at.selectbox(key="rb_source").set_value("default")
    at.number_input(key="rb_samples").set_value(6)
    at.number_input(key="rb_workers").set_value(1)
    run(at)
    at.button(key="rb_run").click()
    run(at)
    at.button(key="rb_cancel").click()
    at = _wait(at)
    assert "rb_result" not in at.session_state
    assert any("Cancelled" in w.value for w in at.warning)
