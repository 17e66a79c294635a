"""Helpers shared by the covering-family models (MCLP, set covering, p-center).

Open-count bounds implied by ``p``/``min_new_sites``/``max_new_sites``, site masks,
nearest-open assignment, padding an open set, the exact-backend choice for ``"auto"`` and the
construction of the frozen :class:`~planner.models._base.Solution` (status, bound, gap).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from planner.errors import ValidationError
from planner.models._base import (
    BoolArray,
    Clock,
    CostMatrix,
    FloatArray,
    IntArray,
    LocationProblem,
    Solution,
    SolveOptions,
    Status,
    relative_gap,
)

_OPTIMAL_GAP = 1e-6  # a gap at or below this is reported as proven optimal


def count_new_bounds(problem: LocationProblem) -> tuple[int, int]:
    """Return (min, max) number of new (non-required) sites allowed, without ``p``.

    Parameters
    ----------
    problem
        The problem.

    Returns
    -------
    bounds
        ``min_new_sites`` and the effective maximum (capped at the number of free sites).
    """
    sites = problem.sites
    n_free = int((~sites.required & ~sites.forbidden).sum())
    hi = n_free if problem.max_new_sites is None else min(problem.max_new_sites, n_free)
    return problem.min_new_sites, hi


def new_sites_for_p(problem: LocationProblem) -> tuple[int, str]:
    """Return the number of new sites implied by ``p``, or -1 with a plain-language reason.

    Parameters
    ----------
    problem
        A problem with ``p`` set.

    Returns
    -------
    k, reason
        New sites to open (``p`` minus required) and an empty string, or -1 and why.
    """
    n_req = int(problem.sites.required.sum())
    k = int(problem.p or 0) - n_req
    lo, hi = count_new_bounds(problem)
    if k < lo:
        return -1, (
            f"p = {problem.p} with {n_req} required site(s) leaves room for {k} new site(s), "
            f"but min_new_sites = {lo}; raise p to at least {n_req + lo}."
        )
    if k > hi:
        return -1, (
            f"p = {problem.p} with {n_req} required site(s) needs {k} new site(s), but at most "
            f"{hi} may open (max_new_sites / free candidates); lower p to {n_req + hi}."
        )
    return k, ""


def site_mask(n_sites: int, open_sites: Sequence[int]) -> BoolArray:
    """Return a boolean mask of the given site indices (validated).

    Parameters
    ----------
    n_sites
        Number of sites.
    open_sites
        Site indices.

    Returns
    -------
    mask
        True at the given indices.
    """
    idx = np.asarray(list(open_sites), dtype=np.int64)
    if len(idx) and (idx.min() < 0 or idx.max() >= n_sites):
        msg = f"open site indices must be in 0..{n_sites - 1}."
        raise ValidationError(msg, source="evaluate")
    mask = np.zeros(n_sites, dtype=np.bool_)
    mask[idx] = True
    return mask


def nearest_open(
    costs: CostMatrix, entry_ok: BoolArray, open_mask: BoolArray
) -> tuple[IntArray, FloatArray]:
    """Assign each row to its cheapest open site among the entries flagged ``entry_ok``.

    Parameters
    ----------
    costs
        The cost structure.
    entry_ok
        Per stored entry, whether it may be used (e.g. within the radius).
    open_mask
        Per site, whether it is open.

    Returns
    -------
    assignment, assignment_cost
        Site index per row (-1 if none) and its cost (``nan`` if none).
    """
    n = costs.n_demand
    ok = entry_ok & open_mask[costs.site_index]
    ent = np.flatnonzero(ok)
    rows = costs.row_of_entry[ent]
    order = np.lexsort((ent, costs.cost[ent], rows))  # by row, then cost, then list order
    ent, rows = ent[order], rows[order]
    first = np.ones(len(ent), dtype=np.bool_)
    first[1:] = rows[1:] != rows[:-1]
    assignment = np.full(n, -1, dtype=np.int64)
    cost = np.full(n, np.nan)
    assignment[rows[first]] = costs.site_index[ent[first]]
    cost[rows[first]] = costs.cost[ent[first]]
    return assignment, cost


def pair_costs(costs: CostMatrix, assignment: IntArray) -> FloatArray:
    """Return the listed cost of each row's assigned site.

    Parameters
    ----------
    costs
        The cost structure.
    assignment
        Site index per row (-1 if none).

    Returns
    -------
    cost
        The listed cost of the pair (``nan`` where unassigned or not listed).
    """
    out = np.full(costs.n_demand, np.nan)
    rows = costs.row_of_entry
    hit = assignment[rows] == costs.site_index
    out[rows[hit]] = costs.cost[hit]
    return out


def choose_backend(options: SolveOptions, *, pure_binary: bool, size: int) -> str:
    """Pick the exact backend for ``"auto"``; pass an explicit choice through.

    Measured on this 2-core machine (uniform plane, exact solves, wall seconds incl. build;
    HiGHS / SCIP / CP-SAT):

    * MCLP (M1)-(M4), continuous z, weighted objective: 2,000 x 200, p=10: 0.41 / 1.54 / 2.75;
      5,000 x 300, p=20: 2.35 / 4.10 / 5.83 -> HiGHS.
    * set covering (S1)-(S4), pure 0/1: 2,000 x 200: 1.56 / 0.32 / 0.17; 5,000 x 300:
      0.80 / 0.79 / 0.57 -> CP-SAT.
    * p-center binary search, (B1) subproblems pure 0/1: 500 x 50: 0.59 / 0.87 / 0.52;
      2,000 x 200, p=10: 26.3 / 8.3 / 7.5 -> CP-SAT.

    CP-SAT only makes bound progress with its full 8-worker portfolio (2 workers: the MCLP
    bound never moved in 60 s). So: pure covering models -> CP-SAT, everything else (MCLP,
    capacitated models, LP bounds) -> HiGHS.

    Parameters
    ----------
    options
        Solve options.
    pure_binary
        Whether the model is a pure covering model (binary, 0/1 coefficients).
    size
        Number of nonzeros of the model.

    Returns
    -------
    backend
        ``"highs"``, ``"scip"``, ``"cp-sat"`` or ``"heuristic"``.
    """
    del size  # kept for a size-dependent rule if measurements call for one
    if options.backend != "auto":
        return options.backend
    return "cp-sat" if pure_binary else "highs"


def make_solution(
    problem: LocationProblem,
    *,
    status: Status,
    objective: float,
    bound: float,
    open_sites: Sequence[int],
    assignment: IntArray,
    assignment_cost: FloatArray,
    clock: Clock,
    backend: str,
    message: str,
    stats: dict[str, float | int | str],
) -> Solution:
    """Build the frozen :class:`Solution` with a consistent gap and status.

    Parameters
    ----------
    problem
        The problem.
    status
        Proposed status (``OPTIMAL`` is downgraded if the gap is not closed).
    objective, bound
        Incumbent and bound.
    open_sites
        Open site indices.
    assignment, assignment_cost
        Per-row assignment and its cost.
    clock
        Start time.
    backend
        What solved it.
    message
        Plain-language summary.
    stats
        Counters.

    Returns
    -------
    solution
        The result.
    """
    gap = relative_gap(objective, bound)
    if status == Status.OPTIMAL and not (np.isfinite(gap) and gap <= _OPTIMAL_GAP):
        status = Status.FEASIBLE
    if status == Status.FEASIBLE and np.isfinite(gap) and gap <= _OPTIMAL_GAP:
        status = Status.OPTIMAL
    return Solution(
        model=problem.kind,
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        open_sites=tuple(sorted(int(j) for j in open_sites)),
        assignment=assignment,
        assignment_cost=assignment_cost,
        runtime_s=clock.elapsed_s,
        backend=backend,
        message=message,
        stats=stats,
    )


def infeasible_solution(
    problem: LocationProblem,
    clock: Clock,
    message: str,
    stats: dict[str, float | int | str],
    *,
    status: Status = Status.INFEASIBLE,
) -> Solution:
    """Return the INFEASIBLE solution carrying a plain-language reason.

    Parameters
    ----------
    problem
        The problem.
    clock
        Start time.
    message
        Why, with numbers.
    stats
        Counters.

    Returns
    -------
    status
        ``INFEASIBLE`` (proven) or ``ERROR`` (no solution found in time).

    Returns
    -------
    solution
        No sites, every row -1.
    """
    n = problem.n_demand
    return Solution(
        model=problem.kind,
        status=status,
        objective=float("nan"),
        bound=float("nan"),
        gap=float("nan"),
        open_sites=(),
        assignment=np.full(n, -1, dtype=np.int64),
        assignment_cost=np.full(n, np.nan),
        runtime_s=clock.elapsed_s,
        backend="presolve",
        message=message,
        stats=stats,
    )


def pad_open(
    problem: LocationProblem,
    chosen_sites: Sequence[int] | IntArray,
    target_new: int,
    order: IntArray | None = None,
) -> list[int]:
    """Return required + chosen sites, padded with free sites up to ``target_new`` new ones.

    Parameters
    ----------
    problem
        The problem.
    chosen_sites
        New (free) sites chosen by the solver.
    target_new
        Number of new sites wanted.
    order
        Preference order of free sites for padding (default: ascending index).

    Returns
    -------
    open_sites
        Sorted open site indices.
    """
    sites = problem.sites
    chosen = {int(j) for j in chosen_sites}
    free = ~sites.required & ~sites.forbidden
    candidates = order if order is not None else np.flatnonzero(free)
    for j in candidates:
        if len(chosen) >= target_new:
            break
        if free[j]:
            chosen.add(int(j))
    return sorted(chosen | {int(j) for j in np.flatnonzero(sites.required)})


def fmt_number(x: float) -> str:
    """Format a number for messages: thousands separators, 6 significant digits."""
    return f"{x:,.6g}"
