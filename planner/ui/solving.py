"""UI caches of the solve: prepared inputs of every model kind and sweeps over p.

Only the pages that solve (Scenario, Network, Compare) import this module, so the Explore page
(the first map) never loads the solver stack. Cached values are read-only (shared between
sessions).
"""

from __future__ import annotations

import tomllib

import streamlit as st

from planner import run, scenarios
from planner import sweep as sweep_mod
from planner.models import _kernels
from planner.scenarios import Scenario, SolverSpec
from planner.ui.cache import inputs_key


@st.cache_resource(show_spinner=False, max_entries=6)
def _inputs_for_key(key: str) -> run.AnyInputs:
    raw = tomllib.loads(key)
    base_dir = key.rsplit("# base_dir=", 1)[-1].strip()
    return run.build_inputs(scenarios.scenario_from_dict(raw, base_dir=base_dir))


def scenario_inputs(scenario: Scenario) -> run.AnyInputs:
    """Return a scenario's prepared inputs (any model kind), cached per data-relevant part.

    The inputs are shared between sessions: read-only.
    """
    if scenario.model.kind == "two_echelon":
        return two_echelon_inputs(scenario)
    return _inputs_for_key(inputs_key(scenario))


def warm(scenario: Scenario) -> None:
    """Prepare a first solve of ``scenario``: compile its kernels and build its inputs.

    Compiles the numba kernels a p-median solve (the default scenario's model) calls,
    ``planner.models._kernels.PMEDIAN_KERNELS``, and fills :func:`scenario_inputs`.
    """
    _kernels.warm(_kernels.PMEDIAN_KERNELS)
    scenario_inputs(scenario)


@st.cache_resource(show_spinner=False, max_entries=16)
def sweep(
    scenario_toml: str, ps: tuple[int, ...], time_limit_s: float
) -> list[sweep_mod.SweepPoint]:
    """Trade-off sweep over p with the scenario's cached inputs (read-only, shared)."""
    scenario = scenarios.scenario_from_dict(tomllib.loads(scenario_toml))
    inputs = scenario_inputs(scenario)
    assert isinstance(inputs, run.ScenarioInputs)  # sweeps are single-echelon
    return sweep_mod.sweep_p(scenario, ps, inputs=inputs, time_limit_s=time_limit_s)


@st.cache_resource(show_spinner=False, max_entries=4)
def _two_echelon_inputs_for_key(key: str) -> run.AnyInputs:
    raw = tomllib.loads(key)
    base_dir = key.rsplit("# base_dir=", 1)[-1].strip()
    return run.build_inputs(scenarios.scenario_from_dict(raw, base_dir=base_dir))


def two_echelon_inputs(scenario: Scenario) -> run.AnyInputs:
    """Return the prepared two-echelon inputs (farms, growth, zones, arrays); cached, read-only.

    Keyed on the whole scenario except name, title and solver options, so re-running with
    another time limit reuses the farms, zones and cost arrays.
    """
    neutral = scenario.replace(
        name="inputs", title="", description="", solver=SolverSpec(), base_dir=scenario.base_dir
    )
    key = scenarios.scenario_to_toml(neutral) + f"\n# base_dir={scenario.base_dir}\n"
    return _two_echelon_inputs_for_key(key)
