"""HiGHS through its direct API (highspy): the matrix models and the CFLP LPs and MIPs.

MathOpt adds a model-building layer in Python per variable; passing a CSR/CSC matrix straight
to HiGHS with ``passModel`` is much faster for models with 10^5 columns (measured: building
the CFLP MIP with MathOpt takes seconds, with ``passModel`` milliseconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from planner.models._base import CancelToken, FloatArray, IntArray
from planner.models._mip._model import HighsResult, MatrixMip, MipResult, cancel_watch, status_of

INF = float("inf")
_BOUND_REPORT_EVERY_S = 1.0


def _finite_or_inf(x: FloatArray, inf: float) -> FloatArray:
    return np.nan_to_num(np.asarray(x, dtype=np.float64), posinf=inf, neginf=-inf)


def _run(h: highspy.Highs) -> None:
    """Run HiGHS; if the one-thread setting is refused, run on the process's thread pool.

    HiGHS keeps one thread scheduler per process: once any solve (MathOpt's HiGHS, an earlier
    model in the same app process) has started it with more threads, ``threads = 1`` makes
    ``run`` fail without a solution (status ``kNotset``). ``threads = 0`` accepts the pool.
    """
    h.run()
    if h.getModelStatus() == highspy.HighsModelStatus.kNotset:
        h.setOptionValue("threads", 0)
        h.run()


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

    last_report = [time.perf_counter()]

    def callback(kind: int, _msg: str, data_out: Any, data_in: Any, _user: Any) -> None:  # noqa: ANN401
        if kind == int(highspy.cb.HighsCallbackType.kCallbackMipInterrupt):
            if cancel is not None and cancel.cancelled:
                data_in.user_interrupt = True
            now = time.perf_counter()
            if report is not None and now - last_report[0] >= _BOUND_REPORT_EVERY_S:
                # the dual bound also moves between improving solutions (cuts, branching)
                last_report[0] = now
                primal, dual = float(data_out.mip_primal_bound), float(data_out.mip_dual_bound)
                report(primal if np.isfinite(primal) else None, dual if np.isfinite(dual) else None)
        elif report is not None:
            report(float(data_out.objective_function_value), float(data_out.mip_dual_bound))

    if has_int and (cancel is not None or report is not None):
        h.setCallback(callback, None)  # type: ignore[arg-type]
        h.startCallback(highspy.cb.HighsCallbackType.kCallbackMipInterrupt)
        h.startCallback(highspy.cb.HighsCallbackType.kCallbackMipImprovingSolution)
    _run(h)
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


CutRows = tuple[FloatArray, FloatArray, IntArray, IntArray, FloatArray]
"""New rows ``lower <= A x <= upper`` in COO form: (lower, upper, rows, cols, coefs)."""


@dataclass(frozen=True, eq=False)
class CutLoopResult:
    """Result of :func:`lp_cut_loop`.

    Parameters
    ----------
    status
        ``"optimal"`` (no violated row left), ``"stopped"`` (time, cancellation or the round
        limit; ``objective`` is still a valid bound of the last LP solved to optimality) or
        ``"error"`` (no LP solved).
    objective
        Optimal value of the last LP solved (a lower bound of the MIP when minimising).
    values
        Its solution.
    first_values
        The solution of the first LP (before any row was added).
    cuts
        Every row added, as one :data:`CutRows` block.
    rounds
        LPs solved.
    reduced_costs
        Column reduced costs of the last LP solved (for :func:`reduced_cost_bounds`).
    """

    status: str
    objective: float
    values: FloatArray | None
    first_values: FloatArray | None
    cuts: CutRows
    rounds: int
    reduced_costs: FloatArray | None = None


def lp_cut_loop(
    mip: MatrixMip,
    separate: Callable[[FloatArray], CutRows | None],
    *,
    time_limit_s: float,
    cancel: CancelToken | None = None,
    max_rounds: int = 20,
    min_relative_gain: float = 0.0,
    report: Callable[[float], None] | None = None,
) -> CutLoopResult:
    """Solve the LP relaxation, add the rows ``separate`` finds violated, re-solve warm.

    Parameters
    ----------
    mip
        The model (integrality is dropped).
    separate
        Given an LP solution, the violated valid rows (``None`` or empty: none).
    time_limit_s
        Wall-clock limit for the whole loop.
    cancel
        Token checked between rounds.
    max_rounds
        Most LPs solved.
    min_relative_gain
        Stop once a round's cut rows raised the LP value by less than this share of it
        (tailing off: later rounds would cost an LP each for little bound).
    report
        Called with each LP's optimal value.

    Returns
    -------
    result
        Bound, LP solution and the rows added.
    """
    start = time.perf_counter()
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.silent()
    h.setOptionValue("threads", 1)
    _pass_to_highs(h, mip, relax=True)
    inf = float(h.getInfinity())
    added: list[CutRows] = []
    objective, status, rounds, n_rows = float("nan"), "error", 0, mip.matrix.shape[0]
    values: FloatArray | None = None
    first: FloatArray | None = None
    duals: FloatArray | None = None
    while rounds < max_rounds:
        left = time_limit_s - (time.perf_counter() - start)
        if left <= 0 or (cancel is not None and cancel.cancelled):
            break
        # HiGHS's time limit counts the run time of every solve of this instance so far.
        h.setOptionValue("time_limit", float(h.getRunTime()) + float(left))
        _run(h)
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        rounds += 1
        previous, objective = objective, float(h.getInfo().objective_function_value) + 0.0
        sol = h.getSolution()
        values = np.asarray(sol.col_value, dtype=np.float64)
        duals = np.asarray(sol.col_dual, dtype=np.float64) if sol.dual_valid else None
        first = values if first is None else first
        status = "stopped"
        if report is not None:
            report(objective)
        # Later rounds start from this basis: presolve would discard it and start over.
        h.setOptionValue("presolve", "off")
        # nan in the first round, which never stops the loop.
        gain = (previous - objective) if mip.maximise else (objective - previous)
        if gain < min_relative_gain * abs(objective):
            break
        cut = separate(values)
        if cut is None or not len(cut[0]):
            status = "optimal"
            break
        lo, hi, rows, cols, coefs = cut
        a = sp.csr_matrix((coefs, (rows, cols)), shape=(len(lo), mip.n_cols))
        h.addRows(
            len(lo), _finite_or_inf(lo, inf), _finite_or_inf(hi, inf), int(a.nnz),
            a.indptr.astype(np.int32), a.indices.astype(np.int32), a.data.astype(np.float64),
        )  # fmt: skip
        added.append((lo, hi, rows + (n_rows - mip.matrix.shape[0]), cols, coefs))
        n_rows += len(lo)
    if added:
        cuts: CutRows = tuple(np.concatenate(parts) for parts in zip(*added, strict=True))  # type: ignore[assignment]
    else:
        empty_i = np.zeros(0, dtype=np.int64)
        cuts = (np.zeros(0), np.zeros(0), empty_i, empty_i, np.zeros(0))
    return CutLoopResult(status, objective, values, first, cuts, rounds, duals)


class WarmLp:
    """An LP relaxation kept loaded in HiGHS and re-solved from its last basis.

    Between solves only column bounds change (:meth:`solve`), so the dual simplex starts
    from the previous optimal basis instead of loading and presolving the model again: the
    two-echelon local search re-balances hundreds of plans that differ from the last one in
    a few integer columns.

    Parameters
    ----------
    mip
        The model; integrality is dropped.
    """

    def __init__(self, mip: MatrixMip) -> None:
        self._h = highspy.Highs()  # type: ignore[no-untyped-call]
        self._h.silent()
        self._h.setOptionValue("threads", 1)
        _pass_to_highs(self._h, mip, relax=True)
        self._inf = float(self._h.getInfinity())

    def solve(
        self, cols: IntArray, lower: FloatArray, upper: FloatArray, *, time_limit_s: float
    ) -> MipResult:
        """Set the bounds of columns ``cols`` and re-solve.

        Parameters
        ----------
        cols
            Columns whose bounds change (the others keep theirs from earlier calls).
        lower, upper
            Their new bounds.
        time_limit_s
            Limit of this solve.

        Returns
        -------
        result
            ``"optimal"`` with the LP solution, else ``"infeasible"`` / ``"no_solution"``.
        """
        h = self._h
        idx = np.asarray(cols, dtype=np.int32)
        h.changeColsBounds(
            len(idx), idx, _finite_or_inf(lower, self._inf), _finite_or_inf(upper, self._inf)
        )
        start = time.perf_counter()
        h.setOptionValue("time_limit", float(h.getRunTime()) + max(float(time_limit_s), 0.01))
        _run(h)
        model_status = h.getModelStatus()
        # Later solves start from this basis: presolve would discard it.
        h.setOptionValue("presolve", "off")
        runtime = time.perf_counter() - start
        if model_status != highspy.HighsModelStatus.kOptimal:
            infeasible = model_status == highspy.HighsModelStatus.kInfeasible
            status = status_of(optimal=False, infeasible=infeasible, has_solution=False)
            return MipResult(status, float("nan"), float("nan"), None, runtime, backend="highs")
        objective = float(h.getInfo().objective_function_value) + 0.0
        values = np.asarray(h.getSolution().col_value, dtype=np.float64)
        return MipResult("optimal", objective, objective, values, runtime, backend="highs")


def reduced_cost_bounds(
    mip: MatrixMip,
    reduced_costs: FloatArray,
    lp_objective: float,
    cutoff: float,
    *,
    tolerance: float = 1e-7,
) -> tuple[FloatArray, FloatArray]:
    """Tighten integer column bounds by reduced-cost fixing (minimisation only).

    For an optimal LP relaxation with value ``z`` and reduced costs ``d``, every feasible
    point satisfies ``c x >= z + d_j (x_j - lower_j)`` when ``d_j > 0`` (the column sits at
    its lower bound) and ``c x >= z + d_j (x_j - upper_j)`` when ``d_j < 0``. A solution no
    worse than ``cutoff`` (an incumbent's value) therefore keeps each integer column within
    ``floor((cutoff - z) / |d_j|)`` of the bound the LP puts it at. Every solution of value
    ``<= cutoff`` stays feasible, so the tightened MIP's bound, capped at ``cutoff``, is a
    bound of the original MIP.

    Parameters
    ----------
    mip
        The model the LP relaxed (same columns and the rows that LP had, or fewer).
    reduced_costs
        Column reduced costs of the optimal LP.
    lp_objective
        Its optimal value.
    cutoff
        Value of a known feasible solution (same units as the objective).
    tolerance
        Reduced costs below ``tolerance * max(1, |cutoff|)`` in magnitude are ignored, and
        the allowed slack is widened by the same amount (HiGHS's duals are inexact).

    Returns
    -------
    lower, upper
        The tightened column bounds (copies; unchanged for a maximisation or no slack).
    """
    lower, upper = mip.lower.copy(), mip.upper.copy()
    slack = cutoff - lp_objective
    if mip.maximise or not np.isfinite(slack) or slack < 0:
        return lower, upper
    eps = tolerance * max(1.0, abs(cutoff))
    allowed = slack + eps
    d = np.asarray(reduced_costs, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.floor(allowed / np.abs(d))
    up = mip.integer & (d > eps) & np.isfinite(lower)
    upper[up] = np.minimum(upper[up], lower[up] + steps[up])
    down = mip.integer & (d < -eps) & np.isfinite(upper)
    lower[down] = np.maximum(lower[down], upper[down] - steps[down])
    return lower, upper


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
        _run(h)
    sol = h.getSolution()
    return (
        np.asarray(sol.row_dual, dtype=np.float64),
        np.asarray(sol.col_value, dtype=np.float64),
    )


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
    _run(h)
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
