"""Primal heuristics of the CFLP: repair of a site set, greedy drop/add/swap local search.

Moves are ranked by a cheap estimate that ignores capacities (closing ``j`` saves ``f_j``
and moves its rows to their next-cheapest open site; opening ``j`` costs ``f_j`` and
attracts the rows it serves more cheaply), then the best few are evaluated exactly with
:func:`planner.models.cflp._assign.assign` and the first improving one is taken.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from planner.models._base import BoolArray, FloatArray
from planner.models.cflp._assign import Assignment
from planner.models.cflp._data import CAPACITY_RTOL, CflpData, group_first

INF = float("inf")
# Exact evaluations per move type and round.
TOP_MOVES = 4

Evaluator = Callable[[BoolArray], Assignment]


def repair_sites(data: CflpData, open_mask: BoolArray, order_key: FloatArray) -> BoolArray:
    """Open extra sites until every row has an open site and capacity covers demand.

    Parameters
    ----------
    data
        Instance arrays.
    open_mask
        Sites proposed open.
    order_key
        Preference per site for opening (smaller first), e.g. fixed cost per capacity.

    Returns
    -------
    open_mask
        A superset that passes both checks (as far as allowed sites permit); required
        sites are always included and forbidden ones never.
    """
    y = (open_mask & data.allowed) | data.required
    # Rows without an open site: greedy cover -- open the site listed by most of them (ties:
    # smaller ``order_key``) until none is left. Opening every such row's cheapest site
    # instead would open one site per row when the lists are short.
    has = np.zeros(data.n_rows, dtype=np.bool_)
    has[data.e_row[y[data.e_site]]] = True
    need = data.served & ~has
    ent = np.flatnonzero(need[data.e_row] & ~y[data.e_site])
    rank = np.argsort(np.argsort(order_key, kind="stable"), kind="stable")
    while len(ent):
        count = np.bincount(data.e_site[ent], minlength=data.n_sites).astype(np.float64)
        pick = int(np.lexsort((rank, -count))[0])
        y[pick] = True
        lo, hi = data.site_ptr[pick], data.site_ptr[pick + 1]
        need[data.e_row[data.by_site[lo:hi]]] = False
        ent = ent[need[data.e_row[ent]] & (data.e_site[ent] != pick)]
    demand = data.total_demand
    cap = float(data.capacity[y].sum())
    if cap < demand * (1 + CAPACITY_RTOL):
        cand = np.flatnonzero(data.allowed & ~y)
        cand = cand[np.argsort(order_key[cand], kind="stable")]
        for j in cand:
            if cap >= demand * (1 + 1e-6):
                break
            y[j] = True
            cap += float(data.capacity[j])
    return y


def _row_cost(data: CflpData, a: Assignment) -> FloatArray:
    per_row: FloatArray = np.bincount(
        data.e_row, weights=a.entry_frac * data.pair_cost, minlength=data.n_rows
    ).astype(np.float64)
    return per_row


def _drop_estimates(data: CflpData, y: BoolArray, a: Assignment) -> FloatArray:
    """Estimated change of objective when closing each open free site (negative = better)."""
    m = data.n_sites
    open_e = y[data.e_site]
    # Cheapest and second-cheapest open pair cost per row.
    idx = np.flatnonzero(open_e)
    rows, first, counts = group_first(data.e_row[idx])
    best_site = np.full(data.n_rows, -1, dtype=np.int64)
    best_site[rows] = data.e_site[idx[first]]
    second = np.full(data.n_rows, INF)
    two = counts > 1
    second[rows[two]] = data.pair_cost[idx[first[two] + 1]]
    cur = _row_cost(data, a)
    delta = -data.fixed_cost.copy()
    served_by = np.flatnonzero(a.entry_frac > 0)
    r = data.e_row[served_by]
    s = data.e_site[served_by]
    inc = np.where(np.isfinite(second[r]), second[r] - cur[r], INF) * a.entry_frac[served_by]
    # Only rows whose best site is s lose that site; others keep paying about the same.
    inc = np.where(best_site[r] == s, inc, 0.0)
    delta += np.bincount(s, weights=inc, minlength=data.n_sites)
    delta[~y | data.required | ~data.allowed] = INF
    del m
    return delta


def _add_estimates(data: CflpData, y: BoolArray, a: Assignment) -> FloatArray:
    """Estimated change of objective when opening each closed site (negative = better)."""
    cur = _row_cost(data, a)
    gain = np.maximum(0.0, cur[data.e_row] - data.pair_cost)
    gain[~data.served[data.e_row]] = 0.0
    delta = data.fixed_cost.copy()
    delta -= np.bincount(data.e_site, weights=gain, minlength=data.n_sites)
    delta[y | ~data.allowed] = INF
    return delta


def local_search(
    data: CflpData,
    y: BoolArray,
    a: Assignment,
    *,
    evaluate: Evaluator,
    should_stop: Callable[[], bool],
    on_improve: Callable[[BoolArray, Assignment], None] | None = None,
    max_rounds: int = 200,
) -> tuple[BoolArray, Assignment]:
    """Improve a feasible site set by drop, add and swap moves until none helps.

    Parameters
    ----------
    data
        Instance arrays.
    y
        Open sites of a feasible solution.
    a
        Its assignment.
    evaluate
        Exact (or best available) assignment of a site set.
    should_stop
        Time limit / cancellation check.
    on_improve
        Called with every improved solution.
    max_rounds
        Limit on improving moves.

    Returns
    -------
    y, a
        The improved solution.
    """
    y = y.copy()
    tried: set[bytes] = set()

    def n_new(mask: BoolArray) -> int:
        return int((mask & ~data.required).sum())

    def attempt(cand: BoolArray) -> Assignment | None:
        key = cand.tobytes()
        if key in tried:
            return None
        tried.add(key)
        if not (data.min_new <= n_new(cand) <= data.max_new):
            return None
        res = evaluate(cand)
        if res.feasible and res.objective < a.objective - 1e-9 * max(1.0, abs(a.objective)):
            return res
        return None

    for _ in range(max_rounds):
        if should_stop():
            break
        improved = False
        drop = _drop_estimates(data, y, a)
        add = _add_estimates(data, y, a)
        drops = [int(j) for j in np.argsort(drop)[:TOP_MOVES] if np.isfinite(drop[j])]
        adds = [int(j) for j in np.argsort(add)[:TOP_MOVES] if np.isfinite(add[j])]
        moves: list[tuple[float, list[int], list[int]]] = []
        moves += [(float(drop[j]), [j], []) for j in drops]
        moves += [(float(add[j]), [], [j]) for j in adds]
        moves += [
            (float(drop[i] + add[j]), [i], [j]) for i in drops[:2] for j in adds[:2] if i != j
        ]
        moves.sort(key=lambda t: t[0])
        for _, out, into in moves:
            if should_stop():
                break
            cand = y.copy()
            cand[out] = False
            cand[into] = True
            res = attempt(cand)
            if res is not None:
                y, a = cand, res
                improved = True
                if on_improve is not None:
                    on_improve(y, a)
                break
        if not improved:
            break
    return y, a
