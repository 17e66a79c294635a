"""The public face: ``import planner`` is cheap, and the documented examples run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import planner
from planner import export, models, run, scenarios

ROOT = Path(__file__).resolve().parents[1]


def _run_example(code: str, cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]


def _docstring_example() -> str:
    doc = planner.__doc__ or ""
    block = doc.split("::", 1)[1].split("\n\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    return "\n".join(lines)


def _readme_examples() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "planner" in b]


def test_import_planner_is_cheap() -> None:
    code = (
        "import sys, planner; mods = sorted(m for m in sys.modules if m.startswith('planner'));"
        "assert mods == ['planner'], mods; assert 'numpy' not in sys.modules;"
        "assert {'load_scenario', 'run_scenario', 'write_outputs', 'check_solution', 'models'}"
        " <= set(dir(planner))"
    )
    _run_example(code, ROOT)


def test_unknown_public_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'geodata_'"):
        _ = planner.geodata_


def test_public_names_are_the_library_functions() -> None:
    assert planner.load_scenario is scenarios.load_scenario
    assert planner.run_scenario is run.run_scenario
    assert planner.write_outputs is export.write_outputs
    assert planner.check_solution is models.check_solution
    assert planner.models is models


def test_examples_are_found() -> None:
    assert "planner.run_scenario" in _docstring_example()
    blocks = _readme_examples()
    assert any("two_echelon" in b for b in blocks)
    assert any("planner.check_solution" in b for b in blocks)


@pytest.mark.slow
@pytest.mark.solver
def test_package_docstring_example_runs(tmp_path: Path) -> None:
    code = _docstring_example()
    _run_example(code, tmp_path)
    assert (tmp_path / "out" / "summary.json").is_file()
    assert (tmp_path / "out" / "brief.html").is_file()


@pytest.mark.slow
@pytest.mark.solver
@pytest.mark.parametrize("index", range(len(_readme_examples())))
def test_readme_example_runs(index: int, tmp_path: Path) -> None:
    _run_example(_readme_examples()[index], tmp_path)
