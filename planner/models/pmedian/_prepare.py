"""The p-median's surrogate sparse instance: forbidden sites dropped, costs weighted, penalties.

:func:`prepare` builds it once per model; :func:`extend_lists` lengthens the lists of rows
whose Lagrangian multiplier presses against their beyond option (exact costs, when the model
has an ``exact_cost`` callback).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.models._base import (
    EXACT_CHUNK,
    BoolArray,
    ExactCost,
    FloatArray,
    IntArray,
    LocationProblem,
)
from planner.models.pmedian._heuristics import BeyondFn, SparseInstance, extend_rows

_EXTEND_AT = 0.9  # extend a row's list when u_i >= this x its beyond option
_EXTEND_ALL_SITES = 1024  # up to this many open-able sites, extended rows list them all
_EXTEND_MIN_LIST = 64  # else an extended list holds at least this many sites
_EXTEND_MAX_CELLS = 20_000_000  # exact costs priced per extension round


@dataclass(frozen=True, eq=False)
class Prepared:
    """The surrogate sparse instance over reachable rows (private)."""

    inst: SparseInstance
    rows: IntArray  # original row of each instance row
    unreachable: BoolArray  # per original row
    stranded: IntArray  # original rows that must be served but only list forbidden sites
    penalty: float
    integral: bool


def _is_integral(values: FloatArray) -> bool:
    finite = values[np.isfinite(values)]
    return bool(np.all(finite == np.round(finite)))


def prepare(problem: LocationProblem) -> Prepared:
    """Build the surrogate instance (drop forbidden sites, weight costs, add penalties)."""
    costs, sites, w = problem.costs, problem.sites, problem.weights
    row_len = np.diff(costs.indptr)
    unreachable = (row_len == 0) & ~np.isfinite(costs.beyond_cost)
    # Rows of weight 0 that may go unlisted cost nothing wherever they are served: the
    # surrogate leaves them out (evaluate() still assigns them).
    idle = (w == 0) & np.isfinite(costs.beyond_cost)
    rows = np.flatnonzero(~unreachable & ~idle).astype(np.int64)
    row_of = costs.row_of_entry
    keep = ~sites.forbidden[costs.site_index] & ~(unreachable | idle)[row_of]
    e_row, e_site, e_cost = row_of[keep], costs.site_index[keep], costs.cost[keep]
    new_id = np.full(costs.n_demand, -1, dtype=np.int64)
    new_id[rows] = np.arange(len(rows))
    e_row = new_id[e_row]
    wr = w[rows]
    beyond = costs.beyond_cost[rows].astype(np.float64)
    e_wcost = wr[e_row] * e_cost
    max_row = np.zeros(len(rows))
    if len(e_row):
        starts = np.flatnonzero(np.r_[True, e_row[1:] != e_row[:-1]])
        max_row[e_row[starts]] = np.maximum.reduceat(e_wcost, starts)
    finite_b = np.isfinite(beyond)
    scale = float(max_row.sum() + (wr[finite_b] * beyond[finite_b]).sum())
    scale += float(np.sort(sites.fixed_cost)[-max(problem.p or 1, 1) :].sum())
    penalty = 10.0 * (scale + 1.0)
    beyond_w = np.where(finite_b, wr * np.where(finite_b, beyond, 0.0), penalty)
    # Entries dearer than the always-available beyond option can never help the surrogate.
    useful = e_wcost <= beyond_w[e_row]
    e_row, e_site, e_cost, e_wcost = e_row[useful], e_site[useful], e_cost[useful], e_wcost[useful]
    same_row = e_row[1:] == e_row[:-1]
    if (same_row & (e_wcost[1:] < e_wcost[:-1])).any():  # lists not sorted by cost: sort
        order = np.lexsort((e_site, e_wcost, e_row))
        e_row, e_site, e_cost, e_wcost = e_row[order], e_site[order], e_cost[order], e_wcost[order]
    del same_row
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(np.bincount(e_row, minlength=len(rows)), out=indptr[1:])
    stranded_local = np.flatnonzero((np.diff(indptr) == 0) & ~finite_b)
    inst = SparseInstance(
        indptr=indptr,
        site=e_site.astype(np.int64),
        wcost=e_wcost,
        cost=e_cost,
        beyond_w=beyond_w,
        beyond=beyond,
        weights=wr,
        fixed_cost=sites.fixed_cost.astype(np.float64),
        required=sites.required.copy(),
        allowed=~sites.forbidden,
        p=int(problem.p or 0),
    )
    integral = (
        _is_integral(wr)
        and _is_integral(costs.cost)
        and _is_integral(beyond)
        and _is_integral(sites.fixed_cost)
    )
    return Prepared(
        inst=inst,
        rows=rows,
        unreachable=unreachable,
        stranded=rows[stranded_local],
        penalty=penalty,
        integral=integral,
    )


def extend_lists(
    prep: Prepared,
    exact_cost: ExactCost | None,
    floor: FloatArray,
    inst: SparseInstance,
    u: FloatArray,
) -> tuple[SparseInstance, int] | None:
    """Lengthen the lists of rows whose multiplier reaches their beyond option.

    In L(u) a row contributes at most its beyond lower bound ``bw_i``; when the
    multiplier ``u_i`` presses against it, the truncated list (not the problem) caps
    the bound. Such rows get exact costs to more sites (all sites that may open, when
    there are at most ``_EXTEND_ALL_SITES``; else the ``2 x`` longest list cheapest
    ones) and a higher beyond bound (:func:`~planner.models.pmedian._heuristics.extend_rows`).
    Needs the exact-cost callback and non-integral data (exact costs are real-valued).
    ``floor`` is the problem's ``beyond_cost`` per original row (never priced below).
    """
    if exact_cost is None or prep.integral:
        return None
    need = np.isfinite(inst.beyond) & (inst.weights > 0) & (u >= _EXTEND_AT * inst.beyond_w)
    rows = np.flatnonzero(need)
    cand = np.flatnonzero(inst.allowed)
    if len(rows) == 0 or len(cand) == 0:
        return None
    if len(rows) * len(cand) > _EXTEND_MAX_CELLS:  # the rows pressing hardest first
        ratio = u[rows] / np.maximum(inst.beyond_w[rows], 1e-300)
        top = np.argsort(-ratio, kind="stable")[: max(1, _EXTEND_MAX_CELLS // len(cand))]
        rows = np.sort(rows[top])
    longest = int(np.diff(inst.indptr)[rows].max())
    keep = len(cand)
    if len(cand) > _EXTEND_ALL_SITES:
        keep = min(len(cand), max(2 * longest, _EXTEND_MIN_LIST))
    new_site = np.empty((len(rows), keep), dtype=np.int64)
    new_cost = np.empty((len(rows), keep))
    new_beyond = np.full(len(rows), np.inf)
    step = max(1, EXACT_CHUNK // len(cand))
    for lo in range(0, len(rows), step):
        sl = slice(lo, lo + step)
        orig = prep.rows[rows[sl]]
        mat = np.asarray(exact_cost(orig, cand), dtype=np.float64)
        # Never below the declared lower bound (as evaluate() charges unlisted rows).
        mat = np.maximum(mat, floor[orig][:, None])
        if keep == len(cand):
            new_site[sl] = cand[None, :]
            new_cost[sl] = mat
            continue
        idx = np.argpartition(mat, keep, axis=1)
        ar = np.arange(mat.shape[0])[:, None]
        new_site[sl] = cand[idx[:, :keep]]
        new_cost[sl] = mat[ar, idx[:, :keep]]
        new_beyond[sl] = mat[ar[:, 0], idx[:, keep]]
    ext = extend_rows(inst, rows, new_site, new_cost, new_beyond, penalty=prep.penalty)
    return ext, len(rows)


def beyond_function(
    prep: Prepared, exact_cost: ExactCost | None, floor: FloatArray
) -> BeyondFn | None:
    """Return the true-cost function for rows beyond their lists, if one is known.

    It gives, per instance row, the two cheapest open sites by weighted exact cost (never
    below ``floor``, the problem's ``beyond_cost`` per original row).
    """
    inst = prep.inst
    if exact_cost is None or not (np.isfinite(inst.beyond) & (inst.weights > 0)).any():
        return None

    def fn(
        rows: IntArray, open_mask: BoolArray
    ) -> tuple[FloatArray, IntArray, FloatArray, IntArray]:
        opened = np.flatnonzero(open_mask)
        k = len(rows)
        d1, d2 = np.full(k, prep.penalty), np.full(k, prep.penalty)
        s1 = np.full(k, inst.n_sites, dtype=np.int64)
        s2 = s1.copy()
        step = max(1, EXACT_CHUNK // max(1, len(opened)))
        for lo in range(0, k, step):
            sl = slice(lo, lo + step)
            orig = prep.rows[rows[sl]]
            mat = np.asarray(exact_cost(orig, opened), dtype=np.float64)
            mat = np.maximum(mat, floor[orig][:, None])
            mat *= inst.weights[rows[sl]][:, None]
            idx = np.argsort(mat, axis=1, kind="stable")[:, :2]
            ar = np.arange(mat.shape[0])
            d1[sl], s1[sl] = mat[ar, idx[:, 0]], opened[idx[:, 0]]
            if len(opened) > 1:
                d2[sl], s2[sl] = mat[ar, idx[:, 1]], opened[idx[:, 1]]
        return d1, s1, d2, s2

    return fn
