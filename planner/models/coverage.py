"""Maximal covering (MCLP) and set covering location models.

Both models look only at *coverage*: demand row ``i`` is covered by site ``j`` when the pair is
listed in the cost matrix, ``c_ij <= service_radius`` (the same test as
:func:`planner.models.check.check_solution`) and ``j`` is not forbidden. Rows whose cost list
may be truncated inside the radius (``beyond_cost < service_radius``) are counted on their
listed pairs only; ``stats["rows_truncated_inside_radius"]`` says how many there are.

Formulation (R = required sites, F = free sites (neither required nor forbidden),
N_i = free sites covering row i, w = demand weight, k = number of new sites)::

    MCLP, uncapacitated (aggregated: rows with identical N_i form one group g, W_g = sum w_i)
    (M1)  max  W_R + sum_g W_g z_g          W_R = weight of rows covered by a required site
    (M2)  z_g <= sum_{j in N_g} y_j          for every group g not covered by R
    (M3)  sum_{j in F} y_j <= k,  k = p - |R|   (padding to exactly k afterwards never lowers
                                                 coverage, so "<=" is exact)
    (M4)  y_j in {0, 1};  0 <= z_g <= 1  (binary for CP-SAT)

    MCLP, capacitated (row level; a row counts only if it is assigned within capacity)
    (C1)  max  sum_i sum_{j in N_i u R_i} w_i x_ij
    (C2)  sum_j x_ij <= 1                     for every row i
    (C3)  x_ij <= y_j
    (C4)  sum_i w_i x_ij <= Q_j y_j           for every site j
    (C5)  sum_j y_j = p,  y_j = 1 on R,  y_j = 0 on forbidden sites
    (C6)  x, y binary

    Set covering, uncapacitated (groups as in (M2), only rows some allowed site covers)
    (S1)  min  sum_{j in F} f_j y_j + f(R)    (f_j := 1 when no site has a fixed cost)
    (S2)  sum_{j in N_g} y_j >= 1             for every coverable group g not covered by R
    (S3)  min_new <= sum_{j in F} y_j <= max_new
    (S4)  y binary

    Set covering, capacitated (row level)
    (K1)  min  sum_{j in F} f_j y_j + f(R)
    (K2)  sum_j x_ij = 1                      for every coverable row i
    (K3)  x_ij <= y_j;  (K4) sum_i w_i x_ij <= Q_j y_j;  (K5) min/max new as (S3); binary.

Capacitated MCLP counts a row only when it is assigned within capacity (the Current & Storbeck
model); :func:`planner.models.check.check_solution` counts geometric coverage instead, so for
capacitated MCLP the two objectives differ whenever capacity binds (see the tests).

Reductions, all exact: identical coverage sets are merged (weights summed); rows covered by a
required site leave the model; a free site whose coverage is a subset of another free site's
(and, for set covering, no cheaper) is dropped (MCLP; set covering only without
``min_new_sites``); a set-covering row with a single candidate fixes that site open
(essential column). The primal side is greedy + best-improvement swap local search (fast
interchange); the bound is the LP relaxation of (M1)-(M4)/(S1)-(S4) or the MIP's own bound.

Solve pipeline, uncapacitated MCLP (every phase honours the time limit and cancellation):

1. coverage lists within the radius, rows merged exactly by identical coverage sets
   (200,000 farms x 2,000 sites, 50 km: 34,225 groups), dominated sites dropped;
2. greedy + best-improvement swap local search on the groups;
3. small instances (<= 200,000 nonzeros): MIP (M1)-(M4) warm-started from the incumbent;
4. large instances: LP duals of (M2) from HiGHS PDLP at loose tolerance -> exact Lagrangian
   bound L(lam) (valid whatever the LP accuracy), LP-guided restart of the local search,
   Lagrangian reduced-cost fixing, then the MIP on the reduced problem.
   Measured (200,000 x 2,000, 50 km lists, p = 100, 2 cores at load 8-10): bound 20,263.9,
   incumbent 20,263.6 (gap 1.4e-5) within the 60 s limit; p = 20 proven optimal in 40 s
   wall / 17 s CPU.

Set covering uses the same exact grouping plus essential and dominated columns, the greedy
cover (Chvatal) with redundancy removal, then the MIP (CP-SAT for the pure 0/1 model, see
:func:`choose_backend`); 200,000 x 2,000 at 50 km: 270 sites proven optimal in 48 s wall /
17 s CPU under the same load.

Assignment: a covered row is assigned to its nearest open site within the radius (capacitated:
the site chosen by (C2)-(C4)/(K2)-(K4)); a row that is not covered is -1, so ``assignment``
reads as "who covers this farm".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import ValidationError
from planner.models._base import (
    Alternative,
    BoolArray,
    Clock,
    CostMatrix,
    FloatArray,
    IntArray,
    LocationProblem,
    SiteData,
    Solution,
    SolveOptions,
    Status,
    as_cost_matrix,
    as_weights,
    relative_gap,
)
from planner.models._build import GeoBuildMixin
from planner.models._decision import Evaluator, SwapDelta, drop_one_regret, n_best, swap_regret

if TYPE_CHECKING:
    import highspy

_RADIUS_REL_TOL = 1e-12  # same tolerance as check.py uses for "within the radius"
_OPTIMAL_GAP = 1e-6  # a gap at or below this is reported as proven optimal
_IMPROVE_EPS = 1e-9
_CAPACITY_SLACK = 1e-9
_REGRET_WORK_LIMIT = 20_000_000  # nonzeros touched by regret via repeated evaluate calls
_DIRECT_MIP_MAX_NNZ = 200_000  # above this the aggregated MCLP goes dual bound + fixing first
_MIP_EVALUATE_FACTOR = 50  # an evaluate that solves an assignment MIP, in nonzero units
_CP_SAT_WORKERS = 8
_CP_SAT_SCALE = 1e6  # CP-SAT needs integer constraint coefficients (capacity rows only)


# --------------------------------------------------------------------------------------------
# Building problems
# --------------------------------------------------------------------------------------------


def _within(cost: FloatArray, radius: float) -> BoolArray:
    """Coverage test, identical to the one in check.py."""
    return np.asarray(cost <= radius * (1 + _RADIUS_REL_TOL), dtype=np.bool_)


def reachable_rows(costs: CostMatrix) -> BoolArray:
    """Return the rows with at least one allowed pair (the others are left out, as in check.py).

    Parameters
    ----------
    costs
        The cost structure.

    Returns
    -------
    reachable
        Per row, whether it lists a site or has a finite cost beyond its list.
    """
    return np.asarray(~((np.diff(costs.indptr) == 0) & ~np.isfinite(costs.beyond_cost)))


def count_new_bounds(problem: LocationProblem) -> tuple[int, int]:
    """Return (min, max) number of new (non-required) sites allowed, without ``p``.

    Parameters
    ----------
    problem
        The problem.

    Returns
    -------
    bounds
        ``min_new_sites`` and the effective maximum (capped at the number of free sites).
    """
    sites = problem.sites
    n_free = int((~sites.required & ~sites.forbidden).sum())
    hi = n_free if problem.max_new_sites is None else min(problem.max_new_sites, n_free)
    return problem.min_new_sites, hi


def new_sites_for_p(problem: LocationProblem) -> tuple[int, str]:
    """Return the number of new sites implied by ``p``, or -1 with a plain-language reason.

    Parameters
    ----------
    problem
        A problem with ``p`` set.

    Returns
    -------
    k, reason
        New sites to open (``p`` minus required) and an empty string, or -1 and why.
    """
    n_req = int(problem.sites.required.sum())
    k = int(problem.p or 0) - n_req
    lo, hi = count_new_bounds(problem)
    if k < lo:
        return -1, (
            f"p = {problem.p} with {n_req} required site(s) leaves room for {k} new site(s), "
            f"but min_new_sites = {lo}; raise p to at least {n_req + lo}."
        )
    if k > hi:
        return -1, (
            f"p = {problem.p} with {n_req} required site(s) needs {k} new site(s), but at most "
            f"{hi} may open (max_new_sites / free candidates); lower p to {n_req + hi}."
        )
    return k, ""


def site_mask(n_sites: int, open_sites: Sequence[int]) -> BoolArray:
    """Return a boolean mask of the given site indices (validated).

    Parameters
    ----------
    n_sites
        Number of sites.
    open_sites
        Site indices.

    Returns
    -------
    mask
        True at the given indices.
    """
    idx = np.asarray(list(open_sites), dtype=np.int64)
    if len(idx) and (idx.min() < 0 or idx.max() >= n_sites):
        msg = f"open site indices must be in 0..{n_sites - 1}."
        raise ValidationError(msg, source="evaluate")
    mask = np.zeros(n_sites, dtype=np.bool_)
    mask[idx] = True
    return mask


def nearest_open(
    costs: CostMatrix, entry_ok: BoolArray, open_mask: BoolArray
) -> tuple[IntArray, FloatArray]:
    """Assign each row to its cheapest open site among the entries flagged ``entry_ok``.

    Parameters
    ----------
    costs
        The cost structure.
    entry_ok
        Per stored entry, whether it may be used (e.g. within the radius).
    open_mask
        Per site, whether it is open.

    Returns
    -------
    assignment, assignment_cost
        Site index per row (-1 if none) and its cost (``nan`` if none).
    """
    n = costs.n_demand
    ok = entry_ok & open_mask[costs.site_index]
    ent = np.flatnonzero(ok)
    rows = costs.row_of_entry[ent]
    order = np.lexsort((ent, costs.cost[ent], rows))  # by row, then cost, then list order
    ent, rows = ent[order], rows[order]
    first = np.ones(len(ent), dtype=np.bool_)
    first[1:] = rows[1:] != rows[:-1]
    assignment = np.full(n, -1, dtype=np.int64)
    cost = np.full(n, np.nan)
    assignment[rows[first]] = costs.site_index[ent[first]]
    cost[rows[first]] = costs.cost[ent[first]]
    return assignment, cost


def csr_rows(indptr: IntArray, rows: IntArray) -> tuple[IntArray, IntArray]:
    """Select rows of a CSR structure.

    Parameters
    ----------
    indptr
        Row pointer of the structure.
    rows
        Rows to keep, in the wanted order.

    Returns
    -------
    sub_indptr, take
        Row pointer of the selection and, per selected entry, its position in the
        structure's data arrays.
    """
    lens = indptr[rows + 1] - indptr[rows]
    sub_indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lens, out=sub_indptr[1:])
    take = np.repeat(indptr[rows], lens) + (
        np.arange(int(sub_indptr[-1])) - np.repeat(sub_indptr[:-1], lens)
    )
    return sub_indptr, take


def pair_costs(costs: CostMatrix, assignment: IntArray) -> FloatArray:
    """Return the listed cost of each row's assigned site.

    Parameters
    ----------
    costs
        The cost structure.
    assignment
        Site index per row (-1 if none).

    Returns
    -------
    cost
        The listed cost of the pair (``nan`` where unassigned or not listed).
    """
    out = np.full(costs.n_demand, np.nan)
    rows = costs.row_of_entry
    hit = assignment[rows] == costs.site_index
    out[rows[hit]] = costs.cost[hit]
    return out


# --------------------------------------------------------------------------------------------
# Coverage structure and exact aggregation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Groups:
    """Rows merged by identical coverage set (CSR over *candidate* columns)."""

    indptr: IntArray  # per group
    cols: IntArray  # candidate column indices (0..n_cand-1), sorted within each group
    weight: FloatArray  # summed demand weight per group
    group_of_row: IntArray  # -1 for rows not in the model

    @property
    def n_groups(self) -> int:
        return len(self.indptr) - 1

    def matrix(self, n_cand: int) -> sp.csr_matrix:
        data = np.ones(len(self.cols), dtype=np.float64)
        return sp.csr_matrix((data, self.cols, self.indptr), shape=(self.n_groups, n_cand))


def _group_rows(
    row_ids: IntArray,
    indptr: IntArray,
    cols: IntArray,
    weights: FloatArray,
    n_rows_total: int,
) -> _Groups:
    """Merge rows whose (sorted) column sets are identical; exact, no approximation.

    Rows are bucketed by (length, two 64-bit sums of random column keys) with numpy, and
    every row is then compared element by element with its bucket's first row; rows of a
    bucket that differ (a hash collision, astronomically rare) are regrouped exactly by
    their bytes, so the result never depends on the hash.
    """
    n = len(row_ids)
    lens = np.diff(indptr)
    if n == 0:
        return _Groups(
            indptr=np.zeros(1, dtype=np.int64),
            cols=np.zeros(0, dtype=np.int64),
            weight=np.zeros(0),
            group_of_row=np.full(n_rows_total, -1, dtype=np.int64),
        )
    n_cols = int(cols.max()) + 1 if len(cols) else 1
    keys = np.random.default_rng(0x5EED).integers(1, 2**63 - 1, size=(2, n_cols), dtype=np.int64)
    row_of = np.repeat(np.arange(n), lens)
    h = np.zeros((2, n), dtype=np.int64)
    with np.errstate(over="ignore"):
        for t in range(2):
            np.add.at(h[t], row_of, keys[t][cols])
    table = np.stack([lens.astype(np.int64), h[0], h[1]], axis=1)
    _, first_idx, group_of = np.unique(table, axis=0, return_index=True, return_inverse=True)
    group_of = group_of.ravel().astype(np.int64)
    # exact verification against each group's first row
    rep = first_idx[group_of]
    rep_start = np.repeat(indptr[rep], lens)
    offs = np.arange(len(cols)) - np.repeat(indptr[:-1], lens)
    same = cols == cols[rep_start + offs]
    bad_rows = np.unique(row_of[~same])
    if len(bad_rows):  # hash collision: regroup those rows by their exact bytes
        extra: dict[bytes, int] = {}
        next_id = int(group_of.max()) + 1
        for t in bad_rows:
            key = cols[indptr[t] : indptr[t + 1]].tobytes()
            if key not in extra:
                extra[key] = next_id
                next_id += 1
            group_of[t] = extra[key]
        _, first_idx, group_of = np.unique(group_of, return_index=True, return_inverse=True)
        group_of = group_of.ravel().astype(np.int64)
    first = np.asarray(first_idx, dtype=np.int64)
    g_indptr, take = csr_rows(indptr, first)
    g_weight = np.bincount(group_of, weights=weights, minlength=len(first)).astype(np.float64)
    group_of_row = np.full(n_rows_total, -1, dtype=np.int64)
    group_of_row[row_ids] = group_of
    return _Groups(
        indptr=g_indptr,
        cols=cols[take].astype(np.int64),
        weight=g_weight,
        group_of_row=group_of_row,
    )


@dataclass(frozen=True, eq=False)
class Coverage:
    """Which rows the allowed sites cover, split into required / free candidates.

    Parameters
    ----------
    covered_by_required
        Per row, whether a required site covers it.
    coverable
        Per row, whether some allowed (required or free) site covers it.
    cand_sites
        Site index of each candidate column (the free sites).
    row_indptr, row_cols
        Per row, the candidate columns covering it (CSR, columns sorted within a row).
    truncated_rows
        Rows whose cost lists may be cut off inside the radius.
    entry_within
        Per stored entry, whether it covers (within the radius).
    """

    covered_by_required: BoolArray
    coverable: BoolArray
    cand_sites: IntArray
    row_indptr: IntArray
    row_cols: IntArray
    truncated_rows: int
    entry_within: BoolArray

    def subset(self, rows: IntArray) -> tuple[IntArray, IntArray]:
        """Return the CSR (indptr, cols) of the given rows."""
        indptr, take = csr_rows(self.row_indptr, rows)
        return indptr, self.row_cols[take]


def coverage_sets(problem: LocationProblem, within: BoolArray, truncated_rows: int = 0) -> Coverage:
    """Return the coverage structure of the stored entries flagged ``within``.

    Parameters
    ----------
    problem
        The problem (required / forbidden sites).
    within
        Per stored entry, whether the pair covers (e.g. within the radius, or a p-center
        value at or below a threshold).
    truncated_rows
        Number of rows whose lists may be cut off inside the radius (reported only).

    Returns
    -------
    coverage
        Rows covered by required sites, coverable rows and the free candidates per row.
    """
    costs, sites = problem.costs, problem.sites
    allowed = within & ~sites.forbidden[costs.site_index]
    rows_of = costs.row_of_entry
    n = costs.n_demand
    covered_req = np.zeros(n, dtype=np.bool_)
    covered_req[rows_of[allowed & sites.required[costs.site_index]]] = True
    coverable = np.zeros(n, dtype=np.bool_)
    coverable[rows_of[allowed]] = True
    free = ~sites.required & ~sites.forbidden
    cand_sites = np.flatnonzero(free).astype(np.int64)
    col_of_site = np.full(costs.n_sites, -1, dtype=np.int64)
    col_of_site[cand_sites] = np.arange(len(cand_sites))
    ent = np.flatnonzero(within & free[costs.site_index])
    r, c = rows_of[ent], col_of_site[costs.site_index[ent]]
    order = np.lexsort((c, r))
    r, c = r[order], c[order]
    counts = np.bincount(r, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Coverage(
        covered_by_required=covered_req,
        coverable=coverable,
        cand_sites=cand_sites,
        row_indptr=indptr,
        row_cols=c.astype(np.int64),
        truncated_rows=truncated_rows,
        entry_within=within,
    )


def _coverage(problem: LocationProblem, radius: float) -> Coverage:
    """Coverage within the service radius (the MCLP / set-covering test)."""
    costs = problem.costs
    truncated = int((np.isfinite(costs.beyond_cost) & (costs.beyond_cost <= radius)).sum())
    return coverage_sets(problem, _within(costs.cost, radius), truncated)


# --------------------------------------------------------------------------------------------
# Generic matrix MIP, solved by HiGHS (highspy), SCIP (MathOpt) or CP-SAT
# --------------------------------------------------------------------------------------------


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


@dataclass(frozen=True, eq=False)
class MipResult:
    """What a matrix MIP solve found.

    Parameters
    ----------
    values
        Best solution (``None`` when none was found).
    objective
        Its objective including the offset (``nan`` when none).
    bound
        Proven bound including the offset (``nan`` when unknown).
    infeasible
        Whether the solver proved that no solution exists.
    optimal
        Whether the solver proved optimality within its tolerance.
    backend
        Solver name.
    """

    values: FloatArray | None
    objective: float
    bound: float
    infeasible: bool
    optimal: bool
    backend: str


@contextmanager
def _cancel_watch(clock: Clock, stop: Callable[[], None]) -> Iterator[None]:
    """Call ``stop`` from a helper thread as soon as the cancel token fires."""
    cancel = clock.options.cancel
    if cancel is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            if cancel.cancelled:
                stop()
                return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def solve_mip(
    mip: MatrixMip,
    backend: str,
    clock: Clock,
    *,
    time_limit_s: float,
    hint: FloatArray | None = None,
    feasibility_only: bool = False,
    report: Callable[[float | None, float | None], None] | None = None,
) -> MipResult:
    """Solve a matrix MIP with the named backend (``"highs"``, ``"scip"`` or ``"cp-sat"``).

    Parameters
    ----------
    mip
        The model.
    backend
        Which solver.
    clock
        Deadline, options (gap, seed, cancel) and progress.
    time_limit_s
        Time budget for this call.
    hint
        Optional starting solution (warm start).
    feasibility_only
        Stop at the first feasible solution.
    report
        Called with (incumbent, bound) in model terms when the solver improves.

    Returns
    -------
    result
        The solver outcome.
    """
    margin = min(1.0, 0.03 * clock.options.time_limit_s)  # keep time for the final assignment
    limit = max(0.01, min(time_limit_s, clock.remaining_s - margin))
    if backend == "highs":
        return _solve_highs(
            mip, clock, limit, hint, feasibility_only=feasibility_only, report=report
        )
    if backend == "scip":
        return _solve_scip(mip, clock, limit, hint, feasibility_only=feasibility_only)
    if backend == "cp-sat":
        return _solve_cpsat(
            mip, clock, limit, hint, feasibility_only=feasibility_only, report=report
        )
    msg = f"unknown MIP backend {backend!r}"
    raise ValueError(msg)


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


def _solve_highs(
    mip: MatrixMip,
    clock: Clock,
    limit: float,
    hint: FloatArray | None,
    *,
    feasibility_only: bool,
    report: Callable[[float | None, float | None], None] | None,
) -> MipResult:
    import highspy  # noqa: PLC0415

    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.silent()
    h.setOptionValue("time_limit", float(limit))
    h.setOptionValue("random_seed", int(clock.options.seed) % (2**31 - 1))
    h.setOptionValue("mip_rel_gap", float(clock.options.gap_tolerance))
    h.setOptionValue("threads", 1)
    if feasibility_only:
        h.setOptionValue("mip_max_improving_sols", 1)
    _pass_to_highs(h, mip)
    if hint is not None:
        h.setSolution(
            int(mip.n_cols), np.arange(mip.n_cols, dtype=np.int32), hint.astype(np.float64)
        )
    has_int = bool(mip.integer.any())
    cancel = clock.options.cancel

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
    return MipResult(values, obj, bound, infeasible, optimal, "highs")


def _solve_scip(
    mip: MatrixMip,
    clock: Clock,
    limit: float,
    hint: FloatArray | None,
    *,
    feasibility_only: bool,
) -> MipResult:
    from ortools.math_opt.python import mathopt  # noqa: PLC0415
    from ortools.util.python import solve_interrupter  # noqa: PLC0415

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
        time_limit=timedelta(seconds=limit),
        random_seed=int(clock.options.seed) % (2**31 - 1),
        relative_gap_tolerance=float(clock.options.gap_tolerance),
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
    with _cancel_watch(clock, interrupter.interrupt):
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
    return MipResult(values, objv, bound, infeasible, optimal, "scip")


def _integer_row(coefs: FloatArray, lo: float, hi: float) -> tuple[IntArray, float, float]:
    """Integer coefficients for CP-SAT; conservative scaling for fractional ``<=`` rows."""
    if np.all(coefs == np.round(coefs)):
        return coefs.astype(np.int64), lo, hi
    scale = _CP_SAT_SCALE / max(float(np.abs(coefs).max()), 1e-12)
    # Valid only for non-negative columns and a "<=" row: rounding coefficients up and the
    # right-hand side down keeps every CP-SAT solution feasible for the true row.
    scaled = np.ceil(coefs * scale).astype(np.int64)
    return scaled, -np.inf, float(np.floor(hi * scale)) if np.isfinite(hi) else np.inf


def _solve_cpsat(
    mip: MatrixMip,
    clock: Clock,
    limit: float,
    hint: FloatArray | None,
    *,
    feasibility_only: bool,
    report: Callable[[float | None, float | None], None] | None,
) -> MipResult:
    from ortools.sat.python import cp_model  # noqa: PLC0415

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
    solver.parameters.max_time_in_seconds = float(limit)
    # The full portfolio matters: with 2 workers the LP-based bound workers are missing and
    # the MCLP bound never moves (measured); 8 workers time-share the 2 cores fine.
    solver.parameters.num_workers = _CP_SAT_WORKERS
    # Parallel CP-SAT is not bit-deterministic; interleave_search is, and costs nothing on the
    # pure covering models "auto" sends here (count objective or feasibility), but on the
    # weighted MCLP it ran to the time limit after proving optimality, so weighted objectives
    # (CP-SAT only when forced) keep the parallel portfolio and are deterministic only in value.
    unit_objective = len(nz) == 0 or bool(np.all(mip.objective[nz] == mip.objective[nz][0]))
    solver.parameters.interleave_search = feasibility_only or unit_objective
    solver.parameters.random_seed = int(clock.options.seed) % (2**31 - 1)
    solver.parameters.relative_gap_limit = float(clock.options.gap_tolerance)
    if feasibility_only:
        solver.parameters.stop_after_first_solution = True

    class _Cb(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            if report is not None:
                report(
                    float(self.objective_value) + mip.offset,
                    float(self.best_objective_bound) + mip.offset,
                )

    with _cancel_watch(clock, solver.stop_search):
        status = solver.solve(model, _Cb() if report is not None else None)
    has_sol = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    values = np.asarray([solver.value(x) for x in xs], dtype=np.float64) if has_sol else None
    objv = float(mip.objective @ values) + mip.offset if values is not None else float("nan")
    if feasibility_only or not len(nz):
        bound = objv if has_sol else float("nan")
    else:
        bound = float(solver.best_objective_bound) + mip.offset
    return MipResult(
        values, objv, bound, status == cp_model.INFEASIBLE, status == cp_model.OPTIMAL, "cp-sat"
    )


def lp_bound(mip: MatrixMip, clock: Clock, time_limit_s: float) -> float:
    """Return the LP-relaxation bound of a matrix MIP (``nan`` if not solved in time).

    Parameters
    ----------
    mip
        The model.
    clock
        Options and deadline.
    time_limit_s
        Time budget.

    Returns
    -------
    bound
        Optimal LP value including the offset.
    """
    relaxed = replace(mip, integer=np.zeros(mip.n_cols, dtype=np.bool_))
    res = _solve_highs(
        relaxed, clock, max(0.01, time_limit_s), None, feasibility_only=False, report=None
    )
    return res.bound if res.optimal else float("nan")


# --------------------------------------------------------------------------------------------
# Uncapacitated MCLP core on groups: greedy, swap local search, MIP (M1)-(M4)
# --------------------------------------------------------------------------------------------


@dataclass
class _MclpCore:
    """Aggregated uncapacitated MCLP over candidate columns (M1)-(M4)."""

    g: sp.csr_matrix  # groups x candidates
    gt: sp.csr_matrix  # candidates x groups
    weight: FloatArray  # per group
    k: int  # number of candidate columns to choose (M3)
    usable: BoolArray  # candidate columns not removed by dominance

    @property
    def n_cand(self) -> int:
        return int(self.g.shape[1])

    def coverage(self, chosen: BoolArray) -> float:
        cnt = self.g @ chosen.astype(np.float64)
        return float(self.weight[cnt > 0].sum())


def _dominated_columns(gt: sp.csr_matrix, cost: FloatArray | None) -> BoolArray:
    """Columns whose row set is a subset of another column's (and not cheaper): removable."""
    n = gt.shape[0]
    size = np.asarray(gt.sum(axis=1)).ravel()
    inter = (gt @ gt.T).tocoo()
    dominated = np.zeros(n, dtype=np.bool_)
    a, b, v = inter.row, inter.col, inter.data
    # a is a subset of b when |a & b| == |a|; a != b
    sub = (a != b) & (v >= size[a] - 0.5) & (size[a] > 0)
    a, b = a[sub], b[sub]
    cheaper_or_equal = np.ones(len(a), dtype=np.bool_) if cost is None else cost[b] <= cost[a]
    strict = size[b] > size[a]
    if cost is not None:
        strict |= cost[b] < cost[a]
    # equal sets and equal costs: keep the lower index
    drop = cheaper_or_equal & (strict | (b < a))
    dominated[a[drop]] = True
    empty = size == 0
    dominated |= empty
    return dominated


def _mclp_greedy(core: _MclpCore, start: BoolArray) -> BoolArray:
    """Greedy: repeatedly open the column adding the most uncovered weight (M1)."""
    chosen = start.copy()
    cnt = core.g @ chosen.astype(np.float64)
    uncovered_w = np.where(cnt > 0, 0.0, core.weight)
    gain = core.gt @ uncovered_w
    gain[~core.usable | chosen] = -1.0
    g_csr, gt = core.g, core.gt
    while int(chosen.sum()) < core.k:
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen[j] = True
        gain[j] = -1.0
        rows = gt.indices[gt.indptr[j] : gt.indptr[j + 1]]
        new_rows = rows[uncovered_w[rows] > 0]
        if len(new_rows):
            lens = g_csr.indptr[new_rows + 1] - g_csr.indptr[new_rows]
            starts = np.repeat(g_csr.indptr[new_rows], lens)
            offs = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
            cols = g_csr.indices[starts + offs]
            np.subtract.at(gain, cols, np.repeat(uncovered_w[new_rows], lens))
            uncovered_w[new_rows] = 0.0
            gain[chosen | ~core.usable] = -1.0
    return chosen


def _mclp_swap(core: _MclpCore, chosen: BoolArray, clock: Clock) -> BoolArray:
    """Best-improvement swap local search (fast interchange) on (M1)."""
    chosen = chosen.copy()
    idx = np.arange(core.n_cand, dtype=np.float64)
    g = core.g
    coo_rows = np.repeat(np.arange(g.shape[0]), np.diff(g.indptr))
    while not clock.should_stop:
        y = chosen.astype(np.float64)
        cnt = g @ y
        owner = np.rint(g @ (y * idx)).astype(np.int64)  # the open column when cnt == 1
        add_gain = core.gt @ np.where(cnt == 0, core.weight, 0.0)
        once_w = np.where(cnt == 1, core.weight, 0.0)
        loss = core.gt @ once_w
        # C[j, k] = weight covered only by k that j would also cover
        sel = once_w[coo_rows] > 0
        c_mat = sp.csr_matrix(
            (once_w[coo_rows[sel]], (g.indices[sel], owner[coo_rows[sel]])),
            shape=(core.n_cand, core.n_cand),
        )
        open_cols = np.flatnonzero(chosen)
        if len(open_cols) == 0:
            break
        min_loss = float(loss[open_cols].min())
        best = add_gain - min_loss
        best_out = np.full(core.n_cand, int(open_cols[np.argmin(loss[open_cols])]))
        cc = c_mat.tocoo()
        if cc.nnz:
            val = add_gain[cc.row] - loss[cc.col] + cc.data
            order = np.lexsort((cc.col, -val, cc.row))
            rr, vv, kk = cc.row[order], val[order], cc.col[order]
            first = np.ones(len(rr), dtype=np.bool_)
            first[1:] = rr[1:] != rr[:-1]
            better = vv[first] > best[rr[first]]
            best[rr[first][better]] = vv[first][better]
            best_out[rr[first][better]] = kk[first][better]
        best[chosen | ~core.usable] = -np.inf
        j_in = int(np.argmax(best))
        if best[j_in] <= _IMPROVE_EPS * max(1.0, float(core.weight.sum())):
            break
        chosen[j_in] = True
        chosen[best_out[j_in]] = False
    return chosen


@dataclass(frozen=True)
class _Dual:
    """Lagrangian multipliers of (M2) with the bound they prove (without the constant)."""

    bound: float
    lam: FloatArray  # per group
    s: FloatArray  # per candidate column: sum of lam over the groups it covers


def _dual_value(core: _MclpCore, lam: FloatArray, usable: IntArray, k: int) -> _Dual:
    """L(lam) = sum_g max(0, W_g - lam_g) + sum of the k largest s_j (usable columns)."""
    s = np.asarray(core.gt @ lam)
    su = s[usable]
    top = float(np.sort(su)[len(su) - k :].sum()) if k > 0 else 0.0
    return _Dual(float(np.maximum(core.weight - lam, 0.0).sum()) + top, lam, s)


def _mclp_dual_bound(
    core: _MclpCore, clock: Clock, budget_s: float
) -> tuple[_Dual, FloatArray | None]:
    """Upper bound of (M1)-(M4) from the Lagrangian dual of (M2), multipliers from PDLP.

    Relaxing (M2) with multipliers 0 <= lam_g <= W_g gives, for *every* such lam, the bound
    L(lam) = sum_g max(0, W_g - lam_g) + max_{|S| <= k} sum_{j in S} s_j(lam),
    s_j = sum_{g covered by j} lam_g, whose minimum is the LP bound. The multipliers are the
    (M2) row duals of the LP relaxation solved by HiGHS PDLP at loose tolerance (first-order,
    fast on these wide sparse LPs; measured 12-19 s on 34k groups x 2k sites against 38-75 s
    for simplex/IPM to full accuracy); L is then evaluated exactly, so the bound is valid
    whatever the LP accuracy or a time limit. Subgradient and smoothed L-BFGS-B were slower
    to reach 1 % on the same instance (3 % after 600 subgradient steps).
    """
    import highspy  # noqa: PLC0415

    w = core.weight
    usable = np.flatnonzero(core.usable)
    k = min(core.k, len(usable))
    if k >= len(usable):
        return _dual_value(core, w.copy(), usable, k), None
    mip = _mclp_mip(core, 0.0)
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.silent()
    _pass_to_highs(h, mip, relax=True)
    h.setOptionValue("solver", "pdlp")
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", float(max(0.5, budget_s)))
    h.setOptionValue("pdlp_d_gap_tol", 1e-3)
    h.setOptionValue("primal_feasibility_tolerance", 1e-4)
    h.setOptionValue("dual_feasibility_tolerance", 1e-4)
    with _cancel_watch(clock, h.cancelSolve):
        h.run()
    n_g = core.g.shape[0]
    sol = h.getSolution()
    duals = np.asarray(sol.row_dual, dtype=np.float64)[:n_g]
    y_lp = np.asarray(sol.col_value, dtype=np.float64)[: core.n_cand]
    best = _dual_value(core, np.clip(duals, 0.0, w), usable, k)
    flipped = _dual_value(core, np.clip(-duals, 0.0, w), usable, k)  # sign convention guard
    return (flipped if flipped.bound < best.bound else best), y_lp


def _fix_by_reduced_cost(
    core: _MclpCore, dual: _Dual, incumbent: float
) -> tuple[_MclpCore, float, BoolArray]:
    """Lagrangian variable fixing, then the reduced core (only solutions > incumbent kept).

    With multipliers lam, forcing column j open (j outside the relaxed top-k) bounds every
    such solution by L - s_(k) + s_j; forcing a top-k column closed bounds it by
    L - s_j + s_(k+1). Where that bound is <= the incumbent, no better solution has that
    value, so the column is fixed (closed / open). Groups covered by a fixed-open column
    become the constant; groups without a free column drop out.

    Returns
    -------
    sub, constant, fixed_open
        The reduced core (columns not free are unusable), the weight covered by fixed-open
        columns, and the fixed-open mask.
    """
    usable = np.flatnonzero(core.usable)
    k = min(core.k, len(usable))
    su = dual.s[usable]
    order = np.argsort(-su, kind="stable")
    s_k = float(su[order[k - 1]])
    s_k1 = float(su[order[k]]) if k < len(usable) else 0.0
    tol = 1e-9 * max(1.0, abs(incumbent))
    in_top = np.zeros(len(usable), dtype=np.bool_)
    in_top[order[:k]] = True
    close = ~in_top & (dual.bound - s_k + su <= incumbent - tol)
    open_ = in_top & (dual.bound - su + s_k1 <= incumbent - tol)
    fixed_open = np.zeros(core.n_cand, dtype=np.bool_)
    fixed_open[usable[open_]] = True
    free = np.zeros(core.n_cand, dtype=np.bool_)
    free[usable[~close & ~open_]] = True
    covered = np.asarray(core.g @ fixed_open.astype(np.float64)) > 0
    constant = float(core.weight[covered].sum())
    reach = np.asarray(core.g @ free.astype(np.float64)) > 0
    keep = ~covered & reach
    g = core.g[keep]
    sub = _MclpCore(
        g=g,
        gt=g.T.tocsr(),
        weight=core.weight[keep],
        k=core.k - int(fixed_open.sum()),
        usable=free,
    )
    return sub, constant, fixed_open


def _mclp_mip(core: _MclpCore, offset: float) -> MatrixMip:
    """Matrix form of (M1)-(M4) over usable columns and groups; columns = [y | z]."""
    n_c, n_g = core.n_cand, core.g.shape[0]
    # (M2): z_g - sum_j y_j <= 0
    m2 = sp.hstack([-core.g, sp.identity(n_g, format="csr")], format="csr")
    # (M3): sum_j y_j <= k
    m3 = sp.csr_matrix(np.concatenate([np.ones(n_c), np.zeros(n_g)])[None, :])
    a = sp.vstack([m2, m3], format="csr")
    upper_y = core.usable.astype(np.float64)
    return MatrixMip(
        objective=np.concatenate([np.zeros(n_c), core.weight]),
        lower=np.zeros(n_c + n_g),
        upper=np.concatenate([upper_y, np.ones(n_g)]),
        integer=np.concatenate([np.ones(n_c, dtype=np.bool_), np.ones(n_g, dtype=np.bool_)]),
        matrix=a,
        row_lower=np.full(n_g + 1, -np.inf),
        row_upper=np.concatenate([np.zeros(n_g), [float(core.k)]]),
        maximise=True,
        offset=offset,
    )


# --------------------------------------------------------------------------------------------
# Shared result plumbing
# --------------------------------------------------------------------------------------------


def choose_backend(options: SolveOptions, *, pure_binary: bool, size: int) -> str:
    """Pick the exact backend for ``"auto"``; pass an explicit choice through.

    Measured on this 2-core machine (uniform plane, exact solves, wall seconds incl. build;
    HiGHS / SCIP / CP-SAT):

    * MCLP (M1)-(M4), continuous z, weighted objective: 2,000 x 200, p=10: 0.41 / 1.54 / 2.75;
      5,000 x 300, p=20: 2.35 / 4.10 / 5.83 -> HiGHS.
    * set covering (S1)-(S4), pure 0/1: 2,000 x 200: 1.56 / 0.32 / 0.17; 5,000 x 300:
      0.80 / 0.79 / 0.57 -> CP-SAT.
    * p-center binary search, (B1) subproblems pure 0/1: 500 x 50: 0.59 / 0.87 / 0.52;
      2,000 x 200, p=10: 26.3 / 8.3 / 7.5 -> CP-SAT.

    CP-SAT only makes bound progress with its full 8-worker portfolio (2 workers: the MCLP
    bound never moved in 60 s). So: pure covering models -> CP-SAT, everything else (MCLP,
    capacitated models, LP bounds) -> HiGHS.

    Parameters
    ----------
    options
        Solve options.
    pure_binary
        Whether the model is a pure covering model (binary, 0/1 coefficients).
    size
        Number of nonzeros of the model.

    Returns
    -------
    backend
        ``"highs"``, ``"scip"``, ``"cp-sat"`` or ``"heuristic"``.
    """
    del size  # kept for a size-dependent rule if measurements call for one
    if options.backend != "auto":
        return options.backend
    return "cp-sat" if pure_binary else "highs"


def make_solution(
    problem: LocationProblem,
    *,
    status: Status,
    objective: float,
    bound: float,
    open_sites: Sequence[int],
    assignment: IntArray,
    assignment_cost: FloatArray,
    clock: Clock,
    backend: str,
    message: str,
    stats: dict[str, float | int | str],
) -> Solution:
    """Build the frozen :class:`Solution` with a consistent gap and status.

    Parameters
    ----------
    problem
        The problem.
    status
        Proposed status (``OPTIMAL`` is downgraded if the gap is not closed).
    objective, bound
        Incumbent and bound.
    open_sites
        Open site indices.
    assignment, assignment_cost
        Per-row assignment and its cost.
    clock
        Start time.
    backend
        What solved it.
    message
        Plain-language summary.
    stats
        Counters.

    Returns
    -------
    solution
        The result.
    """
    gap = relative_gap(objective, bound)
    if status == Status.OPTIMAL and not (np.isfinite(gap) and gap <= _OPTIMAL_GAP):
        status = Status.FEASIBLE
    if status == Status.FEASIBLE and np.isfinite(gap) and gap <= _OPTIMAL_GAP:
        status = Status.OPTIMAL
    return Solution(
        model=problem.kind,
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        open_sites=tuple(sorted(int(j) for j in open_sites)),
        assignment=assignment,
        assignment_cost=assignment_cost,
        runtime_s=clock.elapsed_s,
        backend=backend,
        message=message,
        stats=stats,
    )


def infeasible_solution(
    problem: LocationProblem,
    clock: Clock,
    message: str,
    stats: dict[str, float | int | str],
    *,
    status: Status = Status.INFEASIBLE,
) -> Solution:
    """Return the INFEASIBLE solution carrying a plain-language reason.

    Parameters
    ----------
    problem
        The problem.
    clock
        Start time.
    message
        Why, with numbers.
    stats
        Counters.

    Returns
    -------
    status
        ``INFEASIBLE`` (proven) or ``ERROR`` (no solution found in time).

    Returns
    -------
    solution
        No sites, every row -1.
    """
    n = problem.n_demand
    return Solution(
        model=problem.kind,
        status=status,
        objective=float("nan"),
        bound=float("nan"),
        gap=float("nan"),
        open_sites=(),
        assignment=np.full(n, -1, dtype=np.int64),
        assignment_cost=np.full(n, np.nan),
        runtime_s=clock.elapsed_s,
        backend="presolve",
        message=message,
        stats=stats,
    )


class _Negated:
    """Adapter: the N-best/regret helpers minimise, MCLP maximises."""

    def __init__(self, model: MCLP) -> None:
        self.model = model

    def evaluate(self, open_sites: Sequence[int]) -> tuple[float, IntArray, FloatArray]:
        obj, a, c = self.model.evaluate(open_sites)
        return -obj, a, c


def add_decision_support(
    solution: Solution,
    model: Evaluator,
    clock: Clock,
    *,
    sites: SiteData,
    maximise: bool,
    swap_delta: SwapDelta | None = None,
    drop_regret: dict[int, float] | None = None,
    evaluate_cost: int = 1,
) -> Solution:
    """Attach drop-one / swap regret and the N best open sets (via :mod:`._decision`).

    Parameters
    ----------
    solution
        The solution (returned unchanged when it carries none).
    model
        Anything with ``evaluate`` in *minimisation* terms (MCLP passes :class:`_Negated`).
    sites
        Site data (required / forbidden).
    clock
        Options (``compute_regret``, ``n_best``) and the deadline.
    maximise
        Convert alternatives back to the maximised objective.
    swap_delta
        Fast swap evaluation (uncapacitated MCLP).
    drop_regret
        Precomputed drop-one regret (vectorised), used instead of ``evaluate`` calls.
    evaluate_cost
        Rough work of one ``evaluate`` (nonzeros); regret by repeated evaluation is skipped
        when it would take too long (``stats["regret"]`` says so).

    Returns
    -------
    solution
        With ``regret``, ``swap_regret`` and ``alternatives`` filled in as requested.
    """
    opts = clock.options
    if not solution.has_solution or not (opts.compute_regret or opts.n_best > 1):
        return solution
    if clock.should_stop:  # the time limit covers decision support too
        stats0 = dict(solution.stats)
        stats0["regret"] = "skipped: time limit reached before decision support"
        return replace(solution, stats=stats0)
    opened = tuple(int(j) for j in solution.open_sites)
    sign = -1.0 if maximise else 1.0
    objective = sign * solution.objective
    candidates = np.flatnonzero(~sites.forbidden).tolist()
    stats = dict(solution.stats)
    cheap = evaluate_cost * max(1, len(opened)) <= _REGRET_WORK_LIMIT
    regret: dict[int, float] = {}
    swap: dict[int, float] = {}
    if opts.compute_regret:
        if drop_regret is not None:
            regret = drop_regret
        elif cheap:
            regret = drop_one_regret(model, opened, objective)
        if swap_delta is not None or cheap:
            swap = swap_regret(
                model,
                opened,
                objective,
                candidates=candidates,
                swap_delta=swap_delta,
                max_evaluations=max(1, _REGRET_WORK_LIMIT // max(1, evaluate_cost)),
            )
        if not regret or not swap:
            stats["regret"] = "skipped: too large for repeated evaluation"
    alternatives = solution.alternatives
    if opts.n_best > 1:
        alts, exact = n_best(
            model,
            opened,
            objective,
            opts.n_best,
            required=np.flatnonzero(sites.required).tolist(),
            candidates=candidates,
            swap_delta=swap_delta,
            should_stop=lambda: clock.should_stop,
        )
        alternatives = tuple(
            Alternative(open_sites=a.open_sites, objective=sign * a.objective) for a in alts
        )
        stats["alternatives"] = "exact N best" if exact else "best found within single swaps"
    return replace(
        solution, regret=regret, swap_regret=swap, alternatives=alternatives, stats=stats
    )


def with_decision_support(
    solution: Solution,
    model: Evaluator,
    problem: LocationProblem,
    clock: Clock,
    *,
    maximise: bool = False,
    drop_regret: Callable[[Sequence[int]], dict[int, float]] | None = None,
    swap_delta: SwapDelta | None = None,
) -> Solution:
    """Attach decision support at the end of ``solve`` (the tail shared by all three models).

    The vectorised shortcuts ``drop_regret`` and ``swap_delta`` hold only without capacities
    and are ignored for a capacitated problem, where one ``evaluate`` solves an assignment
    MIP and counts as :data:`_MIP_EVALUATE_FACTOR` times the nonzeros.

    Parameters
    ----------
    solution
        The solution from the model's own solve.
    model
        Anything with ``evaluate`` in minimisation terms (see :func:`add_decision_support`).
    problem
        The problem (sites, capacities, size of the cost structure).
    clock
        Options (``compute_regret``, ``n_best``) and the deadline.
    maximise
        Whether the model maximises.
    drop_regret
        Vectorised drop-one regret of an open set (uncapacitated only).
    swap_delta
        Fast swap evaluation (uncapacitated only).

    Returns
    -------
    solution
        With ``regret``, ``swap_regret`` and ``alternatives`` filled in as requested.
    """
    capacitated = problem.capacitated
    drop = (
        drop_regret(solution.open_sites)
        if drop_regret is not None
        and solution.has_solution
        and clock.options.compute_regret
        and not capacitated
        and not clock.should_stop
        else None
    )
    return add_decision_support(
        solution,
        model,
        clock,
        sites=problem.sites,
        maximise=maximise,
        swap_delta=None if capacitated else swap_delta,
        drop_regret=drop,
        evaluate_cost=problem.costs.nnz * (_MIP_EVALUATE_FACTOR if capacitated else 1),
    )


def pad_open(
    problem: LocationProblem,
    chosen_sites: Sequence[int] | IntArray,
    target_new: int,
    order: IntArray | None = None,
) -> list[int]:
    """Return required + chosen sites, padded with free sites up to ``target_new`` new ones.

    Parameters
    ----------
    problem
        The problem.
    chosen_sites
        New (free) sites chosen by the solver.
    target_new
        Number of new sites wanted.
    order
        Preference order of free sites for padding (default: ascending index).

    Returns
    -------
    open_sites
        Sorted open site indices.
    """
    sites = problem.sites
    chosen = {int(j) for j in chosen_sites}
    free = ~sites.required & ~sites.forbidden
    candidates = order if order is not None else np.flatnonzero(free)
    for j in candidates:
        if len(chosen) >= target_new:
            break
        if free[j]:
            chosen.add(int(j))
    return sorted(chosen | {int(j) for j in np.flatnonzero(sites.required)})


def _fmt(x: float) -> str:
    return f"{x:,.6g}"


def _cap_pairs(
    problem: LocationProblem, entry_ok: BoolArray, rows_in: BoolArray
) -> tuple[IntArray, IntArray]:
    """Row and site index of each usable (row, site) pair for a row-level capacitated MIP."""
    costs = problem.costs
    ok = entry_ok & ~problem.sites.forbidden[costs.site_index] & rows_in[costs.row_of_entry]
    ent = np.flatnonzero(ok)
    return costs.row_of_entry[ent], costs.site_index[ent]


@dataclass(frozen=True, eq=False)
class AssignMip:
    """Row-level capacitated location MIP: columns are ``[y_j (all sites) | x_p (pairs)]``.

    Parameters
    ----------
    mip
        The matrix model.
    pair_row, pair_site
        Row and site of each pair column.
    n_sites
        Number of ``y`` columns.
    """

    mip: MatrixMip
    pair_row: IntArray
    pair_site: IntArray
    n_sites: int

    def split(self, values: FloatArray, n_rows: int | None = None) -> tuple[BoolArray, IntArray]:
        """Return (open mask, assignment per row; -1 if none) from a solution vector.

        ``n_rows`` is the length of the assignment (default: up to the last row with a pair).
        """
        y = values[: self.n_sites] > 0.5  # noqa: PLR2004
        x = values[self.n_sites :] > 0.5  # noqa: PLR2004
        if n_rows is None:
            n_rows = int(self.pair_row.max()) + 1 if len(self.pair_row) else 0
        assignment = np.full(n_rows, -1, dtype=np.int64)
        assignment[self.pair_row[x]] = self.pair_site[x]
        return y, assignment

    def hint(self, open_mask: BoolArray, assignment: IntArray) -> FloatArray:
        """Solution vector of a given open set and assignment."""
        x = np.zeros(len(self.pair_row))
        a = np.full(int(self.pair_row.max()) + 1 if len(self.pair_row) else 0, -1)
        a[: min(len(a), len(assignment))] = assignment[: len(a)]
        x[a[self.pair_row] == self.pair_site] = 1.0
        return np.concatenate([open_mask.astype(np.float64), x])


def build_assign_mip(
    problem: LocationProblem,
    pair_row: IntArray,
    pair_site: IntArray,
    *,
    objective_y: FloatArray,
    objective_x: FloatArray,
    maximise: bool,
    must_assign: BoolArray | None,
    n_open: tuple[int, int],
    fixed_open: BoolArray | None = None,
    capacitated: bool = True,
) -> AssignMip:
    """Build ``x_ij <= y_j``, per-row assignment, capacity and open-count rows.

    Parameters
    ----------
    problem
        The problem (weights, capacities, required/forbidden).
    pair_row, pair_site
        Allowed pairs.
    objective_y, objective_x
        Objective coefficients of ``y`` (per site) and ``x`` (per pair).
    maximise
        Sense.
    must_assign
        Rows that must be assigned exactly once (others at most once); ``None`` = none.
    n_open
        Bounds (min, max) on the total number of open sites.
    fixed_open
        If given, the open set is fixed to this mask (evaluation of a given network).
    capacitated
        Whether to add the capacity rows.

    Returns
    -------
    model
        The row-level MIP.
    """
    sites, w = problem.sites, problem.weights
    m, n_p = problem.n_sites, len(pair_row)
    rows_used, row_pos = np.unique(pair_row, return_inverse=True)
    pidx = np.arange(n_p)
    y_lo = sites.required.astype(np.float64)
    y_hi = (~sites.forbidden).astype(np.float64)
    if fixed_open is not None:
        y_lo = fixed_open.astype(np.float64)
        y_hi = fixed_open.astype(np.float64)
    blocks = []
    lo_parts: list[FloatArray] = []
    hi_parts: list[FloatArray] = []
    # (C2)/(K2): one assignment per row
    assign = sp.csr_matrix((np.ones(n_p), (row_pos, m + pidx)), shape=(len(rows_used), m + n_p))
    blocks.append(assign)
    must = must_assign[rows_used] if must_assign is not None else np.zeros(len(rows_used), bool)
    lo_parts.append(np.where(must, 1.0, -np.inf))
    hi_parts.append(np.ones(len(rows_used)))
    # (C3)/(K3): x_ij - y_j <= 0
    link = sp.csr_matrix(
        (
            np.concatenate([np.ones(n_p), -np.ones(n_p)]),
            (np.concatenate([pidx, pidx]), np.concatenate([m + pidx, pair_site])),
        ),
        shape=(n_p, m + n_p),
    )
    blocks.append(link)
    lo_parts.append(np.full(n_p, -np.inf))
    hi_parts.append(np.zeros(n_p))
    if capacitated:
        # (C4)/(K4): sum_i w_i x_ij - Q_j y_j <= 0 for finite capacities
        finite = np.flatnonzero(np.isfinite(sites.capacity) & ~sites.forbidden)
        pos = np.full(m, -1)
        pos[finite] = np.arange(len(finite))
        sel = pos[pair_site] >= 0
        cap = sp.csr_matrix(
            (
                np.concatenate([w[pair_row[sel]], -sites.capacity[finite]]),
                (
                    np.concatenate([pos[pair_site[sel]], np.arange(len(finite))]),
                    np.concatenate([m + pidx[sel], finite]),
                ),
            ),
            shape=(len(finite), m + n_p),
        )
        blocks.append(cap)
        lo_parts.append(np.full(len(finite), -np.inf))
        hi_parts.append(np.zeros(len(finite)))
    # (C5)/(K5): number of open sites
    blocks.append(sp.csr_matrix(np.concatenate([np.ones(m), np.zeros(n_p)])[None, :]))
    lo_parts.append(np.asarray([float(n_open[0])]))
    hi_parts.append(np.asarray([float(n_open[1])]))
    mip = MatrixMip(
        objective=np.concatenate([objective_y, objective_x]),
        lower=np.concatenate([y_lo, np.zeros(n_p)]),
        upper=np.concatenate([y_hi, np.ones(n_p)]),
        integer=np.ones(m + n_p, dtype=np.bool_),
        matrix=sp.vstack(blocks, format="csr"),
        row_lower=np.concatenate(lo_parts),
        row_upper=np.concatenate(hi_parts),
        maximise=maximise,
    )
    return AssignMip(mip=mip, pair_row=pair_row, pair_site=pair_site, n_sites=m)


def greedy_capacity_assignment(
    problem: LocationProblem,
    pair_row: IntArray,
    pair_site: IntArray,
    open_mask: BoolArray,
    row_order: IntArray,
) -> IntArray:
    """Assign rows (in ``row_order``) to the open allowed pair site with most spare capacity.

    Parameters
    ----------
    problem
        The problem (weights, capacities).
    pair_row, pair_site
        Allowed pairs.
    open_mask
        Open sites.
    row_order
        Order in which rows are considered.

    Returns
    -------
    assignment
        Per row the site, or -1 when no open site has room.
    """
    w, cap = problem.weights, problem.sites.capacity.astype(np.float64).copy()
    ok = open_mask[pair_site]
    pr, ps = pair_row[ok], pair_site[ok]
    order = np.argsort(pr, kind="stable")
    pr, ps = pr[order], ps[order]
    start = np.searchsorted(pr, np.arange(problem.n_demand))
    end = np.searchsorted(pr, np.arange(problem.n_demand), side="right")
    assignment = np.full(problem.n_demand, -1, dtype=np.int64)
    for i in row_order:
        opts = ps[start[i] : end[i]]
        if len(opts) == 0:
            continue
        room = cap[opts] - w[i]
        k = int(np.argmax(room))
        if room[k] >= -_CAPACITY_SLACK:
            assignment[i] = opts[k]
            cap[opts[k]] -= w[i]
    return assignment


# --------------------------------------------------------------------------------------------
# MCLP
# --------------------------------------------------------------------------------------------


class MCLP(GeoBuildMixin):
    """Maximal covering location: open ``p`` sites covering the most demand within a radius.

    Parameters
    ----------
    problem
        A problem of kind ``"mclp"``.

    Examples
    --------
    >>> m = MCLP.from_cost_matrix([[1.0, 9.0], [9.0, 1.0], [2.0, 9.0]], [1, 5, 1], p=1,
    ...                           service_radius=3.0)
    >>> m.solve().objective
    5.0
    """

    kind = "mclp"

    def __init__(self, problem: LocationProblem) -> None:
        if problem.kind != self.kind:
            msg = f"MCLP needs a problem of kind 'mclp', got {problem.kind!r}."
            raise ValidationError(msg, source="MCLP")
        self.problem = problem

    @classmethod
    def from_cost_matrix(
        cls,
        costs: CostMatrix | npt.ArrayLike,
        weights: npt.ArrayLike,
        *,
        p: int,
        service_radius: float,
        sites: SiteData | None = None,
        max_cost: float | None = None,
        capacitated: bool = False,
        min_new_sites: int = 0,
        max_new_sites: int | None = None,
    ) -> MCLP:
        """Build the model from a cost matrix.

        Parameters
        ----------
        costs
            Sparse cost structure or dense array (``nan``/``inf`` = not allowed).
        weights
            Demand weight per row (scalar broadcasts).
        p
            Total number of open sites, required ones included.
        service_radius
            Coverage radius in the cost unit.
        sites
            Site attributes; default: all free, uncapacitated.
        max_cost
            Optional service cutoff (pairs above it are not allowed at all).
        capacitated
            Count a row only if it is assigned to a covering site within its capacity.
        min_new_sites, max_new_sites
            Bounds on the number of non-required open sites.

        Returns
        -------
        model
            The MCLP model.
        """
        matrix = as_cost_matrix(costs, max_cost)
        problem = LocationProblem(
            kind="mclp",
            costs=matrix,
            weights=as_weights(weights, matrix.n_demand),
            sites=sites if sites is not None else SiteData.default(matrix.n_sites),
            p=p,
            service_radius=float(service_radius),
            capacitated=capacitated,
            min_new_sites=min_new_sites,
            max_new_sites=max_new_sites,
        )
        return cls(problem)

    @property
    def _radius(self) -> float:
        return float(self.problem.service_radius or 0.0)

    def evaluate(self, open_sites: Sequence[int]) -> tuple[float, IntArray, FloatArray]:
        """Return the objective, assignment and assignment cost of a fixed open set.

        Parameters
        ----------
        open_sites
            Open site indices.

        Returns
        -------
        objective, assignment, assignment_cost
            Covered demand; per row the covering site (-1 if none) and its cost. With
            capacities the assignment maximising covered demand within capacity is solved
            exactly (HiGHS).
        """
        problem = self.problem
        mask = site_mask(problem.n_sites, open_sites)
        within = _within(problem.costs.cost, self._radius)
        if not problem.capacitated:
            a, c = nearest_open(problem.costs, within, mask)
            covered = a >= 0
            return float(problem.weights[covered].sum()), a, c
        return self._evaluate_capacitated(mask, within)

    def _evaluate_capacitated(
        self, mask: BoolArray, within: BoolArray
    ) -> tuple[float, IntArray, FloatArray]:
        problem = self.problem
        w = problem.weights
        rows_in = w > 0
        pr, ps = _cap_pairs(problem, within, rows_in)
        keep = mask[ps]
        pr, ps = pr[keep], ps[keep]
        n_open = int(mask.sum())
        model = build_assign_mip(
            problem,
            pr,
            ps,
            objective_y=np.zeros(problem.n_sites),
            objective_x=w[pr],
            maximise=True,
            must_assign=None,
            n_open=(n_open, n_open),
            fixed_open=mask,
        )
        clock = Clock(SolveOptions(time_limit_s=60.0))
        res = solve_mip(model.mip, "highs", clock, time_limit_s=60.0)
        if res.values is None:
            a = greedy_capacity_assignment(problem, pr, ps, mask, np.argsort(-w, kind="stable"))
        else:
            a = model.split(res.values, problem.n_demand)[1]
        return self._with_costs(a)

    def _with_costs(self, a: IntArray) -> tuple[float, IntArray, FloatArray]:
        problem = self.problem
        return float(problem.weights[a >= 0].sum()), a, pair_costs(problem.costs, a)

    def solve(self, options: SolveOptions | None = None) -> Solution:
        """Solve the model; never raises on a time limit once a solution is known.

        Parameters
        ----------
        options
            Time limit, gap, seed, backend, progress, cancellation.

        Returns
        -------
        solution
            Covered demand as objective; ``bound`` is an upper bound.
        """
        opts = options or SolveOptions()
        clock = Clock(opts, maximise=True)
        problem = self.problem
        cov = _coverage(problem, self._radius)
        w = problem.weights
        stats: dict[str, float | int | str] = {
            "rows_truncated_inside_radius": cov.truncated_rows,
            "uncoverable_rows": int((~cov.coverable).sum()),
            "uncoverable_weight": float(w[~cov.coverable].sum()),
        }
        k, reason = new_sites_for_p(problem)
        if k < 0:
            return infeasible_solution(problem, clock, reason, stats)
        if problem.capacitated:
            sol = self._solve_capacitated(cov, k, clock, stats)
        else:
            sol = self._solve_uncapacitated(cov, k, clock, stats)
        return with_decision_support(
            sol,
            _Negated(self),
            problem,
            clock,
            maximise=True,
            drop_regret=self._drop_regret,
            swap_delta=lambda s: self._swap_tables(s)[:2],
        )

    def _drop_regret(self, open_sites: Sequence[int]) -> dict[int, float]:
        """Drop-one regret (coverage lost), vectorised (uncapacitated)."""
        out_sites, _, loss = self._swap_tables(open_sites)
        return {int(j): float(v) for j, v in zip(out_sites, loss, strict=True)}

    def _swap_tables(self, open_sites: Sequence[int]) -> tuple[IntArray, FloatArray, FloatArray]:
        """Swap deltas and drop losses for a fixed open set (uncapacitated, vectorised).

        Returns
        -------
        out_sites, delta, loss
            Open sites; ``delta[k, j]`` = change of *minus* coverage when ``out_sites[k]``
            closes and ``j`` opens (for :mod:`._decision`); ``loss[k]`` = coverage lost when
            ``out_sites[k]`` alone closes.
        """
        problem = self.problem
        costs, sites, w = problem.costs, problem.sites, problem.weights
        m = problem.n_sites
        ok = _within(costs.cost, self._radius) & ~sites.forbidden[costs.site_index]
        ent = np.flatnonzero(ok)
        a = sp.csr_matrix(
            (np.ones(len(ent)), (costs.row_of_entry[ent], costs.site_index[ent])),
            shape=(problem.n_demand, m),
        )
        out_sites = np.asarray(sorted(int(j) for j in open_sites), dtype=np.int64)
        y = np.zeros(m)
        y[out_sites] = 1.0
        cnt = np.asarray(a @ y)
        owner = np.rint(np.asarray(a @ (y * np.arange(m)))).astype(np.int64)
        add = a.T @ np.where(cnt == 0, w, 0.0)
        once = np.where(cnt == 1, w, 0.0)
        loss_all = a.T @ once
        pos = np.full(m, -1, dtype=np.int64)
        pos[out_sites] = np.arange(len(out_sites))
        rows_once = np.flatnonzero(once > 0)
        sub = a[rows_once].tocoo()
        r = rows_once[sub.row]
        c_mat = sp.csr_matrix((w[r], (pos[owner[r]], sub.col)), shape=(len(out_sites), m)).toarray()
        gain = add[None, :] - loss_all[out_sites][:, None] + c_mat
        return out_sites, -gain, loss_all[out_sites]

    # -- uncapacitated ------------------------------------------------------------------------

    def _build_core(self, cov: Coverage, k: int) -> tuple[_MclpCore, _Groups, float]:
        w = self.problem.weights
        rows = np.flatnonzero(~cov.covered_by_required & (w > 0) & (np.diff(cov.row_indptr) > 0))
        indptr, cols = cov.subset(rows)
        groups = _group_rows(rows, indptr, cols, w[rows], self.problem.n_demand)
        n_cand = len(cov.cand_sites)
        g = groups.matrix(n_cand)
        gt = g.T.tocsr()
        usable = ~_dominated_columns(gt, None)
        base = float(w[cov.covered_by_required].sum())
        return _MclpCore(g=g, gt=gt, weight=groups.weight, k=k, usable=usable), groups, base

    def _solve_uncapacitated(
        self, cov: Coverage, k: int, clock: Clock, stats: dict[str, float | int | str]
    ) -> Solution:
        problem, opts = self.problem, clock.options
        core, _groups, base = self._build_core(cov, k)
        stats.update(
            groups=core.g.shape[0],
            candidate_sites=core.n_cand,
            dominated_sites=int((~core.usable).sum()),
        )
        total = base + float(core.weight.sum())
        # (M3): at most k columns, and never more than the usable ones
        chosen = _mclp_greedy(core, np.zeros(core.n_cand, dtype=np.bool_))
        clock.report(incumbent=-(base + core.coverage(chosen)), phase="greedy")
        chosen = _mclp_swap(core, chosen, clock)
        incumbent = base + core.coverage(chosen)
        bound = total
        clock.report(incumbent=-incumbent, phase="local search")
        backend_used = "greedy+swap"
        proven = incumbent >= total - 1e-9 * max(1.0, total)
        n_usable = int(core.usable.sum())
        if n_usable <= k:  # every useful site fits: greedy opened all that help
            proven = True
        if proven:
            bound = incumbent
        backend = choose_backend(opts, pure_binary=False, size=int(core.g.nnz))
        if not proven and core.g.shape[0] > 0:
            chosen, incumbent, bound, used = self._exact_phase(
                core,
                base=base,
                chosen=chosen,
                incumbent=incumbent,
                backend=backend,
                clock=clock,
                stats=stats,
            )
            backend_used += used
        bound = max(bound, incumbent)
        clock.report(incumbent=-incumbent, bound=-bound, phase="done")
        # pad to exactly p (M3 note): prefer sites covering the most weight
        free_order = np.argsort(-(core.gt @ core.weight), kind="stable")
        chosen_sites = cov.cand_sites[np.flatnonzero(chosen)]
        open_sites = pad_open(problem, chosen_sites, k, order=cov.cand_sites[free_order])
        objective, assignment, cost = self.evaluate(open_sites)
        stopped = "cancelled" if opts.cancel is not None and opts.cancel.cancelled else ""
        msg = self._message(objective, bound, stats, stopped)
        status = (
            Status.OPTIMAL if bound - objective <= 1e-9 * max(1.0, objective) else (Status.FEASIBLE)
        )
        return make_solution(
            problem,
            status=status,
            objective=objective,
            bound=bound,
            open_sites=open_sites,
            assignment=assignment,
            assignment_cost=cost,
            clock=clock,
            backend=backend_used,
            message=msg,
            stats=stats,
        )

    def _exact_phase(
        self,
        core: _MclpCore,
        *,
        base: float,
        chosen: BoolArray,
        incumbent: float,
        backend: str,
        clock: Clock,
        stats: dict[str, float | int | str],
    ) -> tuple[BoolArray, float, float, str]:
        """Bound and improve the incumbent: direct MIP when small, else dual + fixing + MIP."""
        opts = clock.options
        used = ""
        bound = base + float(core.weight.sum())

        def report(inc: float | None, bnd: float | None) -> None:
            clock.report(
                incumbent=None if inc is None else -inc,
                bound=None if bnd is None else -bnd,
                phase=backend,
            )

        sub = core
        sub_base = base
        fixed_open = np.zeros(core.n_cand, dtype=np.bool_)
        if int(core.g.nnz) > _DIRECT_MIP_MAX_NNZ or backend == "heuristic":
            budget = clock.remaining_s * (1.0 if backend == "heuristic" else 0.85)
            dual, y_lp = _mclp_dual_bound(core, clock, budget)
            bound = min(bound, base + dual.bound)
            used += "+lagrangian"
            clock.report(incumbent=-incumbent, bound=-bound, phase="lagrangian")
            stats["lagrangian_bound"] = base + dual.bound
            if y_lp is not None and not clock.should_stop:
                # LP-guided restart: the k largest LP values (ties by multiplier score), then swaps
                score = np.where(core.usable, y_lp + 1e-6 * dual.s / max(1.0, dual.s.max()), -1)
                start = np.zeros(core.n_cand, dtype=np.bool_)
                start[np.argsort(-score, kind="stable")[: core.k]] = True
                start &= core.usable
                cand = _mclp_swap(core, start, clock)
                val = base + core.coverage(cand)
                stats["lp_restart_objective"] = val
                if val > incumbent:
                    chosen, incumbent = cand, val
                    clock.report(incumbent=-incumbent, phase="lp restart")
            if backend == "heuristic" or relative_gap(incumbent, bound) <= opts.gap_tolerance:
                return chosen, incumbent, bound, used
            sub, sub_base, fixed_open = _fix_by_reduced_cost(core, dual, incumbent - base)
            sub_base += base
            stats["fixed_open"] = int(fixed_open.sum())
            stats["fixed_closed"] = int((~sub.usable & core.usable & ~fixed_open).sum())
            stats["reduced_groups"] = int(sub.g.shape[0])
            backend = choose_backend(opts, pure_binary=False, size=int(sub.g.nnz))
        if clock.should_stop or sub.g.shape[0] == 0 or sub.k <= 0:
            return chosen, incumbent, bound, used
        mip = _mclp_mip(sub, sub_base)
        in_sub = chosen & sub.usable
        hint = None
        if not (chosen & ~sub.usable & ~fixed_open).any():
            hint = np.concatenate(
                [in_sub.astype(np.float64), (sub.g @ in_sub.astype(np.float64) > 0) * 1.0]
            )
        res = solve_mip(
            mip, backend, clock, time_limit_s=clock.remaining_s, hint=hint, report=report
        )
        used += f"+{res.backend}"
        if res.values is not None:
            cand = (res.values[: sub.n_cand] > 0.5) | fixed_open  # noqa: PLR2004
            val = base + core.coverage(cand)
            if val > incumbent:
                chosen, incumbent = cand, val
        if np.isfinite(res.bound):
            # the reduced problem only holds solutions that can beat the old incumbent
            bound = min(bound, max(res.bound, incumbent))
        if res.optimal:
            bound = min(bound, max(incumbent, res.objective))
        return chosen, incumbent, bound, used

    def _message(
        self, objective: float, bound: float, stats: dict[str, float | int | str], extra: str
    ) -> str:
        w = self.problem.weights
        total = float(w.sum())
        share = objective / total if total > 0 else 1.0
        parts = [
            f"covers {_fmt(objective)} of {_fmt(total)} demand ({share:.1%}) within "
            f"{_fmt(self._radius)} {self.problem.costs.unit}; upper bound {_fmt(bound)}."
        ]
        if int(stats["uncoverable_rows"]):
            parts.append(
                f"{stats['uncoverable_rows']} demand row(s) with weight "
                f"{_fmt(float(stats['uncoverable_weight']))} are farther than the radius from "
                "every allowed site."
            )
        if int(stats["rows_truncated_inside_radius"]):
            parts.append(
                f"{stats['rows_truncated_inside_radius']} row(s) have candidate lists cut off "
                "inside the radius; only listed sites count as covering."
            )
        if extra:
            parts.append(f"Stopped early ({extra}).")
        return " ".join(parts)

    # -- capacitated --------------------------------------------------------------------------

    def _solve_capacitated(
        self, cov: Coverage, k: int, clock: Clock, stats: dict[str, float | int | str]
    ) -> Solution:
        problem, opts = self.problem, clock.options
        w = problem.weights
        within = cov.entry_within
        pr, ps = _cap_pairs(problem, within, w > 0)
        # Heuristic start: uncapacitated greedy + swap, then greedy capacity assignment.
        core, _, _ = self._build_core(cov, k)
        chosen = _mclp_swap(core, _mclp_greedy(core, np.zeros(core.n_cand, bool)), clock)
        free_order = cov.cand_sites[np.argsort(-(core.gt @ core.weight), kind="stable")]
        open0 = pad_open(problem, cov.cand_sites[np.flatnonzero(chosen)], k, order=free_order)
        mask0 = site_mask(problem.n_sites, open0)
        a0 = greedy_capacity_assignment(problem, pr, ps, mask0, np.argsort(-w, kind="stable"))
        incumbent = float(w[a0 >= 0].sum())
        best_mask, best_a = mask0, a0
        # Bound: uncapacitated coverage bound is valid (capacity only removes coverage).
        bound = float(w[cov.coverable].sum())
        clock.report(incumbent=-incumbent, bound=-bound, phase="greedy")
        p = int(problem.p or 0)
        model = build_assign_mip(
            problem,
            pr,
            ps,
            objective_y=np.zeros(problem.n_sites),
            objective_x=w[pr],
            maximise=True,
            must_assign=None,
            n_open=(p, p),
        )
        backend = choose_backend(opts, pure_binary=False, size=int(model.mip.matrix.nnz))
        backend_used = "greedy"
        if backend == "heuristic":
            lb = lp_bound(model.mip, clock, clock.remaining_s)
            if np.isfinite(lb):
                bound = min(bound, lb)
            backend_used += "+lp"
        elif incumbent < bound - 1e-9 * max(1.0, bound):
            res = solve_mip(
                model.mip,
                backend,
                clock,
                time_limit_s=clock.remaining_s,
                hint=model.hint(mask0, a0),
            )
            backend_used += f"+{res.backend}"
            if res.values is not None:
                m_open, a = model.split(res.values, problem.n_demand)
                val = float(w[a >= 0].sum())
                if val > incumbent:
                    incumbent, best_mask, best_a = val, m_open, a
            if np.isfinite(res.bound):
                bound = min(bound, res.bound)
        else:
            bound = incumbent
        bound = max(bound, incumbent)
        open_sites = [int(j) for j in np.flatnonzero(best_mask)]
        objective, assignment, cost = self._with_costs(best_a)
        stats["geometric_coverage"] = float(
            w[nearest_open(problem.costs, within, best_mask)[0] >= 0].sum()
        )
        msg = self._message(objective, bound, stats, "") + (
            " Capacitated: a row counts only if assigned to a covering site within capacity."
        )
        return make_solution(
            problem,
            status=Status.FEASIBLE,
            objective=objective,
            bound=bound,
            open_sites=open_sites,
            assignment=assignment,
            assignment_cost=cost,
            clock=clock,
            backend=backend_used,
            message=msg,
            stats=stats,
        )


# --------------------------------------------------------------------------------------------
# Set covering
# --------------------------------------------------------------------------------------------


@dataclass
class CoverCore:
    """Reduced uncapacitated set-covering instance over candidate columns (S1)-(S4).

    Parameters
    ----------
    g
        Groups x candidate columns (0/1), rows to cover.
    cost
        Per candidate column cost (``f_j``, or 1).
    forced
        Columns fixed open by reductions (essential columns).
    usable
        Columns not removed by dominance.
    """

    g: sp.csr_matrix
    cost: FloatArray
    forced: BoolArray
    usable: BoolArray

    @property
    def n_cand(self) -> int:
        """Number of candidate columns."""
        return int(self.g.shape[1])


def reduce_cover(
    indptr: IntArray, cols: IntArray, cost: FloatArray, *, allow_column_dominance: bool
) -> CoverCore:
    """Deduplicate rows, fix essential columns and drop dominated columns (exact).

    Parameters
    ----------
    indptr, cols
        Rows to cover, CSR over candidate columns.
    cost
        Per column cost.
    allow_column_dominance
        Whether dominated columns may be dropped (not with a minimum count of sites).

    Returns
    -------
    core
        The reduced instance.
    """
    n_cand = len(cost)
    rows = np.arange(len(indptr) - 1, dtype=np.int64)
    groups = _group_rows(rows, indptr, cols, np.ones(len(rows)), len(rows))
    g = groups.matrix(n_cand)
    forced = np.zeros(n_cand, dtype=np.bool_)
    usable = np.ones(n_cand, dtype=np.bool_)
    for _ in range(50):
        active_rows = np.asarray(g @ forced.astype(np.float64)).ravel() == 0
        g_act = g[active_rows][:, :]
        g_act = g_act @ sp.diags(usable.astype(np.float64))
        g_act.eliminate_zeros()
        lens = np.diff(g_act.indptr)
        single = lens == 1
        changed = False
        if single.any():
            ess = np.unique(g_act.indices[g_act.indptr[:-1][single]])
            if (~forced[ess]).any():
                forced[ess] = True
                changed = True
        if allow_column_dominance:
            g_act2 = g[np.asarray(g @ forced.astype(np.float64)).ravel() == 0]
            gt = (g_act2 @ sp.diags(usable.astype(np.float64))).T.tocsr()
            gt.eliminate_zeros()
            dom = _dominated_columns(gt, cost) & usable & ~forced
            if dom.any():
                usable &= ~dom
                changed = True
        if not changed:
            break
    keep = np.asarray(g @ forced.astype(np.float64)).ravel() == 0
    g = (g[keep] @ sp.diags(usable.astype(np.float64))).tocsr()
    g.eliminate_zeros()
    return CoverCore(g=g, cost=cost, forced=forced, usable=usable)


def greedy_cover(core: CoverCore, max_count: int | None = None) -> BoolArray | None:
    """Chvatal greedy (cost per newly covered row) plus redundancy removal.

    Parameters
    ----------
    core
        The reduced instance.
    max_count
        Stop (returning ``None``) once more than this many columns would be needed.

    Returns
    -------
    chosen
        Chosen columns (forced ones included), or ``None`` if rows stay uncovered.
    """
    g = core.g
    gt = g.T.tocsr()
    chosen = core.forced.copy()
    uncovered = np.ones(g.shape[0], dtype=np.bool_)
    count = np.asarray(gt @ uncovered.astype(np.float64)).ravel()
    count[~core.usable] = 0.0
    while uncovered.any():
        if max_count is not None and int(chosen.sum()) >= max_count:
            return None
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(count > 0, core.cost / np.maximum(count, 1e-300), np.inf)
        j = int(np.argmin(score))
        if not np.isfinite(score[j]):
            return None
        chosen[j] = True
        rows = gt.indices[gt.indptr[j] : gt.indptr[j + 1]]
        newly = rows[uncovered[rows]]
        uncovered[newly] = False
        if len(newly):
            sub = g[newly]
            np.subtract.at(count, sub.indices, 1.0)
        count[j] = 0.0
    # redundancy removal: drop the most expensive columns whose rows stay covered
    cnt = np.asarray(g @ chosen.astype(np.float64)).ravel()
    for j in np.argsort(-core.cost, kind="stable"):
        if not chosen[j] or core.forced[j]:
            continue
        rows = gt.indices[gt.indptr[j] : gt.indptr[j + 1]]
        if (cnt[rows] >= 2).all():  # noqa: PLR2004
            chosen[j] = False
            cnt[rows] -= 1
    return chosen


def cover_mip(core: CoverCore, count_bounds: tuple[int, int], *, zero_objective: bool) -> MatrixMip:
    """Matrix form of (S1)-(S4) over the reduced instance (columns = candidates).

    Parameters
    ----------
    core
        The reduced instance.
    count_bounds
        (min, max) number of candidate columns to open (S3).
    zero_objective
        Build a pure feasibility model.

    Returns
    -------
    mip
        The model.
    """
    n = core.n_cand
    # (S2): sum_{j in N_g} y_j >= 1 ; (S3): count bounds
    a = sp.vstack([core.g, sp.csr_matrix(np.ones(n)[None, :])], format="csr")
    lower = core.forced.astype(np.float64)
    upper = core.usable.astype(np.float64)
    upper = np.maximum(upper, lower)
    return MatrixMip(
        objective=np.zeros(n) if zero_objective else core.cost.astype(np.float64),
        lower=lower,
        upper=upper,
        integer=np.ones(n, dtype=np.bool_),
        matrix=a,
        row_lower=np.concatenate([np.ones(core.g.shape[0]), [float(count_bounds[0])]]),
        row_upper=np.concatenate([np.full(core.g.shape[0], np.inf), [float(count_bounds[1])]]),
        maximise=False,
    )


class SetCover(GeoBuildMixin):
    """Set covering location: fewest (or cheapest) sites so that all coverable demand is covered.

    Demand that no allowed site covers is reported (count, weight, row ids) in ``stats`` and
    ``message`` instead of making the problem infeasible.

    Parameters
    ----------
    problem
        A problem of kind ``"set_cover"``.

    Examples
    --------
    >>> m = SetCover.from_cost_matrix([[1.0, 9.0], [9.0, 1.0], [2.0, 2.0]], [1, 1, 1],
    ...                               service_radius=3.0)
    >>> m.solve().objective
    2.0
    """

    kind = "set_cover"

    def __init__(self, problem: LocationProblem) -> None:
        if problem.kind != self.kind:
            msg = f"SetCover needs a problem of kind 'set_cover', got {problem.kind!r}."
            raise ValidationError(msg, source="SetCover")
        self.problem = problem

    @classmethod
    def from_cost_matrix(
        cls,
        costs: CostMatrix | npt.ArrayLike,
        weights: npt.ArrayLike,
        *,
        service_radius: float,
        sites: SiteData | None = None,
        max_cost: float | None = None,
        capacitated: bool = False,
        min_new_sites: int = 0,
        max_new_sites: int | None = None,
    ) -> SetCover:
        """Build the model from a cost matrix.

        Parameters
        ----------
        costs
            Sparse cost structure or dense array (``nan``/``inf`` = not allowed).
        weights
            Demand weight per row (used by capacities and reporting).
        service_radius
            Coverage radius in the cost unit.
        sites
            Site attributes; fixed costs > 0 make the objective total fixed cost.
        max_cost
            Optional service cutoff.
        capacitated
            Each coverable row must be assigned to a covering open site within capacity.
        min_new_sites, max_new_sites
            Bounds on the number of non-required open sites.

        Returns
        -------
        model
            The set-covering model.
        """
        matrix = as_cost_matrix(costs, max_cost)
        problem = LocationProblem(
            kind="set_cover",
            costs=matrix,
            weights=as_weights(weights, matrix.n_demand),
            sites=sites if sites is not None else SiteData.default(matrix.n_sites),
            service_radius=float(service_radius),
            capacitated=capacitated,
            min_new_sites=min_new_sites,
            max_new_sites=max_new_sites,
        )
        return cls(problem)

    @property
    def _radius(self) -> float:
        return float(self.problem.service_radius or 0.0)

    @property
    def _uses_fixed_cost(self) -> bool:
        return bool((self.problem.sites.fixed_cost > 0).any())

    def _objective_of(self, mask: BoolArray) -> float:
        # (S1): same definition as check.py
        if self._uses_fixed_cost:
            return float(self.problem.sites.fixed_cost[mask].sum())
        return float(mask.sum())

    def evaluate(self, open_sites: Sequence[int]) -> tuple[float, IntArray, FloatArray]:
        """Return the objective, assignment and assignment cost of a fixed open set.

        Parameters
        ----------
        open_sites
            Open site indices.

        Returns
        -------
        objective, assignment, assignment_cost
            Total fixed cost (or count) of the open sites, ``inf`` when the set violates a
            constraint (a coverable row left uncovered, a required site closed, a forbidden
            one open, the new-site bounds, or -- capacitated -- no assignment within
            capacity); each covered row's nearest open site within the radius (-1 if none;
            capacitated: the capacity-feasible assignment).
        """
        problem = self.problem
        sites = problem.sites
        mask = site_mask(problem.n_sites, open_sites)
        within = _within(problem.costs.cost, self._radius)
        a, c = nearest_open(problem.costs, within, mask & ~sites.forbidden)
        cov = _coverage(problem, self._radius)
        lo_new, hi_new = count_new_bounds(problem)
        n_new = int((mask & ~sites.required).sum())
        bad = (
            bool((cov.coverable & (a < 0)).any())
            or bool((sites.required & ~mask).any())
            or bool((sites.forbidden & mask).any())
            or not lo_new <= n_new <= hi_new
        )
        if bad:
            return float("inf"), a, c
        if problem.capacitated:
            pr, ps = _cap_pairs(problem, within, cov.coverable)
            keep = mask[ps]
            n_open = int(mask.sum())
            model = build_assign_mip(
                problem,
                pr[keep],
                ps[keep],
                objective_y=np.zeros(problem.n_sites),
                objective_x=np.zeros(int(keep.sum())),
                maximise=False,
                must_assign=cov.coverable,
                n_open=(n_open, n_open),
                fixed_open=mask,
            )
            res = solve_mip(
                model.mip, "highs", Clock(SolveOptions()), time_limit_s=60.0, feasibility_only=True
            )
            if res.values is None:
                return float("inf"), a, c
            a = model.split(res.values, problem.n_demand)[1]
            c = pair_costs(problem.costs, a)
        return self._objective_of(mask), a, c

    def _drop_regret(self, open_sites: Sequence[int]) -> dict[int, float]:
        """Drop-one regret, vectorised: ``inf`` if some row is covered only by that site."""
        problem = self.problem
        if problem.capacitated:
            return {}
        sites = problem.sites
        mask = site_mask(problem.n_sites, open_sites)
        costs = problem.costs
        ok = _within(costs.cost, self._radius) & mask[costs.site_index]
        ok &= ~sites.forbidden[costs.site_index]
        rows = costs.row_of_entry[ok]
        cnt = np.bincount(rows, minlength=problem.n_demand)
        sole = ok.copy()
        sole[ok] = cnt[rows] == 1
        needed = np.zeros(problem.n_sites, dtype=np.bool_)
        needed[costs.site_index[sole]] = True
        unit = sites.fixed_cost if self._uses_fixed_cost else np.ones(problem.n_sites)
        lo_new, _ = count_new_bounds(problem)
        n_new = int((mask & ~sites.required).sum())
        out: dict[int, float] = {}
        for j in open_sites:
            closes_new = not sites.required[j]
            if needed[j] or sites.required[j] or (closes_new and n_new - 1 < lo_new):
                out[int(j)] = float("inf")
            else:
                out[int(j)] = -float(unit[j])
        return out

    def solve(self, options: SolveOptions | None = None) -> Solution:
        """Solve the model; never raises on a time limit once a solution is known.

        Parameters
        ----------
        options
            Time limit, gap, seed, backend, progress, cancellation.

        Returns
        -------
        solution
            Minimum count or fixed cost; ``stats`` lists uncoverable demand.
        """
        opts = options or SolveOptions()
        clock = Clock(opts)
        problem = self.problem
        cov = _coverage(problem, self._radius)
        w = problem.weights
        unc = np.flatnonzero(~cov.coverable)
        stats: dict[str, float | int | str] = {
            "uncoverable_rows": len(unc),
            "uncoverable_weight": float(w[unc].sum()),
            "uncoverable_row_ids": ",".join(str(i) for i in unc[:1000]),
            "rows_truncated_inside_radius": cov.truncated_rows,
        }
        if problem.capacitated:
            sol = self._solve_capacitated(cov, clock, stats)
        else:
            sol = self._solve_uncapacitated(cov, clock, stats)
        return with_decision_support(sol, self, problem, clock, drop_regret=self._drop_regret)

    def _uncoverable_text(self, stats: dict[str, float | int | str]) -> str:
        n_unc = int(stats["uncoverable_rows"])
        if not n_unc:
            return "All demand is covered."
        ids = str(stats["uncoverable_row_ids"]).split(",")
        more = f" (first {len(ids)} listed in stats)" if n_unc > len(ids) else ""
        shown = ", ".join(ids[:10]) + (", ..." if n_unc > 10 else "")  # noqa: PLR2004
        return (
            f"{n_unc} demand row(s) with total weight {_fmt(float(stats['uncoverable_weight']))}"
            f" cannot be covered: no allowed site lies within {_fmt(self._radius)} "
            f"{self.problem.costs.unit} (rows {shown}){more}."
        )

    def _solve_uncapacitated(
        self, cov: Coverage, clock: Clock, stats: dict[str, float | int | str]
    ) -> Solution:
        problem, opts = self.problem, clock.options
        sites = problem.sites
        lo_new, hi_new = count_new_bounds(problem)
        rows = np.flatnonzero(cov.coverable & ~cov.covered_by_required)
        indptr, cols = cov.subset(rows)
        cand_cost = (
            sites.fixed_cost[cov.cand_sites].astype(np.float64)
            if self._uses_fixed_cost
            else np.ones(len(cov.cand_sites))
        )
        core = reduce_cover(indptr, cols, cand_cost, allow_column_dominance=lo_new == 0)
        stats.update(
            groups=core.g.shape[0],
            candidate_sites=core.n_cand,
            essential_sites=int(core.forced.sum()),
            dominated_sites=int((~core.usable).sum()),
        )
        if lo_new > hi_new:
            msg = (
                f"min_new_sites = {lo_new} but only {hi_new} new site(s) may open "
                "(max_new_sites / free candidates)."
            )
            return infeasible_solution(problem, clock, msg, stats)
        base = (
            float(sites.fixed_cost[sites.required].sum())
            if self._uses_fixed_cost
            else float(sites.required.sum())
        )
        chosen = greedy_cover(core)
        incumbent = np.inf
        if chosen is not None and lo_new <= int(chosen.sum()) <= hi_new:
            incumbent = base + float(core.cost[chosen].sum())
            clock.report(incumbent=incumbent, phase="greedy")
        elif chosen is not None and int(chosen.sum()) < lo_new:
            chosen = self._pad_cheapest(core, chosen, lo_new)
            incumbent = base + float(core.cost[chosen].sum())
        else:
            chosen = None
        mip = replace(cover_mip(core, (lo_new, hi_new), zero_objective=False), offset=base)
        bound = base + float(core.cost[core.forced].sum())
        backend = choose_backend(opts, pure_binary=True, size=int(core.g.nnz))
        backend_used = "greedy"
        proven = chosen is not None and core.g.shape[0] == 0 and not lo_new
        if proven:
            bound = incumbent
        elif backend == "heuristic":
            lb = lp_bound(mip, clock, clock.remaining_s)
            if np.isfinite(lb):
                bound = max(bound, lb)
            backend_used += "+lp"
        else:
            hint = chosen.astype(np.float64) if chosen is not None else None

            def report(inc: float | None, bnd: float | None) -> None:
                clock.report(incumbent=inc, bound=bnd, phase=backend)

            res = solve_mip(
                mip, backend, clock, time_limit_s=clock.remaining_s, hint=hint, report=report
            )
            backend_used += f"+{res.backend}"
            if res.infeasible:
                return infeasible_solution(
                    problem, clock, self._why_infeasible(core, hi_new), stats
                )
            if res.values is not None:
                cand = res.values > 0.5  # noqa: PLR2004
                val = base + float(core.cost[cand].sum())
                if val < incumbent:
                    chosen, incumbent = cand, val
            if np.isfinite(res.bound):
                bound = max(bound, res.bound)
            if res.optimal and np.isfinite(incumbent):
                bound = max(bound, min(incumbent, res.objective))
        if chosen is None:
            message = "no feasible cover found in the time limit. " + (
                self._why_infeasible(core, hi_new)
            )
            return infeasible_solution(problem, clock, message, stats, status=Status.ERROR)
        bound = min(bound, incumbent)
        open_sites = sorted(
            [int(j) for j in cov.cand_sites[np.flatnonzero(chosen)]]
            + [int(j) for j in np.flatnonzero(sites.required)]
        )
        objective, assignment, cost = self.evaluate(open_sites)
        n_open = len(open_sites)
        unit = "total fixed cost" if self._uses_fixed_cost else "sites"
        msg = (
            f"{n_open} site(s) open ({unit}: {_fmt(objective)}, lower bound {_fmt(bound)}). "
            + self._uncoverable_text(stats)
        )
        return make_solution(
            problem,
            status=Status.FEASIBLE,
            objective=objective,
            bound=bound,
            open_sites=open_sites,
            assignment=assignment,
            assignment_cost=cost,
            clock=clock,
            backend=backend_used,
            message=msg,
            stats=stats,
        )

    @staticmethod
    def _pad_cheapest(core: CoverCore, chosen: BoolArray, target: int) -> BoolArray:
        out = chosen.copy()
        for j in np.argsort(core.cost, kind="stable"):
            if int(out.sum()) >= target:
                break
            out[j] = True
        return out

    def _why_infeasible(self, core: CoverCore, hi_new: int) -> str:
        greedy = greedy_cover(core)
        need = int(greedy.sum()) if greedy is not None else -1
        return (
            f"covering all coverable demand needs more new sites than the {hi_new} allowed "
            f"(max_new_sites); the greedy cover uses {need}. Raise max_new_sites or the "
            "service radius."
        )

    def _solve_capacitated(
        self, cov: Coverage, clock: Clock, stats: dict[str, float | int | str]
    ) -> Solution:
        problem, opts = self.problem, clock.options
        sites, w = problem.sites, problem.weights
        lo_new, hi_new = count_new_bounds(problem)
        n_req = int(sites.required.sum())
        pr, ps = _cap_pairs(problem, cov.entry_within, cov.coverable)
        # quick quantitative checks (K2)+(K4)
        cap_allowed = sites.capacity[~sites.forbidden]
        total_cap = float(cap_allowed.sum())
        need = float(w[cov.coverable].sum())
        if total_cap < need * (1 - 1e-12):
            msg = (
                f"total capacity of all allowed sites {_fmt(total_cap)} < coverable demand "
                f"{_fmt(need)}; add capacity or allow more sites."
            )
            return infeasible_solution(problem, clock, msg, stats)
        heavy = cov.coverable & (w > float(cap_allowed.max(initial=0.0)))
        if heavy.any():
            i = int(np.flatnonzero(heavy)[0])
            msg = (
                f"{int(heavy.sum())} demand row(s) exceed every site's capacity, e.g. row {i} "
                f"with weight {_fmt(float(w[i]))} > largest capacity "
                f"{_fmt(float(cap_allowed.max()))}."
            )
            return infeasible_solution(problem, clock, msg, stats)
        cost_y = sites.fixed_cost if self._uses_fixed_cost else np.ones(problem.n_sites)
        model = build_assign_mip(
            problem,
            pr,
            ps,
            objective_y=cost_y.astype(np.float64),
            objective_x=np.zeros(len(pr)),
            maximise=False,
            must_assign=cov.coverable,
            n_open=(n_req + lo_new, n_req + hi_new),
        )
        backend = choose_backend(opts, pure_binary=False, size=int(model.mip.matrix.nnz))
        if backend == "heuristic":
            backend = "highs"
        res = solve_mip(
            model.mip,
            backend,
            clock,
            time_limit_s=clock.remaining_s,
            report=lambda i, b: clock.report(incumbent=i, bound=b, phase=backend),
        )
        if res.values is None:
            if res.infeasible:
                msg = (
                    f"no set of at most {n_req + hi_new} sites can serve all "
                    f"{int(cov.coverable.sum())} coverable rows (demand {_fmt(need)}) within "
                    f"the radius and the site capacities (total {_fmt(total_cap)})."
                )
            else:
                msg = "no feasible capacitated cover found within the time limit."
            return infeasible_solution(problem, clock, msg, stats)
        mask, a = model.split(res.values, problem.n_demand)
        cost = pair_costs(problem.costs, a)
        objective = self._objective_of(mask)
        bound = res.bound if np.isfinite(res.bound) else float("nan")
        if np.isfinite(bound):
            bound = min(bound, objective)
        msg = (
            f"{int(mask.sum())} site(s) open ({_fmt(objective)}), lower bound {_fmt(bound)}. "
            + self._uncoverable_text(stats)
        )
        return make_solution(
            problem,
            status=Status.FEASIBLE,
            objective=objective,
            bound=bound,
            open_sites=[int(j) for j in np.flatnonzero(mask)],
            assignment=a,
            assignment_cost=cost,
            clock=clock,
            backend=res.backend,
            message=msg,
            stats=stats,
        )
