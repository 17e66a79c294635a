"""AppTest: a smoke test per page, language switch, and the end-to-end planner flow."""

from __future__ import annotations

import dataclasses
import io
import json
import threading
import time
import tomllib
import typing
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString
from streamlit.testing.v1 import AppTest

from planner.models import CancelToken
from planner.scenarios import ModelKindName, load_scenario
from planner.store import Workspace, default_path
from planner.ui import data, explore, jobs, state
from planner.ui.i18n import t
from planner.ui.scenario import KINDS, P_KINDS
from tests.app.conftest import APP, PAGES, metric, open_page, run, wait_for_solve

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_without_exception(page: str) -> None:
    at = open_page(page)
    assert at.title, page
    assert not at.error, [e.value for e in at.error]


def test_explore_page_renders_map_table_and_kpis() -> None:
    at = run(AppTest.from_file(APP, default_timeout=180))
    assert "Explore" in at.title[0].value
    assert len(at.get("deck_gl_json_chart")) == 1
    # the first page sent the country context first; the full map replaced it
    assert '"farm-density"' in at.get("deck_gl_json_chart")[0].proto.json
    assert at.session_state[state.EXPLORE_MAP_SENT] is True
    # the oblast table: a static markdown table with numbers in the interface language
    table = next(m.value for m in at.markdown if m.value.startswith("| ISO"))
    assert "| KZ\\-39 | Kostanay |" in table  # md() escapes the hyphen
    assert "5,100.0" in table  # Kostanay's sown area, kha, English number format
    assert len(table.splitlines()) == 2 + 20  # header, alignment, 20 oblasts and cities
    assert metric(at, "Farms shown") == "1,500"
    assert any("synthetic" in i.value for i in at.info)


def test_explore_aggregates_the_shown_farms_by_district() -> None:
    at = run(AppTest.from_file(APP, default_timeout=180))
    at.multiselect(key="explore_oblasts").set_value(["KZ-39"])
    at.session_state["explore_oblast_tab"] = "Districts"
    run(at)
    table = next(m.value for m in at.markdown if m.value.startswith("| District"))
    rows = table.splitlines()[2:]
    assert rows
    # only Kostanay's districts, and their farms add up to the farms shown
    assert all("| KZ\\-39 |" in r for r in rows)
    farms = sum(int(r.split("|")[3].strip().replace(",", "")) for r in rows)
    assert farms == int(metric(at, "Farms shown").replace(",", ""))
    assert any("| Karasu |" in r for r in rows)  # a Kostanay district, by its 2024 name


def test_explore_filters_change_the_figures() -> None:
    at = run(AppTest.from_file(APP, default_timeout=180))
    before = int(metric(at, "Farms shown").replace(",", ""))
    at.multiselect(key="explore_oblasts").set_value(["KZ-39"])
    at.radio(key="explore_machine").set_value("combines")
    run(at)
    after = int(metric(at, "Farms shown").replace(",", ""))
    assert after < before


def _layer_ids(at: AppTest) -> set[str]:
    """Ids of the layers of the page's (single) map, from its deck.gl JSON."""
    (chart,) = at.get("deck_gl_json_chart")
    return {layer["id"] for layer in json.loads(chart.proto.json)["layers"]}


@pytest.mark.parametrize(
    ("toggle", "layer_id"),
    [
        ("explore_settlements", "settlements"),
        ("explore_facilities", "facilities"),
        ("explore_rail", "rail"),
        ("explore_candidates", "candidates"),
    ],
)
def test_layer_toggles(toggle: str, layer_id: str) -> None:
    at = run(AppTest.from_file(APP, default_timeout=180))
    assert {"kz-outline", "farm-density"} <= _layer_ids(at)
    for _ in range(2):  # on -> off -> on, or off -> on -> off
        before = _layer_ids(at)
        box = at.checkbox(key=toggle)
        was_on = box.value
        assert (layer_id in before) is was_on
        box.uncheck() if was_on else box.check()
        run(at)
        after = _layer_ids(at)
        assert before ^ after == {layer_id}, (before, after)
        assert (layer_id in after) is not was_on


def test_language_switch_changes_labels_numbers_and_place_names() -> None:
    at = run(AppTest.from_file(APP, default_timeout=180))
    at.selectbox(key="ui_lang").set_value("ru")
    run(at)
    assert at.title[0].value == "Обзор данных по Казахстану"
    assert metric(at, "Показано хозяйств") == "1\u202f500"
    table = next(m.value for m in at.markdown if m.value.startswith("| ISO"))
    assert "| Костанайская область | 5\u202f100,0 |" in table
    assert "| Область |" in table
    assert "оценка" in table  # fleet figures: estimated
    at.selectbox(key="ui_lang").set_value("kk")
    run(at)
    table = next(m.value for m in at.markdown if m.value.startswith("| ISO"))
    assert "| Қостанай облысы |" in table
    assert "| Облыс |" in table
    open_page("scenario", at)
    assert at.title[0].value == "Сценарийді құру және есептеу"


def _solve(at: AppTest, name: str, p: int) -> AppTest:
    at.text_input(key="sc_name").set_value(name)
    at.number_input(key="sc_p").set_value(p)
    at.selectbox(key="sc_backend").set_value("heuristic")
    run(at)
    at.button(key="sc_run").click()
    run(at)
    return wait_for_solve(at)


@pytest.mark.solver
def test_end_to_end_edit_run_save_compare_export(tmp_path: Path) -> None:
    at = open_page("scenario")
    # 1. edit widgets and run
    _solve(at, "four centres", 4)
    assert metric(at, "Open sites") == "4"
    share_3h = float(metric(at, "Demand within 3 h").split("\u00a0")[0])
    assert 0 < share_3h <= 100
    assert len(at.get("deck_gl_json_chart")) >= 1
    assert "ID" in at.dataframe[0].value.columns
    # 2. save
    at.button(key="sc_save").click()
    run(at)
    assert any("four centres" in s.value for s in at.success)
    # 3. a second scenario
    _solve(at, "eight centres", 8)
    assert metric(at, "Open sites") == "8"
    at.button(key="sc_save").click()
    run(at)
    # saving again under a taken name is refused, nothing overwritten
    at.button(key="sc_save").click()
    run(at)
    assert any("already saved" in e.value for e in at.error)
    _compare_and_export(at, tmp_path)


def _compare_and_export(at: AppTest, tmp_path: Path) -> None:
    # 4. compare
    open_page("compare", at)
    assert set(at.multiselect(key="cmp_selected").value) == {"four centres", "eight centres"}
    kpis = at.dataframe[0].value
    delta_col = next(c for c in kpis.columns if c.startswith("Δ"))
    row = kpis.loc[kpis["KPI"] == "Open sites"]
    assert row[delta_col].item() in ("+4", "-4")
    assert len(at.get("deck_gl_json_chart")) == 2
    diff = at.dataframe[1].value
    assert len(diff) >= 4  # at least the 4 extra centres differ
    # trade-off curve: sweep p over the saved scenario with its cached inputs
    at.slider(key="cmp_sweep_range").set_value((2, 4))
    at.button(key="cmp_sweep_run").click()
    run(at)
    points = at.session_state["cmp_sweep_result"]["points"]
    assert [p.p for p in points] == [2, 3, 4]
    assert all(p.status in ("optimal", "feasible") for p in points), [p.message for p in points]
    assert [p.kpis["n_open_sites"] for p in points] == [2, 3, 4]
    # p-median: more centres never lengthen the demand-weighted travel
    objectives = [p.objective for p in points]
    assert objectives[0] > objectives[1] > objectives[2], objectives
    mean_km = [p.kpis["mean_travel_km"] for p in points]
    assert mean_km[0] > mean_km[1] > mean_km[2], mean_km
    assert len(at.get("plotly_chart")) == 1
    # 5. export the saved scenario
    open_page("export", at)
    at.selectbox(key="exp_scenario").set_value("four centres")
    run(at)
    at.button(key="exp_prepare").click()
    run(at)
    files = at.session_state["exp_files"]["files"]
    summary = json.loads(files["summary.json"])
    assert summary["n_open_sites"] == 4
    assert summary["scenario"] == "four centres"
    sites = pd.read_csv(io.BytesIO(files["sites.csv"]))
    assert (sites["status"] != "closed").sum() == 4
    assign = pd.read_csv(io.BytesIO(files["assignments.csv"]), dtype={"site_id": str})
    assert len(assign) == 1500
    xlsx = pd.read_excel(io.BytesIO(files["results.xlsx"]), sheet_name=None)
    assert list(xlsx) == ["summary", "sites", "assignments", "oblasts", "districts"]
    gj = json.loads(files["sites.geojson"])
    assert gj["type"] == "FeatureCollection"
    assert len(gj["features"]) == len(sites)
    gpkg_path = tmp_path / "r.gpkg"
    gpkg_path.write_bytes(files["recommendations.gpkg"])
    gpkg = gpd.read_file(gpkg_path, layer="sites")
    assert len(gpkg) == len(sites)
    assert files["brief.html"].startswith(b"<!DOCTYPE html>")
    assert tomllib.loads(files["scenario.toml"].decode())["model"]["p"] == 4
    with zipfile.ZipFile(io.BytesIO(files["all.zip"])) as zf:
        assert "brief.html" in zf.namelist()
    assert len(list(at.get("download_button"))) >= 9


@pytest.mark.solver
def test_cancel_keeps_the_app_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANNER_APP_QUICK_WAIT_S", "0")  # the polling panel with Cancel
    # The first solve starts only once cancelled, so it is still running when the test
    # cancels it however fast this machine solves (no race with the check below).
    real_run = jobs.run_scenario

    def run_once_cancelled(*args: object, cancel: CancelToken, **kwargs: object) -> object:
        deadline = time.monotonic() + 120
        while not cancel.cancelled and time.monotonic() < deadline:
            time.sleep(0.05)
        return real_run(*args, cancel=cancel, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs, "run_scenario", run_once_cancelled)
    at = open_page("scenario")
    at.number_input(key="sc_time_limit").set_value(30.0)
    at.button(key="sc_run").click()
    run(at)
    assert "sc_job" in at.session_state
    at.session_state["sc_job"].cancel()
    wait_for_solve(at)
    assert not at.exception
    assert "sc_job" not in at.session_state
    monkeypatch.setattr(jobs, "run_scenario", real_run)
    at.number_input(key="sc_time_limit").set_value(3.0)
    at.selectbox(key="sc_backend").set_value("heuristic")
    at.button(key="sc_run").click()
    run(at)
    wait_for_solve(at)
    assert metric(at, "Open sites") == "10"


@pytest.mark.solver
def test_a_quick_solve_is_shown_by_the_click_rerun_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    # a quick wait longer than any machine needs for this solve: no race with the machine's speed
    monkeypatch.setenv("PLANNER_APP_QUICK_WAIT_S", "120")
    at = open_page("scenario")
    at.button(key="sc_run").click()
    run(at)
    # solved within QUICK_WAIT_S: no job left behind, results already on the page
    assert "sc_job" not in at.session_state
    assert metric(at, "Open sites") == "10"
    head = next(c.value for c in at.caption if "run 1," in c.value)
    assert "**optimal**" in head
    assert not at.get("progress")
    assert not at.button(key="sc_run").disabled
    at.button(key="sc_run").click()
    run(at)
    assert any("run 2," in c.value for c in at.caption)


@pytest.mark.solver
def test_previous_results_stay_while_a_new_solve_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANNER_APP_QUICK_WAIT_S", "120")  # the first result: the click's rerun
    at = open_page("scenario")
    at.button(key="sc_run").click()
    run(at)
    assert metric(at, "Open sites") == "10"
    # the second solve waits for the test's go, so the page is read while it surely runs
    go = threading.Event()
    real_run = jobs.run_scenario

    def run_on_go(*args: object, **kwargs: object) -> object:
        go.wait(120)
        return real_run(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs, "run_scenario", run_on_go)
    monkeypatch.setenv("PLANNER_APP_QUICK_WAIT_S", "0")
    at.number_input(key="sc_p").set_value(12)
    at.button(key="sc_run").click()
    run(at)
    assert "sc_job" in at.session_state  # still running: the old result is shown, marked stale
    assert metric(at, "Open sites") == "10"
    assert any("previous result" in c.value for c in at.caption)
    assert len(at.get("deck_gl_json_chart")) == 1
    assert at.button(key="sc_run").disabled
    go.set()
    wait_for_solve(at)
    assert metric(at, "Open sites") == "12"
    assert not any("previous result" in c.value for c in at.caption)


def test_invalid_scenario_shows_an_error_not_a_traceback() -> None:
    at = open_page("scenario")
    at.multiselect(key="sc_required").set_value(["mtz_kz_kostanay"])
    at.multiselect(key="sc_forbidden").set_value(["mtz_kz_kostanay"])
    run(at)
    at.button(key="sc_run").click()
    run(at)
    assert any("both required and forbidden" in e.value.replace("\\", "") for e in at.error)


@pytest.mark.solver
@pytest.mark.parametrize("kind", typing.get_args(ModelKindName))
def test_every_model_kind_offered_produces_a_result(kind: str) -> None:
    assert kind in KINDS  # every model kind is offered on the Scenario page (issue 18)
    at = open_page("scenario")
    at.selectbox(key="sc_kind").set_value(kind)
    run(at)
    at.button(key="sc_run").click()
    run(at)
    wait_for_solve(at)
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["sc_result"]["scenario"].model.kind == kind
    n_open = int(metric(at, "Open sites"))
    if kind in P_KINDS:
        assert n_open == at.number_input(key="sc_p").value == 10
    elif kind == "two_echelon":
        # plants and service centres, both counted among the open sites; the running plants
        # are required (a 3 s solve may not have opened a service centre yet)
        summary = at.session_state["sc_result"]["tables"].summary
        assert summary["model"] == "two_echelon"
        assert summary["n_plants"] >= 1
        assert n_open == summary["n_plants"] + summary["n_centres"] >= 1
    else:
        assert n_open >= 1


def test_cflp_takes_a_solvable_fixed_cost_with_its_unit() -> None:
    at = open_page("scenario")
    assert at.number_input(key="sc_fixed_cost").value == 0.0
    at.selectbox(key="sc_kind").set_value("cflp")
    run(at)
    expected = load_scenario("capacitated").sites.fixed_cost_kzt
    assert expected > 0
    assert at.number_input(key="sc_fixed_cost").value == expected
    assert any(f"{expected:,.0f} KZT/year" in c.value for c in at.caption)
    # a cost the user typed is kept when switching away and back
    at.number_input(key="sc_fixed_cost").set_value(1.0e6)
    at.selectbox(key="sc_kind").set_value("p_median")
    run(at)
    at.selectbox(key="sc_kind").set_value("cflp")
    run(at)
    assert at.number_input(key="sc_fixed_cost").value == 1.0e6


def test_two_echelon_is_offered_and_loads_into_the_editor() -> None:
    """Two-echelon runs on the Scenario page: offered, loadable, no pointer elsewhere."""
    at = open_page("scenario")
    offered = at.selectbox(key="sc_kind").options
    assert t("k_two_echelon", "en") in offered
    assert len(offered) == len(typing.get_args(ModelKindName))
    assert not any("Network page" in c.value for c in at.caption)
    at.selectbox(key="sc_base").set_value("builtin:two_echelon")
    at.button(key="sc_load").click()
    run(at)
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="sc_kind").value == "two_echelon"


def test_workspace_rename_duplicate_delete_restore() -> None:
    Workspace(default_path()).save_scenario(load_scenario("default"), name="ws one")
    at = open_page("scenario")
    at.text_input(key="ws_new_name").set_value("ws two")
    at.button(key="ws_rename").click()
    run(at)
    ws = Workspace(default_path())
    assert ws.names() == ["ws two"]
    at.button(key="ws_duplicate").click()
    run(at)
    assert len(ws.names()) == 2
    at.button(key="ws_delete").click()
    run(at)
    assert len(ws.names()) == 2, "delete needs the confirmation box"
    at.checkbox(key="ws_confirm_delete").check()
    at.button(key="ws_delete").click()
    run(at)
    assert len(ws.names()) == 1
    at.button(key="ws_restore").click()
    run(at)
    assert len(ws.names()) == 2
    # Saving the editor's scenario without results
    at.text_input(key="sc_name").set_value("definition only")
    at.button(key="sc_save_def").click()
    run(at)
    assert "definition only" in ws.names()
    assert not ws.get("definition only").has_results
    # Loading a saved scenario fills the editor.
    at.selectbox(key="sc_base").set_value(f"saved:{ws.names()[0]}")
    at.button(key="sc_load").click()
    run(at)
    assert at.text_input(key="sc_name").value == ws.names()[0]


def test_data_page_templates_and_validation_report() -> None:
    at = open_page("data")
    assert len(at.get("download_button")) == 2
    good = data.FARM_TEMPLATE.to_csv(index=False).encode()
    rep = data.check_file("farms", "farms.csv", good)
    assert rep["ok"], rep["problems"]
    bad = b"farm_id,lat,lon,tractors\nA,95,63,x\nA,53,63,-1\n"
    rep = data.check_file("farms", "bad.csv", bad)
    assert not rep["ok"]
    assert rep["problems"]
    # the report names the user's file, not the temporary copy it was checked from
    assert rep["report"].startswith("bad.csv")
    assert "upload.csv" not in rep["report"]
    rep = data.check_file("sites", "sites.csv", data.SITE_TEMPLATE.to_csv(index=False).encode())
    assert rep["ok"], rep["problems"]


@pytest.mark.solver
def test_demand_assumptions_reach_the_solve() -> None:
    at = open_page("scenario")
    at.selectbox(key="sc_backend").set_value("heuristic")
    at.button(key="sc_run").click()
    run(at)
    wait_for_solve(at)
    before = at.session_state["sc_result"]["tables"].summary["total_demand"]
    at.number_input(key="sc_dp_tractor_operating_hours").set_value(1200.0)
    at.button(key="sc_run").click()
    run(at)
    wait_for_solve(at)
    result = at.session_state["sc_result"]
    assert result["scenario"].demand.parameters == {"tractor_operating_hours": 1200.0}
    assert result["tables"].summary["total_demand"] > before
    assert "tractor_operating_hours = 1200.0" in result["tables"].scenario_toml


def test_combine_share_slider_reaches_the_solve() -> None:
    at = open_page("scenario")
    assert at.slider(key="sc_belarus_share_combines").value == pytest.approx(0.3)  # default.toml
    at.selectbox(key="sc_backend").set_value("heuristic")
    at.slider(key="sc_belarus_share_combines").set_value(0.0)
    at.button(key="sc_run").click()
    run(at)
    wait_for_solve(at)
    result = at.session_state["sc_result"]
    assert result["scenario"].demand.belarus_share_combines == 0.0
    assert result["scenario"].demand.belarus_share == pytest.approx(0.5)
    assert "belarus_share_combines = 0.0" in result["tables"].scenario_toml


def test_a_crashing_solve_does_not_take_the_app_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        msg = "solver exploded"
        raise RuntimeError(msg)

    monkeypatch.setattr("planner.ui.jobs.run_scenario", boom)
    at = open_page("scenario")
    at.button(key="sc_run").click()
    run(at)
    wait_for_solve(at)
    assert any("solver exploded" in e.value for e in at.error)
    assert any("Something went wrong" in e.value for e in at.error)
    assert not at.exception
    # the app still works afterwards
    open_page("explore", at)
    assert at.metric


_NE_ROADS = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "roads" / "kz_roads_ne10m.gpkg"
)


def _editor_with_roads(road_file: Path) -> AppTest:
    """The Scenario page with a saved scenario naming ``road_file`` loaded into the editor."""
    base = load_scenario("default")
    sc = base.replace(
        name="roads",
        data=dataclasses.replace(base.data, n_farms=1500),
        travel=dataclasses.replace(base.travel, road_network=str(road_file)),
        solver=dataclasses.replace(base.solver, time_limit_s=3.0),
    )
    Workspace(default_path()).save_scenario(sc)
    at = open_page("scenario")
    assert at.selectbox(key="sc_road_network").value == ""  # default: straight x circuity
    at.selectbox(key="sc_base").set_value("saved:roads")
    at.button(key="sc_load").click()
    run(at)
    assert at.selectbox(key="sc_road_network").value == str(road_file)
    at.button(key="sc_run").click()
    run(at)
    return wait_for_solve(at)


@pytest.mark.solver
@pytest.mark.skipif(not _NE_ROADS.is_file(), reason=f"{_NE_ROADS} is absent")
def test_scenario_road_network_is_shown_and_used() -> None:
    at = _editor_with_roads(_NE_ROADS.resolve())
    assert not at.error, [e.value for e in at.error]
    res = at.session_state["sc_result"]
    assert res["scenario"].travel.road_network == str(_NE_ROADS.resolve())
    notes = res["tables"].summary["data_notes"]
    assert any("road network kz_roads_ne10m.gpkg" in n for n in notes)


def test_scenario_road_network_far_from_the_farms_is_an_error(tmp_path: Path) -> None:
    far = tmp_path / "far_roads.gpkg"
    line = LineString([(10.0, 50.0), (11.0, 50.0)])
    gpd.GeoDataFrame(geometry=[line], crs="EPSG:4326").to_file(far)
    at = _editor_with_roads(far)
    assert any("from any road of far_roads.gpkg" in e.value.replace("\\", "") for e in at.error), [
        e.value for e in at.error
    ]


def test_explore_context_deck_is_the_country_without_farms() -> None:
    """The first page's early map: outline, oblast centres and labels, no farm layer."""
    spec = json.loads(explore.context_deck_json("ru"))
    ids = [layer["id"] for layer in spec["layers"]]
    assert "farm-density" not in ids
    assert len(ids) >= 3  # outline, oblast centres, oblast labels
    assert "Костанайская" in json.dumps(spec, ensure_ascii=False)
