"""The :class:`CFLP` class: evaluation and the solve pipeline of :mod:`planner.models.cflp`.

The formulation (0)-(9) is below; the phases live in the sibling modules.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from planner.errors import ValidationError
from planner.models._base import (
    Backend,
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
    relative_gap,
)
from planner.models._build import GeoBuildMixin
from planner.models._decision import timed_decision_support
from planner.models.cflp._assign import Assignment, assign, single_source_ok
from planner.models.cflp._bnb import branch_and_bound, restrict
from planner.models.cflp._data import CflpData, diagnose
from planner.models.cflp._exact_mip import build_mip, solve_mip_highs, solve_mip_mathopt
from planner.models.cflp._kernel import kernel_search
from planner.models.cflp._lagrange import (
    LagrangeState,
    Lagrangian,
    initial_multipliers,
    run_subgradient,
)
from planner.models.cflp._result import assign_loose, assignment_arrays, cflp_solution
from planner.models.cflp._search import local_search, repair_sites
from planner.models.cflp._single import assign_exact, integral_costs, pair_bounds, pair_search

INF = float("inf")
# Under backend="auto", skip the exact MIP above this many demand-site pairs (the MIP has
# about 2 columns... rows per pair; beyond this HiGHS does not finish its root LP in 60 s).
MIP_MAX_ENTRIES = 400_000
# Share of the time limit the Lagrangian phase may use when a MIP follows.
LAGRANGE_TIME_SHARE = 0.3
# Run the kernel search when the Lagrangian gap is above this (else the incumbent is
# usually optimal already and the exact MIP needs the time), with this share of the rest.
KERNEL_MIN_GAP = 1e-3
KERNEL_TIME_SHARE = 0.4
# The first kernel holds the sites open in this many of the best site sets evaluated.
KERNEL_SEED_SOLUTIONS = 5
# Relative tolerance for reduced-cost fixing: sites are fixed only if forcing them costs at
# least this much more than the incumbent (keeps the proof exact to ~1e-11 relative).
FIXING_RTOL = 1e-11
# A gap at or below this counts as proven optimal.
PROVEN_RTOL = 1e-9
# Under backend="auto", use the Lagrangian branch-and-bound (cflp._bnb) as the exact phase
# when at most this many free sites are left after the root fixing.
BNB_MAX_FREE_SITES = 100
# ... and when the model has at least this many pairs (smaller ones: the MIP is faster;
# counted before fixing: capa_12000 keeps < 20,000 pairs after it, yet its MIP takes 13-18 s
# against 3 s for the tree).
BNB_MIN_ENTRIES = 20_000
# ... and for single source with exact 0-1 knapsacks (off: those go to the MIP with pair
# fixing of cflp._single).
SINGLE_SOURCE_EXACT_BNB = False
# Share of the time limit for the Lagrangian phase (with its heuristic) without a MIP.
HEURISTIC_TIME_SHARE = 0.92
# Share of the Lagrangian phase's time that evaluating its site sets may take.
HEURISTIC_EVAL_SHARE = 0.5
# Single source: the relaxation's site sets and the best this many evaluated ones get an
# exact assignment MIP, each within at most this many seconds, all within this share of the
# time left.
EXACT_ASSIGN_SETS = 6
EXACT_ASSIGN_MAX_S = 1.0
EXACT_ASSIGN_SHARE = 0.15
# CFLP.evaluate (single source): the assignment MIP up to this many pairs to open sites,
# within this many seconds.
EVALUATE_EXACT_MAX_PAIRS = 20_000
EVALUATE_EXACT_MAX_S = 5.0
MIP_TIME_SLACK = 0.15
"""Share of the time left kept back from the final MIP's limit: HiGHS finishes the LP or
node it is in after its limit (80-400-2/3 of the SSCFLP set ended 1-4 s late without it)."""


# Formulation (data: w_i demand of row i, c_ij unit travel cost, s_j capacity,
# f_j fixed cost, R required sites, F free sites = allowed and not required, D = sum_i w_i):
#
#   (0) min  sum_j f_j y_j + sum_{i,j} w_i c_ij x_ij
#   (1) sum_j x_ij = 1                        every served row i (pairs listed, not forbidden)
#   (2) sum_i w_i x_ij <= s_j y_j             every site j with finite capacity
#   (3) x_ij <= y_j                           every pair (strong linking, tightens the LP)
#   (4) y_j = 1 for j in R; y_j = 0 for forbidden j
#   (5) sum_{j in F} y_j >= min_new_sites
#   (6) sum_{j in F} y_j <= max_new_sites
#   (7) sum_j s_j y_j >= D                    aggregate capacity (valid, strengthens bounds)
#   (8) sum_j y_j >= k_min                    fewest sites whose capacities cover D
#   (9) y_j in {0, 1}; x_ij in [0, 1] (split) or {0, 1} (single source);
#       single source also drops pairs with w_i > s_j.
# Rows with no listed pair and beyond_cost = inf are unreachable: left unassigned (-1).
# Zero-demand rows with a finite beyond_cost ("loose", see cflp._data) are not in (1)-(3):
# they cost nothing and load no site, so they are assigned to their nearest open site after
# the solve (listed, else through ``exact_cost``, else at the estimate beyond_cost).


class CFLP(GeoBuildMixin):
    """Capacitated fixed-charge facility location, single-source or split.

    Parameters
    ----------
    problem
        A problem of kind ``"cflp"``; ``problem.single_source`` picks the variant and
        ``problem.sites`` carries capacity, fixed cost, required and forbidden sites.
    exact_cost
        Optional ``(rows, sites) -> cost matrix`` callback giving true costs of unlisted
        pairs; used only to assign zero-demand rows whose listed sites are all closed
        (without it their cost is reported as the lower estimate ``beyond_cost``).
    initial_sites
        Optional open set to start from (a warm start; repaired if infeasible).
    initial_multipliers
        Optional start for the Lagrangian multipliers, one per row (e.g. from
        :attr:`multipliers` of a solved aggregated copy, scaled to the rows); any values give
        a valid bound, good ones save subgradient iterations.

    Attributes
    ----------
    multipliers
        After :meth:`solve`: the best Lagrangian multipliers found (one per row), else None.

    Examples
    --------
    >>> import numpy as np
    >>> from planner.models import SiteData
    >>> from planner.models.cflp import CFLP
    >>> cost_km = np.array([[1.0, 4.0], [2.0, 3.0], [5.0, 1.0]])
    >>> sites = SiteData.default(2, capacity=[2.0, 2.0], fixed_cost=[1.0, 1.0])
    >>> sol = CFLP.from_cost_matrix(cost_km, [1.0, 1.0, 1.0], sites=sites).solve()
    >>> sol.open_sites, float(sol.objective)
    ((0, 1), 6.0)
    """

    kind = "cflp"

    def __init__(
        self,
        problem: LocationProblem,
        *,
        exact_cost: ExactCost | None = None,
        initial_sites: Sequence[int] | None = None,
        initial_multipliers: npt.ArrayLike | None = None,
    ) -> None:
        if problem.kind != "cflp":
            msg = f"CFLP needs a problem of kind 'cflp', got {problem.kind!r}."
            raise ValidationError(msg, source="CFLP")
        self.problem = problem
        self.exact_cost = exact_cost
        self.initial_sites = None if initial_sites is None else [int(j) for j in initial_sites]
        if self.initial_sites and not (
            min(self.initial_sites) >= 0 and max(self.initial_sites) < problem.n_sites
        ):
            msg = "initial_sites must be site indices of the cost matrix."
            raise ValidationError(msg, source="CFLP")
        self._data = CflpData.build(problem)
        self._lam_start: FloatArray | None = None
        if initial_multipliers is not None:
            lam0 = np.asarray(initial_multipliers, dtype=np.float64).copy()
            if lam0.shape != (problem.n_demand,) or not np.isfinite(lam0).all():
                msg = "initial_multipliers needs one finite value per demand row."
                raise ValidationError(msg, source="CFLP")
            self._lam_start = lam0
        self.multipliers: FloatArray | None = None

    @classmethod
    def from_cost_matrix(
        cls,
        costs: CostMatrix | npt.ArrayLike,
        weights: npt.ArrayLike,
        *,
        sites: SiteData | None = None,
        single_source: bool = True,
        max_cost: float | None = None,
        min_new_sites: int = 0,
        max_new_sites: int | None = None,
        exact_cost: ExactCost | None = None,
        initial_sites: Sequence[int] | None = None,
        initial_multipliers: npt.ArrayLike | None = None,
    ) -> CFLP:
        """Build the model from a cost matrix and demand weights.

        Parameters
        ----------
        costs
            Sparse :class:`CostMatrix` or a dense demand x site array of unit travel costs
            (``nan``/``inf`` = not allowed).
        weights
            Demand per row (e.g. service hours per year).
        sites
            Capacity, fixed cost, required and forbidden sites; default: uncapacitated,
            free to open.
        single_source
            Serve each row from exactly one site (else demand may be split).
        max_cost
            Service cutoff: pairs costing more are not allowed.
        min_new_sites, max_new_sites
            Bounds on the number of open sites that are not required.
        exact_cost
            True costs of unlisted pairs (see the class docstring).
        initial_sites
            Open set to start from (see the class docstring).
        initial_multipliers
            Start multipliers of the Lagrangian phase (see the class docstring).

        Returns
        -------
        model
            The CFLP model.
        """
        if isinstance(costs, CostMatrix):
            matrix = costs.with_cutoff(max_cost)
        else:
            matrix = CostMatrix.from_dense(costs, max_cost=max_cost, unit="cost")
        site_data = sites if sites is not None else SiteData.default(matrix.n_sites)
        problem = LocationProblem(
            kind="cflp",
            costs=matrix,
            weights=np.asarray(weights, dtype=np.float64).copy(),
            sites=site_data,
            min_new_sites=min_new_sites,
            max_new_sites=max_new_sites,
            single_source=single_source,
            capacitated=bool(np.isfinite(site_data.capacity).any()),
        )
        return cls(
            problem,
            exact_cost=exact_cost,
            initial_sites=initial_sites,
            initial_multipliers=initial_multipliers,
        )

    # ------------------------------------------------------------------------------------
    def diagnose(self) -> tuple[str, ...]:
        """List contradictions that make the problem infeasible, found without solving.

        Returns
        -------
        problems
            Plain-language sentences with numbers; empty when none was found (the problem
            may still be infeasible, which ``solve`` then reports).
        """
        return tuple(diagnose(self.problem, self._data))

    def evaluate(self, open_sites: Sequence[int]) -> tuple[float, IntArray, FloatArray]:
        """Objective and assignment for a fixed set of open sites.

        Split variant: the transportation LP is solved exactly. Single-source: a regret
        heuristic plus shift moves (exact when no capacity binds), then, when an open site
        has a finite capacity and at most ``EVALUATE_EXACT_MAX_PAIRS`` pairs lead to the open
        sites, the assignment MIP (the generalised assignment problem) within
        ``EVALUATE_EXACT_MAX_S`` seconds, below the heuristic's cost: exact unless that limit
        is hit. Required/forbidden flags and the new-site bounds are not checked here.

        Parameters
        ----------
        open_sites
            Site indices to open.

        Returns
        -------
        objective, assignment, assignment_cost
            ``inf`` objective (and -1 assignments) if the sites cannot serve every row
            within capacity; assignment is the site with the largest share per row.
        """
        data = self._data
        mask = np.zeros(data.n_sites, dtype=np.bool_)
        mask[np.asarray(list(open_sites), dtype=np.int64)] = True
        a = assign(data, mask)
        n_open_pairs = int(mask[data.e_site].sum())
        if (
            data.single_source
            and a.feasible
            and np.isfinite(data.capacity[mask]).any()
            and n_open_pairs <= EVALUATE_EXACT_MAX_PAIRS
        ):
            better, _ = assign_exact(
                data, mask, time_limit_s=EVALUATE_EXACT_MAX_S, seed=0, cutoff=a.objective
            )
            if better is not None and better.objective < a.objective:
                a = better
        assignment, _, cost = assignment_arrays(self.problem.costs, data, self.exact_cost, a, mask)
        return a.objective, assignment, cost

    # ------------------------------------------------------------------------------------
    def solve(self, options: SolveOptions | None = None) -> Solution:  # noqa: C901, PLR0912, PLR0915
        """Solve the model (see the module docstring for the pipeline).

        Parameters
        ----------
        options
            Time limit, gap tolerance, seed, backend, progress callback, cancellation.

        Returns
        -------
        solution
            Always returned: optimal, feasible (limit hit or gap above zero) with its proven
            bound, or infeasible with a plain-language message.
        """
        opts = options if options is not None else SolveOptions()
        clock = Clock(opts)
        data = self._data
        stats: dict[str, float | int | str] = {}
        problems = diagnose(self.problem, data)
        if problems:
            return cflp_solution(
                self.problem.costs,
                self._data,
                self.exact_cost,
                status=Status.INFEASIBLE,
                y=None,
                a=None,
                bound=float("nan"),
                clock=clock,
                backend="presolve",
                message="Infeasible: " + "; ".join(problems),
                stats=stats,
            )
        n_unreachable = int((~data.reachable).sum())
        notes: list[str] = []
        if n_unreachable:
            notes.append(
                f"{n_unreachable:,} farm(s) are out of reach of every candidate site and are "
                "left unserved (not in the objective)."
            )
        backend = opts.backend
        if backend == "cp-sat" and not data.single_source:
            msg = (
                "backend 'cp-sat' needs integer variables; the split CFLP has continuous "
                "flows. Use 'highs', 'scip' or 'auto'."
            )
            raise ValidationError(msg, source="SolveOptions")
        run_mip = backend in ("highs", "scip", "cp-sat") or (
            backend == "auto" and data.n_entries <= MIP_MAX_ENTRIES
        )
        exact_mode = opts.gap_tolerance <= PROVEN_RTOL

        # Incumbent bookkeeping.
        best_y: BoolArray | None = None
        best_a: Assignment | None = None
        cache: dict[bytes, Assignment] = {}
        fix_order = np.where(
            np.isfinite(data.capacity) & (data.capacity > 0),
            data.fixed_cost / np.where(data.capacity > 0, data.capacity, 1.0),
            data.fixed_cost,
        )

        def upper() -> float:
            return best_a.objective if best_a is not None else INF

        def consider(y: BoolArray, a: Assignment, phase: str) -> None:
            nonlocal best_y, best_a
            if a.feasible and (best_a is None or a.objective < best_a.objective - 1e-12):
                n_new = int((y & ~data.required).sum())
                if data.min_new <= n_new <= data.max_new and not (y & ~data.allowed).any():
                    best_y, best_a = y.copy(), a
                    clock.report(incumbent=a.objective, phase=phase)

        eval_s = [0.0]  # time spent assigning rows to site sets

        def evaluate(y: BoolArray) -> Assignment:
            key = y.tobytes()
            if key not in cache:
                t0 = time.perf_counter()
                # Without an incumbent the LP runs to the end: a solution must come back.
                limit = max(clock.remaining_s, 0.1) if best_a is not None else INF
                cache[key] = assign(data, y, time_limit_s=limit)
                eval_s[0] += time.perf_counter() - t0
            return cache[key]

        def try_sites(y: BoolArray, phase: str) -> None:
            yy = repair_sites(data, y, fix_order)
            n_new = int((yy & ~data.required).sum())
            if n_new > data.max_new:
                return
            if n_new < data.min_new:
                extra = np.flatnonzero(data.free & ~yy)
                extra = extra[np.argsort(fix_order[extra], kind="stable")]
                yy[extra[: data.min_new - n_new]] = True
            consider(yy, evaluate(yy), phase)

        if self.initial_sites is not None:
            y_start = np.zeros(data.n_sites, dtype=np.bool_)
            y_start[np.asarray(self.initial_sites, dtype=np.int64)] = True
            try_sites(y_start, "initial sites")

        # Phase 2: Lagrangian relaxation (bound, candidate sets, fixing).
        lag = Lagrangian(data, np.asarray(self.problem.costs.beyond_cost, dtype=np.float64))
        lam_start = initial_multipliers(data) if self._lam_start is None else self._lam_start.copy()
        lam_start[~data.served] = 0.0
        state = LagrangeState(
            bound=-INF,
            lam=lam_start,
            fixed_closed=np.zeros(data.n_sites, dtype=np.bool_),
            fixed_open=np.zeros(data.n_sites, dtype=np.bool_),
        )
        lag_share = LAGRANGE_TIME_SHARE if run_mip else HEURISTIC_TIME_SHARE
        lag_deadline = clock.elapsed_s + lag_share * opts.time_limit_s
        heur_deadline = clock.elapsed_s + 0.8 * lag_share * opts.time_limit_s

        def lag_stop() -> bool:
            return clock.should_stop or clock.elapsed_s > lag_deadline

        lag_start_s = clock.elapsed_s

        def on_sites(y: BoolArray) -> None:
            # Evaluate (L2)'s site sets while assignments take at most about half the time
            # spent so far (on large instances one assignment costs seconds).
            busy = clock.elapsed_s - lag_start_s
            if best_a is None or (
                clock.elapsed_s < heur_deadline and eval_s[0] <= HEURISTIC_EVAL_SHARE * busy
            ):
                try_sites(y, "lagrangian heuristic")

        def tol() -> float:
            ub = upper()
            return max(FIXING_RTOL * abs(ub), 1e-9) if np.isfinite(ub) else 0.0

        t_lag = time.perf_counter()
        for _round in range(3):
            run_subgradient(
                lag,
                state,
                upper=upper,
                tolerance=tol(),
                max_iter=400,
                should_stop=lag_stop,
                on_bound=lambda b: clock.report(bound=b, phase="lagrangian"),
                on_sites=on_sites,
            )
            if best_a is None:
                # Fallback incumbent: every allowed site open (respecting max_new).
                start_y = data.allowed if data.max_new >= int(data.free.sum()) else data.required
                try_sites(start_y.copy(), "start")
            if best_y is not None and best_a is not None and not clock.should_stop:
                y2, a2 = local_search(
                    data,
                    best_y,
                    best_a,
                    evaluate=evaluate,
                    should_stop=lambda: clock.should_stop or clock.elapsed_s > lag_deadline,
                    on_improve=lambda y, a: consider(y, a, "local search"),
                )
                consider(y2, a2, "local search")
            if lag_stop() or (np.isfinite(upper()) and state.bound >= upper() - tol()):
                break
        self.multipliers = state.lam.copy()
        stats["lagrangian_iterations"] = state.iterations
        stats["lagrangian_bound"] = state.bound
        stats["lagrangian_s"] = round(time.perf_counter() - t_lag, 3)
        stats["sites_fixed_closed"] = int(state.fixed_closed.sum())
        stats["sites_fixed_open"] = int(state.fixed_open.sum())
        stats["site_sets_evaluated"] = len(cache)
        bound = state.bound
        used = "heuristic+lagrangian"

        # Phase 3b: kernel search (restricted MIPs) when the incumbent may be far off (not
        # before the branch-and-bound, whose nodes propose open sets themselves).
        exact = self._exact_backend(backend, lag, state) if run_mip else None
        lag_gap = relative_gap(upper(), bound)
        # Single source with exact knapsacks: exact assignments of the best site sets, then
        # pair fixing (cflp._single) instead of the kernel search.
        pair_fix = (
            exact not in (None, "bnb")
            and data.single_source
            and lag.exact_knapsack
            and not lag.has_beyond
            and bool(np.isfinite(data.capacity[data.allowed]).any())
        )
        keep_entries: BoolArray | None = None
        if pair_fix and not clock.should_stop and not (lag_gap <= PROVEN_RTOL):
            t_fix = time.perf_counter()
            exact_sets: set[bytes] = set()
            # Candidates: the relaxation's site sets (latest first, repaired), then the
            # best sets the heuristic evaluated.
            cands = [repair_sites(data, y, fix_order) for y in state.y_sets[::-1]]
            cands += [
                np.frombuffer(key, dtype=np.bool_).copy()
                for _, key in sorted((a.objective, k) for k, a in cache.items() if a.feasible)[
                    :EXACT_ASSIGN_SETS
                ]
            ]

            def on_exact(y: BoolArray, a: Assignment) -> None:
                consider(y, a, "exact assignment")

            integral = integral_costs(data)
            reach = math.ceil(bound - 1e-6) if integral else bound
            n_exact = self._exact_assignments(
                cands,
                exact_sets,
                clock=clock,
                seed=opts.seed,
                upper=upper,
                on_solution=on_exact,
                lower=reach,
            )
            if best_y is not None and best_a is not None and not clock.should_stop:
                y2, a2 = local_search(
                    data,
                    best_y,
                    best_a,
                    evaluate=evaluate,
                    should_stop=lambda: clock.should_stop,
                    on_improve=lambda y, a: consider(y, a, "local search"),
                )
                consider(y2, a2, "local search")
                n_exact += self._exact_assignments(
                    [y2],
                    exact_sets,
                    clock=clock,
                    seed=opts.seed,
                    upper=upper,
                    on_solution=on_exact,
                    lower=reach,
                )
            stats["exact_assignments"] = n_exact
            if best_y is not None and best_a is not None and not clock.should_stop:
                more = run_subgradient(
                    lag,
                    state,
                    upper=upper,
                    tolerance=tol(),
                    max_iter=200,
                    should_stop=lambda: clock.should_stop,
                    on_bound=lambda b: clock.report(bound=b, phase="lagrangian"),
                )
                bound = max(bound, more.bound)
                self.multipliers = state.lam.copy()
                pb = pair_bounds(lag, state.lam, state.fixed_closed, state.fixed_open)
                # An infinite (L2) value: no site choice left beats the incumbent.
                bound = max(bound, min(pb.bound, upper() - tol()))
                lo_new, hi_new = lag.count_range()
                n_inc = int((best_y & ~data.required).sum())

                def incumbent() -> tuple[BoolArray, Assignment]:
                    assert best_y is not None
                    assert best_a is not None
                    return best_y, best_a

                search = pair_search(
                    data,
                    pb.pair_bound,
                    lower=bound,
                    incumbent=incumbent,
                    on_solution=lambda y, a: consider(y, a, "restricted mip"),
                    closed=state.fixed_closed,
                    fixed_open=state.fixed_open,
                    new_sites=(min(lo_new, n_inc), max(hi_new, n_inc)),
                    integral=integral,
                    tolerance=tol(),
                    time_left=lambda: clock.remaining_s,
                    seed=opts.seed,
                )
                bound = max(bound, min(search.bound, upper()))
                if integral:
                    bound = min(upper(), max(bound, math.ceil(bound - 1e-6)))
                keep_entries = search.keep
                stats["pair_rounds"] = search.rounds
                stats["pairs_kept"] = int(keep_entries.sum())
                stats["pairs_total"] = int(data.n_entries)
            stats["pair_fixing_s"] = round(time.perf_counter() - t_fix, 3)
        elif (
            exact not in (None, "bnb") and not clock.should_stop and not (lag_gap <= KERNEL_MIN_GAP)
        ):
            at_best = lag.evaluate(state.lam, state.fixed_closed, state.fixed_open)
            good = sorted((a.objective, key) for key, a in cache.items() if a.feasible)[
                :KERNEL_SEED_SOLUTIONS
            ]
            seed_sites = np.zeros(data.n_sites, dtype=np.bool_)
            for _, key in good:
                seed_sites |= np.frombuffer(key, dtype=np.bool_)
            stats["kernel_mips"] = kernel_search(
                data,
                site_value=at_best.v,
                n_lagrangian_open=int(at_best.y.sum()),
                incumbent=best_y,
                evaluate=evaluate,
                on_solution=lambda y, a: consider(y, a, "kernel search"),
                time_left=lambda: clock.remaining_s,
                budget_s=KERNEL_TIME_SHARE * clock.remaining_s,
                seed=opts.seed,
                closed=state.fixed_closed,
                seed_sites=seed_sites,
                cutoff=upper,
            )
            stats["kernel_objective"] = upper()
            if best_y is not None and best_a is not None and not clock.should_stop:
                more = run_subgradient(
                    lag,
                    state,
                    upper=upper,
                    tolerance=tol(),
                    max_iter=100,
                    should_stop=lambda: clock.should_stop,
                    on_bound=lambda b: clock.report(bound=b, phase="lagrangian"),
                )
                bound = more.bound
                self.multipliers = state.lam.copy()

        # Phase 4: exact search on the sites not fixed closed: Lagrangian branch-and-bound
        # when few sites stay free, else the MIP.
        if (
            exact == "bnb"
            and not clock.should_stop
            and not (np.isfinite(upper()) and bound >= upper() - tol())
        ):
            sub = restrict(data, state.fixed_closed)
            sub_lag = Lagrangian(sub, np.asarray(self.problem.costs.beyond_cost, dtype=np.float64))
            n_keep = len(sub_lag.count_excluded)
            sub_lag.count_excluded = lag.count_excluded[:n_keep].copy()
            sub_lag.mu = lag.mu

            leaf_limit = [False]  # a leaf MIP stopped at the time limit (no proof)

            def exact_leaf(y: BoolArray) -> None:
                if not data.single_source:
                    consider(y, evaluate(y), "branch-and-bound")
                    # A transportation LP cut short by the time limit proves nothing.
                    leaf_limit[0] |= clock.should_stop
                    return
                leaf = build_mip(data, closed=~y, fixed_open=y)
                r = solve_mip_highs(
                    leaf,
                    time_limit_s=max(clock.remaining_s, 0.1),
                    rel_gap=0.0,
                    abs_gap=max(1e-6, FIXING_RTOL * abs(upper())) if np.isfinite(upper()) else 1e-6,
                    seed=opts.seed,
                    start=None,
                    on_progress=None,
                )
                leaf_limit[0] |= r.status not in ("optimal", "infeasible")
                if r.x.size and np.isfinite(r.objective):
                    y_leaf, frac = leaf.decode(data, r.x)
                    frac = np.round(frac)
                    a_leaf = Assignment(
                        float(np.dot(data.pair_cost, frac)),
                        float(data.fixed_cost[y_leaf].sum()),
                        frac,
                    )
                    if single_source_ok(data, y_leaf, a_leaf):
                        consider(y_leaf, a_leaf, "branch-and-bound")

            t_bnb = time.perf_counter()
            bnb = branch_and_bound(
                sub_lag,
                lam=state.lam,
                bound=bound,
                closed=state.fixed_closed & sub.allowed,
                forced=state.fixed_open.copy(),
                upper=upper,
                tolerance=tol,
                on_sites=lambda y: try_sites(y, "branch-and-bound"),
                exact_leaf=exact_leaf,
                should_stop=lambda: clock.should_stop,
                on_bound=lambda b: clock.report(bound=b, phase="branch-and-bound"),
            )
            used = "bnb+lagrangian"
            stats["bnb_nodes"] = bnb.nodes
            stats["bnb_iterations"] = bnb.iterations
            stats["bnb_max_depth"] = bnb.max_depth
            stats["bnb_complete"] = int(bnb.complete)
            stats["bnb_s"] = round(time.perf_counter() - t_bnb, 3)
            stats["bnb_free_sites"] = int((sub.free & ~state.fixed_open).sum())
            stats["bnb_root_free_sites"] = bnb.root_free
            if not leaf_limit[0]:
                bound = max(bound, bnb.bound)
            if bnb.complete and not leaf_limit[0] and best_a is None:
                return self._proven_infeasible("the branch-and-bound", clock, used, stats)
        if (
            exact not in (None, "bnb")
            and not clock.should_stop
            and not (np.isfinite(upper()) and bound >= upper() - tol())
        ):
            closed = state.fixed_closed.copy()
            fixed_open = state.fixed_open.copy()
            start = None
            if best_y is not None:
                closed &= ~best_y
                fixed_open &= best_y
            lo_new, hi_new = lag.count_range()
            if best_y is not None:
                n_inc = int((best_y & ~data.required).sum())
                lo_new, hi_new = min(lo_new, n_inc), max(hi_new, n_inc)
            stats["new_sites_range"] = f"{lo_new}-{hi_new}"
            model = build_mip(
                data,
                closed=closed,
                fixed_open=fixed_open,
                new_sites=(lo_new, hi_new),
                entry_mask=keep_entries,
            )
            if best_y is not None and best_a is not None:
                start = model.start_vector(best_y, best_a.entry_frac)
            mip_backend = exact
            rel_gap = opts.gap_tolerance
            # Without an incumbent yet the absolute gap stays 1e-6 (not inf: HiGHS would
            # stop at its first solution).
            abs_gap = (
                max(1e-6, FIXING_RTOL * abs(upper()))
                if exact_mode and np.isfinite(upper())
                else 1e-6
            )

            def on_progress(incumbent: float, mip_bound: float) -> bool:
                clock.report(
                    incumbent=incumbent if math.isfinite(incumbent) else None,
                    bound=mip_bound if math.isfinite(mip_bound) else None,
                    phase="mip",
                )
                cancel = opts.cancel
                return cancel is not None and cancel.cancelled

            if mip_backend == "highs":
                res = solve_mip_highs(
                    model,
                    time_limit_s=(1.0 - MIP_TIME_SLACK) * clock.remaining_s,
                    rel_gap=rel_gap,
                    abs_gap=abs_gap,
                    seed=opts.seed,
                    start=start,
                    on_progress=on_progress,
                )
            else:
                res = solve_mip_mathopt(
                    model,
                    solver=mip_backend,
                    time_limit_s=(1.0 - MIP_TIME_SLACK) * clock.remaining_s,
                    rel_gap=rel_gap,
                    abs_gap=abs_gap,
                    seed=opts.seed,
                    start=start,
                )
            used = f"{mip_backend}+lagrangian"
            stats["mip_status"] = res.status
            stats["mip_nodes"] = res.nodes
            stats["mip_columns"] = len(model.cost)
            if res.x.size and np.isfinite(res.objective):
                y_mip, frac = model.decode(data, res.x)
                # Re-derive the flows exactly for the chosen sites (removes MIP round-off).
                a_mip = (
                    evaluate(y_mip)
                    if not data.single_source
                    else Assignment(
                        float(np.dot(data.pair_cost, np.round(frac))),
                        float(data.fixed_cost[y_mip].sum()),
                        np.round(frac),
                    )
                )
                if data.single_source and not single_source_ok(data, y_mip, a_mip):
                    a_mip = evaluate(y_mip)
                consider(y_mip, a_mip, "mip")
            if res.status == "infeasible" and best_a is None:
                return self._proven_infeasible("the solver", clock, used, stats)
            # The MIP bound covers the sites not fixed closed; fixed sites cost >= UB - tol.
            if not lag.has_beyond:
                mip_bound = res.bound if res.status != "infeasible" else INF
                if np.isfinite(upper()):
                    mip_bound = min(mip_bound, upper() - tol())
                bound = max(bound, mip_bound)

        if best_a is None or best_y is None:
            reason = (
                "cancelled"
                if opts.cancel is not None and opts.cancel.cancelled
                else ("time limit reached")
            )
            return cflp_solution(
                self.problem.costs,
                self._data,
                self.exact_cost,
                status=Status.ERROR,
                y=None,
                a=None,
                bound=bound,
                clock=clock,
                backend=used,
                message=f"No feasible solution found ({reason}).",
                stats=stats,
            )
        obj = best_a.objective
        n_est = 0
        if self.exact_cost is None:
            n_est = assign_loose(
                self.problem.costs,
                data,
                self.exact_cost,
                best_y,
                assignment=np.full(data.n_rows, -1, dtype=np.int64),
                cost=np.full(data.n_rows, np.nan),
            )
        if n_est:
            notes.append(
                f"{n_est:,} zero-demand farm(s) list no open site: their cost is the lower "
                "estimate beyond_cost (no exact-cost callback)."
            )
        if np.isfinite(bound) and bound >= obj - tol():
            bound = min(bound, obj)
        gap = relative_gap(obj, bound)
        proven = np.isfinite(gap) and gap <= PROVEN_RTOL + FIXING_RTOL
        if proven:
            status = Status.OPTIMAL
        else:
            status = Status.FEASIBLE
            why = (
                "cancelled"
                if opts.cancel is not None and opts.cancel.cancelled
                else (
                    "time limit reached"
                    if clock.remaining_s <= 0
                    else "stopped at the gap tolerance"
                    if run_mip
                    else "heuristic only"
                )
            )
            notes.append(f"Not proven optimal ({why}); gap {gap:.4%}.")
        clock.report(incumbent=obj, bound=bound, phase="done")
        sol = cflp_solution(
            self.problem.costs,
            self._data,
            self.exact_cost,
            status=status,
            y=best_y,
            a=best_a,
            bound=bound,
            clock=clock,
            backend=used,
            message=" ".join(notes),
            stats=stats,
        )
        return timed_decision_support(
            self,
            sol,
            opts,
            notes,
            candidates=[int(j) for j in np.flatnonzero(self._data.allowed)],
            required=[int(j) for j in np.flatnonzero(self._data.required)],
        )

    def _exact_assignments(
        self,
        candidates: list[BoolArray],
        done_sets: set[bytes],
        *,
        clock: Clock,
        seed: int,
        upper: Callable[[], float],
        on_solution: Callable[[BoolArray, Assignment], None],
        lower: float,
    ) -> int:
        """Assign candidate site sets exactly (single source), within a time budget.

        Each set not tried yet gets the assignment MIP of
        :func:`~planner.models.cflp._single.assign_exact` (at most ``EXACT_ASSIGN_MAX_S``
        seconds, below the incumbent) until ``EXACT_ASSIGN_SHARE`` of the time left at the
        start is used or the incumbent reaches ``lower`` (a proven bound, rounded up for
        integral objectives); improved solutions go to ``on_solution``.

        Returns
        -------
        count
            Number of assignment MIPs solved.
        """
        data = self._data
        done = 0
        deadline = clock.elapsed_s + EXACT_ASSIGN_SHARE * clock.remaining_s
        for y in candidates:
            key = y.tobytes()
            if clock.should_stop or clock.elapsed_s > deadline or upper() <= lower:
                break
            if key in done_sets:
                continue
            done_sets.add(key)
            ub = upper()
            a, _ = assign_exact(
                data,
                y,
                time_limit_s=min(EXACT_ASSIGN_MAX_S, max(deadline - clock.elapsed_s, 0.05)),
                seed=seed,
                cutoff=ub if np.isfinite(ub) else None,
            )
            done += 1
            if a is not None:
                on_solution(y, a)
        return done

    def _exact_backend(
        self, backend: Backend, lag: Lagrangian, state: LagrangeState
    ) -> Literal["highs", "scip", "cp-sat", "bnb"]:
        """Pick the exact phase: a forced MIP backend, or (auto) by what the root fixing left.

        The Lagrangian branch-and-bound needs bounds valid for the listed pairs only (no
        ``beyond_cost``) and is used when at most ``BNB_MAX_FREE_SITES`` free sites remain
        after the root fixing and the model has at least ``BNB_MIN_ENTRIES`` pairs (measured
        on OR-Library cap, see bench/README.md); other models go to the HiGHS MIP.
        """
        if backend == "highs" or backend == "scip" or backend == "cp-sat":  # noqa: PLR1714
            return backend
        data = self._data
        n_left = int((data.free & ~state.fixed_closed & ~state.fixed_open).sum())
        if lag.has_beyond or n_left > BNB_MAX_FREE_SITES:
            return "highs"
        if data.single_source and lag.exact_knapsack and not SINGLE_SOURCE_EXACT_BNB:
            # The pair-fixed MIP (cflp._single) instead of the tree, each of whose leaves is
            # an assignment MIP: Yang 80-400 (32,000 pairs) ends at 0.3-3.0 % after 60 s
            # this way against 0.7-3.4 % with the tree (bench/README.md).
            return "highs"
        # On small models the HiGHS MIP is faster (it solves them at or near the root; each
        # single-source leaf of the tree is an assignment MIP besides): OR-Library cap113
        # (2,500 pairs) split 1.35 s vs 2.26 s, single-source cap123 0.5 s vs 6 s; on large
        # ones the tree wins (capb_6000 split: 15 s vs no proof in 60 s; capa_8000
        # single-source: 5.8 s vs no proof in 30 s).
        if data.n_entries < BNB_MIN_ENTRIES:
            return "highs"
        return "bnb"

    def _proven_infeasible(
        self, prover: str, clock: Clock, backend: str, stats: dict[str, float | int | str]
    ) -> Solution:
        """Return the INFEASIBLE solution when ``prover`` closed the search without a solution."""
        return cflp_solution(
            self.problem.costs,
            self._data,
            self.exact_cost,
            status=Status.INFEASIBLE,
            y=None,
            a=None,
            bound=INF,
            clock=clock,
            backend=backend,
            message=(
                f"Infeasible: {prover} proved that no choice of sites can serve every farm "
                "within the site capacities and the limits on new sites."
            ),
            stats=stats,
        )
