"""Map context layers serialise to JSON that deck.gl can read (labels render offline)."""

from __future__ import annotations

import json

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
