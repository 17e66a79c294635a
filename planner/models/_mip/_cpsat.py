"""CP-SAT through its own API (``cp_model``) for a :class:`MatrixMip`.

CP-SAT runs its full 8-worker portfolio with a hint and a solution callback (progress);
fractional ``<=`` rows are scaled to integers conservatively (:func:`_integer_row`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from planner.models._base import CancelToken, FloatArray, IntArray
from planner.models._mip._model import MatrixMip, MipResult, cancel_watch, status_of

_CP_SAT_WORKERS = 8
_CP_SAT_SCALE = 1e6  # CP-SAT needs integer constraint coefficients (capacity rows only)


def _integer_row(coefs: FloatArray, lo: float, hi: float) -> tuple[IntArray, float, float]:
    """Integer coefficients for CP-SAT; conservative scaling for fractional ``<=`` rows."""
    if np.all(coefs == np.round(coefs)):
        return coefs.astype(np.int64), lo, hi
    scale = _CP_SAT_SCALE / max(float(np.abs(coefs).max()), 1e-12)
    # Valid only for non-negative columns and a "<=" row: rounding coefficients up and the
    # right-hand side down keeps every CP-SAT solution feasible for the true row.
    scaled = np.ceil(coefs * scale).astype(np.int64)
    return scaled, -np.inf, float(np.floor(hi * scale)) if np.isfinite(hi) else np.inf


def solve_matrix_cpsat(
    mip: MatrixMip,
    *,
    time_limit_s: float,
    gap_tolerance: float,
    seed: int,
    cancel: CancelToken | None,
    hint: FloatArray | None,
    feasibility_only: bool,
    report: Callable[[float | None, float | None], None] | None,
) -> MipResult:
    """Solve a :class:`MatrixMip` with CP-SAT (every column integer).

    Parameters
    ----------
    mip
        The model.
    time_limit_s
        Wall-clock limit.
    gap_tolerance
        Relative gap at which CP-SAT may stop.
    seed
        Random seed.
    cancel
        Token that stops the search.
    hint
        Starting solution (all columns).
    feasibility_only
        Stop at the first solution.
    report
        Called with (incumbent, bound) on every solution.

    Returns
    -------
    result
        Status, objective, bound and values.
    """
    # Deferred: cp_model adds 0.4-2.7 s to `import planner.models` (measured at load 10) and
    # only CP-SAT solves of the covering models need it.
    from ortools.sat.python import cp_model  # noqa: PLC0415 -- see the comment above

    model = cp_model.CpModel()
    xs = [
        model.new_int_var(int(np.ceil(mip.lower[j])), int(np.floor(mip.upper[j])), f"x[{j}]")
        for j in range(mip.n_cols)
    ]
    a = mip.matrix.tocsr()
    for r in range(a.shape[0]):
        lo_p, hi_p = a.indptr[r], a.indptr[r + 1]
        idx = a.indices[lo_p:hi_p]
        coefs, lo, hi = _integer_row(
            a.data[lo_p:hi_p], float(mip.row_lower[r]), float(mip.row_upper[r])
        )
        expr = cp_model.LinearExpr.weighted_sum([xs[int(j)] for j in idx], coefs.tolist())
        if np.isfinite(lo) and np.isfinite(hi):
            model.add_linear_constraint(expr, int(np.ceil(lo - 1e-9)), int(np.floor(hi + 1e-9)))
        elif np.isfinite(lo):
            model.add(expr >= int(np.ceil(lo - 1e-9)))
        elif np.isfinite(hi):
            model.add(expr <= int(np.floor(hi + 1e-9)))
    nz = np.flatnonzero(mip.objective)
    if not feasibility_only and len(nz):
        obj_coefs = mip.objective[nz]
        integral = bool(
            np.all(obj_coefs == np.round(obj_coefs)) and np.abs(obj_coefs).max() < 2**53
        )
        objective = cp_model.LinearExpr.weighted_sum(
            [xs[int(j)] for j in nz],
            [int(c) for c in obj_coefs] if integral else [float(c) for c in obj_coefs],
        )
        if mip.maximise:
            model.maximize(objective)
        else:
            model.minimize(objective)
    if hint is not None:
        for j in range(mip.n_cols):
            model.add_hint(xs[j], round(float(hint[j])))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    # The full portfolio matters: with 2 workers the LP-based bound workers are missing and
    # the MCLP bound never moves (measured); 8 workers time-share the 2 cores fine.
    solver.parameters.num_workers = _CP_SAT_WORKERS
    # Parallel CP-SAT is not bit-deterministic; interleave_search is, and costs nothing on the
    # pure covering models "auto" sends here (count objective or feasibility), but on the
    # weighted MCLP it ran to the time limit after proving optimality, so weighted objectives
    # (CP-SAT only when forced) keep the parallel portfolio and are deterministic only in value.
    unit_objective = len(nz) == 0 or bool(np.all(mip.objective[nz] == mip.objective[nz][0]))
    solver.parameters.interleave_search = feasibility_only or unit_objective
    solver.parameters.random_seed = int(seed) % (2**31 - 1)
    solver.parameters.relative_gap_limit = float(gap_tolerance)
    if feasibility_only:
        solver.parameters.stop_after_first_solution = True

    class _Cb(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            if report is not None:
                report(
                    float(self.objective_value) + mip.offset,
                    float(self.best_objective_bound) + mip.offset,
                )

    with cancel_watch(cancel, solver.stop_search):
        status = solver.solve(model, _Cb() if report is not None else None)
    has_sol = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    values = np.asarray([solver.value(x) for x in xs], dtype=np.float64) if has_sol else None
    objv = float(mip.objective @ values) + mip.offset if values is not None else float("nan")
    if feasibility_only or not len(nz):
        bound = objv if has_sol else float("nan")
    else:
        bound = float(solver.best_objective_bound) + mip.offset
    mip_status = status_of(
        optimal=status == cp_model.OPTIMAL,
        infeasible=status == cp_model.INFEASIBLE,
        has_solution=values is not None,
    )
    return MipResult(mip_status, objv, bound, values, backend="cp-sat")
