"""Tests of the OR-Library warehouse-location reader and runner (``planner.bench.orlib_cap``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from planner.bench.orlib_cap import (
    cap_model,
    instance_arguments,
    load_cap_instance,
    run_cap_instance,
)
from planner.errors import ValidationError
from planner.models import SolveOptions, Status, check_solution

ORLIB = Path(__file__).resolve().parents[3].parent / "shared" / "benchmarks" / "orlib"

# 2 warehouses, 3 customers, written like the originals (wrapped lines, "7500." style).
TINY = """ 2 3
 capacity 10.
 capacity 20.
 4
 8.00000 12.0000
 6
 30. .00000
 2
 4.5 2.
"""


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "capx.txt"
    path.write_text(TINY, encoding="ascii")
    return path


def test_loader_replaces_placeholder(tiny_file: Path) -> None:
    inst = load_cap_instance(tiny_file, capacity=7.0)
    assert inst.name == "capx"
    assert inst.capacities.tolist() == [7.0, 7.0]
    assert inst.fixed_costs.tolist() == [10.0, 20.0]
    assert inst.demands.tolist() == [4.0, 6.0, 2.0]
    assert inst.costs.tolist() == [[8.0, 12.0], [30.0, 0.0], [4.5, 2.0]]


def test_loader_uncapacitated_and_errors(tiny_file: Path, tmp_path: Path) -> None:
    assert np.isinf(load_cap_instance(tiny_file, capacity=None).capacities).all()
    with pytest.raises(ValidationError, match="placeholder"):
        load_cap_instance(tiny_file, capacity=math.nan)
    bad = tmp_path / "bad.txt"
    bad.write_text(" 2 3\n 1 2\n", encoding="ascii")
    with pytest.raises(ValidationError, match="expected"):
        load_cap_instance(bad, capacity=None)


@pytest.mark.solver
def test_model_reproduces_orlib_objective(tiny_file: Path) -> None:
    # Capacity 7 with demands 4 + 6 + 2 = 12: both warehouses must open (cost 30 fixed).
    model = cap_model(load_cap_instance(tiny_file, capacity=7.0))
    sol = model.solve(SolveOptions(gap_tolerance=0.0))
    assert check_solution(model.problem, sol).ok
    # Split optimum: customer 2 (cost 30 vs 0) all from w2 (6 of 7 units), customer 3 from
    # w2 for 1 unit (cost 2 * 1/2) and from w1 for 1 unit (4.5 * 1/2), customer 1 from w1.
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(30.0 + 8.0 + 0.0 + 2.25 + 1.0)


@pytest.mark.parametrize(
    ("name", "family", "expected"),
    [
        ("capa_8000", "cap", ("capa", 8000.0)),
        ("capb", "uncap", ("capb", None)),
        ("cap71", "uncap", ("cap71", None)),
    ],
)
def test_instance_arguments(name: str, family: str, expected: tuple[str, float | None]) -> None:
    assert instance_arguments(name, family) == expected


def test_instance_arguments_small_cap_uses_file_capacity() -> None:
    stem, cap = instance_arguments("cap41", "cap")
    assert stem == "cap41"
    assert cap is not None
    assert math.isnan(cap)


def _orlib(stem: str) -> Path:
    path = ORLIB / "cap" / f"{stem}.txt"
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


def test_loader_reads_published_files() -> None:
    inst = load_cap_instance(_orlib("cap41"), capacity=math.nan)
    assert (inst.n_warehouses, inst.n_customers) == (16, 50)
    assert inst.demands.sum() == pytest.approx(58268)
    assert (inst.capacities == 5000).all()
    assert inst.fixed_costs[10] == 0.0
    # None keeps binding file capacities (cap41) and drops ones that cannot bind (cap71).
    assert (load_cap_instance(_orlib("cap41"), capacity=None).capacities == 5000).all()
    assert np.isinf(load_cap_instance(_orlib("cap71"), capacity=None).capacities).all()
    assert (load_cap_instance(_orlib("cap71"), capacity=math.nan).capacities == 58268).all()
    big = load_cap_instance(_orlib("capa"), capacity=8000)
    assert (big.n_warehouses, big.n_customers) == (100, 1000)
    assert big.demands.sum() == pytest.approx(50886)


@pytest.mark.solver
def test_run_cap_instance_keys_and_optimum() -> None:
    out = run_cap_instance(_orlib("cap71"), capacity=None, time_limit_s=60, seed=0)
    for key in ("objective", "bound", "gap", "proven_optimal", "runtime_s"):
        assert key in out
    assert out["proven_optimal"]
    assert out["objective"] == pytest.approx(932615.750, abs=1e-3)
