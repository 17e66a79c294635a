"""Sniffing and reading user files: CSV/TXT/TSV, XLSX, GeoJSON and GeoPackage."""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from planner import geodata
from planner._types import FloatArray
from planner.errors import ValidationError
from planner.io.columns import (
    _GEO_PREFIX,
    _GEOJSON_SUFFIXES,
    _MAX_LAT,
    _MAX_LON,
    _ROW,
    _SEPARATORS,
    _SNIFF_LINES,
    _TEXT_SUFFIXES,
    _XLSX_HEADER_SEARCH,
    _XLSX_SUFFIXES,
    _ZIP_RATIO,
    SUPPORTED_SUFFIXES,
    _cell_text,
    _fail,
    _has_required,
    _match_columns,
)
from planner.io.report import Kind, Limits, ReadInfo, _format_rows

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
    import openpyxl  # noqa: PLC0415 - only XLSX files need it; the first map does not

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
