"""From the CFLP's per-entry assignment to per-row arrays and the frozen :class:`Solution`.

Zero-demand rows with a finite ``beyond_cost`` ("loose", see :mod:`._data`) are not in the
model; they are assigned here, to their nearest open site (listed, else through
``exact_cost``, else at the estimate ``beyond_cost``).
"""

from __future__ import annotations

import numpy as np

from planner.models._base import (
    EXACT_CHUNK,
    BoolArray,
    Clock,
    CostMatrix,
    ExactCost,
    FloatArray,
    IntArray,
    Solution,
    Status,
    relative_gap,
)
from planner.models.cflp._assign import Assignment
from planner.models.cflp._data import CflpData, group_first


def assignment_arrays(
    costs: CostMatrix,
    data: CflpData,
    exact_cost: ExactCost | None,
    a: Assignment,
    y: BoolArray,
) -> tuple[IntArray, int, FloatArray]:
    """Site and cost per row, and how many loose rows carry only an estimated cost."""
    assignment = np.full(data.n_rows, -1, dtype=np.int64)
    cost = np.full(data.n_rows, np.nan)
    if not a.feasible:
        return assignment, 0, cost
    n_est = assign_loose(costs, data, exact_cost, y, assignment=assignment, cost=cost)
    idx = np.flatnonzero(a.entry_frac > 0)
    # Largest share per row (ties: cheapest, entries are cost-sorted within a row).
    order = np.lexsort((idx, -a.entry_frac[idx], data.e_row[idx]))
    idx = idx[order]
    rows, first = np.unique(data.e_row[idx], return_index=True)
    best = idx[first]
    assignment[rows] = data.e_site[best]
    cost[rows] = data.e_cost[best]
    return assignment, n_est, cost


def assign_loose(
    costs: CostMatrix,
    data: CflpData,
    exact_cost: ExactCost | None,
    y: BoolArray,
    *,
    assignment: IntArray,
    cost: FloatArray,
) -> int:
    """Assign loose rows to their nearest open site in place; return how many are estimates.

    Listed open sites first (cheapest); rows listing none go to the nearest open site by
    ``exact_cost`` (never below ``beyond_cost``), or, without the callback, to an open
    site at the lower estimate ``beyond_cost``.
    """
    loose = data.reachable & ~data.served
    opened = np.flatnonzero(y)
    if not loose.any() or not len(opened):
        return 0
    er = costs.row_of_entry
    cand = np.flatnonzero(loose[er] & y[costs.site_index])
    if len(cand):
        cand = cand[np.lexsort((costs.cost[cand], er[cand]))]
        rows, first, _ = group_first(er[cand])
        assignment[rows] = costs.site_index[cand[first]]
        cost[rows] = costs.cost[cand[first]]
    rest = np.flatnonzero(loose & (assignment < 0))
    if not len(rest):
        return 0
    beyond = costs.beyond_cost
    if exact_cost is None:
        assignment[rest] = opened[0]
        cost[rest] = beyond[rest]
        return len(rest)
    step = max(1, EXACT_CHUNK // len(opened))
    for lo in range(0, len(rest), step):
        chunk = rest[lo : lo + step]
        mat = np.asarray(exact_cost(chunk, opened), dtype=np.float64)
        k = np.argmin(mat, axis=1)
        assignment[chunk] = opened[k]
        cost[chunk] = np.maximum(mat[np.arange(len(chunk)), k], beyond[chunk])
    return 0


def cflp_solution(
    costs: CostMatrix,
    data: CflpData,
    exact_cost: ExactCost | None,
    *,
    status: Status,
    y: BoolArray | None,
    a: Assignment | None,
    bound: float,
    clock: Clock,
    backend: str,
    message: str,
    stats: dict[str, float | int | str],
) -> Solution:
    """Build the frozen :class:`Solution` of an open set and its assignment (or of none)."""
    if y is None or a is None or not a.feasible:
        return Solution(
            model="cflp",
            status=status,
            objective=float("nan"),
            bound=bound,
            gap=float("nan"),
            open_sites=(),
            assignment=np.full(data.n_rows, -1, dtype=np.int64),
            assignment_cost=np.full(data.n_rows, np.nan),
            runtime_s=clock.elapsed_s,
            backend=backend,
            message=message,
            stats=stats,
        )
    assignment, _, cost = assignment_arrays(costs, data, exact_cost, a, y)
    flows = None
    if not data.single_source:
        idx = np.flatnonzero(a.entry_frac > 0)
        flows = (data.e_row[idx].copy(), data.e_site[idx].copy(), a.entry_frac[idx].copy())
    objective = a.objective
    bound = min(bound, objective) if np.isfinite(bound) else bound
    return Solution(
        model="cflp",
        status=status,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        open_sites=tuple(int(j) for j in np.flatnonzero(y)),
        assignment=assignment,
        assignment_cost=cost,
        runtime_s=clock.elapsed_s,
        backend=backend,
        message=message,
        flows=flows,
        stats=stats,
    )
