"""Internal data layout of the capacitated fixed-charge location model (CFLP).

:class:`CflpData` turns a :class:`~planner.models._base.LocationProblem` into flat arrays
the heuristics, the Lagrangian relaxation and the MIP builders share:

* *entries* -- the demand-site pairs a solution may use: the pairs listed in the cost
  matrix, minus pairs to forbidden sites and, for single-source, pairs whose site capacity
  is smaller than the row's whole demand. Stored row by row (CSR order, cheapest first) with
  a permutation ``by_site`` that lists them site by site (CSC order).
* ``pair_cost`` of an entry is ``w_i * c_ij``: the cost of serving all of row ``i`` from
  site ``j`` (the objective term of formulation (0) in :mod:`planner.models.cflp`).
* *served rows* -- rows that must be served. Rows that list no site at all and have
  ``beyond_cost = inf`` are unreachable (as in :func:`planner.models.check.check_solution`):
  they are left unassigned and excluded from the objective.
* *loose rows* -- reachable rows of zero demand whose ``beyond_cost`` is finite (any open
  site may serve them, listed or not). They cost nothing and load no site, so they take
  no part in the optimisation (no entries, no constraint (1)); the model assigns them to
  their nearest open site afterwards. Zero-demand rows with ``beyond_cost = inf`` stay
  served rows: they still need an open listed site.

:func:`diagnose` lists, in plain words with numbers, every contradiction that makes the
problem infeasible before any solver runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planner.models._base import BoolArray, FloatArray, IntArray, LocationProblem

# Relative slack when comparing loads with capacities (floating-point sums of weights).
CAPACITY_RTOL = 1e-9


def group_first(keys: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Distinct values, first positions and counts of a *sorted* key array (O(n), no sort).

    Parameters
    ----------
    keys
        Non-decreasing keys.

    Returns
    -------
    values, first, counts
        As ``np.unique(keys, return_index=True, return_counts=True)``.
    """
    if not len(keys):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    counts = np.diff(np.r_[first, len(keys)])
    return keys[first], first, counts


def fmt_qty(value: float) -> str:
    """Format a quantity for a message: thousands separators, no spurious decimals.

    Parameters
    ----------
    value
        The quantity.

    Returns
    -------
    text
        E.g. ``"55,300"`` or ``"12,912.5"``.
    """
    if not math.isfinite(value):
        return "unlimited"
    if abs(value - round(value)) < 1e-9 * max(1.0, abs(value)):
        return f"{round(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, eq=False)
class CflpData:
    """Flat arrays of a CFLP instance (see the module docstring).

    Parameters
    ----------
    n_rows
        Number of demand rows of the problem.
    n_sites
        Number of candidate sites.
    weight
        Demand per row (``w_i``).
    capacity
        Capacity per site (``s_j``; ``inf`` = uncapacitated).
    fixed_cost
        Opening cost per site (``f_j``).
    required
        Sites that must open.
    allowed
        Sites that may open (not forbidden).
    served
        Rows in the optimisation: reachable and not loose.
    reachable
        Rows that must be assigned: served and loose rows.
    indptr
        CSR row pointers into the entries (length ``n_rows + 1``).
    e_row
        Row of each entry.
    e_site
        Site of each entry.
    e_cost
        Unit travel cost ``c_ij`` of each entry.
    pair_cost
        ``w_i * c_ij`` of each entry.
    by_site
        Entry indices ordered by site (within a site, by row).
    site_ptr
        Pointers into ``by_site`` per site (length ``n_sites + 1``).
    single_source
        Whether each row must be served by exactly one site.
    min_new
        Minimum number of open sites that are not required.
    max_new
        Maximum number of open sites that are not required.
    """

    n_rows: int
    n_sites: int
    weight: FloatArray
    capacity: FloatArray
    fixed_cost: FloatArray
    required: BoolArray
    allowed: BoolArray
    served: BoolArray
    reachable: BoolArray
    indptr: IntArray
    e_row: IntArray
    e_site: IntArray
    e_cost: FloatArray
    pair_cost: FloatArray
    by_site: IntArray
    site_ptr: IntArray
    single_source: bool
    min_new: int
    max_new: int

    @property
    def n_entries(self) -> int:
        """Number of usable demand-site pairs."""
        return len(self.e_row)

    @property
    def total_demand(self) -> float:
        """Demand of all served rows."""
        return float(self.weight[self.served].sum())

    @property
    def capacitated(self) -> bool:
        """Whether any allowed site has a finite capacity."""
        return bool(np.isfinite(self.capacity[self.allowed]).any())

    @property
    def free(self) -> BoolArray:
        """Sites that may open but are not required."""
        return self.allowed & ~self.required

    @classmethod
    def build(cls, problem: LocationProblem) -> CflpData:
        """Build the arrays from a CFLP problem.

        Parameters
        ----------
        problem
            A problem of kind ``"cflp"``.

        Returns
        -------
        data
            The flat arrays.
        """
        costs, sites = problem.costs, problem.sites
        n, m = costs.n_demand, costs.n_sites
        weight = np.asarray(problem.weights, dtype=np.float64)
        capacity = np.asarray(sites.capacity, dtype=np.float64)
        allowed = ~np.asarray(sites.forbidden, dtype=np.bool_)
        required = np.asarray(sites.required, dtype=np.bool_)
        row_len = np.diff(costs.indptr)
        reachable = ~((row_len == 0) & ~np.isfinite(costs.beyond_cost))
        loose = reachable & (weight == 0) & np.isfinite(costs.beyond_cost)
        served = reachable & ~loose
        rows = costs.row_of_entry
        site = costs.site_index
        keep = allowed[site] & served[rows]
        if problem.single_source:
            keep &= weight[rows] <= capacity[site] * (1 + CAPACITY_RTOL)
        sel = np.flatnonzero(keep)
        # Row by row, cheapest first (the assignment heuristics rely on this order); the
        # rows of a CostMatrix usually come sorted by cost already (no sort needed then).
        c_sel = costs.cost[sel]
        r_sel = rows[sel]
        if len(sel) > 1 and not bool(np.all((c_sel[1:] >= c_sel[:-1]) | (r_sel[1:] != r_sel[:-1]))):
            sel = sel[np.lexsort((site[sel], c_sel, r_sel))]
        e_row = rows[sel]
        e_site = site[sel]
        e_cost = costs.cost[sel]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(e_row, minlength=n), out=indptr[1:])
        by_site = np.argsort(e_site, kind="stable").astype(np.int64)
        site_ptr = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(np.bincount(e_site, minlength=m), out=site_ptr[1:])
        n_free = int((allowed & ~required).sum())
        max_new = n_free if problem.max_new_sites is None else min(n_free, problem.max_new_sites)
        return cls(
            n_rows=n,
            n_sites=m,
            weight=weight,
            capacity=capacity,
            fixed_cost=np.asarray(sites.fixed_cost, dtype=np.float64),
            required=required,
            allowed=allowed,
            served=served,
            reachable=reachable,
            indptr=indptr,
            e_row=e_row.astype(np.int64),
            e_site=e_site.astype(np.int64),
            e_cost=e_cost.astype(np.float64),
            pair_cost=weight[e_row] * e_cost,
            by_site=by_site,
            site_ptr=site_ptr,
            single_source=problem.single_source,
            min_new=problem.min_new_sites,
            max_new=max_new,
        )


def _row_label(i: int) -> str:
    return f"farm (row) {i}"


def diagnose(problem: LocationProblem, data: CflpData) -> list[str]:
    """List every contradiction that makes the problem infeasible before solving.

    Parameters
    ----------
    problem
        The problem.
    data
        Its flat arrays.

    Returns
    -------
    problems
        One plain-language sentence with numbers per contradiction; empty if none found.
    """
    out: list[str] = []
    costs = problem.costs
    w = data.weight
    n_entries = np.diff(data.indptr)
    row_len = np.diff(costs.indptr)
    served = data.served

    # Rows listing no site at all but with a finite beyond_cost: we only use listed pairs.
    no_list = served & (row_len == 0)
    if no_list.any():
        k = int(no_list.sum())
        out.append(
            f"{k:,} farm(s) list no candidate site in the cost matrix (e.g. "
            f"{_row_label(int(np.flatnonzero(no_list)[0]))}); add their nearest sites."
        )
    # Rows whose listed sites are all forbidden (or all too small for single-source).
    listed_allowed = np.zeros(data.n_rows, dtype=np.int64)
    if costs.nnz:
        listed_allowed = np.bincount(
            costs.row_of_entry,
            weights=data.allowed[costs.site_index].astype(np.float64),
            minlength=data.n_rows,
        ).astype(np.int64)
    only_forbidden = served & (row_len > 0) & (listed_allowed == 0)
    if only_forbidden.any():
        k = int(only_forbidden.sum())
        out.append(
            f"{k:,} farm(s) are out of reach of every allowed candidate: all sites within "
            f"their reach are forbidden (e.g. "
            f"{_row_label(int(np.flatnonzero(only_forbidden)[0]))}); "
            "allow one of their sites or raise the service cutoff."
        )
    if data.single_source:
        too_big = served & (listed_allowed > 0) & (n_entries == 0)
        if too_big.any():
            idx = np.flatnonzero(too_big)
            i = int(idx[np.argmax(w[idx])])
            lo, hi = costs.indptr[i], costs.indptr[i + 1]
            reach = costs.site_index[lo:hi]
            reach = reach[data.allowed[reach]]
            best = float(data.capacity[reach].max())
            out.append(
                f"single-source: {_row_label(i)} needs {fmt_qty(float(w[i]))} but the "
                f"largest capacity among its {len(reach)} reachable site(s) is "
                f"{fmt_qty(best)}"
                + (f" ({len(idx):,} farms in this situation)" if len(idx) > 1 else "")
                + "; allow splitting, raise capacities or add larger sites."
            )
    n_free = int(data.free.sum())
    if problem.min_new_sites > n_free:
        out.append(
            f"min_new_sites = {problem.min_new_sites} but only {n_free} candidate site(s) are "
            "neither required nor forbidden."
        )
    demand = data.total_demand
    cap_req = float(data.capacity[data.required].sum())
    free_caps = np.sort(data.capacity[data.free])[::-1]
    cap_all = cap_req + float(free_caps.sum())
    if cap_all < demand * (1 - CAPACITY_RTOL):
        out.append(
            f"total capacity {fmt_qty(cap_all)} of the allowed sites < total demand "
            f"{fmt_qty(demand)}; add sites or raise capacities."
        )
    elif data.max_new < n_free:
        cap_best = cap_req + float(free_caps[: data.max_new].sum())
        if cap_best < demand * (1 - CAPACITY_RTOL):
            out.append(
                f"required sites (capacity {fmt_qty(cap_req)}) plus at most "
                f"{data.max_new} new site(s) (largest capacities sum to "
                f"{fmt_qty(cap_best - cap_req)}) give {fmt_qty(cap_best)} < total demand "
                f"{fmt_qty(demand)}; raise max_new_sites."
            )
    if data.max_new == 0 and not out:
        # Only required sites may open: every served row needs a required site in reach.
        ok = np.zeros(data.n_rows, dtype=np.bool_)
        ok[data.e_row[data.required[data.e_site]]] = True
        bad = served & ~ok
        if bad.any():
            out.append(
                f"max_new_sites = 0 but {int(bad.sum()):,} farm(s) have no required site in "
                f"reach (e.g. {_row_label(int(np.flatnonzero(bad)[0]))})."
            )
    return out
