"""Kernel search: restricted MIPs over promising sites (a primal heuristic for the CFLP).

Sites are ranked by their Lagrangian value ``v_j`` (:mod:`planner.models.cflp._lagrange`):
the *kernel* is the incumbent's open sites plus the best-ranked ones, and each row keeps
only its ``ROW_PAIRS`` cheapest pairs to kernel sites. The MIP (0)-(9) over that small
model is solved with HiGHS for a few seconds; further *buckets* of sites (next in the
ranking) are added while time lasts (Angelelli, Mansini & Speranza's kernel search). The
result is only a heuristic solution: the exact phase and its bound come afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from planner.models._base import BoolArray, FloatArray
from planner.models.cflp._assign import Assignment
from planner.models.cflp._data import CflpData
from planner.models.cflp._exact_mip import build_mip, solve_mip_highs

# Pairs kept per row in the restricted model (cheapest first).
ROW_PAIRS = 5
# Sites added to the kernel beyond the Lagrangian solution, and per bucket.
BUCKET_SITES = 8


def restrict_entries(data: CflpData, kernel: BoolArray, per_row: int) -> BoolArray:
    """Keep, per row, its ``per_row`` cheapest pairs to kernel sites.

    Parameters
    ----------
    data
        Instance arrays.
    kernel
        Sites in the restricted model.
    per_row
        Pairs kept per row.

    Returns
    -------
    keep
        Mask over entries.
    """
    keep = np.zeros(data.n_entries, dtype=np.bool_)
    ok = np.flatnonzero(kernel[data.e_site])
    if not len(ok):
        return keep
    rows = data.e_row[ok]
    starts = np.r_[0, np.flatnonzero(rows[1:] != rows[:-1]) + 1]
    rank = np.arange(len(ok)) - np.repeat(starts, np.diff(np.r_[starts, len(ok)]))
    keep[ok[rank < per_row]] = True
    return keep


def kernel_search(
    data: CflpData,
    *,
    site_value: FloatArray,
    n_lagrangian_open: int,
    incumbent: BoolArray | None,
    evaluate: Callable[[BoolArray], Assignment],
    on_solution: Callable[[BoolArray, Assignment], None],
    time_left: Callable[[], float],
    budget_s: float,
    seed: int,
    closed: BoolArray,
    seed_sites: BoolArray | None = None,
    cutoff: Callable[[], float] | None = None,
) -> int:
    """Run restricted MIPs over growing kernels; report every solution found.

    Parameters
    ----------
    data
        Instance arrays.
    site_value
        Lagrangian value per site (smaller = more promising).
    n_lagrangian_open
        Number of sites open in the Lagrangian solution.
    incumbent
        Open sites of the incumbent (always in the kernel), if any.
    evaluate
        Exact assignment of a site set (the restricted pairs are only for the search).
    on_solution
        Receives each solution found.
    time_left
        Seconds left in the whole solve.
    budget_s
        Seconds this search may use.
    seed
        HiGHS seed.
    closed
        Sites known to be useless (fixed closed by reduced-cost tests).
    seed_sites
        Further sites for the first kernel (e.g. those open in the best solutions seen).
    cutoff
        Returns the incumbent objective; restricted MIPs only look for better solutions.

    Returns
    -------
    n_mips
        Restricted MIPs solved.
    """
    usable = data.allowed & ~closed
    ranked = np.flatnonzero(usable)
    ranked = ranked[np.argsort(site_value[ranked], kind="stable")]
    kernel = data.required.copy()
    size = n_lagrangian_open + BUCKET_SITES
    if incumbent is not None and int(incumbent.sum()) <= 2 * size:
        kernel |= incumbent
    if seed_sites is not None and int(seed_sites.sum()) <= 3 * size:
        kernel |= seed_sites & usable
    n_mips = 0
    spent = 0.0
    pos = 0
    while pos < len(ranked):
        new = ranked[pos:size]
        pos = size
        size += BUCKET_SITES
        kernel[new] = True
        slot = min(budget_s - spent, time_left() - 1.0, max(budget_s / 3.0, 3.0))
        if slot <= 1.0:
            break
        t0 = time.perf_counter()
        keep = restrict_entries(data, kernel, ROW_PAIRS)
        model = build_mip(data, closed=~kernel, entry_mask=keep)
        res = solve_mip_highs(
            model,
            time_limit_s=slot,
            rel_gap=1e-6,
            abs_gap=1e-6,
            seed=seed,
            start=None,
            on_progress=None,
            cutoff=cutoff() if cutoff is not None else None,
        )
        n_mips += 1
        spent += time.perf_counter() - t0
        if res.x.size and np.isfinite(res.objective):
            y, _ = model.decode(data, res.x)
            on_solution(y, evaluate(y))
            kernel |= y
        if spent >= budget_s:
            break
    return n_mips
