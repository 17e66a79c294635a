"""The :class:`PMedian` class: evaluation and the solve pipeline of the p-median."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from planner.errors import ValidationError
from planner.models._base import (
    BoolArray,
    Clock,
    CostMatrix,
    ExactCost,
    FloatArray,
    IntArray,
    LocationProblem,
    SiteData,
    Solution,
    SolveOptions,
    Status,
    as_cost_matrix,
    relative_gap,
)
from planner.models._build import GeoBuildMixin
from planner.models._decision import budgeted_decision_support
from planner.models._mip import MipBackend, solve_mip
from planner.models.pmedian._cap_lagrange import CapLagrange, cap_entries, cap_lagrangian
from planner.models.pmedian._capacitated import (
    capacitated_mip,
    decode_capacitated,
    evaluate_capacitated,
)
from planner.models.pmedian._evaluate import evaluate_nearest, rows_beyond_lists
from planner.models.pmedian._heuristics import (
    BeyondFn,
    SparseInstance,
    assign_nearest,
    fast_interchange,
    greedy,
    objective_of,
    restrict,
    swap_deltas,
)
from planner.models.pmedian._lagrangian import LagrangianResult, branch_and_bound, subgradient
from planner.models.pmedian._prepare import beyond_function, extend_lists, prepare
from planner.models.pmedian._radius_mip import build_radius_mip, radius_hint

_MIP_SHARE = 0.95  # fraction of the remaining time the MIP phase may use
_OPTIMAL_GAP = 1e-6  # relative gap reported as proven optimal
_INTEGRAL_SLACK = 1e-5  # rounding slack for bounds of integral objectives
_CAP_GAP_SHARE = 0.05  # capacitated: time share of one exact assignment of an open set
_CAP_LR_SHARE = 0.35  # capacitated: fraction of the time the knapsack Lagrangian may use
_CAP_SEARCH_SHARE = 0.5  # capacitated: ... it and the local search on the medians after it
_CAP_POLISH_SHARE = 0.6  # capacitated: ... and the bound's polish after a better incumbent
# Capacitated: most kept pairs per second left for the MIP after the Lagrangian (HiGHS
# builds and presolves a bigger one past the time limit; the incumbent stands instead).
_CAP_MIP_PAIRS_PER_S = 8000
_CAP_MIP_SLACK = 0.15  # capacitated: share of the time left kept back from the MIP's limit
_LR_SHARE = 0.3  # fraction of the remaining time the Lagrangian phase may use
_LR_RESTARTS = 8  # interchange restarts from relaxed open sets
# Subgradient iterations on the full structure, then on each successive reduction.
_LR_STAGES = (40, 120, 400, 1500)
_EXACT_MAX_ENTRIES = 400_000  # auto: larger reduced structures stay Lagrangian-only
_BNB_MAX_FREE_OPEN = 12  # auto: Lagrangian B&B when at most this many sites remain to choose


class PMedian(GeoBuildMixin):
    """p-median model: choose ``p`` sites minimising demand-weighted travel cost.

    Parameters
    ----------
    problem
        A problem with ``kind == "p_median"``.
    exact_cost
        Optional true-cost function ``(rows, sites) -> matrix`` used for rows whose listed
        sites are all closed (k-nearest lists); see the module docstring.
    initial_sites
        Optional open set to start the local search from (e.g. the solution of an
        aggregated problem); ignored unless it is a valid set of ``p`` sites.
    initial_multipliers
        Optional starting Lagrangian multipliers, one per demand row in weighted cost
        units (e.g. mapped from an aggregated problem); any values give valid bounds.

    Examples
    --------
    >>> import numpy as np
    >>> from planner.models import SolveOptions
    >>> model = PMedian.from_cost_matrix([[1.0, 4.0], [3.0, 1.0], [2.0, 2.0]], [1, 1, 1], p=1)
    >>> sol = model.solve(SolveOptions(time_limit_s=5))
    >>> sol.open_sites, sol.objective
    ((0,), 6.0)
    """

    kind = "p_median"

    def __init__(
        self,
        problem: LocationProblem,
        *,
        exact_cost: ExactCost | None = None,
        initial_sites: Sequence[int] | None = None,
        initial_multipliers: npt.ArrayLike | None = None,
    ) -> None:
        if problem.kind != "p_median":
            msg = f"PMedian needs a problem of kind 'p_median', got {problem.kind!r}."
            raise ValidationError(msg, source="PMedian")
        self.problem = problem
        self.exact_cost = exact_cost
        self.initial_sites = tuple(int(s) for s in initial_sites) if initial_sites else ()
        self.initial_multipliers = (
            None
            if initial_multipliers is None
            else np.asarray(initial_multipliers, dtype=np.float64).reshape(-1).copy()
        )
        if self.initial_multipliers is not None and len(self.initial_multipliers) != (
            problem.n_demand
        ):
            msg = (
                f"`initial_multipliers` has {len(self.initial_multipliers)} values for "
                f"{problem.n_demand} demand rows."
            )
            raise ValidationError(msg, source="PMedian")
        self._prep = prepare(problem)
        costs = problem.costs
        same_row = costs.row_of_entry[1:] == costs.row_of_entry[:-1]
        # Whether every row lists its sites cheapest first (k-nearest structures do):
        # evaluate() then takes the first open entry per row without sorting.
        self._rows_sorted = not bool((same_row & (costs.cost[1:] < costs.cost[:-1])).any())

    @classmethod
    def from_cost_matrix(
        cls,
        costs: CostMatrix | npt.ArrayLike,
        weights: npt.ArrayLike,
        *,
        p: int,
        sites: SiteData | None = None,
        max_cost: float | None = None,
        capacitated: bool = False,
        min_new_sites: int = 0,
        max_new_sites: int | None = None,
        exact_cost: ExactCost | None = None,
        initial_sites: Sequence[int] | None = None,
        initial_multipliers: npt.ArrayLike | None = None,
    ) -> PMedian:
        """Build the model from a cost structure and demand weights.

        Parameters
        ----------
        costs
            Sparse :class:`CostMatrix` or a dense demand x site array (``inf``/``nan`` =
            not allowed).
        weights
            Demand weight per row.
        p
            Number of open sites, required ones included.
        sites
            Capacity, fixed cost, required and forbidden flags; default: plain sites.
        max_cost
            Service cutoff: pairs costing more are not allowed.
        capacitated
            Enforce ``sites.capacity`` (single-source assignment).
        min_new_sites, max_new_sites
            Bounds on the number of open sites that are not required.
        exact_cost
            True-cost function for unlisted pairs (see the class docstring).
        initial_sites
            Open set to start the local search from (see the class docstring).
        initial_multipliers
            Starting Lagrangian multipliers (see the class docstring).

        Returns
        -------
        model
            The p-median model.
        """
        matrix = as_cost_matrix(costs, max_cost)
        w = np.asarray(weights, dtype=np.float64).reshape(-1).copy()
        site_data = sites if sites is not None else SiteData.default(matrix.n_sites)
        problem = LocationProblem(
            kind="p_median",
            costs=matrix,
            weights=w,
            sites=site_data,
            p=p,
            min_new_sites=min_new_sites,
            max_new_sites=max_new_sites,
            capacitated=capacitated,
        )
        return cls(
            problem,
            exact_cost=exact_cost,
            initial_sites=initial_sites,
            initial_multipliers=initial_multipliers,
        )

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, open_sites: Sequence[int]) -> tuple[float, IntArray, FloatArray]:
        """Return objective, assignment and assignment cost for a fixed open set.

        Parameters
        ----------
        open_sites
            Indices of open sites.

        Returns
        -------
        objective, assignment, assignment_cost
            ``inf`` objective (and -1 assignments) when some reachable row cannot be
            served (cutoff) or, if capacitated, no assignment fits the capacities.
        """
        opened = np.unique(np.asarray(list(open_sites), dtype=np.int64))
        if self.problem.capacitated:
            return evaluate_capacitated(self.problem, self._prep, opened)
        return evaluate_nearest(
            self.problem, self._prep, self.exact_cost, opened, rows_sorted=self._rows_sorted
        )

    def lagrangian_multipliers(
        self, open_sites: Sequence[int], *, time_limit_s: float
    ) -> tuple[FloatArray, float]:
        """Return Lagrangian multipliers (dual prices per demand row) and their bound.

        Parameters
        ----------
        open_sites
            A good open set (its objective drives the step length).
        time_limit_s
            Seconds of subgradient iterations.

        Returns
        -------
        multipliers, bound
            One multiplier per demand row, in weighted cost units (0 for rows left out of
            the relaxation), and the lower bound they give.
        """
        inst = self._prep.inst
        mask = np.zeros(inst.n_sites, dtype=np.bool_)
        mask[list(open_sites)] = True
        d1, _, d2, _ = assign_nearest(inst, mask)
        ub = objective_of(inst, mask)
        deadline = time.perf_counter() + time_limit_s
        lr = subgradient(
            inst,
            upper_bound=ub,
            threshold=self._threshold(ub, 0.0),
            u0=d1 + 0.5 * np.minimum(d2 - d1, d1),
            max_iterations=1_000_000,
            should_stop=lambda: time.perf_counter() > deadline,
            integral=self._prep.integral,
        )
        out = np.zeros(self.problem.n_demand)
        out[self._prep.rows] = lr.multipliers
        return out, lr.bound

    # ------------------------------------------------------------------ solve

    def solve(self, options: SolveOptions | None = None) -> Solution:
        """Solve the model.

        Parameters
        ----------
        options
            Time limit, gap, seed, backend, progress, cancellation, N-best and regret.

        Returns
        -------
        solution
            Always returned: optimal, feasible (limit hit, with its gap), infeasible (with
            the reason) or error.
        """
        opts = options if options is not None else SolveOptions()
        clock = Clock(opts)
        reason = self._precheck()
        if reason:
            return self._infeasible(clock, reason)
        if self.problem.capacitated:
            return self._solve_capacitated(clock)
        return self._solve_uncapacitated(clock)

    def _precheck(self) -> str:
        """Return why the problem is infeasible before any search, or ``""``."""
        pr, sites, prep = self.problem, self.problem.sites, self._prep
        p = int(pr.p or 0)
        n_req = int(sites.required.sum())
        n_new = p - n_req
        if n_new < pr.min_new_sites:
            return (
                f"p = {p} with {n_req} required sites leaves room for {n_new} new sites, "
                f"fewer than min_new_sites = {pr.min_new_sites}."
            )
        if pr.max_new_sites is not None and n_new > pr.max_new_sites:
            return (
                f"p = {p} with {n_req} required sites means {n_new} new sites, more than "
                f"max_new_sites = {pr.max_new_sites}."
            )
        if len(prep.stranded):
            ids = ", ".join(str(int(i)) for i in prep.stranded[:5])
            return (
                f"{len(prep.stranded)} demand row(s) (e.g. rows {ids}) can only be served by "
                "forbidden sites within the cutoff; allow one of their sites or raise the cutoff."
            )
        if pr.capacitated:
            demand = float(pr.weights[~prep.unreachable].sum())
            cap = sites.capacity
            req_cap = float(cap[sites.required].sum())
            free = np.sort(cap[~sites.required & ~sites.forbidden])[::-1]
            best_cap = req_cap + float(free[:n_new].sum())
            if best_cap < demand * (1 - 1e-12):
                return (
                    f"total capacity of the best {p} sites is {best_cap:,.2f} < demand "
                    f"{demand:,.2f}; raise p or capacities."
                )
        return ""

    def _infeasible(self, clock: Clock, reason: str, backend: str = "presolve") -> Solution:
        n = self.problem.n_demand
        return Solution(
            model=self.kind,
            status=Status.INFEASIBLE,
            objective=float("nan"),
            bound=float("nan"),
            gap=float("nan"),
            open_sites=(),
            assignment=np.full(n, -1, dtype=np.int64),
            assignment_cost=np.full(n, np.nan),
            runtime_s=clock.elapsed_s,
            backend=backend,
            message=f"Infeasible: {reason}",
        )

    def _mip_backend(self, clock: Clock) -> MipBackend | None:
        backend = clock.options.backend
        if backend == "heuristic":
            return None
        if backend == "auto":
            return "highs"
        return backend

    def _solve_uncapacitated(self, clock: Clock) -> Solution:
        prep, opts = self._prep, clock.options
        inst = prep.inst
        stats: dict[str, float | int | str] = {}
        # Phase 1: greedy + fast interchange.
        start = self._initial_mask()
        if start is None:
            start = greedy(inst)
        beyond_fn = self._beyond_fn()
        if self._initial_mask() is not None and len(inst.site) > _EXACT_MAX_ENTRIES:
            # A large structure with a given start (e.g. from an aggregated copy): its move
            # tables cost more than the few swaps they find; spend the time on the bound.
            best_mask, swaps = start, 0
            best_f = self._true_objective(start) if beyond_fn else objective_of(inst, start)
        else:
            best_mask, best_f, swaps = fast_interchange(
                inst,
                start,
                should_stop=lambda: clock.should_stop,
                on_improve=lambda f: clock.report(incumbent=f, phase="interchange"),
                beyond_fn=beyond_fn,
            )
        stats["interchange_swaps"] = swaps
        stats["heuristic_objective"] = best_f
        stats["heuristic_s"] = round(clock.elapsed_s, 3)
        clock.report(incumbent=best_f, phase="heuristic")
        feasible = best_f < prep.penalty
        bound = -math.inf
        backend_used = "heuristic"
        proven = False
        threshold = math.inf
        reduced = None
        lr = None
        # Phase 2: Lagrangian bound, site fixing, problem reduction, relaxed restarts.
        if feasible and not clock.should_stop:
            lr, reduced, best_mask, best_f, threshold = self._lagrangian_phase(
                clock, best_mask, best_f, stats
            )
            bound = min(lr.bound, threshold)
            backend_used = "heuristic+lagrangian"
            if self._rounded(lr.bound) >= threshold:
                proven = True
        # Phase 3: exact search on the reduced problem.
        exact = self._exact_backend(clock, lr, reduced)
        if exact == "lagrangian" and lr is not None and reduced is not None and not proven:
            # Too large for an exact search in time: keep improving the Lagrangian bound.
            lr2 = subgradient(
                reduced,
                upper_bound=best_f,
                threshold=threshold,
                u0=lr.multipliers,
                max_iterations=1_000_000,
                lambda0=0.5,
                should_stop=lambda: clock.should_stop,
                on_bound=lambda b: clock.report(
                    bound=self._rounded(min(b, threshold)), phase="lagrangian"
                ),
                integral=prep.integral,
                fixed_open=lr.fixed_open,
                fixed_closed=lr.fixed_closed,
                max_open_sets=_LR_RESTARTS,
            )
            bound = max(bound, min(lr2.bound, threshold))
            proven = self._rounded(lr2.bound) >= threshold
            stats["lagrangian_iterations"] = int(stats["lagrangian_iterations"]) + lr2.iterations
            stats["lagrangian_bound"] = max(float(stats["lagrangian_bound"]), lr2.bound)
        if exact == "bnb" and lr is not None and reduced is not None and not proven:
            if not clock.should_stop:
                res = branch_and_bound(
                    reduced,
                    best_mask=best_mask,
                    best_objective=best_f,
                    root=lr,
                    threshold_of=lambda f: self._threshold(f, opts.gap_tolerance),
                    round_bound=self._rounded,
                    should_stop=lambda: clock.should_stop,
                    on_incumbent=lambda f: clock.report(incumbent=f, phase="branch-and-bound"),
                    on_bound=lambda b: clock.report(bound=self._rounded(b), phase="bnb"),
                    integral=prep.integral,
                    penalty=prep.penalty,
                    objective_fn=self._true_objective if beyond_fn is not None else None,
                )
                best_mask, best_f = res.best_mask, res.best_objective
                bound = max(bound, res.bound)
                proven = res.closed
                stats["bnb_nodes"] = res.nodes
            backend_used += "+bnb"
        elif exact in ("highs", "scip", "cp-sat") and not proven and not clock.should_stop:
            mip_inst = reduced if reduced is not None else prep.inst
            best_mask, best_f, mip_bound, proven = self._radius_mip_loop(
                clock,
                exact,
                best_mask,
                best_f,
                stats,
                model_inst=mip_inst,
                exact_lists=reduced is not None,
                threshold=threshold,
            )
            # Solutions cut off by the reduction cost at least `threshold`.
            bound = max(bound, min(mip_bound, threshold))
            backend_used = f"{backend_used}+{exact}"
        return self._finish(
            clock,
            best_mask=best_mask,
            best_f=best_f,
            bound=bound,
            backend=backend_used,
            stats=stats,
            proven=proven,
        )

    def _exact_backend(
        self, clock: Clock, lr: LagrangianResult | None, reduced: SparseInstance | None
    ) -> MipBackend | Literal["bnb", "lagrangian"] | None:
        """Pick the exact phase: forced MIP backend, or (auto) by size.

        Measured on OR-Library pmed (see bench/README.md): the Lagrangian branch-and-bound
        wins when few sites remain to be chosen (p <= ~12 after fixing), the HiGHS radius
        MIP when many do (the Lagrangian fixing then leaves a small model). Structures
        with more than ``_EXACT_MAX_ENTRIES`` pairs after reduction (scale runs) keep
        improving the Lagrangian bound instead.
        """
        backend = clock.options.backend
        if backend == "heuristic":
            return None
        if backend != "auto":
            return backend
        if lr is None:
            return "highs"
        if reduced is not None and len(reduced.site) > _EXACT_MAX_ENTRIES:
            return "lagrangian"
        q = self._prep.inst.p - int(lr.fixed_open.sum())
        return "bnb" if q <= _BNB_MAX_FREE_OPEN else "highs"

    def _true_objective(self, mask: BoolArray) -> float:
        """Objective of an open set at true costs (exact-cost callback for unlisted pairs)."""
        return self.evaluate(np.flatnonzero(mask).tolist())[0]

    def _beyond_fn(self) -> BeyondFn | None:
        """Return the true-cost function for rows beyond their lists, if one is known."""
        return beyond_function(self._prep, self.exact_cost, self.problem.costs.beyond_cost)

    def _initial_mask(self) -> BoolArray | None:
        inst = self._prep.inst
        if not self.initial_sites:
            return None
        mask = inst.required.copy()
        mask[list(self.initial_sites)] = True
        if int(mask.sum()) != inst.p or (mask & ~inst.allowed).any():
            return None
        return mask

    def _rounded(self, bound: float) -> float:
        """Round a lower bound up when every objective value is an integer."""
        if self._prep.integral and math.isfinite(bound):
            return float(math.ceil(bound - _INTEGRAL_SLACK))
        return bound

    def _threshold(self, best_f: float, gap_tolerance: float) -> float:
        """Only solutions cheaper than this are worth finding (drives fixing and proofs)."""
        tol = gap_tolerance * abs(best_f) * (1 - 1e-6)  # a proof leaves gap < tolerance
        if self._prep.integral:
            return best_f - max(1.0 - 10 * _INTEGRAL_SLACK, tol)
        return best_f - max(1e-9 * max(1.0, abs(best_f)), tol)

    def _lagrangian_phase(
        self,
        clock: Clock,
        best_mask: BoolArray,
        best_f: float,
        stats: dict[str, float | int | str],
    ) -> tuple[LagrangianResult, SparseInstance, BoolArray, float, float]:
        prep = self._prep
        inst = prep.inst
        tol = clock.options.gap_tolerance
        d1, _, d2, _ = assign_nearest(inst, best_mask)
        deadline = clock.elapsed_s + _LR_SHARE * clock.remaining_s
        threshold = self._threshold(best_f, tol)

        def stop() -> bool:
            return clock.should_stop or clock.elapsed_s > deadline

        def report(b: float) -> None:
            clock.report(bound=self._rounded(min(b, threshold)), phase="lagrangian")

        # Stage A on the full structure, then shrink it (sites fixed closed; entries no
        # solution cheaper than the threshold can use: w_i c_ij >= u_i + T - L(u)), then
        # stage B on the smaller structure.
        lr = subgradient(
            inst,
            upper_bound=best_f,
            threshold=threshold,
            u0=(
                d1 + 0.5 * np.minimum(d2 - d1, d1)
                if self.initial_multipliers is None
                else np.maximum(self.initial_multipliers[prep.rows], 0.0)
            ),
            max_iterations=_LR_STAGES[0],
            # Warm multipliers (e.g. from an aggregated copy) need small steps, not a restart.
            lambda0=2.0 if self.initial_multipliers is None else 0.5,
            should_stop=stop,
            on_bound=report,
            integral=prep.integral,
        )
        reduced = inst
        iterations = lr.iterations
        for max_it in _LR_STAGES[1:]:
            if not math.isfinite(lr.bound) or self._rounded(lr.bound) >= threshold:
                break
            reduced = restrict(
                reduced,
                ~lr.fixed_closed,
                lr.multipliers + (threshold - lr.bound),
                penalty=prep.penalty,
            )
            # Rows whose multiplier presses against their beyond lower bound hold the
            # bound down: price more of their sites exactly (the bound can then rise).
            extended = extend_lists(
                self._prep, self.exact_cost, self.problem.costs.beyond_cost, reduced, lr.multipliers
            )
            if extended is not None:
                reduced, n_ext = extended
                stats["extended_rows"] = int(stats.get("extended_rows", 0)) + n_ext
            if stop():
                break
            lr = subgradient(
                reduced,
                upper_bound=best_f,
                threshold=threshold,
                u0=lr.multipliers,
                max_iterations=max_it,
                lambda0=1.0,
                should_stop=stop,
                on_bound=report,
                integral=prep.integral,
                fixed_open=lr.fixed_open,
                fixed_closed=lr.fixed_closed,
            )
            iterations += lr.iterations
        stats["lagrangian_bound"] = lr.bound
        stats["lagrangian_iterations"] = iterations
        stats["fixed_open"] = int((lr.fixed_open & ~inst.required).sum())
        stats["fixed_closed"] = int((lr.fixed_closed & inst.allowed).sum())
        stats["reduced_entries"] = len(reduced.site)
        stats["lagrangian_s"] = round(clock.elapsed_s, 3)
        # Restart the interchange from a few relaxed open sets (cheap, often improves UB).
        # On large structures a restart costs more than the bound it would leave time for.
        n_restarts = _LR_RESTARTS if len(inst.site) <= _EXACT_MAX_ENTRIES else 0
        restart_deadline = deadline + 0.1 * clock.options.time_limit_s
        for y in lr.open_sets[:n_restarts]:
            if clock.should_stop or clock.elapsed_s > restart_deadline or int(y.sum()) != inst.p:
                continue
            mask, f, _ = fast_interchange(
                inst, y, should_stop=lambda: clock.should_stop, beyond_fn=self._beyond_fn()
            )
            if f < best_f - 1e-9 * max(1.0, abs(best_f)):
                best_mask, best_f = mask, f
                clock.report(incumbent=best_f, phase="lagrangian restart")
        stats["lagrangian_restarts_objective"] = best_f
        return lr, reduced, best_mask, best_f, min(threshold, self._threshold(best_f, tol))

    # ------------------------------------------------------------------ radius MIP

    def _radius_mip_loop(
        self,
        clock: Clock,
        backend: MipBackend,
        best_mask: BoolArray,
        best_f: float,
        stats: dict[str, float | int | str],
        *,
        model_inst: SparseInstance,
        exact_lists: bool,
        threshold: float,
    ) -> tuple[BoolArray, float, float, bool]:
        """Solve (1)-(6) on ``model_inst``.

        With ``exact_lists`` the structure already holds everything a solution cheaper than
        ``threshold`` can use (one round; "infeasible" then proves the incumbent optimal).
        Otherwise per-row radii start at the incumbent's costs and grow where the MIP's
        solution needs it.
        """
        full = self._prep.inst
        m = full.n_sites
        fo = model_inst.required.copy()
        fc = ~model_inst.allowed
        d1, _, _, _ = assign_nearest(model_inst, best_mask)
        radius = np.full(model_inst.n_rows, np.inf) if exact_lists else d1.copy()
        bound = -math.inf
        rounds = 0
        proven = False
        while not clock.should_stop:
            rounds += 1
            mip, y_ids, z_info = build_radius_mip(model_inst, radius, fo, fc, backend)
            hint = radius_hint(model_inst, best_mask, y_ids, z_info, mip.n_variables)
            res = solve_mip(
                mip,
                backend=backend,
                time_limit_s=clock.remaining_s * _MIP_SHARE,
                gap_tolerance=clock.options.gap_tolerance,
                seed=clock.options.seed,
                hint=hint,
                cancel=clock.options.cancel,
            )
            stats[f"mip_round{rounds}"] = (
                f"{res.status} obj={res.objective:.6g} bound={res.bound:.6g} "
                f"vars={mip.n_variables} nnz={mip.n_nonzeros} t={res.runtime_s:.2f}s"
            )
            if math.isfinite(res.bound):
                bound = max(bound, min(res.bound, best_f))
                clock.report(bound=min(bound, threshold), phase=f"mip round {rounds}")
            if res.status == "infeasible":
                bound = math.inf
                proven = True
                break
            if res.values is None:
                break
            mask = np.zeros(m, dtype=np.bool_)
            mask[y_ids[res.values[: len(y_ids)] > 0.5]] = True  # noqa: PLR2004
            if mask.sum() != full.p:
                break
            nd1, _, _, _ = assign_nearest(model_inst, mask)
            f_true = (
                self._true_objective(mask)
                if self._beyond_fn() is not None
                else objective_of(full, mask)
            )
            if f_true < best_f:
                best_mask, best_f = mask, f_true
                clock.report(incumbent=best_f, phase=f"mip round {rounds}")
            outside = nd1 > radius * (1 + 1e-12) + 1e-12
            if res.status == "optimal" and not outside.any():
                bound = max(bound, min(res.bound, best_f))
                # The structure prices unlisted pairs at their beyond lower bound: its
                # optimum proves the incumbent only when its bound reaches it (else the
                # MIP's choice relied on optimistic beyond costs).
                proven = self._rounded(bound) >= self._threshold(
                    best_f, 1.01 * max(clock.options.gap_tolerance, _OPTIMAL_GAP)
                )
                break
            if res.status != "optimal" or not outside.any():
                break
            radius = np.where(outside, nd1, radius)
        stats["mip_rounds"] = rounds
        return best_mask, best_f, bound, proven

    # ------------------------------------------------------------------ capacitated

    def _solve_capacitated(self, clock: Clock) -> Solution:  # noqa: PLR0911 -- outcomes
        opts = clock.options
        backend = self._mip_backend(clock) or "highs"
        stats: dict[str, float | int | str] = {}
        ent = cap_entries(self.problem, self._prep)
        lag = None
        if ent is not None and len(ent.row):
            t0 = time.perf_counter()
            integral = bool(
                np.all(np.abs(ent.pair_cost - np.round(ent.pair_cost)) <= _INTEGRAL_SLACK)
                and np.all(np.abs(self.problem.sites.fixed_cost % 1.0) <= _INTEGRAL_SLACK)
            )
            lag = cap_lagrangian(
                self.problem,
                ent,
                deadline_s=t0 + _CAP_LR_SHARE * clock.remaining_s,
                search_deadline_s=t0 + _CAP_SEARCH_SHARE * clock.remaining_s,
                polish_deadline_s=t0 + _CAP_POLISH_SHARE * clock.remaining_s,
                integral=integral,
                on_bound=lambda b: clock.report(bound=b, phase="lagrangian"),
                improve=lambda mask: self._exact_assignment(mask, clock),
            )
            stats["lagrangian_bound"] = lag.bound
            stats["lagrangian_incumbent"] = lag.incumbent
            stats["lagrangian_iterations"] = lag.iterations
            stats["lagrangian_s"] = round(time.perf_counter() - t0, 3)
            stats["pairs"] = len(ent.row)
            stats["pairs_kept"] = int(lag.keep.sum())
            stats["sites_closed"] = int((lag.closed & ent.allowed).sum())
            stats["sites_forced"] = int(lag.forced.sum())
            if math.isfinite(lag.incumbent):
                clock.report(incumbent=lag.incumbent, phase="lagrangian")
                margin = (1.0 - 1e-6) if integral else _OPTIMAL_GAP * abs(lag.incumbent)
                if lag.bound >= lag.incumbent - margin:
                    # Integral objective: the bound rounds up to the incumbent.
                    exact = math.ceil(lag.bound - _INTEGRAL_SLACK) if integral else lag.bound
                    return self._cap_incumbent(
                        clock, lag, stats, proven=True, bound=min(exact, lag.incumbent)
                    )
                if lag.keep.sum() > _CAP_MIP_PAIRS_PER_S * clock.remaining_s:
                    stats["mip_status"] = "skipped: too large for the time left"
                    return self._cap_incumbent(clock, lag, stats, proven=False)
        res = capacitated_mip(
            self.problem,
            self._prep,
            fixed_open=None,
            # HiGHS overruns its limit by a few seconds on the larger reduced MIPs.
            time_limit_s=(1.0 - _CAP_MIP_SLACK) * clock.remaining_s,
            backend=backend,
            seed=opts.seed,
            hint=None,
            gap_tolerance=opts.gap_tolerance,
            cancel=opts.cancel,
            pairs=None
            if lag is None or not math.isfinite(lag.incumbent)
            else (
                lag.entries.row[lag.keep],
                lag.entries.site[lag.keep],
                lag.entries.cost[lag.keep],
            ),
            closed=None if lag is None or not math.isfinite(lag.incumbent) else lag.closed,
            start=None if lag is None or not math.isfinite(lag.incumbent) else lag.assignment,
            forced=None if lag is None or not math.isfinite(lag.incumbent) else lag.forced,
        )
        has_inc = lag is not None and math.isfinite(lag.incumbent)
        if res is None:
            return self._infeasible(clock, "a demand row has no allowed site to be assigned to.")
        status, values, bound = res.status, res.values, res.bound
        if lag is not None:
            stats["mip_status"] = status
        if status == "infeasible":
            if has_inc and lag is not None:
                # The reduced MIP holds the incumbent: nothing in it is better.
                return self._cap_incumbent(clock, lag, stats, proven=True, bound=lag.incumbent)
            return self._infeasible(
                clock,
                "no choice of p sites can serve every demand row within the capacities "
                "and the cutoff (proven by the MIP).",
                backend=backend,
            )
        if values is None:
            if has_inc and lag is not None:
                return self._cap_incumbent(clock, lag, stats, proven=False)
            return self._error(clock, f"{backend} found no solution in the time limit.", backend)
        opened = np.flatnonzero(values[: self.problem.n_sites] > 0.5)  # noqa: PLR2004
        obj, assignment, acost = decode_capacitated(self.problem, res, opened)
        if lag is not None:
            if has_inc and lag.incumbent < obj - 1e-9:
                return self._cap_incumbent(
                    clock, lag, stats, proven=False, bound=max(lag.bound, min(bound, obj))
                )
            bound = max(bound, lag.bound) if math.isfinite(bound) else lag.bound
        clock.report(incumbent=obj, bound=bound, phase=backend)
        proven = status == "optimal"
        return self._package(
            clock,
            opened=opened,
            objective=obj,
            assignment=assignment,
            acost=acost,
            bound=bound,
            backend=backend if lag is None else f"{backend}+lagrangian",
            stats=stats,
            proven=proven,
        )

    def _exact_assignment(self, mask: BoolArray, clock: Clock) -> tuple[float, IntArray] | None:
        """Single-source assignment MIP to the open set ``mask`` (short limit), or ``None``."""
        res = capacitated_mip(
            self.problem,
            self._prep,
            fixed_open=mask,
            time_limit_s=min(_CAP_GAP_SHARE * clock.remaining_s, clock.remaining_s),
            backend="highs",
            seed=clock.options.seed,
            hint=None,
        )
        if res is None or res.values is None:
            return None
        obj, assignment, _ = decode_capacitated(self.problem, res, np.flatnonzero(mask))
        return obj, assignment

    def _cap_incumbent(
        self,
        clock: Clock,
        lag: CapLagrange,
        stats: dict[str, float | int | str],
        *,
        proven: bool,
        bound: float | None = None,
    ) -> Solution:
        """Package the Lagrangian incumbent of the capacitated model."""
        assignment = lag.assignment.copy()
        acost = np.full(self.problem.n_demand, np.nan)
        rows = np.flatnonzero(assignment >= 0)
        ent = lag.entries
        key = ent.row * (self.problem.n_sites + 1) + ent.site
        order = np.argsort(key)
        pos = order[
            np.searchsorted(key[order], rows * (self.problem.n_sites + 1) + assignment[rows])
        ]
        acost[rows] = ent.cost[pos]
        return self._package(
            clock,
            opened=lag.open_sites,
            objective=lag.incumbent,
            assignment=assignment,
            acost=acost,
            bound=lag.bound if bound is None else bound,
            backend="lagrangian" if proven and not stats.get("mip_status") else "highs+lagrangian",
            stats=stats,
            proven=proven,
        )

    # ------------------------------------------------------------------ results

    def _error(self, clock: Clock, message: str, backend: str) -> Solution:
        n = self.problem.n_demand
        return Solution(
            model=self.kind,
            status=Status.ERROR,
            objective=float("nan"),
            bound=float("nan"),
            gap=float("nan"),
            open_sites=(),
            assignment=np.full(n, -1, dtype=np.int64),
            assignment_cost=np.full(n, np.nan),
            runtime_s=clock.elapsed_s,
            backend=backend,
            message=message,
        )

    def _finish(
        self,
        clock: Clock,
        *,
        best_mask: BoolArray,
        best_f: float,
        bound: float,
        backend: str,
        stats: dict[str, float | int | str],
        proven: bool,
    ) -> Solution:
        if best_f >= self._prep.penalty:
            if proven:
                return self._infeasible(
                    clock,
                    f"no choice of p = {self.problem.p} sites serves every demand row within "
                    "the cutoff (proven by the MIP); raise p or the cutoff.",
                    backend=backend,
                )
            return self._error(
                clock,
                "no feasible set of sites was found in the time limit (some demand row stays "
                "beyond every open site's cutoff).",
                backend,
            )
        opened = np.flatnonzero(best_mask)
        obj, assignment, acost = self.evaluate(opened.tolist())
        return self._package(
            clock,
            opened=opened,
            objective=obj,
            assignment=assignment,
            acost=acost,
            bound=bound,
            backend=backend,
            stats=stats,
            proven=proven,
        )

    def _package(
        self,
        clock: Clock,
        *,
        opened: IntArray,
        objective: float,
        assignment: IntArray,
        acost: FloatArray,
        bound: float,
        backend: str,
        stats: dict[str, float | int | str],
        proven: bool,
    ) -> Solution:
        opts = clock.options
        prep = self._prep
        notes: list[str] = []
        if math.isfinite(bound):
            bound = min(self._rounded(bound), objective)
        gap = relative_gap(objective, bound) if math.isfinite(bound) else float("nan")
        exact = opts.gap_tolerance <= _OPTIMAL_GAP
        optimal = gap <= _OPTIMAL_GAP or (proven and (math.isnan(gap) or exact))
        status = Status.OPTIMAL if optimal else Status.FEASIBLE
        if proven and math.isnan(gap):
            gap, bound = 0.0, objective
        n_unreach = int(prep.unreachable.sum())
        if n_unreach:
            notes.append(
                f"{n_unreach} demand row(s) have no allowed site at all and are left "
                "unassigned (excluded from the objective)."
            )
        if self.problem.capacitated and np.isfinite(self.problem.costs.beyond_cost).any():
            notes.append(
                "Capacitated: rows are assigned only to their listed sites, and the bound "
                "holds for that restriction."
            )
        beyond_rows = rows_beyond_lists(self.problem.costs, assignment)
        if beyond_rows:
            how = (
                "at their true cost"
                if self.exact_cost is not None
                else ("at the lower estimate beyond_cost (no exact-cost function was given)")
            )
            notes.append(f"{beyond_rows} row(s) are served outside their site lists, {how}.")
        if clock.should_stop and status is Status.FEASIBLE:
            cancel = opts.cancel
            why = "cancelled" if cancel is not None and cancel.cancelled else "time limit"
            notes.append(f"Stopped by {why}; gap {gap:.4%}.")
        opened_t = tuple(int(s) for s in opened)
        regret, swap, alts = budgeted_decision_support(
            self,
            opened_t,
            objective,
            opts,
            candidates=np.flatnonzero(~self.problem.sites.forbidden).tolist(),
            required=np.flatnonzero(self.problem.sites.required).tolist(),
            swap_delta=None if self.problem.capacitated else self._swap_delta,
            notes=notes,
        )
        return Solution(
            model=self.kind,
            status=status,
            objective=objective,
            bound=bound,
            gap=gap,
            open_sites=opened_t,
            assignment=assignment,
            assignment_cost=acost,
            runtime_s=clock.elapsed_s,
            backend=backend,
            message=" ".join(notes),
            alternatives=alts,
            regret=regret,
            stats=stats,
            swap_regret=swap,
        )

    def _swap_delta(self, open_sites: tuple[int, ...]) -> tuple[IntArray, FloatArray]:
        mask = np.zeros(self.problem.n_sites, dtype=np.bool_)
        mask[list(open_sites)] = True
        out, delta = swap_deltas(self._prep.inst, mask)
        # Required sites may not be swapped out; deltas use the surrogate costs.
        return out, np.where(np.isfinite(delta), delta, np.inf)
