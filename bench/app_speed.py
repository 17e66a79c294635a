"""App speed: first map after server start (target ≤ 5 s) and re-solve with cached inputs (≤ 2 s).

Usage::

    .venv/bin/python bench/app_speed.py [--farms 20000] [--json out.json]
    .venv/bin/python bench/app_speed.py --first-map-only --runs 3   # only measure 1, 3 times

Measures

1. ``server start -> first map``: wall time from launching ``streamlit run app.py`` to the
   Explore page's deck.gl canvas and KPI tiles being visible and two animation frames drawn
   after them (the full map, not the country context the page shows first) in headless
   chromium (Debian's ``/usr/bin/chromium`` driven by Playwright); also split into
   server-ready and page time.
2. ``re-solve (library)``: ``run_scenario(default, inputs=cached)`` after one warm-up, with the
   default solver settings and with the heuristic backend (what a quick "what if" uses), and
   with a 2 s time limit (the incumbent and its gap).
3. ``re-solve (app)``: in the browser, from the click on Run until the new result (its
   numbered caption), its KPIs and its map are drawn: the first solve, two re-solves of the
   default scenario (inputs cached) and a what-if with p = 11.

It also prints what the figures depend on: the chromium version, the WebGL renderer the page
gets (``WEBGL_debug_renderer_info``: a GPU, or SwiftShader = software), whether any cache
was warm before the server started (numba's compiled kernels, the repository's ``.pyc``
files, the browser profile), the CPU seconds each process used until the first map (load
independent, unlike the wall times) and the load average at start and end.

``--cold`` reproduces a fresh machine anywhere: before each run it deletes the project's
numba cache and ``.pyc`` files, and every run uses a new browser profile (the default; a
profile directory given with ``--profile DIR`` is reused across runs, i.e. warm).
The browser is started, then left to finish its own start-up work (Chromium's new headless
mode preloads its omnibox page) before the server is started and the clock runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
sys.path.insert(0, str(REPO))


KERNEL_DIR = REPO / "planner" / "models"
_TWO_FRAMES_JS = (
    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"
)
_RENDERER_JS = """() => {
  const g = document.createElement('canvas').getContext('webgl2')
    || document.createElement('canvas').getContext('webgl');
  if (!g) return 'no WebGL';
  const e = g.getExtension('WEBGL_debug_renderer_info');
  return e ? g.getParameter(e.UNMASKED_RENDERER_WEBGL) : g.getParameter(g.RENDERER);
}"""


def chromium_version() -> str:
    """Return ``chromium --version`` (or why it is unknown)."""
    try:
        out = subprocess.run(
            [str(CHROMIUM), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as exc:
        return f"unknown ({exc})"
    return out.stdout.strip() or out.stderr.strip()[:100]


def numba_cache_files() -> list[Path]:
    """The project's numba cache files (in-tree ``__pycache__``; numba's user cache dir)."""
    found = list(REPO.glob("planner/**/__pycache__/*.nb[ic]"))
    user_dir = os.environ.get("NUMBA_CACHE_DIR") or str(Path.home() / ".cache" / "numba")
    found += [p for p in Path(user_dir).rglob("*.nb[ic]") if "_kernels" in p.name]
    return found


def pyc_files() -> list[Path]:
    """The repository's compiled bytecode (``planner/**/__pycache__/*.pyc``)."""
    return list(REPO.glob("planner/**/__pycache__/*.pyc"))


def cache_state(profile: Path | None) -> dict[str, object]:
    """What was warm before the server started."""
    return {
        "numba_cache_files": len(numba_cache_files()),
        "pyc_files": len(pyc_files()),
        "pythondontwritebytecode": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
        "browser_profile": (
            "new (temporary)"
            if profile is None
            else ("reused " if (profile / "Default").exists() else "new ") + str(profile)
        ),
    }


def clear_caches() -> None:
    """Delete the project's numba cache and ``.pyc`` files (what a fresh clone lacks)."""
    for f in numba_cache_files() + pyc_files():
        f.unlink(missing_ok=True)


_TICK = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, str, float]]:
    """``pid -> (parent pid, kind, CPU seconds)`` from /proc (Linux)."""
    table: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        d = entry.name
        if not d.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        rest = stat.rsplit(")", 1)[1].split()
        m = re.search(r"--type=([a-z-]+)", cmdline)
        kind = m.group(1) if m else ("browser" if "chromium" in cmdline else "other")
        table[int(d)] = (int(rest[1]), kind, (int(rest[11]) + int(rest[12])) / _TICK)
    return table


def cpu_by_kind(root: int) -> dict[str, float]:
    """CPU seconds used by ``root`` and its descendants, summed by chromium process type."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out: dict[str, float] = {}
    stack = [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            _, kind, cpu = table[pid]
            out[kind] = out.get(kind, 0.0) + cpu
        stack.extend(children.get(pid, []))
    return out


def _settle(max_s: float = 10.0) -> None:
    """Wait until this process tree (the browser) has used < 5 % of a core for 0.5 s."""
    me = os.getpid()
    end = time.monotonic() + max_s
    while time.monotonic() < end:
        c0 = sum(cpu_by_kind(me).values())
        time.sleep(0.5)
        if sum(cpu_by_kind(me).values()) - c0 < 0.025:  # noqa: PLR2004
            return


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def library_resolve(n_farms: int) -> dict[str, float]:
    from planner import run, scenarios  # noqa: PLC0415 - after sys.path is set

    s = scenarios.load_scenario("default")
    s = s.replace(data=dataclasses.replace(s.data, n_farms=n_farms))
    t0 = time.perf_counter()
    inputs = run.build_inputs(s)
    build = time.perf_counter() - t0
    out = {"build_inputs_s": build}
    for label, solver in (
        ("default_settings", s.solver),
        ("heuristic", dataclasses.replace(s.solver, backend="heuristic")),
    ):
        sc = s.replace(solver=solver)
        run.run_scenario(sc, inputs=inputs)  # warm-up
        t0 = time.perf_counter()
        res = run.run_scenario(sc, inputs=inputs)
        out[f"resolve_{label}_s"] = time.perf_counter() - t0
        out[f"resolve_{label}_status"] = str(res.solution.status)  # type: ignore[assignment]
    # What a planner gets when asking for an answer within 2 s (the incumbent and its gap).
    t0 = time.perf_counter()
    res = run.run_scenario(s, inputs=inputs, time_limit_s=2.0)
    out["resolve_time_limit_2s_s"] = time.perf_counter() - t0
    out["resolve_time_limit_2s_gap_pct"] = 100.0 * float(res.solution.gap)
    return out


def _idle(page: Any) -> None:  # noqa: ANN401
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000
    )


_HEAD = ".st-key-sc_result_head"
_FRAME = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _timed_run(page: Any) -> float:  # noqa: ANN401
    """Click Run; return the seconds until the new result's caption, KPIs and map are drawn.

    The result caption numbers the runs ("run 2, ..."), so a changed caption is the new
    result; two animation frames after that, the browser has drawn the updated map.
    """
    head = page.locator(_HEAD)
    before = head.inner_text() if head.count() else ""
    t1 = time.perf_counter()
    page.get_by_role("button", name="Run", exact=True).click(timeout=600_000)
    page.wait_for_function(
        "([sel, before]) => { const e = document.querySelector(sel);"
        " return e && e.innerText !== before; }",
        arg=[_HEAD, before],
        timeout=600_000,
        polling=50,
    )
    page.wait_for_selector("text=Open sites", timeout=120_000)
    page.wait_for_selector("canvas", timeout=120_000)
    page.evaluate(_FRAME)
    return time.perf_counter() - t1


def browser_timings(  # noqa: PLR0915 - one scripted session, step by step
    n_farms: int, *, resolve: bool = True, profile: Path | None = None
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional dependency

    port = _port()
    tmp = tempfile.mkdtemp()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PLANNER_WORKSPACE": str(Path(tmp) / "ws.sqlite"),
        "PLANNER_APP_N_FARMS": str(n_farms),
    }
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    out: dict[str, Any] = cache_state(profile)
    out["load_avg_1min_at_run_start"] = round(os.getloadavg()[0], 2)
    with sync_playwright() as p:
        viewport = {"width": 1500, "height": 1000}
        browser: Any
        if profile is None:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            page = browser.new_page(viewport=viewport)
        else:
            browser = p.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), args=ARGS, headless=True,
                viewport=viewport,  # type: ignore[arg-type]
            )  # fmt: skip
            page = browser.new_page()
        _settle()  # the browser's own start-up work is not the app's
        cpu0 = cpu_by_kind(os.getpid())
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            url = f"http://127.0.0.1:{port}"
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:  # noqa: S310
                        if r.status == 200:  # noqa: PLR2004
                            break
                except OSError:
                    time.sleep(0.05)
            out["server_ready_s"] = time.perf_counter() - t0
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_selector("canvas", timeout=120_000)
            page.wait_for_selector("[data-testid='stMetric']", timeout=120_000)
            # The KPI tiles come after the full map (a session's first page shows the country
            # context before it): two animation frames later deck.gl has drawn the full map.
            page.evaluate(_TWO_FRAMES_JS)
            out["first_map_after_start_s"] = time.perf_counter() - t0
            out["first_map_page_only_s"] = out["first_map_after_start_s"] - out["server_ready_s"]
            cpu1 = cpu_by_kind(os.getpid())
            server_cpu = sum(cpu_by_kind(proc.pid).values())
            browser_cpu = {k: v - cpu0.get(k, 0.0) for k, v in cpu1.items() if k != "other"}
            out["cpu_first_map_server_s"] = server_cpu
            for kind in ("renderer", "gpu-process", "browser"):
                out[f"cpu_first_map_{kind.replace('-', '_')}_s"] = browser_cpu.get(kind, 0.0)
            out["cpu_first_map_browser_all_s"] = sum(browser_cpu.values())
            out["webgl_renderer"] = page.evaluate(_RENDERER_JS)
            for key in ("server_ready_s", "first_map_after_start_s", "first_map_page_only_s"):
                print(f"{key:34s} {out[key]:8.2f}", flush=True)
            print(
                f"{'cpu s to first map':34s} server {server_cpu:.2f}, browser "
                + ", ".join(f"{k} {v:.2f}" for k, v in sorted(browser_cpu.items()) if v >= 0.01),  # noqa: PLR2004
                flush=True,
            )
            if not resolve:
                return out
            page.goto(f"{url}/scenario", wait_until="domcontentloaded")
            page.wait_for_selector("text=Build and run a scenario", timeout=120_000)
            steps = (
                ("first_solve_s", None),
                ("resolve_app_s", None),
                ("resolve_app_repeat_s", None),
                ("resolve_app_p11_s", 11),  # a what-if: one more centre (inputs stay cached)
            )
            for attempt, p_value in steps:
                _idle(page)
                if p_value is not None:
                    box = page.get_by_label("Number of centres p")
                    box.fill(str(p_value))
                    box.press("Enter")
                    _idle(page)
                before = cpu_by_kind(os.getpid())
                server_before = sum(cpu_by_kind(proc.pid).values())
                out[attempt] = _timed_run(page)
                after = cpu_by_kind(os.getpid())
                server_cpu = sum(cpu_by_kind(proc.pid).values()) - server_before
                browser_s = sum(v - before.get(k, 0.0) for k, v in after.items() if k != "other")
                stem = attempt.removesuffix("_s")
                out[f"cpu_{stem}_server_s"] = server_cpu
                out[f"cpu_{stem}_browser_all_s"] = browser_s
                print(
                    f"{attempt:34s} {out[attempt]:8.2f}"
                    f"   (cpu s: server {server_cpu:.2f}, browser {browser_s:.2f})",
                    flush=True,
                )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            browser.close()
            out["load_avg_1min_at_run_end"] = round(os.getloadavg()[0], 2)
    return out


def main() -> int:  # noqa: C901 - options, runs and the summary table
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--farms", type=int, default=20_000)
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--first-map-only",
        action="store_true",
        help="measure only server start -> first map (no library or in-app re-solve)",
    )
    ap.add_argument(
        "--runs", type=int, default=1, help="repeat the browser measurement (fresh server each)"
    )
    ap.add_argument(
        "--cold",
        action="store_true",
        help="a fresh machine: delete the project's numba cache and .pyc files before each run",
    )
    ap.add_argument(
        "--profile",
        type=Path,
        help="reuse this browser profile directory across runs (default: a new one per run)",
    )
    args = ap.parse_args()
    results: dict[str, object] = {
        "n_farms": args.farms,
        "cpu_count": os.cpu_count() or 0,
        "load_avg_1min_at_start": round(os.getloadavg()[0], 2),
        "chromium": chromium_version() if CHROMIUM.exists() else "not installed",
        "cold": args.cold,
    }
    if args.cold:
        clear_caches()
    results.update({f"before_start_{k}": v for k, v in cache_state(args.profile).items()})
    if not args.first_map_only:
        results.update(library_resolve(args.farms))  # --cold clears the caches again below
    for key, value in results.items():
        print(f"{key:34s} {value!s:>8}", flush=True)
    if CHROMIUM.exists():
        runs: list[dict[str, Any]] = []
        try:
            for _ in range(max(1, args.runs)):
                if args.cold:
                    clear_caches()
                # a loop: the runs measured before an error are still reported
                runs.append(
                    browser_timings(
                        args.farms, resolve=not args.first_map_only, profile=args.profile
                    )
                )
        except Exception as exc:  # noqa: BLE001 - report what was measured
            results["browser_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        if runs:
            # The median run (by first map) is the headline; every run is kept in the JSON.
            runs_sorted = sorted(runs, key=lambda r: r["first_map_after_start_s"])
            results.update(runs_sorted[len(runs_sorted) // 2])
        if len(runs) > 1:
            for key in sorted({k for r in runs for k in r}):
                if not all(isinstance(r.get(key), float) for r in runs if key in r):
                    results[key + "_runs"] = [r[key] for r in runs if key in r]
                    continue
                values = [round(r[key], 2) for r in runs if key in r]
                results[key.removesuffix("_s") + ("_runs_s" if key.endswith("_s") else "_runs")] = (
                    values
                )
                if key.startswith(("resolve_app", "first_solve", "cpu_")):
                    results[key] = statistics.median(values)  # each re-solve: its own median
    else:
        results["browser"] = "skipped: /usr/bin/chromium not installed"
    print("-" * 60)
    targets = {
        "first_map_after_start_s": 5.0,
        "resolve_default_settings_s": 2.0,
        "resolve_app_s": 2.0,
        "resolve_app_repeat_s": 2.0,
        "resolve_app_p11_s": 2.0,
    }
    for key, value in results.items():
        flag = ""
        if key in targets and isinstance(value, float):
            flag = "  OK" if value <= targets[key] else f"  OVER TARGET ({targets[key]:g} s)"
        shown = f"{value:8.2f}" if isinstance(value, float) else f"{value!s:>8}"
        print(f"{key:34s} {shown}{flag}")
    results["load_avg_1min_at_end"] = round(os.getloadavg()[0], 2)
    print(f"{'load_avg_1min_at_end':34s} {results['load_avg_1min_at_end']:8.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
