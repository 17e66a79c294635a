"""Primal heuristics for p-median-type problems on a sparse (CSR) cost structure.

Everything here works on a :class:`SparseInstance`: each demand row lists the sites it may
use, with the *weighted* cost ``w_i * c_ij``, plus one virtual option that is always
available: ``beyond_w[i]`` (the weighted lower bound on unlisted sites, or a large penalty
when unlisted sites are not allowed). With that option every open set is "feasible" for
the heuristic and the objective is::

    F(S) = sum_i min( beyond_w[i], min_{j in S listed by i} wc_ij ) + sum_{j in S} f_j

Algorithms:

* :func:`greedy` -- add the site with the largest saving, one at a time (Kuehn & Hamburger).
* :func:`fast_interchange` -- best-improvement vertex substitution (Teitz & Bart) with the
  gain/loss/extra bookkeeping of Whitaker (1983) and Resende & Werneck (2007): each
  iteration evaluates all p x (m - p) swaps at once, and after a swap only the rows whose
  nearest or second-nearest open site changed are updated.
* :func:`swap_deltas` -- the full matrix of swap objective changes for a fixed open set
  (used for swap regret and the N-best neighbourhood).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from planner.models._base import BoolArray, FloatArray, IntArray
from planner.models._kernels import kernels

_RECOMPUTE_EVERY = 64  # full recomputation of the move tables, to stop rounding drift


@dataclass(frozen=True, eq=False)
class SparseInstance:
    """A p-median-type instance on sparse per-row site lists (weighted costs).

    Parameters
    ----------
    indptr
        Row pointers into the entry arrays.
    site
        Site of each entry; rows are sorted by ``wcost``.
    wcost
        Weighted cost ``w_i * c_ij`` of each entry.
    cost
        Unweighted cost ``c_ij`` of each entry.
    beyond_w
        Per row, weighted cost of the always-available "unlisted" option (a penalty when
        unlisted sites are not allowed).
    beyond
        Per row, unweighted beyond cost (``inf`` when not allowed).
    weights
        Demand weight per row.
    fixed_cost
        Opening cost per site.
    required
        Sites that must be open.
    allowed
        Sites that may open.
    p
        Number of sites to open.
    """

    indptr: IntArray
    site: IntArray
    wcost: FloatArray
    cost: FloatArray
    beyond_w: FloatArray
    beyond: FloatArray
    weights: FloatArray
    fixed_cost: FloatArray
    required: BoolArray
    allowed: BoolArray
    p: int

    @property
    def n_rows(self) -> int:
        """Number of demand rows."""
        return len(self.indptr) - 1

    @property
    def n_sites(self) -> int:
        """Number of real sites (the virtual option is index ``n_sites``)."""
        return len(self.fixed_cost)

    @property
    def row(self) -> IntArray:
        """Row of each entry."""
        return np.repeat(np.arange(self.n_rows, dtype=np.int64), np.diff(self.indptr))


def entries_of(indptr: IntArray, rows: IntArray) -> IntArray:
    """Return the entry indices of the given rows, concatenated in row order.

    Parameters
    ----------
    indptr
        CSR row pointers.
    rows
        Row indices.

    Returns
    -------
    entries
        Entry indices.
    """
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(total, dtype=np.int64)


def assign_nearest(
    inst: SparseInstance, open_mask: BoolArray, rows: IntArray | None = None
) -> tuple[FloatArray, IntArray, FloatArray, IntArray]:
    """Return nearest and second-nearest open options per row.

    Parameters
    ----------
    inst
        The instance.
    open_mask
        Open flag per real site.
    rows
        Rows to compute (default: all).

    Returns
    -------
    d1, phi1, d2, phi2
        Weighted cost and site of the nearest and second-nearest option; the virtual
        option has site ``n_sites`` and cost ``beyond_w``.
    """
    m = inst.n_sites
    if rows is None:
        rows = np.arange(inst.n_rows, dtype=np.int64)
    k = len(rows)
    d1 = inst.beyond_w[rows].copy()
    d2 = inst.beyond_w[rows].copy()
    phi1 = np.full(k, m, dtype=np.int64)
    phi2 = np.full(k, m, dtype=np.int64)
    if k == 0:
        return d1, phi1, d2, phi2
    ent = entries_of(inst.indptr, rows)
    local = np.repeat(np.arange(k, dtype=np.int64), np.diff(inst.indptr)[rows])
    is_open = open_mask[inst.site[ent]]
    ent, local = ent[is_open], local[is_open]
    # Rows are sorted by cost, so the first open entry of a row is its nearest one.
    rank = np.arange(len(ent)) - np.searchsorted(local, local, side="left")
    first = rank == 0
    second = rank == 1
    r1, e1 = local[first], ent[first]
    better1 = inst.wcost[e1] < d1[r1]
    # The virtual option (beyond) stays first when it is cheaper.
    d2[r1] = np.where(better1, d1[r1], inst.wcost[e1])
    phi2[r1] = np.where(better1, phi1[r1], inst.site[e1])
    d1[r1] = np.where(better1, inst.wcost[e1], d1[r1])
    phi1[r1] = np.where(better1, inst.site[e1], phi1[r1])
    r2, e2 = local[second], ent[second]
    better2 = inst.wcost[e2] < d2[r2]
    d2[r2] = np.where(better2, inst.wcost[e2], d2[r2])
    phi2[r2] = np.where(better2, inst.site[e2], phi2[r2])
    return d1, phi1, d2, phi2


def objective_of(inst: SparseInstance, open_mask: BoolArray) -> float:
    """Return the heuristic objective ``F(S)`` of an open set.

    Parameters
    ----------
    inst
        The instance.
    open_mask
        Open flag per real site.

    Returns
    -------
    objective
        Sum of nearest weighted costs plus fixed costs.
    """
    mask = np.ascontiguousarray(open_mask, dtype=np.bool_)
    assigned = kernels().assigned_cost(inst.indptr, inst.site, inst.wcost, inst.beyond_w, mask)
    return float(assigned + inst.fixed_cost[mask].sum())


def greedy(
    inst: SparseInstance,
    *,
    rng: np.random.Generator | None = None,
    candidates: int = 1,
    start: BoolArray | None = None,
) -> BoolArray:
    """Open p sites greedily by largest saving (ties: lowest index).

    Parameters
    ----------
    inst
        The instance.
    rng
        When given with ``candidates > 1``, pick at random among the best ``candidates``
        sites at each step (a randomised greedy for multi-start).
    candidates
        Size of the restricted candidate list.
    start
        Sites open from the start (default: the required ones).

    Returns
    -------
    open_mask
        Open flag per site, exactly ``p`` set (fewer if not enough sites may open).
    """
    m = inst.n_sites
    open_mask = inst.required.copy() if start is None else start | inst.required
    d1, _, _, _ = assign_nearest(inst, open_mask)
    row = inst.row
    gain = np.bincount(inst.site, weights=np.maximum(0.0, d1[row] - inst.wcost), minlength=m)
    col_ptr, col_ent = _columns(inst)
    while open_mask.sum() < inst.p:
        score = np.where(inst.allowed & ~open_mask, gain - inst.fixed_cost, -np.inf)
        if not np.isfinite(score).any():
            break
        if rng is not None and candidates > 1:
            top = np.argsort(-score, kind="stable")[:candidates]
            top = top[np.isfinite(score[top])]
            j = int(rng.choice(top))
        else:
            j = int(np.argmax(score))
        open_mask[j] = True
        ent_j = col_ent[col_ptr[j] : col_ptr[j + 1]]
        hit = ent_j[inst.wcost[ent_j] < d1[row[ent_j]]]
        rows = np.unique(row[hit])
        if len(rows) == 0:
            continue
        ent = entries_of(inst.indptr, rows)
        rr = row[ent]
        before = np.maximum(0.0, d1[rr] - inst.wcost[ent])
        d1[row[hit]] = np.minimum(d1[row[hit]], inst.wcost[hit])
        after = np.maximum(0.0, d1[rr] - inst.wcost[ent])
        gain += np.bincount(inst.site[ent], weights=after - before, minlength=m)
    return open_mask


def _columns(inst: SparseInstance) -> tuple[IntArray, IntArray]:
    """Return a CSC view: pointers per site and entry ids sorted by site (O(nnz))."""
    n_e = len(inst.site)
    mat = csr_matrix(
        (np.arange(n_e, dtype=np.float64), inst.site, inst.indptr),
        shape=(inst.n_rows, inst.n_sites + 1),
    ).tocsc()
    ptr = np.zeros(inst.n_sites + 2, dtype=np.int64)
    ptr[: len(mat.indptr)] = mat.indptr
    ptr[len(mat.indptr) :] = mat.indptr[-1]
    return ptr, mat.data.astype(np.int64)


@dataclass(eq=False)
class _SwapState:
    """Mutable bookkeeping of the fast interchange (private to this module)."""

    open_mask: BoolArray
    slots: IntArray  # slot -> site
    slot_of: IntArray  # site -> slot (-1 when closed); length m + 1
    d1: FloatArray
    phi1: IntArray
    d2: FloatArray
    phi2: IntArray
    gain: FloatArray
    loss: FloatArray
    extra: FloatArray  # (p, m + 1)


def _contributions(
    inst: SparseInstance, st: _SwapState, rows: IntArray, row_of: IntArray, sign: float
) -> None:
    """Add (sign=+1) or remove (sign=-1) the move-table contributions of ``rows``."""
    m1 = inst.n_sites + 1
    ent = entries_of(inst.indptr, rows)
    rr = row_of[ent]
    wc = inst.wcost[ent]
    s = inst.site[ent]
    # bincount instead of np.add.at: the same sums, an order of magnitude faster.
    st.gain += sign * np.bincount(s, weights=np.maximum(0.0, st.d1[rr] - wc), minlength=m1)
    st.loss += sign * np.bincount(st.phi1[rows], weights=st.d2[rows] - st.d1[rows], minlength=m1)
    sl = st.slot_of[st.phi1[rr]]
    use = (sl >= 0) & (wc < st.d2[rr])
    flat = st.extra.reshape(-1)
    flat += sign * np.bincount(
        sl[use] * m1 + s[use],
        weights=st.d2[rr[use]] - np.maximum(wc[use], st.d1[rr[use]]),
        minlength=flat.size,
    )


def _full_tables(inst: SparseInstance, st: _SwapState, row_of: IntArray) -> None:
    st.gain[:] = 0.0
    st.loss[:] = 0.0
    st.extra[:] = 0.0
    _contributions(inst, st, np.arange(inst.n_rows, dtype=np.int64), row_of, 1.0)


BeyondFn = Callable[[IntArray, BoolArray], tuple[FloatArray, IntArray, FloatArray, IntArray]]
"""(rows, open_mask) -> true weighted (d1, phi1, d2, phi2) over all open sites."""


def nearest_with_beyond(
    inst: SparseInstance,
    open_mask: BoolArray,
    rows: IntArray | None,
    beyond_fn: BeyondFn | None,
) -> tuple[FloatArray, IntArray, FloatArray, IntArray]:
    """Return nearest options like :func:`assign_nearest`, with true costs beyond the lists.

    Rows that would fall back on the beyond option get their true nearest/second-nearest
    open sites from ``beyond_fn``, so the local search sees true costs, never the
    optimistic lower bound.

    Parameters
    ----------
    inst
        The instance.
    open_mask
        Open flag per real site.
    rows
        Rows to compute (default: all).
    beyond_fn
        True-cost function for such rows; ``None`` keeps the beyond option.

    Returns
    -------
    d1, phi1, d2, phi2
        As :func:`assign_nearest`.
    """
    d1, phi1, d2, phi2 = assign_nearest(inst, open_mask, rows)
    if beyond_fn is None:
        return d1, phi1, d2, phi2
    all_rows = np.arange(inst.n_rows, dtype=np.int64) if rows is None else rows
    m = inst.n_sites
    need = ((phi1 == m) | (phi2 == m)) & np.isfinite(inst.beyond[all_rows])
    need &= inst.weights[all_rows] > 0
    if need.any():
        k = np.flatnonzero(need)
        t1, s1, t2, s2 = beyond_fn(all_rows[k], open_mask)
        # Listed options stay where they are cheaper than the true unlisted ones.
        c1, c2, p1, p2 = d1[k], d2[k], phi1[k], phi2[k]
        real1 = p1 != m
        real2 = p2 != m
        cand_d = np.stack([np.where(real1, c1, np.inf), np.where(real2, c2, np.inf), t1, t2])
        cand_s = np.stack([p1, p2, s1, s2])
        order = np.argsort(cand_d, axis=0, kind="stable")
        sd = np.take_along_axis(cand_d, order, axis=0)
        ss = np.take_along_axis(cand_s, order, axis=0)
        # Drop a duplicate site (listed and found again by beyond_fn) from second place.
        dup = ss[1] == ss[0]
        d1[k], phi1[k] = sd[0], ss[0]
        d2[k] = np.where(dup, sd[2], sd[1])
        phi2[k] = np.where(dup, ss[2], ss[1])
    return d1, phi1, d2, phi2


def _new_state(
    inst: SparseInstance,
    open_mask: BoolArray,
    row_of: IntArray,
    beyond_fn: BeyondFn | None = None,
) -> _SwapState:
    m = inst.n_sites
    slots = np.flatnonzero(open_mask).astype(np.int64)
    slot_of = np.full(m + 1, -1, dtype=np.int64)
    slot_of[slots] = np.arange(len(slots))
    d1, phi1, d2, phi2 = nearest_with_beyond(inst, open_mask, None, beyond_fn)
    st = _SwapState(
        open_mask=open_mask.copy(),
        slots=slots,
        slot_of=slot_of,
        d1=d1,
        phi1=phi1,
        d2=d2,
        phi2=phi2,
        gain=np.zeros(m + 1),
        loss=np.zeros(m + 1),
        extra=np.zeros((len(slots), m + 1)),
    )
    _full_tables(inst, st, row_of)
    return st


def _profit_matrix(inst: SparseInstance, st: _SwapState) -> FloatArray:
    """Objective decrease of swapping slot r's site out and site j in, shape (p, m)."""
    m = inst.n_sites
    out_sites = st.slots
    prof = (
        st.gain[None, :m]
        - st.loss[out_sites][:, None]
        + st.extra[:, :m]
        + inst.fixed_cost[out_sites][:, None]
        - inst.fixed_cost[None, :]
    )
    bad_in = ~inst.allowed | st.open_mask
    prof[:, bad_in] = -np.inf
    prof[inst.required[out_sites], :] = -np.inf
    return prof


def swap_deltas(inst: SparseInstance, open_mask: BoolArray) -> tuple[IntArray, FloatArray]:
    """Return the objective change of every single swap for a fixed open set.

    Parameters
    ----------
    inst
        The instance.
    open_mask
        The open set.

    Returns
    -------
    out_sites, delta
        ``delta[k, j]`` = F(S - out_sites[k] + j) - F(S); ``inf`` for swaps that are not
        allowed (j open or forbidden, or out site required).
    """
    st = _new_state(inst, open_mask, inst.row)
    return st.slots.copy(), -_profit_matrix(inst, st)


def fast_interchange(
    inst: SparseInstance,
    open_mask: BoolArray,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_improve: Callable[[float], None] | None = None,
    max_iterations: int = 1_000_000,
    beyond_fn: BeyondFn | None = None,
) -> tuple[BoolArray, float, int]:
    """Improve an open set by best-improvement single swaps until no swap helps.

    Parameters
    ----------
    inst
        The instance.
    open_mask
        Starting open set (exactly ``p`` sites).
    should_stop
        Polled once per iteration; stop early when it returns True.
    on_improve
        Called with the new objective after every improving swap.
    max_iterations
        Cap on the number of swaps.
    beyond_fn
        True costs for rows without a listed open site (see :func:`nearest_with_beyond`);
        gains of unlisted sites are then ignored, so every accepted swap truly improves.

    Returns
    -------
    open_mask, objective, swaps
        The local optimum (or where it stopped), its objective ``F`` and the swap count.
    """
    row_of = inst.row
    col_ptr, col_ent = _columns(inst)
    st = _new_state(inst, open_mask, row_of, beyond_fn)
    objective = float(st.d1.sum() + inst.fixed_cost[st.open_mask].sum())
    swaps = 0
    if len(st.slots) == 0:
        return st.open_mask, objective, 0
    while swaps < max_iterations:
        if should_stop is not None and should_stop():
            break
        prof = _profit_matrix(inst, st)
        flat = int(np.argmax(prof))
        k, j = divmod(flat, prof.shape[1])
        best = float(prof[k, j])
        if not best > 1e-9 * max(1.0, abs(objective)):
            break
        r = int(st.slots[k])
        # Rows whose nearest/second-nearest option changes: those served by r (first or
        # second) and those for which the new site j beats the second-nearest.
        ent_j = col_ent[col_ptr[j] : col_ptr[j + 1]]
        near_j = row_of[ent_j[inst.wcost[ent_j] < st.d2[row_of[ent_j]]]]
        rows = np.unique(np.concatenate([np.flatnonzero((st.phi1 == r) | (st.phi2 == r)), near_j]))
        _contributions(inst, st, rows, row_of, -1.0)
        st.open_mask[r] = False
        st.open_mask[j] = True
        st.slot_of[r] = -1
        st.slot_of[j] = k
        st.slots[k] = j
        st.extra[k, :] = 0.0
        d1, phi1, d2, phi2 = nearest_with_beyond(inst, st.open_mask, rows, beyond_fn)
        st.d1[rows], st.phi1[rows], st.d2[rows], st.phi2[rows] = d1, phi1, d2, phi2
        _contributions(inst, st, rows, row_of, 1.0)
        swaps += 1
        if swaps % _RECOMPUTE_EVERY == 0:
            _full_tables(inst, st, row_of)
        objective = float(st.d1.sum() + inst.fixed_cost[st.open_mask].sum())
        if on_improve is not None:
            on_improve(objective)
    return st.open_mask, objective, swaps


def restrict(
    inst: SparseInstance,
    keep_site: BoolArray,
    row_limit_w: FloatArray,
    *,
    penalty: float,
) -> SparseInstance:
    """Keep only what a solution cheaper than some threshold can use.

    The caller guarantees (e.g. by a Lagrangian argument) that every solution cheaper than
    its threshold keeps the dropped sites closed and serves row ``i`` at a weighted cost
    below ``row_limit_w[i]``. Entries above the limit are dropped; a row whose beyond
    option is also above the limit must then be served by a listed site (its beyond
    option becomes the ``penalty``). Bounds on the result hold for every solution
    cheaper than the threshold.

    Parameters
    ----------
    inst
        The instance.
    keep_site
        Sites that may still open (others are closed for good).
    row_limit_w
        Per row, weighted cost above which entries are dropped.
    penalty
        Weighted cost that marks "must be served by a listed site".

    Returns
    -------
    reduced
        The smaller instance (same rows and site indices).
    """
    row = inst.row
    inside = keep_site[inst.site] & (inst.wcost <= row_limit_w[row])
    cut = inst.beyond_w > row_limit_w
    beyond_w = np.where(cut, penalty, inst.beyond_w)
    beyond = np.where(cut, np.inf, inst.beyond)
    indptr = np.zeros(inst.n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row[inside], minlength=inst.n_rows), out=indptr[1:])
    return SparseInstance(
        indptr=indptr,
        site=inst.site[inside],
        wcost=inst.wcost[inside],
        cost=inst.cost[inside],
        beyond_w=beyond_w,
        beyond=beyond,
        weights=inst.weights,
        fixed_cost=inst.fixed_cost,
        required=inst.required,
        allowed=inst.allowed & keep_site,
        p=inst.p,
    )


def extend_rows(
    inst: SparseInstance,
    rows: IntArray,
    new_site: IntArray,
    new_cost: FloatArray,
    new_beyond: FloatArray,
    *,
    penalty: float,
) -> SparseInstance:
    """Lengthen the site lists of some rows with more (exactly priced) sites.

    Row ``rows[r]`` gains the sites ``new_site[r]`` at unweighted costs ``new_cost[r]``
    (sites it already lists keep their entry), and its beyond option becomes
    ``max(old, new_beyond[r])``: a lower bound on every site still unlisted, so bounds stay
    valid and get stronger. ``new_beyond = inf`` means every site that may open is now
    listed (the beyond option becomes the ``penalty``).

    Parameters
    ----------
    inst
        The instance.
    rows
        Rows to extend (distinct).
    new_site, new_cost
        ``len(rows) x K`` arrays: candidate sites and their true unweighted costs.
    new_beyond
        Per extended row, a lower bound on the unweighted cost of every site not listed
        after the extension.
    penalty
        Weighted cost that marks "must be served by a listed site".

    Returns
    -------
    extended
        The instance with longer lists (same rows and site indices), rows sorted by cost.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return inst
    m = inst.n_sites
    k = new_site.shape[1]
    old_row = inst.row
    n_rr = np.repeat(rows, k)
    n_site = new_site.ravel().astype(np.int64)
    n_cost = new_cost.ravel().astype(np.float64)
    touched = np.isin(old_row, rows)
    listed = np.isin(n_rr * (m + 1) + n_site, old_row[touched] * (m + 1) + inst.site[touched])
    fresh = ~listed & np.isfinite(n_cost)
    n_rr, n_site, n_cost = n_rr[fresh], n_site[fresh], n_cost[fresh]
    all_row = np.concatenate([old_row, n_rr])
    all_site = np.concatenate([inst.site, n_site])
    all_cost = np.concatenate([inst.cost, n_cost])
    all_wcost = np.concatenate([inst.wcost, inst.weights[n_rr] * n_cost])
    order = np.lexsort((all_site, all_wcost, all_row))
    indptr = np.zeros(inst.n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(all_row, minlength=inst.n_rows), out=indptr[1:])
    beyond = inst.beyond.copy()
    beyond[rows] = np.maximum(beyond[rows], new_beyond)
    beyond_w = inst.beyond_w.copy()
    finite = np.isfinite(beyond[rows])
    safe = np.where(finite, beyond[rows], 0.0)
    beyond_w[rows] = np.where(finite, inst.weights[rows] * safe, penalty)
    return SparseInstance(
        indptr=indptr,
        site=all_site[order],
        wcost=all_wcost[order],
        cost=all_cost[order],
        beyond_w=beyond_w,
        beyond=beyond,
        weights=inst.weights,
        fixed_cost=inst.fixed_cost,
        required=inst.required,
        allowed=inst.allowed,
        p=inst.p,
    )
