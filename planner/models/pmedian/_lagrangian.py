"""Lagrangian relaxation of the p-median assignment constraints, with site fixing.

On a :class:`~planner.models.pmedian._heuristics.SparseInstance` (weighted costs wc_ij, the
always-available "beyond" option bw_i, fixed costs f_j), relaxing sum_j x_ij = 1 with
multipliers u_i gives (Beasley 1985; Cornuejols, Fisher & Nemhauser 1977)::

    L(u) = sum_i u_i + sum_i min(0, bw_i - u_i) + min_{|Y| = p, Y >= required} sum_{j in Y} rho_j
    rho_j = f_j + sum_{i lists j} min(0, wc_ij - u_i)

so the sites with the smallest rho_j open. L(u) is a lower bound for every u, also for the
full problem behind a truncated (k-nearest) structure, because bw_i never exceeds the
cost of any unlisted site. The multipliers follow the subgradient
g_i = 1 - sum_j x_ij(u) with Polyak steps lambda * (UB - L) / |g|^2.

Site fixing (reduced-cost tests), valid for any u: with q free sites to open and
rho_(q), rho_(q+1) the q-th and (q+1)-th smallest free rho,

* a closed free site j with L + rho_j - rho_(q) > T is closed in every solution cheaper
  than T;
* an open free site j with L - rho_j + rho_(q+1) > T is open in every such solution,

where T is the caller's threshold (the incumbent minus the improvement that matters).
Fixed sites stay fixed for the rest of the run, which also raises L.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planner.models._base import BoolArray, FloatArray
from planner.models._kernels import kernels
from planner.models.pmedian._heuristics import SparseInstance, objective_of, restrict


@dataclass(frozen=True, eq=False)
class LagrangianResult:
    """Outcome of :func:`subgradient`.

    Parameters
    ----------
    bound
        Best Lagrangian lower bound found.
    multipliers
        Multipliers that gave ``bound``.
    fixed_open
        Sites proven open in every solution cheaper than the threshold (required ones too).
    fixed_closed
        Sites proven closed in every such solution (forbidden ones too).
    iterations
        Subgradient iterations run.
    open_sets
        Distinct relaxed open sets seen (best bound first), for primal heuristics.
    """

    bound: float
    multipliers: FloatArray
    fixed_open: BoolArray
    fixed_closed: BoolArray
    iterations: int
    open_sets: tuple[BoolArray, ...]


def subgradient(  # noqa: C901, PLR0912, PLR0915
    inst: SparseInstance,
    *,
    upper_bound: float,
    threshold: float,
    u0: FloatArray,
    max_iterations: int = 2_000,
    lambda0: float = 2.0,
    patience: int = 30,
    min_lambda: float = 1e-4,
    should_stop: Callable[[], bool] | None = None,
    on_bound: Callable[[float], None] | None = None,
    integral: bool = False,
    fixed_open: BoolArray | None = None,
    fixed_closed: BoolArray | None = None,
    max_open_sets: int = 64,
) -> LagrangianResult:
    """Maximise L(u) by subgradient steps and fix sites on the way.

    Parameters
    ----------
    inst
        The instance.
    upper_bound
        Objective of the best known solution (for the step length).
    threshold
        Only solutions cheaper than this matter for fixing (e.g. ``UB - 1 + eps`` with
        integral data).
    u0
        Starting multipliers (one per row).
    max_iterations
        Iteration cap.
    lambda0
        Initial step factor.
    patience
        Halve the step factor after this many iterations without a better bound.
    min_lambda
        Stop when the step factor falls below this.
    should_stop
        Polled every iteration.
    on_bound
        Called whenever the bound improves.
    integral
        The objective is integral for every solution (bounds may be rounded up).
    fixed_open, fixed_closed
        Sites already fixed (a branch-and-bound node); required/forbidden are added.
    max_open_sets
        How many distinct relaxed open sets to keep.

    Returns
    -------
    result
        Bound, multipliers, fixings and relaxed open sets.
    """
    m = inst.n_sites
    site = inst.site
    wc = inst.wcost
    bw = inst.beyond_w
    fixed_open = inst.required.copy() if fixed_open is None else fixed_open | inst.required
    fixed_closed = ~inst.allowed if fixed_closed is None else fixed_closed | ~inst.allowed
    u = u0.astype(np.float64).copy()
    best_u = u.copy()
    best_l = -math.inf
    lam = lambda0
    since = 0
    it = 0
    open_sets: list[BoolArray] = []
    seen: set[bytes] = set()
    gap_target = threshold
    # Diagonal preconditioner: multipliers move in proportion to the row's weight (u_i is
    # a weighted cost), so light and heavy rows converge at the same relative pace.
    wpos = inst.weights[inst.weights > 0]
    precond = inst.weights / float(wpos.mean()) if len(wpos) else np.ones(inst.n_rows)
    kern = kernels()
    indptr = inst.indptr
    rho = np.empty(m)
    g = np.empty(inst.n_rows)
    while it < max_iterations:
        if should_stop is not None and should_stop():
            break
        it += 1
        # One pass over the negative reduced costs (a prefix of each cost-sorted row).
        base_all = kern.lagrangian_pass(indptr, site, wc, u, bw, inst.fixed_cost, rho)
        base = base_all + float(rho[fixed_open].sum())
        free = ~fixed_open & ~fixed_closed
        q = inst.p - int(fixed_open.sum())
        free_idx = np.flatnonzero(free)
        if q < 0 or q > len(free_idx):
            best_l = math.inf  # the fixings leave no solution cheaper than the threshold
            break
        if q > 0:
            part = np.argpartition(rho[free_idx], q - 1)
            chosen = free_idx[part[:q]]
            rest = free_idx[part[q:]]
            rho_q = float(rho[chosen].max())
        else:
            chosen = np.zeros(0, dtype=np.int64)
            rest = free_idx
            rho_q = -math.inf
        rho_q1 = float(rho[rest].min()) if len(rest) else math.inf
        value = base + float(rho[chosen].sum())
        if not math.isfinite(best_l) or value > best_l + 1e-12 * max(1.0, abs(best_l)):
            best_l = value
            best_u = u.copy()
            since = 0
            if on_bound is not None:
                on_bound(value)
        else:
            since += 1
        y = fixed_open.copy()
        y[chosen] = True
        key = np.packbits(y).tobytes()
        if key not in seen and len(open_sets) < max_open_sets:
            seen.add(key)
            open_sets.append(y.copy())
        # Reduced-cost site fixing.
        if q > 0:
            closed_free = rest
            new_closed = closed_free[value + rho[closed_free] - rho_q > threshold]
            if len(new_closed):
                fixed_closed[new_closed] = True
            if math.isfinite(rho_q1):
                new_open = chosen[value - rho[chosen] + rho_q1 > threshold]
                if len(new_open):
                    fixed_open[new_open] = True
        target = math.ceil(best_l - 1e-6) if integral else best_l
        if target >= gap_target:
            break
        # Subgradient step.
        kern.subgradient(indptr, site, wc, u, bw, y, g)
        direction = g * precond
        norm = float((g * direction).sum())  # not BLAS: its threads spin between calls
        if norm == 0:
            break  # the relaxed solution is feasible: L(u) is optimal for this u
        if since >= patience:
            lam *= 0.5
            since = 0
            u = best_u.copy()
            if lam < min_lambda:
                break
            continue
        step = lam * max(upper_bound - value, 1e-9 * max(1.0, abs(upper_bound))) / norm
        u = np.maximum(u + step * direction, 0.0)
    return LagrangianResult(
        bound=best_l,
        multipliers=best_u,
        fixed_open=fixed_open,
        fixed_closed=fixed_closed,
        iterations=it,
        open_sets=tuple(open_sets),
    )


@dataclass(frozen=True, eq=False)
class BranchResult:
    """Outcome of :func:`branch_and_bound`.

    Parameters
    ----------
    best_mask
        Best open set found.
    best_objective
        Its objective.
    bound
        Proven lower bound (``best_objective`` or its threshold when the tree is closed).
    closed
        Whether the whole tree was explored (optimality proven).
    nodes
        Nodes processed.
    """

    best_mask: BoolArray
    best_objective: float
    bound: float
    closed: bool
    nodes: int


@dataclass(frozen=True, eq=False)
class _Node:
    bound: float
    depth: int
    inst: SparseInstance
    fixed_open: BoolArray
    fixed_closed: BoolArray
    u: FloatArray


def branch_and_bound(
    inst: SparseInstance,
    *,
    best_mask: BoolArray,
    best_objective: float,
    root: LagrangianResult,
    threshold_of: Callable[[float], float],
    round_bound: Callable[[float], float],
    should_stop: Callable[[], bool],
    penalty: float,
    on_incumbent: Callable[[float], None] | None = None,
    on_bound: Callable[[float], None] | None = None,
    node_iterations: int = 50,
    integral: bool = False,
    objective_fn: Callable[[BoolArray], float] | None = None,
) -> BranchResult:
    """Lagrangian branch-and-bound on the site variables (Beasley 1985).

    Each node re-optimises the multipliers (warm-started from its parent), applies the
    reduced-cost fixing tests, tries its relaxed open set as a primal solution, and is
    pruned when its bound reaches the threshold. Children work on a structure shrunk with
    the node's multipliers (:func:`~planner.models.pmedian._heuristics.restrict`). Branching: the
    free open site of the relaxed solution that is cheapest to close, closed in one child
    and open in the other. Depth-first: with a good incumbent the explored set is the same
    as best-first, and memory stays proportional to the depth.

    Parameters
    ----------
    inst
        The (already reduced) instance.
    best_mask, best_objective
        Incumbent.
    root
        The root relaxation (multipliers and fixings).
    threshold_of
        Incumbent objective -> threshold below which solutions matter.
    round_bound
        Rounds a bound up when objectives are integral.
    should_stop
        Polled per node.
    penalty
        Weighted cost that marks "must be served by a listed site" in shrunk structures.
    on_incumbent, on_bound
        Progress callbacks.
    node_iterations
        Subgradient iterations per node.
    integral
        Objectives are integral.
    objective_fn
        True objective of an open set (default: the structure's own, exact when no row
        relies on the beyond option).

    Returns
    -------
    result
        Incumbent, bound, whether the tree was closed, node count.
    """
    stack = [_Node(root.bound, 0, inst, root.fixed_open, root.fixed_closed, root.multipliers)]
    nodes = 0
    threshold = threshold_of(best_objective)
    evaluated: dict[bytes, float] = {}
    while stack:
        if should_stop():
            break
        node = stack.pop()
        if round_bound(node.bound) >= threshold:
            continue
        nodes += 1
        lr = subgradient(
            node.inst,
            upper_bound=best_objective,
            threshold=threshold,
            u0=node.u,
            max_iterations=node_iterations if node.depth else 1,
            lambda0=0.5 if node.depth else 1e-9,
            patience=10,
            should_stop=should_stop,
            integral=integral,
            fixed_open=node.fixed_open,
            fixed_closed=node.fixed_closed,
            max_open_sets=4,
        )
        bound = max(lr.bound, node.bound)
        for y in lr.open_sets:
            if int(y.sum()) != inst.p:
                continue
            key = np.packbits(y).tobytes()
            f = evaluated.get(key, math.nan)
            if math.isnan(f):  # each open set is priced once per tree
                f = objective_fn(y) if objective_fn is not None else objective_of(inst, y)
                evaluated[key] = f
            if f < best_objective - 1e-9 * max(1.0, abs(best_objective)):
                best_mask, best_objective = y.copy(), f
                threshold = threshold_of(best_objective)
                if on_incumbent is not None:
                    on_incumbent(f)
        if round_bound(bound) >= threshold:
            continue
        fo, fc = lr.fixed_open, lr.fixed_closed
        free = ~fo & ~fc
        q = inst.p - int(fo.sum())
        if q <= 0 or int(free.sum()) <= q:
            continue  # every free site is decided: a single open set, already tried
        j = _branch_site(node.inst, lr, fo, fc)
        limit = lr.multipliers + (threshold - lr.bound)
        for child_open in (False, True):  # the open child is explored first
            c_open, c_closed = fo.copy(), fc.copy()
            if child_open:
                c_open[j] = True
            else:
                c_closed[j] = True
            child_inst = restrict(node.inst, ~c_closed, limit, penalty=penalty)
            stack.append(_Node(bound, node.depth + 1, child_inst, c_open, c_closed, lr.multipliers))
        if on_bound is not None:
            on_bound(min(threshold, *(nd.bound for nd in stack)))
    closed = not stack
    final = threshold if closed else min(threshold, *(nd.bound for nd in stack))
    return BranchResult(
        best_mask=best_mask,
        best_objective=best_objective,
        bound=min(final, best_objective),
        closed=closed,
        nodes=nodes,
    )


def _branch_site(inst: SparseInstance, lr: LagrangianResult, fo: BoolArray, fc: BoolArray) -> int:
    """Pick the free site of the relaxed solution that is cheapest to close."""
    m = inst.n_sites
    u = lr.multipliers
    a = np.minimum(inst.wcost - u[inst.row], 0.0)
    rho = inst.fixed_cost + np.bincount(inst.site, weights=a, minlength=m)
    free_idx = np.flatnonzero(~fo & ~fc)
    q = inst.p - int(fo.sum())
    order = free_idx[np.argsort(rho[free_idx], kind="stable")]
    chosen, rest = order[:q], order[q:]
    rho_next = float(rho[rest[0]]) if len(rest) else math.inf
    penalty = rho_next - rho[chosen]
    return int(chosen[int(np.argmin(penalty))])
