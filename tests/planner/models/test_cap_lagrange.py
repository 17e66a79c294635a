"""Brute-force checks of the capacitated p-median Lagrangian and the 0-1 knapsack kernel."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from planner.models import SiteData, SolveOptions, Status
from planner.models._kernels import kernels
from planner.models.cflp import CFLP
from planner.models.cflp._lagrange import Lagrangian, initial_multipliers
from planner.models.pmedian import PMedian
from planner.models.pmedian._cap_lagrange import (
    cap_entries,
    cap_lagrangian,
    dense_costs,
    gap_assignment,
    improve_medians,
)


def _knapsack_brute(w: list[int], v: list[float], cap: int) -> tuple[float, list[float]]:
    """Optimum and, per capacity c <= cap, the best value within c."""
    best_by_c = [0.0] * (cap + 1)
    for pick in itertools.product([0, 1], repeat=len(w)):
        wt = sum(a * b for a, b in zip(pick, w, strict=True))
        val = sum(a * b for a, b in zip(pick, v, strict=True))
        for c in range(wt, cap + 1):
            best_by_c[c] = min(best_by_c[c], val)
    return best_by_c[cap], best_by_c


@pytest.mark.parametrize("seed", range(6))
def test_knapsack01_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_items, cap = 7, int(rng.integers(5, 15))
    w = rng.integers(1, 7, n_items)
    pair = rng.uniform(0, 10, n_items)
    lam = rng.uniform(0, 12, n_items)
    take = np.zeros(n_items)
    gain = np.zeros(1)
    fix = np.zeros(n_items)
    kernels().knapsack01(
        np.array([0, n_items]),
        np.arange(n_items),
        w.astype(np.int64),
        pair,
        lam,
        np.array([cap]),
        np.ones(1, dtype=np.bool_),
        True,
        take,
        gain,
        fix,
    )
    rc = pair - lam
    neg = rc < 0
    best, by_c = _knapsack_brute(w[neg].tolist(), rc[neg].tolist(), cap)
    assert gain[0] == pytest.approx(best)
    assert float(rc @ take) == pytest.approx(best)
    assert float(w @ take) <= cap
    for e in range(n_items):
        expect = by_c[cap - w[e]] if w[e] <= cap else math.inf
        assert fix[e] == pytest.approx(expect)


def _cpmp_brute(d: np.ndarray, q: np.ndarray, cap: float, p: int) -> float:
    n = len(q)
    best = math.inf
    for sites in itertools.combinations(range(n), p):
        for a in itertools.product(sites, repeat=n):
            arr = np.array(a)
            if (np.bincount(arr, weights=q, minlength=n) <= cap + 1e-9).all():
                best = min(best, float(d[np.arange(n), arr].sum()))
    return best


def _tiny_cpmp(seed: int) -> tuple[np.ndarray, np.ndarray, float, int]:
    rng = np.random.default_rng(seed)
    n, p = 6, 2
    xy = rng.integers(0, 20, (n, 2)).astype(float)
    d = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    q = rng.integers(1, 6, n).astype(float)
    cap = float(np.ceil(q.sum() / p * 1.2))
    return d, q, cap, p


@pytest.mark.parametrize("seed", range(4))
def test_cap_lagrangian_bound_incumbent_and_fixing_vs_brute_force(seed: int) -> None:
    d, q, cap, p = _tiny_cpmp(seed)
    opt = _cpmp_brute(d, q, cap, p)
    model = PMedian.from_cost_matrix(
        d / q[:, None], q, p=p, sites=SiteData.default(len(q), capacity=cap), capacitated=True
    )
    ent = cap_entries(model.problem, model._prep)
    assert ent is not None
    res = cap_lagrangian(model.problem, ent, deadline_s=time.perf_counter() + 5, integral=True)
    assert res.bound <= opt + 1e-6
    assert res.incumbent >= opt - 1e-6
    if math.isfinite(res.incumbent):
        a = res.assignment
        assert (np.bincount(a, weights=q, minlength=len(q)) <= cap + 1e-9).all()
        assert float(d[np.arange(len(q)), a].sum()) == pytest.approx(res.incumbent)
        # Forced sites open and closed sites stay shut in every cheaper solution.
        for sites in itertools.combinations(range(len(q)), p):
            if _gap_brute(d, q, cap, sites) < res.incumbent - 1.0 + 1e-6:
                assert set(np.flatnonzero(res.forced).tolist()) <= set(sites)
                assert not res.closed[list(sites)].any()
    # Every optimal solution strictly better than the incumbent uses kept pairs only:
    # the MIP over the kept pairs (plus the incumbent) reaches the brute-force optimum.
    sol = model.solve(SolveOptions(time_limit_s=20, gap_tolerance=0.0))
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(opt)


def _lumpy_cpmp(seed: int) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Few large demands against a capacity just above the share: bin packing matters."""
    rng = np.random.default_rng(seed)
    n, p = 7, 3
    xy = rng.uniform(0, 50, (n, 2))
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    q = rng.integers(3, 10, n).astype(float)
    cap = float(np.ceil(q.sum() / p * 1.1))
    return d, q, cap, p


def _gap_brute(d: np.ndarray, q: np.ndarray, cap: float, sites: tuple[int, ...]) -> float:
    best = math.inf
    for a in itertools.product(sites, repeat=len(q)):
        arr = np.array(a)
        if (np.bincount(arr, weights=q, minlength=len(q)) <= cap + 1e-9).all():
            best = min(best, float(d[np.arange(len(q)), arr].sum()))
    return best


@pytest.mark.parametrize("seed", range(8))
def test_gap_assignment_feasible_on_lumpy_demands(seed: int) -> None:
    d, q, cap, p = _lumpy_cpmp(seed)
    n = len(q)
    model = PMedian.from_cost_matrix(
        d / q[:, None], q, p=p, sites=SiteData.default(n, capacity=cap), capacitated=True
    )
    ent = cap_entries(model.problem, model._prep)
    assert ent is not None
    dense = dense_costs(ent, n)
    assert dense is not None
    tried = 0
    for sites in itertools.combinations(range(n), p):
        exact = _gap_brute(d, q, cap, sites)
        if not math.isfinite(exact):
            continue
        tried += 1
        mask = np.zeros(n, dtype=np.bool_)
        mask[list(sites)] = True
        for use_dense in (None, dense):
            a = gap_assignment(ent, n, mask, q, dense=use_dense)
            assert a is not None, sites  # a feasible assignment exists: the heuristic finds one
            assert set(a.tolist()) <= set(sites)
            assert (np.bincount(a, weights=q, minlength=n) <= cap + 1e-9).all()
            assert float(d[np.arange(n), a].sum()) >= exact - 1e-9
    assert tried > 0
    # The local search on the medians keeps a feasible assignment and never gets worse;
    # it cannot beat the brute-force optimum.
    opt = _cpmp_brute(d, q, cap, p)
    sites0 = next(
        s for s in itertools.combinations(range(n), p) if math.isfinite(_gap_brute(d, q, cap, s))
    )
    mask = np.zeros(n, dtype=np.bool_)
    mask[list(sites0)] = True
    start = gap_assignment(ent, n, mask, q)
    assert start is not None
    obj, best = improve_medians(
        ent,
        n,
        q,
        start,
        dense=dense,
        fixed=np.zeros(n),
        deadline_s=time.perf_counter() + 5,
    )
    assert (np.bincount(best, weights=q, minlength=n) <= cap + 1e-9).all()
    assert len(np.unique(best)) <= p
    assert obj == pytest.approx(float(d[np.arange(n), best].sum()))
    assert opt - 1e-9 <= obj <= float(d[np.arange(n), start].sum()) + 1e-9


def test_gap_search_reports_its_overload() -> None:
    # Two heavy rows, one column each of room 5: no feasible assignment to one column.
    cost = np.array([[1.0], [2.0]])
    w = np.array([4.0, 3.0])
    assign = np.full(2, -1, dtype=np.int64)
    over = kernels().gap_search(cost, w, np.array([5.0]), assign, 10.0, 10)
    assert over == pytest.approx(2.0)
    assert (assign == 0).all()


@pytest.mark.parametrize("seed", range(3))
def test_cflp_exact_knapsack_bound_below_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m, n = 3, 5
    demand = rng.integers(1, 6, n).astype(float)
    cost = rng.uniform(1, 10, (n, m))
    caps = np.full(m, float(np.ceil(demand.sum() / 2)))
    fixed = rng.uniform(5, 15, m)
    model = CFLP.from_cost_matrix(
        cost, demand, sites=SiteData.default(m, capacity=caps, fixed_cost=fixed)
    )
    best = math.inf
    for a in itertools.product(range(m), repeat=n):
        arr = np.array(a)
        if (np.bincount(arr, weights=demand, minlength=m) <= caps).all():
            opened = np.unique(arr)
            best = min(best, float((demand * cost[np.arange(n), arr]).sum() + fixed[opened].sum()))
    data = model._data
    lag = Lagrangian(data, np.asarray(model.problem.costs.beyond_cost, dtype=np.float64))
    assert lag.exact_knapsack
    none = np.zeros(m, dtype=np.bool_)
    for scale in (0.5, 1.0, 2.0):
        value = lag.evaluate(initial_multipliers(data) * scale, none, none).value
        assert value <= best + 1e-6
    sol = model.solve(SolveOptions(time_limit_s=20, gap_tolerance=0.0))
    assert sol.objective == pytest.approx(best)
