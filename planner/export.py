"""Write a solved scenario to files: summary.json, sites.csv, assignments.csv, GeoPackage.

The output contract (``planner solve … --out DIR``):

* ``summary.json`` -- scenario, model, status, objective, bound, gap, runtime_s,
  n_open_sites, total_demand, covered_demand_share, mean_travel_km, p95_travel_km,
  data_notes, plus the other KPIs, regret per open site and the N best alternatives.
* ``sites.csv`` -- site_id, name, oblast_iso, lat, lon, role, status, assigned_demand,
  capacity, utilisation (+ origin, n_farms, regret).
* ``assignments.csv`` -- farm_id, site_id, travel_km, travel_time_min, demand (+ share).
* ``recommendations.gpkg`` -- layers ``sites`` (points) and ``assignments`` (lines),
  EPSG:4326.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from planner import __version__
from planner.results import assignment_lines, assignment_table, site_table, sites_geodataframe
from planner.run import ScenarioResult

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


def _json_value(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, float | np.floating):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
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
    return {k: _json_value(v) for k, v in summary.items()}


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


def write_outputs(result: ScenarioResult, out_dir: str | Path) -> dict[str, Path]:
    """Write summary.json, sites.csv, assignments.csv and recommendations.gpkg.

    Parameters
    ----------
    result
        A solved scenario.
    out_dir
        Folder to write to (created if missing).

    Returns
    -------
    paths
        The written files by name.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "summary": out / "summary.json",
        "sites": out / "sites.csv",
        "assignments": out / "assignments.csv",
        "gpkg": out / "recommendations.gpkg",
    }
    paths["summary"].write_text(
        json.dumps(summary_dict(result), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    site_table(result).to_csv(paths["sites"], index=False)
    assignment_table(result).to_csv(paths["assignments"], index=False)
    if paths["gpkg"].exists():
        paths["gpkg"].unlink()
    sites_geodataframe(result).to_file(paths["gpkg"], layer="sites", driver="GPKG")
    assignment_lines(result).to_file(paths["gpkg"], layer="assignments", driver="GPKG")
    return paths
