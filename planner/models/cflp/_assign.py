"""Assignment of demand rows to a fixed set of open CFLP sites.

* Split demand: the transportation LP (T1)-(T3) below, solved exactly with HiGHS; with no
  finite capacity among the open sites it reduces to "cheapest open site".
* Single source: the generalised assignment problem, NP-hard in general, so a heuristic:
  regret-ordered proposal rounds (each row proposes to its cheapest open site that still
  has room; a site accepts proposals in decreasing regret = second-best minus best pair
  cost while capacity lasts), then shift moves (move a row to a cheaper open site with
  room). It is exact when no capacity binds, and otherwise a good but unproven
  assignment.

Transportation LP for an open set O (entries e = (i, j) with j in O)::

    (T0) min  sum_e w_i c_ij x_e
    (T1) sum_{j in O} x_ij = 1              for every served row i
    (T2) sum_i w_i x_ij <= s_j              for every open j with finite capacity
    (T3) x_e >= 0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from planner.models._base import BoolArray, FloatArray, IntArray
from planner.models._mip._highs import solve_highs
from planner.models.cflp._data import CAPACITY_RTOL, CflpData, group_first

INF = float("inf")
# Fractions below this are dropped from reported flows (LP round-off).
FLOW_EPS = 1e-9
# Proposal rounds of the single-source heuristic before the row-by-row fallback.
MAX_PROPOSAL_ROUNDS = 60
# Rounds of shift moves after the construction.
SHIFT_ROUNDS = 8


@dataclass(frozen=True, eq=False)
class Assignment:
    """Rows served by a fixed open set.

    Parameters
    ----------
    transport_cost
        ``sum w_i c_ij x_ij`` (``inf`` if the open set cannot serve every row).
    fixed_cost
        Sum of fixed costs of the open set.
    entry_frac
        Per entry of :class:`CflpData`, the fraction of its row it serves (0/1 when
        single-source).
    """

    transport_cost: float
    fixed_cost: float
    entry_frac: FloatArray

    @property
    def objective(self) -> float:
        """Fixed plus transport cost."""
        return self.fixed_cost + self.transport_cost

    @property
    def feasible(self) -> bool:
        """Whether every served row is served within capacity."""
        return bool(np.isfinite(self.transport_cost))


def _infeasible(data: CflpData, open_mask: BoolArray) -> Assignment:
    return Assignment(
        transport_cost=INF,
        fixed_cost=float(data.fixed_cost[open_mask].sum()),
        entry_frac=np.zeros(data.n_entries),
    )


def _cheapest_open(data: CflpData, open_mask: BoolArray) -> IntArray:
    """Per row, the cheapest entry to an open site (-1 if none); entries are cost-sorted."""
    best = np.full(data.n_rows, -1, dtype=np.int64)
    cand = np.flatnonzero(open_mask[data.e_site])
    if len(cand):
        rows, first, _ = group_first(data.e_row[cand])
        best[rows] = cand[first]
    return best


def assign_split(data: CflpData, open_mask: BoolArray, *, time_limit_s: float = INF) -> Assignment:
    """Solve the transportation LP (T0)-(T3) for a fixed open set.

    Parameters
    ----------
    data
        Instance arrays.
    open_mask
        Open sites.
    time_limit_s
        Limit for the LP.

    Returns
    -------
    assignment
        Optimal fractions; infinite cost if (T1)-(T2) are infeasible.
    """
    fixed = float(data.fixed_cost[open_mask].sum())
    best = _cheapest_open(data, open_mask)
    if (best[data.served] < 0).any():
        return _infeasible(data, open_mask)
    cap_open = open_mask & np.isfinite(data.capacity)
    frac = np.zeros(data.n_entries)
    if not cap_open.any():
        rows = np.flatnonzero(data.served)
        frac[best[rows]] = 1.0
        return Assignment(float(data.pair_cost[best[rows]].sum()), fixed, frac)
    total = data.total_demand
    if float(data.capacity[open_mask].sum()) < total * (1 - CAPACITY_RTOL):
        return _infeasible(data, open_mask)
    cols = np.flatnonzero(open_mask[data.e_site] & data.served[data.e_row])
    rows_served = np.flatnonzero(data.served)
    row_pos = np.full(data.n_rows, -1, dtype=np.int64)
    row_pos[rows_served] = np.arange(len(rows_served))
    cap_sites = np.flatnonzero(cap_open)
    site_pos = np.full(data.n_sites, -1, dtype=np.int64)
    site_pos[cap_sites] = len(rows_served) + np.arange(len(cap_sites))
    r = data.e_row[cols]
    s = data.e_site[cols]
    k = np.arange(len(cols))
    on_cap = site_pos[s] >= 0
    a_rows = np.concatenate([row_pos[r], site_pos[s[on_cap]]])
    a_cols = np.concatenate([k, k[on_cap]])
    a_vals = np.concatenate([np.ones(len(cols)), data.weight[r[on_cap]]])
    n_con = len(rows_served) + len(cap_sites)
    mat = sp.csc_matrix((a_vals, (a_rows, a_cols)), shape=(n_con, len(cols)))
    row_lo = np.concatenate([np.ones(len(rows_served)), np.full(len(cap_sites), -INF)])
    row_hi = np.concatenate([np.ones(len(rows_served)), data.capacity[cap_sites]])
    res = solve_highs(
        cost=data.pair_cost[cols],
        matrix=mat,
        row_lo=row_lo,
        row_hi=row_hi,
        col_lo=np.zeros(len(cols)),
        col_hi=np.ones(len(cols)),
        time_limit_s=time_limit_s,
    )
    if res.status != "optimal":
        return _infeasible(data, open_mask)
    x = np.clip(res.x, 0.0, 1.0)
    x[x < FLOW_EPS] = 0.0
    # Renormalise rows so that (T1) holds exactly after dropping round-off.
    sums = np.bincount(r, weights=x, minlength=data.n_rows)
    x = x / sums[r]
    frac[cols] = x
    return Assignment(float(np.dot(data.pair_cost[cols], x)), fixed, frac)


def _propose_rounds(
    data: CflpData, open_mask: BoolArray, chosen: IntArray, residual: FloatArray
) -> None:
    """Regret-ordered proposal rounds; fills ``chosen`` (entry per row) in place."""
    w = data.weight
    tol = CAPACITY_RTOL * np.maximum(1.0, np.where(np.isfinite(residual), residual, 1.0))
    open_entry = open_mask[data.e_site]
    for _ in range(MAX_PROPOSAL_ROUNDS):
        todo = data.served & (chosen < 0)
        if not todo.any():
            return
        fits_now = w[data.e_row] <= residual[data.e_site] + tol[data.e_site]
        cand = np.flatnonzero(open_entry & todo[data.e_row] & fits_now)
        if not len(cand):
            return
        rows, first, counts = group_first(data.e_row[cand])
        best = cand[first]
        second_cost = np.where(
            counts > 1, data.pair_cost[cand[np.minimum(first + 1, len(cand) - 1)]], INF
        )
        regret = second_cost - data.pair_cost[best]
        site = data.e_site[best]
        # Per site, highest regret first (ties: heavier rows first, then row index).
        order = np.lexsort((rows, -w[rows], -regret, site))
        site_o = site[order]
        w_o = w[rows[order]]
        starts = np.flatnonzero(np.r_[True, site_o[1:] != site_o[:-1]])
        csum = np.cumsum(w_o)
        base = np.repeat(csum[starts] - w_o[starts], np.diff(np.r_[starts, len(order)]))
        fits = (csum - base) <= residual[site_o] + tol[site_o]
        acc = order[fits]
        chosen[rows[acc]] = best[acc]
        residual -= np.bincount(site[acc], weights=w[rows[acc]], minlength=data.n_sites)
    # Fallback: row by row, heaviest first.
    todo_rows = np.flatnonzero(data.served & (chosen < 0))
    for i in todo_rows[np.argsort(-w[todo_rows], kind="stable")]:
        lo, hi = data.indptr[i], data.indptr[i + 1]
        for e in range(lo, hi):
            j = data.e_site[e]
            if open_mask[j] and w[i] <= residual[j] + tol[j]:
                chosen[i] = e
                residual[j] -= w[i]
                break


def _shift_moves(
    data: CflpData, open_mask: BoolArray, chosen: IntArray, residual: FloatArray
) -> None:
    """Move rows to cheaper open sites with room, best saving first; in place."""
    w = data.weight
    tol = CAPACITY_RTOL * np.maximum(1.0, np.where(np.isfinite(residual), residual, 1.0))
    open_entry = open_mask[data.e_site]
    for _ in range(SHIFT_ROUNDS):
        cur = chosen[data.e_row]
        valid = cur >= 0
        cur_cost = np.where(valid, data.pair_cost[np.maximum(cur, 0)], INF)
        gain = cur_cost - data.pair_cost
        cand = np.flatnonzero(
            open_entry
            & valid
            & (gain > 1e-12 * np.maximum(1.0, cur_cost))
            & (w[data.e_row] <= residual[data.e_site] + tol[data.e_site])
        )
        if not len(cand):
            return
        # Best move per row (largest gain).
        order = np.lexsort((-gain[cand], data.e_row[cand]))
        cand = cand[order]
        rows, first, _ = group_first(data.e_row[cand])
        mv = cand[first]
        site = data.e_site[mv]
        order2 = np.lexsort((rows, -gain[mv], site))
        site_o = site[order2]
        w_o = w[rows[order2]]
        starts = np.flatnonzero(np.r_[True, site_o[1:] != site_o[:-1]])
        csum = np.cumsum(w_o)
        base = np.repeat(csum[starts] - w_o[starts], np.diff(np.r_[starts, len(order2)]))
        fits = (csum - base) <= residual[site_o] + tol[site_o]
        acc = order2[fits]
        if not len(acc):
            return
        old_sites = data.e_site[chosen[rows[acc]]]
        residual += np.bincount(old_sites, weights=w[rows[acc]], minlength=data.n_sites)
        residual -= np.bincount(site[acc], weights=w[rows[acc]], minlength=data.n_sites)
        chosen[rows[acc]] = mv[acc]


def assign_single(data: CflpData, open_mask: BoolArray) -> Assignment:
    """Assign every row to one open site (heuristic when capacities bind).

    Parameters
    ----------
    data
        Instance arrays.
    open_mask
        Open sites.

    Returns
    -------
    assignment
        0/1 fractions; infinite cost if the heuristic finds no capacity-feasible assignment.
    """
    fixed = float(data.fixed_cost[open_mask].sum())
    best = _cheapest_open(data, open_mask)
    if (best[data.served] < 0).any():
        return _infeasible(data, open_mask)
    residual = np.where(open_mask, data.capacity, 0.0).astype(np.float64)
    chosen = np.full(data.n_rows, -1, dtype=np.int64)
    if not np.isfinite(residual[open_mask]).any():
        chosen[data.served] = best[data.served]
    else:
        _propose_rounds(data, open_mask, chosen, residual)
        if (chosen[data.served] < 0).any():
            return _infeasible(data, open_mask)
        _shift_moves(data, open_mask, chosen, residual)
    rows = np.flatnonzero(data.served)
    frac = np.zeros(data.n_entries)
    frac[chosen[rows]] = 1.0
    return Assignment(float(data.pair_cost[chosen[rows]].sum()), fixed, frac)


def assign(data: CflpData, open_mask: BoolArray, *, time_limit_s: float = INF) -> Assignment:
    """Serve all rows from a fixed open set (split: exact LP; single-source: heuristic).

    Parameters
    ----------
    data
        Instance arrays.
    open_mask
        Open sites.
    time_limit_s
        Limit for the LP (split only).

    Returns
    -------
    assignment
        The assignment and its cost.
    """
    if data.single_source:
        return assign_single(data, open_mask)
    return assign_split(data, open_mask, time_limit_s=time_limit_s)


def single_source_ok(data: CflpData, y: BoolArray, a: Assignment) -> bool:
    """Whether a rounded single-source MIP assignment is complete and within capacity."""
    per_row = np.bincount(data.e_row, weights=a.entry_frac, minlength=data.n_rows)
    if not np.allclose(per_row[data.served], 1.0):
        return False
    if (a.entry_frac[~y[data.e_site]] > 0).any():
        return False
    load = np.bincount(
        data.e_site, weights=a.entry_frac * data.weight[data.e_row], minlength=data.n_sites
    )
    return bool((load <= data.capacity * (1 + 1e-9) + 1e-9).all())
