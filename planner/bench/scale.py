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

``runtime_s`` counts steps 1-3 (everything after generating the farms and sites, which is
reported separately as ``data_s``).
"""

from __future__ import annotations

import math
import resource
import time
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np
from scipy.spatial import cKDTree

from planner.models._base import CostMatrix, FloatArray, IntArray, SiteData, SolveOptions

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


def _unit_vectors(lon: FloatArray, lat: FloatArray) -> FloatArray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


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
    from planner.geodata import load_settlements  # noqa: PLC0415

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
    from planner.costs import TravelModel  # noqa: PLC0415

    circuity = TravelModel().circuity
    du = _unit_vectors(dlon, dlat)
    su = _unit_vectors(slon, slat)

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
    from planner.costs import TravelModel  # noqa: PLC0415

    circuity = TravelModel().circuity
    n, m = len(dlon), len(slon)
    tree = cKDTree(_unit_vectors(slon, slat))
    pts = _unit_vectors(dlon, dlat)
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
    from planner.costs import TravelModel  # noqa: PLC0415

    circuity = TravelModel().circuity
    n, m = len(dlon), len(slon)
    k_per_row = np.minimum(np.asarray(k_per_row, dtype=np.int64), m)
    tree = cKDTree(_unit_vectors(slon, slat))
    pts = _unit_vectors(dlon, dlat)
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
    *,
    dlon: FloatArray,
    dlat: FloatArray,
    w: FloatArray,
    slon: FloatArray,
    slat: FloatArray,
    p: int,
    time_limit_s: float,
    seed: int,
    log: TextIO,
) -> dict[str, Any]:
    from planner.models.pmedian import PMedian  # noqa: PLC0415

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

    def progress(pr: Any) -> None:  # noqa: ANN401 -- Progress, imported lazily
        gap = "-" if pr.gap is None else f"{100 * pr.gap:.3f} %"
        log.write(f"  {time.perf_counter() - start:6.1f} s  {pr.phase:<18} gap {gap}\n")

    sol = model.solve(
        SolveOptions(
            time_limit_s=remaining,
            seed=seed,
            compute_regret=False,
            gap_tolerance=1e-3,
            progress=_throttle(progress),
        )
    )
    return {
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "status": str(sol.status),
        "backend": sol.backend,
        "k": k_list,
        "pairs": int(costs.nnz),
        "seed_objective": seed_sol.objective,
        "aggregated_bound_gap": agg_gap,
        "message": sol.message,
        "stats": dict(sol.stats),
    }


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
        List length for the k-nearest structure of CFLP/MCLP (p-median lists by radius).
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
    from planner.demand import compute_demand  # noqa: PLC0415
    from planner.farms import generate_farms  # noqa: PLC0415

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
    if model == "pmedian":
        out = _scale_pmedian(
            dlon=dlon,
            dlat=dlat,
            w=w,
            slon=slon,
            slat=slat,
            p=p,
            time_limit_s=time_limit_s,
            seed=seed,
            log=log,
        )
    else:
        out = _scale_other(
            model,
            dlon=dlon,
            dlat=dlat,
            w=w,
            slon=slon,
            slat=slat,
            p=p,
            k=k,
            time_limit_s=time_limit_s,
            seed=seed,
        )
    runtime_s = time.perf_counter() - t1
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
    model: str,
    *,
    dlon: FloatArray,
    dlat: FloatArray,
    w: FloatArray,
    slon: FloatArray,
    slat: FloatArray,
    p: int,
    k: int | None,
    time_limit_s: float,
    seed: int,
) -> dict[str, Any]:
    """CFLP / MCLP on a k-nearest structure, dispatched to their model classes."""
    from planner.costs import build_cost_matrix  # noqa: PLC0415

    if model == "mclp":
        # Coverage needs every site within the radius in each list: list by radius (capped).
        kk = k or MCLP_MAX_LIST
        costs = build_cost_matrix(dlon, dlat, slon, slat, k_nearest=kk, max_km=MCLP_RADIUS_KM)
    else:
        kk = k or 30
        costs = build_cost_matrix(dlon, dlat, slon, slat, k_nearest=kk)
    truncated = int((costs.beyond_cost <= MCLP_RADIUS_KM).sum()) if model == "mclp" else 0
    opts = SolveOptions(time_limit_s=time_limit_s, seed=seed, compute_regret=False)
    if model == "cflp":
        from planner.models.cflp import CFLP  # noqa: PLC0415

        m = len(slon)
        total = float(w.sum())
        sites = SiteData.default(
            m, capacity=max(total / max(p, 1) * 1.5, 1.0), fixed_cost=total * 50.0 / max(p, 1)
        )
        sol = CFLP.from_cost_matrix(costs, w, sites=sites).solve(opts)
    else:
        from planner.models.coverage import MCLP  # noqa: PLC0415

        sol = MCLP.from_cost_matrix(costs, w, p=p, service_radius=MCLP_RADIUS_KM).solve(opts)
    return {
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "status": str(sol.status),
        "backend": sol.backend,
        "k": kk,
        "pairs": int(costs.nnz),
        "service_radius_km": MCLP_RADIUS_KM if model == "mclp" else None,
        "truncated_rows": truncated,
        "message": sol.message,
    }
