"""Streamlit entry point of a checkout: ``streamlit run app.py`` (``planner app`` does the same).

Thin by design: ``streamlit run`` finds the ASGI app below and serves the app's script,
``planner/ui/main.py``, with the start-up warm-up of :mod:`planner.ui.server`. ``planner app``
serves :mod:`planner.ui.entry` instead, the same app inside the package (so that it also
works from an installed wheel). The app is built here rather than re-exported from there:
``streamlit run app.py`` only serves an app constructed in the script it runs (a re-exported
one left the page blank).
"""

from __future__ import annotations

import streamlit as st

from planner.ui.server import PAGE_SCRIPT, lifespan

app = st.App(PAGE_SCRIPT, lifespan=lifespan)
