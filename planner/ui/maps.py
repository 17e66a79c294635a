"""pydeck layers shared by every map.

Every map draws its own context (country outline, oblast centres and labels) so that it stays
readable offline; basemap tiles are only a bonus when the internet is there.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd
import pydeck as pdk
import shapely

from planner.ui import cache

KZ_VIEW = pdk.ViewState(latitude=48.2, longitude=67.5, zoom=3.6, pitch=0)
NAME_COLUMN = {"en": "name_en", "ru": "name_ru", "kk": "name_kk"}


def escape_columns(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Return a copy with the given text columns HTML-escaped (tooltips render HTML)."""
    out = df.copy()
    for col in columns:
        out[col] = out[col].astype(str).map(html.escape)
    return out


def outline_layer() -> pdk.Layer:
    """Country outline of Kazakhstan."""
    geojson = shapely.geometry.mapping(cache.outline())
    return pdk.Layer(
        "GeoJsonLayer",
        data={"type": "Feature", "geometry": geojson, "properties": {}},
        id="kz-outline",
        stroked=True,
        filled=True,
        get_fill_color=[240, 236, 220, 120],
        get_line_color=[90, 90, 90, 220],
        line_width_min_pixels=1.5,
        pickable=False,
    )


def oblast_layers(lang: str = "en") -> list[pdk.Layer]:
    """Oblast administrative centres with labels in the chosen language."""
    o = cache.oblasts()
    df = pd.DataFrame(
        {
            "lon": o["lon"],
            "lat": o["lat"],
            "label": o[NAME_COLUMN.get(lang, "name_en")].astype(str),
            "iso": o["iso"],
        }
    )
    df = escape_columns(df, ["label", "iso"])
    return [
        pdk.Layer(
            "ScatterplotLayer",
            data=df,
            id="oblast-centres",
            get_position=["lon", "lat"],
            get_radius=9000,
            radius_min_pixels=3,
            get_fill_color=[60, 60, 60, 200],
            pickable=True,
        ),
        pdk.Layer(
            "TextLayer",
            data=df,
            id="oblast-labels",
            get_position=["lon", "lat"],
            get_text="label",
            get_size=12,
            get_color=[40, 40, 40, 230],
            get_pixel_offset=[0, -14],
            character_set="auto",
            pickable=False,
        ),
    ]


def context_layers(lang: str = "en") -> list[pdk.Layer]:
    """Outline + oblast centres and labels."""
    return [outline_layer(), *oblast_layers(lang)]


def grid_demand(
    lon: np.ndarray[Any, np.dtype[np.float64]],
    lat: np.ndarray[Any, np.dtype[np.float64]],
    weight: np.ndarray[Any, np.dtype[np.float64]],
    *,
    cell_deg: float = 0.25,
) -> pd.DataFrame:
    """Aggregate points into a lon/lat grid so that 200,000 farms stay fluid in the browser."""
    if len(lon) == 0:
        return pd.DataFrame({"lon": [], "lat": [], "weight": [], "n": []})
    gx = np.floor(lon / cell_deg).astype(np.int64)
    gy = np.floor(lat / cell_deg).astype(np.int64)
    key = gx * 100_000 + gy
    uniq, inv = np.unique(key, return_inverse=True)
    w = np.bincount(inv, weights=weight)
    n = np.bincount(inv)
    cx = (uniq // 100_000 + 0.5) * cell_deg
    cy = (uniq % 100_000 + 0.5) * cell_deg
    return pd.DataFrame({"lon": cx, "lat": cy, "weight": w, "n": n})


def deck(layers: list[pdk.Layer], tooltip: dict[str, Any] | None = None) -> pdk.Deck:
    """Return a deck with the Kazakhstan view and a light basemap (tiles optional)."""
    return pdk.Deck(
        layers=layers,
        initial_view_state=KZ_VIEW,
        map_provider="carto",
        map_style="light",
        tooltip=tooltip or {"html": "{label}"},
    )
