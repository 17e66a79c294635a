"""Two-echelon network: assembly plants and service centres decided jointly, over several years.

One mixed-integer model chooses, for every planning period,

* which **assembly plants** run (few; capacity in machines per year; a fixed yearly cost;
  kits arrive from Belarus by rail through the cheapest entry point; finished machines go to
  the service centres, which act as dealers);
* which **service centres** run (many; capacity in service hours per week, imposed in every
  week of the seasonal calendars; a fixed yearly cost), whether each one is
  **combine-capable** (extra yearly cost; combine demand only goes to such centres) and how
  many **mobile service vans** it runs (cost per van; van crews add their own weekly hours;
  demand zones beyond the centre's direct radius but within the van radius can only be served
  by a centre that runs vans);
* how every **demand zone** (farms aggregated by settlement x machine type) is served, and how
  many machines flow plant -> centre.

Sites opened in a period stay open (and combine-capable) in later periods.

The model works on arrays (:class:`TwoEchelonInstance`); :mod:`planner.agri` builds them
from a scenario. :meth:`TwoEchelonModel.solve` proves its bound with the LP relaxation
strengthened by the valid inequalities (13)-(15), added round by round as the LP violates
them; then a heuristic warm start (rounding, fixed-integer LP, plant sub-MIP, add/drop local
search) and the restricted and full MIP on HiGHS (``passModel``), honouring
:class:`~planner.models._base.SolveOptions`. :func:`check_two_echelon` verifies any solution
against every constraint independently of the MIP code (it checks all 52 weeks, not only the
dominant ones).

Modules: :mod:`._instance` (instance and solution arrays, the objective of a solution),
:mod:`._formulation` (formulation (0)-(12) as a sparse MIP, valid inequalities (13)-(15)),
:mod:`._primal` (rounding, restricted MIPs and local-search moves for the warm start),
:mod:`._model` (the solve), :mod:`._check` (the independent checker).
"""

from __future__ import annotations

from planner.models.two_echelon._check import check_two_echelon
from planner.models.two_echelon._instance import (
    COST_COMPONENTS,
    MACHINE_NAMES,
    CapacityWeeks,
    ObjectiveMode,
    TwoEchelonInstance,
    TwoEchelonSolution,
)
from planner.models.two_echelon._model import TwoEchelonModel

__all__ = [
    "COST_COMPONENTS",
    "MACHINE_NAMES",
    "CapacityWeeks",
    "ObjectiveMode",
    "TwoEchelonInstance",
    "TwoEchelonModel",
    "TwoEchelonSolution",
    "check_two_echelon",
]
