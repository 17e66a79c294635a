"""Result pages read cleanly at 1500×1000 and at 1280×800 (real browser, all three languages).

Debian's chromium (headless, via Playwright) against the app started the way users start it,
``planner app``, from a folder outside the checkout (so no ``.streamlit/config.toml`` applies
and the launcher's own options must hide the developer toolbar). Skipped with a reason when
``/usr/bin/chromium`` is absent. The check: every KPI tile's label and value, and the site
dossier, fit their boxes (no element wider than its box, no "…"), the Deploy button and the
developer menu items are absent, and the tab keeps the product's title and icon.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from planner import cli
from tests._server import free_port, wait_healthy
from tests.app.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO = Path(__file__).resolve().parents[2]
VIEWPORTS = ((1500, 1000), (1280, 800))
LANGUAGES = (("en", None), ("ru", "Русский"), ("kk", "Қазақша"))
TITLE = "KZ service-network planner"
browser_only = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is not installed (apt-get install chromium; .ci/run does it)",
    ),
]

# Every metric label and value, and the dossier table, with each element that is wider than
# its box (text cut short) or whose text ends in an ellipsis. Empty when everything fits.
_CUT_SHORT_JS = """(sel) => {
  const bad = [];
  for (const box of document.querySelectorAll(sel)) {
    for (const el of [box, ...box.querySelectorAll('*')]) {
      const text = (el.innerText || '').trim();
      if (el.scrollWidth > el.clientWidth + 1 || text.endsWith('…')) {
        bad.push(`${box.innerText.replace(/\\s+/g, ' ').slice(0, 80)} ` +
                 `[${el.tagName} ${el.scrollWidth}>${el.clientWidth}]`);
        break;
      }
    }
  }
  return bad;
}"""
_RESULT_PARTS = (
    "[data-testid='stMetricLabel'], [data-testid='stMetricValue'], "
    "[data-testid='stTable'] td, [data-testid='stTable']"
)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``planner app`` started from an empty folder outside the checkout; yield its URL."""
    folder = tmp_path_factory.mktemp("elsewhere")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PLANNER_WORKSPACE": str(folder / "workspace.sqlite"),
        "PLANNER_APP_N_FARMS": "2000",
        "PLANNER_APP_TIME_LIMIT": "4",
    }
    cmd = [sys.executable, "-m", "planner.cli", "app", "--port", str(port)]
    cmd += ["--address", "127.0.0.1"]
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"planner-app-{port}.log"
    with log_path.open("w", encoding="utf-8") as log:
        # its own process group, stopped as a whole (`planner app` execs streamlit)
        proc = subprocess.Popen(
            cmd, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(proc, url, log_path)
            yield url
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _expect() -> Callable[..., Any]:
    """Playwright's auto-waiting ``expect`` (the browser fixture skipped the test without it)."""
    from playwright.sync_api import expect  # noqa: PLC0415

    return expect


def _wait_idle(page: Page, timeout_ms: int = 120_000) -> None:
    """Wait until Streamlit has no script run going (its status widget is gone)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms
    )


def _switch_language(page: Page, option: str) -> None:
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
    page.get_by_role("option", name=option).click()
    _wait_idle(page)


def _assert_nothing_cut_short(page: Page, where: str) -> None:
    """Wait (10 s at most, the layout settles after a resize) until every part fits."""
    try:
        page.wait_for_function(
            f"(sel) => ({_CUT_SHORT_JS})(sel).length === 0", arg=_RESULT_PARTS, timeout=10_000
        )
    except Exception:  # noqa: BLE001 - report what is cut short, not the timeout
        cut = page.evaluate(_CUT_SHORT_JS, _RESULT_PARTS)
        page.screenshot(path=str(ARTIFACTS / f"cut_short_{where}.png"))
        pytest.fail(f"{where}: cut short: {cut}")


def _assert_viewer_toolbar(page: Page) -> None:
    """No Deploy button; the main menu holds viewer items only; the product's tab title."""
    expect = _expect()
    expect(page).to_have_title(TITLE)
    icon = page.locator("link[rel*='icon']").first
    # page_icon=":tractor:" becomes an inline SVG favicon (no download: it works offline)
    expect(icon).to_have_attribute("href", re.compile(r"^data:image/svg\+xml,.*" + "\N{TRACTOR}"))
    expect(page.locator("[data-testid='stMainMenu']")).to_be_visible()
    expect(page.locator("[data-testid='stAppDeployButton']")).to_have_count(0)
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
    page.locator("[data-testid='stMainMenuButton']").click()
    menu = page.locator("[data-testid='stMainMenuList']")
    expect(menu).to_contain_text("Print")
    for developer_item in ("Rerun", "Clear cache", "Settings", "Developer"):
        expect(menu.get_by_text(developer_item)).to_have_count(0)
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)


def test_launcher_and_config_hide_the_developer_toolbar(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`planner app` passes every option of the checkout's .streamlit/config.toml, same value."""
    raw = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    config = {
        f"{section}.{key}": str(value).lower() if isinstance(value, bool) else str(value)
        for section, table in raw.items()
        for key, value in table.items()
    }
    calls: list[list[str]] = []

    def fake_serve(cmd: list[str], env: dict[str, str]) -> int:
        calls.append(cmd)
        return 0

    monkeypatch.chdir(tmp_path)  # no secrets.toml: the default, single-user launch
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(cli, "_serve", fake_serve)
    assert cli.main(["app"]) == 0
    (cmd,) = calls
    flags = {cmd[i][2:]: cmd[i + 1] for i in range(len(cmd) - 1) if cmd[i].startswith("--")}
    assert {k: flags.get(k) for k in config} == config
    assert config["client.toolbarMode"] == "viewer"
    assert config["server.address"] == "127.0.0.1"


def test_launcher_passes_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake_serve(cmd: list[str], env: dict[str, str]) -> int:
        calls.append(cmd)
        return 0

    monkeypatch.setattr(cli, "_serve", fake_serve)
    assert cli.main(["app", "--port", "8765"]) == 0
    (cmd,) = calls
    for option, value in cli.STREAMLIT_OPTIONS:
        i = cmd.index(f"--{option}")
        assert cmd[i + 1] == value


@pytest.mark.parametrize(
    ("model", "toml", "kind", "unit_en"),
    [
        ("p_median", "", "p_median_km", "demand-weighted road km"),
        ("p_median", '[travel]\nunit = "min"', "p_median_min", "demand-weighted minutes"),
        ("cflp", "", "cflp", "KZT/yr"),
        ("mclp", "", "mclp", "covered service h/yr"),
        ("set_cover", "", "set_cover_sites", "open sites"),
        ("set_cover", "[sites]\nfixed_cost_kzt = 5e6", "set_cover_kzt", "fixed cost, KZT/yr"),
        ("p_center", "", "p_center_km", "longest road km"),
        ("two_echelon", "", "two_echelon_cost", "bn KZT over the horizon"),
    ],
)
def test_objective_tile_names_its_unit(model: str, toml: str, kind: str, unit_en: str) -> None:
    """Every model kind's objective tile says what it is, with its unit, in each language."""
    from planner.ui import views  # noqa: PLC0415
    from planner.ui.i18n import t  # noqa: PLC0415

    summary = {"model": model, "objective_mode": "cost"}
    assert views.objective_kind(summary, toml) == kind
    assert t(f"obj_{kind}", "en") == unit_en
    for lg in ("en", "ru", "kk"):
        label = t("kpi_objective_unit", lg, unit=t(f"obj_{kind}", lg))
        assert label.startswith(t("kpi_objective", lg).split()[0])
        assert t(f"obj_{kind}", lg) in label
        assert t(f"objh_{kind}", lg)  # the tooltip: what the number measures
    service = {"model": "two_echelon", "objective_mode": "service_level"}
    assert views.objective_kind(service, "") == "two_echelon_service_level"


def _check_sizes_and_languages(
    page: Page, where: str, languages: tuple[tuple[str, str | None], ...]
) -> None:
    """Check both viewport sizes in each language (the page is in English at the start)."""
    for lang, option in languages:
        if option is not None:
            _switch_language(page, option)
        for width, height in VIEWPORTS:
            page.set_viewport_size({"width": width, "height": height})
            _assert_nothing_cut_short(page, f"{where}_{lang}_{width}x{height}")
            # for a look: the results from their first KPI tile down
            page.locator("[data-testid='stMetric']").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"layout_{where}_{lang}_{width}x{height}.png"))


@browser_only[0]
@browser_only[1]
def test_scenario_results_read_cleanly(app_url: str, browser: Browser) -> None:
    expect = _expect()
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(f"{app_url}/scenario", wait_until="domcontentloaded")
    expect(page.get_by_text("Build and run a scenario")).to_be_visible(timeout=60_000)
    _wait_idle(page)
    _assert_viewer_toolbar(page)
    page.get_by_role("button", name="Run", exact=True).click()
    # the results: nine KPI tiles, the objective tile (with its unit) and the dossier table
    expect(page.locator(".st-key-sc_dossier_site_table [data-testid='stTable']")).to_be_visible(
        timeout=180_000
    )
    expect(page.locator("[data-testid='stMetric']")).to_have_count(10, timeout=60_000)
    expect(page.locator("[data-testid='stMetric']", has_text="Objective")).to_contain_text(
        "Objective, demand-weighted road km"
    )
    dossier = page.locator(".st-key-sc_dossier_site_table")
    expect(dossier).to_contain_text("machines")
    expect(dossier).to_contain_text("service h/yr")
    expect(dossier).to_contain_text("km")
    _wait_idle(page)
    _check_sizes_and_languages(page, "scenario", LANGUAGES)


@browser_only[0]
@browser_only[1]
def test_network_results_read_cleanly(app_url: str, browser: Browser) -> None:
    expect = _expect()
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(f"{app_url}/network", wait_until="domcontentloaded")
    run = page.get_by_role("button", name="Run", exact=True)
    expect(run).to_be_visible(timeout=60_000)
    _wait_idle(page)
    run.click()
    expect(page.get_by_text("Planning year", exact=True)).to_be_visible(timeout=300_000)
    tiles = page.locator("[data-testid='stMetric']")
    expect(tiles).to_have_count(11, timeout=60_000)
    expect(tiles.filter(has_text="Objective")).to_contain_text("Objective, bn KZT over the horizon")
    _wait_idle(page)
    _check_sizes_and_languages(page, "network", LANGUAGES)
