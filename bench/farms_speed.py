"""Synthetic farm generator speed: wall time of ``generate_farms`` for 20k, 200k farms.

Usage::

    .venv/bin/python bench/farms_speed.py [--farms 20000 200000] [--runs 3] [--json out.json]
        [--placement cropland settlements]

Prints, per farm count, the median and minimum wall time over ``--runs`` runs (after one
warm-up run that also loads the oblast and settlement tables) and the load average, because
the machine is shared and timings are noisy. The claim it backs: 200,000 farms in a few
seconds on one core (test_farms.py checks the farms themselves, not the time).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from planner import farms, geodata


def main() -> None:
    """Time the generator and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--farms", type=int, nargs="+", default=[20_000, 200_000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--placement", nargs="+", default=["cropland"], choices=farms.PLACEMENTS)
    args = ap.parse_args()
    oblasts = geodata.load_oblasts()
    towns = geodata.load_settlements()
    cells = geodata.load_cropland_cells()
    tables = {"oblasts": oblasts, "settlements": towns, "cells": cells}
    rows = []
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'placement':>11} {'farms':>9} {'median s':>9} {'min s':>7} {'farms/s (median)':>17}")
    for placement in args.placement:
        farms.generate_farms(1_000, seed=args.seed, placement=placement, **tables)  # warm-up
        for n in args.farms:
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                f = farms.generate_farms(n, seed=args.seed, placement=placement, **tables)
                times.append(time.perf_counter() - start)
                assert len(f) == n
            med = statistics.median(times)
            rows.append(
                {"placement": placement, "n_farms": n, "median_s": med, "min_s": min(times),
                 "runs": times}
            )  # fmt: skip
            print(f"{placement:>11} {n:>9,} {med:>9.2f} {min(times):>7.2f} {n / med:>17,.0f}")
    load = os.getloadavg()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in load)}")
    if args.json:
        args.json.write_text(json.dumps({"results": rows, "load_average": load}, indent=2))


if __name__ == "__main__":
    main()
