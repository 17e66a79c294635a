"""Streamlit entry point: ``streamlit run app.py`` (or ``planner app``).

Thin by design. ``streamlit run`` finds the ASGI app below and serves the app's script,
``planner/ui/main.py``; the app's start-up hook prepares the first map in the background
while the browser loads (see :mod:`planner.ui.server`).
"""

from __future__ import annotations

import streamlit as st

from planner.ui.server import PAGE_SCRIPT, lifespan

app = st.App(PAGE_SCRIPT, lifespan=lifespan)
