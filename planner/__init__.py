"""Plan assembly plants and service centres for Belarusian farm machinery in Kazakhstan.

The public API is organised in topic modules (osmnx style)::

    import planner
    oblasts = planner.geodata.load_oblasts()
    farms = planner.farms.generate_farms(n_farms=20_000, seed=42)
    scenario = planner.scenarios.load_scenario("default")
    result = planner.scenarios.run_scenario(scenario)
"""

from __future__ import annotations

__version__ = "0.1.0"
