"""p-center: open ``p`` sites minimising the worst travel cost (or worst weight x cost).

Formulation (v_ij = c_ij, or w_i c_ij when ``weighted``; only listed pairs to non-forbidden
sites are allowed; rows with no allowed pair at all are "unreachable" and left out, as in
check.py; R = required sites)::

    (P1)  min  z
    (P2)  sum_j x_ij = 1                  for every reachable row i
    (P3)  x_ij <= y_j
    (P4)  sum_j v_ij x_ij <= z            for every reachable row i
    (P5)  sum_j y_j = p;  y_j = 1 on R;  y_j = 0 on forbidden sites;
          min_new <= sum_{j not in R} y_j <= max_new
    (P6)  sum_i w_i x_ij <= Q_j y_j       (capacitated only)
    (P7)  x, y binary

Exact method ("binary search", the default): the optimum is one of the distinct values
v_ij. For a threshold T, "is there a solution with z <= T?" is

    (B1)  a set-covering problem: every reachable row not already within T of a required site
          needs one of its sites with v_ij <= T open, using at most k = p - |R| new sites
          (uncapacitated; padding up to k afterwards never raises z), or
    (B2)  (P2), (P3), (P5), (P6), (P7) restricted to pairs with v_ij <= T (capacitated).

(R) Row generation (uncapacitated, more than 5,000 rows; Contardo, Iori & Kramer 2019): the
optimum over a subset of rows is a lower bound, the subset's network evaluated on all rows an
upper bound; rows served worse than the subset optimum are added, worst first, and the subset
is re-solved by the binary search below until the bounds meet.

Binary search over the sorted distinct values between the lower bound
LB = max_i min_j v_ij and the best solution found; each feasible answer moves the upper end
to the *achieved* objective, each proven infeasibility moves the lower end (the bound). (B1)
is answered by the greedy cover first and only then by the MIP (feasibility mode) on the
reduced instance (identical rows merged, essential and dominated columns handled, see
:mod:`planner.models.setcover`). ``method="mip"`` solves (P1)-(P7) directly instead; it is
kept for comparison (see the module's benchmark notes in the report) and for small problems.

Assignment: each reachable row goes to its nearest open site (capacitated: the site chosen
by (B2)); unreachable rows are -1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import ValidationError
from planner.models._assign_mip import build_assign_mip
from planner.models._base import (
    BoolArray,
    Clock,
    CostMatrix,
    FloatArray,
    IntArray,
    LocationProblem,
    SiteData,
    Solution,
    SolveOptions,
    Status,
    as_cost_matrix,
    as_weights,
    relative_gap,
)
from planner.models._build import GeoBuildMixin
from planner.models._cover_sets import coverage_sets, csr_rows, reachable_rows
from planner.models._decision import with_decision_support
from planner.models._mip import MatrixMip, clock_limits, lp_bound, solve_mip
from planner.models._shared import (
    choose_backend,
    infeasible_solution,
    make_solution,
    nearest_open,
    new_sites_for_p,
    pad_open,
    pair_costs,
    site_mask,
)
from planner.models.setcover import CoverCore, cover_mip, greedy_cover, reduce_cover

Method = Literal["auto", "binary_search", "mip"]

_ROW_GENERATION_MIN_ROWS = 5_000  # above this, uncapacitated p-center uses row generation (R)
_ROW_GENERATION_START = 1_000  # rows in the first subset (half hardest, half seeded sample)
_ROW_GENERATION_ADD = 200  # rows added in the first round; doubled every round


class PCenter(GeoBuildMixin):
    """p-center location: minimise the worst (optionally demand-weighted) travel cost.

    Parameters
    ----------
    problem
        A problem of kind ``"p_center"``.
    method
        ``"binary_search"`` (set-covering feasibility subproblems, default via ``"auto"``) or
        ``"mip"`` (direct formulation (P1)-(P7)).

    Examples
    --------
    >>> m = PCenter.from_cost_matrix([[1.0, 4.0], [5.0, 2.0], [3.0, 3.0]], [1, 1, 1], p=1)
    >>> m.solve().objective
    4.0
    """

    kind = "p_center"

    def __init__(self, problem: LocationProblem, *, method: Method = "auto") -> None:
        if problem.kind != self.kind:
            msg = f"PCenter needs a problem of kind 'p_center', got {problem.kind!r}."
            raise ValidationError(msg, source="PCenter")
        self.problem = problem
        self.method: Method = method

    @classmethod
    def from_cost_matrix(
        cls,
        costs: CostMatrix | npt.ArrayLike,
        weights: npt.ArrayLike,
        *,
        p: int,
        weighted: bool = False,
        sites: SiteData | None = None,
        max_cost: float | None = None,
        capacitated: bool = False,
        min_new_sites: int = 0,
        max_new_sites: int | None = None,
    ) -> PCenter:
        """Build the model from a cost matrix.

        Parameters
        ----------
        costs
            Sparse cost structure or dense array (``nan``/``inf`` = not allowed).
        weights
            Demand weight per row.
        p
            Total number of open sites, required ones included.
        weighted
            Minimise the largest weight x cost instead of the largest cost.
        sites
            Site attributes; default: all free, uncapacitated.
        max_cost
            Optional service cutoff (pairs above it are not allowed).
        capacitated
            Enforce site capacities (single-source assignment).
        min_new_sites, max_new_sites
            Bounds on the number of non-required open sites.

        Returns
        -------
        model
            The p-center model.
        """
        matrix = as_cost_matrix(costs, max_cost)
        problem = LocationProblem(
            kind="p_center",
            costs=matrix,
            weights=as_weights(weights, matrix.n_demand),
            sites=sites if sites is not None else SiteData.default(matrix.n_sites),
            p=p,
            weighted=weighted,
            capacitated=capacitated,
            min_new_sites=min_new_sites,
            max_new_sites=max_new_sites,
        )
        return cls(problem)

    # -- data ---------------------------------------------------------------------------------

    def _values(self) -> FloatArray:
        """v_e per stored entry (cost, or weight x cost)."""
        costs = self.problem.costs
        if self.problem.weighted:
            return np.asarray(costs.cost * self.problem.weights[costs.row_of_entry])
        return costs.cost

    def _reachable(self) -> BoolArray:
        return reachable_rows(self.problem.costs)

    def evaluate(self, open_sites: Sequence[int]) -> tuple[float, IntArray, FloatArray]:
        """Return the objective, assignment and assignment cost of a fixed open set.

        Parameters
        ----------
        open_sites
            Open site indices.

        Returns
        -------
        objective, assignment, assignment_cost
            Worst (weighted) cost, ``inf`` if some reachable row has no open allowed site (or,
            capacitated, no capacity-feasible assignment exists); nearest open site per row.
        """
        problem = self.problem
        mask = site_mask(problem.n_sites, open_sites) & ~problem.sites.forbidden
        ok = np.ones(problem.costs.nnz, dtype=np.bool_)
        a, c = nearest_open(problem.costs, ok, mask)
        reach = self._reachable()
        if (reach & (a < 0)).any():
            return float("inf"), a, c
        if problem.capacitated:
            load = np.bincount(
                a[a >= 0], weights=problem.weights[a >= 0], minlength=problem.n_sites
            )
            if (load > problem.sites.capacity * (1 + 1e-9) + 1e-9).any():
                return self._evaluate_capacitated(mask)
        return self._objective(a, c), a, c

    def _objective(self, a: IntArray, c: FloatArray) -> float:
        rows = np.flatnonzero(a >= 0)
        if not len(rows):
            return 0.0
        vals = c[rows] * (self.problem.weights[rows] if self.problem.weighted else 1.0)
        return float(vals.max())

    def _with_costs(self, a: IntArray) -> tuple[float, IntArray, FloatArray]:
        """Objective, assignment and listed cost of a given assignment."""
        c = pair_costs(self.problem.costs, a)
        return self._objective(a, c), a, c

    def _evaluate_capacitated(self, mask: BoolArray) -> tuple[float, IntArray, FloatArray]:
        """Exact bottleneck assignment for a fixed open set (binary search + MIP)."""
        clock = Clock(SolveOptions(time_limit_s=60.0))
        vals = self._values()
        thresholds = np.unique(vals[mask[self.problem.costs.site_index]])
        best: tuple[float, IntArray, FloatArray] | None = None
        lo, hi = 0, len(thresholds) - 1
        while lo <= hi:
            mid = hi if best is None else (lo + hi) // 2
            found = self._capacitated_feasible(float(thresholds[mid]), clock, "highs", mask)
            if found is None:
                if best is None:
                    break
                lo = mid + 1
                continue
            best = self._with_costs(found[1])
            hi = min(mid, int(np.searchsorted(thresholds, best[0] * (1 - 1e-12)))) - 1
        if best is None:
            n = self.problem.n_demand
            return float("inf"), np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
        return best

    # -- checks -------------------------------------------------------------------------------

    def _presolve_reason(self, k: int, reason: str) -> str:
        problem = self.problem
        if k < 0:
            return reason
        costs, sites = problem.costs, problem.sites
        reach = self._reachable()
        has_allowed = np.zeros(problem.n_demand, dtype=np.bool_)
        has_allowed[costs.row_of_entry[~sites.forbidden[costs.site_index]]] = True
        stuck = reach & ~has_allowed
        if stuck.any():
            rows = np.flatnonzero(stuck)
            shown = ", ".join(str(i) for i in rows[:10])
            return (
                f"{len(rows)} demand row(s) can only be served by forbidden sites or sites "
                f"outside their cost lists (rows {shown}); allow one of their sites or raise "
                "the cutoff."
            )
        if problem.capacitated:
            w = problem.weights
            demand = float(w[reach].sum())
            cap = sites.capacity
            req_cap = float(cap[sites.required].sum())
            free_caps = np.sort(cap[~sites.required & ~sites.forbidden])[::-1]
            best_cap = req_cap + float(free_caps[:k].sum())
            if best_cap < demand * (1 - 1e-12):
                return (
                    f"the {problem.p} largest allowed sites have total capacity "
                    f"{best_cap:,.6g} < demand {demand:,.6g}; raise p or capacities."
                )
        return ""

    # -- solve --------------------------------------------------------------------------------

    def solve(self, options: SolveOptions | None = None) -> Solution:
        """Solve the model; never raises on a time limit once a solution is known.

        Parameters
        ----------
        options
            Time limit, gap, seed, backend, progress, cancellation.

        Returns
        -------
        solution
            Worst (weighted) cost as objective; ``bound`` is a proven lower bound.
        """
        opts = options or SolveOptions()
        clock = Clock(opts)
        problem = self.problem
        reach = self._reachable()
        stats: dict[str, float | int | str] = {
            "unreachable_rows": int((~reach).sum()),
            "unreachable_weight": float(problem.weights[~reach].sum()),
        }
        k, reason = new_sites_for_p(problem)
        why = self._presolve_reason(k, reason)
        if why:
            return infeasible_solution(problem, clock, why, stats)
        if self.method == "mip":
            sol = self._solve_direct(k, clock, stats)
        elif (
            self.method == "auto"
            and not problem.capacitated
            and int(reach.sum()) > _ROW_GENERATION_MIN_ROWS
        ):
            sol = self._row_generation(clock, stats)
        else:
            sol = self._binary_search(k, clock, stats)
        return with_decision_support(sol, self, problem, clock, drop_regret=self._drop_regret)

    def _drop_regret(self, open_sites: Sequence[int]) -> dict[int, float]:
        """Drop-one regret from nearest / second-nearest open values (vectorised)."""
        problem = self.problem
        costs = problem.costs
        mask = site_mask(problem.n_sites, open_sites) & ~problem.sites.forbidden
        vals = self._values()
        ok = mask[costs.site_index]
        ent = np.flatnonzero(ok)
        rows = costs.row_of_entry[ent]
        order = np.lexsort((vals[ent], rows))
        ent, rows = ent[order], rows[order]
        first = np.ones(len(ent), dtype=np.bool_)
        first[1:] = rows[1:] != rows[:-1]
        second = np.zeros(len(ent), dtype=np.bool_)
        second[1:] = first[:-1] & ~first[1:]
        n = problem.n_demand
        v1 = np.full(n, -np.inf)
        a1 = np.full(n, -1, dtype=np.int64)
        v2 = np.full(n, np.inf)
        v1[rows[first]] = vals[ent[first]]
        a1[rows[first]] = costs.site_index[ent[first]]
        v2[rows[second]] = vals[ent[second]]
        reach = self._reachable()
        v2[~reach] = -np.inf
        m = problem.n_sites
        per_site_v1 = np.full(m, -np.inf)
        per_site_v2 = np.full(m, -np.inf)
        served = a1 >= 0
        np.maximum.at(per_site_v1, a1[served], v1[served])
        np.maximum.at(per_site_v2, a1[served], v2[served])
        top = np.sort(per_site_v1)[::-1]
        objective = float(top[0]) if len(top) else 0.0
        out: dict[int, float] = {}
        for j in open_sites:
            rest = float(top[1]) if per_site_v1[j] == top[0] and len(top) > 1 else objective
            new = max(rest, float(per_site_v2[j]), 0.0)
            out[int(j)] = new - objective
        return out

    def _binary_search(  # noqa: C901, PLR0912, PLR0915
        self, k: int, clock: Clock, stats: dict[str, float | int | str]
    ) -> Solution:
        problem, opts = self.problem, clock.options
        costs, sites = problem.costs, problem.sites
        vals = self._values()
        allowed = ~sites.forbidden[costs.site_index]
        reach = self._reachable()
        # LB = max_i min_j v_ij over allowed pairs of reachable rows
        row_min = np.full(problem.n_demand, np.inf)
        np.minimum.at(row_min, costs.row_of_entry[allowed], vals[allowed])
        lb_val = float(row_min[reach].max()) if reach.any() else 0.0
        thresholds = np.unique(vals[allowed])
        thresholds = thresholds[thresholds >= lb_val - 1e-15]
        n_t = len(thresholds)
        # Invariant: if an optimum below best_val exists its index lies in [lo, hi];
        # every threshold below proven_lo is proven infeasible.
        lo, hi, proven_lo = 0, n_t - 1, 0
        best_open: list[int] | None = None
        best_assign: IntArray | None = None
        best_val = np.inf
        exhausted = False  # heuristic mode gave up on a threshold without proof
        backend = choose_backend(opts, pure_binary=not problem.capacitated, size=int(costs.nnz))
        backend_used = "binary-search"
        steps = 0
        if not reach.any():
            best_open, best_val, lo, hi = pad_open(problem, [], k), 0.0, 1, 0
        while lo <= hi and not clock.should_stop:
            mid = hi if best_open is None else (lo + hi) // 2  # first: feasible at all?
            steps += 1
            verdict, open_sites, used, found_a = self._feasible(
                float(thresholds[mid]), k, clock, backend
            )
            if used not in backend_used:
                backend_used += f"+{used}"
            if verdict == "feasible" and open_sites is not None:
                if found_a is not None:  # capacitated: the (B2) assignment itself
                    obj = self._with_costs(found_a)[0]
                else:
                    obj = self.evaluate(open_sites)[0]
                if obj < best_val:
                    best_val, best_open, best_assign = obj, open_sites, found_a
                    clock.report(incumbent=best_val, phase="binary search")
                achieved = int(np.searchsorted(thresholds, best_val * (1 - 1e-12)))
                hi = min(mid, achieved) - 1
            elif verdict == "infeasible":
                lo = mid + 1
                if not exhausted:
                    proven_lo = lo
                    if proven_lo < n_t:
                        clock.report(bound=float(thresholds[proven_lo]), phase="binary search")
            elif verdict == "unknown-heuristic":
                exhausted = True
                lo = mid + 1
            else:  # undecided within the time limit
                break
            if best_open is None and verdict != "feasible":
                break  # infeasible (or undecided) even at the largest threshold
        stats["binary_search_steps"] = steps
        stats["thresholds"] = n_t
        if best_open is None:
            if proven_lo > 0:
                msg = (
                    f"no choice of {problem.p} sites reaches every demand row: covering all "
                    f"{int(reach.sum())} reachable rows needs more than {k} new site(s) even "
                    "at the largest allowed cost. Raise p or the cutoff."
                )
                return infeasible_solution(problem, clock, msg, stats)
            return self._timed_out(clock, stats)
        bound = float(thresholds[proven_lo]) if proven_lo < n_t else best_val
        bound = min(max(bound, lb_val), best_val)
        if best_assign is not None:
            objective, assignment, cost = self._with_costs(best_assign)
        else:
            objective, assignment, cost = self._final_assignment(best_open, clock, backend)
        msg = self._summary(objective, bound)
        if stats["unreachable_rows"]:
            msg += (
                f" {stats['unreachable_rows']} demand row(s) with weight "
                f"{float(stats['unreachable_weight']):,.6g} have no allowed site and are left out."
            )
        return make_solution(
            problem,
            status=Status.FEASIBLE,
            objective=objective,
            bound=bound,
            open_sites=best_open,
            assignment=assignment,
            assignment_cost=cost,
            clock=clock,
            backend=backend_used,
            message=msg,
            stats=stats,
        )

    def _summary(self, objective: float, bound: float, detail: str = "") -> str:
        """Return the plain-language result: worst (weighted) cost and lower bound."""
        problem = self.problem
        what = "weight x cost" if problem.weighted else f"travel cost ({problem.costs.unit})"
        return f"worst {what} {objective:,.6g}; lower bound {bound:,.6g}{detail}."

    def _timed_out(self, clock: Clock, stats: dict[str, float | int | str]) -> Solution:
        """Return the ERROR solution: no network was found within the time limit."""
        msg = "no feasible solution found within the time limit."
        return infeasible_solution(self.problem, clock, msg, stats, status=Status.ERROR)

    def _subproblem(self, rows: IntArray) -> PCenter:
        """Return the same p-center restricted to the given demand rows (same sites, options)."""
        costs, problem = self.problem.costs, self.problem
        indptr, take = csr_rows(costs.indptr, rows)
        sub_costs = CostMatrix(
            indptr=indptr,
            site_index=costs.site_index[take],
            cost=costs.cost[take],
            n_sites=costs.n_sites,
            beyond_cost=costs.beyond_cost[rows].copy(),
            unit=costs.unit,
        )
        sub = LocationProblem(
            kind="p_center",
            costs=sub_costs,
            weights=problem.weights[rows].copy(),
            sites=problem.sites,
            p=problem.p,
            min_new_sites=problem.min_new_sites,
            max_new_sites=problem.max_new_sites,
            weighted=problem.weighted,
        )
        return PCenter(sub, method="binary_search")

    def _row_generation(  # noqa: C901, PLR0915
        self, clock: Clock, stats: dict[str, float | int | str]
    ) -> Solution:
        """(R) Exact p-center on a growing subset of rows (Contardo, Iori & Kramer 2019).

        The optimum on any subset of rows is a lower bound for all rows; the subset's
        network evaluated on all rows is an upper bound. Rows the subset's network serves
        worse than the subset optimum are added (worst first) until the bounds meet or the
        time runs out. Each subset is solved by the binary search (B1) above.
        """
        problem = self.problem
        reach = np.flatnonzero(self._reachable())
        vals = self._values()
        allowed = ~problem.sites.forbidden[problem.costs.site_index]
        row_min = np.full(problem.n_demand, np.inf)
        np.minimum.at(row_min, problem.costs.row_of_entry[allowed], vals[allowed])
        rng = np.random.default_rng(clock.options.seed)
        n0 = min(len(reach), _ROW_GENERATION_START)
        hardest = reach[np.argsort(-row_min[reach], kind="stable")[: n0 // 2]]
        sample = rng.choice(reach, size=n0 - len(hardest), replace=False)
        subset = np.unique(np.concatenate([hardest, sample]))
        lower, upper = float(row_min[reach].max()), np.inf
        best_open: list[int] | None = None
        # (R0) a first full-feasible network: greedy cover of all rows at the largest value
        k = new_sites_for_p(problem)[0]
        core, cand_sites = self._cover_core(float(vals[allowed].max()))
        if core is not None:
            chosen = greedy_cover(core, max_count=k)
            if chosen is not None:
                start_open = pad_open(problem, cand_sites[np.flatnonzero(chosen)], k)
                start_val = self.evaluate(start_open)[0]
                if np.isfinite(start_val):
                    upper, best_open = start_val, start_open
                    clock.report(incumbent=upper, bound=lower, phase="row generation start")
        add = _ROW_GENERATION_ADD
        rounds = 0
        backend_used = "row-generation"
        while not clock.should_stop:
            rounds += 1
            sub = self._subproblem(subset)
            sub_opts = replace(
                clock.options,
                time_limit_s=max(0.01, clock.remaining_s),
                progress=None,
                n_best=1,
                compute_regret=False,
            )
            sub_sol = sub.solve(sub_opts)
            backend_used = "row-generation+" + sub_sol.backend
            if sub_sol.status == Status.INFEASIBLE:
                return infeasible_solution(problem, clock, sub_sol.message, stats)
            if np.isfinite(sub_sol.bound):
                lower = max(lower, float(sub_sol.bound))
            if not sub_sol.has_solution:
                break
            obj, a, c = self.evaluate(sub_sol.open_sites)
            if obj < upper:
                upper, best_open = obj, list(sub_sol.open_sites)
            if not np.isfinite(obj) and not clock.should_stop:
                repaired = self._repair(list(sub_sol.open_sites), a, k)
                if repaired is not None and repaired[0] < upper:
                    upper, best_open = repaired
                    stats["repaired_networks"] = int(stats.get("repaired_networks", 0)) + 1
            clock.report(incumbent=upper, bound=lower, phase=f"row generation {rounds}")
            if upper <= lower * (1 + 1e-12) or relative_gap(upper, lower) <= (
                clock.options.gap_tolerance
            ):
                break
            if sub_sol.status != Status.OPTIMAL:
                break  # the subset itself ran out of time
            row_val = c * (problem.weights if problem.weighted else 1.0)
            worse = np.flatnonzero((row_val > sub_sol.objective) | (a < 0))
            worse = np.setdiff1d(worse, subset)
            if not len(worse):
                break
            order = np.argsort(-np.nan_to_num(row_val[worse], nan=np.inf), kind="stable")
            unserved = int((a[worse] < 0).sum())  # rows with no open listed site come first
            subset = np.union1d(subset, worse[order[: max(add, min(unserved, 20 * add))]])
            add *= 2
        stats.update(row_generation_rounds=rounds, row_generation_rows=len(subset))
        if best_open is None:
            return self._timed_out(clock, stats)
        objective, assignment, cost = self.evaluate(best_open)
        bound = min(lower, objective)
        msg = self._summary(
            objective,
            bound,
            f" (exact on {len(subset):,} of {len(reach):,} rows after {rounds} round(s))",
        )
        return make_solution(
            problem,
            status=Status.FEASIBLE,
            objective=objective,
            bound=bound,
            open_sites=best_open,
            assignment=assignment,
            assignment_cost=cost,
            clock=clock,
            backend=backend_used,
            message=msg,
            stats=stats,
        )

    def _repair(
        self, open_sites: list[int], assignment: IntArray, k: int
    ) -> tuple[float, list[int]] | None:
        """Make a network serve every reachable row, keeping ``p`` sites (heuristic).

        Greedy-cover the rows with no open listed site, then close the subset sites whose
        drop-one regret is smallest until ``p`` sites remain; ``None`` if that fails.
        """
        problem = self.problem
        unserved = np.flatnonzero(self._reachable() & (assignment < 0))
        sub = self._subproblem(unserved)
        core, cand_sites = sub._cover_core(float(np.inf))
        if core is None:
            return None
        chosen = greedy_cover(core)
        if chosen is None:
            return None
        extra = {int(j) for j in cand_sites[np.flatnonzero(chosen)]}
        opened = sorted(set(open_sites) | extra)
        required = set(np.flatnonzero(problem.sites.required).tolist())
        surplus = len(opened) - int(problem.p or 0)
        if surplus > 0:
            regret = self._drop_regret(opened)
            removable = [j for j in opened if j not in extra and j not in required]
            removable.sort(key=lambda j: (regret.get(j, np.inf), j))
            if len(removable) < surplus:
                return None
            drop = set(removable[:surplus])
            opened = [j for j in opened if j not in drop]
        opened = pad_open(problem, [j for j in opened if j not in required], k)
        value = self.evaluate(opened)[0]
        return (value, opened) if np.isfinite(value) else None

    def _final_assignment(
        self, open_sites: Sequence[int], clock: Clock, backend: str
    ) -> tuple[float, IntArray, FloatArray]:
        problem = self.problem
        if not problem.capacitated:
            return self.evaluate(open_sites)
        mask = site_mask(problem.n_sites, open_sites)
        obj, a, c = self.evaluate(open_sites)
        if np.isfinite(obj):
            return obj, a, c
        found = self._capacitated_feasible(np.inf, clock, backend, mask)
        if found is None:
            return obj, a, c
        return self._with_costs(found[1])

    def _feasible(
        self, t_val: float, k: int, clock: Clock, backend: str
    ) -> tuple[str, list[int] | None, str, IntArray | None]:
        """Decide "is there a solution with z <= t_val?" -- (B1) or (B2).

        Returns
        -------
        verdict, open_sites, backend, assignment
            The (B2) assignment when capacitated, else ``None`` (nearest open site).
        """
        if self.problem.capacitated:
            be = "highs" if backend == "heuristic" else backend
            found = self._capacitated_feasible(t_val, clock, be, None)
            if found is None:
                return ("undecided" if clock.should_stop else "infeasible"), None, be, None
            return "feasible", [int(j) for j in np.flatnonzero(found[0])], be, found[1]
        verdict, open_sites, used = self._cover_feasible(t_val, k, clock, backend)
        return verdict, open_sites, used, None

    def _cover_core(self, t_val: float) -> tuple[CoverCore | None, IntArray]:
        """(B1) instance at threshold t_val; ``None`` if some row has no site at all."""
        cov = coverage_sets(self.problem, self._values() <= t_val)
        need = self._reachable() & ~cov.covered_by_required
        indptr, cols = cov.subset(np.flatnonzero(need))
        cand_sites = cov.cand_sites
        if (np.diff(indptr) == 0).any():
            return None, cand_sites
        core = reduce_cover(indptr, cols, np.ones(len(cand_sites)), allow_column_dominance=True)
        return core, cand_sites

    def _cover_feasible(  # noqa: PLR0911
        self, t_val: float, k: int, clock: Clock, backend: str
    ) -> tuple[str, list[int] | None, str]:
        core, cand_sites = self._cover_core(t_val)
        if core is None:
            return "infeasible", None, "presolve"
        order = cand_sites  # padding preference: ascending index
        if int(core.forced.sum()) > k:
            return "infeasible", None, "presolve"
        chosen = greedy_cover(core, max_count=k)
        if chosen is not None and int(chosen.sum()) <= k:
            return (
                "feasible",
                pad_open(self.problem, cand_sites[np.flatnonzero(chosen)], k, order=order),
                "greedy",
            )
        mip = cover_mip(core, (0, k), zero_objective=False)
        if backend == "heuristic":
            lb = lp_bound(mip, **clock_limits(clock, clock.remaining_s, keep_margin=False))
            if np.isfinite(lb) and lb > k + 1e-6:
                return "infeasible", None, "lp"
            return "unknown-heuristic", None, "lp"
        feas = replace(mip, objective=np.zeros(core.n_cand))
        res = solve_mip(
            feas, backend=backend, **clock_limits(clock, clock.remaining_s), feasibility_only=True
        )
        if res.values is not None:
            cols = np.flatnonzero(res.values > 0.5)  # noqa: PLR2004
            return (
                "feasible",
                pad_open(self.problem, cand_sites[cols], k, order=order),
                (res.backend),
            )
        if res.infeasible:
            return "infeasible", None, res.backend
        return "undecided", None, res.backend

    def _capacitated_feasible(
        self, t_val: float, clock: Clock, backend: str, fixed_open: BoolArray | None
    ) -> tuple[BoolArray, IntArray] | None:
        """(B2): open mask and assignment with every pair value <= t_val, or ``None``."""
        problem = self.problem
        costs, sites = problem.costs, problem.sites
        vals = self._values()
        reach = self._reachable()
        ok = (vals <= t_val) & ~sites.forbidden[costs.site_index] & reach[costs.row_of_entry]
        if fixed_open is not None:
            ok &= fixed_open[costs.site_index]
        ent = np.flatnonzero(ok)
        pr, ps = costs.row_of_entry[ent], costs.site_index[ent]
        has = np.zeros(problem.n_demand, dtype=np.bool_)
        has[pr] = True
        if (reach & ~has).any():
            return None
        p = int(problem.p or 0)
        model = build_assign_mip(
            problem,
            pr,
            ps,
            objective_y=np.zeros(problem.n_sites),
            objective_x=np.zeros(len(pr)),
            maximise=False,
            must_assign=reach,
            n_open=(p, p) if fixed_open is None else (int(fixed_open.sum()),) * 2,
            fixed_open=fixed_open,
        )
        res = solve_mip(
            model.mip,
            backend=backend,
            **clock_limits(clock, clock.remaining_s),
            feasibility_only=True,
        )
        if res.values is None:
            return None
        return model.split(res.values, problem.n_demand)

    def _solve_direct(self, k: int, clock: Clock, stats: dict[str, float | int | str]) -> Solution:
        """(P1)-(P7) as one MIP (columns: y, x, z)."""
        problem, opts = self.problem, clock.options
        costs, sites = problem.costs, problem.sites
        vals = self._values()
        reach = self._reachable()
        ok = ~sites.forbidden[costs.site_index] & reach[costs.row_of_entry]
        ent = np.flatnonzero(ok)
        pr, ps, pv = costs.row_of_entry[ent], costs.site_index[ent], vals[ent]
        p = int(problem.p or 0)
        base = build_assign_mip(
            problem,
            pr,
            ps,
            objective_y=np.zeros(problem.n_sites),
            objective_x=np.zeros(len(pr)),
            maximise=False,
            must_assign=reach,
            n_open=(p, p),
            capacitated=problem.capacitated,
        )
        m, n_p = problem.n_sites, len(pr)
        rows_used, row_pos = np.unique(pr, return_inverse=True)
        # (P4): sum_j v_ij x_ij - z <= 0
        p4 = sp.csr_matrix(
            (
                np.concatenate([pv, -np.ones(len(rows_used))]),
                (
                    np.concatenate([row_pos, np.arange(len(rows_used))]),
                    np.concatenate([m + np.arange(n_p), np.full(len(rows_used), m + n_p)]),
                ),
            ),
            shape=(len(rows_used), m + n_p + 1),
        )
        a_old = sp.hstack([base.mip.matrix, sp.csr_matrix((base.mip.matrix.shape[0], 1))])
        upper_z = float(pv.max()) if len(pv) else 0.0
        mip = MatrixMip(
            objective=np.concatenate([np.zeros(m + n_p), [1.0]]),
            lower=np.concatenate([base.mip.lower, [0.0]]),
            upper=np.concatenate([base.mip.upper, [upper_z]]),
            integer=np.concatenate([base.mip.integer, [False]]),
            matrix=sp.vstack([a_old, p4], format="csr"),
            row_lower=np.concatenate([base.mip.row_lower, np.full(len(rows_used), -np.inf)]),
            row_upper=np.concatenate([base.mip.row_upper, np.zeros(len(rows_used))]),
            maximise=False,
        )
        backend = choose_backend(opts, pure_binary=False, size=int(mip.matrix.nnz))
        if backend == "heuristic":
            backend = "highs"
        if backend == "cp-sat":
            mip = replace(
                mip, upper=np.ceil(mip.upper), integer=np.ones(mip.n_cols, dtype=np.bool_)
            )
        res = solve_mip(mip, backend=backend, **clock_limits(clock, clock.remaining_s))
        if res.values is None:
            if res.infeasible:
                return infeasible_solution(
                    problem, clock, f"no choice of {p} sites serves every reachable row.", stats
                )
            return self._timed_out(clock, stats)
        mask = res.values[:m] > 0.5  # noqa: PLR2004
        open_sites = [int(j) for j in np.flatnonzero(mask)]
        objective, assignment, cost = self._final_assignment(open_sites, clock, backend)
        bound = res.bound if np.isfinite(res.bound) else float("nan")
        if np.isfinite(bound):
            bound = min(bound, objective)
        msg = f"worst cost {objective:,.6g}; lower bound {bound:,.6g} (direct MIP)."
        del k
        return make_solution(
            problem,
            status=Status.FEASIBLE,
            objective=objective,
            bound=bound,
            open_sites=open_sites,
            assignment=assignment,
            assignment_cost=cost,
            clock=clock,
            backend=f"mip+{res.backend}",
            message=msg,
            stats=stats,
        )
