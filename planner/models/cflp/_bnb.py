"""Lagrangian branch-and-bound for the CFLP (Goertz & Klose 2012).

Problem (formulation (0)-(9) of :mod:`planner.models.cflp`)::

    min  sum_j f_j y_j + sum_{i,j} w_i c_ij x_ij
    s.t. sum_j x_ij = 1                  every served row i                     (1)
         sum_i w_i x_ij <= s_j y_j       every site j                           (2)
         x_ij <= y_j,  sum_j s_j y_j >= D,  new-site count bounds, y binary     (3)-(9)

Bound at a node (fixings ``y_j = 0`` for ``j`` in C, ``y_j = 1`` for ``j`` in O): the
Lagrangian relaxation of (1) in :mod:`planner.models.cflp._lagrange`::

    L(lambda) = sum_i lambda_i + min { sum_j v_j(lambda) y_j : (7), counts, y_C = 0, y_O = 1 }

with ``v_j`` the value of site ``j``'s continuous knapsack (L1). Any ``lambda`` gives a valid
bound on every solution in the node.

Algorithm (best-first search over the site variables)::

    queue <- {root: C, O from the root fixing, lambda from the root subgradient}
    while queue and not stopped:
        pop the node with the smallest bound; prune it if bound >= UB - tol
        subgradient: up to K iterations from the parent's lambda (Polyak step towards UB)
            each new (L2) open set -> primal heuristic (transportation LP / assignment)
            every few iterations: reduced-cost fixing of sites and of new-site counts
            stop early when bound >= UB - tol (prune) or (L2) meets (1)
        no free site left -> the open set is evaluated exactly (leaf)
        else branch on the free site whose average (L2) value over the node's iterations
             is closest to 1/2: children y_j = 0 and y_j = 1, each with the parent's
             lambda and the bound (L2) gives at it with y_j fixed

Branching rule measured on capb_6000 / capb_7000 / capc_5750: the average (L2) value needs
361 / 343 / 439 nodes, the site nearest the (L2) cut (``|v_j - v_(k)|`` smallest, the sites
(L2) is least sure about) 523 / 507 / 519.

The global bound is the smallest bound in the queue (or UB when it is empty). Open sets are
evaluated through callbacks (the caller caches them by key and keeps the incumbent). For
single-source demand the leaf evaluation must be exact (a generalised assignment problem):
the caller passes ``exact_leaf``.

The count exclusions of ``Lagrangian.count_fixing`` depend on the node's fixings, so each
node carries its own copy (set on the shared ``Lagrangian`` while the node is processed);
``Lagrangian.mu`` (relaxed aggregate capacity with unequal capacities) is saved the same way.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from planner.models._base import BoolArray, FloatArray
from planner.models.cflp._data import CflpData
from planner.models.cflp._lagrange import ZERO_NORM2, Lagrangian, _SubResult

INF = float("inf")
# Subgradient iterations per node (the root of the tree is the already optimised root).
NODE_ITERATIONS = 40
# Start step factor at a child node (its multipliers are already close).
NODE_PI = 0.5
# Halve the step factor after this many iterations without a better node bound.
NODE_STALL = 5
# Run the reduced-cost tests every this many iterations.
FIX_EVERY = 5
# Open sets evaluated by the primal heuristic per node.
NODE_EVALUATIONS = 2
# Largest relative distance of the Polyak target above the node bound.
TARGET_RGAP = 0.01


@dataclass
class BnbNode:
    """One open node of the search tree.

    Parameters
    ----------
    bound
        Lower bound of every solution in the node.
    closed
        Sites fixed closed.
    forced
        Sites fixed open.
    lam
        Start multipliers (the parent's best).
    count_excluded
        New-site counts excluded in this node (see ``Lagrangian.count_fixing``).
    mu
        Start multiplier of the aggregate capacity constraint (unequal capacities).
    depth
        Depth in the tree (root = 0).
    """

    bound: float
    closed: BoolArray
    forced: BoolArray
    lam: FloatArray
    count_excluded: BoolArray
    mu: float
    depth: int


@dataclass(frozen=True)
class BnbResult:
    """Outcome of :func:`branch_and_bound`.

    Parameters
    ----------
    bound
        Proven lower bound (the incumbent's objective minus ``tolerance`` when complete).
    complete
        Whether the tree was searched to the end.
    nodes
        Nodes processed.
    iterations
        Subgradient iterations over all nodes.
    max_depth
        Deepest node processed.
    root_free
        Free sites left after the root node's fixing (-1 if it was not processed).
    """

    bound: float
    complete: bool
    nodes: int
    iterations: int
    max_depth: int
    root_free: int = -1


def _node_subgradient(  # noqa: C901, PLR0915
    lag: Lagrangian,
    node: BnbNode,
    *,
    upper: Callable[[], float],
    tolerance: Callable[[], float],
    on_sites: Callable[[BoolArray], None],
    max_iter: int,
    pi: float,
    should_stop: Callable[[], bool],
) -> tuple[float, _SubResult | None, FloatArray, int]:
    """Optimise the node's multipliers; fix sites in place; return the best bound.

    Returns
    -------
    bound, best, y_avg, iterations
        Node bound, the minimiser at the best multipliers (None if (L2) is infeasible),
        average (L2) solution over the iterations, iterations done.
    """
    lam = node.lam.copy()
    best: _SubResult | None = None
    bound = node.bound
    y_sum = np.zeros(lag.data.n_sites)
    n_evals = 0
    stall = 0
    it = 0
    for it in range(1, max_iter + 1):
        res = lag.evaluate(lam, node.closed, node.forced)
        if not np.isfinite(res.value):
            return INF, None, y_sum, it
        y_sum += res.y
        if best is None or res.value > bound + 1e-12 * max(1.0, abs(bound)):
            bound = max(bound, res.value)
            best = res
            stall = 0
            node.mu = lag.mu
            if n_evals < NODE_EVALUATIONS and open_set_floor(lag.data, res.y) < upper():
                n_evals += 1
                on_sites(res.y)
        else:
            stall += 1
            if stall >= NODE_STALL:
                pi /= 2.0
                stall = 0
        ub = upper()
        tol = tolerance()
        if bound >= ub - tol:
            break
        if np.isfinite(ub) and it % FIX_EVERY == 0:
            const = res.value - float(res.v[res.y].sum())
            nc, no = lag.fixing(res, const, ub - tol, node.closed, node.forced)
            node.closed |= nc
            node.forced |= no
            lag.count_fixing(res, const, ub - tol, node.closed, node.forced)
            if nc.any() or no.any():
                continue  # the next evaluation sees the new fixings at the same multipliers
        g = lag.subgradient(res)
        norm2 = float(g @ g)
        if lag.use_mu:
            norm2 += res.mu_grad**2
        if norm2 <= ZERO_NORM2 or pi < 1e-4 or should_stop():  # noqa: PLR2004
            break
        cap = bound + TARGET_RGAP * abs(bound) + 1.0
        target = min(ub, cap) if np.isfinite(ub) else cap
        step = pi * max(target - res.value, 1e-9 * max(1.0, abs(res.value))) / norm2
        lam = lam + step * g
        lam[~lag.data.served] = 0.0
        if lag.use_mu:
            lag.mu = max(0.0, lag.mu + step * res.mu_grad)
    if best is not None:
        node.lam = best.lam
        ub = upper()
        if np.isfinite(ub) and bound < ub - tolerance():
            # Final tests at the best multipliers (with the fixings made meanwhile).
            res = lag.evaluate(best.lam, node.closed, node.forced)
            if not np.isfinite(res.value):
                return INF, None, y_sum, it
            bound = max(bound, res.value)
            best = res
            const = res.value - float(res.v[res.y].sum())
            nc, no = lag.fixing(res, const, ub - tolerance(), node.closed, node.forced)
            node.closed |= nc
            node.forced |= no
            lag.count_fixing(res, const, ub - tolerance(), node.closed, node.forced)
    return bound, best, y_sum / max(it, 1), it


def branch_and_bound(  # noqa: PLR0915
    lag: Lagrangian,
    *,
    lam: FloatArray,
    bound: float,
    closed: BoolArray,
    forced: BoolArray,
    upper: Callable[[], float],
    tolerance: Callable[[], float],
    on_sites: Callable[[BoolArray], None],
    exact_leaf: Callable[[BoolArray], None],
    should_stop: Callable[[], bool],
    on_bound: Callable[[float], None] | None = None,
    root_iterations: int = NODE_ITERATIONS,
) -> BnbResult:
    """Search the site variables by best-first Lagrangian branch-and-bound.

    Parameters
    ----------
    lag
        The relaxation (its ``count_excluded`` and ``mu`` are the root's; both are restored
        on return).
    lam
        Root multipliers (e.g. the best of the root subgradient phase).
    bound
        Root bound at ``lam``.
    closed, forced
        Root fixings (sites proven closed / open).
    upper
        Current incumbent objective (``inf`` if none); must fall as ``on_sites`` and
        ``exact_leaf`` find better solutions.
    tolerance
        Absolute pruning tolerance: a node with bound ``>= upper() - tolerance()`` is pruned.
    on_sites
        Primal heuristic: evaluate an open set (repair allowed) and update the incumbent.
    exact_leaf
        Evaluate an open set exactly (optimal assignment) and update the incumbent.
    should_stop
        Time limit / cancellation check.
    on_bound
        Called with each improved global bound.
    root_iterations
        Subgradient iterations at the root node.

    Returns
    -------
    result
        Global bound, completeness and counts.
    """
    d = lag.data
    root_cex = lag.count_excluded.copy()
    root_mu = lag.mu
    counter = itertools.count()
    heap: list[tuple[float, int, int, BnbNode]] = []
    root = BnbNode(
        bound=bound,
        closed=closed.copy(),
        forced=forced.copy(),
        lam=lam.copy(),
        count_excluded=root_cex.copy(),
        mu=root_mu,
        depth=0,
    )
    heapq.heappush(heap, (bound, 0, next(counter), root))
    nodes = 0
    iterations = 0
    max_depth = 0
    root_free = -1
    best_global = bound
    try:
        while heap:
            if should_stop():
                break
            node_bound, _, _, node = heapq.heappop(heap)
            if node_bound >= upper() - tolerance():
                continue
            glob = min(node_bound, heap[0][0]) if heap else node_bound
            if glob > best_global:
                best_global = glob
                if on_bound is not None:
                    on_bound(min(glob, upper()))
            nodes += 1
            max_depth = max(max_depth, node.depth)
            lag.count_excluded = node.count_excluded
            lag.mu = node.mu
            nb, res, y_avg, its = _node_subgradient(
                lag,
                node,
                upper=upper,
                tolerance=tolerance,
                on_sites=on_sites,
                max_iter=root_iterations if node.depth == 0 else NODE_ITERATIONS,
                pi=NODE_PI,
                should_stop=should_stop,
            )
            iterations += its
            node.bound = max(node.bound, nb)
            if node.depth == 0:
                root_free = int((d.free & ~node.closed & ~node.forced).sum())
            if res is None or node.bound >= upper() - tolerance():
                continue
            cand = np.flatnonzero(d.free & ~node.closed & ~node.forced)
            if not len(cand):
                exact_leaf(d.required | (node.forced & d.allowed))
                continue
            # Branch on the free site whose average (L2) value is closest to 1/2 (ties:
            # the one with the largest |v_j|).
            score = np.abs(y_avg[cand] - 0.5) - 1e-9 * np.abs(res.v[cand]) / (
                1.0 + float(np.abs(res.v[cand]).max())
            )
            j = int(cand[int(np.argmin(score))])
            const = res.value - float(res.v[res.y].sum())
            for open_child in (False, True):
                cl = node.closed.copy()
                fo = node.forced.copy()
                if open_child:
                    fo[j] = True
                else:
                    cl[j] = True
                val, _ = lag.solve_sites(res.v, cl, fo)
                child_bound = max(node.bound, const + val)
                if child_bound >= upper() - tolerance():
                    continue
                child = BnbNode(
                    bound=child_bound,
                    closed=cl,
                    forced=fo,
                    lam=node.lam.copy(),
                    count_excluded=node.count_excluded.copy(),
                    mu=node.mu,
                    depth=node.depth + 1,
                )
                heapq.heappush(heap, (child_bound, -child.depth, next(counter), child))
    finally:
        lag.count_excluded = root_cex
        lag.mu = root_mu
    ub = upper()
    complete = not heap
    done = ub - tolerance() if np.isfinite(ub) else INF
    final = done if complete else min(heap[0][0], ub)
    final = max(final, bound) if np.isfinite(bound) else final
    return BnbResult(
        bound=final,
        complete=complete,
        nodes=nodes,
        iterations=iterations,
        max_depth=max_depth,
        root_free=root_free,
    )


def restrict(data: CflpData, closed: BoolArray) -> CflpData:
    """Copy of the instance without the sites in ``closed`` (they become forbidden).

    Solutions of the copy are solutions of ``data`` with the same objective; after the root
    fixing this shrinks the knapsacks (L1) and the transportation LPs of every node.

    Parameters
    ----------
    data
        Instance arrays.
    closed
        Sites to drop (required sites are kept).

    Returns
    -------
    data
        The restricted instance (same row and site numbering).
    """
    drop = closed & ~data.required
    keep = np.flatnonzero(~drop[data.e_site])
    e_row = data.e_row[keep]
    e_site = data.e_site[keep]
    n, m = data.n_rows, data.n_sites
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(e_row, minlength=n), out=indptr[1:])
    site_ptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(e_site, minlength=m), out=site_ptr[1:])
    allowed = data.allowed & ~drop
    n_free = int((allowed & ~data.required).sum())
    return replace(
        data,
        allowed=allowed,
        indptr=indptr,
        e_row=e_row,
        e_site=e_site,
        e_cost=data.e_cost[keep],
        pair_cost=data.pair_cost[keep],
        by_site=np.argsort(e_site, kind="stable").astype(np.int64),
        site_ptr=site_ptr,
        max_new=min(data.max_new, n_free),
        min_new=data.min_new,
    )


def open_set_floor(data: CflpData, y: BoolArray) -> float:
    """Lower bound on the objective of an open set: fixed costs plus cheapest open pairs.

    Capacities ignored; screens (L2) open sets before the transportation LP.

    Parameters
    ----------
    data
        Instance arrays.
    y
        Open sites.

    Returns
    -------
    floor
        ``sum_{j in y} f_j + sum_i min_{j in y} w_i c_ij`` (``inf`` if a row has no open site).
    """
    served = np.flatnonzero(data.served)
    if not len(served):
        return float(data.fixed_cost[y].sum())
    cost = np.where(y[data.e_site], data.pair_cost, INF)
    starts = data.indptr[served]
    if (data.indptr[served + 1] == starts).any():
        return INF
    # Rows of served entries are contiguous; reduceat over the served rows' starts (entries
    # of unserved rows are absent: CflpData keeps only served rows' entries).
    row_min = np.minimum.reduceat(cost, starts) if len(cost) else np.full(len(served), INF)
    return float(data.fixed_cost[y].sum() + row_min.sum())
