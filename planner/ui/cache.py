"""The single place where the UI caches library calls (st.cache_data / st.cache_resource).

Cached values are treated as read-only by every page: Streamlit shares them across sessions.
"""

from __future__ import annotations

import dataclasses
import threading
import tomllib

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from planner import demand, farms, geodata, references, scenarios, store, tables
from planner.i18n import name_column
from planner.scenarios import ModelSpec, Scenario, SolverSpec
from planner.ui import auth

# The solve's modules (planner.run, planner.sweep: scipy, OR-Tools and friends) are cached in
# planner.ui.solving, which only the pages that solve import: the Explore page (the first
# map) does not wait for them.


@st.cache_resource(show_spinner=False)
def oblasts() -> gpd.GeoDataFrame:
    """Oblast table (read-only, shared)."""
    return geodata.load_oblasts()


@st.cache_resource(show_spinner=False)
def settlements() -> gpd.GeoDataFrame:
    """Settlements (read-only, shared)."""
    return geodata.load_settlements()


@st.cache_resource(show_spinner=False)
def outline() -> BaseGeometry:
    """Country outline (read-only, shared)."""
    return geodata.load_country_outline()


BORDER_WIDTH_M = 9_000.0
"""Width of the drawn country border: about one pixel at the country-wide zoom."""


@st.cache_resource(show_spinner=False)
def border_band() -> BaseGeometry:
    """Return the country border as a thin band inside the outline (read-only, shared).

    Maps draw the border as a filled polygon rather than as lines: polygons share their
    deck.gl shader with the outline fill and the demand cells, and every extra shader costs
    a few hundred milliseconds of CPU in a browser without a GPU. The band is cut in a
    Lambert azimuthal equal-area projection centred on Kazakhstan, so it is equally wide
    (``BORDER_WIDTH_M``) along the whole border.
    """
    laea = "+proj=laea +lat_0=48 +lon_0=67 +datum=WGS84 +units=m"
    fwd = Transformer.from_crs("EPSG:4326", laea, always_xy=True).transform
    back = Transformer.from_crs(laea, "EPSG:4326", always_xy=True).transform
    # pyproj's overloaded transform satisfies shapely's (x, y) -> (x, y) callable; the
    # stubs cannot match an overload against it.
    shape = shapely.transform(outline(), fwd, interleaved=False)  # type: ignore[arg-type]
    band = shape.difference(shape.buffer(-BORDER_WIDTH_M))
    return shapely.transform(band, back, interleaved=False)  # type: ignore[arg-type]


@st.cache_resource(show_spinner=False)
def facilities() -> gpd.GeoDataFrame:
    """Existing Belarusian operations (read-only, shared)."""
    return geodata.load_existing_facilities()


@st.cache_resource(show_spinner=False)
def rail_entry_points() -> gpd.GeoDataFrame:
    """Rail entry points (read-only, shared)."""
    return geodata.load_rail_entry_points()


@st.cache_resource(show_spinner=False)
def districts() -> gpd.GeoDataFrame:
    """Return the 2024 districts: KATO, names, oblast (read-only, shared)."""
    return geodata.load_districts()


@st.cache_resource(show_spinner=False)  # callers show a translated spinner
def synthetic_farms(n_farms: int, seed: int, belarus_share: float) -> gpd.GeoDataFrame:
    """Synthetic farms with their demand columns (read-only, shared)."""
    f = farms.generate_farms(n_farms=n_farms, seed=seed, belarus_share=belarus_share)
    d = demand.compute_demand(f, demand.DemandParameters())
    out = f.join(d)
    out.attrs = dict(f.attrs)
    return out


@st.cache_resource(show_spinner=False)
def first_page_sent() -> threading.Event:
    """Return the event set once a session has been sent the Explore page (shared).

    :func:`oblast_table` sets it: the oblast table is the Explore page's last element. The
    server's start-up warm-up waits for it before preparing the first solve, so that work
    does not compete with the first page (:mod:`planner.ui.server`).
    """
    return threading.Event()


def oblast_table(lang: str = "en") -> pd.DataFrame:
    """Oblast figures for the side table, with names in the chosen language."""
    first_page_sent().set()
    o = oblasts()
    name = name_column(lang)
    return pd.DataFrame(
        {
            "iso": o["iso"],
            "oblast": o[name],
            "sown_area_kha": o["sown_area_kha"],
            "tractors": o["tractors"],
            "combines": o["combines"],
            "fleet_status": o["fleet_status"],
        }
    )


# -- scenario inputs, candidate sites, workspace, sweeps ------------------------------------


def inputs_key(scenario: Scenario) -> str:
    """TOML text of the parts of a scenario that ``build_inputs`` depends on.

    Name, title, solver options and the model's p / new-site bounds do not change the data,
    so re-solving with another p or time limit reuses the cached inputs.
    """
    p = None if scenario.model.p is None else 1
    model = dataclasses.replace(scenario.model, p=p, min_new_sites=0, max_new_sites=None)
    neutral = scenario.replace(
        name="inputs",
        title="",
        description="",
        model=model,
        solver=SolverSpec(),
        base_dir=scenario.base_dir,
    )
    return scenarios.scenario_to_toml(neutral) + f"\n# base_dir={scenario.base_dir}\n"


@st.cache_resource(show_spinner=False, max_entries=8)
def _sites_for_key(key: str) -> gpd.GeoDataFrame:
    raw = tomllib.loads(key)
    base_dir = key.rsplit("# base_dir=", 1)[-1].strip()
    return references.candidate_sites(scenarios.scenario_from_dict(raw, base_dir=base_dir))


def candidate_sites(scenario: Scenario) -> gpd.GeoDataFrame:
    """Candidate and existing sites of a scenario's ``[data]`` (read-only, shared)."""
    neutral = scenarios.Scenario(
        name="sites", data=scenario.data, model=ModelSpec(p=1), base_dir=scenario.base_dir
    )
    return _sites_for_key(inputs_key(neutral))


@st.cache_resource(show_spinner=False, max_entries=256)
def _workspace(path: str, owner: str) -> store.Workspace:
    return store.Workspace(path, owner=owner)


def workspace() -> store.Workspace:
    """Return this session's user's view of the workspace (``$PLANNER_WORKSPACE`` or default).

    The signed-in user's own scenarios and uploads (plus what others shared with them), or the
    local owner's in single-user mode (:mod:`planner.ui.auth`).
    """
    return _workspace(str(store.default_path()), auth.current_owner())


@st.cache_resource(show_spinner=False, max_entries=32)
def _stored_tables(path: str, owner: str, name: str, version: str) -> tables.ResultTables | None:
    del version  # part of the cache key only
    ws = _workspace(path, owner)
    res = ws.results(name)
    if res is None:
        return None
    return tables.from_stored(res, ws.get(name).toml)


def stored_tables(name: str) -> tables.ResultTables | None:
    """Return the result tables saved with a scenario (cached per save; read-only, shared)."""
    ws = workspace()
    rec = ws.get(name)
    return _stored_tables(str(ws.path), ws.owner, name, f"{rec.id}:{rec.revision}:{rec.updated_at}")


def shared_tables(scenario_id: int) -> tables.ResultTables | None:
    """Return the result tables of a scenario shared with this session's user (not cached)."""
    ws = workspace()
    rec = ws.get_shared(scenario_id)
    res = ws.shared_results(rec.id)
    return None if res is None else tables.from_stored(res, rec.toml)
