"""End-to-end tests of the `planner` command (output contract of `planner solve`)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from planner import cli, geodata, run
from planner import farms as farms_mod
from planner.cli import main
from planner.models import check_solution
from planner.run import ScenarioResult
from tests.planner import _independent as ind
from tests.planner.test_agri import check_assumption_notes

SUMMARY_KEYS = {
    "scenario",
    "model",
    "status",
    "objective",
    "bound",
    "gap",
    "runtime_s",
    "n_open_sites",
    "total_demand",
    "covered_demand_share",
    "mean_travel_km",
    "p95_travel_km",
    "data_notes",
}
SITES_COLUMNS = [
    "site_id",
    "name",
    "oblast_iso",
    "lat",
    "lon",
    "role",
    "status",
    "assigned_demand",
    "capacity",
    "utilisation",
]
ASSIGNMENT_COLUMNS = ["farm_id", "site_id", "travel_km", "travel_time_min", "demand"]


def _solve(argv: Sequence[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, ScenarioResult]:
    """Run `planner` with ``argv`` and return its exit code and the result it computed.

    The CLI solves through the one pipeline, :func:`planner.run.run_scenario` (recorded where
    the CLI looks it up).
    """
    seen: list[ScenarioResult] = []
    real = run.run_scenario
    assert cli.run_scenario is real

    def recording(*args: Any, **kwargs: Any) -> ScenarioResult:  # noqa: ANN401
        result = real(*args, **kwargs)
        assert isinstance(result, ScenarioResult)
        seen.append(result)
        return result

    monkeypatch.setattr(cli, "run_scenario", recording)
    code = main(list(argv))
    assert len(seen) == 1
    return code, seen[0]


def _recomputed_objective(result: ScenarioResult, written: ind.Written) -> float:
    """The model's objective from the written files and the scenario's cost inputs."""
    a, sites = written.assignments, written.sites
    served = a["site_id"] != ""
    w, km = a["demand"].to_numpy(), a["travel_km"].to_numpy()
    kind = result.scenario.model.kind
    fixed = pd.Series(result.inputs.site_data.fixed_cost, index=list(result.inputs.site_data.ids))
    open_fixed = float(fixed[sites.loc[sites["status"] != "closed", "site_id"]].sum())
    if kind == "p_median":
        return float((w * km)[served].sum()) + open_fixed
    if kind == "cflp":
        st = result.scenario.sites
        kzt_per_hour_km = 2.0 * st.travel_cost_kzt_per_km / st.service_hours_per_visit
        return open_fixed + kzt_per_hour_km * float((w * km)[served].sum())
    if kind == "mclp":
        radius = result.scenario.model.service_radius_km
        return float(w[served & (km <= radius + 5e-4)].sum())
    if kind == "set_cover":
        return open_fixed if (fixed > 0).any() else float(len(written.summary["open_sites"]))
    if result.scenario.model.weighted:
        return float((w * km)[served].max())
    return float(km[served].max())


def _check_run(out: Path, result: ScenarioResult, *, p: int | None) -> ind.Written:
    """Check the solution, then every written file by value, independently of results.py."""
    report = check_solution(result.problem, result.solution)
    assert report.ok, report.violations
    model, travel = result.scenario.model, result.scenario.travel
    farms = ind.farm_table(result.inputs.farms, result.inputs.weights)
    written = ind.check_single_echelon(
        out,
        farms=farms,
        speed_kmh=travel.speed_kmh,
        circuity=travel.circuity,
        p=p,
        capacitated=model.capacitated or model.kind == "cflp",
        radius_km=model.service_radius_km if model.kind in ("mclp", "set_cover") else None,
    )
    assert written.summary["objective"] == pytest.approx(report.objective, rel=1e-9)
    assert _recomputed_objective(result, written) == pytest.approx(report.objective, rel=1e-5)
    ob = geodata.load_oblasts()
    names = dict(zip(ob["iso"].astype(str), ob["name_en"].astype(str), strict=True))
    ind.check_exports(out, written, farms, names)
    return written


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ScenarioResult]:
    out = tmp_path_factory.mktemp("out")
    with pytest.MonkeyPatch.context() as mp:
        code, result = _solve(
            ["solve", "default", "--out", str(out), "--time-limit", "20", "--quiet"], mp
        )
    assert code == 0
    return out, result


@pytest.mark.solver
@pytest.mark.slow
def test_solve_default_writes_the_contract(default_run: tuple[Path, ScenarioResult]) -> None:
    out, result = default_run
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary) >= SUMMARY_KEYS
    assert summary["scenario"] == "default"
    assert summary["model"] == "p_median"
    assert summary["status"] in ("optimal", "feasible")
    assert summary["n_open_sites"] == 10
    assert summary["bound"] <= summary["objective"] * (1 + 1e-9)
    assert 0 <= summary["gap"] < 1
    assert any("synthetic" in n for n in summary["data_notes"])
    check_assumption_notes(summary["data_notes"])
    assert summary["covered_demand_share"] == pytest.approx(1.0)
    assert 10 < summary["mean_travel_km"] < summary["p95_travel_km"] < 1500

    sites = pd.read_csv(out / "sites.csv")
    assert list(sites.columns[: len(SITES_COLUMNS)]) == SITES_COLUMNS
    assert set(sites["status"]) <= {"open", "closed", "existing"}
    assert (sites["status"] != "closed").sum() == 10
    assert sites.loc[sites["site_id"] == "mtz_kz_kostanay", "status"].item() == "existing"
    assert sites["assigned_demand"].sum() == pytest.approx(summary["total_demand"], rel=1e-6)
    assert (sites.loc[sites["status"] == "closed", "assigned_demand"] == 0).all()

    assign = pd.read_csv(out / "assignments.csv", dtype={"site_id": str})
    assert list(assign.columns[: len(ASSIGNMENT_COLUMNS)]) == ASSIGNMENT_COLUMNS
    assert len(assign) == 20_000
    assert assign["farm_id"].is_unique
    assert set(assign["site_id"]) <= set(sites.loc[sites["status"] != "closed", "site_id"])
    assert (assign["travel_km"] >= 0).all()
    weighted = (assign["travel_km"] * assign["demand"]).sum() / assign["demand"].sum()
    assert weighted == pytest.approx(summary["mean_travel_km"], rel=1e-3)

    layers = {name for name, _ in pyogrio.list_layers(out / "recommendations.gpkg")}
    assert {"sites", "assignments"} <= layers
    g_sites = gpd.read_file(out / "recommendations.gpkg", layer="sites")
    g_lines = gpd.read_file(out / "recommendations.gpkg", layer="assignments")
    assert g_sites.crs.to_epsg() == 4326
    assert len(g_sites) == len(sites)
    assert len(g_lines) == 20_000
    assert (g_lines.geometry.geom_type == "LineString").all()
    _check_run(out, result, p=10)


def test_scenarios_lists_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "default" in out
    assert "p_median" in out


def test_data_lists_and_verifies_geodata(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "--verify"]) == 0
    out = capsys.readouterr().out
    assert "GeoNames" in out
    assert "geodata OK" in out


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".gpkg"])
def test_data_farms_writes_a_registry_that_reads_back(
    tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"farms{suffix}"
    assert main(["data", "farms", "--n", "300", "--seed", "0", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "wrote 300 synthetic farms" in text
    assert "assumption" in text
    back = farms_mod.read_farms(out)
    want = farms_mod.generate_farms(300, seed=0)
    # fed back, they are still synthetic and every output will say so
    assert back["synthetic"].all()
    assert back.attrs["synthetic"] is True
    assert "300 of 300 farms are marked synthetic" in back.attrs["data_notes"][1]
    assert list(back["farm_id"]) == list(want["farm_id"])
    for col in ("oblast_iso", "district_kato", "tractors", "combines", "belarus_combines"):
        assert list(back[col].astype(str)) == list(want[col].astype(str)), col
    assert np.allclose(back["lat"], want["lat"])
    assert np.allclose(back["sown_area_ha"], want["sown_area_ha"])
    if suffix == ".csv":
        raw = pd.read_csv(out, dtype={"district_kato": str})
        needed = {
            "farm_id",
            "lat",
            "lon",
            "oblast_iso",
            "district_kato",
            "district",
            "sown_area_ha",
            "tractors",
            "combines",
            "tractors_17p",
            "belarus_tractors",
        }
        assert needed <= set(raw.columns)  # fmt: skip
        assert raw["district_kato"].str.fullmatch(r"\d{9}").all()


def test_data_farms_rejects_an_unknown_suffix(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "planner.cli", "data", "farms", "--n", "10", "--out",
         str(tmp_path / "farms.parquet")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert res.returncode == cli.EXIT_INVALID
    assert "unknown file type" in res.stderr
    assert "Traceback" not in res.stderr


def test_bad_scenario_gives_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('schema_version = 1\nname = "x"\n[model]\nkind = "p_median"\np = 2\nfoo = 1\n')
    res = subprocess.run(
        [sys.executable, "-m", "planner.cli", "solve", str(bad), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 1
    assert "unknown key `model.foo`" in res.stderr
    assert "Traceback" not in res.stderr


def test_missing_scenario_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["solve", str(tmp_path / "nope.toml"), "--out", str(tmp_path)])
    assert code == 1
    assert "no scenario file" in capsys.readouterr().err


def test_unknown_required_site_is_explained(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    s = tmp_path / "s.toml"
    s.write_text(
        'schema_version = 1\nname = "x"\n[data]\nn_farms = 200\nmin_site_population = 50000\n'
        '[model]\nkind = "p_median"\np = 2\n[sites]\nrequired = ["mtz_kz_kostanai"]\n'
    )
    assert main(["solve", str(s), "--out", str(tmp_path / "o"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "mtz_kz_kostanai" in err
    assert "mtz_kz_kostanay" in err  # the close match is suggested


@pytest.mark.solver
def test_user_farm_registry_replaces_synthetic_farms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    farms = tmp_path / "farms.csv"
    farms.write_text(
        "farm_id,lat,lon,tractors,combines\n"
        "F1,53.2,63.6,10,2\nF2,51.2,71.4,5,1\nF3,54.9,69.1,8,3\nF4,43.3,68.3,4,0\n",
        encoding="utf-8",
    )
    s = tmp_path / "s.toml"
    s.write_text(
        'schema_version = 1\nname = "mine"\n[data]\nfarms = "farms.csv"\n'
        "min_site_population = 100000\ninclude_existing = false\n"
        '[model]\nkind = "p_median"\np = 2\n[solver]\ntime_limit_s = 10\n'
    )
    out = tmp_path / "out"
    code, result = _solve(["solve", str(s), "--out", str(out), "--quiet"], monkeypatch)
    assert code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["n_farms"] == 4
    assert not any("synthetic" in n for n in summary["data_notes"])
    assign = pd.read_csv(out / "assignments.csv")
    assert sorted(assign["farm_id"]) == ["F1", "F2", "F3", "F4"]
    _check_run(out, result, p=2)


def test_unknown_demand_parameter_is_explained(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    s = tmp_path / "s.toml"
    s.write_text(
        'schema_version = 1\nname = "x"\n[data]\nn_farms = 100\n'
        "[demand.parameters]\ntractor_operating_hour = 500\n"
        '[model]\nkind = "p_median"\np = 2\n'
    )
    assert main(["solve", str(s), "--out", str(tmp_path / "o"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "tractor_operating_hour" in err
    assert "Did you mean `tractor_operating_hours`" in err


MODEL_SECTIONS = {
    "p_median": 'kind = "p_median"\np = 3\n',
    "cflp_single": 'kind = "cflp"\nsingle_source = true\n',
    "cflp_split": 'kind = "cflp"\nsingle_source = false\n',
    "mclp": 'kind = "mclp"\np = 3\nservice_radius_km = 150.0\n',
    "set_cover": 'kind = "set_cover"\nservice_radius_km = 250.0\n',
    "p_center": 'kind = "p_center"\np = 4\n',
    "p_center_weighted": 'kind = "p_center"\np = 4\nweighted = true\n',
}


MODEL_P = {"p_median": 3, "mclp": 3, "p_center": 4, "p_center_weighted": 4}


@pytest.mark.solver
@pytest.mark.parametrize("name", list(MODEL_SECTIONS))
def test_every_model_runs_from_a_scenario_file(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = tmp_path / "s.toml"
    s.write_text(
        f'schema_version = 1\nname = "{name}"\n[data]\nn_farms = 300\nmin_site_population = 20000\n'
        f"[model]\n{MODEL_SECTIONS[name]}"
        "[sites]\nfixed_cost_kzt = 50000000.0\ncapacity_hours = 200000.0\n"
        "[solver]\ntime_limit_s = 20\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, result = _solve(["solve", str(s), "--out", str(out), "--quiet"], monkeypatch)
    assert code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] in ("optimal", "feasible")
    assert summary["model"] == MODEL_SECTIONS[name].split('"')[1]
    assert summary["model"] == result.problem.kind
    written = _check_run(out, result, p=MODEL_P.get(name))
    assert set(written.assignments["farm_id"]) == {f"SYN-{i:07d}" for i in range(1, 301)}
    if name == "cflp_split":
        assert not result.problem.single_source
    if name == "set_cover":
        # Every farm with a candidate within 250 km is covered.
        costs = result.inputs.costs
        coverable = np.zeros(costs.n_demand, dtype=bool)
        coverable[costs.row_of_entry[costs.cost <= 250.0]] = True
        w = result.inputs.weights
        assert summary["covered_demand_share"] == pytest.approx(
            w[coverable].sum() / w.sum(), abs=2e-6
        )


def test_missing_road_network_is_explained(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(
        [
            *("solve", "default", "--out", str(tmp_path / "o"), "--quiet"),
            *("--road-network", str(tmp_path / "roads.gpkg")),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "roads.gpkg does not exist" in err
    assert "Traceback" not in err


_NE_ROADS = Path(__file__).resolve().parents[2] / ".." / "shared/data/roads/kz_roads_ne10m.gpkg"


@pytest.mark.solver
@pytest.mark.skipif(not _NE_ROADS.is_file(), reason=f"{_NE_ROADS} is absent")
def test_road_network_option_travels_on_the_roads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    farms = tmp_path / "farms.csv"
    farms.write_text(
        "farm_id,lat,lon,tractors,combines\n"
        "F1,53.2,63.6,10,2\nF2,51.2,71.4,5,1\nF3,54.9,69.1,8,3\nF4,43.3,68.3,4,0\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = ["solve", "default", "--farms", str(farms), "--out", str(out), "--quiet"]
    code, _ = _solve([*args, "--road-network", str(_NE_ROADS)], monkeypatch)
    assert code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any("road network kz_roads_ne10m.gpkg" in n for n in summary["data_notes"])
    assert not any("geodesic distance x circuity" in n for n in summary["data_notes"])
    assign = pd.read_csv(out / "assignments.csv").dropna(subset=["site_id"])
    sites = pd.read_csv(out / "sites.csv").set_index("site_id")
    f = pd.read_csv(farms).set_index("farm_id").loc[assign["farm_id"]]
    s = sites.loc[assign["site_id"]]
    geo = ind.geodesic_km(f["lon"], f["lat"], s["lon"], s["lat"])
    assert (assign["travel_km"].to_numpy() >= geo - 1e-3).all()
