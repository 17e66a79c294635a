"""Robust recommendations (planner.robust): design, cross-evaluation, regret, reuse, Dask.

The runs use small farm counts and short time limits; one LocalCluster of two worker
processes is shared by the module (the CLI reaches it by its scheduler address), the
worker-kill test starts its own, the external-scheduler test starts `dask scheduler` and two
`dask worker` processes on loopback and stops them.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed
import numpy as np
import pandas as pd
import pytest

from planner import cli
from planner.errors import ScenarioError
from planner.robust import (
    RobustProgress,
    _network_cost,
    analyse,
    dask_client,
    draw_design,
    future_scenario,
    local_cluster,
    run_robust,
    sample_values,
    sensitivity,
    value_at,
)
from planner.robust_export import robust_brief_html
from planner.run import build_inputs
from planner.scenarios import Scenario, load_scenario, save_scenario, scenario_to_toml
from planner.uncertainty import UncertainParameter, UncertaintySpec
from tests._server import free_port, stop

REPO = Path(__file__).resolve().parents[2]
TIME_LIMIT_S = 5.0


def _small(name: str, n_farms: int) -> Scenario:
    s = load_scenario(name)
    return s.replace(data=dataclasses.replace(s.data, n_farms=n_farms))


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    """Two worker processes shared by the module's runs."""
    with local_cluster(2) as c:
        yield c


# ----------------------------------------------------------------------------------------
# Design and indices (no cluster)
# ----------------------------------------------------------------------------------------
def test_sobol_design_extends_and_lhs_is_stratified() -> None:
    spec = load_scenario("default").uncertainty
    small, large = draw_design(spec, 12, seed=3), draw_design(spec, 16, seed=3)
    np.testing.assert_array_equal(small, large[:12])
    assert not np.array_equal(draw_design(spec, 12, seed=4), small)
    lhs = dataclasses.replace(spec, design="lhs")
    pts = draw_design(lhs, 10, seed=0)
    for j in range(pts.shape[1]):  # one point in each tenth of every axis
        assert sorted(np.floor(pts[:, j] * 10).astype(int)) == list(range(10))


def test_values_follow_their_distributions() -> None:
    u = (np.arange(2000) + 0.5) / 2000
    tri = UncertainParameter("travel.circuity", "triangular", 1.1, 1.5, mode=1.2)
    vals = np.array([value_at(tri, x) for x in u])
    assert vals.min() >= 1.1
    assert vals.max() <= 1.5
    assert math.isclose(vals.mean(), (1.1 + 1.2 + 1.5) / 3, rel_tol=1e-3)
    norm = UncertainParameter("travel.speed_kmh", "normal", 50, 70, mean=60, sd=5)
    vals = np.array([value_at(norm, x) for x in u])
    assert vals.min() >= 50
    assert vals.max() <= 70
    assert math.isclose(np.median(vals), 60, abs_tol=0.01)
    seed = UncertainParameter("data.farm_seed", "uniform", 1, 4, integer=True)
    assert sorted({value_at(seed, x) for x in u}) == [1.0, 2.0, 3.0, 4.0]
    pick = UncertainParameter("data.farm_seed", "choice", 7, 9, choices=(7, 9), integer=True)
    assert [value_at(pick, x) for x in (0.1, 0.49, 0.5, 0.99)] == [7, 7, 9, 9]


def test_sensitivity_ranks_the_parameter_that_drives_the_output() -> None:
    spec = UncertaintySpec(
        parameters=(
            UncertainParameter("demand.belarus_share", "uniform", 0.3, 0.6),
            UncertainParameter("travel.circuity", "uniform", 1.1, 1.5),
        )
    )
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.uniform(0.3, 0.6, 256), rng.uniform(1.1, 1.5, 256)])
    y = 10 * x[:, 1] + 0.1 * rng.standard_normal(256)
    rows = sensitivity(spec, x, {"cost": y, "choice": np.zeros(256)})
    cost = [r for r in rows if r["output"] == "cost"]
    assert cost[0]["parameter"] == "travel.circuity"
    assert cost[0]["index"] > 2 * cost[1]["index"]
    assert all(r["index"] is None for r in rows if r["output"] == "choice")  # constant output


def test_run_needs_uncertainty_and_two_samples(tmp_path: Path) -> None:
    bare = load_scenario("default").replace(uncertainty=UncertaintySpec())
    with pytest.raises(ScenarioError, match=r"no `\[uncertainty.parameters\]`"):
        run_robust(bare, 4, tmp_path)
    with pytest.raises(ScenarioError, match="--samples must be >= 2"):
        run_robust(load_scenario("default"), 1, tmp_path)


# ----------------------------------------------------------------------------------------
# The default scenario: 12 futures, then 16 reusing them (CLI)
# ----------------------------------------------------------------------------------------
def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def default_runs(
    cluster: distributed.LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, dict[str, Any], dict[str, Any]]:
    """`planner robust` of a small default scenario with 12, then 16 futures."""
    folder = tmp_path_factory.mktemp("robust")
    scenario_file = save_scenario(_small("default", 600), folder / "small.toml")
    out = folder / "out"
    args = [
        "robust", str(scenario_file), "--out", str(out), "--scheduler",
        cluster.scheduler_address, "--time-limit", str(TIME_LIMIT_S), "--quiet",
    ]  # fmt: skip
    assert cli.main([*args, "--samples", "12"]) == 0
    first = json.loads((out / "robust.json").read_text(encoding="utf-8"))
    assert cli.main([*args, "--samples", "16"]) == 0
    second = json.loads((out / "robust.json").read_text(encoding="utf-8"))
    return scenario_file, out, first, second


def test_second_run_reuses_the_first(default_runs: tuple[Path, Path, Any, Any]) -> None:
    _, _, first, second = default_runs
    assert (first["samples"], first["reused_samples"]) == (12, 0)
    assert (second["samples"], second["reused_samples"]) == (16, 12)
    assert second["engine"].startswith("dask ")
    assert second["criterion"] == "minmax_regret"
    assert second["workers"] == 2


def test_files_are_consistent(default_runs: tuple[Path, Path, Any, Any]) -> None:
    _, out, _, summary = default_runs
    samples = _read_csv(out / "samples.csv")
    networks = {r["network_id"]: r for r in _read_csv(out / "networks.csv")}
    matrix = _read_csv(out / "regret_matrix.csv")
    freq = _read_csv(out / "site_frequency.csv")
    assert len(samples) == 16
    assert len(matrix) == 16 * len(networks)
    assert set(summary["parameters"]) <= set(samples[0])
    best = {}
    for r in matrix:
        sid = int(r["sample_id"])
        best[sid] = min(best.get(sid, math.inf), float(r["cost"]))
    max_regret: dict[str, float] = {}
    for r in matrix:  # every regret = cost minus that future's best
        sid, nid = int(r["sample_id"]), r["network_id"]
        assert math.isclose(float(r["regret"]), float(r["cost"]) - best[sid], abs_tol=1e-6)
        max_regret[nid] = max(max_regret.get(nid, 0.0), float(r["regret"]))
    for s in samples:  # a future's own optimum has regret <= its gap (objective - bound)
        sid = int(s["sample_id"])
        own = next(
            r for r in matrix if int(r["sample_id"]) == sid and r["network_id"] == s["network_id"]
        )
        gap_abs = float(s["objective"]) - float(s["bound"])
        assert float(own["regret"]) <= gap_abs + 1e-6 * abs(float(s["objective"]))
    rec = summary["recommended_network"]
    assert max_regret[rec] == min(max_regret.values())
    assert summary["recommended_sites"] == networks[rec]["sites"].split()
    means = {
        n: np.mean([float(r["cost"]) for r in matrix if r["network_id"] == n]) for n in networks
    }
    assert means[summary["best_expected_network"]] == min(means.values())
    counts: dict[str, int] = {}
    for s in samples:  # frequencies = share of futures whose own network opens the site
        assert str(s["sample_id"]) in networks[s["network_id"]]["from_samples"].split()
        for site in networks[s["network_id"]]["sites"].split():
            counts[site] = counts.get(site, 0) + 1
    for r in freq:
        assert math.isclose(float(r["frequency"]), counts.get(r["site_id"], 0) / 16)
        assert (r["in_recommended"] == "True") == (r["site_id"] in summary["recommended_sites"])
    assert {r["site_id"] for r in freq} >= set(counts)
    brief = (out / "robust_brief.html").read_text(encoding="utf-8")
    assert rec in brief
    assert "PAWN" in brief
    assert {p["parameter"] for p in summary["sensitivity"]} == set(summary["parameters"])


def test_regret_matrix_cost_equals_an_independent_evaluation(
    default_runs: tuple[Path, Path, Any, Any],
) -> None:
    """Price one network in one future in this process and compare with the file."""
    scenario_file, out, _, summary = default_runs
    scenario = load_scenario(scenario_file)
    values = sample_values(scenario.uncertainty, draw_design(scenario.uncertainty, 16, 0))
    sid = 5
    future = future_scenario(
        scenario_to_toml(scenario), scenario.base_dir, values[sid], TIME_LIMIT_S
    )
    inputs = build_inputs(future)
    network = {"sites": summary["recommended_sites"]}
    cost = _network_cost(future, inputs, network)
    row = next(
        r for r in _read_csv(out / "regret_matrix.csv")
        if r["network_id"] == summary["recommended_network"] and int(r["sample_id"]) == sid
    )  # fmt: skip
    assert math.isclose(float(row["cost"]), cost, rel_tol=1e-9)
    samples = _read_csv(out / "samples.csv")
    assert math.isclose(
        float(samples[sid]["demand.belarus_share"]), values[sid]["demand.belarus_share"]
    )


def test_other_settings_in_the_same_folder_are_refused(
    default_runs: tuple[Path, Path, Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    scenario_file, out, _, _ = default_runs
    code = cli.main(["robust", str(scenario_file), "--out", str(out), "--samples", "4",
                     "--seed", "9", "--time-limit", str(TIME_LIMIT_S), "--quiet"])  # fmt: skip
    assert code == cli.EXIT_INVALID
    assert "(seed differ)" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------
# Two echelons
# ----------------------------------------------------------------------------------------
def test_two_echelon_small_sample(cluster: distributed.LocalCluster, tmp_path: Path) -> None:
    scenario = _small("two_echelon", 300)
    with distributed.Client(cluster) as client:
        run = run_robust(scenario, 3, tmp_path, time_limit_s=3.0, client=client)
    analysis = analyse(scenario, tmp_path, 3)
    assert run.samples == 3
    assert len(analysis.sample_ids) == 3
    assert analysis.cost.shape == (len(analysis.network_ids), 3)
    assert np.isfinite(analysis.cost).all()
    for j, sid in enumerate(analysis.sample_ids):
        own = analysis.network_ids.index(analysis.own[sid]["network_id"])
        # the own network re-priced with its flows re-optimised never costs more
        assert analysis.cost[own, j] <= analysis.own[sid]["cost"] * (1 + 1e-6)
    detail = analysis.network_detail[analysis.recommended]
    assert {"plants", "centres", "combine", "vans"} <= set(detail)
    assert "mtz_kz_kostanay" in analysis.network_sites[analysis.recommended]


# ----------------------------------------------------------------------------------------
# Fault tolerance and external clusters
# ----------------------------------------------------------------------------------------
def test_run_survives_a_killed_worker(tmp_path: Path) -> None:
    scenario = _small("default", 400)
    killed: list[int] = []
    with (
        local_cluster(2) as c,
        distributed.Client(c) as client,
    ):
        pids = list(client.run(os.getpid).values())

        def kill_once(p: RobustProgress) -> None:
            if p.phase == "solve" and p.done == 1 and not killed:
                os.kill(pids[0], signal.SIGKILL)  # a worker process this test started
                killed.append(pids[0])

        run = run_robust(scenario, 8, tmp_path, time_limit_s=3.0, client=client, progress=kill_once)
    assert killed
    analysis = analyse(scenario, tmp_path, 8)
    assert run.samples == 8
    assert analysis.sample_ids == tuple(range(8))


def test_external_scheduler_and_two_workers(tmp_path: Path) -> None:
    dask_bin = Path(sys.executable).with_name("dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = (tmp_path / "dask.log").open("wb")
    procs = [
        subprocess.Popen(
            [str(dask_bin), "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--dashboard-address", ":0"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    ]  # fmt: skip
    try:
        procs.extend(
            subprocess.Popen(
                [
                    str(dask_bin),
                    "worker",
                    address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--dashboard-address",
                    ":0",
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for _ in range(2)
        )
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        scenario_file = save_scenario(_small("default", 400), tmp_path / "s.toml")
        code = cli.main(["robust", str(scenario_file), "--samples", "4", "--out",
                         str(tmp_path / "out"), "--scheduler", address, "--time-limit", "3",
                         "--quiet"])  # fmt: skip
        summary = json.loads((tmp_path / "out" / "robust.json").read_text(encoding="utf-8"))
    finally:
        for proc in reversed(procs):
            stop(proc)
        log.close()
    assert code == 0, (tmp_path / "dask.log").read_text(encoding="utf-8")
    assert summary["workers"] == 2
    assert summary["solved_samples"] == 4


def test_brief_escapes_user_text() -> None:
    summary = {
        "scenario": "<script>alert(1)</script>",
        "solved_samples": 2,
        "n_networks": 1,
        "recommended_network": "N1",
        "recommended_sites": ["a<b"],
        "best_expected_network": "N1",
        "sensitivity": [{"parameter": "demand.belarus_share", "output": "cost", "index": None}],
        "uncertainty": [
            {"parameter": "demand.belarus_share", "distribution": "uniform", "low": 0.3,
             "high": 0.6, "reason": "<img src=x onerror=alert(1)>"},
        ],
        "data_notes": ["note"],
    }  # fmt: skip
    tables = {
        "site_frequency": pd.DataFrame(
            {"site_id": ["a<b"], "name": ["<b>x</b>"], "lat": [50.0], "lon": [70.0],
             "frequency": [1.0], "in_recommended": [True]}
        ),
        "networks": pd.DataFrame(
            {"network_id": ["N1"], "sites": ["a<b"], "n_sites": [1], "from_samples": ["0 1"],
             "max_regret": [0.0], "mean_cost": [1.0]}
        ),
    }  # fmt: skip
    page = robust_brief_html(summary, tables, "ru")
    assert "<script>" not in page
    assert "<img" not in page
    assert "<b>x</b>" not in page
    assert "&lt;script&gt;" in page
    assert "Устойчивость" in page


def test_local_workers_keep_glibcs_adaptive_malloc() -> None:
    # Dask's default MALLOC_TRIM_THRESHOLD_=65536 made every solve ~40 % slower inside a
    # worker (bench/README.md); the embedded cluster's workers must not have it.
    with dask_client(workers=1) as client:
        seen = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert list(seen.values()) == [None]
