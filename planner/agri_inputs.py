"""Inputs of the two-echelon model: farms, growth, demand zones, candidates and the arrays.

:func:`build_two_echelon_inputs` implements steps 1-5 of the pipeline described in
:mod:`planner.agri` (farms, growth, zones, service-centre and plant candidates); the tables
of a solved plan are made in :mod:`planner.agri`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import costs, geodata, references
from planner import travel as travel_mod
from planner.growth import GrowthParameters, GrowthProjection, project_growth
from planner.location import demand_parameters, estimated_fleet_notes, load_farms
from planner.models._base import (
    FloatArray,
    IntArray,
)
from planner.models.two_echelon import (
    MACHINE_NAMES,
    TwoEchelonInstance,
)
from planner.scenarios import Scenario
from planner.seasons import profile_index, profile_matrix, region_of

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
# The common columns (planner.results.SITE_TABLE_COLUMNS / ASSIGNMENT_COLUMNS) come first.
NETWORK_SITES_COLUMNS: Final[tuple[str, ...]] = (
    "site_id", "name", "oblast_iso", "lat", "lon", "role", "status", "assigned_demand",
    "capacity", "utilisation", "capability", "vans", "year_opened", "capacity_unit",
    "demand_unit", "peak_week", "n_farms",
)  # fmt: skip
NETWORK_ASSIGNMENT_COLUMNS: Final[tuple[str, ...]] = (
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


# ----------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------
def _direct_radius_km(scenario: Scenario) -> float:
    m, t = scenario.model, scenario.travel
    radius = travel_mod.service_radius(
        m.service_radius_km, m.service_time_min, unit="km", speed_kmh=t.speed_kmh
    )
    return DEFAULT_DIRECT_RADIUS_KM if radius is None else float(radius)


def travel_model(scenario: Scenario) -> travel_mod.TravelModel:
    """Return the scenario's travel model (:func:`planner.references.travel_model`)."""
    return references.travel_model(scenario)


def _zones(
    farms: pd.DataFrame, projection: GrowthProjection, scenario: Scenario
) -> tuple[pd.DataFrame, IntArray, dict[str, FloatArray]]:
    """Aggregate farms into zones (settlement x region x machine)."""
    calendar = scenario.seasons.calendar
    travel = travel_model(scenario)
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


def zone_members(farm_zone: IntArray) -> tuple[IntArray, IntArray, IntArray]:
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
    rows, machine, zone = zone_members(farm_zone)
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
    notes.extend(params.assumption_notes())
    notes.extend(estimated_fleet_notes())
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
        f"growth: renewal {100 * g.renewal_rate_start:.1f} % a year at the start (facts 3c: "
        f"5.5 % in 2024) -> {100 * g.renewal_rate_end:.1f} % at the end (assumption: facts 3c "
        "gives >= 10 % only as the norm of developed countries, not as a Kazakhstan forecast), "
        f"Belarus share of purchases {100 * g.belarus_share_of_purchases:.0f} % (assumption: "
        "scenario parameter, facts 3e: no sourced share), constant fleet size (assumption)"
    )
    zones, farm_zone, zarr = _zones(farms, projection, scenario)
    centres = references.candidate_sites(scenario)
    plants = references.plant_candidates(scenario)
    entries = pd.DataFrame(geodata.load_rail_entry_points().drop(columns="geometry"))
    travel = travel_model(scenario)
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
    notes.append(travel.description)
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
