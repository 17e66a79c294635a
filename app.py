"""Streamlit entry point: ``streamlit run app.py`` (or ``planner app``).

Thin by design: page set-up, the language switch and navigation; every page lives in
``planner/ui/``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from planner.ui import state
from planner.ui.i18n import LANGUAGES, t

st.session_state.setdefault(state.LANG, "en")
st.set_page_config(page_title=t("app_title"), page_icon=":tractor:", layout="wide")
state.keep_widget_values()
with st.sidebar:
    st.selectbox(
        "Language · Язык · Тіл",
        list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        key=state.LANG,
    )

PAGES = Path(__file__).resolve().parent / "planner" / "ui" / "pages"
pages = [
    st.Page(
        PAGES / "explore.py",
        title=t("nav_explore"),
        icon=":material/map:",
        url_path="explore",
        default=True,
    ),
    st.Page(
        PAGES / "scenario.py", title=t("nav_scenario"), icon=":material/tune:", url_path="scenario"
    ),
    st.Page(
        PAGES / "compare.py", title=t("nav_compare"), icon=":material/compare:", url_path="compare"
    ),
    st.Page(PAGES / "network.py", title=t("nav_network"), icon=":material/hub:"),
    st.Page(PAGES / "data.py", title=t("nav_data"), icon=":material/upload_file:", url_path="data"),
    st.Page(
        PAGES / "export.py", title=t("nav_export"), icon=":material/download:", url_path="export"
    ),
]
st.navigation(pages).run()
