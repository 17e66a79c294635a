"""End-to-end tests of the `planner` command (output contract of `planner solve`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from planner.cli import main

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


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    code = main(["solve", "default", "--out", str(out), "--time-limit", "20", "--quiet"])
    assert code == 0
    return out


@pytest.mark.solver
@pytest.mark.slow
def test_solve_default_writes_the_contract(default_run: Path) -> None:
    summary = json.loads((default_run / "summary.json").read_text(encoding="utf-8"))
    assert set(summary) >= SUMMARY_KEYS
    assert summary["scenario"] == "default"
    assert summary["model"] == "p_median"
    assert summary["status"] in ("optimal", "feasible")
    assert summary["n_open_sites"] == 10
    assert summary["bound"] <= summary["objective"] * (1 + 1e-9)
    assert 0 <= summary["gap"] < 1
    assert any("synthetic" in n for n in summary["data_notes"])
    assert summary["covered_demand_share"] == pytest.approx(1.0)
    assert 10 < summary["mean_travel_km"] < summary["p95_travel_km"] < 1500

    sites = pd.read_csv(default_run / "sites.csv")
    assert list(sites.columns[: len(SITES_COLUMNS)]) == SITES_COLUMNS
    assert set(sites["status"]) <= {"open", "closed", "existing"}
    assert (sites["status"] != "closed").sum() == 10
    assert sites.loc[sites["site_id"] == "mtz_kz_kostanay", "status"].item() == "existing"
    assert sites["assigned_demand"].sum() == pytest.approx(summary["total_demand"], rel=1e-6)
    assert (sites.loc[sites["status"] == "closed", "assigned_demand"] == 0).all()

    assign = pd.read_csv(default_run / "assignments.csv", dtype={"site_id": str})
    assert list(assign.columns[: len(ASSIGNMENT_COLUMNS)]) == ASSIGNMENT_COLUMNS
    assert len(assign) == 20_000
    assert assign["farm_id"].is_unique
    assert set(assign["site_id"]) <= set(sites.loc[sites["status"] != "closed", "site_id"])
    assert (assign["travel_km"] >= 0).all()
    weighted = (assign["travel_km"] * assign["demand"]).sum() / assign["demand"].sum()
    assert weighted == pytest.approx(summary["mean_travel_km"], rel=1e-3)

    layers = {name for name, _ in pyogrio.list_layers(default_run / "recommendations.gpkg")}
    assert {"sites", "assignments"} <= layers
    g_sites = gpd.read_file(default_run / "recommendations.gpkg", layer="sites")
    g_lines = gpd.read_file(default_run / "recommendations.gpkg", layer="assignments")
    assert g_sites.crs.to_epsg() == 4326
    assert len(g_sites) == len(sites)
    assert len(g_lines) == 20_000
    assert (g_lines.geometry.geom_type == "LineString").all()


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
def test_user_farm_registry_replaces_synthetic_farms(tmp_path: Path) -> None:
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
    assert main(["solve", str(s), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["n_farms"] == 4
    assert not any("synthetic" in n for n in summary["data_notes"])
    assign = pd.read_csv(out / "assignments.csv")
    assert sorted(assign["farm_id"]) == ["F1", "F2", "F3", "F4"]


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


@pytest.mark.solver
@pytest.mark.parametrize("name", list(MODEL_SECTIONS))
def test_every_model_runs_from_a_scenario_file(name: str, tmp_path: Path) -> None:
    s = tmp_path / "s.toml"
    s.write_text(
        f'schema_version = 1\nname = "{name}"\n[data]\nn_farms = 300\nmin_site_population = 20000\n'
        f"[model]\n{MODEL_SECTIONS[name]}"
        "[sites]\nfixed_cost_kzt = 50000000.0\ncapacity_hours = 200000.0\n"
        "[solver]\ntime_limit_s = 20\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["solve", str(s), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] in ("optimal", "feasible")
    assert summary["model"] == MODEL_SECTIONS[name].split('"')[1]
    assert summary["n_open_sites"] >= 1
    sites = pd.read_csv(out / "sites.csv")
    assert (sites["status"] != "closed").sum() == summary["n_open_sites"]
    assign = pd.read_csv(out / "assignments.csv", dtype={"site_id": str})
    assert set(assign["farm_id"]) <= {f"SYN-{i:07d}" for i in range(1, 301)}
