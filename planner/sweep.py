"""Trade-off curves: re-solve a scenario over a range of p with the same prepared inputs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from planner.errors import PlannerError
from planner.run import ScenarioInputs, build_inputs, run_scenario
from planner.scenarios import Scenario

SWEEP_KINDS = ("p_median", "mclp", "p_center")


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep.

    Parameters
    ----------
    p
        Number of open sites asked for.
    status
        Solver status (``optimal``, ``feasible``, ``infeasible``, ``error``).
    kpis
        KPIs of the solution (:func:`planner.results.compute_kpis`); empty on failure.
    objective
        Objective value (``nan`` on failure).
    message
        Solver or error message.
    """

    p: int
    status: str
    kpis: dict[str, Any]
    objective: float
    message: str = ""


def sweep_p(
    scenario: Scenario,
    ps: Iterable[int],
    *,
    inputs: ScenarioInputs | None = None,
    time_limit_s: float = 5.0,
    heuristic: bool = True,
    on_point: Callable[[SweepPoint], None] | None = None,
) -> list[SweepPoint]:
    """Solve ``scenario`` once per ``p`` and collect the KPIs.

    Parameters
    ----------
    scenario
        A p-median, maximal-coverage or p-center scenario.
    ps
        Values of p (each >= 1).
    inputs
        Prepared inputs to reuse (built once when ``None``).
    time_limit_s
        Time limit of each solve.
    heuristic
        Use the heuristic backend without regret or alternatives (fast curves).
    on_point
        Called after each point (progress reporting).

    Returns
    -------
    points
        One point per p, in the order given; a failed p has status ``error`` and a message.

    Raises
    ------
    PlannerError
        When the scenario's model has no p.
    """
    if scenario.model.kind not in SWEEP_KINDS:
        msg = (
            f"a sweep over p needs a model with p ({', '.join(SWEEP_KINDS)}); scenario "
            f"`{scenario.name}` uses `{scenario.model.kind}`."
        )
        raise PlannerError(msg)
    solver = scenario.solver
    if heuristic:
        solver = dataclasses.replace(solver, backend="heuristic", n_best=1, compute_regret=False)
    prepared = inputs or build_inputs(scenario)
    assert isinstance(prepared, ScenarioInputs)  # every sweep kind is single-echelon
    points: list[SweepPoint] = []
    for p in ps:
        s = scenario.replace(model=dataclasses.replace(scenario.model, p=int(p)), solver=solver)
        try:
            res = run_scenario(s, inputs=prepared, time_limit_s=time_limit_s)
        except PlannerError as exc:
            point = SweepPoint(int(p), "error", {}, float("nan"), str(exc))
        else:
            sol = res.solution
            point = SweepPoint(int(p), str(sol.status), dict(res.kpis), sol.objective, sol.message)
        points.append(point)
        if on_point is not None:
            on_point(point)
    return points
