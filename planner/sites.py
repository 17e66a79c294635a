"""Candidate sites: real settlements, existing Belarusian operations, or a user's own list."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import ValidationError

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


_ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": ("site_id", "id", "code", "код", "идентификатор"),
    "name": ("name", "site", "название", "наименование", "атауы"),
    "lat": ("lat", "latitude", "y", "широта", "ендік"),
    "lon": ("lon", "lng", "long", "longitude", "x", "долгота", "бойлық"),
    "capacity_hours": ("capacity_hours", "capacity", "мощность_часов", "мощность"),
    "fixed_cost_kzt": ("fixed_cost_kzt", "fixed_cost", "затраты", "стоимость"),
    "oblast_iso": ("oblast_iso", "oblast", "область"),
    "role": ("role", "роль"),
}


def read_sites(path: str | Path) -> gpd.GeoDataFrame:  # noqa: C901
    """Read a user's own candidate-site list.

    Parameters
    ----------
    path
        CSV (``,``/``;``/tab, UTF-8 or Windows-1251), XLSX, GeoJSON or GeoPackage with a site
        id, a name and coordinates (``lat``/``lon`` columns or point geometry). Optional:
        ``capacity_hours``, ``fixed_cost_kzt``, ``oblast_iso``, ``role`` (``candidate`` or
        ``existing``).

    Returns
    -------
    sites
        One row per site with :data:`SITE_COLUMNS`.
    """
    p = Path(path)
    if not p.exists():
        msg = f"site file {p} does not exist; check the path."
        raise ValidationError(msg, source="sites")
    suffix = p.suffix.lower()
    if suffix in (".geojson", ".json", ".gpkg"):
        g = gpd.read_file(p)
        if g.crs is not None and not g.crs.equals("EPSG:4326"):
            g = g.to_crs("EPSG:4326")
        df = pd.DataFrame(g.drop(columns="geometry"))
        df["lon"], df["lat"] = g.geometry.x, g.geometry.y
    elif suffix in (".xlsx", ".xlsm"):
        df = pd.read_excel(p)
    else:
        raw = p.read_bytes()
        enc = "utf-8-sig"
        try:
            raw.decode(enc)
        except UnicodeDecodeError:
            enc = "cp1251"
        df = pd.read_csv(p, sep=None, engine="python", encoding=enc, dtype=str)
    lower = {str(c).strip().lower(): c for c in df.columns}
    renamed: dict[str, str] = {}
    for target, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in lower and lower[alias] not in renamed:
                renamed[lower[alias]] = target
                break
    df = df.rename(columns=renamed)
    problems = [
        f"missing column `{col}` (accepted names: {', '.join(_ALIASES[col])})"
        for col in ("site_id", "lat", "lon")
        if col not in df.columns
    ]
    if problems:
        raise ValidationError(problems, source=str(p))
    for col in ("lat", "lon", "capacity_hours", "fixed_cost_kzt"):
        if col in df.columns:
            df[col] = pd.to_numeric(
                df[col].astype(str).str.replace(",", ".", regex=False).str.strip(),
                errors="coerce",
            )
    bad = df[["lat", "lon"]].isna().any(axis=1)
    if bad.any():
        lines = ", ".join(str(i + 2) for i in np.flatnonzero(bad.to_numpy())[:5])
        problems.append(
            f"{int(bad.sum())} row(s) have missing or non-numeric lat/lon (lines {lines})."
        )
    dup = df["site_id"].astype(str).duplicated()
    if dup.any():
        problems.append(
            f"{int(dup.sum())} duplicate site_id value(s), e.g. {df['site_id'][dup].iloc[0]}; "
            "ids must be unique."
        )
    if problems:
        raise ValidationError(problems, source=str(p))
    df["site_id"] = df["site_id"].astype(str)
    if "name" not in df.columns:
        df["name"] = df["site_id"]
    df["role"] = df["role"].fillna("candidate") if "role" in df.columns else "candidate"
    df["kind"] = "user"
    return _frame(df)
