"""Column aliases, header matching and cell parsing of user files."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from planner._types import BoolArray, FloatArray
from planner.errors import ValidationError
from planner.io.report import Kind

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
    "synthetic": ("synthetic",),
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


def _id_text(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()  # "NA" or "None" may be real ids: only blank cells are empty
