"""HiGHS through its direct API (highspy): the matrix models and the CFLP LPs and MIPs.

MathOpt adds a model-building layer in Python per variable; passing a CSR/CSC matrix straight
to HiGHS with ``passModel`` is much faster for models with 10^5 columns (measured: building
the CFLP MIP with MathOpt takes seconds, with ``passModel`` milliseconds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import highspy
import numpy as np

from planner.models._base import CancelToken, FloatArray
from planner.models._mip._model import MatrixMip, MipResult, cancel_watch, status_of


def _finite_or_inf(x: FloatArray, inf: float) -> FloatArray:
    return np.nan_to_num(np.asarray(x, dtype=np.float64), posinf=inf, neginf=-inf)


def _pass_to_highs(h: highspy.Highs, mip: MatrixMip, *, relax: bool = False) -> None:
    """Load a matrix MIP (``relax``: its LP relaxation) into a HiGHS instance, row-wise."""
    inf = float(h.getInfinity())
    a = mip.matrix.tocsr()
    integer = np.zeros(mip.n_cols, dtype=np.int32) if relax else mip.integer.astype(np.int32)
    h.passModel(
        int(mip.n_cols),
        int(a.shape[0]),
        int(a.nnz),
        2,  # row-wise
        -1 if mip.maximise else 1,
        float(mip.offset),
        np.ascontiguousarray(mip.objective, dtype=np.float64),
        _finite_or_inf(mip.lower, inf),
        _finite_or_inf(mip.upper, inf),
        _finite_or_inf(mip.row_lower, inf),
        _finite_or_inf(mip.row_upper, inf),
        a.indptr.astype(np.int32),
        a.indices.astype(np.int32),
        a.data.astype(np.float64),
        integer,
    )


def solve_matrix_highs(
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
    """Solve a :class:`MatrixMip` (or its LP) with HiGHS through ``passModel``, one thread.

    Parameters
    ----------
    mip
        The model.
    time_limit_s
        Wall-clock limit.
    gap_tolerance
        Relative MIP gap at which HiGHS may stop.
    seed
        Random seed.
    cancel
        Token polled from the MIP callback.
    hint
        Starting solution (all columns).
    feasibility_only
        Stop at the first improving solution.
    report
        Called with (incumbent, bound) whenever HiGHS improves.

    Returns
    -------
    result
        Status, objective, bound and values (for an LP the bound is the optimum).
    """
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.silent()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("random_seed", int(seed) % (2**31 - 1))
    h.setOptionValue("mip_rel_gap", float(gap_tolerance))
    h.setOptionValue("threads", 1)
    if feasibility_only:
        h.setOptionValue("mip_max_improving_sols", 1)
    _pass_to_highs(h, mip)
    if hint is not None:
        h.setSolution(
            int(mip.n_cols), np.arange(mip.n_cols, dtype=np.int32), hint.astype(np.float64)
        )
    has_int = bool(mip.integer.any())

    def callback(kind: int, _msg: str, data_out: Any, data_in: Any, _user: Any) -> None:  # noqa: ANN401
        if kind == int(highspy.cb.HighsCallbackType.kCallbackMipInterrupt):
            if cancel is not None and cancel.cancelled:
                data_in.user_interrupt = True
        elif report is not None:
            report(float(data_out.objective_function_value), float(data_out.mip_dual_bound))

    if has_int and (cancel is not None or report is not None):
        h.setCallback(callback, None)  # type: ignore[arg-type]
        h.startCallback(highspy.cb.HighsCallbackType.kCallbackMipInterrupt)
        h.startCallback(highspy.cb.HighsCallbackType.kCallbackMipImprovingSolution)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    ms = highspy.HighsModelStatus
    infeasible = status == ms.kInfeasible
    has_sol = int(info.primal_solution_status) == 2  # noqa: PLR2004 (kSolutionStatusFeasible)
    values = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_sol else None
    obj = float(info.objective_function_value) if has_sol else float("nan")
    if has_int:
        bound = float(info.mip_dual_bound)
        if not np.isfinite(bound):
            bound = float("nan")
    else:
        bound = obj if status == ms.kOptimal else float("nan")
    optimal = status == ms.kOptimal
    if optimal and has_int and not np.isfinite(bound):
        bound = obj
    mip_status = status_of(optimal=optimal, infeasible=infeasible, has_solution=values is not None)
    return MipResult(mip_status, obj, bound, values, backend="highs")


def pdlp_solution(
    mip: MatrixMip, *, time_limit_s: float, cancel: CancelToken | None
) -> tuple[FloatArray, FloatArray]:
    """Solve the LP relaxation of a :class:`MatrixMip` with HiGHS PDLP at loose tolerance.

    First-order and fast on wide sparse LPs, but inexact: callers use the duals only to
    build a bound that is valid for any multipliers (see
    :func:`planner.models._mclp_core.mclp_dual_bound`).

    Parameters
    ----------
    mip
        The model (its integrality is ignored).
    time_limit_s
        Wall-clock limit.
    cancel
        Token that cancels the solve.

    Returns
    -------
    row_dual, col_value
        Row duals and column values of the last PDLP iterate.
    """
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.silent()
    _pass_to_highs(h, mip, relax=True)
    h.setOptionValue("solver", "pdlp")
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("pdlp_d_gap_tol", 1e-3)
    h.setOptionValue("primal_feasibility_tolerance", 1e-4)
    h.setOptionValue("dual_feasibility_tolerance", 1e-4)
    with cancel_watch(cancel, h.cancelSolve):
        h.run()
    sol = h.getSolution()
    return (
        np.asarray(sol.row_dual, dtype=np.float64),
        np.asarray(sol.col_value, dtype=np.float64),
    )
