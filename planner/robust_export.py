"""Files of a robustness run (``planner robust``): JSON, CSV tables, GeoPackage, HTML brief.

Written to the run's folder, next to its store ``robust.sqlite`` (all CSV with a header, UTF-8):

* ``robust.json`` -- scenario, model, samples, reused_samples, workers, engine, criterion
  (``minmax_regret``), recommended_network, recommended_sites, best_expected_network,
  parameters, sensitivity, runtime_s, data_notes;
* ``samples.csv`` -- sample_id, one column per uncertain parameter, network_id (the future's
  own optimum), objective, bound, gap (as a cost to minimise), status;
* ``networks.csv`` -- network_id, sites (ids separated by spaces), n_sites, from_samples,
  max_regret, mean_cost;
* ``regret_matrix.csv`` -- network_id, sample_id, cost, regret (every network x future);
* ``site_frequency.csv`` -- site_id, name, lat, lon, frequency, in_recommended;
* ``robust.gpkg`` -- layers ``sites`` (every site of a network, with its frequency) and
  ``recommended`` (the recommended network's sites);
* ``robust_brief.html`` -- the robustness section of the decision brief.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.i18n import format_number, format_share, text
from planner.robust import RobustAnalysis, RobustRun
from planner.scenarios import Scenario
from planner.uncertainty import INTEGER_PATHS

ROBUST_FILES: tuple[str, ...] = (
    "robust.json",
    "samples.csv",
    "networks.csv",
    "regret_matrix.csv",
    "site_frequency.csv",
    "robust.gpkg",
    "robust_brief.html",
)
_NOTES = (
    "regret = a network's cost in a future minus the best cost of any network found in that "
    "future; each future's own optimum is priced with the solve's cost model",
    "costs are the model objective as minimised (maximal coverage: demand left uncovered)",
    "sensitivity: PAWN indices (SALib): median Kolmogorov-Smirnov distance between the "
    "output's distribution within slices of a parameter and overall (0 = no influence); "
    "output `choice` = 1 - Jaccard similarity of a future's optimal sites with the "
    "recommended network",
)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def robust_summary(scenario: Scenario, run: RobustRun, analysis: RobustAnalysis) -> dict[str, Any]:
    """Return the content of ``robust.json`` (plain JSON types, ``null`` for non-finite).

    Parameters
    ----------
    scenario
        The run's scenario.
    run
        What the run did (samples, reuse, workers, time).
    analysis
        Its results.

    Returns
    -------
    summary
        The document.
    """
    a = analysis
    max_regret = np.where(np.isfinite(a.regret), a.regret, np.inf).max(axis=1)
    return {
        "scenario": scenario.name,
        "model": scenario.model.kind,
        "samples": run.samples,
        "solved_samples": len(a.sample_ids),
        "reused_samples": run.reused_samples,
        "workers": run.workers,
        "engine": run.engine,
        "criterion": "minmax_regret",
        "recommended_network": a.recommended,
        "recommended_sites": list(a.network_sites[a.recommended]),
        "recommended_max_regret": _finite(max_regret[a.network_ids.index(a.recommended)]),
        "best_expected_network": a.best_expected,
        "best_expected_sites": list(a.network_sites[a.best_expected]),
        "n_networks": len(a.network_ids),
        "parameters": list(a.parameters),
        "uncertainty": [
            {
                "parameter": p.path,
                "distribution": p.distribution,
                "low": p.low,
                "high": p.high,
                "reason": p.reason,
            }
            for p in scenario.uncertainty.parameters
        ],
        "sensitivity": a.sensitivity,
        "runtime_s": round(run.runtime_s, 3),
        "cancelled": run.cancelled,
        "data_notes": list(_NOTES),
    }


def robust_tables(analysis: RobustAnalysis) -> dict[str, pd.DataFrame]:
    """Return the CSV tables: samples, networks, regret_matrix, site_frequency."""
    a = analysis
    samples = pd.DataFrame(
        {"sample_id": list(a.sample_ids)}
        | {
            p: a.param_values[:, j].astype(np.int64) if p in INTEGER_PATHS else a.param_values[:, j]
            for j, p in enumerate(a.parameters)
        }
        | {
            "network_id": [a.own[i]["network_id"] for i in a.sample_ids],
            "objective": [a.own[i]["cost"] for i in a.sample_ids],
            "bound": [a.own[i]["cost_bound"] for i in a.sample_ids],
            "gap": [a.own[i]["gap"] for i in a.sample_ids],
            "status": [a.own[i]["status"] for i in a.sample_ids],
        }
    )
    finite_cost = np.where(np.isfinite(a.cost), a.cost, np.inf)
    networks = pd.DataFrame(
        {
            "network_id": list(a.network_ids),
            "sites": [" ".join(a.network_sites[n]) for n in a.network_ids],
            "n_sites": [len(a.network_sites[n]) for n in a.network_ids],
            "from_samples": [" ".join(map(str, a.from_samples[n])) for n in a.network_ids],
            "max_regret": np.where(np.isfinite(a.regret), a.regret, np.inf).max(axis=1),
            "mean_cost": finite_cost.mean(axis=1),
        }
    )
    regret = pd.DataFrame(
        {
            "network_id": np.repeat(list(a.network_ids), len(a.sample_ids)),
            "sample_id": np.tile(list(a.sample_ids), len(a.network_ids)),
            "cost": a.cost.ravel(),
            "regret": a.regret.ravel(),
        }
    )
    recommended = set(a.network_sites[a.recommended])
    sites = sorted(set(a.site_frequency) | recommended)
    info = a.site_info
    freq = pd.DataFrame(
        {
            "site_id": sites,
            "name": [info.get(s, (s, math.nan, math.nan))[0] for s in sites],
            "lat": [info.get(s, (s, math.nan, math.nan))[1] for s in sites],
            "lon": [info.get(s, (s, math.nan, math.nan))[2] for s in sites],
            "frequency": [a.site_frequency.get(s, 0.0) for s in sites],
            "in_recommended": [s in recommended for s in sites],
        }
    ).sort_values(["frequency", "site_id"], ascending=[False, True], ignore_index=True)
    return {"samples": samples, "networks": networks, "regret_matrix": regret,
            "site_frequency": freq}  # fmt: skip


def robust_brief_html(summary: dict[str, Any], tables: dict[str, pd.DataFrame], lang: str) -> str:
    """Return the robustness section of the decision brief as a self-contained HTML page.

    Parameters
    ----------
    summary
        :func:`robust_summary`.
    tables
        :func:`robust_tables`.
    lang
        ``en``, ``ru`` or ``kk``.

    Returns
    -------
    page
        HTML (every user-supplied text escaped).
    """
    esc = html.escape
    freq = tables["site_frequency"]
    nets = tables["networks"]

    def table(headers: list[str], rows: list[list[str]]) -> str:
        head = "".join(f"<th>{esc(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    site_rows = [
        [esc(str(r.name)), esc(str(r.site_id)), format_share(r.frequency, lang),
         "&#10003;" if r.in_recommended else ""]
        for r in freq.itertuples()
    ]  # fmt: skip
    net_rows = [
        [esc(str(r.network_id)) + (" &#9733;" if r.network_id == summary["recommended_network"]
                                   else ""),
         str(r.n_sites), format_number(r.max_regret, lang), format_number(r.mean_cost, lang),
         esc(str(r.from_samples))]
        for r in nets.sort_values("max_regret").head(10).itertuples()
    ]  # fmt: skip
    sens_rows = [
        [esc(s["parameter"]), esc(s["output"]),
         "" if s["index"] is None else f"{s['index']:.2f}"]
        for s in summary["sensitivity"]
    ]  # fmt: skip
    ranges = [
        [esc(u["parameter"]), esc(u["distribution"]), f"{u['low']:g} - {u['high']:g}",
         esc(u["reason"])]
        for u in summary["uncertainty"]
    ]  # fmt: skip

    def t(key: str) -> str:
        return esc(text(key, lang))

    return f"""<!doctype html>
<html lang="{esc(lang)}"><head><meta charset="utf-8">
<title>{t("robust_title")}: {esc(summary["scenario"])}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px}}</style>
</head><body>
<h1>{t("robust_title")}: {esc(summary["scenario"])}</h1>
<p>{
        t("robust_summary_line").format(
            samples=summary["solved_samples"],
            networks=summary["n_networks"],
            recommended=esc(summary["recommended_network"]),
        )
    }</p>
<p><b>{t("robust_recommended")}</b>: {esc(", ".join(summary["recommended_sites"]))}<br>
<b>{t("robust_best_expected")}</b>: {esc(summary["best_expected_network"])}</p>
<h2>{t("robust_frequency")}</h2>
{
        table(
            [
                text("col_site", lang),
                "id",
                text("robust_frequency", lang),
                text("robust_recommended", lang),
            ],
            site_rows,
        )
    }
<h2>{t("robust_networks")}</h2>
{
        table(
            [
                "id",
                "n",
                text("robust_max_regret", lang),
                text("robust_mean_cost", lang),
                text("robust_from_samples", lang),
            ],
            net_rows,
        )
    }
<h2>{t("robust_sensitivity")}</h2>
{table([text("robust_parameter", lang), text("robust_output", lang), "PAWN"], sens_rows)}
<h2>{t("robust_ranges")}</h2>
{table([text("robust_parameter", lang), "", "", ""], ranges)}
<p>{"<br>".join(esc(n) for n in summary["data_notes"])}</p>
</body></html>
"""


def write_robust_outputs(
    scenario: Scenario,
    run: RobustRun,
    analysis: RobustAnalysis,
    out_dir: str | Path,
    *,
    lang: str = "en",
) -> dict[str, Path]:
    """Write every file of a robustness run (see the module docstring).

    Parameters
    ----------
    scenario
        The run's scenario.
    run
        What the run did.
    analysis
        Its results (:func:`planner.robust.analyse`).
    out_dir
        Output folder.
    lang
        Language of the brief.

    Returns
    -------
    paths
        The written files by name.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = robust_summary(scenario, run, analysis)
    tables = robust_tables(analysis)
    paths = {name: out / name for name in ROBUST_FILES}
    paths["robust.json"].write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False), encoding="utf-8"
    )
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False, encoding="utf-8")
    freq = tables["site_frequency"]
    points = gpd.GeoDataFrame(
        freq, geometry=gpd.points_from_xy(freq["lon"], freq["lat"]), crs="EPSG:4326"
    )
    gpkg = paths["robust.gpkg"]
    gpkg.unlink(missing_ok=True)
    points.to_file(gpkg, layer="sites", driver="GPKG")
    points.loc[points["in_recommended"]].to_file(gpkg, layer="recommended", driver="GPKG")
    paths["robust_brief.html"].write_text(
        robust_brief_html(summary, tables, lang), encoding="utf-8"
    )
    return paths
