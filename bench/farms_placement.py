"""Where synthetic farms lie: the checks of issue 16 for both placements.

Usage::

    .venv/bin/python bench/farms_placement.py [--farms 20000] [--seed 0] [--shared ../shared]

Prints, for ``placement="cropland"`` (default) and ``"settlements"`` (the method before issue
16): the share of sown area within 25 km of towns of 40,000 people or more, the farms inside a
Natural Earth 10m lake or the Caspian (needs ``../shared/data/cropland/kz_water_ne10m.gpkg``;
skipped when absent), the share of farms with a 2024 district code and the three northern
oblasts' share of sown area against the oblast table, plus the load average.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from planner import farms, geodata, travel

NORTH = ("KZ-11", "KZ-39", "KZ-59")
TOWN_POPULATION = 40_000
NEAR_KM = 25.0


def main() -> None:
    """Generate the farms with each placement and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--farms", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    args = ap.parse_args()
    towns = geodata.load_settlements()
    towns = towns[towns["population"] >= TOWN_POPULATION]
    water_file = args.shared / "data" / "cropland" / "kz_water_ne10m.gpkg"
    water = None
    if water_file.is_file():
        parts = [
            gpd.read_file(water_file, layer=x).geometry.to_numpy() for x in ("lakes", "caspian")
        ]
        water = shapely.union_all(np.concatenate(parts))
    oblasts = geodata.load_oblasts().set_index("iso")
    want_north = oblasts.loc[list(NORTH), "sown_area_kha"].sum() / oblasts["sown_area_kha"].sum()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{args.farms:,} farms, seed {args.seed}; {len(towns)} towns >= {TOWN_POPULATION:,}")
    for placement in farms.PLACEMENTS:
        f = farms.generate_farms(args.farms, seed=args.seed, placement=placement)
        lat, lon = f["lat"].to_numpy(), f["lon"].to_numpy()
        d = np.full(len(f), np.inf)
        for tlat, tlon in zip(towns["lat"], towns["lon"], strict=True):
            d = np.minimum(d, travel.great_circle_km(tlat, tlon, lat, lon))
        area = f["sown_area_ha"].to_numpy()
        near = area[d <= NEAR_KM].sum() / area.sum()
        wet = "n/a" if water is None else str(int(shapely.contains_xy(water, lon, lat).sum()))
        kato = f["district_kato"].astype(str).str.fullmatch(r"\d{9}").mean()
        north = area[f["oblast_iso"].isin(NORTH).to_numpy()].sum() / area.sum()
        print(
            f"{placement:>11}: sown area within {NEAR_KM:g} km of towns {100 * near:.1f} %, "
            f"farms in water {wet}, with district KATO {100 * kato:.1f} %, north share "
            f"{100 * north:.2f} % (oblast table {100 * want_north:.2f} %)"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
