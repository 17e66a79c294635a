"""The capacitated (single-source) p-median MIP on listed pairs.

Classical formulation (Q_j capacity; (6) of :mod:`._radius_mip`: required / forbidden sites)::

    (C1) min  sum_{i,j} w_i c_ij x_ij + sum_j f_j y_j
    (C2) sum_j x_ij = 1                  for every reachable row i
    (C3) x_ij <= y_j                     for every listed pair
    (C4) sum_i w_i x_ij <= Q_j y_j       for every site j
    (C5) sum_j y_j = p,  (6) as above,  x, y binary
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planner.models._base import BoolArray, CancelToken, FloatArray, IntArray, LocationProblem
from planner.models._mip import MipBackend, SparseMip, solve_mip
from planner.models.pmedian._prepare import Prepared


@dataclass(frozen=True, eq=False)
class CapResult:
    """A capacitated MIP outcome with the pairs its x variables stand for ."""

    status: str
    values: FloatArray | None
    bound: float
    e_row: IntArray
    e_site: IntArray
    e_cost: FloatArray
    n_y: int


def capacitated_mip(
    problem: LocationProblem,
    prep: Prepared,
    *,
    fixed_open: BoolArray | None,
    time_limit_s: float,
    backend: MipBackend,
    seed: int,
    hint: BoolArray | None,
    gap_tolerance: float = 1e-6,
    cancel: CancelToken | None = None,
    pairs: tuple[IntArray, IntArray, FloatArray] | None = None,
    closed: BoolArray | None = None,
    start: IntArray | None = None,
    forced: BoolArray | None = None,
) -> CapResult | None:
    """Solve (C1)-(C5); with ``fixed_open`` only those sites may (and must) open.

    ``pairs`` (row, site, unit cost) replaces the listed pairs (the ones left after
    Lagrangian fixing), ``closed`` keeps sites shut and ``start`` (site per row, with every
    reachable row assigned) is handed to the solver as a starting solution; ``forced``
    sites must open.
    """
    pr = problem
    costs, sites, w = pr.costs, pr.sites, pr.weights
    m = costs.n_sites
    row_of = costs.row_of_entry
    allowed = ~sites.forbidden if fixed_open is None else fixed_open.copy()
    if closed is not None:
        allowed &= ~closed
    if pairs is None:
        keep = allowed[costs.site_index] & ~prep.unreachable[row_of]
        e_row, e_site, e_cost = row_of[keep], costs.site_index[keep], costs.cost[keep]
    else:
        keep = allowed[pairs[1]]
        e_row, e_site, e_cost = pairs[0][keep], pairs[1][keep], pairs[2][keep]
    rows = np.flatnonzero(~prep.unreachable)
    if np.setdiff1d(rows, e_row).size:
        return None
    mip = SparseMip()
    lo = sites.required.astype(np.float64)
    if fixed_open is not None:
        lo = fixed_open.astype(np.float64)
    if forced is not None:
        lo = np.maximum(lo, (forced & allowed).astype(np.float64))
    y = mip.add_variables(
        m,
        lower=lo,
        upper=allowed.astype(np.float64),
        integer=True,
        objective=sites.fixed_cost,
        name="y",
    )
    pair_cost = w[e_row] * e_cost
    near = np.round(pair_cost)
    if np.all(np.abs(pair_cost - near) <= 1e-9 * np.maximum(1.0, np.abs(near))):
        # Integral weighted costs (w * (d / w) with round-off): exact integers let the solver
        # use the integrality of the objective (prune at the incumbent minus one).
        pair_cost = near
    x = mip.add_variables(len(e_row), upper=1.0, integer=True, objective=pair_cost, name="x")
    # (C5) cardinality
    n_open = len(np.flatnonzero(fixed_open)) if fixed_open is not None else int(pr.p or 0)
    mip.add_constraints(lower=[n_open], upper=[n_open], rows=np.zeros(m), cols=y, coefs=np.ones(m))
    # (C2) each reachable row assigned once
    local = np.searchsorted(rows, e_row)
    mip.add_constraints(
        lower=np.ones(len(rows)),
        upper=np.ones(len(rows)),
        rows=local,
        cols=x,
        coefs=np.ones(len(x)),
    )
    # (C3) x_ij <= y_j
    k = np.arange(len(x))
    mip.add_constraints(
        lower=np.full(len(x), -np.inf),
        upper=np.zeros(len(x)),
        rows=np.concatenate([k, k]),
        cols=np.concatenate([x, y[e_site]]),
        coefs=np.concatenate([np.ones(len(x)), -np.ones(len(x))]),
    )
    # (C4) capacity
    cap = np.where(np.isfinite(sites.capacity), sites.capacity, w.sum() + 1.0)
    mip.add_constraints(
        lower=np.full(m, -np.inf),
        upper=np.zeros(m),
        rows=np.concatenate([e_site, np.arange(m)]),
        cols=np.concatenate([x, y]),
        coefs=np.concatenate([w[e_row], -cap]),
    )
    del hint  # a feasible single-source assignment is not known cheaply
    start_values = None
    if start is not None:
        start_values = np.zeros(len(y) + len(x))
        start_values[np.unique(start[start >= 0])] = 1.0
        start_values[len(y) :] = (start[e_row] == e_site).astype(np.float64)
    res = solve_mip(
        mip,
        backend=backend,
        time_limit_s=time_limit_s,
        gap_tolerance=gap_tolerance,
        seed=seed,
        hint=start_values,
        cancel=cancel,
    )
    return CapResult(res.status, res.values, res.bound, e_row, e_site, e_cost, len(y))


def decode_capacitated(
    problem: LocationProblem, res: CapResult, opened: IntArray | None = None
) -> tuple[float, IntArray, FloatArray]:
    """Return objective, assignment and assignment cost of a solved (C1)-(C5)."""
    assert res.values is not None
    values, e_row, e_site, e_cost, n_y = res.values, res.e_row, res.e_site, res.e_cost, res.n_y
    n = problem.n_demand
    xv = values[n_y : n_y + len(e_row)] > 0.5  # noqa: PLR2004
    assignment = np.full(n, -1, dtype=np.int64)
    acost = np.full(n, np.nan)
    assignment[e_row[xv]] = e_site[xv]
    acost[e_row[xv]] = e_cost[xv]
    if opened is None:
        opened = np.flatnonzero(values[:n_y] > 0.5)  # noqa: PLR2004
    served = assignment >= 0
    obj = float(np.sum(problem.weights[served] * acost[served]))
    obj += float(problem.sites.fixed_cost[opened].sum())
    return obj, assignment, acost


def evaluate_capacitated(
    problem: LocationProblem, prep: Prepared, opened: IntArray
) -> tuple[float, IntArray, FloatArray]:
    """Single-source assignment to a fixed open set (a generalised assignment MIP)."""
    n = problem.n_demand
    fail = (math.inf, np.full(n, -1, dtype=np.int64), np.full(n, np.nan))
    open_mask = np.zeros(problem.n_sites, dtype=np.bool_)
    open_mask[opened] = True
    result = capacitated_mip(
        problem,
        prep,
        fixed_open=open_mask,
        time_limit_s=30.0,
        backend="highs",
        seed=0,
        hint=None,
    )
    if result is None or result.values is None:
        return fail
    return decode_capacitated(problem, result, opened)
