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
    from planner.models._heuristics import SparseInstance, assign_nearest  # noqa: PLC0415

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
