"""Agricultural network planning: assembly plants and service centres from one scenario.

:func:`run_two_echelon` turns a scenario of model kind ``two_echelon`` into a
:class:`~planner.models.two_echelon.TwoEchelonInstance`, solves it and returns a
:class:`TwoEchelonResult` whose tables are tidy DataFrames (easy to map and plot);
:func:`planner.export.write_outputs` writes its files, as for every model kind.

Pipeline
--------
1. **Farms** -- synthetic (calibrated to oblast sown area and fleet, :mod:`planner.farms`)
   or the user's registry.
2. **Growth** -- :func:`planner.growth.project_growth`: Belarus fleet, service hours per year
   and new Belarus machines per year, per farm and planning period (renewal 5.5 % -> 10 %,
   facts 3c; Belarus share of purchases a scenario parameter, facts 3e).
3. **Demand zones** -- farms aggregated per settlement x calendar region x machine type
   (the generator places every farm around a settlement; a user's registry gets the nearest
   settlement). A zone sits at the hours-weighted centroid of its farms; ``r_z`` (road km) is
   the farthest farm from it. Every farm of a zone gets the same shares, so the pair cost
   uses the **hours-weighted mean farm-to-centre road distance** (weights: final-period hours),
   which makes the service-travel cost exact in the final period. In other periods farms'
   hours grow at slightly different rates; with ``w_f`` the final-period weights, the error of
   any plan is at most ``sum_t omega_t a sum_z r_z sum_(f in z) |h_ft - H_zt w_f|`` (proof:
   the weight differences sum to 0, so each distance can be replaced by its difference from
   the centroid's, at most ``r_z``), reported as ``aggregation.service_travel_error_bound_kzt``
   next to the centroid-only bound ``sum_t omega_t a sum_z H_zt r_z`` and the realised error.
   Radius rules (direct / van) are applied to the mean distance; a farm may lie up to ``r_z``
   beyond a radius (the largest ``r_z`` is reported).
4. **Service-centre candidates** -- settlements above ``data.min_site_population`` plus the
   running Belarusian trading house / service operations (facts 5). Each zone lists the
   ``capabilities.zone_k_nearest`` nearest centres within the van radius (sparse lists);
   pairs beyond the direct radius (``model.service_radius_km``) are van-only.
5. **Plant candidates** -- the running assembly plants (facts 5: MTZ-Kazakhstan, 3,000
   tractors/yr; AgromashHolding's Gomselmash assembly, combines) and large settlements. Kits
   come by rail from the Belarusian factory (MTZ in Minsk for tractors, Gomselmash in Gomel
   for combines: the two factory cities are an assumption of the kit origin) through the
   cheapest rail entry point of facts 8 (embedded in geodata).
6. **Solve** -- :class:`~planner.models.two_echelon.TwoEchelonModel` (MathOpt/HiGHS).

Cost assumptions (no Kazakhstan source; every one is a scenario key):

* service travel = 2 x ``sites.travel_cost_kzt_per_km`` per road km, one round trip per
  ``sites.service_hours_per_visit`` service hours (same convention as the CFLP scenarios);
* kits inbound = ``plants.inbound_cost_kzt_per_machine_km`` per rail km (geodesic x
  ``plants.rail_circuity``); finished machines outbound = ``plants.outbound_cost_kzt_per_
  machine_km`` per road km (geodesic x ``travel.circuity``);
* fixed costs are per year of operation (annualised investment plus running cost); existing
  plants' costs are sunk (``plants.existing_fixed_cost_kzt`` = 0 by default);
* direct import of finished machines (bypassing local assembly) costs
  ``plants.direct_import_premium_kzt_per_machine`` on top of its transport;
* vans travel at the same cost per service hour and km as farms hauling machines to a
  centre (no sourced figure for either);
* purchases in the unserved share of a zone are not delivered (no dealer service within
  reach, no sale); ``unserved_machines`` reports them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from planner import __version__
from planner.agri_inputs import (
    DEFAULT_DIRECT_RADIUS_KM,
    FLOW_COLUMNS,
    KIT_ORIGINS,
    NETWORK_ASSIGNMENT_COLUMNS,
    NETWORK_SITES_COLUMNS,
    WEEKLY_COLUMNS,
    TwoEchelonInputs,
    build_two_echelon_inputs,
    travel_model,
    zone_members,
)
from planner.errors import ScenarioError
from planner.models._base import (
    BoolArray,
    CancelToken,
    Progress,
    SolveOptions,
)
from planner.models.two_echelon import (
    COST_COMPONENTS,
    MACHINE_NAMES,
    TwoEchelonModel,
    TwoEchelonSolution,
)
from planner.results import weighted_quantile
from planner.scenarios import Scenario
from planner.seasons import PROFILES
from planner.tables import json_ready

__all__ = [
    "COST_COMPONENTS",
    "DEFAULT_DIRECT_RADIUS_KM",
    "FLOW_COLUMNS",
    "KIT_ORIGINS",
    "NETWORK_ASSIGNMENT_COLUMNS",
    "NETWORK_SITES_COLUMNS",
    "WEEKLY_COLUMNS",
    "TwoEchelonInputs",
    "TwoEchelonResult",
    "build_two_echelon_inputs",
    "farm_assignments",
    "run_two_echelon",
    "two_echelon_summary",
]

_MIN_SHARE: Final[float] = 1e-7


@dataclass(frozen=True, eq=False)
class TwoEchelonResult:
    """A solved two-echelon scenario with tidy tables for maps and plots.

    Parameters
    ----------
    scenario
        The scenario.
    inputs
        What it was built from.
    solution
        The model's solution.
    sites
        Plants and centres (columns :data:`NETWORK_SITES_COLUMNS`), final period.
    assignments
        Farm -> centre rows of the final period (columns :data:`NETWORK_ASSIGNMENT_COLUMNS`).
    flows
        Kits entry -> plant, machines plant -> centre and service centre -> farm, every
        period (columns :data:`FLOW_COLUMNS`).
    weekly_load
        Per open centre, period and week: load and capacity (columns :data:`WEEKLY_COLUMNS`).
    openings
        Per site and period: open, combine-capable, vans (tidy, for the growth view).
    per_year
        One row per period: demand, costs, counts of plants / centres / vans, shares.
    kpis
        Key figures of the final period.
    objective_breakdown
        Objective components in KZT summed over the horizon (weighted by years per period).
    aggregation
        Zone aggregation figures and the error bound.
    runtime_s
        Wall-clock seconds of the whole run.
    """

    scenario: Scenario
    inputs: TwoEchelonInputs
    solution: TwoEchelonSolution
    sites: pd.DataFrame
    assignments: pd.DataFrame
    flows: pd.DataFrame
    weekly_load: pd.DataFrame
    openings: pd.DataFrame
    per_year: pd.DataFrame
    kpis: dict[str, Any] = field(default_factory=dict)
    objective_breakdown: dict[str, float] = field(default_factory=dict)
    aggregation: dict[str, float] = field(default_factory=dict)
    runtime_s: float = 0.0


# ----------------------------------------------------------------------------------------
# Result tables
# ----------------------------------------------------------------------------------------
def _weekly(inputs: TwoEchelonInputs, sol: TwoEchelonSolution) -> pd.DataFrame:
    inst = inputs.instance
    n_weeks = inst.profiles.shape[1]
    parts = []
    for t, year in enumerate(inst.period_years):
        direct = np.zeros((inst.n_centres, n_weeks))
        van = np.zeros((inst.n_centres, n_weeks))
        load = (
            inst.zone_hours_year[inst.pair_zone, t, None]
            * sol.pair_share[:, t, None]
            * inst.profiles[inst.zone_profile[inst.pair_zone]]
        )
        np.add.at(direct, inst.pair_centre[~inst.pair_van], load[~inst.pair_van])
        np.add.at(van, inst.pair_centre[inst.pair_van], load[inst.pair_van])
        open_j = np.flatnonzero(sol.centre_open[:, t])
        d_cap = inst.centre_capacity_hours_per_week[open_j]
        v_cap = inst.van_hours_per_week * sol.centre_vans[open_j, t].astype(np.float64)
        parts.append(
            pd.DataFrame(
                {
                    "site_id": np.repeat(
                        np.asarray(inst.centre_ids, dtype=object)[open_j], n_weeks
                    ),
                    "week": np.tile(np.arange(1, n_weeks + 1), len(open_j)),
                    "load_hours": (direct[open_j] + van[open_j]).ravel(),
                    "capacity_hours": np.repeat(d_cap + v_cap, n_weeks),
                    "year": year,
                    "direct_load_hours": direct[open_j].ravel(),
                    "van_load_hours": van[open_j].ravel(),
                    "direct_capacity_hours": np.repeat(d_cap, n_weeks),
                    "van_capacity_hours": np.repeat(v_cap, n_weeks),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    return out.loc[:, list(WEEKLY_COLUMNS)]


def _farm_rows(
    inputs: TwoEchelonInputs, sol: TwoEchelonSolution, t: int, scenario: Scenario
) -> pd.DataFrame:
    """Farm -> centre rows of period ``t`` (split zones give several rows per farm)."""
    inst = inputs.instance
    travel = travel_model(scenario)
    farms = inputs.farms
    ids = farms["farm_id"].astype(str).to_numpy()
    f_lon = farms["lon"].to_numpy(dtype=np.float64)
    f_lat = farms["lat"].to_numpy(dtype=np.float64)
    c_lon = inputs.centres["lon"].to_numpy(dtype=np.float64)
    c_lat = inputs.centres["lat"].to_numpy(dtype=np.float64)
    proj = inputs.projection
    order = np.argsort(inst.pair_zone, kind="stable")
    starts = np.searchsorted(inst.pair_zone[order], np.arange(inst.n_zones + 1))
    parts = []
    for m, machine in enumerate(MACHINE_NAMES):
        hours = proj.hours(machine)[:, t]  # type: ignore[arg-type]
        new = proj.new_machines(machine)[:, t]  # type: ignore[arg-type]
        counted = (proj.tractors_counted if m == 0 else proj.combines_counted)[:, t]
        rows = np.flatnonzero(inputs.farm_zone[:, m] >= 0)
        zone = inputs.farm_zone[rows, m]
        counts = starts[zone + 1] - starts[zone]
        f_rep = np.repeat(rows, counts)
        within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        p_rep = order[np.repeat(starts[zone], counts) + within]
        share = sol.pair_share[p_rep, t]
        keep = share > _MIN_SHARE
        f_rep, p_rep, share = f_rep[keep], p_rep[keep], share[keep]
        j = inst.pair_centre[p_rep]
        km = travel.road_km_between(f_lon[f_rep], f_lat[f_rep], c_lon[j], c_lat[j])
        minutes = (
            travel.minutes(km)
            if travel.network is None
            else travel.minutes_between(f_lon[f_rep], f_lat[f_rep], c_lon[j], c_lat[j])
        )
        parts.append(
            pd.DataFrame(
                {
                    "farm_id": ids[f_rep],
                    "site_id": np.asarray(inst.centre_ids, dtype=object)[j],
                    "travel_km": np.round(km, 3),
                    "travel_time_min": np.round(minutes, 2),
                    "demand": hours[f_rep] * share,
                    "machine": machine,
                    "served_by": np.where(inst.pair_van[p_rep], "van", "direct"),
                    "share": np.round(share, 6),
                    "new_machines_per_year": new[f_rep] * share,
                    "machines": counted[f_rep] * share,
                    "zone_id": np.asarray(inst.zone_ids, dtype=object)[inst.pair_zone[p_rep]],
                    "year": inst.period_years[t],
                }
            )
        )
        unserved = sol.unserved_share[zone, t]
        lost = unserved > _MIN_SHARE
        if lost.any():
            r = rows[lost]
            parts.append(
                pd.DataFrame(
                    {
                        "farm_id": ids[r],
                        "site_id": "",
                        "travel_km": np.nan,
                        "travel_time_min": np.nan,
                        "demand": hours[r] * unserved[lost],
                        "machine": machine,
                        "served_by": "unserved",
                        "share": np.round(unserved[lost], 6),
                        "new_machines_per_year": new[r] * unserved[lost],
                        "machines": counted[r] * unserved[lost],
                        "zone_id": np.asarray(inst.zone_ids, dtype=object)[zone[lost]],
                        "year": inst.period_years[t],
                    }
                )
            )
    out = pd.concat(parts, ignore_index=True)
    return out.loc[:, list(NETWORK_ASSIGNMENT_COLUMNS)]


def _flows(inputs: TwoEchelonInputs, sol: TwoEchelonSolution, scenario: Scenario) -> pd.DataFrame:
    inst = inputs.instance
    rows: list[pd.DataFrame] = []
    for t, year in enumerate(inst.period_years):
        for m, machine in enumerate(MACHINE_NAMES):
            made = sol.plant_flow[:, :, m, t]
            kits = np.flatnonzero(made.sum(axis=1) > _MIN_SHARE)
            rows.append(
                pd.DataFrame(
                    {
                        "from_id": [inst.plant_entry_ids[k][m] for k in kits],
                        "to_id": [inst.plant_ids[k] for k in kits],
                        "kind": "inbound_kits",
                        "quantity": made[kits].sum(axis=1),
                        "unit": "machines_per_year",
                        "machine": machine,
                        "year": year,
                    }
                )
            )
            kk, jj = np.nonzero(made > _MIN_SHARE)
            rows.append(
                pd.DataFrame(
                    {
                        "from_id": np.asarray(inst.plant_ids, dtype=object)[kk],
                        "to_id": np.asarray(inst.centre_ids, dtype=object)[jj],
                        "kind": "outbound_machines",
                        "quantity": made[kk, jj],
                        "unit": "machines_per_year",
                        "machine": machine,
                        "year": year,
                    }
                )
            )
            imp = sol.import_flow[:, m, t]
            jj = np.flatnonzero(imp > _MIN_SHARE)
            if len(jj):
                rows.append(
                    pd.DataFrame(
                        {
                            "from_id": "belarus_direct",
                            "to_id": np.asarray(inst.centre_ids, dtype=object)[jj],
                            "kind": "direct_import",
                            "quantity": imp[jj],
                            "unit": "machines_per_year",
                            "machine": machine,
                            "year": year,
                        }
                    )
                )
        farm = _farm_rows(inputs, sol, t, scenario)
        farm = farm.loc[farm["site_id"] != ""]
        rows.append(
            pd.DataFrame(
                {
                    "from_id": farm["site_id"].to_numpy(),
                    "to_id": farm["farm_id"].to_numpy(),
                    "kind": "service",
                    "quantity": farm["demand"].to_numpy(),
                    "unit": "service_hours_per_year",
                    "machine": farm["machine"].to_numpy(),
                    "year": year,
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    return out.loc[:, list(FLOW_COLUMNS)]


def _year_opened(mask: BoolArray, years: tuple[int, ...]) -> list[Any]:
    out: list[Any] = []
    for row in mask:
        idx = np.flatnonzero(row)
        out.append(int(years[idx[0]]) if len(idx) else None)
    return out


def _site_table(
    inputs: TwoEchelonInputs, sol: TwoEchelonSolution, weekly: pd.DataFrame, farm_rows: pd.DataFrame
) -> pd.DataFrame:
    inst = inputs.instance
    t = inst.n_periods - 1
    years = inst.period_years
    plants = inputs.plants
    made = sol.plant_flow[:, :, :, t].sum(axis=(1, 2))
    p_cap = inst.plant_capacity_machines_per_year
    p_status = np.where(
        sol.plant_open[:, t], np.where(plants["existing"].to_numpy(), "existing", "open"), "closed"
    )
    plant_rows = pd.DataFrame(
        {
            "site_id": plants["site_id"],
            "name": plants["name"],
            "oblast_iso": plants["oblast_iso"],
            "lat": plants["lat"].round(5),
            "lon": plants["lon"].round(5),
            "role": "assembly_plant",
            "status": p_status,
            "assigned_demand": np.round(made, 3),
            "capacity": p_cap,
            "utilisation": np.round(np.where(p_cap > 0, made / np.maximum(p_cap, 1e-9), np.nan), 4),
            "capability": plants["makes"],
            "vans": 0,
            "year_opened": _year_opened(sol.plant_open, years),
            "capacity_unit": "machines_per_year",
            "demand_unit": "machines_per_year",
            "peak_week": np.nan,
            "n_farms": 0,
        }
    )
    centres = inputs.centres
    last = weekly.loc[weekly["year"] == years[t]]
    peak = last.groupby("site_id")["load_hours"].max()
    peak_week = last.loc[last.groupby("site_id")["load_hours"].idxmax(), ["site_id", "week"]]
    cap_w = last.groupby("site_id")["capacity_hours"].first()
    ids = centres["site_id"].astype(str)
    load_year = farm_rows.loc[farm_rows["site_id"] != ""].groupby("site_id")["demand"].sum()
    n_farms = farm_rows.loc[farm_rows["site_id"] != ""].groupby("site_id")["farm_id"].nunique()
    existing = (centres["role"] == "existing").to_numpy()
    status = np.where(sol.centre_open[:, t], np.where(existing, "existing", "open"), "closed")
    cap = ids.map(cap_w).to_numpy(dtype=np.float64)
    cap = np.where(np.isnan(cap), inst.centre_capacity_hours_per_week, cap)
    pk = ids.map(peak).fillna(0.0).to_numpy(dtype=np.float64)
    centre_rows = pd.DataFrame(
        {
            "site_id": ids,
            "name": centres["name"].astype(str),
            "oblast_iso": centres["oblast_iso"].astype(str),
            "lat": centres["lat"].round(5),
            "lon": centres["lon"].round(5),
            "role": "service_centre",
            "status": status,
            "assigned_demand": np.round(ids.map(load_year).fillna(0.0).to_numpy(), 3),
            "capacity": cap,
            "utilisation": np.round(
                np.where(sol.centre_open[:, t], pk / np.maximum(cap, 1e-9), np.nan), 4
            ),
            "capability": np.where(
                sol.centre_combine[:, t],
                "tractor+combine",
                np.where(sol.centre_open[:, t], "tractor", ""),
            ),
            "vans": sol.centre_vans[:, t],
            "year_opened": _year_opened(sol.centre_open, years),
            "capacity_unit": "service_hours_per_week",
            "demand_unit": "service_hours_per_year",
            "peak_week": ids.map(peak_week.set_index("site_id")["week"]).to_numpy(dtype=np.float64),
            "n_farms": ids.map(n_farms).fillna(0).astype(int).to_numpy(),
        }
    )
    out = pd.concat([plant_rows, centre_rows], ignore_index=True)
    return out.loc[:, list(NETWORK_SITES_COLUMNS)]


def _openings(inputs: TwoEchelonInputs, sol: TwoEchelonSolution) -> pd.DataFrame:
    inst = inputs.instance
    parts = []
    for t, year in enumerate(inst.period_years):
        parts.append(
            pd.DataFrame(
                {
                    "year": year,
                    "site_id": list(inst.plant_ids),
                    "role": "assembly_plant",
                    "open": sol.plant_open[:, t],
                    "combine_capable": False,
                    "vans": 0,
                }
            )
        )
        parts.append(
            pd.DataFrame(
                {
                    "year": year,
                    "site_id": list(inst.centre_ids),
                    "role": "service_centre",
                    "open": sol.centre_open[:, t],
                    "combine_capable": sol.centre_combine[:, t],
                    "vans": sol.centre_vans[:, t],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _kpis(
    inputs: TwoEchelonInputs, sol: TwoEchelonSolution, farm_rows: pd.DataFrame, scenario: Scenario
) -> dict[str, Any]:
    inst = inputs.instance
    t = inst.n_periods - 1
    total = float(inst.zone_hours_year[:, t].sum())
    served = farm_rows.loc[farm_rows["site_id"] != ""]
    w = served["demand"].to_numpy(dtype=np.float64)
    km = served["travel_km"].to_numpy(dtype=np.float64)
    # Minutes of the written road km (as for the single-echelon KPIs), not of the column
    # rounded to 0.01 min: a row 120.004 km away is not within 2 h at 60 km/h. On a road
    # network the minutes are the column's (class speeds along the fastest path).
    travel = travel_model(scenario)
    minutes = (
        travel.minutes(km)
        if travel.network is None
        else served["travel_time_min"].to_numpy(dtype=np.float64)
    )
    served_w = float(w.sum())
    van_w = float(w[(served["served_by"] == "van").to_numpy()].sum())
    unserved_farms = set(farm_rows.loc[farm_rows["site_id"] == "", "farm_id"])
    machines = (
        inputs.projection.tractors_counted[:, t].sum()
        + inputs.projection.combines_counted[:, t].sum()
    )
    n_mach = served["machines"].to_numpy(dtype=np.float64)
    van_rows = (served["served_by"] == "van").to_numpy()
    by_machine = {m: float(w[(served["machine"] == m).to_numpy()].sum()) for m in MACHINE_NAMES}
    kpis: dict[str, Any] = {
        "total_demand": round(total, 3),
        "demand_unit": f"service hours per year ({inst.period_years[t]})",
        "served_demand_share": round(served_w / total, 6) if total else float("nan"),
        "covered_demand_share": round(served_w / total, 6) if total else float("nan"),
        "van_served_share": round(van_w / total, 6) if total else float("nan"),
        "direct_served_share": round((served_w - van_w) / total, 6) if total else float("nan"),
        "mean_travel_km": round(float(np.average(km, weights=w)), 3) if served_w else float("nan"),
        "p95_travel_km": round(weighted_quantile(km, w, 0.95), 3),
        "mean_travel_time_min": round(float(np.average(minutes, weights=w)), 2)
        if served_w
        else float("nan"),
        "served_machines": round(float(n_mach.sum()), 1),
        "van_served_machines": round(float(n_mach[van_rows].sum()), 1),
        "direct_served_machines": round(float(n_mach[~van_rows].sum()), 1),
        "unserved_machines": round(
            float(farm_rows.loc[farm_rows["site_id"] == "", "machines"].sum()), 1
        ),
        "n_open_sites": int(sol.plant_open[:, t].sum() + sol.centre_open[:, t].sum()),
        "n_plants": int(sol.plant_open[:, t].sum()),
        "n_centres": int(sol.centre_open[:, t].sum()),
        "n_combine_centres": int(sol.centre_combine[:, t].sum()),
        "n_vans": int(sol.centre_vans[:, t].sum()),
        "n_unserved_farms": len(unserved_farms),
        "n_farms": len(inputs.farms),
        "n_zones": inst.n_zones,
        "n_candidate_sites": inst.n_centres + inst.n_plants,
        "n_candidate_centres": inst.n_centres,
        "n_candidate_plants": inst.n_plants,
        "counted_machines": round(float(machines), 1),
        "served_hours_by_machine": by_machine,
    }
    for hours in (1, 2, 3):
        ok = minutes <= hours * 60.0 + 1e-9
        kpis[f"share_within_{hours}h"] = round(float(w[ok].sum()) / total, 6) if total else 0.0
    return kpis


def _per_year(
    inputs: TwoEchelonInputs, sol: TwoEchelonSolution, weekly: pd.DataFrame
) -> pd.DataFrame:
    inst = inputs.instance
    nat = inputs.projection.national_table()
    rows = []
    for t, year in enumerate(inst.period_years):
        hz = inst.zone_hours_year[:, t]
        served = inst.zone_hours_year[inst.pair_zone, t] * sol.pair_share[:, t]
        wk = weekly.loc[weekly["year"] == year]
        util = (wk["load_hours"] / wk["capacity_hours"].where(wk["capacity_hours"] > 0)).max()
        row: dict[str, Any] = {
            "year": year,
            "service_hours": float(hz.sum()),
            "served_share": float(served.sum() / hz.sum()) if hz.sum() else float("nan"),
            "van_served_share": float(served[inst.pair_van].sum() / hz.sum())
            if hz.sum()
            else float("nan"),
            "new_belarus_machines": float(inst.zone_new_machines[:, t].sum()),
            "n_plants": int(sol.plant_open[:, t].sum()),
            "n_centres": int(sol.centre_open[:, t].sum()),
            "n_combine_centres": int(sol.centre_combine[:, t].sum()),
            "n_vans": int(sol.centre_vans[:, t].sum()),
            "new_plants": int(
                (sol.plant_open[:, t] & ~(sol.plant_open[:, t - 1] if t else False)).sum()
            ),
            "new_centres": int(
                (sol.centre_open[:, t] & ~(sol.centre_open[:, t - 1] if t else False)).sum()
            ),
            "max_peak_week_utilisation": float(util) if np.isfinite(util) else float("nan"),
            "renewal_rate": float(nat["renewal_rate"].iloc[t]),
            "cost_kzt": float(sol.cost_by_period[:, t].sum()),
        }
        for name, value in zip(COST_COMPONENTS, sol.cost_by_period[:, t], strict=True):
            row[name] = float(value)
        rows.append(row)
    return pd.DataFrame(rows)


def _aggregation(
    inputs: TwoEchelonInputs, sol: TwoEchelonSolution, scenario: Scenario
) -> dict[str, float]:
    inst = inputs.instance
    radius = inputs.zones["radius_km"].to_numpy(dtype=np.float64)
    a = inst.service_cost_kzt_per_hour_km
    centroid_bound = float(
        (a * radius[:, None] * inst.zone_hours_year).sum(axis=0) @ inst.period_weight
    )
    rows, machine, zone = zone_members(inputs.farm_zone)
    proj = inputs.projection
    h = np.where(
        machine[:, None] == 0, proj.tractor_hours_year[rows], proj.combine_hours_year[rows]
    )
    w = h[:, -1] + 1e-9
    w_share = w / np.bincount(zone, weights=w, minlength=inst.n_zones)[zone]
    dev = np.abs(h - inst.zone_hours_year[zone] * w_share[:, None])  # farms x periods
    bound = float((a * radius[zone][:, None] * dev).sum(axis=0) @ inst.period_weight)
    zone_cost = sol.cost_breakdown(inst.period_weight)["service_travel_kzt"]
    farm_cost = 0.0
    for t in range(inst.n_periods):
        tab = _farm_rows(inputs, sol, t, scenario)
        tab = tab.loc[tab["site_id"] != ""]
        farm_cost += inst.period_weight[t] * float(
            (tab["demand"] * tab["travel_km"]).sum() * inst.service_cost_kzt_per_hour_km
        )
    return {
        "n_farms": float(len(inputs.farms)),
        "n_zones": float(inst.n_zones),
        "max_zone_radius_km": float(radius.max(initial=0.0)),
        "mean_zone_radius_km": float(
            np.average(radius, weights=inst.zone_hours_year[:, -1] + 1e-12)
        ),
        "service_travel_error_bound_kzt": bound,
        "service_travel_centroid_bound_kzt": centroid_bound,
        "service_travel_error_bound_share_of_objective": bound / sol.objective
        if sol.objective
        else float("nan"),
        "service_travel_zone_level_kzt": zone_cost,
        "service_travel_farm_level_kzt": float(farm_cost),
        "service_travel_realised_error_kzt": float(farm_cost - zone_cost),
    }


# ----------------------------------------------------------------------------------------
# Public entry points
# ----------------------------------------------------------------------------------------
def run_two_echelon(
    scenario: Scenario,
    *,
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
    time_limit_s: float | None = None,
    inputs: TwoEchelonInputs | None = None,
) -> TwoEchelonResult:
    """Build, solve and tabulate a two-echelon scenario.

    Parameters
    ----------
    scenario
        A scenario with ``model.kind = "two_echelon"``.
    progress
        Called with solver progress.
    cancel
        Token to stop the solve early (the incumbent is returned).
    time_limit_s
        Overrides ``solver.time_limit_s``.
    inputs
        Prepared inputs to reuse (skips data building).

    Returns
    -------
    result
        Solution plus tidy tables, KPIs, objective breakdown and aggregation figures.

    Raises
    ------
    ScenarioError
        If the scenario's model kind is not ``two_echelon``.
    """
    if scenario.model.kind != "two_echelon":
        msg = (
            f'run_two_echelon needs `model.kind = "two_echelon"`, got `{scenario.model.kind}`; '
            "use planner.run_scenario for every model kind."
        )
        raise ScenarioError(msg, source=scenario.name)
    start = time.perf_counter()
    inputs = inputs or build_two_echelon_inputs(scenario)
    s = scenario.solver
    options = SolveOptions(
        time_limit_s=time_limit_s or s.time_limit_s,
        gap_tolerance=s.gap_tolerance,
        seed=s.seed,
        backend=s.backend,
        progress=progress,
        cancel=cancel,
    )
    sol = TwoEchelonModel(inputs.instance).solve(options)
    if not sol.has_solution:
        empty = pd.DataFrame()
        return TwoEchelonResult(
            scenario=scenario, inputs=inputs, solution=sol, sites=empty, assignments=empty,
            flows=empty, weekly_load=empty, openings=empty, per_year=empty,
            runtime_s=time.perf_counter() - start,
        )  # fmt: skip
    weekly = _weekly(inputs, sol)
    farm_rows = _farm_rows(inputs, sol, inputs.instance.n_periods - 1, scenario)
    return TwoEchelonResult(
        scenario=scenario,
        inputs=inputs,
        solution=sol,
        sites=_site_table(inputs, sol, weekly, farm_rows),
        assignments=farm_rows,
        flows=_flows(inputs, sol, scenario),
        weekly_load=weekly,
        openings=_openings(inputs, sol),
        per_year=_per_year(inputs, sol, weekly),
        kpis=_kpis(inputs, sol, farm_rows, scenario),
        objective_breakdown=sol.cost_breakdown(inputs.instance.period_weight),
        aggregation=_aggregation(inputs, sol, scenario),
        runtime_s=time.perf_counter() - start,
    )


def farm_assignments(result: TwoEchelonResult, period: int) -> pd.DataFrame:
    """Farm -> centre rows of one planning period of a solved two-echelon scenario.

    Parameters
    ----------
    result
        A result of :func:`run_two_echelon` that has a solution.
    period
        Index into ``result.inputs.instance.period_years`` (negative counts from the end).

    Returns
    -------
    assignments
        Columns :data:`NETWORK_ASSIGNMENT_COLUMNS`, like ``result.assignments`` (which is the final
        period's table, returned as is for that period); split zones give several rows per
        farm.

    Raises
    ------
    IndexError
        If ``period`` is not a period of the horizon.
    ValueError
        If the result has no solution.
    """
    n = result.inputs.instance.n_periods
    if not -n <= period < n:
        msg = f"period {period} is not in 0..{n - 1}"
        raise IndexError(msg)
    if not result.solution.has_solution:
        msg = "the two-echelon result has no solution, so no farm assignments"
        raise ValueError(msg)
    period %= n
    if period == n - 1:
        return result.assignments
    return _farm_rows(result.inputs, result.solution, period, result.scenario)


def two_echelon_summary(result: TwoEchelonResult) -> dict[str, Any]:
    """Return the content of ``summary.json`` (single-echelon keys plus the agri figures).

    Parameters
    ----------
    result
        A solved two-echelon scenario.

    Returns
    -------
    summary
        JSON-ready dictionary (``nan`` and ``inf`` become ``null``).
    """
    sol, inst = result.solution, result.inputs.instance
    t = inst.n_periods - 1
    open_ids = (
        [inst.plant_ids[k] for k in np.flatnonzero(sol.plant_open[:, t])]
        + [inst.centre_ids[j] for j in np.flatnonzero(sol.centre_open[:, t])]
        if sol.has_solution
        else []
    )
    per_year = result.per_year.to_dict(orient="records") if len(result.per_year) else []
    summary: dict[str, Any] = {
        "scenario": result.scenario.name,
        "title": result.scenario.title,
        "model": "two_echelon",
        "status": str(sol.status),
        "objective": sol.objective,
        "objective_unit": "KZT over the horizon (yearly costs x years per period)"
        if inst.objective == "cost"
        else "unserved service hours over the horizon",
        "objective_mode": inst.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "runtime_s": round(sol.runtime_s, 3),
        "total_runtime_s": round(result.runtime_s, 3),
        "backend": sol.backend,
        "message": sol.message,
        "n_open_sites": len(open_ids),
        "open_sites": open_ids,
        **result.kpis,
        "data_notes": list(result.inputs.data_notes),
        "regret": [],
        "alternatives": [],
        "solver_stats": dict(sol.stats),
        "planner_version": __version__,
        "objective_breakdown": result.objective_breakdown,
        "years": list(inst.period_years),
        "per_year": per_year,
        "aggregation": result.aggregation,
        "capacity_weeks": [int(w) + 1 for w in sol.capacity_weeks],
        "peak_week_utilisation_max": float(result.per_year["max_peak_week_utilisation"].iloc[-1])
        if len(result.per_year)
        else float("nan"),
        "profiles": [f"{r}/{m}" for r, m in PROFILES],
    }
    return {k: json_ready(v) for k, v in summary.items()}
