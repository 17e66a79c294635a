"""The single place where the UI caches library calls (st.cache_data / st.cache_resource).

Cached values are treated as read-only by every page: Streamlit shares them across sessions.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st
from shapely.geometry.base import BaseGeometry

from planner import demand, farms, geodata


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


@st.cache_resource(show_spinner=False)
def facilities() -> gpd.GeoDataFrame:
    """Existing Belarusian operations (read-only, shared)."""
    return geodata.load_existing_facilities()


@st.cache_resource(show_spinner=False)
def rail_entry_points() -> gpd.GeoDataFrame:
    """Rail entry points (read-only, shared)."""
    return geodata.load_rail_entry_points()


@st.cache_resource(show_spinner="Generating synthetic farms …")
def synthetic_farms(n_farms: int, seed: int, belarus_share: float) -> gpd.GeoDataFrame:
    """Synthetic farms with their demand columns (read-only, shared)."""
    f = farms.generate_farms(n_farms=n_farms, seed=seed, belarus_share=belarus_share)
    d = demand.compute_demand(f, demand.DemandParameters())
    out = f.join(d)
    out.attrs = dict(f.attrs)
    return out


def oblast_table(lang: str = "en") -> pd.DataFrame:
    """Oblast figures for the side table, with names in the chosen language."""
    o = oblasts()
    name = {"en": "name_en", "ru": "name_ru", "kk": "name_kk"}.get(lang, "name_en")
    return pd.DataFrame(
        {
            "ISO": o["iso"],
            "Oblast": o[name],
            "Sown area, kha": o["sown_area_kha"],
            "Tractors": o["tractors"],
            "Combines": o["combines"],
            "Fleet": o["fleet_status"],
        }
    )
