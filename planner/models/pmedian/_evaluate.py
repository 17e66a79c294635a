"""Evaluation of a fixed open set for the uncapacitated p-median (nearest open site)."""

from __future__ import annotations

import math

import numpy as np

from planner.models._base import (
    EXACT_CHUNK,
    CostMatrix,
    ExactCost,
    FloatArray,
    IntArray,
    LocationProblem,
)
from planner.models.pmedian._prepare import Prepared


def evaluate_nearest(
    problem: LocationProblem,
    prep: Prepared,
    exact_cost: ExactCost | None,
    opened: IntArray,
    *,
    rows_sorted: bool,
) -> tuple[float, IntArray, FloatArray]:
    """Serve every row from its cheapest open site (uncapacitated ``evaluate``).

    Listed open sites first; rows listing none go to the nearest open site by
    ``exact_cost`` (never below ``beyond_cost``), else at the estimate ``beyond_cost``.
    ``rows_sorted``: every row lists its sites cheapest first (no sorting needed).
    """
    costs, w = problem.costs, problem.weights
    n = costs.n_demand
    open_mask = np.zeros(costs.n_sites, dtype=np.bool_)
    open_mask[opened] = True
    assignment = np.full(n, -1, dtype=np.int64)
    acost = np.full(n, np.nan)
    row_of = costs.row_of_entry
    hit = open_mask[costs.site_index]
    if hit.any():
        e = np.flatnonzero(hit)
        er = row_of[e]
        if not rows_sorted:  # cheapest open listed entry first in each row
            order = np.lexsort((costs.cost[e], er))
            e, er = e[order], er[order]
        first = np.ones(len(e), dtype=np.bool_)
        first[1:] = er[1:] != er[:-1]
        assignment[er[first]] = costs.site_index[e[first]]
        acost[er[first]] = costs.cost[e[first]]
    unreachable = prep.unreachable
    missing = (assignment < 0) & ~unreachable
    finite_b = np.isfinite(costs.beyond_cost)
    beyond_rows = np.flatnonzero(missing & finite_b)
    if len(beyond_rows) and len(opened):
        if exact_cost is not None:
            assign_exact(costs, exact_cost, beyond_rows, opened, assignment=assignment, acost=acost)
        else:
            assignment[beyond_rows] = opened[0]
            acost[beyond_rows] = costs.beyond_cost[beyond_rows]
    if ((assignment < 0) & ~unreachable).any():
        return math.inf, assignment, acost
    served = assignment >= 0
    objective = float(np.sum(w[served] * acost[served]))
    objective += float(problem.sites.fixed_cost[opened].sum())
    return objective, assignment, acost


def assign_exact(
    costs: CostMatrix,
    exact_cost: ExactCost,
    rows: IntArray,
    opened: IntArray,
    *,
    assignment: IntArray,
    acost: FloatArray,
) -> None:
    """Assign ``rows`` to their nearest open site by exact cost, in place."""
    step = max(1, EXACT_CHUNK // max(1, len(opened)))
    beyond = costs.beyond_cost
    for lo in range(0, len(rows), step):
        chunk = rows[lo : lo + step]
        mat = np.asarray(exact_cost(chunk, opened), dtype=np.float64)
        k = np.argmin(mat, axis=1)
        assignment[chunk] = opened[k]
        # Never below the declared lower bound (keeps bounds and checks consistent).
        acost[chunk] = np.maximum(mat[np.arange(len(chunk)), k], beyond[chunk])


def rows_beyond_lists(costs: CostMatrix, assignment: IntArray) -> int:
    """Count the assigned rows whose site is not in their list."""
    row_of = costs.row_of_entry
    listed = np.zeros(costs.n_demand, dtype=np.bool_)
    listed[row_of[costs.site_index == assignment[row_of]]] = True
    return int(((assignment >= 0) & ~listed).sum())
