"""Result tables: a solved scenario of any model kind as plain tables.

:class:`ResultTables` is what the output files (:mod:`planner.export`), the decision brief
(:mod:`planner.brief`), the workspace (:mod:`planner.store`) and the app's views are made of;
:func:`planner.pipeline.result_tables` builds it from a solved scenario of any model kind.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.farms import districts_of_points
from planner.geodata import load_districts, load_oblasts
from planner.i18n import name_column
from planner.store import StoredResults

FARM_COLUMNS: tuple[str, ...] = (
    "farm_id", "lon", "lat", "oblast_iso", "district_kato", "machines", "demand",
)  # fmt: skip


def json_ready(value: Any) -> Any:  # noqa: ANN401
    """Return ``value`` with numpy scalars as Python numbers and nan/inf as ``None``."""
    if isinstance(value, float | np.floating):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value


@dataclass(frozen=True, eq=False)
class ResultTables:
    """A solved scenario as plain tables (what exports, maps and the brief are made of).

    Parameters
    ----------
    summary
        Content of ``summary.json`` (:func:`summary_dict`).
    sites
        One row per site (:data:`planner.results.SITE_TABLE_COLUMNS` first; the two-echelon
        model lists plants and centres).
    assignments
        Farm -> site rows (:data:`planner.results.ASSIGNMENT_COLUMNS` first).
    farms
        Columns :data:`FARM_COLUMNS`: farm coordinates, oblast, 2024 district (KATO),
        machines counted in demand (Belarus-made when the scenario counts only those) and
        demand weight. Tables stored before districts existed lack ``district_kato``;
        :func:`district_breakdown` then finds it from the coordinates.
    scenario_toml
        The scenario as TOML text.
    extra
        Model-specific tables, each written as ``<name>.csv`` (two-echelon: ``weekly_load``,
        ``flows``, ``per_year``, ``openings``); empty for single-echelon models.
    places
        Points that flows start from but that are not sites (``place_id``, ``name``, ``lon``,
        ``lat``; two-echelon: rail entry points), for the ``flows`` map layer.
    """

    summary: dict[str, Any]
    sites: pd.DataFrame
    assignments: pd.DataFrame
    farms: pd.DataFrame
    scenario_toml: str
    extra: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    places: pd.DataFrame | None = None


def sites_gdf(tables: ResultTables) -> gpd.GeoDataFrame:
    """Return the site table as points (EPSG:4326).

    Parameters
    ----------
    tables
        Result tables.

    Returns
    -------
    sites
        One point per site.
    """
    tab = tables.sites
    return gpd.GeoDataFrame(
        tab.copy(), geometry=gpd.points_from_xy(tab["lon"], tab["lat"]), crs="EPSG:4326"
    )


def assignments_gdf(tables: ResultTables) -> gpd.GeoDataFrame:
    """Return farm -> site assignment lines (EPSG:4326), served farms only.

    Parameters
    ----------
    tables
        Result tables.

    Returns
    -------
    lines
        One line per served farm-site flow.
    """
    tab = tables.assignments.loc[tables.assignments["site_id"] != ""].reset_index(drop=True)
    farms = tables.farms.set_index("farm_id")
    # Two-echelon tables may list a facility as plant and centre: the first row places it.
    sites = tables.sites.drop_duplicates("site_id").set_index("site_id")
    f_xy = farms.loc[tab["farm_id"], ["lon", "lat"]].to_numpy(dtype=np.float64)
    s_xy = sites.loc[tab["site_id"], ["lon", "lat"]].to_numpy(dtype=np.float64)
    lines = shapely.linestrings(np.stack([f_xy, s_xy], axis=1))
    return gpd.GeoDataFrame(tab, geometry=lines, crs="EPSG:4326")


BREAKDOWN_FIGURES: tuple[str, ...] = (
    "n_farms", "machines", "demand", "served_share", "mean_travel_km", "share_within_3h",
    "open_sites",
)  # fmt: skip
"""Figures of every per-area table (:func:`oblast_breakdown`, :func:`district_breakdown`)."""


def _breakdown(
    tables: ResultTables, farm_area: pd.Series, site_area: pd.Series, key: str
) -> pd.DataFrame:
    """Per-area figures; ``farm_area`` / ``site_area`` give the area of each farm / site row."""
    farms = tables.farms.assign(**{key: farm_area.to_numpy()})
    a = tables.assignments.merge(
        farms[["farm_id", key]], on="farm_id", how="left", validate="many_to_one"
    )
    served = a["site_id"] != ""
    a["served_demand"] = np.where(served, a["demand"], 0.0)
    a["km_x_demand"] = np.where(served, a["travel_km"] * a["demand"], 0.0)
    a["within_3h"] = np.where(served & (a["travel_time_min"] <= 180.0), a["demand"], 0.0)  # noqa: PLR2004
    g = a.groupby(key, sort=True)[["served_demand", "km_x_demand", "within_3h"]].sum()
    fg = farms.groupby(key, sort=True).agg(
        n_farms=("farm_id", "size"), machines=("machines", "sum"), demand=("demand", "sum")
    )
    out = fg.join(g, how="left").fillna(0.0)
    is_open = (tables.sites["status"] != "closed").to_numpy()
    open_area = pd.Series(site_area.to_numpy()[is_open])
    out["open_sites"] = open_area.groupby(open_area).size().reindex(out.index).fillna(0)
    demand = out["demand"].where(out["demand"] > 0)
    # Six decimals (as in summary.json): the brief rounds these again to 0.1 %, and a
    # four-decimal value rounded again can be off by more than half a display unit.
    out["served_share"] = (out["served_demand"] / demand).round(6)
    out["mean_travel_km"] = (
        out["km_x_demand"] / out["served_demand"].where(out["served_demand"] > 0)
    ).round(1)
    out["share_within_3h"] = (out["within_3h"] / demand).round(6)
    out = out.reset_index()
    out["open_sites"] = out["open_sites"].astype(int)
    out["n_farms"] = out["n_farms"].astype(int)
    out["machines"] = out["machines"].round(0)
    out["demand"] = out["demand"].round(1)
    return out


def oblast_breakdown(tables: ResultTables, lang: str = "en") -> pd.DataFrame:
    """Per-oblast figures: farms, machines, demand, travel and open sites.

    Parameters
    ----------
    tables
        Result tables.
    lang
        ``"en"``, ``"ru"`` or ``"kk"``: language of the oblast names.

    Returns
    -------
    breakdown
        Columns oblast_iso, oblast, n_farms, machines, demand, served_share,
        mean_travel_km, share_within_3h, open_sites; one row per oblast with farms.
    """
    out = _breakdown(
        tables, tables.farms["oblast_iso"], tables.sites["oblast_iso"].astype(str), "oblast_iso"
    )
    names = load_oblasts()
    col = name_column(lang)
    name_of = dict(zip(names["iso"].astype(str), names[col].astype(str), strict=True))
    out.insert(1, "oblast", out["oblast_iso"].map(name_of).fillna(out["oblast_iso"]))
    return out.loc[:, ["oblast_iso", "oblast", *BREAKDOWN_FIGURES]]


def farm_districts(tables: ResultTables) -> pd.Series:
    """Return the district KATO code of every farm row of ``tables``.

    Parameters
    ----------
    tables
        Result tables.

    Returns
    -------
    kato
        Text, aligned with ``tables.farms``: its ``district_kato`` column where present and
        not blank, else the district of the farm's nearest cropland cell.
    """
    f = tables.farms
    lon = f["lon"].to_numpy(dtype=np.float64)
    lat = f["lat"].to_numpy(dtype=np.float64)
    given = (
        f["district_kato"].astype(str).replace("nan", "").to_numpy(dtype=object)
        if "district_kato" in f.columns
        else np.full(len(f), "", dtype=object)
    )
    blank = given == ""
    if blank.any():
        found, _ = districts_of_points(lon[blank], lat[blank])
        given[blank] = found
    return pd.Series(given, index=f.index, dtype=str)


def district_breakdown(tables: ResultTables, lang: str = "en") -> pd.DataFrame:
    """Per-district figures (2024 districts): farms, machines, demand, travel and open sites.

    Parameters
    ----------
    tables
        Result tables.
    lang
        ``"en"``, ``"ru"`` or ``"kk"``: language of the district names.

    Returns
    -------
    breakdown
        Columns district_kato, district, oblast_iso, n_farms, machines, demand,
        served_share, mean_travel_km, share_within_3h, open_sites; one row per district with
        farms. A site counts in the district of its nearest cropland cell.
    """
    site_kato, _ = districts_of_points(
        tables.sites["lon"].to_numpy(dtype=np.float64),
        tables.sites["lat"].to_numpy(dtype=np.float64),
    )
    out = _breakdown(tables, farm_districts(tables), pd.Series(site_kato), "district_kato")
    d = load_districts().set_index("district_kato")
    col = {"en": "name_en", "ru": "name_ru", "kk": "name_kk"}.get(lang, "name_en")
    out.insert(1, "district", out["district_kato"].map(d[col]).fillna(out["district_kato"]))
    out.insert(2, "oblast_iso", out["district_kato"].map(d["oblast_iso"]).fillna(""))
    return out.loc[:, ["district_kato", "district", "oblast_iso", *BREAKDOWN_FIGURES]]


def flows_gdf(tables: ResultTables) -> gpd.GeoDataFrame | None:
    """Return the ``flows`` extra table as lines between sites and places (no service rows).

    Parameters
    ----------
    tables
        Result tables.

    Returns
    -------
    lines
        One line per flow whose both ends are known, EPSG:4326; ``None`` without flows.
    """
    flows = tables.extra.get("flows")
    if flows is None:
        return None
    xy: dict[str, tuple[float, float]] = {}
    for sid, lon, lat in zip(
        tables.sites["site_id"], tables.sites["lon"], tables.sites["lat"], strict=True
    ):
        xy.setdefault(str(sid), (float(lon), float(lat)))
    if tables.places is not None:
        p = tables.places
        for pid, lon, lat in zip(p["place_id"], p["lon"], p["lat"], strict=True):
            xy[str(pid)] = (float(lon), float(lat))
    fl = flows.loc[flows["kind"] != "service"]
    fl = fl.loc[fl["from_id"].isin(xy) & fl["to_id"].isin(xy)].reset_index(drop=True)
    a = np.array([xy[s] for s in fl["from_id"]], dtype=np.float64).reshape(-1, 2)
    b = np.array([xy[s] for s in fl["to_id"]], dtype=np.float64).reshape(-1, 2)
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    return gpd.GeoDataFrame(fl, geometry=lines, crs="EPSG:4326")


def to_stored(tables: ResultTables) -> StoredResults:
    """Turn result tables into the text the workspace stores.

    Parameters
    ----------
    tables
        Result tables.

    Returns
    -------
    stored
        JSON and CSV text.
    """
    return StoredResults(
        summary_json=json.dumps(tables.summary, ensure_ascii=False),
        sites_csv=tables.sites.to_csv(index=False),
        assignments_csv=tables.assignments.to_csv(index=False),
        farms_csv=tables.farms.to_csv(index=False),
    )


def from_stored(stored: StoredResults, scenario_toml: str) -> ResultTables:
    """Rebuild result tables from the workspace's text.

    Parameters
    ----------
    stored
        Text read from the workspace.
    scenario_toml
        The scenario's TOML text.

    Returns
    -------
    tables
        The tables as :func:`result_tables` produced them.
    """
    text_cols = {
        "site_id": str, "farm_id": str, "name": str, "oblast_iso": str, "district_kato": str,
    }  # fmt: skip
    sites = pd.read_csv(io.StringIO(stored.sites_csv), dtype=text_cols, keep_default_na=False)
    for col in sites.columns:
        if col not in text_cols and col not in ("role", "status", "origin"):
            sites[col] = pd.to_numeric(sites[col], errors="coerce")
    assignments = pd.read_csv(
        io.StringIO(stored.assignments_csv), dtype=text_cols, keep_default_na=False
    )
    for col in ("travel_km", "travel_time_min", "demand", "share"):
        assignments[col] = pd.to_numeric(assignments[col], errors="coerce")
    farms = pd.read_csv(io.StringIO(stored.farms_csv), dtype=text_cols, keep_default_na=False)
    return ResultTables(
        summary=json.loads(stored.summary_json),
        sites=sites,
        assignments=assignments,
        farms=farms,
        scenario_toml=scenario_toml,
    )
