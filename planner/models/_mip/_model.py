"""The MIP models and result shared by every solver adapter in :mod:`planner.models._mip`.

Two ways to hand a MIP to a solver, one result:

* :class:`SparseMip` collects variables and constraints as numpy blocks (COO) and is written
  to a MathOpt ``ModelProto`` in one go (p-median, two-echelon);
* :class:`MatrixMip` is a finished CSR model (objective, bounds, matrix, sense), passed
  straight to HiGHS (``passModel``) or CP-SAT (MCLP, set covering, p-center);
* :class:`MipResult` is what :func:`planner.models._mip.solve_mip` returns for either;
* :class:`HighsResult` is what the CFLP's array-based LP/MIP calls return
  (:func:`planner.models._mip._highs.solve_highs`,
  :func:`planner.models._mip._mathopt.solve_arrays`).

:func:`cancel_watch` is the one helper thread that stops a running solver on cancellation
(and, for MathOpt, when it overruns its time limit).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from ortools.math_opt import model_pb2

from planner.models._base import BoolArray, CancelToken, FloatArray, IntArray

MipBackend = Literal["highs", "scip", "cp-sat"]
MipStatus = Literal["optimal", "feasible", "infeasible", "no_solution", "error"]

_CANCEL_POLL_S = 0.05


@dataclass(frozen=True, eq=False)
class MipResult:
    """Outcome of :func:`planner.models._mip.solve_mip`.

    Parameters
    ----------
    status
        ``"optimal"`` (within the gap tolerance), ``"feasible"`` (a limit stopped it with a
        solution), ``"infeasible"`` (proven; with a cutoff this means "nothing better than
        the cutoff"), ``"no_solution"`` (a limit stopped it first) or ``"error"``.
    objective
        Objective of the returned values, offset included (``nan`` without a solution).
    bound
        Best proven dual bound, offset included (``nan`` if the solver gave none).
    values
        Primal values per variable (column), or ``None``.
    runtime_s
        Wall-clock seconds spent in the solver (model conversion included; ``nan`` when
        not measured).
    message
        The solver's termination detail (may be empty).
    backend
        Solver name (``"highs"``, ``"scip"`` or ``"cp-sat"``).
    """

    status: MipStatus
    objective: float
    bound: float
    values: FloatArray | None
    runtime_s: float = float("nan")
    message: str = ""
    backend: str = ""

    @property
    def optimal(self) -> bool:
        """Whether the solver proved optimality within its tolerance."""
        return self.status == "optimal"

    @property
    def infeasible(self) -> bool:
        """Whether the solver proved that no (better than cutoff) solution exists."""
        return self.status == "infeasible"


@dataclass(frozen=True)
class HighsResult:
    """Outcome of the CFLP's array-based LP and MIP calls (HiGHS direct, SCIP/CP-SAT via MathOpt).

    Kept beside :class:`MipResult` because the CFLP code relies on its conventions: LP row
    duals (the transportation LPs), node counts, ``inf``/``-inf`` instead of ``nan`` and empty
    arrays instead of ``None``, and a ``"limit"`` status.

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


def status_of(*, optimal: bool, infeasible: bool, has_solution: bool) -> MipStatus:
    """Return the :data:`MipStatus` of a direct-API solve from its three flags.

    Parameters
    ----------
    optimal
        The solver proved optimality.
    infeasible
        The solver proved infeasibility.
    has_solution
        A primal solution came back.

    Returns
    -------
    status
        ``"optimal"``, ``"infeasible"``, ``"feasible"`` or ``"no_solution"``.
    """
    if optimal:
        return "optimal"
    if infeasible:
        return "infeasible"
    return "feasible" if has_solution else "no_solution"


@dataclass(frozen=True, eq=False)
class MatrixMip:
    """A MIP in matrix form: optimise ``c x + offset`` s.t. ``row_lo <= A x <= row_hi``.

    Parameters
    ----------
    objective
        Per-column objective coefficient.
    lower, upper
        Column bounds.
    integer
        Per column, whether it is integer.
    matrix
        Constraint matrix (rows x columns).
    row_lower, row_upper
        Row bounds (``-inf``/``inf`` for one-sided rows).
    maximise
        Sense.
    offset
        Constant added to the objective.
    """

    objective: FloatArray
    lower: FloatArray
    upper: FloatArray
    integer: BoolArray
    matrix: sp.csr_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    maximise: bool
    offset: float = 0.0

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return len(self.objective)


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

    def to_matrix(self) -> MatrixMip:
        """Return the model as a :class:`MatrixMip` (CSR), for HiGHS through ``passModel``.

        Returns
        -------
        matrix
            Same variables, rows, objective and sense.
        """
        lb, ub = self.variable_bounds()
        n_rows = self._n_cons
        if n_rows:
            rows, cols = np.concatenate(self._rows), np.concatenate(self._cols)
            coefs = np.concatenate(self._coefs)
            row_lb, row_ub = np.concatenate(self._con_lb), np.concatenate(self._con_ub)
        else:
            rows = cols = np.zeros(0, dtype=np.int64)
            coefs = row_lb = row_ub = np.zeros(0)
        matrix = sp.csr_matrix((coefs, (rows, cols)), shape=(n_rows, self._n_vars))
        return MatrixMip(
            objective=self.objective_vector(), lower=lb, upper=ub, integer=self.integer_mask(),
            matrix=matrix, row_lower=row_lb, row_upper=row_ub, maximise=self.maximize,
            offset=self.objective_offset,
        )  # fmt: skip

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


@contextmanager
def cancel_watch(
    cancel: CancelToken | None, stop: Callable[[], None], *, deadline: float = float("inf")
) -> Iterator[None]:
    """Call ``stop`` from a helper thread on cancellation or once ``deadline`` has passed.

    Parameters
    ----------
    cancel
        Token polled every 50 ms (``None``: only the deadline is watched).
    stop
        Interrupts the running solver (called at most once).
    deadline
        ``time.perf_counter()`` value after which the solver is stopped (default: never).

    Yields
    ------
    None
        While the solver runs inside the ``with`` block.
    """
    if cancel is None and not np.isfinite(deadline):
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(_CANCEL_POLL_S):
            if (cancel is not None and cancel.cancelled) or time.perf_counter() > deadline:
                stop()
                return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
