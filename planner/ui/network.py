"""Network page: assembly plants and service centres planned together (two echelons, issue 6).

The planner sets the growth, service, van, centre and plant assumptions, runs
:func:`planner.run.run_scenario` in a background thread (progress, Cancel) and reads the
plan: KPIs, a map of plants, centres, van reach and the flows entry -> plant -> centre ->
farms for any planning year, the week-by-week load of a centre, peak utilisation across
centres, openings per year and the output files of ``planner solve`` as one ZIP.
"""

from __future__ import annotations

import dataclasses
import html
import io
import math
import tempfile
import tomllib
import traceback
import zipfile
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk
import streamlit as st

from planner import agri, export, scenarios
from planner.errors import PlannerError
from planner.i18n import format_number
from planner.scenarios import Scenario
from planner.ui import maps, solving, state
from planner.ui.i18n import STRINGS, labeller, lang, md, num, pct, status_label, t
from planner.ui.jobs import SolveJob

BUILTIN = "two_echelon"
FARM_CHOICES: tuple[int, ...] = (2_000, 5_000, 10_000, 20_000)
M = 1e6  # costs are entered in million KZT

# Session keys (prefix net_): widgets ...
NET_N_FARMS = "net_n_farms"
NET_YEARS = "net_years"
NET_FLEET_SHARE = "net_fleet_share_pct"
NET_PURCHASE_SHARE = "net_purchase_share_pct"
NET_RENEW_START = "net_renewal_start_pct"
NET_RENEW_END = "net_renewal_end_pct"
NET_RADIUS = "net_direct_radius_km"
NET_VANS = "net_vans_enabled"
NET_VAN_RADIUS = "net_van_radius_km"
NET_MAX_VANS = "net_max_vans"
NET_VAN_COST = "net_van_cost_mkzt"
NET_CENTRE_CAP = "net_centre_capacity_h"
NET_CENTRE_COST = "net_centre_cost_mkzt"
NET_COMBINE_COST = "net_combine_cost_mkzt"
NET_PLANT_CAP = "net_plant_capacity"
NET_PLANT_COST = "net_plant_cost_mkzt"
NET_KEEP_EXISTING = "net_keep_existing"
NET_OBJECTIVE = "net_objective"
NET_BUDGET = "net_budget_mkzt"
NET_TIME_LIMIT = "net_time_limit"
NET_RUN = "net_run"
NET_CANCEL = "net_cancel"
NET_YEAR = "net_year"
NET_CENTRE = "net_centre"
NET_MAP_LAYERS = "net_map_layers"
NET_MAP = "net_map"
NET_DOWNLOAD = "net_download"
# ... and state kept between runs and pages.
NET_JOB = "net_job"
NET_RESULT = "net_result"
NET_ERROR = "net_error"
NET_SAVED = "net_saved_inputs"

INPUT_KEYS: tuple[str, ...] = (
    NET_N_FARMS,
    NET_YEARS,
    NET_FLEET_SHARE,
    NET_PURCHASE_SHARE,
    NET_RENEW_START,
    NET_RENEW_END,
    NET_RADIUS,
    NET_VANS,
    NET_VAN_RADIUS,
    NET_MAX_VANS,
    NET_VAN_COST,
    NET_CENTRE_CAP,
    NET_CENTRE_COST,
    NET_COMBINE_COST,
    NET_PLANT_CAP,
    NET_PLANT_COST,
    NET_KEEP_EXISTING,
    NET_OBJECTIVE,
    NET_BUDGET,
    NET_TIME_LIMIT,
    NET_YEAR,
    NET_MAP_LAYERS,
)
MAP_LAYERS: tuple[str, ...] = ("service", "outbound", "inbound", "vans")

CAPABILITY_COLORS: MappingProxyType[str, tuple[int, ...]] = MappingProxyType(
    {"tractor": (31, 119, 180, 220), "tractor+combine": (148, 52, 160, 230)}
)
SERVED_COLORS: MappingProxyType[str, tuple[int, ...]] = MappingProxyType(
    {"direct": (44, 160, 44, 110), "van": (255, 127, 14, 150)}
)
MACHINE_COLORS: MappingProxyType[str, tuple[int, ...]] = MappingProxyType(
    {"tractor": (192, 57, 43, 200), "combine": (211, 160, 0, 210)}
)


# -- scenario <-> widgets ---------------------------------------------------------------------


def base_scenario() -> Scenario:
    """Return the built-in ``two_echelon`` scenario (time limit lowered by the environment)."""
    s = scenarios.load_scenario(BUILTIN)
    limit = state.env_float(state.ENV_TIME_LIMIT, s.solver.time_limit_s)
    return s.replace(solver=dataclasses.replace(s.solver, time_limit_s=limit))


def farm_choices(default: int) -> list[int]:
    """Synthetic farm counts offered (the scenario's and the environment's included)."""
    env = state.env_int(state.ENV_N_FARMS, default)
    return sorted({*FARM_CHOICES, default, env})


def widget_defaults(s: Scenario) -> dict[str, Any]:
    """Widget values of a scenario (costs in million KZT, shares and rates in %)."""
    g, v, c, p, m = s.growth, s.vans, s.capabilities, s.plants, s.model
    env = state.env_int(state.ENV_N_FARMS, s.data.n_farms)
    return {
        NET_N_FARMS: min(env, s.data.n_farms),
        NET_YEARS: int(g.years),
        NET_FLEET_SHARE: round(100 * s.demand.belarus_share),
        NET_PURCHASE_SHARE: round(100 * g.belarus_share_of_purchases),
        NET_RENEW_START: round(100 * g.renewal_rate_start, 2),
        NET_RENEW_END: round(100 * g.renewal_rate_end, 2),
        NET_RADIUS: float(m.service_radius_km or 150.0),
        NET_VANS: bool(v.enabled),
        NET_VAN_RADIUS: float(v.radius_km),
        NET_MAX_VANS: int(v.max_per_centre),
        NET_VAN_COST: v.cost_per_van_kzt / M,
        NET_CENTRE_CAP: float(c.centre_capacity_hours_per_week),
        NET_CENTRE_COST: s.sites.fixed_cost_kzt / M,
        NET_COMBINE_COST: c.combine_extra_cost_kzt / M,
        NET_PLANT_CAP: float(p.capacity_machines_per_year),
        NET_PLANT_COST: p.fixed_cost_kzt / M,
        NET_KEEP_EXISTING: "existing" in p.required,
        NET_OBJECTIVE: m.objective,
        NET_BUDGET: (m.budget_kzt_per_year or 25.0e9) / M,
        NET_TIME_LIMIT: float(s.solver.time_limit_s),
        NET_MAP_LAYERS: list(MAP_LAYERS),
    }


def init_state() -> None:
    """Fill the widgets on a session's first visit; restore them after a page switch.

    Streamlit forgets the values of widgets that a run does not draw, so the page keeps a
    copy of its inputs (plain session state, per user) and puts it back when it returns.
    """
    saved = st.session_state.get(NET_SAVED) or {}
    defaults = None
    for key in INPUT_KEYS:
        if key in st.session_state:
            continue
        if key in saved:
            st.session_state[key] = saved[key]
            continue
        if key == NET_YEAR:
            continue
        if defaults is None:
            defaults = widget_defaults(base_scenario())
        st.session_state[key] = defaults[key]


def remember_inputs() -> None:
    """Keep a copy of the widget values (see :func:`init_state`)."""
    st.session_state[NET_SAVED] = {
        k: st.session_state[k] for k in INPUT_KEYS if k in st.session_state
    }


def scenario_from_widgets() -> Scenario:
    """Build and validate the scenario the widgets describe (raises ScenarioError)."""
    g = st.session_state
    base = base_scenario()
    objective = str(g[NET_OBJECTIVE])
    plants_required = tuple(x for x in base.plants.required if x != "existing")
    if g[NET_KEEP_EXISTING]:
        plants_required = ("existing", *plants_required)
    s = base.replace(
        name="network",
        title=base.title,
        data=dataclasses.replace(base.data, n_farms=int(g[NET_N_FARMS])),
        demand=dataclasses.replace(base.demand, belarus_share=float(g[NET_FLEET_SHARE]) / 100),
        model=dataclasses.replace(
            base.model,
            service_radius_km=float(g[NET_RADIUS]),
            service_time_min=None,
            objective=objective,
            budget_kzt_per_year=float(g[NET_BUDGET]) * M if objective == "service_level" else None,
        ),
        sites=dataclasses.replace(base.sites, fixed_cost_kzt=float(g[NET_CENTRE_COST]) * M),
        plants=dataclasses.replace(
            base.plants,
            required=plants_required,
            capacity_machines_per_year=float(g[NET_PLANT_CAP]),
            fixed_cost_kzt=float(g[NET_PLANT_COST]) * M,
        ),
        vans=dataclasses.replace(
            base.vans,
            enabled=bool(g[NET_VANS]),
            radius_km=float(g[NET_VAN_RADIUS]),
            max_per_centre=int(g[NET_MAX_VANS]),
            cost_per_van_kzt=float(g[NET_VAN_COST]) * M,
        ),
        growth=dataclasses.replace(
            base.growth,
            years=int(g[NET_YEARS]),
            renewal_rate_start=float(g[NET_RENEW_START]) / 100,
            renewal_rate_end=float(g[NET_RENEW_END]) / 100,
            belarus_share_of_purchases=float(g[NET_PURCHASE_SHARE]) / 100,
        ),
        capabilities=dataclasses.replace(
            base.capabilities,
            centre_capacity_hours_per_week=float(g[NET_CENTRE_CAP]),
            combine_extra_cost_kzt=float(g[NET_COMBINE_COST]) * M,
        ),
        solver=dataclasses.replace(base.solver, time_limit_s=float(g[NET_TIME_LIMIT])),
    )
    # Validate exactly like a scenario file.
    return scenarios.scenario_from_dict(
        tomllib.loads(scenarios.scenario_to_toml(s)), source=t("nav_network")
    )


# -- inputs -----------------------------------------------------------------------------------


def _inputs_panel() -> None:
    g = st.session_state
    d = widget_defaults(base_scenario())
    with st.expander(t("net_sec_growth"), expanded=True):
        c = st.columns(6)
        c[0].selectbox(
            t("synthetic_farms"),
            farm_choices(int(d[NET_N_FARMS])),
            format_func=labeller(format_number),
            key=NET_N_FARMS,
        )
        c[1].number_input(t("net_years"), min_value=1, max_value=10, step=1, key=NET_YEARS)
        c[2].slider(t("net_fleet_share"), 0, 100, step=5, key=NET_FLEET_SHARE)
        c[3].slider(t("net_purchase_share"), 0, 100, step=5, key=NET_PURCHASE_SHARE)
        c[4].number_input(
            t("net_renew_start"), min_value=0.0, max_value=50.0, step=0.5, key=NET_RENEW_START
        )
        c[5].number_input(
            t("net_renew_end"), min_value=0.0, max_value=50.0, step=0.5, key=NET_RENEW_END
        )
    with st.expander(t("net_sec_service"), expanded=True):
        c = st.columns(6)
        c[0].number_input(
            t("net_radius"), min_value=10.0, max_value=1000.0, step=10.0, key=NET_RADIUS
        )
        c[1].number_input(
            t("net_centre_cap"), min_value=100.0, step=500.0, key=NET_CENTRE_CAP, format="%.0f"
        )
        c[2].number_input(
            t("net_centre_cost"), min_value=0.0, step=10.0, key=NET_CENTRE_COST, format="%.1f"
        )
        c[3].number_input(
            t("net_combine_cost"), min_value=0.0, step=10.0, key=NET_COMBINE_COST, format="%.1f"
        )
        c = st.columns(6)
        c[0].toggle(t("net_vans"), key=NET_VANS)
        vans = bool(g[NET_VANS])
        c[1].number_input(
            t("net_van_radius"),
            min_value=10.0,
            max_value=2000.0,
            step=10.0,
            key=NET_VAN_RADIUS,
            disabled=not vans,
        )
        c[2].number_input(
            t("net_max_vans"),
            min_value=0,
            max_value=20,
            step=1,
            key=NET_MAX_VANS,
            disabled=not vans,
        )
        c[3].number_input(
            t("net_van_cost"),
            min_value=0.0,
            step=1.0,
            key=NET_VAN_COST,
            format="%.1f",
            disabled=not vans,
        )
    with st.expander(t("net_sec_plants"), expanded=True):
        c = st.columns(6)
        c[0].number_input(
            t("net_plant_cap"), min_value=100.0, step=500.0, key=NET_PLANT_CAP, format="%.0f"
        )
        c[1].number_input(
            t("net_plant_cost"), min_value=0.0, step=100.0, key=NET_PLANT_COST, format="%.0f"
        )
        c[2].checkbox(t("net_keep_existing"), key=NET_KEEP_EXISTING)
        c[3].radio(
            t("net_objective"),
            ("cost", "service_level"),
            format_func=labeller(lambda o, lg: t(f"net_obj_{o}", lg)),
            key=NET_OBJECTIVE,
        )
        c[4].number_input(
            t("net_budget"),
            min_value=1.0,
            step=1000.0,
            key=NET_BUDGET,
            format="%.0f",
            disabled=g[NET_OBJECTIVE] != "service_level",
        )
        c[5].number_input(
            t("time_limit"), min_value=1.0, max_value=3600.0, step=10.0, key=NET_TIME_LIMIT
        )
    st.caption(t("net_assumptions"))


# -- running ----------------------------------------------------------------------------------


class NetworkJob(SolveJob):
    """A two-echelon solve in a background thread (same progress/cancel as the Scenario page).

    ``result`` holds the page's result dictionary (see :func:`package_result`).
    """

    thread_name: ClassVar[str] = "planner-network-solve"

    def _solve(self, inputs: Any, time_limit_s: float) -> dict[str, Any]:  # type: ignore[override]  # noqa: ANN401
        """Solve (the one pipeline), then tabulate and write the files (in the worker thread)."""
        res = super()._solve(inputs, time_limit_s)
        self.phase = "writing"
        return package_result(res)


def package_result(res: Any) -> dict[str, Any]:  # noqa: ANN401
    """Everything the page shows, computed once after the solve (never in a rerun).

    ``res`` is a :class:`planner.agri.TwoEchelonResult`. Returns the summary, the tables, the
    farm rows of every year (for the year selector) and the ZIP of the output files.
    """
    summary = agri.two_echelon_summary(res)
    out: dict[str, Any] = {"summary": summary, "has_solution": res.solution.has_solution}
    with tempfile.TemporaryDirectory(prefix="planner-network-") as tmp:
        paths = export.write_outputs(res, tmp)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(paths.values()):
                if Path(path).exists():
                    zf.write(path, arcname=Path(path).name)
        out["zip"] = buf.getvalue()
    if not res.solution.has_solution:
        return out
    inputs = res.inputs
    inst = inputs.instance
    farm_rows = {
        int(year): agri.farm_assignments(res, k) for k, year in enumerate(inst.period_years)
    }
    farms = inputs.farms
    out.update(
        sites=res.sites,
        flows=res.flows.loc[res.flows["kind"] != "service"].reset_index(drop=True),
        weekly=res.weekly_load,
        openings=res.openings,
        per_year=res.per_year,
        farm_rows=farm_rows,
        farms_xy=pd.DataFrame(
            {
                "farm_id": farms["farm_id"].astype(str).to_numpy(),
                "lon": farms["lon"].to_numpy(dtype=np.float64),
                "lat": farms["lat"].to_numpy(dtype=np.float64),
            }
        ),
        entries=inputs.entries.loc[:, ["entry_id", "name", "lon", "lat"]].copy(),
        years=[int(y) for y in inst.period_years],
        van_radius_km=float(res.scenario.vans.radius_km) if res.scenario.vans.enabled else 0.0,
        direct_radius_km=float(inputs.direct_radius_km),
        circuity=float(res.scenario.travel.circuity),
        breakdown=dict(res.objective_breakdown),
        objective_mode=inst.objective,
    )
    return out


def _start_run() -> None:
    """Start a background solve (Run button callback)."""
    st.session_state.pop(NET_ERROR, None)
    try:
        scenario = scenario_from_widgets()
    except PlannerError as exc:
        st.session_state[NET_ERROR] = str(exc)
        return
    job = NetworkJob(scenario)
    job.start(lambda: solving.scenario_inputs(scenario), scenario.solver.time_limit_s)
    st.session_state[NET_JOB] = job


def _cancel_run() -> None:
    job = st.session_state.get(NET_JOB)
    if job is not None:
        job.cancel()


def _finish(job: NetworkJob) -> None:
    """Move a finished job's result into the session (or keep its error for display)."""
    st.session_state.pop(NET_JOB, None)
    if job.result is not None:
        result: dict[str, Any] = job.result
        result["cancelled"] = job.token.cancelled
        st.session_state[NET_RESULT] = result
        if job.token.cancelled:
            st.session_state[NET_ERROR] = ("warning", t("cancelled"))
    elif job.error == "cancelled":
        st.session_state[NET_ERROR] = ("warning", t("cancelled"))
    elif job.internal:
        st.session_state[NET_ERROR] = t("internal_error", err=job.error)
    else:
        st.session_state[NET_ERROR] = f"{t('solve_failed')} {job.error}"


def _progress_text(job: NetworkJob) -> str:
    last = job.latest()
    if job.phase == "preparing":
        return t("preparing")
    if job.phase == "writing":
        return t("net_writing")
    parts = [t("running", s=job.elapsed)]
    if last is not None:
        parts.append(f"{t('incumbent')}: {num(last.incumbent)}")
        parts.append(f"{t('bound')}: {num(last.bound)}")
        parts.append(f"{t('gap')}: {pct(last.gap, 2)}")
    return " · ".join(parts)


@st.fragment(run_every=0.7)
def _progress_panel() -> None:
    job: NetworkJob | None = st.session_state.get(NET_JOB)
    if job is None:
        return
    if job.done:
        _finish(job)
        st.rerun()
        return
    limit = job.scenario.solver.time_limit_s
    share = 0.0 if job.phase == "preparing" else min(job.elapsed / max(limit, 1e-9), 1.0)
    c = st.columns([6, 1])
    c[0].progress(share, text=_progress_text(job))
    c[1].button(t("cancel"), key=NET_CANCEL, on_click=_cancel_run, type="secondary")
    hist = job.snapshot()
    if hist:
        fig = go.Figure()
        xs = [p.elapsed_s for p in hist]
        fig.add_scatter(
            x=xs, y=[p.incumbent for p in hist], mode="lines+markers", name=t("incumbent")
        )
        fig.add_scatter(x=xs, y=[p.bound for p in hist], mode="lines+markers", name=t("bound"))
        fig.update_layout(
            height=200,
            margin={"l": 0, "r": 0, "t": 30, "b": 0},
            title=t("progress_chart"),
            xaxis_title=t("elapsed"),
            legend={"orientation": "h"},
        )
        st.plotly_chart(fig, key="net_progress_chart")


# -- results: tables for one year ---------------------------------------------------------------


def year_sites(result: dict[str, Any], year: int) -> pd.DataFrame:
    """Open plants and centres in ``year`` with capability, vans and yearly load.

    Sites opened in an earlier year stay open (the model's growth constraint); the load of a
    centre is its service hours in that year, of a plant the machines it assembles.
    """
    sites: pd.DataFrame = result["sites"]
    op: pd.DataFrame = result["openings"]
    op = op.loc[(op["year"] == year) & op["open"]]
    base = sites.drop(columns=["vans", "capability"]).merge(
        op.loc[:, ["site_id", "role", "combine_capable", "vans"]], on=["site_id", "role"]
    )
    flows: pd.DataFrame = result["flows"]
    fy = flows.loc[flows["year"] == year]
    made = fy.loc[fy["kind"] == "outbound_machines"].groupby("from_id")["quantity"].sum()
    rows: pd.DataFrame = result["farm_rows"][year]
    served = rows.loc[rows["site_id"] != ""]
    hours = served.groupby("site_id")["demand"].sum()
    van_h = served.loc[served["served_by"] == "van"].groupby("site_id")["demand"].sum()
    wk: pd.DataFrame = result["weekly"]
    wk = wk.loc[wk["year"] == year]
    peak = (
        (wk["load_hours"] / wk["capacity_hours"].where(wk["capacity_hours"] > 0))
        .groupby(wk["site_id"])
        .max()
    )
    plant = base["role"] == "assembly_plant"
    base["load"] = np.where(
        plant,
        base["site_id"].map(made).fillna(0.0),
        base["site_id"].map(hours).fillna(0.0),
    )
    base["van_hours"] = base["site_id"].map(van_h).fillna(0.0)
    base["peak_util"] = base["site_id"].map(peak)
    base["capability"] = np.where(
        plant,
        sites.set_index("site_id").loc[base["site_id"], "capability"].to_numpy(),
        np.where(base["combine_capable"], "tractor+combine", "tractor"),
    )
    return base


def _cells(result: dict[str, Any], year: int, cell_deg: float = 0.25) -> pd.DataFrame:
    """Aggregate the served farm rows of ``year`` to (grid cell, centre, served_by)."""
    rows: pd.DataFrame = result["farm_rows"][year]
    xy = result["farms_xy"].set_index("farm_id")
    rows = rows.loc[rows["site_id"] != ""]
    if rows.empty:
        return pd.DataFrame(
            columns=["lon", "lat", "site_id", "served_by", "hours", "n"], dtype=object
        )
    f = xy.loc[rows["farm_id"]]
    df = pd.DataFrame(
        {
            "gx": np.floor(f["lon"].to_numpy() / cell_deg),
            "gy": np.floor(f["lat"].to_numpy() / cell_deg),
            "site_id": rows["site_id"].to_numpy(),
            "served_by": rows["served_by"].to_numpy(),
            "hours": rows["demand"].to_numpy(),
            "lon": f["lon"].to_numpy(),
            "lat": f["lat"].to_numpy(),
        }
    )
    g = df.groupby(["gx", "gy", "site_id", "served_by"], sort=False).agg(
        hours=("hours", "sum"), lon=("lon", "mean"), lat=("lat", "mean"), n=("hours", "size")
    )
    return g.reset_index()


def _unserved_xy(result: dict[str, Any], year: int) -> pd.DataFrame:
    rows: pd.DataFrame = result["farm_rows"][year]
    ids = rows.loc[rows["site_id"] == "", "farm_id"].unique()
    xy = result["farms_xy"].set_index("farm_id")
    return xy.loc[ids, ["lon", "lat"]].reset_index(drop=True)


def _square(lon: float, lat: float, half_km: float) -> list[list[float]]:
    dlat = half_km / 111.32
    dlon = half_km / (111.32 * max(math.cos(math.radians(lat)), 0.2))
    return [
        [lon - dlon, lat - dlat],
        [lon + dlon, lat - dlat],
        [lon + dlon, lat + dlat],
        [lon - dlon, lat + dlat],
    ]


# -- results: map -------------------------------------------------------------------------------


def network_layers(result: dict[str, Any], year: int, show: set[str], lg: str) -> list[pdk.Layer]:
    """Layers of the plan in ``year``: service lines, van reach, flows, centres, plants.

    Every tooltip text is HTML-escaped (names come from data and uploads).
    """
    layers: list[pdk.Layer] = []
    sites = year_sites(result, year)
    centres = sites.loc[sites["role"] == "service_centre"].copy()
    plants = sites.loc[sites["role"] == "assembly_plant"].copy()
    xy: dict[str, tuple[float, float]] = {
        str(r.site_id): (float(r.lon), float(r.lat))
        for r in result["sites"].loc[:, ["site_id", "lon", "lat"]].itertuples()
    }
    names = dict(zip(result["sites"]["site_id"], result["sites"]["name"].astype(str), strict=True))
    entries: pd.DataFrame = result["entries"]
    for r in entries.itertuples():
        xy[str(r.entry_id)] = (float(r.lon), float(r.lat))
        names[str(r.entry_id)] = str(r.name)
    if "service" in show:
        cells = _cells(result, year)
        if len(cells):
            cells["slon"] = cells["site_id"].map(lambda s: xy[s][0])
            cells["slat"] = cells["site_id"].map(lambda s: xy[s][1])
            cells["color"] = [list(SERVED_COLORS[str(b)]) for b in cells["served_by"]]
            cells["width"] = 0.5 + 2.5 * np.sqrt(cells["hours"] / cells["hours"].max())
            layers.append(maps.farm_site_lines(cells, "net-service"))
            layers.append(
                pdk.Layer(
                    "ScatterplotLayer",
                    data=cells.loc[:, ["lon", "lat", "color"]],
                    id="net-farm-cells",
                    get_position=["lon", "lat"],
                    get_radius=5000,
                    radius_min_pixels=1.5,
                    get_fill_color="color",
                    pickable=False,
                )
            )
        lost = _unserved_xy(result, year)
        if len(lost):
            layers.append(
                pdk.Layer(
                    "ScatterplotLayer",
                    data=lost,
                    id="net-unserved",
                    get_position=["lon", "lat"],
                    get_radius=3500,
                    radius_min_pixels=1.5,
                    get_fill_color=[220, 20, 20, 200],
                    pickable=False,
                )
            )
    if "vans" in show and result["van_radius_km"] > 0:
        vc = centres.loc[centres["vans"] > 0]
        if len(vc):
            # The van radius is in road km; the circle is drawn in straight-line km.
            radius_m = result["van_radius_km"] / result["circuity"] * 1000.0
            layers.append(
                pdk.Layer(
                    "ScatterplotLayer",
                    data=vc.loc[:, ["lon", "lat"]],
                    id="net-van-reach",
                    get_position=["lon", "lat"],
                    get_radius=radius_m,
                    stroked=True,
                    filled=False,
                    get_line_color=[255, 127, 14, 110],
                    line_width_min_pixels=1,
                    pickable=False,
                )
            )
    flows: pd.DataFrame = result["flows"]
    fy = flows.loc[flows["year"] == year]
    for kind, key, width in (
        ("inbound_kits", "inbound", 5.0),
        ("outbound_machines", "outbound", 3.0),
    ):
        if key not in show:
            continue
        f = fy.loc[(fy["kind"] == kind) & fy["from_id"].isin(xy) & fy["to_id"].isin(xy)]
        f = f.groupby(["from_id", "to_id", "machine"], as_index=False)["quantity"].sum()
        if f.empty:
            continue
        top = max(float(f["quantity"].max()), 1e-9)
        df = pd.DataFrame(
            {
                "slon": [xy[s][0] for s in f["from_id"]],
                "slat": [xy[s][1] for s in f["from_id"]],
                "tlon": [xy[s][0] for s in f["to_id"]],
                "tlat": [xy[s][1] for s in f["to_id"]],
                "color": [
                    list(MACHINE_COLORS.get(str(m), (90, 90, 90, 200))) for m in f["machine"]
                ],
                "width": 0.5 + width * np.sqrt(f["quantity"].to_numpy() / top),
                "label": [
                    f"{html.escape(names.get(a, a))} → {html.escape(names.get(b, b))}<br>"
                    f"{html.escape(t('net_' + kind, lg))}: {num(q)} "
                    f"{html.escape(t('net_m_' + str(m), lg))} / "
                    f"{html.escape(t('net_per_year', lg))}"
                    for a, b, m, q in zip(
                        f["from_id"], f["to_id"], f["machine"], f["quantity"], strict=True
                    )
                ],
            }
        )
        layers.append(
            pdk.Layer(
                "ArcLayer",
                data=df,
                id=f"net-{key}",
                get_source_position=["slon", "slat"],
                get_target_position=["tlon", "tlat"],
                get_source_color="color",
                get_target_color="color",
                get_width="width",
                width_min_pixels=1,
                great_circle=False,
                pickable=True,
            )
        )
    if "inbound" in show:
        used = set(fy.loc[fy["kind"] == "inbound_kits", "from_id"])
        e = entries.loc[entries["entry_id"].astype(str).isin(used)]
        if len(e):
            ed = pd.DataFrame(
                {
                    "lon": e["lon"].to_numpy(),
                    "lat": e["lat"].to_numpy(),
                    "label": [
                        f"{html.escape(t('rail', lg))}: {html.escape(str(n))}" for n in e["name"]
                    ],
                }
            )
            layers.append(
                maps.point_layer(
                    ed,
                    "net-rail-entries",
                    12000,
                    [40, 40, 40, 230],
                    outline_px=1,
                    radius_min_pixels=4,
                )
            )
    if len(centres):
        top = max(float(centres["load"].max()), 1e-9)
        cd = pd.DataFrame(
            {
                "lon": centres["lon"].to_numpy(),
                "lat": centres["lat"].to_numpy(),
                "radius": 9000 + 45000 * np.sqrt(centres["load"].to_numpy() / top),
                "color": [
                    list(CAPABILITY_COLORS.get(str(c), CAPABILITY_COLORS["tractor"]))
                    for c in centres["capability"]
                ],
                "label": [
                    f"<b>{html.escape(str(n))}</b> ({html.escape(str(i))})<br>"
                    f"{html.escape(t('net_role_centre', lg))} · "
                    f"{html.escape(t('net_cap_' + str(c), lg))}<br>"
                    f"{html.escape(t('net_load_year', lg))}: {num(ld)}<br>"
                    f"{html.escape(t('net_van_hours', lg))}: {num(vh)}<br>"
                    f"{html.escape(t('net_vans_n', lg))}: {int(v)}<br>"
                    f"{html.escape(t('net_peak_util', lg))}: {pct(u)}<br>"
                    f"{html.escape(t('net_year_opened', lg))}: {html.escape(str(yo))}"
                    for n, i, c, ld, vh, v, u, yo in zip(
                        centres["name"],
                        centres["site_id"],
                        centres["capability"],
                        centres["load"],
                        centres["van_hours"],
                        centres["vans"],
                        centres["peak_util"],
                        centres["year_opened"],
                        strict=True,
                    )
                ],
            }
        )
        layers.append(maps.point_layer(cd, "net-centres", "radius", "color", outline_px=1.2))
    if len(plants):
        pdf = pd.DataFrame(
            {
                "polygon": [
                    _square(float(x), float(y), 60.0)
                    for x, y in zip(plants["lon"], plants["lat"], strict=True)
                ],
                "color": [
                    [192, 57, 43, 235] if s == "existing" else [20, 20, 20, 235]
                    for s in plants["status"]
                ],
                "label": [
                    f"<b>{html.escape(str(n))}</b> ({html.escape(str(i))})<br>"
                    f"{html.escape(t('net_role_plant', lg))} · {html.escape(str(c))}<br>"
                    f"{html.escape(t('net_made', lg))}: {num(ld)} / {num(cap)} "
                    f"{html.escape(t('net_per_year', lg))}<br>"
                    f"{html.escape(t('net_year_opened', lg))}: {html.escape(str(yo))}"
                    for n, i, c, ld, cap, yo in zip(
                        plants["name"],
                        plants["site_id"],
                        plants["capability"],
                        plants["load"],
                        plants["capacity"],
                        plants["year_opened"],
                        strict=True,
                    )
                ],
            }
        )
        layers.append(
            pdk.Layer(
                "PolygonLayer",
                data=pdf,
                id="net-plants",
                get_polygon="polygon",
                get_fill_color="color",
                get_line_color=[255, 255, 255],
                line_width_min_pixels=2,
                stroked=True,
                pickable=True,
            )
        )
    return layers


# -- results: charts ----------------------------------------------------------------------------


def breakdown_figure(breakdown: dict[str, float]) -> go.Figure:
    """Objective components over the horizon, billion KZT, as a horizontal bar chart."""
    keys = [k for k in agri.COST_COMPONENTS if k in breakdown]
    keys += [k for k in breakdown if k not in keys]
    values = [float(breakdown[k]) / 1e9 for k in keys]
    order = np.argsort(values)
    fig = go.Figure(
        go.Bar(
            x=[values[i] for i in order],
            y=[t(f"net_c_{keys[i]}") if f"net_c_{keys[i]}" in STRINGS else keys[i] for i in order],
            orientation="h",
            marker_color="#1f5fa8",
        )
    )
    fig.update_layout(
        height=320,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        title=t("net_breakdown"),
        xaxis_title=t("net_bn_kzt"),
    )
    return fig


def weekly_figure(weekly: pd.DataFrame, site_id: str, year: int, name: str) -> go.Figure:
    """Week-by-week load of one centre: direct and van load stacked, against capacity."""
    w = weekly.loc[(weekly["site_id"] == site_id) & (weekly["year"] == year)].sort_values("week")
    fig = go.Figure()
    fig.add_bar(
        x=w["week"], y=w["direct_load_hours"], name=t("net_direct_load"), marker_color="#2ca02c"
    )
    fig.add_bar(x=w["week"], y=w["van_load_hours"], name=t("net_van_load"), marker_color="#ff7f0e")
    fig.add_scatter(
        x=w["week"],
        y=w["capacity_hours"],
        mode="lines",
        name=t("net_capacity"),
        line={"color": "#c0392b", "width": 2},
    )
    fig.add_scatter(
        x=w["week"],
        y=w["direct_capacity_hours"],
        mode="lines",
        name=t("net_direct_capacity"),
        line={"color": "#555555", "width": 1, "dash": "dash"},
    )
    fig.update_layout(
        barmode="stack",
        height=340,
        margin={"l": 0, "r": 0, "t": 70, "b": 0},
        title=f"{html.escape(name)} · {year}",
        xaxis_title=t("net_week"),
        yaxis_title=t("net_hours_week"),
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
    )
    return fig


def heatmap_figure(
    weekly: pd.DataFrame, year: int, names: dict[str, str], top: int = 40
) -> go.Figure:
    """Utilisation (load / capacity) per centre and week; the busiest centres first."""
    w = weekly.loc[weekly["year"] == year].copy()
    w["util"] = w["load_hours"] / w["capacity_hours"].where(w["capacity_hours"] > 0)
    grid = w.pivot_table(index="site_id", columns="week", values="util", aggfunc="sum")
    order = grid.max(axis=1).sort_values(ascending=False).index[:top]
    grid = grid.loc[order]
    fig = go.Figure(
        go.Heatmap(
            z=(grid.to_numpy() * 100).round(1),
            x=list(grid.columns),
            y=[html.escape(f"{names.get(s, s)} ({s})") for s in grid.index],
            colorscale="YlOrRd",
            zmin=0,
            zmax=100,
            colorbar={"title": "%"},
            hovertemplate="%{y}<br>" + t("net_week") + " %{x}: %{z}%<extra></extra>",
        )
    )
    fig.update_layout(
        height=max(260, 16 * len(grid) + 90),
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        title=t("net_heatmap", year=year),
        xaxis_title=t("net_week"),
        yaxis={"autorange": "reversed"},
    )
    return fig


def per_year_table(per_year: pd.DataFrame) -> pd.DataFrame:
    """Return openings and figures per planning year, with translated headers."""
    p = per_year
    return pd.DataFrame(
        {
            t("net_year"): p["year"].astype(int).astype(str),
            t("net_plants"): p["n_plants"],
            t("net_new_plants"): p["new_plants"],
            t("net_centres"): p["n_centres"],
            t("net_new_centres"): p["new_centres"],
            t("net_combine_centres"): p["n_combine_centres"],
            t("net_vans_n"): p["n_vans"],
            t("net_served"): (100 * p["served_share"]).round(1),
            t("net_van_share"): (100 * p["van_served_share"]).round(1),
            t("net_new_machines"): p["new_belarus_machines"].round(0),
            t("net_renewal"): (100 * p["renewal_rate"]).round(2),
            t("net_cost_bn"): (p["cost_kzt"] / 1e9).round(2),
        }
    )


def openings_table(result: dict[str, Any]) -> pd.DataFrame:
    """Every site that is open in the last year, with the year it opened."""
    s: pd.DataFrame = result["sites"]
    s = s.loc[s["status"] != "closed"].sort_values(["year_opened", "role", "name"])
    return pd.DataFrame(
        {
            t("net_year_opened"): s["year_opened"].astype("Int64").astype(str),
            t("net_role"): s["role"].map(
                {"assembly_plant": t("net_role_plant"), "service_centre": t("net_role_centre")}
            ),
            t("col_site"): s["name"].astype(str),
            "ID": s["site_id"].astype(str),
            t("net_capability"): s["capability"].map(
                lambda c: t(f"net_cap_{c}") if f"net_cap_{c}" in STRINGS else str(c)
            ),
            t("net_vans_n"): s["vans"],
            t("col_util"): (100 * s["utilisation"]).round(1),
        }
    )


# -- results: page section ----------------------------------------------------------------------


def _kpis(result: dict[str, Any]) -> None:
    s = result["summary"]
    years = s.get("years") or []
    last = years[-1] if years else ""
    st.caption(
        f"{t('status')}: **{status_label(s.get('status'))}** · "
        f"{t('gap')}: {pct(s.get('gap'), 2)} · "
        f"{t('net_kpi_year', year=last)}"
    )
    c = st.columns(6)
    c[0].metric(t("net_plants"), num(s.get("n_plants")))
    c[1].metric(t("net_centres"), num(s.get("n_centres")))
    c[2].metric(t("net_combine_centres"), num(s.get("n_combine_centres")))
    c[3].metric(t("net_vans_n"), num(s.get("n_vans")))
    c[4].metric(t("net_served"), pct(s.get("served_demand_share")))
    c[5].metric(t("net_van_share"), pct(s.get("van_served_share")))
    c = st.columns(6)
    c[0].metric(t("kpi_mean"), num(s.get("mean_travel_km"), 1))
    c[1].metric(t("kpi_3h"), pct(s.get("share_within_3h")))
    c[2].metric(t("net_van_machines"), num(s.get("van_served_machines")))
    c[3].metric(t("net_unserved_machines"), num(s.get("unserved_machines")))
    if s.get("objective_mode") == "cost":
        c[4].metric(
            t("net_objective_bn"),
            num((s.get("objective") or 0) / 1e9, 2),
            help=str(s.get("objective_unit", "")),
        )
    else:
        c[4].metric(
            t("kpi_objective"), num(s.get("objective")), help=str(s.get("objective_unit", ""))
        )
    c[5].metric(t("gap"), pct(s.get("gap"), 2))


def _results() -> None:
    result = st.session_state.get(NET_RESULT)
    st.subheader(t("results"))
    if result is None:
        st.caption(t("net_no_results"))
        return
    _kpis(result)
    if not result.get("has_solution"):
        st.warning(t("net_no_solution"))
        return
    years: list[int] = result["years"]
    if st.session_state.get(NET_YEAR) not in years:
        st.session_state[NET_YEAR] = years[-1]
    lg = lang()
    c = st.columns([2, 4])
    year = c[0].selectbox(t("net_year_pick"), years, key=NET_YEAR)
    c[1].multiselect(
        t("net_layers"),
        list(MAP_LAYERS),
        format_func=labeller(lambda k, lg_: t(f"net_layer_{k}", lg_)),
        key=NET_MAP_LAYERS,
    )
    show = set(st.session_state.get(NET_MAP_LAYERS) or [])
    c_map, c_side = st.columns([3, 2])
    with c_map:
        layers = [*maps.context_layers(lg), *network_layers(result, int(year), show, lg)]
        st.pydeck_chart(maps.deck(layers, zoom=3.4), key=NET_MAP, height=580)
        st.caption(t("net_map_legend"))
    with c_side:
        st.plotly_chart(breakdown_figure(result["breakdown"]), key="net_breakdown_chart")
        st.markdown(f"**{t('net_per_year_title')}**")
        st.dataframe(per_year_table(result["per_year"]), hide_index=True, key="net_per_year_table")
    st.markdown(f"**{t('net_weekly_title')}**")
    ys = year_sites(result, int(year))
    centres = ys.loc[ys["role"] == "service_centre"].sort_values("peak_util", ascending=False)
    names = dict(zip(result["sites"]["site_id"], result["sites"]["name"].astype(str), strict=True))
    if centres.empty:
        st.caption(t("net_no_centres"))
    else:
        ids = centres["site_id"].astype(str).tolist()
        if st.session_state.get(NET_CENTRE) not in ids:
            st.session_state[NET_CENTRE] = ids[0]
        labels = {
            i: f"{names.get(i, i)} ({i}) · {pct(u)}"
            for i, u in zip(ids, centres["peak_util"], strict=True)
        }
        site = st.selectbox(
            t("net_centre_pick"), ids, format_func=labels.__getitem__, key=NET_CENTRE
        )
        st.plotly_chart(
            weekly_figure(result["weekly"], str(site), int(year), names.get(str(site), str(site))),
            key="net_weekly_chart",
        )
        st.plotly_chart(heatmap_figure(result["weekly"], int(year), names), key="net_heatmap_chart")
    st.markdown(f"**{t('net_openings_title')}**")
    st.dataframe(openings_table(result), hide_index=True, key="net_openings_table", height=280)
    st.download_button(
        t("net_download"),
        data=result["zip"],
        file_name="two_echelon_outputs.zip",
        mime="application/zip",
        key=NET_DOWNLOAD,
    )
    st.caption(t("net_download_note"))
    notes = result["summary"].get("data_notes") or []
    if notes:
        with st.expander(t("data_notes")):
            st.markdown("\n".join(f"- {md(n)}" for n in notes))


def _show_error() -> None:
    err = st.session_state.get(NET_ERROR)
    if not err:
        return
    if isinstance(err, tuple):
        st.warning(md(err[1]))
    else:
        st.error(md(err))


def render() -> None:
    """Render the Network page."""
    st.title(t("net_title"))
    try:
        init_state()
        st.caption(t("net_intro"))
        _inputs_panel()
        running = st.session_state.get(NET_JOB) is not None
        st.button(t("run"), key=NET_RUN, on_click=_start_run, type="primary", disabled=running)
        if running:
            _progress_panel()
        _show_error()
        if not running:
            _results()
        remember_inputs()
    except PlannerError as exc:
        st.error(md(str(exc)))
    except Exception as exc:  # noqa: BLE001 - the page must never show a traceback
        traceback.print_exc()
        st.error(md(t("internal_error", err=f"{type(exc).__name__}: {exc}")))
