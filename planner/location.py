"""Single-echelon stage of the pipeline: data -> demand -> sites -> costs -> model -> KPIs.

:func:`build_inputs` prepares a p-median, CFLP, MCLP, set-cover or p-center scenario,
:func:`build_model` makes its model and :func:`solve` solves and evaluates it. Callers use
:func:`planner.run.run_scenario`, which handles every model kind (the two-echelon one in
:mod:`planner.agri`).
"""

from __future__ import annotations

import dataclasses
import difflib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import costs, geodata, references
from planner import demand as demand_mod
from planner import farms as farms_mod
from planner import travel as travel_mod
from planner.errors import ScenarioError
from planner.models import CFLP, MCLP, PCenter, PMedian, SetCover
from planner.models._base import (
    CancelToken,
    CostMatrix,
    FloatArray,
    IntArray,
    LocationProblem,
    Progress,
    SiteData,
    Solution,
    SolveOptions,
)
from planner.results import compute_kpis
from planner.scenarios import Scenario

# Coverage models need every site within the radius in each row; grow k until they are.
_MAX_COVERAGE_K = 640


class LocationModel(Protocol):
    """What every model class provides."""

    problem: LocationProblem

    def solve(self, options: SolveOptions | None = None) -> Solution:
        """Solve the model."""
        ...  # pragma: no cover

    def evaluate(self, open_sites: Any) -> tuple[float, IntArray, FloatArray]:  # noqa: ANN401
        """Evaluate a fixed set of open sites."""
        ...  # pragma: no cover


@dataclass(frozen=True, eq=False)
class ScenarioInputs:
    """Everything built from a scenario before solving (cacheable between solves).

    Parameters
    ----------
    farms
        Farms (synthetic or the user's registry), EPSG:4326.
    demand
        Per-farm workload table from :func:`planner.demand.compute_demand`.
    weights
        Demand weight per farm used by the model (hours per year or per peak week).
    sites
        Candidate and existing sites, EPSG:4326.
    site_data
        Capacity, fixed cost, required and forbidden flags per site.
    costs
        Model cost structure (road km, minutes or KZT per hour, see ``cost_to_km``).
    cost_to_km
        Multiply a model cost by this to get road km.
    exact_cost
        True cost of any (rows x sites) block in model units, for rows whose k-nearest list
        holds no open site; ``None`` with a user OD matrix (unlisted pairs not allowed).
    data_notes
        Plain-language notes on the data (synthetic farms, estimated figures, assumptions).
    """

    farms: gpd.GeoDataFrame
    demand: pd.DataFrame
    weights: FloatArray
    sites: gpd.GeoDataFrame
    site_data: SiteData
    costs: CostMatrix
    cost_to_km: float
    data_notes: tuple[str, ...]
    exact_cost: Callable[[IntArray, IntArray], FloatArray] | None = None


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """A solved scenario.

    Parameters
    ----------
    scenario
        The scenario that was run.
    inputs
        The data it was built from.
    problem
        The model's problem.
    solution
        The solver's result.
    kpis
        Key figures (see :func:`planner.results.compute_kpis`).
    runtime_s
        Wall-clock seconds of the whole run (data building included).
    """

    scenario: Scenario
    inputs: ScenarioInputs
    problem: LocationProblem
    solution: Solution
    kpis: dict[str, Any] = field(default_factory=dict)
    runtime_s: float = 0.0


def load_farms(scenario: Scenario) -> gpd.GeoDataFrame:
    """Return the scenario's farms: synthetic (seeded) or the user's registry."""
    d = scenario.data
    if d.farms == "synthetic":
        return farms_mod.generate_farms(
            n_farms=d.n_farms,
            seed=d.farm_seed,
            belarus_share=scenario.demand.belarus_share,
            belarus_share_combines=scenario.demand.belarus_share_combines,
        )
    return farms_mod.read_farms(
        scenario.resolve_path(d.farms),
        belarus_share=scenario.demand.belarus_share,
        belarus_share_combines=scenario.demand.belarus_share_combines,
    )


def load_sites(scenario: Scenario) -> gpd.GeoDataFrame:
    """Return the scenario's candidate sites (:func:`planner.references.candidate_sites`)."""
    return references.candidate_sites(scenario)


def _site_data(scenario: Scenario, sites: gpd.GeoDataFrame) -> SiteData:
    st = scenario.sites
    required, forbidden = references.site_references(scenario, sites)
    n = len(sites)
    existing = (sites["role"] == "existing").to_numpy()
    cap = np.full(n, st.capacity_hours if st.capacity_hours > 0 else np.inf)
    if st.existing_capacity_hours is not None:
        cap[existing] = st.existing_capacity_hours if st.existing_capacity_hours > 0 else np.inf
    user_cap = pd.to_numeric(sites["capacity_hours"], errors="coerce").to_numpy(dtype=np.float64)
    cap = np.where(np.isfinite(user_cap) & (user_cap > 0), user_cap, cap)
    fixed = np.full(n, st.fixed_cost_kzt)
    fixed[existing] = st.existing_fixed_cost_kzt
    user_fixed = pd.to_numeric(sites["fixed_cost_kzt"], errors="coerce").to_numpy(dtype=np.float64)
    fixed = np.where(np.isfinite(user_fixed) & (user_fixed >= 0), user_fixed, fixed)
    return SiteData.default(
        n,
        ids=sites["site_id"].astype(str).tolist(),
        capacity=cap,
        fixed_cost=fixed,
        required=required,
        forbidden=forbidden,
    )


def _service_radius(scenario: Scenario) -> float | None:
    m, t = scenario.model, scenario.travel
    return travel_mod.service_radius(
        m.service_radius_km, m.service_time_min, unit=t.unit, speed_kmh=t.speed_kmh
    )


def _build_costs(
    scenario: Scenario,
    farms: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    notes: list[str],
) -> tuple[CostMatrix, float]:
    t = scenario.travel
    travel = references.travel_model(scenario)
    km_per_unit = 1.0 if t.unit == "km" else t.speed_kmh / 60.0
    if t.od_matrix:
        cm = costs.read_od_matrix(
            scenario.resolve_path(t.od_matrix),
            demand_ids=farms["farm_id"].astype(str).to_numpy(),
            site_ids=sites["site_id"].astype(str).to_numpy(),
            unit=t.unit,
        )
        notes.append(f"travel costs from the user's OD matrix {t.od_matrix}")
        return cm, km_per_unit
    notes.append(travel.description)
    radius = _service_radius(scenario)
    k = t.k_nearest
    max_cost_km = t.max_km
    while True:
        cm = costs.build_cost_matrix(
            farms["lon"].to_numpy(),
            farms["lat"].to_numpy(),
            sites["lon"].to_numpy(),
            sites["lat"].to_numpy(),
            travel=travel,
            k_nearest=k,
            max_km=max_cost_km,
            unit=t.unit,
        )
        truncated = radius is not None and bool((cm.beyond_cost <= radius).any())
        if not truncated or k >= min(_MAX_COVERAGE_K, len(sites)):
            break
        k *= 2
    if radius is not None and truncated:
        notes.append(
            f"coverage lists were cut at the {k} nearest sites; coverage may be under-counted"
        )
    return cm, km_per_unit


def demand_parameters(scenario: Scenario) -> demand_mod.DemandParameters:
    """Return the demand assumptions with the scenario's overrides (validated)."""
    base = demand_mod.DemandParameters(belarus_only=scenario.demand.belarus_only)
    fields = {f.name: f for f in dataclasses.fields(base)}
    problems = []
    changes: dict[str, Any] = {}
    for key, value in scenario.demand.parameters.items():
        if key not in fields or key == "belarus_only":
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            problems.append(f"unknown demand parameter `demand.parameters.{key}`.{hint}")
        elif isinstance(getattr(base, key), bool):
            if not isinstance(value, bool):
                problems.append(f"`demand.parameters.{key}` must be true or false, got {value!r}.")
            else:
                changes[key] = value
        elif isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"`demand.parameters.{key}` must be a number, got {value!r}.")
        elif value < 0:
            problems.append(f"`demand.parameters.{key}` must be >= 0, got {value}.")
        else:
            changes[key] = type(getattr(base, key))(value)
    if problems:
        raise ScenarioError(problems, source="scenario demand")
    return dataclasses.replace(base, **changes)


def build_inputs(scenario: Scenario) -> ScenarioInputs:
    """Build farms, demand, sites and costs for a scenario.

    Parameters
    ----------
    scenario
        The scenario.

    Returns
    -------
    inputs
        Everything the model needs; reuse it to re-solve with other model settings.
    """
    notes: list[str] = []
    farms = load_farms(scenario)
    notes.extend(farms.attrs.get("data_notes", []))
    params = demand_parameters(scenario)
    notes.extend(params.assumption_notes())
    demand = demand_mod.compute_demand(farms, params)
    col = "service_hours_year" if scenario.demand.basis == "year" else "peak_week_hours"
    weights = demand[col].to_numpy(dtype=np.float64)
    sites = load_sites(scenario)
    site_data = _site_data(scenario, sites)
    cm, cost_to_km = _build_costs(scenario, farms, sites, notes)
    scale = 1.0
    if scenario.model.kind == "cflp":
        st = scenario.sites
        # KZT per (service hour of demand x road km): one round trip per visit.
        kzt_per_hour_km = travel_mod.service_cost_kzt_per_hour_km(
            st.travel_cost_kzt_per_km, st.service_hours_per_visit
        )
        scale = kzt_per_hour_km * cost_to_km
        cm = CostMatrix(
            indptr=cm.indptr.copy(),
            site_index=cm.site_index.copy(),
            cost=cm.cost * scale,
            n_sites=cm.n_sites,
            beyond_cost=cm.beyond_cost * scale,
            unit="kzt_per_hour",
        )
        cost_to_km = 1.0 / kzt_per_hour_km
        notes.append(
            f"transport cost = {st.travel_cost_kzt_per_km:g} KZT per road km, one round trip per "
            f"{st.service_hours_per_visit:g} service hours (assumptions)"
        )
    notes.extend(estimated_fleet_notes())
    exact = None
    if not scenario.travel.od_matrix:
        t = scenario.travel
        exact = costs.exact_cost_function(
            farms["lon"].to_numpy(),
            farms["lat"].to_numpy(),
            sites["lon"].to_numpy(),
            sites["lat"].to_numpy(),
            travel=references.travel_model(scenario),
            unit=t.unit,
            scale=scale,
        )
    return ScenarioInputs(
        farms=farms,
        demand=demand,
        weights=weights,
        sites=sites,
        site_data=site_data,
        costs=cm,
        cost_to_km=cost_to_km,
        data_notes=tuple(dict.fromkeys(notes)),
        exact_cost=exact,
    )


def estimated_fleet_notes() -> list[str]:
    """Return the note that the fleet of some oblasts is estimated (empty when none is)."""
    oblasts = geodata.load_oblasts()
    est = oblasts.loc[oblasts["fleet_status"] == "estimated", "iso"].tolist()
    notes = []
    if est:
        notes.append(
            f"machinery fleet of {len(est)} of {len(oblasts)} oblasts is estimated "
            "(national fleet allocated by sown/grain area; see geodata/MANIFEST.toml)"
        )
    return notes


def build_model(scenario: Scenario, inputs: ScenarioInputs) -> LocationModel:
    """Build the scenario's location model from prepared inputs.

    Parameters
    ----------
    scenario
        The scenario (its ``[model]`` section decides the model).
    inputs
        Prepared data from :func:`build_inputs`.

    Returns
    -------
    model
        A model object with ``solve`` and ``evaluate``.
    """
    m = scenario.model
    if m.kind == "two_echelon":
        msg = (
            "model `two_echelon` decides assembly plants and service centres jointly and is not "
            "a single-echelon location model; run it with planner.run_scenario (which calls "
            "planner.agri.run_two_echelon), as `planner solve` and the app do."
        )
        raise ScenarioError(msg, source=scenario.name)
    common: dict[str, Any] = {
        "sites": inputs.site_data,
        "min_new_sites": m.min_new_sites,
        "max_new_sites": m.max_new_sites,
    }
    radius = _service_radius(scenario)
    if m.kind == "p_median":
        return PMedian.from_cost_matrix(
            inputs.costs,
            inputs.weights,
            p=int(m.p or 0),
            capacitated=m.capacitated,
            exact_cost=inputs.exact_cost,
            **common,
        )
    if m.kind == "cflp":
        return CFLP.from_cost_matrix(
            inputs.costs, inputs.weights, single_source=m.single_source, **common
        )
    if m.kind == "mclp":
        return MCLP.from_cost_matrix(
            inputs.costs,
            inputs.weights,
            p=int(m.p or 0),
            service_radius=float(radius or 0.0),
            capacitated=m.capacitated,
            **common,
        )
    if m.kind == "set_cover":
        return SetCover.from_cost_matrix(
            inputs.costs, inputs.weights, service_radius=float(radius or 0.0), **common
        )
    return PCenter.from_cost_matrix(
        inputs.costs, inputs.weights, p=int(m.p or 0), weighted=m.weighted, **common
    )


def solve_options(
    scenario: Scenario,
    *,
    time_limit_s: float | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> SolveOptions:
    """Turn the scenario's ``[solver]`` section into :class:`SolveOptions`.

    Parameters
    ----------
    scenario
        The scenario.
    time_limit_s
        Overrides the scenario's time limit when given.
    progress
        Progress callback.
    cancel
        Cancellation token.

    Returns
    -------
    options
        Solve options.
    """
    s = scenario.solver
    return SolveOptions(
        time_limit_s=time_limit_s or s.time_limit_s,
        gap_tolerance=s.gap_tolerance,
        seed=s.seed,
        backend=s.backend,
        progress=progress,
        cancel=cancel,
        n_best=s.n_best,
        compute_regret=s.compute_regret,
    )


def solve(
    scenario: Scenario,
    *,
    inputs: ScenarioInputs | None = None,
    time_limit_s: float | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> ScenarioResult:
    """Build, solve and evaluate a single-echelon scenario.

    Parameters
    ----------
    scenario
        The scenario.
    inputs
        Prepared inputs to reuse (skip data building); built when ``None``.
    time_limit_s
        Overrides the scenario's solver time limit.
    progress
        Called with solver progress (incumbent, bound, gap).
    cancel
        Token to stop the solve early; the incumbent is returned.

    Returns
    -------
    result
        The solved scenario with KPIs.
    """
    start = time.perf_counter()
    inputs = inputs or build_inputs(scenario)
    model = build_model(scenario, inputs)
    options = solve_options(scenario, time_limit_s=time_limit_s, progress=progress, cancel=cancel)
    solution = model.solve(options)
    kpis = compute_kpis(scenario, inputs, model.problem, solution)
    return ScenarioResult(
        scenario=scenario,
        inputs=inputs,
        problem=model.problem,
        solution=solution,
        kpis=kpis,
        runtime_s=time.perf_counter() - start,
    )
