"""Independent solution checker.

``check_solution`` recomputes the objective of a :class:`~planner.models._base.Solution`
from the raw problem data and verifies every constraint. It shares no code with the
solvers on purpose: a bug in a solver cannot hide itself here.

Objectives, by ``problem.kind`` (w = demand weight, c = travel cost, f = fixed cost,
a(i) = site serving row i, O = open sites):

* ``p_median``  : min  sum_i w_i c_{i,a(i)} + sum_{j in O} f_j
* ``cflp``      : min  sum_{j in O} f_j + sum_{i,j} w_i c_ij x_ij   (x = fractions if split)
* ``mclp``      : max  sum of w_i over rows with an open site within ``service_radius``
  (capacitated: rows *assigned* within the radius, the assignment respecting capacity)
* ``set_cover`` : min  sum_{j in O} f_j if any f_j > 0, else |O|
* ``p_center``  : min  max_i c_{i,a(i)}   (or max_i w_i c_{i,a(i)} when ``weighted``)

Rows with no allowed pair at all (empty row and ``beyond_cost`` = inf) are "unreachable":
they must be left unassigned (-1) and are excluded from the objective (reported separately).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.models._base import FloatArray, LocationProblem, Solution

_REL_TOL = 1e-6


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_solution` found.

    Parameters
    ----------
    ok
        True when there are no violations and the objective matches.
    objective
        Objective recomputed from scratch.
    violations
        One plain-language line per violated constraint.
    """

    ok: bool
    objective: float
    violations: tuple[str, ...]


def _close(a: float, b: float, tol: float) -> bool:
    return bool(abs(a - b) <= tol * max(1.0, abs(a), abs(b)))


def _pair_cost(problem: LocationProblem, rows: FloatArray, sites: FloatArray) -> FloatArray:
    """Cost of each (row, site) pair from the matrix; nan for unlisted pairs."""
    costs = problem.costs
    out = np.full(len(rows), np.nan)
    for k, (i, j) in enumerate(zip(rows.astype(np.int64), sites.astype(np.int64), strict=True)):
        idx, cst = costs.row(int(i))
        hit = np.flatnonzero(idx == j)
        if len(hit):
            out[k] = cst[hit[0]]
    return out


def check_solution(  # noqa: C901, PLR0912, PLR0915
    problem: LocationProblem,
    solution: Solution,
    *,
    tol: float = _REL_TOL,
) -> CheckReport:
    """Recompute the objective and verify every constraint of a solution.

    Parameters
    ----------
    problem
        The problem that was solved.
    solution
        The solution to check (must carry a feasible solution).

    Returns
    -------
    report
        The recomputed objective and every violation found.
    """
    v: list[str] = []
    if not solution.has_solution:
        return CheckReport(ok=False, objective=float("nan"), violations=("no solution attached",))
    costs, sites, w = problem.costs, problem.sites, problem.weights
    n, m = problem.n_demand, problem.n_sites
    open_mask = np.zeros(m, dtype=np.bool_)
    open_idx = np.asarray(solution.open_sites, dtype=np.int64)
    if len(open_idx) and (open_idx.min() < 0 or open_idx.max() >= m):
        return CheckReport(ok=False, objective=float("nan"), violations=("open site out of range",))
    open_mask[open_idx] = True
    if len(set(solution.open_sites)) != len(solution.open_sites):
        v.append("open_sites lists a site twice")

    # Site status constraints.
    missing_req = np.flatnonzero(sites.required & ~open_mask)
    if len(missing_req):
        v.append(f"{len(missing_req)} required site(s) closed, e.g. {sites.ids[missing_req[0]]}")
    bad_forb = np.flatnonzero(sites.forbidden & open_mask)
    if len(bad_forb):
        v.append(f"{len(bad_forb)} forbidden site(s) open, e.g. {sites.ids[bad_forb[0]]}")
    n_open = int(open_mask.sum())
    n_new = int((open_mask & ~sites.required).sum())
    if (
        problem.p is not None
        and problem.kind in ("p_median", "mclp", "p_center")
        and (n_open != problem.p)
    ):
        v.append(f"{n_open} sites open, p = {problem.p}")
    if n_new < problem.min_new_sites:
        v.append(f"{n_new} new sites < min_new_sites = {problem.min_new_sites}")
    if problem.max_new_sites is not None and n_new > problem.max_new_sites:
        v.append(f"{n_new} new sites > max_new_sites = {problem.max_new_sites}")

    # Assignment.
    a = np.asarray(solution.assignment, dtype=np.int64)
    if a.shape != (n,):
        return CheckReport(
            ok=False, objective=float("nan"), violations=(*v, "assignment has wrong length")
        )
    row_len = np.diff(costs.indptr)
    unreachable = (row_len == 0) & ~np.isfinite(costs.beyond_cost)
    assigned = a >= 0
    if (a[assigned] >= m).any():
        v.append("assignment refers to a site index out of range")
        return CheckReport(ok=False, objective=float("nan"), violations=tuple(v))
    if (assigned & ~open_mask[np.clip(a, 0, m - 1)]).any():
        k = int(np.flatnonzero(assigned & ~open_mask[np.clip(a, 0, m - 1)])[0])
        v.append(f"row {k} is assigned to closed site {sites.ids[a[k]]}")
    if (assigned & unreachable).any():
        v.append("a row with no allowed site is assigned")

    rows = np.flatnonzero(assigned)
    listed = _pair_cost(problem, rows.astype(np.float64), a[rows].astype(np.float64))
    ac = np.asarray(solution.assignment_cost, dtype=np.float64)
    true_cost = np.full(n, np.nan)
    for k, i in enumerate(rows):
        if np.isfinite(listed[k]):
            true_cost[i] = listed[k]
        elif np.isfinite(costs.beyond_cost[i]) and ac[i] >= costs.beyond_cost[i] * (1 - tol):
            true_cost[i] = ac[i]  # unlisted but allowed; cost must respect the beyond bound
        else:
            v.append(f"row {i} is assigned to site {sites.ids[a[i]]}, a pair that is not allowed")
    if not np.allclose(true_cost[rows], ac[rows], rtol=tol, atol=1e-9, equal_nan=True):
        v.append("assignment_cost does not match the cost matrix")

    split = problem.kind == "cflp" and not problem.single_source
    load = np.zeros(m)
    transport = 0.0
    if split:
        if solution.flows is None:
            v.append("split model without flows")
        else:
            fr_rows = np.asarray(solution.flows[0], dtype=np.int64)
            fr_sites = np.asarray(solution.flows[1], dtype=np.int64)
            frac = np.asarray(solution.flows[2], dtype=np.float64)
            if (frac < -tol).any():
                v.append("negative flow fraction")
            if (~open_mask[fr_sites]).any():
                v.append("flow from a closed site")
            per_row = np.bincount(fr_rows, weights=frac, minlength=n)
            need = ~unreachable
            if not np.allclose(per_row[need], 1.0, atol=1e-6):
                worst = int(np.argmax(np.abs(per_row - 1.0) * need))
                v.append(f"row {worst} receives {per_row[worst]:.6f} of its demand, not 1")
            fc = _pair_cost(problem, fr_rows.astype(np.float64), fr_sites.astype(np.float64))
            if np.isnan(fc).any():
                v.append("a flow uses a pair that is not allowed")
            fc = np.nan_to_num(fc)
            np.add.at(load, fr_sites, w[fr_rows] * frac)
            transport = float(np.sum(w[fr_rows] * frac * fc))
    else:
        np.add.at(load, a[rows], w[rows])
        transport = float(np.sum(w[rows] * np.nan_to_num(true_cost[rows])))

    capacitated = problem.kind == "cflp" or problem.capacitated
    if capacitated:
        over = np.flatnonzero(load > sites.capacity * (1 + tol) + 1e-9)
        if len(over):
            j = int(over[0])
            v.append(
                f"{len(over)} site(s) over capacity, e.g. {sites.ids[j]}: "
                f"load {load[j]:,.2f} > capacity {sites.capacity[j]:,.2f}"
            )

    fixed = float(sites.fixed_cost[open_mask].sum())
    kind = problem.kind
    if kind in ("p_median", "cflp"):
        must = ~unreachable
        if not split and (must & ~assigned).any():
            v.append(f"{int((must & ~assigned).sum())} reachable row(s) left unassigned")
        objective = transport + fixed
    elif kind in ("mclp", "set_cover"):
        radius = float(problem.service_radius or 0.0)
        covered = np.zeros(n, dtype=np.bool_)
        within = costs.cost <= radius * (1 + 1e-12)
        hit = within & open_mask[costs.site_index]
        covered[costs.row_of_entry[hit]] = True
        if problem.capacitated:
            # Capacitated coverage (Current & Storbeck): a row counts as covered only when it
            # is assigned, within capacity (checked above), to an open site within the radius.
            within_assigned = assigned & (
                np.nan_to_num(true_cost, nan=np.inf) <= radius * (1 + 1e-12)
            )
            covered = within_assigned
        if kind == "mclp":
            objective = float(w[covered].sum())
        else:
            coverable = np.zeros(n, dtype=np.bool_)
            allowed = within & ~sites.forbidden[costs.site_index]
            coverable[costs.row_of_entry[allowed]] = True
            if (coverable & ~covered).any():
                v.append(f"{int((coverable & ~covered).sum())} coverable row(s) are not covered")
            objective = fixed if (sites.fixed_cost > 0).any() else float(n_open)
    else:  # p_center
        must = ~unreachable
        if (must & ~assigned).any():
            v.append(f"{int((must & ~assigned).sum())} reachable row(s) left unassigned")
        vals = np.nan_to_num(true_cost[rows]) * (w[rows] if problem.weighted else 1.0)
        objective = float(vals.max()) if len(vals) else 0.0

    if not _close(objective, solution.objective, max(tol, 1e-9)):
        v.append(f"reported objective {solution.objective:.6f} != recomputed {objective:.6f}")
    if np.isfinite(solution.bound):
        maximise = kind == "mclp"
        slack = tol * max(1.0, abs(objective))
        if (not maximise and solution.bound > objective + slack) or (
            maximise and solution.bound < objective - slack
        ):
            v.append(f"bound {solution.bound:.6f} is on the wrong side of {objective:.6f}")
    return CheckReport(ok=not v, objective=objective, violations=tuple(v))
