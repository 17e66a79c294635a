"""The independent checkers themselves: corrupted solutions must be reported, by name.

``check_solution`` and ``check_two_echelon`` are what every solver test trusts, so each rule
they enforce is exercised here with a hand-made solution that breaks exactly that rule (and
an untouched solution that must pass). Objectives are worked out by hand in the comments;
no solver runs in this file.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from planner.models import CostMatrix, LocationProblem, SiteData, Solution, Status
from planner.models.check import check_solution
from planner.models.two_echelon import (
    COST_COMPONENTS,
    TwoEchelonInstance,
    TwoEchelonSolution,
    check_two_echelon,
)

NAN = float("nan")
INF = float("inf")
# 4 demand rows x 3 sites (ids a, b, c).
COST = np.array(
    [
        [1.0, 5.0, 9.0],
        [4.0, 2.0, 8.0],
        [7.0, 6.0, 3.0],
        [9.0, 9.0, 1.0],
    ]
)
W = np.array([2.0, 1.0, 3.0, 1.0])
IDS = ("a", "b", "c")
# Open {a, c}, each row to its nearest open site: rows 0,1 -> a (1, 4), rows 2,3 -> c (3, 1).
NEAREST_AC = (0, 0, 2, 2)
# p-median objective of that: 2*1 + 1*4 + 3*3 + 1*1 = 16.
PMEDIAN_AC = 16.0


def _problem(kind: str, cost: np.ndarray = COST, w: np.ndarray = W, **kw: Any) -> LocationProblem:  # noqa: ANN401
    site_kw = {k: kw.pop(k) for k in ("capacity", "fixed_cost", "required", "forbidden") if k in kw}
    sites = SiteData.default(cost.shape[1], ids=IDS[: cost.shape[1]], **site_kw)
    return LocationProblem(
        kind=kind,  # type: ignore[arg-type]
        costs=CostMatrix.from_dense(cost),
        weights=w.astype(np.float64),
        sites=sites,
        **kw,
    )


def _solution(
    kind: str,
    open_sites: tuple[int, ...],
    assignment: tuple[int, ...],
    objective: float,
    *,
    cost: np.ndarray = COST,
    assignment_cost: tuple[float, ...] | None = None,
    bound: float = NAN,
    status: Status = Status.FEASIBLE,
    flows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Solution:
    a = np.asarray(assignment, dtype=np.int64)
    if assignment_cost is None:
        ac = np.array([cost[i, j] if j >= 0 else NAN for i, j in enumerate(a)])
    else:
        ac = np.asarray(assignment_cost, dtype=np.float64)
    return Solution(
        model=kind,
        status=status,
        objective=objective,
        bound=bound,
        gap=NAN,
        open_sites=open_sites,
        assignment=a,
        assignment_cost=ac,
        runtime_s=0.0,
        backend="hand-made",
        flows=flows,
    )


def _violations(problem: LocationProblem, solution: Solution) -> tuple[str, ...]:
    report = check_solution(problem, solution)
    assert report.ok is (not report.violations)
    return report.violations


# ------------------------------------------------------------------------------------------
# p-median
# ------------------------------------------------------------------------------------------
def test_valid_p_median_passes_with_the_hand_computed_objective() -> None:
    report = check_solution(
        _problem("p_median", p=2), _solution("p_median", (0, 2), NEAREST_AC, PMEDIAN_AC)
    )
    assert report.ok
    assert report.violations == ()
    assert report.objective == pytest.approx(PMEDIAN_AC, rel=1e-12)


def test_wrong_objective_is_reported() -> None:
    bad = _solution("p_median", (0, 2), NEAREST_AC, 15.0)
    assert _violations(_problem("p_median", p=2), bad) == (
        "reported objective 15.000000 != recomputed 16.000000",
    )


def test_assignment_to_a_closed_site_is_reported() -> None:
    # Row 1 sent to b (closed, cost 2): objective 2 + 2 + 9 + 1 = 14, honestly reported.
    bad = _solution("p_median", (0, 2), (0, 1, 2, 2), 14.0)
    assert _violations(_problem("p_median", p=2), bad) == ("row 1 is assigned to closed site b",)


def test_p_not_respected_is_reported() -> None:
    # All three open, nearest: 2*1 + 1*2 + 3*3 + 1*1 = 14.
    bad = _solution("p_median", (0, 1, 2), (0, 1, 2, 2), 14.0)
    assert _violations(_problem("p_median", p=2), bad) == ("3 sites open, p = 2",)


def test_required_site_closed_is_reported() -> None:
    bad = _solution("p_median", (0, 2), NEAREST_AC, PMEDIAN_AC)
    assert _violations(_problem("p_median", p=2, required=[1]), bad) == (
        "1 required site(s) closed, e.g. b",
    )


def test_forbidden_site_open_is_reported() -> None:
    bad = _solution("p_median", (0, 2), NEAREST_AC, PMEDIAN_AC)
    assert _violations(_problem("p_median", p=2, forbidden=[2]), bad) == (
        "1 forbidden site(s) open, e.g. c",
    )


def test_unassigned_demand_is_reported() -> None:
    # Row 3 left out (-1) and its cost dropped from the objective: 16 - 1 = 15.
    bad = _solution("p_median", (0, 2), (0, 0, 2, -1), 15.0)
    assert _violations(_problem("p_median", p=2), bad) == ("1 reachable row(s) left unassigned",)


def test_assignment_cost_that_lies_is_reported() -> None:
    # Row 0 claims cost 0.5 instead of 1 and the objective follows the lie (15).
    bad = _solution("p_median", (0, 2), NEAREST_AC, 15.0, assignment_cost=(0.5, 4.0, 3.0, 1.0))
    assert _violations(_problem("p_median", p=2), bad) == (
        "assignment_cost does not match the cost matrix",
        "reported objective 15.000000 != recomputed 16.000000",
    )


def test_bound_above_a_minimisation_objective_is_reported() -> None:
    bad = _solution("p_median", (0, 2), NEAREST_AC, PMEDIAN_AC, bound=17.0)
    assert _violations(_problem("p_median", p=2), bad) == (
        "bound 17.000000 is on the wrong side of 16.000000",
    )


def test_site_listed_twice_is_reported() -> None:
    bad = _solution("p_median", (0, 0, 2), NEAREST_AC, PMEDIAN_AC)
    assert _violations(_problem("p_median", p=2), bad) == ("open_sites lists a site twice",)


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ({"min_new_sites": 3}, "2 new sites < min_new_sites = 3"),
        ({"max_new_sites": 1}, "2 new sites > max_new_sites = 1"),
    ],
)
def test_new_site_bounds_are_enforced(bounds: dict[str, int], message: str) -> None:
    bad = _solution("p_median", (0, 2), NEAREST_AC, PMEDIAN_AC)
    assert _violations(_problem("p_median", p=2, **bounds), bad) == (message,)


def test_pair_that_is_not_allowed_is_reported() -> None:
    cost = COST.copy()
    cost[3, 0] = np.nan  # row 3 may not go to a
    problem = _problem("p_median", cost=cost, p=2)
    # Row 3 -> a at its "cost" 9: objective 2 + 4 + 9 + 9 = 24.
    bad = _solution("p_median", (0, 2), (0, 0, 2, 0), 24.0, assignment_cost=(1, 4, 3, 9))
    assert _violations(problem, bad) == (
        "row 3 is assigned to site a, a pair that is not allowed",
        "assignment_cost does not match the cost matrix",
        "reported objective 24.000000 != recomputed 15.000000",
    )


def test_row_with_no_allowed_site_must_stay_unassigned() -> None:
    cost = np.vstack([COST, [NAN, NAN, NAN]])
    w = np.append(W, 5.0)
    problem = _problem("p_median", cost=cost, w=w, p=2)
    ok = _solution("p_median", (0, 2), (*NEAREST_AC, -1), PMEDIAN_AC, cost=cost)
    assert _violations(problem, ok) == ()
    bad = _solution(
        "p_median",
        (0, 2),
        (*NEAREST_AC, 0),
        PMEDIAN_AC,
        cost=cost,
        assignment_cost=(1, 4, 3, 1, NAN),
    )
    assert "a row with no allowed site is assigned" in _violations(problem, bad)


def test_solution_without_a_solution_is_not_ok() -> None:
    bad = _solution("p_median", (0, 2), NEAREST_AC, PMEDIAN_AC, status=Status.INFEASIBLE)
    assert _violations(_problem("p_median", p=2), bad) == ("no solution attached",)


def test_capacity_exceeded_is_reported() -> None:
    problem = _problem("p_median", p=2, capacity=4.0, capacitated=True)
    # Nearest: load a = 2 + 1 = 3, c = 3 + 1 = 4: within capacity 4.
    assert _violations(problem, _solution("p_median", (0, 2), NEAREST_AC, PMEDIAN_AC)) == ()
    # Row 2 (weight 3, cost 7) moved to a: load a = 6 > 4; objective 2 + 4 + 21 + 1 = 28.
    bad = _solution("p_median", (0, 2), (0, 0, 0, 2), 28.0)
    assert _violations(problem, bad) == (
        "1 site(s) over capacity, e.g. a: load 6.00 > capacity 4.00",
    )


# ------------------------------------------------------------------------------------------
# CFLP
# ------------------------------------------------------------------------------------------
FIXED = np.array([10.0, 20.0, 30.0])


def test_cflp_single_source_objective_includes_fixed_costs() -> None:
    problem = _problem("cflp", fixed_cost=FIXED, capacity=4.0)
    # Transport 16 + fixed 10 + 30 = 56.
    assert _violations(problem, _solution("cflp", (0, 2), NEAREST_AC, 56.0)) == ()
    assert _violations(problem, _solution("cflp", (0, 2), NEAREST_AC, PMEDIAN_AC)) == (
        "reported objective 16.000000 != recomputed 56.000000",
    )
    bad = _solution("cflp", (0, 2), (0, 0, 0, 2), 28.0 + 40.0)
    assert _violations(problem, bad) == (
        "1 site(s) over capacity, e.g. a: load 6.00 > capacity 4.00",
    )


def _flows(
    rows: list[int], sites: list[int], frac: list[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.asarray(rows, dtype=np.int64),
        np.asarray(sites, dtype=np.int64),
        np.asarray(frac, dtype=np.float64),
    )


# Split: row 2 takes 2/3 from c (cost 3) and 1/3 from a (cost 7); the others nearest.
# Transport 2*1 + 1*4 + 3*(2/3*3 + 1/3*7) + 1*1 = 20; + fixed 40 = 60. Load a 4, c 3.
SPLIT_FLOWS = _flows([0, 1, 2, 2, 3], [0, 0, 2, 0, 2], [1.0, 1.0, 2 / 3, 1 / 3, 1.0])


def test_cflp_split_flows_are_checked() -> None:
    problem = _problem("cflp", fixed_cost=FIXED, capacity=4.0, single_source=False)
    ok = _solution("cflp", (0, 2), NEAREST_AC, 60.0, flows=SPLIT_FLOWS)
    assert _violations(problem, ok) == ()
    short = _flows([0, 1, 2, 2, 3], [0, 0, 2, 0, 2], [1.0, 1.0, 0.5, 0.3, 1.0])
    v = _violations(problem, _solution("cflp", (0, 2), NEAREST_AC, 60.0, flows=short))
    assert "row 2 receives 0.800000 of its demand, not 1" in v
    closed = _flows([0, 1, 2, 2, 3], [0, 1, 2, 0, 2], [1.0, 1.0, 2 / 3, 1 / 3, 1.0])
    v = _violations(problem, _solution("cflp", (0, 2), NEAREST_AC, 58.0, flows=closed))
    assert "flow from a closed site" in v
    tight = _problem("cflp", fixed_cost=FIXED, capacity=3.0, single_source=False)
    assert _violations(tight, ok) == ("1 site(s) over capacity, e.g. a: load 4.00 > capacity 3.00",)
    assert _violations(problem, dataclasses.replace(ok, flows=None)) == (
        "split model without flows",
        "reported objective 60.000000 != recomputed 40.000000",
    )


# ------------------------------------------------------------------------------------------
# Coverage (MCLP, set cover)
# ------------------------------------------------------------------------------------------
def test_mclp_coverage_claim_that_does_not_hold_is_reported() -> None:
    problem = _problem("mclp", p=2, service_radius=3.0)
    # Open {a, c}, radius 3: rows 0 (a: 1), 2 (c: 3), 3 (c: 1) covered; row 1 (4, 8) not.
    # Covered weight 2 + 3 + 1 = 6.
    ok = _solution("mclp", (0, 2), (0, -1, 2, 2), 6.0)
    assert _violations(problem, ok) == ()
    # Claiming row 1 (weight 1) as covered too: 7.
    assert _violations(problem, _solution("mclp", (0, 2), (0, 0, 2, 2), 7.0)) == (
        "reported objective 7.000000 != recomputed 6.000000",
    )
    # A maximisation bound below the objective is on the wrong side.
    assert _violations(problem, dataclasses.replace(ok, bound=5.0)) == (
        "bound 5.000000 is on the wrong side of 6.000000",
    )


def test_capacitated_mclp_counts_only_assigned_rows_within_the_radius() -> None:
    problem = _problem("mclp", p=2, service_radius=3.0, capacity=3.0, capacitated=True)
    # Row 3 cannot join c (load 3 + 1 > 3): covered 2 (row 0) + 3 (row 2) = 5.
    ok = _solution("mclp", (0, 2), (0, -1, 2, -1), 5.0)
    assert _violations(problem, ok) == ()
    # Row 3 claimed covered without an assignment: 6.
    assert _violations(problem, _solution("mclp", (0, 2), (0, -1, 2, -1), 6.0)) == (
        "reported objective 6.000000 != recomputed 5.000000",
    )
    # Row 1 assigned to a at 4 > radius 3 and counted: 6.
    assert _violations(problem, _solution("mclp", (0, 2), (0, 0, 2, -1), 6.0)) == (
        "reported objective 6.000000 != recomputed 5.000000",
    )
    # Row 3 squeezed into c: covered 6, but c carries 4 > 3.
    assert _violations(problem, _solution("mclp", (0, 2), (0, -1, 2, 2), 6.0)) == (
        "1 site(s) over capacity, e.g. c: load 4.00 > capacity 3.00",
    )


def test_set_cover_leaving_a_coverable_row_uncovered_is_reported() -> None:
    problem = _problem("set_cover", service_radius=3.0)
    # Every row coverable (row 1 only by b at 2): all three sites needed, objective 3 sites.
    ok = _solution("set_cover", (0, 1, 2), (0, 1, 2, 2), 3.0)
    assert _violations(problem, ok) == ()
    assert _violations(problem, _solution("set_cover", (0, 2), NEAREST_AC, 2.0)) == (
        "1 coverable row(s) are not covered",
    )
    assert _violations(problem, _solution("set_cover", (0, 1, 2), (0, 1, 2, 2), 2.0)) == (
        "reported objective 2.000000 != recomputed 3.000000",
    )
    priced = _problem("set_cover", service_radius=3.0, fixed_cost=FIXED)
    assert _violations(priced, _solution("set_cover", (0, 1, 2), (0, 1, 2, 2), 60.0)) == ()


# ------------------------------------------------------------------------------------------
# p-center
# ------------------------------------------------------------------------------------------
def test_p_center_radius_claim_is_checked() -> None:
    problem = _problem("p_center", p=2)
    # Open {a, c}: costs 1, 4, 3, 1 -> radius 4.
    assert _violations(problem, _solution("p_center", (0, 2), NEAREST_AC, 4.0)) == ()
    assert _violations(problem, _solution("p_center", (0, 2), NEAREST_AC, 3.0)) == (
        "reported objective 3.000000 != recomputed 4.000000",
    )
    # Dropping the worst row does not make the claim true.
    assert _violations(problem, _solution("p_center", (0, 2), (0, -1, 2, 2), 3.0)) == (
        "1 reachable row(s) left unassigned",
    )


def test_weighted_p_center_uses_weight_times_cost() -> None:
    problem = _problem("p_center", p=2, weighted=True)
    # w x c = 2, 4, 9, 1 -> 9.
    assert _violations(problem, _solution("p_center", (0, 2), NEAREST_AC, 9.0)) == ()
    assert _violations(problem, _solution("p_center", (0, 2), NEAREST_AC, 4.0)) == (
        "reported objective 4.000000 != recomputed 9.000000",
    )


# ------------------------------------------------------------------------------------------
# Two-echelon
# ------------------------------------------------------------------------------------------
def _instance(**changes: Any) -> TwoEchelonInstance:  # noqa: ANN401
    """Zone z0 (tractors, 100 h, 2 machines), z1 (combines, 40 h, 1 machine); c0, c1; p0."""
    base: dict[str, Any] = {
        "zone_ids": ("z0", "z1"),
        "zone_machine": np.array([0, 1]),
        "zone_profile": np.array([0, 1]),
        "profiles": np.array([[0.75, 0.25], [0.25, 0.75]]),
        "zone_hours_year": np.array([[100.0], [40.0]]),
        "zone_new_machines": np.array([[2.0], [1.0]]),
        "centre_ids": ("c0", "c1"),
        "centre_fixed_cost_kzt": np.array([10.0, 20.0]),
        "centre_capacity_hours_per_week": np.array([100.0, 100.0]),
        "centre_combine_cost_kzt": np.array([5.0, 5.0]),
        "centre_max_vans": np.array([1, 1]),
        "centre_required": np.array([False, False]),
        "centre_forbidden": np.array([False, False]),
        "pair_zone": np.array([0, 1, 1]),
        "pair_centre": np.array([0, 0, 1]),
        "pair_km": np.array([10.0, 20.0, 50.0]),
        "pair_van": np.array([False, False, True]),
        "plant_ids": ("p0",),
        "plant_fixed_cost_kzt": np.array([100.0]),
        "plant_capacity_machines_per_year": np.array([10.0]),
        "plant_inbound_cost_kzt_per_machine": np.array([[3.0, 4.0]]),
        "plant_entry_ids": (("e_t", "e_c"),),
        "plant_required": np.array([False]),
        "plant_forbidden": np.array([False]),
        "outbound_cost_kzt_per_machine": np.array([[1.0, 2.0]]),
        "import_cost_kzt_per_machine": np.array([[50.0, 60.0], [50.0, 60.0]]),
        "van_cost_kzt_per_year": 7.0,
        "van_hours_per_week": 10.0,
        "service_cost_kzt_per_hour_km": 0.01,
        "unserved_penalty_kzt_per_hour": 1000.0,
        "period_weight": np.array([1.0]),
        "period_years": (2030,),
    }
    base.update(changes)
    return TwoEchelonInstance(**base)


# Plant p0 and centre c0 (combine-capable) open, both zones served directly by c0, p0 makes
# the 2 tractors and 1 combine. Cost: plant 100 + kits/delivery 2*(3+1) + 1*(4+1) = 13,
# centre 10 + combine 5, service 0.01*(10*100 + 20*40) = 18: total 146.
VALID_OBJECTIVE = 146.0


def _two_echelon_solution(**changes: Any) -> TwoEchelonSolution:  # noqa: ANN401
    flow = np.zeros((1, 2, 2, 1))
    flow[0, 0, 0, 0] = 2.0
    flow[0, 0, 1, 0] = 1.0
    base: dict[str, Any] = {
        "status": Status.FEASIBLE,
        "objective": VALID_OBJECTIVE,
        "bound": NAN,
        "gap": NAN,
        "plant_open": np.array([[True]]),
        "centre_open": np.array([[True], [False]]),
        "centre_combine": np.array([[True], [False]]),
        "centre_vans": np.array([[0], [0]]),
        "pair_share": np.array([[1.0], [1.0], [0.0]]),
        "unserved_share": np.array([[0.0], [0.0]]),
        "plant_flow": flow,
        "import_flow": np.zeros((2, 2, 1)),
        "cost_by_period": np.zeros((len(COST_COMPONENTS), 1)),
        "capacity_weeks": np.array([0, 1]),
        "runtime_s": 0.0,
        "backend": "hand-made",
    }
    base.update(changes)
    return TwoEchelonSolution(**base)


def test_valid_two_echelon_solution_passes() -> None:
    assert check_two_echelon(_instance(), _two_echelon_solution()) == ()


def test_two_echelon_wrong_objective_is_reported() -> None:
    bad = _two_echelon_solution(objective=147.0)
    assert check_two_echelon(_instance(), bad) == ("objective 147.0000 != recomputed 146.0000.",)


def test_two_echelon_zone_served_by_a_closed_centre_is_reported() -> None:
    bad = _two_echelon_solution(
        centre_open=np.array([[False], [False]]), centre_combine=np.array([[False], [False]])
    )
    problems = check_two_echelon(_instance(), bad)
    assert "zone z0 served by closed centre." in problems
    assert "zone z1 served by closed centre." in problems


def test_two_echelon_combine_zone_at_a_tractor_only_centre_is_reported() -> None:
    # Without the combine capability the cost drops by 5.
    bad = _two_echelon_solution(centre_combine=np.array([[False], [False]]), objective=141.0)
    assert check_two_echelon(_instance(), bad) == (
        "combine zone z1 served by tractor-only centre c0 in period 0.",
    )


def test_two_echelon_weekly_capacity_exceeded_is_reported() -> None:
    # Week 1 load at c0: 100 * 0.75 + 40 * 0.25 = 85 h > 80 h.
    inst = _instance(centre_capacity_hours_per_week=np.array([80.0, 100.0]))
    assert check_two_echelon(inst, _two_echelon_solution()) == (
        "centre c0 period 0: direct load 85.000 h in week 1 > 80.000.",
    )


def test_two_echelon_van_pair_without_a_van_is_reported() -> None:
    # z1 served from c1 (van-only pair, 50 km) with no van: c1 open and combine-capable.
    # Cost: plant 100 + 2*(3+1) + 1*(4+2) = 114, centres 10 + 20, combine 5,
    # service 0.01*(10*100 + 50*40) = 30: total 179.
    flow = np.zeros((1, 2, 2, 1))
    flow[0, 0, 0, 0] = 2.0
    flow[0, 1, 1, 0] = 1.0
    bad = _two_echelon_solution(
        centre_open=np.array([[True], [True]]),
        centre_combine=np.array([[False], [True]]),
        pair_share=np.array([[1.0], [0.0], [1.0]]),
        plant_flow=flow,
        objective=179.0,
    )
    # Van load peaks at 40 * 0.75 = 30 h in week 2; one van gives 40 h.
    inst = _instance(van_hours_per_week=40.0)
    assert check_two_echelon(inst, bad) == (
        "zone z1 beyond the direct radius of c1 but the centre runs no van (period 0).",
        "centre c1 period 0: van load 30.000 h > 0.000.",
    )
    with_van = dataclasses.replace(bad, centre_vans=np.array([[0], [1]]), objective=186.0)
    assert check_two_echelon(inst, with_van) == ()
    small_van = _instance(van_hours_per_week=20.0)
    assert check_two_echelon(small_van, with_van) == (
        "centre c1 period 0: van load 30.000 h > 20.000.",
    )


def test_two_echelon_required_and_forbidden_sites_are_reported() -> None:
    sol = _two_echelon_solution()
    assert check_two_echelon(_instance(centre_required=np.array([False, True])), sol) == (
        "required centre c1 closed in period 0.",
    )
    assert check_two_echelon(_instance(plant_forbidden=np.array([True])), sol) == (
        "forbidden plant p0 open in period 0.",
    )


def test_two_echelon_plant_capacity_exceeded_is_reported() -> None:
    inst = _instance(plant_capacity_machines_per_year=np.array([2.0]))
    assert check_two_echelon(inst, _two_echelon_solution()) == (
        "plant p0 period 0: 3.000 > 2.000.",
    )


def test_two_echelon_unserved_demand_claimed_served_is_reported() -> None:
    # Half of z0 neither served nor declared unserved; the objective follows (146 - 5).
    bad = _two_echelon_solution(pair_share=np.array([[0.5], [1.0], [0.0]]), objective=141.0)
    problems = check_two_echelon(_instance(), bad)
    assert "zone shares plus unserved share do not add up to 1." in problems
    assert "period 0: machines into centres != machines their zones buy." in problems


def test_two_echelon_machines_not_delivered_are_reported() -> None:
    flow = np.zeros((1, 2, 2, 1))
    flow[0, 0, 0, 0] = 1.0  # one tractor short
    flow[0, 0, 1, 0] = 1.0
    bad = _two_echelon_solution(plant_flow=flow, objective=VALID_OBJECTIVE - 4.0)
    assert check_two_echelon(_instance(), bad) == (
        "period 0: machines into centres != machines their zones buy.",
    )


def test_two_echelon_bound_above_objective_is_reported() -> None:
    bad = _two_echelon_solution(bound=150.0)
    assert check_two_echelon(_instance(), bad) == (
        f"bound 150.0 above the objective {VALID_OBJECTIVE}.",
    )


# ------------------------------------------------------------------------------------------
# Edges that the mutation check (bench/mutation.py) found untested
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("open_sites", [(0, 3), (-1, 2)])
def test_open_site_out_of_range_is_reported(open_sites: tuple[int, ...]) -> None:
    report = check_solution(
        _problem("p_median", p=2), _solution("p_median", open_sites, NEAREST_AC, PMEDIAN_AC)
    )
    assert not report.ok
    assert report.violations == ("open site out of range",)


def test_assignment_to_a_site_index_out_of_range_is_reported() -> None:
    good = _solution("p_median", (0, 2), NEAREST_AC, PMEDIAN_AC)
    bad = dataclasses.replace(good, assignment=np.array([0, 0, 2, 3]))  # 3 sites: 0..2
    report = check_solution(_problem("p_median", p=2), bad)
    assert not report.ok
    assert report.violations == ("assignment refers to a site index out of range",)


def test_assignment_of_the_wrong_length_is_reported() -> None:
    good = _solution("p_median", (0, 2), NEAREST_AC, PMEDIAN_AC)
    bad = dataclasses.replace(good, assignment=np.array([0, 0, 2]))
    report = check_solution(_problem("p_median", p=2), bad)
    assert not report.ok
    assert report.violations == ("assignment has wrong length",)


@pytest.mark.parametrize("bounds", [{"min_new_sites": 2}, {"max_new_sites": 2}])
def test_new_site_bounds_met_exactly_pass(bounds: dict[str, int]) -> None:
    ok = _solution("p_median", (0, 2), NEAREST_AC, PMEDIAN_AC)
    assert _violations(_problem("p_median", p=2, **bounds), ok) == ()


def test_a_proven_bound_on_the_right_side_passes() -> None:
    # Minimisation: a bound equal to the objective (proven optimal) or below it is fine.
    for bound in (PMEDIAN_AC, 12.0):
        ok = _solution("p_median", (0, 2), NEAREST_AC, PMEDIAN_AC, bound=bound)
        assert _violations(_problem("p_median", p=2), ok) == (), bound
    # Maximisation (MCLP): a bound equal to or above the covered weight is fine.
    problem = _problem("mclp", p=2, service_radius=3.0)
    for bound in (6.0, 7.0):
        ok = _solution("mclp", (0, 2), (0, -1, 2, 2), 6.0, bound=bound)
        assert _violations(problem, ok) == (), bound
    # Within the relative tolerance (1e-6 of the objective) is not a violation either way.
    ok = _solution("p_median", (0, 2), NEAREST_AC, PMEDIAN_AC, bound=PMEDIAN_AC * (1 + 5e-7))
    assert _violations(_problem("p_median", p=2), ok) == ()
    bad = dataclasses.replace(ok, bound=PMEDIAN_AC * (1 + 5e-6))
    assert len(_violations(_problem("p_median", p=2), bad)) == 1


def test_unlisted_pair_is_allowed_only_at_or_above_the_beyond_cost() -> None:
    cost = COST.copy()
    cost[3, 0] = np.nan  # pair (row 3, a) pruned from the sparse matrix ...
    matrix = CostMatrix.from_dense(cost)
    # ... with the promise that any unlisted site costs row 3 at least 8.
    matrix = dataclasses.replace(matrix, beyond_cost=np.array([INF, INF, INF, 8.0]))
    problem = dataclasses.replace(_problem("p_median", cost=cost, p=2), costs=matrix)
    # Row 3 -> a at 9 (>= 8): allowed; objective 2 + 4 + 9 + 9 = 24.
    ok = _solution("p_median", (0, 2), (0, 0, 2, 0), 24.0, assignment_cost=(1, 4, 3, 9))
    assert _violations(problem, ok) == ()
    # At 7 (< 8) the claimed cost breaks the promise: the pair is not allowed.
    bad = _solution("p_median", (0, 2), (0, 0, 2, 0), 22.0, assignment_cost=(1, 4, 3, 7))
    assert _violations(problem, bad)[0] == "row 3 is assigned to site a, a pair that is not allowed"


def test_split_flow_shortfall_names_the_short_row() -> None:
    problem = _problem("cflp", fixed_cost=FIXED, capacity=4.0, single_source=False)
    # Row 1 gets only half of its demand; every other row is whole.
    short = _flows([0, 1, 2, 2, 3], [0, 0, 2, 0, 2], [1.0, 0.5, 2 / 3, 1 / 3, 1.0])
    v = _violations(problem, _solution("cflp", (0, 2), NEAREST_AC, 58.0, flows=short))
    assert "row 1 receives 0.500000 of its demand, not 1" in v
