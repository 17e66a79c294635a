"""The Streamlit entry script that ``planner app`` serves, shipped inside the package.

``streamlit run`` finds the ASGI app below and serves the app's script,
``planner/ui/main.py``; the app's start-up hook prepares the first map in the background
while the browser loads (see :mod:`planner.ui.server`). It lives in the package (not only as
the repository's top-level ``app.py``, which builds the same app) so that ``planner app`` also works
from an installed wheel, outside a checkout.
"""

from __future__ import annotations

import streamlit as st

from planner.ui.server import PAGE_SCRIPT, lifespan

app = st.App(PAGE_SCRIPT, lifespan=lifespan)
