"""p-median: open p sites so that the demand-weighted travel cost is smallest.

Solve pipeline (uncapacitated), every phase honouring the time limit and cancellation:

1. greedy + fast interchange on the sparse structure (:mod:`planner.models.pmedian._heuristics`);
2. Lagrangian relaxation of the assignment constraints (:mod:`planner.models.pmedian._lagrangian`)
   with reduced-cost site fixing and an exact reduction of the structure to what a
   solution cheaper than the incumbent can use; interchange restarts from relaxed sets;
3. an exact phase on the reduced problem, chosen by ``SolveOptions.backend``:
   ``"auto"`` runs a Lagrangian branch-and-bound when at most ``_BNB_MAX_FREE_OPEN``
   sites remain to be chosen, the radius (covering) formulation (Elloumi 2010; García,
   Labbé & Marín 2011) on HiGHS otherwise, and only more Lagrangian iterations when the
   reduced structure exceeds ``_EXACT_MAX_ENTRIES`` pairs (measurements in
   ``bench/README.md``); ``"highs"``, ``"scip"``, ``"cp-sat"`` force the radius MIP on
   that backend; ``"heuristic"`` stops after phase 2.

The capacitated (single-source) variant (:mod:`planner.models.pmedian._capacitated`) first
runs a Lagrangian relaxation of the assignment rows with exact 0-1 knapsacks per site
(:mod:`planner.models.pmedian._cap_lagrange`; integer weights): its bound, incumbents from a
regret greedy on the site sets it proposes, and fixing of the pairs and sites that no
solution cheaper than the incumbent can use. The classical assignment formulation then runs
on the chosen MathOpt backend (HiGHS by default) over the pairs left, started from the
incumbent; the Lagrangian alone proves optimality when its bound meets the incumbent.

Decision support: ``Solution.regret`` is the drop-one regret (objective increase when only
that site closes, p - 1 sites remain); ``Solution.swap_regret`` the increase when it is
swapped for the best other site (p sites remain); ``Solution.alternatives`` the N best
distinct open sets (exact by enumeration on small instances, else the best within single
swaps of the solution; the message says which).

Infeasibility convention (shared with the other models): ``from_cost_matrix`` and the
constructor raise :class:`~planner.errors.ValidationError` only for malformed input;
a well-formed problem with no feasible solution makes ``solve`` return a
``Status.INFEASIBLE`` solution whose ``message`` explains why, with numbers.

Unlisted pairs (``CostMatrix.beyond_cost`` finite, e.g. k-nearest lists): the relaxations
treat "unlisted" as an option costing ``beyond_cost[i]``, a lower bound on every unlisted
site, so every bound holds for the full problem. A row whose listed sites are all closed
is served by its nearest open site at its true cost when an ``exact_cost`` callback is
given; otherwise its cost is reported as the lower estimate ``beyond_cost[i]`` (the
message says how many rows that affects).

Modules: :mod:`._model` (the class and the pipeline), :mod:`._prepare` (the surrogate sparse
instance), :mod:`._heuristics` (greedy, fast interchange), :mod:`._lagrangian` (relaxation
and branch-and-bound), :mod:`._radius_mip` (formulation (1)-(6)), :mod:`._capacitated`
(formulation (C1)-(C5)).
"""

from __future__ import annotations

from planner.models.pmedian._model import PMedian

__all__ = ["PMedian"]
