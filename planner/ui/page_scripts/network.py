"""Page script run by ``st.navigation`` (see app.py); the page itself is planner.ui.network."""

from __future__ import annotations

from planner.ui import network

network.render()
