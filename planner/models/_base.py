"""Shared building blocks of the location models.

The data every model is built from:

* :class:`CostMatrix` -- a sparse demand x site cost structure in CSR form. Each row lists the
  sites a demand point *may* be assigned to, with the travel cost (km or minutes, see
  ``unit``). ``beyond_cost[i]`` is a lower bound on the cost of any site that row ``i`` does
  not list (e.g. the distance to the (k+1)-th nearest site); ``inf`` means unlisted pairs are
  not allowed at all (a service cutoff). That single number lets models built on k-nearest
  lists still produce *valid* lower bounds for the full problem.
* :class:`SiteData` -- per-site ids, capacity, fixed cost and required/forbidden flags.
* :class:`SolveOptions` -- time limit, gap, seed, backend, progress callback, cancellation.
* :class:`Solution` -- the frozen result every ``solve()`` returns, whatever happened.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from planner._types import BoolArray, FloatArray, IntArray
from planner.errors import ValidationError

__all__ = [
    "BACKENDS",
    "EXACT_CHUNK",
    "Alternative",
    "Backend",
    "BoolArray",
    "CancelToken",
    "Clock",
    "CostMatrix",
    "ExactCost",
    "FloatArray",
    "IntArray",
    "LocationProblem",
    "ModelKind",
    "Progress",
    "SiteData",
    "Solution",
    "SolveOptions",
    "Status",
    "as_cost_matrix",
    "as_weights",
    "relative_gap",
]

ExactCost = Callable[[IntArray, IntArray], FloatArray]
"""(rows, sites) -> dense ``len(rows) x len(sites)`` array of true travel costs."""
EXACT_CHUNK = 200_000  # matrix cells per exact-cost call (p-median and CFLP)

Backend = Literal["auto", "highs", "scip", "cp-sat", "heuristic"]
BACKENDS: tuple[Backend, ...] = ("auto", "highs", "scip", "cp-sat", "heuristic")


class Status(enum.StrEnum):
    """Outcome of a solve."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    ERROR = "error"


@dataclass(frozen=True)
class Progress:
    """One progress report, passed to ``SolveOptions.progress``.

    Parameters
    ----------
    elapsed_s
        Seconds since the solve started.
    incumbent
        Objective of the best solution found so far, if any.
    bound
        Best proven bound so far, if any.
    gap
        Relative gap between incumbent and bound, if both are known.
    phase
        Short description of what the solver is doing (``"greedy"``, ``"lagrangian"``, ...).
    """

    elapsed_s: float
    incumbent: float | None
    bound: float | None
    gap: float | None
    phase: str = ""


class CancelToken:
    """Cooperative cancellation flag shared between a UI thread and a solve.

    A token is created per solve by the caller (never a module global), so concurrent
    sessions cannot cancel each other.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the running solve to stop and return its incumbent."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancellation was requested."""
        return self._event.is_set()


@dataclass(frozen=True)
class SolveOptions:
    """Options common to every model's ``solve``.

    Parameters
    ----------
    time_limit_s
        Wall-clock limit; the best solution found by then is returned with its gap.
    gap_tolerance
        Stop when (objective - bound) / |objective| is at or below this.
    seed
        Seed for every random choice; equal inputs and seed give equal solutions.
    backend
        ``"auto"`` picks per model and size; ``"highs"``, ``"scip"``, ``"cp-sat"`` force a
        MIP backend; ``"heuristic"`` skips the exact phase.
    progress
        Called with a :class:`Progress` whenever incumbent or bound improve.
    cancel
        Token checked between phases and in solver callbacks.
    n_best
        Number of distinct solutions to report (1 = just the best).
    compute_regret
        Whether to compute drop-one regret per open site.
    """

    time_limit_s: float = 60.0
    gap_tolerance: float = 1e-6
    seed: int = 0
    backend: Backend = "auto"
    progress: Callable[[Progress], None] | None = None
    cancel: CancelToken | None = None
    n_best: int = 1
    compute_regret: bool = True

    def __post_init__(self) -> None:
        problems = []
        if not self.time_limit_s > 0:
            problems.append(f"`time_limit_s` must be > 0, got {self.time_limit_s}.")
        if not 0 <= self.gap_tolerance < 1:
            problems.append(f"`gap_tolerance` must be in [0, 1), got {self.gap_tolerance}.")
        if self.backend not in BACKENDS:
            problems.append(
                f"`backend` must be one of {', '.join(BACKENDS)}; got {self.backend!r}."
            )
        if self.n_best < 1:
            problems.append(f"`n_best` must be >= 1, got {self.n_best}.")
        if problems:
            raise ValidationError(problems, source="SolveOptions")


@dataclass(frozen=True, eq=False)
class CostMatrix:
    """Sparse demand x site cost structure (CSR).

    Parameters
    ----------
    indptr
        Row pointers, length ``n_demand + 1``.
    site_index
        Site index of each stored entry; sorted by cost within each row.
    cost
        Travel cost of each stored entry, in ``unit``.
    n_sites
        Number of candidate sites (columns).
    beyond_cost
        Per row, a lower bound on the cost to any site the row does not list; ``inf`` when
        unlisted pairs are not allowed (service cutoff or a complete row).
    unit
        Unit of ``cost`` (``"km"``, ``"min"`` or a user label such as ``"cost"``).
    """

    indptr: IntArray
    site_index: IntArray
    cost: FloatArray
    n_sites: int
    beyond_cost: FloatArray
    unit: str = "km"

    def __post_init__(self) -> None:
        n = len(self.indptr) - 1
        problems = []
        if n < 0 or self.indptr[0] != 0 or self.indptr[-1] != len(self.site_index):
            problems.append("`indptr` must start at 0 and end at the number of entries.")
        if len(self.site_index) != len(self.cost):
            problems.append("`site_index` and `cost` must have equal length.")
        if len(self.beyond_cost) != n:
            problems.append("`beyond_cost` must have one value per demand row.")
        if len(self.site_index) and (
            self.site_index.min() < 0 or self.site_index.max() >= self.n_sites
        ):
            problems.append("`site_index` holds indices outside 0..n_sites-1.")
        if len(self.cost) and not np.isfinite(self.cost).all():
            problems.append("`cost` must be finite; leave unreachable pairs out instead.")
        if len(self.cost) and self.cost.min() < 0:
            problems.append("`cost` must be non-negative.")
        if problems:
            raise ValidationError(problems, source="CostMatrix")
        for arr in (self.indptr, self.site_index, self.cost, self.beyond_cost):
            arr.flags.writeable = False

    @property
    def n_demand(self) -> int:
        """Number of demand points (rows)."""
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        """Number of stored (allowed) demand-site pairs."""
        return len(self.site_index)

    @property
    def row_of_entry(self) -> IntArray:
        """Row index of each stored entry (length ``nnz``)."""
        return np.repeat(np.arange(self.n_demand, dtype=np.int64), np.diff(self.indptr))

    @classmethod
    def from_dense(
        cls,
        matrix: npt.ArrayLike,
        *,
        max_cost: float | None = None,
        unit: str = "km",
    ) -> CostMatrix:
        """Build from a dense ``n_demand x n_sites`` array.

        Parameters
        ----------
        matrix
            Costs; ``nan`` or ``inf`` entries mean "not allowed".
        max_cost
            If given, pairs costing more are not allowed (service cutoff).
        unit
            Unit label of the costs.

        Returns
        -------
        costs
            The sparse structure, each row sorted by cost, ``beyond_cost`` all ``inf``.
        """
        arr = np.asarray(matrix, dtype=np.float64)
        if arr.ndim != 2:  # noqa: PLR2004
            msg = f"cost matrix must be 2-D (demand x sites), got shape {arr.shape}."
            raise ValidationError(msg, source="CostMatrix")
        allowed = np.isfinite(arr)
        if max_cost is not None:
            allowed &= arr <= max_cost
        order = np.argsort(np.where(allowed, arr, np.inf), axis=1, kind="stable")
        counts = allowed.sum(axis=1)
        rows = np.repeat(np.arange(arr.shape[0]), counts)
        cols_sorted = order[np.arange(arr.shape[1])[None, :] < counts[:, None]]
        indptr = np.zeros(arr.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return cls(
            indptr=indptr,
            site_index=cols_sorted.astype(np.int64),
            cost=arr[rows, cols_sorted].astype(np.float64),
            n_sites=arr.shape[1],
            beyond_cost=np.full(arr.shape[0], np.inf),
            unit=unit,
        )

    def to_dense(self, *, fill: float = np.inf) -> FloatArray:
        """Return the dense matrix with ``fill`` for unlisted pairs (small instances only)."""
        out = np.full((self.n_demand, self.n_sites), fill, dtype=np.float64)
        out[self.row_of_entry, self.site_index] = self.cost
        return out

    def with_cutoff(self, max_cost: float | None) -> CostMatrix:
        """Return the structure without the pairs costing more than ``max_cost``.

        Parameters
        ----------
        max_cost
            Service cutoff in ``unit``; ``None`` returns ``self``.

        Returns
        -------
        restricted
            Pairs above the cutoff removed; ``beyond_cost`` set to ``inf`` where it exceeded
            the cutoff (those unlisted pairs are no longer allowed).
        """
        if max_cost is None:
            return self
        keep = self.cost <= max_cost
        counts = np.bincount(self.row_of_entry[keep], minlength=self.n_demand)
        indptr = np.zeros(self.n_demand + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        beyond = np.where(self.beyond_cost > max_cost, np.inf, self.beyond_cost)
        return CostMatrix(
            indptr=indptr,
            site_index=self.site_index[keep].copy(),
            cost=self.cost[keep].copy(),
            n_sites=self.n_sites,
            beyond_cost=beyond.astype(np.float64),
            unit=self.unit,
        )

    def row(self, i: int) -> tuple[IntArray, FloatArray]:
        """Return the (site indices, costs) listed for demand row ``i``."""
        lo, hi = self.indptr[i], self.indptr[i + 1]
        return self.site_index[lo:hi], self.cost[lo:hi]


def as_cost_matrix(costs: CostMatrix | npt.ArrayLike, max_cost: float | None = None) -> CostMatrix:
    """Return a :class:`CostMatrix` from a sparse structure or a dense array, with cutoff.

    Parameters
    ----------
    costs
        Sparse structure or dense ``n_demand x n_sites`` array (``nan``/``inf`` = not allowed).
    max_cost
        Optional service cutoff.

    Returns
    -------
    matrix
        The sparse structure with the cutoff applied.
    """
    if isinstance(costs, CostMatrix):
        return costs.with_cutoff(max_cost)
    return CostMatrix.from_dense(costs, max_cost=max_cost)


def as_weights(weights: npt.ArrayLike, n: int) -> FloatArray:
    """Return demand weights as a new float array of length ``n`` (a scalar is broadcast).

    Parameters
    ----------
    weights
        Per-row weights or one scalar.
    n
        Number of demand rows.

    Returns
    -------
    weights
        A copy the caller may own.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 0:
        w = np.full(n, float(w))
    return w.copy()


@dataclass(frozen=True, eq=False)
class SiteData:
    """Per-site attributes shared by all models.

    Parameters
    ----------
    ids
        Site identifiers (strings), one per cost-matrix column.
    capacity
        Capacity per site in demand units (e.g. service hours); ``inf`` = uncapacitated.
    fixed_cost
        Opening cost per site (0 where not used).
    required
        Sites that must be open (e.g. existing Belarusian plants).
    forbidden
        Sites that must stay closed.
    """

    ids: tuple[str, ...]
    capacity: FloatArray
    fixed_cost: FloatArray
    required: BoolArray
    forbidden: BoolArray

    def __post_init__(self) -> None:
        n = len(self.ids)
        problems = [
            f"`{name}` has {len(arr)} values for {n} sites."
            for name, arr in (
                ("capacity", self.capacity),
                ("fixed_cost", self.fixed_cost),
                ("required", self.required),
                ("forbidden", self.forbidden),
            )
            if len(arr) != n
        ]
        if len(set(self.ids)) != n:
            problems.append("site `ids` must be unique.")
        if problems:
            raise ValidationError(problems, source="SiteData")
        both = np.flatnonzero(self.required & self.forbidden)
        if len(both):
            names = ", ".join(self.ids[i] for i in both[:5])
            msg = (
                f"{len(both)} site(s) are both required and forbidden ({names}); "
                "remove them from one of the two lists."
            )
            raise ValidationError(msg, source="SiteData")
        if (self.capacity < 0).any() or (self.fixed_cost < 0).any():
            msg = "site `capacity` and `fixed_cost` must be non-negative."
            raise ValidationError(msg, source="SiteData")
        for arr in (self.capacity, self.fixed_cost, self.required, self.forbidden):
            arr.flags.writeable = False

    @property
    def n_sites(self) -> int:
        """Number of sites."""
        return len(self.ids)

    @classmethod
    def default(
        cls,
        n_sites: int,
        *,
        ids: Sequence[str] | None = None,
        capacity: npt.ArrayLike | None = None,
        fixed_cost: npt.ArrayLike | None = None,
        required: Sequence[int] | npt.ArrayLike = (),
        forbidden: Sequence[int] | npt.ArrayLike = (),
    ) -> SiteData:
        """Build site data with sensible defaults.

        Parameters
        ----------
        n_sites
            Number of sites.
        ids
            Site ids; default ``"0"``, ``"1"``, ...
        capacity
            Scalar or per-site capacity; default uncapacitated.
        fixed_cost
            Scalar or per-site fixed cost; default 0.
        required
            Indices (or a boolean mask) of sites that must be open.
        forbidden
            Indices (or a boolean mask) of sites that must stay closed.

        Returns
        -------
        sites
            The site data.
        """

        def _mask(sel: Sequence[int] | npt.ArrayLike) -> BoolArray:
            arr = np.asarray(sel)
            if arr.dtype == np.bool_ and arr.shape == (n_sites,):
                return arr.copy()
            mask = np.zeros(n_sites, dtype=np.bool_)
            mask[arr.astype(np.int64)] = True
            return mask

        return cls(
            ids=tuple(ids) if ids is not None else tuple(str(i) for i in range(n_sites)),
            capacity=np.broadcast_to(
                np.asarray(np.inf if capacity is None else capacity, dtype=np.float64), (n_sites,)
            ).copy(),
            fixed_cost=np.broadcast_to(
                np.asarray(0.0 if fixed_cost is None else fixed_cost, dtype=np.float64),
                (n_sites,),
            ).copy(),
            required=_mask(required),
            forbidden=_mask(forbidden),
        )


@dataclass(frozen=True)
class Alternative:
    """One of the N best distinct solutions."""

    open_sites: tuple[int, ...]
    objective: float


@dataclass(frozen=True, eq=False)
class Solution:
    """Result of a solve; always returned, whatever the outcome.

    Parameters
    ----------
    model
        Model name (``"p_median"``, ``"cflp"``, ...).
    status
        Optimal, feasible (limit hit or gap tolerance > 0), infeasible or error.
    objective
        Objective value of the returned solution (``nan`` if none).
    bound
        Best proven bound on the optimum (``nan`` if none).
    gap
        Relative gap ``|objective - bound| / max(|objective|, 1e-9)`` (``nan`` if unknown).
    open_sites
        Indices of open sites, ascending.
    assignment
        Per demand row, the site index that serves it (largest share for split models), or
        -1 when it is not served (uncovered or beyond every cutoff).
    assignment_cost
        Per demand row, the travel cost to ``assignment`` (``nan`` when -1).
    runtime_s
        Wall-clock seconds.
    backend
        What actually solved it (``"highs"``, ``"heuristic+lagrangian"``, ...).
    message
        Plain-language explanation (why infeasible, why stopped).
    flows
        For split models: ``(row, site, fraction)`` triples; ``None`` for single-source.
    alternatives
        The N best distinct solutions found (best first), if requested.
    regret
        Per open site index: objective increase if that site alone is closed (drop-one).
    stats
        Free-form counters (iterations, nodes, fixed variables, ...).
    swap_regret
        Per open site index: objective increase if that site is closed and the best other
        site is opened instead (same number of sites; negative = an improving swap exists).
    """

    model: str
    status: Status
    objective: float
    bound: float
    gap: float
    open_sites: tuple[int, ...]
    assignment: IntArray
    assignment_cost: FloatArray
    runtime_s: float
    backend: str
    message: str = ""
    flows: tuple[IntArray, IntArray, FloatArray] | None = None
    alternatives: tuple[Alternative, ...] = ()
    regret: Mapping[int, float] = field(default_factory=dict)
    stats: Mapping[str, float | int | str] = field(default_factory=dict)
    swap_regret: Mapping[int, float] = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        """Whether a feasible solution is attached."""
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)


def relative_gap(objective: float, bound: float) -> float:
    """Return the relative gap between an incumbent and a bound.

    Parameters
    ----------
    objective
        Incumbent objective.
    bound
        Proven bound.

    Returns
    -------
    gap
        ``|objective - bound| / max(|objective|, 1e-9)``; ``nan`` if either is ``nan``.
    """
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("nan")
    return float(abs(objective - bound) / max(abs(objective), 1e-9))


class Clock:
    """Deadline and progress helper used inside ``solve`` implementations.

    Parameters
    ----------
    options
        Time limit, cancellation and progress callback.
    maximise
        For a maximisation model: callers record ``-objective`` / ``-bound`` (so "lower
        incumbent, higher bound is better" holds) and the progress callback receives the
        true, positive values.
    """

    def __init__(self, options: SolveOptions, *, maximise: bool = False) -> None:
        self.options = options
        self.sign = -1.0 if maximise else 1.0
        self.start = time.perf_counter()
        self.best_objective = float("inf")
        self.best_bound = float("-inf")

    @property
    def elapsed_s(self) -> float:
        """Seconds since start."""
        return time.perf_counter() - self.start

    @property
    def remaining_s(self) -> float:
        """Seconds left before the time limit (never negative)."""
        return max(0.0, self.options.time_limit_s - self.elapsed_s)

    @property
    def should_stop(self) -> bool:
        """Whether the time limit passed or cancellation was requested."""
        cancel = self.options.cancel
        return self.remaining_s <= 0 or (cancel is not None and cancel.cancelled)

    def report(
        self,
        *,
        incumbent: float | None = None,
        bound: float | None = None,
        phase: str = "",
    ) -> None:
        """Record an improved incumbent/bound and notify the progress callback."""
        if incumbent is not None and incumbent < self.best_objective:
            self.best_objective = incumbent
        if bound is not None and bound > self.best_bound:
            self.best_bound = bound
        if self.options.progress is None:
            return
        inc = self.sign * self.best_objective if np.isfinite(self.best_objective) else None
        bnd = self.sign * self.best_bound if np.isfinite(self.best_bound) else None
        gap = relative_gap(inc, bnd) if inc is not None and bnd is not None else None
        self.options.progress(
            Progress(elapsed_s=self.elapsed_s, incumbent=inc, bound=bnd, gap=gap, phase=phase)
        )


ModelKind = Literal["p_median", "cflp", "mclp", "set_cover", "p_center"]


@dataclass(frozen=True, eq=False)
class LocationProblem:
    """Everything a location model needs, shared by all five models.

    Parameters
    ----------
    kind
        Which model this problem is (decides the objective and constraints below).
    costs
        Allowed demand-site pairs and their travel costs.
    weights
        Demand weight per row (e.g. service hours per year), non-negative.
    sites
        Capacity, fixed cost, required and forbidden flags per site.
    p
        Total number of open sites, required ones included (p-median, MCLP, p-center).
    min_new_sites, max_new_sites
        Bounds on the number of open sites that are not required.
    service_radius
        Coverage radius in ``costs.unit`` (MCLP, set covering); pairs within it cover.
    single_source
        CFLP: each demand row served by exactly one site (else splittable).
    weighted
        p-center: minimise max weight x cost (else max cost).
    capacitated
        Whether ``sites.capacity`` binds (p-median, p-center may also be capacitated).
    """

    kind: ModelKind
    costs: CostMatrix
    weights: FloatArray
    sites: SiteData
    p: int | None = None
    min_new_sites: int = 0
    max_new_sites: int | None = None
    service_radius: float | None = None
    single_source: bool = True
    weighted: bool = False
    capacitated: bool = False

    def __post_init__(self) -> None:
        problems = []
        if len(self.weights) != self.costs.n_demand:
            problems.append(
                f"{len(self.weights)} demand weights for {self.costs.n_demand} demand rows."
            )
        if self.sites.n_sites != self.costs.n_sites:
            problems.append(
                f"{self.sites.n_sites} sites in site data for {self.costs.n_sites} columns."
            )
        if len(self.weights) and (not np.isfinite(self.weights).all() or self.weights.min() < 0):
            problems.append("demand `weights` must be finite and non-negative.")
        n_req = int(self.sites.required.sum())
        n_free = int((~self.sites.required & ~self.sites.forbidden).sum())
        if self.p is not None:
            if self.p < 1:
                problems.append(f"`p` must be at least 1, got {self.p}.")
            if self.p < n_req:
                problems.append(
                    f"`p` = {self.p} is smaller than the {n_req} required sites; "
                    f"raise `p` to at least {n_req} or drop some required sites."
                )
            if self.p > n_req + n_free:
                problems.append(
                    f"`p` = {self.p} but only {n_req + n_free} sites may open "
                    f"({n_req} required + {n_free} free candidates); lower `p` or allow "
                    "more candidate sites."
                )
        if self.kind in ("mclp", "set_cover") and self.service_radius is None:
            problems.append(f"model `{self.kind}` needs a `service_radius`.")
        if self.kind in ("p_median", "mclp", "p_center") and self.p is None:
            problems.append(f"model `{self.kind}` needs `p`.")
        if self.min_new_sites < 0:
            problems.append("`min_new_sites` must be >= 0.")
        if self.max_new_sites is not None and self.max_new_sites < self.min_new_sites:
            problems.append("`max_new_sites` must be >= `min_new_sites`.")
        if problems:
            raise ValidationError(problems, source=f"{self.kind} problem")
        self.weights.flags.writeable = False

    @property
    def n_demand(self) -> int:
        """Number of demand rows."""
        return self.costs.n_demand

    @property
    def n_sites(self) -> int:
        """Number of candidate sites."""
        return self.costs.n_sites
