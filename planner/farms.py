"""Farms: the demand points of the planner -- a seeded synthetic generator, or the user's registry.

No farm register of Kazakhstan is public (facts file section 4: farm counts by oblast "not
found"), so the default farms are **synthetic**. :func:`generate_farms` builds them from the
embedded oblast table (``planner.geodata.load_oblasts``) and the HYDE cropland cells
(``planner.geodata.load_cropland_cells``), and every output says so (column ``synthetic`` and
``attrs["data_notes"]``). :func:`write_farms` writes them as a registry (``planner data
farms``); :func:`read_farms` reads a real (or edited) registry instead.

Generator method
----------------
1. **Farms per oblast** proportional to sown area (the facts file's recommended demand weight),
   rounded by the largest-remainder method; every oblast with machines gets at least one farm
   when ``n_farms`` allows it. Cities without cropland (Astana, Almaty) get none.
2. **Location** (``placement="cropland"``, the default): each farm picks a cropland cell of its
   oblast (``planner.geodata.load_cropland_cells``: HYDE 3.2 cropland 2016 on the 5' grid,
   about 9 x 6 km) with probability proportional to the cell's cropland. This is the same as
   choosing the district by its cropland share within the oblast and then a cell by its share
   within the district. The farm then lies uniformly in a dry sub-cell of that cell (a 4 x 4
   split; sub-cells touching a Natural Earth 10m lake or the Caspian are never used), so no
   farm lies in that water. ``district_kato`` / ``district`` are the 2024 district of the cell
   centre; ``settlement_id`` is the nearest GeoNames settlement (for zones and labels).
   Limits: HYDE spreads cropland wider than the statistics (the three northern oblasts hold
   51.5 % of HYDE cropland but about 66 % of sown area), which is why only the *within-oblast*
   pattern is taken from HYDE and the farm count per oblast from the oblast table; the grid
   is about 4 km off north-south; a farm near a district edge may lie a few km inside the
   neighbouring district. ``placement="settlements"`` keeps the older method: a settlement of
   the oblast with probability proportional to ``sqrt(max(population, 500))``, then a uniform
   point within ``jitter_radius_km`` (assumption, default 30 km), redrawn up to 20 times while
   outside Kazakhstan; that method over-weights towns (a third of the sown area within 25 km
   of towns of 40,000 people or more, against about 6 % of HYDE cropland).
3. **Sown area**: the oblast's sown area is split over its farms with log-normal weights
   (sigma ``FARM_SIZE_SIGMA``; assumption, no size distribution is sourced), so oblast sums
   are exact.
4. **Fleet**: the oblast's tractors (combines) are split over its farms in proportion to
   sown area times a log-normal factor (sigma 0.3 / 0.5, assumption: machinery per hectare
   varies between farms), rounded by the largest-remainder method within the oblast. Oblast
   and national totals are therefore reproduced exactly.
5. **Age classes** per farm: a multinomial draw with the national shares ``TRACTOR_AGE_SHARES``
   / ``COMBINE_AGE_SHARES`` (facts 3b).
6. **Belarus-made**: a binomial draw per farm with probability ``belarus_share`` for tractors
   and ``belarus_share_combines`` for combines (scenario parameters; the facts file found no
   sourced share of MTZ tractors nor of Gomselmash combines, facts 3e).

Everything is vectorised (loops run over oblasts only) and driven by one
``numpy.random.default_rng(seed)``: the same arguments give the same farms.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from planner import geodata
from planner._types import FloatArray, IntArray
from planner.errors import ValidationError
from planner.io import BELARUS_BRANDS, ValidationReport, validate_farms
from planner.travel import nearest_point

TRACTOR_AGE_SHARES: Final[tuple[float, float, float]] = (0.20, 0.15, 0.65)
"""Tractor shares in age classes 0-10, 10-17 and >17 years.

80 % of tractors are older than 10 years (1 Jan 2022, Senator Zhumagaziev, abai.kz) and 65 %
older than 17 years (2017 and 2020, Aituganov / MIIR) -- facts 3b. The two figures come from
different years; combining them is an approximation.
"""

COMBINE_AGE_SHARES: Final[tuple[float, float, float]] = (0.24, 0.30, 0.46)
"""Combine shares in age classes 0-10, 10-17 and >17 years (76 % > 10 y, 46 % > 17 y; facts 3b)."""

AGE_CLASSES: Final[tuple[str, str, str]] = ("0_10", "10_17", "17p")
"""Suffixes of the age-class columns (``tractors_0_10`` ...)."""

FARM_SIZE_SIGMA: Final[float] = 1.0
"""Log-normal sigma of synthetic farm sizes (assumption, no Kazakhstan source)."""

TRACTOR_DENSITY_SIGMA: Final[float] = 0.3
"""Log-normal sigma of tractors per hectare between farms (assumption, no Kazakhstan source)."""

COMBINE_DENSITY_SIGMA: Final[float] = 0.5
"""Log-normal sigma of combines per hectare between farms (assumption, no Kazakhstan source)."""

FARM_JITTER_RADIUS_KM: Final[float] = 30.0
"""Radius around a settlement within which synthetic farms are placed (assumption)."""

MIN_SETTLEMENT_WEIGHT_POPULATION: Final[int] = 500
"""Population floor used in the settlement weights (GeoNames cities500; 0 means unknown)."""

PLACEMENTS: Final[tuple[str, ...]] = ("cropland", "settlements")
"""Values of ``generate_farms(placement=...)``: by cropland cells (default) or near settlements."""

_KM_PER_DEG_LAT: Final[float] = 110.574
_KM_PER_DEG_LON_EQUATOR: Final[float] = 111.320
_MAX_REDRAWS: Final[int] = 20

FARM_COLUMNS: Final[tuple[str, ...]] = (
    "farm_id", "oblast_iso", "district_kato", "district", "settlement_id", "lat", "lon",
    "sown_area_ha", "tractors", "combines", "tractors_0_10", "tractors_10_17", "tractors_17p",
    "combines_0_10", "combines_10_17", "combines_17p", "belarus_tractors", "belarus_combines",
    "synthetic",
)  # fmt: skip
"""Columns of every farm table (plus ``geometry``), in this order."""

_FLEET_COLUMNS: Final = ("tractors", "combines")
_NUMERIC: Final = frozenset(
    {
        "tractors",
        "combines",
        "sown_area_ha",
        "service_hours",
        "belarus_tractors",
        "belarus_combines",
    }
    | {f"{m}_{a}" for m in _FLEET_COLUMNS for a in AGE_CLASSES}
)


def _largest_remainder(totals: IntArray, weights: FloatArray, group: IntArray) -> IntArray:
    """Split integer ``totals[g]`` over the rows of each group ``g`` in proportion to weights.

    Parameters
    ----------
    totals
        Integer total per group.
    weights
        Non-negative weight per row.
    group
        Group index per row (0..len(totals)-1).

    Returns
    -------
    counts
        Integer per row; the sum over each group equals its total (groups whose weights sum to
        0 get 0).
    """
    n_groups = len(totals)
    wsum = np.bincount(group, weights=weights, minlength=n_groups)
    safe = np.where(wsum > 0, wsum, 1.0)
    exact = np.where(wsum[group] > 0, totals[group] * weights / safe[group], 0.0)
    counts = np.floor(exact).astype(np.int64)
    remainder = exact - counts
    left = np.where(wsum > 0, totals - np.bincount(group, weights=counts, minlength=n_groups), 0)
    order = np.lexsort((-remainder, group))
    starts = np.concatenate(([0], np.cumsum(np.bincount(group, minlength=n_groups))[:-1]))
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group)) - starts[group[order]]
    counts += (rank < left[group]).astype(np.int64)
    return counts


def _farms_per_oblast(n_farms: int, sown: FloatArray, has_fleet: npt.NDArray[np.bool_]) -> IntArray:
    """Largest-remainder split of ``n_farms`` by sown area.

    An oblast with machines and sown area that rounds to no farm takes one from the oblast
    with the most farms (when ``n_farms`` allows), so no oblast's fleet is lost.
    """
    single = np.zeros(len(sown), dtype=np.int64)
    counts = _largest_remainder(np.array([n_farms]), sown.astype(np.float64), single)
    needy = np.flatnonzero((counts == 0) & has_fleet & (sown > 0))
    for k in needy:
        donor = int(np.argmax(counts))
        if counts[donor] <= 1:
            break
        counts[donor] -= 1
        counts[k] += 1
    return counts


def _age_split(
    rng: np.random.Generator, counts: IntArray, shares: tuple[float, float, float]
) -> IntArray:
    """Multinomial split of each row's machines into the three age classes (rows x 3)."""
    split: IntArray = rng.multinomial(counts, np.asarray(shares, dtype=np.float64)).astype(np.int64)
    return split


def _check_inputs(
    n_farms: int,
    shares: dict[str, float],
    oblasts: pd.DataFrame,
    places: pd.DataFrame,
    placement: str,
) -> list[str]:
    problems = []
    if isinstance(n_farms, bool) or not isinstance(n_farms, int | np.integer) or n_farms < 1:
        problems.append(f"`n_farms` must be a whole number >= 1, got {n_farms!r}.")
    problems += [
        f"`{name}` must be between 0 and 1, got {value}."
        for name, value in shares.items()
        if not 0.0 <= value <= 1.0
    ]
    if placement not in PLACEMENTS:
        problems.append(f"`placement` must be one of {', '.join(PLACEMENTS)}, got {placement!r}.")
        return problems
    need_o = ("iso", "sown_area_kha", "tractors", "combines")
    if placement == "settlements":
        kind, need_p = "settlements", ("settlement_id", "oblast_iso", "lat", "lon", "population")
    else:
        kind, need_p = "cells", ("lon", "lat", "cropland_ha", "land_mask", "district_kato")
    problems += [f"`oblasts` lacks column `{c}`." for c in need_o if c not in oblasts.columns]
    problems += [f"`{kind}` lacks column `{c}`." for c in (*need_p, "oblast_iso")
                 if c not in places.columns]  # fmt: skip
    if problems:
        return problems
    if placement == "settlements":
        have = set(places["oblast_iso"].astype(str))
        what = "no settlement to place farms at; add settlements with that `oblast_iso`"
    else:
        have = set(places.loc[places["cropland_ha"] > 0, "oblast_iso"].astype(str))
        what = (
            'no cropland cell to place farms at; use `placement="settlements"` or add '
            "cells with that `oblast_iso`"
        )
    for _, row in oblasts.iterrows():
        sown, fleet = float(row["sown_area_kha"]), int(row["tractors"]) + int(row["combines"])
        if sown > 0 and row["iso"] not in have:
            problems.append(
                f"oblast {row['iso']} has sown area but {what} or set its sown area to 0."
            )
        if sown <= 0 and fleet > 0:
            problems.append(
                f"oblast {row['iso']} has {fleet} machines but no sown area; farms are placed by "
                "sown area, so give it a sown area or set its fleet to 0."
            )
    return problems


def _place(
    rng: np.random.Generator,
    lon0: FloatArray,
    lat0: FloatArray,
    radius_km: float,
) -> tuple[FloatArray, FloatArray]:
    """Jitter points uniformly within a disc, redrawing points that leave Kazakhstan."""
    lon = lon0.copy()
    lat = lat0.copy()
    todo = np.arange(len(lon0))
    area = geodata.country_area()
    for _ in range(_MAX_REDRAWS):
        if radius_km <= 0 or len(todo) == 0:
            break
        r = radius_km * np.sqrt(rng.random(len(todo)))
        theta = 2.0 * np.pi * rng.random(len(todo))
        lat[todo] = lat0[todo] + r * np.cos(theta) / _KM_PER_DEG_LAT
        coslat = np.cos(np.radians(lat0[todo]))
        lon[todo] = lon0[todo] + r * np.sin(theta) / (_KM_PER_DEG_LON_EQUATOR * coslat)
        inside = shapely.contains_xy(area, lon[todo], lat[todo])
        todo = todo[~inside]
    lon[todo] = lon0[todo]
    lat[todo] = lat0[todo]
    return lon, lat


def _pick_rows(
    rng: np.random.Generator,
    per_oblast: IntArray,
    iso: npt.NDArray[np.object_],
    row_iso: npt.NDArray[np.object_],
    weight: FloatArray,
) -> IntArray:
    """For each farm (grouped by oblast), a row of its oblast drawn with ``weight``."""
    pick = np.empty(int(per_oblast.sum()), dtype=np.int64)
    start = 0
    for k, n_k in enumerate(per_oblast.tolist()):
        if n_k == 0:
            continue
        members = np.flatnonzero((row_iso == iso[k]) & (weight > 0))
        p = weight[members] / weight[members].sum()
        pick[start : start + n_k] = rng.choice(members, size=n_k, p=p)
        start += n_k
    return pick


def dry_point_in_cell(
    rng: np.random.Generator, lon0: FloatArray, lat0: FloatArray, land_mask: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Draw one uniform point per cell inside a dry sub-cell of its ``land_mask``.

    Parameters
    ----------
    rng
        Random generator.
    lon0, lat0
        Cell centres (degrees, ``planner.geodata.CROPLAND_CELL_DEG`` wide).
    land_mask
        Bit mask of the dry sub-cells (see ``planner.geodata.CROPLAND_SUBDIV``); must be > 0.

    Returns
    -------
    lon, lat
        Points (degrees), each in a dry sub-cell of its cell.
    """
    sub = geodata.CROPLAND_SUBDIV
    step = geodata.CROPLAND_CELL_DEG / sub
    bits = (land_mask[:, None] >> np.arange(sub * sub)) & 1
    cum = np.cumsum(bits, axis=1)
    k = np.floor(rng.random(len(lon0)) * cum[:, -1]).astype(np.int64)
    slot = np.argmax(cum > k[:, None], axis=1)
    row, col = np.divmod(slot, sub)
    u = rng.random((2, len(lon0)))
    lon = lon0 - geodata.CROPLAND_CELL_DEG / 2 + (col + u[0]) * step
    lat = lat0 - geodata.CROPLAND_CELL_DEG / 2 + (row + u[1]) * step
    return lon, lat


def _locate(  # noqa: PLR0917 (private helper of generate_farms, one call site)
    rng: np.random.Generator,
    per_oblast: IntArray,
    iso: npt.NDArray[np.object_],
    settlements: pd.DataFrame,
    cells: pd.DataFrame,
    placement: str,
    jitter_radius_km: float,
) -> tuple[FloatArray, FloatArray, IntArray, npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """Step 2: lon, lat, settlement row, district KATO and district name of every farm."""
    s_lon = settlements["lon"].to_numpy(dtype=np.float64)
    s_lat = settlements["lat"].to_numpy(dtype=np.float64)
    c_lon = cells["lon"].to_numpy(dtype=np.float64)
    c_lat = cells["lat"].to_numpy(dtype=np.float64)
    if placement == "settlements":
        s_pop = settlements["population"].to_numpy(dtype=np.float64)
        s_weight = np.sqrt(np.maximum(s_pop, MIN_SETTLEMENT_WEIGHT_POPULATION))
        s_iso = settlements["oblast_iso"].astype(str).to_numpy(dtype=object)
        town = _pick_rows(rng, per_oblast, iso, s_iso, s_weight)
        lon, lat = _place(rng, s_lon[town], s_lat[town], jitter_radius_km)
        cell = nearest_point(lon, lat, c_lon, c_lat)
    else:
        weight = cells["cropland_ha"].to_numpy(dtype=np.float64)
        c_iso = cells["oblast_iso"].astype(str).to_numpy(dtype=object)
        cell = _pick_rows(rng, per_oblast, iso, c_iso, weight)
        mask = cells["land_mask"].to_numpy(dtype=np.int64)
        lon, lat = dry_point_in_cell(rng, c_lon[cell], c_lat[cell], mask[cell])
        town = nearest_point(lon, lat, s_lon, s_lat)
    kato = cells["district_kato"].astype(str).to_numpy(dtype=object)[cell]
    names = geodata.load_districts().set_index("district_kato")["name_en"]
    district = names.reindex(kato).fillna("").to_numpy(dtype=object)
    return lon, lat, town, kato, district


def generate_farms(
    n_farms: int = 20_000,
    *,
    seed: int = 42,
    belarus_share: float = 0.5,
    belarus_share_combines: float | None = None,
    oblasts: pd.DataFrame | None = None,
    settlements: pd.DataFrame | None = None,
    cells: pd.DataFrame | None = None,
    placement: str = "cropland",
    jitter_radius_km: float = FARM_JITTER_RADIUS_KM,
) -> gpd.GeoDataFrame:
    """Generate seeded synthetic farms calibrated to the oblast table (see module docstring).

    Parameters
    ----------
    n_farms
        Number of farms; each stands for a share of the oblast's real farms, so fleets per
        farm shrink as ``n_farms`` grows (totals stay the same).
    seed
        Seed of the random generator; equal arguments give identical farms.
    belarus_share
        Probability that a tractor is Belarus-made (MTZ); a scenario parameter, no sourced
        value exists (facts 3e).
    belarus_share_combines
        Probability that a combine is Belarus-made (Gomselmash / Essil); ``None`` uses
        ``belarus_share`` (no sourced value either, facts 3e).
    oblasts
        Oblast table with ``iso``, ``sown_area_kha``, ``tractors``, ``combines``; default
        :func:`planner.geodata.load_oblasts`.
    settlements
        Settlements with ``settlement_id``, ``oblast_iso``, ``lat``, ``lon``, ``population``;
        default :func:`planner.geodata.load_settlements`. The farms' ``settlement_id`` is the
        nearest of them (``placement="cropland"``) or the one drawn (``"settlements"``).
    cells
        Cropland cells as :func:`planner.geodata.load_cropland_cells` returns them (used for
        placement and, with ``placement="settlements"``, for the district of each farm).
    placement
        ``"cropland"`` (default: farms where HYDE cropland is) or ``"settlements"`` (near a
        settlement drawn by population, the method before cropland cells).
    jitter_radius_km
        With ``placement="settlements"``: farms lie within this distance of their settlement
        (assumption, default 30 km).

    Returns
    -------
    farms
        One row per farm (index 0..n-1) with ``FARM_COLUMNS`` and point geometry (EPSG:4326):
        ``farm_id`` (``"SYN-0000001"``...), ``oblast_iso``, ``district_kato`` (2024 KATO) and
        ``district`` (English name), ``settlement_id``, ``lat``, ``lon``, ``sown_area_ha``,
        machine counts (``tractors``, ``combines``, per age class, ``belarus_*``) and
        ``synthetic`` (True). ``attrs["synthetic"]`` is True and ``attrs["data_notes"]`` says
        the farms are synthetic and how they were made.

    Raises
    ------
    ValidationError
        If an argument or the oblast/settlement/cell tables are unusable (every problem listed).
    """
    oblasts = geodata.load_oblasts() if oblasts is None else oblasts
    settlements = geodata.load_settlements() if settlements is None else settlements
    cells = geodata.load_cropland_cells() if cells is None else cells
    share_c = belarus_share if belarus_share_combines is None else belarus_share_combines
    shares = {"belarus_share": belarus_share}
    if belarus_share_combines is not None:
        shares["belarus_share_combines"] = belarus_share_combines
    places = settlements if placement == "settlements" else cells
    problems = _check_inputs(n_farms, shares, oblasts, places, placement)
    if not jitter_radius_km >= 0:
        problems.append(f"`jitter_radius_km` must be >= 0, got {jitter_radius_km}.")
    if problems:
        raise ValidationError(problems, source="generate_farms")
    n_farms = int(n_farms)
    rng = np.random.default_rng(seed)

    iso = oblasts["iso"].astype(str).to_numpy(dtype=object)
    sown_kha = oblasts["sown_area_kha"].to_numpy(dtype=np.float64)
    tractors_o = oblasts["tractors"].to_numpy(dtype=np.int64)
    combines_o = oblasts["combines"].to_numpy(dtype=np.int64)
    per_oblast = _farms_per_oblast(n_farms, sown_kha, (tractors_o + combines_o) > 0)
    group = np.repeat(np.arange(len(iso), dtype=np.int64), per_oblast)
    lon, lat, town, kato, district = _locate(
        rng, per_oblast, iso, settlements, cells, placement, jitter_radius_km
    )

    # 3. sown area, exact per oblast
    size = rng.lognormal(0.0, FARM_SIZE_SIGMA, n_farms)
    size_sum = np.bincount(group, weights=size, minlength=len(iso))
    sown_ha = sown_kha[group] * 1000.0 * size / size_sum[group]

    # 4. fleets, exact per oblast
    t_weight = sown_ha * rng.lognormal(0.0, TRACTOR_DENSITY_SIGMA, n_farms)
    c_weight = sown_ha * rng.lognormal(0.0, COMBINE_DENSITY_SIGMA, n_farms)
    tractors = _largest_remainder(tractors_o, t_weight, group)
    combines = _largest_remainder(combines_o, c_weight, group)

    # 5. age classes, 6. Belarus-made
    t_age = _age_split(rng, tractors, TRACTOR_AGE_SHARES)
    c_age = _age_split(rng, combines, COMBINE_AGE_SHARES)
    belarus_t = rng.binomial(tractors, belarus_share).astype(np.int64)
    belarus_c = rng.binomial(combines, share_c).astype(np.int64)

    data: dict[str, object] = {
        "farm_id": [f"SYN-{i:07d}" for i in range(1, n_farms + 1)],
        "oblast_iso": iso[group],
        "district_kato": kato,
        "district": district,
        "settlement_id": settlements["settlement_id"].astype(str).to_numpy()[town],
        "lat": lat,
        "lon": lon,
        "sown_area_ha": sown_ha,
        "tractors": tractors,
        "combines": combines,
    }
    for j, suffix in enumerate(AGE_CLASSES):
        data[f"tractors_{suffix}"] = t_age[:, j]
    for j, suffix in enumerate(AGE_CLASSES):
        data[f"combines_{suffix}"] = c_age[:, j]
    data["belarus_tractors"] = belarus_t
    data["belarus_combines"] = belarus_c
    data["synthetic"] = np.ones(n_farms, dtype=np.bool_)
    farms = gpd.GeoDataFrame(
        pd.DataFrame(data), geometry=gpd.points_from_xy(lon, lat), crs=geodata.CRS
    )
    farms.attrs["synthetic"] = True
    where = (
        "placed by HYDE 3.2 cropland 2016 within each oblast (district by its cropland share, "
        "then a 5' cell, never in a Natural Earth 10m lake or the Caspian)"
        if placement == "cropland"
        else f"placed within {jitter_radius_km:g} km of settlements drawn by sqrt(population) "
        "(assumption)"
    )
    farms.attrs["data_notes"] = [
        f"farms are synthetic: generated with seed {seed} (n_farms={n_farms:,}, "
        f"belarus_share={belarus_share:g}, belarus_share_combines={share_c:g}), calibrated "
        f"to oblast totals (sown area {sown_kha.sum():,.0f} kha, {int(tractors_o.sum()):,} "
        f"tractors, {int(combines_o.sum()):,} combines; geodata/oblasts.csv) -- not real farms",
        f"farm locations {where}; farm sizes log-normal sigma {FARM_SIZE_SIGMA:g} and "
        f"machines per ha log-normal sigma {TRACTOR_DENSITY_SIGMA:g} (tractors) / "
        f"{COMBINE_DENSITY_SIGMA:g} (combines): assumption",
        f"Belarus-made shares of the fleet: tractors {belarus_share:g}, combines {share_c:g} "
        "(assumption: scenario parameters, no sourced share, facts 3e)",
    ]
    return farms


def farms_by_district(farms: pd.DataFrame, weight: FloatArray | None = None) -> pd.DataFrame:
    """Aggregate farms by 2024 district.

    Parameters
    ----------
    farms
        A farm table with ``district_kato``, ``oblast_iso``, ``sown_area_ha``, ``tractors``,
        ``combines`` (and ``service_hours_year`` if it has demand columns).
    weight
        Optional weight per farm (e.g. the machines of a selection); summed as ``weight``.

    Returns
    -------
    districts
        One row per district with farms, largest sown area first: ``district_kato``,
        ``oblast_iso`` (of the district's first farm), ``n_farms``, ``sown_area_ha``,
        ``tractors``, ``combines``, ``weight`` (0 without ``weight``) and
        ``service_hours_year`` (0 without that column).
    """
    table = pd.DataFrame(
        {
            "district_kato": farms["district_kato"].astype(str).to_numpy(),
            "oblast_iso": farms["oblast_iso"].astype(str).to_numpy(),
            "sown_area_ha": np.nan_to_num(farms["sown_area_ha"].to_numpy(dtype=np.float64)),
            "tractors": farms["tractors"].to_numpy(dtype=np.float64),
            "combines": farms["combines"].to_numpy(dtype=np.float64),
            "weight": np.zeros(len(farms)) if weight is None else np.asarray(weight, dtype=float),
            "service_hours_year": farms["service_hours_year"].to_numpy(dtype=np.float64)
            if "service_hours_year" in farms.columns
            else np.zeros(len(farms)),
        }
    )
    out = table.groupby("district_kato", sort=False).agg(
        oblast_iso=("oblast_iso", "first"),
        n_farms=("oblast_iso", "size"),
        sown_area_ha=("sown_area_ha", "sum"),
        tractors=("tractors", "sum"),
        combines=("combines", "sum"),
        weight=("weight", "sum"),
        service_hours_year=("service_hours_year", "sum"),
    )
    out = out.sort_values(["sown_area_ha", "n_farms"], ascending=False, kind="stable")
    return out.reset_index()


FARM_FILE_SUFFIXES: Final[tuple[str, ...]] = (".csv", ".xlsx", ".gpkg")
"""File types :func:`write_farms` writes (chosen by the file's suffix)."""


def write_farms(farms: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write a farm table as CSV, XLSX or GeoPackage, readable again by :func:`read_farms`.

    Parameters
    ----------
    farms
        A farm table as :func:`generate_farms` or :func:`read_farms` returns it.
    path
        Target file; its suffix (``.csv``, ``.xlsx``, ``.gpkg``) chooses the format. CSV is
        UTF-8 with ``lat``/``lon`` columns; XLSX has a ``farms`` sheet and a ``notes`` sheet
        with ``attrs["data_notes"]``; GeoPackage has a ``farms`` point layer (EPSG:4326).

    Returns
    -------
    path
        The file written.

    Raises
    ------
    ValidationError
        If the suffix is not one of ``FARM_FILE_SUFFIXES``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FARM_FILE_SUFFIXES:
        msg = (
            f"cannot write farms to `{path.name}`: unknown file type `{suffix}`; use one of "
            f"{', '.join(FARM_FILE_SUFFIXES)}."
        )
        raise ValidationError(msg, source=str(path))
    columns = [c for c in farms.columns if c != "geometry"]
    table = pd.DataFrame(farms[columns])
    if suffix == ".csv":
        table.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    elif suffix == ".xlsx":
        notes = pd.DataFrame({"data_notes": list(farms.attrs.get("data_notes", []))})
        with pd.ExcelWriter(path) as writer:
            table.to_excel(writer, sheet_name="farms", index=False)
            notes.to_excel(writer, sheet_name="notes", index=False)
    else:
        gpd.GeoDataFrame(
            table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs=geodata.CRS
        ).to_file(path, layer="farms", driver="GPKG")
    return path


# --------------------------------------------------------------------------- user registries

_AGE_CLASS_BOUNDS: Final = (10.0, 17.0)
"""Upper bounds (years) of the first two age classes."""


def _nearest_settlements(lon: FloatArray, lat: FloatArray) -> tuple[IntArray, pd.DataFrame]:
    """Index of the nearest GeoNames settlement of each point (unit-vector k-d tree)."""
    towns = geodata.load_settlements()
    idx = nearest_point(
        lon,
        lat,
        towns["lon"].to_numpy(dtype=np.float64),
        towns["lat"].to_numpy(dtype=np.float64),
    )
    return idx, towns


def districts_of_points(
    lon: FloatArray, lat: FloatArray
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """Return the 2024 district of each point: that of its nearest cropland cell.

    Parameters
    ----------
    lon, lat
        Points (degrees, EPSG:4326).

    Returns
    -------
    kato, name
        KATO code (9 digits, text) and English name of each point's district. A point near a
        district line may get the neighbour (the 5' cells are about 9 x 6 km).
    """
    cells = geodata.load_cropland_cells()
    idx = nearest_point(
        lon, lat, cells["lon"].to_numpy(dtype=np.float64), cells["lat"].to_numpy(dtype=np.float64)
    )
    kato = cells["district_kato"].astype(str).to_numpy(dtype=object)[idx]
    names = geodata.load_districts().set_index("district_kato")["name_en"]
    return kato, names.reindex(kato).fillna("").to_numpy(dtype=object)


def read_farms(
    path: str | Path,
    *,
    belarus_share: float = 0.5,
    belarus_share_combines: float | None = None,
    seed: int = 42,
) -> gpd.GeoDataFrame:
    """Read a farm registry (CSV/XLSX with lat/lon columns, GeoJSON, GeoPackage).

    The file is checked by :func:`planner.validate_farms` (formats, encodings,
    separators, decimal commas, English/Russian/Kazakh column names and every rule are
    described there). Required: an id column, coordinates (``lat``/``lon`` columns, or point
    geometry), and at least one of tractors, combines, sown area (ha) or service hours.
    Missing optional columns are filled: absent machine counts are 0, absent
    ``sown_area_ha`` is NaN, ``district_kato`` and ``district`` come from the nearest
    cropland cell (always recomputed from the coordinates), ``oblast_iso`` (also where
    blank) and ``settlement_id`` come from the nearest GeoNames settlement, age classes are
    split with the national shares (``TRACTOR_AGE_SHARES``, ``COMBINE_AGE_SHARES``;
    multinomial draw with ``seed``) unless an ``age`` column puts each farm's machines in
    its class, and ``belarus_*`` is a binomial draw with ``belarus_share`` unless a
    ``brand`` column says the machines are Belarus-made (MTZ, Gomselmash, ...). A
    ``service_hours`` column is kept as an extra column; demand is still computed from
    machine counts.

    Parameters
    ----------
    path
        The registry file.
    belarus_share
        Share of Belarus-made tractors used when ``belarus_tractors`` and a brand column are
        absent.
    belarus_share_combines
        The same for combines; ``None`` uses ``belarus_share``.
    seed
        Seed of the draws that fill age classes and Belarus-made counts.

    Returns
    -------
    farms
        Same columns as :func:`generate_farms` (``synthetic`` from the file's ``synthetic``
        column, as :func:`write_farms` writes it, else False), plus ``service_hours``
        when the file has it, EPSG:4326 points, ``attrs["data_notes"]`` starting with
        ``"farms from <file>"`` and followed by the reader's warnings and what was filled.

    Raises
    ------
    ValidationError
        Listing every problem found, with rows (header = row 1) and columns and how to fix it.
    """
    path = Path(path)
    share_c = belarus_share if belarus_share_combines is None else belarus_share_combines
    bad = [
        f"`{name}` must be between 0 and 1, got {value}."
        for name, value in (("belarus_share", belarus_share), ("belarus_share_combines", share_c))
        if not 0.0 <= value <= 1.0
    ]
    if bad:
        raise ValidationError(bad, source=str(path))
    report = validate_farms(path)
    report.raise_if_invalid()
    assert report.data is not None  # a valid report always has data
    for text in report.warnings:
        if "not points" in text:
            warnings.warn(f"{path.name}: {text}.", UserWarning, stacklevel=2)
    belarus = {"tractors": belarus_share, "combines": share_c}
    return _assemble(path, report, belarus=belarus, seed=seed)


def _age_classes(age: FloatArray, counts: IntArray) -> IntArray:
    """Put every machine of a farm in the age class of the farm's ``age`` (years)."""
    cls = np.searchsorted(np.asarray(_AGE_CLASS_BOUNDS), age, side="right")
    split = np.zeros((len(counts), len(AGE_CLASSES)), dtype=np.int64)
    split[np.arange(len(counts)), np.clip(cls, 0, len(AGE_CLASSES) - 1)] = counts
    return split


def _assemble(
    path: Path,
    report: ValidationReport,
    *,
    belarus: dict[str, float],
    seed: int,
) -> gpd.GeoDataFrame:
    """Build the farm table from the validated rows, filling the optional columns."""
    df = report.data
    assert df is not None
    n = len(df)
    rng = np.random.default_rng(seed)
    lat = df["lat"].to_numpy(dtype=np.float64)
    lon = df["lon"].to_numpy(dtype=np.float64)
    nearest, towns = _nearest_settlements(lon, lat)
    notes = [f"farms from {path.name} ({n:,} farms)", *report.warnings]
    values = {c: df[c].to_numpy(dtype=np.float64) for c in df.columns if c in _NUMERIC}
    for machine in _FLEET_COLUMNS:
        ages = [f"{machine}_{a}" for a in AGE_CLASSES]
        if machine not in values and all(a in values for a in ages):
            values[machine] = np.nansum([values[a] for a in ages], axis=0)
    counts = {m: np.nan_to_num(values.get(m, np.zeros(n))).astype(np.int64) for m in _FLEET_COLUMNS}
    iso = towns["oblast_iso"].to_numpy().astype(object)[nearest]
    if "oblast_iso" in df.columns:
        given = df["oblast_iso"].astype(str).to_numpy(dtype=object)
        iso = np.where(given != "", given, iso)
    kato, district = districts_of_points(lon, lat)
    notes.append(
        "district_kato / district from each farm's nearest cropland cell (HYDE 5' grid, 2024 "
        "districts; a farm near a district line may get the neighbour)"
    )
    out: dict[str, object] = {
        "farm_id": df["farm_id"].astype(str).to_numpy(),
        "oblast_iso": iso,
        "district_kato": kato,
        "district": district,
        "settlement_id": towns["settlement_id"].to_numpy()[nearest],
        "lat": lat,
        "lon": lon,
        "sown_area_ha": values.get("sown_area_ha", np.full(n, np.nan)),
        **counts,
    }
    age = df["age"].to_numpy(dtype=np.float64) if "age" in df.columns else None
    for machine, shares in (("tractors", TRACTOR_AGE_SHARES), ("combines", COMBINE_AGE_SHARES)):
        if all(f"{machine}_{a}" in values for a in AGE_CLASSES):
            split = np.column_stack(
                [np.nan_to_num(values[f"{machine}_{a}"]) for a in AGE_CLASSES]
            ).astype(np.int64)
        else:
            split = _age_split(rng, counts[machine], shares)
            if age is not None:
                known = np.isfinite(age)
                split[known] = _age_classes(age[known], counts[machine][known])
                notes.append(
                    f"{machine} age classes from the `age` column, national shares where blank"
                )
            else:
                notes.append(
                    f"{machine} age classes filled with national shares {shares} (facts 3b)"
                )
        for j, a in enumerate(AGE_CLASSES):
            out[f"{machine}_{a}"] = split[:, j]
    brand = df["brand"].astype(str) if "brand" in df.columns else None
    for machine in _FLEET_COLUMNS:
        bel = f"belarus_{machine}"
        if bel in values:
            out[bel] = np.nan_to_num(values[bel]).astype(np.int64)
        elif brand is not None:
            known = (brand != "").to_numpy()
            is_bel = brand.str.contains(BELARUS_BRANDS).to_numpy()
            drawn = rng.binomial(counts[machine], belarus[machine]).astype(np.int64)
            out[bel] = np.where(known, np.where(is_bel, counts[machine], 0), drawn)
            notes.append(
                f"{bel} from the `brand` column (draw with share {belarus[machine]:g} where "
                "blank; assumption)"
            )
        else:
            out[bel] = rng.binomial(counts[machine], belarus[machine]).astype(np.int64)
            notes.append(
                f"{bel} drawn with Belarus-made share {belarus[machine]:g} (assumption: scenario "
                "parameter, facts 3e)"
            )
    synthetic = (
        df["synthetic"].astype(str).isin(["true", "1", "yes"]).to_numpy()
        if "synthetic" in df.columns
        else np.zeros(n, dtype=np.bool_)
    )
    out["synthetic"] = synthetic
    if synthetic.any():
        notes.insert(
            1,
            f"{int(synthetic.sum()):,} of {n:,} farms are marked synthetic in the file (written by "
            "`planner data farms`; edited or not, they are not real farms)",
        )
    columns = list(FARM_COLUMNS)
    if "service_hours" in values:
        out["service_hours"] = values["service_hours"]
        columns.append("service_hours")
        notes.append(
            "service hours given in the file's `service_hours` column replace the hours "
            "computed from machine counts for those farms"
        )
    farms = gpd.GeoDataFrame(
        pd.DataFrame(out, columns=columns),
        geometry=gpd.points_from_xy(lon, lat),
        crs=geodata.CRS,
    )
    farms.attrs["synthetic"] = bool(synthetic.any())
    farms.attrs["data_notes"] = notes
    return farms
