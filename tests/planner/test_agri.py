"""End-to-end tests of the two-echelon scenario path (`planner solve … two_echelon`).

Checks the output contract: roles ``assembly_plant`` and ``service_centre`` in sites.csv,
weekly_load.csv and flows.csv columns, weekly load <= capacity, balanced machine flows,
combine demand only at combine-capable centres, consistent assignments.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from planner import agri, cli, run, scenarios
from planner.agri import TwoEchelonResult, run_two_echelon
from planner.cli import main
from planner.errors import ScenarioError
from planner.models.two_echelon import check_two_echelon
from planner.run import build_inputs, build_model
from tests.planner import _independent as ind

SUMMARY_KEYS = {
    "scenario", "model", "status", "objective", "bound", "gap", "runtime_s", "n_open_sites",
    "total_demand", "covered_demand_share", "mean_travel_km", "p95_travel_km", "data_notes",
    "objective_breakdown", "van_served_share", "per_year",
}  # fmt: skip
SITES_COLUMNS = [
    "site_id", "name", "oblast_iso", "lat", "lon", "role", "status", "assigned_demand",
    "capacity", "utilisation",
]  # fmt: skip
ASSIGNMENT_COLUMNS = ["farm_id", "site_id", "travel_km", "travel_time_min", "demand"]

SMALL = """schema_version = 1
name = "small_two_echelon"
[data]
n_farms = 1500
farm_seed = 7
min_site_population = 20000
[demand]
belarus_share = 0.3
[model]
kind = "two_echelon"
service_radius_km = 150.0
unserved_penalty_kzt_per_hour = 50000.0
[sites]
required = ["existing"]
fixed_cost_kzt = 20000000.0
[plants]
min_population = 300000
existing_capacity_machines_per_year = 40.0
capacity_machines_per_year = 300.0
fixed_cost_kzt = 200000000.0
[vans]
radius_km = 300.0
cost_per_van_kzt = 2000000.0
hours_per_van_week = 30.0
[growth]
years = 2
[capabilities]
centre_capacity_hours_per_week = 600.0
combine_extra_cost_kzt = 5000000.0
zone_k_nearest = 6
[solver]
time_limit_s = 30.0
"""


def _check_contract(out: Path) -> None:  # noqa: PLR0915
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary) >= SUMMARY_KEYS
    assert summary["model"] == "two_echelon"
    assert summary["status"] in ("optimal", "feasible")
    assert summary["bound"] <= summary["objective"] * (1 + 1e-9)
    assert 0 <= summary["van_served_share"] <= summary["covered_demand_share"] <= 1
    assert len(summary["per_year"]) >= 2
    breakdown = summary["objective_breakdown"]
    years = np.asarray(summary["years"], dtype=float)
    assert sum(breakdown.values()) == pytest.approx(summary["objective"], rel=1e-6)
    assert len(years) == len(summary["per_year"])

    sites = pd.read_csv(out / "sites.csv", dtype={"site_id": str})
    assert list(sites.columns[: len(SITES_COLUMNS)]) == SITES_COLUMNS
    assert {"assembly_plant", "service_centre"} <= set(sites["role"])
    assert set(sites["status"]) <= {"open", "closed", "existing"}
    plants = sites.loc[sites["role"] == "assembly_plant"]
    centres = sites.loc[sites["role"] == "service_centre"]
    for fid in ("mtz_kz_kostanay", "agromash_essil_kostanay"):
        assert plants.loc[plants["site_id"] == fid, "status"].item() == "existing"
    assert (plants["assigned_demand"] <= plants["capacity"] * (1 + 1e-6) + 1e-6).all()
    assert (sites.loc[sites["status"] == "closed", "assigned_demand"] == 0).all()
    assert {"capability", "vans", "year_opened"} <= set(sites.columns)
    open_c = centres.loc[centres["status"] != "closed"]
    assert (open_c["capability"].isin(["tractor", "tractor+combine"])).all()

    weekly = pd.read_csv(out / "weekly_load.csv", dtype={"site_id": str})
    assert list(weekly.columns[:4]) == ["site_id", "week", "load_hours", "capacity_hours"]
    assert (weekly["load_hours"] <= weekly["capacity_hours"] * (1 + 1e-6) + 1e-6).all()
    assert set(weekly["week"]) == set(range(1, 53))
    last = weekly.loc[weekly["year"] == weekly["year"].max()]
    assert set(last["site_id"]) == set(open_c["site_id"])

    flows = pd.read_csv(out / "flows.csv", dtype={"from_id": str, "to_id": str})
    assert list(flows.columns[:4]) == ["from_id", "to_id", "kind", "quantity"]
    assert set(flows["kind"]) <= {"inbound_kits", "outbound_machines", "service", "direct_import"}
    assert {"inbound_kits", "outbound_machines", "service"} <= set(flows["kind"])
    assert (flows["quantity"] >= 0).all()
    # Flows balance at every plant: kits in = machines out (per year and machine type).
    key = ["year", "machine"]
    kits = flows.loc[flows["kind"] == "inbound_kits"].groupby([*key, "to_id"])["quantity"].sum()
    made = flows.loc[flows["kind"] == "outbound_machines"].groupby([*key, "from_id"])["quantity"]
    pd.testing.assert_series_equal(
        kits.rename_axis([*key, "plant"]), made.sum().rename_axis([*key, "plant"]), rtol=1e-6
    )
    # Every plant's output within capacity, existing plants only make what they make.
    per_plant = made.sum().groupby(level=[0, 2]).sum()
    cap = plants.set_index("site_id")["capacity"]
    for (_, pid), q in per_plant.items():
        assert q <= cap[pid] * (1 + 1e-6) + 1e-6
    mtz = flows.loc[
        (flows["kind"] == "outbound_machines") & (flows["from_id"] == "mtz_kz_kostanay")
    ]
    assert (mtz["machine"] == "tractor").all()

    assign = pd.read_csv(out / "assignments.csv", dtype={"site_id": str, "farm_id": str})
    assert list(assign.columns[: len(ASSIGNMENT_COLUMNS)]) == ASSIGNMENT_COLUMNS
    assert {"machine", "served_by"} <= set(assign.columns)
    assert set(assign["served_by"]) <= {"direct", "van", "unserved"}
    served = assign.loc[assign["site_id"].notna() & (assign["site_id"] != "")]
    # Machines into each centre = new machines of the farms it serves (final year).
    final = flows.loc[(flows["year"] == flows["year"].max()) & flows["kind"].isin(
        ["outbound_machines", "direct_import"])]  # fmt: skip
    into = final.groupby(["to_id", "machine"])["quantity"].sum()
    need = served.groupby(["site_id", "machine"])["new_machines_per_year"].sum()
    both = pd.concat([into.rename("into"), need.rename_axis(["to_id", "machine"]).rename("need")],
                     axis=1).fillna(0.0)  # fmt: skip
    assert np.allclose(both["into"], both["need"], rtol=1e-5, atol=1e-6)
    # Combine demand only at combine-capable centres.
    capability = centres.set_index("site_id")["capability"]
    combine_sites = set(served.loc[served["machine"] == "combine", "site_id"])
    assert all(capability[s] == "tractor+combine" for s in combine_sites)
    # Van-served farms only at centres that run vans.
    vans = centres.set_index("site_id")["vans"]
    assert all(vans[s] >= 1 for s in set(served.loc[served["served_by"] == "van", "site_id"]))
    # Loads in sites.csv = assignments (final year).
    load = served.groupby("site_id")["demand"].sum()
    got = centres.set_index("site_id")["assigned_demand"]
    assert np.allclose(got.reindex(load.index), load, rtol=1e-6, atol=1e-3)
    total = summary["total_demand"]
    assert assign["demand"].sum() == pytest.approx(total, rel=1e-6)
    # Service flows in the final year = assignments.
    svc = flows.loc[(flows["kind"] == "service") & (flows["year"] == flows["year"].max())]
    assert svc["quantity"].sum() == pytest.approx(served["demand"].sum(), rel=1e-6)

    layers = set(pyogrio.list_layers(out / "recommendations.gpkg")[:, 0])
    assert {"sites", "assignments", "flows"} <= layers
    g = gpd.read_file(out / "recommendations.gpkg", layer="flows")
    assert g.crs.to_epsg() == 4326


def _solve(argv: Sequence[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, TwoEchelonResult]:
    """Run `planner` with ``argv`` and return its exit code and the result it computed.

    The CLI solves through the one pipeline (:func:`planner.run.run_scenario`, recorded where
    the CLI looks it up), which runs the two-echelon stage :func:`planner.agri.run_two_echelon`
    once; both return the same result.
    """
    seen: list[TwoEchelonResult] = []
    piped: list[object] = []
    real = agri.run_two_echelon
    real_pipeline = run.run_scenario
    assert cli.run_scenario is real_pipeline

    def recording(*args: Any, **kwargs: Any) -> TwoEchelonResult:  # noqa: ANN401
        result = real(*args, **kwargs)
        seen.append(result)
        return result

    def pipeline(*args: Any, **kwargs: Any) -> object:  # noqa: ANN401
        result = real_pipeline(*args, **kwargs)
        piped.append(result)
        return result

    monkeypatch.setattr(agri, "run_two_echelon", recording)
    monkeypatch.setattr(cli, "run_scenario", pipeline)
    code = main(list(argv))
    assert len(seen) == 1
    assert len(piped) == 1
    assert piped[0] is seen[0]
    return code, seen[0]


def _check_by_value(out: Path, result: TwoEchelonResult) -> None:
    """The solution passes the checker and the files match it, KPIs recomputed from them."""
    inst, sol = result.inputs.instance, result.solution
    assert check_two_echelon(inst, sol) == ()
    travel = result.scenario.travel
    farms = result.inputs.farms
    written = ind.check_two_echelon_files(
        out,
        farms=pd.DataFrame(
            {
                "farm_id": farms["farm_id"].astype(str).to_numpy(),
                "lon": farms["lon"].to_numpy(dtype=float),
                "lat": farms["lat"].to_numpy(dtype=float),
            }
        ),
        speed_kmh=travel.speed_kmh,
        circuity=travel.circuity,
    )
    s = written.summary
    assert s["objective"] == pytest.approx(sol.objective, rel=1e-12)
    t = inst.n_periods - 1
    opened = {inst.plant_ids[k] for k in np.flatnonzero(sol.plant_open[:, t])}
    opened |= {inst.centre_ids[j] for j in np.flatnonzero(sol.centre_open[:, t])}
    assert set(s["open_sites"]) == opened
    # Served share of the final year from the solution's zone shares.
    hours = inst.zone_hours_year[:, t]
    served = float((hours[inst.pair_zone] * sol.pair_share[:, t]).sum())
    assert s["served_demand_share"] == pytest.approx(served / hours.sum(), abs=2e-6)
    assert s["total_demand"] == pytest.approx(hours.sum(), rel=1e-6)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TwoEchelonResult]:
    folder = tmp_path_factory.mktemp("small")
    path = folder / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    out = folder / "out"
    with pytest.MonkeyPatch.context() as mp:
        code, result = _solve(["solve", str(path), "--out", str(out), "--quiet"], mp)
    assert code == 0
    return out, result


@pytest.mark.solver
def test_small_scenario_writes_the_contract(small_run: tuple[Path, TwoEchelonResult]) -> None:
    out, result = small_run
    _check_contract(out)
    _check_by_value(out, result)


ASSUMPTION_TOPICS = (
    "operating hours per year",
    "service hours per machine-year",
    "peak-week shares",
    "Belarus-made shares of the fleet",
    "farm locations",
    "machinery fleet of",
)
"""Topics every output's data notes cover (issue 16), each labelled or sourced."""


def check_assumption_notes(notes: list[str]) -> None:
    """Every topic is noted, and every note of a topic says "assumption" or cites the facts."""
    for topic in ASSUMPTION_TOPICS:
        hits = [n for n in notes if topic in n]
        assert hits, topic
        for n in hits:
            assert "assumption" in n or "facts" in n or "estimated" in n, n


@pytest.mark.solver
def test_two_echelon_outputs_list_every_assumption(
    small_run: tuple[Path, TwoEchelonResult],
) -> None:
    out, _ = small_run
    notes = json.loads((out / "summary.json").read_text(encoding="utf-8"))["data_notes"]
    check_assumption_notes(notes)
    growth = [n for n in notes if n.startswith("growth:")]
    assert len(growth) == 1
    # 10 % is a developed-country norm, not a Kazakhstan forecast: labelled as assumption
    assert "10.0 % at the end (assumption" in growth[0]


@pytest.mark.solver
def test_result_object_is_checked_and_tidy(tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    scenario = scenarios.load_scenario(path)
    result = run_two_echelon(scenario, time_limit_s=30.0)
    assert check_two_echelon(result.inputs.instance, result.solution) == ()
    agg = result.aggregation
    assert agg["max_zone_radius_km"] > 0
    # The realised farm-level service cost differs from the zone-level one within the bound.
    err = abs(agg["service_travel_realised_error_kzt"])
    assert err <= agg["service_travel_error_bound_kzt"] * (1 + 1e-9)
    assert set(result.openings["role"]) == {"assembly_plant", "service_centre"}
    opened = result.openings.pivot_table(index="site_id", columns="year", values="open")
    assert (opened.diff(axis=1).fillna(0) >= 0).all().all()


@pytest.mark.solver
@pytest.mark.slow
def test_builtin_two_echelon_via_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    argv = ["solve", "two_echelon", "--out", str(out), "--time-limit", "40", "--quiet"]
    code, result = _solve(argv, monkeypatch)
    assert code == 0
    _check_contract(out)
    _check_by_value(out, result)


def test_build_model_rejects_two_echelon() -> None:
    scenario = scenarios.load_scenario("two_echelon")
    small = scenario.replace(data=scenario.data.__class__(n_farms=50))
    with pytest.raises(ScenarioError, match="run_two_echelon"):
        build_model(small, build_inputs(small))


def test_two_echelon_scenario_validation(tmp_path: Path) -> None:
    bad = SMALL.replace("[vans]\n", "[vans]\nradius = 3.0\n")
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"unknown key `vans.radius`.*radius_km"):
        scenarios.load_scenario(path)
    bad = SMALL.replace("years = 2", "years = 0").replace(
        'kind = "two_echelon"', 'kind = "two_echelon"\nobjective = "service_level"'
    )
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"growth\.years") as err:
        scenarios.load_scenario(path)
    text = str(err.value)
    assert "growth.years" in text
    assert "budget_kzt_per_year" in text
