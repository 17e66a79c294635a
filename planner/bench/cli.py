"""``planner bench orlib|scale|peer``: argument parsing and printing of benchmark runs.

The main CLI (:mod:`planner.cli`) calls :func:`add_bench_parser` to register the command;
:func:`run_bench` dispatches to :mod:`planner.bench.orlib`, :mod:`planner.bench.scale` and
:mod:`planner.bench.peer`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from planner.bench.orlib import run_orlib, write_json
from planner.bench.peer import run_peer
from planner.bench.scale import run_scale
from planner.errors import ValidationError


def add_bench_parser(subparsers: Any) -> argparse.ArgumentParser:  # noqa: ANN401 -- argparse's private type
    """Register ``bench`` and its sub-commands on the main parser's sub-parsers.

    Parameters
    ----------
    subparsers
        The object returned by ``ArgumentParser.add_subparsers()``.

    Returns
    -------
    parser
        The ``bench`` parser.
    """
    bench = subparsers.add_parser("bench", help="benchmarks (OR-Library, scale, peer)")
    sub = bench.add_subparsers(dest="bench_command", required=True)

    p = sub.add_parser("orlib", help="OR-Library (and CPMP / SSCFLP) against published optima")
    p.add_argument("--family", choices=["pmed", "cap", "uncap", "cpmp", "sscflp"], required=True)
    p.add_argument(
        "--dir",
        type=Path,
        required=True,
        help="directory with the instance files (cpmp/sscflp: searched recursively)",
    )
    p.add_argument("--instances", default="", help="comma-separated names (default: all)")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds per instance")
    p.add_argument("--optima", type=Path, default=None, help="optimal_values.csv to compare")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, required=True, help="output JSON file")
    p.set_defaults(func=run_bench)

    p = sub.add_parser("scale", help="generated Kazakhstan data at scale")
    p.add_argument("--farms", type=int, default=200_000)
    p.add_argument("--sites", type=int, default=2_000)
    p.add_argument("--model", choices=["pmedian", "cflp", "mclp"], default="pmedian")
    p.add_argument("--p", type=int, default=20)
    p.add_argument("--k", type=int, default=None, help="sites per farm list (default: auto)")
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, required=True)
    p.set_defaults(func=run_bench)

    p = sub.add_parser(
        "peer", help="the same instances with spopt (pmed) or the plain compact MIP (cpmp/sscflp)"
    )
    p.add_argument("--family", choices=["pmed", "cpmp", "sscflp"], default="pmed")
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument(
        "--instances",
        default=None,
        help="comma-separated names (pmed default: pmed1..pmed5; cpmp/sscflp: all)",
    )
    p.add_argument("--time-limit", type=float, default=600.0)
    p.add_argument("--json", type=Path, default=None)
    p.set_defaults(func=run_bench)
    return bench  # type: ignore[no-any-return]


def _fmt(value: object, spec: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)):
        return format(value, spec)
    return str(value)


def print_orlib_row(row: dict[str, Any], stream: TextIO) -> None:
    """Print one instance result as a table row.

    Parameters
    ----------
    row
        Per-instance result.
    stream
        Where to write.
    """
    gap = row.get("gap")
    stream.write(
        f"{row['name']:<12} {_fmt(row.get('objective'), '14.3f')} "
        f"{_fmt(row.get('bound'), '14.3f')} "
        f"{_fmt(None if gap is None else 100 * gap, '8.4f')} % "
        f"{'yes' if row.get('proven_optimal') else 'no ':>4} "
        f"{_fmt(row.get('published_optimum'), '14.3f')} "
        f"{'yes' if row.get('matches_published') else 'no ':>4} "
        f"{_fmt(row.get('runtime_s'), '8.2f')} s\n"
    )
    stream.flush()


def run_bench(args: argparse.Namespace) -> int:
    """Run the benchmark chosen on the command line.

    Parameters
    ----------
    args
        Parsed arguments of ``planner bench ...``.

    Returns
    -------
    code
        0 on success, 1 when the input is invalid.
    """
    cmd = args.bench_command
    out = sys.stdout
    if cmd == "orlib":
        if not args.dir.is_dir():
            msg = f"`--dir` {args.dir} is not a directory."
            raise ValidationError(msg, source="planner bench orlib")
        names = [s.strip() for s in args.instances.split(",") if s.strip()] or None
        out.write(
            f"{'instance':<12} {'objective':>14} {'bound':>14} {'gap':>10} {'opt':>4} "
            f"{'published':>14} {'ok':>4} {'runtime':>10}\n"
        )
        report = run_orlib(
            args.family,
            args.dir,
            instances=names,
            time_limit_s=args.time_limit,
            optima_file=args.optima,
            seed=args.seed,
            on_result=lambda r: print_orlib_row(r, out),
        )
        write_json(report, args.json)
        s = report["summary"]
        out.write(
            f"\n{s['n']} instances: {s['proven_optimal']} proven optimal, "
            f"{s['matches_published']} match the published optimum, "
            f"{s['proven_and_matching']} both; total {s['total_runtime_s']:.1f} s, "
            f"max {s['max_runtime_s']:.1f} s\nwrote {args.json}\n"
        )
        return 0
    if cmd == "scale":
        result = run_scale(
            model=args.model,
            n_farms=args.farms,
            n_sites=args.sites,
            p=args.p,
            k=args.k,
            time_limit_s=args.time_limit,
            seed=args.seed,
            log=out,
        )
        write_json(result, args.json)
        out.write(
            f"runtime {result['runtime_s']:.1f} s, objective {_fmt(result['objective'], ',.1f')}, "
            f"bound {_fmt(result['bound'], ',.1f')}, "
            f"gap {_fmt(None if result['gap'] is None else 100 * result['gap'], '.3f')} %, "
            f"peak RSS {result['peak_rss_mb']:.0f} MB\nwrote {args.json}\n"
        )
        return 0

    return run_peer(args, out)
