"""Single-source CFLP helpers (planner.models.cflp._single) against brute force.

The pair bounds (P1) must never exceed the cheapest solution that uses the pair, for any
multipliers; the exact assignment must equal enumeration; solving with pair fixing must
give the brute-force optimum.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from planner.models import SiteData, SolveOptions, Status, check_solution
from planner.models._base import BoolArray, FloatArray
from planner.models.cflp import CFLP
from planner.models.cflp import _model as model_mod
from planner.models.cflp import _single as single_mod
from planner.models.cflp._assign import Assignment, assign
from planner.models.cflp._lagrange import Lagrangian, initial_multipliers
from planner.models.cflp._single import assign_exact, integral_costs, pair_bounds
from tests.planner.models.test_cflp import case_model, random_instance

CASES = [
    pytest.param({}, id="plain"),
    pytest.param({"required": (1,)}, id="required"),
    pytest.param({"forbidden": (0,)}, id="forbidden"),
    pytest.param({"min_new": 3}, id="min-new"),
    pytest.param({"max_new": 2}, id="max-new"),
]


def _instance(
    seed: int, n: int = 6, m: int = 4
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Integer demands, capacities and whole-demand costs (as in the SSCFLP sets)."""
    rng = np.random.default_rng(seed)
    w = rng.integers(1, 8, n).astype(float)
    cap = np.round(rng.uniform(0.35, 0.8, m) * w.sum())
    whole = rng.integers(1, 40, (n, m)).astype(float)
    fixed = rng.integers(5, 30, m).astype(float)
    return whole / w[:, None], w, cap, fixed


def _model(seed: int, case: dict[str, Any]) -> CFLP:
    cost, w, cap, fixed = _instance(seed)
    sites = SiteData.default(
        cost.shape[1],
        capacity=cap,
        fixed_cost=fixed,
        required=case.get("required", ()),
        forbidden=case.get("forbidden", ()),
    )
    return CFLP.from_cost_matrix(
        cost,
        w,
        sites=sites,
        single_source=True,
        min_new_sites=case.get("min_new", 0),
        max_new_sites=case.get("max_new"),
    )


def _pair_optima(seed: int, case: dict[str, Any]) -> tuple[float, dict[tuple[int, int], float]]:
    """Optimum, and per pair (row, site) the cheapest solution using it, by enumeration."""
    cost, w, cap, fixed = _instance(seed)
    n, m = cost.shape
    required = set(case.get("required", ()))
    forbidden = set(case.get("forbidden", ()))
    lo, hi = case.get("min_new", 0), case.get("max_new", m)
    best = math.inf
    per_pair: dict[tuple[int, int], float] = {}
    free = [j for j in range(m) if j not in required and j not in forbidden]
    for k in range(len(free) + 1):
        if not lo <= k <= hi:
            continue
        for extra in itertools.combinations(free, k):
            sites = sorted(required | set(extra))
            if not sites:
                continue
            f = float(fixed[sites].sum())
            for choice in itertools.product(sites, repeat=n):
                load = np.zeros(m)
                for i, j in enumerate(choice):
                    load[j] += w[i]
                if (load > cap + 1e-9).any():
                    continue
                val = f + sum(w[i] * cost[i, j] for i, j in enumerate(choice))
                best = min(best, val)
                for i, j in enumerate(choice):
                    per_pair[i, j] = min(per_pair.get((i, j), math.inf), val)
    return best, per_pair


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_pair_bounds_never_above_brute_force(seed: int, case: dict[str, Any]) -> None:
    model = _model(seed, case)
    data = model._data
    lag = Lagrangian(data, np.asarray(model.problem.costs.beyond_cost, dtype=np.float64))
    assert lag.exact_knapsack
    assert integral_costs(data)
    best, per_pair = _pair_optima(seed, case)
    rng = np.random.default_rng(seed)
    none = np.zeros(data.n_sites, dtype=np.bool_)
    lam0 = initial_multipliers(data)
    for scale in (0.0, 0.5, 1.0, 1.5):
        lam = lam0 * scale + rng.normal(0.0, 5.0, len(lam0))
        pb = pair_bounds(lag, lam, none, none)
        assert pb.bound <= best + 1e-9
        for e in range(data.n_entries):
            i, j = int(data.e_row[e]), int(data.e_site[e])
            assert pb.pair_bound[e] <= per_pair.get((i, j), math.inf) + 1e-9, (scale, i, j)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_pair_bounds_fix_pairs_at_good_multipliers(seed: int) -> None:
    # Not trivial: near the best multipliers some pairs are proven out of every solution
    # better than the optimum + 1 (else the fixing would never act).
    model = _model(seed, {})
    data = model._data
    lag = Lagrangian(data, np.asarray(model.problem.costs.beyond_cost, dtype=np.float64))
    best, _ = _pair_optima(seed, {})
    none = np.zeros(data.n_sites, dtype=np.bool_)
    best_bound, best_pb = -math.inf, None
    lam = initial_multipliers(data)
    for it in range(300):
        res = lag.evaluate(lam, none, none)
        if res.value > best_bound:
            best_bound, best_pb = res.value, pair_bounds(lag, lam, none, none)
        g = lag.subgradient(res)
        if float(g @ g) == 0.0:
            break
        lam = lam + 0.5 * max(best - res.value, 1e-3) / float(g @ g) * g / (1 + it / 50)
    assert best_pb is not None
    assert best_bound <= best + 1e-9
    assert best_pb.bound == pytest.approx(best_bound)
    assert (best_pb.pair_bound >= best + 1 - 1e-6).any()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_assign_exact_matches_enumeration(seed: int) -> None:
    cost, w, cap, fixed = _instance(seed)
    model = _model(seed, {})
    data = model._data
    n, m = cost.shape
    for sites in itertools.combinations(range(m), 2):
        y = np.zeros(m, dtype=np.bool_)
        y[list(sites)] = True
        ref = math.inf
        for choice in itertools.product(sites, repeat=n):
            load = np.bincount(np.array(choice), weights=w, minlength=m)
            if (load <= cap + 1e-9).all():
                ref = min(ref, sum(w[i] * cost[i, j] for i, j in enumerate(choice)))
        a, proven = assign_exact(data, y, time_limit_s=10.0, seed=0)
        assert proven
        if math.isinf(ref):
            assert a is None
        else:
            assert a is not None
            assert a.transport_cost == pytest.approx(ref)
            assert a.fixed_cost == pytest.approx(float(fixed[list(sites)].sum()))


@pytest.mark.solver
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_solve_with_pair_fixing_matches_brute_force(seed: int, case: dict[str, Any]) -> None:
    model = _model(seed, case)
    best, _ = _pair_optima(seed, case)
    sol = model.solve(SolveOptions(time_limit_s=30))
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(best)
    report = check_solution(model.problem, sol)
    assert report.ok, report.violations


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_pair_search_bound_and_kept_pairs_against_brute_force(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Force the restricted rounds (tiny models would go to the exact MIP at once).
    monkeypatch.setattr(single_mod, "EXACT_KEEP_SHARE", 0.0)
    model = _model(seed, {})
    data = model._data
    lag = Lagrangian(data, np.asarray(model.problem.costs.beyond_cost, dtype=np.float64))
    best, per_pair = _pair_optima(seed, {})
    none = np.zeros(data.n_sites, dtype=np.bool_)
    pb = pair_bounds(lag, initial_multipliers(data) * 0.8, none, none)
    # A poor start: every site open, heuristic assignment.
    y0 = np.ones(data.n_sites, dtype=np.bool_)
    a0 = assign(data, y0)
    assert a0.feasible
    state = {"y": y0, "a": a0}
    found: list[float] = []

    def on_solution(y: BoolArray, a: Assignment) -> None:
        found.append(a.objective)
        if a.objective < state["a"].objective:
            state["y"], state["a"] = y, a

    search = single_mod.pair_search(
        data,
        pb.pair_bound,
        lower=min(pb.bound, a0.objective),
        incumbent=lambda: (state["y"], state["a"]),
        on_solution=on_solution,
        closed=none,
        fixed_open=none,
        new_sites=(0, data.n_sites),
        integral=True,
        tolerance=1e-9,
        time_left=lambda: 30.0,
        seed=0,
    )
    assert search.rounds >= 1
    assert search.bound <= best + 1e-9
    assert all(v >= best - 1e-9 for v in found)
    ub = state["a"].objective
    for e in range(data.n_entries):
        key = (int(data.e_row[e]), int(data.e_site[e]))
        if per_pair.get(key, math.inf) < ub - 1 + 1e-6:
            assert search.keep[e], key


@pytest.mark.solver
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_weak_root_still_proves_through_the_mip(
    seed: int, case: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A root of 3 subgradient steps and no local search often leaves no incumbent before
    # the MIP: the MIP must still run to the proof (its absolute gap once was inf then).
    real = model_mod.run_subgradient

    def few(lag: Lagrangian, state: Any, **kw: Any) -> Any:  # noqa: ANN401
        kw["max_iter"] = min(int(kw["max_iter"]), 3)
        kw["on_sites"] = None
        return real(lag, state, **kw)

    monkeypatch.setattr(model_mod, "run_subgradient", few)
    monkeypatch.setattr(model_mod, "local_search", lambda data, y, a, **kw: (y, a))
    cost, w, cap, fixed = random_instance(seed, n=6, m=5, cap_scale=0.4)
    model, ref = case_model(cost, w, cap, fixed * 3, case, single=True)
    sol = model.solve(SolveOptions(time_limit_s=30, gap_tolerance=0.0, seed=seed))
    if math.isinf(ref):
        assert sol.status is Status.INFEASIBLE
        return
    assert sol.status is Status.OPTIMAL, sol.message
    assert sol.objective == pytest.approx(ref)
