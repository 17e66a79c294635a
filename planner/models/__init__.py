"""Location models: p-median, capacitated fixed-charge, maximal coverage, set covering, p-center.

Every model is built from a :class:`CostMatrix` (``from_cost_matrix``) or from GeoDataFrames
(``from_geodataframes``, which builds the cost matrix and delegates), and ``solve()``
returns a frozen :class:`Solution`.
"""

from __future__ import annotations

from planner.models._base import (
    Alternative,
    CancelToken,
    CostMatrix,
    LocationProblem,
    Progress,
    SiteData,
    Solution,
    SolveOptions,
    Status,
)
from planner.models.check import CheckReport, check_solution

__all__ = [
    "Alternative",
    "CancelToken",
    "CheckReport",
    "CostMatrix",
    "LocationProblem",
    "Progress",
    "SiteData",
    "Solution",
    "SolveOptions",
    "Status",
    "check_solution",
]
