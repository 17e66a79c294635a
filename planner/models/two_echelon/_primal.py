"""Primal heuristics of the two-echelon MIP: rounding, restricted and fixed variants, trimming.

They work on the :class:`~planner.models._mip.SparseMip` of :mod:`._formulation` and its
:class:`Layout` (variable blocks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import numpy.typing as npt

from planner.models._base import (
    FloatArray,
    IntArray,
)
from planner.models._mip import SparseMip
from planner.models.two_echelon._formulation import Layout
from planner.models.two_echelon._instance import (
    TwoEchelonInstance,
)

_RESTRICT_LP_TOL: Final[float] = 1e-4
_HALF: Final[float] = 0.5
_TRIM_TOL: Final[float] = 1e-9


def _variant(
    mip: SparseMip,
    *,
    lower: FloatArray | None = None,
    upper: FloatArray | None = None,
    relax: bool = False,
) -> SparseMip:
    """Return a copy of ``mip`` with other variable bounds and/or integrality dropped."""
    out = SparseMip(maximize=mip.maximize)
    lb, ub = mip.variable_bounds()
    ints = mip.integer_mask() & (not relax)
    out.add_variables(
        mip.n_variables,
        lower=lb if lower is None else lower,
        upper=ub if upper is None else upper,
        objective=mip.objective_vector(),
    )
    out._var_int = [ints]  # same variables, integrality as requested
    out._con_lb, out._con_ub = mip._con_lb, mip._con_ub  # same rows
    out._rows, out._cols, out._coefs = mip._rows, mip._cols, mip._coefs
    out._n_cons = mip.n_constraints
    return out


def fix_integers(mip: SparseMip, layout: Layout, values: FloatArray) -> SparseMip:
    """Return the LP left when every integer variable is fixed to ``values``."""
    lb, ub = mip.variable_bounds()
    lb, ub = lb.copy(), ub.copy()
    ids = layout.integer_ids
    lb[ids] = ub[ids] = np.clip(np.round(values[ids]), lb[ids], ub[ids])
    return _variant(mip, lower=lb, upper=ub, relax=True)


def with_bounds(mip: SparseMip, lower: FloatArray, upper: FloatArray) -> SparseMip:
    """Return a copy of ``mip`` with the given variable bounds (e.g. reduced-cost fixing)."""
    return _variant(mip, lower=lower, upper=upper)


def restrict(mip: SparseMip, layout: Layout, lp: FloatArray, incumbent: FloatArray) -> SparseMip:
    """Return the MIP with every site the LP and the incumbent leave closed fixed closed."""
    _, ub = mip.variable_bounds()
    ub = ub.copy()
    for block in (layout.plant, layout.centre, layout.combine):
        # A site may open in any period if the LP or the incumbent uses it in some period.
        used = (lp[block] > _RESTRICT_LP_TOL).any(axis=1) | (incumbent[block] > _HALF).any(axis=1)
        ub[block[~used]] = 0.0
    return _variant(mip, upper=ub)


def plants_only(mip: SparseMip, layout: Layout, incumbent: FloatArray) -> SparseMip:
    """Return the MIP with everything but the plant decisions and machine flows fixed.

    Given the centres and zone shares of ``incumbent``, choosing plants is a small
    multi-period facility-location problem (a few dozen binaries); its optimum replaces the
    plant part of a rounded solution.
    """
    lb, ub = mip.variable_bounds()
    lb, ub = lb.copy(), ub.copy()
    for block in (
        layout.centre, layout.combine, layout.runs_vans, layout.vans, layout.share,
        layout.unserved, layout.hours,
    ):  # fmt: skip
        ids = block.ravel()
        lb[ids] = ub[ids] = np.clip(incumbent[ids], lb[ids], ub[ids])
    return _variant(mip, lower=lb, upper=ub)


def round_lp(
    inst: TwoEchelonInstance, layout: Layout, lp: FloatArray, theta: float, theta_c: float
) -> FloatArray:
    """Round an LP relaxation to integer site decisions (monotone over periods)."""
    vals = lp.copy()

    def mono(x: FloatArray) -> FloatArray:
        out: FloatArray = np.maximum.accumulate(x, axis=1)
        return out

    plant = mono((lp[layout.plant] >= theta - 1e-9).astype(np.float64))
    plant = np.maximum(plant, inst.plant_required[:, None])
    plant = np.where(inst.plant_forbidden[:, None], 0.0, plant)
    # Keep enough plant capacity for the machines: open the cheapest-per-capacity extra plants.
    need = inst.zone_new_machines.sum(axis=0)
    allowed_import = np.isfinite(inst.import_cost_kzt_per_machine).all()
    if not allowed_import:
        for t in range(inst.n_periods):
            order = np.argsort(
                inst.plant_fixed_cost_kzt / np.maximum(inst.plant_capacity_machines_per_year, 1e-9)
            )
            for k in order:
                if (inst.plant_capacity_machines_per_year @ plant[:, t]) >= need[t]:
                    break
                if not inst.plant_forbidden[k]:
                    plant[k, t:] = 1.0
    centre = mono((lp[layout.centre] >= theta - 1e-9).astype(np.float64))
    centre = np.maximum(centre, inst.centre_required[:, None])
    centre = np.where(inst.centre_forbidden[:, None], 0.0, centre)
    combine = mono((lp[layout.combine] >= theta_c - 1e-9).astype(np.float64)) * centre
    combine = mono(combine)
    vans = np.ceil(lp[layout.vans] - 1e-6) * centre
    vans = np.minimum(vans, inst.centre_max_vans[:, None])
    vals[layout.plant] = plant
    vals[layout.centre] = centre
    vals[layout.combine] = combine
    vals[layout.vans] = vans
    vals[layout.runs_vans] = (vans > 0).astype(np.float64)
    return vals


def trim(inst: TwoEchelonInstance, layout: Layout, values: FloatArray) -> FloatArray:
    """Drop integer resources a feasible solution does not use (stays feasible, costs less).

    A centre (plant) opens in the first period it serves a zone (makes a machine), combine
    capability in the first period it serves a combine zone, and each period keeps only the
    vans its peak van week needs.
    """
    out = values.copy()
    t_n, j_n = inst.n_periods, inst.n_centres
    share = values[layout.share]
    used = share > _TRIM_TOL
    pj = inst.pair_centre
    centre_used = np.zeros((j_n, t_n), dtype=np.bool_)
    np.logical_or.at(centre_used, pj, used)
    combine_used = np.zeros((j_n, t_n), dtype=np.bool_)
    is_c = inst.zone_machine[inst.pair_zone] == 1
    np.logical_or.at(combine_used, pj[is_c], used[is_c])
    y = np.maximum.accumulate(centre_used | inst.centre_required[:, None], axis=1)
    c = np.maximum.accumulate(combine_used, axis=1) & y
    van_need = np.zeros((j_n, t_n))
    if inst.van_hours_per_week > 0:
        van = inst.pair_van
        for t in range(t_n):
            load = np.zeros((j_n, inst.profiles.shape[1]))
            np.add.at(
                load,
                pj[van],
                (inst.zone_hours_year[inst.pair_zone[van], t] * share[van, t])[:, None]
                * inst.profiles[inst.zone_profile[inst.pair_zone[van]]],
            )
            van_need[:, t] = np.ceil(load.max(axis=1) / inst.van_hours_per_week - 1e-7)
    v = np.minimum(np.round(values[layout.vans]), np.maximum(van_need, 0.0)) * y
    made = np.zeros((inst.n_plants, t_n))
    np.add.at(made, layout.q_plant, values[layout.q])
    plant = np.maximum.accumulate((made > _TRIM_TOL) | inst.plant_required[:, None], axis=1)
    out[layout.centre] = np.minimum(y, np.round(values[layout.centre]))
    out[layout.combine] = np.minimum(c, np.round(values[layout.combine]))
    out[layout.vans] = v
    out[layout.runs_vans] = (v > 0).astype(np.float64)
    out[layout.plant] = np.minimum(plant, np.round(values[layout.plant]))
    return out


Move = tuple[str, int, int]
"""A local-search move: (kind, centre, second centre or -1); kinds in :data:`MOVE_KINDS`."""
MOVE_KINDS: Final[tuple[str, ...]] = (
    "drop", "combine", "delay", "delay_combine", "van", "open", "swap",
)  # fmt: skip
"""``drop`` closes a centre (capability and vans too) in every period, ``combine`` removes its
combine capability in every period, ``delay`` / ``delay_combine`` close the centre /
capability in its first open (capable) period only, ``van`` adds a van in every open
period below the centre's most vans, ``open`` opens a closed centre in every
period (combine-capable, with its most vans), ``swap`` closes the first centre and opens the
second (a closed one) like ``open``."""


def neighbourhood(
    inst: TwoEchelonInstance,
    layout: Layout,
    values: FloatArray,
    n_open: int,
    *,
    order: Mapping[Move, float] | None = None,
) -> list[Move]:
    """Return the local-search moves of an integer solution, most promising first.

    Every open, non-required centre gets a ``drop`` and a ``delay`` move (a ``delay`` only
    when it opens before the last period), every combine-capable one a ``combine`` and a
    ``delay_combine`` move, every one with van pairs below its most vans a ``van`` move; the
    ``n_open`` closed centres of :func:`add_moves` an ``open`` move; every open, non-required
    centre a ``swap`` to the closed centre nearest (in service-hour-weighted km) to the zones
    it serves. ``order`` (the objective
    change a move had when last tried) sorts the moves, best first; moves never tried come
    first, the lightest centres first.
    """
    share = values[layout.share][:, -1]
    hours = inst.zone_hours_year[inst.pair_zone, -1] * share
    load = np.bincount(inst.pair_centre, weights=hours, minlength=inst.n_centres)
    y = values[layout.centre] > _HALF
    c = values[layout.combine] > _HALF
    closable = y[:, -1] & ~inst.centre_required
    van_reach = np.bincount(inst.pair_centre[inst.pair_van], minlength=inst.n_centres) > 0
    partner = _swap_partners(inst, layout, values)
    moves: list[Move] = []
    for j in np.flatnonzero(closable)[np.argsort(load[closable], kind="stable")]:
        jj = int(j)
        moves.append(("drop", jj, -1))
        if c[jj, -1]:
            moves.append(("combine", jj, -1))
        if y[jj, 0] and inst.n_periods > 1:
            moves.append(("delay", jj, -1))
        if c[jj, 0] and inst.n_periods > 1:
            moves.append(("delay_combine", jj, -1))
        if van_reach[jj] and (np.round(values[layout.vans[jj]]) < inst.centre_max_vans[jj]).any():
            moves.append(("van", jj, -1))
    moves += [("open", int(rows[0]), -1) for rows in add_moves(inst, layout, values, n_open)]
    moves += [("swap", int(j), int(partner[j])) for j in np.flatnonzero(closable & (partner >= 0))]
    if order is None:
        return moves
    known = order
    return sorted(moves, key=lambda mv: known.get(mv, -np.inf))


def apply_move(
    inst: TwoEchelonInstance, layout: Layout, values: FloatArray, move: Move
) -> FloatArray:
    """Return a copy of ``values`` with ``move`` applied to its integer variables.

    Openings stay monotone over the periods; ``runs_vans`` follows the vans.
    """
    kind, j, other = move
    out = values.copy()
    y = out[layout.centre[j]] > _HALF
    c = out[layout.combine[j]] > _HALF
    if kind == "drop":
        out[layout.centre[j]] = out[layout.combine[j]] = out[layout.vans[j]] = 0.0
    elif kind == "combine":
        out[layout.combine[j]] = 0.0
    elif kind == "delay" and y.any():
        t0 = int(np.argmax(y))
        out[layout.centre[j, t0]] = out[layout.combine[j, t0]] = out[layout.vans[j, t0]] = 0.0
    elif kind == "delay_combine" and c.any():
        out[layout.combine[j, int(np.argmax(c))]] = 0.0
    elif kind == "van":
        vans = out[layout.vans[j]]
        out[layout.vans[j]] = np.where(y, np.minimum(vans + 1.0, inst.centre_max_vans[j]), vans)
    elif kind in ("open", "swap"):
        if kind == "swap":
            out[layout.centre[j]] = out[layout.combine[j]] = out[layout.vans[j]] = 0.0
            j = other
        out[layout.centre[j]] = out[layout.combine[j]] = 1.0
        out[layout.vans[j]] = float(inst.centre_max_vans[j])
    out[layout.runs_vans] = (out[layout.vans] > _HALF).astype(np.float64)
    return out


def _swap_partners(inst: TwoEchelonInstance, layout: Layout, values: FloatArray) -> IntArray:
    """Per centre, the closed centre nearest to the zones it serves (-1: none reaches them).

    Nearest: least sum over the centre's zones of the hours it serves there (last period)
    times the zone's km to the candidate (twice the longest pair's km for a zone the candidate
    does not reach); a candidate must reach one of the zones.
    """
    z_n, j_n = inst.n_zones, inst.n_centres
    far = 2.0 * float(inst.pair_km.max()) if inst.n_pairs else 0.0
    km = np.full((z_n, j_n), far)
    km[inst.pair_zone, inst.pair_centre] = inst.pair_km
    reach = np.zeros((z_n, j_n), dtype=np.bool_)
    reach[inst.pair_zone, inst.pair_centre] = True
    served = np.zeros((z_n, j_n))
    hours = inst.zone_hours_year[inst.pair_zone, -1] * values[layout.share][:, -1]
    np.add.at(served, (inst.pair_zone, inst.pair_centre), hours)
    closed = (values[layout.centre] < _HALF).all(axis=1) & ~inst.centre_forbidden
    out = np.full(j_n, -1, dtype=np.int64)
    if not closed.any():
        return out
    cand = np.flatnonzero(closed)
    for j in np.flatnonzero(served.sum(axis=0) > 0):
        zones = np.flatnonzero(served[:, j] > 0)
        dist = served[zones, j] @ km[np.ix_(zones, cand)]
        dist[~reach[np.ix_(zones, cand)].any(axis=0)] = np.inf
        k = int(np.argmin(dist))
        if np.isfinite(dist[k]):
            out[j] = cand[k]
    return out


def add_moves(
    inst: TwoEchelonInstance, layout: Layout, values: FloatArray, n_moves: int
) -> list[IntArray]:
    """Return closed centres to try opening, most promising first.

    A closed centre's promise is what its zones would save if they moved to it: per zone,
    the hours times (the zone's present cost per hour -- travel of its shares plus the penalty
    of its unserved share -- minus the travel cost to this centre), summed over the periods
    where positive, minus the centre's fixed cost. A trial opens the centre (combine-capable,
    with its most vans) in every period; :func:`trim` then drops what the re-balanced plan does
    not use.
    """
    cost_mode = inst.objective == "cost"
    a_km = inst.service_cost_kzt_per_hour_km if cost_mode else 0.0
    penalty = inst.unserved_penalty_kzt_per_hour if cost_mode else 1.0
    share = values[layout.share]  # P x T
    per_hour = np.zeros((inst.n_zones, inst.n_periods))
    np.add.at(per_hour, inst.pair_zone, a_km * inst.pair_km[:, None] * share)
    per_hour += penalty * values[layout.unserved]
    pz = inst.pair_zone
    saving = np.maximum(per_hour[pz] - a_km * inst.pair_km[:, None], 0.0)
    saving = (saving * inst.zone_hours_year[pz] * inst.period_weight[None, :]).sum(axis=1)
    gain = np.bincount(inst.pair_centre, weights=saving, minlength=inst.n_centres)
    fixed = inst.centre_fixed_cost_kzt * inst.period_weight.sum() if cost_mode else 0.0
    score = gain - fixed
    closed = (values[layout.centre] < _HALF).all(axis=1) & ~inst.centre_forbidden
    cand = np.flatnonzero(closed & (gain > 0))
    order = cand[np.argsort(-score[cand], kind="stable")]
    return [order[i : i + 1] for i in range(min(n_moves, len(order)))]


def extract(
    inst: TwoEchelonInstance, layout: Layout, values: FloatArray
) -> dict[str, npt.NDArray[np.generic]]:
    k_n, j_n, t_n = inst.n_plants, inst.n_centres, inst.n_periods
    flow = np.zeros((k_n, j_n, 2, t_n))
    qv = np.maximum(values[layout.q], 0.0)
    np.add.at(flow, (layout.q_plant, layout.q_centre, layout.q_machine), qv)
    return {
        "plant_open": np.round(values[layout.plant]).astype(np.bool_),
        "centre_open": np.round(values[layout.centre]).astype(np.bool_),
        "centre_combine": np.round(values[layout.combine]).astype(np.bool_),
        "centre_vans": np.round(values[layout.vans]).astype(np.int64),
        "pair_share": np.clip(values[layout.share], 0.0, 1.0),
        "unserved_share": np.clip(values[layout.unserved], 0.0, 1.0),
        "plant_flow": flow,
        "import_flow": np.maximum(values[layout.imp], 0.0),
    }


def fix_relaxed(mip: SparseMip) -> SparseMip:
    """Return the LP relaxation of ``mip`` (same rows, integrality dropped)."""
    return _variant(mip, relax=True)
