"""Data page: upload farms or candidate sites, see the validation report, keep and use them."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pydeck as pdk
import streamlit as st

from planner import deploy, io
from planner.errors import PlannerError
from planner.ui import cache, maps, state
from planner.ui.i18n import lang, md, num, t

ACCEPTED = ("csv", "txt", "tsv", "xlsx", "xlsm", "geojson", "json", "gpkg")
DEFAULT_MAX_MB = deploy.DEFAULT_MAX_UPLOAD_MB
DEFAULT_MAX_ROWS = 1_000_000
PREVIEW_ROWS = 200

FARM_TEMPLATE = pd.DataFrame(
    {
        "farm_id": ["F0001", "F0002"],
        "name": ["Example farm 1", "Пример хозяйства 2"],
        "lat": [53.2144, 51.1605],
        "lon": [63.6246, 71.4704],
        "oblast_iso": ["KZ-39", "KZ-11"],
        "tractors": [12, 4],
        "combines": [3, 1],
        "sown_area_ha": [5400.0, 1200.0],
        "belarus_tractors": [8, 2],
        "belarus_combines": [1, 0],
    }
)
SITE_TEMPLATE = pd.DataFrame(
    {
        "site_id": ["S001", "S002"],
        "name": ["Kostanay service centre", "Астана сервисный центр"],
        "lat": [53.2144, 51.1605],
        "lon": [63.6246, 71.4704],
        "oblast_iso": ["KZ-39", "KZ-71"],
        "role": ["existing", "candidate"],
        "capacity_hours": [400000, 250000],
        "fixed_cost_kzt": [0, 150000000],
    }
)


def _limits() -> tuple[int, int]:
    return (
        deploy.max_upload_mb(),
        state.env_int(state.ENV_MAX_ROWS, DEFAULT_MAX_ROWS),
    )


def check_file(kind: str, filename: str, content: bytes) -> dict[str, Any]:
    """Validate uploaded bytes; return a report dict (ok, rows, problems, warnings, table)."""
    max_mb, max_rows = _limits()
    size_mb = len(content) / 1e6
    if size_mb > max_mb:
        return {"ok": False, "problems": [t("too_big", mb=size_mb, limit=max_mb)], "rows": 0}
    suffix = Path(filename).suffix.lower()
    if suffix.lstrip(".") not in ACCEPTED:
        suffix = ".bin"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(content)
        limits = io.Limits(max_bytes=max_mb * 1024 * 1024, max_rows=max_rows)
        fn = io.validate_farms if kind == "farms" else io.validate_sites
        try:
            report = fn(path, limits=limits, name=filename)
        except PlannerError as exc:
            return {"ok": False, "problems": [str(exc)], "rows": 0}
        table = report.data if report.data is not None else pd.DataFrame()
        return {
            "ok": bool(report.ok),
            "rows": int(report.rows_read),
            "accepted": int(report.rows_accepted),
            "problems": [str(p) for p in report.problems],
            "warnings": [str(w) for w in report.warnings],
            "read_as": report.info.describe() if report.info is not None else "",
            "table": pd.DataFrame(table).drop(columns="geometry", errors="ignore"),
            "report": report.format(),
        }


def _report(kind: str, upload: Any) -> None:  # noqa: ANN401
    content = upload.getvalue()
    rep = check_file(kind, upload.name, content)
    if rep.get("read_as"):
        st.caption(md(rep["read_as"]))
    if rep["ok"]:
        st.success(t("valid", n=num(rep["rows"])))
    else:
        st.error(t("invalid", n=len(rep["problems"])))
        st.markdown("\n".join(f"- {md(p)}" for p in rep["problems"][:200]))
    for w in rep.get("warnings", [])[:50]:
        st.warning(md(w))
    table = rep.get("table")
    if table is not None and len(table):
        st.markdown(f"**{t('preview')}**")
        st.dataframe(table.head(PREVIEW_ROWS), hide_index=True, key=f"data_preview_{kind}")
        if {"lon", "lat"} <= set(table.columns):
            label_col = "name" if "name" in table.columns else table.columns[0]
            pts = maps.escape_columns(
                pd.DataFrame(
                    {
                        "lon": pd.to_numeric(table["lon"], errors="coerce"),
                        "lat": pd.to_numeric(table["lat"], errors="coerce"),
                        "label": table[label_col].astype(str),
                    }
                ).dropna(subset=["lon", "lat"]),
                ["label"],
            )
            layer = pdk.Layer(
                "ScatterplotLayer",
                data=pts.head(50_000),
                id=f"upload-{kind}",
                get_position=["lon", "lat"],
                get_radius=5000,
                radius_min_pixels=2,
                get_fill_color=[31, 95, 168, 200] if kind == "sites" else [200, 120, 20, 180],
                pickable=True,
            )
            st.pydeck_chart(
                maps.deck([*maps.context_layers(lang()), layer]),
                key=f"data_map_{kind}",
                height=380,
            )
    if rep["ok"]:
        keep_key = state.DATA_KEEP_FARMS if kind == "farms" else state.DATA_KEEP_SITES
        if st.button(t("keep"), key=keep_key, type="primary"):
            cache.workspace().add_upload(
                kind, upload.name, content, rep.get("report", f"{rep['rows']} rows")
            )
            st.success(t("kept"))


def _use(kind: str, upload_id: int, filename: str) -> None:
    key = state.SC_FARMS_SOURCE if kind == "farms" else state.SC_SITES_SOURCE
    st.session_state[key] = f"upload:{upload_id}"
    st.session_state["data_flash"] = t("used", name=filename)


def _uploads() -> None:
    ws = cache.workspace()
    ups = ws.list_uploads()
    st.subheader(t("uploads"))
    if not ups:
        st.caption("–")
        return
    for up in ups:
        c = st.columns([4, 2, 2, 1])
        kind = t(f"kind_{up.kind}") if up.kind in ("farms", "sites") else md(up.kind)
        c[0].markdown(f"**{md(up.filename)}** · {kind} · {num(up.size / 1024)} {t('kb')}")
        c[1].caption(up.created_at[:16])
        c[2].button(
            t("use"),
            key=f"{state.DATA_USE}_{up.id}",
            on_click=_use,
            args=(up.kind, up.id, up.filename),
        )
        c[3].button(
            t("delete"),
            key=f"{state.DATA_DELETE}_{up.id}",
            on_click=ws.delete_upload,
            args=(up.id,),
        )
    msg = st.session_state.pop("data_flash", None)
    if msg:
        st.success(md(msg))


def render() -> None:
    """Render the Data page."""
    st.title(t("data_title"))
    st.markdown(t("data_intro"))
    max_mb, max_rows = _limits()
    st.caption(t("upload_limits", mb=num(max_mb), rows=num(max_rows)))
    try:
        tab_f, tab_s = st.tabs([t("farms_file"), t("sites_file")])
        with tab_f:
            st.download_button(
                t("template"),
                FARM_TEMPLATE.to_csv(index=False).encode("utf-8-sig"),
                file_name="farms_template.csv",
                mime="text/csv",
                key=state.DATA_TEMPLATE_FARMS,
            )
            up = st.file_uploader(
                t("farms_file"),
                type=list(ACCEPTED),
                key=state.DATA_FARMS_FILE,
                max_upload_size=max_mb,
            )
            if up is not None:
                _report("farms", up)
        with tab_s:
            st.download_button(
                t("template"),
                SITE_TEMPLATE.to_csv(index=False).encode("utf-8-sig"),
                file_name="sites_template.csv",
                mime="text/csv",
                key=state.DATA_TEMPLATE_SITES,
            )
            up = st.file_uploader(
                t("sites_file"),
                type=list(ACCEPTED),
                key=state.DATA_SITES_FILE,
                max_upload_size=max_mb,
            )
            if up is not None:
                _report("sites", up)
        _uploads()
    except PlannerError as exc:
        st.error(md(str(exc)))
