"""Capacitated fixed-charge facility location (CFLP), single-source and split demand.

Choose which sites to open and how to serve every farm so that opening costs plus
demand-weighted travel costs are minimal, within site capacities. With every capacity
``inf`` this is the uncapacitated facility location problem.

Solve pipeline (``backend="auto"``):

1. :func:`~planner.models.cflp._data.diagnose` -- contradictions found before solving
   (total capacity < demand, a farm larger than every site it can reach in the
   single-source variant, farms whose sites are all forbidden, ...) give an INFEASIBLE
   solution whose message names them with numbers.
2. Lagrangian relaxation of (1) with subgradient optimisation
   (:mod:`~planner.models.cflp._lagrange`): a lower bound at least as strong as the LP
   bound with (7)-(8), candidate site sets for the primal heuristic, and reduced-cost
   fixing of sites.
3. Primal heuristic: each candidate site set is repaired (reachability, capacity) and
   assigned (split: transportation LP; single-source: regret assignment + shift moves),
   then greedy drop/add/swap local search (:mod:`~planner.models.cflp._search`).
4. Exact phase over the sites not fixed closed. Under ``"auto"``: the Lagrangian
   branch-and-bound of :mod:`~planner.models.cflp._bnb` (Goertz & Klose 2012) when at
   most ``BNB_MAX_FREE_SITES`` free sites remain in a model of at least
   ``BNB_MIN_ENTRIES`` pairs (the kernel search of restricted MIPs is then skipped), else
   the MIP (0)-(9) warm-started with the incumbent on HiGHS;
   ``backend="highs"|"scip"|"cp-sat"`` forces that MIP. Single source with integer
   demands (exact 0-1 knapsacks in the relaxation): the best site sets get an exact
   assignment MIP, every demand-site pair whose knapsack bound reaches the incumbent is
   left out of the MIP (:mod:`~planner.models.cflp._single`), and the kernel search and the
   branch-and-bound are not used. Skipped for
   ``backend="heuristic"`` and, under ``"auto"``, when the model has more than
   ``MIP_MAX_ENTRIES`` pairs.

The result is always a :class:`~planner.models._base.Solution`; a time limit or a
cancellation returns the incumbent with its proven gap.

Modules: :mod:`._model` (the class, formulation (0)-(9), the pipeline), :mod:`._data`
(instance arrays, diagnosis), :mod:`._lagrange` (Lagrangian relaxation), :mod:`._assign`
(assignment for a fixed open set), :mod:`._search` (local search), :mod:`._kernel` (kernel
search), :mod:`._bnb` (branch-and-bound), :mod:`._single` (single-source pair fixing and
exact assignment), :mod:`._exact_mip` (the MIP (0)-(9)),
:mod:`._result` (per-row arrays and the Solution).
"""

from __future__ import annotations

from planner.models.cflp._model import CFLP

__all__ = ["CFLP"]
