"""Regenerate ``geodata/cropland_cells.csv`` and ``geodata/districts.csv`` from the shared layers.

Run from the repository root, with the reference layers in ``../shared/data/cropland/``::

    python geodata/build/make_cropland.py [--shared ../shared/data]

Inputs (never copied into the repository; see ``../shared/data/README.md``):

* ``kz_cropland_hyde32_2016_5m.csv``: HYDE 3.2 cropland 2016 on the 5' grid (Klein Goldewijk
  et al. 2017, PBL; CC BY 3.0, OpenLandMap copy treated as CC BY-SA 4.0), each cell with its
  2024 district (``adm2_pcode``) and oblast (``adm1_pcode``).
* ``kz_adm2_hyde_cropland_summary.csv``: district KATO codes, names EN/RU, unit type, zone.
* ``kz_admin_geokz.gpkg`` layer ``adm2_2024``: district polygons and Kazakh names (geokz,
  CC BY 4.0), used for the names and a representative point per district.
* ``kz_water_ne10m.gpkg`` layers ``lakes`` and ``caspian``: Natural Earth 10m (public domain),
  used for the **water mask**.

Outputs
-------
``cropland_cells.csv``
    One row per 5' cell of Kazakhstan with cropland and some dry land: ``lon``, ``lat`` (cell
    centre), ``cropland_ha`` (HYDE cropland times the dry share of the cell, 0.1 ha),
    ``land_mask`` (16-bit integer: bit ``4*row + col`` is set when sub-cell (row, col) of a
    4 x 4 split of the cell, row 0 in the south, col 0 in the west, does not touch a lake or
    the Caspian and lies inside the planner's country outline, ``planner.geodata.country_area``
    = Natural Earth 1:110m + 10 km) and ``district_kato``. The generator places a farm in a set
    sub-cell only, so no farm can lie in the water that Natural Earth 10m draws, and every farm
    passes the planner's own "in Kazakhstan" check when read back; cells without such a
    sub-cell are dropped (about 0.3 % of the cropland, along the borders).
``districts.csv``
    One row per 2024 district unit (224): ``district_kato``, ``adm2_pcode``, ``oblast_iso``,
    ``name_en``, ``name_ru``, ``name_kk``, ``unit_type``, ``natural_zone``, ``lat``, ``lon``
    (a point inside the district polygon, 5 decimals), ``area_km2``, ``cropland_ha`` (sum of
    its cells in ``cropland_cells.csv``).

The output is byte-for-byte reproducible (sorted rows, fixed formatting, ``\\n`` line ends).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from planner.geodata import country_area

GEODATA = Path(__file__).resolve().parents[1]
CELL_DEG = 1.0 / 12.0
SUBDIV = 4


def _water(shared: Path) -> shapely.Geometry:
    path = shared / "cropland" / "kz_water_ne10m.gpkg"
    lakes = gpd.read_file(path, layer="lakes").geometry
    caspian = gpd.read_file(path, layer="caspian").geometry
    water = shapely.union_all(np.concatenate([lakes.to_numpy(), caspian.to_numpy()]))
    shapely.prepare(water)
    return water


def _land_masks(
    lon: np.ndarray, lat: np.ndarray, water: shapely.Geometry, country: shapely.Geometry
) -> np.ndarray:
    """16-bit mask of the sub-cells of each cell that touch no water and lie in ``country``."""
    step = CELL_DEG / SUBDIV
    mask = np.zeros(len(lon), dtype=np.int64)
    for row in range(SUBDIV):
        for col in range(SUBDIV):
            x0 = lon - CELL_DEG / 2 + col * step
            y0 = lat - CELL_DEG / 2 + row * step
            boxes = shapely.box(x0, y0, x0 + step, y0 + step)
            dry = ~shapely.intersects(water, boxes) & shapely.within(boxes, country)
            mask |= dry.astype(np.int64) << (SUBDIV * row + col)
    return mask


def build(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the cell table and the district table."""
    base = shared / "cropland"
    cells = pd.read_csv(base / "kz_cropland_hyde32_2016_5m.csv", dtype={"adm2_pcode": str})
    cells = cells[(cells["in_kz"] == 1) & cells["adm2_pcode"].notna()].copy()
    summary = pd.read_csv(base / "kz_adm2_hyde_cropland_summary.csv", dtype=str)
    polys = gpd.read_file(base / "kz_admin_geokz.gpkg", layer="adm2_2024")
    kato_of = dict(zip(summary["adm2_pcode"], summary["kato"], strict=True))
    water = _water(shared)
    lon = cells["lon"].to_numpy(dtype=np.float64)
    lat = cells["lat"].to_numpy(dtype=np.float64)
    mask = _land_masks(lon, lat, water, country_area())
    dry_share = np.array([bin(int(m)).count("1") for m in mask]) / SUBDIV**2
    out = pd.DataFrame(
        {
            "lon": lon,
            "lat": lat,
            "cropland_ha": np.round(cells["cropland_ha_hyde2016"].to_numpy() * dry_share, 1),
            "land_mask": mask,
            "district_kato": cells["adm2_pcode"].map(kato_of).to_numpy(),
        }
    )
    if out["district_kato"].isna().any():
        sys.exit("a cell's adm2_pcode is not in the district summary")
    out = out[(out["land_mask"] > 0) & (out["cropland_ha"] > 0)]
    out = out.sort_values(["lat", "lon"]).reset_index(drop=True)

    polys = polys.set_index("ADM2_PCODE")
    points = polys.geometry.representative_point()
    crop = out.groupby("district_kato")["cropland_ha"].sum()
    rows = []
    for _, s in summary.sort_values("kato").iterrows():
        pcode = s["adm2_pcode"]
        pt = points.loc[pcode]
        rows.append(
            {
                "district_kato": s["kato"],
                "adm2_pcode": pcode,
                "oblast_iso": f"KZ-{s['adm1_pcode'][2:]}",
                "name_en": s["district"],
                "name_ru": s["district_ru"],
                "name_kk": polys.loc[pcode, "ADM2_KK"],
                "unit_type": s["unit_type"],
                "natural_zone": s["natural_zone"] if isinstance(s["natural_zone"], str) else "",
                "lat": f"{pt.y:.5f}",
                "lon": f"{pt.x:.5f}",
                "area_km2": s["area_km2"],
                "cropland_ha": f"{crop.get(s['kato'], 0.0):.1f}",
            }
        )
    return out, pd.DataFrame(rows)


def main() -> None:
    """Write both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    cells, districts = build(args.shared)
    with (GEODATA / "cropland_cells.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cells.columns)
        for r in cells.itertuples(index=False):
            w.writerow(
                [f"{r.lon:.5f}", f"{r.lat:.5f}", f"{r.cropland_ha:.1f}", r.land_mask,
                 r.district_kato]
            )  # fmt: skip
    districts.to_csv(GEODATA / "districts.csv", index=False, lineterminator="\n")
    print(f"wrote {len(cells)} cells, {len(districts)} districts "
          f"({cells['cropland_ha'].sum() / 1e6:.2f} Mha)")  # fmt: skip


if __name__ == "__main__":
    main()
