"""The ``planner`` command line.

Commands::

    planner solve SCENARIO|default --out DIR [--time-limit S] [--farms FILE] [--sites FILE]
                  [--road-network FILE]
    planner scenarios                      list the built-in scenarios
    planner data [--verify]                list the embedded datasets and their sources
    planner data farms --n N --seed S --out FILE
                                           write synthetic farms (CSV/XLSX/GPKG by suffix),
                                           to inspect, edit and feed back with --farms
    planner check-data farms|sites FILE    validate a user's farm registry or site list
    planner app [--port N] [--address A] [--no-login]
                                           launch the Streamlit app (127.0.0.1 unless
                                           login is configured or --no-login is given)
    planner workspace audit [--out FILE]   the workspace's audit trail as CSV
    planner robust SCENARIO --samples N --out DIR [--workers K] [--scheduler ADDRESS]
                   [--time-limit S] [--seed S]
                                           futures of the uncertain assumptions on Dask,
                                           the network with the smallest maximum regret
    planner bench orlib|scale|peer …       benchmarks (see bench/README.md)

Exit codes: 0 success, 1 invalid input or infeasible, 2 usage error, 3 internal error.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from planner import __version__, deploy, farms, geodata, io, references
from planner.bench.cli import add_bench_parser
from planner.errors import PlannerError
from planner.models._base import Progress
from planner.robust import RobustProgress, analyse, run_robust
from planner.robust_export import write_robust_outputs
from planner.run import TwoEchelonResult, run_scenario, write_outputs
from planner.scenarios import builtin_scenarios, load_scenario
from planner.store import LOCAL_OWNER, AuditRecord, Workspace

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
# Streamlit options of `planner app`, the same as the repository's .streamlit/config.toml
# (which `streamlit run app.py` reads from the current folder only): users see no Deploy
# button or developer menu, and no usage statistics are sent (the tool must work offline).
STREAMLIT_OPTIONS: tuple[tuple[str, str], ...] = (
    ("client.toolbarMode", "viewer"),
    ("browser.gatherUsageStats", "false"),
)


def _progress_printer(stream: TextIO) -> Callable[[Progress], None]:
    last = [-1.0]

    def report(p: Progress) -> None:
        if p.elapsed_s - last[0] < 1.0:  # at most one line per second
            return
        last[0] = p.elapsed_s
        inc = f"{p.incumbent:,.1f}" if p.incumbent is not None else "-"
        bnd = f"{p.bound:,.1f}" if p.bound is not None else "-"
        gap = f"{100 * p.gap:.3f} %" if p.gap is not None else "-"
        stream.write(
            f"  {p.elapsed_s:7.1f} s  {p.phase:<14} incumbent {inc}  bound {bnd}  gap {gap}\n"
        )
        stream.flush()

    return report


def _cmd_solve(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    if args.farms or args.sites:
        data = scenario.data
        if args.farms:
            data = dataclasses.replace(data, farms=str(Path(args.farms).resolve()))
        if args.sites:
            data = dataclasses.replace(data, sites=str(Path(args.sites).resolve()))
        scenario = scenario.replace(data=data)
    if args.road_network is not None:
        road = str(Path(args.road_network).resolve()) if args.road_network else ""
        scenario = scenario.replace(travel=dataclasses.replace(scenario.travel, road_network=road))
    out = sys.stderr
    if not args.quiet:
        out.write(f"Solving scenario `{scenario.name}` ({scenario.model.kind}) …\n")
    progress = None if args.quiet else _progress_printer(out)
    result = run_scenario(
        scenario,
        time_limit_s=args.time_limit,
        progress=progress,
    )
    paths = write_outputs(result, args.out)
    if isinstance(result, TwoEchelonResult):
        return _report_two_echelon(result, paths)
    sol, k = result.solution, result.kpis
    lines = [
        f"status      {sol.status}   objective {sol.objective:,.2f}   bound {sol.bound:,.2f}   "
        f"gap {100 * sol.gap:.4f} %"
        if sol.has_solution
        else f"status      {sol.status}",
        f"open sites  {len(sol.open_sites)}   "
        f"mean travel {k.get('mean_travel_km', float('nan')):,.1f} km"
        f"   p95 {k.get('p95_travel_km', float('nan')):,.1f} km   covered "
        f"{100 * k.get('covered_demand_share', 0.0):.1f} %",
    ]
    if sol.message:
        lines.append(f"note        {sol.message}")
    lines.extend(f"data note   {n}" for n in result.inputs.data_notes)
    lines.append(f"written     {', '.join(str(p) for p in paths.values())}")
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK if sol.has_solution else EXIT_INVALID


def _robust_bar(stream: TextIO) -> Callable[[RobustProgress], None]:
    def report(p: RobustProgress) -> None:
        width = 30
        filled = width * p.done // max(p.total, 1)
        eta = "-" if p.eta_s != p.eta_s else f"{p.eta_s:,.0f} s"  # nan before the first task
        stream.write(
            f"\r  {p.phase:<8} [{'#' * filled}{'.' * (width - filled)}] {p.done}/{p.total}"
            f"  elapsed {p.elapsed_s:,.0f} s  ETA {eta}   "
        )
        if p.done == p.total:
            stream.write("\n")
        stream.flush()

    return report


def _cmd_robust(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    err = sys.stderr
    where = args.scheduler or f"a local Dask cluster ({args.workers or os.cpu_count()} workers)"
    if not args.quiet:
        err.write(
            f"Robustness of `{scenario.name}` ({scenario.model.kind}): {args.samples} futures "
            f"of {len(scenario.uncertainty.parameters)} uncertain parameters on {where}\n"
        )
    run = run_robust(
        scenario,
        args.samples,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        time_limit_s=args.time_limit,
        seed=args.seed,
        progress=None if args.quiet else _robust_bar(err),
    )
    analysis = analyse(scenario, args.out, args.samples)
    paths = write_robust_outputs(scenario, run, analysis, args.out, lang=args.lang)
    sites = analysis.network_sites[analysis.recommended]
    sys.stdout.write(
        f"futures     {len(analysis.sample_ids)} solved of {run.samples} "
        f"({run.reused_samples} reused), {len(analysis.network_ids)} distinct networks, "
        f"{run.workers} workers, {run.runtime_s:,.1f} s\n"
        f"recommended {analysis.recommended} (smallest maximum regret): {' '.join(sites)}\n"
        f"best mean   {analysis.best_expected}\n"
        f"written     {', '.join(str(p) for p in paths.values())}\n"
    )
    return EXIT_OK


def _report_two_echelon(result: TwoEchelonResult, paths: dict[str, Path]) -> int:
    """Print the summary of a solved two-echelon scenario (plants + service centres)."""
    sol, k = result.solution, result.kpis
    if not sol.has_solution:
        sys.stdout.write(f"status      {sol.status}\nnote        {sol.message}\n")
        return EXIT_INVALID
    b = result.objective_breakdown
    peak_util = float(result.per_year["max_peak_week_utilisation"].iloc[-1])
    lines = [
        f"status      {sol.status}   objective {sol.objective:,.0f} KZT   bound "
        f"{sol.bound:,.0f}   gap {100 * sol.gap:.3f} %",
        f"network     {k['n_plants']} assembly plants, {k['n_centres']} service centres "
        f"({k['n_combine_centres']} combine-capable), {k['n_vans']} vans "
        f"(final year {result.inputs.instance.period_years[-1]})",
        f"service     served {100 * k['served_demand_share']:.1f} %  (by van "
        f"{100 * k['van_served_share']:.1f} %)   mean travel {k['mean_travel_km']:,.1f} km   "
        f"peak-week utilisation max {100 * peak_util:.0f} %",
        "costs       "
        + "   ".join(f"{name.removesuffix('_kzt')} {v / 1e9:,.2f}" for name, v in b.items())
        + "  (bn KZT)",
    ]
    for _, row in result.per_year.iterrows():
        lines.append(
            f"year {int(row['year'])}   plants {int(row['n_plants'])}   centres "
            f"{int(row['n_centres'])}   vans {int(row['n_vans'])}   served "
            f"{100 * row['served_share']:.1f} %   new machines {row['new_belarus_machines']:,.0f}"
        )
    if sol.message:
        lines.append(f"note        {sol.message}")
    lines.extend(f"data note   {n}" for n in result.inputs.data_notes)
    lines.append(f"written     {', '.join(str(p) for p in paths.values())}")
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def _cmd_scenarios(_: argparse.Namespace) -> int:
    for name in builtin_scenarios():
        s = load_scenario(name)
        sys.stdout.write(f"{name:<22} {s.model.kind:<10} {s.title}\n")
    return EXIT_OK


def _cmd_data(args: argparse.Namespace) -> int:
    for name, info in geodata.load_manifest().items():
        sys.stdout.write(
            f"{name:<22} {info.file:<28} {info.year!s:<10} {info.licence:<18} {info.source}\n"
        )
    if args.verify:
        problems = geodata.verify_geodata()
        for p in problems:
            sys.stdout.write(f"PROBLEM: {p}\n")
        sys.stdout.write("geodata OK\n" if not problems else "")
        return EXIT_OK if not problems else EXIT_INVALID
    return EXIT_OK


def _cmd_data_farms(args: argparse.Namespace) -> int:
    table = farms.generate_farms(
        args.n,
        seed=args.seed,
        belarus_share=args.belarus_share,
        belarus_share_combines=args.belarus_share_combines,
    )
    path = farms.write_farms(table, args.out)
    sys.stdout.write(
        f"wrote {len(table):,} synthetic farms to {path} "
        f"({table['district_kato'].nunique()} districts, {table['oblast_iso'].nunique()} oblasts)\n"
    )
    for note in table.attrs["data_notes"]:
        sys.stdout.write(f"note: {note}\n")
    return EXIT_OK


def _cmd_check_data(args: argparse.Namespace) -> int:
    limits = io.Limits(max_bytes=round(args.max_mb * 1024 * 1024), max_rows=args.max_rows)
    report: io.ValidationReport | references.ScenarioReport
    if args.kind == "scenario":
        report = references.validate_scenario(args.file, limits=limits)
    else:
        report = io.validate_table(args.file, args.kind, limits=limits)
    sys.stdout.write(report.format())
    return EXIT_OK if report.ok else EXIT_INVALID


def _app_command(app: Path, args: argparse.Namespace) -> list[str]:
    """Return the ``streamlit run`` command line of ``planner app``."""
    # Headless: no first-run e-mail prompt; streamlit prints the URL to open. The options of
    # .streamlit/config.toml (STREAMLIT_OPTIONS: no Deploy menu, no usage statistics) and
    # Streamlit's upload limit equal to the app's own, so the widget, the app's message and
    # the server agree.
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(args.port),
        "--server.address",
        args.address,
        "--server.headless",
        "true",
        "--server.maxUploadSize",
        str(deploy.max_upload_mb()),
    ]
    for option, value in STREAMLIT_OPTIONS:
        cmd += [f"--{option}", value]
    return cmd


def _cmd_app(args: argparse.Namespace) -> int:
    # The entry script ships in the package (planner/ui/entry.py), so this works from a wheel.
    # Found by path, not imported: the streamlit boundary stays at planner/ui.
    app = Path(__file__).resolve().parent / "ui" / "entry.py"
    if not app.exists():
        sys.stderr.write(f"error: {app} not found; reinstall the package (`pip install .`).\n")
        return EXIT_INVALID
    configured, problems = deploy.login_config()
    if problems:
        sys.stderr.write(
            "error: the login configuration is incomplete: "
            + "; ".join(problems)
            + ". Fix `[auth]` in .streamlit/secrets.toml (see the README, section "
            "'Shared deployment').\n"
        )
        return EXIT_INVALID
    env = dict(os.environ)
    env.pop(deploy.ENV_NO_LOGIN, None)
    if not deploy.is_loopback(args.address) and not configured and not args.no_login:
        sys.stderr.write(
            f"error: refusing to listen on {args.address or 'all interfaces'} without "
            "login: anyone who reaches the port would see and change every saved "
            "scenario and uploaded farm registry. Configure login (`[auth]` in "
            ".streamlit/secrets.toml, see the README, section 'Shared deployment'), "
            f"or listen on {deploy.LOOPBACK} (the default), or pass --no-login to accept "
            "the risk.\n"
        )
        return EXIT_USAGE
    if args.no_login:
        if configured:
            sys.stderr.write("error: --no-login given but login is configured; drop one.\n")
            return EXIT_USAGE
        env[deploy.ENV_NO_LOGIN] = "1"
        sys.stderr.write(
            f"WARNING: --no-login: the app on {args.address} has no login; everyone who "
            "can reach it shares one workspace and can see, change and delete every "
            "scenario and uploaded file.\n"
        )
    mode = "with login" if configured else "single-user, no login"
    host = "localhost" if deploy.is_loopback(args.address) else args.address
    sys.stderr.write(f"Starting the planner app ({mode}) on http://{host}:{args.port} …\n")
    sys.stderr.flush()
    return _serve(_app_command(app, args), env)


def _serve(cmd: list[str], env: dict[str, str]) -> int:
    """Replace this process with the server ``cmd`` (it never returns).

    No child is left behind: stopping `planner app` (Ctrl-C, SIGTERM from a service manager or
    a test) stops the server itself.
    """
    os.execve(cmd[0], cmd, env)  # noqa: S606 - argv list, no shell


def _cmd_workspace_audit(args: argparse.Namespace) -> int:
    ws = Workspace(args.workspace, owner=args.owner or LOCAL_OWNER)
    rows = ws.audit()
    fields = [f.name for f in dataclasses.fields(AuditRecord)]
    if args.out and args.out != "-":
        out: TextIO = Path(args.out).open("w", encoding="utf-8", newline="")  # noqa: SIM115
    else:
        out = sys.stdout
    try:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(fields)
        for r in rows:
            writer.writerow(["" if v is None else v for v in dataclasses.astuple(r)])
    finally:
        if out is not sys.stdout:
            out.close()
    if out is not sys.stdout:
        sys.stderr.write(f"{len(rows)} audit rows of `{ws.owner}` written to {args.out}\n")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``planner`` command.

    Returns
    -------
    parser
        The parser with all sub-commands.
    """
    parser = argparse.ArgumentParser(
        prog="planner",
        description="Plan service centres and assembly plants for Belarusian farm machinery "
        "in Kazakhstan.",
    )
    parser.add_argument("--version", action="version", version=f"planner {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("solve", help="solve a scenario and write the results")
    p.add_argument("scenario", help="built-in scenario name (e.g. `default`) or a TOML file")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--time-limit", type=float, default=None, help="solver time limit in seconds")
    p.add_argument("--farms", default=None, help="use this farm registry instead")
    p.add_argument("--sites", default=None, help="use this candidate-site list instead")
    p.add_argument(
        "--road-network",
        default=None,
        help='travel on these road lines (GPKG/GeoJSON) instead of geodesic x circuity; "" = off',
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_solve)

    p = sub.add_parser("scenarios", help="list the built-in scenarios")
    p.set_defaults(func=_cmd_scenarios)

    p = sub.add_parser("data", help="list the embedded datasets with source and licence")
    p.add_argument("--verify", action="store_true", help="check every file's sha256")
    p.set_defaults(func=_cmd_data)
    dsub = p.add_subparsers(dest="data_command", required=False)
    p = dsub.add_parser(
        "farms",
        help="write the synthetic farms (CSV, XLSX or GPKG by the suffix of --out); edit the "
        "file and use it with `planner solve ... --farms FILE`",
    )
    p.add_argument("--n", type=int, default=20_000, help="number of farms (default 20,000)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument(
        "--belarus-share",
        type=float,
        default=0.5,
        help="Belarus-made share of tractors (assumption, default 0.5)",
    )
    p.add_argument(
        "--belarus-share-combines",
        type=float,
        default=None,
        help="Belarus-made share of combines (assumption; default: --belarus-share)",
    )
    p.add_argument("--out", required=True, help="output file: .csv, .xlsx or .gpkg")
    p.set_defaults(func=_cmd_data_farms)

    p = sub.add_parser(
        "check-data",
        help="validate a farm registry, site list or scenario (exit 0 valid, 1 invalid)",
    )
    p.add_argument("kind", choices=["farms", "sites", "scenario"])
    p.add_argument("file")
    p.add_argument("--max-rows", type=int, default=1_000_000, help="row limit (default 1,000,000)")
    p.add_argument("--max-mb", type=float, default=50.0, help="size limit in MB (default 50)")
    p.set_defaults(func=_cmd_check_data)

    p = sub.add_parser("app", help="launch the Streamlit app")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument(
        "--address",
        default="127.0.0.1",
        help="interface to listen on (default: 127.0.0.1, this computer only; any other "
        "address needs login configured in .streamlit/secrets.toml, or --no-login)",
    )
    p.add_argument(
        "--no-login",
        action="store_true",
        help="allow a non-loopback address without login (everyone shares one workspace; "
        "a warning is printed and shown in the app)",
    )
    p.set_defaults(func=_cmd_app)

    p = sub.add_parser("workspace", help="workspace maintenance")
    wsub = p.add_subparsers(dest="workspace_command", required=True)
    p = wsub.add_parser("audit", help="write the audit trail (who changed what, when) as CSV")
    p.add_argument("--out", default="-", help="CSV file (default: standard output)")
    p.add_argument(
        "--workspace", default=None, help="workspace file (default: $PLANNER_WORKSPACE or ~/...)"
    )
    p.add_argument(
        "--owner",
        default=None,
        help="whose trail (default: the local owner; in a shared deployment a user id as "
        "the app shows it under 'Signed in')",
    )
    p.set_defaults(func=_cmd_workspace_audit)

    p = sub.add_parser(
        "robust",
        help="solve futures of the uncertain assumptions on Dask; recommend the network with "
        "the smallest maximum regret",
    )
    p.add_argument("scenario", help="built-in scenario name or a TOML file with [uncertainty]")
    p.add_argument("--samples", type=int, required=True, help="number of futures")
    p.add_argument("--out", required=True, help="output folder (rerun it to extend the run)")
    p.add_argument(
        "--workers", type=int, default=None, help="local worker processes (default: cores)"
    )
    p.add_argument(
        "--scheduler",
        default=None,
        help="address of an existing Dask scheduler (tcp://host:8786 or tls://...); a trusted, "
        "private network only",
    )
    p.add_argument("--time-limit", type=float, default=None, help="time limit per future (s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the design (default 0)")
    p.add_argument("--lang", choices=["en", "ru", "kk"], default="en", help="brief language")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_robust)

    add_bench_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``planner`` command.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    code
        Process exit code.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except PlannerError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_INVALID
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INVALID
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback by default
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in the planner; rerun with --debug and report the output.\n"
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
