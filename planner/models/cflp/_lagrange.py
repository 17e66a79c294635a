"""Lagrangian relaxation of the CFLP demand constraints (Beasley 1988; Goertz & Klose 2012).

Relaxing (1) ``sum_j x_ij = 1`` with multipliers ``lambda_i`` (free sign) leaves, for each
site ``j``, a knapsack over the rows with negative reduced cost
``rc_ij = w_i c_ij - lambda_i``::

    (L1) v_j = f_j + min { sum_i rc_ij x_ij : sum_i w_i x_ij <= s_j, 0 <= x_ij <= 1 }

solved greedily by ``rc_ij / w_i`` (the LP relaxation of the 0-1 knapsack for the
single-source variant, which keeps the bound valid). The sites then solve::

    (L2) min sum_j v_j y_j  s.t. required sites open, min_new <= #new <= max_new,
                                 sum_j s_j y_j >= total demand (7)

With equal capacities among the free sites, (7) is a cardinality constraint and (L2) is
solved exactly by sorting (this is what makes the bound stronger than the LP bound: it
rounds ``sum_j y_j`` up). Otherwise (7) is relaxed with a multiplier ``mu >= 0``.
``L(lambda) = sum_i lambda_i + (L2)`` is a lower bound for every ``lambda``.

Reduced-cost fixing: forcing site ``j`` open (closed) in (L2) gives a bound ``L_j`` on all
solutions with ``j`` open (closed); if ``L_j`` exceeds the incumbent, ``j`` is fixed closed
(open) for the rest of the solve.

Rows' ``beyond_cost`` (k-nearest lists): unlisted pairs may exist at a cost of at least
``beyond_cost``. Each of them adds ``min(0, w_i b_i - lambda_i)`` to (L1) of every site
that does not list row ``i`` (capacity ignored, a relaxation), so the bound stays valid
for the full problem, not only for the listed pairs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from planner.models._base import BoolArray, FloatArray
from planner.models._kernels import kernels
from planner.models.cflp._data import CflpData

INF = float("inf")
# Largest relative distance between the Polyak target and the best bound.
TARGET_RGAP = 0.02
# A subgradient with squared norm below this is zero: (L2)'s solution satisfies (1).
ZERO_NORM2 = 1e-18
# Weights this close to integers are integers (exact 0-1 knapsacks).
INTEGRAL_TOL = 1e-9
# Exact 0-1 knapsacks when capacity x entries (the DP cells of one pass) stays below this.
EXACT_KNAPSACK_CELLS = 5e7


@dataclass
class LagrangeState:
    """Best multipliers, bound and fixings found so far (mutable working state).

    Parameters
    ----------
    bound
        Best lower bound.
    lam
        Multipliers that gave it.
    fixed_closed
        Sites proven closed in every solution better than the incumbent.
    fixed_open
        Sites proven open in every solution better than the incumbent.
    iterations
        Subgradient iterations done.
    y_sets
        Distinct site sets proposed by (L2), in order (for the primal heuristic).
    """

    bound: float
    lam: FloatArray
    fixed_closed: BoolArray
    fixed_open: BoolArray
    iterations: int = 0
    y_sets: list[BoolArray] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class _SubResult:
    value: float
    y: BoolArray
    v: FloatArray
    take: FloatArray  # per entry (served rows), fraction taken in (L1)
    mu_grad: float
    lam: FloatArray  # the multipliers it was computed at


class Lagrangian:
    """Subgradient optimisation of the bound described in the module docstring.

    Parameters
    ----------
    data
        Instance arrays.
    beyond_cost
        Per row, lower bound on the cost of unlisted pairs (``inf`` = not allowed).
    """

    def __init__(self, data: CflpData, beyond_cost: FloatArray) -> None:
        self.data = data
        # Entries of served rows, ordered by site (every entry is one since loose rows have
        # none, see CflpData; the filter only guards the general case).
        ent = data.by_site[data.served[data.e_row[data.by_site]]]
        self.ent = ent
        self.ent_site = data.e_site[ent]
        self.ent_row = data.e_row[ent]
        self.ent_w = data.weight[self.ent_row]
        self.ent_pair = data.pair_cost[ent]
        # Entries are grouped by site: pointers for the compiled knapsack pass.
        self.site_ptr = np.zeros(data.n_sites + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.ent_site, minlength=data.n_sites), out=self.site_ptr[1:])
        self.capacity = np.asarray(data.capacity, dtype=np.float64)
        # Single source with integer demands: (L1) is the 0-1 knapsack, solved exactly by
        # dynamic programming when its capacities are small enough (a stronger bound).
        w_round = np.round(self.ent_w)
        cap_fin = np.where(np.isfinite(self.capacity), self.capacity, 0.0)
        self.exact_knapsack = bool(
            data.single_source
            and len(self.ent_w)
            and np.all(np.abs(self.ent_w - w_round) <= INTEGRAL_TOL)
            and np.all(self.ent_w >= 0)
            and np.isfinite(self.capacity).all()
            and float(cap_fin.max(initial=0.0)) * len(self.ent_w) <= EXACT_KNAPSACK_CELLS
        )
        self.ent_w_int = w_round.astype(np.int64)
        self.cap_int = np.floor(cap_fin + 1e-9).astype(np.int64)
        self.served = np.flatnonzero(data.served)
        self.open_ok = data.allowed | data.required
        b = np.asarray(beyond_cost, dtype=np.float64)
        self.beyond_pair = np.where(np.isfinite(b), data.weight * b, INF)
        self.has_beyond = bool(np.isfinite(self.beyond_pair[data.served]).any())
        free = data.free
        caps = data.capacity[free]
        self.cap_req = float(data.capacity[data.required].sum())
        demand = data.total_demand
        self.need = max(0.0, demand - self.cap_req)
        self.uniform = bool(len(caps) and np.isfinite(caps).all() and np.ptp(caps) == 0)
        self.use_mu = bool(
            self.need > 0 and len(caps) and np.isfinite(caps).all() and not self.uniform
        )
        if self.exact_knapsack:
            # With exact knapsacks the capacity of each open site is already in (L1); the
            # relaxed aggregate row (7) adds little and its subgradient, in capacity units,
            # swamps the step of the multipliers (p1: 7,930 instead of 8,848 in 2,000 steps).
            self.use_mu = False
        self.k_cap = 0
        if self.need > 0 and self.uniform and caps[0] > 0:
            self.k_cap = int(np.ceil(self.need / caps[0] * (1 - 1e-12)))
        self.mu = 0.0
        # Numbers of new sites proven not to beat the incumbent (see ``count_fixing``).
        self.count_excluded = np.zeros(int(free.sum()) + 1, dtype=np.bool_)

    # -- (L2) ------------------------------------------------------------------------------
    def count_range(self) -> tuple[int, int]:
        """Range of new-site counts not excluded by ``count_fixing`` (or the input bounds).

        Returns
        -------
        lo, hi
            Smallest and largest admissible number of new sites.
        """
        d = self.data
        ok = np.flatnonzero(~self.count_excluded)
        if not len(ok):
            return d.max_new + 1, d.max_new
        return max(d.min_new, int(ok[0])), min(d.max_new, int(ok[-1]))

    def _count_bounds(self) -> tuple[int, int]:
        lo, hi = self.count_range()
        return max(lo, self.k_cap), hi

    def count_fixing(
        self, res: _SubResult, const: float, upper: float, closed: BoolArray, forced: BoolArray
    ) -> None:
        """Exclude numbers of new sites whose best (L2) choice lifts the bound above ``upper``.

        Parameters
        ----------
        res
            Minimiser at the current multipliers.
        const
            ``L(lambda) - (L2) value``.
        upper
            Incumbent objective minus the tolerance.
        closed
            Sites fixed closed.
        forced
            Sites fixed open.
        """
        d = self.data
        y0 = d.required | (forced & d.allowed)
        base = const + float(res.v[y0].sum())
        n_forced_new = int((y0 & ~d.required).sum())
        pool = np.sort(res.v[d.free & ~closed & ~y0])
        prefix = np.r_[0.0, np.cumsum(pool)]
        counts = n_forced_new + np.arange(len(prefix))
        over = base + prefix > upper
        inside = counts < len(self.count_excluded)
        self.count_excluded[counts[inside & over]] = True

    def solve_sites(
        self, v: FloatArray, closed: BoolArray, forced: BoolArray
    ) -> tuple[float, BoolArray]:
        """Solve (L2) for site values ``v`` (``mu`` already folded in).

        Parameters
        ----------
        v
            Value per site.
        closed
            Sites that must stay closed.
        forced
            Sites that must open (besides required ones).

        Returns
        -------
        value, y
            Optimal value (``inf`` if no choice is feasible) and the open sites.
        """
        d = self.data
        y = d.required | (forced & d.allowed)
        if (forced & ~d.allowed).any():
            return INF, y
        k_lo, k_hi = self._count_bounds()
        n_forced_new = int((y & ~d.required).sum())
        pool = np.flatnonzero(d.free & ~closed & ~y)
        vals = v[pool]
        order = np.argsort(vals, kind="stable")
        lo = max(0, k_lo - n_forced_new)
        hi = min(len(pool), k_hi - n_forced_new)
        if hi < lo or lo > len(pool):
            return INF, y
        k = int(np.clip(int((vals < 0).sum()), lo, hi))
        y[pool[order[:k]]] = True
        return float(v[y].sum()), y

    def exact_knapsacks(
        self, lam: FloatArray, take: FloatArray, gain: FloatArray, fix: FloatArray | None
    ) -> None:
        """Solve every site's 0-1 knapsack of (L1) exactly (compiled ``knapsack01``).

        Fills ``take`` (per entry) and ``gain`` (per site) in place; with ``fix`` also the
        bound of each entry taken, from the DP table at capacity minus its weight (P1 in
        :mod:`planner.models.cflp._single`).
        """
        kernels().knapsack01(
            self.site_ptr,
            self.ent_row,
            self.ent_w_int,
            self.ent_pair,
            np.ascontiguousarray(lam, dtype=np.float64),
            self.cap_int,
            np.ones(self.data.n_sites, dtype=np.bool_),
            fix is not None,
            take,
            gain,
            np.empty(0) if fix is None else fix,
        )

    # -- (L1) + (L2) -----------------------------------------------------------------------
    def evaluate(self, lam: FloatArray, closed: BoolArray, forced: BoolArray) -> _SubResult:
        """Compute ``L(lambda)`` with its minimiser.

        Parameters
        ----------
        lam
            Multipliers per row.
        closed
            Sites fixed closed.
        forced
            Sites fixed open.

        Returns
        -------
        result
            Bound value, open sites, site values and knapsack fractions.
        """
        d = self.data
        m = d.n_sites
        take = np.empty(len(self.ent_pair))
        gain = np.empty(m)
        # (L1) for every site in one compiled pass (module planner.models._kernels).
        lam_c = np.ascontiguousarray(lam, dtype=np.float64)
        if self.exact_knapsack:
            self.exact_knapsacks(lam_c, take, gain, None)
        else:
            kernels().cflp_knapsack(
                self.site_ptr,
                self.ent_row,
                self.ent_w,
                self.ent_pair,
                lam_c,
                self.capacity,
                take,
                gain,
            )
        if self.has_beyond:
            extra = np.minimum(0.0, self.beyond_pair - lam)
            extra[~d.served] = 0.0
            total = float(extra.sum())
            hit = np.flatnonzero(extra[self.ent_row] < 0)
            listed = np.bincount(self.ent_site[hit], weights=extra[self.ent_row[hit]], minlength=m)
            gain += total - listed
        v = d.fixed_cost + gain
        const = float(lam[self.served].sum())
        vv = v
        mu_grad = 0.0
        if self.use_mu:
            vv = v - self.mu * np.where(d.free, d.capacity, 0.0)
            const += self.mu * self.need
        value, y = self.solve_sites(vv, closed, forced)
        if self.use_mu:
            mu_grad = self.need - float(d.capacity[y & d.free].sum())
        return _SubResult(value=const + value, y=y, v=vv, take=take, mu_grad=mu_grad, lam=lam)

    def subgradient(self, res: _SubResult) -> FloatArray:
        """Return ``g_i = 1 - sum_j x_ij y_j`` for the minimiser of ``L``.

        Parameters
        ----------
        res
            The minimiser.

        Returns
        -------
        g
            Subgradient per row (0 on rows not served).
        """
        d = self.data
        served_by = np.empty(d.n_rows)
        listed_open = np.empty(d.n_rows)
        kernels().cflp_served(
            self.ent_site,
            self.ent_row,
            res.take,
            np.ascontiguousarray(res.y, dtype=np.bool_),
            served_by,
            listed_open,
        )
        if self.has_beyond:
            # Rows priced below their multiplier at the beyond cost are also taken by every
            # open site that does not list them (see ``evaluate``): count those too.
            lam_gt = self.beyond_pair < res.lam
            if lam_gt.any():
                served_by += np.where(lam_gt, float(res.y.sum()) - listed_open, 0.0)
        g: FloatArray = (1.0 - served_by).astype(np.float64)
        g[~d.served] = 0.0
        return g

    def fixing(
        self, res: _SubResult, const: float, upper: float, closed: BoolArray, forced: BoolArray
    ) -> tuple[BoolArray, BoolArray]:
        """Reduced-cost tests: sites whose forced flip lifts the bound above ``upper``.

        Parameters
        ----------
        res
            Minimiser at the current multipliers.
        const
            ``L(lambda) - (L2) value``: the part that does not depend on ``y``.
        upper
            Incumbent objective minus the tolerance.
        closed
            Sites already fixed closed.
        forced
            Sites already fixed open.

        Returns
        -------
        new_closed, new_open
            Sites that can be fixed closed / open.
        """
        d = self.data
        m = d.n_sites
        new_closed = np.zeros(m, dtype=np.bool_)
        new_open = np.zeros(m, dtype=np.bool_)
        cand = np.flatnonzero(d.free & ~closed & ~forced)
        for j in cand:
            if res.y[j]:
                cl = closed.copy()
                cl[j] = True
                val, _ = self.solve_sites(res.v, cl, forced)
                if const + val > upper:
                    new_open[j] = True
            else:
                fo = forced.copy()
                fo[j] = True
                val, _ = self.solve_sites(res.v, closed, fo)
                if const + val > upper:
                    new_closed[j] = True
        return new_closed, new_open


def initial_multipliers(data: CflpData) -> FloatArray:
    """Start multipliers: an estimate of what serving each row costs in a good solution.

    With capacities: ``min_j (w_i c_ij + w_i f_j / s_j)``, the pair cost plus the row's share
    of the fixed cost of a fully used site. Uncapacitated: the second-cheapest pair cost.

    Parameters
    ----------
    data
        Instance arrays.

    Returns
    -------
    lam
        One multiplier per row (0 on rows not served).
    """
    lam = np.zeros(data.n_rows)
    cnt = np.diff(data.indptr)
    has = cnt > 0
    first = data.indptr[:-1]
    second = np.where(cnt > 1, first + 1, first)
    lam[has] = data.pair_cost[second[has]]
    cap = data.capacity[data.e_site]
    finite = np.isfinite(cap) & (cap > 0)
    if finite.any():
        share = np.where(finite, data.fixed_cost[data.e_site] / np.where(finite, cap, 1.0), 0.0)
        est = np.where(finite, data.pair_cost + data.weight[data.e_row] * share, np.inf)
        best = np.full(data.n_rows, np.inf)
        np.minimum.at(best, data.e_row, est)
        ok = np.isfinite(best)
        lam[ok] = best[ok]
    lam[~data.served] = 0.0
    return lam


def run_subgradient(  # noqa: C901, PLR0912, PLR0915
    lag: Lagrangian,
    state: LagrangeState,
    *,
    upper: Callable[[], float],
    tolerance: float,
    max_iter: int,
    should_stop: Callable[[], bool],
    on_bound: Callable[[float], None] | None = None,
    on_sites: Callable[[BoolArray], None] | None = None,
    fix_every: int = 10,
) -> LagrangeState:
    """Improve ``state`` by subgradient steps (Polyak step, halving on stalls).

    Parameters
    ----------
    lag
        The relaxation.
    state
        Working state, updated in place and returned.
    upper
        Returns the current incumbent objective (``inf`` if none).
    tolerance
        Absolute tolerance for fixing and stopping (stop when bound >= upper - tolerance).
    max_iter
        Iteration limit for this call.
    should_stop
        Time limit / cancellation check.
    on_bound
        Called with each improved bound.
    on_sites
        Called with each new (L2) site set (primal heuristic hook).
    fix_every
        Run the reduced-cost tests every this many iterations (when an incumbent exists).

    Returns
    -------
    state
        The updated state.
    """
    d = lag.data
    lam = state.lam.copy()
    pi = 2.0
    stall = 0
    seen: set[bytes] = set()
    last_res: _SubResult | None = None
    for it in range(max_iter):
        # A first call always evaluates the start multipliers once: any multipliers give a
        # valid bound, so a time limit reached before this phase still leaves one.
        if should_stop() and (it > 0 or np.isfinite(state.bound)):
            break
        res = lag.evaluate(lam, state.fixed_closed, state.fixed_open)
        state.iterations += 1
        last_res = res
        if not np.isfinite(res.value):
            ub = upper()
            if np.isfinite(ub):
                # No site choice is left that could beat the incumbent: it is optimal.
                state.bound = max(state.bound, ub - tolerance)
            break
        if not np.isfinite(state.bound) or res.value > state.bound + 1e-12 * max(
            1.0, abs(state.bound)
        ):
            state.bound = res.value
            state.lam = lam.copy()
            stall = 0
            if on_bound is not None:
                on_bound(res.value)
        else:
            stall += 1
            if stall >= 20:  # noqa: PLR2004
                pi /= 2.0
                stall = 0
        key = res.y.tobytes()
        if key not in seen:
            seen.add(key)
            state.y_sets.append(res.y.copy())
            if on_sites is not None:
                on_sites(res.y)
        ub = upper()
        if np.isfinite(ub) and state.bound >= ub - tolerance:
            break
        if np.isfinite(ub) and (it % fix_every == 0) and res.value >= ub - 0.05 * abs(ub):
            const = res.value - float(res.v[res.y].sum())
            nc, no = lag.fixing(res, const, ub - tolerance, state.fixed_closed, state.fixed_open)
            state.fixed_closed |= nc
            state.fixed_open |= no
            lag.count_fixing(res, const, ub - tolerance, state.fixed_closed, state.fixed_open)
        g = lag.subgradient(res)
        norm2 = float(g @ g)
        if lag.use_mu:
            norm2 += res.mu_grad**2
        if norm2 <= ZERO_NORM2:
            break  # (L2)'s solution is primal feasible for (1): the bound is tight
        # Polyak target: the incumbent, but never more than TARGET_RGAP above the best
        # bound (a poor incumbent would otherwise make every step overshoot).
        cap_target = state.bound + TARGET_RGAP * abs(state.bound) + 1.0
        target = min(ub, cap_target) if np.isfinite(ub) else cap_target
        step = pi * max(target - res.value, 1e-9 * max(1.0, abs(res.value))) / norm2
        lam = lam + step * g
        lam[~d.served] = 0.0
        if lag.use_mu:
            lag.mu = max(0.0, lag.mu + step * res.mu_grad)
        if pi < 1e-5:  # noqa: PLR2004
            break
    if last_res is not None:
        ub = upper()
        if np.isfinite(ub):
            # Final tests at the best multipliers.
            best = lag.evaluate(state.lam, state.fixed_closed, state.fixed_open)
            if np.isfinite(best.value):
                const = best.value - float(best.v[best.y].sum())
                nc, no = lag.fixing(
                    best, const, ub - tolerance, state.fixed_closed, state.fixed_open
                )
                state.fixed_closed |= nc
                state.fixed_open |= no
                lag.count_fixing(best, const, ub - tolerance, state.fixed_closed, state.fixed_open)
    return state
