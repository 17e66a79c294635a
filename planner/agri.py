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

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import __version__, costs, geodata, references
from planner import travel as travel_mod
from planner.errors import ScenarioError
from planner.growth import GrowthParameters, GrowthProjection, project_growth
from planner.location import demand_parameters, load_farms
from planner.models._base import (
    BoolArray,
    CancelToken,
    FloatArray,
    IntArray,
    Progress,
    SolveOptions,
)
from planner.models.two_echelon import (
    COST_COMPONENTS,
    MACHINE_NAMES,
    TwoEchelonInstance,
    TwoEchelonModel,
    TwoEchelonSolution,
)
from planner.results import weighted_quantile
from planner.scenarios import Scenario
from planner.seasons import PROFILES, profile_index, profile_matrix, region_of
from planner.tables import json_ready

DEFAULT_DIRECT_RADIUS_KM: Final[float] = 150.0
"""Direct service radius when the scenario sets none (assumption: farms haul a machine to a
workshop up to ~150 road km, 2.5 h at 60 km/h)."""

KIT_ORIGINS: Final[tuple[tuple[str, float, float], ...]] = (
    ("MTZ Minsk", 53.9045, 27.5615),
    ("Gomselmash Gomel", 52.4345, 30.9754),
)
"""Kit origin per machine type (name, lat, lon): Minsk Tractor Works for tractors, Gomselmash
in Gomel for combines (GeoNames city coordinates; the factory as origin is an assumption)."""

_MIN_SHARE: Final[float] = 1e-7
_MACHINE_COLUMN: Final[tuple[str, str]] = ("tractors", "combines")
SITES_COLUMNS: Final[tuple[str, ...]] = (
    "site_id", "name", "oblast_iso", "lat", "lon", "role", "status", "assigned_demand",
    "capacity", "utilisation", "capability", "vans", "year_opened", "capacity_unit",
    "demand_unit", "peak_week", "n_farms",
)  # fmt: skip
ASSIGNMENT_COLUMNS: Final[tuple[str, ...]] = (
    "farm_id", "site_id", "travel_km", "travel_time_min", "demand", "machine", "served_by",
    "share", "new_machines_per_year", "machines", "zone_id", "year",
)  # fmt: skip
FLOW_COLUMNS: Final[tuple[str, ...]] = (
    "from_id", "to_id", "kind", "quantity", "unit", "machine", "year",
)  # fmt: skip
WEEKLY_COLUMNS: Final[tuple[str, ...]] = (
    "site_id", "week", "load_hours", "capacity_hours", "year", "direct_load_hours",
    "van_load_hours", "direct_capacity_hours", "van_capacity_hours",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class TwoEchelonInputs:
    """Everything built from a scenario before solving.

    Parameters
    ----------
    farms
        Farms, EPSG:4326.
    projection
        Per-farm growth projection.
    zones
        One row per demand zone (``zone_id``, ``settlement_id``, ``region``, ``machine``,
        ``oblast_iso``, ``lat``, ``lon``, ``n_farms``, ``radius_km``).
    farm_zone
        ``n_farms x 2`` zone index per farm and machine type (-1 = no such machines).
    centres
        Candidate service centres (site table of :mod:`planner.sites`).
    plants
        Candidate assembly plants (``site_id``, ``name``, ``oblast_iso``, ``lat``, ``lon``,
        ``existing``, ``makes``).
    entries
        Rail entry points (geodata).
    instance
        The model arrays.
    direct_radius_km
        Direct service radius (road km).
    data_notes
        Plain-language notes on data and assumptions.
    """

    farms: gpd.GeoDataFrame
    projection: GrowthProjection
    zones: pd.DataFrame
    farm_zone: IntArray
    centres: gpd.GeoDataFrame
    plants: pd.DataFrame
    entries: pd.DataFrame
    instance: TwoEchelonInstance
    direct_radius_km: float
    data_notes: tuple[str, ...]


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
        Plants and centres (columns :data:`SITES_COLUMNS`), final period.
    assignments
        Farm -> centre rows of the final period (columns :data:`ASSIGNMENT_COLUMNS`).
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
# Inputs
# ----------------------------------------------------------------------------------------
def _direct_radius_km(scenario: Scenario) -> float:
    m, t = scenario.model, scenario.travel
    radius = travel_mod.service_radius(
        m.service_radius_km, m.service_time_min, unit="km", speed_kmh=t.speed_kmh
    )
    return DEFAULT_DIRECT_RADIUS_KM if radius is None else float(radius)


def _travel(scenario: Scenario) -> travel_mod.TravelModel:
    t = scenario.travel
    return travel_mod.TravelModel(circuity=t.circuity, speed_kmh=t.speed_kmh)


def _zones(
    farms: pd.DataFrame, projection: GrowthProjection, scenario: Scenario
) -> tuple[pd.DataFrame, IntArray, dict[str, FloatArray]]:
    """Aggregate farms into zones (settlement x region x machine)."""
    calendar = scenario.seasons.calendar
    travel = _travel(scenario)
    region = np.array([region_of(c, calendar) for c in farms["oblast_iso"].astype(str)])
    settlement = farms["settlement_id"].astype(str).to_numpy()
    lon = farms["lon"].to_numpy(dtype=np.float64)
    lat = farms["lat"].to_numpy(dtype=np.float64)
    n = len(farms)
    farm_zone = np.full((n, 2), -1, dtype=np.int64)
    parts: list[pd.DataFrame] = []
    arrays: dict[str, list[FloatArray]] = {"hours": [], "new": []}
    offset = 0
    for m, machine in enumerate(MACHINE_NAMES):
        hours = projection.hours(machine)  # type: ignore[arg-type]
        new = projection.new_machines(machine)  # type: ignore[arg-type]
        active = (hours.sum(axis=1) > 0) | (new.sum(axis=1) > 0)
        key = pd.Series(settlement) + "|" + pd.Series(region)
        codes, uniques = pd.factorize(key.where(active, None))
        rows = np.flatnonzero(codes >= 0)
        code = codes[rows]
        nz = len(uniques)
        farm_zone[rows, m] = code + offset
        weight = hours[rows, -1] + 1e-9
        xyz = travel_mod.unit_vectors(lon[rows], lat[rows])
        acc = np.zeros((nz, 3))
        np.add.at(acc, code, xyz * weight[:, None])
        acc /= np.linalg.norm(acc, axis=1, keepdims=True)
        z_lat = np.degrees(np.arcsin(np.clip(acc[:, 2], -1, 1)))
        z_lon = np.degrees(np.arctan2(acc[:, 1], acc[:, 0]))
        dist = travel.road_km_between(lon[rows], lat[rows], z_lon[code], z_lat[code])
        radius = np.zeros(nz)
        np.maximum.at(radius, code, dist)
        h = np.zeros((nz, hours.shape[1]))
        np.add.at(h, code, hours[rows])
        nm = np.zeros((nz, hours.shape[1]))
        np.add.at(nm, code, new[rows])
        first = np.zeros(nz, dtype=np.int64)
        first[code[::-1]] = rows[::-1]
        names = [str(u) for u in uniques]
        parts.append(
            pd.DataFrame(
                {
                    "zone_id": [f"{u.split('|')[0]}|{u.split('|')[1]}|{machine}" for u in names],
                    "settlement_id": [u.split("|")[0] for u in names],
                    "region": [u.split("|")[1] for u in names],
                    "machine": machine,
                    "oblast_iso": farms["oblast_iso"].astype(str).to_numpy()[first],
                    "lat": z_lat,
                    "lon": z_lon,
                    "n_farms": np.bincount(code, minlength=nz),
                    "radius_km": radius,
                }
            )
        )
        arrays["hours"].append(h)
        arrays["new"].append(nm)
        offset += nz
    zones = pd.concat(parts, ignore_index=True)
    return (
        zones,
        farm_zone,
        {"hours": np.vstack(arrays["hours"]), "new": np.vstack(arrays["new"])},
    )


def _zone_members(farm_zone: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Return (farm row, machine, zone) of every farm-zone membership, sorted by zone."""
    rows, machine = np.nonzero(farm_zone >= 0)
    zone = farm_zone[rows, machine]
    order = np.argsort(zone, kind="stable")
    return rows[order].astype(np.int64), machine[order].astype(np.int64), zone[order]


def _pair_mean_km(
    farms: pd.DataFrame,
    farm_zone: IntArray,
    *,
    projection: GrowthProjection,
    pair_zone: IntArray,
    pair_centre: IntArray,
    centres: pd.DataFrame,
    travel: travel_mod.TravelModel,
) -> FloatArray:
    """Hours-weighted mean road km from a zone's farms to a centre, per pair."""
    rows, machine, zone = _zone_members(farm_zone)
    hours = np.where(
        machine == 0,
        projection.tractor_hours_year[rows, -1],
        projection.combine_hours_year[rows, -1],
    )
    weight = hours + 1e-9
    n_zones = int(farm_zone.max(initial=-1)) + 1
    starts = np.searchsorted(zone, np.arange(n_zones + 1))
    counts = starts[pair_zone + 1] - starts[pair_zone]
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    member = np.repeat(starts[pair_zone], counts) + within
    pair_rep = np.repeat(np.arange(len(pair_zone)), counts)
    j = pair_centre[pair_rep]
    f = rows[member]
    km = travel.road_km_between(
        farms["lon"].to_numpy(dtype=np.float64)[f],
        farms["lat"].to_numpy(dtype=np.float64)[f],
        centres["lon"].to_numpy(dtype=np.float64)[j],
        centres["lat"].to_numpy(dtype=np.float64)[j],
    )
    w = weight[member]
    num = np.bincount(pair_rep, weights=w * km, minlength=len(pair_zone))
    den = np.bincount(pair_rep, weights=w, minlength=len(pair_zone))
    out: FloatArray = num / np.maximum(den, 1e-300)
    return out


def _nearest_entry(
    entries: pd.DataFrame, lat: FloatArray, lon: FloatArray, machine: int, scenario: Scenario
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Per point: cheapest kit cost via an entry, the entry index, and the rail-leg costs."""
    pl = scenario.plants
    _, o_lat, o_lon = KIT_ORIGINS[machine]
    e_lat = entries["lat"].to_numpy(dtype=np.float64)
    e_lon = entries["lon"].to_numpy(dtype=np.float64)
    to_entry = travel_mod.geodesic_km(o_lon, o_lat, e_lon, e_lat) * pl.rail_circuity
    leg = travel_mod.geodesic_km(lon[:, None], lat[:, None], e_lon[None, :], e_lat[None, :])
    total = (to_entry[None, :] + leg * pl.rail_circuity) * pl.inbound_cost_kzt_per_machine_km
    best = np.argmin(total, axis=1)
    origin_cost = to_entry * pl.inbound_cost_kzt_per_machine_km
    return total[np.arange(len(lat)), best], best.astype(np.int64), origin_cost


def build_two_echelon_inputs(scenario: Scenario) -> TwoEchelonInputs:  # noqa: PLR0915
    """Build farms, growth, zones, candidates and the model instance of a scenario.

    Parameters
    ----------
    scenario
        A scenario (any model kind; its two-echelon sections are used).

    Returns
    -------
    inputs
        Everything the model needs, plus the tables for reporting.
    """
    notes: list[str] = []
    farms = load_farms(scenario)
    notes.extend(farms.attrs.get("data_notes", []))
    params = demand_parameters(scenario)  # validated overrides (planner.location)
    g = scenario.growth
    growth = GrowthParameters(
        years=g.years,
        start_year=g.start_year,
        years_per_period=g.years_per_period,
        renewal_rate_start=g.renewal_rate_start,
        renewal_rate_end=g.renewal_rate_end,
        belarus_share_of_purchases=g.belarus_share_of_purchases,
    )
    projection = project_growth(farms, growth, params)
    notes.append(
        f"growth: renewal {100 * g.renewal_rate_start:.1f} % -> {100 * g.renewal_rate_end:.1f} % "
        f"a year (facts 3c), Belarus share of purchases {100 * g.belarus_share_of_purchases:.0f} %"
        " (scenario parameter; facts 3e: no sourced share), constant fleet size (assumption)"
    )
    zones, farm_zone, zarr = _zones(farms, projection, scenario)
    centres = references.candidate_sites(scenario)
    plants = references.plant_candidates(scenario)
    entries = pd.DataFrame(geodata.load_rail_entry_points().drop(columns="geometry"))
    travel = _travel(scenario)
    direct_km = _direct_radius_km(scenario)
    vans = scenario.vans
    reach_km = max(direct_km, vans.radius_km) if vans.enabled else direct_km
    cm = costs.build_cost_matrix(
        zones["lon"].to_numpy(),
        zones["lat"].to_numpy(),
        centres["lon"].to_numpy(),
        centres["lat"].to_numpy(),
        travel=travel,
        k_nearest=min(scenario.capabilities.zone_k_nearest, len(centres)),
        max_km=reach_km,
        unit="km",
    )
    pair_zone = cm.row_of_entry
    pair_km = _pair_mean_km(
        farms,
        farm_zone,
        projection=projection,
        pair_zone=pair_zone,
        pair_centre=cm.site_index,
        centres=centres,
        travel=travel,
    )
    # Profiles: one row per (region, machine) of planner.seasons.PROFILES.
    dparams = params
    profiles = profile_matrix(dparams)
    zone_profile = np.array(
        [profile_index(r, m) for r, m in zip(zones["region"], zones["machine"], strict=True)],
        dtype=np.int64,
    )
    existing_c = (centres["role"] == "existing").to_numpy()
    cap = scenario.capabilities
    centre_cap = np.full(len(centres), cap.centre_capacity_hours_per_week)
    if cap.existing_centre_capacity_hours_per_week is not None:
        centre_cap[existing_c] = cap.existing_centre_capacity_hours_per_week
    centre_fixed = np.where(
        existing_c, scenario.sites.existing_fixed_cost_kzt, scenario.sites.fixed_cost_kzt
    )
    c_req = np.zeros(len(centres), dtype=np.bool_)
    c_forb = np.zeros(len(centres), dtype=np.bool_)
    required, forbidden = references.site_references(scenario, centres)
    c_req[required] = True
    c_forb[forbidden] = True
    p_existing = plants["existing"].to_numpy(dtype=np.bool_)
    p_req = np.zeros(len(plants), dtype=np.bool_)
    p_forb = np.zeros(len(plants), dtype=np.bool_)
    required, forbidden = references.plant_references(scenario, plants)
    p_req[required] = True
    p_forb[forbidden] = True
    p_lat = plants["lat"].to_numpy(dtype=np.float64)
    p_lon = plants["lon"].to_numpy(dtype=np.float64)
    inbound = np.full((len(plants), 2), np.inf)
    entry_ids = entries["entry_id"].astype(str).tolist()
    plant_entry: list[list[str]] = [["", ""] for _ in range(len(plants))]
    c_lat = centres["lat"].to_numpy(dtype=np.float64)
    c_lon = centres["lon"].to_numpy(dtype=np.float64)
    imp = np.full((len(centres), 2), np.inf)
    pl = scenario.plants
    for m, machine in enumerate(MACHINE_NAMES):
        cost, best, _ = _nearest_entry(entries, p_lat, p_lon, m, scenario)
        makes = plants["makes"].str.contains(machine).to_numpy()
        inbound[makes, m] = cost[makes]
        for k in np.flatnonzero(makes):
            plant_entry[k][m] = entry_ids[int(best[k])]
        if pl.allow_direct_import:
            _, _, origin = _nearest_entry(entries, c_lat, c_lon, m, scenario)
            road = (
                travel.road_km_between(
                    c_lon[:, None], c_lat[:, None],
                    entries["lon"].to_numpy()[None, :], entries["lat"].to_numpy()[None, :],
                ) * pl.outbound_cost_kzt_per_machine_km
            )  # fmt: skip
            imp[:, m] = (origin[None, :] + road).min(
                axis=1
            ) + pl.direct_import_premium_kzt_per_machine
    outbound = (
        travel.road_km_between(p_lon[:, None], p_lat[:, None], c_lon[None, :], c_lat[None, :])
        * pl.outbound_cost_kzt_per_machine_km
    )
    # Sparse arcs: each centre is supplied by its k nearest plant candidates (existing always).
    k_keep = min(pl.k_nearest_per_centre, len(plants))
    rank = np.argsort(np.argsort(outbound, axis=0, kind="stable"), axis=0, kind="stable")
    outbound = np.where((rank < k_keep) | p_existing[:, None], outbound, np.inf)
    st = scenario.sites
    service_rate = travel_mod.service_cost_kzt_per_hour_km(
        st.travel_cost_kzt_per_km, st.service_hours_per_visit
    )
    m_spec = scenario.model
    instance = TwoEchelonInstance(
        zone_ids=tuple(zones["zone_id"].astype(str)),
        zone_machine=np.array([MACHINE_NAMES.index(m) for m in zones["machine"]], dtype=np.int64),
        zone_profile=zone_profile,
        profiles=profiles,
        zone_hours_year=zarr["hours"],
        zone_new_machines=zarr["new"],
        centre_ids=tuple(centres["site_id"].astype(str)),
        centre_fixed_cost_kzt=centre_fixed.astype(np.float64),
        centre_capacity_hours_per_week=centre_cap,
        centre_combine_cost_kzt=np.full(len(centres), cap.combine_extra_cost_kzt),
        centre_max_vans=np.full(
            len(centres), vans.max_per_centre if vans.enabled else 0, dtype=np.int64
        ),
        centre_required=c_req,
        centre_forbidden=c_forb,
        pair_zone=pair_zone,
        pair_centre=cm.site_index.copy(),
        pair_km=pair_km,
        pair_van=pair_km > direct_km,
        plant_ids=tuple(plants["site_id"].astype(str)),
        plant_fixed_cost_kzt=plants["fixed_cost_kzt"].to_numpy(dtype=np.float64),
        plant_capacity_machines_per_year=plants["capacity_machines_per_year"].to_numpy(
            dtype=np.float64
        ),
        plant_inbound_cost_kzt_per_machine=inbound,
        plant_entry_ids=tuple((a, b) for a, b in plant_entry),
        plant_required=p_req,
        plant_forbidden=p_forb,
        outbound_cost_kzt_per_machine=outbound,
        import_cost_kzt_per_machine=imp,
        van_cost_kzt_per_year=vans.cost_per_van_kzt,
        van_hours_per_week=vans.hours_per_van_week,
        service_cost_kzt_per_hour_km=service_rate,
        unserved_penalty_kzt_per_hour=m_spec.unserved_penalty_kzt_per_hour,
        period_weight=np.full(g.years, float(g.years_per_period)),
        period_years=growth.period_years,
        objective=m_spec.objective,
        budget_kzt_per_year=m_spec.budget_kzt_per_year,
        capacity_weeks=scenario.seasons.capacity_weeks,
    )
    n_unreach = int((np.diff(cm.indptr) == 0).sum())
    notes.append(
        f"{len(farms):,} farms aggregated into {len(zones):,} demand zones (settlement x region "
        f"x machine); each zone lists its {scenario.capabilities.zone_k_nearest} nearest centres "
        f"within {reach_km:g} road km (direct radius {direct_km:g} km"
        + (f", van radius {vans.radius_km:g} km)" if vans.enabled else ", no vans)")
    )
    if n_unreach:
        notes.append(f"{n_unreach} demand zone(s) have no candidate centre within reach")
    notes.append(
        f"service travel {service_rate:g} KZT per service hour and road km (2 x "
        f"{st.travel_cost_kzt_per_km:g} KZT/km per {st.service_hours_per_visit:g} h visit); kits "
        f"{pl.inbound_cost_kzt_per_machine_km:g} KZT/machine-km by rail (circuity "
        f"{pl.rail_circuity:g}), delivery {pl.outbound_cost_kzt_per_machine_km:g} KZT/machine-km"
        " (assumptions)"
    )
    return TwoEchelonInputs(
        farms=farms,
        projection=projection,
        zones=zones,
        farm_zone=farm_zone,
        centres=centres,
        plants=plants,
        entries=entries,
        instance=instance,
        direct_radius_km=direct_km,
        data_notes=tuple(dict.fromkeys(notes)),
    )


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
    travel = _travel(scenario)
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
        parts.append(
            pd.DataFrame(
                {
                    "farm_id": ids[f_rep],
                    "site_id": np.asarray(inst.centre_ids, dtype=object)[j],
                    "travel_km": np.round(km, 3),
                    "travel_time_min": np.round(travel.minutes(km), 2),
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
    return out.loc[:, list(ASSIGNMENT_COLUMNS)]


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
    return out.loc[:, list(SITES_COLUMNS)]


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
    inputs: TwoEchelonInputs, sol: TwoEchelonSolution, farm_rows: pd.DataFrame
) -> dict[str, Any]:
    inst = inputs.instance
    t = inst.n_periods - 1
    total = float(inst.zone_hours_year[:, t].sum())
    served = farm_rows.loc[farm_rows["site_id"] != ""]
    w = served["demand"].to_numpy(dtype=np.float64)
    km = served["travel_km"].to_numpy(dtype=np.float64)
    minutes = served["travel_time_min"].to_numpy(dtype=np.float64)
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
    rows, machine, zone = _zone_members(inputs.farm_zone)
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
        kpis=_kpis(inputs, sol, farm_rows),
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
        Columns :data:`ASSIGNMENT_COLUMNS`, like ``result.assignments`` (which is the final
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
