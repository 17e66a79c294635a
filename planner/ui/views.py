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
    """KPI metric tiles: two rows of five columns (the objective has its own tile).

    Five columns keep every label and value whole at 1280 px in all three languages; the
    objective, whose value and unit are long, is drawn by :func:`objective_metric` in a
    wider column.
    """
    for row in (KPI_KEYS[:5], KPI_KEYS[5:]):
        cols = st.columns(5)
        for col, (k, label, kind) in zip(cols, row, strict=False):
            col.metric(t(label), fmt_kpi(summary.get(k), kind))


def objective_kind(summary: dict[str, Any], scenario_toml: str) -> str:
    """Which objective a result has: the suffix of its ``obj_*`` and ``objh_*`` strings.

    Parameters
    ----------
    summary
        The result's ``summary.json`` content.
    scenario_toml
        The scenario as TOML text (travel unit, fixed costs).

    Returns
    -------
    kind
        ``p_median_km``, ``p_median_min``, ``cflp``, ``mclp``, ``set_cover_sites``,
        ``set_cover_kzt``, ``p_center_km``, ``p_center_min``, ``two_echelon_cost`` or
        ``two_echelon_service_level``.
    """
    model = str(summary.get("model", ""))
    if model == "two_echelon":
        mode = str(summary.get("objective_mode") or "cost")
        return f"two_echelon_{mode if mode == 'service_level' else 'cost'}"
    raw = tomllib.loads(scenario_toml) if scenario_toml else {}
    minutes = raw.get("travel", {}).get("unit", "km") != "km"
    if model in ("p_median", "p_center"):
        return f"{model}_{'min' if minutes else 'km'}"
    if model == "set_cover":
        sites = raw.get("sites", {})
        fixed = float(sites.get("fixed_cost_kzt", 0)) + float(
            sites.get("existing_fixed_cost_kzt", 0)
        )
        return "set_cover_kzt" if fixed > 0 else "set_cover_sites"
    return model if model in ("cflp", "mclp") else "p_median_km"


def objective_label(kind: str) -> str:
    """Label of the objective tile: what the objective is and its unit."""
    return t("kpi_objective_unit", unit=t(f"obj_{kind}"))


def objective_metric(summary: dict[str, Any], scenario_toml: str) -> None:
    """Draw the objective tile: its unit in the label, what it measures in the tooltip."""
    kind = objective_kind(summary, scenario_toml)
    value = summary.get("objective")
    shown = num(value)
    if kind == "two_echelon_cost":  # billions of KZT, two decimals
        shown = num(float(value) / 1e9, 2) if value is not None else num(None)
    st.metric(objective_label(kind), shown, help=t(f"objh_{kind}"))


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
    result = maps.result_layers(
        tables,
        map_labels(),
        mode=mode,
        base_open=base_open,
        radius_km=radius_km(tables.summary, tables.scenario_toml),
    )
    # the oblast labels keep clear of the open-site markers
    markers = maps.site_tooltip_frame(tables.sites, map_labels())
    layers = maps.context_layers(_lang(), avoid=markers, zoom=zoom, under_labels=result)
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


def dossier_table(tables: ResultTables, site_id: str) -> pd.DataFrame:
    """Figures of one open site as rows of (figure, value with its unit), translated.

    Parameters
    ----------
    tables
        A solved scenario.
    site_id
        An open site of ``tables``.

    Returns
    -------
    table
        Columns ``figure`` and ``value`` (the whole number and its unit).
    """
    row = tables.sites.loc[tables.sites["site_id"].astype(str) == site_id].iloc[0]
    a = tables.assignments.loc[tables.assignments["site_id"].astype(str) == site_id]
    farms = tables.farms.set_index("farm_id")
    machines = float((farms.loc[a["farm_id"], "machines"].to_numpy() * a["share"].to_numpy()).sum())
    w = a["demand"].to_numpy(dtype=np.float64)
    mean_km = float(np.average(a["travel_km"], weights=w)) if w.sum() > 0 else float("nan")
    max_km = float(a["travel_km"].max()) if len(a) else float("nan")
    obl = farms.loc[a["farm_id"], "oblast_iso"].value_counts()
    oblasts = cache.oblasts()
    names = dict(zip(oblasts["iso"], oblasts[name_column()], strict=True))
    obj_unit = t(f"obj_{objective_kind(tables.summary, tables.scenario_toml)}")
    rows = [
        (t("d_machines"), f"{num(machines)} {t('u_machines')}"),
        (t("d_farms"), f"{num(len(a))} {t('u_farms')}"),
        (t("dl_load"), f"{num(row['assigned_demand'])} {t('u_service_h_yr')}"),
        (t("d_util"), pct(row.get("utilisation"))),
        (t("d_regret"), _with_unit(num(row.get("regret")), obj_unit)),
        (t("dl_mean"), _with_unit(num(mean_km, 1), t("u_km"))),
        (t("dl_max"), _with_unit(num(max_km, 1), t("u_km"))),
        (
            t("dl_oblasts"),
            ", ".join(f"{names.get(i, i)} ({num(n)})" for i, n in obl.head(5).items()),
        ),
    ]
    return pd.DataFrame(rows, columns=["figure", "value"])


def _with_unit(value: str, unit: str) -> str:
    """``value unit``, or the bare dash of a missing value."""
    return value if value == "–" else f"{value} {unit}"


def dossier(tables: ResultTables, key: str) -> None:
    """Per-site dossier: a compact table of whole numbers with their units.

    A table, not metric tiles: a narrow column cuts long metric values short ("17,…").
    """
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
    table = dossier_table(tables, str(site_id))
    with st.container(key=f"{key}_table"):
        st.table(table, hide_index=True, hide_header=True, border="horizontal")


def data_notes(summary: dict[str, Any]) -> None:
    """Assumptions and data notes as an escaped list."""
    notes = summary.get("data_notes") or []
    if notes:
        with st.expander(t("data_notes")):
            st.markdown("\n".join(f"- {md(n)}" for n in notes))
