"""pydeck layers shared by every map.

Every map draws its own context (country outline, oblast centres and labels) so that it stays
readable offline; basemap tiles are only a bonus when the internet is there.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pydeck as pdk
import shapely

from planner.i18n import name_column
from planner.ui import cache

KZ_VIEW = pdk.ViewState(latitude=48.2, longitude=67.5, zoom=3.3, pitch=0)
DEFAULT_TOOLTIP: Mapping[str, str] = MappingProxyType({"html": "{label}"})


def escape_columns(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Return a copy with the given text columns HTML-escaped (tooltips render HTML)."""
    out = df.copy()
    for col in columns:
        out[col] = out[col].astype(str).map(html.escape)
    return out


def _rings(shape: shapely.Polygon | shapely.MultiPolygon) -> list[list[list[list[float]]]]:
    """Polygons of a shape as lists of [lon, lat] rings (exterior first)."""
    polygons = shape.geoms if isinstance(shape, shapely.MultiPolygon) else [shape]
    return [
        [[[float(x), float(y)] for x, y in ring.coords] for ring in (p.exterior, *p.interiors)]
        for p in polygons
    ]


def outline_layers() -> list[pdk.Layer]:
    """Country outline of Kazakhstan: a light fill and a thin grey border.

    One ``PolygonLayer`` draws both: the fill, and the border as a band about a kilometre
    per pixel wide inside the outline (:func:`planner.ui.cache.border_band`). Border lines
    would need deck.gl's ``LineLayer`` or ``PathLayer`` shader; without a GPU every shader
    costs a few hundred milliseconds of CPU before the first frame (measured with
    bench/app_speed.py), while the polygon shader is shared with the demand cells.
    """
    rows = [
        {"polygon": polygon, "color": [240, 236, 220, 120]}
        for polygon in _rings(cache.outline())  # type: ignore[arg-type]
    ]
    rows += [
        {"polygon": polygon, "color": [90, 90, 90, 220]}
        for polygon in _rings(cache.border_band())  # type: ignore[arg-type]
    ]
    return [
        pdk.Layer(
            "PolygonLayer",
            data=rows,
            id="kz-outline",
            get_polygon="polygon",
            get_fill_color="color",
            stroked=False,
            filled=True,
            pickable=False,
        )
    ]


# Oblast labels: small enough for the country view, and moved off the open-site markers.
LABEL_SIZE_PX = 11
LABEL_GAP_PX = 5.0
# width of one glyph of deck.gl's default monospace font, in font sizes (Cyrillic glyphs come
# from a wider fallback font: measured 0.6 and 0.7 in Debian's chromium)
_GLYPH_WIDTH_EM = 0.6
_WIDE_GLYPH_WIDTH_EM = 0.7
_EARTH_CIRCUMFERENCE_M = 40_075_016.686
# short forms of the words every Russian / Kazakh oblast name repeats
_SHORT_FORMS: tuple[tuple[str, str], ...] = (
    ("область", "обл."),
    ("облысы", "обл."),
    ("город ", "г. "),
    ("қаласы", "қ."),
)
# where a label may go relative to its oblast centre: direction of the pixel offset, text
# anchor, baseline, and a small cost so that "above" wins when every side is free; each is
# tried at growing distances (LABEL_STEPS_PX) to clear a marker drawn on the centre itself
_PLACEMENTS: tuple[tuple[str, float, float, str, str, float], ...] = (
    ("above", 0.0, -1.0, "middle", "bottom", 0.0),
    ("below", 0.0, 1.0, "middle", "top", 0.1),
    ("right", 1.0, 0.0, "start", "center", 0.2),
    ("left", -1.0, 0.0, "end", "center", 0.3),
)
LABEL_STEPS_PX: tuple[float, ...] = (LABEL_GAP_PX, 9.0, 13.0, 17.0, 21.0, 25.0, 29.0)
_FAR_COST_PER_PX = 0.02


def short_place_name(name: str) -> str:
    """Return an oblast name with "область"/"облысы"/"город"/"қаласы" abbreviated."""
    for long, short in _SHORT_FORMS:
        name = name.replace(long, short)
    return name


def mercator_px(
    lon: npt.ArrayLike, lat: npt.ArrayLike, zoom: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return deck.gl's Web-Mercator pixel coordinates (512-px world at zoom 0)."""
    world = 512.0 * 2.0**zoom
    lon_ = np.asarray(lon, dtype=np.float64)
    lat_ = np.radians(np.asarray(lat, dtype=np.float64))
    x = (lon_ + 180.0) / 360.0 * world
    y = (1.0 - np.log(np.tan(np.pi / 4.0 + lat_ / 2.0)) / np.pi) / 2.0 * world
    return x, y


def label_width_px(text: str, size_px: float = LABEL_SIZE_PX) -> float:
    """Return the drawn width of a label in pixels (estimated from its glyphs)."""
    wide = sum(1 for ch in text if not ch.isascii())
    return size_px * (_GLYPH_WIDTH_EM * (len(text) - wide) + _WIDE_GLYPH_WIDTH_EM * wide)


def _label_box(
    x: float,
    y: float,
    width: float,
    height: float,
    *,
    place: tuple[str, float, float, str, str, float],
    gap: float,
) -> tuple[float, float, float, float]:
    """Return (left, top, right, bottom) of a label drawn at ``place``, ``gap`` px from (x, y)."""
    _, ux, uy, anchor, baseline, _ = place
    dx, dy = ux * gap, uy * gap
    left = {"middle": x + dx - width / 2, "start": x + dx, "end": x + dx - width}[anchor]
    top = {"bottom": y + dy - height, "top": y + dy, "center": y + dy - height / 2}[baseline]
    return left, top, left + width, top + height


def _circle_overlap(
    box: tuple[float, float, float, float], cx: float, cy: float, r: float
) -> float:
    """Return how deep (px) a circle reaches into a box (0 when apart)."""
    left, top, right, bottom = box
    nx = min(max(cx, left), right)
    ny = min(max(cy, top), bottom)
    return max(0.0, r - float(np.hypot(cx - nx, cy - ny)))


def _box_overlap(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> float:
    """Return the overlap area of two boxes in px²."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def label_placements(
    points: pd.DataFrame, markers: pd.DataFrame | None, zoom: float, size_px: float = LABEL_SIZE_PX
) -> pd.DataFrame:
    """Place each label above, below, right or left of its point, off the markers.

    Parameters
    ----------
    points
        Columns ``lon``, ``lat`` and ``label`` (the text drawn).
    markers
        Circles to keep clear: ``lon``, ``lat`` and ``radius`` in metres (None: none).
    zoom
        The map's zoom (the labels are placed for it; other zooms keep the same offsets).
    size_px
        Font size of the labels.

    Returns
    -------
    placements
        Columns ``place`` (``above``/``below``/``right``/``left``), ``offset`` ([dx, dy] px),
        ``anchor`` and ``baseline`` (deck.gl TextLayer text anchor and alignment baseline),
        and ``overlap`` (px a marker still reaches into the label; 0 when clear), in the
        order of ``points``.
    """
    px, py = mercator_px(points["lon"], points["lat"], zoom)
    circles: list[tuple[float, float, float]] = []
    if markers is not None and len(markers):
        mx, my = mercator_px(markers["lon"], markers["lat"], zoom)
        m_per_px = (
            _EARTH_CIRCUMFERENCE_M
            * np.cos(np.radians(markers["lat"].to_numpy(dtype=np.float64)))
            / (512.0 * 2.0**zoom)
        )
        radius = markers["radius"].to_numpy(dtype=np.float64) / m_per_px + 1.5  # + outline
        circles = list(zip(mx.tolist(), my.tolist(), radius.tolist(), strict=True))
    placed: list[tuple[float, float, float, float]] = []
    rows: list[dict[str, Any]] = []
    for x, y, text in zip(px.tolist(), py.tolist(), points["label"].astype(str), strict=True):
        width = label_width_px(text, size_px)
        scored = []
        for place in _PLACEMENTS:
            for gap in LABEL_STEPS_PX:
                box = _label_box(x, y, width, size_px, place=place, gap=gap)
                depth = sum(_circle_overlap(box, cx, cy, r) for cx, cy, r in circles)
                crowd = sum(_box_overlap(box, other) for other in placed) / size_px
                cost = depth + crowd + place[5] + _FAR_COST_PER_PX * (gap - LABEL_GAP_PX)
                scored.append((cost, depth, gap, place))
        _, depth, gap, place = min(scored, key=lambda c: c[0])
        placed.append(_label_box(x, y, width, size_px, place=place, gap=gap))
        rows.append(
            {
                "place": place[0],
                "offset": [place[1] * gap, place[2] * gap],
                "anchor": place[3],
                "baseline": place[4],
                "overlap": depth,
            }
        )
    return pd.DataFrame(rows, index=points.index)


def oblast_layers(
    lang: str = "en", *, avoid: pd.DataFrame | None = None, zoom: float | None = None
) -> list[pdk.Layer]:
    """Oblast administrative centres with labels in the chosen language.

    Parameters
    ----------
    lang
        Language of the labels (Russian and Kazakh names are abbreviated: "обл.").
    avoid
        Markers the labels should not cover: ``lon``, ``lat``, ``radius`` (m).
    zoom
        Zoom of the map (default: the country view).

    Returns
    -------
    layers
        The centres (dots) and their labels.
    """
    o = cache.oblasts()
    df = pd.DataFrame(
        {
            "lon": o["lon"],
            "lat": o["lat"],
            "label": o[name_column(lang)].astype(str).map(short_place_name),
            "iso": o["iso"],
        }
    )
    df = escape_columns(df, ["label", "iso"])
    where = label_placements(df, avoid, float(KZ_VIEW.zoom if zoom is None else zoom))
    labels = pd.concat([df, where.loc[:, ["offset", "anchor", "baseline"]]], axis=1)
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
            data=labels,
            id="oblast-labels",
            get_position=["lon", "lat"],
            get_text="label",
            get_size=LABEL_SIZE_PX,
            get_color=[40, 40, 40, 230],
            get_pixel_offset="offset",
            get_text_anchor="anchor",
            get_alignment_baseline="baseline",
            # A plain string would be read by pydeck as an accessor expression and break the
            # layer; String() keeps it literal ("auto" = every glyph used, Cyrillic included).
            character_set=pdk.types.String("auto"),
            pickable=False,
        ),
    ]


def point_layer(
    data: pd.DataFrame,
    layer_id: str,
    radius: float | str,
    color: list[int] | str,
    *,
    outline_px: float | None = None,
    **kw: object,
) -> pdk.Layer:
    """Return a pickable scatter layer at ``lon``/``lat`` (radius in metres or a column).

    ``outline_px`` draws a white outline that many pixels wide (points over dense areas).
    """
    if outline_px is not None:
        kw |= {"stroked": True, "get_line_color": [255, 255, 255]}
        kw["line_width_min_pixels"] = outline_px
    return pdk.Layer(
        "ScatterplotLayer",
        data=data,
        id=layer_id,
        get_position=["lon", "lat"],
        get_radius=radius,
        get_fill_color=color,
        pickable=True,
        **kw,
    )


def farm_site_lines(cells: pd.DataFrame, layer_id: str) -> pdk.Layer:
    """Return farm -> site lines (``lon``/``lat`` -> ``slon``/``slat``, own color and width)."""
    return pdk.Layer(
        "LineLayer",
        data=cells.loc[:, ["lon", "lat", "slon", "slat", "color", "width"]],
        id=layer_id,
        get_source_position=["lon", "lat"],
        get_target_position=["slon", "slat"],
        get_color="color",
        get_width="width",
        width_min_pixels=0.5,
        pickable=False,
    )


def context_layers(
    lang: str = "en",
    *,
    avoid: pd.DataFrame | None = None,
    zoom: float | None = None,
    under_labels: list[pdk.Layer] | None = None,
) -> list[pdk.Layer]:
    """Outline + oblast centres and labels (off the ``avoid`` markers: :func:`oblast_layers`).

    ``under_labels`` (a result's lines and markers) are drawn above the outline and the
    centres but below the labels, so the labels stay legible where they cross a line.
    """
    centres, labels = oblast_layers(lang, avoid=avoid, zoom=zoom)
    return [*outline_layers(), centres, *(under_labels or []), labels]


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


_DENSITY_RAMP = np.array(
    [[255, 245, 200], [254, 217, 118], [253, 141, 60], [227, 26, 28], [128, 0, 38]],
    dtype=np.float64,
)
_DENSITY_RAMP.setflags(write=False)


def density_colors(weight: np.ndarray[Any, np.dtype[np.float64]]) -> list[list[int]]:
    """Return RGBA colours on a yellow-to-red ramp by weight quantile (log-like contrast)."""
    if len(weight) == 0:
        return []
    ranks = pd.Series(weight).rank(pct=True).to_numpy()
    pos = ranks * (len(_DENSITY_RAMP) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(_DENSITY_RAMP) - 2)
    frac = (pos - lo)[:, None]
    rgb = _DENSITY_RAMP[lo] * (1 - frac) + _DENSITY_RAMP[lo + 1] * frac
    return [[int(r), int(g), int(b), 170] for r, g, b in rgb]


def deck(
    layers: list[pdk.Layer], tooltip: dict[str, Any] | None = None, *, zoom: float | None = None
) -> pdk.Deck:
    """Return a deck with the Kazakhstan view and a light basemap (tiles optional)."""
    view = KZ_VIEW
    if zoom is not None:
        view = pdk.ViewState(latitude=48.2, longitude=67.5, zoom=zoom, pitch=0)
    return pdk.Deck(
        layers=layers,
        initial_view_state=view,
        map_provider="carto",
        map_style="light",
        tooltip=tooltip or dict(DEFAULT_TOOLTIP),
    )


class _PrebuiltDeck(pdk.Deck):  # type: ignore[misc]  # pydeck is untyped
    """A deck whose JSON was serialised before (and cached): ``st.pydeck_chart`` sends it as is.

    Streamlit reads a deck through ``to_json()`` and its tooltip; the layers stay empty, so
    nothing is serialised again.
    """

    def __init__(self, spec_json: str, tooltip: dict[str, Any] | None = None) -> None:
        super().__init__(layers=[], tooltip=tooltip or dict(DEFAULT_TOOLTIP))
        self._spec_json = spec_json

    def to_json(self) -> str:
        """Return the prebuilt JSON."""
        return self._spec_json


def deck_json(deck_: pdk.Deck) -> str:
    """Serialise a deck once, compactly (pydeck indents its JSON, which triples its size)."""
    return json.dumps(json.loads(deck_.to_json()), separators=(",", ":"), ensure_ascii=False)


def prebuilt_deck(spec_json: str, tooltip: dict[str, Any] | None = None) -> pdk.Deck:
    """Return a deck for ``st.pydeck_chart`` from JSON made by :func:`deck_json`."""
    return _PrebuiltDeck(spec_json, tooltip)


# -- solution maps ---------------------------------------------------------------------------

SITE_COLORS: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {
        "open": (31, 95, 168, 220),
        "existing": (192, 57, 43, 230),
        "new_vs_base": (39, 174, 96, 235),
        "closed_vs_base": (140, 140, 140, 200),
    }
)
_PALETTE = np.array(
    [
        [31, 119, 180],
        [255, 127, 14],
        [44, 160, 44],
        [214, 39, 40],
        [148, 103, 189],
        [140, 86, 75],
        [227, 119, 194],
        [127, 127, 127],
        [188, 189, 34],
        [23, 190, 207],
    ],
    dtype=np.int64,
)
_PALETTE.setflags(write=False)  # shared by every session: read-only


def site_tooltip_frame(sites: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Open sites with escaped tooltip labels and a radius scaled by load."""
    s = sites.loc[sites["status"] != "closed"].copy()
    load = s["assigned_demand"].to_numpy(dtype=np.float64)
    top = max(float(load.max()) if len(load) else 1.0, 1e-9)
    s["radius"] = 12000 + 60000 * np.sqrt(load / top)
    s["color"] = [list(SITE_COLORS.get(str(v), SITE_COLORS["open"])) for v in s["status"]]
    s["label"] = [
        f"{html.escape(str(n))} ({html.escape(str(i))})<br>{labels['load']}: {ld:,.0f}"
        f"<br>{labels['farms']}: {int(nf) if np.isfinite(nf) else 0:,}"
        for n, i, ld, nf in zip(
            s["name"],
            s["site_id"],
            s["assigned_demand"],
            pd.to_numeric(s.get("n_farms", 0), errors="coerce").fillna(0),  # type: ignore[union-attr]
            strict=True,
        )
    ]
    return s.loc[:, ["lon", "lat", "radius", "color", "label", "site_id", "status"]]


def _farm_site_cells(tables: Any, cell_deg: float = 0.25) -> pd.DataFrame:  # noqa: ANN401
    """Aggregate assigned demand to (grid cell, site): few thousand rows even at 200k farms."""
    a = tables.assignments.loc[tables.assignments["site_id"] != ""]
    f = tables.farms.set_index("farm_id").loc[a["farm_id"], ["lon", "lat"]]
    df = pd.DataFrame(
        {
            "gx": np.floor(f["lon"].to_numpy() / cell_deg),
            "gy": np.floor(f["lat"].to_numpy() / cell_deg),
            "site_id": a["site_id"].to_numpy(),
            "demand": a["demand"].to_numpy(),
            "lon": f["lon"].to_numpy(),
            "lat": f["lat"].to_numpy(),
        }
    )
    g = df.groupby(["gx", "gy", "site_id"], sort=False).agg(
        demand=("demand", "sum"), lon=("lon", "mean"), lat=("lat", "mean"), n=("demand", "size")
    )
    return g.reset_index()


def result_layers(
    tables: Any,  # noqa: ANN401
    labels: dict[str, str],
    *,
    mode: str = "lines",
    base_open: set[str] | None = None,
    radius_km: float | None = None,
    uncovered: bool = True,
) -> list[pdk.Layer]:
    """Layers of a solution: catchments or assignment lines, uncovered farms, open sites.

    ``base_open`` marks sites that differ from a baseline (compare page): newly opened sites
    green, sites the baseline opens but this scenario closes grey.
    """
    sites = tables.sites
    cells = _farm_site_cells(tables)
    s_xy = sites.set_index("site_id")[["lon", "lat"]]
    layers: list[pdk.Layer] = []
    if len(cells):
        codes = pd.factorize(cells["site_id"])[0]
        rgb = _PALETTE[codes % len(_PALETTE)]
        cells["color"] = [[int(r), int(g), int(b), 140] for r, g, b in rgb]
        if mode == "lines":
            cells["slon"] = s_xy.loc[cells["site_id"], "lon"].to_numpy()
            cells["slat"] = s_xy.loc[cells["site_id"], "lat"].to_numpy()
            cells["width"] = 0.5 + 3.0 * np.sqrt(cells["demand"] / cells["demand"].max())
            layers.append(farm_site_lines(cells, "assignment-lines"))
        else:
            layers.append(
                pdk.Layer(
                    "ScatterplotLayer",
                    data=cells.loc[:, ["lon", "lat", "color"]],
                    id="catchments",
                    get_position=["lon", "lat"],
                    get_radius=11000,
                    get_fill_color="color",
                    pickable=False,
                )
            )
    if uncovered:
        a = tables.assignments
        bad = a["site_id"] == ""
        if radius_km is not None:
            bad = bad | (a["travel_km"] > radius_km * (1 + 1e-9))
        bad_ids = a.loc[bad, "farm_id"]
        if len(bad_ids):
            f = tables.farms.set_index("farm_id").loc[bad_ids.unique(), ["lon", "lat"]]
            layers.append(
                pdk.Layer(
                    "ScatterplotLayer",
                    data=f.reset_index(drop=True),
                    id="uncovered-farms",
                    get_position=["lon", "lat"],
                    get_radius=3500,
                    radius_min_pixels=1.5,
                    get_fill_color=[220, 20, 20, 200],
                    pickable=False,
                )
            )
    sd = site_tooltip_frame(sites, labels)
    if base_open is not None:
        now_open = set(sd["site_id"])
        sd.loc[~sd["site_id"].isin(base_open), "color"] = pd.Series(
            [list(SITE_COLORS["new_vs_base"])] * int((~sd["site_id"].isin(base_open)).sum()),
            index=sd.index[~sd["site_id"].isin(base_open)],
            dtype=object,
        )
        gone = sites.loc[sites["site_id"].isin(base_open - now_open)]
        if len(gone):
            gd = pd.DataFrame(
                {
                    "lon": gone["lon"],
                    "lat": gone["lat"],
                    "label": [
                        f"{html.escape(str(n))} ({html.escape(str(i))}) — {labels['closed']}"
                        for n, i in zip(gone["name"], gone["site_id"], strict=True)
                    ],
                }
            )
            layers.append(
                pdk.Layer(
                    "ScatterplotLayer",
                    data=gd,
                    id="closed-vs-base",
                    get_position=["lon", "lat"],
                    get_radius=30000,
                    stroked=True,
                    filled=False,
                    get_line_color=list(SITE_COLORS["closed_vs_base"]),
                    line_width_min_pixels=3,
                    pickable=True,
                )
            )
    layers.append(point_layer(sd, "open-sites", "radius", "color", outline_px=1.5))
    return layers


def candidate_layer(sites: pd.DataFrame, required: set[str], forbidden: set[str]) -> pdk.Layer:
    """Candidate sites (required green, forbidden black), pickable, with escaped tooltips."""
    colors = []
    for sid, role in zip(sites["site_id"].astype(str), sites["role"].astype(str), strict=True):
        if sid in required:
            colors.append([39, 174, 96, 240])
        elif sid in forbidden:
            colors.append([20, 20, 20, 240])
        elif role == "existing":
            colors.append([192, 57, 43, 230])
        else:
            colors.append([230, 150, 30, 200])
    df = pd.DataFrame(
        {
            "lon": sites["lon"].to_numpy(),
            "lat": sites["lat"].to_numpy(),
            "site_id": sites["site_id"].astype(str).to_numpy(),
            "label": [
                f"{html.escape(str(n))} ({html.escape(str(i))})"
                for n, i in zip(sites["name"], sites["site_id"], strict=True)
            ],
            "color": colors,
        }
    )
    return pdk.Layer(
        "ScatterplotLayer",
        data=df,
        id="candidates",
        get_position=["lon", "lat"],
        get_radius=9000,
        radius_min_pixels=3,
        get_fill_color="color",
        pickable=True,
    )
