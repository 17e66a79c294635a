"""Decision support shared by the models: N-best distinct solutions and per-site regret.

Everything here only needs a model's ``evaluate(open_sites) -> (objective, assignment,
assignment_cost)`` for a fixed open set (minimisation; ``inf`` = infeasible open set), so any
model that implements it can use these functions:

* :func:`drop_one_regret` -- objective increase when one open site is closed and its demand
  is reassigned to the remaining open sites (the network then has one site fewer).
* :func:`swap_regret` -- objective increase when one open site is closed and the *best*
  replacement site is opened instead (same number of sites). Negative values mean the
  solution is not swap-optimal. Models report it as ``Solution.swap_regret``.
* :func:`n_best` -- the N best distinct open sets. Exact (full enumeration) when the
  number of feasible open sets is small; otherwise a best-first search over single swaps
  starting from the best solution (each reported objective is exact; the list is the best
  found in that neighbourhood, which the caller should say in its message).

A model may pass ``swap_delta`` (objective change of every swap for a fixed open set, e.g.
from the fast-interchange tables) to avoid one ``evaluate`` per swap.

:func:`with_decision_support` (and :func:`add_decision_support` underneath) is the tail of a
model's ``solve``: it attaches the regrets and alternatives that ``SolveOptions`` asks for,
within the time limit, skipping repeated evaluation when it would take too long (covering
models: a work limit in nonzeros). :func:`budgeted_decision_support` (p-median) and
:func:`timed_decision_support` (CFLP) give it a time budget of its own instead.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

import numpy as np

from planner.models._base import (
    Alternative,
    Clock,
    FloatArray,
    IntArray,
    LocationProblem,
    SiteData,
    Solution,
    SolveOptions,
)

_REGRET_WORK_LIMIT = 20_000_000  # nonzeros touched by regret via repeated evaluate calls
_MIP_EVALUATE_FACTOR = 50  # an evaluate that solves an assignment MIP, in nonzero units
# p-median and CFLP: regret and N-best may take this share of the time limit, at least
# DECISION_MIN_S seconds, on top of the solve.
DECISION_TIME_SHARE = 0.1
DECISION_MIN_S = 2.0

SwapDelta = Callable[[tuple[int, ...]], tuple[IntArray, FloatArray]]
"""open set -> (out_sites, delta[k, j] = F(S - out_sites[k] + j) - F(S))."""


class Evaluator(Protocol):
    """Anything with an ``evaluate`` for a fixed open set."""

    def evaluate(self, open_sites: Sequence[int]) -> tuple[float, IntArray, FloatArray]:
        """Return objective, assignment and assignment cost for ``open_sites``."""
        ...


def drop_one_regret(
    model: Evaluator,
    open_sites: Sequence[int],
    objective: float,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> dict[int, float]:
    """Return, per open site, the objective increase when only that site is closed.

    Parameters
    ----------
    model
        The model (its ``evaluate`` is called once per open site).
    open_sites
        The open set.
    objective
        Objective of the open set.
    should_stop
        Polled before each evaluation; sites not reached are left out of the result.

    Returns
    -------
    regret
        Site index -> increase (``inf`` when closing it makes the network infeasible).
    """
    out: dict[int, float] = {}
    for s in open_sites:
        if should_stop is not None and should_stop():
            break
        rest = [t for t in open_sites if t != s]
        value = model.evaluate(rest)[0] if rest else math.inf
        out[int(s)] = float(value - objective)
    return out


def swap_regret(
    model: Evaluator,
    open_sites: Sequence[int],
    objective: float,
    *,
    candidates: Sequence[int],
    swap_delta: SwapDelta | None = None,
    max_evaluations: int = 20_000,
    should_stop: Callable[[], bool] | None = None,
) -> dict[int, float]:
    """Return, per open site, the objective increase when it is swapped for the best other site.

    Parameters
    ----------
    model
        The model.
    open_sites
        The open set.
    objective
        Objective of the open set.
    candidates
        Sites that may be opened instead (closed, not forbidden).
    swap_delta
        Fast swap evaluation; when absent, ``evaluate`` is called per swap.
    max_evaluations
        Cap on ``evaluate`` calls without ``swap_delta`` (candidates are then limited to
        the first ones given, so pass them nearest-first).
    should_stop
        Polled before each ``evaluate``; a site whose candidates were not all tried is
        left out of the result.

    Returns
    -------
    regret
        Site index -> increase (``inf`` if no replacement is feasible).
    """
    opened = tuple(int(s) for s in open_sites)
    if swap_delta is not None:
        out_sites, delta = swap_delta(opened)
        cand = np.asarray(sorted(set(candidates) - set(opened)), dtype=np.int64)
        result: dict[int, float] = {}
        for k, s in enumerate(out_sites.tolist()):
            vals = delta[k, cand] if len(cand) else np.array([math.inf])
            result[int(s)] = float(vals.min()) if len(vals) else math.inf
        return result
    closed = [int(j) for j in candidates if j not in set(opened)]
    per_site = max(1, max_evaluations // max(1, len(opened)))
    result = {}
    for s in opened:
        best = math.inf
        for j in closed[:per_site]:
            if should_stop is not None and should_stop():
                return result
            value = model.evaluate([t for t in opened if t != s] + [j])[0]
            best = min(best, value)
        result[s] = float(best - objective)
    return result


def _count_sets(n_free: int, k: int) -> int:
    return math.comb(n_free, k) if 0 <= k <= n_free else 0


def n_best(
    model: Evaluator,
    best_open: Sequence[int],
    best_objective: float,
    n: int,
    *,
    required: Sequence[int],
    candidates: Sequence[int],
    swap_delta: SwapDelta | None = None,
    enumerate_limit: int = 5_000,
    max_pops: int = 200,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[tuple[Alternative, ...], bool]:
    """Return up to ``n`` distinct open sets, best first, starting with the given best one.

    Parameters
    ----------
    model
        The model.
    best_open
        The best open set found by the solver.
    best_objective
        Its objective.
    n
        How many sets to return.
    required
        Sites open in every set.
    candidates
        Sites that may be open besides the required ones.
    swap_delta
        Fast swap evaluation for the neighbourhood search.
    enumerate_limit
        Enumerate every feasible set when there are at most this many.
    max_pops
        Cap on expanded sets in the neighbourhood search.
    should_stop
        Polled between evaluations; stop early when True.

    Returns
    -------
    alternatives, exact
        The sets found and whether they are provably the N best (full enumeration).
    """
    best = tuple(sorted(int(s) for s in best_open))
    req = tuple(sorted(int(s) for s in required))
    free = sorted({int(c) for c in candidates} - set(req))
    k = len(best) - len(req)
    if _count_sets(len(free), k) <= enumerate_limit:
        scored: list[tuple[float, tuple[int, ...]]] = []
        for combo in itertools.combinations(free, k):
            if should_stop is not None and should_stop():
                break
            sites = tuple(sorted(req + combo))
            value = float(model.evaluate(sites)[0])
            if math.isfinite(value):
                scored.append((value, sites))
        scored.sort()
        if scored and scored[0][0] > best_objective + 1e-9 * max(1.0, abs(best_objective)):
            scored.insert(0, (best_objective, best))
        alts = tuple(Alternative(open_sites=s, objective=v) for v, s in scored[:n])
        return alts, should_stop is None or not should_stop()
    alts = _swap_search(
        model,
        best=best,
        best_objective=best_objective,
        n=n,
        req=req,
        free=free,
        swap_delta=swap_delta,
        max_pops=max_pops,
        should_stop=should_stop,
    )
    return alts, False


def _swap_search(
    model: Evaluator,
    *,
    best: tuple[int, ...],
    best_objective: float,
    n: int,
    req: tuple[int, ...],
    free: list[int],
    swap_delta: SwapDelta | None,
    max_pops: int,
    should_stop: Callable[[], bool] | None,
) -> tuple[Alternative, ...]:
    """Best-first search over single swaps (see :func:`n_best`)."""
    heap: list[tuple[float, tuple[int, ...]]] = [(best_objective, best)]
    seen = {best}
    found: list[Alternative] = []
    req_set = set(req)
    pops = 0
    while heap and len(found) < n and pops < max_pops:
        if should_stop is not None and should_stop():
            break
        value, sites = heapq.heappop(heap)
        found.append(Alternative(open_sites=sites, objective=value))
        pops += 1
        closed = [j for j in free if j not in set(sites)]
        neighbours = _neighbours(model, sites, closed, req_set, seen, n, swap_delta, should_stop)
        for v, cand in neighbours:
            if cand not in seen and math.isfinite(v):
                seen.add(cand)
                heapq.heappush(heap, (v, cand))
    return tuple(found)


def _neighbours(  # noqa: PLR0917 -- private helper of _swap_search
    model: Evaluator,
    sites: tuple[int, ...],
    closed: list[int],
    req_set: set[int],
    seen: set[tuple[int, ...]],
    n: int,
    swap_delta: SwapDelta | None,
    should_stop: Callable[[], bool] | None,
) -> list[tuple[float, tuple[int, ...]]]:
    """Evaluate the most promising single swaps of ``sites`` (budget checked per call)."""
    neighbours: list[tuple[float, tuple[int, ...]]] = []
    if swap_delta is not None:
        out_sites, delta = swap_delta(sites)
        flat = delta[:, closed] if closed else np.zeros((len(out_sites), 0))
        order = np.argsort(flat, axis=None, kind="stable")[: 4 * n]
        for f in order.tolist():
            kk, jj = divmod(f, flat.shape[1])
            s_out = int(out_sites[kk])
            if s_out in req_set or not np.isfinite(flat[kk, jj]):
                continue
            cand = tuple(sorted((set(sites) - {s_out}) | {closed[jj]}))
            if cand not in seen:
                if should_stop is not None and should_stop():
                    break
                neighbours.append((float(model.evaluate(cand)[0]), cand))
    else:
        for s_out in sites:
            if s_out in req_set:
                continue
            for j in closed:
                cand = tuple(sorted((set(sites) - {s_out}) | {j}))
                if cand not in seen:
                    # Checked per evaluation: one pop may mean thousands of them.
                    if should_stop is not None and should_stop():
                        break
                    neighbours.append((float(model.evaluate(cand)[0]), cand))
        neighbours.sort()
        neighbours = neighbours[: 4 * n]
    return neighbours


def add_decision_support(
    solution: Solution,
    model: Evaluator,
    clock: Clock,
    *,
    sites: SiteData,
    maximise: bool,
    swap_delta: SwapDelta | None = None,
    drop_regret: dict[int, float] | None = None,
    evaluate_cost: int = 1,
) -> Solution:
    """Attach drop-one / swap regret and the N best open sets (via :mod:`._decision`).

    Parameters
    ----------
    solution
        The solution (returned unchanged when it carries none).
    model
        Anything with ``evaluate`` in *minimisation* terms (MCLP passes :class:`_Negated`).
    sites
        Site data (required / forbidden).
    clock
        Options (``compute_regret``, ``n_best``) and the deadline.
    maximise
        Convert alternatives back to the maximised objective.
    swap_delta
        Fast swap evaluation (uncapacitated MCLP).
    drop_regret
        Precomputed drop-one regret (vectorised), used instead of ``evaluate`` calls.
    evaluate_cost
        Rough work of one ``evaluate`` (nonzeros); regret by repeated evaluation is skipped
        when it would take too long (``stats["regret"]`` says so).

    Returns
    -------
    solution
        With ``regret``, ``swap_regret`` and ``alternatives`` filled in as requested.
    """
    opts = clock.options
    if not solution.has_solution or not (opts.compute_regret or opts.n_best > 1):
        return solution
    if clock.should_stop:  # the time limit covers decision support too
        stats0 = dict(solution.stats)
        stats0["regret"] = "skipped: time limit reached before decision support"
        return replace(solution, stats=stats0)
    opened = tuple(int(j) for j in solution.open_sites)
    sign = -1.0 if maximise else 1.0
    objective = sign * solution.objective
    candidates = np.flatnonzero(~sites.forbidden).tolist()
    stats = dict(solution.stats)
    cheap = evaluate_cost * max(1, len(opened)) <= _REGRET_WORK_LIMIT
    regret: dict[int, float] = {}
    swap: dict[int, float] = {}
    if opts.compute_regret:
        if drop_regret is not None:
            regret = drop_regret
        elif cheap:
            regret = drop_one_regret(model, opened, objective)
        if swap_delta is not None or cheap:
            swap = swap_regret(
                model,
                opened,
                objective,
                candidates=candidates,
                swap_delta=swap_delta,
                max_evaluations=max(1, _REGRET_WORK_LIMIT // max(1, evaluate_cost)),
            )
        if not regret or not swap:
            stats["regret"] = "skipped: too large for repeated evaluation"
    alternatives = solution.alternatives
    if opts.n_best > 1:
        alts, exact = n_best(
            model,
            opened,
            objective,
            opts.n_best,
            required=np.flatnonzero(sites.required).tolist(),
            candidates=candidates,
            swap_delta=swap_delta,
            should_stop=lambda: clock.should_stop,
        )
        alternatives = tuple(
            Alternative(open_sites=a.open_sites, objective=sign * a.objective) for a in alts
        )
        stats["alternatives"] = "exact N best" if exact else "best found within single swaps"
    return replace(
        solution, regret=regret, swap_regret=swap, alternatives=alternatives, stats=stats
    )


def with_decision_support(
    solution: Solution,
    model: Evaluator,
    problem: LocationProblem,
    clock: Clock,
    *,
    maximise: bool = False,
    drop_regret: Callable[[Sequence[int]], dict[int, float]] | None = None,
    swap_delta: SwapDelta | None = None,
) -> Solution:
    """Attach decision support at the end of ``solve`` (the tail shared by all three models).

    The vectorised shortcuts ``drop_regret`` and ``swap_delta`` hold only without capacities
    and are ignored for a capacitated problem, where one ``evaluate`` solves an assignment
    MIP and counts as :data:`_MIP_EVALUATE_FACTOR` times the nonzeros.

    Parameters
    ----------
    solution
        The solution from the model's own solve.
    model
        Anything with ``evaluate`` in minimisation terms (see :func:`add_decision_support`).
    problem
        The problem (sites, capacities, size of the cost structure).
    clock
        Options (``compute_regret``, ``n_best``) and the deadline.
    maximise
        Whether the model maximises.
    drop_regret
        Vectorised drop-one regret of an open set (uncapacitated only).
    swap_delta
        Fast swap evaluation (uncapacitated only).

    Returns
    -------
    solution
        With ``regret``, ``swap_regret`` and ``alternatives`` filled in as requested.
    """
    capacitated = problem.capacitated
    drop = (
        drop_regret(solution.open_sites)
        if drop_regret is not None
        and solution.has_solution
        and clock.options.compute_regret
        and not capacitated
        and not clock.should_stop
        else None
    )
    return add_decision_support(
        solution,
        model,
        clock,
        sites=problem.sites,
        maximise=maximise,
        swap_delta=None if capacitated else swap_delta,
        drop_regret=drop,
        evaluate_cost=problem.costs.nnz * (_MIP_EVALUATE_FACTOR if capacitated else 1),
    )


def budgeted_decision_support(
    model: Evaluator,
    open_sites: tuple[int, ...],
    objective: float,
    opts: SolveOptions,
    *,
    candidates: list[int],
    required: list[int],
    swap_delta: SwapDelta | None,
    notes: list[str],
) -> tuple[dict[int, float], dict[int, float], tuple[Alternative, ...]]:
    """Regret and N best within a budget of their own (the p-median's tail of ``solve``).

    Decision support gets its own budget on top of the solve (each evaluation of a
    capacitated open set is a MIP): ``DECISION_TIME_SHARE`` of the time limit, at least
    ``DECISION_MIN_S`` seconds; what does not fit is left out and said so in ``notes``.

    Parameters
    ----------
    model
        Anything with ``evaluate`` (minimisation).
    open_sites
        The solution's open set.
    objective
        Its objective.
    opts
        Solve options (``compute_regret``, ``n_best``, ``time_limit_s``, ``cancel``).
    candidates
        Sites that may open.
    required
        Sites that must stay open.
    swap_delta
        Fast swap evaluation, or ``None``.
    notes
        Message parts; notes on what was computed are appended.

    Returns
    -------
    regret, swap_regret, alternatives
        As for :class:`~planner.models._base.Solution` (empty when not asked for).
    """
    regret: dict[int, float] = {}
    swap: dict[int, float] = {}
    alts: tuple[Alternative, ...] = ()
    deadline = time.perf_counter() + max(DECISION_MIN_S, DECISION_TIME_SHARE * opts.time_limit_s)

    def out_of_time() -> bool:
        return time.perf_counter() > deadline or (opts.cancel is not None and opts.cancel.cancelled)

    if opts.compute_regret:
        regret = drop_one_regret(model, open_sites, objective, should_stop=out_of_time)
        swap = swap_regret(
            model,
            open_sites,
            objective,
            candidates=candidates,
            swap_delta=swap_delta,
            should_stop=out_of_time,
        )
        if len(regret) < len(open_sites) or len(swap) < len(open_sites):
            notes.append(
                f"Regret computed for {min(len(regret), len(swap))} of {len(open_sites)} "
                "open sites within the decision-support time budget."
            )
    if opts.n_best > 1:
        alts, exact = n_best(
            model,
            open_sites,
            objective,
            opts.n_best,
            required=required,
            candidates=candidates,
            swap_delta=swap_delta,
            should_stop=out_of_time,
        )
        notes.append(
            "Alternatives are the exact N best."
            if exact
            else "Alternatives are the best found within single swaps of the solution."
        )
    return regret, swap, alts


def timed_decision_support(
    model: Evaluator,
    sol: Solution,
    opts: SolveOptions,
    notes: list[str],
    *,
    candidates: list[int],
    required: list[int],
) -> Solution:
    """Add drop-one / swap regret and N-best alternatives within a time budget.

    The CFLP's tail of ``solve``: one ``evaluate`` of the solution is timed to size the
    work, which may take ``DECISION_TIME_SHARE`` of the time limit (at least
    ``DECISION_MIN_S`` seconds).

    Parameters
    ----------
    model
        The CFLP (its ``evaluate``).
    sol
        The solution of the solve.
    opts
        Solve options (``compute_regret``, ``n_best``, ``time_limit_s``).
    notes
        Message parts; notes on what was computed are appended.
    candidates
        Sites that may open.
    required
        Sites that must stay open.

    Returns
    -------
    solution
        With ``regret``, ``swap_regret`` and ``alternatives`` and the joined message.
    """
    if not (opts.compute_regret or opts.n_best > 1):
        return sol
    budget_s = max(DECISION_MIN_S, DECISION_TIME_SHARE * opts.time_limit_s)
    t0 = time.perf_counter()
    model.evaluate(sol.open_sites)
    t_eval = max(time.perf_counter() - t0, 1e-4)
    max_evals = int(budget_s / t_eval)
    opened = sol.open_sites
    regret: dict[int, float] = {}
    swap: dict[int, float] = {}
    alts: tuple[Alternative, ...] = ()
    if opts.compute_regret:
        if max_evals >= 2 * len(opened):
            # Evaluations of other open sets can cost far more than this one's: the
            # budget is checked per evaluation, and unfinished sites are left out.
            regret_deadline = time.perf_counter() + budget_s

            def regret_stop() -> bool:
                return time.perf_counter() > regret_deadline

            regret = drop_one_regret(model, opened, sol.objective, should_stop=regret_stop)
            swap = swap_regret(
                model,
                opened,
                sol.objective,
                candidates=candidates,
                max_evaluations=max(len(opened), max_evals - len(opened)),
                should_stop=regret_stop,
            )
            if len(regret) < len(opened) or len(swap) < len(opened):
                notes.append(
                    f"Regret computed for {min(len(regret), len(swap))} of {len(opened)} "
                    f"open sites within the {budget_s:.0f} s budget."
                )
        else:
            notes.append(
                f"Regret skipped: {len(opened)} open sites x {t_eval:.2f} s per evaluation "
                f"exceed the {budget_s:.0f} s budget."
            )
    if opts.n_best > 1:
        deadline = time.perf_counter() + budget_s
        alts, exact = n_best(
            model,
            opened,
            sol.objective,
            opts.n_best,
            required=required,
            candidates=candidates,
            enumerate_limit=max(1, min(5_000, max_evals)),
            max_pops=max(1, min(200, max_evals // max(1, len(candidates)))),
            should_stop=lambda: time.perf_counter() > deadline,
        )
        notes.append(
            "Alternatives are the exact N best with the same number of sites."
            if exact
            else "Alternatives are the best found within single swaps of the solution."
        )
    return Solution(
        model=sol.model,
        status=sol.status,
        objective=sol.objective,
        bound=sol.bound,
        gap=sol.gap,
        open_sites=sol.open_sites,
        assignment=sol.assignment,
        assignment_cost=sol.assignment_cost,
        runtime_s=sol.runtime_s + (time.perf_counter() - t0),
        backend=sol.backend,
        message=" ".join(notes),
        flows=sol.flows,
        alternatives=alts,
        regret=regret,
        stats=sol.stats,
        swap_regret=swap,
    )
