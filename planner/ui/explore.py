"""Explore page: the embedded Kazakhstan data on a map, with oblast and district figures."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from planner.errors import PlannerError
from planner.farms import farms_by_district
from planner.i18n import LANGUAGES, format_number
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
# oblast table: column, its label's i18n key, decimals (None: text)
OBLAST_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("iso", "col_iso", None),
    ("oblast", "col_oblast", None),
    ("sown_area_kha", "col_sown", 1),
    ("tractors", "col_tractors", 0),
    ("combines", "col_combines", 0),
    ("fleet_status", "col_fleet", None),
)

# district table: column, its label's i18n key, decimals (None: text)
DISTRICT_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("district", "col_district", None),
    ("oblast_iso", "col_iso", None),
    ("n_farms", "col_farms", 0),
    ("sown_area_kha", "col_sown", 1),
    ("weight", "machines_sel", 0),
    ("service_hours_year", "hours_year", 0),
)


def _machine_weight(farms: pd.DataFrame, machine: str, age: str) -> np.ndarray:
    types = ["tractors", "combines"] if machine == "all" else [machine]
    cols = [f"{t_}{age}" if age else t_ for t_ in types]
    return farms[cols].to_numpy(dtype=np.float64).sum(axis=1)  # type: ignore[no-any-return]


def _init() -> None:
    v = default_view()
    defaults = {
        state.EXPLORE_N_FARMS: v.n_farms,
        state.EXPLORE_SHARE: v.belarus_share,
        state.EXPLORE_OBLASTS: list(v.oblasts),
        state.EXPLORE_MACHINE: v.machine,
        state.EXPLORE_AGE: v.age,
        state.EXPLORE_SETTLEMENTS: v.settlements,
        state.EXPLORE_FACILITIES: v.facilities,
        state.EXPLORE_RAIL: v.rail,
        state.EXPLORE_CANDIDATES: v.candidates,
    }
    for k, val in defaults.items():
        st.session_state.setdefault(k, val)


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


@dataclasses.dataclass(frozen=True)
class ExploreView:
    """Everything the Explore map depends on (the key of its cached deck)."""

    n_farms: int = 20_000
    belarus_share: float = 0.5
    oblasts: tuple[str, ...] = ()
    machine: str = "all"
    age: str = ""
    settlements: bool = True
    facilities: bool = True
    rail: bool = True
    candidates: bool = False
    lang: str = "en"


def _view() -> ExploreView:
    g = st.session_state
    return ExploreView(
        n_farms=int(g[state.EXPLORE_N_FARMS]),
        belarus_share=float(g[state.EXPLORE_SHARE]),
        oblasts=tuple(g[state.EXPLORE_OBLASTS]),
        machine=str(g[state.EXPLORE_MACHINE]),
        age=str(g[state.EXPLORE_AGE]),
        settlements=bool(g[state.EXPLORE_SETTLEMENTS]),
        facilities=bool(g[state.EXPLORE_FACILITIES]),
        rail=bool(g[state.EXPLORE_RAIL]),
        candidates=bool(g[state.EXPLORE_CANDIDATES]),
        lang=lang(),
    )


def default_view() -> ExploreView:
    """Return the view a new session opens with (farm count from ``$PLANNER_APP_N_FARMS``)."""
    n = state.env_int(state.ENV_N_FARMS, 20_000)
    return ExploreView(n_farms=n if n > 0 else 20_000)


def _shown_farms(view: ExploreView) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the farms of the chosen oblasts and their machine weights."""
    farms = cache.synthetic_farms(view.n_farms, 42, view.belarus_share)
    if view.oblasts:
        farms = farms.loc[farms["oblast_iso"].isin(view.oblasts)]
    return farms, _machine_weight(farms, view.machine, view.age)


def _layers(view: ExploreView) -> list[pdk.Layer]:
    lg = view.lang
    farms, weight = _shown_farms(view)
    grid = maps.grid_demand(
        farms["lon"].to_numpy(), farms["lat"].to_numpy(), weight, cell_deg=CELL_DEG
    )
    half = CELL_DEG / 2
    grid["polygon"] = [  # type: ignore[assignment]
        [[x - half, y - half], [x + half, y - half], [x + half, y + half], [x - half, y + half]]
        for x, y in zip(grid["lon"].to_numpy(), grid["lat"].to_numpy(), strict=True)
    ]
    grid["label"] = [
        t("farms_cell", lg, n=format_number(n, lg), w=format_number(w, lg))
        for n, w in zip(grid["n"], grid["weight"], strict=True)
    ]
    layers: list[pdk.Layer] = maps.context_layers(lg)
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
    if view.settlements:
        s = cache.settlements()
        s = s.loc[s["population"] >= MIN_SETTLEMENT_POPULATION]
        col = "name_ru" if lg in ("ru", "kk") and "name_ru" in s.columns else "name"
        sd = maps.escape_columns(
            pd.DataFrame({"lon": s["lon"], "lat": s["lat"], "label": s[col].fillna(s["name"])}),
            ["label"],
        )
        population = s["population"].map(lambda v: format_number(v, lg)).to_numpy()
        sd["label"] = sd["label"] + f" ({t('pop', lg)} " + population + ")"
        layers.append(
            maps.point_layer(sd, "settlements", 4000, [30, 100, 200, 150], radius_min_pixels=1.5)
        )
    if view.facilities:
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
    if view.rail:
        r = cache.rail_entry_points()
        label = f"{t('rail_entry', lg)}: " + r["name"] + " (" + r["confidence"] + ")"
        rd = maps.escape_columns(
            pd.DataFrame({"lon": r["lon"], "lat": r["lat"], "label": label}), ["label"]
        )
        layers.append(maps.point_layer(rd, "rail", 15000, [120, 60, 160, 230], radius_min_pixels=5))
    if view.candidates:
        sites = cache.candidate_sites(Scenario(name="explore", data=DataSpec()))
        layers.append(maps.candidate_layer(sites, set(), set()))
    return layers


@st.cache_resource(show_spinner=False, max_entries=24)
def deck_json(view: ExploreView) -> str:
    """Return the Explore map's deck.gl JSON for a view (cached and shared: a str is immutable).

    Serialising a few thousand demand cells takes pydeck about half a second, so each view
    is serialised once per server; the warm-up at server start does the default view.
    """
    return maps.deck_json(maps.deck(_layers(view)))


@st.cache_resource(show_spinner=False, max_entries=len(LANGUAGES))
def context_deck_json(lg: str) -> str:
    """Return the deck.gl JSON of the country context alone (outline, oblast centres, labels).

    The first page of a session sends it before the full map (see :func:`render`).
    """
    return maps.deck_json(maps.deck(maps.context_layers(lg)))


def warm_up() -> None:
    """Prepare the default Explore map before the first browser asks for it (server start)."""
    view = default_view()
    context_deck_json(view.lang)
    deck_json(view)


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


def _oblast_markdown(table: pd.DataFrame, lg: str) -> str:
    """Return the oblast figures as a markdown table, numbers in the interface language.

    A static table rather than ``st.dataframe``: the interactive grid loads 1.2 MB of
    JavaScript, which delayed the first map by about 0.3 s (bench/app_speed.py).
    """
    cols = OBLAST_COLUMNS
    head = "| " + " | ".join(md(t(key, lg)) for _, key, _ in cols) + " |"
    align = "|" + "|".join("---:" if digits is not None else ":---" for *_, digits in cols) + "|"
    status = {"estimated": t("fleet_estimated", lg), "sourced": t("fleet_sourced", lg)}
    rows = [
        "| "
        + " | ".join(
            format_number(row[c], lg, digits)
            if digits is not None
            else md(status.get(row[c], row[c]) if c == "fleet_status" else row[c])
            for c, _, digits in cols
        )
        + " |"
        for row in table.to_dict("records")
    ]
    return "\n".join([head, align, *rows])


def _district_markdown(farms: pd.DataFrame, weight: np.ndarray, lg: str) -> str:
    """Return the shown farms aggregated by 2024 district as a markdown table."""
    table = farms_by_district(farms, weight)
    names = cache.districts().set_index("district_kato")
    col = {"ru": "name_ru", "kk": "name_kk"}.get(lg, "name_en")
    table["district"] = table["district_kato"].map(names[col]).fillna(table["district_kato"])
    table["sown_area_kha"] = table["sown_area_ha"] / 1000.0
    cols = DISTRICT_COLUMNS
    head = "| " + " | ".join(md(t(key, lg)) for _, key, _ in cols) + " |"
    align = "|" + "|".join("---:" if digits is not None else ":---" for *_, digits in cols) + "|"
    rows = [
        "| "
        + " | ".join(
            format_number(row[c], lg, digits) if digits is not None else md(str(row[c]))
            for c, _, digits in cols
        )
        + " |"
        for row in table.to_dict("records")
    ]
    return "\n".join([head, align, *rows])


def render() -> None:
    """Render the Explore page.

    The map goes first and the sidebar filters last (their values are in the session state
    already): the browser then starts loading deck.gl, the slowest part of the first page,
    before the widgets' own JavaScript.
    """
    _init()
    st.title(t("explore_title"))
    view = _view()
    st.info(t("synthetic_note"))
    col_map, col_side = st.columns([3, 2])
    with col_map:
        slot = st.empty()
        if not st.session_state.get(state.EXPLORE_MAP_SENT):
            # A session's first page: the country context goes out at once, so the browser
            # loads and starts deck.gl (3 MB of JavaScript, WebGL set-up) while the farms
            # and the full map are still being prepared; the full map then replaces it.
            slot.pydeck_chart(maps.prebuilt_deck(context_deck_json(view.lang)), height=560)
        try:
            with st.spinner(t("generating_farms")):
                farms, weight = _shown_farms(view)
            spec = deck_json(view)
        except PlannerError as exc:
            slot.error(md(str(exc)))
            _sidebar()
            return
        slot.pydeck_chart(maps.prebuilt_deck(spec), key="explore_map", height=560)
        st.session_state[state.EXPLORE_MAP_SENT] = True
        c1, c2, c3 = st.columns(3)
        c1.metric(t("farms_shown"), num(len(farms)))
        c2.metric(t("machines_sel"), num(weight.sum()))
        c3.metric(t("hours_year"), num(farms["service_hours_year"].sum()))
    with col_side:
        st.subheader(t("oblasts"))
        table = cache.oblast_table(lang())
        # The chart sits in a second tab that only runs when opened: plotly (4.7 MB of
        # JavaScript) then never delays the first map.
        tab_table, tab_chart, tab_districts = st.tabs(
            [t("tab_table"), t("tab_chart"), t("tab_districts")],
            key=state.EXPLORE_OBLAST_TAB,
            on_change="rerun",
        )
        with tab_table, st.container(height=330, key="explore_oblast_table"):
            st.markdown(_oblast_markdown(table, lang()))
        if tab_districts.open:
            # the shown farms (oblast filter, machine and age selection) by 2024 district
            with tab_districts, st.container(height=330, key="explore_district_table"):
                st.markdown(_district_markdown(farms, weight, lang()))
        if tab_chart.open:
            shown = table.rename(columns={c: t(key) for c, key, _ in OBLAST_COLUMNS})
            with tab_chart:
                st.plotly_chart(_oblast_chart(shown), key="explore_oblast_chart")
    st.caption(t("sources"))
    _sidebar()
