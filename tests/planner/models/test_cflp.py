"""Tests of the capacitated fixed-charge location model (CFLP).

Every solver result goes through ``check_solution``; optima are compared with brute force
(enumerate open sets; single-source: enumerate assignments; split: scipy ``linprog`` on the
transportation LP as an independent reference).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.optimize import linprog

from planner.bench.orlib_cap import cap_model, load_cap_instance
from planner.errors import ValidationError
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
from planner.models._base import Backend, FloatArray
from planner.models.cflp import CFLP

ORLIB = Path(__file__).resolve().parents[3].parent / "shared" / "benchmarks" / "orlib"


# ------------------------------------------------------------------------------------------
# Brute force reference
# ------------------------------------------------------------------------------------------
def _transport_lp(
    cost: FloatArray, w: FloatArray, cap: FloatArray, open_sites: Sequence[int]
) -> float:
    """Split assignment cost for a fixed open set with scipy linprog (inf if infeasible)."""
    n = cost.shape[0]
    pairs = [(i, j) for i in range(n) for j in open_sites if np.isfinite(cost[i, j])]
    if any(not any(p[0] == i for p in pairs) for i in range(n)):
        return math.inf
    c = np.array([w[i] * cost[i, j] for i, j in pairs])
    a_eq = np.zeros((n, len(pairs)))
    for k, (i, _) in enumerate(pairs):
        a_eq[i, k] = 1.0
    cap_sites = [j for j in open_sites if np.isfinite(cap[j])]
    a_ub = np.zeros((len(cap_sites), len(pairs)))
    for r, j in enumerate(cap_sites):
        for k, (i, jj) in enumerate(pairs):
            if jj == j:
                a_ub[r, k] = w[i]
    res = linprog(
        c,
        A_ub=a_ub if cap_sites else None,
        b_ub=cap[cap_sites] if cap_sites else None,
        A_eq=a_eq,
        b_eq=np.ones(n),
        bounds=(0, 1),
        method="highs",
    )
    return float(res.fun) if res.status == 0 else math.inf


def _single_best(
    cost: FloatArray, w: FloatArray, cap: FloatArray, open_sites: Sequence[int]
) -> float:
    """Best single-source assignment for a fixed open set by enumeration."""
    n = cost.shape[0]
    options = [[j for j in open_sites if np.isfinite(cost[i, j])] for i in range(n)]
    best = math.inf
    for choice in itertools.product(*options):
        load = np.zeros(len(cap))
        for i, j in enumerate(choice):
            load[j] += w[i]
        if (load <= cap + 1e-9).all():
            best = min(best, sum(w[i] * cost[i, j] for i, j in enumerate(choice)))
    return best


def brute_force(
    cost: FloatArray,
    w: FloatArray,
    cap: FloatArray,
    fixed: FloatArray,
    *,
    single: bool,
    required: Sequence[int] = (),
    forbidden: Sequence[int] = (),
    min_new: int = 0,
    max_new: int | None = None,
) -> float:
    """Optimal objective by enumerating every admissible open set."""
    m = cost.shape[1]
    free = [j for j in range(m) if j not in required and j not in forbidden]
    best = math.inf
    for k in range(len(free) + 1):
        if k < min_new or (max_new is not None and k > max_new):
            continue
        for extra in itertools.combinations(free, k):
            sites = sorted(set(required) | set(extra))
            if not sites:
                continue
            f = sum(fixed[j] for j in sites)
            t = (_single_best if single else _transport_lp)(cost, w, cap, sites)
            best = min(best, f + t)
    return best


def random_instance(
    seed: int, n: int = 5, m: int = 4, *, cutoff: float | None = None, cap_scale: float = 0.6
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    rng = np.random.default_rng(seed)
    xy_d = rng.uniform(0, 10, (n, 2))
    xy_s = rng.uniform(0, 10, (m, 2))
    cost = np.linalg.norm(xy_d[:, None, :] - xy_s[None, :, :], axis=2)
    w = rng.integers(1, 6, n).astype(float)
    cap = np.round(rng.uniform(cap_scale, 1.2, m) * w.sum() / 2, 1)
    fixed = np.round(rng.uniform(2, 15, m), 1)
    if cutoff is not None:
        cost = np.where(cost <= cutoff, cost, np.inf)
    return cost, w, cap, fixed


def case_model(
    cost: np.ndarray,
    w: np.ndarray,
    cap: np.ndarray,
    fixed: np.ndarray,
    case: dict[str, Any],
    *,
    single: bool,
) -> tuple[CFLP, float]:
    """Return the model of a test case (required/forbidden/min/max new) and its brute force."""
    required = case.get("required", ())
    forbidden = case.get("forbidden", ())
    sites = SiteData.default(
        cost.shape[1], capacity=cap, fixed_cost=fixed, required=required, forbidden=forbidden
    )
    ref = brute_force(
        cost,
        w,
        cap,
        fixed,
        single=single,
        required=required,
        forbidden=forbidden,
        min_new=case.get("min_new", 0),
        max_new=case.get("max_new"),
    )
    model = CFLP.from_cost_matrix(
        cost,
        w,
        sites=sites,
        single_source=single,
        min_new_sites=case.get("min_new", 0),
        max_new_sites=case.get("max_new"),
    )
    return model, ref


def solve_and_check(model: CFLP, **opts: Any) -> Solution:  # noqa: ANN401
    sol = model.solve(SolveOptions(**opts))
    if sol.has_solution:
        report = check_solution(model.problem, sol)
        assert report.ok, report.violations
    return sol


# ------------------------------------------------------------------------------------------
# Brute-force comparisons
# ------------------------------------------------------------------------------------------
CASES = [
    pytest.param({}, id="plain"),
    pytest.param({"required": (1,)}, id="required"),
    pytest.param({"forbidden": (0,)}, id="forbidden"),
    pytest.param({"min_new": 3}, id="min-new"),
    pytest.param({"max_new": 2}, id="max-new"),
    pytest.param({"required": (2,), "forbidden": (3,), "max_new": 2}, id="mixed"),
]


@pytest.mark.solver
@pytest.mark.parametrize("single", [True, False], ids=["single", "split"])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_brute_force(seed: int, case: dict[str, Any], single: bool) -> None:
    model, ref = case_model(*random_instance(seed), case, single=single)
    sol = solve_and_check(model, seed=seed)
    if math.isinf(ref):
        assert sol.status == Status.INFEASIBLE
        assert sol.message
        return
    assert sol.status == Status.OPTIMAL, sol.message
    assert sol.objective == pytest.approx(ref, rel=1e-7)
    assert sol.bound <= sol.objective + 1e-6
    if not single:
        assert sol.flows is not None


@pytest.mark.solver
@pytest.mark.parametrize("single", [True, False], ids=["single", "split"])
@pytest.mark.parametrize("seed", [4, 5])
def test_cutoff_matches_brute_force(seed: int, single: bool) -> None:
    cost, w, cap, fixed = random_instance(seed, cutoff=None)
    cutoff = float(np.quantile(cost, 0.7))
    cut = np.where(cost <= cutoff, cost, np.inf)
    sites = SiteData.default(4, capacity=cap * 1.5, fixed_cost=fixed)
    ref = brute_force(cut, w, cap * 1.5, fixed, single=single)
    model = CFLP.from_cost_matrix(cost, w, sites=sites, single_source=single, max_cost=cutoff)
    sol = solve_and_check(model)
    if math.isinf(ref):
        assert sol.status == Status.INFEASIBLE
    else:
        assert sol.objective == pytest.approx(ref, rel=1e-7)


@pytest.mark.solver
@pytest.mark.parametrize("single", [True, False], ids=["single", "split"])
def test_uncapacitated_when_capacity_inf(single: bool) -> None:
    cost, w, _, fixed = random_instance(7, n=6, m=4)
    cap = np.full(4, np.inf)
    ref = brute_force(cost, w, cap, fixed, single=single)
    model = CFLP.from_cost_matrix(
        cost, w, sites=SiteData.default(4, fixed_cost=fixed), single_source=single
    )
    sol = solve_and_check(model)
    assert sol.objective == pytest.approx(ref, rel=1e-9)
    # Uncapacitated: every row goes to its cheapest open site.
    open_ = list(sol.open_sites)
    assert (sol.assignment == np.array(open_)[np.argmin(cost[:, open_], axis=1)]).all()


@pytest.mark.solver
@pytest.mark.parametrize("backend", ["highs", "scip", "heuristic"])
@pytest.mark.parametrize("single", [True, False], ids=["single", "split"])
def test_backends(backend: Backend, single: bool) -> None:
    cost, w, cap, fixed = random_instance(11)
    sites = SiteData.default(4, capacity=cap, fixed_cost=fixed)
    ref = brute_force(cost, w, cap, fixed, single=single)
    model = CFLP.from_cost_matrix(cost, w, sites=sites, single_source=single)
    sol = solve_and_check(model, backend=backend)
    assert sol.has_solution
    if backend == "heuristic":
        assert sol.objective >= ref - 1e-6
        assert sol.bound <= ref + 1e-6
    else:
        assert sol.objective == pytest.approx(ref, rel=1e-7)


@pytest.mark.solver
def test_cp_sat_single_source_and_rejects_split() -> None:
    cost, w, cap, fixed = random_instance(12)
    sites = SiteData.default(4, capacity=cap, fixed_cost=fixed)
    ref = brute_force(cost, w, cap, fixed, single=True)
    sol = solve_and_check(CFLP.from_cost_matrix(cost, w, sites=sites), backend="cp-sat")
    assert sol.objective == pytest.approx(ref, rel=1e-7)
    split = CFLP.from_cost_matrix(cost, w, sites=sites, single_source=False)
    with pytest.raises(ValidationError, match="cp-sat"):
        split.solve(SolveOptions(backend="cp-sat"))


# ------------------------------------------------------------------------------------------
# Infeasibility explained with numbers
# ------------------------------------------------------------------------------------------
def test_total_capacity_below_demand() -> None:
    cost = np.ones((3, 2))
    sites = SiteData.default(2, capacity=[20_000.0, 21_000.0])
    w = np.array([20_000.0, 20_000.0, 15_300.0])
    sol = CFLP.from_cost_matrix(cost, w, sites=sites, single_source=False).solve()
    assert sol.status == Status.INFEASIBLE
    assert "total capacity 41,000" in sol.message
    assert "55,300" in sol.message


def test_single_source_farm_too_large() -> None:
    cost = np.ones((2, 2))
    sites = SiteData.default(2, capacity=[5_000.0, 10_000.0])
    w = np.array([12_912.0, 10.0])
    sol = CFLP.from_cost_matrix(cost, w, sites=sites).solve()
    assert sol.status == Status.INFEASIBLE
    assert "12,912" in sol.message
    assert "largest capacity among its 2 reachable site(s) is 10,000" in sol.message
    # The same data is feasible when demand may be split.
    split = CFLP.from_cost_matrix(cost, w, sites=sites, single_source=False)
    assert split.solve().status == Status.OPTIMAL


def test_farms_only_reaching_forbidden_sites() -> None:
    cost = np.array([[1.0, np.inf], [np.inf, 1.0]])
    sites = SiteData.default(2, forbidden=[1])
    sol = CFLP.from_cost_matrix(cost, [1.0, 1.0], sites=sites).solve()
    assert sol.status == Status.INFEASIBLE
    assert "1 farm(s) are out of reach of every allowed candidate" in sol.message


def test_min_new_sites_above_candidates() -> None:
    cost = np.ones((2, 3))
    sites = SiteData.default(3, required=[0], forbidden=[1])
    sol = CFLP.from_cost_matrix(cost, [1.0, 1.0], sites=sites, min_new_sites=2).solve()
    assert sol.status == Status.INFEASIBLE
    assert "min_new_sites = 2" in sol.message
    assert "only 1 candidate" in sol.message


def test_max_new_sites_capacity_message() -> None:
    cost = np.ones((2, 3))
    sites = SiteData.default(3, capacity=[10.0, 10.0, 10.0])
    sol = CFLP.from_cost_matrix(
        cost, [10.0, 10.0], sites=sites, single_source=False, max_new_sites=1
    ).solve()
    assert sol.status == Status.INFEASIBLE
    assert "at most 1 new site" in sol.message
    assert "20" in sol.message


def test_solver_proven_infeasible() -> None:
    # Three rows of 6 into two sites of 10: total 18 <= 20, but only one row fits per site.
    cost = np.ones((3, 2))
    sites = SiteData.default(2, capacity=[10.0, 10.0])
    sol = CFLP.from_cost_matrix(cost, [6.0, 6.0, 6.0], sites=sites).solve()
    assert sol.status == Status.INFEASIBLE
    assert "proved" in sol.message


def test_unreachable_rows_left_unassigned() -> None:
    cost = np.array([[1.0, 2.0], [np.inf, np.inf], [3.0, 1.0]])
    sites = SiteData.default(2, fixed_cost=[1.0, 1.0])
    model = CFLP.from_cost_matrix(cost, [1.0, 5.0, 1.0], sites=sites)
    sol = solve_and_check(model)
    assert sol.status == Status.OPTIMAL
    assert sol.assignment[1] == -1
    assert "out of reach" in sol.message


# ------------------------------------------------------------------------------------------
# Options: determinism, time limit, cancellation, progress
# ------------------------------------------------------------------------------------------
def _medium(seed: int = 3, n: int = 300, m: int = 40, *, single: bool = True) -> CFLP:
    rng = np.random.default_rng(seed)
    cost = np.linalg.norm(rng.uniform(0, 100, (n, 1, 2)) - rng.uniform(0, 100, (1, m, 2)), axis=2)
    w = rng.integers(1, 20, n).astype(float)
    sites = SiteData.default(
        m, capacity=np.full(m, w.sum() / 8), fixed_cost=rng.uniform(200, 800, m)
    )
    return CFLP.from_cost_matrix(cost, w, sites=sites, single_source=single)


@pytest.mark.solver
@pytest.mark.parametrize("single", [True, False], ids=["single", "split"])
def test_deterministic(single: bool) -> None:
    model = _medium(single=single, n=120, m=15)
    a = model.solve(SolveOptions(seed=5, time_limit_s=20))
    b = model.solve(SolveOptions(seed=5, time_limit_s=20))
    assert a.open_sites == b.open_sites
    assert a.objective == b.objective
    assert (a.assignment == b.assignment).all()


@pytest.mark.solver
@pytest.mark.parametrize("single", [True, False], ids=["single", "split"])
def test_time_limit_returns_incumbent(single: bool) -> None:
    model = _medium(single=single)
    sol = solve_and_check(model, time_limit_s=0.05)
    assert sol.has_solution
    assert np.isfinite(sol.objective)
    assert sol.bound <= sol.objective + 1e-6 or math.isnan(sol.bound)


@pytest.mark.solver
def test_cancel_returns_incumbent() -> None:
    token = CancelToken()
    token.cancel()
    sol = solve_and_check(_medium(), cancel=token)
    assert sol.has_solution
    assert sol.status == Status.FEASIBLE


@pytest.mark.solver
def test_progress_reports() -> None:
    seen: list[Progress] = []
    model = _medium(n=100, m=12)
    sol = solve_and_check(model, progress=seen.append)
    assert seen
    assert seen[-1].incumbent == pytest.approx(sol.objective)
    assert all(p.elapsed_s >= 0 for p in seen)


# ------------------------------------------------------------------------------------------
# evaluate, sparse lists with beyond_cost
# ------------------------------------------------------------------------------------------
def test_evaluate_split_matches_linprog() -> None:
    cost, w, cap, fixed = random_instance(21, n=6, m=4)
    model = CFLP.from_cost_matrix(
        cost, w, sites=SiteData.default(4, capacity=cap, fixed_cost=fixed), single_source=False
    )
    for sites in ([0, 1], [1, 2, 3], [0, 1, 2, 3]):
        obj, assignment, acost = model.evaluate(sites)
        ref = _transport_lp(cost, w, cap, sites)
        if math.isinf(ref):
            assert math.isinf(obj)
            assert (assignment == -1).all()
        else:
            assert obj == pytest.approx(ref + fixed[sites].sum(), rel=1e-9)
            assert set(assignment) <= set(sites)
            assert np.allclose(acost, cost[np.arange(6), assignment])


def test_evaluate_single_source_is_feasible_and_not_below_optimum() -> None:
    cost, w, cap, fixed = random_instance(22, n=6, m=4)
    model = CFLP.from_cost_matrix(
        cost, w, sites=SiteData.default(4, capacity=cap, fixed_cost=fixed)
    )
    obj, assignment, _ = model.evaluate([0, 1, 2, 3])
    ref = _single_best(cost, w, cap, [0, 1, 2, 3]) + fixed.sum()
    if math.isinf(ref):
        assert math.isinf(obj)
        return
    assert obj >= ref - 1e-9
    load = np.bincount(assignment, weights=w, minlength=4)
    assert (load <= cap + 1e-9).all()


@pytest.mark.solver
def test_k_nearest_bound_is_valid_for_full_problem() -> None:
    rng = np.random.default_rng(8)
    n, m, k = 60, 12, 4
    dense = np.linalg.norm(rng.uniform(0, 50, (n, 1, 2)) - rng.uniform(0, 50, (1, m, 2)), axis=2)
    w = rng.integers(1, 10, n).astype(float)
    fixed = rng.uniform(30, 90, m)
    order = np.argsort(dense, axis=1)
    site_index = order[:, :k].ravel().astype(np.int64)
    costs = CostMatrix(
        indptr=np.arange(0, n * k + 1, k, dtype=np.int64),
        site_index=site_index,
        cost=dense[np.repeat(np.arange(n), k), site_index],
        n_sites=m,
        beyond_cost=dense[np.arange(n), order[:, k]],
        unit="km",
    )
    sites = SiteData.default(m, fixed_cost=fixed)
    sparse_sol = solve_and_check(CFLP.from_cost_matrix(costs, w, sites=sites, single_source=False))
    full_sol = solve_and_check(CFLP.from_cost_matrix(dense, w, sites=sites, single_source=False))
    assert full_sol.status == Status.OPTIMAL
    assert sparse_sol.bound <= full_sol.objective + 1e-6
    assert sparse_sol.objective >= full_sol.objective - 1e-6


def _k_nearest(dense: FloatArray, k: int) -> CostMatrix:
    n, m = dense.shape
    order = np.argsort(dense, axis=1)
    site_index = order[:, :k].ravel().astype(np.int64)
    return CostMatrix(
        indptr=np.arange(0, n * k + 1, k, dtype=np.int64),
        site_index=site_index,
        cost=dense[np.repeat(np.arange(n), k), site_index],
        n_sites=m,
        beyond_cost=dense[np.arange(n), order[:, k]] if k < m else np.full(n, np.inf),
        unit="km",
    )


@pytest.mark.solver
@pytest.mark.parametrize("exact", [True, False], ids=["exact-cost", "estimate"])
def test_zero_demand_rows_do_not_constrain_the_open_set(exact: bool) -> None:
    # 12 zero-demand rows with 1-nearest lists sit next to sites 3..5; the optimum (brute
    # force over the weighted rows only) opens none of those sites. The zero rows must not
    # force them open and must be assigned to an open site.
    rng = np.random.default_rng(3)
    xy_s = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [50.0, 50.0], [60.0, 50.0], [50, 60]])
    xy_w = rng.uniform(0, 10, (6, 2))
    xy_z = xy_s[3:][rng.integers(0, 3, 12)] + rng.uniform(-1, 1, (12, 2))
    xy = np.vstack([xy_w, xy_z])
    dense = np.linalg.norm(xy[:, None, :] - xy_s[None, :, :], axis=2)
    w = np.r_[rng.integers(1, 6, 6).astype(float), np.zeros(12)]
    cap = np.full(6, 12.0)
    fixed = np.full(6, 20.0)
    costs = _k_nearest(dense, 1)
    costs = CostMatrix(
        indptr=costs.indptr,
        site_index=costs.site_index,
        cost=costs.cost,
        n_sites=6,
        beyond_cost=np.where(w > 0, np.inf, costs.beyond_cost),  # weighted rows: dense below
        unit="km",
    )
    # Weighted rows list every site (a full matrix for them), zero rows only their nearest.
    rows = [np.arange(6) if w[i] > 0 else costs.site_index[i : i + 1] for i in range(len(w))]
    indptr = np.r_[0, np.cumsum([len(r) for r in rows])].astype(np.int64)
    site_index = np.concatenate([r[np.argsort(dense[i, r])] for i, r in enumerate(rows)])
    row_of = np.repeat(np.arange(len(w)), np.diff(indptr))
    costs = CostMatrix(
        indptr=indptr,
        site_index=site_index.astype(np.int64),
        cost=dense[row_of, site_index],
        n_sites=6,
        beyond_cost=costs.beyond_cost,
        unit="km",
    )
    ref = brute_force(dense[:6], w[:6], cap, fixed, single=True)

    def exact_cost(r: Any, s: Any) -> FloatArray:  # noqa: ANN401
        return np.asarray(dense[np.ix_(r, s)], dtype=np.float64)

    model = CFLP.from_cost_matrix(
        costs,
        w,
        sites=SiteData.default(6, capacity=cap, fixed_cost=fixed),
        exact_cost=exact_cost if exact else None,
    )
    sol = solve_and_check(model)
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(ref, rel=1e-9)
    assert not set(sol.open_sites) & {3, 4, 5}
    assert (sol.assignment >= 0).all()
    zero = np.arange(6, 18)
    if exact:
        near = np.asarray(sol.open_sites)[np.argmin(dense[np.ix_(zero, sol.open_sites)], axis=1)]
        assert (sol.assignment[zero] == near).all()
        assert sol.assignment_cost[zero] == pytest.approx(dense[zero, sol.assignment[zero]])
    else:
        assert "beyond_cost" in sol.message


def test_subgradient_counts_unlisted_pairs_taken_at_beyond_cost() -> None:
    # With multipliers above w_i * beyond_cost, (L1) of every open site that does not list
    # row i takes it at the beyond cost; the subgradient must count those copies.
    from planner.models.cflp._lagrange import Lagrangian  # noqa: PLC0415

    rng = np.random.default_rng(2)
    dense = rng.uniform(1, 10, (5, 4))
    costs = _k_nearest(dense, 1)
    model = CFLP.from_cost_matrix(
        costs, np.ones(5), sites=SiteData.default(4, fixed_cost=np.zeros(4)), single_source=False
    )
    lag = Lagrangian(model._data, costs.beyond_cost)
    closed = np.zeros(4, dtype=np.bool_)
    lam = costs.beyond_cost + 1.0  # every unlisted pair has negative reduced cost
    res = lag.evaluate(lam, closed, closed)
    assert res.y.all()  # zero fixed costs, negative values: every site opens
    g = lag.subgradient(res)
    # Each row: its listed site takes it (1) and the other 3 open sites take it at beyond.
    assert g == pytest.approx(np.full(5, 1.0 - 4.0))
    # And the bound is the value of that relaxed choice.
    assert res.value == pytest.approx(
        float(lam.sum() + (costs.cost - lam).sum() + 3 * (costs.beyond_cost - lam).sum())
    )


# ------------------------------------------------------------------------------------------
# OR-Library (published optima; skipped without ../shared)
# ------------------------------------------------------------------------------------------
@pytest.mark.solver
@pytest.mark.parametrize(
    ("stem", "capacity", "optimum"),
    [
        ("cap41", math.nan, 1040444.375),
        ("cap71", math.nan, 932615.750),
        ("cap71", None, 932615.750),
    ],
    ids=["cap41", "cap71", "cap71-uncap"],
)
def test_orlib_published_optimum(stem: str, capacity: float | None, optimum: float) -> None:
    path = ORLIB / "cap" / f"{stem}.txt"
    if not path.exists():
        pytest.skip(f"{path} not available")
    model = cap_model(load_cap_instance(path, capacity=capacity))
    sol = solve_and_check(model, gap_tolerance=0.0, time_limit_s=120)
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(optimum, abs=1e-3)


# ------------------------------------------------------------------------------------------
# Decision support: regret and N-best through the shared helpers
# ------------------------------------------------------------------------------------------
@pytest.mark.solver
@pytest.mark.parametrize("single", [True, False], ids=["single", "split"])
def test_regret_and_n_best(single: bool) -> None:
    cost, w, cap, fixed = random_instance(31, n=6, m=5, cap_scale=1.0)
    sites = SiteData.default(5, capacity=cap, fixed_cost=fixed)
    model = CFLP.from_cost_matrix(cost, w, sites=sites, single_source=single)
    sol = solve_and_check(model, n_best=3, compute_regret=True)

    def value(open_set: Sequence[int]) -> float:
        """Fixed + best assignment cost of an open set, computed apart from the model."""
        if not open_set:
            return math.inf
        transport = (_single_best if single else _transport_lp)(cost, w, cap, open_set)
        return float(fixed[list(open_set)].sum()) + transport

    assert sol.objective == pytest.approx(value(sol.open_sites))
    assert set(sol.regret) == set(sol.open_sites)
    for j, regret in sol.regret.items():
        rest = [s for s in sol.open_sites if s != j]
        exact = value(rest) - sol.objective
        assert regret >= -1e-6  # closing a site cannot beat the proven optimum
        if single:
            # single-source re-assigns the other farms with CFLP.evaluate (the assignment
            # MIP on a model this small): never below the exact regret, equal to the model's
            assert regret >= exact - 1e-6, (j, regret, exact)
            expected = model.evaluate(rest)[0] - sol.objective if rest else math.inf
        else:
            expected = exact  # split: the transportation LP is exact
        if math.isinf(expected):
            assert math.isinf(regret), (j, regret)
        else:
            assert regret == pytest.approx(expected)
    # the N best: the cheapest open sets with as many sites as the optimum, by enumeration
    size = len(sol.open_sites)
    values = sorted(
        v for combo in itertools.combinations(range(5), size) if math.isfinite(v := value(combo))
    )
    assert len(values) >= 3
    assert "exact N best with the same number of sites" in sol.message
    assert len(sol.alternatives) == 3
    assert [a.objective for a in sol.alternatives] == pytest.approx(values[:3])
    for alt in sol.alternatives:
        assert len(alt.open_sites) == size
        assert alt.objective == pytest.approx(value(alt.open_sites))
    assert len({a.open_sites for a in sol.alternatives}) == len(sol.alternatives)


@pytest.mark.solver
def test_single_source_regret_is_exact() -> None:
    cost, w, cap, fixed = random_instance(31, n=6, m=5, cap_scale=1.0)
    sites = SiteData.default(5, capacity=cap, fixed_cost=fixed)
    model = CFLP.from_cost_matrix(cost, w, sites=sites, single_source=True)
    sol = solve_and_check(model, compute_regret=True)
    for j, regret in sol.regret.items():
        rest = [s for s in sol.open_sites if s != j]
        exact = float(fixed[rest].sum()) + _single_best(cost, w, cap, rest) - sol.objective
        assert regret == pytest.approx(exact), j
