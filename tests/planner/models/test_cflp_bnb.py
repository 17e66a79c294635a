"""Tests of the Lagrangian branch-and-bound of the CFLP (``planner.models.cflp._bnb``).

The root phase is weakened (3 subgradient iterations, no local search) so that the tree
does the work; every result goes through ``check_solution`` and optima are compared with
brute force (enumerate open sets; split: transportation LP with scipy, single-source:
enumerate assignments) from ``test_cflp``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from planner.models import SiteData, SolveOptions, Status, check_solution
from planner.models._base import BoolArray, FloatArray, Solution
from planner.models.cflp import CFLP
from planner.models.cflp import _model as cflp_module
from planner.models.cflp._assign import Assignment, assign
from planner.models.cflp._bnb import branch_and_bound, open_set_floor, restrict
from planner.models.cflp._data import CflpData
from planner.models.cflp._lagrange import LagrangeState, Lagrangian, initial_multipliers
from tests.planner.models.test_cflp import brute_force, case_model, random_instance


def _weak_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the root phase weak so that the branch-and-bound has to branch."""
    real = cflp_module.run_subgradient

    def few(lag: Lagrangian, state: LagrangeState, **kw: Any) -> LagrangeState:  # noqa: ANN401
        kw["max_iter"] = min(int(kw["max_iter"]), 3)
        kw["on_sites"] = None
        return real(lag, state, **kw)

    def no_search(
        data: CflpData,
        y: BoolArray,
        a: Assignment,
        **kw: Any,  # noqa: ANN401
    ) -> tuple[BoolArray, Assignment]:
        return y, a

    monkeypatch.setattr(cflp_module, "BNB_MIN_ENTRIES", 0)
    monkeypatch.setattr(cflp_module, "SINGLE_SOURCE_EXACT_BNB", True)
    monkeypatch.setattr(cflp_module, "run_subgradient", few)
    monkeypatch.setattr(cflp_module, "local_search", no_search)


def _solve(model: CFLP, **opts: Any) -> Solution:  # noqa: ANN401
    sol = model.solve(SolveOptions(gap_tolerance=0.0, **opts))
    if sol.has_solution:
        report = check_solution(model.problem, sol)
        assert report.ok, report.violations
    return sol


# Instance size (rows, sites): the single-source brute force enumerates every assignment.
SIZE = {True: (6, 5), False: (8, 7)}

CASES = [
    pytest.param({}, id="plain"),
    pytest.param({"required": (1,)}, id="required"),
    pytest.param({"forbidden": (0,)}, id="forbidden"),
    pytest.param({"min_new": 3}, id="min-new"),
    pytest.param({"max_new": 2}, id="max-new"),
]


@pytest.mark.solver
@pytest.mark.parametrize("single", [True, False], ids=["single", "split"])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_bnb_matches_brute_force(
    monkeypatch: pytest.MonkeyPatch, seed: int, case: dict[str, Any], single: bool
) -> None:
    _weak_root(monkeypatch)
    n, m = SIZE[single]
    cost, w, cap, fixed = random_instance(seed, n=n, m=m, cap_scale=0.4)
    fixed = fixed * 3  # dearer sites: fewer open, more branching on which
    model, ref = case_model(cost, w, cap, fixed, case, single=single)
    sol = _solve(model, seed=seed)
    if math.isinf(ref):
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL, sol.message
    assert sol.objective == pytest.approx(ref, rel=1e-7)
    assert sol.bound <= sol.objective + 1e-6
    if sol.stats.get("bnb_nodes") is not None:
        assert sol.backend == "bnb+lagrangian"


@pytest.mark.solver
@pytest.mark.parametrize("single", [True, False], ids=["single", "split"])
def test_bnb_branches_and_proves(monkeypatch: pytest.MonkeyPatch, single: bool) -> None:
    """Across seeds the tree is really used (nodes beyond the root) and stays exact."""
    _weak_root(monkeypatch)
    branched = 0
    for seed in range(5, 13):
        n, m = SIZE[single]
        cost, w, cap, fixed = random_instance(seed, n=n, m=m, cap_scale=0.4)
        fixed = fixed * 3
        sites = SiteData.default(m, capacity=cap, fixed_cost=fixed)
        ref = brute_force(cost, w, cap, fixed, single=single)
        model = CFLP.from_cost_matrix(cost, w, sites=sites, single_source=single)
        sol = _solve(model, seed=seed)
        if math.isinf(ref):
            assert sol.status == Status.INFEASIBLE
            continue
        assert sol.status == Status.OPTIMAL, sol.message
        assert sol.objective == pytest.approx(ref, rel=1e-7)
        branched += int(int(sol.stats.get("bnb_nodes", 0)) > 1)
    assert branched >= 2


@pytest.mark.solver
@pytest.mark.parametrize("single", [True, False], ids=["single", "split"])
def test_forced_mip_backend_skips_bnb(monkeypatch: pytest.MonkeyPatch, single: bool) -> None:
    _weak_root(monkeypatch)
    n, m = SIZE[single]
    cost, w, cap, fixed = random_instance(7, n=n, m=m, cap_scale=0.4)
    sites = SiteData.default(m, capacity=cap, fixed_cost=fixed * 3)
    ref = brute_force(cost, w, cap, fixed * 3, single=single)
    model = CFLP.from_cost_matrix(cost, w, sites=sites, single_source=single)
    sol = _solve(model, backend="highs")
    assert "bnb_nodes" not in sol.stats
    # the forced MIP backend proves the optimum itself (after the Lagrangian root)
    assert sol.backend == "highs+lagrangian"
    assert sol.stats["mip_status"] == "optimal"
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(ref, rel=1e-7)


@pytest.mark.solver
def test_small_model_uses_mip(monkeypatch: pytest.MonkeyPatch) -> None:
    _weak_root(monkeypatch)
    monkeypatch.setattr(cflp_module, "BNB_MIN_ENTRIES", 10**9)
    n, m = SIZE[True]
    cost, w, cap, fixed = random_instance(8, n=n, m=m, cap_scale=0.4)
    sites = SiteData.default(m, capacity=cap, fixed_cost=fixed * 3)
    ref = brute_force(cost, w, cap, fixed * 3, single=True)
    sol = _solve(CFLP.from_cost_matrix(cost, w, sites=sites, single_source=True))
    assert "bnb_nodes" not in sol.stats
    assert sol.objective == pytest.approx(ref, rel=1e-7)


@pytest.mark.solver
def test_bnb_above_free_site_limit_uses_mip(monkeypatch: pytest.MonkeyPatch) -> None:
    _weak_root(monkeypatch)
    monkeypatch.setattr(cflp_module, "BNB_MAX_FREE_SITES", 0)
    cost, w, cap, fixed = random_instance(8, n=8, m=7, cap_scale=0.4)
    sites = SiteData.default(7, capacity=cap, fixed_cost=fixed * 3)
    ref = brute_force(cost, w, cap, fixed * 3, single=False)
    model = CFLP.from_cost_matrix(cost, w, sites=sites, single_source=False)
    sol = _solve(model)
    assert "bnb_nodes" not in sol.stats
    assert sol.objective == pytest.approx(ref, rel=1e-7)


@pytest.mark.solver
def test_bnb_proves_infeasible(monkeypatch: pytest.MonkeyPatch) -> None:
    # Three rows of 6 into two sites of 10: total 18 <= 20, but only one row fits per site
    # (single source); every leaf's assignment MIP is infeasible.
    _weak_root(monkeypatch)
    sites = SiteData.default(2, capacity=[10.0, 10.0])
    model = CFLP.from_cost_matrix(np.ones((3, 2)), [6.0, 6.0, 6.0], sites=sites)
    sol = _solve(model)
    assert sol.status == Status.INFEASIBLE
    assert "proved" in sol.message


def _exact_value(data: CflpData, y: BoolArray) -> float:
    return assign(data, y).objective


@pytest.mark.solver
@pytest.mark.parametrize("seed", [21, 22, 23])
def test_branch_and_bound_from_scratch(seed: int) -> None:
    """Direct call: no incumbent, no root fixing; the tree alone finds and proves the optimum.

    The incumbent it finds is re-solved through ``CFLP.solve`` with the open set as the
    warm start, and that solution goes through ``check_solution``.
    """
    cost, w, cap, fixed = random_instance(seed, n=8, m=7, cap_scale=0.4)
    fixed = fixed * 3
    sites = SiteData.default(7, capacity=cap, fixed_cost=fixed)
    model = CFLP.from_cost_matrix(cost, w, sites=sites, single_source=False)
    data = model._data
    lag = Lagrangian(data, np.full(data.n_rows, np.inf))
    best: list[tuple[float, BoolArray]] = []

    def upper() -> float:
        return best[0][0] if best else math.inf

    def offer(y: BoolArray) -> None:
        val = _exact_value(data, y)
        if math.isfinite(val) and val < upper():
            best[:] = [(val, y.copy())]

    lam: FloatArray = initial_multipliers(data)
    res = branch_and_bound(
        lag,
        lam=lam,
        bound=-math.inf,
        closed=np.zeros(data.n_sites, dtype=np.bool_),
        forced=np.zeros(data.n_sites, dtype=np.bool_),
        upper=upper,
        tolerance=lambda: 1e-9,
        on_sites=lambda y: None,
        exact_leaf=offer,
        should_stop=lambda: False,
    )
    ref = brute_force(cost, w, cap, fixed, single=False)
    assert res.complete
    assert upper() == pytest.approx(ref, rel=1e-9)
    assert res.bound <= ref + 1e-6
    assert res.bound >= ref - 1e-6
    assert res.nodes > 1
    sol = _solve(
        CFLP.from_cost_matrix(
            cost,
            w,
            sites=sites,
            single_source=False,
            initial_sites=[int(j) for j in np.flatnonzero(best[0][1])],
        )
    )
    assert sol.objective == pytest.approx(ref, rel=1e-9)


def test_restrict_drops_closed_sites() -> None:
    cost, w, cap, fixed = random_instance(3, n=6, m=5)
    model = CFLP.from_cost_matrix(
        cost, w, sites=SiteData.default(5, capacity=cap, fixed_cost=fixed), single_source=False
    )
    data = model._data
    closed = np.array([True, False, True, False, False])
    sub = restrict(data, closed)
    assert not sub.allowed[closed].any()
    assert not closed[sub.e_site].any()
    assert sub.n_entries == int((~closed[data.e_site]).sum())
    y = np.array([False, True, False, True, True])
    assert assign(sub, y).objective == pytest.approx(assign(data, y).objective, rel=1e-9)
    ref = _exact_value(data, y)
    assert math.isfinite(ref)


@pytest.mark.parametrize("single", [True, False], ids=["single", "split"])
def test_open_set_floor_is_a_lower_bound(single: bool) -> None:
    cost, w, cap, fixed = random_instance(5, n=6, m=5, cap_scale=0.4)
    model = CFLP.from_cost_matrix(
        cost, w, sites=SiteData.default(5, capacity=cap, fixed_cost=fixed), single_source=single
    )
    data = model._data
    for bits in range(1, 32):
        y = np.array([(bits >> j) & 1 for j in range(5)], dtype=np.bool_)
        floor = open_set_floor(data, y)
        uncap = float(fixed[y].sum() + (w * cost[:, y].min(axis=1)).sum())
        if not single:  # single source also drops pairs with w_i > s_j
            assert floor == pytest.approx(uncap, rel=1e-12)
        assert floor >= uncap - 1e-9
        exact = brute_force(
            cost, w, cap, fixed, single=single, required=np.flatnonzero(y).tolist(), max_new=0
        )
        assert floor <= exact + 1e-9
