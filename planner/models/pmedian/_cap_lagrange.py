"""Lagrangian bound, heuristic and variable fixing for the capacitated (single-source) p-median.

Relaxing the assignment rows (C2) ``sum_j x_ij = 1`` of :mod:`._capacitated` with multipliers
``lambda_i`` leaves, for each site ``j``, a 0-1 knapsack (integer weights ``w_i``)::

    v_j = f_j + min { sum_i (w_i c_ij - lambda_i) x_ij : sum_i w_i x_ij <= Q_j, x binary }

and ``L(lambda) = sum_i lambda_i + sum_{j required} v_j + (the p - #required smallest v_j
of the other allowed sites)`` is a lower bound (Ceselli & Righini 2005 give the same bound
as the LP of their column generation). The knapsacks are solved exactly by dynamic
programming (``kernels().knapsack01``), lazily: the continuous knapsack (a lower estimate)
orders the sites and only those that may be among the ``p`` smallest are solved exactly.

Fixing (valid for every solution cheaper than the incumbent ``UB``): with ``x_ij = 1``,
``v_j >= f_j + rc_ij + F_j(Q_j - w_i)`` where ``F_j(c)`` is the DP value within capacity
``c`` (over all items, a relaxation of "the others"), so the bound with ``x_ij = 1`` is
``L - v_j + that`` when ``j`` is among the chosen sites, else ``L - v_(p) + that``. Pairs
whose bound reaches ``UB`` (``UB - 1`` plus a margin with integral costs) are left out of the
MIP that follows; a site whose bound with it open reaches ``UB`` closes, and a chosen site
whose bound with it closed (the cheapest unchosen site in its place) reaches ``UB`` stays
open.

The subgradient method proposes site sets; each new one is assigned by a generalised
assignment heuristic (:func:`gap_assignment`: regret construction, shift and swap moves with
an overload penalty) to give incumbents; the best is improved by moving medians within their
clusters (:func:`relocate_medians`) and the best site sets get an exact assignment (a short
MIP) before the fixing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planner.models._base import BoolArray, FloatArray, IntArray, LocationProblem
from planner.models._kernels import kernels
from planner.models.pmedian._prepare import Prepared

INF = float("inf")
# Subgradient: halve the step factor after this many iterations without a better bound.
_PATIENCE = 25
_MIN_THETA = 5e-4
_INTEGRAL_TOL = 1e-9  # weights / costs this close to integers are integers
_ZERO_NORM2 = 1e-18  # a smaller subgradient is zero: the relaxed rows hold
# Overload price of the assignment heuristic: from this share of the top price, times the
# growth factor per round.
_ALPHA_START = 1e-3
_ALPHA_GROWTH = 4.0
_OVERLOAD_TOL = 1e-9  # less overload than this fits
_POLISH_THETA = 0.25  # step factor of the subgradient steps after a better incumbent
_PROPOSE_SHARE = 0.3  # most share of the subgradient time in the assignment heuristic
_SEARCH_STARTS = 50  # most starts of the median local search (the incumbent first)
_SEARCH_STALL = 4  # ... and it stops after this many starts in a row without a better one


@dataclass(frozen=True, eq=False)
class CapEntries:
    """The listed pairs of a capacitated p-median, grouped by site.

    Parameters
    ----------
    row, site
        Demand row and site of each pair (sorted by site).
    cost
        Unit cost ``c_ij``.
    pair_cost
        Weighted cost ``w_i c_ij``.
    weight
        Integer weight ``w_i`` of the pair's row.
    site_ptr
        Pairs of site ``j`` are ``site_ptr[j]:site_ptr[j + 1]``.
    capacity
        Integer capacity per site.
    allowed
        Sites that may open.
    required
        Sites that must open.
    rows
        The reachable demand rows (the others are left out).
    """

    row: IntArray
    site: IntArray
    cost: FloatArray
    pair_cost: FloatArray
    weight: IntArray
    site_ptr: IntArray
    capacity: IntArray
    allowed: BoolArray
    required: BoolArray
    rows: IntArray


@dataclass(frozen=True, eq=False)
class CapLagrange:
    """Outcome of :func:`cap_lagrangian`.

    Parameters
    ----------
    bound
        Best Lagrangian bound.
    incumbent
        Best objective found (``inf`` if none).
    open_sites
        Its open sites.
    assignment
        Its site per demand row (-1 for unreachable rows).
    keep
        Per pair of :class:`CapEntries`: may be 1 in a solution cheaper than the incumbent.
    closed
        Sites that open in no solution cheaper than the incumbent.
    forced
        Sites of the incumbent that open in every solution cheaper than it.
    entries
        The pairs.
    iterations
        Subgradient iterations.
    """

    bound: float
    incumbent: float
    open_sites: IntArray
    assignment: IntArray
    keep: BoolArray
    closed: BoolArray
    forced: BoolArray
    entries: CapEntries
    iterations: int


def cap_entries(problem: LocationProblem, prep: Prepared) -> CapEntries | None:
    """Return the pairs grouped by site, or ``None`` when weights are not integers.

    Parameters
    ----------
    problem
        A capacitated p-median.
    prep
        Its preparation (unreachable rows).

    Returns
    -------
    entries
        The pairs, or ``None`` (non-integral weights: the DP does not apply).
    """
    costs, sites, w = problem.costs, problem.sites, problem.weights
    if not (np.all(w >= 0) and np.all(np.abs(w - np.round(w)) <= _INTEGRAL_TOL)):
        return None
    row_of = costs.row_of_entry
    allowed = ~sites.forbidden
    keep = allowed[costs.site_index] & ~prep.unreachable[row_of]
    e_row, e_site, e_cost = row_of[keep], costs.site_index[keep], costs.cost[keep]
    order = np.argsort(e_site, kind="stable")
    e_row, e_site, e_cost = e_row[order], e_site[order], e_cost[order]
    m = costs.n_sites
    site_ptr = np.zeros(m + 1, dtype=np.int64)
    site_ptr[1:] = np.cumsum(np.bincount(e_site, minlength=m))
    w_int = np.round(w).astype(np.int64)
    total = int(w_int[~prep.unreachable].sum())
    cap = sites.capacity
    cap_int = np.where(np.isfinite(cap), np.floor(np.minimum(cap, total) + 1e-9), total)
    return CapEntries(
        row=e_row.astype(np.int64),
        site=e_site.astype(np.int64),
        cost=e_cost.astype(np.float64),
        pair_cost=(w[e_row] * e_cost).astype(np.float64),
        weight=w_int[e_row],
        site_ptr=site_ptr,
        capacity=cap_int.astype(np.int64),
        allowed=allowed.copy(),
        required=sites.required.copy(),
        rows=np.flatnonzero(~prep.unreachable).astype(np.int64),
    )


def _row_position(ent: CapEntries, n_rows: int) -> IntArray:
    """Position of each demand row in ``ent.rows`` (-1 for the rows left out)."""
    pos = np.full(n_rows, -1, dtype=np.int64)
    pos[ent.rows] = np.arange(len(ent.rows))
    return pos


def _penalty(cost: FloatArray, w: FloatArray) -> float:
    """Price of a unit of overload above any saving a single move can make."""
    finite = cost[np.isfinite(cost)]
    top = float(finite.max()) if finite.size else 1.0
    return 2.0 * max(top, 1.0) / max(float(w.min(initial=1.0)), 1e-9) + 1.0


def gap_assignment(
    ent: CapEntries,
    n_rows: int,
    open_mask: BoolArray,
    weights: FloatArray,
    *,
    start: IntArray | None = None,
    dense: FloatArray | None = None,
) -> IntArray | None:
    """Assign rows to the open sites, single source within capacities (heuristic).

    A generalised assignment: regret construction, then shift and swap moves on the cost
    plus a penalty per unit of overload (``kernels().gap_search``), from ``start`` (site
    per row; rows on closed sites are placed anew) when given.

    Parameters
    ----------
    ent
        The pairs.
    n_rows
        Number of demand rows.
    open_mask
        Open sites.
    weights
        Demand weight per row.
    start
        Starting site per row, or ``None``.
    dense
        The weighted cost of every row of ``ent.rows`` at every site (``inf``: not
        listed), when at hand (:func:`dense_costs`).

    Returns
    -------
    assignment
        Site per row (-1 for rows not in ``ent.rows``), or ``None`` if no feasible one was
        found.
    """
    opened = np.flatnonzero(open_mask)
    col = np.full(len(open_mask), -1, dtype=np.int64)
    col[opened] = np.arange(len(opened))
    if dense is not None:
        cost = np.ascontiguousarray(dense[:, opened])
    else:
        pos = _row_position(ent, n_rows)
        sel = open_mask[ent.site]
        cost = np.full((len(ent.rows), len(opened)), INF)
        cost[pos[ent.row[sel]], col[ent.site[sel]]] = ent.pair_cost[sel]
    w = np.ascontiguousarray(weights[ent.rows], dtype=np.float64)
    cap = ent.capacity[opened].astype(np.float64)
    local = np.full(len(ent.rows), -1, dtype=np.int64)
    if start is not None:
        s = start[ent.rows]
        ok = s >= 0
        local[ok] = col[s[ok]]
        bad = local >= 0
        bad[bad] = ~np.isfinite(cost[np.flatnonzero(bad), local[bad]])
        local[bad] = -1
    # Strategic oscillation: a cheap overload first (the search may cross infeasible
    # assignments), dearer until the assignment fits (the top price outweighs any saving).
    top = _penalty(cost, w)
    alpha = top * _ALPHA_START
    while True:
        over = kernels().gap_search(cost, w, cap, local, alpha, 50)
        if over <= _OVERLOAD_TOL or alpha >= top:
            break
        alpha = min(alpha * _ALPHA_GROWTH, top)
    if over > _OVERLOAD_TOL or (local < 0).any():
        return None
    assignment = np.full(n_rows, -1, dtype=np.int64)
    assignment[ent.rows] = opened[local]
    return assignment


def dense_costs(ent: CapEntries, n_rows: int, max_cells: int = 20_000_000) -> FloatArray | None:
    """Weighted cost of each row of ``ent.rows`` at each site (``inf``: not listed).

    ``None`` when the matrix would have more than ``max_cells`` cells (the median moves
    below then do not run).
    """
    m = len(ent.capacity)
    if len(ent.rows) * m > max_cells:
        return None
    pos = _row_position(ent, n_rows)
    dense = np.full((len(ent.rows), m), INF)
    dense[pos[ent.row], ent.site] = ent.pair_cost
    return dense


def improve_medians(  # noqa: C901 -- one local search with its bookkeeping
    ent: CapEntries,
    n_rows: int,
    weights: FloatArray,
    assignment: IntArray,
    *,
    dense: FloatArray,
    fixed: FloatArray,
    deadline_s: float,
    n_candidates: int = 6,
) -> tuple[float, IntArray]:
    """Local search on the open sites of a feasible single-source assignment.

    Moves, first improvement, until none improves or ``deadline_s``:

    * relocate (the location-allocation alternation): every median moves to the allowed
      site with the least cost to its cluster's rows and enough capacity, then the rows are
      re-assigned from the moved clusters;
    * swap: close one median ``j`` and open a site ``t`` among the ``n_candidates`` best for
      ``j``'s cluster and the ``n_candidates`` with the largest unconstrained saving over
      the current assignment; ``j``'s rows are re-placed and the whole assignment improved
      by :func:`gap_assignment` (warm start).

    Required sites never close.

    Parameters
    ----------
    ent
        The pairs.
    n_rows
        Number of demand rows.
    weights
        Demand weight per row.
    assignment
        A feasible site per row.
    dense
        :func:`dense_costs`.
    fixed
        Fixed cost per site.
    deadline_s
        ``time.perf_counter()`` value at which to stop.
    n_candidates
        Sites tried per closing median, of each kind.

    Returns
    -------
    result
        Objective (fixed costs included) and site per row of the best assignment.
    """
    m = len(ent.capacity)
    w = weights[ent.rows]
    rows = ent.rows
    ar = np.arange(len(rows))
    best = assignment.copy()
    best_cost = float(dense[ar, best[rows]].sum()) + float(fixed[np.unique(best[rows])].sum())

    def accept(mask: BoolArray, start: IntArray) -> bool:
        nonlocal best, best_cost
        got = gap_assignment(ent, n_rows, mask, weights, start=start, dense=dense)
        if got is None:
            return False
        c = float(dense[ar, got[rows]].sum()) + float(fixed[mask].sum())
        if c < best_cost - 1e-9 * max(1.0, abs(best_cost)):
            best, best_cost = got, c
            return True
        return False

    improved = True
    while improved and time.perf_counter() < deadline_s:
        improved = False
        # relocate every median at once
        cur = best[rows]
        is_open = np.zeros(m, dtype=np.bool_)
        is_open[np.unique(cur)] = True
        new_open = is_open.copy()
        moved = best.copy()
        for j in np.flatnonzero(is_open):
            if ent.required[j]:
                continue
            members = np.flatnonzero(cur == j)
            load = float(w[members].sum())
            total = dense[members].sum(axis=0)
            ok = ent.allowed & (ent.capacity >= load - 1e-9) & (~new_open | (np.arange(m) == j))
            total = np.where(ok, total, INF)
            t = int(np.argmin(total))
            if t != j and total[t] < total[j] - 1e-9:
                new_open[j] = False
                new_open[t] = True
                moved[rows[members]] = t
        if (new_open != is_open).any() and accept(new_open, moved):
            improved = True
            continue
        # swaps
        cur = best[rows]
        cur_cost = dense[ar, cur]
        saving = np.maximum(cur_cost[:, None] - dense, 0.0).sum(axis=0)
        for j in np.flatnonzero(is_open):
            if ent.required[j] or time.perf_counter() >= deadline_s:
                continue
            members = np.flatnonzero(cur == j)
            total = dense[members].sum(axis=0)
            ok = ent.allowed & ~is_open
            by_cluster = np.flatnonzero(ok)[np.argsort(total[ok], kind="stable")[:n_candidates]]
            by_saving = np.flatnonzero(ok)[np.argsort(-saving[ok], kind="stable")[:n_candidates]]
            for t in np.unique(np.concatenate([by_cluster, by_saving])):
                mask = is_open.copy()
                mask[j] = False
                mask[t] = True
                start = best.copy()
                start[rows[members]] = -1
                if accept(mask, start):
                    improved = True
                    break
                if time.perf_counter() >= deadline_s:
                    break
            if improved:
                break
    return best_cost, best


def _initial_lambda(ent: CapEntries, n_rows: int, p: int) -> FloatArray:
    """Per row, its cost to about its (m / p)-th nearest site (a typical assignment)."""
    m = int(ent.allowed.sum())
    rank = max(1, m // max(p, 1))
    lam = np.zeros(n_rows)
    order = np.lexsort((ent.pair_cost, ent.row))
    rows_sorted = ent.row[order]
    start = np.searchsorted(rows_sorted, np.arange(n_rows))
    end = np.searchsorted(rows_sorted, np.arange(n_rows), side="right")
    pos = np.minimum(start + rank, end - 1)
    has = end > start
    lam[has] = ent.pair_cost[order][pos[has]]
    return lam


@dataclass
class _State:
    lam: FloatArray
    bound: float
    ub: float
    best_open: IntArray
    best_assign: IntArray


def cap_lagrangian(  # noqa: C901, PLR0915 -- one subgradient loop with its bookkeeping
    problem: LocationProblem,
    ent: CapEntries,
    *,
    deadline_s: float,
    integral: bool,
    on_bound: Callable[[float], None] | None = None,
    improve: Callable[[BoolArray], tuple[float, IntArray] | None] | None = None,
    n_improve: int = 1,
    search_deadline_s: float | None = None,
    polish_deadline_s: float | None = None,
) -> CapLagrange:
    """Subgradient optimisation of the bound, incumbents from its site sets, and fixing.

    Parameters
    ----------
    problem
        The capacitated p-median.
    ent
        Its pairs (:func:`cap_entries`).
    deadline_s
        ``time.perf_counter()`` value at which to stop.
    integral
        Every feasible objective is an integer (pairs fix against ``UB - 1``).
    on_bound
        Called with each better bound.
    improve
        Exact assignment of an open set (objective, site per row), tried on the
        ``n_improve`` best site sets of the greedy before the fixing.
    n_improve
        How many site sets ``improve`` gets.
    search_deadline_s
        End of the local search on the open sites (:func:`improve_medians`) after the
        subgradient method (default: ``deadline_s``, i.e. none when that has passed).
    polish_deadline_s
        End of more subgradient steps from the best multipliers when the local search or
        ``improve`` found a better incumbent (``None``: none).

    Returns
    -------
    result
        Bound, incumbent and the pairs kept for the MIP.
    """
    k = kernels()
    if search_deadline_s is None:
        search_deadline_s = deadline_s
    n_rows = problem.n_demand
    m = len(ent.capacity)
    p = int(problem.p or 0)
    fixed = problem.sites.fixed_cost.astype(np.float64)
    req = ent.required & ent.allowed
    free = ent.allowed & ~req
    n_free = p - int(req.sum())
    weights = problem.weights
    ent_w_f = ent.weight.astype(np.float64)
    cap_f = ent.capacity.astype(np.float64)
    take = np.zeros(len(ent.row))
    gain_lp = np.zeros(m)
    gain = np.zeros(m)
    fix = np.zeros(len(ent.row))
    state = _State(
        lam=_initial_lambda(ent, n_rows, p),
        bound=-INF,
        ub=INF,
        best_open=np.zeros(0, dtype=np.int64),
        best_assign=np.full(n_rows, -1, dtype=np.int64),
    )
    seen: dict[bytes, float] = {}

    def try_sites(open_mask: BoolArray) -> None:
        key = open_mask.tobytes()
        if key in seen:
            return
        seen[key] = INF
        a = gap_assignment(ent, n_rows, open_mask, weights)
        if a is None:
            return
        rows = ent.rows
        obj = float(np.sum(_pair_cost_of(ent, rows, a[rows]))) + float(fixed[open_mask].sum())
        seen[key] = obj
        if obj < state.ub - 1e-9:
            state.ub = obj
            state.best_open = np.flatnonzero(open_mask)
            state.best_assign = a

    def evaluate(lam: FloatArray, *, exact_all: bool) -> tuple[float, BoolArray, FloatArray]:
        """Return L(lam), the chosen sites and v_j (exact where computed, else LP)."""
        k.cflp_knapsack(ent.site_ptr, ent.row, ent_w_f, ent.pair_cost, lam, cap_f, take, gain_lp)
        v = fixed + gain_lp
        v = np.where(ent.allowed, v, INF)
        exact = np.zeros(m, dtype=np.bool_)
        if exact_all:
            active = ent.allowed.copy()
        else:
            active = req.copy()
            order = np.flatnonzero(free)[np.argsort(v[free], kind="stable")]
            active[order[: max(2 * n_free, n_free + 2)]] = True
        while True:
            todo = active & ~exact
            if todo.any():
                k.knapsack01(
                    ent.site_ptr,
                    ent.row,
                    ent.weight,
                    ent.pair_cost,
                    lam,
                    ent.capacity,
                    todo,
                    exact_all,
                    take,
                    gain,
                    fix,
                )
                v[todo] = fixed[todo] + gain[todo]
                exact |= todo
            if exact_all or n_free == 0:
                break
            cand = np.flatnonzero(free & exact)
            kth = np.sort(v[cand])[n_free - 1] if len(cand) >= n_free else INF
            rest = np.flatnonzero(free & ~exact)
            if rest.size == 0:
                break
            nxt = rest[v[rest] < kth]
            if nxt.size == 0:
                break
            active[nxt[np.argsort(v[nxt])[: max(n_free, 4)]]] = True
        chosen = req.copy()
        if n_free > 0:
            cand = np.flatnonzero(free & exact)
            chosen[cand[np.argsort(v[cand], kind="stable")[:n_free]]] = True
        value = float(lam[ent.rows].sum() + v[chosen].sum())
        return value, chosen, v

    best_lam = state.lam.copy()
    started = time.perf_counter()
    spent = [0.0]  # seconds in the assignment heuristic

    def ascend(lam: FloatArray, theta: float, until_s: float, *, propose: bool) -> int:
        """Subgradient steps from ``lam`` until ``until_s``; returns the iterations."""
        nonlocal best_lam
        stall = 0
        it = 0
        while time.perf_counter() < until_s:
            it += 1
            value, chosen, _ = evaluate(lam, exact_all=False)
            if value > state.bound + 1e-9:
                state.bound = value
                best_lam = lam.copy()
                stall = 0
                if on_bound is not None:
                    on_bound(value)
            else:
                stall += 1
                if stall >= _PATIENCE:
                    theta *= 0.5
                    stall = 0
            if propose and spent[0] <= _PROPOSE_SHARE * (time.perf_counter() - started):
                # The assignment heuristic takes at most its share of the time: on large
                # instances the bound needs the iterations more than every proposal.
                t_try = time.perf_counter()
                try_sites(chosen)
                spent[0] += time.perf_counter() - t_try
            served = np.bincount(
                ent.row, weights=np.where(chosen[ent.site], take, 0.0), minlength=n_rows
            )
            g = np.zeros(n_rows)
            g[ent.rows] = 1.0 - served[ent.rows]
            norm2 = float(g @ g)
            gap_target = _margin(state.ub, integral)
            if norm2 <= _ZERO_NORM2 or state.bound >= state.ub - gap_target or theta < _MIN_THETA:
                break
            target = state.ub if math.isfinite(state.ub) else abs(value) * 1.05 + 1.0
            step = theta * max(target - value, 1e-9 * max(1.0, abs(target))) / norm2
            lam = lam + step * g
        return it

    it = ascend(state.lam.copy(), 2.0, deadline_s, propose=True)
    ub_ascent = state.ub
    dense = dense_costs(ent, n_rows) if math.isfinite(state.ub) else None
    if dense is not None:
        # Local search from the incumbent, then from the next best proposed site sets while
        # time is left (a few starts: the search ends in different local optima).
        ranked = [key for key, v in sorted(seen.items(), key=lambda kv: kv[1]) if v < INF]
        no_gain = 0
        for n_start, key in enumerate([b"", *ranked[1:_SEARCH_STARTS]]):
            start = state.best_assign
            if n_start > 0:
                if time.perf_counter() >= search_deadline_s or no_gain >= _SEARCH_STALL:
                    break
                got_a = gap_assignment(
                    ent, n_rows, np.frombuffer(key, dtype=np.bool_).copy(), weights, dense=dense
                )
                if got_a is None:
                    continue
                start = got_a
            obj, moved = improve_medians(
                ent,
                n_rows,
                weights,
                start,
                dense=dense,
                fixed=fixed,
                deadline_s=search_deadline_s,
            )
            mask = np.zeros(m, dtype=np.bool_)
            mask[np.unique(moved[ent.rows])] = True
            seen[mask.tobytes()] = obj
            no_gain += 1
            if obj < state.ub - 1e-9:
                state.ub = obj
                state.best_open = np.flatnonzero(mask)
                state.best_assign = moved
                no_gain = 0
    if improve is not None:
        for key, _ in sorted(seen.items(), key=lambda kv: kv[1])[:n_improve]:
            mask = np.frombuffer(key, dtype=np.bool_).copy()
            got = improve(mask)
            if got is not None and got[0] < state.ub - 1e-9:
                state.ub = got[0]
                state.best_open = np.flatnonzero(mask)
                state.best_assign = got[1]
    if state.ub < ub_ascent - 1e-9 and polish_deadline_s is not None:
        # A better incumbent is a better target for the step size: polish the bound (and
        # with it the fixing) from the best multipliers.
        it += ascend(best_lam.copy(), _POLISH_THETA, polish_deadline_s, propose=False)
    # Fixing at the best multipliers, every site solved exactly with its DP table.
    value, chosen, v = evaluate(best_lam, exact_all=True)
    bound = max(state.bound, value)
    keep = np.ones(len(ent.row), dtype=np.bool_)
    closed = ~ent.allowed
    forced = np.zeros(m, dtype=np.bool_)
    if math.isfinite(state.ub):
        margin = _margin(state.ub, integral)
        rc = ent.pair_cost - best_lam[ent.row]
        free_chosen = np.flatnonzero(chosen & free)
        vp = float(v[free_chosen].max()) if free_chosen.size else INF
        vj_forced = fixed[ent.site] + rc + fix
        in_set = chosen[ent.site]
        pair_bound = np.where(in_set, value - v[ent.site] + vj_forced, value - vp + vj_forced)
        keep = pair_bound < state.ub - margin
        # Never drop the incumbent's own pairs (its start solution stays feasible).
        inc = state.best_assign[ent.row] == ent.site
        keep |= inc
        site_bound = np.where(chosen, value, value - vp + v)
        closed = closed | ((site_bound >= state.ub - margin) & ~req)
        closed[state.best_open] = False
        keep &= ~closed[ent.site]
        # Closing a chosen site lets the cheapest other (not closed) one in its place.
        others = np.flatnonzero(free & ~chosen & ~closed)
        v_next = float(v[others].min()) if others.size else INF
        forced = chosen & free & (value - v + v_next >= state.ub - margin)
        forced &= np.isin(np.arange(m), state.best_open)
    return CapLagrange(
        bound=bound,
        incumbent=state.ub,
        open_sites=state.best_open,
        assignment=state.best_assign,
        keep=keep,
        closed=closed,
        forced=forced,
        entries=ent,
        iterations=it,
    )


def _margin(ub: float, integral: bool) -> float:  # noqa: FBT001
    """How far below ``UB`` a bound must stay to matter (integral costs: a whole unit)."""
    if not math.isfinite(ub):
        return 0.0
    return 1.0 - 1e-6 if integral else max(1e-9 * abs(ub), 1e-9)


def _pair_cost_of(ent: CapEntries, rows: IntArray, sites: IntArray) -> FloatArray:
    """Weighted cost of assigning ``rows`` to ``sites`` (pairs must be listed)."""
    key = ent.row * (len(ent.capacity) + 1) + ent.site
    order = np.argsort(key)
    want = rows * (len(ent.capacity) + 1) + sites
    pos = order[np.searchsorted(key[order], want)]
    return ent.pair_cost[pos]
