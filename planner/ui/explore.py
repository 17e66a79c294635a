"""Explore page: the embedded Kazakhstan data on a map, with oblast figures alongside."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import pydeck as pdk
import streamlit as st

from planner.ui import cache, maps

MACHINES = {"All machines": "all", "Tractors": "tractors", "Combines": "combines"}
AGES = {"All ages": "", "0–10 years": "_0_10", "10–17 years": "_10_17", "over 17 years": "_17p"}
FARM_COUNTS = (2_000, 20_000, 200_000)
MIN_SETTLEMENT_POPULATION = 5_000


def _machine_weight(farms: pd.DataFrame, machine: str, age: str) -> np.ndarray:
    types = ["tractors", "combines"] if machine == "all" else [machine]
    cols = [f"{t}{age}" if age else t for t in types]
    return farms[cols].to_numpy(dtype=np.float64).sum(axis=1)


def render() -> None:
    """Render the Explore page."""
    st.title("Explore the Kazakhstan data")
    with st.sidebar:
        st.header("Data")
        n_farms = st.selectbox(
            "Synthetic farms",
            FARM_COUNTS,
            index=1,
            key="explore_n_farms",
            format_func=lambda n: f"{n:,}",
        )
        share = st.slider(
            "Belarus-made share of machines", 0.0, 1.0, 0.5, 0.05, key="explore_belarus_share"
        )
        oblasts = cache.oblasts()
        names = dict(zip(oblasts["iso"], oblasts["name_en"], strict=True))
        chosen = st.multiselect(
            "Oblasts",
            oblasts["iso"].tolist(),
            key="explore_oblasts",
            format_func=lambda iso: f"{iso} {names[iso]}",
            placeholder="All oblasts",
        )
        machine = MACHINES[st.radio("Machine type", list(MACHINES), key="explore_machine")]
        age = AGES[st.radio("Age class", list(AGES), key="explore_age")]
        show_settlements = st.checkbox("Settlements", value=True, key="explore_settlements")
        show_facilities = st.checkbox(
            "Existing Belarusian operations", value=True, key="explore_facilities"
        )
        show_rail = st.checkbox("Rail entry points", value=True, key="explore_rail")

    farms = cache.synthetic_farms(int(n_farms), 42, float(share))
    if chosen:
        farms = farms.loc[farms["oblast_iso"].isin(chosen)]
    weight = _machine_weight(farms, machine, age)
    st.info(
        "Farms are **synthetic**: generated around real GeoNames settlements and calibrated "
        "to oblast sown area and fleet totals. They are not real farms. "
        + " ".join(farms.attrs.get("data_notes", [])[:1])
    )
    grid = maps.grid_demand(farms["lon"].to_numpy(), farms["lat"].to_numpy(), weight, cell_deg=0.25)
    grid["label"] = [
        f"{int(n):,} farms, {w:,.0f} machines"
        for n, w in zip(grid["n"], grid["weight"], strict=True)
    ]
    layers: list[pdk.Layer] = maps.context_layers("en")
    layers.insert(
        1,
        pdk.Layer(
            "HeatmapLayer",
            data=grid,
            id="farm-heat",
            get_position=["lon", "lat"],
            get_weight="weight",
            radius_pixels=35,
            opacity=0.55,
        ),
    )
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            data=grid,
            id="farm-cells",
            get_position=["lon", "lat"],
            get_radius=6000,
            get_fill_color=[0, 0, 0, 0],
            pickable=True,
        )
    )
    if show_settlements:
        s = cache.settlements()
        s = s.loc[s["population"] >= MIN_SETTLEMENT_POPULATION]
        sd = maps.escape_columns(
            pd.DataFrame(
                {"lon": s["lon"], "lat": s["lat"], "label": s["name"], "pop": s["population"]}
            ),
            ["label"],
        )
        sd["label"] = sd["label"] + " (pop. " + sd["pop"].map("{:,}".format) + ")"
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                data=sd,
                id="settlements",
                get_position=["lon", "lat"],
                get_radius=4000,
                radius_min_pixels=1.5,
                get_fill_color=[30, 100, 200, 150],
                pickable=True,
            )
        )
    if show_facilities:
        f = cache.facilities()
        fd = maps.escape_columns(
            pd.DataFrame(
                {
                    "lon": f["lon"],
                    "lat": f["lat"],
                    "label": f["name"] + " — " + f["kind"] + " (" + f["status"] + ")",
                }
            ),
            ["label"],
        )
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                data=fd,
                id="facilities",
                get_position=["lon", "lat"],
                get_radius=20000,
                radius_min_pixels=6,
                get_fill_color=[200, 30, 30, 230],
                stroked=True,
                get_line_color=[255, 255, 255],
                line_width_min_pixels=1,
                pickable=True,
            )
        )
    if show_rail:
        r = cache.rail_entry_points()
        rd = maps.escape_columns(
            pd.DataFrame(
                {
                    "lon": r["lon"],
                    "lat": r["lat"],
                    "label": "Rail entry: " + r["name"] + " (confidence " + r["confidence"] + ")",
                }
            ),
            ["label"],
        )
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                data=rd,
                id="rail",
                get_position=["lon", "lat"],
                get_radius=15000,
                radius_min_pixels=5,
                get_fill_color=[120, 60, 160, 230],
                pickable=True,
            )
        )
    col_map, col_side = st.columns([3, 2])
    with col_map:
        st.pydeck_chart(maps.deck(layers), key="explore_map", height=560)
        c1, c2, c3 = st.columns(3)
        c1.metric("Farms shown", f"{len(farms):,}")
        c2.metric("Machines (selection)", f"{weight.sum():,.0f}")
        c3.metric("Service hours / year", f"{farms['service_hours_year'].sum():,.0f}")
    with col_side:
        st.subheader("Oblasts")
        table = cache.oblast_table("en")
        st.dataframe(table, hide_index=True, key="explore_oblast_table", height=330)
        fig = px.bar(
            table.sort_values("Sown area, kha"),
            x="Sown area, kha",
            y="ISO",
            orientation="h",
            hover_data=["Oblast", "Tractors", "Combines"],
            height=330,
        )
        fig.update_layout(margin={"l": 0, "r": 0, "t": 10, "b": 0})
        st.plotly_chart(fig, key="explore_oblast_chart")
    st.caption(
        "Sources: sown area and fleet per oblast — see `planner data` and geodata/MANIFEST.toml "
        "(estimated values are marked); settlements © GeoNames (CC BY 4.0); outline from "
        "Natural Earth (public domain) via countryinfo."
    )
