"""Print the tables of bench/README.md from benchmark JSON files.

Usage: .venv/bin/python bench/summarize.py FILE.json [FILE.json ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _num(value: object, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def orlib_table(data: dict) -> None:
    rows = data["instances"]
    print("| instance | objective | bound | gap % | proven | published | match | runtime s |")
    print("|---|---:|---:|---:|:---:|---:|:---:|---:|")
    for r in rows:
        gap = None if r.get("gap") is None else 100 * r["gap"]
        print(
            f"| {r['name']} | {_num(r.get('objective'), '.3f')} | {_num(r.get('bound'), '.3f')} "
            f"| {_num(gap, '.4f')} | {'yes' if r.get('proven_optimal') else 'no'} "
            f"| {_num(r.get('published_optimum'), '.3f')} "
            f"| {'yes' if r.get('matches_published') else 'no'} "
            f"| {_num(r.get('runtime_s'), '.2f')} |"
        )
    s = data.get("summary", {})
    if s:
        print(
            f"\n{s['n']} instances: {s['proven_and_matching']} proven optimal and equal to the "
            f"published optimum; {s['matches_published']} match; "
            f"total {s['total_runtime_s']:.1f} s, max {s['max_runtime_s']:.1f} s; "
            f"max gap {_num(s.get('max_gap'), '.4%')}"
        )


def peer_table(data: dict) -> None:
    print("| instance | planner objective | proven | planner s | MIP objective | proven | MIP s |")
    print("|---|---:|:---:|---:|---:|:---:|---:|")
    for r in data["instances"]:
        print(
            f"| {r['name']} | {_num(r.get('planner_objective'), '.2f')} "
            f"| {'yes' if r.get('planner_proven') else 'no'} | {r['planner_s']:.2f} "
            f"| {_num(r.get('peer_objective'), '.2f')} | {'yes' if r.get('peer_proven') else 'no'} "
            f"| {r['peer_s']:.2f} |"
        )
    n = len(data["instances"])
    print(
        f"\ntotal: planner {data['planner_total_s']:.1f} s ({data['planner_proven']}/{n} proven), "
        f"compact MIP {data['peer_total_s']:.1f} s ({data['peer_proven']}/{n} proven), "
        f"ratio {data['ratio']:.2f}x"
    )


def scale_row(data: dict) -> None:
    gap = None if data.get("gap") is None else 100 * data["gap"]
    print(
        f"| {data['model']} | {data['n_farms']:,} "
        f"({data.get('n_farms_with_demand', 0):,} with demand) "
        f"| {data['n_sites']:,} | {data['p']} | {data.get('k')} "
        f"| {_num(data.get('objective'), ',.0f')} "
        f"| {_num(data.get('bound'), ',.0f')} | {_num(gap, '.3f')} | {data['runtime_s']:.1f} "
        f"| {data['peak_rss_mb']:,.0f} |"
    )


def main(paths: list[str]) -> None:
    scale_header = False
    for path in paths:
        data = json.loads(Path(path).read_text())
        if "peer_total_s" in data:
            print(f"\n{path}\n")
            peer_table(data)
        elif "instances" in data:
            print(f"\n{path}\n")
            orlib_table(data)
        else:
            if not scale_header:
                print(
                    "| model | farms | sites | p | k (mean list) | objective | bound | gap % "
                    "| runtime s | peak RSS MB |"
                )
                print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
                scale_header = True
            scale_row(data)


if __name__ == "__main__":
    main(sys.argv[1:])
