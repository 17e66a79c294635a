"""Thin wrapper around the direct HiGHS API (highspy) for the CFLP LPs and MIPs.

MathOpt adds a model-building layer in Python per variable; for the transportation LPs the
CFLP evaluates many times, and for MIPs with 10^5 columns, passing a CSC matrix straight to
HiGHS is much faster (measured: building the capa MIP with MathOpt takes seconds, with
``passModel`` milliseconds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from planner.models._base import FloatArray

INF = float("inf")


@dataclass(frozen=True)
class HighsResult:
    """Outcome of one HiGHS run.

    Parameters
    ----------
    status
        ``"optimal"``, ``"infeasible"``, ``"limit"`` (time or interrupt) or ``"error"``.
    objective
        Objective of the best solution (``inf`` if none).
    bound
        Proven lower bound (MIP dual bound or LP optimum; ``-inf`` if none).
    x
        Column values of the best solution (empty if none).
    row_dual
        Row duals (LPs only; empty otherwise).
    nodes
        Branch-and-bound nodes (MIPs).
    """

    status: str
    objective: float
    bound: float
    x: FloatArray
    row_dual: FloatArray
    nodes: int = 0


def solve_highs(  # noqa: PLR0915
    *,
    cost: FloatArray,
    matrix: sp.csc_array | sp.csc_matrix,
    row_lo: FloatArray,
    row_hi: FloatArray,
    col_lo: FloatArray,
    col_hi: FloatArray,
    integer: np.ndarray[Any, np.dtype[np.bool_]] | None = None,
    time_limit_s: float = INF,
    rel_gap: float = 1e-6,
    abs_gap: float = 1e-6,
    seed: int = 0,
    start: FloatArray | None = None,
    cutoff: float | None = None,
    on_progress: Callable[[float, float], bool] | None = None,
    threads: int = 1,
) -> HighsResult:
    """Solve ``min cost x, row_lo <= A x <= row_hi, col_lo <= x <= col_hi`` with HiGHS.

    Parameters
    ----------
    cost
        Objective coefficients.
    matrix
        Constraint matrix (CSC).
    row_lo, row_hi
        Row bounds (``-inf``/``inf`` allowed).
    col_lo, col_hi
        Column bounds.
    integer
        Integrality flag per column (``None``: an LP).
    time_limit_s
        Wall-clock limit.
    rel_gap, abs_gap
        MIP gap tolerances.
    seed
        HiGHS random seed.
    start
        A feasible solution to start from (MIP).
    cutoff
        Only look for solutions with objective below this (MIP).
    on_progress
        Called with (incumbent, bound) from MIP callbacks; return True to stop.
    threads
        HiGHS threads.

    Returns
    -------
    result
        The solution, if any, and the bound.
    """
    a = sp.csc_matrix(matrix)
    n_col = a.shape[1]
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(col_lo, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_hi, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lo, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_hi, dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    is_mip = integer is not None and bool(np.any(integer))
    if is_mip:
        assert integer is not None
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if f else highspy.HighsVarType.kContinuous
            for f in integer
        ]
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)  # noqa: FBT003
    h.setOptionValue("random_seed", int(seed) % 2_147_483_647)
    h.setOptionValue("threads", int(threads))
    if np.isfinite(time_limit_s):
        h.setOptionValue("time_limit", float(max(time_limit_s, 0.01)))
    if is_mip:
        h.setOptionValue("mip_rel_gap", float(rel_gap))
        h.setOptionValue("mip_abs_gap", float(abs_gap))
        if cutoff is not None and np.isfinite(cutoff):
            h.setOptionValue("objective_bound", float(cutoff))
    h.passModel(lp)
    if is_mip and start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(start, dtype=np.float64))
        sol.value_valid = True
        h.setSolution(sol)
    if is_mip and on_progress is not None:
        cb = on_progress

        def _interrupt(event: Any) -> None:  # noqa: ANN401
            out = event.data_out
            if cb(float(out.mip_primal_bound), float(out.mip_dual_bound)):
                event.interrupt()

        h.cbMipInterrupt.subscribe(_interrupt)
    h.run()
    status_enum = h.getModelStatus()
    ms = highspy.HighsModelStatus
    info = h.getInfo()
    sol_out = h.getSolution()
    has_x = bool(sol_out.value_valid)
    x = np.asarray(sol_out.col_value, dtype=np.float64) if has_x else np.empty(0)
    if status_enum == ms.kOptimal:
        status = "optimal"
    elif status_enum in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        status = "infeasible"
    elif status_enum in (
        ms.kTimeLimit,
        ms.kInterrupt,
        ms.kIterationLimit,
        ms.kSolutionLimit,
        ms.kObjectiveBound,
    ):
        status = "limit"
    else:
        status = "error"
    if is_mip:
        objective = float(info.objective_function_value) if has_x else INF
        bound = float(info.mip_dual_bound)
        nodes = int(info.mip_node_count)
        duals = np.empty(0)
    else:
        objective = float(info.objective_function_value) if status == "optimal" else INF
        bound = objective if status == "optimal" else -INF
        nodes = 0
        duals = (
            np.asarray(sol_out.row_dual, dtype=np.float64)
            if bool(sol_out.dual_valid)
            else np.empty(0)
        )
    if not np.isfinite(bound) and status == "infeasible":
        bound = INF
    return HighsResult(
        status=status, objective=objective, bound=bound, x=x, row_dual=duals, nodes=nodes
    )
