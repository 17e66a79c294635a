"""Row-level capacitated assignment MIP shared by capacitated MCLP, set covering and p-center.

Columns are ``[y_j (every site) | x_p (allowed (row, site) pairs)]``; the rows are those of
the capacitated formulations in :mod:`planner.models.mclp` and :mod:`planner.models.setcover`
(Q = capacity, w = demand weight)::

    (C2)/(K2)  sum_j x_ij <= 1 (or = 1 for rows that must be assigned)   for every row i
    (C3)/(K3)  x_ij <= y_j
    (C4)/(K4)  sum_i w_i x_ij <= Q_j y_j                                   for finite Q_j
    (C5)/(K5)  lo <= sum_j y_j <= hi;  y_j = 1 on required, 0 on forbidden sites

:func:`greedy_capacity_assignment` is the matching heuristic (most spare capacity first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from planner.models._base import (
    BoolArray,
    FloatArray,
    IntArray,
    LocationProblem,
)
from planner.models._mip import MatrixMip

_CAPACITY_SLACK = 1e-9


def _cap_pairs(
    problem: LocationProblem, entry_ok: BoolArray, rows_in: BoolArray
) -> tuple[IntArray, IntArray]:
    """Row and site index of each usable (row, site) pair for a row-level capacitated MIP."""
    costs = problem.costs
    ok = entry_ok & ~problem.sites.forbidden[costs.site_index] & rows_in[costs.row_of_entry]
    ent = np.flatnonzero(ok)
    return costs.row_of_entry[ent], costs.site_index[ent]


@dataclass(frozen=True, eq=False)
class AssignMip:
    """Row-level capacitated location MIP: columns are ``[y_j (all sites) | x_p (pairs)]``.

    Parameters
    ----------
    mip
        The matrix model.
    pair_row, pair_site
        Row and site of each pair column.
    n_sites
        Number of ``y`` columns.
    """

    mip: MatrixMip
    pair_row: IntArray
    pair_site: IntArray
    n_sites: int

    def split(self, values: FloatArray, n_rows: int | None = None) -> tuple[BoolArray, IntArray]:
        """Return (open mask, assignment per row; -1 if none) from a solution vector.

        ``n_rows`` is the length of the assignment (default: up to the last row with a pair).
        """
        y = values[: self.n_sites] > 0.5  # noqa: PLR2004
        x = values[self.n_sites :] > 0.5  # noqa: PLR2004
        if n_rows is None:
            n_rows = int(self.pair_row.max()) + 1 if len(self.pair_row) else 0
        assignment = np.full(n_rows, -1, dtype=np.int64)
        assignment[self.pair_row[x]] = self.pair_site[x]
        return y, assignment

    def hint(self, open_mask: BoolArray, assignment: IntArray) -> FloatArray:
        """Solution vector of a given open set and assignment."""
        x = np.zeros(len(self.pair_row))
        a = np.full(int(self.pair_row.max()) + 1 if len(self.pair_row) else 0, -1)
        a[: min(len(a), len(assignment))] = assignment[: len(a)]
        x[a[self.pair_row] == self.pair_site] = 1.0
        return np.concatenate([open_mask.astype(np.float64), x])


def build_assign_mip(
    problem: LocationProblem,
    pair_row: IntArray,
    pair_site: IntArray,
    *,
    objective_y: FloatArray,
    objective_x: FloatArray,
    maximise: bool,
    must_assign: BoolArray | None,
    n_open: tuple[int, int],
    fixed_open: BoolArray | None = None,
    capacitated: bool = True,
) -> AssignMip:
    """Build ``x_ij <= y_j``, per-row assignment, capacity and open-count rows.

    Parameters
    ----------
    problem
        The problem (weights, capacities, required/forbidden).
    pair_row, pair_site
        Allowed pairs.
    objective_y, objective_x
        Objective coefficients of ``y`` (per site) and ``x`` (per pair).
    maximise
        Sense.
    must_assign
        Rows that must be assigned exactly once (others at most once); ``None`` = none.
    n_open
        Bounds (min, max) on the total number of open sites.
    fixed_open
        If given, the open set is fixed to this mask (evaluation of a given network).
    capacitated
        Whether to add the capacity rows.

    Returns
    -------
    model
        The row-level MIP.
    """
    sites, w = problem.sites, problem.weights
    m, n_p = problem.n_sites, len(pair_row)
    rows_used, row_pos = np.unique(pair_row, return_inverse=True)
    pidx = np.arange(n_p)
    y_lo = sites.required.astype(np.float64)
    y_hi = (~sites.forbidden).astype(np.float64)
    if fixed_open is not None:
        y_lo = fixed_open.astype(np.float64)
        y_hi = fixed_open.astype(np.float64)
    blocks = []
    lo_parts: list[FloatArray] = []
    hi_parts: list[FloatArray] = []
    # (C2)/(K2): one assignment per row
    assign = sp.csr_matrix((np.ones(n_p), (row_pos, m + pidx)), shape=(len(rows_used), m + n_p))
    blocks.append(assign)
    must = must_assign[rows_used] if must_assign is not None else np.zeros(len(rows_used), bool)
    lo_parts.append(np.where(must, 1.0, -np.inf))
    hi_parts.append(np.ones(len(rows_used)))
    # (C3)/(K3): x_ij - y_j <= 0
    link = sp.csr_matrix(
        (
            np.concatenate([np.ones(n_p), -np.ones(n_p)]),
            (np.concatenate([pidx, pidx]), np.concatenate([m + pidx, pair_site])),
        ),
        shape=(n_p, m + n_p),
    )
    blocks.append(link)
    lo_parts.append(np.full(n_p, -np.inf))
    hi_parts.append(np.zeros(n_p))
    if capacitated:
        # (C4)/(K4): sum_i w_i x_ij - Q_j y_j <= 0 for finite capacities
        finite = np.flatnonzero(np.isfinite(sites.capacity) & ~sites.forbidden)
        pos = np.full(m, -1)
        pos[finite] = np.arange(len(finite))
        sel = pos[pair_site] >= 0
        cap = sp.csr_matrix(
            (
                np.concatenate([w[pair_row[sel]], -sites.capacity[finite]]),
                (
                    np.concatenate([pos[pair_site[sel]], np.arange(len(finite))]),
                    np.concatenate([m + pidx[sel], finite]),
                ),
            ),
            shape=(len(finite), m + n_p),
        )
        blocks.append(cap)
        lo_parts.append(np.full(len(finite), -np.inf))
        hi_parts.append(np.zeros(len(finite)))
    # (C5)/(K5): number of open sites
    blocks.append(sp.csr_matrix(np.concatenate([np.ones(m), np.zeros(n_p)])[None, :]))
    lo_parts.append(np.asarray([float(n_open[0])]))
    hi_parts.append(np.asarray([float(n_open[1])]))
    mip = MatrixMip(
        objective=np.concatenate([objective_y, objective_x]),
        lower=np.concatenate([y_lo, np.zeros(n_p)]),
        upper=np.concatenate([y_hi, np.ones(n_p)]),
        integer=np.ones(m + n_p, dtype=np.bool_),
        matrix=sp.vstack(blocks, format="csr"),
        row_lower=np.concatenate(lo_parts),
        row_upper=np.concatenate(hi_parts),
        maximise=maximise,
    )
    return AssignMip(mip=mip, pair_row=pair_row, pair_site=pair_site, n_sites=m)


def greedy_capacity_assignment(
    problem: LocationProblem,
    pair_row: IntArray,
    pair_site: IntArray,
    open_mask: BoolArray,
    row_order: IntArray,
) -> IntArray:
    """Assign rows (in ``row_order``) to the open allowed pair site with most spare capacity.

    Parameters
    ----------
    problem
        The problem (weights, capacities).
    pair_row, pair_site
        Allowed pairs.
    open_mask
        Open sites.
    row_order
        Order in which rows are considered.

    Returns
    -------
    assignment
        Per row the site, or -1 when no open site has room.
    """
    w, cap = problem.weights, problem.sites.capacity.astype(np.float64).copy()
    ok = open_mask[pair_site]
    pr, ps = pair_row[ok], pair_site[ok]
    order = np.argsort(pr, kind="stable")
    pr, ps = pr[order], ps[order]
    start = np.searchsorted(pr, np.arange(problem.n_demand))
    end = np.searchsorted(pr, np.arange(problem.n_demand), side="right")
    assignment = np.full(problem.n_demand, -1, dtype=np.int64)
    for i in row_order:
        opts = ps[start[i] : end[i]]
        if len(opts) == 0:
            continue
        room = cap[opts] - w[i]
        k = int(np.argmax(room))
        if room[k] >= -_CAPACITY_SLACK:
            assignment[i] = opts[k]
            cap[opts[k]] -= w[i]
    return assignment
