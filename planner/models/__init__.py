"""Location models: p-median, capacitated fixed-charge, maximal coverage, set covering, p-center.

Every model is built from a :class:`CostMatrix` (``from_cost_matrix``) or from GeoDataFrames
(``from_geodataframes``, which builds the cost matrix and delegates), and ``solve()``
returns a frozen :class:`Solution`::

    from planner.models import PMedian, SolveOptions, check_solution

    model = PMedian.from_cost_matrix([[1.0, 4.0], [3.0, 1.0], [2.0, 2.0]], [1, 1, 1], p=1)
    solution = model.solve(SolveOptions(time_limit_s=5))
    assert check_solution(model.problem, solution).ok

The two-echelon agricultural model (plants + service centres) is
:mod:`planner.models.two_echelon`, run from scenarios through :mod:`planner.agri`.
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
from planner.models.cflp import CFLP
from planner.models.check import CheckReport, check_solution
from planner.models.mclp import MCLP
from planner.models.pcenter import PCenter
from planner.models.pmedian import PMedian
from planner.models.setcover import SetCover

__all__ = [
    "CFLP",
    "MCLP",
    "Alternative",
    "CancelToken",
    "CheckReport",
    "CostMatrix",
    "LocationProblem",
    "PCenter",
    "PMedian",
    "Progress",
    "SetCover",
    "SiteData",
    "Solution",
    "SolveOptions",
    "Status",
    "check_solution",
]
