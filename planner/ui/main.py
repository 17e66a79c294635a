"""The Streamlit script behind ``app.py``: page set-up, the language switch and navigation.

Thin by design; every page lives in ``planner/ui/``. ``app.py`` serves this script (with a
warm-up at server start, see :mod:`planner.ui.server`); tests drive it with ``AppTest``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from planner.i18n import LANGUAGES
from planner.ui import auth, state
from planner.ui.i18n import t

st.session_state.setdefault(state.LANG, "en")
st.set_page_config(page_title=t("app_title"), page_icon=":tractor:", layout="wide")
state.keep_widget_values()
# Sign-in (or single-user mode) before any page reads the workspace; stops the run when the
# session may not use the app.
auth.gate()
# The language switch heads the sidebar but is drawn after the page (its value is in the
# session state already), so the page's own elements reach the browser first.
language_slot = st.sidebar.container()

PAGES = Path(__file__).resolve().parent / "page_scripts"
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
    st.Page(
        PAGES / "robust.py", title=t("nav_robust"), icon=":material/shield:", url_path="robust"
    ),
    st.Page(PAGES / "data.py", title=t("nav_data"), icon=":material/upload_file:", url_path="data"),
    st.Page(
        PAGES / "export.py", title=t("nav_export"), icon=":material/download:", url_path="export"
    ),
]
st.navigation(pages).run()
with language_slot:
    st.selectbox(
        "Language · Язык · Тіл",
        list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        key=state.LANG,
    )
