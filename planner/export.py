"""Write a solved scenario to files -- the same set from ``planner solve`` and the app.

The output contract (``planner solve … --out DIR``):

* ``summary.json`` -- scenario, model, status, objective, bound, gap, runtime_s,
  n_open_sites, total_demand, covered_demand_share, mean_travel_km, p95_travel_km,
  data_notes, plus the other KPIs, regret per open site and the N best alternatives.
* ``sites.csv`` -- site_id, name, oblast_iso, lat, lon, role, status, assigned_demand,
  capacity, utilisation (+ origin, n_farms, regret).
* ``assignments.csv`` -- farm_id, site_id, travel_km, travel_time_min, demand (+ share).
* ``recommendations.gpkg`` -- layers ``sites`` (points) and ``assignments`` (lines), plus
  ``flows`` (lines) for the two-echelon model, EPSG:4326.
* ``sites.geojson`` / ``assignments.geojson`` -- the same two layers as GeoJSON (EPSG:4326).
* ``results.xlsx`` -- sheets ``summary``, ``sites``, ``assignments``, ``oblasts`` (breakdown
  per oblast), ``districts`` (breakdown per 2024 district).
* ``districts.csv`` -- the per-district breakdown (district_kato, district, oblast_iso,
  n_farms, machines, demand, served_share, mean_travel_km, share_within_3h, open_sites).
* ``brief.html`` -- a one-file decision brief (:mod:`planner.brief`).
* ``scenario.toml`` -- the scenario that produced them.
* the model's extra tables as ``<name>.csv`` (two-echelon: ``weekly_load.csv``,
  ``flows.csv``, ``per_year.csv``, ``openings.csv``).

Every model kind writes this set (:func:`write_outputs`). Everything is written from
:class:`ResultTables` -- plain tables that the workspace
(:mod:`planner.store`) keeps as text -- so a saved scenario exports exactly what a fresh solve
does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from planner import __version__
from planner.agri import TwoEchelonResult, two_echelon_summary
from planner.brief import brief_html
from planner.farms import districts_of_points
from planner.location import ScenarioResult
from planner.results import assignment_table, site_table
from planner.scenarios import scenario_to_toml
from planner.tables import (
    FARM_COLUMNS,
    ResultTables,
    assignments_gdf,
    district_breakdown,
    flows_gdf,
    from_stored,
    json_ready,
    oblast_breakdown,
    sites_gdf,
    to_stored,
)

__all__ = [
    "FARM_COLUMNS",
    "OUTPUT_FILES",
    "ResultTables",
    "assignments_gdf",
    "district_breakdown",
    "flows_gdf",
    "from_stored",
    "json_ready",
    "oblast_breakdown",
    "result_tables",
    "safe_filename",
    "sites_gdf",
    "summary_dict",
    "to_stored",
    "write_outputs",
    "write_tables",
    "write_xlsx",
]

AnyResult = ScenarioResult | TwoEchelonResult
"""A solved scenario of any model kind (what :func:`planner.run.run_scenario` returns)."""
EXTRA_TABLES: tuple[str, ...] = ("weekly_load", "flows", "per_year", "openings")
"""Extra tables of the two-echelon model, in the order they are written."""
OUTPUT_FILES: tuple[str, ...] = (
    "summary.json",
    "sites.csv",
    "assignments.csv",
    "recommendations.gpkg",
    "sites.geojson",
    "assignments.geojson",
    "results.xlsx",
    "districts.csv",
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


def result_tables(result: AnyResult) -> ResultTables:
    """Return the tables of a solved scenario of any model kind.

    Parameters
    ----------
    result
        A solved scenario (:func:`planner.run.run_scenario`).

    Returns
    -------
    tables
        Summary, site, assignment and farm tables, plus the model's extra tables.
    """
    if isinstance(result, TwoEchelonResult):
        return _two_echelon_tables(result)
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
            "district_kato": _district_column(f),
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


def _district_column(f: pd.DataFrame) -> npt.NDArray[np.object_]:
    """Return the farms' ``district_kato`` (the nearest cropland cell's where missing)."""
    if "district_kato" in f.columns:
        return f["district_kato"].astype(str).to_numpy(dtype=object)
    kato, _ = districts_of_points(
        f["lon"].to_numpy(dtype=np.float64), f["lat"].to_numpy(dtype=np.float64)
    )
    return kato


def _two_echelon_tables(result: TwoEchelonResult) -> ResultTables:
    """Tables of a two-echelon result: final-period network, farms with final-period demand."""
    inputs = result.inputs
    f = inputs.farms
    proj = inputs.projection
    farms = pd.DataFrame(
        {
            "farm_id": f["farm_id"].astype(str).to_numpy(),
            "lon": f["lon"].to_numpy(dtype=np.float64),
            "lat": f["lat"].to_numpy(dtype=np.float64),
            "oblast_iso": f["oblast_iso"].astype(str).to_numpy(),
            "district_kato": _district_column(f),
            "machines": proj.tractors_counted[:, -1] + proj.combines_counted[:, -1],
            "demand": proj.tractor_hours_year[:, -1] + proj.combine_hours_year[:, -1],
        }
    )
    e = inputs.entries
    places = pd.DataFrame(
        {
            "place_id": e["entry_id"].astype(str).to_numpy(),
            "name": e["name"].astype(str).to_numpy(),
            "lon": e["lon"].to_numpy(dtype=np.float64),
            "lat": e["lat"].to_numpy(dtype=np.float64),
        }
    )
    has = result.solution.has_solution
    return ResultTables(
        summary=two_echelon_summary(result),
        sites=result.sites,
        assignments=result.assignments,
        farms=farms,
        scenario_toml=scenario_to_toml(result.scenario),
        extra={name: getattr(result, name) for name in EXTRA_TABLES} if has else {},
        places=places,
    )


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
        district_breakdown(tables, lang).to_excel(writer, sheet_name="districts", index=False)
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
        assignments_geojson, xlsx, districts, brief, scenario, then one per extra table.
    """
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
        "districts": out / "districts.csv",
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
    flows = flows_gdf(tables)
    if flows is not None:
        _finite_or_null(flows).to_file(paths["gpkg"], layer="flows", driver="GPKG")
    sites.to_file(paths["sites_geojson"], driver="GeoJSON")
    lines.to_file(paths["assignments_geojson"], driver="GeoJSON")
    write_xlsx(tables, paths["xlsx"], lang=lang)
    district_breakdown(tables, lang).to_csv(paths["districts"], index=False)
    paths["brief"].write_text(brief_html(tables, lang=lang), encoding="utf-8")
    paths["scenario"].write_text(tables.scenario_toml, encoding="utf-8")
    for name, table in tables.extra.items():
        paths[name] = out / f"{name}.csv"
        table.to_csv(paths[name], index=False)
    return paths


def _finite_or_null(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy with +-inf replaced by NaN in numeric columns."""
    out = gdf.copy()
    for col in out.columns:
        if col != out.geometry.name and pd.api.types.is_float_dtype(out[col].dtype):
            out[col] = out[col].where(np.isfinite(out[col].to_numpy()), np.nan)
    return out


def write_outputs(result: AnyResult, out_dir: str | Path, *, lang: str = "en") -> dict[str, Path]:
    """Write every output file of a solved scenario of any model kind (see the module docstring).

    Parameters
    ----------
    result
        A solved scenario (:func:`planner.run.run_scenario`).
    out_dir
        Folder to write to (created if missing).
    lang
        Language of the brief and the oblast names.

    Returns
    -------
    paths
        The written files by key (``summary``, ``sites``, ``assignments``, ``gpkg`` and the
        others of :func:`write_tables`). A two-echelon run without a solution writes only
        ``summary.json`` and ``scenario.toml`` (and empty table files).
    """
    tables = result_tables(result)
    if isinstance(result, TwoEchelonResult) and not result.solution.has_solution:
        return _write_no_solution(tables, Path(out_dir))
    return write_tables(tables, out_dir, lang=lang)


def _write_no_solution(tables: ResultTables, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"summary": out / "summary.json", "scenario": out / "scenario.toml"}
    paths["summary"].write_text(
        json.dumps(tables.summary, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    paths["scenario"].write_text(tables.scenario_toml, encoding="utf-8")
    for name in ("sites", "assignments", "weekly_load", "flows"):
        (out / f"{name}.csv").write_text("", encoding="utf-8")
    return paths
