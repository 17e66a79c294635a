"""Network page: assembly plants and service centres planned together (two echelons, issue 6).

The planner sets the growth, service, van, centre and plant assumptions, runs
:func:`planner.run.run_scenario` in a background thread (progress, Cancel) and reads the
plan: KPIs, a map of plants, centres, van reach and the flows entry -> plant -> centre ->
farms for any planning year, the week-by-week load of a centre, peak utilisation across
centres, openings per year and the output files of ``planner solve`` as one ZIP.
"""

from __future__ import annotations

import dataclasses
import io
import tempfile
import tomllib
import traceback
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from planner import agri, export, scenarios
from planner.errors import PlannerError
from planner.i18n import format_number
from planner.scenarios import Scenario
from planner.ui import maps, solving, state, views
from planner.ui.i18n import labeller, lang, md, num, pct, status_label, t
from planner.ui.jobs import SolveJob
from planner.ui.network_views import (
    breakdown_figure,
    heatmap_figure,
    network_layers,
    openings_table,
    per_year_table,
    site_markers,
    weekly_figure,
    year_sites,
)

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
NET_MAP_ZOOM = 3.4

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
            objective="service_level" if objective == "service_level" else "cost",
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
    # four tiles a row: every label and value stays whole at 1280 px in all three languages
    c = list(st.columns(4))
    c[0].metric(t("net_plants"), num(s.get("n_plants")))
    c[1].metric(t("net_centres"), num(s.get("n_centres")))
    c[2].metric(t("net_combine_centres"), num(s.get("n_combine_centres")))
    c[3].metric(t("net_vans_n"), num(s.get("n_vans")))
    c = list(st.columns(4))
    c[0].metric(t("net_served"), pct(s.get("served_demand_share")))
    c[1].metric(t("net_van_share"), pct(s.get("van_served_share")))
    c[2].metric(t("net_van_machines"), num(s.get("van_served_machines")))
    c[3].metric(t("net_unserved_machines"), num(s.get("unserved_machines")))
    c = list(st.columns([1, 1, 2]))  # the objective's label and value are long
    c[0].metric(t("kpi_mean"), num(s.get("mean_travel_km"), 1))
    c[1].metric(t("kpi_3h"), pct(s.get("share_within_3h")))
    with c[2]:
        views.objective_metric(s, "")


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
        # the oblast labels keep clear of the plants and service centres
        layers = maps.context_layers(
            lg,
            avoid=site_markers(result, int(year)),
            zoom=NET_MAP_ZOOM,
            under_labels=network_layers(result, int(year), show, lg),
        )
        st.pydeck_chart(maps.deck(layers, zoom=NET_MAP_ZOOM), key=NET_MAP, height=580)
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
