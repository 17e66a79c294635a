"""The one pipeline: a scenario of any model kind -> inputs -> model -> solution -> files.

:func:`run_scenario` solves every model kind and returns a result that
:func:`planner.export.result_tables` turns into the common tables (summary, sites,
assignments, farms; oblasts via :func:`planner.export.oblast_breakdown`) plus the model's extra
tables, and that :func:`planner.export.write_outputs` writes (CSV, GeoJSON, GPKG, XLSX, HTML
brief). ``planner solve``, the app's Scenario and Network pages and the sweep all call it.

Stages: :mod:`planner.location` (p-median, CFLP, MCLP, set cover, p-center) and
:mod:`planner.agri` (two-echelon: plants + service centres over several years). Site and plant
references are resolved in :mod:`planner.references` for both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import overload

from planner import agri, location
from planner.agri import TwoEchelonInputs, TwoEchelonResult
from planner.errors import ScenarioError
from planner.export import AnyResult, result_tables, write_outputs
from planner.location import (
    ScenarioInputs,
    ScenarioResult,
    build_model,
    demand_parameters,
    load_farms,
    load_sites,
    solve_options,
)
from planner.models._base import CancelToken, Progress
from planner.scenarios import Scenario

__all__ = [
    "AnyInputs",
    "AnyResult",
    "ScenarioInputs",
    "ScenarioResult",
    "TwoEchelonInputs",
    "TwoEchelonResult",
    "build_inputs",
    "build_model",
    "demand_parameters",
    "load_farms",
    "load_sites",
    "result_tables",
    "run_scenario",
    "solve_options",
    "write_outputs",
]

AnyInputs = ScenarioInputs | TwoEchelonInputs
"""Prepared inputs of any model kind (what :func:`build_inputs` returns)."""


def build_inputs(scenario: Scenario) -> AnyInputs:
    """Build everything a scenario's model needs before solving (cacheable between solves).

    Parameters
    ----------
    scenario
        The scenario (any model kind).

    Returns
    -------
    inputs
        :class:`planner.agri.TwoEchelonInputs` for ``two_echelon``,
        :class:`planner.location.ScenarioInputs` otherwise.
    """
    if scenario.model.kind == "two_echelon":
        return agri.build_two_echelon_inputs(scenario)
    return location.build_inputs(scenario)


@overload
def run_scenario(
    scenario: Scenario,
    *,
    inputs: ScenarioInputs,
    time_limit_s: float | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> ScenarioResult: ...


@overload
def run_scenario(
    scenario: Scenario,
    *,
    inputs: TwoEchelonInputs,
    time_limit_s: float | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> TwoEchelonResult: ...


@overload
def run_scenario(
    scenario: Scenario,
    *,
    inputs: None = None,
    time_limit_s: float | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> AnyResult: ...


def run_scenario(
    scenario: Scenario,
    *,
    inputs: AnyInputs | None = None,
    time_limit_s: float | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> AnyResult:
    """Build, solve and evaluate a scenario of any model kind.

    Parameters
    ----------
    scenario
        The scenario.
    inputs
        Prepared inputs to reuse (:func:`build_inputs`; skips data building); built when
        ``None``.
    time_limit_s
        Overrides the scenario's solver time limit.
    progress
        Called with solver progress (incumbent, bound, gap).
    cancel
        Token to stop the solve early; the incumbent is returned.

    Returns
    -------
    result
        The solved scenario with KPIs: :class:`planner.location.ScenarioResult` or, for
        ``two_echelon``, :class:`planner.agri.TwoEchelonResult`. Both give the same tables
        (:func:`result_tables`) and files (:func:`write_outputs`).

    Raises
    ------
    ScenarioError
        If ``inputs`` were prepared for the other kind of model.
    """
    two = scenario.model.kind == "two_echelon"
    if inputs is not None and isinstance(inputs, TwoEchelonInputs) != two:
        msg = (
            f"the prepared inputs ({type(inputs).__name__}) do not fit model "
            f"`{scenario.model.kind}`; build them with planner.run.build_inputs(scenario)."
        )
        raise ScenarioError(msg, source=scenario.name)
    if two:
        assert inputs is None or isinstance(inputs, TwoEchelonInputs)
        # Looked up on the module at call time, so a test can replace the stage.
        return agri.run_two_echelon(
            scenario, inputs=inputs, time_limit_s=time_limit_s, progress=progress, cancel=cancel
        )
    assert inputs is None or isinstance(inputs, ScenarioInputs)
    return location.solve(
        scenario, inputs=inputs, time_limit_s=time_limit_s, progress=progress, cancel=cancel
    )
