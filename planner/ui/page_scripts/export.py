"""Page script run by ``st.navigation`` (see app.py); the page itself is planner.ui.export."""

from __future__ import annotations

from planner.ui import export

export.render()
