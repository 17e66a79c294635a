"""Deprecated import path for :class:`MCLP` and :class:`SetCover`; will be removed.

The covering models now live in :mod:`planner.models.mclp` and :mod:`planner.models.setcover`
(both also importable from :mod:`planner.models`). This module only re-exports them for one
release.
"""

from __future__ import annotations

from planner.models.mclp import MCLP
from planner.models.setcover import SetCover

__all__ = ["MCLP", "SetCover"]
