"""Page script run by ``st.navigation`` (see app.py); the page itself is planner.ui.robust."""

from __future__ import annotations

from planner.ui import robust

robust.render()
