"""The one MIP adapter layer of the models: build a MIP from numpy arrays, solve it, read it.

Every exact model hands its MIP to :func:`solve_mip` and reads a :class:`MipResult`:

* a :class:`SparseMip` (numpy blocks, COO) is written as a MathOpt ``ModelProto`` and solved
  by HiGHS, SCIP or CP-SAT through MathOpt (:mod:`._mathopt`); p-median. The two-echelon
  model turns its :class:`SparseMip` into a :class:`MatrixMip` (:meth:`SparseMip.to_matrix`)
  for HiGHS: faster to load, and HiGHS reports incumbent and bound while it runs;
* a :class:`MatrixMip` (finished CSR model) goes to HiGHS through ``passModel``
  (:mod:`._highs`), to SCIP through MathOpt, or to CP-SAT's own API (:mod:`._cpsat`);
  MCLP, set covering and p-center.

Which path a model takes is part of its measured behaviour (speed, tie-breaking), so the two
model types are kept; the options, the cancellation watcher and the result are shared.
:func:`lp_cut_loop` solves an LP relaxation, adds the rows a separation callback finds
violated and re-solves warm (the two-echelon bound); :class:`WarmLp` re-solves an LP warm
after column-bound changes (the two-echelon local search).
The CFLP's array-based LP/MIP calls go to :func:`planner.models._mip._highs.solve_highs`
(HiGHS; also the LP row duals of its transportation LPs) and
:func:`planner.models._mip._mathopt.solve_arrays` (SCIP, CP-SAT) and return a
:class:`HighsResult`. Merging them into :func:`solve_mip` would change the CFLP's measured
paths: its SCIP call sets an absolute gap that the matrix adapter does not, and its CP-SAT
call goes through MathOpt (default workers) rather than the 8-worker ``cp_model`` portfolio.

Example::

    mip = SparseMip()
    y = mip.add_variables(3, upper=1.0, integer=True, objective=[4.0, 2.0, 3.0], name="y")
    mip.add_constraints(lower=[2.0], upper=[2.0], rows=[0, 0, 0], cols=y, coefs=[1.0] * 3)
    result = solve_mip(mip, backend="highs", time_limit_s=5.0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypedDict

import numpy as np

from planner.models._base import CancelToken, Clock, FloatArray
from planner.models._mip._cpsat import solve_matrix_cpsat
from planner.models._mip._highs import (
    CutLoopResult,
    CutRows,
    WarmLp,
    lp_cut_loop,
    reduced_cost_bounds,
    solve_matrix_highs,
)
from planner.models._mip._mathopt import solve_matrix_scip, solve_sparse
from planner.models._mip._model import (
    HighsResult,
    MatrixMip,
    MipBackend,
    MipResult,
    MipStatus,
    SparseMip,
    cancel_watch,
)

__all__ = [
    "ClockLimits",
    "CutLoopResult",
    "CutRows",
    "HighsResult",
    "MatrixMip",
    "MipBackend",
    "MipResult",
    "MipStatus",
    "SparseMip",
    "WarmLp",
    "cancel_watch",
    "clock_limits",
    "lp_bound",
    "lp_cut_loop",
    "reduced_cost_bounds",
    "solve_mip",
]


class ClockLimits(TypedDict):
    """The solve options of one MIP call inside a model's solve (see :func:`clock_limits`)."""

    time_limit_s: float
    gap_tolerance: float
    seed: int
    cancel: CancelToken | None


def clock_limits(clock: Clock, time_limit_s: float, *, keep_margin: bool = True) -> ClockLimits:
    """Return the keyword options of a MIP call made within a model's solve.

    Parameters
    ----------
    clock
        The solve's deadline and options (gap, seed, cancel).
    time_limit_s
        Budget wanted for this call.
    keep_margin
        Stop a little before the deadline (3 % of the limit, at most 1 s) to keep time for the
        final assignment.

    Returns
    -------
    limits
        ``time_limit_s``, ``gap_tolerance``, ``seed`` and ``cancel`` for :func:`solve_mip`.
    """
    opts = clock.options
    if keep_margin:
        margin = min(1.0, 0.03 * opts.time_limit_s)
        limit = max(0.01, min(time_limit_s, clock.remaining_s - margin))
    else:
        limit = max(0.01, time_limit_s)
    return ClockLimits(
        time_limit_s=limit,
        gap_tolerance=float(opts.gap_tolerance),
        seed=int(opts.seed),
        cancel=opts.cancel,
    )


def solve_mip(
    mip: SparseMip | MatrixMip,
    *,
    backend: MipBackend | str = "highs",
    time_limit_s: float = 60.0,
    gap_tolerance: float = 1e-6,
    seed: int = 0,
    hint: FloatArray | None = None,
    cancel: CancelToken | None = None,
    cutoff: float | None = None,
    threads: int = 1,
    feasibility_only: bool = False,
    report: Callable[[float | None, float | None], None] | None = None,
) -> MipResult:
    """Solve a MIP on ``"highs"``, ``"scip"`` or ``"cp-sat"``; never raises on a limit.

    Parameters
    ----------
    mip
        The model (see the module docstring for the adapter each type takes).
    backend
        Which solver.
    time_limit_s
        Wall-clock limit for the solver.
    gap_tolerance
        Relative gap at which the solver may stop.
    seed
        Random seed handed to the solver.
    hint
        A (feasible) value per variable to start from.
    cancel
        Token polled while the solver runs; cancellation interrupts it.
    cutoff
        :class:`SparseMip` only: look for solutions strictly better than this;
        ``"infeasible"`` then means none exists.
    threads
        :class:`SparseMip` only: worker threads where the solver accepts the setting
        (HiGHS runs on its default). The matrix adapters run HiGHS and SCIP on one thread
        and CP-SAT on its 8-worker portfolio.
    feasibility_only
        :class:`MatrixMip` only: stop at the first feasible solution.
    report
        :class:`MatrixMip` only (HiGHS, CP-SAT): called with (incumbent, bound) as the
        solver improves.

    Returns
    -------
    result
        Status, objective, bound and values.

    Raises
    ------
    ValueError
        For an unknown backend.
    """
    if backend not in ("highs", "scip", "cp-sat"):
        msg = f"unknown MIP backend {backend!r}; use 'highs', 'scip' or 'cp-sat'."
        raise ValueError(msg)
    if isinstance(mip, SparseMip):
        return solve_sparse(
            mip,
            backend=backend,
            time_limit_s=time_limit_s,
            gap_tolerance=gap_tolerance,
            seed=seed,
            hint=hint,
            cutoff=cutoff,
            cancel=cancel,
            threads=threads,
        )
    if backend == "scip":
        return solve_matrix_scip(
            mip,
            time_limit_s=time_limit_s,
            gap_tolerance=gap_tolerance,
            seed=seed,
            cancel=cancel,
            hint=hint,
            feasibility_only=feasibility_only,
        )
    engine = solve_matrix_highs if backend == "highs" else solve_matrix_cpsat
    return engine(
        mip,
        time_limit_s=time_limit_s,
        gap_tolerance=gap_tolerance,
        seed=seed,
        cancel=cancel,
        hint=hint,
        feasibility_only=feasibility_only,
        report=report,
    )


def lp_bound(
    mip: MatrixMip,
    *,
    time_limit_s: float,
    gap_tolerance: float = 1e-6,
    seed: int = 0,
    cancel: CancelToken | None = None,
) -> float:
    """Return the LP-relaxation bound of a :class:`MatrixMip` (``nan`` if not solved in time).

    Parameters
    ----------
    mip
        The model.
    time_limit_s
        Time budget.
    gap_tolerance, seed, cancel
        As for :func:`solve_mip` (an LP has no gap and no callback to cancel from).

    Returns
    -------
    bound
        Optimal LP value including the offset.
    """
    relaxed = replace(mip, integer=np.zeros(mip.n_cols, dtype=np.bool_))
    res = solve_matrix_highs(
        relaxed,
        time_limit_s=max(0.01, time_limit_s),
        gap_tolerance=gap_tolerance,
        seed=seed,
        cancel=cancel,
        hint=None,
        feasibility_only=False,
        report=None,
    )
    return res.bound if res.optimal else float("nan")
