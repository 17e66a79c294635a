"""Re-make the README screenshots of the result pages (``docs/screenshots/``).

Usage, from the repository root (Debian's ``/usr/bin/chromium`` and playwright needed)::

    .venv/bin/python docs/make_screenshots.py                 # scenario.png and network.png
    .venv/bin/python docs/make_screenshots.py --pages network --width 1280 --height 800

Starts the app as users do (``planner app``) on a free port with a throw-away workspace, runs
the default scenario on the Scenario page and the two-echelon plan on the Network page, scrolls
each page to its results and saves one viewport screenshot per page. The other screenshots
(Explore, Compare, Data, Export) come from ``PLANNER_DOCS_SCREENSHOTS=1 pytest
tests/app/test_browser.py -k docs``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
HTTP_OK = 200
IDLE_JS = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
SCROLL_TO_RESULTS_JS = """() => {
  const h = [...document.querySelectorAll('h3')].find(e => e.innerText.trim() === 'Results');
  h.scrollIntoView({block: 'start'});
}"""


@contextlib.contextmanager
def planner_app(env_extra: dict[str, str]) -> Iterator[str]:
    """Run ``planner app`` on a free port (own process group); yield its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {**os.environ, **env_extra, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "planner.cli", "app", "--port", str(port)]
    cmd += ["--address", "127.0.0.1"]
    proc = subprocess.Popen(  # noqa: S603
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:  # noqa: S310
                    if r.status == HTTP_OK:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    msg = "planner app did not start"
                    raise RuntimeError(msg) from None
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def _idle(page: Any, timeout_ms: int = 300_000) -> None:  # noqa: ANN401
    page.wait_for_timeout(300)
    page.wait_for_function(IDLE_JS, timeout=timeout_ms)


def _show_results(page: Any) -> None:  # noqa: ANN401
    """Scroll to the results once their map is drawn; let tiles and transitions settle."""
    page.wait_for_selector("[data-testid='stDeckGlJsonChart'] canvas", timeout=120_000)
    page.evaluate(SCROLL_TO_RESULTS_JS)
    page.wait_for_timeout(4000)


def scenario(page: Any, url: str, out: Path) -> None:  # noqa: ANN401
    """Run the default scenario; screenshot its results."""
    page.goto(f"{url}/scenario", wait_until="domcontentloaded")
    page.wait_for_selector("text=Build and run a scenario", timeout=60_000)
    _idle(page)
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_selector(".st-key-sc_dossier_site_table [data-testid='stTable']", timeout=300_000)
    _idle(page)
    _show_results(page)
    page.screenshot(path=str(out))


def network(page: Any, url: str, out: Path) -> None:  # noqa: ANN401
    """Run the two-echelon plan; screenshot its results."""
    page.goto(f"{url}/network", wait_until="domcontentloaded")
    page.get_by_role("button", name="Run", exact=True).wait_for(timeout=60_000)
    _idle(page)
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_selector("text=Planning year", timeout=900_000)
    _idle(page)
    _show_results(page)
    page.screenshot(path=str(out))


def main() -> int:
    """Make the screenshots; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="+", default=["scenario", "network"])
    parser.add_argument("--width", type=int, default=1500)
    parser.add_argument("--height", type=int, default=1250)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--farms", type=int, default=5000, help="farms of the Scenario page")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="solver time limit, s (default: the scenario's)",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "PLANNER_WORKSPACE": str(Path(tmp) / "workspace.sqlite"),
            "PLANNER_APP_N_FARMS": str(args.farms),
        }
        if args.time_limit is not None:
            env["PLANNER_APP_TIME_LIMIT"] = str(args.time_limit)
        with planner_app(env) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name in args.pages:
                page = browser.new_page(viewport={"width": args.width, "height": args.height})
                out = args.out / f"{name}.png"
                {"scenario": scenario, "network": network}[name](page, url, out)
                print(f"wrote {out}")  # noqa: T201
                page.close()
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
