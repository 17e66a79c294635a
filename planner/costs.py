"""Sparse cost matrices of the models, built from the one travel model (:mod:`planner.travel`).

The travel model (geodesic distance, circuity, speed, radius, KZT per km) is
:mod:`planner.travel`; this module applies it to many pairs at once and reads a user's
origin-destination table (:func:`read_od_matrix`).

Sparse candidate lists come from a k-d tree on 3-D unit vectors (chord distance is monotone in
great-circle distance), so 200,000 farms x 2,000 sites never builds a dense matrix. Each row
also carries ``beyond_cost``: a lower bound on the cost of any site the row does not list,
which keeps solver lower bounds valid for the full problem.

**On a road network** (``travel.network``, :mod:`planner.roads`) the lists hold the k sites
nearest *by road*, found exactly: Dijkstra runs from the unique site nodes to the unique farm
nodes (many farms share a node), and for each farm node the k+1 cheapest sites
(node-to-node path + the site's access leg) are the same for all its farms, whose own access
leg is a constant. The local-road rule of :func:`planner.roads.combine` can only make a pair
cheaper when it is geodesically near, so the k geodesically nearest sites are candidates too.
``beyond_cost`` stays a valid lower bound for every unlisted site ``s``: its trip is either the
network trip, at least the farm's leg + the (k+1)-th cheapest network cost of its node, or
the local trip, at least the ((k+1)-th geodesic km x 0.993) x circuity (network km >=
geodesic km) and taken only when it costs no more than the two access legs (so impossible
when that bound exceeds the farm's leg + the longest site leg); the bound is the minimum of
those two (at least the (k+1)-th geodesic km, as every trip) and of the cost of every
candidate that was computed but not kept. A row whose bound falls below its k-th listed cost
is recomputed with twice the geodesic candidates until the list is certified.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.errors import ValidationError
from planner.io import parse_numbers, read_table
from planner.models._base import CostMatrix, FloatArray, IntArray
from planner.roads import RoadNetwork, combine, min_cost_per_km
from planner.travel import (
    EARTH_RADIUS_KM,
    WGS84_A_M,
    WGS84_F,
    CostUnit,
    TravelModel,
    geodesic_km,
    great_circle_km,
    kd_tree,
    unit_vectors,
)

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

__all__ = [
    "DENSE_LIMIT_PAIRS",
    "EARTH_RADIUS_KM",
    "WGS84_A_M",
    "WGS84_F",
    "CostUnit",
    "TravelModel",
    "build_cost_matrix",
    "exact_cost_function",
    "geodesic_km",
    "great_circle_km",
    "read_od_matrix",
    "unit_vectors",
]

DENSE_LIMIT_PAIRS = 20_000_000
# Chord ordering is spherical; the ellipsoid can reorder neighbours by well under 0.5 %.
_BEYOND_SAFETY = 0.995


def _chord_for_km(km: float) -> float:
    """Chord length on the unit sphere for a (generous) great-circle distance in km."""
    angle = min(math.pi, km / (EARTH_RADIUS_KM * _BEYOND_SAFETY))
    return 2 * math.sin(angle / 2)


def _check_coords(lon: FloatArray, lat: FloatArray, what: str) -> None:
    problems = []
    if lon.shape != lat.shape:
        problems.append(f"{what}: lon and lat have different lengths.")
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        problems.append(
            f"{what}: {int(bad.sum())} point(s) have missing coordinates (first row "
            f"{int(np.flatnonzero(bad)[0])}); fill or drop them."
        )
    out = (np.abs(lat) > 90) | (np.abs(lon) > 180)  # noqa: PLR2004
    if out.any():
        problems.append(
            f"{what}: {int(out.sum())} point(s) have coordinates outside lon -180..180 / "
            "lat -90..90; are they in a projected CRS? Reproject to EPSG:4326."
        )
    if problems:
        raise ValidationError(problems, source="coordinates")


_CHUNK_PAIRS = 4_000_000
_SPHERE_REL = 0.007
"""Geodesic km on the WGS84 ellipsoid are within 0.6 % of great-circle km on the mean sphere."""


def _sphere_km(chord: FloatArray) -> FloatArray:
    """Great-circle km on the mean sphere from a chord of the unit sphere."""
    return np.asarray(
        2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0)), dtype=np.float64
    )


_Csr = tuple[IntArray, IntArray, FloatArray, FloatArray]


def _rows_to_csr(
    cand: npt.NDArray[np.int64],
    cand_dist: FloatArray,
    beyond_geo: FloatArray,
    geo_max_km: float | None,
) -> _Csr:
    """Keep the allowed candidates of each row: (counts, sites, geodesic km, beyond km)."""
    allowed = np.isfinite(cand_dist)
    if geo_max_km is not None:
        allowed &= cand_dist <= geo_max_km
        beyond_geo = np.where(beyond_geo <= geo_max_km, beyond_geo, np.inf)
    counts = allowed.sum(axis=1).astype(np.int64)
    return counts, cand[allowed].astype(np.int64), cand_dist[allowed], beyond_geo


def _tree_rows(
    tree: cKDTree,
    dlon: FloatArray,
    dlat: FloatArray,
    *,
    slon: FloatArray,
    slat: FloatArray,
    k: int,
    geo_max_km: float | None,
) -> _Csr:
    """Find the k nearest sites (and the (k+1)-th as the beyond bound) for a chunk of rows."""
    n, m = len(dlon), len(slon)
    q = min(k + 1, m)
    upper = np.inf if geo_max_km is None else _chord_for_km(geo_max_km * 1.01)
    _, nn = tree.query(unit_vectors(dlon, dlat), k=q, distance_upper_bound=upper)
    nn = np.asarray(nn, dtype=np.int64).reshape(n, q)
    valid = nn < m
    dist_all = np.full((n, q), np.inf)
    rows, cols = np.nonzero(valid)
    dist_all[rows, cols] = geodesic_km(
        dlon[rows], dlat[rows], slon[nn[rows, cols]], slat[nn[rows, cols]]
    )
    # Re-sort by the exact ellipsoidal distance.
    order = np.argsort(dist_all, axis=1, kind="stable")
    nn = np.take_along_axis(nn, order, axis=1)
    dist_all = np.take_along_axis(dist_all, order, axis=1)
    if q > k:
        beyond_geo = dist_all[:, k] * _BEYOND_SAFETY
        return _rows_to_csr(nn[:, :k], dist_all[:, :k], beyond_geo, geo_max_km)
    return _rows_to_csr(nn, dist_all, np.full(n, np.inf), geo_max_km)


def build_cost_matrix(
    demand_lon: npt.ArrayLike,
    demand_lat: npt.ArrayLike,
    site_lon: npt.ArrayLike,
    site_lat: npt.ArrayLike,
    *,
    travel: TravelModel | None = None,
    k_nearest: int | None = None,
    max_km: float | None = None,
    unit: CostUnit = "km",
) -> CostMatrix:
    """Build the sparse demand x site cost structure.

    Parameters
    ----------
    demand_lon, demand_lat
        Demand point coordinates (degrees, EPSG:4326).
    site_lon, site_lat
        Candidate site coordinates (degrees, EPSG:4326).
    travel
        Circuity and speed; default :class:`TravelModel()`.
    k_nearest
        Keep only the k nearest sites per demand point (``None`` = all sites).
    max_km
        Service cutoff in road km: pairs farther are not allowed (``None`` = no cutoff).
    unit
        ``"km"`` (road km) or ``"min"`` (travel time in minutes).

    Returns
    -------
    costs
        Rows sorted by cost. ``beyond_cost`` is a lower bound on the cost of every unlisted
        pair that is allowed, or ``inf`` when no unlisted pair is allowed.
    """
    travel = travel or TravelModel()
    dlon, dlat = (np.asarray(x, dtype=np.float64).ravel() for x in (demand_lon, demand_lat))
    slon, slat = (np.asarray(x, dtype=np.float64).ravel() for x in (site_lon, site_lat))
    _check_coords(dlon, dlat, "demand points")
    _check_coords(slon, slat, "sites")
    n, m = len(dlon), len(slon)
    if m == 0:
        msg = "there are no candidate sites; add sites or relax the site filters."
        raise ValidationError(msg, source="cost matrix")
    if k_nearest is not None and k_nearest < 1:
        msg = f"`k_nearest` must be >= 1, got {k_nearest}."
        raise ValidationError(msg, source="cost matrix")
    if max_km is not None and max_km <= 0:
        msg = f"`max_km` must be > 0, got {max_km}."
        raise ValidationError(msg, source="cost matrix")
    k = m if k_nearest is None else min(k_nearest, m)
    if k == m and n * m > DENSE_LIMIT_PAIRS:
        msg = (
            f"{n:,} demand points x {m:,} sites = {n * m:,} pairs is too many for a dense "
            "matrix; set `k_nearest` (e.g. 30)."
        )
        raise ValidationError(msg, source="cost matrix")
    if isinstance(travel.network, RoadNetwork):
        return _network_cost_matrix(
            travel.network,
            (dlon, dlat, slon, slat),
            k=k,
            max_cost=None if max_km is None else float(travel.cost(max_km / travel.circuity, unit)),
            unit=unit,
        )
    geo_max_km = None if max_km is None else max_km / travel.circuity

    if k == m:
        # Dense path: exact distances for all pairs.
        dist = geodesic_km(dlon[:, None], dlat[:, None], slon[None, :], slat[None, :])
        order = np.argsort(dist, axis=1, kind="stable")
        pieces = [
            _rows_to_csr(
                order, np.take_along_axis(dist, order, axis=1), np.full(n, np.inf), geo_max_km
            )
        ]
    else:
        tree = kd_tree(slon, slat)
        # Chunks of rows keep the peak memory at a few hundred MB for 200,000 x 2,000.
        chunk = max(1, _CHUNK_PAIRS // (k + 1))
        pieces = [
            _tree_rows(
                tree,
                dlon[lo : lo + chunk],
                dlat[lo : lo + chunk],
                slon=slon,
                slat=slat,
                k=k,
                geo_max_km=geo_max_km,
            )
            for lo in range(0, n, chunk)
        ]
    counts = np.concatenate([pc[0] for pc in pieces])
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    site_index: IntArray = np.concatenate([pc[1] for pc in pieces]).astype(np.int64)
    cost = travel.cost(np.concatenate([pc[2] for pc in pieces]), unit)
    beyond_geo = np.concatenate([pc[3] for pc in pieces])
    beyond = np.where(np.isfinite(beyond_geo), travel.cost(beyond_geo, unit), np.inf)
    return CostMatrix(
        indptr=indptr,
        site_index=site_index,
        cost=cost,
        n_sites=m,
        beyond_cost=beyond.astype(np.float64),
        unit=unit,
    )


def exact_cost_function(
    demand_lon: npt.ArrayLike,
    demand_lat: npt.ArrayLike,
    site_lon: npt.ArrayLike,
    site_lat: npt.ArrayLike,
    *,
    travel: TravelModel | None = None,
    unit: CostUnit = "km",
    scale: float = 1.0,
) -> Callable[[IntArray, IntArray], FloatArray]:
    """Return a function giving the true cost of any (rows x sites) block.

    Models use it for demand rows whose k-nearest list holds no open site, so that such
    rows are charged their real cost instead of the ``beyond_cost`` lower bound.

    Parameters
    ----------
    demand_lon, demand_lat
        Demand coordinates (degrees), in model row order.
    site_lon, site_lat
        Site coordinates (degrees), in model column order.
    travel
        Circuity and speed (as used for the cost matrix).
    unit
        ``"km"`` or ``"min"``, as used for the cost matrix.
    scale
        Factor applied to every cost (e.g. KZT per hour-km for cost models).

    Returns
    -------
    exact_cost
        ``exact_cost(rows, sites)`` -> array of shape ``(len(rows), len(sites))``.
    """
    model = travel or TravelModel()
    dlon, dlat, slon, slat = (
        np.asarray(x, dtype=np.float64).ravel().copy()
        for x in (demand_lon, demand_lat, site_lon, site_lat)
    )
    if isinstance(model.network, RoadNetwork):
        return _network_exact_cost(model.network, (dlon, dlat, slon, slat), unit, scale)

    def exact_cost(rows: IntArray, sites: IntArray) -> FloatArray:
        r = np.asarray(rows, dtype=np.int64)
        s = np.asarray(sites, dtype=np.int64)
        geo = geodesic_km(dlon[r][:, None], dlat[r][:, None], slon[s][None, :], slat[s][None, :])
        return model.cost(geo, unit) * scale

    return exact_cost


_Points = tuple[FloatArray, FloatArray, FloatArray, FloatArray]


def _node_top(with_leg: FloatArray, k: int) -> tuple[IntArray, FloatArray]:
    """Per farm node: its k+1 cheapest sites, and the (k+1)-th cost (inf if all are listed)."""
    m = with_leg.shape[1]
    if k >= m:
        return np.broadcast_to(np.arange(m), with_leg.shape), np.full(len(with_leg), np.inf)
    top = np.argpartition(with_leg, k, axis=1)[:, : k + 1]
    return top, np.take_along_axis(with_leg, top, axis=1).max(axis=1)


def _network_cost_matrix(
    net: RoadNetwork, points: _Points, *, k: int, max_cost: float | None, unit: CostUnit
) -> CostMatrix:
    """K cheapest sites per row by road, with a valid ``beyond_cost`` (module docstring)."""
    dlon, dlat, slon, slat = points
    n, m = len(dlon), len(slon)
    f_node, f_km = net.attach(dlon, dlat, "demand points")
    s_node, s_km = net.attach(slon, slat, "sites")
    f_leg, s_leg = net.leg(f_km, unit), net.leg(s_km, unit)
    uf, f_of = np.unique(f_node, return_inverse=True)
    us, s_of = np.unique(s_node, return_inverse=True)
    f_of = f_of.ravel()
    # node_net[a, j]: path from farm node uf[a] to site j's node (no legs).
    node_net = net.node_costs(us, uf, unit)[s_of.ravel()].T
    top, net_bound = _node_top(node_net + s_leg[None, :], k)
    tree = kd_tree(slon, slat) if k < m else None
    per_km = min_cost_per_km(net, unit)
    s_leg_max = float(s_leg.max()) if m else 0.0

    f_xyz, s_xyz = unit_vectors(dlon, dlat), unit_vectors(slon, slat)

    def rows_for(rows: IntArray, n_geo: int) -> tuple[IntArray, FloatArray, FloatArray]:
        """(k sites, their costs, beyond) of some rows, with ``n_geo`` geodesic candidates."""
        if tree is not None and n_geo < m:
            chord, nn = tree.query(f_xyz[rows], k=n_geo + 1)
            nn = np.asarray(nn, dtype=np.int64).reshape(len(rows), n_geo + 1)
            # Sites beyond the tree's list are at least this far on the sphere, and the
            # ellipsoid is within _SPHERE_REL of the sphere.
            g_next = _sphere_km(np.asarray(chord).reshape(nn.shape)[:, n_geo]) * (1 - _SPHERE_REL)
            any_bound = g_next * per_km
            local_bound = net.leg(g_next, unit)
            # A local trip costs at most the two access legs (its rule), so none is left
            # when even the cheapest unlisted one would cost more than that.
            local_bound = np.where(local_bound > f_leg[rows] + s_leg_max, np.inf, local_bound)
            cand = np.concatenate([top[f_of[rows]], nn[:, :n_geo]], axis=1)
        else:
            any_bound = local_bound = np.full(len(rows), np.inf)
            cand = np.broadcast_to(np.arange(m), (len(rows), m))
        cand = np.sort(cand, axis=1)
        dup = np.zeros(cand.shape, dtype=np.bool_)
        dup[:, 1:] = cand[:, 1:] == cand[:, :-1]
        r2 = np.broadcast_to(rows[:, None], cand.shape)
        path = node_net[f_of[r2], cand]
        legs = f_leg[r2] + s_leg[cand]
        # The exact geodesic (slow trigonometry) is needed only where it can decide: the
        # local-road rule or the >= geodesic clip; elsewhere the sphere gives the same trip.
        geo = _sphere_km(np.linalg.norm(f_xyz[r2] - s_xyz[cand], axis=-1))
        near = net.leg(geo * (1 - _SPHERE_REL), unit) <= legs
        if unit == "km":
            near |= geo * (1 + _SPHERE_REL) >= path + legs
        geo[near] = geodesic_km(dlon[r2[near]], dlat[r2[near]], slon[cand[near]], slat[cand[near]])
        trip = combine(path, f_leg[r2], s_leg[cand], geo, network=net, weight=unit)
        trip = np.where(dup | ~np.isfinite(trip), np.inf, trip)
        order = np.argsort(trip, axis=1, kind="stable")
        cand = np.take_along_axis(cand, order, axis=1)
        trip = np.take_along_axis(trip, order, axis=1)
        # An unlisted trip is a network trip (>= leg + (k+1)-th node cost) or a local one
        # (>= local_bound), and any trip is >= any_bound.
        beyond = np.maximum(any_bound, np.minimum(f_leg[rows] + net_bound[f_of[rows]], local_bound))
        if trip.shape[1] > k:
            beyond = np.minimum(beyond, trip[:, k])
        return cand[:, :k], trip[:, :k], beyond

    chunk = max(1, _CHUNK_PAIRS // (2 * k + 2))
    site_rows = np.zeros((n, min(k, m)), dtype=np.int64)
    cost_rows = np.zeros((n, min(k, m)))
    beyond_all = np.zeros(n)
    for lo in range(0, n, chunk):
        rows = np.arange(lo, min(n, lo + chunk), dtype=np.int64)
        n_geo = k
        while len(rows):
            site_rows[rows], cost_rows[rows], beyond_all[rows] = rows_for(rows, n_geo)
            # Certified when no unlisted site can be cheaper than the k-th listed one; else a
            # local trip may hide beyond the geodesic candidates: look at more of them.
            if n_geo >= m:
                break
            rows = rows[beyond_all[rows] < cost_rows[rows, -1] * (1 - 1e-12)]
            n_geo = min(m, 2 * n_geo)
    return _from_rows(site_rows, cost_rows, beyond_all, max_cost=max_cost, n_sites=m, unit=unit)


def _from_rows(
    site_rows: IntArray,
    cost_rows: FloatArray,
    beyond: FloatArray,
    *,
    max_cost: float | None,
    n_sites: int,
    unit: CostUnit,
) -> CostMatrix:
    """Cost matrix from fixed-width sorted rows, dropping pairs above the cutoff."""
    allowed = np.isfinite(cost_rows)
    if max_cost is not None:
        allowed &= cost_rows <= max_cost
        beyond = np.where(beyond <= max_cost, beyond, np.inf)
    indptr = np.zeros(len(cost_rows) + 1, dtype=np.int64)
    np.cumsum(allowed.sum(axis=1), out=indptr[1:])
    return CostMatrix(
        indptr=indptr,
        site_index=site_rows[allowed].astype(np.int64),
        cost=cost_rows[allowed].astype(np.float64),
        n_sites=n_sites,
        beyond_cost=beyond.astype(np.float64),
        unit=unit,
    )


def _network_exact_cost(
    net: RoadNetwork, points: _Points, unit: CostUnit, scale: float
) -> Callable[[IntArray, IntArray], FloatArray]:
    """Exact road cost of any block; Dijkstra rows cached per site node (closure-local)."""
    dlon, dlat, slon, slat = points
    f_node, f_km = net.attach(dlon, dlat, "demand points")
    s_node, s_km = net.attach(slon, slat, "sites")
    f_leg, s_leg = net.leg(f_km, unit), net.leg(s_km, unit)
    all_nodes = np.arange(net.n_nodes)
    from_site: dict[int, FloatArray] = {}
    # The app shares prepared inputs (and this closure) between sessions' solver threads.
    lock = threading.Lock()

    def exact_cost(rows: IntArray, sites: IntArray) -> FloatArray:
        r = np.asarray(rows, dtype=np.int64)
        s = np.asarray(sites, dtype=np.int64)
        with lock:
            missing = np.setdiff1d(np.unique(s_node[s]), np.array(list(from_site), np.int64))
            if len(missing):
                table = net.node_costs(missing, all_nodes, unit)
                for i, node in enumerate(missing):
                    from_site[int(node)] = table[i]
            columns = [from_site[int(x)] for x in s_node[s]]
        path = np.stack(columns, axis=1)[f_node[r]] if len(s) else np.zeros((len(r), 0))
        geo = geodesic_km(dlon[r][:, None], dlat[r][:, None], slon[s][None, :], slat[s][None, :])
        trip = combine(path, f_leg[r][:, None], s_leg[s][None, :], geo, network=net, weight=unit)
        return trip * scale

    return exact_cost


def read_od_matrix(
    path: str | Path,
    *,
    demand_ids: npt.ArrayLike,
    site_ids: npt.ArrayLike,
    unit: CostUnit = "km",
) -> CostMatrix:
    """Read a user-supplied origin-destination cost table (CSV or Parquet).

    The file is in long format with columns ``farm_id``, ``site_id`` and ``travel_km`` and/or
    ``travel_time_min``. Pairs not in the file are not allowed.

    Parameters
    ----------
    path
        CSV (``,`` or ``;`` separated) or Parquet file.
    demand_ids
        Farm ids in model row order.
    site_ids
        Site ids in model column order.
    unit
        Which cost column to use: ``"km"`` -> ``travel_km``, ``"min"`` -> ``travel_time_min``.

    Returns
    -------
    costs
        The cost structure with ``beyond_cost`` = inf.
    """
    p = Path(path)
    if not p.exists():
        msg = f"OD matrix file {p} does not exist; check the path in the scenario."
        raise ValidationError(msg, source="od_matrix")
    if p.suffix.lower() == ".parquet":
        df = pd.read_parquet(p)
    else:
        # Same reader as farm and site files: encoding, separator, decimal comma, XLSX.
        df, _ = read_table(p)
        df.columns = [str(c).strip().lower() for c in df.columns]
    col = "travel_km" if unit == "km" else "travel_time_min"
    missing = [c for c in ("farm_id", "site_id", col) if c not in df.columns]
    if missing:
        msg = (
            f"missing column(s) {', '.join(missing)}; the file needs farm_id, site_id and {col} "
            f"(found: {', '.join(map(str, df.columns))})."
        )
        raise ValidationError(msg, source=str(p))
    d_ids = pd.Index(np.asarray(demand_ids).astype(str))
    s_ids = pd.Index(np.asarray(site_ids).astype(str))
    rows = d_ids.get_indexer(df["farm_id"].astype(str).str.strip())
    cols = s_ids.get_indexer(df["site_id"].astype(str).str.strip())
    vals = parse_numbers(df[col])[0]
    problems = []
    if (rows < 0).any():
        problems.append(
            f"{int((rows < 0).sum())} row(s) name farms that are not in the farm data "
            f"(e.g. {df['farm_id'].astype(str).to_numpy()[rows < 0][0]})."
        )
    if (cols < 0).any():
        problems.append(
            f"{int((cols < 0).sum())} row(s) name sites that are not in the site list "
            f"(e.g. {df['site_id'].astype(str).to_numpy()[cols < 0][0]})."
        )
    bad = ~np.isfinite(vals) | (vals < 0)
    if bad.any():
        problems.append(
            f"{int(bad.sum())} row(s) have a missing, non-numeric or negative {col} "
            f"(first at line {int(np.flatnonzero(bad)[0]) + 2})."
        )
    if problems:
        raise ValidationError(problems, source=str(p))
    dense_ok = len(d_ids) * len(s_ids) <= DENSE_LIMIT_PAIRS
    if dense_ok:
        mat = np.full((len(d_ids), len(s_ids)), np.inf)
        mat[rows, cols] = vals
        return CostMatrix.from_dense(mat, unit=unit)
    order = np.lexsort((vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    indptr = np.zeros(len(d_ids) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=len(d_ids)), out=indptr[1:])
    return CostMatrix(
        indptr=indptr,
        site_index=cols.astype(np.int64),
        cost=vals,
        n_sites=len(s_ids),
        beyond_cost=np.full(len(d_ids), np.inf),
        unit=unit,
    )
