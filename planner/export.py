"""Write a solved scenario to files -- the same set from ``planner solve`` and the app.

The output contract (``planner solve … --out DIR``):

* ``summary.json`` -- scenario, model, status, objective, bound, gap, runtime_s,
  n_open_sites, total_demand, covered_demand_share, mean_travel_km, p95_travel_km,
  data_notes, plus the other KPIs, regret per open site and the N best alternatives.
* ``sites.csv`` -- site_id, name, oblast_iso, lat, lon, role, status, assigned_demand,
  capacity, utilisation (+ origin, n_farms, regret).
* ``assignments.csv`` -- farm_id, site_id, travel_km, travel_time_min, demand (+ share).
* ``recommendations.gpkg`` -- layers ``sites`` (points) and ``assignments`` (lines),
  EPSG:4326.
* ``sites.geojson`` / ``assignments.geojson`` -- the same two layers as GeoJSON (EPSG:4326).
* ``results.xlsx`` -- sheets ``summary``, ``sites``, ``assignments``, ``oblasts`` (breakdown
  per oblast).
* ``brief.html`` -- a one-file decision brief (:mod:`planner.brief`).
* ``scenario.toml`` -- the scenario that produced them.

Everything is written from :class:`ResultTables` -- plain tables that the workspace
(:mod:`planner.store`) keeps as text -- so a saved scenario exports exactly what a fresh solve
does.
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner import __version__
from planner.results import assignment_table, site_table
from planner.run import ScenarioResult
from planner.scenarios import scenario_to_toml
from planner.store import StoredResults

FARM_COLUMNS: tuple[str, ...] = ("farm_id", "lon", "lat", "oblast_iso", "machines", "demand")
OUTPUT_FILES: tuple[str, ...] = (
    "summary.json",
    "sites.csv",
    "assignments.csv",
    "recommendations.gpkg",
    "sites.geojson",
    "assignments.geojson",
    "results.xlsx",
    "brief.html",
    "scenario.toml",
)

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str, *, default: str = "scenario") -> str:
    """Return ``name`` reduced to a safe file name (no path separators or traversal).

    Parameters
    ----------
    name
        Any user-supplied text.
    default
        Used when nothing safe remains.

    Returns
    -------
    filename
        Letters, digits, ``.``, ``_`` and ``-`` only, without leading dots, at most 80 chars.
    """
    cleaned = _SAFE_NAME.sub("_", name).strip("._")[:80]
    return cleaned or default


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


def summary_dict(result: ScenarioResult) -> dict[str, Any]:
    """Return the content of ``summary.json``.

    Parameters
    ----------
    result
        A solved scenario.

    Returns
    -------
    summary
        JSON-ready dictionary (``nan`` and ``inf`` become ``null``).
    """
    sol = result.solution
    ids = result.inputs.sites["site_id"].astype(str).tolist()
    names = result.inputs.sites["name"].astype(str).tolist()
    summary: dict[str, Any] = {
        "scenario": result.scenario.name,
        "title": result.scenario.title,
        "model": result.scenario.model.kind,
        "status": str(sol.status),
        "objective": sol.objective,
        "objective_unit": _objective_unit(result),
        "bound": sol.bound,
        "gap": sol.gap,
        "runtime_s": round(sol.runtime_s, 3),
        "total_runtime_s": round(result.runtime_s, 3),
        "backend": sol.backend,
        "message": sol.message,
        "n_open_sites": len(sol.open_sites),
        "open_sites": [ids[j] for j in sol.open_sites],
        **result.kpis,
        "data_notes": list(result.inputs.data_notes),
        "regret": [
            {"site_id": ids[int(j)], "name": names[int(j)], "objective_increase": r}
            for j, r in sorted(sol.regret.items(), key=lambda kv: -kv[1])
        ],
        "alternatives": [
            {
                "rank": k + 1,
                "objective": alt.objective,
                "open_sites": [ids[j] for j in alt.open_sites],
            }
            for k, alt in enumerate(sol.alternatives)
        ],
        "solver_stats": dict(sol.stats),
        "planner_version": __version__,
    }
    return {k: json_ready(v) for k, v in summary.items()}


def _objective_unit(result: ScenarioResult) -> str:
    kind = result.scenario.model.kind
    unit = result.inputs.costs.unit
    if kind == "p_median":
        return f"service hours x road {unit}" if unit == "km" else "service hours x minutes"
    if kind == "cflp":
        return "KZT per year (fixed + transport)"
    if kind == "mclp":
        return "covered service hours"
    if kind == "set_cover":
        return "sites (or KZT of fixed cost)"
    return f"worst travel ({unit})"


@dataclass(frozen=True, eq=False)
class ResultTables:
    """A solved scenario as plain tables (what exports, maps and the brief are made of).

    Parameters
    ----------
    summary
        Content of ``summary.json`` (:func:`summary_dict`).
    sites
        :func:`planner.results.site_table`.
    assignments
        :func:`planner.results.assignment_table`.
    farms
        Columns :data:`FARM_COLUMNS`: farm coordinates, oblast, machines counted in demand
        (Belarus-made when the scenario counts only those) and demand weight.
    scenario_toml
        The scenario as TOML text.
    """

    summary: dict[str, Any]
    sites: pd.DataFrame
    assignments: pd.DataFrame
    farms: pd.DataFrame
    scenario_toml: str


def result_tables(result: ScenarioResult) -> ResultTables:
    """Return the tables of a solved scenario.

    Parameters
    ----------
    result
        A solved scenario.

    Returns
    -------
    tables
        Summary, site, assignment and farm tables.
    """
    inputs = result.inputs
    f = inputs.farms
    only_by = result.scenario.demand.belarus_only and "belarus_tractors" in f.columns
    cols = ["belarus_tractors", "belarus_combines"] if only_by else ["tractors", "combines"]
    machines = f[cols].to_numpy(dtype=np.float64).sum(axis=1)
    farms = pd.DataFrame(
        {
            "farm_id": f["farm_id"].astype(str).to_numpy(),
            "lon": f["lon"].to_numpy(dtype=np.float64),
            "lat": f["lat"].to_numpy(dtype=np.float64),
            "oblast_iso": f["oblast_iso"].astype(str).to_numpy(),
            "machines": machines,
            "demand": inputs.weights,
        }
    )
    return ResultTables(
        summary=summary_dict(result),
        sites=site_table(result),
        assignments=assignment_table(result),
        farms=farms,
        scenario_toml=scenario_to_toml(result.scenario),
    )


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
    text_cols = {"site_id": str, "farm_id": str, "name": str, "oblast_iso": str}
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
    sites = tables.sites.set_index("site_id")
    f_xy = farms.loc[tab["farm_id"], ["lon", "lat"]].to_numpy(dtype=np.float64)
    s_xy = sites.loc[tab["site_id"], ["lon", "lat"]].to_numpy(dtype=np.float64)
    lines = shapely.linestrings(np.stack([f_xy, s_xy], axis=1))
    return gpd.GeoDataFrame(tab, geometry=lines, crs="EPSG:4326")


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
    from planner.geodata import load_oblasts  # noqa: PLC0415

    a = tables.assignments.merge(
        tables.farms[["farm_id", "oblast_iso"]], on="farm_id", how="left", validate="many_to_one"
    )
    served = a["site_id"] != ""
    a["served_demand"] = np.where(served, a["demand"], 0.0)
    a["km_x_demand"] = np.where(served, a["travel_km"] * a["demand"], 0.0)
    a["within_3h"] = np.where(served & (a["travel_time_min"] <= 180.0), a["demand"], 0.0)  # noqa: PLR2004
    g = a.groupby("oblast_iso", sort=True)[["served_demand", "km_x_demand", "within_3h"]].sum()
    fg = tables.farms.groupby("oblast_iso", sort=True).agg(
        n_farms=("farm_id", "size"), machines=("machines", "sum"), demand=("demand", "sum")
    )
    out = fg.join(g, how="left").fillna(0.0)
    open_sites = tables.sites.loc[tables.sites["status"] != "closed"]
    out["open_sites"] = open_sites.groupby("oblast_iso").size().reindex(out.index).fillna(0)
    demand = out["demand"].where(out["demand"] > 0)
    # Six decimals (as in summary.json): the brief rounds these again to 0.1 %, and a
    # four-decimal value rounded again can be off by more than half a display unit.
    out["served_share"] = (out["served_demand"] / demand).round(6)
    out["mean_travel_km"] = (
        out["km_x_demand"] / out["served_demand"].where(out["served_demand"] > 0)
    ).round(1)
    out["share_within_3h"] = (out["within_3h"] / demand).round(6)
    names = load_oblasts()
    col = {"ru": "name_ru", "kk": "name_kk"}.get(lang, "name_en")
    name_of = dict(zip(names["iso"].astype(str), names[col].astype(str), strict=True))
    out = out.reset_index()
    out.insert(1, "oblast", out["oblast_iso"].map(name_of).fillna(out["oblast_iso"]))
    out["open_sites"] = out["open_sites"].astype(int)
    out["n_farms"] = out["n_farms"].astype(int)
    out["machines"] = out["machines"].round(0)
    out["demand"] = out["demand"].round(1)
    return out.loc[
        :,
        [
            "oblast_iso",
            "oblast",
            "n_farms",
            "machines",
            "demand",
            "served_share",
            "mean_travel_km",
            "share_within_3h",
            "open_sites",
        ],
    ]


def _summary_rows(summary: dict[str, Any]) -> pd.DataFrame:
    rows = [
        {
            "key": key,
            "value": json.dumps(value, ensure_ascii=False)
            if isinstance(value, list | dict)
            else value,
        }
        for key, value in summary.items()
    ]
    return pd.DataFrame(rows)


def write_xlsx(tables: ResultTables, path: str | Path, *, lang: str = "en") -> Path:
    """Write ``results.xlsx`` (sheets summary, sites, assignments, oblasts).

    Parameters
    ----------
    tables
        Result tables.
    path
        Destination file.
    lang
        Language of the oblast names.

    Returns
    -------
    path
        The written file.
    """
    p = Path(path)
    summary = _summary_rows(tables.summary)
    summary["value"] = summary["value"].map(lambda v: "" if v is None else v).astype(str)
    with pd.ExcelWriter(p, engine="openpyxl") as writer:
        summary.to_excel(writer, sheet_name="summary", index=False)
        tables.sites.to_excel(writer, sheet_name="sites", index=False)
        tables.assignments.to_excel(writer, sheet_name="assignments", index=False)
        oblast_breakdown(tables, lang).to_excel(writer, sheet_name="oblasts", index=False)
    return p


def write_tables(tables: ResultTables, out_dir: str | Path, *, lang: str = "en") -> dict[str, Path]:
    """Write every output file from result tables.

    Parameters
    ----------
    tables
        Result tables.
    out_dir
        Folder to write to (created if missing).
    lang
        Language of the brief and the oblast names (``"en"``, ``"ru"``, ``"kk"``).

    Returns
    -------
    paths
        The written files by key: summary, sites, assignments, gpkg, sites_geojson,
        assignments_geojson, xlsx, brief, scenario.
    """
    from planner.brief import brief_html  # noqa: PLC0415

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "summary": out / "summary.json",
        "sites": out / "sites.csv",
        "assignments": out / "assignments.csv",
        "gpkg": out / "recommendations.gpkg",
        "sites_geojson": out / "sites.geojson",
        "assignments_geojson": out / "assignments.geojson",
        "xlsx": out / "results.xlsx",
        "brief": out / "brief.html",
        "scenario": out / "scenario.toml",
    }
    paths["summary"].write_text(
        json.dumps(tables.summary, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    tables.sites.to_csv(paths["sites"], index=False)
    tables.assignments.to_csv(paths["assignments"], index=False)
    # GDAL cannot store infinities (e.g. the regret of a site without which the network is
    # infeasible); write them as nulls. The CSV and JSON files keep the full information.
    sites = _finite_or_null(sites_gdf(tables))
    lines = _finite_or_null(assignments_gdf(tables))
    for key in ("gpkg", "sites_geojson", "assignments_geojson"):
        if paths[key].exists():
            paths[key].unlink()
    sites.to_file(paths["gpkg"], layer="sites", driver="GPKG")
    lines.to_file(paths["gpkg"], layer="assignments", driver="GPKG")
    sites.to_file(paths["sites_geojson"], driver="GeoJSON")
    lines.to_file(paths["assignments_geojson"], driver="GeoJSON")
    write_xlsx(tables, paths["xlsx"], lang=lang)
    paths["brief"].write_text(brief_html(tables, lang=lang), encoding="utf-8")
    paths["scenario"].write_text(tables.scenario_toml, encoding="utf-8")
    return paths


def _finite_or_null(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy with +-inf replaced by NaN in numeric columns."""
    out = gdf.copy()
    for col in out.columns:
        if col != out.geometry.name and pd.api.types.is_float_dtype(out[col].dtype):
            out[col] = out[col].where(np.isfinite(out[col].to_numpy()), np.nan)
    return out


def write_outputs(
    result: ScenarioResult, out_dir: str | Path, *, lang: str = "en"
) -> dict[str, Path]:
    """Write every output file of a solved scenario (see the module docstring).

    Parameters
    ----------
    result
        A solved scenario.
    out_dir
        Folder to write to (created if missing).
    lang
        Language of the brief and the oblast names.

    Returns
    -------
    paths
        The written files by key (``summary``, ``sites``, ``assignments``, ``gpkg`` and the
        others of :func:`write_tables`).
    """
    return write_tables(result_tables(result), out_dir, lang=lang)
