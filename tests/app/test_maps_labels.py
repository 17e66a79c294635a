"""Map context layers serialise to JSON that deck.gl can read (labels render offline)."""

from __future__ import annotations

import json

from planner.ui import maps


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
    # the border is a LineLayer (no PathLayer: its shader is slow without a GPU)
    border = next(layer for layer in spec["layers"] if layer["id"] == "kz-border")
    assert border["@@type"] == "LineLayer"
    assert len(border["data"]) == len(ring) - 1
    # no string prop may turn into an "@@=" accessor expression (pydeck does that to strings)
    assert not any(str(v).startswith("@@=") for k, v in border.items() if k.startswith("width"))
    assert all(layer["@@type"] != "PathLayer" for layer in spec["layers"])
