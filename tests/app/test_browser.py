"""Real-browser test: Debian's chromium (headless, via Playwright) against ``streamlit run``.

Skipped with a reason when ``/usr/bin/chromium`` is absent (``.ci/run`` installs it with apt;
``playwright install`` is never used). Screenshots are written to ``test-artifacts/``; with
``PLANNER_DOCS_SCREENSHOTS=1`` one screenshot per page also goes to ``docs/screenshots/``.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._server import free_port, stop, wait_healthy

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
DOCS = REPO / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXCEPTION_MARKERS = ("Traceback (most recent call last)", "StreamlitAPIException")
DECK_CANVAS = "[data-testid='stDeckGlJsonChart'] canvas"
EXPECT_TIMEOUT_MS = 30_000
# Streamlit's app root carries data-test-script-state ("running" during a script or fragment
# run, "notRunning" after it). This script, installed before the page's own scripts, counts
# the runs that ended (every change away from "running"), so that a test can wait for the run
# its action started instead of guessing with a sleep. (The status widget is no signal: it
# appears only 500 ms into a run.)
RUN_COUNTER_JS = """
window.__plannerRunsEnded = 0;
window.__plannerRunsStarted = 0;
new MutationObserver((records) => {
  for (const r of records) {
    if (r.oldValue === "running") window.__plannerRunsEnded += 1;
    else if (r.target.getAttribute("data-test-script-state") === "running")
      window.__plannerRunsStarted += 1;
  }
}).observe(document, {
  subtree: true, attributes: true, attributeOldValue: true,
  attributeFilter: ["data-test-script-state"],
});
"""
IDLE_JS = """(after) => window.__plannerRunsEnded > after
  && document.querySelector("[data-testid='stApp']")
       ?.getAttribute("data-test-script-state") === "notRunning"
"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is not installed (apt-get install chromium; .ci/run does it)",
    ),
]


@contextlib.contextmanager
def streamlit_server(env_extra: dict[str, str]) -> Iterator[str]:
    """Run ``streamlit run app.py`` headless on a free port; yield its URL."""
    port = free_port()
    env = {**os.environ, **env_extra, "PYTHONPATH": str(REPO)}
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO / "app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"streamlit-{port}.log"
    log = log_path.open("w", encoding="utf-8")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, url, log_path)
        yield url
    finally:
        stop(proc, timeout_s=10)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ws = tmp_path_factory.mktemp("browser") / "workspace.sqlite"
    env = {
        "PLANNER_WORKSPACE": str(ws),
        "PLANNER_APP_N_FARMS": "2000",
        "PLANNER_APP_TIME_LIMIT": "4",
    }
    with streamlit_server(env) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def expect(target: object) -> Any:  # noqa: ANN401 - Playwright's assertion object
    """Playwright's auto-waiting ``expect`` (imported here: playwright may be absent)."""
    from playwright.sync_api import expect as pw_expect  # noqa: PLC0415

    # Playwright's default of 5 s is short for a loaded 2-core machine; waits that need longer
    # still pass their own timeout.
    pw_expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    return pw_expect(target)  # type: ignore[call-overload]


def _new_page(browser: object, width: int, height: int) -> Any:  # noqa: ANN401
    """A page of ``browser`` that counts Streamlit's finished script runs."""
    page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page.add_init_script(RUN_COUNTER_JS)
    return page


def _runs_ended(page: Any) -> int:  # noqa: ANN401
    return int(page.evaluate("window.__plannerRunsEnded"))


def _runs_started(page: Any) -> int:  # noqa: ANN401
    return int(page.evaluate("window.__plannerRunsStarted"))


def _wait_idle(page: Any, *, after: int = 0, timeout_ms: int = 60_000) -> None:  # noqa: ANN401
    """Wait until a script run has ended since ``after`` runs and no run is going on.

    ``after=0`` (just after ``goto``): the page's first run has ended. On a timeout the page
    is saved to ``test-artifacts/`` and the error says how many runs started and ended and
    what state the script is in (a stalled run and an action that started none differ).
    """
    try:
        page.wait_for_function(IDLE_JS, arg=after, timeout=timeout_ms)
    except Exception as exc:
        # playwright is imported lazily here (it may be absent): match its TimeoutError by name
        if type(exc).__name__ != "TimeoutError":
            raise
        shot = ARTIFACTS / f"idle_timeout_{int(time.time())}.png"
        with contextlib.suppress(Exception):
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(shot))
        state = page.evaluate(
            "document.querySelector(\"[data-testid='stApp']\")"
            "?.getAttribute('data-test-script-state')"
        )
        msg = (
            f"no script run ended within {timeout_ms} ms after {after} ended runs: "
            f"{_runs_started(page)} started, {_runs_ended(page)} ended, script state "
            f"{state!r}; page saved to {shot}"
        )
        raise AssertionError(msg) from exc


def _act(page: Any, action: Callable[[], object], timeout_ms: int = 60_000) -> None:  # noqa: ANN401
    """Do ``action``, which makes Streamlit re-run the script, and wait until that run ended."""
    before = _runs_ended(page)
    action()
    _wait_idle(page, after=before, timeout_ms=timeout_ms)


def _no_exception(page: Any) -> None:  # noqa: ANN401
    """No exception on the page (call it once the run that could raise one has ended)."""
    text = page.inner_text("body")
    for marker in EXCEPTION_MARKERS:
        assert marker not in text, text[:2000]
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


def test_open_run_default_scenario_and_see_map_and_kpis(server: str, browser: object) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = _new_page(browser, 1500, 1000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server, wait_until="domcontentloaded")
    page.wait_for_selector("text=Explore the Kazakhstan data", timeout=60_000)
    _wait_idle(page)
    expect(page.locator(DECK_CANVAS).first).to_be_visible(timeout=60_000)
    expect(page.locator("[data-testid='stMetric']").first).to_be_visible(timeout=30_000)
    _no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "explore.png"), full_page=True)

    page.goto(f"{server}/scenario", wait_until="domcontentloaded")
    page.wait_for_selector("text=Build and run a scenario", timeout=60_000)
    _wait_idle(page)
    expect(page.locator(DECK_CANVAS)).to_have_count(0)  # no map before the first result
    before = _runs_ended(page)
    page.get_by_role("button", name="Run", exact=True).click()
    open_sites = page.locator("[data-testid='stMetric']", has_text="Open sites")
    expect(open_sites.locator("[data-testid='stMetricValue']")).to_have_text("10", timeout=120_000)
    _wait_idle(page, after=before, timeout_ms=120_000)
    # the KPI tiles (two rows) and the result map, each waited for until it is drawn
    expect(page.locator("[data-testid='stMetric']").nth(8)).to_be_visible(timeout=30_000)
    expect(page.locator(DECK_CANVAS).first).to_be_visible(timeout=60_000)
    _no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "scenario.png"), full_page=True)
    assert not [e for e in errors if "alert" in e], errors


def test_every_page_loads_without_exception(server: str, browser: object) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = _new_page(browser, 1500, 1000)
    for path, title in (
        ("compare", "Compare saved scenarios"),
        ("data", "Your own data"),
        ("export", "Export results"),
    ):
        page.goto(f"{server}/{path}", wait_until="domcontentloaded")
        page.wait_for_selector(f"text={title}", timeout=60_000)
        _wait_idle(page)
        _no_exception(page)
        page.screenshot(path=str(ARTIFACTS / f"{path}.png"), full_page=True)


def test_language_switch_in_the_browser(server: str, browser: object) -> None:
    page = _new_page(browser, 1500, 1000)
    page.goto(server, wait_until="domcontentloaded")
    page.wait_for_selector("text=Explore the Kazakhstan data", timeout=60_000)
    _wait_idle(page)
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
    _act(page, page.get_by_role("option", name="Русский").click)
    expect(page.get_by_role("heading", name="Обзор данных по Казахстану")).to_be_visible(
        timeout=30_000
    )
    _no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "explore_ru.png"), full_page=True)


@pytest.mark.skipif(
    os.environ.get("PLANNER_DOCS_SCREENSHOTS") != "1",
    reason="README screenshots are taken on demand: PLANNER_DOCS_SCREENSHOTS=1",
)
def test_docs_screenshots(browser: object, tmp_path: Path) -> None:  # noqa: PLR0915
    """One screenshot per page for the README (docs/screenshots/)."""
    import dataclasses  # noqa: PLC0415

    from planner import export, run, scenarios  # noqa: PLC0415
    from planner.store import Workspace  # noqa: PLC0415
    from planner.ui.data import FARM_TEMPLATE  # noqa: PLC0415

    DOCS.mkdir(parents=True, exist_ok=True)
    ws = Workspace(tmp_path / "ws.sqlite")
    base = scenarios.load_scenario("default")
    base = base.replace(data=dataclasses.replace(base.data, n_farms=5000))
    for name, p in (("6 centres", 6), ("10 centres", 10)):
        s = base.replace(
            name=name,
            model=dataclasses.replace(base.model, p=p),
            solver=dataclasses.replace(base.solver, backend="heuristic"),
        )
        res = run.run_scenario(s, time_limit_s=5)
        ws.save_scenario(s, export.to_stored(export.result_tables(res)))
    farms_csv = tmp_path / "my_farms.csv"
    bad = FARM_TEMPLATE.copy()
    bad.loc[1, "lat"] = 95.0
    bad.to_csv(farms_csv, index=False)
    env = {
        "PLANNER_WORKSPACE": str(ws.path),
        "PLANNER_APP_N_FARMS": "5000",
        "PLANNER_APP_TIME_LIMIT": "5",
    }
    with streamlit_server(env) as url:
        page = _new_page(browser, 1500, 1100)
        page.goto(url, wait_until="domcontentloaded")
        _wait_idle(page)
        expect(page.locator(DECK_CANVAS).first).to_be_visible(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(DOCS / "explore.png"))

        page.set_viewport_size({"width": 1500, "height": 1700})
        page.goto(f"{url}/scenario", wait_until="domcontentloaded")
        page.wait_for_selector("text=Build and run a scenario", timeout=60_000)
        _wait_idle(page)
        page.get_by_role("button", name="Run", exact=True).click()
        page.wait_for_selector("text=Open sites", timeout=180_000)
        _wait_idle(page, timeout_ms=180_000)
        expect(page.locator(DECK_CANVAS).first).to_be_visible(timeout=60_000)
        page.locator("text=Results").first.scroll_into_view_if_needed()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(DOCS / "scenario.png"))

        page.goto(f"{url}/compare", wait_until="domcontentloaded")
        page.wait_for_selector("text=Compare saved scenarios", timeout=60_000)
        _wait_idle(page)
        page.get_by_role("button", name="Compute curve").click()
        page.wait_for_selector(".js-plotly-plot", timeout=300_000)
        _wait_idle(page, timeout_ms=300_000)
        page.wait_for_timeout(1500)
        page.set_viewport_size({"width": 1500, "height": 2300})
        page.wait_for_timeout(1000)
        page.screenshot(path=str(DOCS / "compare.png"))

        page.set_viewport_size({"width": 1500, "height": 1300})
        page.goto(f"{url}/data", wait_until="domcontentloaded")
        page.wait_for_selector("text=Your own data", timeout=60_000)
        _wait_idle(page)
        page.locator("input[type='file']").first.set_input_files(str(farms_csv))
        page.wait_for_selector("text=cannot be used", timeout=60_000)
        _wait_idle(page)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(DOCS / "data.png"))

        page.goto(f"{url}/export", wait_until="domcontentloaded")
        page.wait_for_selector("text=Export results", timeout=60_000)
        _wait_idle(page)
        page.get_by_role("button", name="Prepare files").click()
        page.wait_for_selector("text=All files (ZIP)", timeout=120_000)
        _wait_idle(page)
        page.get_by_text("Brief preview").click()
        page.wait_for_timeout(2000)
        page.screenshot(path=str(DOCS / "export.png"))


def test_progress_and_cancel_in_the_browser(server: str, browser: object) -> None:
    """A long solve shows live progress; Cancel stops it and keeps the best solution."""
    page = _new_page(browser, 1500, 1400)
    page.goto(f"{server}/scenario", wait_until="domcontentloaded")
    page.wait_for_selector("text=Build and run a scenario", timeout=60_000)
    _wait_idle(page)
    # A problem big enough to still be solving when Cancel is clicked: the default p-median
    # is proven optimal in about a second now, the capacitated (single-source CFLP) built-in
    # scenario on 20,000 farms takes tens of seconds.
    page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").first.click()
    _act(page, page.get_by_role("option", name="capacitated (built-in)").click)
    _act(page, page.get_by_role("button", name="Load", exact=True).click)
    expect(page.get_by_label("Scenario name")).to_have_value("capacitated")
    page.get_by_text("Solver", exact=True).click()
    limit = page.get_by_label("Time limit, s")
    limit.fill("120")
    _act(page, lambda: limit.press("Enter"))
    expect(limit).to_have_value(re.compile(r"^120(\.0+)?$"))  # as the app formats it
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator("[data-testid='stProgress']").first).to_be_visible(timeout=60_000)
    cancel = page.get_by_role("button", name="Cancel", exact=True)
    expect(cancel).to_be_visible(timeout=120_000)
    page.screenshot(path=str(ARTIFACTS / "scenario_running.png"))
    cancel.click()
    # the solve stops: the progress panel goes and the best solution so far is shown
    expect(page.locator("[data-testid='stProgress']")).to_have_count(0, timeout=90_000)
    open_sites = page.locator("[data-testid='stMetric']", has_text="Open sites")
    expect(open_sites.locator("[data-testid='stMetricValue']")).to_have_text(
        re.compile(r"^\d+$"), timeout=60_000
    )
    _wait_idle(page)
    _no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "scenario_cancelled.png"))


def _mercator_px(lon: float, lat: float, zoom: float) -> tuple[float, float]:
    """Web-Mercator pixel coordinates of deck.gl (512-px world at zoom 0)."""
    world = 512 * 2**zoom
    x = (lon + 180) / 360 * world
    y = (1 - math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / math.pi) / 2 * world
    return x, y


def test_pick_a_required_site_on_the_map(server: str, browser: object) -> None:
    """Clicking Astana on the candidate map adds it to the required sites."""
    page = _new_page(browser, 1500, 1600)
    page.goto(f"{server}/scenario", wait_until="domcontentloaded")
    page.wait_for_selector("text=Build and run a scenario", timeout=60_000)
    _wait_idle(page)
    page.get_by_text("Sites, capacities and costs").click()  # an expander: no rerun
    _act(page, page.get_by_text("Pick sites on the map").click)
    pick_map = page.locator(DECK_CANVAS).last  # the only map on the page before a result
    expect(pick_map).to_be_visible(timeout=60_000)
    box = pick_map.bounding_box()
    assert box is not None
    from planner.ui.maps import KZ_VIEW  # noqa: PLC0415

    zoom = float(KZ_VIEW.zoom)
    cx, cy = _mercator_px(float(KZ_VIEW.longitude), float(KZ_VIEW.latitude), zoom)
    ax, ay = _mercator_px(71.4704, 51.1605, zoom)  # Astana
    x, y = box["x"] + box["width"] / 2 + ax - cx, box["y"] + box["height"] / 2 + ay - cy
    # A click picks a site only once deck.gl has drawn the candidate layer; a click that
    # picks nothing changes no selection and starts no run, so click until one starts, then
    # wait (however long the loaded machine takes) for that run to end. Never click again
    # once a run started: a second click on Astana would unpick it.
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: PLC0415

    deadline = time.monotonic() + 90
    while True:
        started, ended = _runs_started(page), _runs_ended(page)
        page.mouse.click(x, y)
        try:
            page.wait_for_function(
                "(n) => window.__plannerRunsStarted > n || window.__plannerRunsEnded > "
                + str(ended),
                arg=started,
                timeout=5_000,
            )
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                raise
            continue
        _wait_idle(page, after=ended)
        break
    required = page.locator("[data-testid='stMultiSelect']", has_text="Required sites")
    expect(required).to_contain_text("Astana (gn:1526273)", timeout=30_000)
    _no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "scenario_pick.png"))
