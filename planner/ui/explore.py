"""Explore page: the embedded Kazakhstan data on a map, with oblast figures alongside."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from planner.brief import format_number
from planner.errors import PlannerError
from planner.scenarios import DataSpec, Scenario
from planner.ui import cache, maps, state
from planner.ui.i18n import labeller, lang, md, name_column, num, t

if TYPE_CHECKING:
    import plotly.graph_objects as go

MACHINES = ("all", "tractors", "combines")
MACHINE_LABEL = {"all": "m_all", "tractors": "m_tractors", "combines": "m_combines"}
AGES = ("", "_0_10", "_10_17", "_17p")
AGE_LABEL = {"": "a_all", "_0_10": "a_0_10", "_10_17": "a_10_17", "_17p": "a_17p"}
FARM_COUNTS = (2_000, 20_000, 200_000)
MIN_SETTLEMENT_POPULATION = 5_000
CELL_DEG = 0.25


def _machine_weight(farms: pd.DataFrame, machine: str, age: str) -> np.ndarray:
    types = ["tractors", "combines"] if machine == "all" else [machine]
    cols = [f"{t_}{age}" if age else t_ for t_ in types]
    return farms[cols].to_numpy(dtype=np.float64).sum(axis=1)


def _init() -> None:
    n = state.env_int(state.ENV_N_FARMS, 20_000)
    counts = sorted({*FARM_COUNTS, n})
    defaults = {
        state.EXPLORE_N_FARMS: n if n in counts else 20_000,
        state.EXPLORE_SHARE: 0.5,
        state.EXPLORE_OBLASTS: [],
        state.EXPLORE_MACHINE: "all",
        state.EXPLORE_AGE: "",
        state.EXPLORE_SETTLEMENTS: True,
        state.EXPLORE_FACILITIES: True,
        state.EXPLORE_RAIL: True,
        state.EXPLORE_CANDIDATES: False,
    }
    for k, v in defaults.items():
        st.session_state.setdefault(k, v)


def _sidebar() -> None:
    n = state.env_int(state.ENV_N_FARMS, 20_000)
    with st.sidebar:
        st.header(t("data"))
        st.selectbox(
            t("synthetic_farms"),
            sorted({*FARM_COUNTS, n}),
            key=state.EXPLORE_N_FARMS,
            format_func=labeller(format_number),
        )
        st.slider(t("belarus_share"), 0.0, 1.0, step=0.05, key=state.EXPLORE_SHARE)
        oblasts = cache.oblasts()
        names = dict(zip(oblasts["iso"], oblasts[name_column()], strict=True))
        st.multiselect(
            t("oblasts"),
            oblasts["iso"].tolist(),
            key=state.EXPLORE_OBLASTS,
            format_func=lambda iso: f"{iso} {names[iso]}",
            placeholder=t("all_oblasts"),
        )
        st.radio(
            t("machine_type"),
            MACHINES,
            format_func=labeller(lambda m, lg: t(MACHINE_LABEL[m], lg)),
            key=state.EXPLORE_MACHINE,
        )
        st.radio(
            t("age_class"),
            AGES,
            format_func=labeller(lambda a, lg: t(AGE_LABEL[a], lg)),
            key=state.EXPLORE_AGE,
        )
        st.subheader(t("layers"))
        st.checkbox(t("settlements"), key=state.EXPLORE_SETTLEMENTS)
        st.checkbox(t("facilities"), key=state.EXPLORE_FACILITIES)
        st.checkbox(t("rail"), key=state.EXPLORE_RAIL)
        st.checkbox(t("candidates"), key=state.EXPLORE_CANDIDATES)


def _layers(farms: pd.DataFrame, weight: np.ndarray) -> list[pdk.Layer]:
    g = st.session_state
    grid = maps.grid_demand(
        farms["lon"].to_numpy(), farms["lat"].to_numpy(), weight, cell_deg=CELL_DEG
    )
    half = CELL_DEG / 2
    grid["polygon"] = [
        [[x - half, y - half], [x + half, y - half], [x + half, y + half], [x - half, y + half]]
        for x, y in zip(grid["lon"].to_numpy(), grid["lat"].to_numpy(), strict=True)
    ]
    grid["label"] = [
        t("farms_cell", n=num(n), w=num(w)) for n, w in zip(grid["n"], grid["weight"], strict=True)
    ]
    layers: list[pdk.Layer] = maps.context_layers(lang())
    # Demand density as coloured grid cells (the grid is aggregated on the server, so this is
    # a few thousand squares even for 200,000 farms); cheap to draw, also without a GPU.
    grid["color"] = maps.density_colors(grid["weight"].to_numpy())
    layers.insert(
        1,
        pdk.Layer(
            "PolygonLayer",
            data=grid.loc[:, ["polygon", "color", "label"]],
            id="farm-density",
            get_polygon="polygon",
            get_fill_color="color",
            stroked=False,
            pickable=True,
        ),
    )
    if g[state.EXPLORE_SETTLEMENTS]:
        s = cache.settlements()
        s = s.loc[s["population"] >= MIN_SETTLEMENT_POPULATION]
        col = "name_ru" if lang() in ("ru", "kk") and "name_ru" in s.columns else "name"
        sd = maps.escape_columns(
            pd.DataFrame({"lon": s["lon"], "lat": s["lat"], "label": s[col].fillna(s["name"])}),
            ["label"],
        )
        sd["label"] = sd["label"] + f" ({t('pop')} " + s["population"].map(num).to_numpy() + ")"
        layers.append(
            maps.point_layer(sd, "settlements", 4000, [30, 100, 200, 150], radius_min_pixels=1.5)
        )
    if g[state.EXPLORE_FACILITIES]:
        f = cache.facilities()
        label = f["name"] + " — " + f["kind"] + " (" + f["status"] + ")"
        fd = maps.escape_columns(
            pd.DataFrame({"lon": f["lon"], "lat": f["lat"], "label": label}), ["label"]
        )
        layers.append(
            maps.point_layer(
                fd, "facilities", 20000, [200, 30, 30, 230], outline_px=1, radius_min_pixels=6
            )
        )
    if g[state.EXPLORE_RAIL]:
        r = cache.rail_entry_points()
        label = f"{t('rail_entry')}: " + r["name"] + " (" + r["confidence"] + ")"
        rd = maps.escape_columns(
            pd.DataFrame({"lon": r["lon"], "lat": r["lat"], "label": label}), ["label"]
        )
        layers.append(maps.point_layer(rd, "rail", 15000, [120, 60, 160, 230], radius_min_pixels=5))
    if g[state.EXPLORE_CANDIDATES]:
        sites = cache.candidate_sites(Scenario(name="explore", data=DataSpec()))
        layers.append(maps.candidate_layer(sites, set(), set()))
    return layers


def _oblast_chart(shown: pd.DataFrame) -> go.Figure:
    """Horizontal bars of sown area per oblast (columns already in the interface language)."""
    import plotly.express as px  # noqa: PLC0415 - only when the chart tab is opened

    fig = px.bar(
        shown.sort_values(t("col_sown")),
        x=t("col_sown"),
        y=t("col_iso"),
        orientation="h",
        hover_data=[t("col_oblast"), t("col_tractors"), t("col_combines")],
        height=330,
    )
    fig.update_layout(margin={"l": 0, "r": 0, "t": 10, "b": 0})
    return fig


def render() -> None:
    """Render the Explore page."""
    _init()
    st.title(t("explore_title"))
    _sidebar()
    g = st.session_state
    try:
        with st.spinner(t("generating_farms")):
            farms = cache.synthetic_farms(
                int(g[state.EXPLORE_N_FARMS]), 42, float(g[state.EXPLORE_SHARE])
            )
    except PlannerError as exc:
        st.error(md(str(exc)))
        return
    chosen = g[state.EXPLORE_OBLASTS]
    if chosen:
        farms = farms.loc[farms["oblast_iso"].isin(chosen)]
    weight = _machine_weight(farms, g[state.EXPLORE_MACHINE], g[state.EXPLORE_AGE])
    st.info(t("synthetic_note"))
    col_map, col_side = st.columns([3, 2])
    with col_map:
        # The KPI tiles are sent before the map (they sit below it): the browser shows them
        # while it is still loading deck.gl and drawing the first frame.
        map_slot = st.empty()
        c1, c2, c3 = st.columns(3)
        c1.metric(t("farms_shown"), num(len(farms)))
        c2.metric(t("machines_sel"), num(weight.sum()))
        c3.metric(t("hours_year"), num(farms["service_hours_year"].sum()))
        map_slot.pydeck_chart(maps.deck(_layers(farms, weight)), key="explore_map", height=560)
    with col_side:
        st.subheader(t("oblasts"))
        table = cache.oblast_table(lang())
        shown = table.rename(
            columns={
                "iso": t("col_iso"),
                "oblast": t("col_oblast"),
                "sown_area_kha": t("col_sown"),
                "tractors": t("col_tractors"),
                "combines": t("col_combines"),
                "fleet_status": t("col_fleet"),
            }
        )
        # The chart sits in a second tab that only runs when opened: plotly (4.7 MB of
        # JavaScript) then never delays the first map.
        tab_table, tab_chart = st.tabs(
            [t("tab_table"), t("tab_chart")], key=state.EXPLORE_OBLAST_TAB, on_change="rerun"
        )
        with tab_table:
            st.dataframe(shown, hide_index=True, key="explore_oblast_table", height=330)
        if tab_chart.open:
            with tab_chart:
                st.plotly_chart(_oblast_chart(shown), key="explore_oblast_chart")
    st.caption(t("sources"))
