"""Coverage sets of the covering models (MCLP, set covering, p-center) and their exact reductions.

Row ``i`` is covered by site ``j`` when the pair is listed in the cost matrix,
``c_ij <= service_radius`` (the same test, with the same tolerance, as
:func:`planner.models.check.check_solution`) and ``j`` is not forbidden. Rows whose coverage
sets are identical are merged exactly (:func:`_group_rows`, weights summed), and a column whose
set is a subset of another's is dominated (:func:`dominated_columns`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from planner.models._base import (
    BoolArray,
    CostMatrix,
    FloatArray,
    IntArray,
    LocationProblem,
)

_RADIUS_REL_TOL = 1e-12  # same tolerance as check.py uses for "within the radius"


def within_radius(cost: FloatArray, radius: float) -> BoolArray:
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


@dataclass(frozen=True, eq=False)
class Groups:
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
) -> Groups:
    """Merge rows whose (sorted) column sets are identical; exact, no approximation.

    Rows are bucketed by (length, two 64-bit sums of random column keys) with numpy, and
    every row is then compared element by element with its bucket's first row; rows of a
    bucket that differ (a hash collision, astronomically rare) are regrouped exactly by
    their bytes, so the result never depends on the hash.
    """
    n = len(row_ids)
    lens = np.diff(indptr)
    if n == 0:
        return Groups(
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
    return Groups(
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
    return coverage_sets(problem, within_radius(costs.cost, radius), truncated)


def dominated_columns(gt: sp.csr_matrix, cost: FloatArray | None) -> BoolArray:
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
