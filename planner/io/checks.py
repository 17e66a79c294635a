"""Row checks of farm registries and candidate-site lists (:func:`validate_table`)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from planner import geodata
from planner._types import BoolArray, FloatArray
from planner.errors import ValidationError
from planner.io.columns import (
    _DEMAND_COLUMNS,
    _FARM_NUMERIC,
    _FIRST_MODEL_YEAR,
    _GEO_PREFIX,
    _INTEGER_COLUMNS,
    _LATEST_YEAR,
    _MAX_AGE_YEARS,
    _MAX_LAT,
    _MAX_LON,
    _PROJECTED_SHARE,
    _REFERENCE_PLACES,
    _ROLE_VALUES,
    _ROW,
    _SITE_NUMERIC,
    _SWAPPED_FILE_SHARE,
    FARM_ALIASES,
    SITE_ALIASES,
    _dms_hint,
    _examples,
    _match_columns,
    _texts,
    normalise_header,
    parse_numbers,
)
from planner.io.readers import read_table
from planner.io.report import (
    _SEPARATOR_NAMES,
    Kind,
    Limits,
    Problem,
    ReadInfo,
    ValidationReport,
    _format_rows,
)
from planner.travel import great_circle_km

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
    d_ref = great_circle_km(clat, clon, plat, plon)
    olat = oblasts["lat"].to_numpy(dtype=np.float64)
    olon = oblasts["lon"].to_numpy(dtype=np.float64)
    d_obl = great_circle_km(clat, clon, olat, olon)
    k = int(np.argmin(d_obl))
    near = f"nearest oblast centre {oblasts['centre_en'].iloc[k]} ({oblasts['name_en'].iloc[k]})"
    near += f" {d_obl[k]:,.0f} km away"
    j = int(np.argmin(d_ref))
    if d_ref[j] < d_obl[k]:
        near = f"near {names[j]}; {near}"
    return f"{box} ({near})"


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
    """Brand, synthetic (text) and age (years or year of manufacture) columns, all optional."""
    if "brand" in columns:
        out["brand"] = _texts(df[columns["brand"]]).to_numpy(dtype=object)
    if "synthetic" in columns:  # files written by `planner data farms`
        out["synthetic"] = _texts(df[columns["synthetic"]]).str.lower().to_numpy(dtype=object)
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
