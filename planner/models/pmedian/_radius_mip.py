"""The radius (covering) MIP of the uncapacitated p-median (Elloumi 2010; García et al. 2011).

Formulation (w_i demand weight, c_ij cost, f_j fixed cost)::

    Data. For row i, L_i^1 < ... < L_i^K are the distinct weighted costs w_i c_ij of the
      listed sites within the row's radius R_i; N_i^k = sites at exactly L_i^k;
      B_i = weighted cost of the cheapest option beyond the radius (next listed site, or
      w_i * beyond_cost[i]; infinite when unlisted sites are not allowed).
    Variables. y_j in {0, 1}: site j open.
      z_i^k in [0, 1]: 1 when row i has no open site at weighted cost <= L_i^k.
    Model.
      (1) min  sum_i [ L_i^1 + sum_{k<K} (L_i^{k+1} - L_i^k) z_i^k + (B_i - L_i^K) z_i^K ]
               + sum_j f_j y_j
      (2) sum_j y_j = p
      (3) z_i^1 + sum_{j in N_i^1} y_j >= 1                     for every row i
      (4) z_i^k + sum_{j in N_i^k} y_j >= z_i^{k-1}             for every row i, k = 2..K
      (5) z_i^K = 0 when B_i is infinite (the row must be served within its list)
      (6) y_j = 1 for required (and Lagrangian-fixed open) sites;
          y_j = 0 for forbidden (and Lagrangian-fixed closed) sites (left out of the model)

(4) is (3) for level k written as a difference, so the matrix has one entry per listed
pair instead of one per (level, pair). Because R_i truncates the lists and B_i is a lower
bound on everything beyond, the optimum of (1)-(6) is a lower bound for the full problem;
it is exact once no row of the MIP's solution lies beyond its radius.
"""

from __future__ import annotations

import numpy as np

from planner.models._base import BoolArray, FloatArray, IntArray
from planner.models._mip import MipBackend, SparseMip
from planner.models.pmedian._heuristics import SparseInstance, assign_nearest


def build_radius_mip(
    inst: SparseInstance,
    radius: FloatArray,
    fixed_open: BoolArray,
    fixed_closed: BoolArray,
    backend: MipBackend,
) -> tuple[SparseMip, IntArray, tuple[IntArray, IntArray, FloatArray]]:
    """Build (1)-(6); returns the model, y variable -> site, and z (row, var id, level)."""
    m = inst.n_sites
    row = inst.row
    cand = ~fixed_closed
    e_ok = cand[inst.site]
    # Truncate each row at its radius and at its cheapest fixed-open site.
    fo_cost = np.full(inst.n_rows, np.inf)
    fo_e = e_ok & fixed_open[inst.site]
    np.minimum.at(fo_cost, row[fo_e], inst.wcost[fo_e])
    lim = np.minimum(radius, fo_cost)
    inside = e_ok & (inst.wcost <= lim[row] * (1 + 1e-12) + 1e-12)
    # B_i: cheapest candidate entry beyond the limit, else the row's beyond option.
    b = inst.beyond_w.copy()
    out_e = e_ok & ~inside
    np.minimum.at(b, row[out_e], inst.wcost[out_e])
    covered_by_fixed = np.isfinite(fo_cost) & (fo_cost <= lim * (1 + 1e-12) + 1e-12)
    e = np.flatnonzero(inside)
    er, wc, es = row[e], inst.wcost[e], inst.site[e]
    # Level index within each row (entries are sorted by weighted cost per row).
    new_level = np.ones(len(e), dtype=np.bool_)
    new_level[1:] = (er[1:] != er[:-1]) | (wc[1:] != wc[:-1])
    level_id = np.cumsum(new_level) - 1  # global level id
    lv_row = er[new_level]
    lv_cost = wc[new_level]
    n_lv = len(lv_row)
    last = np.ones(n_lv, dtype=np.bool_)
    last[:-1] = lv_row[1:] != lv_row[:-1]
    first = np.ones(n_lv, dtype=np.bool_)
    first[1:] = lv_row[1:] != lv_row[:-1]
    nxt = np.empty(n_lv)
    nxt[:-1] = lv_cost[1:]
    nxt[last] = b[lv_row[last]]
    # (5): rows that may not go unlisted and have no candidate beyond their limit.
    must_cover = ~np.isfinite(inst.beyond) & (b >= inst.beyond_w)
    forced_zero = last & (covered_by_fixed[lv_row] | must_cover[lv_row])
    coef = np.where(forced_zero, 0.0, nxt - lv_cost)
    mip = SparseMip()
    cand_sites = np.flatnonzero(cand).astype(np.int64)
    col_of_site = np.full(m, -1, dtype=np.int64)
    lo = fixed_open[cand_sites].astype(np.float64)
    y = mip.add_variables(
        len(cand_sites),
        lower=lo,
        upper=1.0,
        integer=True,
        objective=inst.fixed_cost[cand_sites],
        name="y",
    )
    col_of_site[cand_sites] = y
    z = mip.add_variables(
        n_lv,
        lower=0.0,
        upper=np.where(forced_zero, 0.0, 1.0),
        integer=backend == "cp-sat",
        objective=coef,
        name="z",
    )
    # Constant part of (1): L_i^1 for rows with levels, B_i for rows without any.
    has_lv = np.zeros(inst.n_rows, dtype=np.bool_)
    has_lv[lv_row] = True
    const = float(lv_cost[first].sum()) + float(b[~has_lv].sum())
    mip.objective_offset = const
    # (2) cardinality
    mip.add_constraints(
        lower=[inst.p], upper=[inst.p], rows=np.zeros(len(y)), cols=y, coefs=np.ones(len(y))
    )
    # (3)/(4): one row per level: z_k + sum_{N_k} y - z_{k-1} >= [k == 1]
    prev = np.flatnonzero(~first)
    rows_c = np.concatenate([np.arange(n_lv), level_id, prev])
    cols_c = np.concatenate([z, col_of_site[es], z[prev - 1]])
    coefs_c = np.concatenate([np.ones(n_lv), np.ones(len(e)), -np.ones(len(prev))])
    mip.add_constraints(
        lower=first.astype(np.float64),
        upper=np.full(n_lv, np.inf),
        rows=rows_c,
        cols=cols_c,
        coefs=coefs_c,
    )
    return mip, cand_sites, (lv_row, z, lv_cost)


def radius_hint(
    inst: SparseInstance,
    open_mask: BoolArray,
    y_sites: IntArray,
    z_info: tuple[IntArray, IntArray, FloatArray],
    n_vars: int,
) -> FloatArray:
    """Variable values of an open set in (1)-(6): y_j and z_i^k = [d1_i > L_i^k]."""
    d1, _, _, _ = assign_nearest(inst, open_mask)
    lv_row, z_ids, lv_cost = z_info
    hint = np.zeros(n_vars)
    hint[: len(y_sites)] = open_mask[y_sites].astype(np.float64)
    hint[z_ids] = (d1[lv_row] > lv_cost * (1 + 1e-12) + 1e-12).astype(np.float64)
    return hint
