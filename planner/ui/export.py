"""Export page: the files of ``planner solve`` for a saved scenario or the current run."""

from __future__ import annotations

import base64
import io
import tempfile
import zipfile
from pathlib import Path

import streamlit as st

from planner import export as export_lib
from planner.errors import PlannerError
from planner.ui import cache, state
from planner.ui.i18n import lang, md, t

CURRENT = "__current__"
MIME = {
    ".json": "application/json",
    ".csv": "text/csv",
    ".gpkg": "application/geopackage+sqlite3",
    ".geojson": "application/geo+json",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".html": "text/html",
    ".toml": "application/toml",
    ".zip": "application/zip",
}


def build_files(tables: export_lib.ResultTables, language: str) -> dict[str, bytes]:
    """Write every output file to a temporary folder and return their bytes by file name."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = export_lib.write_tables(tables, tmp, lang=language)
        files = {p.name: p.read_bytes() for p in paths.values()}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    files["all.zip"] = buf.getvalue()
    return files


def _choices() -> dict[str, str]:
    out: dict[str, str] = {}
    if st.session_state.get(state.SC_RESULT) is not None:
        out[CURRENT] = t("exp_current")
    for rec in cache.workspace().list_scenarios():
        if rec.has_results:
            out[rec.name] = rec.name
    return out


def _tables(choice: str) -> export_lib.ResultTables | None:
    if choice == CURRENT:
        result = st.session_state.get(state.SC_RESULT)
        return None if result is None else result["tables"]
    return cache.stored_tables(choice)


def render() -> None:
    """Render the Export page."""
    st.title(t("export_title"))
    try:
        choices = _choices()
        if not choices:
            st.info(t("exp_need"))
            return
        if st.session_state.get(state.EXP_SCENARIO) not in choices:
            st.session_state[state.EXP_SCENARIO] = next(iter(choices))
        choice = st.selectbox(
            t("exp_pick"), list(choices), format_func=choices.__getitem__, key=state.EXP_SCENARIO
        )
        st.caption(t("exp_same"))
        tables = _tables(choice)
        if tables is None:
            st.info(t("exp_need"))
            return
        files_key = (choice, tables.summary.get("objective"), lang())
        prepared = st.session_state.get(state.EXP_FILES)
        if st.button(t("exp_prepare"), key=state.EXP_PREPARE, type="primary"):
            with st.spinner("…"):
                prepared = {"key": files_key, "files": build_files(tables, lang())}
            st.session_state[state.EXP_FILES] = prepared
        if prepared is None or prepared["key"] != files_key:
            return
        files: dict[str, bytes] = prepared["files"]
        stem = export_lib.safe_filename(str(tables.summary.get("scenario", "scenario")))
        cols = st.columns(3)
        for i, name in enumerate(sorted(files, key=lambda n: (n == "all.zip", n))):
            label = t("exp_all") if name == "all.zip" else name
            cols[i % 3].download_button(
                label,
                files[name],
                file_name=f"{stem}_{name}",
                mime=MIME.get(Path(name).suffix, "application/octet-stream"),
                key=f"exp_dl_{name}",
                type="primary" if name in ("all.zip", "brief.html") else "secondary",
            )
        with st.expander(t("brief_preview")):
            # A data: URL gives the iframe an opaque origin: no access to the app, even if the
            # (escaped, script-free) brief held something unexpected.
            b64 = base64.b64encode(files["brief.html"]).decode("ascii")
            st.iframe(f"data:text/html;base64,{b64}", height=700)
    except PlannerError as exc:
        st.error(md(str(exc)))
