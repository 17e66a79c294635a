"""Tests of the maximal covering (MCLP) and set covering models.

Every solver result goes through :func:`check_solution`; tiny instances are compared with
brute-force enumeration over all open sets (and, with capacities, all assignments).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pytest

from planner.models import CancelToken, CostMatrix, SiteData, SolveOptions, Status, check_solution
from planner.models import mclp as cov_mod
from planner.models._cover_sets import csr_rows
from planner.models.mclp import MCLP
from planner.models.setcover import SetCover

pytestmark = pytest.mark.solver

RADIUS = 6.0
EXACT_BACKENDS = ["highs", "scip", "cp-sat", "auto"]


@dataclass(frozen=True)
class Tiny:
    costs: np.ndarray  # dense, nan = not allowed
    weights: np.ndarray
    sites: SiteData
    min_new: int
    max_new: int | None
    max_cost: float | None


def tiny_instance(seed: int, *, n: int = 7, m: int = 5, variant: str = "plain") -> Tiny:
    rng = np.random.default_rng(seed)
    costs = rng.integers(1, 15, size=(n, m)).astype(float)
    costs[rng.random((n, m)) < 0.15] = np.nan
    weights = rng.integers(1, 6, size=n).astype(float)
    required: list[int] = []
    forbidden: list[int] = []
    capacity = None
    fixed = None
    min_new, max_new, max_cost = 0, None, None
    if variant in ("required", "all"):
        required = [int(rng.integers(m))]
    if variant in ("forbidden", "all"):
        forbidden = [j for j in range(m) if j not in required][:1]
    if variant in ("capacity", "all"):
        capacity = rng.integers(5, 12, size=m).astype(float)
    if variant in ("fixed", "all"):
        fixed = rng.integers(1, 9, size=m).astype(float)
    if variant in ("newbounds", "all"):
        min_new, max_new = 1, 3
    if variant in ("cutoff", "all"):
        max_cost = 9.0
    sites = SiteData.default(
        m, required=required, forbidden=forbidden, capacity=capacity, fixed_cost=fixed
    )
    return Tiny(costs, weights, sites, min_new, max_new, max_cost)


def effective(t: Tiny) -> np.ndarray:
    c = t.costs.copy()
    if t.max_cost is not None:
        c[c > t.max_cost] = np.nan
    return c


def open_sets(t: Tiny, size: int | None) -> list[tuple[int, ...]]:
    m = t.costs.shape[1]
    req = set(np.flatnonzero(t.sites.required).tolist())
    forb = set(np.flatnonzero(t.sites.forbidden).tolist())
    out = []
    sizes = range(m + 1) if size is None else [size]
    for r in sizes:
        for combo in itertools.combinations(range(m), r):
            s = set(combo)
            n_new = len(s - req)
            if not req <= s or s & forb:
                continue
            if n_new < t.min_new or (t.max_new is not None and n_new > t.max_new):
                continue
            out.append(combo)
    return out


def best_capacitated_cover(
    cover: np.ndarray, w: np.ndarray, cap: np.ndarray, open_set: tuple[int, ...], must: np.ndarray
) -> float:
    """Max assigned weight (rows with ``must`` all assigned; -inf if impossible)."""
    n = cover.shape[0]
    options = []
    for i in range(n):
        opts = [j for j in open_set if cover[i, j]]
        options.append(opts if must[i] else [*opts, -1])
    best = -math.inf
    for choice in itertools.product(*options):
        load = np.zeros(cover.shape[1])
        for i, j in enumerate(choice):
            if j >= 0:
                load[j] += w[i]
        if (load <= cap + 1e-9).all():
            best = max(best, float(sum(w[i] for i, j in enumerate(choice) if j >= 0)))
    return best


def brute_mclp(t: Tiny, p: int, *, capacitated: bool) -> float:
    c = effective(t)
    cover = np.nan_to_num(c, nan=np.inf) <= RADIUS
    cover[:, t.sites.forbidden] = False
    best = -math.inf
    for s in open_sets(t, p):
        if capacitated:
            val = best_capacitated_cover(
                cover, t.weights, t.sites.capacity, s, np.zeros(len(t.weights), bool)
            )
        else:
            val = float(t.weights[cover[:, list(s)].any(axis=1)].sum())
        best = max(best, val)
    return best


def brute_set_cover(t: Tiny, *, capacitated: bool) -> float:
    c = effective(t)
    cover = np.nan_to_num(c, nan=np.inf) <= RADIUS
    cover[:, t.sites.forbidden] = False
    coverable = cover.any(axis=1)
    use_fixed = bool((t.sites.fixed_cost > 0).any())
    best = math.inf
    for s in open_sets(t, None):
        if not cover[:, list(s)].any(axis=1)[coverable].all() if s else coverable.any():
            continue
        if capacitated:
            val = best_capacitated_cover(cover, t.weights, t.sites.capacity, s, coverable)
            if val == -math.inf:
                continue
        obj = float(t.sites.fixed_cost[list(s)].sum()) if use_fixed else float(len(s))
        best = min(best, obj)
    return best


def assert_checked(model: MCLP | SetCover, solution) -> None:  # noqa: ANN001
    report = check_solution(model.problem, solution)
    violations = list(report.violations)
    if model.problem.kind == "mclp" and model.problem.capacitated:
        # Capacitated MCLP (Current & Storbeck) counts demand assigned within capacity;
        # check.py recomputes exactly that, and the assignment is verified here as well.
        assert report.objective == pytest.approx(solution.objective)
        assert solution.bound >= solution.objective - 1e-9
        a = solution.assignment
        assigned = a >= 0
        assert solution.objective == pytest.approx(float(model.problem.weights[assigned].sum()))
        assert (solution.assignment_cost[assigned] <= RADIUS + 1e-9).all()
    assert not violations, violations


VARIANTS = ["plain", "required", "forbidden", "cutoff", "newbounds", "all"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", range(4))
def test_mclp_matches_brute_force(variant: str, seed: int) -> None:
    t = tiny_instance(seed, variant=variant)
    p = 2 + int(t.sites.required.sum())
    model = MCLP.from_cost_matrix(
        t.costs,
        t.weights,
        p=p,
        service_radius=RADIUS,
        sites=t.sites,
        max_cost=t.max_cost,
        min_new_sites=t.min_new,
        max_new_sites=t.max_new,
    )
    sol = model.solve(SolveOptions(time_limit_s=20))
    assert sol.status == Status.OPTIMAL
    assert_checked(model, sol)
    assert sol.objective == pytest.approx(brute_mclp(t, p, capacitated=False))
    assert sol.bound == pytest.approx(sol.objective)


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
@pytest.mark.parametrize("seed", range(3))
def test_mclp_capacitated_matches_brute_force(backend: str, seed: int) -> None:
    t = tiny_instance(seed, n=6, variant="capacity")
    model = MCLP.from_cost_matrix(
        t.costs, t.weights, p=2, service_radius=RADIUS, sites=t.sites, capacitated=True
    )
    sol = model.solve(SolveOptions(time_limit_s=20, backend=backend))
    assert_checked(model, sol)
    assert sol.objective == pytest.approx(brute_mclp(t, 2, capacitated=True))


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
def test_mclp_backends_agree(backend: str) -> None:
    rng = np.random.default_rng(7)
    costs = rng.uniform(0, 30, size=(60, 15))
    weights = rng.integers(1, 9, size=60)
    model = MCLP.from_cost_matrix(costs, weights, p=3, service_radius=8.0)
    sol = model.solve(SolveOptions(time_limit_s=30, backend=backend))
    assert_checked(model, sol)
    # every backend reaches the optimum found by enumerating all C(15, 3) = 455 open sets
    best = max(
        float(weights[(costs[:, list(s)] <= 8.0).any(axis=1)].sum())
        for s in itertools.combinations(range(15), 3)
    )
    assert sol.objective == pytest.approx(best)
    assert sol.status == Status.OPTIMAL


def test_mclp_heuristic_backend_has_valid_bound() -> None:
    rng = np.random.default_rng(3)
    costs = rng.uniform(0, 30, size=(80, 20))
    model = MCLP.from_cost_matrix(costs, 1.0, p=4, service_radius=7.0)
    sol = model.solve(SolveOptions(backend="heuristic"))
    exact = model.solve(SolveOptions(backend="highs"))
    assert_checked(model, sol)
    assert sol.bound >= exact.objective - 1e-9
    assert sol.objective <= exact.objective + 1e-9
    assert "lagrangian" in sol.backend or sol.status == Status.OPTIMAL


@pytest.mark.parametrize(
    "variant", ["plain", "required", "forbidden", "fixed", "cutoff", "newbounds"]
)
@pytest.mark.parametrize("seed", range(4))
def test_set_cover_matches_brute_force(variant: str, seed: int) -> None:
    t = tiny_instance(seed, variant=variant)
    model = SetCover.from_cost_matrix(
        t.costs,
        t.weights,
        service_radius=RADIUS,
        sites=t.sites,
        max_cost=t.max_cost,
        min_new_sites=t.min_new,
        max_new_sites=t.max_new,
    )
    sol = model.solve(SolveOptions(time_limit_s=20))
    expected = brute_set_cover(t, capacitated=False)
    if math.isinf(expected):
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL, sol.message
    assert_checked(model, sol)
    assert sol.objective == pytest.approx(expected)


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
@pytest.mark.parametrize("seed", range(3))
def test_set_cover_capacitated_matches_brute_force(backend: str, seed: int) -> None:
    t = tiny_instance(seed, n=6, variant="capacity")
    model = SetCover.from_cost_matrix(
        t.costs, t.weights, service_radius=RADIUS, sites=t.sites, capacitated=True
    )
    sol = model.solve(SolveOptions(time_limit_s=20, backend=backend))
    expected = brute_set_cover(t, capacitated=True)
    if math.isinf(expected):
        assert sol.status == Status.INFEASIBLE
        assert sol.message
        return
    assert_checked(model, sol)
    assert sol.objective == pytest.approx(expected)


def test_set_cover_reports_uncoverable_demand() -> None:
    costs = np.array(
        [[1.0, 9.0, 9.0], [9.0, 2.0, 9.0], [20.0, 30.0, 40.0], [9.0, 9.0, 1.0], [50.0, 7.5, 8.0]]
    )
    weights = np.array([1.0, 2.0, 3.5, 4.0, 1.5])
    model = SetCover.from_cost_matrix(costs, weights, service_radius=5.0)
    sol = model.solve()
    assert_checked(model, sol)
    assert sol.stats["uncoverable_rows"] == 2
    assert sol.stats["uncoverable_weight"] == pytest.approx(5.0)
    assert sol.stats["uncoverable_row_ids"] == "2,4"
    assert "2 demand row(s)" in sol.message
    assert "5" in sol.message
    assert sol.assignment[2] == -1


def test_set_cover_forbidden_makes_rows_uncoverable() -> None:
    costs = np.array([[1.0, 9.0], [9.0, 1.0]])
    sites = SiteData.default(2, forbidden=[1])
    model = SetCover.from_cost_matrix(costs, [1.0, 1.0], service_radius=5.0, sites=sites)
    sol = model.solve()
    assert_checked(model, sol)
    assert sol.open_sites == (0,)
    assert sol.stats["uncoverable_rows"] == 1


def test_set_cover_max_new_infeasible_is_explained() -> None:
    costs = np.eye(4) * 0 + np.where(np.eye(4) > 0, 1.0, 50.0)
    model = SetCover.from_cost_matrix(costs, 1.0, service_radius=5.0, max_new_sites=2)
    sol = model.solve()
    assert sol.status == Status.INFEASIBLE
    assert "max_new_sites" in sol.message


def test_set_cover_capacity_infeasible_is_explained() -> None:
    costs = np.array([[1.0, 2.0], [1.0, 2.0]])
    sites = SiteData.default(2, capacity=[3.0, 3.0])
    model = SetCover.from_cost_matrix(
        costs, [4.0, 4.0], service_radius=5.0, sites=sites, capacitated=True
    )
    sol = model.solve()
    assert sol.status == Status.INFEASIBLE
    assert "total capacity of all allowed sites 6 < coverable demand 8" in sol.message


def test_mclp_p_incompatible_with_new_site_bounds_is_explained() -> None:
    costs = np.ones((3, 4))
    model = MCLP.from_cost_matrix(costs, 1.0, p=3, service_radius=5.0, max_new_sites=1)
    sol = model.solve()
    assert sol.status == Status.INFEASIBLE
    assert "p = 3" in sol.message


def test_mclp_sparse_input_and_truncated_lists() -> None:
    # row 0 lists only site 0; its list is cut at 3.0 < radius (beyond_cost)
    costs = CostMatrix(
        indptr=np.array([0, 1, 3]),
        site_index=np.array([0, 0, 1]),
        cost=np.array([1.0, 2.0, 4.0]),
        n_sites=2,
        beyond_cost=np.array([3.0, np.inf]),
    )
    model = MCLP.from_cost_matrix(costs, [1.0, 1.0], p=1, service_radius=5.0)
    sol = model.solve()
    assert_checked(model, sol)
    assert sol.objective == 2.0
    assert sol.stats["rows_truncated_inside_radius"] == 1


def test_mclp_deterministic() -> None:
    rng = np.random.default_rng(11)
    costs = rng.uniform(0, 40, size=(200, 30))
    model = MCLP.from_cost_matrix(costs, rng.integers(1, 5, 200), p=5, service_radius=6.0)
    a = model.solve(SolveOptions(seed=3))
    b = model.solve(SolveOptions(seed=3))
    assert a.open_sites == b.open_sites
    assert a.objective == b.objective
    np.testing.assert_array_equal(a.assignment, b.assignment)


def test_mclp_cancel_returns_incumbent_with_gap() -> None:
    rng = np.random.default_rng(5)
    costs = rng.uniform(0, 100, size=(3000, 120))
    token = CancelToken()
    token.cancel()
    model = MCLP.from_cost_matrix(costs, rng.integers(1, 9, 3000), p=8, service_radius=12.0)
    sol = model.solve(SolveOptions(cancel=token, backend="highs"))
    assert sol.has_solution
    assert_checked(model, sol)
    assert np.isfinite(sol.bound)
    assert sol.gap == pytest.approx((sol.bound - sol.objective) / sol.objective)


def test_mclp_progress_reports_increasing_time() -> None:
    rng = np.random.default_rng(2)
    costs = rng.uniform(0, 50, size=(300, 25))
    seen = []
    model = MCLP.from_cost_matrix(costs, 1.0, p=3, service_radius=8.0)
    sol = model.solve(SolveOptions(progress=seen.append))
    assert seen
    assert [s.elapsed_s for s in seen] == sorted(s.elapsed_s for s in seen)
    incumbents = [s.incumbent for s in seen if s.incumbent is not None]
    assert incumbents == sorted(incumbents)  # coverage only improves, reported positive
    assert incumbents[-1] == pytest.approx(sol.objective)
    assert all(s.bound is None or s.bound >= s.incumbent - 1e-9 for s in seen if s.incumbent)
    assert_checked(model, sol)


def test_mclp_aggregation_is_exact() -> None:
    # many duplicate rows: aggregation must not change the optimum
    rng = np.random.default_rng(4)
    base = rng.uniform(0, 20, size=(12, 6))
    costs = np.repeat(base, 25, axis=0)
    weights = rng.integers(1, 5, size=len(costs)).astype(float)
    model = MCLP.from_cost_matrix(costs, weights, p=2, service_radius=6.0)
    sol = model.solve()
    assert sol.stats["groups"] <= 12
    assert_checked(model, sol)
    best = max(
        float(weights[(costs[:, list(s)] <= 6.0).any(axis=1)].sum())
        for s in itertools.combinations(range(6), 2)
    )
    assert sol.objective == pytest.approx(best)


def test_evaluate_matches_solution() -> None:
    t = tiny_instance(1)
    model = MCLP.from_cost_matrix(t.costs, t.weights, p=2, service_radius=RADIUS)
    sol = model.solve()
    obj, a, _ = model.evaluate(sol.open_sites)
    assert obj == sol.objective
    assert obj == pytest.approx(brute_mclp(t, 2, capacitated=False))
    cover = np.nan_to_num(t.costs, nan=np.inf) <= RADIUS
    assert obj == pytest.approx(float(t.weights[cover[:, list(sol.open_sites)].any(axis=1)].sum()))
    np.testing.assert_array_equal(a, sol.assignment)
    set_cover = SetCover.from_cost_matrix(t.costs, t.weights, service_radius=RADIUS)
    sc = set_cover.solve()
    assert set_cover.evaluate(sc.open_sites)[0] == sc.objective
    assert sc.objective == pytest.approx(brute_set_cover(t, capacitated=False))


@pytest.mark.parametrize("backend", ["auto", "heuristic"])
def test_mclp_large_path_dual_bound_and_fixing(
    monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    # force the path used at scale (PDLP duals -> exact Lagrangian bound -> fixing -> MIP)
    monkeypatch.setattr(cov_mod, "_DIRECT_MIP_MAX_NNZ", 0)
    rng = np.random.default_rng(8)
    pts = rng.uniform(0, 100, size=(800, 2))
    sites = rng.uniform(0, 100, size=(60, 2))
    costs = np.linalg.norm(pts[:, None, :] - sites[None, :, :], axis=2)
    weights = rng.integers(1, 10, size=800).astype(float)
    model = MCLP.from_cost_matrix(costs, weights, p=6, service_radius=12.0)
    sol = model.solve(SolveOptions(backend=backend, time_limit_s=60))
    assert_checked(model, sol)
    ref = MCLP.from_cost_matrix(costs, weights, p=6, service_radius=12.0)
    monkeypatch.setattr(cov_mod, "_DIRECT_MIP_MAX_NNZ", 10**9)
    exact = ref.solve(SolveOptions(backend="highs"))
    assert exact.status == Status.OPTIMAL
    assert sol.bound >= exact.objective - 1e-6
    assert sol.objective <= exact.objective + 1e-6
    assert "lagrangian" in sol.backend
    if backend == "auto":
        assert sol.objective == pytest.approx(exact.objective)


def test_mclp_regret_and_n_best_match_enumeration() -> None:
    rng = np.random.default_rng(12)
    costs = rng.uniform(0, 20, size=(40, 7))
    weights = rng.integers(1, 6, size=40).astype(float)
    model = MCLP.from_cost_matrix(costs, weights, p=3, service_radius=6.0)
    sol = model.solve(SolveOptions(n_best=4, compute_regret=True))
    assert_checked(model, sol)
    cover = costs <= 6.0

    def covered(open_set: tuple[int, ...]) -> float:
        return float(weights[cover[:, list(open_set)].any(axis=1)].sum())

    # drop-one regret = coverage lost when the site alone closes (recomputed here)
    assert set(sol.regret) == set(sol.open_sites)
    for j, r in sol.regret.items():
        rest = tuple(s for s in sol.open_sites if s != j)
        assert r == pytest.approx(covered(sol.open_sites) - covered(rest))
    # the optimum has no improving swap
    assert min(sol.swap_regret.values()) >= -1e-9
    values = sorted((covered(s) for s in itertools.combinations(range(7), 3)), reverse=True)
    assert [a.objective for a in sol.alternatives] == pytest.approx(values[:4])
    assert len({a.open_sites for a in sol.alternatives}) == 4
    for alt in sol.alternatives:
        assert alt.objective == pytest.approx(covered(alt.open_sites))
    assert sol.alternatives[0].objective == pytest.approx(sol.objective)


def test_set_cover_regret() -> None:
    costs = np.array([[1.0, 9.0, 2.0], [9.0, 1.0, 9.0], [2.0, 9.0, 9.0]])
    model = SetCover.from_cost_matrix(costs, 1.0, service_radius=3.0)
    sol = model.solve()
    assert_checked(model, sol)
    assert sol.open_sites == (0, 1)
    assert sol.regret == {0: math.inf, 1: math.inf}
    assert model.evaluate([1])[0] == math.inf


def test_group_rows_is_exact() -> None:
    rng = np.random.default_rng(0)
    base = [np.sort(rng.choice(50, rng.integers(0, 6), replace=False)) for _ in range(300)]
    rows = [base[i] for i in rng.integers(0, 300, 5000)]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=indptr[1:])
    cols = np.concatenate(rows).astype(np.int64)
    w = rng.random(len(rows))
    g = cov_mod._group_rows(np.arange(len(rows)), indptr, cols, w, len(rows))
    ref: dict[bytes, list[int]] = {}
    for i, r in enumerate(rows):
        ref.setdefault(r.astype(np.int64).tobytes(), []).append(i)
    assert len(g.indptr) - 1 == len(ref)
    for key, members in ref.items():
        (gi,) = set(g.group_of_row[members].tolist())
        np.testing.assert_array_equal(
            g.cols[g.indptr[gi] : g.indptr[gi + 1]], np.frombuffer(key, dtype=np.int64)
        )
        assert g.weight[gi] == pytest.approx(w[members].sum())


def test_csr_rows_gathers_rows_in_order() -> None:
    rng = np.random.default_rng(1)
    lens = rng.integers(0, 5, 40)
    indptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    data = rng.random(int(indptr[-1]))
    rows = rng.integers(0, 40, 25).astype(np.int64)
    sub_indptr, take = csr_rows(indptr, rows)
    for k, i in enumerate(rows):
        np.testing.assert_array_equal(
            data[take[sub_indptr[k] : sub_indptr[k + 1]]], data[indptr[i] : indptr[i + 1]]
        )
    empty_indptr, empty_take = csr_rows(indptr, np.zeros(0, dtype=np.int64))
    assert empty_indptr.tolist() == [0]
    assert len(empty_take) == 0


def test_coverage_sets_match_dense_definition() -> None:
    t = tiny_instance(3, n=30, variant="all")
    model = SetCover.from_cost_matrix(t.costs, t.weights, service_radius=RADIUS, sites=t.sites)
    problem = model.problem
    cov = cov_mod._coverage(problem, RADIUS)
    dense = np.nan_to_num(t.costs, nan=np.inf) <= RADIUS * (1 + 1e-12)
    sites = problem.sites
    free = ~sites.required & ~sites.forbidden
    np.testing.assert_array_equal(cov.covered_by_required, dense[:, sites.required].any(axis=1))
    np.testing.assert_array_equal(cov.coverable, dense[:, ~sites.forbidden].any(axis=1))
    np.testing.assert_array_equal(cov.cand_sites, np.flatnonzero(free))
    rows = np.arange(problem.n_demand, dtype=np.int64)
    indptr, cols = cov.subset(rows)
    for i in rows:
        expected = np.flatnonzero(dense[i, cov.cand_sites])
        np.testing.assert_array_equal(cols[indptr[i] : indptr[i + 1]], expected)


@pytest.mark.parametrize("kind", ["mclp", "set_cover"])
def test_tiny_time_limit_returns_incumbent_with_gap(kind: str) -> None:
    rng = np.random.default_rng(13)
    pts = rng.uniform(0, 100, size=(3000, 2))
    st = rng.uniform(0, 100, size=(150, 2))
    costs = np.linalg.norm(pts[:, None, :] - st[None, :, :], axis=2)
    if kind == "mclp":
        model: MCLP | SetCover = MCLP.from_cost_matrix(costs, 1.0, p=12, service_radius=9.0)
    else:
        model = SetCover.from_cost_matrix(costs, 1.0, service_radius=9.0)
    sol = model.solve(SolveOptions(time_limit_s=0.05))
    assert sol.has_solution
    assert_checked(model, sol)
    if np.isfinite(sol.bound):
        assert sol.gap == pytest.approx(abs(sol.objective - sol.bound) / sol.objective)
