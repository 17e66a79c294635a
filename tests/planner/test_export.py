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
    assert list(xlsx) == ["summary", "sites", "assignments", "oblasts", "districts"]
    assert xlsx["districts"]["n_farms"].sum() == 1500
    assert xlsx["districts"]["open_sites"].sum() == 4
    assert xlsx["districts"]["district_kato"].astype(str).str.fullmatch(r"\d{9}").all()
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


# ------------------------------------------------------------------------------------------
# Values the mutation check (bench/mutation.py) found unchecked
# ------------------------------------------------------------------------------------------
def test_site_status_and_origin_name_the_existing_plant(small_result: ScenarioResult) -> None:
    sites = export.result_tables(small_result).sites.set_index("site_id")
    ids = small_result.inputs.sites["site_id"].astype(str).to_numpy()
    opened = {ids[j] for j in small_result.solution.open_sites}
    existing = set(
        small_result.inputs.sites.loc[small_result.inputs.sites["role"] == "existing", "site_id"]
    )
    # The default's existing Belarusian operations (SemAZ, Semey, since issue 16); only the
    # required plant is sure to be open.
    assert {
        "mtz_kz_kostanay", "agromash_essil_kostanay", "mtz_trading_house_astana", "semaz_semey",
    } == existing  # fmt: skip
    assert "mtz_kz_kostanay" in opened
    for site_id, row in sites.iterrows():
        if site_id not in opened:
            assert row["status"] == "closed", site_id
        elif site_id in existing:
            assert (row["status"], row["origin"]) == ("existing", "existing"), site_id
        else:
            assert row["status"] == "open", site_id
            assert row["origin"] != "existing", site_id
    assert (sites["status"] != "closed").sum() == 4


@pytest.mark.parametrize(
    ("kind", "unit"),
    [
        ("p_median", "service hours x road km"),
        ("cflp", "KZT per year (fixed + transport)"),
        ("mclp", "covered service hours"),
        ("set_cover", "sites (or KZT of fixed cost)"),
        ("p_center", "worst travel (km)"),
    ],
)
def test_summary_names_the_objective_unit_of_each_model(
    small_result: ScenarioResult, kind: str, unit: str
) -> None:
    scenario = small_result.scenario
    relabelled = dataclasses.replace(
        small_result,
        scenario=scenario.replace(model=dataclasses.replace(scenario.model, kind=kind)),
    )
    assert export.summary_dict(relabelled)["objective_unit"] == unit


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_json_ready_turns_non_finite_numbers_into_null(value: float) -> None:
    assert export.json_ready(value) is None
    assert export.json_ready([1.5, value]) == [1.5, None]
    assert export.json_ready(2.5) == 2.5


def test_xlsx_sheets_have_the_csv_columns_and_no_index(
    small_result: ScenarioResult, tmp_path: Path
) -> None:
    paths = export.write_outputs(small_result, tmp_path)
    xlsx = pd.read_excel(paths["xlsx"], sheet_name=None)
    for sheet in ("sites", "assignments"):
        csv = pd.read_csv(paths[sheet], nrows=1)
        assert list(xlsx[sheet].columns) == list(csv.columns), sheet
    assert list(xlsx["summary"].columns) == ["key", "value"]


def test_oblast_shares_are_empty_not_infinite_where_an_oblast_has_no_demand(
    small_result: ScenarioResult,
) -> None:
    tables = export.result_tables(small_result)
    zero = tables.farms["oblast_iso"] == tables.farms["oblast_iso"].iloc[0]
    farms = tables.farms.assign(demand=tables.farms["demand"].where(~zero, 0.0))
    assign = tables.assignments.merge(
        tables.farms[["farm_id", "oblast_iso"]], on="farm_id", how="left"
    )
    in_zero = assign["oblast_iso"] == tables.farms["oblast_iso"].iloc[0]
    assignments = tables.assignments.assign(
        demand=tables.assignments["demand"].where(~in_zero.to_numpy(), 0.0)
    )
    ob = export.oblast_breakdown(
        dataclasses.replace(tables, farms=farms, assignments=assignments)
    ).set_index("oblast_iso")
    row = ob.loc[tables.farms["oblast_iso"].iloc[0]]
    assert row["demand"] == 0.0
    assert pd.isna(row["served_share"])
    assert pd.isna(row["share_within_3h"])
    assert pd.isna(row["mean_travel_km"])
    others = ob.drop(index=tables.farms["oblast_iso"].iloc[0])
    assert others["served_share"].between(0.0, 1.0).all()
    assert (others["open_sites"] >= 0).all()
    assert others["open_sites"].sum() + row["open_sites"] == 4


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_district_breakdown_follows_language_and_adds_up(
    small_result: ScenarioResult, lang: str
) -> None:
    tables = export.result_tables(small_result)
    tab = export.district_breakdown(tables, lang)
    names = geodata.load_districts().set_index("district_kato")
    col = {"en": "name_en", "ru": "name_ru", "kk": "name_kk"}[lang]
    assert list(tab["district"]) == list(names.loc[tab["district_kato"], col])
    assert list(tab["oblast_iso"]) == list(names.loc[tab["district_kato"], "oblast_iso"])
    # districts nest in oblasts: their sums equal the oblast rows
    ob = export.oblast_breakdown(tables).set_index("oblast_iso")
    by_oblast = tab.groupby("oblast_iso")[["n_farms", "open_sites"]].sum()
    assert (by_oblast["n_farms"] == ob.loc[by_oblast.index, "n_farms"]).all()
    assert tab["n_farms"].sum() == len(tables.farms)
    assert tab["served_share"].between(0, 1).all()


def test_district_breakdown_of_tables_stored_without_districts(
    small_result: ScenarioResult,
) -> None:
    tables = export.result_tables(small_result)
    old = dataclasses.replace(tables, farms=tables.farms.drop(columns=["district_kato"]))
    back = export.from_stored(export.to_stored(old), tables.scenario_toml)
    a = export.district_breakdown(tables).set_index("district_kato")
    b = export.district_breakdown(back).set_index("district_kato")
    # districts found again from the coordinates: the same farms, up to cells at a line
    common = a.index.intersection(b.index)
    assert a.loc[common, "n_farms"].sum() >= 0.97 * len(tables.farms)
    assert b["n_farms"].sum() == len(tables.farms)
