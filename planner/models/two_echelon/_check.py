"""Independent checker of two-echelon solutions (all 52 weeks, plain loops, no MIP code)."""

from __future__ import annotations

from typing import Final

import numpy as np

from planner.models.two_echelon._instance import (
    MACHINE_NAMES,
    TwoEchelonInstance,
    TwoEchelonSolution,
)

_FLOW_TOL: Final[float] = 1e-6
_SHARE_SUM_TOL: Final[float] = 1e-5
_NEG_TOL: Final[float] = -1e-9


def check_two_echelon(  # noqa: C901, PLR0912, PLR0915
    inst: TwoEchelonInstance, sol: TwoEchelonSolution, *, rtol: float = 1e-6
) -> tuple[str, ...]:
    """Check a solution against every constraint, week by week, with plain loops.

    Written independently of the MIP builder: it reads the formulation's rules, not its
    rows, and checks all 52 weeks (not only the dominant ones).

    Parameters
    ----------
    inst
        The instance.
    sol
        A solution with ``has_solution``.
    rtol
        Relative tolerance.

    Returns
    -------
    problems
        One sentence per violated rule; empty when the solution is valid.
    """
    problems: list[str] = []
    t_n, j_n, k_n = inst.n_periods, inst.n_centres, inst.n_plants
    tol = rtol
    for name, arr in (
        ("plant_open", sol.plant_open),
        ("centre_open", sol.centre_open),
        ("centre_combine", sol.centre_combine),
    ):
        a = arr.astype(np.int64)
        if (np.diff(a, axis=1) < 0).any():
            problems.append(f"{name}: a site closes in a later period.")
    for k in range(k_n):
        for t in range(t_n):
            if inst.plant_required[k] and not sol.plant_open[k, t]:
                problems.append(f"required plant {inst.plant_ids[k]} closed in period {t}.")
            if inst.plant_forbidden[k] and sol.plant_open[k, t]:
                problems.append(f"forbidden plant {inst.plant_ids[k]} open in period {t}.")
    for j in range(j_n):
        for t in range(t_n):
            is_open = bool(sol.centre_open[j, t])
            if inst.centre_required[j] and not is_open:
                problems.append(f"required centre {inst.centre_ids[j]} closed in period {t}.")
            if inst.centre_forbidden[j] and is_open:
                problems.append(f"forbidden centre {inst.centre_ids[j]} open in period {t}.")
            if sol.centre_combine[j, t] and not is_open:
                problems.append(f"centre {inst.centre_ids[j]} combine-capable but closed.")
            nv = int(sol.centre_vans[j, t])
            if nv < 0 or nv > inst.centre_max_vans[j] or (nv > 0 and not is_open):
                problems.append(f"centre {inst.centre_ids[j]}: {nv} vans not allowed.")
    # Assignment.
    served = np.zeros((inst.n_zones, t_n))
    for p in range(inst.n_pairs):
        z, j = int(inst.pair_zone[p]), int(inst.pair_centre[p])
        for t in range(t_n):
            x = float(sol.pair_share[p, t])
            if x < -tol or x > 1 + tol:
                problems.append(f"pair {p}: share {x} outside [0, 1].")
            served[z, t] += x
            if x <= tol:
                continue
            if not sol.centre_open[j, t]:
                problems.append(f"zone {inst.zone_ids[z]} served by closed centre.")
            if inst.zone_machine[z] == 1 and not sol.centre_combine[j, t]:
                problems.append(
                    f"combine zone {inst.zone_ids[z]} served by tractor-only centre "
                    f"{inst.centre_ids[j]} in period {t}."
                )
            if inst.pair_van[p] and sol.centre_vans[j, t] < 1:
                problems.append(
                    f"zone {inst.zone_ids[z]} beyond the direct radius of "
                    f"{inst.centre_ids[j]} but the centre runs no van (period {t})."
                )
    total = served + sol.unserved_share
    if np.abs(total - 1).max(initial=0.0) > _SHARE_SUM_TOL:
        problems.append("zone shares plus unserved share do not add up to 1.")
    # Weekly capacity, all weeks.
    n_weeks = inst.profiles.shape[1]
    for t in range(t_n):
        direct = np.zeros((j_n, n_weeks))
        van = np.zeros((j_n, n_weeks))
        for p in range(inst.n_pairs):
            z, j = int(inst.pair_zone[p]), int(inst.pair_centre[p])
            load = (
                inst.zone_hours_year[z, t]
                * sol.pair_share[p, t]
                * inst.profiles[inst.zone_profile[z]]
            )
            if inst.pair_van[p]:
                van[j] += load
            else:
                direct[j] += load
        for j in range(j_n):
            cap = inst.centre_capacity_hours_per_week[j] * float(sol.centre_open[j, t])
            if direct[j].max() > cap * (1 + rtol) + _FLOW_TOL:
                problems.append(
                    f"centre {inst.centre_ids[j]} period {t}: direct load "
                    f"{direct[j].max():.3f} h in week {int(direct[j].argmax()) + 1} > {cap:.3f}."
                )
            vcap = inst.van_hours_per_week * float(sol.centre_vans[j, t])
            if van[j].max() > vcap * (1 + rtol) + _FLOW_TOL:
                problems.append(
                    f"centre {inst.centre_ids[j]} period {t}: van load {van[j].max():.3f} h "
                    f"> {vcap:.3f}."
                )
    # Machines: plant capacity and flow balance.
    for t in range(t_n):
        need = np.zeros((j_n, 2))
        for p in range(inst.n_pairs):
            z, j = int(inst.pair_zone[p]), int(inst.pair_centre[p])
            need[j, inst.zone_machine[z]] += inst.zone_new_machines[z, t] * sol.pair_share[p, t]
        supply = sol.plant_flow[:, :, :, t].sum(axis=0) + sol.import_flow[:, :, t]
        if np.abs(supply - need).max(initial=0.0) > _SHARE_SUM_TOL * max(
            1.0, need.max(initial=0.0)
        ):
            problems.append(f"period {t}: machines into centres != machines their zones buy.")
        for k in range(k_n):
            made = float(sol.plant_flow[k, :, :, t].sum())
            cap = inst.plant_capacity_machines_per_year[k] * float(sol.plant_open[k, t])
            if made > cap * (1 + rtol) + _FLOW_TOL:
                problems.append(f"plant {inst.plant_ids[k]} period {t}: {made:.3f} > {cap:.3f}.")
            if (sol.plant_flow[k, ~np.isfinite(inst.outbound_cost_kzt_per_machine[k]), :, t]
                    > _FLOW_TOL).any():  # fmt: skip
                problems.append(f"plant {inst.plant_ids[k]} delivers on a closed arc.")
            problems.extend(
                f"plant {inst.plant_ids[k]} ships {MACHINE_NAMES[m]}s it does not make."
                for m in (0, 1)
                if not np.isfinite(inst.plant_inbound_cost_kzt_per_machine[k, m])
                and sol.plant_flow[k, :, m, t].sum() > _FLOW_TOL
            )
        bad_imp = ~np.isfinite(inst.import_cost_kzt_per_machine) & (
            sol.import_flow[:, :, t] > _FLOW_TOL
        )
        if bad_imp.any():
            problems.append(f"period {t}: direct import where it is not allowed.")
    if (sol.plant_flow < _NEG_TOL).any() or (sol.import_flow < _NEG_TOL).any():
        problems.append("negative machine flows.")
    # Objective, recomputed from scratch.
    cost = np.zeros(t_n)
    for t in range(t_n):
        c = 0.0
        for k in range(k_n):
            c += inst.plant_fixed_cost_kzt[k] * float(sol.plant_open[k, t])
            for j in range(j_n):
                for m in (0, 1):
                    f = float(sol.plant_flow[k, j, m, t])
                    if f > 0:
                        c += f * (
                            inst.plant_inbound_cost_kzt_per_machine[k, m]
                            + inst.outbound_cost_kzt_per_machine[k, j]
                        )
        for j in range(j_n):
            c += inst.centre_fixed_cost_kzt[j] * float(sol.centre_open[j, t])
            c += inst.centre_combine_cost_kzt[j] * float(sol.centre_combine[j, t])
            c += inst.van_cost_kzt_per_year * float(sol.centre_vans[j, t])
            for m in (0, 1):
                f = float(sol.import_flow[j, m, t])
                if f > 0:
                    c += f * inst.import_cost_kzt_per_machine[j, m]
        for p in range(inst.n_pairs):
            z = int(inst.pair_zone[p])
            c += (
                inst.service_cost_kzt_per_hour_km * inst.pair_km[p]
                * inst.zone_hours_year[z, t] * float(sol.pair_share[p, t])
            )  # fmt: skip
        cost[t] = c
        if inst.budget_kzt_per_year is not None and c > inst.budget_kzt_per_year * (1 + rtol) + 1:
            problems.append(f"period {t}: cost {c:,.0f} exceeds the budget.")
    unserved_h = (inst.zone_hours_year * sol.unserved_share).sum(axis=0)
    if inst.objective == "cost":
        want = float((cost + inst.unserved_penalty_kzt_per_hour * unserved_h) @ inst.period_weight)
    else:
        want = float(unserved_h @ inst.period_weight)
    if abs(want - sol.objective) > 1e-6 * max(1.0, abs(want)):
        problems.append(f"objective {sol.objective:,.4f} != recomputed {want:,.4f}.")
    if np.isfinite(sol.bound) and sol.bound > sol.objective * (1 + 1e-7) + _FLOW_TOL:
        problems.append(f"bound {sol.bound} above the objective {sol.objective}.")
    return tuple(problems)
