"""Direct tests of the trade-off sweep over p (planner/sweep.py).

A tiny p-median instance (25 synthetic farms, the 15 settlements of 200,000 people or more)
is small enough to enumerate every open set of every size, so each point of the sweep is
compared with the brute-force optimum, computed from the exact farm-to-site costs apart from
the solver and from the k-nearest lists.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from planner import run as run_mod
from planner.errors import PlannerError
from planner.run import ScenarioInputs, build_inputs
from planner.scenarios import DataSpec, ModelSpec, Scenario, SolverSpec, TravelSpec
from planner.sweep import SweepPoint, sweep_p

pytestmark = pytest.mark.solver

TINY = Scenario(
    name="tiny sweep",
    data=DataSpec(n_farms=25, farm_seed=3, min_site_population=200_000, include_existing=False),
    travel=TravelSpec(k_nearest=40),
    model=ModelSpec(kind="p_median", p=2),
    solver=SolverSpec(time_limit_s=20.0, n_best=1, compute_regret=False),
)


@pytest.fixture(scope="module")
def inputs() -> ScenarioInputs:
    return build_inputs(TINY)


@pytest.fixture(scope="module")
def dense(inputs: ScenarioInputs) -> np.ndarray:
    """Farm x site cost in model units (road km), every pair, from the exact cost function."""
    assert inputs.exact_cost is not None
    n, m = len(inputs.weights), inputs.costs.n_sites
    costs = inputs.exact_cost(np.arange(n), np.arange(m))
    assert costs.shape == (n, m)
    assert np.isfinite(costs).all()
    return costs


def brute_pmedian(weights: np.ndarray, costs: np.ndarray, p: int) -> float:
    """Optimal p-median objective by enumerating all C(m, p) open sets."""
    return min(
        float((weights * costs[:, list(s)].min(axis=1)).sum())
        for s in itertools.combinations(range(costs.shape[1]), p)
    )


def test_exact_sweep_matches_enumeration_and_never_increases(
    inputs: ScenarioInputs, dense: np.ndarray
) -> None:
    m = inputs.costs.n_sites
    assert m == 15  # the instance the docstring describes: C(15, p) open sets per p
    ps = [1, 2, 3, 4, 5, 14, 15]
    seen: list[SweepPoint] = []
    points = sweep_p(TINY, ps, inputs=inputs, heuristic=False, on_point=seen.append)
    assert [pt.p for pt in points] == ps
    assert seen == points  # reported one by one, in the order given
    expected = [brute_pmedian(inputs.weights, dense, p) for p in ps]
    for pt, want in zip(points, expected, strict=True):
        assert pt.status == "optimal", (pt.p, pt.message)
        assert pt.objective == pytest.approx(want, rel=1e-9), pt.p
        assert pt.kpis["n_open_sites"] == pt.p
        # the KPI is the same figure per unit of demand (every farm is served)
        assert pt.kpis["mean_travel_km"] == pytest.approx(want / inputs.weights.sum(), abs=1e-3)
    objectives = [pt.objective for pt in points]
    assert all(b <= a for a, b in itertools.pairwise(objectives)), objectives
    assert objectives[0] > objectives[1] > objectives[2]  # more centres, shorter trips
    # with every site open, each farm goes to its nearest site
    assert objectives[-1] == pytest.approx(float((inputs.weights * dense.min(axis=1)).sum()))


def test_heuristic_sweep_is_feasible_never_below_the_optimum_and_never_increases(
    inputs: ScenarioInputs, dense: np.ndarray
) -> None:
    ps = [1, 2, 3, 4, 5]
    points = sweep_p(TINY, ps, inputs=inputs)
    for pt in points:
        assert pt.status in ("optimal", "feasible"), (pt.p, pt.message)
        assert pt.kpis["n_open_sites"] == pt.p
        assert pt.objective >= brute_pmedian(inputs.weights, dense, pt.p) * (1 - 1e-9)
    objectives = [pt.objective for pt in points]
    assert all(b <= a for a, b in itertools.pairwise(objectives)), objectives


def test_the_given_inputs_are_reused(
    inputs: ScenarioInputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_build(*args: object, **kwargs: object) -> None:
        msg = "the sweep rebuilt its inputs"
        raise AssertionError(msg)

    monkeypatch.setattr("planner.sweep.build_inputs", no_build)
    monkeypatch.setattr(run_mod, "build_inputs", no_build)
    (point,) = sweep_p(TINY, [2], inputs=inputs)
    assert point.kpis["n_open_sites"] == 2


def test_a_failing_p_is_reported_and_the_sweep_goes_on(inputs: ScenarioInputs) -> None:
    points = sweep_p(TINY, [16, 1], inputs=inputs)
    assert [pt.p for pt in points] == [16, 1]
    bad, good = points
    assert bad.status == "error"
    assert bad.kpis == {}
    assert math.isnan(bad.objective)
    assert "`p` = 16 but only 15 sites may open" in bad.message
    assert good.kpis["n_open_sites"] == 1


def test_a_model_without_p_is_refused() -> None:
    cflp = TINY.replace(model=ModelSpec(kind="cflp"))
    with pytest.raises(PlannerError, match=r"a sweep over p needs a model with p .*uses `cflp`"):
        sweep_p(cflp, [1, 2])


def test_heuristic_sweep_asks_for_the_fast_backend_and_exact_keeps_the_solver(
    inputs: ScenarioInputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, int, bool]] = []
    real = run_mod.run_scenario

    def recording(scenario: Scenario, **kwargs: Any) -> Any:  # noqa: ANN401
        s = scenario.solver
        asked.append((s.backend, s.n_best, s.compute_regret))
        return real(scenario, **kwargs)

    monkeypatch.setattr("planner.sweep.run_scenario", recording)
    sweep_p(TINY, [2], inputs=inputs)
    assert asked == [("heuristic", 1, False)]
    asked.clear()
    sweep_p(TINY, [2], inputs=inputs, heuristic=False)
    assert asked == [(TINY.solver.backend, TINY.solver.n_best, TINY.solver.compute_regret)]
