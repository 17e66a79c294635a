"""Candidate sites: real settlements, existing Belarusian operations, or a user's own list."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import ValidationError
from planner.io import validate_sites

SITE_COLUMNS: tuple[str, ...] = (
    "site_id",
    "name",
    "name_ru",
    "oblast_iso",
    "lat",
    "lon",
    "role",
    "kind",
    "population",
    "capacity_hours",
    "fixed_cost_kzt",
)


def _frame(df: pd.DataFrame) -> gpd.GeoDataFrame:
    for col in SITE_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan if col in ("population", "capacity_hours", "fixed_cost_kzt") else ""
    out = df.loc[:, list(SITE_COLUMNS)].reset_index(drop=True)
    return gpd.GeoDataFrame(
        out, geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs="EPSG:4326"
    )


def candidate_sites(
    settlements: pd.DataFrame,
    facilities: pd.DataFrame | None = None,
    *,
    min_population: int = 2_000,
    max_sites: int | None = None,
) -> gpd.GeoDataFrame:
    """Build the default candidate list from settlements and existing facilities.

    Parameters
    ----------
    settlements
        Output of :func:`planner.geodata.load_settlements`.
    facilities
        Existing operations (:func:`planner.geodata.load_existing_facilities`), added with
        role ``"existing"``; ``None`` to leave them out.
    min_population
        Settlements below this population are not candidates.
    max_sites
        Keep at most this many settlements (largest first); ``None`` keeps all.

    Returns
    -------
    sites
        One row per site with :data:`SITE_COLUMNS`, existing facilities first.
    """
    s = settlements.loc[settlements["population"] >= min_population].copy()
    s = s.sort_values(["population", "settlement_id"], ascending=[False, True], kind="stable")
    if max_sites is not None:
        s = s.head(max_sites)
    s = s.rename(columns={"settlement_id": "site_id"})
    s["role"] = "candidate"
    s["kind"] = "settlement"
    parts = [s]
    if facilities is not None and len(facilities):
        f = pd.DataFrame(facilities.drop(columns="geometry", errors="ignore")).copy()
        f = f.rename(columns={"facility_id": "site_id"})
        f["role"] = "existing"
        f["name_ru"] = f.get("name_ru", "")
        f["population"] = np.nan
        parts.insert(0, f)
    if not len(s) and len(parts) == 1:
        msg = f"no settlement has population >= {min_population:,}; lower `min_site_population`."
        raise ValidationError(msg, source="candidate sites")
    return _frame(pd.concat(parts, ignore_index=True))


def read_sites(path: str | Path) -> gpd.GeoDataFrame:
    """Read a user's own candidate-site list.

    The file is checked by :func:`planner.validate_sites` (formats, encodings,
    separators, decimal commas, English/Russian/Kazakh column names and every rule are
    described there).

    Parameters
    ----------
    path
        CSV (``,``/``;``/tab, UTF-8 or Windows-1251), XLSX, GeoJSON or GeoPackage with a site
        id and coordinates (``lat``/``lon`` columns or point geometry). Optional: a name,
        ``capacity_hours``, ``fixed_cost_kzt``, ``oblast_iso`` (code or oblast name),
        ``role`` (``candidate`` or ``existing``).

    Returns
    -------
    sites
        One row per site with :data:`SITE_COLUMNS`.

    Raises
    ------
    ValidationError
        Listing every problem found, with rows (header = row 1) and columns and how to fix it.
    """
    report = validate_sites(path)
    report.raise_if_invalid()
    assert report.data is not None  # a valid report always has data
    df = pd.DataFrame(report.data.drop(columns=["geometry", "row"]))
    df["kind"] = "user"
    return _frame(df)
