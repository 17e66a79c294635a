"""One validation layer for user files: farm registries and candidate-site lists.

The CLI (``planner check-data``), the app's uploads, :func:`planner.farms.read_farms`,
:func:`planner.sites.read_sites` and scenario loading all go through this module, so a file is
judged the same way everywhere. It never stops at the first problem: every problem is
collected, with the file, the rows (header = row 1 in CSV/XLSX, feature 1 = the first feature
in GeoJSON/GeoPackage), the column, what is wrong and how to fix it.

What is accepted
----------------
* **CSV / TXT / TSV**: UTF-8 with or without BOM, Windows-1251 (Excel "CSV" in a Russian
  locale), UTF-16 with BOM (Excel "Unicode text"); separators ``;``, ``,``, tab or ``|``
  (sniffed, an Excel ``sep=;`` first line is honoured); decimal commas (``53,21``) and
  spaces / non-breaking spaces as thousands separators (``1 250,5``); blank lines and title
  rows above the header are skipped (the header is the first of the first ten rows that
  names the required columns).
* **XLSX / XLSM**: the first sheet that has the required columns is used (the report says
  which); the header may sit below a few title rows.
* **GeoJSON** and **GeoPackage** with point geometry. Any CRS that PROJ knows is reprojected
  to EPSG:4326; a layer without CRS is read as EPSG:4326 only when its coordinates are in
  degree range, otherwise it is rejected. Polygons, lines and multi-points are replaced by an
  interior point (``shapely.point_on_surface``) **with a warning**; invalid geometries are
  rejected.
* A CSV with a ``.prj`` file next to it (same name) is read in that CRS and reprojected.
* Scenario files: :func:`validate_scenario` checks a scenario together with the files it
  names and its required/forbidden site references.
* Column names in English, Russian or Kazakh and common aliases (see :data:`FARM_ALIASES`,
  :data:`SITE_ALIASES`); matching ignores case, ``_``/``-``/``.``/spaces, ``ё`` vs ``е`` and
  units in brackets or after a comma (``Площадь, га`` -> ``площадь``).

What is rejected
----------------
Missing files, empty files, files larger than :attr:`Limits.max_bytes` or longer than
:attr:`Limits.max_rows`, files whose content is not what their extension says (an XLSX or a
PNG renamed ``.csv``), missing required columns, blank or non-numeric coordinates, swapped
latitude/longitude (detected and a swap suggested), points outside Kazakhstan (how many and
where), blank or duplicate ids, non-numeric, negative or fractional counts, invalid
geometries and unknown CRSs. Every rejected row is reported: nothing is dropped silently.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from planner import geodata
from planner._types import BoolArray, FloatArray
from planner.errors import ValidationError

Kind = Literal["farms", "sites"]

__all__ = [
    "FARM_ALIASES",
    "SITE_ALIASES",
    "Limits",
    "Problem",
    "ReadInfo",
    "ScenarioReport",
    "ValidationReport",
    "normalise_header",
    "parse_numbers",
    "read_table",
    "validate_farms",
    "validate_scenario",
    "validate_sites",
    "validate_table",
]


# --------------------------------------------------------------------------- options, results


@dataclass(frozen=True)
class Limits:
    """Upload limits (configurable; the CLI takes ``--max-mb`` and ``--max-rows``).

    Parameters
    ----------
    max_bytes
        Largest accepted file size in bytes (default 50 MB).
    max_rows
        Largest accepted number of data rows or features (default 1,000,000).
    """

    max_bytes: int = 50 * 1024 * 1024
    max_rows: int = 1_000_000

    def __post_init__(self) -> None:
        """Reject non-positive limits."""
        if self.max_bytes < 1 or self.max_rows < 1:
            msg = (
                f"`Limits` must be positive, got max_bytes={self.max_bytes}, "
                f"max_rows={self.max_rows}."
            )
            raise ValidationError(msg, source="limits")


@dataclass(frozen=True)
class Problem:
    """One problem in a user file.

    Parameters
    ----------
    file
        File name.
    what
        What is wrong.
    fix
        How to fix it.
    column
        Column as written in the file (``None`` for file-level problems).
    rows
        Every affected row (file row numbers, header = row 1; or feature numbers).
    row_label
        ``"row"`` for tables, ``"feature"`` for GeoJSON/GeoPackage.
    rejects_rows
        True when the affected rows are dropped from the cleaned table (row-level problems).
    """

    file: str
    what: str
    fix: str
    column: str | None = None
    rows: tuple[int, ...] = ()
    row_label: str = "row"
    rejects_rows: bool = True

    @property
    def row(self) -> int | None:
        """The first affected row, or ``None`` for a file-level problem."""
        return self.rows[0] if self.rows else None

    @property
    def count(self) -> int:
        """Number of affected rows (0 for a file-level problem)."""
        return len(self.rows)

    def location(self) -> str:
        """Return ``column `x`, rows 2, 3`` (the parts that apply)."""
        parts = []
        if self.column is not None:
            parts.append(f"column `{self.column}`")
        if self.rows:
            parts.append(_format_rows(self.rows, self.row_label))
        return ", ".join(parts)

    def __str__(self) -> str:
        loc = self.location()
        return f"{loc}: {self.what}; {self.fix}" if loc else f"{self.what}; {self.fix}"


@dataclass(frozen=True)
class ReadInfo:
    """How a file was read (what was sniffed).

    Parameters
    ----------
    path
        The file.
    format
        ``"csv"``, ``"xlsx"``, ``"geojson"`` or ``"gpkg"``.
    encoding
        Text encoding of a CSV (``"utf-8"``, ``"utf-8-sig"`` = with BOM, ``"cp1251"``,
        ``"utf-16"``), else ``""``.
    separator
        CSV field separator, else ``""``.
    decimal
        ``","`` if decimal commas were seen, ``"."`` if decimal points, ``""`` if neither.
    sheet
        XLSX sheet used, else ``""``.
    layer
        GeoPackage/GeoJSON layer used, else ``""``.
    crs
        CRS the coordinates came in (``""`` for plain tables without ``.prj``).
    header_row
        Row number of the header (XLSX title rows above it are skipped).
    row_label
        ``"row"`` or ``"feature"``.
    n_rows
        Data rows read (blank lines are not counted).
    notes
        Things the reader decided that a user should know (e.g. which sheet was used).
    """

    path: str
    format: str
    encoding: str = ""
    separator: str = ""
    decimal: str = ""
    sheet: str = ""
    layer: str = ""
    crs: str = ""
    header_row: int = 1
    row_label: str = "row"
    n_rows: int = 0
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        """Return a one-line description (``CSV, cp1251, separator ';', decimal comma``)."""
        parts = [_FORMAT_LABELS.get(self.format, self.format.upper())]
        if self.encoding:
            parts.append(self.encoding)
        if self.separator:
            parts.append(f"separator {_SEPARATOR_NAMES.get(self.separator, self.separator)}")
        if self.decimal:
            parts.append("decimal comma" if self.decimal == "," else "decimal point")
        if self.sheet:
            parts.append(f"sheet `{self.sheet}`")
        if self.layer:
            parts.append(f"layer `{self.layer}`")
        if self.crs:
            parts.append(self.crs)
        return ", ".join(parts)


_FORMAT_LABELS: Final = {"csv": "CSV", "xlsx": "XLSX", "geojson": "GeoJSON", "gpkg": "GeoPackage"}


@dataclass(frozen=True)
class ValidationReport:
    """Result of validating one user file (see :func:`validate_farms`).

    Parameters
    ----------
    kind
        ``"farms"`` or ``"sites"``.
    file
        The file as given.
    rows_read
        Data rows read (0 if the file could not be read).
    rows_accepted
        Rows without any row-level problem (0 when a file-level problem exists).
    problems
        Every problem found.
    warnings
        Recoverable issues (e.g. polygons replaced by interior points, blank counts read
        as 0).
    info
        How the file was read, ``None`` if it could not be read at all.
    columns
        Canonical column -> column name in the file, for the columns recognised.
    data
        Cleaned table of the accepted rows with canonical column names and EPSG:4326 point
        geometry (``None`` if no table could be built). Column ``row`` holds the file row.
    """

    kind: str
    file: str
    rows_read: int
    rows_accepted: int
    problems: tuple[Problem, ...]
    warnings: tuple[str, ...] = ()
    info: ReadInfo | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    data: gpd.GeoDataFrame | None = None

    @property
    def ok(self) -> bool:
        """True when there is no problem."""
        return not self.problems

    @property
    def rows_rejected(self) -> int:
        """Rows read but not accepted."""
        return self.rows_read - self.rows_accepted

    def messages(self) -> list[str]:
        """Return every problem as one message each."""
        return [str(p) for p in self.problems]

    def raise_if_invalid(self) -> None:
        """Raise :class:`ValidationError` listing every problem, if there is any.

        Raises
        ------
        ValidationError
            With ``problems`` = :meth:`messages` and ``source`` = the file.
        """
        if self.problems:
            raise ValidationError(self.messages(), source=self.file)

    def format(self) -> str:
        """Return the human-readable report that ``planner check-data`` prints.

        Returns
        -------
        text
            What was read, how many rows were accepted and rejected, the problems grouped
            into file-level and per-column ones, and the warnings.
        """
        what = "farm registry" if self.kind == "farms" else "site list"
        lines = [f"{self.file}: {what}"]
        if self.info is not None:
            lines.append(f"  read as        {self.info.describe()}")
        if self.columns:
            cols = ", ".join(f"{k} <- `{v}`" if k != v else k for k, v in self.columns.items() if v)
            lines.append(f"  columns        {cols}")
        lines.append(f"  rows read      {self.rows_read:,}")
        lines.append(f"  rows accepted  {self.rows_accepted:,}")
        lines.append(f"  rows rejected  {self.rows_rejected:,}")
        file_level = [p for p in self.problems if not p.rows]
        row_level = [p for p in self.problems if p.rows]
        if file_level:
            lines.append(f"File problems ({len(file_level)}):")
            lines.extend(f"  - {p}" for p in file_level)
        if row_level:
            lines.append(f"Row problems ({len(row_level)}):")
            by_column: dict[str, list[Problem]] = {}
            for p in row_level:
                by_column.setdefault(p.column or "coordinates", []).append(p)
            for col, probs in by_column.items():
                lines.append(f"  {col}:")
                lines.extend(
                    f"    - {_format_rows(p.rows, p.row_label)}: {p.what}; {p.fix}" for p in probs
                )
        if self.warnings:
            lines.append(f"Warnings ({len(self.warnings)}):")
            lines.extend(f"  - {w}" for w in self.warnings)
        if self.ok:
            lines.append(f"VALID: {self.rows_accepted:,} {self.kind} accepted.")
        else:
            lines.append(
                f"INVALID: {len(self.problems)} problem(s); fix them and run check-data again."
            )
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- column aliases

FARM_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "farm_id": (
        "farm_id", "id", "farm code", "код хозяйства", "id хозяйства", "шаруашылық коды",
        "code", "код", "идентификатор", "коды", "сәйкестендіргіш", "бин", "бин иин", "farm",
        "хозяйство", "шаруашылық", "номер", "№",
    ),
    "name": (
        "name", "farm name", "название", "наименование", "наименование хозяйства",
        "название хозяйства", "атауы", "шаруашылық атауы", "атау",
    ),
    "lat": ("lat", "latitude", "y", "широта", "ендік", "lat dd", "ширина"),
    "lon": ("lon", "lng", "long", "longitude", "x", "долгота", "бойлық", "lon dd"),
    "tractors": (
        "tractors", "tractor", "n tractors", "tractor count", "number of tractors",
        "тракторы", "трактор", "тракторов", "количество тракторов", "кол во тракторов",
        "трактор саны", "тракторлар", "тракторлар саны",
    ),
    "combines": (
        "combines", "combine", "n combines", "combine count", "number of combines",
        "комбайны", "комбайн", "комбайнов", "количество комбайнов", "кол во комбайнов",
        "комбайн саны", "комбайндар", "комбайндар саны",
    ),
    "sown_area_ha": (
        "sown_area_ha", "sown area", "sown area ha", "area ha", "area", "площадь",
        "посевная площадь", "площадь посева", "площадь посевов", "посевы", "егіс алқабы",
        "егіс алаңы", "егістік алқабы", "егістік алаңы",
    ),
    "service_hours": (
        "service_hours", "service hours", "service hours year", "service_hours_year",
        "hours", "часы обслуживания", "часы сервиса", "нормо часы", "сервисные часы",
        "қызмет көрсету сағаты", "қызмет сағаты",
    ),
    "oblast": ("oblast_iso", "oblast", "region", "область", "облыс", "регион", "iso"),
    "brand": ("brand", "make", "manufacturer", "марка", "бренд", "производитель", "маркасы"),
    "age": (
        "age", "machine age", "age years", "возраст", "средний возраст", "жасы",
        "year built", "год выпуска", "шығарылған жылы",
    ),
    **{
        f"{m}_{a}": (f"{m}_{a}",)
        for m in ("tractors", "combines")
        for a in ("0_10", "10_17", "17p")
    },
    "belarus_tractors": ("belarus_tractors", "тракторы беларус", "тракторы мтз"),
    "belarus_combines": ("belarus_combines", "комбайны гомсельмаш", "комбайны беларус"),
}  # fmt: skip
"""Canonical farm column -> accepted names (compared after :func:`normalise_header`)."""

SITE_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "site_id": ("site_id", "id", "code", "код", "идентификатор", "коды", "site code"),
    "name": ("name", "site", "название", "наименование", "атауы", "атау", "город", "пункт"),
    "lat": FARM_ALIASES["lat"],
    "lon": FARM_ALIASES["lon"],
    "capacity_hours": (
        "capacity_hours", "capacity", "мощность_часов", "мощность", "мощность часов",
        "қуаты",
    ),
    "fixed_cost_kzt": (
        "fixed_cost_kzt", "fixed_cost", "fixed cost", "затраты", "стоимость", "құны",
    ),
    "oblast": FARM_ALIASES["oblast"],
    "role": ("role", "роль", "рөлі"),
}  # fmt: skip
"""Canonical site column -> accepted names (compared after :func:`normalise_header`)."""

_DEMAND_COLUMNS: Final = ("tractors", "combines", "sown_area_ha", "service_hours")
_INTEGER_COLUMNS: Final = frozenset(
    {"tractors", "combines", "belarus_tractors", "belarus_combines"}
    | {f"{m}_{a}" for m in ("tractors", "combines") for a in ("0_10", "10_17", "17p")}
)
_FARM_NUMERIC: Final = (
    "tractors", "combines", "sown_area_ha", "service_hours",
    *(f"{m}_{a}" for m in ("tractors", "combines") for a in ("0_10", "10_17", "17p")),
    "belarus_tractors", "belarus_combines",
)  # fmt: skip
_SITE_NUMERIC: Final = ("capacity_hours", "fixed_cost_kzt")
_ROLE_VALUES: Final[Mapping[str, str]] = {
    "candidate": "candidate", "кандидат": "candidate", "новый": "candidate",
    "existing": "existing", "существующий": "existing", "действующий": "existing",
    "бар": "existing", "жұмыс істеп тұрған": "existing",
}  # fmt: skip
BELARUS_BRANDS: Final = re.compile(
    r"belarus|беларус|mtz|мтз|gomselmash|гомсельмаш|palesse|палессе|амкодор|amkodor", re.I
)
"""Brand texts that mean Belarus-made (used by :func:`planner.farms.read_farms`)."""
_FIRST_MODEL_YEAR: Final = 1940
_LATEST_YEAR: Final = 2100
_MAX_AGE_YEARS: Final = 80.0

_TEXT_SUFFIXES: Final = (".csv", ".txt", ".tsv")
_XLSX_SUFFIXES: Final = (".xlsx", ".xlsm")
_GEOJSON_SUFFIXES: Final = (".geojson", ".json")
_GPKG_SUFFIXES: Final = (".gpkg",)
SUPPORTED_SUFFIXES: Final = _TEXT_SUFFIXES + _XLSX_SUFFIXES + _GEOJSON_SUFFIXES + _GPKG_SUFFIXES
"""File extensions the readers accept."""

_SEPARATORS: Final = (";", "\t", ",", "|")
_SEPARATOR_NAMES: Final = {";": "';'", "\t": "tab", ",": "','", "|": "'|'"}
_MAX_LISTED: Final = 10
_SNIFF_LINES: Final = 50
_XLSX_HEADER_SEARCH: Final = 10
_ZIP_RATIO: Final = 50
_GEO_PREFIX: Final = "__geometry_"
_ROW: Final = "row"
_MAX_LAT: Final = 90.0
_MAX_LON: Final = 180.0
_KM_PER_DEG: Final = 111.195
_PROJECTED_SHARE: Final = 0.5
_SWAPPED_FILE_SHARE: Final = 0.5

_REFERENCE_PLACES: Final = (
    ("Moscow (Russia)", 55.756, 37.617),
    ("Saint Petersburg (Russia)", 59.939, 30.316),
    ("Samara (Russia)", 53.195, 50.100),
    ("Orenburg (Russia)", 51.768, 55.097),
    ("Astrakhan (Russia)", 46.348, 48.033),
    ("Chelyabinsk (Russia)", 55.160, 61.403),
    ("Omsk (Russia)", 54.989, 73.368),
    ("Novosibirsk (Russia)", 55.030, 82.920),
    ("Barnaul (Russia)", 53.348, 83.780),
    ("Minsk (Belarus)", 53.902, 27.562),
    ("Tashkent (Uzbekistan)", 41.311, 69.280),
    ("Samarkand (Uzbekistan)", 39.655, 66.960),
    ("Bishkek (Kyrgyzstan)", 42.875, 74.570),
    ("Dushanbe (Tajikistan)", 38.560, 68.774),
    ("Ashgabat (Turkmenistan)", 37.960, 58.326),
    ("Urumqi (China)", 43.825, 87.617),
    ("Beijing (China)", 39.904, 116.407),
    ("Baku (Azerbaijan)", 40.409, 49.867),
    ("Ulaanbaatar (Mongolia)", 47.886, 106.906),
    ("the Gulf of Guinea (0, 0: a placeholder)", 0.0, 0.0),
)
"""Places used to say where out-of-country points are (with oblast centres of Kazakhstan)."""


def normalise_header(name: object) -> str:
    """Normalise a column name for alias matching.

    Lower case, ``ё`` -> ``е``, a BOM and units in brackets or after a comma removed,
    ``_``, ``-``, ``.``, ``/`` and repeated spaces collapsed to one space.

    Parameters
    ----------
    name
        The header cell.

    Returns
    -------
    key
        E.g. ``"Посевная площадь, га"`` -> ``"посевная площадь"``, ``"Farm_ID"`` ->
        ``"farm id"``.
    """
    text = str(name).replace("\ufeff", "").replace("ё", "е").replace("Ё", "Е").lower()
    text = re.sub(r"[\(\[].*?[\)\]]", " ", text)
    if "," in text:
        text = text.split(",", 1)[0]
    text = re.sub(r"[_\-./\\:\s]+", " ", text)
    return text.strip()


def _alias_index(aliases: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, int]]:
    """Map each normalised alias to its canonical column and its rank (0 = best)."""
    index: dict[str, tuple[str, int]] = {}
    for canonical, names in aliases.items():
        for rank, name in enumerate((canonical, *names)):
            index.setdefault(normalise_header(name), (canonical, rank))
    return index


_FARM_INDEX: Final = _alias_index(FARM_ALIASES)
_SITE_INDEX: Final = _alias_index(SITE_ALIASES)


def _match_columns(
    columns: Iterable[str], kind: Kind | None
) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Map canonical names to file columns; also return (canonical, used, ignored) clashes.

    When several columns mean the same thing, the one with the more specific name wins
    (aliases are listed most specific first: ``farm_id`` before ``№``), then the first one.
    """
    index = _SITE_INDEX if kind == "sites" else _FARM_INDEX
    ranked: dict[str, list[tuple[int, int, str]]] = {}
    for position, col in enumerate(columns):
        hit = index.get(normalise_header(col))
        if hit is not None:
            ranked.setdefault(hit[0], []).append((hit[1], position, col))
    found: dict[str, str] = {}
    clashes: list[tuple[str, str, str]] = []
    for canonical, cols in ranked.items():
        best, *others = sorted(cols)
        found[canonical] = best[2]
        clashes.extend((canonical, best[2], other[2]) for other in others)
    return found, clashes


def _has_required(columns: Iterable[str], kind: Kind | None) -> bool:
    found, _ = _match_columns(columns, kind)
    if kind is None:
        return bool(found)
    key = "site_id" if kind == "sites" else "farm_id"
    has_xy = "lat" in found and "lon" in found
    if kind == "farms":
        demand = any(c in found for c in _DEMAND_COLUMNS) or any(
            c.startswith(("tractors_", "combines_")) for c in found
        )
        return has_xy and ("farm_id" in found or "name" in found) and demand
    return has_xy and key in found


# --------------------------------------------------------------------------- small helpers


def _format_rows(rows: Sequence[int], label: str = "row") -> str:
    shown = ", ".join(str(r) for r in rows[:_MAX_LISTED])
    more = f" and {len(rows) - _MAX_LISTED:,} more" if len(rows) > _MAX_LISTED else ""
    return f"{label}{'s' if len(rows) > 1 else ''} {shown}{more}"


def _examples(values: Iterable[object], n: int = 3) -> str:
    seen: list[str] = []
    for v in values:
        text = repr(v) if isinstance(v, str) else f"{v:g}" if isinstance(v, float) else str(v)
        if text not in seen:
            seen.append(text)
        if len(seen) == n:
            break
    return ", ".join(seen)


def _fail(path: Path | str, what: str, fix: str) -> ValidationError:
    """Return a file-level :class:`ValidationError` (the caller raises it)."""
    return ValidationError([f"{what}; {fix}"], source=str(path))


_THOUSANDS_SPACES: Final = (" ", "\u00a0", "\u202f", "\u2009", "'", "\t")
_DMS: Final = re.compile(
    r"^\s*(-?\d+(?:[.,]\d+)?)\s*[°º]\s*(?:(\d+(?:[.,]\d+)?)\s*['′’]\s*)?"
    r"(?:(\d+(?:[.,]\d+)?)\s*(?:\"|″|''|”)\s*)?([NSEWСЮВЗ]?)\s*$",
    re.IGNORECASE,
)


def parse_numbers(values: pd.Series) -> tuple[FloatArray, BoolArray, str]:
    """Parse a column of numbers written by Excel in any locale.

    Accepts numbers, ``"53.21"``, ``"53,21"`` (decimal comma), ``"1 250,5"`` /
    ``"1\u00a0250,5"`` (space thousands separators), ``"1.250,5"`` and ``"1,250.5"``.

    Parameters
    ----------
    values
        The column (any dtype).

    Returns
    -------
    numbers
        Floats, NaN where blank or unparseable.
    bad
        True where a non-blank cell is not a number.
    decimal
        ``","`` if a decimal comma was used, ``"."`` if a decimal point, else ``""``.
    """
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        out = values.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        return out, np.zeros(len(values), dtype=np.bool_), ""
    text = _texts(values)
    blank = (text == "").to_numpy()
    first = pd.to_numeric(text, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan, copy=True
    )
    todo = np.isnan(first) & ~blank
    decimal = "." if (text.str.contains(".", regex=False) & ~np.isnan(first)).any() else ""
    if todo.any():
        cleaned = text[todo]
        for space in _THOUSANDS_SPACES:
            cleaned = cleaned.str.replace(space, "", regex=False)
        comma = cleaned.str.replace(",", ".", regex=False)
        if cleaned.str.contains(".", regex=False).any():
            both = cleaned.str.contains(",", regex=False) & cleaned.str.contains(".", regex=False)
            comma_last = cleaned.str.rfind(",") > cleaned.str.rfind(".")
            ru = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
            en = cleaned.str.replace(",", "", regex=False)
            fixed = comma.where(~both, en.where(~comma_last, ru))
        else:
            fixed = comma
        second = pd.to_numeric(fixed, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        first[todo] = second
        if (cleaned.str.contains(",", regex=False).to_numpy() & ~np.isnan(second)).any():
            decimal = ","
    bad = np.isnan(first) & ~blank
    # "nan"/"inf" strings parse as floats in pandas; they are not numbers a user meant
    bad |= np.isinf(first)
    first[np.isinf(first)] = np.nan
    return first, bad, decimal


_BLANK_TOKENS: Final = frozenset({"nan", "none", "null", "n/a", "na", "-", "—"})


_STRING: Final = pd.StringDtype("pyarrow")


def _texts(values: pd.Series, *, blanks: bool = True) -> pd.Series:
    """Return the cells as stripped text (``""`` for empty cells), vectorised (Arrow strings).

    With ``blanks`` the placeholder words in ``_BLANK_TOKENS`` also count as empty.
    """
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        text = values.astype(_STRING).fillna("").str.strip()
        if blanks:
            text = text.where(~text.str.lower().isin(list(_BLANK_TOKENS)), "")
        return text
    return values.map(_cell_text if blanks else _id_text).astype(_STRING)


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
    text = str(v).strip()
    return "" if text.lower() in ("nan", "none", "null", "n/a", "na", "-", "—") else text


def _dms_hint(text: str) -> str:
    m = _DMS.match(text)
    if not m:
        return ""
    deg, mins, secs = (float(g.replace(",", ".")) if g else 0.0 for g in m.group(1, 2, 3))
    value = abs(deg) + mins / 60 + secs / 3600
    if deg < 0 or m.group(4).upper() in ("S", "W", "Ю", "З"):
        value = -value
    return f" ({text!r} = {value:.5f})"


# --------------------------------------------------------------------------- sniffing

_MAGIC: Final = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old Excel 97-2003 workbook (.xls)"),
    (b"SQLite format 3\x00", "sqlite"),
    (b"PAR1", "a Parquet file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)


def _sniff(path: Path, head: bytes) -> str:  # noqa: PLR0911
    """Return what the bytes are: csv, xlsx, geojson, gpkg or a description of junk."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _sniff_zip(path)
    for magic, what in _MAGIC:
        if head.startswith(magic):
            if what == "sqlite":
                return "gpkg" if b"GPKG" in head[60:72] or path.suffix == ".gpkg" else what
            return what
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body[:1] in (b"{", b"["):
        return "geojson"
    if body[:5].lower() in (b"<!doc", b"<html") or body[:5] == b"<?xml":
        return "an HTML/XML document"
    if b"\x00" in head:
        odd = head[1::2]
        if odd and odd.count(0) > len(odd) * 0.3:
            return "csv"  # UTF-16 without BOM
        return "a binary file"
    return "csv"


def _sniff_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "mimetype" in names and b"opendocument" in zf.read("mimetype"):
                return "an OpenDocument spreadsheet (.ods)"
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "word/document.xml" in names:
                return "a Word document (.docx)"
    except (zipfile.BadZipFile, OSError, KeyError):
        return "a damaged ZIP/XLSX file"
    return "a ZIP archive"


_FORMAT_NAMES: Final = {
    "csv": "a text/CSV table",
    "xlsx": "an Excel workbook (XLSX)",
    "geojson": "a JSON/GeoJSON file",
    "gpkg": "a GeoPackage",
}
_SUFFIX_FOR: Final = {"csv": ".csv", "xlsx": ".xlsx", "geojson": ".geojson", "gpkg": ".gpkg"}


def _expected_format(suffix: str) -> str:
    if suffix in _TEXT_SUFFIXES:
        return "csv"
    if suffix in _XLSX_SUFFIXES:
        return "xlsx"
    if suffix in _GEOJSON_SUFFIXES:
        return "geojson"
    return "gpkg"


def _check_file(path: Path, limits: Limits) -> str:
    """Check existence, size and content against the extension; return the format."""
    if not path.is_file():
        msg = f"file not found: {path}. Check the path (relative paths start at the working dir)."
        raise ValidationError([msg], source=str(path))
    suffix = path.suffix.lower()
    if suffix == ".xls":
        what = "old Excel 97-2003 workbooks (.xls) are not supported"
        raise _fail(path, what, "save it in Excel as .xlsx (Excel Workbook) or as CSV UTF-8")
    if suffix not in SUPPORTED_SUFFIXES:
        what = f"unsupported file type `{path.suffix or '(no extension)'}`"
        fix = "use CSV or XLSX (with lat/lon columns), GeoJSON or GeoPackage"
        raise _fail(path, what, fix)
    size = path.stat().st_size
    if size > limits.max_bytes:
        what = (
            f"the file is {size / 1e6:,.1f} MB, more than the upload limit of "
            f"{limits.max_bytes / 1e6:,.1f} MB"
        )
        raise _fail(path, what, "split it into smaller files or raise the limit (--max-mb)")
    if size == 0:
        raise _fail(path, "the file is empty (0 bytes)", "export the table again with its rows")
    with path.open("rb") as fh:
        head = fh.read(4096)
    fmt = _sniff(path, head)
    expected = _expected_format(suffix)
    if fmt not in _FORMAT_NAMES:
        what = f"the file is named `{path.name}` but is really {fmt}, not {_FORMAT_NAMES[expected]}"
        raise _fail(path, what, "export the table as CSV, XLSX, GeoJSON or GeoPackage")
    if fmt != expected:
        what = (
            f"the file is named `{path.name}` but is really {_FORMAT_NAMES[fmt]}, not "
            f"{_FORMAT_NAMES[expected]}"
        )
        fix = f"rename it to `{path.stem}{_SUFFIX_FOR[fmt]}` (or save it again in the right format)"
        raise _fail(path, what, fix)
    return fmt


# --------------------------------------------------------------------------- readers


def read_table(
    path: str | Path, *, limits: Limits | None = None, kind: Kind | None = None
) -> tuple[pd.DataFrame, ReadInfo]:
    """Read a user table, sniffing the real format, encoding, separator and sheet.

    Parameters
    ----------
    path
        CSV/TXT/TSV, XLSX/XLSM, GeoJSON or GeoPackage file.
    limits
        Upload limits (default :class:`Limits`).
    kind
        ``"farms"`` or ``"sites"``: with several XLSX sheets or GeoPackage layers, the first
        one that has the required columns is used (``None``: the first non-empty one).

    Returns
    -------
    table
        Cells as read (text for CSV, Excel values for XLSX, attributes for geodata), indexed
        by file row number (header = row 1) or feature number. Geodata tables carry
        ``__geometry_lon__``, ``__geometry_lat__`` (EPSG:4326) and ``__geometry_issue__``
        (text, ``""`` if the geometry is usable).
    info
        How the file was read.

    Raises
    ------
    ValidationError
        If the file cannot be read at all (missing, too large, empty, not what its
        extension says, undecodable, over the row limit, unknown CRS).
    """
    p = Path(path)
    lim = limits or Limits()
    fmt = _check_file(p, lim)
    if fmt == "csv":
        return _read_csv(p, lim, kind)
    if fmt == "xlsx":
        return _read_xlsx(p, lim, kind)
    return _read_geo(p, lim, kind, fmt)


def _decode(path: Path, raw: bytes) -> tuple[str, str]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    elif raw.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    elif b"\x00" in raw[:4096]:
        encodings = ("utf-16-le",)
    else:
        encodings = ("utf-8", "cp1251")
    for enc in encodings:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            if enc.startswith("utf-8"):
                _check_mixed_encoding(path, raw, enc)
            continue
    what = "the text is neither UTF-8, Windows-1251 nor UTF-16"
    raise _fail(path, what, "save it from Excel as `CSV UTF-8 (comma delimited)`")


_MIN_GOOD_UTF8: Final = 3


def _check_mixed_encoding(path: Path, raw: bytes, encoding: str) -> None:
    """Reject a UTF-8 file with a few lines in another encoding (pasted from another export).

    Windows-1251 text almost never forms valid multi-byte UTF-8, so a file with several valid
    UTF-8 letters *and* invalid bytes is a mixture, not a Windows-1251 file.
    """
    text = raw.decode(encoding, errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")  # noqa: PLR2004
    if good < _MIN_GOOD_UTF8 or good <= bad:
        return
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if "\ufffd" in line]
    what = (
        f"the file is UTF-8 except {_format_rows(lines, 'line')}, which are in another encoding "
        "(Windows-1251?)"
    )
    raise _fail(path, what, "save the whole table again as `CSV UTF-8`, or retype those lines")


def _sniff_separator(lines: list[str]) -> str:
    best, best_score = ",", (-1.0, -1)
    for sep in _SEPARATORS:
        rows = list(csv.reader(lines, delimiter=sep))
        rows = [r for r in rows if any(c.strip() for c in r)]
        if not rows:
            continue
        counts = [len(r) for r in rows]
        width = max(set(counts), key=lambda w: (counts.count(w), w))  # the usual width
        if width < 2:  # noqa: PLR2004
            continue
        consistent = sum(len(r) == width for r in rows) / len(rows)
        score = (round(consistent, 1), width)
        if score > best_score:
            best, best_score = sep, score
    return best


def _read_csv(  # noqa: C901 - one pass over the rows, header search included
    path: Path, limits: Limits, kind: Kind | None
) -> tuple[pd.DataFrame, ReadInfo]:
    text, encoding = _decode(path, path.read_bytes())
    text = text.removeprefix("\ufeff")
    notes: list[str] = []
    lines = text.splitlines()
    first = 0
    while first < len(lines) and not lines[first].strip(" \t;,"):
        first += 1
    sep = ""
    m = re.fullmatch(r"\s*sep=(.)\s*", lines[first]) if first < len(lines) else None
    if m:
        sep, first = m.group(1), first + 1
        notes.append(f"separator {sep!r} taken from the Excel `sep=` line")
    body = "\n".join(lines[first:]) if first else text
    if not sep:
        sep = _sniff_separator(lines[first : first + _SNIFF_LINES])
    if path.suffix.lower() == ".tsv" and "\t" in body:
        sep = "\t"
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=sep)
    buffered: list[tuple[int, list[str]]] = []
    header_row = 0
    records: list[list[str]] = []
    numbers: list[int] = []
    too_long: list[int] = []
    width = 0

    def add(line_no: int, record: list[str]) -> None:
        if len(records) >= limits.max_rows:
            raise _fail(path, *_too_many_rows(limits))
        if len(record) > width and any(c.strip() for c in record[width:]):
            too_long.append(line_no)
        records.append(record if len(record) == width else (record + [""] * width)[:width])
        numbers.append(line_no)

    for record in _records(reader, path):
        line_no = reader.line_num + first
        if not "".join(record).strip(" \t;,|"):  # blank, or only separators
            continue
        if header_row:
            add(line_no, record)
            continue
        buffered.append((line_no, record))
        if len(buffered) == _XLSX_HEADER_SEARCH:
            header_row = _pick_header(buffered, kind)
            width = len(dict(buffered)[header_row])
            for n, r in buffered:
                if n > header_row:
                    add(n, r)
    if not buffered:
        raise _fail(path, "the file has no header and no rows", "export the table again")
    if not header_row:
        header_row = _pick_header(buffered, kind)
        width = len(dict(buffered)[header_row])
        for n, r in buffered:
            if n > header_row:
                add(n, r)
    header = [c.strip() for c in dict(buffered)[header_row]]
    if header_row > buffered[0][0]:
        notes.append(f"header found in row {header_row} (rows above it are skipped)")
    df = pd.DataFrame(records, columns=_unique_names(header, notes), dtype=object)
    df.index = pd.Index(numbers, name=_ROW)
    if too_long:
        df.attrs["too_long_rows"] = too_long
    info = ReadInfo(
        path=str(path),
        format="csv",
        encoding=encoding,
        separator=sep,
        decimal=_detect_decimal(records[: _SNIFF_LINES * 4]),
        header_row=header_row,
        n_rows=len(df),
        notes=tuple(notes),
        crs=_sidecar_crs(path),
    )
    return df, info


_COMMA_DECIMAL: Final = re.compile(r"^-?\d{1,3}(?:[ \u00a0\u202f]?\d{3})*,\d+$")
_POINT_DECIMAL: Final = re.compile(r"^-?\d+\.\d+$")


def _detect_decimal(records: Sequence[Sequence[str]]) -> str:
    comma = point = 0
    for record in records:
        for cell in record:
            text = cell.strip()
            comma += bool(_COMMA_DECIMAL.match(text))
            point += bool(_POINT_DECIMAL.match(text))
    if not comma and not point:
        return ""
    return "," if comma >= point else "."


def _records(reader: Iterator[list[str]], path: Path) -> Iterator[list[str]]:
    """Yield CSV records, turning a parser error into a file-level problem."""
    try:
        yield from reader
    except csv.Error as exc:
        what = f"the CSV cannot be parsed ({exc})"
        raise _fail(path, what, "check unbalanced double quotes, or save it again") from None


def _too_many_rows(limits: Limits) -> tuple[str, str]:
    return (
        f"the file has more than {limits.max_rows:,} data rows (the row limit)",
        "split it into smaller files or raise the limit (--max-rows)",
    )


def _sidecar_crs(path: Path) -> str:
    prj = path.with_suffix(".prj")
    if not prj.is_file():
        return ""
    try:
        crs = CRS.from_user_input(prj.read_text(encoding="utf-8", errors="replace"))
    except CRSError as exc:
        what = f"the CRS in `{prj.name}` is unknown ({exc})"
        raise _fail(path, what, "replace the .prj with one exported by your GIS") from None
    return crs.to_string()


def _unique_names(header: Sequence[object], notes: list[str]) -> list[str]:
    """Name blank header cells ``column N`` and number repeated names ``name (2)``."""
    names: list[str] = []
    for j, raw in enumerate(header):
        base = ("" if raw is None else str(raw).strip()) or f"column {j + 1}"
        name, k = base, 1
        while name in names:
            k += 1
            name = f"{base} ({k})"
        if name != base:
            notes.append(f"column name `{base}` appears twice; the second is read as `{name}`")
        names.append(name)
    return names


def _read_xlsx(path: Path, limits: Limits, kind: Kind | None) -> tuple[pd.DataFrame, ReadInfo]:
    import openpyxl  # noqa: PLC0415

    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise _fail(path, f"the workbook is damaged ({exc})", "save it again in Excel") from None
    if unpacked > _ZIP_RATIO * limits.max_bytes:
        what = f"the workbook unpacks to {unpacked / 1e6:,.0f} MB, over the limit"
        raise _fail(path, what, "save only the needed sheet, or export it as CSV")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise _fail(path, f"cannot open the workbook ({exc})", "save it again in Excel") from None
    try:
        sheets: list[tuple[str, int, list[object], list[list[object]], list[int]]] = []
        for ws in book.worksheets:
            parsed = _xlsx_sheet(ws.iter_rows(values_only=True), limits, kind, path)
            if parsed is not None:
                sheets.append((ws.title, *parsed))
        names = [ws.title for ws in book.worksheets]
    finally:
        book.close()
    if not sheets:
        raise _fail(path, "the workbook has no data", "put the table on the first sheet")
    chosen = next((s for s in sheets if kind is None or _has_required(map(str, s[2]), kind)), None)
    notes: list[str] = []
    if chosen is None:
        chosen = sheets[0]
        if len(names) > 1:
            notes.append(f"no sheet has all the required columns; sheet `{chosen[0]}` is checked")
    elif len(names) > 1:
        skipped = [n for n in names if n != chosen[0]][:5]
        notes.append(
            f"sheet `{chosen[0]}` used (workbook sheets: {', '.join(names)}; "
            f"ignored: {', '.join(skipped)})"
        )
    title, header_row, header, records, numbers = chosen
    if header_row > 1:
        notes.append(f"header found in row {header_row} (rows above it are skipped)")
    df = pd.DataFrame(records, columns=_unique_names(header, notes), dtype=object)
    df.index = pd.Index(numbers, name=_ROW)
    info = ReadInfo(
        path=str(path),
        format="xlsx",
        sheet=title,
        header_row=header_row,
        n_rows=len(df),
        notes=tuple(notes),
    )
    return df, info


def _xlsx_sheet(
    rows: Iterable[tuple[object, ...]], limits: Limits, kind: Kind | None, path: Path
) -> tuple[int, list[object], list[list[object]], list[int]] | None:
    """Find the header row (first non-empty, or within 10 rows one with known columns)."""
    buffered: list[tuple[int, list[object]]] = []
    header_at: int | None = None
    records: list[list[object]] = []
    numbers: list[int] = []
    for i, row in enumerate(rows, start=1):
        cells = list(row)
        if not any(_cell_text(c) for c in cells):
            continue
        if header_at is None:
            buffered.append((i, cells))
            if len(buffered) < _XLSX_HEADER_SEARCH:
                continue
            header_at = _pick_header(buffered, kind)
            for j, c in buffered:
                if j > header_at:
                    records.append(c)
                    numbers.append(j)
            continue
        if len(records) >= limits.max_rows:
            raise _fail(path, *_too_many_rows(limits))
        records.append(cells)
        numbers.append(i)
    if header_at is None:
        if not buffered:
            return None
        header_at = _pick_header(buffered, kind)
        for j, c in buffered:
            if j > header_at:
                records.append(c)
                numbers.append(j)
    header = next(c for j, c in buffered if j == header_at)
    width = max([len(header), *(len(r) for r in records)])
    header = [*header, *[None] * (width - len(header))]
    while (
        len(header) > 1
        and header[-1] is None
        and all(len(r) < len(header) or _cell_text(r[len(header) - 1]) == "" for r in records)
    ):
        header.pop()
    width = len(header)
    records = [([*r, *[None] * width])[:width] for r in records]
    return header_at, header, records, numbers


def _pick_header(buffered: Sequence[tuple[int, Sequence[object]]], kind: Kind | None) -> int:
    for j, cells in buffered:
        names = [str(c) for c in cells if c is not None]
        if _has_required(names, kind) or len(_match_columns(names, kind)[0]) >= 2:  # noqa: PLR2004
            return j
    return buffered[0][0]


def _read_geo(
    path: Path, limits: Limits, kind: Kind | None, fmt: str
) -> tuple[pd.DataFrame, ReadInfo]:
    import pyogrio  # noqa: PLC0415

    if fmt == "geojson":
        _check_json(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layers = [str(row[0]) for row in pyogrio.list_layers(path)]
            layer = layers[0] if layers else ""
            notes: list[str] = []
            if len(layers) > 1:
                for name in layers:
                    fields = [str(f) for f in pyogrio.read_info(path, layer=name)["fields"]]
                    if kind is None or _has_required([*fields, "lat", "lon"], kind):
                        layer = name
                        break
                notes.append(f"layer `{layer}` used (layers: {', '.join(layers)})")
            meta = pyogrio.read_info(path, layer=layer or None)
            if int(meta["features"]) > limits.max_rows:
                raise _fail(path, *_too_many_rows(limits))
            gdf = pyogrio.read_dataframe(path, layer=layer or None)
    except ValidationError:
        raise
    except (
        RuntimeError,
        ValueError,
        OSError,
        KeyError,
        TypeError,
        CRSError,
        shapely.errors.ShapelyError,
    ) as exc:
        what = f"cannot read the {'GeoJSON' if fmt == 'geojson' else 'GeoPackage'} ({exc})"
        raise _fail(path, what, "export it again from your GIS as points in EPSG:4326") from None
    if len(gdf) == 0:
        raise _fail(path, "the layer has no features", "export the layer with its points")
    table, crs_text, geo_notes = _geometry_columns(path, gdf)
    notes.extend(geo_notes)
    table.index = pd.Index(np.arange(1, len(table) + 1), name=_ROW)
    info = ReadInfo(
        path=str(path),
        format=fmt,
        layer=layer if len(layers) > 1 else "",
        crs=crs_text,
        row_label="feature",
        n_rows=len(table),
        notes=tuple(notes),
    )
    return table, info


def _check_json(path: Path) -> None:
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        what = f"not valid JSON ({exc})"
        raise _fail(path, what, "export the layer again as GeoJSON") from None
    kinds = ("FeatureCollection", "Feature")
    if not isinstance(doc, dict) or doc.get("type") not in kinds:
        what = "the JSON is not a GeoJSON FeatureCollection"
        fix = "export the layer as GeoJSON, or the table as CSV/XLSX"
        raise _fail(path, what, fix)
    crs = doc.get("crs")
    if isinstance(crs, dict):
        name = (
            crs.get("properties", {}).get("name")
            if isinstance(crs.get("properties"), dict)
            else None
        )
        try:
            CRS.from_user_input(str(name))
        except CRSError:
            what = f"the GeoJSON declares an unknown CRS {name!r}"
            fix = "export it again in EPSG:4326 (WGS 84), the GeoJSON standard"
            raise _fail(path, what, fix) from None
    if doc.get("type") == "FeatureCollection" and not doc.get("features"):
        raise _fail(path, "the layer has no features", "export the layer with its points")


def _geometry_columns(path: Path, gdf: gpd.GeoDataFrame) -> tuple[pd.DataFrame, str, list[str]]:
    """Turn the geometry into lon/lat columns (EPSG:4326) plus a per-row issue text."""
    notes: list[str] = []
    geom = gdf.geometry.to_numpy()
    issue = np.full(len(geom), "", dtype=object)
    missing = shapely.is_missing(geom) | shapely.is_empty(geom)
    issue[missing] = "no geometry"
    present = ~missing
    valid = np.ones(len(geom), dtype=np.bool_)
    valid[present] = shapely.is_valid(geom[present])
    for k in np.flatnonzero(~valid):
        issue[k] = f"invalid geometry ({shapely.is_valid_reason(geom[k])})"
    usable = present & valid
    types = shapely.get_type_id(geom)
    non_point = usable & (types != 0)
    points = geom.copy()
    if non_point.any():
        points[non_point] = shapely.point_on_surface(geom[non_point])
        names = sorted({shapely.GeometryType(t).name.title() for t in types[non_point]})
        notes.append(
            f"{int(non_point.sum()):,} feature(s) are {'/'.join(names)}, not points; an interior "
            "point of each is used as its location"
        )
    x = np.full(len(geom), np.nan)
    y = np.full(len(geom), np.nan)
    x[usable] = shapely.get_x(points[usable])
    y[usable] = shapely.get_y(points[usable])
    crs_text, x, y = _to_lonlat(path, gdf.crs, x, y, notes)
    table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    table[f"{_GEO_PREFIX}lon__"] = x
    table[f"{_GEO_PREFIX}lat__"] = y
    table[f"{_GEO_PREFIX}issue__"] = issue
    return table, crs_text, notes


def _to_lonlat(
    path: Path, crs: CRS | None, x: FloatArray, y: FloatArray, notes: list[str]
) -> tuple[str, FloatArray, FloatArray]:
    finite = np.isfinite(x) & np.isfinite(y)
    in_degrees = bool(
        (np.abs(x[finite]) <= _MAX_LON).all() and (np.abs(y[finite]) <= _MAX_LAT).all()
    )
    if crs is None:
        if in_degrees:
            notes.append("the layer has no CRS; its coordinates are degrees, read as EPSG:4326")
            return "no CRS (read as EPSG:4326)", x, y
        what = "the layer has no CRS and its coordinates are not degrees (projected metres?)"
        fix = "set its CRS in your GIS (QGIS: Layer > Set CRS) and export it again"
        raise _fail(path, what, fix)
    text = crs.to_string()
    try:
        if crs.equals("EPSG:4326"):
            return text, x, y
        transformer = Transformer.from_crs(crs, geodata.CRS, always_xy=True)
        lon, lat = transformer.transform(x, y)
    except (CRSError, ProjError) as exc:
        what = f"the CRS {text!r} is unknown or cannot be converted to EPSG:4326 ({exc})"
        raise _fail(path, what, "export the layer in EPSG:4326 (WGS 84)") from None
    notes.append(f"coordinates reprojected from {crs.name} ({text}) to EPSG:4326")
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a[~np.isfinite(lon_a)] = np.nan
    lat_a[~np.isfinite(lat_a)] = np.nan
    return text, lon_a, lat_a


# --------------------------------------------------------------------------- validation


@dataclass
class _Ctx:
    """Mutable state of one validation run (local to the call; never shared)."""

    file: str
    kind: Kind
    row_label: str
    rows: npt.NDArray[np.int64]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejected: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))

    def file_problem(self, what: str, fix: str) -> None:
        self.problems.append(Problem(self.file, what, fix, row_label=self.row_label))

    def row_problem(self, mask: BoolArray, column: str | None, what: str, fix: str) -> None:
        if not mask.any():
            return
        rows = tuple(int(r) for r in self.rows[mask])
        self.problems.append(Problem(self.file, what, fix, column, rows, self.row_label))
        self.rejected |= mask

    def file_level(self) -> bool:
        return any(not p.rows for p in self.problems)


def validate_table(
    path: str | Path, kind: Kind, *, limits: Limits | None = None, name: str | None = None
) -> ValidationReport:
    """Validate a farm registry or a site list (see :func:`validate_farms`).

    Parameters
    ----------
    path
        The file.
    kind
        ``"farms"`` or ``"sites"``.
    limits
        Upload limits (default :class:`Limits`).
    name
        Name to show for the file in the report and problems (e.g. the name of an upload
        saved to a temporary file); default the path.

    Returns
    -------
    report
        Never raises for bad input: file-level failures become problems in the report.
    """
    p = Path(path)
    shown = name or str(p)
    try:
        df, info = read_table(p, limits=limits, kind=kind)
    except ValidationError as exc:
        probs = tuple(Problem(shown, *_split_fix(m)) for m in exc.problems)
        return ValidationReport(kind=kind, file=shown, rows_read=0, rows_accepted=0, problems=probs)
    ctx = _Ctx(
        file=shown,
        kind=kind,
        row_label=info.row_label,
        rows=df.index.to_numpy(dtype=np.int64),
        rejected=np.zeros(len(df), dtype=np.bool_),
    )
    ctx.warnings.extend(info.notes)
    if df.empty:
        ctx.file_problem(
            "the file has a header but no data rows",
            f"add one row per {'farm' if kind == 'farms' else 'site'} below the header",
        )
        return _report(kind, ctx, info=info, df=df, columns={}, cleaned=None)
    too_long = df.attrs.get("too_long_rows", [])
    if too_long:
        mask = np.isin(ctx.rows, too_long)
        ctx.row_problem(
            mask,
            None,
            "more cells than the header has columns",
            f"remove stray separators ({_SEPARATOR_NAMES.get(info.separator, '')}) or put "
            "text that contains them in double quotes",
        )
    columns, clashes = _match_columns(
        [c for c in df.columns if not str(c).startswith(_GEO_PREFIX)], kind
    )
    for canonical, used, ignored in clashes:
        ctx.warnings.append(
            f"columns `{used}` and `{ignored}` both mean `{canonical}`; `{used}` is used, "
            f"`{ignored}` is ignored"
        )
    if kind == "farms":
        cleaned = _validate_farm_rows(df, info, columns, ctx)
    else:
        cleaned = _validate_site_rows(df, info, columns, ctx)
    return _report(kind, ctx, info=info, df=df, columns=columns, cleaned=cleaned)


def _split_fix(message: str) -> tuple[str, str]:
    what, _, fix = message.partition("; ")
    return what, fix or "fix the file and try again"


def _report(
    kind: Kind,
    ctx: _Ctx,
    *,
    info: ReadInfo,
    df: pd.DataFrame,
    columns: Mapping[str, str],
    cleaned: pd.DataFrame | None,
) -> ValidationReport:
    file_level = any(not p.rows for p in ctx.problems)
    accepted = 0 if file_level else int((~ctx.rejected).sum())
    data = None
    if cleaned is not None and not file_level:
        keep = cleaned.loc[~ctx.rejected].reset_index(drop=True)
        data = gpd.GeoDataFrame(
            keep,
            geometry=gpd.points_from_xy(keep["lon"], keep["lat"]),
            crs=geodata.CRS,
        )
    return ValidationReport(
        kind=kind,
        file=ctx.file,
        rows_read=len(df),
        rows_accepted=accepted,
        problems=tuple(ctx.problems),
        warnings=tuple(ctx.warnings),
        info=info,
        columns=dict(columns),
        data=data,
    )


def validate_farms(
    path: str | Path, *, limits: Limits | None = None, name: str | None = None
) -> ValidationReport:
    """Validate a farm registry.

    A farm file needs an id (``farm_id``/``id``/``код``/``хозяйство``/…), coordinates
    (``lat``/``lon`` columns under any alias, or point geometry) and at least one of
    tractors, combines, sown area (ha) or service hours. Optional: name, oblast (ISO code or
    name), age classes, Belarus-made counts, a brand and an age column.

    Parameters
    ----------
    path
        CSV/TXT/TSV, XLSX/XLSM, GeoJSON or GeoPackage.
    limits
        Upload limits (default :class:`Limits`).
    name
        Name shown for the file in the report (default the path).

    Returns
    -------
    report
        Rows read and accepted, every problem (file, rows, column, what, how to fix),
        warnings and the cleaned table of the accepted rows (canonical columns ``row``,
        ``farm_id``, ``lat``, ``lon`` and those present of ``name``, ``oblast_iso``,
        ``tractors``, ``combines``, ``sown_area_ha``, ``service_hours``, age-class and
        ``belarus_*`` counts, ``brand``, ``age``).
    """
    return validate_table(path, "farms", limits=limits, name=name)


def validate_sites(
    path: str | Path, *, limits: Limits | None = None, name: str | None = None
) -> ValidationReport:
    """Validate a candidate-site list.

    A site file needs a site id, coordinates (columns or point geometry); optional: name,
    ``capacity_hours``, ``fixed_cost_kzt``, oblast, ``role`` (``candidate``/``existing``).

    Parameters
    ----------
    path
        CSV/TXT/TSV, XLSX/XLSM, GeoJSON or GeoPackage.
    limits
        Upload limits (default :class:`Limits`).
    name
        Name shown for the file in the report (default the path).

    Returns
    -------
    report
        As :func:`validate_farms`; the cleaned table has ``row``, ``site_id``, ``name``,
        ``lat``, ``lon``, ``role`` and those present of ``capacity_hours``,
        ``fixed_cost_kzt``, ``oblast_iso``.
    """
    return validate_table(path, "sites", limits=limits, name=name)


def _ids(
    df: pd.DataFrame, col: str | None, ctx: _Ctx, *, canonical: str, fallback: str | None
) -> npt.NDArray[np.object_]:
    n = len(df)
    if col is None:
        ctx.file_problem(
            f"no id column (accepted names: {', '.join(FARM_ALIASES['farm_id'][:6])}, …)"
            if canonical == "farm_id"
            else f"missing column `site_id` (accepted names: {', '.join(SITE_ALIASES['site_id'])})",
            f"add a column `{canonical}` with a unique id per "
            f"{'farm' if canonical == 'farm_id' else 'site'}",
        )
        return np.full(n, "", dtype=object)
    if fallback:
        ctx.warnings.append(f"no id column; the names in `{col}` are used as ids")
    ids = _texts(df[col], blanks=False).to_numpy(dtype=object)
    empty = ids == ""
    ctx.row_problem(empty, col, "empty id", "fill in an id")
    dup = pd.Series(ids).duplicated(keep=False).to_numpy() & ~empty
    if dup.any():
        repeated = _examples(pd.Series(ids[dup]).unique())
        ctx.row_problem(
            dup,
            col,
            f"repeated id ({repeated})",
            f"ids must be unique (duplicate {canonical}): merge the rows or give each its own id",
        )
    return ids


def _id_text(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()  # "NA" or "None" may be real ids: only blank cells are empty


def _coordinates(
    df: pd.DataFrame, info: ReadInfo, columns: Mapping[str, str], ctx: _Ctx
) -> tuple[FloatArray, FloatArray] | None:
    """Parse and check coordinates; return lon, lat (NaN where rejected)."""
    geo_lon = f"{_GEO_PREFIX}lon__"
    if geo_lon in df.columns:
        lon = df[geo_lon].to_numpy(dtype=np.float64)
        lat = df[f"{_GEO_PREFIX}lat__"].to_numpy(dtype=np.float64)
        issue = df[f"{_GEO_PREFIX}issue__"].astype(str).to_numpy()
        for text in sorted(set(issue) - {""}):
            fix = (
                "repair it (QGIS: Vector > Geometry Tools > Fix Geometries) or give a point"
                if text.startswith("invalid")
                else "give the feature a point location"
            )
            ctx.row_problem(issue == text, "geometry", text, fix)
        _check_lonlat(lon, lat, "geometry", "geometry", ctx, projected_hint=info.crs)
        return lon, lat
    missing = [c for c in ("lat", "lon") if c not in columns]
    for c in missing:
        names = ", ".join(FARM_ALIASES[c][:5])
        ctx.file_problem(
            f"no `{c}` column (accepted names: {names}, …)",
            "add `lat` and `lon` in decimal degrees (EPSG:4326), or upload GeoJSON/GeoPackage",
        )
    if missing:
        return None
    values = {}
    for c in ("lat", "lon"):
        col = columns[c]
        vals, bad, _ = parse_numbers(df[col])
        blank = np.isnan(vals) & ~bad
        ctx.row_problem(
            blank, col, f"missing {'latitude' if c == 'lat' else 'longitude'}", "fill it in"
        )
        if bad.any():
            raw = _texts(df[col]).to_numpy(dtype=object)[bad]
            hint = next((h for h in (_dms_hint(str(t)) for t in raw) if h), "")
            ctx.row_problem(
                bad,
                col,
                f"not a number ({_examples(raw)})",
                f"use decimal degrees, e.g. 53.21 not 53°12'{hint}",
            )
        values[c] = vals
    lon, lat = values["lon"], values["lat"]
    if info.crs:
        lon, lat = _reproject_table(lon, lat, info, ctx)
    _check_lonlat(lon, lat, columns["lat"], columns["lon"], ctx, projected_hint=info.crs)
    return lon, lat


def _reproject_table(
    x: FloatArray, y: FloatArray, info: ReadInfo, ctx: _Ctx
) -> tuple[FloatArray, FloatArray]:
    crs = CRS.from_user_input(info.crs)
    if crs.equals("EPSG:4326"):
        return x, y
    lon, lat = Transformer.from_crs(crs, geodata.CRS, always_xy=True).transform(x, y)
    ctx.warnings.append(f"x/y read in {crs.name} (from the .prj file) and reprojected")
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _check_lonlat(
    lon: FloatArray,
    lat: FloatArray,
    lat_col: str,
    lon_col: str,
    ctx: _Ctx,
    *,
    projected_hint: str,
) -> None:
    finite = np.isfinite(lon) & np.isfinite(lat)
    out_of_range = finite & ((np.abs(lat) > _MAX_LAT) | (np.abs(lon) > _MAX_LON))
    if out_of_range.sum() > _PROJECTED_SHARE * max(int(finite.sum()), 1):
        ex = f"e.g. {lon_col} {lon[out_of_range][0]:,.0f}, {lat_col} {lat[out_of_range][0]:,.0f}"
        ctx.file_problem(
            f"coordinates are not degrees ({ex}): they look like projected metres"
            + (f" although the CRS is {projected_hint}" if projected_hint else ""),
            "export latitude/longitude in EPSG:4326, or GeoJSON/GeoPackage with the right CRS",
        )
        return
    col = None if lat_col == lon_col else lat_col
    ctx.row_problem(
        out_of_range,
        None,
        "latitude outside [-90, 90] or longitude outside [-180, 180]",
        "use decimal degrees (EPSG:4326)",
    )
    ok = finite & ~out_of_range
    inside = np.zeros(len(lon), dtype=np.bool_)
    area = geodata.country_area()
    inside[ok] = shapely.contains_xy(area, lon[ok], lat[ok])
    outside = ok & ~inside
    if not outside.any():
        return
    swapped = outside.copy()
    swapped[outside] = shapely.contains_xy(area, lat[outside], lon[outside])
    cols = f"`{lat_col}` and `{lon_col}`" if col else "x and y"
    if swapped.sum() > _SWAPPED_FILE_SHARE * ok.sum():
        ctx.file_problem(
            f"latitude and longitude are swapped in {int(swapped.sum()):,} of {int(ok.sum()):,}"
            " rows (the points fall in Kazakhstan only when swapped)",
            f"swap the {cols} columns (or their headers)",
        )
    else:
        ctx.row_problem(
            swapped,
            None,
            f"outside Kazakhstan, but inside when latitude and longitude are swapped ({cols})",
            "swap the two values in these rows",
        )
    rest = outside & ~swapped
    if rest.any():
        ctx.row_problem(
            rest,
            None,
            f"{int(rest.sum()):,} point(s) outside Kazakhstan, {_where(lon[rest], lat[rest])}",
            "check the coordinates (decimal degrees, latitude ~40-56 N, longitude ~46-88 E) "
            "or remove these rows",
        )


def _where(lon: FloatArray, lat: FloatArray) -> str:
    """Describe where points are: bounding box, nearest reference place and oblast centre."""
    box = (
        f"lat {lat.min():.2f}..{lat.max():.2f}, lon {lon.min():.2f}..{lon.max():.2f}"
        if len(lon) > 1
        else f"at lat {lat[0]:.4f}, lon {lon[0]:.4f}"
    )
    clat, clon = float(np.median(lat)), float(np.median(lon))
    oblasts = geodata.load_oblasts()
    names = [*(p[0] for p in _REFERENCE_PLACES)]
    plat = np.array([p[1] for p in _REFERENCE_PLACES])
    plon = np.array([p[2] for p in _REFERENCE_PLACES])
    d_ref = _km(clat, clon, plat, plon)
    olat = oblasts["lat"].to_numpy(dtype=np.float64)
    olon = oblasts["lon"].to_numpy(dtype=np.float64)
    d_obl = _km(clat, clon, olat, olon)
    k = int(np.argmin(d_obl))
    near = f"nearest oblast centre {oblasts['centre_en'].iloc[k]} ({oblasts['name_en'].iloc[k]})"
    near += f" {d_obl[k]:,.0f} km away"
    j = int(np.argmin(d_ref))
    if d_ref[j] < d_obl[k]:
        near = f"near {names[j]}; {near}"
    return f"{box} ({near})"


def _km(lat0: float, lon0: float, lat: FloatArray, lon: FloatArray) -> FloatArray:
    p0, p1 = np.radians(lat0), np.radians(lat)
    dl = np.radians(lon - lon0)
    c = np.sin(p0) * np.sin(p1) + np.cos(p0) * np.cos(p1) * np.cos(dl)
    out: FloatArray = np.degrees(np.arccos(np.clip(c, -1.0, 1.0))) * _KM_PER_DEG
    return out


def _quantities(
    df: pd.DataFrame, columns: Mapping[str, str], names: Sequence[str], ctx: _Ctx
) -> tuple[dict[str, FloatArray], str]:
    """Parse numeric columns: reject non-numbers, negatives and fractional counts."""
    values: dict[str, FloatArray] = {}
    decimal = ""
    for name in names:
        col = columns.get(name)
        if col is None:
            continue
        vals, bad, dec = parse_numbers(df[col])
        decimal = decimal or dec
        if bad.any():
            raw = _texts(df[col]).to_numpy(dtype=object)[bad]
            ctx.row_problem(bad, col, f"not a number ({_examples(raw)})", "enter numbers")
        neg = vals < 0
        if neg.any():
            ctx.row_problem(
                neg,
                col,
                f"negative ({_examples(vals[neg].tolist())})",
                "values must be >= 0",
            )
        blank = np.isnan(vals) & ~bad
        if blank.any() and name in _INTEGER_COLUMNS and not blank.all():
            ctx.warnings.append(
                f"column `{col}`: {int(blank.sum()):,} blank cell(s) "
                f"({_format_rows(tuple(int(r) for r in ctx.rows[blank]), ctx.row_label)}) "
                "read as 0"
            )
        if name in _INTEGER_COLUMNS:
            frac = np.isfinite(vals) & (vals != np.round(vals))
            ctx.row_problem(
                frac,
                col,
                f"not a whole number ({_examples(vals[frac].tolist())})",
                "enter machine counts",
            )
        values[name] = vals
    return values, decimal


def _validate_farm_rows(
    df: pd.DataFrame, info: ReadInfo, columns: dict[str, str], ctx: _Ctx
) -> pd.DataFrame | None:
    id_col = columns.get("farm_id")
    fallback = None
    if id_col is None and "name" in columns:
        id_col = fallback = columns["name"]
    ids = _ids(df, id_col, ctx, canonical="farm_id", fallback=fallback)
    coords = _coordinates(df, info, columns, ctx)
    values, decimal = _quantities(df, columns, _FARM_NUMERIC, ctx)
    _check_fleet(values, columns, ctx)
    if not any(c in values for c in _DEMAND_COLUMNS):
        ctx.file_problem(
            "none of `tractors`, `combines`, `sown_area_ha`, `service_hours` is present "
            "(Russian: тракторы, комбайны, посевная площадь; Kazakh: трактор саны, комбайн "
            "саны, егіс алқабы)",
            "add at least one so the farm has a demand",
        )
    out = pd.DataFrame({_ROW: ctx.rows, "farm_id": ids})
    if "name" in columns:
        out["name"] = _texts(df[columns["name"]]).to_numpy(dtype=object)
    if "oblast" in columns:
        out["oblast_iso"] = _oblasts(df, columns["oblast"], ctx)
    _extras(df, columns, ctx, out)
    present = [c for c in _DEMAND_COLUMNS if c in values]
    if present:
        blank = np.all([np.isnan(values[c]) for c in present], axis=0) & ~ctx.rejected
        if blank.any():
            ctx.warnings.append(
                f"{_format_rows(tuple(int(r) for r in ctx.rows[blank]), ctx.row_label)}: no "
                f"value in any of {', '.join(columns[c] for c in present)}; these farms get "
                "no demand (machine counts read as 0)"
            )
    for name, vals in values.items():
        out[name] = vals
    if decimal == "," and info.decimal != ",":
        ctx.warnings.append("decimal commas read as decimal points (e.g. 53,21 = 53.21)")
    if coords is None or ctx.file_level():
        return None
    out["lon"], out["lat"] = coords
    return out


def _check_fleet(values: dict[str, FloatArray], columns: Mapping[str, str], ctx: _Ctx) -> None:
    for machine in ("tractors", "combines"):
        ages = [f"{machine}_{a}" for a in ("0_10", "10_17", "17p")]
        given = [a in values for a in ages]
        if any(given) and not all(given):
            ctx.file_problem(
                f"give all three age columns for {machine} (`{ages[0]}`, `{ages[1]}`, "
                f"`{ages[2]}`) or none of them",
                "add the missing age columns or delete the others",
            )
        elif all(given):
            total = np.nansum([values[a] for a in ages], axis=0)
            if machine in values:
                off = np.isfinite(values[machine]) & (total != values[machine])
                ctx.row_problem(
                    off,
                    columns[machine],
                    f"the {machine} age columns do not add up to `{machine}`",
                    "correct either",
                )
            else:
                values[machine] = total
        bel = f"belarus_{machine}"
        if bel in values and machine in values:
            over = values[bel] > values[machine]
            ctx.row_problem(
                over,
                columns[bel],
                f"more than `{machine}`",
                "Belarus-made machines are part of the fleet",
            )


def _oblast_lookup() -> tuple[dict[str, str], list[str]]:
    oblasts = geodata.load_oblasts()
    lookup: dict[str, str] = {}
    for _, row in oblasts.iterrows():
        iso = str(row["iso"])
        for name in (iso, row["name_en"], row["name_ru"], row["name_kk"]):
            key = normalise_header(name)
            lookup[key] = iso
            short = re.sub(r"\b(область|облысы|oblast|region|obl|обл)\b", " ", key)
            lookup.setdefault(" ".join(short.split()), iso)
    return lookup, list(geodata.OBLAST_ISO_CODES)


def _oblasts(df: pd.DataFrame, col: str, ctx: _Ctx) -> npt.NDArray[np.object_]:
    lookup, codes = _oblast_lookup()
    raw = _texts(df[col])
    unique = pd.unique(raw.to_numpy(dtype=object))
    keys = raw.map({u: normalise_header(u) for u in unique})
    iso = keys.map(lambda k: lookup.get(k, lookup.get(k.upper(), ""))).to_numpy(dtype=object)
    upper = raw.str.upper().to_numpy(dtype=object)
    iso = np.where(np.isin(upper, codes), upper, iso)
    blank = (raw == "").to_numpy()
    unknown = (iso == "") & ~blank
    if unknown.any():
        bad = raw.to_numpy(dtype=object)[unknown]
        hint = difflib.get_close_matches(normalise_header(bad[0]), list(lookup), n=1)
        ctx.row_problem(
            unknown,
            col,
            f"unknown oblast ({_examples(bad)}); not an ISO 3166-2:KZ code or oblast name",
            "use a code such as KZ-39 or a name such as Костанайская область"
            + (f" (did you mean `{hint[0]}`?)" if hint else ""),
        )
    if blank.any() and ctx.kind == "farms":
        ctx.warnings.append(
            f"column `{col}`: {int(blank.sum()):,} blank oblast(s); taken from the nearest "
            "settlement"
        )
    return iso


def _extras(df: pd.DataFrame, columns: Mapping[str, str], ctx: _Ctx, out: pd.DataFrame) -> None:
    """Brand (text) and age (years or year of manufacture) columns, both optional."""
    if "brand" in columns:
        out["brand"] = _texts(df[columns["brand"]]).to_numpy(dtype=object)
    if "age" not in columns:
        return
    col = columns["age"]
    vals, bad, _ = parse_numbers(df[col])
    ctx.row_problem(bad, col, "not a number", "enter the age in years or the year built")
    year = (vals >= _FIRST_MODEL_YEAR) & (vals <= _LATEST_YEAR)
    age = np.where(year, float(pd.Timestamp.now().year) - vals, vals)
    wrong = np.isfinite(vals) & ~year & ((vals < 0) | (vals > _MAX_AGE_YEARS))
    ctx.row_problem(
        wrong,
        col,
        f"not an age in years or a year built ({_examples(vals[wrong].tolist())})",
        f"enter 0-{_MAX_AGE_YEARS:g} years or a year such as 2012",
    )
    out["age"] = np.where(wrong, np.nan, age)


def _validate_site_rows(
    df: pd.DataFrame, info: ReadInfo, columns: dict[str, str], ctx: _Ctx
) -> pd.DataFrame | None:
    ids = _ids(df, columns.get("site_id"), ctx, canonical="site_id", fallback=None)
    coords = _coordinates(df, info, columns, ctx)
    values, _ = _quantities(df, columns, _SITE_NUMERIC, ctx)
    out = pd.DataFrame({_ROW: ctx.rows, "site_id": ids})
    out["name"] = _texts(df[columns["name"]]).to_numpy(dtype=object) if "name" in columns else ids
    out["name"] = np.where(out["name"] == "", out["site_id"], out["name"])
    if "oblast" in columns:
        out["oblast_iso"] = _oblasts(df, columns["oblast"], ctx)
    role = np.full(len(df), "candidate", dtype=object)
    if "role" in columns:
        raw = _texts(df[columns["role"]])
        mapped = raw.str.lower().map(lambda v: _ROLE_VALUES.get(v, "" if v else "candidate"))
        unknown = (mapped == "").to_numpy()
        ctx.row_problem(
            unknown,
            columns["role"],
            f"unknown role ({_examples(raw.to_numpy(dtype=object)[unknown])})",
            "use `candidate` or `existing` (or leave it blank = candidate)",
        )
        role = mapped.to_numpy(dtype=object)
    out["role"] = role
    for name, vals in values.items():
        out[name] = vals
    if coords is None or ctx.file_level():
        return None
    out["lon"], out["lat"] = coords
    return out


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class ScenarioReport:
    """Result of :func:`validate_scenario`.

    Parameters
    ----------
    file
        The scenario file.
    problems
        Every problem: the scenario's own, missing files, problems of the referenced farm
        and site files (prefixed with the key that names them) and unknown site references.
    warnings
        Warnings of the referenced files.
    scenario
        The parsed scenario (``None`` if it could not be parsed).
    """

    file: str
    problems: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    scenario: object | None = None

    @property
    def ok(self) -> bool:
        """True when there is no problem."""
        return not self.problems

    def format(self) -> str:
        """Return the report that ``planner check-data scenario`` prints.

        Returns
        -------
        text
            Problems, warnings and the verdict.
        """
        lines = [f"{self.file}: scenario"]
        if self.problems:
            lines.append(f"Problems ({len(self.problems)}):")
            lines.extend(f"  - {p}" for p in self.problems)
        if self.warnings:
            lines.append(f"Warnings ({len(self.warnings)}):")
            lines.extend(f"  - {w}" for w in self.warnings)
        lines.append(
            "VALID: the scenario and the files it refers to can be used."
            if self.ok
            else f"INVALID: {len(self.problems)} problem(s); fix them and check again."
        )
        return "\n".join(lines) + "\n"


def validate_scenario(path: str | Path, *, limits: Limits | None = None) -> ScenarioReport:
    """Validate a scenario file, the files it refers to and its site references.

    Checks, collecting every problem: the TOML and its schema (unknown keys, types,
    versions: :func:`planner.scenarios.load_scenario`), that referenced files exist
    (:func:`planner.scenarios.check_references`), the referenced farm/site files
    (:func:`validate_farms`, :func:`validate_sites`), and that every ``sites.required`` /
    ``sites.forbidden`` entry names a site of the scenario's site list (the same rule as the
    solve: a site id, a unique site name, or ``existing``).

    Parameters
    ----------
    path
        The scenario TOML file.
    limits
        Upload limits for the referenced files.

    Returns
    -------
    report
        Never raises for bad input.
    """
    from planner import run, scenarios  # noqa: PLC0415 - run imports this module
    from planner.errors import ScenarioError  # noqa: PLC0415

    file = str(path)
    try:
        scenario = scenarios.load_scenario(Path(path))
    except ScenarioError as exc:
        return ScenarioReport(file=file, problems=exc.problems)
    problems = scenarios.check_references(scenario)
    if problems:
        return ScenarioReport(file=file, problems=tuple(problems), scenario=scenario)
    notes: list[str] = []
    d = scenario.data
    sites: pd.DataFrame | None = None
    if d.farms != "synthetic":
        rep = validate_farms(scenario.resolve_path(d.farms), limits=limits)
        problems += [f"`data.farms` ({d.farms}): {m}" for m in rep.messages()]
        notes += [f"`data.farms`: {w}" for w in rep.warnings]
    if d.sites != "settlements":
        rep = validate_sites(scenario.resolve_path(d.sites), limits=limits)
        problems += [f"`data.sites` ({d.sites}): {m}" for m in rep.messages()]
        notes += [f"`data.sites`: {w}" for w in rep.warnings]
        sites = rep.data
    elif scenario.sites.required or scenario.sites.forbidden:
        sites = run.load_sites(scenario)
    if sites is not None:
        for what in ("required", "forbidden"):
            names = getattr(scenario.sites, what)
            try:
                run._resolve_ids(names, sites, what)
            except ScenarioError as exc:
                problems.extend(exc.problems)
    return ScenarioReport(
        file=file, problems=tuple(problems), warnings=tuple(notes), scenario=scenario
    )
