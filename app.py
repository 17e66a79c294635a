"""Streamlit entry point of a checkout: ``streamlit run app.py`` (``planner app`` does the same).

Thin by design: the app object lives in :mod:`planner.ui.entry`, the script that
``planner app`` serves (inside the package, so that it also works from an installed wheel).
"""

from __future__ import annotations

from planner.ui.entry import app

__all__ = ["app"]
