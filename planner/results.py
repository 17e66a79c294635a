"""Turn a solution into tables and key figures (KPIs) that planners read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from planner import references
from planner.models._base import FloatArray, LocationProblem, Solution
from planner.travel import TravelModel

if TYPE_CHECKING:
    from planner.location import ScenarioInputs, ScenarioResult
    from planner.scenarios import Scenario

_MIN_SHARE = 1e-9
SITE_TABLE_COLUMNS: tuple[str, ...] = (
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
)
ASSIGNMENT_COLUMNS: tuple[str, ...] = (
    "farm_id",
    "site_id",
    "travel_km",
    "travel_time_min",
    "demand",
    "share",
)


def _travel(scenario: Scenario) -> TravelModel:
    return references.travel_model(scenario)


def _km_minutes(
    scenario: Scenario, inputs: ScenarioInputs, fl: pd.DataFrame
) -> tuple[FloatArray, FloatArray]:
    """Road km and minutes of each flow.

    From the model cost (road km, or minutes at ``speed_kmh``) without a road network; on a
    road network both are recomputed for the served flows: road km along the shortest path,
    minutes at the road-class speeds along the fastest path.
    """
    travel = _travel(scenario)
    km = fl["cost"].to_numpy() * inputs.cost_to_km
    minutes = travel.minutes(km)
    site = fl["site"].to_numpy()
    ok = site >= 0
    if travel.network is None or scenario.travel.od_matrix or not ok.any():
        return km, minutes
    row = fl["row"].to_numpy()[ok]
    f, s = inputs.farms, inputs.sites
    pts = (
        f["lon"].to_numpy(dtype=np.float64)[row],
        f["lat"].to_numpy(dtype=np.float64)[row],
        s["lon"].to_numpy(dtype=np.float64)[site[ok]],
        s["lat"].to_numpy(dtype=np.float64)[site[ok]],
    )
    km, minutes = km.copy(), minutes.copy()
    km[ok] = travel.road_km_between(*pts)
    minutes[ok] = travel.minutes_between(*pts)
    return km, minutes


def weighted_quantile(values: FloatArray, weights: FloatArray, q: float) -> float:
    """Return the weighted ``q`` quantile (0..1) of ``values``.

    Parameters
    ----------
    values
        Sample values.
    weights
        Non-negative weights, same length.
    q
        Quantile in [0, 1].

    Returns
    -------
    value
        The smallest value whose cumulative weight share reaches ``q`` (``nan`` if empty).
    """
    mask = np.isfinite(values) & (weights > 0)
    if not mask.any():
        return float("nan")
    v, w = values[mask], weights[mask]
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order]) / w.sum()
    idx = int(np.searchsorted(cum, q - 1e-12))
    return float(v[order][min(idx, len(v) - 1)])


def _flows(problem: LocationProblem, solution: Solution) -> pd.DataFrame:
    """One row per (farm row, site) with the share of the farm's demand it carries."""
    if solution.flows is not None:
        rows, sites, frac = (np.asarray(x) for x in solution.flows)
        keep = frac > _MIN_SHARE
        rows, sites, frac = rows[keep], sites[keep], frac[keep]
        costs = problem.costs
        cost = np.full(len(rows), np.nan)
        for k, (i, j) in enumerate(zip(rows, sites, strict=True)):
            idx, cst = costs.row(int(i))
            hit = np.flatnonzero(idx == j)
            if len(hit):
                cost[k] = cst[hit[0]]
        return pd.DataFrame({"row": rows, "site": sites, "share": frac, "cost": cost})
    a = np.asarray(solution.assignment)
    rows = np.arange(len(a))
    return pd.DataFrame(
        {
            "row": rows,
            "site": a,
            "share": np.where(a >= 0, 1.0, 0.0),
            "cost": np.asarray(solution.assignment_cost, dtype=np.float64),
        }
    )


def assignment_table(result: ScenarioResult) -> pd.DataFrame:
    """Return one row per farm-site flow (one per farm for single-source models).

    Parameters
    ----------
    result
        A solved scenario.

    Returns
    -------
    assignments
        Columns :data:`ASSIGNMENT_COLUMNS`; unserved farms have an empty ``site_id``.
    """
    inputs = result.inputs
    fl = _flows(result.problem, result.solution)
    site_ids = np.asarray([*inputs.sites["site_id"].astype(str).tolist(), ""], dtype=object)
    km, minutes = _km_minutes(result.scenario, inputs, fl)
    out = pd.DataFrame(
        {
            "farm_id": inputs.farms["farm_id"].astype(str).to_numpy()[fl["row"].to_numpy()],
            "site_id": site_ids[np.where(fl["site"] >= 0, fl["site"], -1)],
            "travel_km": np.round(km, 3),
            "travel_time_min": np.round(minutes, 2),
            "demand": np.round(inputs.weights[fl["row"].to_numpy()] * fl["share"].to_numpy(), 4),
            "share": np.round(fl["share"].to_numpy(), 6),
        }
    )
    return out.loc[:, list(ASSIGNMENT_COLUMNS)]


def site_table(result: ScenarioResult) -> pd.DataFrame:
    """Return one row per site with its status, load and utilisation.

    Parameters
    ----------
    result
        A solved scenario.

    Returns
    -------
    sites
        Columns :data:`SITE_TABLE_COLUMNS` plus ``regret`` (objective increase if the site
        alone is closed; open sites only) and ``n_farms``.
    """
    inputs, sol = result.inputs, result.solution
    sites = inputs.sites
    n = len(sites)
    open_mask = np.zeros(n, dtype=np.bool_)
    open_mask[list(sol.open_sites)] = True
    fl = _flows(result.problem, sol)
    served = fl["site"].to_numpy() >= 0
    load = np.bincount(
        fl["site"].to_numpy()[served],
        weights=inputs.weights[fl["row"].to_numpy()[served]] * fl["share"].to_numpy()[served],
        minlength=n,
    )
    n_farms = np.bincount(fl["site"].to_numpy()[served], minlength=n)
    existing = (sites["role"] == "existing").to_numpy()
    status = np.where(open_mask, np.where(existing, "existing", "open"), "closed")
    cap = inputs.site_data.capacity
    util = np.where(np.isfinite(cap) & (cap > 0), load / np.where(cap > 0, cap, 1.0), np.nan)
    regret = np.full(n, np.nan)
    for j, r in sol.regret.items():
        regret[int(j)] = r
    return pd.DataFrame(
        {
            "site_id": sites["site_id"].astype(str),
            "name": sites["name"].astype(str),
            "oblast_iso": sites["oblast_iso"].astype(str),
            "lat": sites["lat"].round(5),
            "lon": sites["lon"].round(5),
            "role": "service_centre",
            "status": status,
            "assigned_demand": np.round(load, 3),
            "capacity": np.where(np.isfinite(cap), cap, np.nan),
            "utilisation": np.round(util, 4),
            "origin": np.where(existing, "existing", sites["kind"].astype(str)),
            "n_farms": n_farms,
            "regret": regret,
        }
    )


def compute_kpis(
    scenario: Scenario,
    inputs: ScenarioInputs,
    problem: LocationProblem,
    solution: Solution,
) -> dict[str, Any]:
    """Compute the key figures of a solution.

    Parameters
    ----------
    scenario
        The scenario.
    inputs
        Its prepared inputs.
    problem
        The solved problem.
    solution
        The solution.

    Returns
    -------
    kpis
        ``total_demand``, ``served_demand_share``, ``covered_demand_share``,
        ``mean_travel_km``, ``p95_travel_km``, ``mean_travel_time_min``,
        ``share_within_1h``/``2h``/``3h`` (demand-weighted), ``n_open_sites``,
        ``n_unserved_farms``.
    """
    w = inputs.weights
    total = float(w.sum())
    fl = _flows(problem, solution)
    rows = fl["row"].to_numpy()
    served = fl["site"].to_numpy() >= 0
    fw = w[rows] * fl["share"].to_numpy()
    km, minutes = _km_minutes(scenario, inputs, fl)
    served_w = float(fw[served].sum())
    radius = None
    if scenario.model.kind in ("mclp", "set_cover"):
        radius = problem.service_radius
    if radius is not None:
        covered_w = float(fw[served & (fl["cost"].to_numpy() <= radius * (1 + 1e-12))].sum())
    else:
        covered_w = served_w
    kpis: dict[str, Any] = {
        "total_demand": round(total, 3),
        "demand_unit": "service hours per year"
        if scenario.demand.basis == "year"
        else "service hours in the peak week",
        "served_demand_share": round(served_w / total, 6) if total else float("nan"),
        "covered_demand_share": round(covered_w / total, 6) if total else float("nan"),
        "mean_travel_km": round(float(np.average(km[served], weights=fw[served])), 3)
        if served_w > 0
        else float("nan"),
        "p95_travel_km": round(weighted_quantile(km[served], fw[served], 0.95), 3),
        "mean_travel_time_min": round(float(np.average(minutes[served], weights=fw[served])), 2)
        if served_w > 0
        else float("nan"),
        "n_open_sites": len(solution.open_sites),
        "n_unserved_farms": int(len(w) - len(np.unique(rows[served]))),
        "n_farms": len(w),
        "n_candidate_sites": problem.n_sites,
    }
    for hours in (1, 2, 3):
        ok = served & (minutes <= hours * 60.0 + 1e-9)
        kpis[f"share_within_{hours}h"] = round(float(fw[ok].sum()) / total, 6) if total else 0.0
    return kpis
