"""MathOpt adapters: a :class:`SparseMip` as a ``ModelProto``, a :class:`MatrixMip` on SCIP.

Called through :func:`planner.models._mip.solve_mip`, which picks the adapter; the CFLP
calls :func:`solve_arrays` (its SCIP / CP-SAT path) directly.
"""

from __future__ import annotations

import datetime
import math
import time

import numpy as np
import scipy.sparse as sp
from ortools.math_opt.python import mathopt
from ortools.util.python import solve_interrupter

from planner.models._base import BoolArray, CancelToken, FloatArray
from planner.models._mip._model import (
    HighsResult,
    MatrixMip,
    MipBackend,
    MipResult,
    MipStatus,
    SparseMip,
    cancel_watch,
    status_of,
)

_SOLVER_TYPES = {
    "highs": mathopt.SolverType.HIGHS,
    "scip": mathopt.SolverType.GSCIP,
    "cp-sat": mathopt.SolverType.CP_SAT,
}
_OVERRUN_GRACE_S = 1.0
INF = float("inf")


def solve_sparse(
    mip: SparseMip,
    *,
    backend: MipBackend = "highs",
    time_limit_s: float = 60.0,
    gap_tolerance: float = 1e-6,
    seed: int = 0,
    hint: FloatArray | None = None,
    cutoff: float | None = None,
    cancel: CancelToken | None = None,
    threads: int = 1,
) -> MipResult:
    """Solve a :class:`SparseMip` through MathOpt (``ModelProto``) on any backend.

    Parameters
    ----------
    mip
        The model.
    backend
        ``"highs"``, ``"scip"`` or ``"cp-sat"``.
    time_limit_s
        Wall-clock limit for the solver.
    gap_tolerance
        Relative gap at which the solver may stop.
    seed
        Random seed handed to the solver.
    hint
        A (feasible) value per variable to start from; ignored by solvers that cannot use it.
    cutoff
        Only look for solutions strictly better than this; ``"infeasible"`` then means none
        exists.
    cancel
        Token polled while the solver runs; cancellation interrupts it.
    threads
        Worker threads for solvers that accept the setting (HiGHS runs on its default).

    Returns
    -------
    result
        Status, objective, bound and values.
    """
    start = time.perf_counter()
    all_int = backend == "cp-sat"
    try:
        model = mathopt.Model.from_model_proto(mip.to_proto(all_integer=all_int))
    except Exception as exc:  # noqa: BLE001 -- any conversion failure becomes an error result
        return MipResult(
            "error",
            float("nan"),
            float("nan"),
            None,
            time.perf_counter() - start,
            f"model conversion failed: {exc}",
            backend,
        )
    params = mathopt.SolveParameters(
        time_limit=datetime.timedelta(seconds=max(time_limit_s, 0.01)),
        relative_gap_tolerance=gap_tolerance,
        absolute_gap_tolerance=0.0 if gap_tolerance == 0 else None,
        random_seed=seed,
        cutoff_limit=cutoff if backend != "cp-sat" else None,
        threads=None if backend == "highs" else threads,
    )
    model_params = None
    if hint is not None:
        lb, ub = mip.variable_bounds()
        hint = np.clip(hint, lb, ub)
        variables = list(model.variables())
        nz = np.flatnonzero(hint) if backend != "cp-sat" else np.arange(len(hint))
        if backend == "highs":  # HiGHS needs a value for every variable
            nz = np.arange(len(hint))
        hint_values = {variables[int(k)]: float(hint[k]) for k in nz}
        model_params = mathopt.ModelSolveParameters(
            solution_hints=[mathopt.SolutionHint(variable_values=hint_values)]
        )
    # Some solver phases (presolve, a long LP) do not check the time limit often enough:
    # a watcher interrupts them shortly after the deadline, and on cancellation.
    interrupter = solve_interrupter.SolveInterrupter()
    deadline = start + max(time_limit_s, 0.01) + _OVERRUN_GRACE_S
    try:
        with cancel_watch(cancel, interrupter.interrupt, deadline=deadline):
            result = mathopt.solve(
                model,
                _SOLVER_TYPES[backend],
                params=params,
                model_params=model_params,
                interrupter=interrupter,
            )
    except Exception as exc:  # noqa: BLE001 -- solver failures become an error result
        if model_params is not None:  # some backends reject hints: retry without
            return solve_sparse(
                mip,
                backend=backend,
                time_limit_s=time_limit_s - (time.perf_counter() - start),
                gap_tolerance=gap_tolerance,
                seed=seed,
                hint=None,
                cutoff=cutoff,
                cancel=cancel,
                threads=threads,
            )
        return MipResult(
            "error",
            float("nan"),
            float("nan"),
            None,
            time.perf_counter() - start,
            f"{backend} failed: {exc!r}",
            backend,
        )
    runtime_s = time.perf_counter() - start
    reason = result.termination.reason
    bound = float(result.termination.objective_bounds.dual_bound)
    values: FloatArray | None = None
    objective = float("nan")
    if result.has_primal_feasible_solution():
        proto = result.to_proto()
        sparse = proto.solutions[0].primal_solution.variable_values
        values = np.zeros(mip.n_variables)
        values[np.asarray(sparse.ids, dtype=np.int64)] = np.asarray(sparse.values)
        objective = float(result.objective_value())
    detail = str(result.termination.detail)
    status: MipStatus
    if reason == mathopt.TerminationReason.OPTIMAL:
        status = "optimal"
    elif reason in (
        mathopt.TerminationReason.INFEASIBLE,
        mathopt.TerminationReason.INFEASIBLE_OR_UNBOUNDED,  # our models are bounded
    ):
        status = "infeasible"
    elif reason == mathopt.TerminationReason.FEASIBLE:
        status = "feasible"
    elif reason == mathopt.TerminationReason.NO_SOLUTION_FOUND:
        limit = result.termination.limit
        cut = cutoff is not None and getattr(limit, "name", "") in ("CUTOFF", "OBJECTIVE")
        status = "infeasible" if cut else "no_solution"
    else:
        status = "feasible" if values is not None else "error"
    return MipResult(status, objective, bound, values, runtime_s, detail, backend)


def solve_matrix_scip(
    mip: MatrixMip,
    *,
    time_limit_s: float,
    gap_tolerance: float,
    seed: int,
    cancel: CancelToken | None,
    hint: FloatArray | None,
    feasibility_only: bool,
) -> MipResult:
    """Solve a :class:`MatrixMip` with SCIP, building the MathOpt model row by row.

    Parameters
    ----------
    mip
        The model.
    time_limit_s
        Wall-clock limit.
    gap_tolerance
        Relative gap at which SCIP may stop.
    seed
        Random seed.
    cancel
        Token that interrupts the solve.
    hint
        Starting solution (all columns).
    feasibility_only
        Stop at the first solution.

    Returns
    -------
    result
        Status, objective, bound and values.
    """
    model = mathopt.Model(name="coverage")
    xs = [
        model.add_variable(
            lb=float(mip.lower[j]),
            ub=float(mip.upper[j]),
            is_integer=bool(mip.integer[j]),
            name=f"x[{j}]",
        )
        for j in range(mip.n_cols)
    ]
    a = mip.matrix.tocsr()
    for r in range(a.shape[0]):
        lo, hi = a.indptr[r], a.indptr[r + 1]
        expr = mathopt.fast_sum(
            float(v) * xs[int(j)] for j, v in zip(a.indices[lo:hi], a.data[lo:hi], strict=True)
        )
        model.add_linear_constraint(
            lb=float(mip.row_lower[r]), ub=float(mip.row_upper[r]), expr=expr
        )
    nz = np.flatnonzero(mip.objective)
    obj = mathopt.fast_sum(float(mip.objective[j]) * xs[int(j)] for j in nz) + mip.offset
    if mip.maximise:
        model.maximize(obj)
    else:
        model.minimize(obj)
    params = mathopt.SolveParameters(
        time_limit=datetime.timedelta(seconds=time_limit_s),
        random_seed=int(seed) % (2**31 - 1),
        relative_gap_tolerance=float(gap_tolerance),
        threads=1,
        solution_limit=1 if feasibility_only else None,
    )
    model_params = mathopt.ModelSolveParameters()
    if hint is not None:
        model_params = mathopt.ModelSolveParameters(
            solution_hints=[
                mathopt.SolutionHint(
                    variable_values={xs[j]: float(hint[j]) for j in range(mip.n_cols)}
                )
            ]
        )
    interrupter = solve_interrupter.SolveInterrupter()
    with cancel_watch(cancel, interrupter.interrupt):
        result = mathopt.solve(
            model,
            mathopt.SolverType.GSCIP,
            params=params,
            model_params=model_params,
            interrupter=interrupter,
        )
    reason = result.termination.reason
    infeasible = reason == mathopt.TerminationReason.INFEASIBLE
    has_sol = result.has_primal_feasible_solution()
    values = (
        np.asarray([result.variable_values(x) for x in xs], dtype=np.float64) if has_sol else None
    )
    objv = float(result.objective_value()) if has_sol else float("nan")
    bound = float(result.termination.objective_bounds.dual_bound)
    if not np.isfinite(bound):
        bound = float("nan")
    optimal = reason == mathopt.TerminationReason.OPTIMAL
    status = status_of(optimal=optimal, infeasible=infeasible, has_solution=values is not None)
    return MipResult(status, objv, bound, values, backend="scip")


def solve_arrays(
    *,
    cost: FloatArray,
    matrix: sp.csc_matrix,
    row_lo: FloatArray,
    row_hi: FloatArray,
    col_lo: FloatArray,
    col_hi: FloatArray,
    integer: BoolArray,
    names: list[str],
    solver: str,
    time_limit_s: float,
    rel_gap: float,
    abs_gap: float,
    seed: int,
    start: FloatArray | None,
) -> HighsResult:
    """Solve ``min cost x, row_lo <= A x <= row_hi, col_lo <= x <= col_hi`` through MathOpt.

    The CFLP's SCIP / CP-SAT path; the model is built row by row from the CSC matrix.

    Parameters
    ----------
    cost
        Objective coefficients.
    matrix
        Constraint matrix (CSC).
    row_lo, row_hi
        Row bounds.
    col_lo, col_hi
        Column bounds.
    integer
        Integrality per column.
    names
        Variable names.
    solver
        ``"scip"`` or ``"cp-sat"`` (CP-SAT needs every column integer).
    time_limit_s
        Wall-clock limit.
    rel_gap, abs_gap
        Gap tolerances.
    seed
        Random seed.
    start
        Solution hint.

    Returns
    -------
    result
        Outcome in the same shape as the HiGHS one.
    """
    mo = mathopt.Model(name="cflp")
    xs = [
        mo.add_variable(
            lb=float(col_lo[k]),
            ub=float(col_hi[k]),
            is_integer=bool(integer[k]),
            name=names[k],
        )
        for k in range(len(cost))
    ]
    csr = matrix.tocsr()
    for r in range(csr.shape[0]):
        lo_, hi_ = csr.indptr[r], csr.indptr[r + 1]
        expr = mathopt.fast_sum(
            float(v) * xs[int(c)]
            for c, v in zip(csr.indices[lo_:hi_], csr.data[lo_:hi_], strict=True)
        )
        mo.add_linear_constraint(
            lb=float(row_lo[r]) if np.isfinite(row_lo[r]) else -math.inf,
            ub=float(row_hi[r]) if np.isfinite(row_hi[r]) else math.inf,
            expr=expr,
        )
    mo.minimize(mathopt.fast_sum(float(c) * v for c, v in zip(cost, xs, strict=True)))
    params = mathopt.SolveParameters(
        time_limit=datetime.timedelta(seconds=max(time_limit_s, 0.01)),
        relative_gap_tolerance=rel_gap,
        absolute_gap_tolerance=abs_gap,
        random_seed=int(seed) % 2_147_483_647,
        threads=1,
    )
    model_params = mathopt.ModelSolveParameters()
    if start is not None:
        hint = mathopt.SolutionHint(
            variable_values={v: float(val) for v, val in zip(xs, start, strict=True)}
        )
        model_params = mathopt.ModelSolveParameters(solution_hints=[hint])
    stype = mathopt.SolverType.GSCIP if solver == "scip" else mathopt.SolverType.CP_SAT
    res = mathopt.solve(mo, stype, params=params, model_params=model_params)
    reason = res.termination.reason
    tr = mathopt.TerminationReason
    if reason == tr.OPTIMAL:
        status = "optimal"
    elif reason in (tr.INFEASIBLE, tr.INFEASIBLE_OR_UNBOUNDED):
        status = "infeasible"
    elif reason in (tr.FEASIBLE, tr.NO_SOLUTION_FOUND):
        status = "limit"
    else:
        status = "error"
    has = res.has_primal_feasible_solution()
    x = np.array([res.variable_values(v) for v in xs]) if has else np.empty(0)
    objective = float(res.objective_value()) if has else INF
    bound = float(res.termination.objective_bounds.dual_bound)
    if status == "infeasible":
        bound = INF
    return HighsResult(status=status, objective=objective, bound=bound, x=x, row_dual=np.empty(0))
