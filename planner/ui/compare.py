"""Compare page: 2–4 saved scenarios side by side, and the centres-vs-service trade-off curve."""

from __future__ import annotations

import tomllib
from typing import cast

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from planner import scenarios
from planner.errors import PlannerError
from planner.export import ResultTables
from planner.sweep import SWEEP_KINDS
from planner.ui import cache, solving, state, views
from planner.ui.i18n import md, num, t

MAX_COMPARE = 4


def kpi_table(named: dict[str, ResultTables]) -> pd.DataFrame:
    """KPI rows x scenario columns, with Δ columns against the first (baseline) scenario."""
    names = list(named)
    base = named[names[0]].summary
    rows = []
    for key, label, kind in views.KPI_KEYS:
        row: dict[str, str] = {t("col_kpi"): t(label)}
        for name in names:
            value = named[name].summary.get(key)
            row[name] = views.fmt_kpi(value, kind)
            if name != names[0]:
                try:
                    delta = float(value) - float(base.get(key))  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    row[f"Δ {name}"] = "–"
                    continue
                sign = "+" if delta > 0 else ""
                shown = views.fmt_kpi(
                    delta * 100 if kind == "pct" else delta, "int" if kind == "int" else "num1"
                )
                row[f"Δ {name}"] = f"{sign}{shown}" + (f" {t('pp')}" if kind == "pct" else "")
        rows.append(row)
    return pd.DataFrame(rows)


def open_sets(named: dict[str, ResultTables]) -> dict[str, set[str]]:
    """Open site ids per scenario."""
    return {
        n: set(tb.sites.loc[tb.sites["status"] != "closed", "site_id"].astype(str))
        for n, tb in named.items()
    }


def diff_table(named: dict[str, ResultTables]) -> pd.DataFrame:
    """Sites open in some but not all of the scenarios (✓ where open)."""
    sets = open_sets(named)
    union = set().union(*sets.values())
    common = set.intersection(*sets.values())
    differ = sorted(union - common)
    names: dict[str, str] = {}
    for tb in named.values():
        names.update(
            zip(tb.sites["site_id"].astype(str), tb.sites["name"].astype(str), strict=True)
        )
    return pd.DataFrame(
        {
            t("col_site"): [names.get(s, s) for s in differ],
            "ID": differ,
            **{n: ["✓" if s in sets[n] else "" for s in differ] for n in named},
        }
    )


def _sweep() -> None:
    st.subheader(t("sweep_title"))
    st.caption(t("sweep_note"))
    ws = cache.workspace()
    eligible = []
    for rec in ws.list_scenarios():
        kind = tomllib.loads(rec.toml).get("model", {}).get("kind")
        if kind in SWEEP_KINDS:
            eligible.append(rec.name)
    if not eligible:
        st.caption(t("cmp_need"))
        return
    if st.session_state.get(state.CMP_SWEEP_BASE) not in eligible:
        st.session_state[state.CMP_SWEEP_BASE] = eligible[0]
    st.session_state.setdefault(state.CMP_SWEEP_RANGE, (2, 16))
    c = st.columns([3, 3, 1])
    base = c[0].selectbox(t("sweep_base"), eligible, key=state.CMP_SWEEP_BASE)
    # A range slider (its session value is a pair) returns a pair; the stubs say int.
    lo, hi = cast(
        "tuple[int, int]", c[1].slider(t("sweep_range"), 1, 40, key=state.CMP_SWEEP_RANGE)
    )
    run = c[2].button(t("sweep_run"), key=state.CMP_SWEEP_RUN, type="primary")
    key = (base, lo, hi, ws.get(base).updated_at)
    if run:
        scenario = ws.load_scenario(base)
        with st.spinner(t("sweep_run") + " …"):
            points = solving.sweep(
                scenarios.scenario_to_toml(scenario), tuple(range(lo, hi + 1)), 3.0
            )
        st.session_state[state.CMP_SWEEP_RESULT] = {"key": key, "points": points}
    got = st.session_state.get(state.CMP_SWEEP_RESULT)
    if got is None or got["key"] != key:
        return
    pts = [p for p in got["points"] if p.kpis]
    fig = go.Figure()
    for k, label in (
        ("share_within_1h", "kpi_1h"),
        ("share_within_2h", "kpi_2h"),
        ("share_within_3h", "kpi_3h"),
    ):
        fig.add_scatter(
            x=[p.p for p in pts],
            y=[100 * p.kpis.get(k, float("nan")) for p in pts],
            mode="lines+markers",
            name=t(label),
        )
    fig.add_scatter(
        x=[p.p for p in pts],
        y=[p.kpis.get("mean_travel_km") for p in pts],
        mode="lines+markers",
        name=t("kpi_mean"),
        yaxis="y2",
        line={"dash": "dot"},
    )
    fig.update_layout(
        height=420,
        xaxis_title=t("p"),
        yaxis={"title": "%", "range": [0, 100]},
        yaxis2={"title": t("kpi_mean"), "overlaying": "y", "side": "right"},
        legend={"orientation": "h"},
        margin={"l": 0, "r": 0, "t": 20, "b": 0},
    )
    st.plotly_chart(fig, key="cmp_sweep_chart")
    failed = [p for p in got["points"] if not p.kpis]
    for p in failed:
        st.warning(f"p = {p.p}: {md(p.message)}")


def render() -> None:
    """Render the Compare page."""
    st.title(t("compare_title"))
    try:
        ws = cache.workspace()
        solved = [r.name for r in ws.list_scenarios() if r.has_results]
        if len(solved) < 2:  # noqa: PLR2004
            st.info(t("cmp_need"))
        else:
            current = [n for n in st.session_state.get(state.CMP_SELECTED, []) if n in solved]
            st.session_state[state.CMP_SELECTED] = current or solved[:2]
            chosen = st.multiselect(
                t("cmp_pick"), solved, key=state.CMP_SELECTED, max_selections=MAX_COMPARE
            )
            if len(chosen) >= 2:  # noqa: PLR2004
                named = {n: cache.stored_tables(n) for n in chosen}
                named_ok = {n: tb for n, tb in named.items() if tb is not None}
                st.subheader(t("cmp_kpis"))
                st.dataframe(kpi_table(named_ok), hide_index=True, key="cmp_kpi_table")
                st.subheader(t("cmp_maps"))
                sets = open_sets(named_ok)
                base = sets[chosen[0]]
                cols = st.columns(len(named_ok))
                for i, (name, tb) in enumerate(named_ok.items()):
                    with cols[i]:
                        suffix = f" ({t('baseline')})" if i == 0 else ""
                        st.markdown(f"**{md(name)}**{suffix}")
                        views.result_map(
                            tb,
                            key=f"cmp_map_{i}",
                            mode="catchments",
                            base_open=None if i == 0 else base,
                            height=380,
                            zoom=3.3 - 0.4 * (len(named_ok) - 1),
                        )
                        st.caption(
                            f"{t('kpi_open')}: {num(len(sets[name]))} · "
                            f"{t('kpi_3h')}: "
                            f"{views.fmt_kpi(tb.summary.get('share_within_3h'), 'pct')}"
                        )
                st.subheader(t("cmp_diff"))
                diff = diff_table(named_ok)
                if diff.empty:
                    st.caption(t("cmp_same"))
                else:
                    st.dataframe(diff, hide_index=True, key="cmp_diff_table")
        st.divider()
        _sweep()
    except PlannerError as exc:
        st.error(md(str(exc)))
