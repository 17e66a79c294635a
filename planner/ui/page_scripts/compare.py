"""Page script run by ``st.navigation`` (see app.py); the page itself is planner.ui.compare."""

from __future__ import annotations

from planner.ui import compare

compare.render()
