"""Maximal covering location (MCLP): open ``p`` sites covering the most demand within a radius.

The model looks only at *coverage*: demand row ``i`` is covered by site ``j`` when the pair is
listed in the cost matrix, ``c_ij <= service_radius`` (the same test as
:func:`planner.models.check.check_solution`) and ``j`` is not forbidden. Rows whose cost list
may be truncated inside the radius (``beyond_cost < service_radius``) are counted on their
listed pairs only; ``stats["rows_truncated_inside_radius"]`` says how many there are.

Formulation (R = required sites, F = free sites (neither required nor forbidden),
N_i = free sites covering row i, w = demand weight, k = number of new sites)::

    MCLP, uncapacitated (aggregated: rows with identical N_i form one group g, W_g = sum w_i)
    (M1)  max  W_R + sum_g W_g z_g          W_R = weight of rows covered by a required site
    (M2)  z_g <= sum_{j in N_g} y_j          for every group g not covered by R
    (M3)  sum_{j in F} y_j <= k,  k = p - |R|   (padding to exactly k afterwards never lowers
                                                 coverage, so "<=" is exact)
    (M4)  y_j in {0, 1};  0 <= z_g <= 1  (binary for CP-SAT)

    MCLP, capacitated (row level; a row counts only if it is assigned within capacity)
    (C1)  max  sum_i sum_{j in N_i u R_i} w_i x_ij
    (C2)  sum_j x_ij <= 1                     for every row i
    (C3)  x_ij <= y_j
    (C4)  sum_i w_i x_ij <= Q_j y_j           for every site j
    (C5)  sum_j y_j = p,  y_j = 1 on R,  y_j = 0 on forbidden sites
    (C6)  x, y binary

Capacitated MCLP counts a row only when it is assigned within capacity (the Current & Storbeck
model); :func:`planner.models.check.check_solution` counts geometric coverage instead, so for
capacitated MCLP the two objectives differ whenever capacity binds (see the tests).

Reductions, all exact: identical coverage sets are merged (weights summed); rows covered by a
required site leave the model; a free site whose coverage is a subset of another free site's
is dropped. The primal side is greedy + best-improvement swap local search (fast
interchange); the bound is the LP relaxation of (M1)-(M4) or the MIP's own bound.

Solve pipeline, uncapacitated MCLP (every phase honours the time limit and cancellation):

1. coverage lists within the radius, rows merged exactly by identical coverage sets
   (200,000 farms x 2,000 sites, 50 km: 34,225 groups), dominated sites dropped;
2. greedy + best-improvement swap local search on the groups;
3. small instances (<= 200,000 nonzeros): MIP (M1)-(M4) warm-started from the incumbent;
4. large instances: LP duals of (M2) from HiGHS PDLP at loose tolerance -> exact Lagrangian
   bound L(lam) (valid whatever the LP accuracy), LP-guided restart of the local search,
   Lagrangian reduced-cost fixing, then the MIP on the reduced problem.
   Measured (200,000 x 2,000, 50 km lists, p = 100, 2 cores at load 8-10): bound 20,263.9,
   incumbent 20,263.6 (gap 1.4e-5) within the 60 s limit; p = 20 proven optimal in 40 s
   wall / 17 s CPU.

Assignment: a covered row is assigned to its nearest open site within the radius (capacitated:
the site chosen by (C2)-(C4)); a row that is not covered is -1, so ``assignment``
reads as "who covers this farm".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import ValidationError
from planner.models._assign_mip import (
    _cap_pairs,
    build_assign_mip,
    greedy_capacity_assignment,
)
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
from planner.models._cover_sets import (
    Coverage,
    Groups,
    _coverage,
    _group_rows,
    dominated_columns,
    within_radius,
)
from planner.models._decision import (
    with_decision_support,
)
from planner.models._mclp_core import (
    MclpCore,
    fix_by_reduced_cost,
    mclp_dual_bound,
    mclp_greedy,
    mclp_mip,
    mclp_swap,
)
from planner.models._mip import clock_limits, lp_bound, solve_mip
from planner.models._shared import (
    choose_backend,
    fmt_number,
    infeasible_solution,
    make_solution,
    nearest_open,
    new_sites_for_p,
    pad_open,
    pair_costs,
    site_mask,
)

_DIRECT_MIP_MAX_NNZ = 200_000  # above this the aggregated MCLP goes dual bound + fixing first


class _Negated:
    """Adapter: the N-best/regret helpers minimise, MCLP maximises."""

    def __init__(self, model: MCLP) -> None:
        self.model = model

    def evaluate(self, open_sites: Sequence[int]) -> tuple[float, IntArray, FloatArray]:
        obj, a, c = self.model.evaluate(open_sites)
        return -obj, a, c


class MCLP(GeoBuildMixin):
    """Maximal covering location: open ``p`` sites covering the most demand within a radius.

    Parameters
    ----------
    problem
        A problem of kind ``"mclp"``.

    Examples
    --------
    >>> m = MCLP.from_cost_matrix([[1.0, 9.0], [9.0, 1.0], [2.0, 9.0]], [1, 5, 1], p=1,
    ...                           service_radius=3.0)
    >>> m.solve().objective
    5.0
    """

    kind = "mclp"

    def __init__(self, problem: LocationProblem) -> None:
        if problem.kind != self.kind:
            msg = f"MCLP needs a problem of kind 'mclp', got {problem.kind!r}."
            raise ValidationError(msg, source="MCLP")
        self.problem = problem

    @classmethod
    def from_cost_matrix(
        cls,
        costs: CostMatrix | npt.ArrayLike,
        weights: npt.ArrayLike,
        *,
        p: int,
        service_radius: float,
        sites: SiteData | None = None,
        max_cost: float | None = None,
        capacitated: bool = False,
        min_new_sites: int = 0,
        max_new_sites: int | None = None,
    ) -> MCLP:
        """Build the model from a cost matrix.

        Parameters
        ----------
        costs
            Sparse cost structure or dense array (``nan``/``inf`` = not allowed).
        weights
            Demand weight per row (scalar broadcasts).
        p
            Total number of open sites, required ones included.
        service_radius
            Coverage radius in the cost unit.
        sites
            Site attributes; default: all free, uncapacitated.
        max_cost
            Optional service cutoff (pairs above it are not allowed at all).
        capacitated
            Count a row only if it is assigned to a covering site within its capacity.
        min_new_sites, max_new_sites
            Bounds on the number of non-required open sites.

        Returns
        -------
        model
            The MCLP model.
        """
        matrix = as_cost_matrix(costs, max_cost)
        problem = LocationProblem(
            kind="mclp",
            costs=matrix,
            weights=as_weights(weights, matrix.n_demand),
            sites=sites if sites is not None else SiteData.default(matrix.n_sites),
            p=p,
            service_radius=float(service_radius),
            capacitated=capacitated,
            min_new_sites=min_new_sites,
            max_new_sites=max_new_sites,
        )
        return cls(problem)

    @property
    def _radius(self) -> float:
        return float(self.problem.service_radius or 0.0)

    def evaluate(self, open_sites: Sequence[int]) -> tuple[float, IntArray, FloatArray]:
        """Return the objective, assignment and assignment cost of a fixed open set.

        Parameters
        ----------
        open_sites
            Open site indices.

        Returns
        -------
        objective, assignment, assignment_cost
            Covered demand; per row the covering site (-1 if none) and its cost. With
            capacities the assignment maximising covered demand within capacity is solved
            exactly (HiGHS).
        """
        problem = self.problem
        mask = site_mask(problem.n_sites, open_sites)
        within = within_radius(problem.costs.cost, self._radius)
        if not problem.capacitated:
            a, c = nearest_open(problem.costs, within, mask)
            covered = a >= 0
            return float(problem.weights[covered].sum()), a, c
        return self._evaluate_capacitated(mask, within)

    def _evaluate_capacitated(
        self, mask: BoolArray, within: BoolArray
    ) -> tuple[float, IntArray, FloatArray]:
        problem = self.problem
        w = problem.weights
        rows_in = w > 0
        pr, ps = _cap_pairs(problem, within, rows_in)
        keep = mask[ps]
        pr, ps = pr[keep], ps[keep]
        n_open = int(mask.sum())
        model = build_assign_mip(
            problem,
            pr,
            ps,
            objective_y=np.zeros(problem.n_sites),
            objective_x=w[pr],
            maximise=True,
            must_assign=None,
            n_open=(n_open, n_open),
            fixed_open=mask,
        )
        clock = Clock(SolveOptions(time_limit_s=60.0))
        res = solve_mip(model.mip, backend="highs", **clock_limits(clock, 60.0))
        if res.values is None:
            a = greedy_capacity_assignment(problem, pr, ps, mask, np.argsort(-w, kind="stable"))
        else:
            a = model.split(res.values, problem.n_demand)[1]
        return self._with_costs(a)

    def _with_costs(self, a: IntArray) -> tuple[float, IntArray, FloatArray]:
        problem = self.problem
        return float(problem.weights[a >= 0].sum()), a, pair_costs(problem.costs, a)

    def solve(self, options: SolveOptions | None = None) -> Solution:
        """Solve the model; never raises on a time limit once a solution is known.

        Parameters
        ----------
        options
            Time limit, gap, seed, backend, progress, cancellation.

        Returns
        -------
        solution
            Covered demand as objective; ``bound`` is an upper bound.
        """
        opts = options or SolveOptions()
        clock = Clock(opts, maximise=True)
        problem = self.problem
        cov = _coverage(problem, self._radius)
        w = problem.weights
        stats: dict[str, float | int | str] = {
            "rows_truncated_inside_radius": cov.truncated_rows,
            "uncoverable_rows": int((~cov.coverable).sum()),
            "uncoverable_weight": float(w[~cov.coverable].sum()),
        }
        k, reason = new_sites_for_p(problem)
        if k < 0:
            return infeasible_solution(problem, clock, reason, stats)
        if problem.capacitated:
            sol = self._solve_capacitated(cov, k, clock, stats)
        else:
            sol = self._solve_uncapacitated(cov, k, clock, stats)
        return with_decision_support(
            sol,
            _Negated(self),
            problem,
            clock,
            maximise=True,
            drop_regret=self._drop_regret,
            swap_delta=lambda s: self._swap_tables(s)[:2],
        )

    def _drop_regret(self, open_sites: Sequence[int]) -> dict[int, float]:
        """Drop-one regret (coverage lost), vectorised (uncapacitated)."""
        out_sites, _, loss = self._swap_tables(open_sites)
        return {int(j): float(v) for j, v in zip(out_sites, loss, strict=True)}

    def _swap_tables(self, open_sites: Sequence[int]) -> tuple[IntArray, FloatArray, FloatArray]:
        """Swap deltas and drop losses for a fixed open set (uncapacitated, vectorised).

        Returns
        -------
        out_sites, delta, loss
            Open sites; ``delta[k, j]`` = change of *minus* coverage when ``out_sites[k]``
            closes and ``j`` opens (for :mod:`._decision`); ``loss[k]`` = coverage lost when
            ``out_sites[k]`` alone closes.
        """
        problem = self.problem
        costs, sites, w = problem.costs, problem.sites, problem.weights
        m = problem.n_sites
        ok = within_radius(costs.cost, self._radius) & ~sites.forbidden[costs.site_index]
        ent = np.flatnonzero(ok)
        a = sp.csr_matrix(
            (np.ones(len(ent)), (costs.row_of_entry[ent], costs.site_index[ent])),
            shape=(problem.n_demand, m),
        )
        out_sites = np.asarray(sorted(int(j) for j in open_sites), dtype=np.int64)
        y = np.zeros(m)
        y[out_sites] = 1.0
        cnt = np.asarray(a @ y)
        owner = np.rint(np.asarray(a @ (y * np.arange(m)))).astype(np.int64)
        add = a.T @ np.where(cnt == 0, w, 0.0)
        once = np.where(cnt == 1, w, 0.0)
        loss_all = a.T @ once
        pos = np.full(m, -1, dtype=np.int64)
        pos[out_sites] = np.arange(len(out_sites))
        rows_once = np.flatnonzero(once > 0)
        sub = a[rows_once].tocoo()
        r = rows_once[sub.row]
        c_mat = sp.csr_matrix((w[r], (pos[owner[r]], sub.col)), shape=(len(out_sites), m)).toarray()
        gain = add[None, :] - loss_all[out_sites][:, None] + c_mat
        return out_sites, -gain, loss_all[out_sites]

    # -- uncapacitated ------------------------------------------------------------------------

    def _build_core(self, cov: Coverage, k: int) -> tuple[MclpCore, Groups, float]:
        w = self.problem.weights
        rows = np.flatnonzero(~cov.covered_by_required & (w > 0) & (np.diff(cov.row_indptr) > 0))
        indptr, cols = cov.subset(rows)
        groups = _group_rows(rows, indptr, cols, w[rows], self.problem.n_demand)
        n_cand = len(cov.cand_sites)
        g = groups.matrix(n_cand)
        gt = g.T.tocsr()
        usable = ~dominated_columns(gt, None)
        base = float(w[cov.covered_by_required].sum())
        return MclpCore(g=g, gt=gt, weight=groups.weight, k=k, usable=usable), groups, base

    def _solve_uncapacitated(
        self, cov: Coverage, k: int, clock: Clock, stats: dict[str, float | int | str]
    ) -> Solution:
        problem, opts = self.problem, clock.options
        core, _groups, base = self._build_core(cov, k)
        stats.update(
            groups=core.g.shape[0],
            candidate_sites=core.n_cand,
            dominated_sites=int((~core.usable).sum()),
        )
        total = base + float(core.weight.sum())
        # (M3): at most k columns, and never more than the usable ones
        chosen = mclp_greedy(core, np.zeros(core.n_cand, dtype=np.bool_))
        clock.report(incumbent=-(base + core.coverage(chosen)), phase="greedy")
        chosen = mclp_swap(core, chosen, clock)
        incumbent = base + core.coverage(chosen)
        bound = total
        clock.report(incumbent=-incumbent, phase="local search")
        backend_used = "greedy+swap"
        proven = incumbent >= total - 1e-9 * max(1.0, total)
        n_usable = int(core.usable.sum())
        if n_usable <= k:  # every useful site fits: greedy opened all that help
            proven = True
        if proven:
            bound = incumbent
        backend = choose_backend(opts, pure_binary=False, size=int(core.g.nnz))
        if not proven and core.g.shape[0] > 0:
            chosen, incumbent, bound, used = self._exact_phase(
                core,
                base=base,
                chosen=chosen,
                incumbent=incumbent,
                backend=backend,
                clock=clock,
                stats=stats,
            )
            backend_used += used
        bound = max(bound, incumbent)
        clock.report(incumbent=-incumbent, bound=-bound, phase="done")
        # pad to exactly p (M3 note): prefer sites covering the most weight
        free_order = np.argsort(-(core.gt @ core.weight), kind="stable")
        chosen_sites = cov.cand_sites[np.flatnonzero(chosen)]
        open_sites = pad_open(problem, chosen_sites, k, order=cov.cand_sites[free_order])
        objective, assignment, cost = self.evaluate(open_sites)
        stopped = "cancelled" if opts.cancel is not None and opts.cancel.cancelled else ""
        msg = self._message(objective, bound, stats, stopped)
        status = (
            Status.OPTIMAL if bound - objective <= 1e-9 * max(1.0, objective) else (Status.FEASIBLE)
        )
        return make_solution(
            problem,
            status=status,
            objective=objective,
            bound=bound,
            open_sites=open_sites,
            assignment=assignment,
            assignment_cost=cost,
            clock=clock,
            backend=backend_used,
            message=msg,
            stats=stats,
        )

    def _exact_phase(
        self,
        core: MclpCore,
        *,
        base: float,
        chosen: BoolArray,
        incumbent: float,
        backend: str,
        clock: Clock,
        stats: dict[str, float | int | str],
    ) -> tuple[BoolArray, float, float, str]:
        """Bound and improve the incumbent: direct MIP when small, else dual + fixing + MIP."""
        opts = clock.options
        used = ""
        bound = base + float(core.weight.sum())

        def report(inc: float | None, bnd: float | None) -> None:
            clock.report(
                incumbent=None if inc is None else -inc,
                bound=None if bnd is None else -bnd,
                phase=backend,
            )

        sub = core
        sub_base = base
        fixed_open = np.zeros(core.n_cand, dtype=np.bool_)
        if int(core.g.nnz) > _DIRECT_MIP_MAX_NNZ or backend == "heuristic":
            budget = clock.remaining_s * (1.0 if backend == "heuristic" else 0.85)
            dual, y_lp = mclp_dual_bound(core, clock, budget)
            bound = min(bound, base + dual.bound)
            used += "+lagrangian"
            clock.report(incumbent=-incumbent, bound=-bound, phase="lagrangian")
            stats["lagrangian_bound"] = base + dual.bound
            if y_lp is not None and not clock.should_stop:
                # LP-guided restart: the k largest LP values (ties by multiplier score), then swaps
                score = np.where(core.usable, y_lp + 1e-6 * dual.s / max(1.0, dual.s.max()), -1)
                start = np.zeros(core.n_cand, dtype=np.bool_)
                start[np.argsort(-score, kind="stable")[: core.k]] = True
                start &= core.usable
                cand = mclp_swap(core, start, clock)
                val = base + core.coverage(cand)
                stats["lp_restart_objective"] = val
                if val > incumbent:
                    chosen, incumbent = cand, val
                    clock.report(incumbent=-incumbent, phase="lp restart")
            if backend == "heuristic" or relative_gap(incumbent, bound) <= opts.gap_tolerance:
                return chosen, incumbent, bound, used
            sub, sub_base, fixed_open = fix_by_reduced_cost(core, dual, incumbent - base)
            sub_base += base
            stats["fixed_open"] = int(fixed_open.sum())
            stats["fixed_closed"] = int((~sub.usable & core.usable & ~fixed_open).sum())
            stats["reduced_groups"] = int(sub.g.shape[0])
            backend = choose_backend(opts, pure_binary=False, size=int(sub.g.nnz))
        if clock.should_stop or sub.g.shape[0] == 0 or sub.k <= 0:
            return chosen, incumbent, bound, used
        mip = mclp_mip(sub, sub_base)
        in_sub = chosen & sub.usable
        hint = None
        if not (chosen & ~sub.usable & ~fixed_open).any():
            hint = np.concatenate(
                [in_sub.astype(np.float64), (sub.g @ in_sub.astype(np.float64) > 0) * 1.0]
            )
        res = solve_mip(
            mip, backend=backend, **clock_limits(clock, clock.remaining_s), hint=hint, report=report
        )
        used += f"+{res.backend}"
        if res.values is not None:
            cand = (res.values[: sub.n_cand] > 0.5) | fixed_open  # noqa: PLR2004
            val = base + core.coverage(cand)
            if val > incumbent:
                chosen, incumbent = cand, val
        if np.isfinite(res.bound):
            # the reduced problem only holds solutions that can beat the old incumbent
            bound = min(bound, max(res.bound, incumbent))
        if res.optimal:
            bound = min(bound, max(incumbent, res.objective))
        return chosen, incumbent, bound, used

    def _message(
        self, objective: float, bound: float, stats: dict[str, float | int | str], extra: str
    ) -> str:
        w = self.problem.weights
        total = float(w.sum())
        share = objective / total if total > 0 else 1.0
        parts = [
            f"covers {fmt_number(objective)} of {fmt_number(total)} demand ({share:.1%}) within "
            f"{fmt_number(self._radius)} {self.problem.costs.unit}; "
            f"upper bound {fmt_number(bound)}."
        ]
        if int(stats["uncoverable_rows"]):
            parts.append(
                f"{stats['uncoverable_rows']} demand row(s) with weight "
                f"{fmt_number(float(stats['uncoverable_weight']))} are farther than the radius "
                "from every allowed site."
            )
        if int(stats["rows_truncated_inside_radius"]):
            parts.append(
                f"{stats['rows_truncated_inside_radius']} row(s) have candidate lists cut off "
                "inside the radius; only listed sites count as covering."
            )
        if extra:
            parts.append(f"Stopped early ({extra}).")
        return " ".join(parts)

    # -- capacitated --------------------------------------------------------------------------

    def _solve_capacitated(
        self, cov: Coverage, k: int, clock: Clock, stats: dict[str, float | int | str]
    ) -> Solution:
        problem, opts = self.problem, clock.options
        w = problem.weights
        within = cov.entry_within
        pr, ps = _cap_pairs(problem, within, w > 0)
        # Heuristic start: uncapacitated greedy + swap, then greedy capacity assignment.
        core, _, _ = self._build_core(cov, k)
        chosen = mclp_swap(core, mclp_greedy(core, np.zeros(core.n_cand, bool)), clock)
        free_order = cov.cand_sites[np.argsort(-(core.gt @ core.weight), kind="stable")]
        open0 = pad_open(problem, cov.cand_sites[np.flatnonzero(chosen)], k, order=free_order)
        mask0 = site_mask(problem.n_sites, open0)
        a0 = greedy_capacity_assignment(problem, pr, ps, mask0, np.argsort(-w, kind="stable"))
        incumbent = float(w[a0 >= 0].sum())
        best_mask, best_a = mask0, a0
        # Bound: uncapacitated coverage bound is valid (capacity only removes coverage).
        bound = float(w[cov.coverable].sum())
        clock.report(incumbent=-incumbent, bound=-bound, phase="greedy")
        p = int(problem.p or 0)
        model = build_assign_mip(
            problem,
            pr,
            ps,
            objective_y=np.zeros(problem.n_sites),
            objective_x=w[pr],
            maximise=True,
            must_assign=None,
            n_open=(p, p),
        )
        backend = choose_backend(opts, pure_binary=False, size=int(model.mip.matrix.nnz))
        backend_used = "greedy"
        if backend == "heuristic":
            lb = lp_bound(model.mip, **clock_limits(clock, clock.remaining_s, keep_margin=False))
            if np.isfinite(lb):
                bound = min(bound, lb)
            backend_used += "+lp"
        elif incumbent < bound - 1e-9 * max(1.0, bound):
            res = solve_mip(
                model.mip,
                backend=backend,
                **clock_limits(clock, clock.remaining_s),
                hint=model.hint(mask0, a0),
            )
            backend_used += f"+{res.backend}"
            if res.values is not None:
                m_open, a = model.split(res.values, problem.n_demand)
                val = float(w[a >= 0].sum())
                if val > incumbent:
                    incumbent, best_mask, best_a = val, m_open, a
            if np.isfinite(res.bound):
                bound = min(bound, res.bound)
        else:
            bound = incumbent
        bound = max(bound, incumbent)
        open_sites = [int(j) for j in np.flatnonzero(best_mask)]
        objective, assignment, cost = self._with_costs(best_a)
        stats["geometric_coverage"] = float(
            w[nearest_open(problem.costs, within, best_mask)[0] >= 0].sum()
        )
        msg = self._message(objective, bound, stats, "") + (
            " Capacitated: a row counts only if assigned to a covering site within capacity."
        )
        return make_solution(
            problem,
            status=Status.FEASIBLE,
            objective=objective,
            bound=bound,
            open_sites=open_sites,
            assignment=assignment,
            assignment_cost=cost,
            clock=clock,
            backend=backend_used,
            message=msg,
            stats=stats,
        )
