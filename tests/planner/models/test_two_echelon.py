"""Tests of the two-echelon (plants + service centres) model.

Optima are compared with brute force: every combination of integer decisions (plants open,
centres closed / tractor-only / combine-capable, vans per centre, per period with the
"stay open" rule) is enumerated, and the continuous part (zone shares, machine flows) is
solved for each with an independently written dense ``scipy.optimize.linprog`` model that
imposes capacity in *every* week. Every solver result also goes through
``check_two_echelon``.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from functools import cache

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from planner.models import CancelToken, Progress, SolveOptions, Status
from planner.models._mip import (
    MatrixMip,
    WarmLp,
    lp_cut_loop,
    reduced_cost_bounds,
    solve_mip,
)
from planner.models.two_echelon import (
    TwoEchelonInstance,
    TwoEchelonModel,
    TwoEchelonSolution,
    check_two_echelon,
)
from planner.models.two_echelon._formulation import (
    build_mip,
    plant_link_rows,
    plant_zone_link_rows,
    stack_rows,
)
from planner.models.two_echelon._primal import (
    MOVE_KINDS,
    apply_move,
    fix_integers,
    fix_relaxed,
    neighbourhood,
    with_bounds,
)
from planner.seasons import dominant_weeks

INF = float("inf")


def make_instance(
    seed: int,
    *,
    n_zones: int = 5,
    n_centres: int = 3,
    n_plants: int = 2,
    n_periods: int = 1,
    max_vans: int = 2,
    n_weeks: int = 6,
    allow_import: bool = True,
    objective: str = "cost",
    budget: float | None = None,
) -> TwoEchelonInstance:
    rng = np.random.default_rng(seed)
    profiles = rng.random((4, n_weeks)) ** 2
    profiles /= profiles.sum(axis=1, keepdims=True)
    machine = rng.integers(0, 2, n_zones)
    machine[0], machine[1] = 0, 1
    profile = machine + 2 * rng.integers(0, 2, n_zones)
    base = rng.uniform(50, 150, n_zones)
    growth = np.cumprod(np.full(n_periods, 1.3))
    hours = base[:, None] * growth[None, :]
    new = rng.uniform(1, 5, n_zones)[:, None] * growth[None, :]
    pz, pj, km, van = [], [], [], []
    for z in range(n_zones):
        for j in range(n_centres):
            r = rng.random()
            if r < 0.15:
                continue
            pz.append(z)
            pj.append(j)
            km.append(rng.uniform(5, 120))
            van.append(r > 0.7)
    peak = (hours[:, -1, None] * profiles[profile]).max(axis=1).sum()
    inbound = rng.uniform(50, 150, (n_plants, 2))
    if n_plants > 1:
        inbound[0, 1] = INF  # plant 0 makes tractors only
    return TwoEchelonInstance(
        zone_ids=tuple(f"z{i}" for i in range(n_zones)),
        zone_machine=machine.astype(np.int64),
        zone_profile=profile.astype(np.int64),
        profiles=profiles,
        zone_hours_year=hours,
        zone_new_machines=new,
        centre_ids=tuple(f"c{j}" for j in range(n_centres)),
        centre_fixed_cost_kzt=rng.uniform(200, 600, n_centres),
        centre_capacity_hours_per_week=rng.uniform(0.25, 0.6, n_centres) * peak,
        centre_combine_cost_kzt=rng.uniform(50, 200, n_centres),
        centre_max_vans=np.full(n_centres, max_vans, dtype=np.int64),
        centre_required=np.zeros(n_centres, dtype=np.bool_),
        centre_forbidden=np.zeros(n_centres, dtype=np.bool_),
        pair_zone=np.asarray(pz, dtype=np.int64),
        pair_centre=np.asarray(pj, dtype=np.int64),
        pair_km=np.asarray(km),
        pair_van=np.asarray(van, dtype=np.bool_),
        plant_ids=tuple(f"k{k}" for k in range(n_plants)),
        plant_fixed_cost_kzt=rng.uniform(300, 900, n_plants),
        plant_capacity_machines_per_year=rng.uniform(5, 15, n_plants),
        plant_inbound_cost_kzt_per_machine=inbound,
        plant_entry_ids=tuple(("e", "e") for _ in range(n_plants)),
        plant_required=np.zeros(n_plants, dtype=np.bool_),
        plant_forbidden=np.zeros(n_plants, dtype=np.bool_),
        outbound_cost_kzt_per_machine=rng.uniform(10, 80, (n_plants, n_centres)),
        import_cost_kzt_per_machine=np.full(
            (n_centres, 2), rng.uniform(60, 400) if allow_import else INF
        ),
        van_cost_kzt_per_year=90.0,
        van_hours_per_week=0.15 * peak,
        service_cost_kzt_per_hour_km=0.05,
        unserved_penalty_kzt_per_hour=40.0,
        period_weight=np.arange(1, n_periods + 1, dtype=np.float64),
        period_years=tuple(range(2026, 2026 + n_periods)),
        objective=objective,  # type: ignore[arg-type]
        budget_kzt_per_year=budget,
    )


# ------------------------------------------------------------------------------------------
# Brute force reference
# ------------------------------------------------------------------------------------------
def _period_lp(  # noqa: C901, PLR0912, PLR0915
    inst: TwoEchelonInstance,
    t: int,
    plants: tuple[int, ...],
    centres: tuple[tuple[int, int, int], ...],
) -> float:
    """Best continuous cost of one period with fixed integer decisions (inf if infeasible).

    ``centres[j] = (open, combine, vans)``. Returns the period's total (fixed + variable)
    cost in cost mode, or unserved hours in service-level mode.
    """
    n_p, n_z, n_k, n_j = inst.n_pairs, inst.n_zones, inst.n_plants, inst.n_centres
    hz = inst.zone_hours_year[:, t]
    nz = inst.zone_new_machines[:, t]
    fixed = sum(inst.plant_fixed_cost_kzt[k] * plants[k] for k in range(n_k))
    for j, (op, cb, nv) in enumerate(centres):
        fixed += inst.centre_fixed_cost_kzt[j] * op + inst.centre_combine_cost_kzt[j] * cb
        fixed += inst.van_cost_kzt_per_year * nv
    # variable order: x (n_p), s (n_z), q (n_k * n_j * 2), r (n_j * 2)
    nq = n_k * n_j * 2
    n = n_p + n_z + nq + n_j * 2
    qi = lambda k, j, m: n_p + n_z + (k * n_j + j) * 2 + m  # noqa: E731
    ri = lambda j, m: n_p + n_z + nq + j * 2 + m  # noqa: E731
    cost = np.zeros(n)
    bounds: list[tuple[float, float | None]] = [(0.0, 1.0)] * (n_p + n_z) + [(0.0, None)] * (
        nq + n_j * 2
    )
    for p in range(n_p):
        z, j = inst.pair_zone[p], inst.pair_centre[p]
        cost[p] = inst.service_cost_kzt_per_hour_km * inst.pair_km[p] * hz[z]
        op, cb, nv = centres[j]
        ok = op == 1
        if inst.zone_machine[z] == 1:
            ok = ok and cb == 1
        if inst.pair_van[p]:
            ok = ok and nv >= 1
        if not ok:
            bounds[p] = (0.0, 0.0)
    for z in range(n_z):
        cost[n_p + z] = inst.unserved_penalty_kzt_per_hour * hz[z]
    for k in range(n_k):
        for j in range(n_j):
            for m in (0, 1):
                c = inst.plant_inbound_cost_kzt_per_machine[k, m]
                if not np.isfinite(c) or not plants[k]:
                    bounds[qi(k, j, m)] = (0.0, 0.0)
                    continue
                cost[qi(k, j, m)] = c + inst.outbound_cost_kzt_per_machine[k, j]
    for j in range(n_j):
        for m in (0, 1):
            c = inst.import_cost_kzt_per_machine[j, m]
            if np.isfinite(c):
                cost[ri(j, m)] = c
            else:
                bounds[ri(j, m)] = (0.0, 0.0)
    a_eq, b_eq, a_ub, b_ub = [], [], [], []
    for z in range(n_z):
        row = np.zeros(n)
        row[[p for p in range(n_p) if inst.pair_zone[p] == z]] = 1.0
        row[n_p + z] = 1.0
        a_eq.append(row)
        b_eq.append(1.0)
    for j in range(n_j):
        for m in (0, 1):
            row = np.zeros(n)
            for k in range(n_k):
                row[qi(k, j, m)] = 1.0
            row[ri(j, m)] = 1.0
            for p in range(n_p):
                z = inst.pair_zone[p]
                if inst.pair_centre[p] == j and inst.zone_machine[z] == m:
                    row[p] = -nz[z]
            a_eq.append(row)
            b_eq.append(0.0)
    for j in range(n_j):
        op, _, nv = centres[j]
        for w in range(inst.profiles.shape[1]):
            for van, cap in ((False, inst.centre_capacity_hours_per_week[j] * op),
                             (True, inst.van_hours_per_week * nv)):  # fmt: skip
                row = np.zeros(n)
                for p in range(n_p):
                    z = inst.pair_zone[p]
                    if inst.pair_centre[p] == j and bool(inst.pair_van[p]) == van:
                        row[p] = hz[z] * inst.profiles[inst.zone_profile[z], w]
                a_ub.append(row)
                b_ub.append(cap)
    for k in range(n_k):
        row = np.zeros(n)
        for j in range(n_j):
            for m in (0, 1):
                row[qi(k, j, m)] = 1.0
        a_ub.append(row)
        b_ub.append(inst.plant_capacity_machines_per_year[k] * plants[k])
    if inst.objective == "service_level":
        assert inst.budget_kzt_per_year is not None
        budget_row = cost.copy()
        budget_row[n_p : n_p + n_z] = 0.0
        a_ub.append(budget_row)
        b_ub.append(inst.budget_kzt_per_year - fixed)
        obj = np.zeros(n)
        obj[n_p : n_p + n_z] = hz
        res = linprog(obj, A_ub=np.array(a_ub), b_ub=np.array(b_ub), A_eq=np.array(a_eq),
                      b_eq=np.array(b_eq), bounds=bounds, method="highs")  # fmt: skip
        return float(res.fun) if res.status == 0 else INF
    res = linprog(cost, A_ub=np.array(a_ub), b_ub=np.array(b_ub), A_eq=np.array(a_eq),
                  b_eq=np.array(b_eq), bounds=bounds, method="highs")  # fmt: skip
    return float(res.fun) + fixed if res.status == 0 else INF


def brute_force(inst: TwoEchelonInstance) -> float:  # noqa: C901
    """Optimum by enumerating every integer decision (monotone over periods)."""
    t_n = inst.n_periods
    centre_states = [(0, 0, 0)] + [
        (1, cb, nv) for cb in (0, 1) for nv in range(int(inst.centre_max_vans.max()) + 1)
    ]

    @cache
    def period(t: int, plants: tuple[int, ...], centres: tuple[tuple[int, int, int], ...]) -> float:
        return _period_lp(inst, t, plants, centres)

    def plant_ok(traj: tuple[tuple[int, ...], ...]) -> bool:
        for k in range(inst.n_plants):
            seq = [traj[t][k] for t in range(t_n)]
            if any(b < a for a, b in itertools.pairwise(seq)):
                return False
            if inst.plant_required[k] and not all(seq):
                return False
            if inst.plant_forbidden[k] and any(seq):
                return False
        return True

    def centre_ok(traj: tuple[tuple[tuple[int, int, int], ...], ...]) -> bool:
        for j in range(inst.n_centres):
            seq = [traj[t][j] for t in range(t_n)]
            for a, b in itertools.pairwise(seq):
                if b[0] < a[0] or b[1] < a[1]:
                    return False
            if any(s[2] > inst.centre_max_vans[j] for s in seq):
                return False
            if inst.centre_required[j] and not all(s[0] for s in seq):
                return False
            if inst.centre_forbidden[j] and any(s[0] for s in seq):
                return False
        return True

    plant_sets = list(itertools.product((0, 1), repeat=inst.n_plants))
    centre_sets = list(itertools.product(centre_states, repeat=inst.n_centres))
    best = INF
    for p_traj in itertools.product(plant_sets, repeat=t_n):
        if not plant_ok(p_traj):
            continue
        for c_traj in itertools.product(centre_sets, repeat=t_n):
            if not centre_ok(c_traj):
                continue
            total = 0.0
            for t in range(t_n):
                total += inst.period_weight[t] * period(t, p_traj[t], c_traj[t])
                if total >= best:
                    break
            best = min(best, total)
    return best


def _solve(inst: TwoEchelonInstance, **kw: object) -> TwoEchelonSolution:
    opts = SolveOptions(time_limit_s=30.0, gap_tolerance=0.0, **kw)  # type: ignore[arg-type]
    sol = TwoEchelonModel(inst).solve(opts)
    assert sol.has_solution, sol.message
    assert check_two_echelon(inst, sol) == ()
    return sol


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------
@pytest.mark.solver
@pytest.mark.parametrize(("seed", "max_vans"), [(0, 2), (1, 1), (2, 1), (3, 1), (16, 1), (17, 1)])
def test_single_period_matches_brute_force(seed: int, max_vans: int) -> None:
    inst = make_instance(seed, n_zones=5, n_centres=3, n_plants=2, n_periods=1, max_vans=max_vans)
    sol = _solve(inst)
    ref = brute_force(inst)
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(ref, rel=1e-6)


@pytest.mark.solver
@pytest.mark.parametrize("seed", [4, 5, 6])
def test_two_periods_match_brute_force(seed: int) -> None:
    inst = make_instance(seed, n_zones=4, n_centres=2, n_plants=2, n_periods=2, max_vans=1)
    sol = _solve(inst)
    ref = brute_force(inst)
    assert sol.objective == pytest.approx(ref, rel=1e-6)
    assert (np.diff(sol.centre_open.astype(int), axis=1) >= 0).all()
    assert (np.diff(sol.plant_open.astype(int), axis=1) >= 0).all()


@pytest.mark.solver
@pytest.mark.parametrize("seed", [7, 8])
def test_without_import_plants_must_cover_machines(seed: int) -> None:
    inst = make_instance(seed, n_zones=4, n_centres=2, n_plants=2, allow_import=False)
    sol = TwoEchelonModel(inst).solve(SolveOptions(time_limit_s=30.0, gap_tolerance=0.0))
    ref = brute_force(inst)
    if not np.isfinite(ref):
        assert sol.status == Status.INFEASIBLE
        return
    assert check_two_echelon(inst, sol) == ()
    assert sol.objective == pytest.approx(ref, rel=1e-6)
    assert sol.import_flow.sum() == 0


@pytest.mark.solver
@pytest.mark.parametrize("seed", [9, 10])
def test_service_level_under_budget_matches_brute_force(seed: int) -> None:
    probe = make_instance(seed, n_zones=5, n_centres=3, n_plants=2)
    cost_sol = _solve(probe)
    budget = 0.6 * float(cost_sol.cost_by_period[:-1].sum())  # tight: not everything fits
    inst = make_instance(
        seed, n_zones=5, n_centres=3, n_plants=2, objective="service_level", budget=budget
    )
    sol = _solve(inst)
    ref = brute_force(inst)
    assert sol.objective == pytest.approx(ref, rel=1e-6, abs=1e-6)


@pytest.mark.solver
def test_required_and_forbidden_sites_are_respected() -> None:
    base = make_instance(11, n_zones=5, n_centres=3, n_plants=2)
    req = np.array([False, False, True])
    forb = np.array([True, False, False])
    inst = TwoEchelonInstance(
        **{
            **base.__dict__,
            "centre_required": req,
            "centre_forbidden": forb,
            "plant_required": np.array([True, False]),
        }
    )
    sol = _solve(inst)
    assert sol.centre_open[2].all()
    assert not sol.centre_open[0].any()
    assert sol.plant_open[0].all()
    assert sol.objective == pytest.approx(brute_force(inst), rel=1e-6)


def test_dominant_weeks_are_sufficient() -> None:
    rng = np.random.default_rng(3)
    profiles = rng.random((3, 30))
    weeks = dominant_weeks(profiles)
    for _ in range(200):
        h = rng.random(3) * rng.integers(0, 2, 3)
        load = h @ profiles
        assert load.max() == pytest.approx(load[weeks].max())
    # A week equal to another is kept once: the first of the two copies (week 0, not 2).
    dup = np.column_stack([profiles[:, :2], profiles[:, :1]])
    assert not (profiles[:, 0] >= profiles[:, 1]).all()  # neither week dominates the other
    assert not (profiles[:, 1] >= profiles[:, 0]).all()
    assert [int(w) for w in dominant_weeks(dup)] == [0, 1]


@pytest.mark.solver
def test_combine_demand_only_at_combine_capable_centres() -> None:
    inst = make_instance(12, n_zones=6, n_centres=3, n_plants=2)
    sol = _solve(inst)
    for p in range(inst.n_pairs):
        if sol.pair_share[p, 0] > 1e-6 and inst.zone_machine[inst.pair_zone[p]] == 1:
            assert sol.centre_combine[inst.pair_centre[p], 0]


def test_checker_catches_violations() -> None:
    inst = make_instance(13, n_zones=5, n_centres=3, n_plants=2)
    sol = _solve(inst)
    bad = TwoEchelonSolution(
        **{**sol.__dict__, "centre_combine": np.zeros_like(sol.centre_combine)}
    )
    assert check_two_echelon(inst, sol) == ()
    # this instance serves combine demand, so stripping the combine capability must show
    served_combine = any(
        sol.pair_share[p, 0] > 1e-6 and inst.zone_machine[inst.pair_zone[p]] == 1
        for p in range(inst.n_pairs)
    )
    assert served_combine
    assert any("served by tractor-only centre" in m for m in check_two_echelon(inst, bad))
    bad = TwoEchelonSolution(**{**sol.__dict__, "objective": sol.objective + 1.0})
    assert any(m.startswith("objective ") for m in check_two_echelon(inst, bad))
    closed = TwoEchelonSolution(**{**sol.__dict__, "centre_open": np.zeros_like(sol.centre_open)})
    assert any("served by closed centre" in m for m in check_two_echelon(inst, closed))


@pytest.mark.solver
def test_heuristic_backend_progress_and_cancel() -> None:
    inst = make_instance(14, n_zones=6, n_centres=3, n_plants=2, n_periods=2)
    seen: list[Progress] = []
    sol = TwoEchelonModel(inst).solve(
        SolveOptions(time_limit_s=10.0, backend="heuristic", progress=seen.append)
    )
    assert sol.has_solution
    assert check_two_echelon(inst, sol) == ()
    assert seen
    assert seen[-1].incumbent is not None
    assert sol.bound <= sol.objective + 1e-6
    token = CancelToken()
    token.cancel()
    sol = TwoEchelonModel(inst).solve(SolveOptions(time_limit_s=10.0, cancel=token))
    # cancelled before it started: the heuristic's first plan, feasible and checked
    assert sol.status == Status.FEASIBLE
    assert "cancelled" in sol.message
    assert check_two_echelon(inst, sol) == ()


@pytest.mark.solver
def test_same_seed_same_solution() -> None:
    inst = make_instance(15, n_zones=6, n_centres=3, n_plants=2, n_periods=2)
    a = _solve(inst, seed=3)
    b = _solve(inst, seed=3)
    assert a.objective == b.objective
    assert (a.centre_open == b.centre_open).all()


def _lp_bound(inst: TwoEchelonInstance, *, strengthen: bool) -> float:
    weeks = inst.capacity_week_indices()
    mip, layout = build_mip(inst, weeks, strengthen=strengthen, plant_links=strengthen)
    res = solve_mip(fix_relaxed(mip), time_limit_s=30.0)
    assert res.status == "optimal"
    return float(res.objective / layout.obj_scale)


@pytest.mark.solver
@pytest.mark.parametrize(
    ("seed", "n_periods", "allow_import"),
    [(0, 1, True), (2, 1, True), (4, 2, True), (5, 2, True), (7, 1, False), (18, 2, True)],
)
def test_valid_inequalities_never_cut_the_brute_force_optimum(
    seed: int, n_periods: int, allow_import: bool
) -> None:
    """(13)-(15): the strengthened LP bound lies between the plain LP and the optimum."""
    n_zones, n_centres = (5, 3) if n_periods == 1 else (4, 2)
    inst = make_instance(
        seed, n_zones=n_zones, n_centres=n_centres, n_plants=3, n_periods=n_periods,
        max_vans=1, allow_import=allow_import,
    )  # fmt: skip
    ref = brute_force(inst)
    plain = _lp_bound(inst, strengthen=False)
    strong = _lp_bound(inst, strengthen=True)
    assert plain <= strong + 1e-6 * max(1.0, abs(strong))
    if np.isfinite(ref):
        assert strong <= ref + 1e-6 * max(1.0, abs(ref))


@pytest.mark.solver
def test_plant_mir_raises_the_bound_when_capacity_is_fractional() -> None:
    """One plant's capacity covers 1.5 x the machines: the MIR (14) forces a whole plant."""
    base = make_instance(
        3, n_zones=5, n_centres=3, n_plants=2, n_periods=1, max_vans=1, allow_import=False
    )
    need = float(base.zone_new_machines.sum())
    inst = replace(
        base,
        plant_capacity_machines_per_year=np.full(2, need / 1.5),
        plant_inbound_cost_kzt_per_machine=np.full((2, 2), 50.0),
        plant_fixed_cost_kzt=np.full(2, 2000.0),
        unserved_penalty_kzt_per_hour=1e4,
    )
    ref = brute_force(inst)
    assert _lp_bound(inst, strengthen=False) < _lp_bound(inst, strengthen=True) <= ref * (1 + 1e-6)


@pytest.mark.solver
@pytest.mark.parametrize("seed", [4, 18])
def test_cut_loop_bound_equals_the_lp_with_every_plant_link(seed: int) -> None:
    """Separating (13) round by round ends at the LP bound of the model with all rows (13)."""
    inst = make_instance(seed, n_zones=4, n_centres=2, n_plants=3, n_periods=2, max_vans=1)
    mip, layout = build_mip(inst, inst.capacity_week_indices())
    loop = lp_cut_loop(
        mip.to_matrix(), lambda x: plant_link_rows(inst, layout, x), time_limit_s=30.0
    )
    assert loop.status == "optimal"
    full = _lp_bound(inst, strengthen=True)
    assert loop.objective / layout.obj_scale == pytest.approx(full, rel=1e-7)
    assert full <= brute_force(inst) * (1 + 1e-6)


@pytest.mark.solver
@pytest.mark.parametrize(("seed", "n_periods"), [(0, 1), (2, 1), (4, 2), (5, 2), (18, 2)])
def test_reduced_cost_fixing_keeps_the_brute_force_optimum(seed: int, n_periods: int) -> None:
    """Fixing against the optimum itself (the tightest cutoff) must not cut the optimum off."""
    inst = make_instance(seed, n_zones=4, n_centres=2, n_plants=2, n_periods=n_periods)
    ref = brute_force(inst)
    mip, layout = build_mip(inst, inst.capacity_week_indices())
    loop = lp_cut_loop(
        mip.to_matrix(), lambda x: plant_link_rows(inst, layout, x), time_limit_s=30.0
    )
    assert loop.reduced_costs is not None
    full = mip.to_matrix()
    lb, ub = reduced_cost_bounds(full, loop.reduced_costs, loop.objective, ref * layout.obj_scale)
    assert (lb <= ub).all()
    res = solve_mip(with_bounds(mip, lb, ub), time_limit_s=30.0)
    assert res.status == "optimal"
    assert res.objective / layout.obj_scale == pytest.approx(ref, rel=1e-6)


@pytest.mark.solver
@pytest.mark.parametrize("seed", range(8))
def test_reduced_cost_bounds_keep_every_point_within_the_cutoff(seed: int) -> None:
    """Pure-integer MIPs: every integer point of value <= cutoff satisfies the new bounds."""
    rng = np.random.default_rng(seed)
    n, m = 4, 3
    a = rng.integers(1, 6, (m, n)).astype(np.float64)
    c = rng.uniform(1.0, 10.0, n)
    need = rng.uniform(4.0, 9.0, m)
    mip = MatrixMip(
        objective=c, lower=np.zeros(n), upper=np.full(n, 3.0),
        integer=np.ones(n, dtype=np.bool_), matrix=sp.csr_matrix(a),
        row_lower=need, row_upper=np.full(m, INF), maximise=False,
    )  # fmt: skip
    loop = lp_cut_loop(mip, lambda _x: None, time_limit_s=10.0)
    assert loop.reduced_costs is not None
    points = np.array(list(itertools.product(range(4), repeat=n)), dtype=np.float64)
    feasible = points[(points @ a.T >= need - 1e-9).all(axis=1)]
    values = feasible @ c
    cutoff = float(np.sort(values)[min(2, len(values) - 1)])  # the third-best point
    lb, ub = reduced_cost_bounds(mip, loop.reduced_costs, loop.objective, cutoff)
    kept = feasible[values <= cutoff + 1e-9]
    assert ((kept >= lb - 1e-9) & (kept <= ub + 1e-9)).all()
    # the LP bound is below every point, and the bounds only ever tighten
    assert loop.objective <= values.min() + 1e-7
    assert (lb >= mip.lower).all()
    assert (ub <= mip.upper).all()
    assert (ub < mip.upper).any()  # these instances do tighten (checked for every seed)


def _integer_plan(inst: TwoEchelonInstance, centre: np.ndarray, vans: int) -> np.ndarray:
    """Values of :func:`build_mip`'s variables: plants all open, ``centre`` (J x T) open and
    combine-capable, ``vans`` vans at each open centre (clipped to its most), the flows
    re-balanced by the fixed-integer LP."""
    mip, layout = build_mip(inst, inst.capacity_week_indices())
    values = np.zeros(mip.n_variables)
    values[layout.plant] = ~inst.plant_forbidden[:, None]
    values[layout.centre] = centre
    values[layout.combine] = centre
    values[layout.vans] = np.minimum(vans, inst.centre_max_vans[:, None]) * centre
    values[layout.runs_vans] = values[layout.vans] > 0
    res = solve_mip(fix_integers(mip, layout, values), time_limit_s=30.0)
    assert res.values is not None
    return res.values


@pytest.mark.solver
@pytest.mark.parametrize("seed", [0, 4, 5, 14])
def test_local_search_moves_keep_plans_valid(seed: int) -> None:
    """Every move of the neighbourhood gives integer decisions the MIP accepts: openings
    monotone over periods, capability and vans only at open centres, within the bounds;
    the fixed-integer LP of each move's plan is feasible (cost mode: unserved is allowed)."""
    inst = make_instance(seed, n_zones=6, n_centres=4, n_plants=2, n_periods=3, max_vans=2)
    mip, layout = build_mip(inst, inst.capacity_week_indices())
    lb, ub = mip.variable_bounds()
    centre = np.zeros((inst.n_centres, inst.n_periods))
    centre[0, :] = centre[1, 1:] = centre[2, 2:] = 1.0  # centre 3 closed: an open move
    values = _integer_plan(inst, centre, vans=1)
    moves = neighbourhood(inst, layout, values, n_open=3)
    kinds = {kind for kind, *_ in moves}
    assert kinds <= set(MOVE_KINDS)
    assert {"drop", "combine", "delay", "delay_combine", "open", "swap"} <= kinds
    for move in moves:
        trial = apply_move(inst, layout, values, move)
        ids = layout.integer_ids
        assert not np.array_equal(trial[ids], values[ids]), move
        assert (trial[ids] >= lb[ids] - 1e-9).all()
        assert (trial[ids] <= ub[ids] + 1e-9).all()
        y, c, v = trial[layout.centre], trial[layout.combine], trial[layout.vans]
        assert (np.diff(y, axis=1) >= 0).all(), move
        assert (np.diff(c, axis=1) >= 0).all(), move
        assert (c <= y).all()
        assert (v <= inst.centre_max_vans[:, None] * y).all()
        assert (trial[layout.runs_vans] == (v > 0)).all()
        res = solve_mip(fix_integers(mip, layout, trial), time_limit_s=30.0)
        assert res.status == "optimal", move


@pytest.mark.solver
def test_neighbourhood_order_puts_the_best_last_change_first() -> None:
    inst = make_instance(4, n_zones=6, n_centres=4, n_plants=2, n_periods=2)
    _, layout = build_mip(inst, inst.capacity_week_indices())
    values = _integer_plan(inst, np.ones((inst.n_centres, inst.n_periods)), vans=1)
    moves = neighbourhood(inst, layout, values, n_open=2)
    known = {mv: float(i) for i, mv in enumerate(moves[:3])}  # three moves tried
    ordered = neighbourhood(inst, layout, values, n_open=2, order=known)
    assert sorted(ordered) == sorted(moves)
    assert set(ordered[:-3]) == set(moves[3:])  # never tried first
    assert ordered[-3:] == moves[:3]  # then by last change, best first


@pytest.mark.solver
def test_cut_loop_stops_when_rounds_tail_off() -> None:
    """min x, x in [0, 1]; round k adds x >= 1 - 2^-k: the LP values 0, 1/2, 3/4, 7/8, 15/16
    gain 1/2, 1/3, 1/7, 1/15 of the value, so a 1/10 threshold stops after the fifth LP."""
    mip = MatrixMip(
        objective=np.ones(1), lower=np.zeros(1), upper=np.ones(1),
        integer=np.zeros(1, dtype=np.bool_), matrix=sp.csr_matrix(np.zeros((0, 1))),
        row_lower=np.zeros(0), row_upper=np.zeros(0), maximise=False,
    )  # fmt: skip
    calls: list[float] = []

    def halve(x: np.ndarray) -> tuple[np.ndarray, ...]:
        calls.append(float(x[0]))
        need = 1.0 - 0.5 ** len(calls)
        one = np.zeros(1, dtype=np.int64)
        return np.array([need]), np.array([INF]), one, one, np.ones(1)

    full = lp_cut_loop(mip, halve, time_limit_s=30.0, max_rounds=12)
    assert full.rounds == 12
    calls.clear()
    short = lp_cut_loop(mip, halve, time_limit_s=30.0, max_rounds=12, min_relative_gain=0.1)
    assert short.rounds == 5
    assert short.objective == pytest.approx(15 / 16)
    assert short.status == "stopped"


@pytest.mark.solver
@pytest.mark.parametrize("seed", [0, 5, 18])
def test_warm_lp_matches_a_fresh_solve_after_bound_changes(seed: int) -> None:
    """Re-solving from the last basis gives the optimum of the LP loaded from scratch."""
    inst = make_instance(seed, n_zones=6, n_centres=4, n_plants=2, n_periods=2, max_vans=2)
    mip, layout = build_mip(inst, inst.capacity_week_indices())
    warm = WarmLp(mip.to_matrix())
    ids = layout.integer_ids
    lb0, ub0 = (b[ids] for b in mip.variable_bounds())
    rng = np.random.default_rng(seed)
    n_optimal = 0
    for _ in range(6):
        values = np.zeros(mip.n_variables)
        shape = layout.centre.shape
        y = np.maximum.accumulate(rng.random(shape) < 0.6, axis=1)
        values[layout.centre] = y
        values[layout.combine] = np.maximum.accumulate(rng.random(shape) < 0.5, axis=1) & y
        values[layout.vans] = rng.integers(0, 3, shape) * y
        values[layout.runs_vans] = values[layout.vans] > 0
        values[layout.plant] = np.maximum.accumulate(rng.random(layout.plant.shape) < 0.7, axis=1)
        fixed = np.clip(values[ids], lb0, ub0)
        got = warm.solve(ids, fixed, fixed, time_limit_s=30.0)
        ref = solve_mip(fix_integers(mip, layout, values), time_limit_s=30.0)
        assert got.status == ref.status
        if ref.status == "optimal":
            n_optimal += 1
            assert got.objective == pytest.approx(ref.objective, rel=1e-7, abs=1e-9)
    assert n_optimal >= 1


def _expensive_plants(seed: int, n_periods: int = 1) -> TwoEchelonInstance:
    inst = make_instance(seed, n_zones=4, n_centres=2, n_plants=3, n_periods=n_periods, max_vans=1)
    return replace(inst, plant_fixed_cost_kzt=inst.plant_fixed_cost_kzt * 5.0)


@pytest.mark.solver
@pytest.mark.parametrize(
    ("seed", "n_periods", "rises"),
    [(5, 1, True), (7, 1, True), (14, 1, True), (0, 1, False), (2, 1, False), (4, 2, False)],
)
def test_plant_zone_links_never_cut_the_brute_force_optimum(
    seed: int, n_periods: int, *, rises: bool
) -> None:
    """The cut loop with the rows (16) ends between the loop with (13) only and the brute-force
    optimum; on the instances marked ``rises`` (16) lifts the bound (measured)."""
    inst = _expensive_plants(seed, n_periods)
    mip, layout = build_mip(inst, inst.capacity_week_indices())

    def links(x: np.ndarray) -> tuple[np.ndarray, ...]:
        return plant_link_rows(inst, layout, x)

    def both(x: np.ndarray) -> tuple[np.ndarray, ...]:
        return stack_rows([links(x), plant_zone_link_rows(inst, layout, x)])

    base = lp_cut_loop(mip.to_matrix(), links, time_limit_s=30.0)
    strong = lp_cut_loop(mip.to_matrix(), both, time_limit_s=30.0)
    assert base.status == strong.status == "optimal"
    lo, hi = base.objective / layout.obj_scale, strong.objective / layout.obj_scale
    ref = brute_force(inst)
    assert lo <= hi * (1 + 1e-9) + 1e-9
    assert hi <= ref * (1 + 1e-6)
    if rises:
        assert hi > lo * (1 + 1e-5)


@pytest.mark.solver
@pytest.mark.parametrize("seed", [0, 5, 7, 14, 18])
def test_plant_zone_links_hold_at_every_integer_plan(seed: int) -> None:
    """Rows (16) are valid: no plan with integer sites (its flows re-balanced by the LP, or the
    MIP optimum) violates one."""
    inst = _expensive_plants(seed, n_periods=2)
    mip, layout = build_mip(inst, inst.capacity_week_indices())
    rng = np.random.default_rng(seed)
    plans = []
    for _ in range(8):
        values = np.zeros(mip.n_variables)
        shape = layout.centre.shape
        y = np.maximum.accumulate(rng.random(shape) < 0.7, axis=1)
        values[layout.centre] = y
        values[layout.combine] = np.maximum.accumulate(rng.random(shape) < 0.6, axis=1) & y
        values[layout.vans] = rng.integers(0, 2, shape) * y
        values[layout.runs_vans] = values[layout.vans] > 0
        values[layout.plant] = np.maximum.accumulate(rng.random(layout.plant.shape) < 0.5, axis=1)
        res = solve_mip(fix_integers(mip, layout, values), time_limit_s=30.0)
        if res.values is not None:
            plans.append(res.values)
    best = solve_mip(mip, time_limit_s=30.0)
    assert best.values is not None
    plans.append(best.values)
    assert len(plans) >= 4
    for values in plans:
        lo, *_ = plant_zone_link_rows(inst, layout, values, tol=1e-6)
        assert len(lo) == 0
