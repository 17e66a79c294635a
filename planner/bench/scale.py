"""Scale benchmark: generated Kazakhstan farms x candidate sites, one model, one solve.

Data: farms from :func:`planner.farms.generate_farms` (seeded), demand weights from
:func:`planner.demand.compute_demand` (service hours per year; farms without Belarusian
machines weigh 0), candidate sites = the embedded settlements plus farm locations drawn
at random (seeded) up to ``n_sites``. Costs are road km = great-circle km (sphere,
R = 6371.0088 km; within 0.5 % of the ellipsoidal geodesic of :mod:`planner.costs`) x the
default circuity of :class:`planner.costs.TravelModel`.

p-median at scale ("long lists, warm multipliers"): with p = 10-50 of 2,000 sites a farm's
nearest *open* site is typically its 40th-200th nearest candidate, and a strong Lagrangian
bound needs lists longer still (the optimal multiplier of a farm exceeds its assignment cost
by its share of a site's opening price). So:

1. aggregate the farms into 0.2-degree cells and solve that copy heuristically (seed open
   set S0) and by subgradient (multipliers U per cell) -- this only seeds the search and the
   multipliers; the aggregated problem never enters a bound;
2. list, per weighted farm, its ``knn_list_length(m, p)`` nearest sites (k-d tree on unit
   vectors; ``beyond_cost`` = the exact distance to the first site left out, so bounds
   stay valid for the full farms x sites problem);
3. solve the full-size p-median on those lists from S0, with the cell multipliers spread
   over the cell's farms by weight as starting multipliers (any start gives a valid bound;
   a good one saves most of the iterations), an exact-cost callback for farms whose listed
   sites all end up closed, and the compiled subgradient (an iteration costs only the
   entries cheaper than each farm's multiplier, so long lists are cheap).

CFLP at scale (single-source capacitated service centres, see :func:`cflp_instance` for
the capacities and fixed costs):

1. aggregated copy (0.5-degree cells, every site listed): p-median open sets for a few
   numbers of sites, each evaluated with the capacities, then the CFLP engine warm-started
   from the best -- an open set S0 and cell multipliers (per unit of demand); neither
   enters a bound of the full problem;
2. per farm with demand, every site within ``max(its road km to its S0 site, its cell
   multiplier per unit) + CFLP_LIST_MARGIN_KM`` plus every S0 site (room to move demand
   when a site is full), ``beyond_cost`` = the first site left out by the radius; farms
   without demand list only their ``CFLP_ZERO_K`` nearest sites: they load no site and are
   assigned to the nearest open site by the exact-cost callback;
3. the full-size CFLP warm-started from S0 and the cell multipliers (the bound is valid for
   the full farms x sites problem for any multipliers).

``runtime_s`` counts steps 1-3 (everything after generating the farms and sites, which is
reported separately as ``data_s``).
"""

from __future__ import annotations

import math
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np
from scipy.spatial import cKDTree

from planner.costs import build_cost_matrix
from planner.demand import compute_demand
from planner.farms import generate_farms
from planner.geodata import load_settlements
from planner.models._base import CostMatrix, FloatArray, IntArray, SiteData, SolveOptions
from planner.models.cflp import CFLP
from planner.models.check import check_solution
from planner.models.mclp import MCLP
from planner.models.pmedian import PMedian
from planner.travel import TravelModel, unit_vectors

K_MIN = 8
K_MAX = 400
K_MAX_KNN = 450  # longest k-nearest list per weighted farm (p-median at scale)
AGG_LR_SHARE = 0.05  # share of the time limit for the aggregated multipliers
AGG_CELL_DEG = 0.2
BEYOND_SAFETY = 1.0 - 1e-9  # distances are exact on the sphere; only rounding
EARTH_RADIUS_KM = 6_371.0088
K_FIRST = 128
_CHUNK = 8_000


# MCLP at scale: demand within one hour's drive (60 road km at 60 km/h), every site within
# that radius listed (at most MCLP_MAX_LIST; rows cut there are reported as truncated_rows).
MCLP_RADIUS_KM = 60.0
MCLP_MAX_LIST = 400

# CFLP at scale: capacity = CFLP_CAPACITY_FACTOR x (total demand / p); fixed cost = the
# cost of carrying a p-th of the demand CFLP_FIXED_KM road km (so that about p sites pay).
CFLP_CAPACITY_FACTOR = 1.5
CFLP_FIXED_KM = 50.0
CFLP_CELL_DEG = 0.5
CFLP_LIST_MARGIN_KM = 20.0
CFLP_ZERO_K = 4
# Shares of the time limit: each p-median seed, the aggregated CFLP.
CFLP_SEED_SHARE = 0.025
CFLP_AGG_SHARE = 0.25
# Seconds kept back from the full solve's limit for its wrap-up.
CFLP_WRAP_UP_S = 2.5


def peak_rss_mb() -> float:
    """Return the peak resident set size of this process in MB (Linux ``ru_maxrss`` is KB).

    Returns
    -------
    rss_mb
        Peak RSS so far.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def candidate_sites(
    n_sites: int, farm_lon: FloatArray, farm_lat: FloatArray, *, seed: int
) -> tuple[FloatArray, FloatArray, int]:
    """Return site coordinates: settlements first, then random farm locations up to ``n_sites``.

    Parameters
    ----------
    n_sites
        Number of candidate sites.
    farm_lon, farm_lat
        Farm coordinates to draw extra sites from.
    seed
        Seed of the draw.

    Returns
    -------
    lon, lat, n_settlements
        Site coordinates and how many of them are settlements.
    """
    sett = load_settlements().sort_values("population", ascending=False, kind="stable")
    s_lon = sett["lon"].to_numpy(dtype=np.float64)[:n_sites]
    s_lat = sett["lat"].to_numpy(dtype=np.float64)[:n_sites]
    extra = n_sites - len(s_lon)
    rng = np.random.default_rng(seed + 7919)
    pick = rng.choice(len(farm_lon), size=max(extra, 0), replace=False)
    lon = np.concatenate([s_lon, farm_lon[pick]])
    lat = np.concatenate([s_lat, farm_lat[pick]])
    return lon, lat, len(s_lon)


def road_km_function(
    dlon: FloatArray, dlat: FloatArray, slon: FloatArray, slat: FloatArray
) -> Callable[[IntArray, IntArray], FloatArray]:
    """Return ``(rows, sites) -> road km matrix`` (the exact-cost callback).

    Road km = great-circle km on the sphere of radius ``EARTH_RADIUS_KM`` x the default
    circuity of :class:`planner.costs.TravelModel` (the same definition as the lists).

    Parameters
    ----------
    dlon, dlat
        Demand coordinates.
    slon, slat
        Site coordinates.

    Returns
    -------
    cost
        The callback.
    """
    circuity = TravelModel().circuity
    du = unit_vectors(dlon, dlat)
    su = unit_vectors(slon, slat)

    def cost(rows: IntArray, sites: IntArray) -> FloatArray:
        dot = np.clip(du[rows] @ su[sites].T, -1.0, 1.0)
        return np.asarray(circuity * EARTH_RADIUS_KM * np.arccos(dot), dtype=np.float64)

    return cost


def _chord_to_road_km(chord: FloatArray, circuity: float) -> FloatArray:
    return np.asarray(
        circuity * 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0)),
        dtype=np.float64,
    )


def radius_lists(
    dlon: FloatArray,
    dlat: FloatArray,
    slon: FloatArray,
    slat: FloatArray,
    radius_km: FloatArray,
    *,
    k_min: int = K_MIN,
    k_max: int = K_MAX,
) -> CostMatrix:
    """List, per demand point, every site within its road-km radius (k_min..k_max sites).

    Distances come straight from the k-d tree on unit vectors (chord -> great circle), so
    no distance is computed twice; a first query with ``K_FIRST`` neighbours serves most
    points and only points whose radius holds more sites are queried again.

    Parameters
    ----------
    dlon, dlat
        Demand coordinates.
    slon, slat
        Site coordinates.
    radius_km
        Per demand point, the road-km radius to list.
    k_min, k_max
        Bounds on the list length.

    Returns
    -------
    costs
        Road km, rows sorted by cost; ``beyond_cost`` = the road km of the first site left
        out (a lower bound on every unlisted pair), ``inf`` if none is.
    """
    circuity = TravelModel().circuity
    n, m = len(dlon), len(slon)
    tree = cKDTree(unit_vectors(slon, slat))
    pts = unit_vectors(dlon, dlat)
    counts = np.zeros(n, dtype=np.int64)
    beyond = np.full(n, np.inf)
    todo = np.arange(n, dtype=np.int64)
    k_try = min(max(k_min, K_FIRST), k_max)
    parts_rows: list[IntArray] = []
    parts_site: list[IntArray] = []
    parts_cost: list[FloatArray] = []
    while len(todo):
        q = min(k_try + 1, m)
        kk = min(k_try, m)
        again: list[IntArray] = []
        for lo in range(0, len(todo), _CHUNK):
            rows = todo[lo : lo + _CHUNK]
            chord, nn = tree.query(pts[rows], k=q)
            chord = np.asarray(chord).reshape(len(rows), q)
            nn = np.asarray(nn, dtype=np.int64).reshape(len(rows), q)
            road = _chord_to_road_km(chord, circuity)
            within = (road[:, :kk] <= radius_km[rows, None]) | (np.arange(kk)[None, :] < k_min)
            length = within.sum(axis=1)
            full = (length == kk) & (kk < min(k_max, m)) & (q < m + 1)
            again.append(rows[full & (q <= m)])
            ok = ~full | (kk >= min(k_max, m))
            rws, ln = rows[ok], length[ok]
            keep = np.arange(kk)[None, :] < ln[:, None]
            parts_rows.append(np.repeat(rws, ln))
            parts_site.append(nn[ok][:, :kk][keep])
            parts_cost.append(road[ok][:, :kk][keep])
            counts[rws] = ln
            has_next = ln < q
            nxt = road[ok][np.arange(len(rws)), np.minimum(ln, q - 1)]
            beyond[rws] = np.where(has_next & (ln < m), nxt * BEYOND_SAFETY, np.inf)
        todo = np.concatenate(again) if again else np.zeros(0, dtype=np.int64)
        k_try = min(k_max, 3 * k_try)
    row_all = np.concatenate(parts_rows)
    order = np.argsort(row_all, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return CostMatrix(
        indptr=indptr,
        site_index=np.concatenate(parts_site)[order],
        cost=np.concatenate(parts_cost)[order],
        n_sites=m,
        beyond_cost=beyond,
        unit="km",
    )


def _aggregate(
    lon: FloatArray, lat: FloatArray, w: FloatArray, cell_deg: float
) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
    """Sum positive weights into grid cells at their weighted centroid (+ cell per point)."""
    pos = w > 0
    cell_of = np.full(len(w), -1, dtype=np.int64)
    lon, lat, w = lon[pos], lat[pos], w[pos]
    key = np.floor(lon / cell_deg).astype(np.int64) * 1_000_000 + np.floor(lat / cell_deg).astype(
        np.int64
    )
    _, inv = np.unique(key, return_inverse=True)
    ws: FloatArray = np.bincount(inv, weights=w).astype(np.float64)
    cell_of[pos] = inv
    return (
        np.bincount(inv, weights=w * lon) / ws,
        np.bincount(inv, weights=w * lat) / ws,
        ws,
        cell_of,
    )


def knn_list_length(m: int, p: int) -> int:
    """List length per weighted farm at scale: about 3 x the sites per open site."""
    return int(min(m, max(K_MIN * 8, math.ceil(3 * m / max(p, 1))), K_MAX_KNN))


def knn_lists(
    dlon: FloatArray,
    dlat: FloatArray,
    slon: FloatArray,
    slat: FloatArray,
    k_per_row: IntArray,
) -> CostMatrix:
    """List, per demand point, its ``k_per_row`` nearest sites (road km, cheapest first).

    Parameters
    ----------
    dlon, dlat
        Demand coordinates.
    slon, slat
        Site coordinates.
    k_per_row
        List length per demand point (>= 1).

    Returns
    -------
    costs
        Road km, rows sorted by cost; ``beyond_cost`` = the road km of the first site left
        out (a lower bound on every unlisted pair), ``inf`` when every site is listed.
    """
    circuity = TravelModel().circuity
    n, m = len(dlon), len(slon)
    k_per_row = np.minimum(np.asarray(k_per_row, dtype=np.int64), m)
    tree = cKDTree(unit_vectors(slon, slat))
    pts = unit_vectors(dlon, dlat)
    beyond = np.full(n, np.inf)
    site = np.empty(int(k_per_row.sum()), dtype=np.int64)
    cost = np.empty(len(site))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(k_per_row, out=indptr[1:])
    for kk in np.unique(k_per_row).tolist():
        rows_k = np.flatnonzero(k_per_row == kk)
        q = min(kk + 1, m)
        step = max(1, 4_000_000 // q)
        for lo in range(0, len(rows_k), step):
            rows = rows_k[lo : lo + step]
            chord, nn = tree.query(pts[rows], k=q, workers=-1)
            chord = np.asarray(chord).reshape(len(rows), q)
            nn = np.asarray(nn, dtype=np.int64).reshape(len(rows), q)
            road = _chord_to_road_km(chord, circuity)
            ent = (indptr[rows][:, None] + np.arange(kk)[None, :]).ravel()
            site[ent] = nn[:, :kk].ravel()
            cost[ent] = road[:, :kk].ravel()
            if q > kk:
                beyond[rows] = road[:, kk] * BEYOND_SAFETY
    return CostMatrix(
        indptr=indptr, site_index=site, cost=cost, n_sites=m, beyond_cost=beyond, unit="km"
    )


def _scale_pmedian(
    data: ScaleData,
    *,
    p: int,
    time_limit_s: float,
    seed: int,
    log: TextIO,
) -> dict[str, Any]:

    dlon, dlat, w, slon, slat = data.dlon, data.dlat, data.w, data.slon, data.slat
    start = time.perf_counter()
    m = len(slon)
    # 1. Aggregated seed solution and multipliers (never used in a bound).
    alon, alat, aw, cell_of = _aggregate(dlon, dlat, w, AGG_CELL_DEG)
    k_agg = min(m, max(50, math.ceil(3 * m / p)), 300)
    agg_costs = radius_lists(alon, alat, slon, slat, np.zeros(len(alon)), k_min=k_agg, k_max=k_agg)
    agg = PMedian.from_cost_matrix(
        agg_costs, aw, p=p, exact_cost=road_km_function(alon, alat, slon, slat)
    )
    seed_sol = agg.solve(
        SolveOptions(
            time_limit_s=0.1 * time_limit_s, seed=seed, backend="heuristic", compute_regret=False
        )
    )
    s0 = np.asarray(seed_sol.open_sites, dtype=np.int64)
    u_cell, agg_bound = agg.lagrangian_multipliers(
        s0.tolist(), time_limit_s=AGG_LR_SHARE * time_limit_s
    )
    agg_gap = (seed_sol.objective - agg_bound) / seed_sol.objective
    log.write(
        f"  seed: {len(aw):,} cells, k={k_agg}, objective {seed_sol.objective:,.0f}, "
        f"aggregated bound gap {100 * agg_gap:.2f} % ({time.perf_counter() - start:.1f} s)\n"
    )
    # 2. k-nearest lists (long for weighted farms, short for the others).
    k_list = knn_list_length(m, p)
    costs = knn_lists(dlon, dlat, slon, slat, np.where(w > 0, k_list, K_MIN))
    log.write(
        f"  lists: {costs.nnz:,} pairs ({k_list} per weighted farm) "
        f"({time.perf_counter() - start:.1f} s)\n"
    )
    # 3. Full-size solve, warm-started.
    safe_cell = np.maximum(cell_of, 0)
    u0 = np.where(cell_of >= 0, w * u_cell[safe_cell] / aw[safe_cell], 0.0)
    exact = road_km_function(dlon, dlat, slon, slat)
    model = PMedian.from_cost_matrix(
        costs, w, p=p, exact_cost=exact, initial_sites=s0.tolist(), initial_multipliers=u0
    )
    remaining = max(1.0, time_limit_s - (time.perf_counter() - start))

    sol = model.solve(
        SolveOptions(
            time_limit_s=remaining,
            seed=seed,
            compute_regret=False,
            gap_tolerance=1e-3,
            progress=_progress_log(start, log),
        )
    )
    return {
        **_figures(sol),
        "k": k_list,
        "pairs": int(costs.nnz),
        "seed_objective": seed_sol.objective,
        "aggregated_bound_gap": agg_gap,
    }


@dataclass(frozen=True, eq=False)
class ScaleData:
    """Generated farms (coordinates, demand weights) and candidate sites of one run."""

    dlon: FloatArray
    dlat: FloatArray
    w: FloatArray
    slon: FloatArray
    slat: FloatArray


def _figures(sol: Any) -> dict[str, Any]:  # noqa: ANN401 -- Solution, imported lazily
    """Return the keys every model reports (objective, bound, gap, status, ...)."""
    return {
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "status": str(sol.status),
        "backend": sol.backend,
        "message": sol.message,
        "stats": dict(sol.stats),
    }


def _progress_log(start: float, log: TextIO) -> Callable[[Any], None]:
    """Return a progress callback writing elapsed time, phase and gap (every 2 s)."""

    def progress(pr: Any) -> None:  # noqa: ANN401 -- Progress, imported lazily
        gap = "-" if pr.gap is None else f"{100 * pr.gap:.3f} %"
        log.write(f"  {time.perf_counter() - start:6.1f} s  {pr.phase:<20} gap {gap}\n")

    return _throttle(progress)


def _throttle(fn: Callable[[Any], None], every_s: float = 2.0) -> Callable[[Any], None]:
    last = [-math.inf]

    def wrapped(pr: Any) -> None:  # noqa: ANN401 -- Progress, imported lazily
        now = time.perf_counter()
        if now - last[0] >= every_s:
            last[0] = now
            fn(pr)

    return wrapped


def run_scale(
    *,
    model: str,
    n_farms: int,
    n_sites: int,
    p: int,
    k: int | None,
    time_limit_s: float,
    seed: int,
    log: TextIO,
) -> dict[str, Any]:
    """Generate data, solve one model at scale and return the figures.

    Parameters
    ----------
    model
        ``pmedian``, ``cflp`` or ``mclp``.
    n_farms, n_sites
        Problem size.
    p
        Number of sites to open (p-median, MCLP).
    k
        List cap of the MCLP structure (p-median and CFLP list by radius, see above).
    time_limit_s
        Limit for everything after data generation.
    seed
        Seed of farms, sites and solver.
    log
        Where progress lines go.

    Returns
    -------
    result
        ``runtime_s, objective, bound, gap, peak_rss_mb, n_farms, n_sites, k`` and details.
    """
    t0 = time.perf_counter()
    farms = generate_farms(n_farms=n_farms, seed=seed)
    w = compute_demand(farms)["service_hours_year"].to_numpy(dtype=np.float64)
    dlon = farms["lon"].to_numpy(dtype=np.float64)
    dlat = farms["lat"].to_numpy(dtype=np.float64)
    del farms
    slon, slat, n_sett = candidate_sites(n_sites, dlon, dlat, seed=seed)
    data_s = time.perf_counter() - t0
    log.write(
        f"data: {n_farms:,} farms ({int((w > 0).sum()):,} with demand), {n_sites:,} sites "
        f"({n_sett} settlements) in {data_s:.1f} s\n"
    )
    t1 = time.perf_counter()
    data = ScaleData(dlon=dlon, dlat=dlat, w=w, slon=slon, slat=slat)
    if model == "pmedian":
        out = _scale_pmedian(data, p=p, time_limit_s=time_limit_s, seed=seed, log=log)
    elif model == "cflp":
        out = _scale_cflp(data, p=p, time_limit_s=time_limit_s, seed=seed, log=log)
    else:
        out = _scale_other(data, p=p, k=k, time_limit_s=time_limit_s, seed=seed)
    runtime_s = time.perf_counter() - t1 - float(out.pop("_check_s", 0.0))
    return {
        "model": model,
        "n_farms": n_farms,
        "n_farms_with_demand": int((w > 0).sum()),
        "n_sites": n_sites,
        "p": p,
        "time_limit_s": time_limit_s,
        "runtime_s": runtime_s,
        "data_s": data_s,
        "peak_rss_mb": peak_rss_mb(),
        **out,
    }


def _scale_other(
    data: ScaleData,
    *,
    p: int,
    k: int | None,
    time_limit_s: float,
    seed: int,
) -> dict[str, Any]:
    """MCLP on lists by radius (the CFLP has its own pipeline, :func:`_scale_cflp`)."""
    # Coverage needs every site within the radius in each list: list by radius (capped).
    kk = k or MCLP_MAX_LIST
    costs = build_cost_matrix(
        data.dlon, data.dlat, data.slon, data.slat, k_nearest=kk, max_km=MCLP_RADIUS_KM
    )
    truncated = int((costs.beyond_cost <= MCLP_RADIUS_KM).sum())
    opts = SolveOptions(time_limit_s=time_limit_s, seed=seed, compute_regret=False)
    sol = MCLP.from_cost_matrix(costs, data.w, p=p, service_radius=MCLP_RADIUS_KM).solve(opts)
    return {
        **_figures(sol),
        "k": kk,
        "pairs": int(costs.nnz),
        "service_radius_km": MCLP_RADIUS_KM,
        "truncated_rows": truncated,
    }


def cflp_instance(total_demand: float, n_sites: int, p: int) -> SiteData:
    """Capacities and fixed costs of the scale CFLP (service centres for the demand).

    Every candidate site gets capacity ``CFLP_CAPACITY_FACTOR * D / p`` (service hours a
    year) and fixed cost ``CFLP_FIXED_KM * D / p`` (hour-km, the unit of the travel costs:
    opening a centre costs as much as carrying a p-th of the demand that far), so about
    ``p`` centres balance opening and travel and at least ``p / CFLP_CAPACITY_FACTOR``
    are needed for capacity.

    Parameters
    ----------
    total_demand
        Sum of the demand weights ``D``.
    n_sites
        Number of candidate sites.
    p
        Planned number of centres.

    Returns
    -------
    sites
        Site data (no required or forbidden sites).
    """
    share = total_demand / max(p, 1)
    return SiteData.default(
        n_sites,
        capacity=max(CFLP_CAPACITY_FACTOR * share, 1.0),
        fixed_cost=CFLP_FIXED_KM * share,
    )


def _add_sites_to_lists(
    costs: CostMatrix,
    rows: IntArray,
    sites: IntArray,
    cost: Callable[[IntArray, IntArray], FloatArray],
) -> CostMatrix:
    """Append ``sites`` to the lists of ``rows`` where they lie beyond the listed ones."""
    n = costs.n_demand
    indptr = costs.indptr
    last = np.full(n, -np.inf)
    has = indptr[1:] > indptr[:-1]
    last[has] = costs.cost[indptr[1:][has] - 1]
    add_r: list[IntArray] = []
    add_s: list[IntArray] = []
    add_c: list[FloatArray] = []
    step = max(1, 2_000_000 // max(1, len(sites)))
    for lo in range(0, len(rows), step):
        rr = rows[lo : lo + step]
        mat = cost(rr, sites)
        order = np.argsort(mat, axis=1, kind="stable")
        mat = np.take_along_axis(mat, order, axis=1)
        new = mat > last[rr, None]
        add_r.append(np.repeat(rr, new.sum(axis=1)))
        add_s.append(sites[order][new])
        add_c.append(mat[new])
    er = np.concatenate([costs.row_of_entry, *add_r])
    es = np.concatenate([costs.site_index, *add_s])
    ec = np.concatenate([costs.cost, *add_c])
    # Both parts are sorted by (row, cost) and added costs exceed the listed ones: a stable
    # sort by row keeps every row sorted by cost.
    order = np.argsort(er, kind="stable")
    new_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(er, minlength=n), out=new_ptr[1:])
    return CostMatrix(
        indptr=new_ptr,
        site_index=es[order].astype(np.int64),
        cost=ec[order],
        n_sites=costs.n_sites,
        beyond_cost=np.asarray(costs.beyond_cost, dtype=np.float64),
        unit=costs.unit,
    )


def _scale_cflp(
    data: ScaleData,
    *,
    p: int,
    time_limit_s: float,
    seed: int,
    log: TextIO,
) -> dict[str, Any]:

    dlon, dlat, w, slon, slat = data.dlon, data.dlat, data.w, data.slon, data.slat
    start = time.perf_counter()
    m = len(slon)
    sites = cflp_instance(float(w.sum()), m, p)
    capacity = float(sites.capacity[0])
    # 1. Aggregated copy: seeds by p-median, then the CFLP engine from the best of them.
    alon, alat, aw, cell_of = _aggregate(dlon, dlat, w, CFLP_CELL_DEG)
    acosts = radius_lists(alon, alat, slon, slat, np.zeros(len(alon)), k_min=m, k_max=m)
    agg_eval = CFLP.from_cost_matrix(acosts, aw, sites=sites, single_source=False)
    k_cap = math.ceil(float(aw.sum()) / capacity)
    best_obj, best_sites = math.inf, np.zeros(0, dtype=np.int64)
    for k in sorted({max(k_cap, round(f * p)) for f in (1.0, 1.2, 1.4)}):
        pm = PMedian.from_cost_matrix(acosts, aw, p=k).solve(
            SolveOptions(
                time_limit_s=CFLP_SEED_SHARE * time_limit_s,
                seed=seed,
                backend="heuristic",
                compute_regret=False,
            )
        )
        obj = agg_eval.evaluate(pm.open_sites)[0]
        log.write(f"  seed p-median k={k}: capacitated objective {obj:,.0f}\n")
        if obj < best_obj:
            best_obj, best_sites = obj, np.asarray(pm.open_sites, dtype=np.int64)
    agg = CFLP.from_cost_matrix(
        acosts, aw, sites=sites, single_source=False, initial_sites=best_sites.tolist()
    )
    agg_sol = agg.solve(
        SolveOptions(
            time_limit_s=CFLP_AGG_SHARE * time_limit_s,
            seed=seed,
            backend="heuristic",
            compute_regret=False,
        )
    )
    s0 = np.asarray(agg_sol.open_sites, dtype=np.int64)
    assert agg.multipliers is not None
    lam_unit = agg.multipliers / aw
    log.write(
        f"  aggregated: {len(aw):,} cells, {len(s0)} sites, objective "
        f"{agg_sol.objective:,.0f}, bound {agg_sol.bound:,.0f} "
        f"({time.perf_counter() - start:.1f} s)\n"
    )
    # 2. Lists: farms with demand by radius (+ every S0 site), the others k nearest.
    pos = np.flatnonzero(w > 0)
    exact = road_km_function(dlon, dlat, slon, slat)
    seed_model = CFLP.from_cost_matrix(
        exact(pos, s0),
        w[pos],
        sites=SiteData.default(len(s0), capacity=capacity, fixed_cost=sites.fixed_cost[s0]),
    )
    _, _, seed_km = seed_model.evaluate(range(len(s0)))
    radius = np.zeros(len(w))
    radius[pos] = np.maximum(np.nan_to_num(seed_km, nan=0.0), lam_unit[cell_of[pos]])
    radius[pos] += CFLP_LIST_MARGIN_KM
    costs = radius_lists(dlon, dlat, slon, slat, radius, k_min=CFLP_ZERO_K)
    costs = _add_sites_to_lists(costs, pos, s0, exact)
    lens = np.diff(costs.indptr)
    log.write(
        f"  lists: {costs.nnz:,} pairs (mean {lens[pos].mean():.0f} per farm with demand, "
        f"max {lens.max()}) ({time.perf_counter() - start:.1f} s)\n"
    )
    # 3. Full-size solve, warm-started.
    lam0 = np.zeros(len(w))
    lam0[pos] = w[pos] * lam_unit[cell_of[pos]]
    model = CFLP.from_cost_matrix(
        costs,
        w,
        sites=sites,
        exact_cost=exact,
        initial_sites=s0.tolist(),
        initial_multipliers=lam0,
    )
    # The solve returns a little after its limit (final fixing tests, loose-row assignment).
    remaining = max(1.0, time_limit_s - CFLP_WRAP_UP_S - (time.perf_counter() - start))

    sol = model.solve(
        SolveOptions(
            time_limit_s=remaining,
            seed=seed,
            compute_regret=False,
            backend="heuristic",
            progress=_progress_log(start, log),
        )
    )
    return {
        **_figures(sol),
        "n_open": len(sol.open_sites),
        "capacity": capacity,
        "fixed_cost": float(sites.fixed_cost[0]),
        "k": round(float(lens[pos].mean())) if len(pos) else 0,
        "k_max": int(lens.max()),
        "pairs": int(costs.nnz),
        "seed_objective": agg_sol.objective,
        **_checked(model.problem, sol),
    }


def _checked(problem: Any, sol: Any) -> dict[str, Any]:  # noqa: ANN401
    """Run the independent checker; its time is reported apart and not in ``runtime_s``."""
    t0 = time.perf_counter()
    report = check_solution(problem, sol)
    return {
        "check_ok": report.ok,
        "check_objective": report.objective,
        "check_violations": list(report.violations),
        "_check_s": time.perf_counter() - t0,
    }
