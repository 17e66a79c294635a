"""Plan assembly plants and service centres for Belarusian farm machinery in Kazakhstan.

A small public face (osmnx style); everything else lives in topic modules
(``docs/architecture.md`` maps them)::

    import planner

    scenario = planner.load_scenario("default")  # a built-in name or a TOML file
    result = planner.run_scenario(scenario, time_limit_s=20)  # every model kind
    paths = planner.write_outputs(result, "out/")  # CSV, GeoJSON, GPKG, XLSX, HTML brief

    model = planner.models.PMedian.from_cost_matrix([[1.0, 4.0], [3.0, 1.0]], [1, 1], p=1)
    assert planner.check_solution(model.problem, model.solve()).ok

The names are imported on first use, so ``import planner`` stays cheap (no numpy, no solver).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner import models
    from planner.export import write_outputs
    from planner.models import check_solution
    from planner.run import run_scenario
    from planner.scenarios import load_scenario

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "check_solution",
    "load_scenario",
    "models",
    "run_scenario",
    "write_outputs",
]

_PUBLIC: dict[str, tuple[str, str | None]] = {
    "load_scenario": ("planner.scenarios", "load_scenario"),
    "run_scenario": ("planner.run", "run_scenario"),
    "write_outputs": ("planner.export", "write_outputs"),
    "check_solution": ("planner.models", "check_solution"),
    "models": ("planner.models", None),
}


def __getattr__(name: str) -> Any:  # noqa: ANN401 - the public names have their own types
    """Import a public name on first use (keeps ``import planner`` cheap)."""
    if name not in _PUBLIC:
        msg = f"module 'planner' has no attribute {name!r}"
        raise AttributeError(msg)
    module_name, attr = _PUBLIC[name]
    # The one deliberate lazy import of the package: the public names pull in numpy,
    # geopandas and the solvers, which `import planner` (and the CLI's --help) must not.
    module = importlib.import_module(module_name)
    return module if attr is None else getattr(module, attr)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
