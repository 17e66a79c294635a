"""Renderers shared by the Scenario, Compare and Export pages (results from ResultTables)."""

from __future__ import annotations

import tomllib
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from planner.export import ResultTables
from planner.ui import cache, maps
from planner.ui.i18n import lang, md, name_column, num, pct, t

KPI_KEYS: tuple[tuple[str, str, str], ...] = (
    ("n_open_sites", "kpi_open", "int"),
    ("mean_travel_km", "kpi_mean", "num1"),
    ("p95_travel_km", "kpi_p95", "num1"),
    ("mean_travel_time_min", "kpi_time", "num0"),
    ("share_within_1h", "kpi_1h", "pct"),
    ("share_within_2h", "kpi_2h", "pct"),
    ("share_within_3h", "kpi_3h", "pct"),
    ("covered_demand_share", "kpi_covered", "pct"),
    ("n_unserved_farms", "kpi_unserved", "int"),
)


def fmt_kpi(value: Any, kind: str) -> str:  # noqa: ANN401
    """Format one KPI value for display."""
    if kind == "pct":
        return pct(value)
    if kind == "num1":
        return num(value, 1)
    return num(value)


def kpi_metrics(summary: dict[str, Any]) -> None:
    """KPI metric tiles (two rows)."""
    cols = st.columns(5)
    for i, (k, label, kind) in enumerate(KPI_KEYS[:5]):
        cols[i].metric(t(label), fmt_kpi(summary.get(k), kind))
    cols = st.columns(5)
    for i, (k, label, kind) in enumerate(KPI_KEYS[5:]):
        cols[i].metric(t(label), fmt_kpi(summary.get(k), kind))
    cols[4].metric(
        t("kpi_objective"),
        num(summary.get("objective")),
        help=str(summary.get("objective_unit", "")),
    )


def map_labels() -> dict[str, str]:
    """Return the translated words used inside (escaped) map tooltips."""
    return {"load": t("d_load"), "farms": t("d_farms"), "closed": t("closed")}


def radius_km(summary: dict[str, Any], scenario_toml: str) -> float | None:
    """Service radius in km of a coverage scenario (for 'uncovered' farms), else None."""
    raw = tomllib.loads(scenario_toml)
    model = raw.get("model", {})
    if model.get("kind") not in ("mclp", "set_cover"):
        return None
    speed = float(raw.get("travel", {}).get("speed_kmh", 60.0))
    if "service_radius_km" in model:
        return float(model["service_radius_km"])
    if "service_time_min" in model:
        return float(model["service_time_min"]) / 60.0 * speed
    del summary
    return None


def result_map(
    tables: ResultTables,
    key: str,
    *,
    mode: str = "lines",
    base_open: set[str] | None = None,
    height: int = 520,
    zoom: float | None = None,
) -> None:
    """Solution map: context, catchments or lines, uncovered farms, open sites by load."""
    layers = maps.context_layers(_lang())
    layers.extend(
        maps.result_layers(
            tables,
            map_labels(),
            mode=mode,
            base_open=base_open,
            radius_km=radius_km(tables.summary, tables.scenario_toml),
        )
    )
    st.pydeck_chart(maps.deck(layers, zoom=zoom), key=key, height=height)


def _lang() -> str:
    return lang()


def open_site_table(tables: ResultTables) -> pd.DataFrame:
    """Open sites with translated headers (names are data; Streamlit tables render text)."""
    s = tables.sites.loc[tables.sites["status"] != "closed"].sort_values(
        "assigned_demand", ascending=False
    )
    oblasts = cache.oblasts()
    names = dict(zip(oblasts["iso"], oblasts[name_column()], strict=True))
    return pd.DataFrame(
        {
            t("col_site"): s["name"].astype(str),
            "ID": s["site_id"].astype(str),
            t("col_oblast"): s["oblast_iso"].map(names).fillna(s["oblast_iso"]),
            t("col_status"): s["status"].map({"existing": t("facilities"), "open": t("opened")}),
            t("col_load"): s["assigned_demand"].round(0),
            t("col_farms"): s.get("n_farms", pd.Series(np.nan, index=s.index)),
            t("col_util"): (s["utilisation"] * 100).round(1),
            t("col_regret"): s.get("regret", pd.Series(np.nan, index=s.index)).round(0),
        }
    )


def dossier(tables: ResultTables, key: str) -> None:
    """Per-site dossier: machines served, farms, load, utilisation, regret, travel, oblasts."""
    s = tables.sites.loc[tables.sites["status"] != "closed"].sort_values(
        "assigned_demand", ascending=False
    )
    if s.empty:
        return
    labels = dict(zip(s["site_id"].astype(str), s["name"].astype(str), strict=True))
    site_id = st.selectbox(
        t("dossier"),
        list(labels),
        format_func=lambda i: f"{labels[i]} ({i})",
        key=key,
    )
    if site_id is None:
        return  # type: ignore[unreachable]
    row = s.loc[s["site_id"] == site_id].iloc[0]
    a = tables.assignments.loc[tables.assignments["site_id"] == site_id]
    farms = tables.farms.set_index("farm_id")
    machines = float((farms.loc[a["farm_id"], "machines"].to_numpy() * a["share"].to_numpy()).sum())
    c = st.columns(4)
    c[0].metric(t("d_machines"), num(machines))
    c[1].metric(t("d_farms"), num(len(a)))
    c[2].metric(t("d_load"), num(row["assigned_demand"]))
    c[3].metric(t("d_util"), pct(row.get("utilisation")))
    c = st.columns(4)
    c[0].metric(t("d_regret"), num(row.get("regret")))
    w = a["demand"].to_numpy(dtype=np.float64)
    mean_km = float(np.average(a["travel_km"], weights=w)) if w.sum() > 0 else float("nan")
    c[1].metric(t("d_mean"), num(mean_km, 1))
    c[2].metric(t("d_max"), num(a["travel_km"].max() if len(a) else float("nan"), 1))
    obl = farms.loc[a["farm_id"], "oblast_iso"].value_counts()
    oblasts = cache.oblasts()
    names = dict(zip(oblasts["iso"], oblasts[name_column()], strict=True))
    c[3].markdown(
        f"**{t('d_oblasts')}**  \n"
        + ", ".join(f"{md(names.get(i, i))} ({n})" for i, n in obl.head(5).items())
    )


def data_notes(summary: dict[str, Any]) -> None:
    """Assumptions and data notes as an escaped list."""
    notes = summary.get("data_notes") or []
    if notes:
        with st.expander(t("data_notes")):
            st.markdown("\n".join(f"- {md(n)}" for n in notes))
