"""Small shared MathOpt helpers: build a sparse MIP from numpy arrays and solve it.

Building a MathOpt model one Python expression at a time costs seconds for a few hundred
thousand non-zeros, so :class:`SparseMip` collects variables and constraints as numpy
arrays and writes a ``ModelProto`` in one go. :func:`solve_mip` runs it on HiGHS, SCIP or
CP-SAT with the common options (time limit, gap, seed, hint, cutoff, cancellation) and
returns the primal values as a numpy array, whatever happened.

Any model author may import these helpers::

    mip = SparseMip()
    y = mip.add_variables(3, upper=1.0, integer=True, objective=[4.0, 2.0, 3.0], name="y")
    mip.add_constraints(lower=[2.0], upper=[2.0], rows=[0, 0, 0], cols=y, coefs=[1.0] * 3)
    result = solve_mip(mip, backend="highs", time_limit_s=5.0)
"""

from __future__ import annotations

import datetime
import threading
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from ortools.math_opt import model_pb2
from ortools.math_opt.python import mathopt
from ortools.util.python import solve_interrupter

from planner.models._base import CancelToken, FloatArray, IntArray

MipBackend = Literal["highs", "scip", "cp-sat"]
MipStatus = Literal["optimal", "feasible", "infeasible", "no_solution", "error"]

_SOLVER_TYPES = {
    "highs": mathopt.SolverType.HIGHS,
    "scip": mathopt.SolverType.GSCIP,
    "cp-sat": mathopt.SolverType.CP_SAT,
}
_CANCEL_POLL_S = 0.05
_OVERRUN_GRACE_S = 1.0


@dataclass(frozen=True, eq=False)
class MipResult:
    """Outcome of :func:`solve_mip`.

    Parameters
    ----------
    status
        ``"optimal"`` (within the gap tolerance), ``"feasible"`` (a limit stopped it with a
        solution), ``"infeasible"`` (proven; with a cutoff this means "nothing better than
        the cutoff"), ``"no_solution"`` (a limit stopped it first) or ``"error"``.
    objective
        Objective of the returned values (``nan`` without a solution).
    bound
        Best proven dual bound (``nan`` if the solver gave none).
    values
        Primal values per variable id, or ``None``.
    runtime_s
        Wall-clock seconds spent in the solver (model conversion included).
    message
        The solver's termination detail.
    """

    status: MipStatus
    objective: float
    bound: float
    values: FloatArray | None
    runtime_s: float
    message: str


class SparseMip:
    """A MIP collected as numpy arrays (variables, objective and a COO constraint matrix).

    Parameters
    ----------
    maximize
        Maximise the objective instead of minimising it.
    """

    def __init__(self, *, maximize: bool = False) -> None:
        self.maximize = maximize
        self.objective_offset = 0.0
        self._var_lb: list[FloatArray] = []
        self._var_ub: list[FloatArray] = []
        self._var_int: list[npt.NDArray[np.bool_]] = []
        self._var_obj: list[FloatArray] = []
        self._var_names: list[str] = []
        self._n_vars = 0
        self._con_lb: list[FloatArray] = []
        self._con_ub: list[FloatArray] = []
        self._rows: list[IntArray] = []
        self._cols: list[IntArray] = []
        self._coefs: list[FloatArray] = []
        self._n_cons = 0

    @property
    def n_variables(self) -> int:
        """Number of variables added so far."""
        return self._n_vars

    @property
    def n_constraints(self) -> int:
        """Number of constraints added so far."""
        return self._n_cons

    @property
    def n_nonzeros(self) -> int:
        """Number of constraint-matrix entries added so far."""
        return int(sum(len(r) for r in self._rows))

    def add_variables(
        self,
        n: int,
        *,
        lower: npt.ArrayLike = 0.0,
        upper: npt.ArrayLike = np.inf,
        integer: bool = False,
        objective: npt.ArrayLike = 0.0,
        name: str = "x",
    ) -> IntArray:
        """Add ``n`` variables and return their ids.

        Parameters
        ----------
        n
            How many variables.
        lower, upper
            Bounds (scalars or one per variable).
        integer
            Whether the variables are integer.
        objective
            Objective coefficients (scalar or one per variable).
        name
            Name prefix; variable ``k`` of this block is called ``name[k]``.

        Returns
        -------
        ids
            The new variable ids, ``n`` consecutive integers.
        """
        ids = np.arange(self._n_vars, self._n_vars + n, dtype=np.int64)
        self._var_lb.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (n,)).copy())
        self._var_ub.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (n,)).copy())
        self._var_int.append(np.full(n, integer, dtype=np.bool_))
        self._var_obj.append(np.broadcast_to(np.asarray(objective, dtype=np.float64), (n,)).copy())
        self._var_names.extend(f"{name}[{k}]" for k in range(n))
        self._n_vars += n
        return ids

    def add_constraints(
        self,
        *,
        lower: npt.ArrayLike,
        upper: npt.ArrayLike,
        rows: npt.ArrayLike,
        cols: npt.ArrayLike,
        coefs: npt.ArrayLike,
    ) -> IntArray:
        """Add a block of constraints ``lower <= A x <= upper`` given in COO form.

        Parameters
        ----------
        lower, upper
            One bound per new constraint (use ``-inf``/``inf`` for one-sided rows).
        rows
            Row of each entry, counted from 0 within this block.
        cols
            Variable id of each entry.
        coefs
            Coefficient of each entry.

        Returns
        -------
        ids
            The new constraint ids.
        """
        lo = np.atleast_1d(np.asarray(lower, dtype=np.float64))
        hi = np.broadcast_to(np.asarray(upper, dtype=np.float64), lo.shape).copy()
        r = np.asarray(rows, dtype=np.int64)
        ids = np.arange(self._n_cons, self._n_cons + len(lo), dtype=np.int64)
        self._con_lb.append(lo.copy())
        self._con_ub.append(hi)
        self._rows.append(r + self._n_cons)
        self._cols.append(np.asarray(cols, dtype=np.int64))
        self._coefs.append(np.asarray(coefs, dtype=np.float64))
        self._n_cons += len(lo)
        return ids

    def integer_mask(self) -> npt.NDArray[np.bool_]:
        """Return which variables are integer."""
        return np.concatenate(self._var_int) if self._var_int else np.zeros(0, dtype=np.bool_)

    def variable_bounds(self) -> tuple[FloatArray, FloatArray]:
        """Return the lower and upper bound of every variable."""
        if not self._n_vars:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(self._var_lb), np.concatenate(self._var_ub)

    def objective_vector(self) -> FloatArray:
        """Return the objective coefficient of every variable."""
        return np.concatenate(self._var_obj) if self._var_obj else np.zeros(0)

    def to_proto(self, *, all_integer: bool = False) -> model_pb2.ModelProto:
        """Write the model as a MathOpt ``ModelProto``.

        Parameters
        ----------
        all_integer
            Declare every variable integer (CP-SAT has no continuous variables).

        Returns
        -------
        proto
            The model.
        """
        proto = model_pb2.ModelProto(name="planner")
        v = proto.variables
        n = self._n_vars
        v.ids.extend(range(n))
        if n:
            v.lower_bounds.extend(np.concatenate(self._var_lb).tolist())
            v.upper_bounds.extend(np.concatenate(self._var_ub).tolist())
            ints = np.concatenate(self._var_int) | all_integer
            v.integers.extend(ints.tolist())
            v.names.extend(self._var_names)
            obj = np.concatenate(self._var_obj)
            nz = np.flatnonzero(obj)
            proto.objective.linear_coefficients.ids.extend(nz.tolist())
            proto.objective.linear_coefficients.values.extend(obj[nz].tolist())
        proto.objective.maximize = self.maximize
        proto.objective.offset = self.objective_offset
        c = proto.linear_constraints
        c.ids.extend(range(self._n_cons))
        if self._n_cons:
            c.lower_bounds.extend(np.concatenate(self._con_lb).tolist())
            c.upper_bounds.extend(np.concatenate(self._con_ub).tolist())
            rows = np.concatenate(self._rows)
            cols = np.concatenate(self._cols)
            coefs = np.concatenate(self._coefs)
            order = np.lexsort((cols, rows))  # MathOpt wants row-major, sorted entries
            mat = proto.linear_constraint_matrix
            mat.row_ids.extend(rows[order].tolist())
            mat.column_ids.extend(cols[order].tolist())
            mat.coefficients.extend(coefs[order].tolist())
        return proto


def _watch_cancel(
    cancel: CancelToken | None,
    interrupter: solve_interrupter.SolveInterrupter,
    done: threading.Event,
    deadline: float,
) -> None:
    """Interrupt the solver on cancellation or when it overruns its time limit."""
    while not done.wait(_CANCEL_POLL_S):
        if (cancel is not None and cancel.cancelled) or time.perf_counter() > deadline:
            interrupter.interrupt()
            return


def solve_mip(
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
    """Solve a :class:`SparseMip` with a MathOpt backend.

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
    done = threading.Event()
    deadline = start + max(time_limit_s, 0.01) + _OVERRUN_GRACE_S
    watcher = threading.Thread(
        target=_watch_cancel, args=(cancel, interrupter, done, deadline), daemon=True
    )
    watcher.start()
    try:
        result = mathopt.solve(
            model,
            _SOLVER_TYPES[backend],
            params=params,
            model_params=model_params,
            interrupter=interrupter,
        )
    except Exception as exc:  # noqa: BLE001 -- solver failures become an error result
        if model_params is not None:  # some backends reject hints: retry without
            return solve_mip(
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
        )
    finally:
        done.set()
        watcher.join()
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
    return MipResult(status, objective, bound, values, runtime_s, detail)
