"""Robustness run speed: N futures of a scenario in one process, on 1 and on 2 Dask workers.

Usage::

    .venv/bin/python bench/robust.py [--scenario default] [--samples 64] [--n-farms 20000]
                                     [--time-limit 60] [--workers 1 2] [--json out.json]

Prints, with the load average (the machine is shared and timings are noisy):

* ``serial``: the same tasks (:func:`planner.robust.solve_future`, then
  :func:`planner.robust.evaluate_future` for the networks a future has not priced) called
  one after the other in this process — solve and cross-evaluation seconds;
* per worker count: wall time of :func:`planner.robust.run_robust` into a fresh folder
  (LocalCluster start included), the speed-up against 1 worker, the Dask overhead against
  ``serial`` (1 worker), the cross-evaluation phase's share of the solve phase, and the
  seconds the solve tasks took inside the workers (their own clocks; against ``serial`` this
  separates a slower task from scheduling overhead);
* an estimate for 1,000 futures on a 50-worker cluster from the measured per-task figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from planner._robust_store import RobustStore
from planner.robust import (
    RobustProgress,
    draw_design,
    evaluate_future,
    run_robust,
    sample_values,
    solve_future,
)
from planner.scenarios import load_scenario, scenario_to_toml


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _serial(text: str, base: str, values: list[dict[str, float]], limit: float) -> dict[str, Any]:
    """Run every task in this process: solves first, then the missing cross-evaluations."""
    t0 = time.perf_counter()
    records = [
        solve_future(text, base, sample_id=i, values=v, known={}, time_limit_s=limit)
        for i, v in enumerate(values)
    ]
    t_solve = time.perf_counter() - t0
    networks = {r["row"].network_key: r["network"] for r in records if r["network"] is not None}
    t1 = time.perf_counter()
    for i, (v, r) in enumerate(zip(values, records, strict=True)):
        need = {k: n for k, n in networks.items() if k not in r["evaluations"]}
        if need:
            evaluate_future(text, base, sample_id=i, values=v, networks=need, time_limit_s=limit)
    t_eval = time.perf_counter() - t1
    return {"solve_s": t_solve, "evaluate_s": t_eval, "n_networks": len(networks)}


def _dask(scenario: Any, n: int, workers: int, limit: float) -> dict[str, Any]:  # noqa: ANN401
    marks: dict[str, float] = {}

    def progress(p: RobustProgress) -> None:
        marks.setdefault(f"{p.phase}_start", p.elapsed_s)
        marks[f"{p.phase}_end"] = p.elapsed_s

    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        run = run_robust(scenario, n, out, workers=workers, time_limit_s=limit, progress=progress)
        wall = time.perf_counter() - t0
        task_s = sum(r.runtime_s for r in RobustStore(out).futures().values())
    solve = marks["solve_end"] - marks["solve_start"]
    evaluate = marks.get("evaluate_end", 0.0) - marks.get("evaluate_start", 0.0)
    return {
        "workers": run.workers,
        "wall_s": wall,
        "startup_s": marks["solve_start"],
        "solve_phase_s": solve,
        "evaluate_phase_s": evaluate,
        "solve_task_s": task_s,
    }


def main() -> None:
    """Time the run and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="default")
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--n-farms", type=int, default=None)
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    scenario = load_scenario(args.scenario)
    if args.n_farms:
        scenario = scenario.replace(data=dataclasses.replace(scenario.data, n_farms=args.n_farms))
    limit = args.time_limit or scenario.solver.time_limit_s
    values = sample_values(scenario.uncertainty, draw_design(scenario.uncertainty, args.samples, 0))
    print(
        f"{args.scenario}: {args.samples} futures, {scenario.data.n_farms} farms, "
        f"time limit {limit:g} s, {os.cpu_count()} cores; load average {_load()}"
    )
    serial = _serial(scenario_to_toml(scenario), scenario.base_dir, values, limit)
    serial_s = serial["solve_s"] + serial["evaluate_s"]
    print(
        f"serial   solve {serial['solve_s']:8.1f} s  cross-evaluation {serial['evaluate_s']:6.1f} s"
        f" ({100 * serial['evaluate_s'] / serial['solve_s']:.1f} % of solving), "
        f"{serial['n_networks']} networks; load average {_load()}"
    )
    rows = []
    for w in args.workers:
        r = _dask(scenario, args.samples, w, limit)
        rows.append(r)
        base = rows[0]["wall_s"]
        print(
            f"dask {w:>2}w wall {r['wall_s']:8.1f} s  (start {r['startup_s']:.1f} s, solve phase "
            f"{r['solve_phase_s']:.1f} s, cross-evaluation {r['evaluate_phase_s']:.1f} s = "
            f"{100 * r['evaluate_phase_s'] / max(r['solve_phase_s'], 1e-9):.1f} %)  speed-up "
            f"{base / r['wall_s']:.2f}x  overhead vs serial "
            f"{100 * (r['wall_s'] - serial_s) / serial_s:+.1f} % (per worker-second "
            f"{100 * (r['wall_s'] * w - serial_s) / serial_s:+.1f} %); solve tasks "
            f"{r['solve_task_s']:.1f} s inside the workers vs {serial['solve_s']:.1f} s serial; "
            f"load average {_load()}"
        )
    per_solve = serial["solve_s"] / args.samples
    per_eval = serial["evaluate_s"] / max(args.samples * max(serial["n_networks"] - 1, 1), 1)
    k_1000 = serial["n_networks"] * math.log(1000) / math.log(max(args.samples, 2))
    est = math.ceil(1000 / 50) * per_solve + 1000 * k_1000 * per_eval / 50
    print(
        f"estimate 1,000 futures on 50 workers: {est / 60:.1f} min (ceil(1000/50) x "
        f"{per_solve:.1f} s per solve + 1000 x ~{k_1000:.0f} networks x {per_eval:.2f} s per "
        "pricing / 50; networks assumed to grow with log N; scheduler overhead not included)"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"serial": serial, "dask": rows, "estimate_1000_on_50_s": est}, indent=2),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
