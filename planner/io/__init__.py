"""One reading and validation layer for user files: farm registries and candidate-site lists.

The CLI (``planner check-data``), the app's uploads, :func:`planner.farms.read_farms`,
:func:`planner.sites.read_sites` and scenario loading all go through this package, so a file is
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
* Scenario files: :func:`planner.references.validate_scenario` checks a scenario together
  with the files it names and its site and plant references.
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

Modules: :mod:`~planner.io.report` (limits, problems, reports), :mod:`~planner.io.columns`
(column aliases, header matching, cell parsing), :mod:`~planner.io.readers` (sniffing and
readers), :mod:`~planner.io.checks` (row checks of farms and sites).
"""

from planner.io.checks import validate_farms, validate_sites, validate_table
from planner.io.columns import (
    BELARUS_BRANDS,
    FARM_ALIASES,
    SITE_ALIASES,
    SUPPORTED_SUFFIXES,
    normalise_header,
    parse_numbers,
)
from planner.io.readers import read_table
from planner.io.report import Limits, Problem, ReadInfo, ValidationReport

__all__ = [
    "BELARUS_BRANDS",
    "FARM_ALIASES",
    "SITE_ALIASES",
    "SUPPORTED_SUFFIXES",
    "Limits",
    "Problem",
    "ReadInfo",
    "ValidationReport",
    "normalise_header",
    "parse_numbers",
    "read_table",
    "validate_farms",
    "validate_sites",
    "validate_table",
]
