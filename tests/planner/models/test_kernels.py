"""Compiled Lagrangian kernels against their vectorised references."""

from __future__ import annotations

import numpy as np
import pytest

from planner.models._kernels import kernels, lagrangian_pass_numpy, subgradient_numpy


def _instance(seed: int, n: int, m: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 6, n)  # includes empty rows
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    site = np.concatenate(
        [rng.choice(m, size=k, replace=False) for k in lengths] or [np.zeros(0)]
    ).astype(np.int64)
    wc = rng.random(int(indptr[-1])) * 10
    for i in range(n):  # rows cheapest first, as SparseInstance guarantees
        sl = slice(indptr[i], indptr[i + 1])
        order = np.argsort(wc[sl], kind="stable")
        wc[sl], site[sl] = wc[sl][order], site[sl][order]
    u = rng.random(n) * 12
    u[rng.random(n) < 0.2] = 0.0
    bw = rng.random(n) * 12
    fixed = rng.random(m)
    open_mask = rng.random(m) < 0.4
    return indptr, site, wc, u, bw, fixed, open_mask


@pytest.mark.parametrize("seed", range(20))
def test_kernels_match_numpy(seed: int) -> None:
    indptr, site, wc, u, bw, fixed, open_mask = _instance(seed, n=40, m=9)
    kern = kernels()
    rho = np.empty(9)
    base = kern.lagrangian_pass(indptr, site, wc, u, bw, fixed, rho)
    rho_ref, base_ref = lagrangian_pass_numpy(indptr, site, wc, u, bw, fixed)
    np.testing.assert_allclose(rho, rho_ref, rtol=1e-12, atol=1e-9)
    assert base == pytest.approx(base_ref, rel=1e-12)
    g = np.empty(40)
    kern.subgradient(indptr, site, wc, u, bw, open_mask, g)
    np.testing.assert_array_equal(g, subgradient_numpy(indptr, site, wc, u, bw, open_mask))


def test_ties_at_the_multiplier_are_not_negative() -> None:
    # wc == u gives a zero reduced cost: neither a price contribution nor "served".
    indptr = np.array([0, 2], dtype=np.int64)
    site = np.array([0, 1], dtype=np.int64)
    wc = np.array([3.0, 5.0])
    u = np.array([3.0])
    bw = np.array([9.0])
    rho = np.empty(2)
    base = kernels().lagrangian_pass(indptr, site, wc, u, bw, np.zeros(2), rho)
    assert base == 3.0
    np.testing.assert_array_equal(rho, [0.0, 0.0])
    g = np.empty(1)
    kernels().subgradient(indptr, site, wc, u, bw, np.array([True, True]), g)
    assert g[0] == 1.0


@pytest.mark.parametrize("seed", range(10))
def test_assigned_cost_matches_assign_nearest(seed: int) -> None:
    from planner.models.pmedian._heuristics import SparseInstance, assign_nearest  # noqa: PLC0415

    indptr, site, wc, _, bw, fixed, open_mask = _instance(seed, n=40, m=9)
    inst = SparseInstance(
        indptr=indptr,
        site=site,
        wcost=wc,
        cost=wc,
        beyond_w=bw,
        beyond=bw,
        weights=np.ones(40),
        fixed_cost=fixed,
        required=np.zeros(9, dtype=np.bool_),
        allowed=np.ones(9, dtype=np.bool_),
        p=3,
    )
    d1, _, _, _ = assign_nearest(inst, open_mask)
    got = kernels().assigned_cost(indptr, site, wc, bw, open_mask)
    assert got == pytest.approx(float(d1.sum()), rel=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_cflp_knapsack_is_the_lp_knapsack(seed: int) -> None:
    from scipy.optimize import linprog  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    m, n = 5, 30
    counts = rng.integers(0, 9, m)
    site_ptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(counts, out=site_ptr[1:])
    ent_row = np.concatenate([rng.choice(n, k, replace=False) for k in counts]).astype(np.int64)
    ent_w = rng.integers(0, 5, len(ent_row)).astype(np.float64)  # zero weights included
    ent_pair = rng.random(len(ent_row)) * 10
    lam = rng.random(n) * 8
    capacity = np.where(rng.random(m) < 0.2, np.inf, rng.random(m) * 12)
    take = np.empty(len(ent_row))
    gain = np.empty(m)
    kernels().cflp_knapsack(site_ptr, ent_row, ent_w, ent_pair, lam, capacity, take, gain)
    for j in range(m):
        sl = slice(site_ptr[j], site_ptr[j + 1])
        rc = ent_pair[sl] - lam[ent_row[sl]]
        assert np.all((take[sl] >= 0) & (take[sl] <= 1))
        assert np.all(take[sl][rc >= 0] == 0)
        assert float(ent_w[sl] @ take[sl]) <= capacity[j] * (1 + 1e-9) + 1e-9
        assert gain[j] == pytest.approx(float(rc @ take[sl]), abs=1e-9)
        if len(rc) == 0:
            assert gain[j] == 0.0
            continue
        ub = None if np.isinf(capacity[j]) else [capacity[j]]
        lp = linprog(rc, A_ub=None if ub is None else ent_w[sl][None, :], b_ub=ub, bounds=(0, 1))
        assert gain[j] == pytest.approx(lp.fun, abs=1e-7)
    # Served fractions per row, and how many open sites list each row.
    open_mask = rng.random(m) < 0.5
    served = np.empty(n)
    listed = np.empty(n)
    kernels().cflp_served(np.repeat(np.arange(m), counts), ent_row, take, open_mask, served, listed)
    site_of = np.repeat(np.arange(m), counts)
    on = open_mask[site_of]
    np.testing.assert_allclose(served, np.bincount(ent_row[on], weights=take[on], minlength=n))
    np.testing.assert_array_equal(listed, np.bincount(ent_row[on], minlength=n))


def test_warm_compiles_the_signatures_the_solvers_use() -> None:
    """After warm(), calls with the solvers' array types add no new compiled specialisation."""
    from planner.models._kernels import warm  # noqa: PLC0415

    warm()
    kern = kernels()
    before = {name: len(getattr(kern, name).signatures) for name in kern._fields}
    assert all(n >= 1 for n in before.values()), before
    test_kernels_match_numpy(0)
    test_assigned_cost_matches_assign_nearest(0)
    test_cflp_knapsack_is_the_lp_knapsack(0)
    after = {name: len(getattr(kern, name).signatures) for name in kern._fields}
    assert after == before
