"""Regenerate ``geodata/kz_outline.geojson``: the country outline of Kazakhstan.

Run from the repository root with the test extras installed::

    python geodata/build/make_outline.py

Source: the Kazakhstan polygon shipped by the ``countryinfo`` package (MIT licence,
``CountryInfo("Kazakhstan").geo_json()``), which is derived from Natural Earth 1:110m admin-0
boundaries (public domain). It has about 110 vertices, so the line can be off by tens of km.

Patches: at two places the 1:110m line cuts off real Kazakhstan border settlements by more
than 8 km -- Dostyk/Druzhba on the Chinese border (about 29 km outside) and Korday on the
Kyrgyz border (about 12 km outside), coordinates from GeoNames (``geodata/settlements.csv``).
For each, the convex hull of a 5 km disc around the settlement and a 5 km disc around the
nearest outline point is added to the polygon. Everything else is the unmodified polygon.
``planner.geodata.points_in_kazakhstan`` adds a further tolerance (10 km by default) on top.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from countryinfo import CountryInfo
from pyproj import Transformer
from shapely.geometry import mapping, shape
from shapely.ops import nearest_points

OUT = Path(__file__).resolve().parents[1] / "kz_outline.geojson"
LOCAL_CRS = "+proj=aeqd +lat_0=48 +lon_0=68 +datum=WGS84 +units=m +no_defs"
PATCH_RADIUS_M = 5_000.0
# name, lon, lat (GeoNames cities500: Druzhba gn:1524537, Korday gn:1524243 in settlements.csv)
PATCHES = (
    ("Dostyk (Druzhba), KZ-China rail crossing", 82.48044, 45.25332),
    ("Korday, KZ-Kyrgyzstan road crossing", 74.71287, 43.03882),
)


def build_outline() -> shapely.Polygon | shapely.MultiPolygon:
    """Return the patched outline in EPSG:4326."""
    feature = CountryInfo("Kazakhstan").geo_json()["features"][0]
    base = shape(feature["geometry"])
    to_local = Transformer.from_crs("EPSG:4326", LOCAL_CRS, always_xy=True)
    to_lonlat = Transformer.from_crs(LOCAL_CRS, "EPSG:4326", always_xy=True)

    def fwd(geom: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(geom, lambda xy: np.column_stack(to_local.transform(*xy.T)))

    def inv(geom: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(geom, lambda xy: np.column_stack(to_lonlat.transform(*xy.T)))

    local = fwd(base)
    pieces = [local]
    for _name, lon, lat in PATCHES:
        point = fwd(shapely.Point(lon, lat))
        anchor = nearest_points(local.boundary, point)[0]
        wedge = shapely.union(point.buffer(PATCH_RADIUS_M), anchor.buffer(PATCH_RADIUS_M))
        pieces.append(wedge.convex_hull)
    merged = shapely.union_all(pieces)
    out = inv(merged)
    return shapely.set_precision(out, 1e-6)


def main() -> None:
    """Write the GeoJSON file."""
    geom = build_outline()
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "KAZ",
                "properties": {
                    "name": "Kazakhstan",
                    "source": "countryinfo 1.0.1 (MIT), Natural Earth 1:110m derived; "
                    "2 border patches (Dostyk, Korday)",
                },
                "geometry": mapping(geom),
            }
        ],
    }
    text = json.dumps(collection, sort_keys=True, separators=(",", ":"))
    OUT.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({geom.geom_type}, {shapely.get_num_coordinates(geom)} vertices)")


if __name__ == "__main__":
    main()
