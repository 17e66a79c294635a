"""The peer's solve: spopt's p-median with PuLP + HiGHS (the optional ``peer`` extra).

Imported by :func:`planner.bench.peer.run_peer` only when spopt and PuLP are installed, so
every import of the extra is in this one module.
"""

from __future__ import annotations

import numpy as np
import pulp
from spopt.locate import PMedian as SpoptPMedian

from planner._types import FloatArray


def solve_pmedian(distance: FloatArray, p: int, time_limit_s: float) -> float:
    """Solve an unweighted p-median with spopt and return its objective.

    Parameters
    ----------
    distance
        Client x facility distances.
    p
        Number of facilities to open.
    time_limit_s
        Time limit of HiGHS.

    Returns
    -------
    objective
        Total distance of the solution spopt reports.
    """
    model = SpoptPMedian.from_cost_matrix(distance, np.ones(len(distance)), p_facilities=p)
    model.solve(pulp.HiGHS(msg=False, timeLimit=time_limit_s))
    return float(pulp.value(model.problem.objective))
