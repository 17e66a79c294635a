"""Streamlit entry point of a checkout: ``streamlit run app.py`` (``planner app`` serves the same).

Thin by design. ``streamlit run`` finds the ASGI app below by reading this file's source (it
looks for the ``st.App(...)`` call, so the app is constructed here rather than imported) and
serves the app's script, ``planner/ui/main.py``; the app's start-up hook prepares the first map
in the background while the browser loads (see :mod:`planner.ui.server`).
``planner/ui/entry.py`` is the same two lines inside the package, which ``planner app`` serves
so that it also works from an installed wheel.
"""

from __future__ import annotations

import streamlit as st

from planner.ui.server import PAGE_SCRIPT, lifespan

app = st.App(PAGE_SCRIPT, lifespan=lifespan)
