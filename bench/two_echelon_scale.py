"""Two-echelon model at scale: proven gap, peak RSS and where the time goes.

Usage::

    .venv/bin/python bench/two_echelon_scale.py [--farms 100000] [--min-population 2000]
        [--years 5] [--time-limit 120 600] [--json out.json]

Starts from the built-in ``two_echelon`` scenario and enlarges it: ``--farms`` synthetic farms,
every settlement of at least ``--min-population`` people a candidate centre, ``--years``
growth years. Builds the instance once, then solves it once per ``--time-limit`` and prints,
per limit: objective, proven bound and gap, the model size, the time of each phase (instance
build, LP relaxation with its cut rounds, heuristics, MIP) from the solver's own figures, peak
RSS and the load average (the machine is shared: read times as upper bounds). Every solution
is re-checked with ``check_two_echelon`` (all 52 weeks).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from planner import load_scenario
from planner.agri import build_two_echelon_inputs
from planner.models import SolveOptions
from planner.models.two_echelon import TwoEchelonModel, check_two_echelon


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    """Build the enlarged instance, solve it per time limit and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--farms", type=int, default=100_000)
    ap.add_argument("--min-population", type=int, default=2_000)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--time-limit", type=float, nargs="+", default=[120.0, 600.0])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    base = load_scenario("two_echelon")
    scenario = base.replace(
        data=replace(base.data, n_farms=args.farms, min_site_population=args.min_population),
        growth=replace(base.growth, years=args.years),
    )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    start = time.perf_counter()
    inputs = build_two_echelon_inputs(scenario)
    build_s = time.perf_counter() - start
    inst = inputs.instance
    print(
        f"instance: {args.farms:,} farms -> {inst.n_zones:,} zones, {inst.n_centres:,} candidate "
        f"centres, {inst.n_plants} plants, {inst.n_periods} periods, {inst.n_pairs:,} pairs; "
        f"built in {build_s:.1f} s"
    )
    rows: list[dict[str, Any]] = []
    for limit in args.time_limit:
        t0 = time.perf_counter()
        sol = TwoEchelonModel(inst).solve(SolveOptions(time_limit_s=limit))
        wall = time.perf_counter() - t0
        problems = check_two_echelon(inst, sol) if sol.has_solution else ("no solution",)
        stats = dict(sol.stats)
        row = {
            "time_limit_s": limit,
            "wall_s": wall,
            "status": str(sol.status),
            "objective": sol.objective,
            "bound": sol.bound,
            "gap": sol.gap,
            "check_problems": len(problems),
            "peak_rss_mb": _peak_rss_mb(),
            "load_average": os.getloadavg(),
            "build_s": build_s,
            "stats": stats,
        }
        rows.append(row)
        print(
            f"limit {limit:>5.0f} s: wall {wall:6.1f} s  status {sol.status}  objective "
            f"{sol.objective / 1e9:.2f} bn  bound {sol.bound / 1e9:.2f} bn  gap {sol.gap:.2%}  "
            f"checker problems {len(problems)}  peak RSS {row['peak_rss_mb']:.0f} MB"
        )
        print(
            "  time: LP + cuts {lp:.1f} s ({rounds} rounds), heuristics {heur:.1f} s, "
            "MIP {mip} s; size {nv:,} variables, {nc:,} rows".format(
                lp=float(stats.get("lp_time_s", float("nan"))),
                rounds=stats.get("lp_cut_rounds", "?"),
                heur=float(stats.get("heuristic_time_s", float("nan"))),
                mip=stats.get("mip_runtime_s", "-"),
                nv=int(stats.get("n_variables", 0)),
                nc=int(stats.get("n_constraints", 0)),
            )
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps({"results": rows}, indent=2, default=str))


if __name__ == "__main__":
    main()
