"""Embedded Kazakhstan geodata: oblasts, settlements, outline, facilities, rail entry points.

Every file in the repository's ``geodata/`` folder is listed in ``geodata/MANIFEST.toml`` with
its source, licence, year, CRS, sha256 and how it was made (``geodata/build/*.py`` regenerate
each one from its packaged source). The loaders here are the only way the planner reads those
files: each checks the file's sha256 against the manifest and the columns against the schema
below, and returns a GeoDataFrame in EPSG:4326.

The folder is ``GEODATA_DIR`` unless the environment variable ``PLANNER_GEODATA_DIR`` names
another folder with the same layout; the variable is read at every call, so nothing here is
module state. ``GEODATA_DIR`` is ``planner/_geodata`` inside an installed wheel (the build maps
the repository's top-level ``geodata/`` there, see ``setup.py``), found with
:mod:`importlib.resources`, else the ``geodata/`` folder beside ``planner/`` in a checkout or an
editable install.

Datasets
--------
oblasts
    The 17 oblasts and 3 cities of republican significance after the 2022 reform, with sown
    area and machine fleet per unit (sourced or estimated, see ``*_status`` / ``*_method``).
settlements
    Populated places of Kazakhstan from GeoNames ``cities500`` (CC BY 4.0, attribution:
    GeoNames, www.geonames.org), each with its current oblast.
kz_outline
    Country outline from the ``countryinfo`` package (Natural Earth 1:110m derived, MIT).
facilities
    Existing Belarusian assembly, component, trading and service operations in Kazakhstan.
rail_entry_points
    Russia-Kazakhstan rail crossings used for inbound machinery, with confidence.
cropland_cells
    HYDE 3.2 cropland (2016) on the 5' grid for the cells of Kazakhstan, each with its 2024
    district (KATO) and a 4 x 4 sub-cell land mask against Natural Earth 10m lakes and the
    Caspian (``geodata/build/make_cropland.py``).
districts
    The 224 district units of the 2024 layout (geokz, CC BY 4.0): KATO, names EN/RU/KK, oblast,
    a point inside, area and HYDE cropland.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.resources
import json
import os
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
import shapely.geometry
from pyproj import Transformer

from planner.errors import GeodataError, ValidationError

PACKAGED_GEODATA: Final[str] = "_geodata"
"""Subpackage of ``planner`` that holds the embedded data in a wheel (built from ``geodata/``)."""


def _default_geodata_dir() -> Path:
    """Return ``planner/_geodata`` when the package ships it, else the checkout's ``geodata/``."""
    packaged = importlib.resources.files("planner") / PACKAGED_GEODATA
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[1] / "geodata"


GEODATA_DIR: Final[Path] = _default_geodata_dir()
"""Default location of the embedded data: ``planner/_geodata`` in an installed wheel, else the
repository's top-level ``geodata/`` folder (checkout, editable install)."""

GEODATA_ENV_VAR: Final[str] = "PLANNER_GEODATA_DIR"
"""Environment variable that, when set, replaces ``GEODATA_DIR`` (read at call time)."""

CRS: Final[str] = "EPSG:4326"
"""CRS of every dataset and every GeoDataFrame returned here."""

OUTLINE_TOLERANCE_KM: Final[float] = 10.0
"""Default tolerance of :func:`points_in_kazakhstan`.

The outline is Natural Earth 1:110m: its line runs up to ~6 km inside the real border at
GeoNames border towns once the two worst places (Dostyk, Korday) are patched, see
``geodata/build/make_outline.py``. 10 km keeps every GeoNames settlement inside (the farthest
is 5.9 km out) while Tashkent (15.9 km from the line), Bishkek (16.7 km) and Moscow stay
outside.
"""

OUTLINE_LOCAL_CRS: Final[str] = "+proj=aeqd +lat_0=48 +lon_0=68 +datum=WGS84 +units=m +no_defs"
"""Azimuthal equidistant projection centred on Kazakhstan, used to buffer the outline in km."""

OBLAST_ISO_CODES: Final[tuple[str, ...]] = (
    "KZ-10", "KZ-11", "KZ-15", "KZ-19", "KZ-23", "KZ-27", "KZ-31", "KZ-33", "KZ-35", "KZ-39",
    "KZ-43", "KZ-47", "KZ-55", "KZ-59", "KZ-61", "KZ-62", "KZ-63", "KZ-71", "KZ-75", "KZ-79",
)  # fmt: skip
"""ISO 3166-2:KZ codes of the 17 oblasts and 3 cities (since 8 June 2022)."""

NATIONAL_SOWN_AREA_KHA: Final[float] = 23_800.0
"""National sown area 2024, MoA (Trend 2024-06-23), facts section 2a; oblast rows sum to ~-5 %."""

NATIONAL_TRACTORS: Final[int] = 147_700
"""National tractor fleet, akimat data ~2022-23 (NewTimes.kz/AutoReport 2024), facts 3a."""

NATIONAL_COMBINES: Final[int] = 38_100
"""National combine fleet, akimat data ~2022-23 (NewTimes.kz/AutoReport 2024), facts 3a."""

_OBLAST_COLUMNS: Final = (
    "iso", "name_en", "name_ru", "name_kk", "kind", "centre_en", "centre_ru", "centre_kk",
    "lat", "lon", "sown_area_kha", "grain_area_kha", "oilseed_area_kha", "sown_area_year",
    "sown_area_status", "sown_area_source", "area_split_status", "area_split_method",
    "tractors", "combines", "fleet_year", "fleet_status", "tractors_status", "combines_status",
    "fleet_source", "fleet_method",
)  # fmt: skip
_SETTLEMENT_COLUMNS: Final = (
    "settlement_id", "name", "name_ru", "population", "oblast_iso", "lat", "lon",
    "admin1_geonames", "oblast_rule",
)  # fmt: skip
_FACILITY_COLUMNS: Final = (
    "facility_id", "name", "operator", "partner", "city", "oblast_iso", "lat", "lon", "kind",
    "machines", "capacity_units_per_year", "capacity_note", "status", "confidence", "source",
    "settlement_id", "location_method",
)  # fmt: skip
_RAIL_COLUMNS: Final = (
    "entry_id", "name", "russian_side_station", "oblast_iso", "lat", "lon", "serves",
    "confidence", "source", "settlement_id", "location_method",
)  # fmt: skip

_CROPLAND_COLUMNS: Final = ("lon", "lat", "cropland_ha", "land_mask", "district_kato")
_DISTRICT_COLUMNS: Final = (
    "district_kato", "adm2_pcode", "oblast_iso", "name_en", "name_ru", "name_kk", "unit_type",
    "natural_zone", "lat", "lon", "area_km2", "cropland_ha",
)  # fmt: skip

CROPLAND_CELL_DEG: Final[float] = 1.0 / 12.0
"""Side of a cropland cell in degrees (the 5' HYDE grid; ``lon``/``lat`` are cell centres)."""

CROPLAND_SUBDIV: Final[int] = 4
"""Each cropland cell is split into ``CROPLAND_SUBDIV`` x ``CROPLAND_SUBDIV`` sub-cells; bit
``CROPLAND_SUBDIV * row + col`` of ``land_mask`` (row 0 south, col 0 west) is set when the
sub-cell touches no lake and not the Caspian."""

_REBUILD_HINT: Final = (
    "Restore the file from git (`git checkout -- geodata/`), or if you rebuilt it on purpose "
    "run `python geodata/build/make_manifest.py` to record the new checksum."
)


@dataclass(frozen=True)
class DatasetInfo:
    """Provenance of one embedded data file, as recorded in ``geodata/MANIFEST.toml``.

    Parameters
    ----------
    name
        Dataset key (``"oblasts"``, ``"settlements"``, ...).
    file
        File name relative to the geodata folder.
    source
        Where the data comes from.
    licence
        Licence of the data and the attribution it requires.
    year
        Reference year(s) of the data, as text (e.g. ``"2022-2025 (per row ...)"``).
    crs
        Coordinate reference system of the coordinates in the file.
    sha256
        Hex sha256 of the file's bytes.
    method
        How the file was made (the build script and its rules).
    """

    name: str
    file: str
    source: str
    licence: str
    year: str
    crs: str
    sha256: str
    method: str


def geodata_dir() -> Path:
    """Return the folder the embedded data is read from.

    Returns
    -------
    directory
        ``$PLANNER_GEODATA_DIR`` if set and non-empty, else ``GEODATA_DIR``.
    """
    override = os.environ.get(GEODATA_ENV_VAR, "")
    return Path(override) if override else GEODATA_DIR


def load_manifest() -> dict[str, DatasetInfo]:
    """Read ``MANIFEST.toml`` of the geodata folder.

    Returns
    -------
    manifest
        Dataset name -> provenance record.

    Raises
    ------
    GeodataError
        If the manifest is missing, not valid TOML, or a record lacks a field.
    """
    path = geodata_dir() / "MANIFEST.toml"
    if not path.is_file():
        msg = (
            f"geodata manifest not found at {path}. The planner reads its embedded data from "
            f"`planner/{PACKAGED_GEODATA}` in an installed package or from `geodata/` beside "
            "`planner/` in a checkout: reinstall the package (`pip install .`), restore the "
            f"folder from git, or point `{GEODATA_ENV_VAR}` at a folder holding MANIFEST.toml "
            "and its files."
        )
        raise GeodataError(msg)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path} is not valid TOML ({exc}). Regenerate it: geodata/build/make_manifest.py."
        raise GeodataError(msg) from exc
    fields = ("file", "source", "licence", "year", "crs", "sha256", "method")
    manifest: dict[str, DatasetInfo] = {}
    for name, record in raw.get("datasets", {}).items():
        missing = [f for f in fields if f not in record]
        if missing:
            msg = (
                f"{path}: dataset `{name}` lacks {', '.join(missing)}. Regenerate the manifest "
                "with geodata/build/make_manifest.py."
            )
            raise GeodataError(msg)
        manifest[name] = DatasetInfo(name=name, **{f: str(record[f]) for f in fields})
    return manifest


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify_geodata() -> list[str]:
    """Check every manifest entry: file present and sha256 as recorded.

    Returns
    -------
    problems
        One message per missing or modified file, and per data file not in the manifest;
        empty when everything matches.
    """
    directory = geodata_dir()
    manifest = load_manifest()
    problems = []
    for info in manifest.values():
        path = directory / info.file
        if not path.is_file():
            problems.append(f"{info.name}: file {path} is missing. {_REBUILD_HINT}")
        elif (actual := _sha256(path)) != info.sha256:
            problems.append(
                f"{info.name}: sha256 of {path} is {actual}, manifest says {info.sha256}. "
                f"{_REBUILD_HINT}"
            )
    listed = {info.file for info in manifest.values()}
    problems.extend(
        f"{path} is not listed in MANIFEST.toml; add it to geodata/build/make_manifest.py "
        "with its source and licence."
        for path in sorted(directory.iterdir())
        if path.is_file() and path.name not in listed | {"MANIFEST.toml", "README.md"}
    )
    return problems


def _checked_path(name: str) -> Path:
    """Return the path of dataset ``name`` after checking presence and sha256."""
    manifest = load_manifest()
    if name not in manifest:
        msg = (
            f"dataset `{name}` is not in {geodata_dir() / 'MANIFEST.toml'} "
            f"(it lists {', '.join(sorted(manifest))}). Regenerate the manifest with "
            "geodata/build/make_manifest.py."
        )
        raise GeodataError(msg)
    info = manifest[name]
    path = geodata_dir() / info.file
    if not path.is_file():
        msg = f"geodata file {path} (dataset `{name}`) is missing. {_REBUILD_HINT}"
        raise GeodataError(msg)
    actual = _sha256(path)
    if actual != info.sha256:
        msg = (
            f"geodata file {path} does not match its manifest (sha256 {actual[:12]}..., "
            f"expected {info.sha256[:12]}...). {_REBUILD_HINT}"
        )
        raise GeodataError(msg)
    return path


def _read_csv(name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    path = _checked_path(name)
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = (
            f"{path} lacks column(s) {', '.join(missing)}. Rebuild it with the matching script "
            "in geodata/build/ and then geodata/build/make_manifest.py."
        )
        raise GeodataError(msg)
    return df


def _to_float(df: pd.DataFrame, columns: tuple[str, ...]) -> None:
    for col in columns:
        df[col] = pd.to_numeric(df[col].replace("", np.nan), errors="raise").astype("float64")


def _to_points(df: pd.DataFrame) -> gpd.GeoDataFrame:
    geometry = gpd.points_from_xy(df["lon"], df["lat"], crs=CRS)
    return gpd.GeoDataFrame(df, geometry=geometry, crs=CRS)


def load_oblasts() -> gpd.GeoDataFrame:
    """Load the 17 oblasts and 3 cities with sown area and machine fleet.

    Returns
    -------
    oblasts
        20 rows indexed 0..19, point geometry = administrative centre (EPSG:4326). Columns
        ``iso``, ``name_en``, ``name_ru``, ``name_kk``, ``kind`` (``"oblast"`` | ``"city"``),
        ``centre_en``, ``centre_ru``, ``centre_kk``, ``lat``, ``lon``, ``sown_area_kha``,
        ``grain_area_kha``, ``oilseed_area_kha`` (thousand ha), ``sown_area_year`` (Int64,
        NA where not found), ``sown_area_status`` (``"sourced"`` | ``"estimated"``),
        ``sown_area_source``, ``area_split_status``, ``area_split_method``, ``tractors``,
        ``combines`` (machines; oblast sums equal ``NATIONAL_TRACTORS`` and
        ``NATIONAL_COMBINES``), ``fleet_year``, ``fleet_status`` (``"sourced"`` only if both
        machine counts are), ``tractors_status``, ``combines_status``, ``fleet_source``,
        ``fleet_method``.
    """
    df = _read_csv("oblasts", _OBLAST_COLUMNS)
    _to_float(df, ("lat", "lon", "sown_area_kha", "grain_area_kha", "oilseed_area_kha"))
    df["sown_area_year"] = pd.to_numeric(df["sown_area_year"].replace("", np.nan)).astype("Int64")
    for col in ("tractors", "combines", "fleet_year"):
        df[col] = df[col].astype("int64")
    return _to_points(df)


def load_settlements() -> gpd.GeoDataFrame:
    """Load the populated places of Kazakhstan (GeoNames cities500, CC BY 4.0).

    Returns
    -------
    settlements
        One row per GeoNames place. Columns ``settlement_id`` (``"gn:<geonameid>"``),
        ``name`` (ASCII), ``name_ru`` (a Cyrillic alternate name, ``""`` if GeoNames has
        none), ``population`` (int, 0 = unknown), ``oblast_iso`` (current ISO code),
        ``lat``, ``lon``, ``admin1_geonames`` (GeoNames admin1 code), ``oblast_rule``
        (``"admin1"`` | ``"override"`` | ``"nearest"``: how the oblast was decided, see
        ``geodata/build/make_settlements.py``), point geometry (EPSG:4326).
    """
    df = _read_csv("settlements", _SETTLEMENT_COLUMNS)
    _to_float(df, ("lat", "lon"))
    df["population"] = df["population"].astype("int64")
    return _to_points(df)


def load_existing_facilities() -> gpd.GeoDataFrame:
    """Load the existing Belarusian machinery operations in Kazakhstan (facts section 5).

    Returns
    -------
    facilities
        Columns ``facility_id`` (stable slug), ``name``, ``operator``, ``partner``, ``city``,
        ``oblast_iso``, ``lat``, ``lon``, ``kind`` (``"assembly_plant"`` |
        ``"component_plant"`` | ``"trading_house"`` | ``"service_centre"``), ``machines``
        (``"tractor"`` | ``"combine"`` | ``"tractor+combine"`` | ``"uncertain"``: what the
        operation makes is not known, see ``capacity_note``), ``capacity_units_per_year``
        (float, NaN if unknown), ``capacity_note``, ``status`` (``"running"`` | ``"unknown"``
        | ``"planned"``), ``confidence`` (H/M/L), ``source``, ``settlement_id``,
        ``location_method``, point geometry (EPSG:4326).
    """
    df = _read_csv("facilities", _FACILITY_COLUMNS)
    _to_float(df, ("lat", "lon", "capacity_units_per_year"))
    return _to_points(df)


def load_rail_entry_points() -> gpd.GeoDataFrame:
    """Load the Russia-Kazakhstan rail entry points for inbound machinery (facts section 8).

    Returns
    -------
    entries
        Columns ``entry_id``, ``name``, ``russian_side_station`` (``"not stated"`` where the
        facts do not pair it), ``oblast_iso``, ``lat``, ``lon``, ``serves`` (ISO codes joined
        by ``;``), ``confidence`` (H/M/L), ``source``, ``settlement_id``,
        ``location_method``, point geometry (EPSG:4326).
    """
    df = _read_csv("rail_entry_points", _RAIL_COLUMNS)
    _to_float(df, ("lat", "lon"))
    return _to_points(df)


def load_cropland_cells() -> pd.DataFrame:
    """Load the cropland cells of Kazakhstan (HYDE 3.2, 2016, 5' grid; water-masked).

    Returns
    -------
    cells
        One row per cell: ``lon``, ``lat`` (cell centre, degrees), ``cropland_ha`` (HYDE
        cropland times the dry share of the cell; a relative weight, HYDE totals about half
        the real sown area), ``land_mask`` (int64, see ``CROPLAND_SUBDIV``), ``district_kato``
        (str, 2024 KATO code of the district holding the cell centre) and ``oblast_iso``
        (from the district table).
    """
    df = _read_csv("cropland_cells", _CROPLAND_COLUMNS)
    _to_float(df, ("lon", "lat", "cropland_ha"))
    df["land_mask"] = df["land_mask"].astype("int64")
    oblast = load_districts().set_index("district_kato")["oblast_iso"]
    df["oblast_iso"] = df["district_kato"].map(oblast)
    if df["oblast_iso"].isna().any():
        msg = "cropland_cells.csv names a district that districts.csv lacks. " + _REBUILD_HINT
        raise GeodataError(msg)
    return df


def load_districts() -> gpd.GeoDataFrame:
    """Load the 224 district units of the 2024 layout (geokz, CC BY 4.0).

    Returns
    -------
    districts
        Columns ``district_kato`` (str, 9 digits), ``adm2_pcode``, ``oblast_iso``, ``name_en``,
        ``name_ru``, ``name_kk``, ``unit_type`` (``"raion"`` | ``"city"``), ``natural_zone``,
        ``lat``, ``lon`` (a point inside the district), ``area_km2``, ``cropland_ha``; point
        geometry at ``lat``/``lon`` (EPSG:4326).
    """
    df = _read_csv("districts", _DISTRICT_COLUMNS)
    _to_float(df, ("lat", "lon", "area_km2", "cropland_ha"))
    return _to_points(df)


SETTLEMENT_DUPLICATE_KM: Final[float] = 15.0
"""Two settlements with similar names closer than this are reported as duplicates."""

SETTLEMENT_NAME_SIMILARITY: Final[float] = 0.85
"""Similarity (difflib ratio of the normalised names) above which two names count as one."""

SETTLEMENT_TOWN_POPULATION: Final[int] = 10_000
"""Towns at least this large are checked against the district that bears their name."""


def _name_key(name: str) -> str:
    """Normalise a place name: lower case, ASCII, suffixes and apostrophes dropped.

    Kazakh and Russian transliterations are folded together (y -> i, q -> k, gh -> g), so
    Tayynsha/Taiynsha and Shalkar/Shalqar get the same key.
    """
    text = unicodedata.normalize("NFKD", name.lower())
    text = "".join(ch for ch in text if ch.isascii() and ch.isalpha())
    for suffix in ("skoye", "skiy", "skaya", "sk", "oye", "iy", "yy"):
        if text.endswith(suffix) and len(text) > len(suffix) + 3:
            text = text[: -len(suffix)]
            break
    return text.replace("y", "i").replace("q", "k").replace("gh", "g")


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    c = np.sin(p1) * np.sin(p2) + np.cos(p1) * np.cos(p2) * np.cos(dl)
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))) * 111.195)


def settlement_defects(
    settlements: pd.DataFrame | None = None,
    *,
    districts: pd.DataFrame | None = None,
    cells: pd.DataFrame | None = None,
) -> list[str]:
    """Find likely defects in a settlement table: duplicates and misplaced towns.

    Two checks, each reported with both ids and what to do:

    1. **Duplicates**: two places whose normalised names are similar (difflib ratio >=
       ``SETTLEMENT_NAME_SIMILARITY``, so Tayynsha/Taiynsha or Novoishimskoye/Novoishimskiy
       match) within ``SETTLEMENT_DUPLICATE_KM`` of each other.
    2. **Misplaced towns**: a place of at least ``SETTLEMENT_TOWN_POPULATION`` people whose
       name is that of a rural district of its oblast, but which lies in another district (the
       district of its nearest cropland cell) while a smaller namesake lies inside the named
       district -- the pattern of a population attached to the wrong point (Akkol').
    3. **Copied populations**: two namesakes of at least ``SETTLEMENT_TOWN_POPULATION`` people
       each whose populations differ by less than 5 % although they lie more than
       ``SETTLEMENT_DUPLICATE_KM`` apart -- one of them probably carries the other's
       population (Shalkar in Atyrau oblast with the 27,072 people of Shalqar, Aktobe).

    Parameters
    ----------
    settlements
        Columns ``settlement_id``, ``name``, ``population``, ``oblast_iso``, ``lat``,
        ``lon``; default :func:`load_settlements`.
    districts
        Default :func:`load_districts`.
    cells
        Default :func:`load_cropland_cells`.

    Returns
    -------
    problems
        One sentence per defect; empty when none is found.
    """
    s = load_settlements() if settlements is None else settlements
    districts = load_districts() if districts is None else districts
    cells = load_cropland_cells() if cells is None else cells
    problems: list[str] = []
    rows = list(s[["settlement_id", "name", "population", "oblast_iso", "lat", "lon"]].itertuples(
        index=False, name=None
    ))  # fmt: skip
    keys = [_name_key(str(r[1])) for r in rows]
    for i, a in enumerate(rows):
        for j in range(i + 1, len(rows)):
            b = rows[j]
            if abs(a[4] - b[4]) > 0.2 or abs(a[5] - b[5]) > 0.4:  # noqa: PLR2004 (> 15 km)
                continue
            d = _km(a[4], a[5], b[4], b[5])
            ratio = difflib.SequenceMatcher(None, keys[i], keys[j]).ratio()
            if d <= SETTLEMENT_DUPLICATE_KM and ratio >= SETTLEMENT_NAME_SIMILARITY:
                problems.append(
                    f"duplicate settlements {a[0]} {a[1]!r} (population {a[2]:,}) and {b[0]} "
                    f"{b[1]!r} (population {b[2]:,}), {d:.1f} km apart: keep one and drop the "
                    "other in geodata/build/make_settlements.py (DROP)"
                )
    for i, a in enumerate(rows):
        for j in range(i + 1, len(rows)):
            b = rows[j]
            small = min(int(a[2]), int(b[2]))
            if keys[i] != keys[j] or small < SETTLEMENT_TOWN_POPULATION:
                continue
            d = _km(a[4], a[5], b[4], b[5])
            if d > SETTLEMENT_DUPLICATE_KM and abs(int(a[2]) - int(b[2])) < 0.05 * small:
                problems.append(
                    f"namesakes {a[0]} {a[1]!r} ({a[3]}, population {a[2]:,}) and {b[0]} "
                    f"{b[1]!r} ({b[3]}, population {b[2]:,}), {d:,.0f} km apart, have almost "
                    "the same population: one probably carries the other's; set the wrong one "
                    "in geodata/build/make_settlements.py (POPULATION)"
                )
    c_lon = cells["lon"].to_numpy(dtype=np.float64)
    c_lat = cells["lat"].to_numpy(dtype=np.float64)
    c_kato = cells["district_kato"].astype(str).to_numpy()

    def district_of(lat: float, lon: float) -> str:
        cos_d = np.sin(np.radians(lat)) * np.sin(np.radians(c_lat)) + np.cos(
            np.radians(lat)
        ) * np.cos(np.radians(c_lat)) * np.cos(np.radians(c_lon - lon))
        return str(c_kato[int(np.argmax(cos_d))])

    rural = districts[districts["unit_type"] == "raion"]
    by_name = {
        (str(o), _name_key(str(n))): str(k)
        for o, n, k in zip(
            rural["oblast_iso"], rural["name_en"], rural["district_kato"], strict=True
        )
    }
    names = dict(zip(districts["district_kato"].astype(str), districts["name_en"], strict=True))
    for i, a in enumerate(rows):
        named = by_name.get((str(a[3]), keys[i]))
        if named is None or int(a[2]) < SETTLEMENT_TOWN_POPULATION:
            continue
        here = district_of(float(a[4]), float(a[5]))
        if here == named:
            continue
        twins = [
            b for j, b in enumerate(rows)
            if j != i and keys[j] == keys[i] and district_of(float(b[4]), float(b[5])) == named
        ]  # fmt: skip
        if twins:
            b = twins[0]
            problems.append(
                f"settlement {a[0]} {a[1]!r} (population {a[2]:,}) lies in {names[here]} "
                f"district at {a[4]:.2f} N {a[5]:.2f} E, but {b[0]} {b[1]!r} (population "
                f"{b[2]:,}) lies in {names[named]} district, which bears the name: the "
                "population is probably attached to the wrong point; move it in "
                "geodata/build/make_settlements.py (DROP / POPULATION)"
            )
    return problems


def load_country_outline() -> shapely.Polygon | shapely.MultiPolygon:
    """Load the outline of Kazakhstan (Natural Earth 1:110m via countryinfo, EPSG:4326).

    Returns
    -------
    outline
        The country polygon. It is coarse (lines off by up to tens of km); use
        :func:`points_in_kazakhstan` to test points with a tolerance.

    Raises
    ------
    GeodataError
        If the file is not a single (multi)polygon feature.
    """
    path = _checked_path("kz_outline")
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
        geoms = [shapely.geometry.shape(f["geometry"]) for f in collection["features"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        msg = f"{path} is not a GeoJSON feature collection ({exc}). {_REBUILD_HINT}"
        raise GeodataError(msg) from exc
    polygons = [g for g in geoms if isinstance(g, shapely.Polygon | shapely.MultiPolygon)]
    if len(polygons) != 1 or len(geoms) != 1:
        msg = (
            f"{path} must hold exactly one (multi)polygon feature, found {len(geoms)} "
            "feature(s). Rebuild it with geodata/build/make_outline.py."
        )
        raise GeodataError(msg)
    return polygons[0]


def country_area(*, tolerance_km: float = OUTLINE_TOLERANCE_KM) -> shapely.Geometry:
    """Return the outline grown by ``tolerance_km``, prepared for fast point tests.

    Use it with ``shapely.contains_xy`` when testing many batches of points, instead of
    calling :func:`points_in_kazakhstan` (which rebuilds it) in a loop.

    Parameters
    ----------
    tolerance_km
        Buffer distance, applied in an azimuthal equidistant projection centred on
        Kazakhstan (``OUTLINE_LOCAL_CRS``). Must be >= 0.

    Returns
    -------
    area
        Prepared (multi)polygon in EPSG:4326.

    Raises
    ------
    ValidationError
        If ``tolerance_km`` is negative.
    """
    if not tolerance_km >= 0:
        msg = f"`tolerance_km` must be >= 0 km, got {tolerance_km}."
        raise ValidationError(msg)
    outline = load_country_outline()
    if tolerance_km == 0:
        area: shapely.Geometry = outline
    else:
        to_local = Transformer.from_crs(CRS, OUTLINE_LOCAL_CRS, always_xy=True)
        to_lonlat = Transformer.from_crs(OUTLINE_LOCAL_CRS, CRS, always_xy=True)

        def _fwd(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            return np.column_stack(to_local.transform(xy[:, 0], xy[:, 1]))

        def _inv(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            return np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1]))

        local = shapely.transform(outline, _fwd)
        grown = shapely.buffer(local, tolerance_km * 1000.0, quad_segs=8)
        area = shapely.transform(grown, _inv)
    shapely.prepare(area)
    return area


def points_in_kazakhstan(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    tolerance_km: float = OUTLINE_TOLERANCE_KM,
) -> npt.NDArray[np.bool_]:
    """Test which points lie in Kazakhstan, allowing for the coarse outline.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees (EPSG:4326), broadcast against each other.
    tolerance_km
        How far outside the outline a point may lie and still count as inside; the default
        (``OUTLINE_TOLERANCE_KM``) covers the 1:110m generalisation. Must be >= 0.

    Returns
    -------
    inside
        Boolean array of the broadcast shape; ``False`` for NaN coordinates.

    Raises
    ------
    ValidationError
        If ``tolerance_km`` is negative.
    """
    area = country_area(tolerance_km=tolerance_km)
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    inside: npt.NDArray[np.bool_] = shapely.contains_xy(area, x, y)
    return inside
