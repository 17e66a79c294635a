"""A one-file HTML decision brief of a solved scenario (map image, KPIs, sites, assumptions).

The brief is self-contained (the map is an embedded base64 PNG drawn with matplotlib, no
scripts, no external links), follows the chosen language (English, Russian, Kazakh) for labels,
number formats and oblast names, and escapes every piece of user-supplied text (scenario, site
and farm names) so that a name such as ``<script>`` is shown, never run.

PDF is not produced: the maintained pure-Python options either need a browser engine or system
libraries (WeasyPrint needs Pango); printing the HTML brief to PDF from a browser gives a
faithful PDF.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from planner.geodata import load_country_outline, load_oblasts
from planner.i18n import format_number, format_share, name_column, text
from planner.tables import ResultTables, oblast_breakdown

if TYPE_CHECKING:
    import pandas as pd

LANGUAGES = ("en", "ru", "kk")

_KEYS: dict[str, str] = {
    "title": "brief_title",
    "scenario": "nav_scenario",
    "model": "sec_model",
    "status": "brief_status",
    "gap": "brief_gap",
    "map": "brief_map",
    "map_caption": "brief_map_caption",
    "kpis": "brief_kpis",
    "n_open_sites": "kpi_open",
    "mean_travel_km": "brief_mean_travel_km",
    "p95_travel_km": "brief_p95_travel_km",
    "mean_travel_time_min": "brief_mean_travel_time_min",
    "share_within_1h": "brief_share_within_1h",
    "share_within_2h": "brief_share_within_2h",
    "share_within_3h": "brief_share_within_3h",
    "covered_demand_share": "kpi_covered",
    "total_demand": "brief_total_demand",
    "n_unserved_farms": "brief_n_unserved_farms",
    "objective": "kpi_objective",
    "sites": "kpi_open",
    "col_site": "col_site",
    "col_id": "brief_col_id",
    "col_oblast": "col_oblast",
    "col_status": "status",
    "col_load": "d_load",
    "col_farms": "farms_source",
    "col_util": "d_util",
    "col_regret": "brief_col_regret",
    "assumptions": "brief_assumptions",
    "oblasts": "brief_oblasts",
    "col_machines": "net_outbound_machines",
    "col_mean_km": "brief_col_mean_km",
    "col_3h": "brief_col_3h",
    "generated": "brief_generated",
    "existing": "brief_existing",
    "open": "brief_open",
    "pdf_note": "brief_pdf_note",
}
"""The brief's labels: its key -> the key in the shared string table (planner/i18n)."""

_KPI_ROWS: tuple[tuple[str, str], ...] = (
    ("n_open_sites", "int"),
    ("mean_travel_km", "num1"),
    ("p95_travel_km", "num1"),
    ("mean_travel_time_min", "num0"),
    ("share_within_1h", "pct"),
    ("share_within_2h", "pct"),
    ("share_within_3h", "pct"),
    ("covered_demand_share", "pct"),
    ("total_demand", "num0"),
    ("n_unserved_farms", "int"),
)


def tr(key: str, lang: str) -> str:
    """Return the brief's text for ``key`` in ``lang`` (English when missing)."""
    return text(_KEYS[key], lang)


def _fmt(value: Any, kind: str, lang: str) -> str:  # noqa: ANN401
    if kind == "pct":
        return format_share(value, lang)
    if kind == "num1":
        return format_number(value, lang, 1)
    return format_number(value, lang, 0)


def map_png(tables: ResultTables, lang: str = "en", *, width_in: float = 9.0) -> bytes:
    """Draw the static map of a solution as PNG bytes.

    Parameters
    ----------
    tables
        Result tables.
    lang
        Language of the oblast labels.
    width_in
        Figure width in inches (100 dpi).

    Returns
    -------
    png
        The image.
    """
    fig = Figure(figsize=(width_in, width_in * 0.55), dpi=100)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
    outline = load_country_outline()
    polys = list(getattr(outline, "geoms", [outline]))
    for poly in polys:
        x, y = poly.exterior.xy
        ax.fill(x, y, color="#f3efe2", zorder=0)
        ax.plot(x, y, color="#555555", linewidth=1.0, zorder=1)
    farms = tables.farms
    if len(farms):
        ax.hexbin(
            farms["lon"].to_numpy(dtype=np.float64),
            farms["lat"].to_numpy(dtype=np.float64),
            C=farms["demand"].to_numpy(dtype=np.float64),
            reduce_C_function=np.sum,
            gridsize=60,
            cmap="YlOrBr",
            mincnt=1,
            bins="log",
            alpha=0.8,
            linewidths=0,
            zorder=2,
        )
    sites = tables.sites.loc[tables.sites["status"] != "closed"]
    if len(sites):
        load = sites["assigned_demand"].to_numpy(dtype=np.float64)
        size = 30 + 570 * np.sqrt(load / max(float(load.max()), 1e-9))
        colors = np.where(sites["status"].to_numpy() == "existing", "#c0392b", "#1f5fa8")
        ax.scatter(
            sites["lon"],
            sites["lat"],
            s=size,
            c=colors,
            alpha=0.8,
            edgecolors="white",
            linewidths=1.2,
            zorder=4,
        )
    oblasts = load_oblasts()
    col = name_column(lang)
    for _, row in oblasts.iterrows():
        ax.text(
            float(row["lon"]),
            float(row["lat"]),
            str(row[col]),
            fontsize=6.5,
            color="#333333",
            ha="center",
            va="bottom",
            zorder=5,
        )
    ax.set_xlim(46.0, 88.0)
    ax.set_ylim(40.3, 55.8)
    ax.set_aspect(1.45)
    ax.axis("off")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """HTML table; every cell is escaped here."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _site_rows(sites: pd.DataFrame, oblast_names: dict[str, str], lang: str) -> list[list[str]]:
    open_sites = sites.loc[sites["status"] != "closed"].sort_values(
        "assigned_demand", ascending=False
    )
    rows = []
    for _, s in open_sites.iterrows():
        status = tr("existing", lang) if s["status"] == "existing" else tr("open", lang)
        rows.append(
            [
                str(s["name"]),
                str(s["site_id"]),
                oblast_names.get(str(s["oblast_iso"]), str(s["oblast_iso"])),
                status,
                format_number(s["assigned_demand"], lang),
                format_number(s.get("n_farms"), lang),
                format_share(s.get("utilisation"), lang),
                format_number(s.get("regret"), lang),
            ]
        )
    return rows


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:2em auto;
max-width:1000px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:0}h2{font-size:1.2em;border-bottom:1px solid #ccc;
padding-bottom:.2em;margin-top:1.6em}.sub{color:#555;margin-top:.3em}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid #ddd;
padding:4px 6px;text-align:left}th{background:#f4f4f4}td:nth-child(n+5){text-align:right}
.kpis td:nth-child(2){text-align:right;font-weight:600}img{max-width:100%}
.note{color:#666;font-size:.85em}@media print{.note{display:none}}
"""


def brief_html(tables: ResultTables, *, lang: str = "en") -> str:
    """Return the decision brief as one self-contained HTML document.

    Parameters
    ----------
    tables
        Result tables (:func:`planner.export.result_tables` or a saved scenario).
    lang
        ``"en"``, ``"ru"`` or ``"kk"``.

    Returns
    -------
    html
        The document; user-supplied strings are escaped.
    """
    lang = lang if lang in LANGUAGES else "en"
    s = tables.summary
    esc = html.escape
    png = base64.b64encode(map_png(tables, lang)).decode("ascii")
    oblasts = load_oblasts()
    col = name_column(lang)
    oblast_names = dict(zip(oblasts["iso"].astype(str), oblasts[col].astype(str), strict=True))
    kpi_rows = [[tr(k, lang), _fmt(s.get(k), kind, lang)] for k, kind in _KPI_ROWS if k in s]
    kpi_rows.append(
        [
            tr("objective", lang),
            f"{format_number(s.get('objective'), lang)} {s.get('objective_unit', '')}",
        ]
    )
    site_headers = [
        tr(k, lang)
        for k in (
            "col_site",
            "col_id",
            "col_oblast",
            "col_status",
            "col_load",
            "col_farms",
            "col_util",
            "col_regret",
        )
    ]
    breakdown = oblast_breakdown(tables, lang)
    ob_rows = [
        [
            str(r["oblast"]),
            format_number(r["n_farms"], lang),
            format_number(r["machines"], lang),
            format_number(r["mean_travel_km"], lang, 1),
            format_share(r["share_within_3h"], lang),
            format_number(r["open_sites"], lang),
        ]
        for _, r in breakdown.iterrows()
    ]
    ob_headers = [
        tr(k, lang)
        for k in ("col_oblast", "col_farms", "col_machines", "col_mean_km", "col_3h", "sites")
    ]
    notes = "".join(f"<li>{esc(str(n))}</li>" for n in s.get("data_notes", []))
    title = str(s.get("title") or s.get("scenario") or "")
    gap = s.get("gap")
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(lang)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(tr('title', lang))}: {esc(str(s.get('scenario', '')))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{esc(tr('title', lang))}: {esc(title)}</h1>",
        f'<p class="sub">{esc(tr("scenario", lang))}: <b>{esc(str(s.get("scenario", "")))}</b>'
        f" · {esc(tr('model', lang))}: {esc(str(s.get('model', '')))}"
        f" · {esc(tr('status', lang))}: {esc(str(s.get('status', '')))}"
        f" · {esc(tr('gap', lang))}: {esc(format_share(gap, lang, 2))}</p>",
        f"<h2>{esc(tr('map', lang))}</h2>",
        f'<img alt="{esc(tr("map", lang))}" src="data:image/png;base64,{png}">',
        f'<p class="note">{esc(tr("map_caption", lang))}</p>',
        f"<h2>{esc(tr('kpis', lang))}</h2>",
        '<div class="kpis">' + _table(["", ""], kpi_rows) + "</div>",
        f"<h2>{esc(tr('sites', lang))}</h2>",
        _table(site_headers, _site_rows(tables.sites, oblast_names, lang)),
        f"<h2>{esc(tr('oblasts', lang))}</h2>",
        _table(ob_headers, ob_rows),
        f"<h2>{esc(tr('assumptions', lang))}</h2>",
        f"<ul>{notes}</ul>",
        f'<p class="note">{esc(tr("generated", lang))} {esc(str(s.get("planner_version", "")))}'
        f". {esc(tr('pdf_note', lang))}</p>",
        "</body></html>",
    ]
    return "\n".join(parts)
