"""Single-source CFLP helpers: pair fixing by the exact knapsack bound, exact assignment.

Pair fixing (single source, integer demands, exact 0-1 knapsacks in (L1) of
:mod:`planner.models.cflp._lagrange`). At multipliers ``lambda`` let ``K_j(c)`` be the best
value of site ``j``'s knapsack within capacity ``c`` (over all of its rows, a relaxation),
``v_j = f_j + K_j(s_j)`` and ``R_j`` the value of (L2) with ``j`` forced open and
``v_j := 0``. Every solution that serves row ``i`` from site ``j`` then costs at least::

    (P1) B_ij = sum_i' lambda_i' + R_j + f_j + (w_i c_ij - lambda_i) + K_j(s_j - w_i)

(the site is open, its knapsack holds row ``i`` and at most ``s_j - w_i`` of other demand,
and the other sites solve (L2) as before). A pair with ``B_ij`` at or above the incumbent
(minus one unit when every cost is an integer) cannot be in a better solution and is left
out of the MIP; the incumbent's own pairs are always kept.

Exact assignment for a fixed open set: the generalised assignment problem as a small MIP
(the rows of (0)-(9) with ``y`` fixed) on HiGHS, within a time limit and below a cutoff.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planner.models._base import BoolArray, FloatArray
from planner.models.cflp._assign import Assignment, single_source_ok
from planner.models.cflp._data import CflpData
from planner.models.cflp._exact_mip import build_mip, solve_mip_highs
from planner.models.cflp._lagrange import Lagrangian

INF = float("inf")
# Costs this close (relatively) to integers are integers: the objective is then integral.
INTEGRAL_RTOL = 1e-9
# pair_search: the restricted MIP keeps pairs whose bound is below lower + THETA_SHARE *
# (incumbent - lower), takes at most ROUND_TIME_SHARE of the time left, at most MAX_ROUNDS
# times; the exact MIP follows once the pairs below the incumbent are at most
# EXACT_KEEP_SHARE of all.
THETA_SHARE = 0.5
# ... and at most about ROUND_PAIRS_PER_ROW * 2**round pairs per row (the bound is often
# tight: the optimum's pairs have the smallest bounds).
ROUND_PAIRS_PER_ROW = 4.0
ROUND_TIME_SHARE = 0.3
MAX_ROUNDS = 3
EXACT_KEEP_SHARE = 0.4


def integral_costs(data: CflpData) -> bool:
    """Whether every fixed cost and pair cost is an integer (up to round-off).

    Parameters
    ----------
    data
        Instance arrays.

    Returns
    -------
    integral
        True when every solution has an integral objective.
    """
    vals = np.concatenate([data.fixed_cost[data.allowed | data.required], data.pair_cost])
    if not np.isfinite(vals).all():
        return False
    near = np.round(vals)
    return bool(np.all(np.abs(vals - near) <= INTEGRAL_RTOL * np.maximum(1.0, np.abs(near))))


def fixing_margin(upper: float, integral: bool, tolerance: float) -> float:  # noqa: FBT001
    """How far below the incumbent a bound must stay to keep a pair (or site).

    Parameters
    ----------
    upper
        Incumbent objective.
    integral
        Whether every objective value is an integer.
    tolerance
        Absolute tolerance otherwise.

    Returns
    -------
    margin
        ``1 - 1e-6`` for integral objectives (a better solution is at least one unit
        better), else ``tolerance``.
    """
    if not math.isfinite(upper):
        return 0.0
    return 1.0 - 1e-6 if integral else tolerance


@dataclass(frozen=True, eq=False)
class PairBounds:
    """Result of :func:`pair_bounds`.

    Parameters
    ----------
    bound
        ``L(lambda)`` with exact knapsacks (a lower bound).
    pair_bound
        ``B_ij`` of (P1) per entry of :class:`CflpData` (``inf`` for pairs to closed sites
        or sites that cannot open).
    """

    bound: float
    pair_bound: FloatArray


def pair_bounds(
    lag: Lagrangian, lam: FloatArray, closed: BoolArray, forced: BoolArray
) -> PairBounds:
    """Compute the bounds (P1) of every pair at multipliers ``lam``.

    Parameters
    ----------
    lag
        The relaxation (needs ``lag.exact_knapsack`` and no ``beyond_cost``).
    lam
        Multipliers per row.
    closed
        Sites fixed closed.
    forced
        Sites fixed open.

    Returns
    -------
    bounds
        The Lagrangian bound and the per-pair bounds.
    """
    if not lag.exact_knapsack or lag.has_beyond:
        msg = "pair bounds need exact knapsacks and listed pairs only"
        raise ValueError(msg)
    d = lag.data
    m = d.n_sites
    n_ent = len(lag.ent_pair)
    take = np.empty(n_ent)
    gain = np.zeros(m)
    fix = np.empty(n_ent)
    lag.exact_knapsacks(lam, take, gain, fix)
    v = d.fixed_cost + gain
    const = float(lam[lag.served].sum())
    value, _ = lag.solve_sites(v, closed, forced)
    # R_j: (L2) with j forced open, v_j counted as 0.
    rest = np.full(m, INF)
    for j in np.flatnonzero(lag.open_ok & ~closed):
        fo = forced.copy()
        fo[j] = True
        val, _ = lag.solve_sites(v, closed, fo)
        if np.isfinite(val):
            rest[j] = val - v[j]
    site = lag.ent_site
    rc = lag.ent_pair - np.asarray(lam, dtype=np.float64)[lag.ent_row]
    b_ent = const + rest[site] + d.fixed_cost[site] + rc + fix
    pair_bound = np.full(d.n_entries, INF)
    pair_bound[lag.ent] = b_ent
    return PairBounds(bound=const + value, pair_bound=pair_bound)


def assign_exact(
    data: CflpData,
    open_mask: BoolArray,
    *,
    time_limit_s: float,
    seed: int,
    cutoff: float | None = None,
) -> tuple[Assignment | None, bool]:
    """Solve the single-source assignment of a fixed open set as a MIP.

    Parameters
    ----------
    data
        Instance arrays (single source).
    open_mask
        Open sites.
    time_limit_s
        Limit for HiGHS.
    seed
        HiGHS seed.
    cutoff
        Only assignments whose total objective (fixed + transport) is below this matter.

    Returns
    -------
    assignment, proven
        The best assignment found (None if none) and whether HiGHS proved it optimal
        (or proved that none beats the cutoff).
    """
    model = build_mip(data, closed=~open_mask, fixed_open=open_mask)
    res = solve_mip_highs(
        model,
        time_limit_s=max(time_limit_s, 0.05),
        rel_gap=0.0,
        abs_gap=1e-6,
        seed=seed,
        start=None,
        on_progress=None,
        cutoff=cutoff,
    )
    proven = res.status in ("optimal", "infeasible")
    if not (res.x.size and np.isfinite(res.objective)):
        return None, proven
    y, frac = model.decode(data, res.x)
    frac = np.round(frac)
    a = Assignment(float(np.dot(data.pair_cost, frac)), float(data.fixed_cost[y].sum()), frac)
    if not single_source_ok(data, y, a):
        return None, False
    return a, proven


@dataclass(frozen=True, eq=False)
class PairSearch:
    """Outcome of :func:`pair_search`.

    Parameters
    ----------
    bound
        Lower bound on every solution (from the restricted MIPs and the pair bounds).
    keep
        Entries the final exact MIP needs (pairs whose bound (P1) is below the incumbent
        minus the margin, and the incumbent's pairs).
    rounds
        Restricted MIPs solved.
    """

    bound: float
    keep: BoolArray
    rounds: int


def pair_search(
    data: CflpData,
    pair_bound: FloatArray,
    *,
    lower: float,
    incumbent: Callable[[], tuple[BoolArray, Assignment]],
    on_solution: Callable[[BoolArray, Assignment], None],
    closed: BoolArray,
    fixed_open: BoolArray,
    new_sites: tuple[int, int],
    integral: bool,
    tolerance: float,
    time_left: Callable[[], float],
    seed: int,
) -> PairSearch:
    """Restricted MIPs over the pairs of smallest bound (P1), raising the bound by each.

    Round ``t`` keeps the pairs with ``B_ij < theta``, ``theta`` the smaller of
    ``lower + THETA_SHARE (UB - lower)`` and the bound of the ``ROUND_PAIRS_PER_ROW 2^t n``-th
    smallest pair (and the incumbent's pairs), and solves that MIP within
    ``ROUND_TIME_SHARE`` of the time left, started from the incumbent. Every solution
    outside it uses a pair with ``B_ij >= theta`` and costs at least ``theta``, so
    ``min(restricted bound, theta)`` is a lower bound of the whole problem; its solutions
    are solutions of the whole problem.
    The rounds stop when the pairs below the incumbent are few enough
    (``EXACT_KEEP_SHARE`` of all) for the exact MIP, or after ``MAX_ROUNDS``.

    Parameters
    ----------
    data
        Instance arrays.
    pair_bound
        ``B_ij`` per entry (:func:`pair_bounds`).
    lower
        A lower bound already proven.
    incumbent
        Returns the current best solution (open mask, assignment).
    on_solution
        Called with every solution a restricted MIP returns.
    closed, fixed_open
        Sites fixed closed / open by the Lagrangian tests (the incumbent's sites are
        never closed here).
    new_sites
        (min, max) number of new sites.
    integral
        Whether every objective value is an integer.
    tolerance
        Absolute tolerance of non-integral objectives.
    time_left
        Seconds left of the solve.
    seed
        HiGHS seed.

    Returns
    -------
    search
        The bound reached and the pairs the exact MIP needs.
    """
    lo = lower
    rounds = 0
    while True:
        y_inc, a_inc = incumbent()
        ub = a_inc.objective
        margin = fixing_margin(ub, integral, tolerance)
        inc_pairs = a_inc.entry_frac > 0.5  # noqa: PLR2004
        keep = (pair_bound < ub - margin) | inc_pairs
        if (
            lo >= ub - margin
            or rounds >= MAX_ROUNDS
            or keep.sum() <= EXACT_KEEP_SHARE * data.n_entries
            or time_left() <= 1.0
        ):
            return PairSearch(bound=lo, keep=keep, rounds=rounds)
        theta = lo + THETA_SHARE * (ub - lo)
        n_small = int(ROUND_PAIRS_PER_ROW * 2**rounds * max(1, int(data.served.sum())))
        finite = np.sort(pair_bound[np.isfinite(pair_bound)])
        if n_small < len(finite):
            theta = min(theta, max(lo, float(finite[n_small])))
        sub = (pair_bound < theta) | inc_pairs
        model = build_mip(
            data,
            closed=closed & ~y_inc,
            fixed_open=fixed_open & y_inc,
            new_sites=new_sites,
            entry_mask=sub,
        )
        res = solve_mip_highs(
            model,
            time_limit_s=ROUND_TIME_SHARE * time_left(),
            rel_gap=0.0,
            abs_gap=1.0 - 1e-6 if integral else max(tolerance, 1e-9),
            seed=seed,
            start=model.start_vector(y_inc, a_inc.entry_frac),
            on_progress=None,
        )
        rounds += 1
        if res.x.size and np.isfinite(res.objective):
            y, frac = model.decode(data, res.x)
            frac = np.round(frac)
            a = Assignment(
                float(np.dot(data.pair_cost, frac)), float(data.fixed_cost[y].sum()), frac
            )
            if single_source_ok(data, y, a):
                on_solution(y, a)
        r_bound = res.bound if res.status != "infeasible" else INF
        if integral and np.isfinite(r_bound):
            r_bound = math.ceil(r_bound - 1e-6)
        lo = max(lo, min(r_bound, theta))
