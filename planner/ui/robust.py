"""Robustness page: futures of the uncertain assumptions, solved on Dask, regret and frequency.

The page picks a built-in or saved scenario, shows its ``[uncertainty]`` ranges for editing,
and runs :func:`planner.robust.run_robust` in a background thread of this session (a local
Dask cluster of worker processes) with progress and Cancel; finished futures stay in the run's
folder, so running again continues. Results: sites sized by selection frequency with the
recommended network highlighted, the regret table, the recommended network against the
base-case optimum, the PAWN sensitivity chart and the files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import tempfile
import threading
import time
import tomllib
import traceback
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from planner.errors import PlannerError
from planner.models import CancelToken
from planner.robust import RobustProgress, analyse, network_sites, run_robust
from planner.robust_export import robust_summary, robust_tables, write_robust_outputs
from planner.run import run_scenario
from planner.scenarios import (
    Scenario,
    builtin_scenarios,
    load_scenario,
    scenario_from_dict,
    scenario_to_toml,
)
from planner.ui import cache, state
from planner.ui.i18n import md, num, pct, t

RB_SOURCE = "rb_source"
RB_RANGES = "rb_ranges"
RB_SAMPLES = "rb_samples"
RB_WORKERS = "rb_workers"
RB_RUN = "rb_run"
RB_CANCEL = "rb_cancel"
RB_JOB = "rb_job"
RB_RESULT = "rb_result"
RB_ERROR = "rb_error"
_SAVED = "saved: "


@dataclass
class RobustJob:
    """One background robustness run of this session (the thread never touches Streamlit)."""

    scenario: Scenario
    n_samples: int
    workers: int
    time_limit_s: float
    out_dir: str
    token: CancelToken = field(default_factory=CancelToken)
    last: RobustProgress | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    internal: bool = False
    finished: float | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> bool:
        """Whether the thread has finished."""
        return self.finished is not None

    def start(self) -> None:
        """Run in a daemon thread: the futures, the analysis, the files, the base case."""

        def work() -> None:
            try:
                run = run_robust(
                    self.scenario, self.n_samples, self.out_dir, workers=self.workers,
                    time_limit_s=self.time_limit_s, progress=self._progress, cancel=self.token,
                )  # fmt: skip
                if run.cancelled:
                    self.error = "cancelled"
                    return
                analysis = analyse(self.scenario, self.out_dir, self.n_samples)
                paths = write_robust_outputs(self.scenario, run, analysis, self.out_dir)
                base = run_scenario(self.scenario, time_limit_s=self.time_limit_s)
                self.result = {
                    "summary": robust_summary(self.scenario, run, analysis),
                    "tables": robust_tables(analysis),
                    "files": {n: p.read_bytes() for n, p in paths.items()},
                    "base_sites": network_sites(base) if base.solution.has_solution else [],
                }
            except PlannerError as exc:
                self.error = str(exc)
            except Exception as exc:  # noqa: BLE001 - a failing run must not take the app down
                self.error = f"{type(exc).__name__}: {exc}"
                self.internal = True
                traceback.print_exc()
            finally:
                self.finished = time.monotonic()

        threading.Thread(target=work, name="planner-robust", daemon=True).start()

    def _progress(self, p: RobustProgress) -> None:
        self.last = p


def _sources() -> list[str]:
    names = list(builtin_scenarios())
    with contextlib.suppress(PlannerError):
        names += [_SAVED + r.name for r in cache.workspace().list_scenarios()]
    return names


def _load(source: str) -> Scenario:
    if source.startswith(_SAVED):
        scenario = cache.workspace().load_scenario(source.removeprefix(_SAVED))
        if not scenario.uncertainty.parameters:  # a saved scenario without ranges
            kind = "two_echelon" if scenario.model.kind == "two_echelon" else "default"
            scenario = scenario.replace(uncertainty=load_scenario(kind).uncertainty)
    else:
        scenario = load_scenario(source)
    n_farms = state.env_int(state.ENV_N_FARMS, scenario.data.n_farms)
    return scenario.replace(data=dataclasses.replace(scenario.data, n_farms=n_farms))


def _ranges_table(scenario: Scenario) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "parameter": [p.path for p in scenario.uncertainty.parameters],
            "distribution": [p.distribution for p in scenario.uncertainty.parameters],
            "low": [p.low for p in scenario.uncertainty.parameters],
            "high": [p.high for p in scenario.uncertainty.parameters],
            "reason": [p.reason for p in scenario.uncertainty.parameters],
        }
    )


def _with_ranges(scenario: Scenario, edited: pd.DataFrame) -> Scenario:
    """Apply edited low/high to the uniform and triangular/normal ranges (validated)."""
    doc = tomllib.loads(scenario_to_toml(scenario))
    params = doc.get("uncertainty", {}).get("parameters", {})
    for path, low, high in zip(edited["parameter"], edited["low"], edited["high"], strict=True):
        spec = params.get(str(path))
        if spec is None or spec["distribution"] == "choice":
            continue
        spec["low"], spec["high"] = float(low), float(high)
        if "mode" in spec:
            spec["mode"] = min(max(spec["mode"], spec["low"]), spec["high"])
        if "mean" in spec:
            spec["mean"] = min(max(spec["mean"], spec["low"]), spec["high"])
    return scenario_from_dict(doc, source=t("robust_title"), base_dir=scenario.base_dir)


def _cancel() -> None:
    job: RobustJob | None = st.session_state.get(RB_JOB)
    if job is not None:
        job.token.cancel()


@st.fragment(run_every=0.7)
def _progress_panel() -> None:
    job: RobustJob | None = st.session_state.get(RB_JOB)
    if job is None:
        return
    if job.done:
        del st.session_state[RB_JOB]
        if job.result is not None:
            st.session_state[RB_RESULT] = job.result
            st.session_state.pop(RB_ERROR, None)
        elif job.error == "cancelled":
            st.session_state[RB_ERROR] = ("warning", t("robust_cancelled"))
        elif job.internal:
            st.session_state[RB_ERROR] = ("error", t("internal_error", err=job.error))
        else:
            st.session_state[RB_ERROR] = ("error", job.error or "")
        st.rerun()
    p = job.last
    c = st.columns([6, 1])
    if p is None:
        c[0].progress(0.0, text=t("preparing"))
    else:
        eta = "-" if p.eta_s != p.eta_s else f"{p.eta_s:,.0f} s"  # nan before the first task
        label = t("robust_phase_" + p.phase)
        text = t("robust_progress", phase=label, done=p.done, total=p.total, eta=eta)
        c[0].progress(min(p.done / max(p.total, 1), 1.0), text=text)
    c[1].button(t("cancel"), key=RB_CANCEL, on_click=_cancel, type="secondary")


def _results(result: dict[str, Any]) -> None:
    summary, tables = result["summary"], result["tables"]
    rec = summary["recommended_network"]
    st.success(
        t("robust_summary_line").format(
            samples=summary["solved_samples"], networks=summary["n_networks"], recommended=rec
        )
    )
    cols = st.columns(3)
    cols[0].metric(t("robust_recommended"), rec)
    cols[1].metric(t("robust_best_expected"), summary["best_expected_network"])
    cols[2].metric(t("robust_max_regret"), num(summary["recommended_max_regret"]))
    freq = tables["site_frequency"].copy()
    freq["size_m"] = 8_000 + 40_000 * freq["frequency"]
    freq["color"] = ["#d62728" if r else "#1f77b4" for r in freq["in_recommended"]]
    st.subheader(t("robust_frequency"))
    st.map(freq, latitude="lat", longitude="lon", size="size_m", color="color")
    st.caption(t("robust_map_caption"))
    shown = freq[["name", "site_id", "frequency", "in_recommended"]].copy()
    shown["frequency"] = [pct(v) for v in shown["frequency"]]
    st.dataframe(shown, hide_index=True, key="rb_freq_table")
    st.subheader(t("robust_networks"))
    st.dataframe(tables["networks"], hide_index=True, key="rb_networks_table")
    st.subheader(t("robust_vs_base"))
    recommended, base = set(summary["recommended_sites"]), set(result["base_sites"])
    names = dict(zip(freq["site_id"], freq["name"], strict=True))
    rows = [
        {"site_id": s, "name": names.get(s, s),
         t("robust_recommended"): s in recommended, t("robust_base_case"): s in base}
        for s in sorted(recommended | base)
    ]  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="rb_vs_base_table")
    st.subheader(t("robust_sensitivity"))
    sens = pd.DataFrame(summary["sensitivity"])
    fig = go.Figure()
    for output in ("cost", "choice"):
        part = sens[sens["output"] == output]
        fig.add_bar(
            x=part["index"].fillna(0.0), y=part["parameter"], orientation="h",
            name=t("robust_output_" + output),
        )  # fmt: skip
    fig.update_layout(height=300, margin={"l": 0, "r": 0, "t": 10, "b": 0}, barmode="group")
    st.plotly_chart(fig, key="rb_sensitivity_chart")
    st.subheader(t("nav_export"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in result["files"].items():
            zf.writestr(name, data)
    c = st.columns(3)
    c[0].download_button("robust.zip", buf.getvalue(), "robust.zip", key="rb_dl_zip")
    c[1].download_button(
        "robust_brief.html", result["files"]["robust_brief.html"], "robust_brief.html",
        mime="text/html", key="rb_dl_brief",
    )  # fmt: skip
    c[2].download_button(
        "regret_matrix.csv", result["files"]["regret_matrix.csv"], "regret_matrix.csv",
        mime="text/csv", key="rb_dl_regret",
    )  # fmt: skip


def render() -> None:
    """Render the Robustness page."""
    st.title(t("robust_title"))
    st.caption(t("robust_intro"))
    sources = _sources()
    source = st.selectbox(t("robust_source"), sources, key=RB_SOURCE)
    try:
        scenario = _load(str(source))
    except PlannerError as exc:
        st.error(md(str(exc)))
        return
    st.subheader(t("robust_ranges"))
    edited = st.data_editor(
        _ranges_table(scenario),
        hide_index=True,
        disabled=["parameter", "distribution", "reason"],
        key=f"{RB_RANGES}_{source}",
    )
    c = st.columns(3)
    n_samples = int(c[0].number_input(t("robust_samples"), 2, 1000, 8, key=RB_SAMPLES))
    workers = int(c[1].number_input(t("robust_workers"), 1, 64, 2, key=RB_WORKERS))
    time_limit = state.env_float(state.ENV_TIME_LIMIT, 30.0)
    c[2].metric(t("robust_time_limit"), f"{num(time_limit)} s")
    running = RB_JOB in st.session_state
    if st.button(t("robust_run"), key=RB_RUN, type="primary", disabled=running):
        try:
            chosen = _with_ranges(scenario, edited)
        except PlannerError as exc:
            st.session_state[RB_ERROR] = ("error", str(exc))
        else:
            digest = hashlib.sha256(scenario_to_toml(chosen).encode("utf-8")).hexdigest()[:16]
            out = Path(tempfile.gettempdir()) / "planner-robust" / digest
            job = RobustJob(chosen, n_samples, workers, time_limit, str(out))
            st.session_state[RB_JOB] = job
            st.session_state.pop(RB_RESULT, None)
            job.start()
            st.rerun()
    _progress_panel()
    err = st.session_state.get(RB_ERROR)
    if err is not None:
        kind, message = err
        (st.warning if kind == "warning" else st.error)(md(message))
    result = st.session_state.get(RB_RESULT)
    if result is not None:
        _results(result)
