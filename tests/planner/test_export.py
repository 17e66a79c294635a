"""Export: every output file from a fresh solve and from the workspace's stored text."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from planner import export, geodata, run, scenarios
from planner.models import check_solution
from planner.run import ScenarioResult
from tests.planner import _independent as ind

pytestmark = pytest.mark.solver


@pytest.fixture(scope="module")
def small_result() -> ScenarioResult:
    s = scenarios.load_scenario("default")
    s = s.replace(
        data=dataclasses.replace(s.data, n_farms=1500, min_site_population=20000),
        model=dataclasses.replace(s.model, p=4),
        solver=dataclasses.replace(s.solver, backend="heuristic", n_best=1),
    )
    return run.run_scenario(s, time_limit_s=2)


def test_write_outputs_writes_every_file_and_they_parse(
    small_result: ScenarioResult, tmp_path: Path
) -> None:
    paths = export.write_outputs(small_result, tmp_path)
    assert sorted(p.name for p in paths.values()) == sorted(export.OUTPUT_FILES)
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    assert summary["n_open_sites"] == 4
    sites = pd.read_csv(paths["sites"])
    assert (sites["status"] != "closed").sum() == 4
    assign = pd.read_csv(paths["assignments"], dtype={"site_id": str})
    assert len(assign) == 1500
    assert set(pyogrio.list_layers(paths["gpkg"])[:, 0]) == {"sites", "assignments"}
    gj = gpd.read_file(paths["sites_geojson"])
    assert len(gj) == len(sites)
    assert gj.crs.to_epsg() == 4326
    lines = gpd.read_file(paths["assignments_geojson"])
    assert len(lines) == (assign["site_id"].fillna("") != "").sum()
    xlsx = pd.read_excel(paths["xlsx"], sheet_name=None)
    assert list(xlsx) == ["summary", "sites", "assignments", "oblasts"]
    assert xlsx["oblasts"]["n_farms"].sum() == 1500
    assert xlsx["oblasts"]["open_sites"].sum() == 4
    assert paths["brief"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    again = scenarios.scenario_from_dict(
        __import__("tomllib").loads(paths["scenario"].read_text(encoding="utf-8"))
    )
    assert again.model.p == 4


def test_written_results_are_checked_and_recomputed(
    small_result: ScenarioResult, tmp_path: Path
) -> None:
    report = check_solution(small_result.problem, small_result.solution)
    assert report.ok, report.violations
    assert report.objective == pytest.approx(small_result.solution.objective, rel=1e-9)
    export.write_outputs(small_result, tmp_path)
    farms = ind.farm_table(small_result.inputs.farms, small_result.inputs.weights)
    travel = small_result.scenario.travel
    written = ind.check_single_echelon(
        tmp_path,
        farms=farms,
        speed_kmh=travel.speed_kmh,
        circuity=travel.circuity,
        p=4,
        capacitated=small_result.scenario.model.capacitated,
    )
    assert written.summary["objective"] == pytest.approx(report.objective, rel=1e-9)
    # The files describe the solution that was checked.
    ids = small_result.inputs.sites["site_id"].astype(str).to_numpy()
    assert set(written.summary["open_sites"]) == set(ids[list(small_result.solution.open_sites)])
    served = written.assignments.set_index("farm_id")["site_id"]
    a = small_result.solution.assignment
    expected = pd.Series(ids[a], index=farms["farm_id"].to_numpy())
    pd.testing.assert_series_equal(served, expected, check_names=False)
    ind.check_exports(tmp_path, written, farms, _oblast_names())


def test_independent_recomputation_on_a_hand_made_table() -> None:
    # Served: 30 km x 1 h, 90 km x 2 h, 150 km x 1 h; farm D (1 h of demand) unserved.
    a = pd.DataFrame(
        {
            "farm_id": ["A", "B", "C", "D"],
            "site_id": ["s1", "s1", "s2", ""],
            "travel_km": [30.0, 90.0, 150.0, float("nan")],
            "travel_time_min": [30.0, 90.0, 150.0, float("nan")],
            "demand": [1.0, 2.0, 1.0, 0.0],
        }
    )
    k = ind.recompute_kpis(a, total_demand=5.0, speed_kmh=60.0)
    assert k["mean_travel_km"] == pytest.approx((30 + 180 + 150) / 4)
    assert k["p95_travel_km"] == 150.0  # cumulative shares 0.25, 0.75, 1.0
    assert ind.quantile_by_weight([30.0, 90.0, 150.0], [1.0, 2.0, 1.0], 0.5) == 90.0
    assert ind.quantile_by_weight([30.0, 90.0, 150.0], [1.0, 2.0, 1.0], 0.25) == 30.0
    assert k["mean_travel_time_min"] == pytest.approx(90.0)
    assert (k["share_within_1h"], k["share_within_2h"], k["share_within_3h"]) == pytest.approx(
        (0.2, 0.6, 0.8)
    )
    assert k["served_demand_share"] == pytest.approx(0.8)
    assert k["n_unserved_farms"] == 1
    farms = pd.DataFrame(
        {"farm_id": ["A", "B", "C", "D"], "oblast_iso": ["X", "X", "Y", "Y"], "demand": 1.0}
    )
    farms.loc[1, "demand"] = 2.0
    sites = pd.DataFrame({"site_id": ["s1", "s2"], "oblast_iso": ["Y", "Y"], "status": "open"})
    ob = ind.per_oblast(a, farms, sites)
    assert ob.loc["X", "mean_travel_km"] == pytest.approx((30 + 180) / 3)
    assert ob.loc["X", "share_within_3h"] == pytest.approx(1.0)
    assert ob.loc["Y", "served_share"] == pytest.approx(0.5)
    assert ob.loc["Y", "share_within_3h"] == pytest.approx(0.5)
    assert list(ob["open_sites"]) == [0.0, 2.0]
    assert ind.geodesic_km(63.6, 53.2, 69.4, 53.3)[()] == pytest.approx(387.196, abs=1e-3)


def _oblast_names() -> dict[str, str]:
    ob = geodata.load_oblasts()
    return dict(zip(ob["iso"].astype(str), ob["name_en"].astype(str), strict=True))


def test_stored_roundtrip_gives_identical_tables(small_result: ScenarioResult) -> None:
    tables = export.result_tables(small_result)
    back = export.from_stored(export.to_stored(tables), tables.scenario_toml)
    pd.testing.assert_frame_equal(tables.sites, back.sites, check_dtype=False)
    pd.testing.assert_frame_equal(tables.assignments, back.assignments, check_dtype=False)
    pd.testing.assert_frame_equal(tables.farms, back.farms, check_dtype=False)
    assert back.summary == json.loads(json.dumps(tables.summary))


def test_saved_scenario_exports_the_same_files(
    small_result: ScenarioResult, tmp_path: Path
) -> None:
    tables = export.result_tables(small_result)
    back = export.from_stored(export.to_stored(tables), tables.scenario_toml)
    a = export.write_tables(tables, tmp_path / "a")
    b = export.write_tables(back, tmp_path / "b")
    for key in ("sites", "assignments", "scenario"):
        assert a[key].read_text(encoding="utf-8") == b[key].read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_oblast_breakdown_names_follow_language(small_result: ScenarioResult, lang: str) -> None:
    tab = export.oblast_breakdown(export.result_tables(small_result), lang)
    kostanay = tab.loc[tab["oblast_iso"] == "KZ-39", "oblast"].item()
    expected = {"en": "Kostanay", "ru": "Костанай", "kk": "Қостанай"}[lang]
    assert expected.lower()[:6] in kostanay.lower()
    assert tab["served_share"].between(0, 1).all()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "etc_passwd"),
        ("a b/c", "a_b_c"),
        ("...", "scenario"),
        ("Ок", "scenario"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert export.safe_filename(name) == expected
