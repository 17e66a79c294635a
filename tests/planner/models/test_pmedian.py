"""PMedian against brute-force enumeration, every result through check_solution."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from planner.models import (
    CancelToken,
    CostMatrix,
    Progress,
    SiteData,
    Solution,
    SolveOptions,
    Status,
    check_solution,
)
from planner.models.pmedian import PMedian
from planner.models.pmedian._heuristics import extend_rows

ORLIB = Path(__file__).resolve().parents[3].parent / "shared" / "benchmarks" / "orlib"


def _brute(
    cost: np.ndarray,
    w: np.ndarray,
    p: int,
    *,
    fixed: np.ndarray | None = None,
    required: tuple[int, ...] = (),
    forbidden: tuple[int, ...] = (),
    capacity: np.ndarray | None = None,
) -> tuple[float, tuple[int, ...]]:
    """Optimum by enumerating every open set (and every assignment when capacitated)."""
    n, m = cost.shape
    f = np.zeros(m) if fixed is None else fixed
    best = (math.inf, ())
    free = [j for j in range(m) if j not in required and j not in forbidden]
    for combo in itertools.combinations(free, p - len(required)):
        sites = tuple(sorted(required + combo))
        sub = cost[:, sites]
        if capacity is None:
            mins = sub.min(axis=1)
            if not np.isfinite(mins).all():
                continue
            value = float((w * mins).sum() + f[list(sites)].sum())
        else:
            value = math.inf
            for assign in itertools.product(range(len(sites)), repeat=n):
                c = sub[np.arange(n), assign]
                if not np.isfinite(c).all():
                    continue
                load = np.bincount(assign, weights=w, minlength=len(sites))
                if (load > capacity[list(sites)] + 1e-9).any():
                    continue
                value = min(value, float((w * c).sum() + f[list(sites)].sum()))
        best = min(best, (value, sites))
    return best


def _instance(seed: int, n: int = 12, m: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy_d = rng.random((n, 2)) * 100
    xy_s = rng.random((m, 2)) * 100
    cost = np.round(np.hypot(*(xy_d[:, None, :] - xy_s[None, :, :]).transpose(2, 0, 1)), 1)
    w = rng.integers(1, 6, n).astype(float)
    return cost, w


def _solve_checked(model: PMedian, **kw: Any) -> Solution:  # noqa: ANN401
    sol = model.solve(SolveOptions(time_limit_s=20, **kw))  # type: ignore[arg-type]
    if sol.has_solution:
        report = check_solution(model.problem, sol)
        assert report.ok, report.violations
    return sol


@pytest.mark.solver
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("backend", ["auto", "heuristic", "scip", "cp-sat"])
def test_plain_matches_brute_force(seed: int, backend: str) -> None:
    cost, w = _instance(seed)
    model = PMedian.from_cost_matrix(cost, w, p=3)
    sol = _solve_checked(model, backend=backend)
    value, _ = _brute(cost, w, 3)
    assert sol.objective == pytest.approx(value)
    if backend != "heuristic":
        assert sol.status is Status.OPTIMAL
        assert sol.gap <= 1e-6
    assert sol.bound <= sol.objective + 1e-9


@pytest.mark.solver
@pytest.mark.parametrize("seed", range(5))
def test_required_forbidden_fixed_cost(seed: int) -> None:
    cost, w = _instance(seed, n=14, m=7)
    fixed = np.random.default_rng(seed).integers(0, 40, 7).astype(float)
    sites = SiteData.default(7, fixed_cost=fixed, required=[1], forbidden=[4])
    model = PMedian.from_cost_matrix(cost, w, p=3, sites=sites)
    sol = _solve_checked(model)
    value, _ = _brute(cost, w, 3, fixed=fixed, required=(1,), forbidden=(4,))
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(value)
    assert 1 in sol.open_sites
    assert 4 not in sol.open_sites


@pytest.mark.solver
@pytest.mark.parametrize("seed", range(5))
def test_cutoff(seed: int) -> None:
    cost, w = _instance(seed, n=12, m=6)
    cutoff = float(np.sort(cost, axis=1)[:, 2].max())  # every row reaches >= 3 sites
    model = PMedian.from_cost_matrix(cost, w, p=2, max_cost=cutoff)
    sol = _solve_checked(model)
    masked = np.where(cost <= cutoff, cost, np.inf)
    value, _ = _brute(masked, w, 2)
    if math.isinf(value):
        assert sol.status is Status.INFEASIBLE
        assert "cutoff" in sol.message
    else:
        assert sol.status is Status.OPTIMAL
        assert sol.objective == pytest.approx(value)


@pytest.mark.solver
def test_cutoff_infeasible_and_unreachable_rows() -> None:
    cost = np.array([[1.0, 50.0], [50.0, 1.0], [60.0, 70.0]])
    sol = PMedian.from_cost_matrix(cost, [1, 1, 1], p=1, max_cost=10).solve()
    assert sol.status is Status.INFEASIBLE
    assert "p = 1" in sol.message
    model = PMedian.from_cost_matrix(cost, [1, 1, 1], p=2, max_cost=10)
    sol2 = _solve_checked(model)
    assert sol2.status is Status.OPTIMAL
    assert sol2.assignment[2] == -1
    assert "no allowed site" in sol2.message
    assert sol2.objective == pytest.approx(2.0)


@pytest.mark.solver
@pytest.mark.parametrize("seed", range(4))
def test_capacitated_matches_brute_force(seed: int) -> None:
    cost, w = _instance(seed, n=6, m=4)
    cap = np.full(4, float(w.sum()) * 0.55)
    sites = SiteData.default(4, capacity=cap)
    model = PMedian.from_cost_matrix(cost, w, p=2, sites=sites, capacitated=True)
    sol = _solve_checked(model)
    value, _ = _brute(cost, w, 2, capacity=cap)
    if math.isinf(value):
        assert sol.status is Status.INFEASIBLE
    else:
        assert sol.status is Status.OPTIMAL
        assert sol.objective == pytest.approx(value)


def test_capacity_infeasible_message_has_numbers() -> None:
    cost, w = _instance(0, n=6, m=4)
    sites = SiteData.default(4, capacity=1.0)
    sol = PMedian.from_cost_matrix(cost, w, p=2, sites=sites, capacitated=True).solve()
    assert sol.status is Status.INFEASIBLE
    assert "2.00 < demand" in sol.message


def test_new_site_bounds_infeasible() -> None:
    cost, w = _instance(0)
    sites = SiteData.default(6, required=[0, 1])
    sol = PMedian.from_cost_matrix(cost, w, p=3, sites=sites, min_new_sites=2).solve()
    assert sol.status is Status.INFEASIBLE
    assert "min_new_sites = 2" in sol.message


@pytest.mark.solver
def test_k_nearest_lists_with_and_without_exact_cost() -> None:
    cost, w = _instance(3, n=20, m=8)
    k = 3
    order = np.argsort(cost, axis=1, kind="stable")
    indptr = np.arange(0, 20 * k + 1, k, dtype=np.int64)
    site_index = order[:, :k].reshape(-1).astype(np.int64)
    costs = CostMatrix(
        indptr=indptr,
        site_index=site_index,
        cost=cost[np.repeat(np.arange(20), k), site_index],
        n_sites=8,
        beyond_cost=cost[np.arange(20), order[:, k]],
    )

    def exact(rows: np.ndarray, sites: np.ndarray) -> np.ndarray:
        return cost[np.ix_(rows, sites)]

    value, _ = _brute(cost, w, 2)
    model = PMedian.from_cost_matrix(costs, w, p=2, exact_cost=exact)
    sol = _solve_checked(model)
    assert sol.objective == pytest.approx(value)
    assert sol.bound <= value + 1e-9
    plain = PMedian.from_cost_matrix(costs, w, p=2)
    sol2 = _solve_checked(plain)
    assert sol2.bound <= value + 1e-9


def _truncated(cost: np.ndarray, k: int) -> CostMatrix:
    """k-nearest lists of a dense matrix, beyond = the (k+1)-th cheapest cost."""
    n, m = cost.shape
    order = np.argsort(cost, axis=1, kind="stable")
    site_index = order[:, :k].reshape(-1).astype(np.int64)
    return CostMatrix(
        indptr=np.arange(0, n * k + 1, k, dtype=np.int64),
        site_index=site_index,
        cost=cost[np.repeat(np.arange(n), k), site_index],
        n_sites=m,
        beyond_cost=cost[np.arange(n), order[:, k]],
    )


@pytest.mark.solver
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("backend", ["auto", "highs", "cp-sat"])
def test_truncated_lists_prove_only_true_optima(seed: int, backend: str) -> None:
    # Short lists + exact costs: bounds must hold for the full problem, and OPTIMAL must
    # mean the gap is closed (a MIP on optimistic beyond costs proves nothing by itself).
    cost, w = _instance(seed, n=30, m=9)
    value, _ = _brute(cost, w, 3)

    def exact(rows: np.ndarray, sites: np.ndarray) -> np.ndarray:
        return cost[np.ix_(rows, sites)]

    model = PMedian.from_cost_matrix(_truncated(cost, 2), w, p=3, exact_cost=exact)
    sol = _solve_checked(model, backend=backend)
    assert sol.objective == pytest.approx(value)
    assert sol.bound <= value + 1e-9
    if sol.status is Status.OPTIMAL:
        assert sol.gap <= 1e-6
    if backend == "auto":
        assert sol.status is Status.OPTIMAL


def test_extend_rows_keeps_lists_sorted_and_bounds_valid() -> None:
    cost, w = _instance(5, n=10, m=6)
    model = PMedian.from_cost_matrix(_truncated(cost, 2), w, p=2)
    inst = model._prep.inst
    rows = np.array([1, 4])
    cand = np.arange(6)
    # Row 1 gets every site (beyond: none left), row 4 three more (beyond: the 6th).
    new_site = np.vstack([cand, np.argsort(cost[4])[:6]])
    new_cost = cost[rows[:, None], new_site]
    new_beyond = np.array([np.inf, np.inf])
    ext = extend_rows(inst, rows, new_site, new_cost, new_beyond, penalty=1e9)
    for r in range(inst.n_rows):
        lo, hi = ext.indptr[r], ext.indptr[r + 1]
        assert (np.diff(ext.wcost[lo:hi]) >= 0).all()
        assert len(set(ext.site[lo:hi].tolist())) == hi - lo  # no duplicate sites
        if r in rows:
            assert hi - lo == 6
            assert ext.beyond_w[r] == 1e9
            np.testing.assert_allclose(ext.cost[lo:hi], cost[r, ext.site[lo:hi]])
        else:
            olo, ohi = inst.indptr[r], inst.indptr[r + 1]
            np.testing.assert_array_equal(ext.site[lo:hi], inst.site[olo:ohi])
            assert ext.beyond_w[r] == inst.beyond_w[r]
    # Partial extension: beyond rises to the bound given, never falls.
    part = extend_rows(
        inst, rows[:1], new_site[:1, :3], new_cost[:1, :3], np.array([0.0]), penalty=1e9
    )
    assert part.beyond[1] == inst.beyond[1]
    old = set(inst.site[inst.indptr[1] : inst.indptr[2]].tolist())
    assert part.indptr[2] - part.indptr[1] == len(old | {0, 1, 2})


@pytest.mark.solver
def test_deterministic() -> None:
    cost, w = _instance(11, n=40, m=12)
    model = PMedian.from_cost_matrix(cost, w, p=4)
    a = model.solve(SolveOptions(seed=3, n_best=3))
    b = model.solve(SolveOptions(seed=3, n_best=3))
    assert a.open_sites == b.open_sites
    assert a.objective == b.objective
    assert a.alternatives == b.alternatives
    assert np.array_equal(a.assignment, b.assignment)


@pytest.mark.solver
def test_n_best_and_regret_match_brute_force() -> None:
    cost, w = _instance(5, n=15, m=7)
    model = PMedian.from_cost_matrix(cost, w, p=3)
    sol = _solve_checked(model, n_best=4)
    values = sorted(
        float((w * cost[:, list(s)].min(axis=1)).sum()) for s in itertools.combinations(range(7), 3)
    )
    alts = sol.alternatives
    assert len(alts) == 4
    assert len({a.open_sites for a in alts}) == 4
    assert [a.objective for a in alts] == pytest.approx(values[:4])
    for s in sol.open_sites:
        rest = [t for t in sol.open_sites if t != s]
        drop = float((w * cost[:, rest].min(axis=1)).sum()) - sol.objective
        assert sol.regret[s] == pytest.approx(drop)
        swaps = [
            float((w * cost[:, [*rest, j]].min(axis=1)).sum())
            for j in range(7)
            if j not in sol.open_sites
        ]
        assert sol.swap_regret[s] == pytest.approx(min(swaps) - sol.objective)


@pytest.mark.solver
def test_time_limit_and_cancel_return_incumbent() -> None:
    rng = np.random.default_rng(0)
    n, m = 600, 300
    xy = rng.random((n, 2))
    cost = np.hypot(*(xy[:, None, :] - xy[None, :m, :]).transpose(2, 0, 1))
    model = PMedian.from_cost_matrix(cost, np.ones(n), p=15)
    sol = model.solve(SolveOptions(time_limit_s=0.5, compute_regret=False))
    assert sol.has_solution
    assert check_solution(model.problem, sol).ok
    token = CancelToken()
    token.cancel()
    sol2 = model.solve(SolveOptions(cancel=token, compute_regret=False))
    assert sol2.has_solution
    assert check_solution(model.problem, sol2).ok


@pytest.mark.solver
def test_progress_called() -> None:
    cost, w = _instance(2, n=30, m=10)
    seen: list[Progress] = []
    PMedian.from_cost_matrix(cost, w, p=3).solve(SolveOptions(progress=seen.append))
    assert seen
    assert all(pr.elapsed_s >= 0 for pr in seen)
    assert any(pr.incumbent is not None for pr in seen)


@pytest.mark.solver
@pytest.mark.parametrize("name", ["pmed1", "pmed2", "pmed3", "pmed4", "pmed5"])
def test_orlib_pmed_small(name: str) -> None:
    if not (ORLIB / "pmed" / f"{name}.txt").exists():
        pytest.skip("OR-Library benchmarks not found next to the repository")
    from planner.bench.orlib import load_pmed, read_optimal_values  # noqa: PLC0415

    inst = load_pmed(ORLIB / "pmed" / f"{name}.txt")
    model = PMedian.from_cost_matrix(inst.costs, np.ones(inst.n), p=inst.p)
    sol = model.solve(SolveOptions(time_limit_s=60, compute_regret=False))
    optima = read_optimal_values(ORLIB / "optimal_values.csv")
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(optima[name].value)
    assert check_solution(model.problem, sol).ok
