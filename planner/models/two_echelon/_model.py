"""The :class:`TwoEchelonModel`: warm start (LP, rounding, fixed-integer LP), then the MIP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np

from planner.models._base import (
    BoolArray,
    Clock,
    FloatArray,
    IntArray,
    SolveOptions,
    Status,
    relative_gap,
)
from planner.models._mip import (
    CutRows,
    MipBackend,
    MipResult,
    SparseMip,
    WarmLp,
    lp_cut_loop,
    reduced_cost_bounds,
    solve_mip,
)
from planner.models.two_echelon._formulation import (
    build_mip,
    plant_link_rows,
    plant_zone_link_rows,
    stack_rows,
    valid_inequality_rows,
    violated_rows,
)
from planner.models.two_echelon._instance import (
    COST_COMPONENTS,
    TwoEchelonInstance,
    TwoEchelonSolution,
    period_costs,
    solution_objective,
)
from planner.models.two_echelon._primal import (
    Move,
    apply_move,
    extract,
    fix_integers,
    neighbourhood,
    plants_only,
    restrict,
    round_lp,
    trim,
    with_bounds,
)

_RESTRICTED_TIME_SHARE: Final[float] = 0.3
_DROP_KEEP_SHARE: Final[float] = 0.03
"""Share of the time limit the local search leaves to the MIP phases. Measured on the built-in
scenario: under load the add/drop moves were still improving when 15 % was kept, while the
restricted and full MIP never improved the plan or the bound at that size."""
_ROUND_THRESHOLDS: Final[tuple[tuple[float, float], ...]] = (
    (0.5, 0.5),
    (0.5, 0.25),
    (0.3, 0.3),
    (0.2, 0.1),
)
"""(centre, combine) thresholds tried when rounding the LP relaxation."""
_HEURISTIC_TIME_SHARE: Final[float] = 0.4
_LP_TIME_SHARE: Final[float] = 0.65
"""Most of the time limit the LP relaxation and its cut rounds may take."""
_CUT_LOOP_MIN_GAIN: Final[float] = 2e-4
"""The LP cut loop stops once a round raises the bound by less than this share. Measured on
the built-in scenario with the rows (13)-(16): rounds 2-8 add 2.97 %, 0.30 %, 0.17 %, 0.08 %,
0.044 %, 0.023 %, 0.015 % (stop after round 8, 72.20 bn), the seven rounds after that
together 0.014 % (72.21 bn) for as many LPs of about 7 s; the local search needs the time."""
_ADD_MOVES: Final[int] = 30
"""Closed centres tried per local-search pass (most unserved demand within reach first)."""
_LOCAL_SEARCH_PASSES: Final[int] = 50


class TwoEchelonModel:
    """The joint plant + service-centre model of a :class:`TwoEchelonInstance`.

    Parameters
    ----------
    instance
        The problem arrays.

    Examples
    --------
    See ``tests/planner/models/test_two_echelon.py`` for tiny instances and
    :func:`planner.agri.run_two_echelon` for Kazakhstan.
    """

    kind = "two_echelon"

    def __init__(self, instance: TwoEchelonInstance) -> None:
        self.instance = instance

    def _backend(self, options: SolveOptions) -> tuple[MipBackend | None, str]:
        if options.backend == "heuristic":
            return None, ""
        if options.backend == "cp-sat":
            return "highs", "CP-SAT has no continuous variables; HiGHS used instead."
        if options.backend == "scip":
            return "scip", ""
        return "highs", ""

    def evaluate_network(
        self,
        plant_open: BoolArray,
        centre_open: BoolArray,
        centre_combine: BoolArray,
        centre_vans: IntArray,
        *,
        time_limit_s: float = 30.0,
    ) -> float:
        """Return the objective of a fixed network: plants, centres, capabilities and vans.

        The network's integer decisions are fixed (clipped to the instance's bounds, so a
        required site stays open) and the flows, shares and unserved demand are re-optimised by
        the LP that is left, capacity rows included; the result is priced like :meth:`solve`.

        Parameters
        ----------
        plant_open
            ``K x T`` plants running per period.
        centre_open, centre_combine
            ``J x T`` centres running / combine-capable per period.
        centre_vans
            ``J x T`` vans per centre and period.
        time_limit_s
            Time limit of the LP.

        Returns
        -------
        objective
            The objective ((0) of the formulation); ``inf`` when the fixed network admits no
            feasible plan (e.g. a budget it cannot meet).
        """
        inst = self.instance
        mip, layout = build_mip(inst, inst.capacity_week_indices())
        values = np.zeros(mip.n_variables)
        values[layout.plant] = plant_open
        values[layout.centre] = centre_open
        values[layout.combine] = centre_combine & centre_open
        vans = np.minimum(centre_vans * centre_open, inst.centre_max_vans[:, None])
        values[layout.vans] = vans
        values[layout.runs_vans] = (vans > 0).astype(np.float64)
        res = solve_mip(
            fix_integers(mip, layout, values),
            backend="highs",
            time_limit_s=time_limit_s,
            gap_tolerance=1e-9,
            seed=0,
            hint=None,
            cancel=None,
        )
        if res.values is None:
            return float("inf")
        parts = extract(inst, layout, res.values)
        cost = period_costs(inst, **parts)  # type: ignore[arg-type]
        return float(solution_objective(inst, cost, parts["unserved_share"]))  # type: ignore[arg-type]

    def solve(self, options: SolveOptions | None = None) -> TwoEchelonSolution:  # noqa: C901, PLR0912, PLR0915
        """Solve: LP relaxation, rounding warm start, then the MIP.

        Parameters
        ----------
        options
            Time limit, gap, seed, backend (``"heuristic"`` stops after the warm start),
            progress callback and cancellation.

        Returns
        -------
        solution
            Always returned; a time limit or cancellation gives the incumbent and its gap.
        """
        opts = options or SolveOptions()
        clock = Clock(opts)
        inst = self.instance
        weeks = inst.capacity_week_indices()
        # Formulation (0)-(12); the valid inequalities (13)-(16) join as the LP violates them.
        mip, layout = build_mip(inst, weeks, strengthen=False)
        valid_rows = valid_inequality_rows(inst, weeks, layout)
        stats: dict[str, float | int | str] = {
            "n_variables": mip.n_variables,
            "n_constraints": mip.n_constraints,
            "n_nonzeros": mip.n_nonzeros,
            "n_integer": len(layout.integer_ids),
            "n_capacity_weeks": len(weeks),
        }
        notes: list[str] = []
        backend, note = self._backend(opts)
        if note:
            notes.append(note)
        best: FloatArray | None = None
        best_obj = np.inf
        bound = -np.inf
        unscale = 1.0 / layout.obj_scale
        source = "trivial"

        def run(
            model: SparseMip,
            share: float,
            hint: FloatArray | None = None,
            report: Callable[[float | None, float | None], None] | None = None,
        ) -> MipResult:
            # HiGHS through passModel (fast to load, reports progress); SCIP through MathOpt.
            return solve_mip(
                model.to_matrix() if backend != "scip" else model,
                backend=backend or "highs",
                time_limit_s=max(clock.remaining_s * share, 0.05),
                gap_tolerance=opts.gap_tolerance,
                seed=opts.seed,
                hint=hint,
                cancel=opts.cancel,
                report=report,
            )

        # Phase 0: the trivial plan (required sites open, nobody served) is always feasible
        # in cost mode, so a solution exists even if the time limit hits during the LP.
        if inst.objective == "cost":
            trivial = np.zeros(mip.n_variables)
            trivial[layout.plant] = inst.plant_required[:, None]
            trivial[layout.centre] = inst.centre_required[:, None]
            trivial[layout.unserved] = 1.0
            parts0 = extract(inst, layout, trivial)
            best_obj = solution_objective(
                inst,
                period_costs(inst, **parts0),  # type: ignore[arg-type]
                parts0["unserved_share"],  # type: ignore[arg-type]
            )
            best = trivial
            clock.report(incumbent=best_obj, phase="trivial")

        # Phase 1: LP relaxation with the valid inequalities (14)-(15) and the violated rows
        # (13) and (16) added round by round (the proven bound), then rounding + fixed-integer LP.
        def lp_report(value: float) -> None:
            clock.report(bound=value * unscale, phase="lp relaxation + cuts")

        def separate(x: FloatArray) -> CutRows:
            return stack_rows([
                violated_rows(valid_rows, x),
                plant_link_rows(inst, layout, x),
                plant_zone_link_rows(inst, layout, x),
            ])  # fmt: skip

        loop = lp_cut_loop(
            mip.to_matrix(),
            separate,
            time_limit_s=max(clock.remaining_s * _LP_TIME_SHARE, 0.05),
            cancel=opts.cancel,
            min_relative_gain=_CUT_LOOP_MIN_GAIN,
            report=lp_report,
        )
        lo, hi, rows, cols, coefs = loop.cuts
        if len(lo):
            mip.add_constraints(lower=lo, upper=hi, rows=rows, cols=cols, coefs=coefs)
        stats["lp_cut_rounds"] = loop.rounds
        stats["lp_time_s"] = round(clock.elapsed_s, 3)
        stats["lp_cut_rows"] = len(lo)
        # Rounding reads the first LP (no cut rows): measured on the built-in scenario, its
        # roundings lead to better plans than those of the strengthened LP.
        lp = MipResult(
            "optimal" if loop.values is not None else "error",
            loop.objective,
            loop.objective,
            loop.first_values,
        )
        if lp.values is not None:
            bound = lp.objective * unscale
            stats["lp_bound"] = bound

        def evaluate(values: FloatArray) -> tuple[FloatArray, float]:
            trimmed = trim(inst, layout, values)
            p = extract(inst, layout, trimmed)
            cost = period_costs(inst, **p)  # type: ignore[arg-type]
            return trimmed, solution_objective(inst, cost, p["unserved_share"])  # type: ignore[arg-type]

        if lp.values is not None:
            for theta, theta_c in _ROUND_THRESHOLDS:
                if clock.should_stop:
                    break
                res = run(
                    fix_integers(mip, layout, round_lp(inst, layout, lp.values, theta, theta_c)),
                    _HEURISTIC_TIME_SHARE,
                )
                if res.values is None:
                    continue
                cand, obj = evaluate(res.values)
                if obj < best_obj - 1e-9:
                    best, best_obj = cand, obj
                    stats["rounding_objective"] = best_obj
                    source = "heuristic (LP rounding)"
                    stats["rounding_thresholds"] = f"{theta}/{theta_c}"
                    clock.report(incumbent=best_obj, phase="rounding")
        # Phase 1b: best plants for the incumbent's centres and shares, then re-balance.
        if best is not None and not clock.should_stop:
            res = run(plants_only(mip, layout, best), _HEURISTIC_TIME_SHARE, best)
            if res.values is not None and not clock.should_stop:
                res = run(fix_integers(mip, layout, res.values), _HEURISTIC_TIME_SHARE)
            if res.values is not None:
                cand, obj = evaluate(res.values)
                if obj < best_obj - 1e-9:
                    best, best_obj = cand, obj
                    stats["plant_reoptimised_objective"] = best_obj
                    source = "heuristic (LP rounding, plant MIP)"
                    clock.report(incumbent=best_obj, phase="plants")
        # Phase 1c: local search over the moves of :func:`neighbourhood` (close a centre,
        # remove its combine capability, open either one period later, open a closed centre
        # next to unserved demand), each re-balanced by the fixed-integer LP. A pass tries
        # every move once, accepting each improving one at once (the later moves of the pass
        # apply to the new plan); moves are ordered by their last objective change, and
        # passes repeat until one finds no improvement or the time for the MIP is reached.
        if best is not None and lp.values is not None:
            keep_s = _DROP_KEEP_SHARE * opts.time_limit_s
            last_change: dict[Move, float] = {}
            # One LP kept loaded: each trial re-solves from the last basis (WarmLp).
            warm = WarmLp(mip.to_matrix())
            ids = layout.integer_ids
            lb0, ub0 = (b[ids] for b in mip.variable_bounds())
            improved, tried, passes = True, 0, 0
            while improved and passes < _LOCAL_SEARCH_PASSES:
                improved, passes = False, passes + 1
                for move in neighbourhood(inst, layout, best, _ADD_MOVES, order=last_change):
                    if clock.should_stop or clock.remaining_s < keep_s:
                        break
                    trial = apply_move(inst, layout, best, move)
                    if np.array_equal(np.round(trial[ids]), np.round(best[ids])):
                        continue
                    tried += 1
                    fixed = np.clip(np.round(trial[ids]), lb0, ub0)
                    res = warm.solve(
                        ids, fixed, fixed, time_limit_s=clock.remaining_s * _HEURISTIC_TIME_SHARE
                    )
                    if res.values is None:
                        last_change[move] = np.inf
                        continue
                    cand, obj = evaluate(res.values)
                    last_change[move] = obj - best_obj
                    if obj < best_obj - 1e-9:
                        best, best_obj, improved = cand, obj, True
                        key = f"{move[0]}_moves_accepted"
                        stats[key] = int(stats.get(key, 0)) + 1
                        stats["local_search_objective"] = best_obj
                        source = "heuristic (LP rounding, plant MIP, local search)"
                        clock.report(incumbent=best_obj, phase=f"{move[0]} moves")
            stats["local_search_moves_tried"] = tried
            stats["local_search_passes"] = passes
        stats["heuristic_time_s"] = round(clock.elapsed_s - float(stats["lp_time_s"]), 3)
        # Phase 2: restricted MIP (sites unused by LP and incumbent fixed closed).
        mip_res: MipResult | None = None
        ready = lp.values is not None and best is not None and not clock.should_stop
        if backend is not None and ready and lp.values is not None and best is not None:
            res = run(restrict(mip, layout, lp.values, best), _RESTRICTED_TIME_SHARE, best)
            stats["restricted_mip_status"] = res.status
            if res.values is not None:
                cand, obj = evaluate(res.values)
                if obj < best_obj - 1e-9:
                    best, best_obj = cand, obj
                    source = f"{backend} (restricted)"
                    stats["restricted_mip_objective"] = best_obj
                    clock.report(incumbent=best_obj, phase="restricted mip")
        # Phase 3: the full MIP with the cut rows, warm-started, its integer columns
        # reduced-cost fixed against the incumbent (every plan better than the incumbent
        # stays feasible, so its bound, capped at the incumbent, bounds the full MIP).
        final, cutoff = mip, np.inf
        if loop.reduced_costs is not None and best is not None and np.isfinite(best_obj):
            full = mip.to_matrix()
            lb0, ub0 = full.lower, full.upper
            lb, ub = reduced_cost_bounds(
                full, loop.reduced_costs, loop.objective, best_obj * layout.obj_scale
            )
            ints = full.integer
            stats["rc_fixed_integer"] = int((ints & (lb == ub) & (lb0 < ub0)).sum())
            stats["rc_tightened_integer"] = int((ints & ((lb > lb0) | (ub < ub0))).sum())
            stats["rc_free_integer"] = int((ints & (lb < ub)).sum())
            final, cutoff = with_bounds(mip, lb, ub), best_obj
        if backend is not None and not clock.should_stop:

            def mip_report(incumbent: float | None, mip_bound: float | None) -> None:
                inc = best_obj if incumbent is None else min(best_obj, incumbent * unscale)
                low = bound if mip_bound is None else max(bound, min(mip_bound * unscale, cutoff))
                clock.report(incumbent=inc, bound=min(low, inc), phase="mip")

            mip_start_s = clock.elapsed_s
            mip_res = run(final, 1.0, best, mip_report)
            stats["mip_status"] = mip_res.status
            stats["mip_runtime_s"] = round(clock.elapsed_s - mip_start_s, 3)
            if np.isfinite(mip_res.bound):
                bound = max(bound, min(mip_res.bound * unscale, cutoff))
            if mip_res.values is not None:
                cand, obj = evaluate(mip_res.values)
                if obj < best_obj - 1e-9:
                    best, best_obj = cand, obj
                    source = backend
            clock.report(incumbent=best_obj, bound=bound, phase="mip")
        runtime = clock.elapsed_s
        if best is None:
            infeasible = mip_res is not None and mip_res.status == "infeasible"
            msg = (
                "no plan satisfies the constraints (check the budget, plant capacity and "
                "direct-import settings)"
                if infeasible
                else "no feasible plan found within the time limit"
            )
            empty_b = np.zeros((inst.n_centres, inst.n_periods), dtype=np.bool_)
            return TwoEchelonSolution(
                status=Status.INFEASIBLE if infeasible else Status.ERROR,
                objective=float("nan"), bound=float(bound) if np.isfinite(bound) else float("nan"),
                gap=float("nan"),
                plant_open=np.zeros((inst.n_plants, inst.n_periods), dtype=np.bool_),
                centre_open=empty_b, centre_combine=empty_b,
                centre_vans=np.zeros((inst.n_centres, inst.n_periods), dtype=np.int64),
                pair_share=np.zeros((inst.n_pairs, inst.n_periods)),
                unserved_share=np.ones((inst.n_zones, inst.n_periods)),
                plant_flow=np.zeros((inst.n_plants, inst.n_centres, 2, inst.n_periods)),
                import_flow=np.zeros((inst.n_centres, 2, inst.n_periods)),
                cost_by_period=np.zeros((len(COST_COMPONENTS), inst.n_periods)),
                capacity_weeks=weeks, runtime_s=runtime, backend=backend or "heuristic",
                message="; ".join([msg, *notes]), stats=stats,
            )  # fmt: skip
        parts = extract(inst, layout, best)
        cost = period_costs(inst, **parts)  # type: ignore[arg-type]
        objective = solution_objective(inst, cost, parts["unserved_share"])  # type: ignore[arg-type]
        bound_f = float(bound) if np.isfinite(bound) else float("nan")
        bound_f = min(bound_f, objective) if np.isfinite(bound_f) else bound_f
        gap = relative_gap(objective, bound_f)
        optimal = np.isfinite(gap) and gap <= max(opts.gap_tolerance, 1e-9)
        if clock.should_stop and not optimal:
            cancel = opts.cancel is not None and opts.cancel.cancelled
            notes.append("cancelled: best plan so far" if cancel else "time limit reached")
        return TwoEchelonSolution(
            status=Status.OPTIMAL if optimal else Status.FEASIBLE,
            objective=objective, bound=bound_f, gap=gap,
            capacity_weeks=weeks, cost_by_period=cost, runtime_s=runtime,
            backend=source, message="; ".join(notes),
            stats=stats, **parts,  # type: ignore[arg-type]
        )  # fmt: skip
