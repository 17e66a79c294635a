"""``planner bench peer``: the same OR-Library p-median instances with spopt (PuLP + HiGHS).

spopt is an optional extra. Without it the command prints how to install it and exits 1.
Both solvers run in this process on the same distance matrices; the ratio of total
runtimes (spopt / planner) is printed at the end.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from typing import Any, TextIO

from planner.bench.orlib import load_pmed, run_pmed_instance, write_json

INSTALL_HINT = "spopt is not installed; install the optional peer with `pip install spopt pulp`."


def run_peer(args: argparse.Namespace, out: TextIO) -> int:
    """Run planner and spopt on the same instances and print the time ratio.

    Parameters
    ----------
    args
        ``--dir``, ``--instances``, ``--time-limit``, ``--json``.
    out
        Where to print.

    Returns
    -------
    code
        0 on success, 1 when spopt is missing.
    """
    if importlib.util.find_spec("spopt") is None or importlib.util.find_spec("pulp") is None:
        out.write(INSTALL_HINT + "\n")
        return 1
    # Optional extra (`pip install -e ".[peer]"`): imported only when installed.
    from planner.bench import _peer_solver  # noqa: PLC0415 - spopt and PuLP, the optional extra

    rows: list[dict[str, Any]] = []
    names = [s.strip() for s in args.instances.split(",") if s.strip()]
    for name in names:
        path = args.dir / f"{name}.txt"
        ours = run_pmed_instance(path, time_limit_s=args.time_limit)
        inst = load_pmed(path)
        t = time.perf_counter()
        peer_obj = _peer_solver.solve_pmedian(inst.distance, inst.p, args.time_limit)
        peer_s = time.perf_counter() - t
        rows.append(
            {
                "name": name,
                "planner_s": ours["runtime_s"],
                "planner_objective": ours["objective"],
                "spopt_s": peer_s,
                "spopt_objective": peer_obj,
            }
        )
        out.write(
            f"{name:<8} planner {ours['objective']:>10.1f} {ours['runtime_s']:7.2f} s   "
            f"spopt {peer_obj:>10.1f} {peer_s:7.2f} s\n"
        )
    ours_total = sum(r["planner_s"] for r in rows)
    peer_total = sum(r["spopt_s"] for r in rows)
    ratio = peer_total / max(ours_total, 1e-9)
    out.write(f"total: planner {ours_total:.1f} s, spopt {peer_total:.1f} s, ratio {ratio:.1f}x\n")
    if args.json is not None:
        write_json({"instances": rows, "ratio": ratio}, args.json)
    return 0
