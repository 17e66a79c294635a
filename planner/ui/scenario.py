"""Scenario page: edit every input, run in the background with live progress, save, inspect."""

from __future__ import annotations

import dataclasses
import time
import tomllib
import typing
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from planner import export, references, scenarios
from planner.demand import DemandParameters
from planner.errors import PlannerError
from planner.i18n import STRINGS
from planner.scenarios import DataSpec, ModelSpec, Scenario
from planner.store import StoreError
from planner.ui import auth, cache, maps, solving, state, views
from planner.ui import workspace as workspace_ui
from planner.ui.i18n import labeller, lang, md, num, pct, status_label, t
from planner.ui.jobs import SolveJob

KINDS: tuple[str, ...] = typing.get_args(scenarios.ModelKindName)
# A cflp scenario needs a fixed cost or a capacity; the editor's default has neither, so
# switching to cflp takes the fixed cost of this built-in scenario.
_CFLP_COSTS_FROM = "capacitated"
P_KINDS = ("p_median", "mclp", "p_center")
DEFAULT_DEMAND = DemandParameters()
BACKENDS = ("auto", "highs", "scip", "cp-sat", "heuristic")
SYNTHETIC = "synthetic"
SETTLEMENTS = "settlements"
UPLOAD_PREFIX = "upload:"
FILE_PREFIX = "file:"
_CHART_AFTER_S = 3.0  # seconds of solving before the progress chart appears
# A solve that ends within this many seconds of the click is waited for in the click's own
# rerun: its results replace the previous ones in place, without the polling panel (whose
# reruns compete with the solver for the CPU) and without re-creating the result map.
# ``$PLANNER_APP_QUICK_WAIT_S`` overrides it (tests use 0 to get the panel every time).
QUICK_WAIT_S = 2.5
_QUICK_POLL_S = 0.2


# -- scenario <-> widget values -----------------------------------------------------------


def _source_value(value: str, default: str) -> str:
    """Widget value of a data source (synthetic/settlements, an upload, or a file path)."""
    if value == default:
        return default
    ws = cache.workspace()
    name = Path(value).name
    for up in ws.list_uploads():
        if name.startswith(up.sha256):
            return f"{UPLOAD_PREFIX}{up.id}"
    return f"{FILE_PREFIX}{value}"


def widget_values(s: Scenario) -> dict[str, Any]:
    """Map a scenario to the editor's session-state values."""
    m, d, tr, si, sv = s.model, s.data, s.travel, s.sites, s.solver
    return {
        state.SC_NAME: s.name,
        state.SC_TITLE: s.title,
        state.SC_KIND: m.kind,
        state.SC_P: int(m.p or 10),
        state.SC_RADIUS_UNIT: "min" if m.service_time_min is not None else "km",
        state.SC_RADIUS_KM: float(m.service_radius_km or 150.0),
        state.SC_RADIUS_MIN: float(m.service_time_min or 180.0),
        state.SC_CIRCUITY: float(tr.circuity),
        state.SC_SPEED: float(tr.speed_kmh),
        state.SC_COST_UNIT: tr.unit,
        state.SC_K_NEAREST: int(tr.k_nearest),
        state.SC_ROAD_NETWORK: tr.road_network,
        state.SC_FARMS_SOURCE: _source_value(d.farms, SYNTHETIC),
        state.SC_N_FARMS: int(d.n_farms),
        state.SC_FARM_SEED: int(d.farm_seed),
        state.SC_SITES_SOURCE: _source_value(d.sites, SETTLEMENTS),
        state.SC_MIN_POP: int(d.min_site_population),
        state.SC_INCLUDE_EXISTING: bool(d.include_existing),
        state.SC_SHARE: float(s.demand.belarus_share),
        state.SC_SHARE_COMBINES: float(
            s.demand.belarus_share
            if s.demand.belarus_share_combines is None
            else s.demand.belarus_share_combines
        ),
        state.SC_BELARUS_ONLY: bool(s.demand.belarus_only),
        state.SC_BASIS: s.demand.basis,
        state.SC_REQUIRED: list(si.required),
        state.SC_FORBIDDEN: list(si.forbidden),
        state.SC_CAPACITY: float(si.capacity_hours),
        state.SC_EXISTING_CAPACITY: float(si.existing_capacity_hours or 0.0),
        state.SC_FIXED_COST: float(si.fixed_cost_kzt),
        state.SC_EXISTING_FIXED_COST: float(si.existing_fixed_cost_kzt),
        state.SC_TRAVEL_COST: float(si.travel_cost_kzt_per_km),
        state.SC_HOURS_PER_VISIT: float(si.service_hours_per_visit),
        state.SC_SINGLE_SOURCE: bool(m.single_source),
        state.SC_CAPACITATED: bool(m.capacitated),
        state.SC_WEIGHTED: bool(m.weighted),
        state.SC_MIN_NEW: int(m.min_new_sites),
        state.SC_MAX_NEW: int(m.max_new_sites or 0),
        state.SC_TIME_LIMIT: float(sv.time_limit_s),
        state.SC_BACKEND: sv.backend,
        state.SC_N_BEST: int(sv.n_best),
        state.SC_REGRET: bool(sv.compute_regret),
        state.SC_SEED: int(sv.seed),
        state.SC_GAP: float(sv.gap_tolerance) * 100.0,
        state.SC_SAVE_NAME: s.name,
        **{
            state.DEMAND_PARAM_PREFIX + name: float(
                s.demand.parameters.get(name, getattr(DEFAULT_DEMAND, name))
            )
            for name in state.DEMAND_PARAMS
        },
    }


def _source_path(value: str, default: str) -> str:
    if value.startswith(UPLOAD_PREFIX):
        return str(cache.workspace().upload_path(int(value.removeprefix(UPLOAD_PREFIX))))
    if value.startswith(FILE_PREFIX):
        return value.removeprefix(FILE_PREFIX)
    return default


def scenario_from_widgets() -> Scenario:
    """Build and validate the scenario the editor shows (raises ScenarioError)."""
    g = st.session_state
    kind = g[state.SC_KIND]
    radius_km = radius_min = None
    if kind in ("mclp", "set_cover"):
        if g[state.SC_RADIUS_UNIT] == "km":
            radius_km = float(g[state.SC_RADIUS_KM])
        else:
            radius_min = float(g[state.SC_RADIUS_MIN])
    max_new = int(g[state.SC_MAX_NEW])
    existing_cap = float(g[state.SC_EXISTING_CAPACITY])
    base = _base_scenario()
    s = base.replace(
        name=str(g[state.SC_NAME]).strip() or "scenario",
        title=str(g[state.SC_TITLE]),
        data=dataclasses.replace(
            base.data,
            farms=_source_path(g[state.SC_FARMS_SOURCE], SYNTHETIC),
            n_farms=int(g[state.SC_N_FARMS]),
            farm_seed=int(g[state.SC_FARM_SEED]),
            sites=_source_path(g[state.SC_SITES_SOURCE], SETTLEMENTS),
            min_site_population=int(g[state.SC_MIN_POP]),
            include_existing=bool(g[state.SC_INCLUDE_EXISTING]),
        ),
        demand=dataclasses.replace(
            base.demand,
            parameters=_demand_parameters(base),
            belarus_share=float(g[state.SC_SHARE]),
            belarus_share_combines=float(g[state.SC_SHARE_COMBINES]),
            belarus_only=bool(g[state.SC_BELARUS_ONLY]),
            basis=g[state.SC_BASIS],
        ),
        travel=dataclasses.replace(
            base.travel,
            circuity=float(g[state.SC_CIRCUITY]),
            speed_kmh=float(g[state.SC_SPEED]),
            k_nearest=int(g[state.SC_K_NEAREST]),
            unit=g[state.SC_COST_UNIT],
            road_network=str(g.get(state.SC_ROAD_NETWORK, base.travel.road_network)),
        ),
        model=dataclasses.replace(
            base.model,
            kind=kind,
            p=int(g[state.SC_P]) if kind in P_KINDS else base.model.p,
            service_radius_km=radius_km,
            service_time_min=radius_min,
            single_source=bool(g[state.SC_SINGLE_SOURCE]),
            weighted=bool(g[state.SC_WEIGHTED]),
            capacitated=bool(g[state.SC_CAPACITATED]),
            min_new_sites=int(g[state.SC_MIN_NEW]),
            max_new_sites=max_new if max_new > 0 else None,
        ),
        sites=dataclasses.replace(
            base.sites,
            required=tuple(g[state.SC_REQUIRED]),
            forbidden=tuple(g[state.SC_FORBIDDEN]),
            capacity_hours=float(g[state.SC_CAPACITY]),
            existing_capacity_hours=existing_cap if existing_cap > 0 else None,
            fixed_cost_kzt=float(g[state.SC_FIXED_COST]),
            existing_fixed_cost_kzt=float(g[state.SC_EXISTING_FIXED_COST]),
            travel_cost_kzt_per_km=float(g[state.SC_TRAVEL_COST]),
            service_hours_per_visit=float(g[state.SC_HOURS_PER_VISIT]),
        ),
        solver=dataclasses.replace(
            base.solver,
            time_limit_s=float(g[state.SC_TIME_LIMIT]),
            seed=int(g[state.SC_SEED]),
            gap_tolerance=round(float(g[state.SC_GAP]) / 100.0, 12),
            backend=g[state.SC_BACKEND],
            n_best=int(g[state.SC_N_BEST]),
            compute_regret=bool(g[state.SC_REGRET]),
        ),
    )
    # Validate exactly like a scenario file.
    return scenarios.scenario_from_dict(
        tomllib.loads(scenarios.scenario_to_toml(s)), source=t("nav_scenario")
    )


def _demand_parameters(base: Scenario) -> dict[str, float]:
    """Demand assumptions that differ from the library defaults (others stay implicit)."""
    params = {
        k: float(v) for k, v in base.demand.parameters.items() if k not in state.DEMAND_PARAMS
    }
    for name in state.DEMAND_PARAMS:
        value = float(st.session_state.get(state.DEMAND_PARAM_PREFIX + name, 0.0))
        if value != float(getattr(DEFAULT_DEMAND, name)):
            params[name] = value
    return params


def _base_scenario() -> Scenario:
    """Return the scenario last loaded into the editor (keeps sections the editor hides)."""
    text = st.session_state.get(state.SC_BASE_TOML)
    if not text:
        return default_scenario()
    return scenarios.scenario_from_dict(tomllib.loads(text), source=t("nav_scenario"))


def default_scenario() -> Scenario:
    """Return the built-in default, with farm count and time limit lowered by the environment."""
    s = scenarios.load_scenario("default")
    n = state.env_int(state.ENV_N_FARMS, s.data.n_farms)
    limit = state.env_float(state.ENV_TIME_LIMIT, s.solver.time_limit_s)
    return s.replace(
        data=dataclasses.replace(s.data, n_farms=n),
        solver=dataclasses.replace(s.solver, time_limit_s=limit),
    )


def init_state() -> None:
    """Fill the editor with the default scenario on a session's first visit."""
    st.session_state.setdefault(state.SC_BASE, "builtin:default")
    if state.SC_KIND not in st.session_state:
        s = default_scenario()
        st.session_state[state.SC_BASE_TOML] = scenarios.scenario_to_toml(s)
        for k, v in widget_values(s).items():
            st.session_state.setdefault(k, v)


def _load_into_editor(source: str) -> None:
    """Replace (Load button callback) the editor's values by a scenario."""
    try:
        if source.startswith("saved:"):
            s = cache.workspace().load_scenario(source.removeprefix("saved:"))
        elif source.startswith("shared:"):  # read-only: saving makes the user's own copy
            s = cache.workspace().load_shared(int(source.removeprefix("shared:")))
        elif source == "builtin:default":
            s = default_scenario()
        else:
            s = scenarios.load_scenario(source.removeprefix("builtin:"))
            n = state.env_int(state.ENV_N_FARMS, s.data.n_farms)
            limit = state.env_float(state.ENV_TIME_LIMIT, s.solver.time_limit_s)
            s = s.replace(
                data=dataclasses.replace(s.data, n_farms=min(n, s.data.n_farms)),
                solver=dataclasses.replace(s.solver, time_limit_s=limit),
            )
    except PlannerError as exc:
        state.flash(str(exc), "error")
        return
    st.session_state[state.SC_BASE_TOML] = scenarios.scenario_to_toml(s)
    for k, v in widget_values(s).items():
        st.session_state[k] = v
    if source.startswith(("saved:", "shared:")):
        tables = (
            cache.stored_tables(source.removeprefix("saved:"))
            if source.startswith("saved:")
            else cache.shared_tables(int(source.removeprefix("shared:")))
        )
        if tables is not None:
            st.session_state[state.SC_RESULT] = {"tables": tables, "scenario": s, "saved": True}
    state.flash(t("loaded", name=s.name), "success")


# -- editor -------------------------------------------------------------------------------


def _source_options(kind: str, default: str, current: str) -> tuple[list[str], dict[str, str]]:
    ws = cache.workspace()
    options = [default]
    labels = {
        default: t("synthetic") if default == SYNTHETIC else t("settlements_src"),
    }
    for up in ws.list_uploads(kind):
        key = f"{UPLOAD_PREFIX}{up.id}"
        options.append(key)
        labels[key] = f"{t('uploaded')}: {up.filename}"
    if current not in options:
        options.append(current)
        labels[current] = current.removeprefix(FILE_PREFIX)
    return options, labels


def _pick_from_map(sites: pd.DataFrame, valid: set[str]) -> None:
    """Apply a new map selection to the required/forbidden lists (before they render)."""
    event = st.session_state.get(state.SC_PICK_MAP)
    if event is None:
        return
    try:
        objects = event.selection.objects.get("candidates", [])
    except AttributeError:
        return
    picked = tuple(sorted(str(o.get("site_id")) for o in objects if o.get("site_id") in valid))
    if picked == st.session_state.get("_sc_last_pick"):
        return
    st.session_state["_sc_last_pick"] = picked
    role = st.session_state.get(state.SC_PICK_ROLE, "required")
    target, other = (
        (state.SC_REQUIRED, state.SC_FORBIDDEN)
        if role == "required"
        else (state.SC_FORBIDDEN, state.SC_REQUIRED)
    )
    st.session_state[target] = list(dict.fromkeys([*st.session_state[target], *picked]))
    st.session_state[other] = [x for x in st.session_state[other] if x not in picked]
    del sites


def _editor() -> None:  # noqa: PLR0915
    g = st.session_state
    c1, c2 = st.columns([2, 3])
    c1.text_input(t("name"), key=state.SC_NAME, max_chars=120)
    c2.text_input(t("title"), key=state.SC_TITLE, max_chars=200)

    with st.expander(t("sec_model"), expanded=True):
        c = list(st.columns([3, 1, 1, 1]))
        c[0].selectbox(
            t("model_kind"),
            KINDS,
            format_func=labeller(_kind_label),
            key=state.SC_KIND,
            on_change=_on_kind_change,
        )
        kind = g[state.SC_KIND]
        if kind in P_KINDS:
            c[1].number_input(t("p"), min_value=1, max_value=500, step=1, key=state.SC_P)
        if kind in ("mclp", "set_cover"):
            c[2].radio(
                t("radius_unit"),
                ("km", "min"),
                format_func=labeller(lambda u, lg: t(f"u_{u}", lg)),
                key=state.SC_RADIUS_UNIT,
            )
            if g[state.SC_RADIUS_UNIT] == "km":
                c[3].number_input(
                    t("radius_km"),
                    min_value=1.0,
                    max_value=3000.0,
                    step=10.0,
                    key=state.SC_RADIUS_KM,
                )
            else:
                c[3].number_input(
                    t("radius_min"),
                    min_value=1.0,
                    max_value=3000.0,
                    step=10.0,
                    key=state.SC_RADIUS_MIN,
                )
        c = list(st.columns(4))
        if kind == "cflp":
            c[0].checkbox(t("single_source"), key=state.SC_SINGLE_SOURCE)
        if kind in ("p_median", "mclp"):
            c[0].checkbox(t("capacitated"), key=state.SC_CAPACITATED)
        if kind == "p_center":
            c[0].checkbox(t("weighted"), key=state.SC_WEIGHTED)
        c[1].number_input(t("min_new"), min_value=0, max_value=500, step=1, key=state.SC_MIN_NEW)
        c[2].number_input(t("max_new"), min_value=0, max_value=500, step=1, key=state.SC_MAX_NEW)
        if kind == "cflp":
            st.caption(
                t(
                    "cflp_costs_note",
                    fixed=num(g[state.SC_FIXED_COST]),
                    capacity=num(g[state.SC_CAPACITY]),
                )
            )

    with st.expander(t("sec_demand"), expanded=False):
        options, labels = _source_options("farms", SYNTHETIC, g[state.SC_FARMS_SOURCE])
        c = list(st.columns(3))
        c[0].selectbox(
            t("farms_source"), options, format_func=lambda k: labels[k], key=state.SC_FARMS_SOURCE
        )
        if g[state.SC_FARMS_SOURCE] == SYNTHETIC:
            c[1].number_input(
                t("n_farms"), min_value=100, max_value=1_000_000, step=1000, key=state.SC_N_FARMS
            )
            c[2].number_input(t("farm_seed"), min_value=0, step=1, key=state.SC_FARM_SEED)
        c = list(st.columns(3))
        c[0].slider(t("belarus_share_tractors"), 0.0, 1.0, step=0.05, key=state.SC_SHARE)
        c[0].slider(t("belarus_share_combines"), 0.0, 1.0, step=0.05, key=state.SC_SHARE_COMBINES)
        c[1].checkbox(t("belarus_only"), key=state.SC_BELARUS_ONLY)
        c[2].radio(
            t("basis"),
            ("year", "peak_week"),
            format_func=labeller(lambda b, lg: t(f"b_{b}", lg)),
            key=state.SC_BASIS,
        )

    with st.expander(t("sec_demand_params"), expanded=False):
        st.caption(t("demand_params_note"))
        cols = list(st.columns(4))
        for i, name in enumerate(state.DEMAND_PARAMS):
            cols[i % 4].number_input(
                name.replace("_", " "),
                min_value=0.0,
                step=0.05 if "share" in name or "uplift" in name else 1.0,
                key=state.DEMAND_PARAM_PREFIX + name,
            )

    with st.expander(t("sec_travel"), expanded=False):
        c = list(st.columns(4))
        c[0].slider(t("circuity"), 1.0, 3.0, step=0.05, key=state.SC_CIRCUITY)
        c[1].number_input(t("speed"), min_value=5.0, max_value=200.0, step=5.0, key=state.SC_SPEED)
        c[2].radio(
            t("cost_unit"),
            ("km", "min"),
            format_func=labeller(lambda u, lg: t(f"u_{u}", lg)),
            key=state.SC_COST_UNIT,
        )
        c[3].number_input(
            t("k_nearest"), min_value=1, max_value=640, step=5, key=state.SC_K_NEAREST
        )
        # Only the road file a loaded scenario names (its `[travel] road_network`) or none:
        # the app never opens a server path typed in a browser.
        current = str(g.get(state.SC_ROAD_NETWORK, ""))
        roads_opts = ["", current] if current else [""]
        st.selectbox(
            t("road_network"),
            roads_opts,
            format_func=lambda v: Path(v).name if v else t("road_network_none"),
            key=state.SC_ROAD_NETWORK,
            help=t("road_network_help"),
        )

    with st.expander(t("sec_sites"), expanded=False):
        options, labels = _source_options("sites", SETTLEMENTS, g[state.SC_SITES_SOURCE])
        c = list(st.columns(3))
        c[0].selectbox(
            t("sites_source"), options, format_func=lambda k: labels[k], key=state.SC_SITES_SOURCE
        )
        if g[state.SC_SITES_SOURCE] == SETTLEMENTS:
            c[1].number_input(
                t("min_pop"), min_value=0, max_value=2_000_000, step=1000, key=state.SC_MIN_POP
            )
            c[2].checkbox(t("include_existing"), key=state.SC_INCLUDE_EXISTING)
        sites = _current_sites()
        ids = sites["site_id"].astype(str).tolist()
        names = dict(zip(ids, sites["name"].astype(str), strict=True))
        valid = set(ids)
        _pick_from_map(sites, valid)
        for key in (state.SC_REQUIRED, state.SC_FORBIDDEN):
            # keep only ids of the current list ("existing" means every existing operation)
            g[key] = [x for x in g[key] if x in valid or x == "existing"]
        options_ids = ["existing", *ids]
        names["existing"] = t("facilities")
        c = list(st.columns(2))
        c[0].multiselect(
            t("required"),
            options_ids,
            format_func=lambda i: f"{names.get(i, i)} ({i})",
            key=state.SC_REQUIRED,
        )
        c[1].multiselect(
            t("forbidden"),
            options_ids,
            format_func=lambda i: f"{names.get(i, i)} ({i})",
            key=state.SC_FORBIDDEN,
        )
        if st.toggle(t("pick_on_map"), key=state.SC_PICK_SHOW):
            st.radio(
                t("pick_role"),
                ("required", "forbidden"),
                format_func=labeller(t),
                key=state.SC_PICK_ROLE,
                horizontal=True,
            )
            st.caption(t("pick_hint"))
            layer = maps.candidate_layer(
                sites, set(g[state.SC_REQUIRED]), set(g[state.SC_FORBIDDEN])
            )
            st.pydeck_chart(
                maps.deck([*maps.context_layers(_lang()), layer]),
                key=state.SC_PICK_MAP,
                on_select="rerun",
                selection_mode="multi-object",
                height=480,
            )
        c = list(st.columns(4))
        c[0].number_input(
            t("capacity"), min_value=0.0, step=10_000.0, key=state.SC_CAPACITY, format="%.0f"
        )
        c[1].number_input(
            t("existing_capacity"),
            min_value=0.0,
            step=10_000.0,
            key=state.SC_EXISTING_CAPACITY,
            format="%.0f",
        )
        c[2].number_input(
            t("fixed_cost"), min_value=0.0, step=1e6, key=state.SC_FIXED_COST, format="%.0f"
        )
        c[3].number_input(
            t("existing_fixed_cost"),
            min_value=0.0,
            step=1e6,
            key=state.SC_EXISTING_FIXED_COST,
            format="%.0f",
        )
        c = list(st.columns(4))
        c[0].number_input(
            t("travel_cost"), min_value=0.0, step=10.0, key=state.SC_TRAVEL_COST, format="%.0f"
        )
        c[1].number_input(
            t("hours_per_visit"), min_value=0.5, step=0.5, key=state.SC_HOURS_PER_VISIT
        )

    with st.expander(t("sec_solver"), expanded=False):
        c = list(st.columns(6))
        c[0].number_input(
            t("time_limit"), min_value=1.0, max_value=3600.0, step=5.0, key=state.SC_TIME_LIMIT
        )
        c[5].number_input(
            t("gap_tol"), min_value=0.0, max_value=50.0, step=0.5, format="%.4f", key=state.SC_GAP
        )
        c[1].selectbox(t("backend"), BACKENDS, key=state.SC_BACKEND)
        c[2].number_input(t("n_best"), min_value=1, max_value=10, step=1, key=state.SC_N_BEST)
        c[3].number_input(t("seed"), min_value=0, step=1, key=state.SC_SEED)
        c[4].checkbox(t("regret"), key=state.SC_REGRET)


def _on_kind_change() -> None:
    """Keep the editor solvable when the model kind changes.

    Switching to cflp with neither a fixed cost nor a capacity takes the built-in cost.
    Switching to two_echelon drops required or forbidden sites that are assembly plants: that
    model plans them as plants, not as service centres (:data:`planner.references.CENTRE_KINDS`).
    """
    g = st.session_state
    if g[state.SC_KIND] == "cflp" and g[state.SC_FIXED_COST] == 0 and g[state.SC_CAPACITY] == 0:
        g[state.SC_FIXED_COST] = float(
            scenarios.load_scenario(_CFLP_COSTS_FROM).sites.fixed_cost_kzt
        )
    if g[state.SC_KIND] == "two_echelon":
        fac = cache.facilities()
        plants = set(fac.loc[~fac["kind"].isin(references.CENTRE_KINDS), "facility_id"].astype(str))
        for key in (state.SC_REQUIRED, state.SC_FORBIDDEN):
            g[key] = [s for s in g.get(key) or [] if str(s) not in plants]


def _kind_label(kind: str, lg: str) -> str:
    key = f"k_{kind}"
    return t(key, lg) if key in STRINGS else kind


def _lang() -> str:
    return lang()


def _current_sites() -> pd.DataFrame:
    g = st.session_state
    try:
        data = DataSpec(
            sites=_source_path(g[state.SC_SITES_SOURCE], SETTLEMENTS),
            min_site_population=int(g[state.SC_MIN_POP]),
            include_existing=bool(g[state.SC_INCLUDE_EXISTING]),
        )
        return cache.candidate_sites(Scenario(name="sites", data=data, model=ModelSpec(p=1)))  # type: ignore[no-any-return]
    except PlannerError as exc:
        st.error(md(str(exc)))
        return pd.DataFrame({"site_id": [], "name": [], "lon": [], "lat": [], "role": []})


# -- running --------------------------------------------------------------------------------


def _start_run() -> None:
    """Start a background solve (Run button callback); ignored while one is running."""
    running: SolveJob | None = st.session_state.get(state.SC_JOB)
    if running is not None and not running.done:
        return
    try:
        scenario = scenario_from_widgets()
    except PlannerError as exc:
        state.flash(str(exc), "error")
        return
    st.session_state.pop(state.SC_LAST_ERROR, None)
    job = SolveJob(scenario)
    job.start(lambda: solving.scenario_inputs(scenario), scenario.solver.time_limit_s)
    st.session_state[state.SC_JOB] = job


def _cancel_run() -> None:
    job = st.session_state.get(state.SC_JOB)
    if job is not None:
        job.cancel()


def _progress_figure(job: SolveJob) -> go.Figure:
    hist = job.snapshot()
    fig = go.Figure()
    xs = [p.elapsed_s for p in hist]
    fig.add_scatter(x=xs, y=[p.incumbent for p in hist], mode="lines+markers", name=t("incumbent"))
    fig.add_scatter(x=xs, y=[p.bound for p in hist], mode="lines+markers", name=t("bound"))
    fig.update_layout(
        height=220,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        title=t("progress_chart"),
        xaxis_title=t("elapsed"),
        legend={"orientation": "h"},
    )
    return fig


def _finish(job: SolveJob) -> None:
    """Move a finished job's result into the session (or show its error)."""
    st.session_state.pop(state.SC_JOB, None)
    if job.result is not None:
        tables = export.result_tables(job.result)
        runs = int(st.session_state.get(state.SC_RUNS, 0)) + 1
        st.session_state[state.SC_RUNS] = runs
        st.session_state[state.SC_RESULT] = {
            "tables": tables,
            "scenario": job.scenario,
            "saved": False,
            "cancelled": job.token.cancelled,
            "run": runs,
            "wall_s": job.elapsed,
            "finished_at": time.strftime("%H:%M:%S"),
        }
        st.session_state[state.SC_SAVE_NAME] = job.scenario.name
        if job.token.cancelled:
            state.flash(t("cancelled"), "warning")
    elif job.error == "cancelled":
        state.flash(t("cancelled"), "warning")
    elif job.internal:
        st.session_state[state.SC_LAST_ERROR] = t("internal_error", err=job.error)
    else:
        st.session_state[state.SC_LAST_ERROR] = f"{t('solve_failed')} {job.error}"


def _quick_wait_s() -> float:
    return max(0.0, state.env_float(state.ENV_QUICK_WAIT, QUICK_WAIT_S))


def _progress_text(job: SolveJob) -> str:
    last = job.latest()
    text = t("preparing") if job.phase == "preparing" else t("running", s=job.elapsed)
    if last is not None and last.gap is not None:
        text += f" · {t('gap')} {pct(last.gap, 2)}"
    return text


def _wait_briefly(job: SolveJob) -> None:
    """Wait for a job that started less than ``QUICK_WAIT_S`` ago, showing a progress bar.

    Runs in the script (the click's rerun): nothing else is re-rendered meanwhile, so the
    solver has the CPU, and a solve that ends in time is shown in this same rerun.
    """
    limit = max(job.scenario.solver.time_limit_s, 1e-9)
    bar = st.progress(0.0, text=_progress_text(job))
    while not job.done and job.elapsed < _quick_wait_s():
        job.wait(_QUICK_POLL_S)
        bar.progress(min(job.elapsed / limit, 1.0), text=_progress_text(job))
    bar.empty()


@st.fragment(run_every=0.3)
def _progress_panel() -> None:
    job: SolveJob | None = st.session_state.get(state.SC_JOB)
    if job is None:
        return
    if job.done:
        _finish(job)
        st.rerun()
    limit = job.scenario.solver.time_limit_s
    if job.phase == "preparing":
        st.progress(0.0, text=t("preparing"))
    else:
        st.progress(min(job.elapsed / max(limit, 1e-9), 1.0), text=t("running", s=job.elapsed))
    last = job.latest()
    c = list(st.columns([1, 1, 1, 1]))
    c[0].metric(t("incumbent"), num(last.incumbent if last else None))
    c[1].metric(t("bound"), num(last.bound if last else None))
    c[2].metric(t("gap"), pct(last.gap if last else None, 2))
    c[3].button(t("cancel"), key=state.SC_CANCEL, on_click=_cancel_run, type="secondary")
    # The incumbent/bound chart only for solves that take a while: a re-solve of a second
    # or two would otherwise wait for plotly's JavaScript (4.7 MB) to load in the browser.
    if last is not None and job.elapsed >= _CHART_AFTER_S:
        st.plotly_chart(_progress_figure(job), key="sc_progress_chart")


# -- results ----------------------------------------------------------------------------------


def _save(result: dict[str, Any]) -> None:
    name = str(st.session_state.get(state.SC_SAVE_NAME, "")).strip()
    overwrite = bool(st.session_state.get(state.SC_OVERWRITE, False))
    scenario: Scenario = result["scenario"]
    try:
        cache.workspace().save_scenario(
            scenario.replace(name=name or scenario.name),
            export.to_stored(result["tables"]),
            overwrite=overwrite,
        )
    except (StoreError, PlannerError) as exc:
        state.flash(str(exc), "error")
        return
    result["saved"] = True
    state.flash(t("saved_ok", name=name), "success")


def _save_definition() -> None:
    """Save the editor's scenario without results (Save-definition button callback)."""
    try:
        scenario = scenario_from_widgets()
        cache.workspace().save_scenario(
            scenario, None, overwrite=bool(st.session_state.get(state.SC_OVERWRITE, False))
        )
    except PlannerError as exc:
        state.flash(str(exc), "error")
        return
    state.flash(t("saved_ok", name=scenario.name), "success")


def _results(*, stale: bool = False) -> None:
    """Show the last result (``stale``: a new solve is running and will replace it).

    The elements keep their places while a new solve runs, so its result updates them in
    place: the browser keeps its map (and deck.gl's compiled shaders) instead of rebuilding it.
    """
    result = st.session_state.get(state.SC_RESULT)
    st.subheader(t("results"))
    if result is None:
        st.caption(t("no_results"))
        return
    tables: export.ResultTables = result["tables"]
    s = tables.summary
    with st.container(key="sc_result_head"):
        st.caption(
            f"{t('status')}: **{status_label(s.get('status'))}** · "
            f"{t('gap')}: {pct(s.get('gap'), 2)} · "
            f"{md(s.get('scenario'))} · {md(s.get('model'))}"
            # solved in this session (a result loaded from the workspace has no run number)
            + (
                " · "
                + t(
                    "run_info",
                    n=result["run"],
                    s=num(result["wall_s"], 1),
                    at=result["finished_at"],
                )
                if "run" in result
                else ""
            )
            + (f" · **{t('stale_result')}**" if stale else "")
        )
    views.kpi_metrics(s)
    c_map, c_side = st.columns([3, 2])
    with c_map:
        mode = st.radio(
            t("map_show"),
            ("lines", "catchments"),
            format_func=labeller(lambda m, lg: t("ml_lines" if m == "lines" else "ml_catch", lg)),
            key=state.SC_MAP_LAYER,
            horizontal=True,
        )
        views.result_map(tables, key=state.SC_MAP, mode=mode)
        st.caption(t("uncovered_farms"))
    with c_side:
        views.objective_metric(s, tables.scenario_toml)
        st.markdown(f"**{t('site_table')}**")
        st.dataframe(
            views.open_site_table(tables), hide_index=True, key="sc_site_table", height=300
        )
        views.dossier(tables, key=state.SC_DOSSIER)
    views.data_notes(s)
    st.divider()
    c = list(st.columns([3, 2], vertical_alignment="bottom"))
    c[0].text_input(t("save_as"), key=state.SC_SAVE_NAME, max_chars=120)
    c[1].button(t("save"), key=state.SC_SAVE, on_click=_save, args=(result,), type="primary")
    st.checkbox(t("overwrite"), key=state.SC_OVERWRITE)  # full width: its label is long
    if not result.get("saved"):
        st.caption(t("unsaved"))


# -- workspace management ---------------------------------------------------------------------


def _ws_action(action: str) -> None:
    ws = cache.workspace()
    name = st.session_state.get(state.WS_SELECTED)
    new = str(st.session_state.get(state.WS_NEW_NAME, "")).strip()
    try:
        if action == "rename" and name:
            ws.rename(name, new)
            st.session_state[state.WS_SELECTED] = new
            st.session_state[state.WS_NEW_NAME] = ""
            state.flash(f"{name} → {new}")
        elif action == "duplicate" and name:
            copy = ws.duplicate(name, new or None)
            st.session_state[state.WS_NEW_NAME] = ""
            state.flash(f"{name} → {copy}")
        elif action == "delete" and name:
            if not st.session_state.get(state.WS_CONFIRM_DELETE):
                state.flash(t("confirm_delete"), "warning")
                return
            ws.delete(name)
            st.session_state[state.WS_CONFIRM_DELETE] = False
            state.flash(f"{name} → {t('trash')}")
        elif action == "restore":
            sid = st.session_state.get(state.WS_TRASH)
            if sid is not None:
                state.flash(f"{t('restore')}: {ws.restore(int(sid))}")
    except PlannerError as exc:
        state.flash(str(exc), "error")


def _workspace_panel() -> None:
    ws = cache.workspace()
    records = ws.list_scenarios()
    with st.expander(f"{t('workspace')} ({len(records)})"):
        if not auth.signed_in():  # a signed-in user is not shown the server's file paths
            st.caption(str(ws.path))
        if not records:
            st.caption(t("ws_empty"))
        else:
            names = [r.name for r in records]
            if st.session_state.get(state.WS_SELECTED) not in names:
                st.session_state[state.WS_SELECTED] = names[0]
            c = list(st.columns([3, 3]))
            c[0].selectbox(t("ws_pick"), names, key=state.WS_SELECTED)
            c[1].text_input(t("ws_new_name"), key=state.WS_NEW_NAME, max_chars=120)
            c = list(st.columns(4))
            c[0].button(t("rename"), key=state.WS_RENAME, on_click=_ws_action, args=("rename",))
            c[1].button(
                t("duplicate"), key=state.WS_DUPLICATE, on_click=_ws_action, args=("duplicate",)
            )
            c[2].checkbox(t("confirm_delete"), key=state.WS_CONFIRM_DELETE)
            c[3].button(t("delete"), key=state.WS_DELETE, on_click=_ws_action, args=("delete",))
        trash = ws.list_scenarios(trash=True)
        if trash:
            labels = {r.id: f"{r.name} ({r.updated_at[:16]})" for r in trash}
            c = list(st.columns([3, 1]))
            c[0].selectbox(
                t("trash"), list(labels), format_func=lambda i: labels[i], key=state.WS_TRASH
            )
            c[1].button(t("restore"), key=state.WS_RESTORE, on_click=_ws_action, args=("restore",))
        workspace_ui.panel(ws, [r.name for r in records], _load_into_editor)


def _flash() -> None:
    msg = st.session_state.pop(state.SC_FLASH, None)
    if msg is None:
        return
    kind, text = msg
    {"error": st.error, "warning": st.warning}.get(kind, st.success)(md(text))


def render() -> None:
    """Render the Scenario page."""
    init_state()
    st.title(t("scenario_title"))
    try:
        workspace_ui.open_from_query(cache.workspace(), _load_into_editor)
        _flash()
        ws = cache.workspace()
        sources = [f"builtin:{n}" for n in scenarios.builtin_scenarios()]
        sources += [f"saved:{r.name}" for r in ws.list_scenarios()]
        c = list(st.columns([4, 1]))
        c[0].selectbox(
            t("start_from"),
            sources,
            format_func=labeller(
                lambda v, lg: (
                    f"{v.split(':', 1)[1]} "
                    f"({t('builtin' if v.startswith('builtin:') else 'saved', lg)})"
                )
            ),
            key=state.SC_BASE,
        )
        c[1].button(
            t("load"),
            key=state.SC_LOAD,
            on_click=lambda: _load_into_editor(st.session_state[state.SC_BASE]),
        )
        _workspace_panel()
        _editor()
        # Fixed slots: the buttons are drawn after a short wait for a fresh solve (so that
        # Run is enabled again when it ended), and the progress slot exists even when idle,
        # so the results below keep their places between reruns.
        buttons = st.container()
        progress = st.container()
        job: SolveJob | None = st.session_state.get(state.SC_JOB)
        if job is not None and not job.done and job.elapsed < _quick_wait_s():
            with progress:
                _wait_briefly(job)
        if job is not None and job.done:
            _finish(job)
        running = st.session_state.get(state.SC_JOB) is not None
        # buttons as wide as their labels (fixed columns cut the Russian labels short)
        with buttons, st.container(horizontal=True):
            st.button(
                t("run"), key=state.SC_RUN, on_click=_start_run, type="primary", disabled=running
            )
            st.button(t("save_def"), key=state.SC_SAVE_DEF, on_click=_save_definition)
        with progress:
            _flash()  # what _finish reported (a cancelled run)
            if running:
                _progress_panel()
        last_error = st.session_state.get(state.SC_LAST_ERROR)
        if last_error:
            st.error(md(last_error))
        _results(stale=running)
    except PlannerError as exc:
        st.error(md(str(exc)))
