"""The ``[uncertainty]`` section: paths, distributions, ranges checked against the scenario."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from planner.errors import ScenarioError
from planner.scenarios import (
    builtin_scenarios,
    load_scenario,
    scenario_from_dict,
    scenario_to_toml,
    uncertain_paths,
)


def _doc(parameters: dict[str, Any], **extra: str) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "name": "u",
        "model": {"kind": "p_median", "p": 3},
        "uncertainty": {"parameters": parameters, **extra},
    }


def _problems(doc: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(doc)
    return info.value.problems


def test_unknown_path_and_key_get_a_suggestion() -> None:
    problems = _problems(
        _doc({"travel.circuty": {"distribution": "uniform", "low": 1.1, "high": 1.4}}, desing="x")
    )
    assert any("Did you mean `travel.circuity`?" in p for p in problems)
    assert any("Did you mean `design`?" in p for p in problems)


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"distribution": "uniform", "low": 0.6, "high": 0.3}, "swap them"),
        ({"distribution": "triangular", "low": 0.3, "mode": 0.9, "high": 0.6}, "mode (0.9)"),
        ({"distribution": "normal", "mean": 0.5, "sd": 0.1}, "needs low, high"),
        ({"distribution": "normal", "mean": 0.5, "sd": 0, "low": 0.3, "high": 0.6}, "sd must"),
        ({"distribution": "beta", "low": 0.3, "high": 0.6}, "must be one of"),
        ({"distribution": "uniform", "low": 0.3, "high": 1.2}, "Narrow the range"),
        ({"distribution": "choice", "values": []}, "non-empty list"),
        ({"distribution": "uniform", "low": 0.3, "high": 0.6, "sigma": 1}, "unknown key"),
    ],
)
def test_bad_distribution_names_the_fix(spec: dict[str, Any], needle: str) -> None:
    problems = _problems(_doc({"demand.belarus_share": spec}))
    assert any(needle in p for p in problems), problems


def test_range_outside_the_scenario_rules_is_an_error() -> None:
    problems = _problems(
        _doc({"travel.circuity": {"distribution": "uniform", "low": 0.8, "high": 1.4}})
    )
    assert any("travel.circuity` must be 1.0..3.0" in p and "= 0.8" in p for p in problems)


def test_farm_seed_takes_whole_numbers_only() -> None:
    problems = _problems(_doc({"data.farm_seed": {"distribution": "choice", "values": [1, 2.5]}}))
    assert any("whole numbers" in p for p in problems)
    problems = _problems(
        _doc({"data.farm_seed": {"distribution": "triangular", "low": 1, "mode": 2, "high": 3}})
    )
    assert any("uniform or choice" in p for p in problems)


def test_round_trip_through_toml() -> None:
    doc = _doc(
        {
            "demand.belarus_share": {"distribution": "uniform", "low": 0.3, "high": 0.6},
            "travel.speed_kmh": {
                "distribution": "normal", "mean": 60, "sd": 8, "low": 45, "high": 75,
                "reason": 'winter "roads"',
            },
            "demand.parameters.tractor_operating_hours": {
                "distribution": "triangular", "low": 400, "mode": 600, "high": 800,
            },
            "data.farm_seed": {"distribution": "uniform", "low": 1, "high": 9},
        },
        design="lhs",
    )  # fmt: skip
    scenario = scenario_from_dict(doc)
    again = scenario_from_dict(tomllib.loads(scenario_to_toml(scenario)))
    assert again == scenario
    assert again.uncertainty.design == "lhs"
    assert again.uncertainty.parameters[3].integer


def test_paths_cover_sections_and_demand_parameters_but_not_solver() -> None:
    paths = uncertain_paths()
    assert "growth.renewal_rate_end" in paths
    assert "demand.parameters.tractor_operating_hours" in paths
    assert not any(p.startswith("solver.") for p in paths)
    assert "data.n_farms" not in paths


@pytest.mark.parametrize("name", builtin_scenarios())
def test_builtin_scenarios_document_every_range(name: str) -> None:
    spec = load_scenario(name).uncertainty
    assert spec.parameters, f"built-in scenario {name} has no [uncertainty] block"
    assert all(p.reason for p in spec.parameters)
    assert "data.farm_seed" in spec.paths
