"""Tests of the p-center model: brute force on tiny instances, checker, determinism."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from planner.models import CancelToken, CostMatrix, SiteData, SolveOptions, Status, check_solution
from planner.models import pcenter as pc_mod
from planner.models.pcenter import PCenter

from .test_coverage import Tiny, effective, open_sets, tiny_instance

pytestmark = pytest.mark.solver

EXACT_BACKENDS = ["highs", "scip", "cp-sat", "auto"]


def brute_pcenter(t: Tiny, p: int, *, weighted: bool, capacitated: bool) -> float:
    c = effective(t)
    c[:, t.sites.forbidden] = np.nan
    raw = effective(t)
    reach = ~np.isnan(raw).all(axis=1)
    v = c * (t.weights[:, None] if weighted else 1.0)
    best = math.inf
    for s in open_sets(t, p):
        sub = v[:, list(s)]
        if capacitated:
            options = [[(i, j) for j in s if not np.isnan(v[i, j])] for i in np.flatnonzero(reach)]
            for choice in itertools.product(*options):
                load = np.zeros(v.shape[1])
                for i, j in choice:
                    load[j] += t.weights[i]
                if (load <= t.sites.capacity + 1e-9).all():
                    val = max((v[i, j] for i, j in choice), default=0.0)
                    best = min(best, val)
            continue
        with np.errstate(all="ignore"):
            row_best = np.nanmin(np.where(np.isnan(sub), np.inf, sub), axis=1)
        if np.isinf(row_best[reach]).any():
            continue
        best = min(best, float(row_best[reach].max()) if reach.any() else 0.0)
    return best


def assert_checked(model: PCenter, sol) -> None:  # noqa: ANN001
    report = check_solution(model.problem, sol)
    assert report.ok, report.violations


VARIANTS = ["plain", "required", "forbidden", "cutoff", "newbounds", "all"]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", range(4))
def test_pcenter_matches_brute_force(variant: str, seed: int, weighted: bool) -> None:
    t = tiny_instance(seed, variant=variant)
    if variant == "all":  # capacity is tested separately
        t = Tiny(
            t.costs,
            t.weights,
            SiteData.default(
                5,
                required=np.flatnonzero(t.sites.required),
                forbidden=np.flatnonzero(t.sites.forbidden),
            ),
            t.min_new,
            t.max_new,
            t.max_cost,
        )
    p = 2 + int(t.sites.required.sum())
    model = PCenter.from_cost_matrix(
        t.costs,
        t.weights,
        p=p,
        weighted=weighted,
        sites=t.sites,
        max_cost=t.max_cost,
        min_new_sites=t.min_new,
        max_new_sites=t.max_new,
    )
    sol = model.solve(SolveOptions(time_limit_s=20))
    expected = brute_pcenter(t, p, weighted=weighted, capacitated=False)
    if math.isinf(expected):
        assert sol.status == Status.INFEASIBLE, sol
        assert sol.message
        return
    assert sol.status == Status.OPTIMAL, sol.message
    assert_checked(model, sol)
    assert sol.objective == pytest.approx(expected)


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
@pytest.mark.parametrize("method", ["binary_search", "mip"])
@pytest.mark.parametrize("seed", range(3))
def test_pcenter_capacitated_matches_brute_force(backend: str, method: str, seed: int) -> None:
    t = tiny_instance(seed, n=6, variant="capacity")
    model = PCenter(
        PCenter.from_cost_matrix(t.costs, t.weights, p=2, sites=t.sites, capacitated=True).problem,
        method=method,  # type: ignore[arg-type]
    )
    sol = model.solve(SolveOptions(time_limit_s=30, backend=backend))
    expected = brute_pcenter(t, 2, weighted=False, capacitated=True)
    if math.isinf(expected):
        assert sol.status == Status.INFEASIBLE
        return
    assert_checked(model, sol)
    assert sol.objective == pytest.approx(expected)
    assert sol.status == Status.OPTIMAL


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
@pytest.mark.parametrize("method", ["binary_search", "mip"])
def test_pcenter_methods_and_backends_agree(backend: str, method: str) -> None:
    rng = np.random.default_rng(9)
    costs = rng.uniform(0, 100, size=(40, 12)).round(1)
    model = PCenter(PCenter.from_cost_matrix(costs, 1.0, p=3).problem, method=method)  # type: ignore[arg-type]
    sol = model.solve(SolveOptions(time_limit_s=60, backend=backend))
    assert_checked(model, sol)
    # every method and backend reaches the optimum of all C(12, 3) = 220 open sets
    best = min(
        float(costs[:, list(s)].min(axis=1).max()) for s in itertools.combinations(range(12), 3)
    )
    assert sol.objective == pytest.approx(best)
    assert sol.status == Status.OPTIMAL


def test_weighted_and_unweighted_differ() -> None:
    # a heavy farm far from the middle pulls the weighted centre towards it
    costs = np.array(
        [
            [0.0, 5.0, 10.0],  # light farm A
            [10.0, 5.0, 0.0],  # light farm B
            [9.0, 6.0, 1.0],  # heavy farm C near B
        ]
    )
    weights = np.array([1.0, 1.0, 10.0])
    unweighted = PCenter.from_cost_matrix(costs, weights, p=1)
    weighted = PCenter.from_cost_matrix(costs, weights, p=1, weighted=True)
    su, sw = unweighted.solve(), weighted.solve()
    assert_checked(unweighted, su)
    assert_checked(weighted, sw)
    assert su.open_sites == (1,)
    assert su.objective == 6.0
    assert sw.open_sites == (2,)
    assert sw.objective == 10.0


def test_unreachable_rows_are_left_out_and_reported() -> None:
    costs = np.array([[1.0, 3.0], [np.nan, np.nan], [4.0, 2.0]])
    model = PCenter.from_cost_matrix(costs, [1.0, 7.0, 1.0], p=1)
    sol = model.solve()
    assert_checked(model, sol)
    assert sol.assignment[1] == -1
    assert sol.stats["unreachable_rows"] == 1
    assert "no allowed site" in sol.message


def test_only_forbidden_sites_is_infeasible_and_explained() -> None:
    costs = np.array([[1.0, np.nan], [4.0, 2.0]])
    sites = SiteData.default(2, forbidden=[0])
    sol = PCenter.from_cost_matrix(costs, 1.0, p=1, sites=sites).solve()
    assert sol.status == Status.INFEASIBLE
    assert "forbidden" in sol.message


def test_cutoff_too_tight_for_p_is_infeasible() -> None:
    costs = np.array([[1.0, 50.0], [50.0, 1.0]])
    sol = PCenter.from_cost_matrix(costs, 1.0, p=1, max_cost=10.0).solve()
    assert sol.status == Status.INFEASIBLE
    assert "Raise p" in sol.message


def test_capacity_shortfall_is_explained() -> None:
    costs = np.ones((3, 3))
    sites = SiteData.default(3, capacity=[2.0, 2.0, 2.0])
    sol = PCenter.from_cost_matrix(
        costs, [1.5, 1.5, 1.5], p=2, sites=sites, capacitated=True
    ).solve()
    assert sol.status == Status.INFEASIBLE
    assert "4 < demand 4.5" in sol.message


def test_deterministic_and_cancel() -> None:
    rng = np.random.default_rng(1)
    costs = rng.uniform(0, 100, size=(80, 12)).round(1)
    model = PCenter.from_cost_matrix(costs, 1.0, p=3)
    a = model.solve(SolveOptions(seed=1))
    b = model.solve(SolveOptions(seed=1))
    assert a.open_sites == b.open_sites
    assert a.objective == b.objective
    token = CancelToken()
    token.cancel()
    c = model.solve(SolveOptions(cancel=token))
    # cancelled before it started: no solution, and the status says so
    assert c.status == Status.ERROR
    assert not c.has_solution
    assert math.isnan(c.objective)


def test_heuristic_backend_bound_is_valid() -> None:
    rng = np.random.default_rng(6)
    costs = rng.uniform(0, 100, size=(150, 25)).round()
    model = PCenter.from_cost_matrix(costs, 1.0, p=4)
    h = model.solve(SolveOptions(backend="heuristic"))
    e = model.solve(SolveOptions(backend="highs"))
    assert_checked(model, h)
    assert h.bound <= e.objective + 1e-9 <= h.objective + 1e-9


@pytest.mark.parametrize("weighted", [False, True])
def test_pcenter_drop_regret_and_n_best_match_enumeration(weighted: bool) -> None:
    rng = np.random.default_rng(21)
    costs = rng.uniform(0, 50, size=(60, 10)).round(1)
    costs[rng.random(costs.shape) < 0.2] = np.nan
    weights = rng.integers(1, 5, 60).astype(float)
    model = PCenter.from_cost_matrix(costs, weights, p=4, weighted=weighted)
    sol = model.solve(SolveOptions(n_best=3))
    assert_checked(model, sol)
    v = costs * (weights[:, None] if weighted else 1.0)
    reachable = ~np.isnan(costs).all(axis=1)

    def radius(open_set: tuple[int, ...]) -> float:
        """Largest (weighted) distance to the nearest open site; inf if a farm has none."""
        sub = np.where(np.isnan(v[:, list(open_set)]), np.inf, v[:, list(open_set)])
        return float(sub.min(axis=1)[reachable].max())

    assert sol.objective == pytest.approx(radius(sol.open_sites))
    assert set(sol.regret) == set(sol.open_sites)
    for j, r in sol.regret.items():
        rest = tuple(s for s in sol.open_sites if s != j)
        assert r == pytest.approx(radius(rest) - sol.objective)
    # the 3 best open sets: the 3 smallest radii over all C(10, 4) = 210 open sets
    values = sorted(radius(s) for s in itertools.combinations(range(10), 4))
    assert [a.objective for a in sol.alternatives] == pytest.approx(values[:3])
    assert len({a.open_sites for a in sol.alternatives}) == 3
    for alt in sol.alternatives:
        assert alt.objective == pytest.approx(radius(alt.open_sites))


def test_tiny_time_limit_returns_incumbent_or_explains() -> None:
    rng = np.random.default_rng(14)
    costs = rng.uniform(0, 100, size=(2000, 100))
    model = PCenter.from_cost_matrix(costs, 1.0, p=8)
    sol = model.solve(SolveOptions(time_limit_s=0.05))
    if sol.has_solution:
        assert_checked(model, sol)
        assert sol.bound <= sol.objective
    else:
        assert sol.status == Status.ERROR
        assert "time limit" in sol.message


@pytest.mark.parametrize("weighted", [False, True])
def test_row_generation_matches_binary_search(
    monkeypatch: pytest.MonkeyPatch, weighted: bool
) -> None:
    rng = np.random.default_rng(31)
    centres = rng.uniform(0, 100, size=(12, 2))
    pts = centres[rng.integers(0, 12, 1500)] + rng.normal(0, 4, size=(1500, 2))
    sites = rng.uniform(0, 100, size=(40, 2))
    costs = np.linalg.norm(pts[:, None, :] - sites[None, :, :], axis=2).round(2)
    w = rng.integers(1, 5, 1500)
    model = PCenter.from_cost_matrix(costs, w, p=6, weighted=weighted)
    monkeypatch.setattr(pc_mod, "_ROW_GENERATION_MIN_ROWS", 100)
    monkeypatch.setattr(pc_mod, "_ROW_GENERATION_START", 60)
    rg = model.solve(SolveOptions(compute_regret=False))
    assert "row-generation" in rg.backend
    bs = PCenter(model.problem, method="binary_search").solve(SolveOptions(compute_regret=False))
    assert_checked(model, rg)
    assert rg.status == Status.OPTIMAL
    assert rg.objective == pytest.approx(bs.objective)


def test_row_generation_with_short_lists_and_repair(monkeypatch: pytest.MonkeyPatch) -> None:
    # 4-nearest lists: subset networks often leave some row without an open listed site
    rng = np.random.default_rng(41)
    pts = rng.uniform(0, 100, size=(1200, 2))
    st = rng.uniform(0, 100, size=(60, 2))
    d = np.linalg.norm(pts[:, None, :] - st[None, :, :], axis=2).round(2)
    order = np.argsort(d, axis=1)[:, :4]
    indptr = np.arange(0, 4 * 1200 + 1, 4)
    costs = CostMatrix(
        indptr=indptr,
        site_index=order.ravel(),
        cost=np.take_along_axis(d, order, axis=1).ravel(),
        n_sites=60,
        beyond_cost=np.take_along_axis(d, np.argsort(d, axis=1)[:, 4:5], axis=1).ravel(),
    )
    model = PCenter.from_cost_matrix(costs, 1.0, p=25)
    monkeypatch.setattr(pc_mod, "_ROW_GENERATION_MIN_ROWS", 100)
    monkeypatch.setattr(pc_mod, "_ROW_GENERATION_START", 50)
    rg = model.solve(SolveOptions(compute_regret=False, time_limit_s=120))
    bs = PCenter(model.problem, method="binary_search").solve(
        SolveOptions(compute_regret=False, time_limit_s=120)
    )
    assert_checked(model, rg)
    assert bs.status == Status.OPTIMAL
    assert rg.bound <= bs.objective + 1e-9
    assert rg.objective >= bs.objective - 1e-9
    if rg.status == Status.OPTIMAL:
        assert rg.objective == pytest.approx(bs.objective)
