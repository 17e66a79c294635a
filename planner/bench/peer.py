"""``planner bench peer``: the same instances with a peer solver, side by side.

``--family pmed``: OR-Library p-median with spopt (PuLP + HiGHS). spopt is an optional extra;
without it the command prints how to install it and exits 1.

``--family cpmp | sscflp``: the plain compact MIP (:func:`planner.bench.capacitated.
compact_mip`) on HiGHS, one thread, against the public models (spopt has no single-source
capacitated model). An instance the peer does not prove counts at its full runtime.

Both run in this process on the same data; the ratio of total runtimes (peer / planner) is
printed at the end.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from typing import Any, TextIO

from planner.bench.capacitated import CAPACITATED_FAMILIES, run_compact_mip
from planner.bench.orlib import (
    capacitated_paths,
    find_optima_file,
    instance_names,
    load_pmed,
    read_optimal_values,
    run_orlib,
    run_pmed_instance,
    write_json,
)

PMED_DEFAULT = "pmed1,pmed2,pmed3,pmed4,pmed5"
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
    if getattr(args, "family", "pmed") in CAPACITATED_FAMILIES:
        return _run_capacitated_peer(args, out)
    if importlib.util.find_spec("spopt") is None or importlib.util.find_spec("pulp") is None:
        out.write(INSTALL_HINT + "\n")
        return 1
    # Optional extra (`pip install -e ".[peer]"`): imported only when installed.
    from planner.bench import _peer_solver  # noqa: PLC0415 - spopt and PuLP, the optional extra

    rows: list[dict[str, Any]] = []
    names = [s.strip() for s in (args.instances or PMED_DEFAULT).split(",") if s.strip()]
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


def _run_capacitated_peer(args: argparse.Namespace, out: TextIO) -> int:
    """Planner (public models) and the plain compact MIP on HiGHS, instance by instance."""
    family = args.family
    names = [s.strip() for s in (args.instances or "").split(",") if s.strip()]
    if not names:
        opt_path = find_optima_file(args.dir, None)
        optima = read_optimal_values(opt_path) if opt_path is not None else {}
        names = instance_names(family, args.dir, optima)
    paths = capacitated_paths(family, args.dir, names)
    rows: list[dict[str, Any]] = []
    out.write(
        f"{'instance':<12} {'planner':>14} {'opt':>4} {'s':>7}   {'compact MIP':>14} "
        f"{'opt':>4} {'s':>7}\n"
    )
    for name in names:
        ours = run_orlib(family, args.dir, instances=[name], time_limit_s=args.time_limit)
        mine = ours["instances"][0]
        peer = run_compact_mip(paths[name], time_limit_s=args.time_limit)
        rows.append(
            {
                "name": name,
                "planner_s": mine["runtime_s"],
                "planner_objective": mine["objective"],
                "planner_proven": mine["proven_optimal"],
                "matches_published": mine.get("matches_published"),
                "peer_s": peer["runtime_s"],
                "peer_objective": peer["objective"],
                "peer_bound": peer["bound"],
                "peer_proven": peer["proven_optimal"],
            }
        )
        out.write(
            f"{name:<12} {mine['objective'] or float('nan'):>14.2f} "
            f"{'yes' if mine['proven_optimal'] else 'no':>4} {mine['runtime_s']:7.2f}   "
            f"{peer['objective']:>14.2f} {'yes' if peer['proven_optimal'] else 'no':>4} "
            f"{peer['runtime_s']:7.2f}\n"
        )
        out.flush()
    ours_total = sum(r["planner_s"] for r in rows)
    peer_total = sum(r["peer_s"] for r in rows)
    ratio = peer_total / max(ours_total, 1e-9)
    n_ours = sum(bool(r["planner_proven"]) for r in rows)
    n_peer = sum(bool(r["peer_proven"]) for r in rows)
    out.write(
        f"total: planner {ours_total:.1f} s ({n_ours}/{len(rows)} proven), compact MIP "
        f"{peer_total:.1f} s ({n_peer}/{len(rows)} proven), ratio {ratio:.2f}x\n"
    )
    if args.json is not None:
        write_json(
            {
                "family": family,
                "instances": rows,
                "planner_total_s": ours_total,
                "peer_total_s": peer_total,
                "planner_proven": n_ours,
                "peer_proven": n_peer,
                "ratio": ratio,
            },
            args.json,
        )
    return 0
