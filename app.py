"""Streamlit entry point: ``streamlit run app.py`` (or ``planner app``).

Thin by design: page set-up and navigation only; every page lives in ``planner/ui/``.
"""

from __future__ import annotations

import streamlit as st

from planner.ui import explore

st.set_page_config(
    page_title="KZ service-network planner",
    page_icon=":tractor:",
    layout="wide",
)

pages = [
    st.Page(
        explore.render, title="Explore", icon=":material/map:", url_path="explore", default=True
    ),
]
st.navigation(pages).run()
