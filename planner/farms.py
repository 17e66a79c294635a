"""Farms: the demand points of the planner -- a seeded synthetic generator, or the user's registry.

No farm register of Kazakhstan is public (facts file section 4: farm counts by oblast "not
found"), so the default farms are **synthetic**. :func:`generate_farms` builds them from the
embedded oblast table (``planner.geodata.load_oblasts``) and GeoNames settlements, and every
output says so (column ``synthetic`` and ``attrs["data_notes"]``). :func:`read_farms` reads a
real registry instead.

Generator method
----------------
1. **Farms per oblast** proportional to sown area (the facts file's recommended demand weight),
   rounded by the largest-remainder method; every oblast with machines gets at least one farm
   when ``n_farms`` allows it. Cities without cropland (Astana, Almaty) get none.
2. **Location**: each farm picks a settlement of its oblast with probability proportional to
   ``sqrt(max(population, 500))`` (towns matter, but villages are not drowned out), then is
   moved uniformly within a disc of ``jitter_radius_km`` (default 30 km, assumption). A point
   that falls outside Kazakhstan (``planner.geodata.points_in_kazakhstan`` with its default
   tolerance) is redrawn up to 20 times, then put on the settlement itself. ``oblast_iso``
   is the settlement's oblast (a farm near a border may lie a few km across it).
3. **Sown area**: the oblast's sown area is split over its farms with log-normal weights
   (sigma ``FARM_SIZE_SIGMA``; assumption, no size distribution is sourced), so oblast sums
   are exact.
4. **Fleet**: the oblast's tractors (combines) are split over its farms in proportion to
   sown area times a log-normal factor (sigma 0.3 / 0.5, assumption: machinery per hectare
   varies between farms), rounded by the largest-remainder method within the oblast. Oblast
   and national totals are therefore reproduced exactly (the tests allow 2 %).
5. **Age classes** per farm: a multinomial draw with the national shares ``TRACTOR_AGE_SHARES``
   / ``COMBINE_AGE_SHARES`` (facts 3b).
6. **Belarus-made**: a binomial draw per farm with probability ``belarus_share`` (a scenario
   parameter; the facts file found no sourced share).

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

_KM_PER_DEG_LAT: Final[float] = 110.574
_KM_PER_DEG_LON_EQUATOR: Final[float] = 111.320
_MAX_REDRAWS: Final[int] = 20

FARM_COLUMNS: Final[tuple[str, ...]] = (
    "farm_id", "oblast_iso", "settlement_id", "lat", "lon", "sown_area_ha", "tractors",
    "combines", "tractors_0_10", "tractors_10_17", "tractors_17p", "combines_0_10",
    "combines_10_17", "combines_17p", "belarus_tractors", "belarus_combines", "synthetic",
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
    n_farms: int, belarus_share: float, oblasts: pd.DataFrame, settlements: pd.DataFrame
) -> list[str]:
    problems = []
    if isinstance(n_farms, bool) or not isinstance(n_farms, int | np.integer) or n_farms < 1:
        problems.append(f"`n_farms` must be a whole number >= 1, got {n_farms!r}.")
    if not 0.0 <= belarus_share <= 1.0:
        problems.append(f"`belarus_share` must be between 0 and 1, got {belarus_share}.")
    need_o = ("iso", "sown_area_kha", "tractors", "combines")
    need_s = ("settlement_id", "oblast_iso", "lat", "lon", "population")
    problems += [f"`oblasts` lacks column `{c}`." for c in need_o if c not in oblasts.columns]
    problems += [
        f"`settlements` lacks column `{c}`." for c in need_s if c not in settlements.columns
    ]
    if problems:
        return problems
    places = set(settlements["oblast_iso"].astype(str))
    for _, row in oblasts.iterrows():
        sown, fleet = float(row["sown_area_kha"]), int(row["tractors"]) + int(row["combines"])
        if sown > 0 and row["iso"] not in places:
            problems.append(
                f"oblast {row['iso']} has sown area but no settlement to place farms at; add "
                "settlements with that `oblast_iso` or set its sown area to 0."
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


def generate_farms(
    n_farms: int = 20_000,
    *,
    seed: int = 42,
    belarus_share: float = 0.5,
    oblasts: pd.DataFrame | None = None,
    settlements: pd.DataFrame | None = None,
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
        Probability that a machine is Belarus-made (MTZ / Gomselmash); a scenario parameter,
        no sourced value exists (facts 3e).
    oblasts
        Oblast table with ``iso``, ``sown_area_kha``, ``tractors``, ``combines``; default
        :func:`planner.geodata.load_oblasts`.
    settlements
        Settlements with ``settlement_id``, ``oblast_iso``, ``lat``, ``lon``, ``population``;
        default :func:`planner.geodata.load_settlements`.
    jitter_radius_km
        Farms lie within this distance of their settlement (assumption, default 30 km).

    Returns
    -------
    farms
        One row per farm (index 0..n-1) with ``FARM_COLUMNS`` and point geometry (EPSG:4326):
        ``farm_id`` (``"SYN-0000001"``...), ``oblast_iso``, ``settlement_id``, ``lat``,
        ``lon``, ``sown_area_ha``, machine counts (``tractors``, ``combines``, per age class,
        ``belarus_*``) and ``synthetic`` (True). ``attrs["synthetic"]`` is True and
        ``attrs["data_notes"]`` says the farms are synthetic and how they were made.

    Raises
    ------
    ValidationError
        If an argument or the oblast/settlement tables are unusable (every problem listed).
    """
    oblasts = geodata.load_oblasts() if oblasts is None else oblasts
    settlements = geodata.load_settlements() if settlements is None else settlements
    problems = _check_inputs(n_farms, belarus_share, oblasts, settlements)
    if not jitter_radius_km >= 0:
        problems.append(f"`jitter_radius_km` must be >= 0, got {jitter_radius_km}.")
    if problems:
        raise ValidationError(problems, source="generate_farms")
    n_farms = int(n_farms)
    rng = np.random.default_rng(seed)

    iso = oblasts["iso"].astype(str).to_numpy()
    sown_kha = oblasts["sown_area_kha"].to_numpy(dtype=np.float64)
    tractors_o = oblasts["tractors"].to_numpy(dtype=np.int64)
    combines_o = oblasts["combines"].to_numpy(dtype=np.int64)
    per_oblast = _farms_per_oblast(n_farms, sown_kha, (tractors_o + combines_o) > 0)
    group = np.repeat(np.arange(len(iso), dtype=np.int64), per_oblast)

    # 2. settlement of each farm, weighted by sqrt(population) within its oblast
    s_iso = settlements["oblast_iso"].astype(str).to_numpy()
    s_pop = settlements["population"].to_numpy(dtype=np.float64)
    s_weight = np.sqrt(np.maximum(s_pop, MIN_SETTLEMENT_WEIGHT_POPULATION))
    pick = np.empty(n_farms, dtype=np.int64)
    start = 0
    for k, n_k in enumerate(per_oblast.tolist()):
        if n_k == 0:
            continue
        members = np.flatnonzero(s_iso == iso[k])
        p = s_weight[members] / s_weight[members].sum()
        pick[start : start + n_k] = rng.choice(members, size=n_k, p=p)
        start += n_k
    lon, lat = _place(
        rng,
        settlements["lon"].to_numpy(dtype=np.float64)[pick],
        settlements["lat"].to_numpy(dtype=np.float64)[pick],
        jitter_radius_km,
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
    belarus_c = rng.binomial(combines, belarus_share).astype(np.int64)

    data: dict[str, object] = {
        "farm_id": [f"SYN-{i:07d}" for i in range(1, n_farms + 1)],
        "oblast_iso": iso[group],
        "settlement_id": settlements["settlement_id"].astype(str).to_numpy()[pick],
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
    farms.attrs["data_notes"] = [
        f"farms are synthetic: generated with seed {seed} (n_farms={n_farms:,}, "
        f"belarus_share={belarus_share:g}), calibrated to oblast totals (sown area "
        f"{sown_kha.sum():,.0f} kha, {int(tractors_o.sum()):,} tractors, "
        f"{int(combines_o.sum()):,} combines; geodata/oblasts.csv) -- not real farms",
    ]
    return farms


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


def read_farms(
    path: str | Path,
    *,
    belarus_share: float = 0.5,
    seed: int = 42,
) -> gpd.GeoDataFrame:
    """Read a farm registry (CSV/XLSX with lat/lon columns, GeoJSON, GeoPackage).

    The file is checked by :func:`planner.validate_farms` (formats, encodings,
    separators, decimal commas, English/Russian/Kazakh column names and every rule are
    described there). Required: an id column, coordinates (``lat``/``lon`` columns, or point
    geometry), and at least one of tractors, combines, sown area (ha) or service hours.
    Missing optional columns are filled: absent machine counts are 0, absent
    ``sown_area_ha`` is NaN, ``oblast_iso`` (also where blank) and ``settlement_id`` come
    from the nearest GeoNames settlement, age classes are split with the national shares
    (``TRACTOR_AGE_SHARES``, ``COMBINE_AGE_SHARES``; multinomial draw with ``seed``) unless
    an ``age`` column puts each farm's machines in its class, and ``belarus_*`` is a
    binomial draw with ``belarus_share`` unless a ``brand`` column says the machines are
    Belarus-made (MTZ, Gomselmash, ...). A ``service_hours`` column is kept as an extra
    column; demand is still computed from machine counts.

    Parameters
    ----------
    path
        The registry file.
    belarus_share
        Share of Belarus-made machines used when ``belarus_tractors``/``belarus_combines``
        and a brand column are absent.
    seed
        Seed of the draws that fill age classes and Belarus-made counts.

    Returns
    -------
    farms
        Same columns as :func:`generate_farms` (``synthetic`` False), plus ``service_hours``
        when the file has it, EPSG:4326 points, ``attrs["data_notes"]`` starting with
        ``"farms from <file>"`` and followed by the reader's warnings and what was filled.

    Raises
    ------
    ValidationError
        Listing every problem found, with rows (header = row 1) and columns and how to fix it.
    """
    path = Path(path)
    if not 0.0 <= belarus_share <= 1.0:
        msg = f"`belarus_share` must be between 0 and 1, got {belarus_share}."
        raise ValidationError(msg, source=str(path))
    report = validate_farms(path)
    report.raise_if_invalid()
    assert report.data is not None  # a valid report always has data
    for text in report.warnings:
        if "not points" in text:
            warnings.warn(f"{path.name}: {text}.", UserWarning, stacklevel=2)
    return _assemble(path, report, belarus_share=belarus_share, seed=seed)


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
    belarus_share: float,
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
    out: dict[str, object] = {
        "farm_id": df["farm_id"].astype(str).to_numpy(),
        "oblast_iso": iso,
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
            drawn = rng.binomial(counts[machine], belarus_share).astype(np.int64)
            out[bel] = np.where(known, np.where(is_bel, counts[machine], 0), drawn)
            notes.append(f"{bel} from the `brand` column (draw with belarus_share where blank)")
        else:
            out[bel] = rng.binomial(counts[machine], belarus_share).astype(np.int64)
            notes.append(f"{bel} drawn with belarus_share={belarus_share:g}")
    out["synthetic"] = np.zeros(n, dtype=np.bool_)
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
    farms.attrs["synthetic"] = False
    farms.attrs["data_notes"] = notes
    return farms
