"""AppTest: the Network page (assembly plants + service centres, issue 6)."""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from planner.errors import InfeasibleError
from planner.models.two_echelon import check_two_echelon
from tests.app.conftest import APP, metric, run

pytestmark = pytest.mark.slow

PAGE = "page_scripts/network.py"


def open_network(at: AppTest | None = None) -> AppTest:
    if at is None:
        at = run(AppTest.from_file(APP, default_timeout=180))
    at.switch_page(PAGE)
    return run(at)


def wait_for_network(at: AppTest, timeout_s: float = 240.0) -> AppTest:
    deadline = time.monotonic() + timeout_s
    while "net_job" in at.session_state and time.monotonic() < deadline:
        time.sleep(0.5)
        run(at)
    assert "net_job" not in at.session_state, "the network solve did not finish in time"
    return run(at)


def test_network_page_renders_inputs_with_builtin_defaults() -> None:
    at = open_network()
    assert at.title[0].value == "Network: assembly plants and service centres"
    assert not at.error, [e.value for e in at.error]
    # defaults of the built-in two_echelon scenario
    assert at.number_input(key="net_years").value == 3
    assert at.slider(key="net_fleet_share_pct").value == 30
    assert at.slider(key="net_purchase_share_pct").value == 50
    assert at.number_input(key="net_direct_radius_km").value == 150.0
    assert at.number_input(key="net_van_radius_km").value == 300.0
    assert at.number_input(key="net_centre_capacity_h").value == 5000.0
    assert at.number_input(key="net_plant_cost_mkzt").value == 2000.0
    assert at.checkbox(key="net_keep_existing").value is True
    assert at.radio(key="net_objective").value == "cost"
    assert 2000 in at.selectbox(key="net_n_farms").options or "2,000" in (
        at.selectbox(key="net_n_farms").options
    )
    # Russian labels
    at.selectbox(key="ui_lang").set_value("ru")
    run(at)
    assert at.title[0].value == "Сеть: сборочные заводы и сервисные центры"
    assert at.number_input(key="net_years").label == "Лет вперёд"


@pytest.mark.parametrize(
    ("exc", "shown"),
    [
        (RuntimeError("solver exploded"), "Something went wrong"),
        (InfeasibleError("no plan satisfies the constraints"), "The solve failed"),
    ],
)
def test_a_failing_solve_shows_an_error_and_the_app_stays_usable(
    monkeypatch: pytest.MonkeyPatch, exc: Exception, shown: str
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr("planner.agri.run_two_echelon", boom)
    at = open_network()
    at.selectbox(key="net_n_farms").set_value(2000)
    run(at)
    at.button(key="net_run").click()
    run(at)
    wait_for_network(at)
    assert any(shown in e.value.replace("\\", "") for e in at.error), [e.value for e in at.error]
    assert any(str(exc) in e.value.replace("\\", "") for e in at.error)
    assert not at.exception
    assert at.button(key="net_run").disabled is False
    at.switch_page("page_scripts/explore.py")
    run(at)
    assert at.metric


@pytest.mark.solver
def test_service_level_objective_cancelled_shows_a_checked_plan_within_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from planner import agri  # noqa: PLC0415

    solved: list[agri.TwoEchelonResult] = []

    def recording(*args: Any, **kwargs: Any) -> agri.TwoEchelonResult:  # noqa: ANN401
        res = real(*args, **kwargs)
        solved.append(res)
        return res

    real = agri.run_two_echelon
    monkeypatch.setattr("planner.agri.run_two_echelon", recording)
    at = open_network()
    at.selectbox(key="net_n_farms").set_value(2000)
    at.radio(key="net_objective").set_value("service_level")
    run(at)
    at.number_input(key="net_budget_mkzt").set_value(5000.0)
    at.number_input(key="net_time_limit").set_value(60.0)
    run(at)
    at.button(key="net_run").click()
    run(at)
    assert "net_job" in at.session_state
    job = at.session_state["net_job"]
    assert job.scenario.model.objective == "service_level"
    assert job.scenario.model.budget_kzt_per_year == 5.0e9
    # cancel once the solver has a plan (the cancelled solve then returns it)
    deadline = time.monotonic() + 120.0
    while not job.done and time.monotonic() < deadline:
        latest = job.latest()
        if latest is not None and latest.incumbent is not None:
            break
        time.sleep(0.2)
    assert not job.done, "the 60 s service-level solve ended before it could be cancelled"
    job.cancel()
    wait_for_network(at)
    assert not at.exception
    # the one right outcome: a warning that the run was cancelled, and its best plan shown
    assert [w.value.replace("\\", "") for w in at.warning] == [
        "Cancelled: showing the best solution found so far."
    ]
    assert not at.error, [e.value for e in at.error]
    result = at.session_state["net_result"]
    assert result["cancelled"] is True
    assert result["has_solution"]
    (res,) = solved
    inst, sol = res.inputs.instance, res.solution
    assert inst.objective == "service_level"
    assert inst.budget_kzt_per_year == 5.0e9
    assert check_two_echelon(inst, sol) == ()  # includes every period's cost <= budget
    # the per-year costs the page shows are the checked plan's; the budget binds every cost
    # but the notional unserved-hours penalty (which "cost_kzt" includes)
    per_year = result["per_year"]
    np.testing.assert_allclose(
        per_year["cost_kzt"].to_numpy(), sol.cost_by_period.sum(axis=0), rtol=1e-9
    )
    spent = per_year["cost_kzt"].to_numpy() - per_year["unserved_penalty_kzt"].to_numpy()
    assert (spent > 0).all()
    assert (spent <= 5.0e9 * (1 + 1e-6) + 1).all(), spent
    # the served share the page shows, against the plan's last year recomputed from the zones
    shown_pct = float(metric(at, "Service hours served, %").split("\u00a0")[0])
    last = inst.n_periods - 1
    hours = inst.zone_hours_year[:, last]
    zone_served = 1.0 - float((hours * sol.unserved_share[:, last]).sum() / hours.sum())
    assert 0.0 < zone_served <= 1.0
    assert shown_pct == pytest.approx(100.0 * zone_served, abs=0.5), (shown_pct, zone_served)


def _check_zip(data: bytes) -> None:
    """The downloaded ZIP holds the output contract of ``planner solve two_echelon``."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        assert {"summary.json", "sites.csv", "weekly_load.csv", "flows.csv"} <= names
        wl = pd.read_csv(zf.open("weekly_load.csv"))
        fl = pd.read_csv(zf.open("flows.csv"))
        sites = pd.read_csv(zf.open("sites.csv"))
    assert list(wl.columns[:4]) == ["site_id", "week", "load_hours", "capacity_hours"]
    assert list(fl.columns[:4]) == ["from_id", "to_id", "kind", "quantity"]
    assert {"inbound_kits", "outbound_machines", "service"} <= set(fl["kind"])
    assert set(sites["role"]) == {"assembly_plant", "service_centre"}
    assert wl["week"].between(1, 52).all()


def _check_languages(at: AppTest) -> None:
    """The results follow a language switch (RU, KK)."""
    at.selectbox(key="ui_lang").set_value("ru")
    run(at)
    assert int(metric(at, "Заводы")) >= 2
    assert metric(at, "Обслужено бригадами, %")
    at.selectbox(key="ui_lang").set_value("kk")
    run(at)
    assert int(metric(at, "Зауыттар")) >= 2
    assert not at.error, [e.value for e in at.error]


@pytest.mark.solver
def test_small_network_run_shows_kpis_map_weekly_load_and_zip() -> None:
    at = open_network()
    at.selectbox(key="net_n_farms").set_value(2000)
    at.number_input(key="net_time_limit").set_value(40.0)
    run(at)
    at.button(key="net_run").click()
    run(at)
    assert "net_job" in at.session_state
    wait_for_network(at)
    assert not at.error, [e.value for e in at.error]
    result = at.session_state["net_result"]
    assert result["has_solution"]
    # KPIs
    assert int(metric(at, "Plants")) >= 2  # the Kostanay plants are kept open
    assert int(metric(at, "Service centres")) >= 1
    metric(at, "Combine-capable centres")
    metric(at, "Vans")
    served = float(metric(at, "Service hours served, %").split("\u00a0")[0])
    assert 0 < served <= 100
    van = float(metric(at, "Served by van, %").split("\u00a0")[0])
    assert 0 <= van <= served
    metric(at, "Demand within 3 h")
    metric(at, "Mean travel, km")
    # map, objective breakdown, weekly load and heat map
    assert len(at.get("deck_gl_json_chart")) == 1
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    ids = {layer["id"] for layer in deck["layers"]}
    assert {"kz-outline", "net-centres", "net-plants", "net-outbound", "net-service"} <= ids
    charts = at.get("plotly_chart")
    assert len(charts) >= 3
    weekly = next(c for c in charts if "Week" in c.proto.spec and "Direct load" in c.proto.spec)
    assert weekly is not None
    # year selector: the first year, sites opened in year 1 stay open later
    years = result["years"]
    assert len(years) == 3
    at.selectbox(key="net_year").set_value(years[0])
    run(at)
    op = result["openings"]
    first = set(op.loc[(op["year"] == years[0]) & op["open"], "site_id"])
    last = set(op.loc[(op["year"] == years[-1]) & op["open"], "site_id"])
    assert first <= last
    # per-year table and downloads
    assert any("Year" in df.value.columns for df in at.dataframe)
    assert len(list(at.get("download_button"))) == 1
    _check_zip(result["zip"])
    # a planted name is escaped in the map tooltips
    sites = result["sites"]
    row = sites.index[(sites["role"] == "service_centre") & (sites["status"] != "closed")][0]
    sites.loc[row, "name"] = "<img src=x onerror=alert(1)>"
    at.selectbox(key="net_year").set_value(years[-1])
    run(at)
    deck_json = at.get("deck_gl_json_chart")[0].proto.json
    assert "&lt;img src=x onerror=alert(1)&gt;" in deck_json
    assert "<img" not in deck_json
    # the page survives a trip to another page and back with its inputs and result
    at.switch_page("page_scripts/explore.py")
    run(at)
    open_network(at)
    assert at.selectbox(key="net_n_farms").value == 2000
    assert at.number_input(key="net_time_limit").value == 40.0
    assert len(at.get("deck_gl_json_chart")) == 1
    _check_languages(at)
