"""Page script run by ``st.navigation`` (see app.py); the page itself is planner.ui.explore."""

from __future__ import annotations

from planner.ui import explore

explore.render()
