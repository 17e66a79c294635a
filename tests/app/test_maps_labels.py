"""Map context layers serialise to JSON that deck.gl can read (labels render offline)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from planner.ui import cache, maps


def test_oblast_labels_keep_a_literal_character_set() -> None:
    deck = maps.deck(maps.context_layers("ru"))
    spec = json.loads(deck.to_json())
    labels = next(layer for layer in spec["layers"] if layer["id"] == "oblast-labels")
    # pydeck turns plain strings into "@@=" accessor expressions, which breaks the layer.
    assert labels["characterSet"] == "auto"
    texts = labels["data"]
    assert any("область" in str(row) or "обл" in str(row) for row in texts)
    outline = next(layer for layer in spec["layers"] if layer["id"] == "kz-outline")
    assert outline["@@type"] == "PolygonLayer"
    ring = outline["data"][0]["polygon"][0]
    assert len(ring) > 100
    assert ring[0] == ring[-1]
    assert all(46 < lon < 88 and 40 < lat < 56 for lon, lat in ring)
    # the border is a thin band in the same polygon layer: no line or path shader (each
    # shader costs a few hundred ms without a GPU)
    fill, border = outline["data"]
    assert fill["color"] != border["color"]
    outer, *holes = border["polygon"]  # the band: the outline with the inside cut out
    assert len(outer) > 100
    assert sum(len(h) for h in holes) > 100
    assert all(46 < lon < 88 and 40 < lat < 56 for ring in (outer, *holes) for lon, lat in ring)
    assert {layer["@@type"] for layer in spec["layers"]} == {
        "PolygonLayer",
        "ScatterplotLayer",
        "TextLayer",
    }


def test_border_band_is_thin_and_inside_the_outline() -> None:
    band = cache.border_band()
    outline = cache.outline()
    assert band.within(outline.buffer(1e-6))
    # about BORDER_WIDTH_M wide: area / perimeter of the outline, in km, at ~48 N
    km_per_deg2 = 111.32 * 111.32 * 0.67
    width_km = band.area * km_per_deg2 / (outline.exterior.length * 111.32 * 0.8)
    assert 0.5 * cache.BORDER_WIDTH_M / 1000 < width_km < 2.0 * cache.BORDER_WIDTH_M / 1000


def _boxes_and_circles(
    placements: pd.DataFrame, points: pd.DataFrame, markers: pd.DataFrame, zoom: float
) -> tuple[list[tuple[float, float, float, float]], list[tuple[float, float, float]]]:
    """Label boxes (as drawn by deck.gl) and marker circles in pixels, computed independently."""
    x, y = maps.mercator_px(points["lon"], points["lat"], zoom)
    boxes = []
    for xi, yi, text, (dx, dy), anchor, baseline in zip(
        x,
        y,
        points["label"],
        placements["offset"],
        placements["anchor"],
        placements["baseline"],
        strict=True,
    ):
        w = maps.label_width_px(text)
        h = maps.LABEL_SIZE_PX
        left = xi + dx - {"middle": w / 2, "start": 0.0, "end": w}[anchor]
        top = yi + dy - {"bottom": h, "top": 0.0, "center": h / 2}[baseline]
        boxes.append((left, top, left + w, top + h))
    mx, my = maps.mercator_px(markers["lon"], markers["lat"], zoom)
    m_per_px = 40_075_016.686 * np.cos(np.radians(markers["lat"])) / (512 * 2**zoom)
    circles = list(zip(mx, my, markers["radius"] / m_per_px, strict=True))
    return boxes, circles


def _hits(box: tuple[float, float, float, float], circle: tuple[float, float, float]) -> bool:
    """Brute force: does any of a 40 x 40 grid of points of the box lie inside the circle?"""
    cx, cy, r = circle
    gx = np.linspace(box[0], box[2], 40)
    gy = np.linspace(box[1], box[3], 40)
    xx, yy = np.meshgrid(gx, gy)
    return bool(((xx - cx) ** 2 + (yy - cy) ** 2 < r**2).any())


def test_oblast_labels_keep_clear_of_site_markers() -> None:
    o = cache.oblasts()
    points = pd.DataFrame({"lon": o["lon"], "lat": o["lat"], "label": o["name_ru"]})
    points["label"] = points["label"].map(maps.short_place_name)
    # a large open-site marker on every third oblast centre (sites are often there) and one
    # between two centres
    markers = pd.DataFrame(
        {"lon": o["lon"].iloc[::3], "lat": o["lat"].iloc[::3], "radius": 60_000.0}
    )
    markers.loc[len(markers)] = [70.3, 52.2, 40_000.0]
    zoom = float(maps.KZ_VIEW.zoom)
    placed = maps.label_placements(points, markers, zoom)
    boxes, circles = _boxes_and_circles(placed, points, markers, zoom)
    hit = [
        (label, place)
        for label, place, box in zip(points["label"], placed["place"], boxes, strict=True)
        if any(_hits(box, c) for c in circles)
    ]
    assert hit == []
    assert (placed["overlap"] == 0).all()
    # the fixed label position (just above the centre) would sit under those markers
    fixed = pd.DataFrame(
        {"offset": [[0.0, -maps.LABEL_GAP_PX]] * len(points), "anchor": "middle"},
        index=points.index,
    ).assign(baseline="bottom")
    boxes, _ = _boxes_and_circles(fixed, points, markers, zoom)
    assert sum(any(_hits(b, c) for c in circles) for b in boxes) >= 5


def test_short_place_names_and_per_label_placement_in_the_deck() -> None:
    assert maps.short_place_name("Костанайская область") == "Костанайская обл."
    assert maps.short_place_name("область Абай") == "обл. Абай"
    assert maps.short_place_name("Қостанай облысы") == "Қостанай обл."
    assert maps.short_place_name("город Астана") == "г. Астана"
    assert maps.short_place_name("Астана қаласы") == "Астана қ."
    assert maps.short_place_name("Kostanay") == "Kostanay"
    o = cache.oblasts()
    avoid = pd.DataFrame({"lon": o["lon"], "lat": o["lat"], "radius": 50_000.0})
    spec = json.loads(maps.deck(maps.context_layers("kk", avoid=avoid)).to_json())
    labels = next(layer for layer in spec["layers"] if layer["id"] == "oblast-labels")
    # offsets, anchors and baselines are read per label (accessors), not one constant
    assert labels["getPixelOffset"] == "@@=offset"
    assert labels["getTextAnchor"] == "@@=anchor"
    assert labels["getAlignmentBaseline"] == "@@=baseline"
    assert labels["getSize"] == maps.LABEL_SIZE_PX
    rows = labels["data"]
    assert {r["anchor"] for r in rows} <= {"middle", "start", "end"}
    assert all(abs(dx) + abs(dy) > maps.LABEL_GAP_PX for dx, dy in (r["offset"] for r in rows))


def test_result_layers_are_drawn_between_the_centres_and_the_labels() -> None:
    marker = pd.DataFrame({"lon": [63.6], "lat": [53.2], "radius": [50_000.0]})
    sites = maps.point_layer(marker, "open-sites", "radius", [0, 0, 255])
    layers = maps.context_layers("en", avoid=marker, under_labels=[sites])
    assert [layer.id for layer in layers] == [
        "kz-outline",
        "oblast-centres",
        "open-sites",
        "oblast-labels",
    ]
