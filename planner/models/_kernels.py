"""Compiled inner loops of the Lagrangian relaxation (numba).

The subgradient method of :mod:`planner.models.pmedian._lagrangian` evaluates, per iteration and
for multipliers ``u`` on a :class:`~planner.models.pmedian._heuristics.SparseInstance`::

    base  = sum_i u_i + min(0, bw_i - u_i)
    rho_j = f_j + sum_{i lists j} min(0, wc_ij - u_i)          (site prices)
    g_i   = 1 - #{j open, listed by i, wc_ij < u_i} - [bw_i < u_i]   (subgradient)

Rows list their sites cheapest first, so the entries with ``wc_ij < u_i`` are a prefix of
each row: the loops below stop at the first entry that is not cheaper than ``u_i``. An
iteration therefore costs O(rows + entries with a negative reduced cost), not O(all
entries) -- long site lists (what a strong bound needs at scale) are almost free.

numba compiles the loops on first use (cached on disk next to this module when it is
writable, else in numba's per-user cache directory); :func:`kernels` returns them and
:func:`warm` compiles (or loads from the disk cache) every loop for the argument types the
solvers pass, without running them -- the app calls it at server start, so a fresh checkout
or a wheel install, which has no disk cache yet, does not compile on the first solve. Numpy
versions with the same results are kept as the reference (:func:`lagrangian_pass_numpy`,
:func:`subgradient_numpy`) for the tests;
``assigned_cost`` (the objective of an open set) is checked against
:func:`planner.models.pmedian._heuristics.assign_nearest`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple, cast

import numpy as np

from planner.models._base import BoolArray, FloatArray, IntArray

_MOVE_TOL = 1e-9  # gap_search: a move must save more than this


def _lagrangian_pass_py(  # noqa: PLR0917 -- compiled: positional arrays only
    indptr: IntArray,
    site: IntArray,
    wc: FloatArray,
    u: FloatArray,
    bw: FloatArray,
    fixed_cost: FloatArray,
    rho_out: FloatArray,
) -> float:
    """Fill ``rho_out`` with the site prices and return ``base`` (see module docstring)."""
    n = len(indptr) - 1
    for j in range(len(fixed_cost)):
        rho_out[j] = fixed_cost[j]
    base = 0.0
    for i in range(n):
        ui = u[i]
        base += ui + min(0.0, bw[i] - ui)
        for e in range(indptr[i], indptr[i + 1]):
            d = wc[e] - ui
            if d >= 0.0:
                break
            rho_out[site[e]] += d
    return base


def _subgradient_py(  # noqa: PLR0917 -- compiled: positional arrays only
    indptr: IntArray,
    site: IntArray,
    wc: FloatArray,
    u: FloatArray,
    bw: FloatArray,
    open_mask: BoolArray,
    g_out: FloatArray,
) -> None:
    """Fill ``g_out`` with the subgradient for the relaxed open set ``open_mask``."""
    n = len(indptr) - 1
    for i in range(n):
        ui = u[i]
        served = 0
        for e in range(indptr[i], indptr[i + 1]):
            if wc[e] - ui >= 0.0:
                break
            if open_mask[site[e]]:
                served += 1
        g_out[i] = 1.0 - served - (1.0 if bw[i] < ui else 0.0)


def _assigned_cost_py(
    indptr: IntArray,
    site: IntArray,
    wc: FloatArray,
    bw: FloatArray,
    open_mask: BoolArray,
) -> float:
    """Return sum_i min(bw_i, cheapest open listed wc_ij) (rows cheapest first)."""
    n = len(indptr) - 1
    total = 0.0
    for i in range(n):
        best = bw[i]
        for e in range(indptr[i], indptr[i + 1]):
            if wc[e] >= best:
                break
            if open_mask[site[e]]:
                best = wc[e]
                break
        total += best
    return total


def _cflp_knapsack_py(  # noqa: PLR0917 -- compiled: positional arrays only
    site_ptr: IntArray,
    ent_row: IntArray,
    ent_w: FloatArray,
    ent_pair: FloatArray,
    lam: FloatArray,
    capacity: FloatArray,
    take_out: FloatArray,
    gain_out: FloatArray,
) -> None:
    """CFLP (L1): per site, the continuous knapsack over its negative reduced costs.

    Entries are grouped by site (``site_ptr``). A site whose negative items all fit takes
    them all; otherwise items go in by ``rc / w`` (most negative first), the last one
    fractionally. Fills ``take_out`` (fraction per entry) and ``gain_out`` (sum of
    ``rc * take`` per site).
    """
    m = len(site_ptr) - 1
    for j in range(m):
        lo, hi = site_ptr[j], site_ptr[j + 1]
        load = 0.0
        cnt = 0
        for e in range(lo, hi):
            take_out[e] = 0.0
            if ent_pair[e] - lam[ent_row[e]] < 0.0:
                load += ent_w[e]
                cnt += 1
        gain = 0.0
        if load <= capacity[j] * (1.0 + 1e-12):
            for e in range(lo, hi):
                rc = ent_pair[e] - lam[ent_row[e]]
                if rc < 0.0:
                    take_out[e] = 1.0
                    gain += rc
        else:
            idx = np.empty(cnt, dtype=np.int64)
            ratio = np.empty(cnt)
            k = 0
            for e in range(lo, hi):
                rc = ent_pair[e] - lam[ent_row[e]]
                if rc < 0.0:
                    idx[k] = e
                    ratio[k] = rc / ent_w[e] if ent_w[e] > 0.0 else -np.inf
                    k += 1
            order = np.argsort(ratio, kind="mergesort")
            room = capacity[j]
            for t in range(cnt):
                e = idx[order[t]]
                w = ent_w[e]
                frac = 1.0 if w <= 0.0 else min(1.0, max(0.0, room / w))
                if frac <= 0.0:
                    break
                take_out[e] = frac
                gain += (ent_pair[e] - lam[ent_row[e]]) * frac
                room -= w * frac
        gain_out[j] = gain


def _cflp_served_py(  # noqa: PLR0917 -- compiled: positional arrays only
    ent_site: IntArray,
    ent_row: IntArray,
    take: FloatArray,
    open_mask: BoolArray,
    served_by_out: FloatArray,
    listed_open_out: FloatArray,
) -> None:
    """Per row: fractions taken by open sites, and how many open sites list it."""
    served_by_out[:] = 0.0
    listed_open_out[:] = 0.0
    for e in range(len(ent_site)):
        if open_mask[ent_site[e]]:
            r = ent_row[e]
            served_by_out[r] += take[e]
            listed_open_out[r] += 1.0


def _knapsack01_py(  # noqa: C901, PLR0917 -- compiled: positional arrays only
    site_ptr: IntArray,
    ent_row: IntArray,
    ent_w: IntArray,
    ent_pair: FloatArray,
    lam: FloatArray,
    capacity: IntArray,
    active: BoolArray,
    with_fix: bool,  # noqa: FBT001 -- compiled: positional arguments only
    take_out: FloatArray,
    gain_out: FloatArray,
    fix_out: FloatArray,
) -> None:
    """Per active site, the 0-1 knapsack over its negative reduced costs (integer weights).

    ``min sum_e rc_e x_e`` s.t. ``sum_e w_e x_e <= capacity_j``, ``x`` binary, with
    ``rc_e = ent_pair[e] - lam[ent_row[e]]``, solved by dynamic programming over the
    capacity (``f[c]`` = best value within weight ``c``). Fills ``take_out`` (0/1 per entry),
    ``gain_out`` (optimum per site) and, with ``with_fix``, ``fix_out[e] = f[capacity_j -
    w_e]`` (``inf`` when ``w_e > capacity_j``): with entry ``e`` forced in, the site's value is
    at least ``rc_e + fix_out[e]`` (the other items fit in the remaining capacity).
    """
    m = len(site_ptr) - 1
    for j in range(m):
        if not active[j]:
            continue
        lo, hi = site_ptr[j], site_ptr[j + 1]
        cap = capacity[j]
        load = 0
        cnt = 0
        gain = 0.0
        for e in range(lo, hi):
            take_out[e] = 0.0
            if ent_pair[e] - lam[ent_row[e]] < 0.0:
                load += ent_w[e]
                cnt += 1
        if load <= cap and not with_fix:
            for e in range(lo, hi):
                rc = ent_pair[e] - lam[ent_row[e]]
                if rc < 0.0:
                    take_out[e] = 1.0
                    gain += rc
            gain_out[j] = gain
            continue
        idx = np.empty(cnt, dtype=np.int64)
        k = 0
        for e in range(lo, hi):
            if ent_pair[e] - lam[ent_row[e]] < 0.0:
                idx[k] = e
                k += 1
        f = np.zeros(cap + 1)
        keep = np.zeros((cnt, cap + 1), dtype=np.bool_)
        for t in range(cnt):
            e = idx[t]
            wt = ent_w[e]
            v = ent_pair[e] - lam[ent_row[e]]
            for c in range(cap, wt - 1, -1):
                cand = f[c - wt] + v
                if cand < f[c]:
                    f[c] = cand
                    keep[t, c] = True
        c = cap
        for t in range(cnt - 1, -1, -1):
            if keep[t, c]:
                e = idx[t]
                take_out[e] = 1.0
                gain += ent_pair[e] - lam[ent_row[e]]
                c -= ent_w[e]
        gain_out[j] = gain
        if with_fix:
            for e in range(lo, hi):
                r = cap - ent_w[e]
                fix_out[e] = f[r] if r >= 0 else np.inf


def _gap_search_py(  # noqa: C901, PLR0912, PLR0915, PLR0917 -- compiled: positional arrays
    cost: FloatArray,
    w: FloatArray,
    cap: FloatArray,
    assign: IntArray,
    alpha: float,
    max_pass: int,
) -> float:
    """Single-source assignment of rows to columns (a generalised assignment), heuristically.

    ``cost[i, b]`` (``inf``: not allowed) for row ``i`` in column ``b`` with room ``cap[b]``
    and row weight ``w[i]``. Rows with ``assign[i] < 0`` are placed first by the largest
    regret among the columns with room (a row with no such column goes where its cost plus
    ``alpha`` per unit of overload is least); then shift and swap moves lower ``sum cost +
    alpha * overload`` until none does (at most ``max_pass`` passes). Fills ``assign`` and
    returns the remaining overload (0: the assignment is feasible).
    """
    n, k = cost.shape
    load = np.zeros(k)
    for i in range(n):
        if assign[i] >= 0:
            load[assign[i]] += w[i]
    todo = 0
    for i in range(n):
        if assign[i] < 0:
            todo += 1
    while todo > 0:
        best_i = -1
        best_b = -1
        best_reg = -1.0
        for i in range(n):
            if assign[i] >= 0:
                continue
            c1 = np.inf
            c2 = np.inf
            b1 = -1
            for b in range(k):
                if load[b] + w[i] <= cap[b] + 1e-9 and cost[i, b] < np.inf:
                    if cost[i, b] < c1:
                        c2 = c1
                        c1 = cost[i, b]
                        b1 = b
                    elif cost[i, b] < c2:
                        c2 = cost[i, b]
            if b1 < 0:
                continue
            reg = 1e300 if c2 == np.inf else c2 - c1
            reg += 1e-9 * w[i]  # ties: heavier rows first
            if reg > best_reg:
                best_reg = reg
                best_i = i
                best_b = b1
        if best_i < 0:
            # No unplaced row fits anywhere: place each at its least penalised column.
            for i in range(n):
                if assign[i] >= 0:
                    continue
                bb = -1
                bv = np.inf
                for b in range(k):
                    if cost[i, b] < np.inf:
                        over = max(0.0, load[b] + w[i] - max(cap[b], load[b]))
                        v = cost[i, b] + alpha * over
                        if v < bv:
                            bv = v
                            bb = b
                if bb < 0:
                    return np.inf
                assign[i] = bb
                load[bb] += w[i]
            todo = 0
            break
        assign[best_i] = best_b
        load[best_b] += w[best_i]
        todo -= 1
    for _ in range(max_pass):
        improved = False
        # shifts
        for i in range(n):
            a = assign[i]
            wi = w[i]
            over_a = max(0.0, load[a] - cap[a]) - max(0.0, load[a] - wi - cap[a])
            best_d = -_MOVE_TOL
            best_b = -1
            for b in range(k):
                if b == a or cost[i, b] == np.inf:
                    continue
                over_b = max(0.0, load[b] + wi - cap[b]) - max(0.0, load[b] - cap[b])
                d = cost[i, b] - cost[i, a] + alpha * (over_b - over_a)
                if d < best_d:
                    best_d = d
                    best_b = b
            if best_b >= 0:
                assign[i] = best_b
                load[a] -= wi
                load[best_b] += wi
                improved = True
        # swaps
        for i in range(n):
            a = assign[i]
            for h in range(i + 1, n):
                b = assign[h]
                if b == a or cost[i, b] == np.inf or cost[h, a] == np.inf:
                    continue
                dw = w[h] - w[i]  # load change of a (b changes by -dw)
                d = cost[i, b] + cost[h, a] - cost[i, a] - cost[h, b]
                if dw != 0.0:
                    d += alpha * (
                        max(0.0, load[a] + dw - cap[a])
                        - max(0.0, load[a] - cap[a])
                        + max(0.0, load[b] - dw - cap[b])
                        - max(0.0, load[b] - cap[b])
                    )
                if d < -_MOVE_TOL:
                    assign[i] = b
                    assign[h] = a
                    load[a] += dw
                    load[b] -= dw
                    a = b
                    improved = True
        if not improved:
            break
    total = 0.0
    for b in range(k):
        total += max(0.0, load[b] - cap[b])
    return total


LagrangianPass = Callable[
    [IntArray, IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray], float
]
SubgradientFn = Callable[
    [IntArray, IntArray, FloatArray, FloatArray, FloatArray, BoolArray, FloatArray], None
]

AssignedCostFn = Callable[[IntArray, IntArray, FloatArray, FloatArray, BoolArray], float]
CflpKnapsackFn = Callable[
    [IntArray, IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    None,
]
CflpServedFn = Callable[[IntArray, IntArray, FloatArray, BoolArray, FloatArray, FloatArray], None]
Knapsack01Fn = Callable[
    [
        IntArray,
        IntArray,
        IntArray,
        FloatArray,
        FloatArray,
        IntArray,
        BoolArray,
        bool,
        FloatArray,
        FloatArray,
        FloatArray,
    ],
    None,
]
GapSearchFn = Callable[[FloatArray, FloatArray, FloatArray, IntArray, float, int], float]


class Kernels(NamedTuple):
    """The compiled loops."""

    lagrangian_pass: LagrangianPass
    subgradient: SubgradientFn
    assigned_cost: AssignedCostFn
    cflp_knapsack: CflpKnapsackFn
    cflp_served: CflpServedFn
    knapsack01: Knapsack01Fn
    gap_search: GapSearchFn


@functools.cache
def kernels() -> Kernels:
    """Return the compiled kernels (compiled once per process, cached on disk)."""
    import numba  # noqa: PLC0415 -- 0.5 s import, only when a solve needs it

    jit = numba.njit(cache=True, nogil=True, boundscheck=False)
    return Kernels(
        lagrangian_pass=cast(LagrangianPass, jit(_lagrangian_pass_py)),
        subgradient=cast(SubgradientFn, jit(_subgradient_py)),
        assigned_cost=cast(AssignedCostFn, jit(_assigned_cost_py)),
        cflp_knapsack=cast(CflpKnapsackFn, jit(_cflp_knapsack_py)),
        cflp_served=cast(CflpServedFn, jit(_cflp_served_py)),
        knapsack01=cast(Knapsack01Fn, jit(_knapsack01_py)),
        gap_search=cast(GapSearchFn, jit(_gap_search_py)),
    )


PMEDIAN_KERNELS = ("lagrangian_pass", "subgradient")
"""The kernels a solve of the default scenario (p-median) calls."""


def warm(names: tuple[str, ...] = Kernels._fields) -> None:
    """Compile the named kernels for the argument types the solvers pass (nothing is run).

    Without a disk cache all five cost about 4 s of CPU (numba's import, type inference and
    LLVM), with one about 1.4 s (mostly the import); kernels compiled before in the process
    return at once. A solve calling a kernel with these types then uses the compiled code.
    """
    k = kernels()
    # numba's typeof, through a dispatcher (numba is imported by kernels() alone)
    typeof = cast(Callable[[object], object], cast(Any, k.lagrangian_pass).typeof_pyval)
    i = typeof(np.zeros(1, dtype=np.int64))
    f = typeof(np.zeros(1, dtype=np.float64))
    b = typeof(np.zeros(1, dtype=np.bool_))
    signatures = {
        "lagrangian_pass": (i, i, f, f, f, f, f),
        "subgradient": (i, i, f, f, f, b, f),
        "assigned_cost": (i, i, f, f, b),
        "cflp_knapsack": (i, i, f, f, f, f, f, f),
        "cflp_served": (i, i, f, b, f, f),
        "knapsack01": (i, i, i, f, f, i, b, typeof(True), f, f, f),  # noqa: FBT003
        "gap_search": (typeof(np.zeros((1, 1))), f, f, i, typeof(1.0), typeof(1)),
    }
    for name in names:
        cast(Any, getattr(k, name)).compile(signatures[name])  # a numba dispatcher


def lagrangian_pass_numpy(  # noqa: PLR0917 -- mirrors the kernel
    indptr: IntArray,
    site: IntArray,
    wc: FloatArray,
    u: FloatArray,
    bw: FloatArray,
    fixed_cost: FloatArray,
) -> tuple[FloatArray, float]:
    """Return ``(rho, base)`` like the compiled pass, vectorised (the reference)."""
    row = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    a = np.minimum(wc - u[row], 0.0)
    rho = fixed_cost + np.bincount(site, weights=a, minlength=len(fixed_cost))
    return rho, float(u.sum() + np.minimum(0.0, bw - u).sum())


def subgradient_numpy(  # noqa: PLR0917 -- mirrors the kernel
    indptr: IntArray,
    site: IntArray,
    wc: FloatArray,
    u: FloatArray,
    bw: FloatArray,
    open_mask: BoolArray,
) -> FloatArray:
    """Return the subgradient like the compiled kernel, vectorised (the reference)."""
    n = len(indptr) - 1
    row = np.repeat(np.arange(n), np.diff(indptr))
    hit = (wc - u[row] < 0.0) & open_mask[site]
    g = 1.0 - np.bincount(row[hit], minlength=n) - (bw < u).astype(np.float64)
    return np.asarray(g, dtype=np.float64)
