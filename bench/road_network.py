"""Road-network travel at scale: 200,000 farms x 2,000 sites on the Natural Earth major roads.

Usage::

    .venv/bin/python bench/road_network.py [--farms 200000] [--sites 2000] [--k 40]
        [--roads ../shared/data/roads/kz_roads_ne10m.gpkg] [--check 300] [--solve P]
        [--json out.json]

Prints the wall time of each phase (reading the file and building the graph; the k-cheapest
cost matrix by road, which attaches farms and sites, runs Dijkstra from the unique site nodes
and certifies each row's list), the same matrix with geodesic x circuity for comparison, the
road/geodesic ratio of the listed pairs, peak memory and the load average (the machine is
shared: read times as upper bounds). ``--check N`` recomputes N random rows against every
site with the exact road cost and counts rows whose list is not the k cheapest or whose
``beyond_cost`` exceeds an unlisted pair (both must be 0). ``--solve P`` also solves a
p-median with P centres on the road costs (60 s limit). The target: the road-network cost
matrix of 200,000 farms x 2,000 sites within 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from planner import costs, roads
from planner.bench.scale import candidate_sites
from planner.farms import generate_farms
from planner.models._base import CostMatrix, FloatArray, IntArray
from planner.travel import TravelModel, geodesic_km

SHORT_TRIP_KM = 20.0
"""Ratios of shorter trips say little about the network (access legs dominate)."""
DEFAULT_ROADS = Path(__file__).resolve().parents[1] / ".." / "shared/data/roads/kz_roads_ne10m.gpkg"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _check(
    cm: CostMatrix,
    exact: Callable[[IntArray, IntArray], FloatArray],
    n_rows: int,
    m: int,
    seed: int,
) -> dict[str, int]:
    """Count rows whose list is not the k cheapest or whose beyond_cost is not a lower bound."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(cm.n_demand, size=min(n_rows, cm.n_demand), replace=False)
    full = exact(rows, np.arange(m))
    not_cheapest = beyond_bad = 0
    for r, i in enumerate(rows):
        idx, cst = cm.row(int(i))
        if not np.allclose(cst, np.sort(full[r])[: len(cst)], rtol=1e-9):
            not_cheapest += 1
        unlisted = np.setdiff1d(np.arange(m), idx)
        if len(unlisted) and cm.beyond_cost[i] > full[r, unlisted].min() * (1 + 1e-9):
            beyond_bad += 1
    return {
        "rows_checked": len(rows),
        "not_cheapest": not_cheapest,
        "beyond_violations": beyond_bad,
    }


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--farms", type=int, default=200_000)
    ap.add_argument("--sites", type=int, default=2_000)
    ap.add_argument("--k", type=int, default=40)
    ap.add_argument("--roads", type=Path, default=DEFAULT_ROADS)
    ap.add_argument("--check", type=int, default=300)
    ap.add_argument("--solve", type=int, default=0, help="p of a p-median solve (0 = none)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    out: dict[str, object] = {"farms": args.farms, "sites": args.sites, "k": args.k}
    print(f"load average before: {_load()}")
    farms = generate_farms(n_farms=args.farms, seed=args.seed)
    flon = farms["lon"].to_numpy(dtype=np.float64)
    flat = farms["lat"].to_numpy(dtype=np.float64)
    slon, slat, _ = candidate_sites(args.sites, flon, flat, seed=args.seed)

    t0 = time.perf_counter()
    net = roads.load_road_network(args.roads, circuity=1.3, speed_kmh=60.0)
    out["graph_s"] = round(time.perf_counter() - t0, 2)
    out["graph"] = {
        "nodes": net.n_nodes,
        "edges": int(net.graph_km.nnz),
        "connectors": net.n_connectors,
    }
    travel = TravelModel(network=net)

    t0 = time.perf_counter()
    geo_cm = costs.build_cost_matrix(flon, flat, slon, slat, k_nearest=args.k)
    out["geodesic_matrix_s"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    cm = costs.build_cost_matrix(flon, flat, slon, slat, travel=travel, k_nearest=args.k)
    out["road_matrix_s"] = round(time.perf_counter() - t0, 2)
    out["load_after_matrix"] = _load()
    f_node, _ = net.attach(flon, flat, "farms")
    out["unique_farm_nodes"] = len(np.unique(f_node))
    rows = cm.row_of_entry
    geo = geodesic_km(flon[rows], flat[rows], slon[cm.site_index], slat[cm.site_index])
    far = geo > SHORT_TRIP_KM
    ratio = cm.cost[far] / geo[far]
    pos = geo > 0
    out["listed_min_ratio"] = round(float((cm.cost[pos] / geo[pos]).min()), 4)
    out["listed_median_ratio_over_20km"] = round(float(np.median(ratio)), 3)
    out["nearest_site_changed_share"] = round(
        float(np.mean(cm.site_index[cm.indptr[:-1]] != geo_cm.site_index[geo_cm.indptr[:-1]])), 3
    )
    exact = costs.exact_cost_function(flon, flat, slon, slat, travel=travel)
    if args.check:
        t0 = time.perf_counter()
        out["check"] = _check(cm, exact, args.check, len(slon), args.seed)
        out["check_s"] = round(time.perf_counter() - t0, 2)
    if args.solve:
        from planner.models import PMedian  # noqa: PLC0415  (only with --solve)
        from planner.models._base import SolveOptions  # noqa: PLC0415

        weights = np.ones(len(flon))
        t0 = time.perf_counter()
        model = PMedian.from_cost_matrix(cm, weights, p=args.solve, exact_cost=exact)
        sol = model.solve(SolveOptions(time_limit_s=60.0))
        out["solve"] = {
            "p": args.solve,
            "s": round(time.perf_counter() - t0, 1),
            "status": sol.status,
            "gap": sol.gap,
        }
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    out["load_after"] = _load()
    for key, val in out.items():
        print(f"{key:>32}  {val}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
