"""Problems, limits and reports of user-file validation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import geopandas as gpd

from planner.errors import ValidationError

Kind = Literal["farms", "sites"]


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


_MAX_LISTED: Final = 10
_SEPARATOR_NAMES: Final = {";": "';'", "\t": "tab", ",": "','", "|": "'|'"}


def _format_rows(rows: Sequence[int], label: str = "row") -> str:
    shown = ", ".join(str(r) for r in rows[:_MAX_LISTED])
    more = f" and {len(rows) - _MAX_LISTED:,} more" if len(rows) > _MAX_LISTED else ""
    return f"{label}{'s' if len(rows) > 1 else ''} {shown}{more}"
