"""MIP of the CFLP (formulation (0)-(9) in :mod:`planner.models.cflp`) for HiGHS and MathOpt.

The matrix is built once as CSC arrays. HiGHS gets it through ``passModel`` (fast); SCIP and
CP-SAT get the same rows through MathOpt. Columns are ``y[j]`` for the sites still free or
fixed open (sites fixed closed are left out), then ``x[i,j]`` for the entries to those sites.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from planner.models._base import BoolArray, FloatArray, IntArray
from planner.models._mip import HighsResult
from planner.models._mip._highs import solve_highs
from planner.models._mip._mathopt import solve_arrays
from planner.models.cflp._data import CflpData

INF = float("inf")
# Relative distance below which a cost equal to an integer up to round-off is that integer.
_SNAP_RTOL = 1e-9


def _snap_integral(cost: FloatArray) -> FloatArray:
    """Round the costs to integers when all are integers up to round-off.

    ``w * (c / w)`` (unit costs from whole-demand costs) misses the integer by an ulp; exact
    integers let HiGHS use the integrality of the objective (prune at incumbent - 1).
    """
    near = np.round(cost)
    if np.all(np.abs(cost - near) <= _SNAP_RTOL * np.maximum(1.0, np.abs(near))):
        return near
    return cost


@dataclass(frozen=True, eq=False)
class MipModel:
    """Arrays of the CFLP MIP over a subset of sites.

    Parameters
    ----------
    sites
        Site index of each ``y`` column.
    entries
        Entry index (in :class:`CflpData`) of each ``x`` column.
    cost
        Objective per column.
    matrix
        Constraint matrix (CSC).
    row_lo, row_hi
        Row bounds.
    col_lo, col_hi
        Column bounds.
    integer
        Integrality per column.
    """

    sites: IntArray
    entries: IntArray
    cost: FloatArray
    matrix: sp.csc_matrix
    row_lo: FloatArray
    row_hi: FloatArray
    col_lo: FloatArray
    col_hi: FloatArray
    integer: BoolArray

    @property
    def n_y(self) -> int:
        """Number of site columns."""
        return len(self.sites)

    def start_vector(self, open_mask: BoolArray, entry_frac: FloatArray) -> FloatArray:
        """Column vector of a known solution (for warm starts).

        Parameters
        ----------
        open_mask
            Open sites of the solution.
        entry_frac
            Its per-entry fractions.

        Returns
        -------
        x
            Values per column.
        """
        return np.concatenate([open_mask[self.sites].astype(np.float64), entry_frac[self.entries]])

    def decode(self, data: CflpData, x: FloatArray) -> tuple[BoolArray, FloatArray]:
        """Turn a column vector into (open mask, per-entry fractions).

        Parameters
        ----------
        data
            Instance arrays.
        x
            Column values.

        Returns
        -------
        open_mask, entry_frac
            Open sites and fractions per entry.
        """
        open_mask = np.zeros(data.n_sites, dtype=np.bool_)
        open_mask[self.sites[x[: self.n_y] > 0.5]] = True  # noqa: PLR2004
        frac = np.zeros(data.n_entries)
        frac[self.entries] = np.clip(x[self.n_y :], 0.0, 1.0)
        return open_mask, frac


def min_open_sites(data: CflpData) -> int:
    """Fewest open sites whose capacities can cover the total demand (for cut (8)).

    Parameters
    ----------
    data
        Instance arrays.

    Returns
    -------
    k
        Required sites plus the fewest free sites, largest capacities first.
    """
    demand = data.total_demand
    n_req = int(data.required.sum())
    have = float(data.capacity[data.required].sum())
    if have >= demand:
        return n_req
    caps = np.sort(data.capacity[data.free])[::-1]
    need = int(np.searchsorted(np.cumsum(caps), (demand - have) * (1 - 1e-12)))
    return n_req + min(need + 1, len(caps))


def build_mip(  # noqa: PLR0915
    data: CflpData,
    *,
    closed: BoolArray | None = None,
    fixed_open: BoolArray | None = None,
    integer_x: bool | None = None,
    entry_mask: BoolArray | None = None,
    new_sites: tuple[int, int] | None = None,
) -> MipModel:
    """Build the MIP (0)-(9) over the sites not fixed closed.

    Parameters
    ----------
    data
        Instance arrays.
    closed
        Sites fixed closed (e.g. by Lagrangian reduced-cost tests), besides forbidden ones.
    fixed_open
        Sites fixed open, besides required ones.
    integer_x
        Binary assignment variables (default: single-source).
    entry_mask
        Only these entries get an ``x`` column (a restricted, heuristic model); default all.
    new_sites
        Tighter (min, max) number of new sites for (5)-(6), e.g. from Lagrangian tests.

    Returns
    -------
    model
        The MIP arrays.
    """
    m = data.n_sites
    keep_site = data.allowed.copy()
    if closed is not None:
        keep_site &= ~closed
    keep_site |= data.required
    sites = np.flatnonzero(keep_site)
    col_of_site = np.full(m, -1, dtype=np.int64)
    col_of_site[sites] = np.arange(len(sites))
    use = keep_site[data.e_site] & data.served[data.e_row]
    if entry_mask is not None:
        use &= entry_mask
    entries = np.flatnonzero(use)
    n_y, n_x = len(sites), len(entries)
    e_rows = data.e_row[entries]
    e_sites = data.e_site[entries]
    xcol = n_y + np.arange(n_x)
    ycol = col_of_site[e_sites]
    served = np.flatnonzero(data.served)
    row_of = np.full(data.n_rows, -1, dtype=np.int64)
    row_of[served] = np.arange(len(served))
    ri: list[IntArray] = []
    ci: list[IntArray] = []
    vi: list[FloatArray] = []
    lo: list[FloatArray] = []
    hi: list[FloatArray] = []
    n_con = 0
    # (1) every served row fully served: sum_j x_ij = 1.
    ri.append(row_of[e_rows])
    ci.append(xcol)
    vi.append(np.ones(n_x))
    lo.append(np.ones(len(served)))
    hi.append(np.ones(len(served)))
    n_con += len(served)
    # (2) capacity: sum_i w_i x_ij - s_j y_j <= 0 for sites with finite capacity.
    cap_sites = sites[np.isfinite(data.capacity[sites])]
    if len(cap_sites):
        cap_row = np.full(m, -1, dtype=np.int64)
        cap_row[cap_sites] = n_con + np.arange(len(cap_sites))
        on = cap_row[e_sites] >= 0
        ri += [cap_row[e_sites[on]], cap_row[cap_sites]]
        ci += [xcol[on], col_of_site[cap_sites]]
        vi += [data.weight[e_rows[on]], -data.capacity[cap_sites]]
        lo.append(np.full(len(cap_sites), -INF))
        hi.append(np.zeros(len(cap_sites)))
        n_con += len(cap_sites)
    # (3) strong linking: x_ij - y_j <= 0.
    strong_rows = n_con + np.arange(n_x)
    ri += [strong_rows, strong_rows]
    ci += [xcol, ycol]
    vi += [np.ones(n_x), -np.ones(n_x)]
    lo.append(np.full(n_x, -INF))
    hi.append(np.zeros(n_x))
    n_con += n_x
    # (7) aggregate capacity: sum_j s_j y_j >= total demand (only when all sites finite).
    caps = data.capacity[sites]
    if len(sites) and np.isfinite(caps).all():
        ri.append(np.full(n_y, n_con))
        ci.append(np.arange(n_y))
        vi.append(caps)
        lo.append(np.array([data.total_demand]))
        hi.append(np.array([INF]))
        n_con += 1
        # (8) cardinality: sum_j y_j >= k_min (integer rounding of (7)).
        k_min = min_open_sites(data)
        if k_min > int(data.required.sum()):
            ri.append(np.full(n_y, n_con))
            ci.append(np.arange(n_y))
            vi.append(np.ones(n_y))
            lo.append(np.array([float(k_min)]))
            hi.append(np.array([INF]))
            n_con += 1
    # (5)-(6) number of new sites.
    free_cols = np.flatnonzero(~data.required[sites])
    n_free = len(free_cols)
    min_new, max_new = (data.min_new, data.max_new) if new_sites is None else new_sites
    if min_new > 0 or max_new < n_free:
        ri.append(np.full(n_free, n_con))
        ci.append(free_cols)
        vi.append(np.ones(n_free))
        lo.append(np.array([float(min_new)]))
        hi.append(np.array([float(max_new)]))
        n_con += 1
    mat = sp.csc_matrix(
        (np.concatenate(vi), (np.concatenate(ri), np.concatenate(ci))), shape=(n_con, n_y + n_x)
    )
    col_lo = np.zeros(n_y + n_x)
    # (4) required sites open.
    col_lo[:n_y] = data.required[sites].astype(np.float64)
    if fixed_open is not None:
        col_lo[:n_y] = np.maximum(col_lo[:n_y], fixed_open[sites].astype(np.float64))
    col_hi = np.ones(n_y + n_x)
    int_x = data.single_source if integer_x is None else integer_x
    integer = np.concatenate([np.ones(n_y, dtype=np.bool_), np.full(n_x, int_x, dtype=np.bool_)])
    return MipModel(
        sites=sites,
        entries=entries,
        cost=_snap_integral(np.concatenate([data.fixed_cost[sites], data.pair_cost[entries]])),
        matrix=mat,
        row_lo=np.concatenate(lo),
        row_hi=np.concatenate(hi),
        col_lo=col_lo,
        col_hi=col_hi,
        integer=integer,
    )


def solve_mip_highs(
    model: MipModel,
    *,
    time_limit_s: float,
    rel_gap: float,
    abs_gap: float,
    seed: int,
    start: FloatArray | None,
    on_progress: Callable[[float, float], bool] | None,
    cutoff: float | None = None,
) -> HighsResult:
    """Solve the MIP with HiGHS (direct API).

    Parameters
    ----------
    model
        The MIP.
    time_limit_s
        Wall-clock limit.
    rel_gap, abs_gap
        Gap tolerances.
    seed
        Random seed.
    start
        Warm-start column vector (a feasible solution).
    on_progress
        Callback (incumbent, bound) -> stop?
    cutoff
        Only solutions below this objective are of interest.

    Returns
    -------
    result
        HiGHS outcome.
    """
    return solve_highs(
        cost=model.cost,
        matrix=model.matrix,
        row_lo=model.row_lo,
        row_hi=model.row_hi,
        col_lo=model.col_lo,
        col_hi=model.col_hi,
        integer=model.integer,
        time_limit_s=time_limit_s,
        rel_gap=rel_gap,
        abs_gap=abs_gap,
        seed=seed,
        start=start,
        on_progress=on_progress,
        cutoff=cutoff,
    )


def solve_mip_mathopt(
    model: MipModel,
    *,
    solver: str,
    time_limit_s: float,
    rel_gap: float,
    abs_gap: float,
    seed: int,
    start: FloatArray | None,
) -> HighsResult:
    """Solve the MIP with SCIP or CP-SAT through MathOpt.

    Parameters
    ----------
    model
        The MIP.
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
    n_y = model.n_y
    names = [
        f"y[{model.sites[k]}]" if k < n_y else f"x[{model.entries[k - n_y]}]"
        for k in range(len(model.cost))
    ]
    return solve_arrays(
        cost=model.cost,
        matrix=model.matrix,
        row_lo=model.row_lo,
        row_hi=model.row_hi,
        col_lo=model.col_lo,
        col_hi=model.col_hi,
        integer=model.integer,
        names=names,
        solver=solver,
        time_limit_s=time_limit_s,
        rel_gap=rel_gap,
        abs_gap=abs_gap,
        seed=seed,
        start=start,
    )
