"""The two-echelon MIP, formulation (0)-(12), built as a :class:`~planner.models._mip.SparseMip`.

Indices: t periods, k plants, j centres, z demand zones, p = (z, j) allowed
pairs, m machine type (tractor/combine), pi seasonal profile (region x machine), w weeks;
data: omega_t years per period, h_zt yearly service hours of zone z, n_zt new Belarus
machines per year bought in zone z, P_pi,w share of a profile's yearly hours in week w,
d_p road km of pair p, a service cost per hour x km, F_k / f_j / g_j fixed yearly costs of
plant / centre / combine capability, e_van cost per van-year, Q_k plant capacity
(machines/year), C_j centre capacity (hours/week), V_j max vans, hv hours per van-week,
b_km kit inbound cost per machine (rail, via the cheapest entry point), o_kj outbound cost
per machine, i_jm direct-import cost per machine, rho unserved penalty per hour.

Formulation::

    (0) cost mode:  min sum_t omega_t [ sum_k F_k Y_kt + sum_j (f_j y_jt + g_j c_jt
                         + e_van v_jt) + sum_{k,j,m} (b_km + o_kj) q_kjmt + sum_{j,m} i_jm r_jmt
                         + sum_p a d_p h_zt x_pt + rho sum_z h_zt s_zt ]
        service-level mode: min sum_t omega_t sum_z h_zt s_zt  (unserved hours) s.t. (11)
    (1) sum_{p of z} x_pt + s_zt = 1                         every zone z, period t
    (2) x_pt <= y_jt (tractor zone, direct pair); x_pt <= c_jt (combine zone);
        x_pt <= u_jt (pair beyond the direct radius: served by vans only)
    (3) H_j,pi,mode,t = sum_{p of j, zone in pi, mode} h_zt x_pt   mode in {direct, van}
    (4) sum_pi P_pi,w H_j,pi,direct,t <= C_j y_jt          every week w in W*
    (5) sum_pi P_pi,w H_j,pi,van,t    <= hv v_jt           every week w in W*
        W* = weeks not dominated by another week (planner.seasons.dominant_weeks): implies
        the constraint for all 52 weeks (proof there).
    (6) c_jt <= y_jt;  u_jt <= y_jt;  u_jt <= v_jt <= V_j u_jt
    (7) Y_k,t-1 <= Y_kt;  y_j,t-1 <= y_jt;  c_j,t-1 <= c_jt    (opened sites stay open)
    (8) sum_k q_kjmt + r_jmt = sum_{p of j, zone of type m} n_zt x_pt   (machines to dealers;
        assumption: the unserved share of a zone's purchases is not delivered -- no dealer
        service within reach, no sale -- and is reported as unserved machines)
    (9) sum_{j,m} q_kjmt <= Q_k Y_kt;  q_kjmt = 0 if plant k does not make type m
   (10) required sites: Y = 1 / y = 1 in every period; forbidden: 0
   (11) budget (when set): the bracket of (0) without the penalty <= budget, every period
   (12) Y, y, c, u binary; v integer; x, s in [0, 1]; q, r, H >= 0

Valid inequalities (:func:`build_mip` adds (14)-(15), :func:`plant_link_rows` gives (13),
:func:`plant_zone_link_rows` the violated rows (16);
they cut off fractional points only, never an integer-feasible one, so the optimum is
unchanged and the LP bound rises):

   (13) q_kjmt <= min(Q_k, N_jmt) Y_kt, N_jmt = sum_{p of j, zone of type m} n_zt: a plant
        sends a centre at most the machines the centre's zones buy (disaggregated plant link);
   (14) plant capacity MIR, every period t and divisor delta (a distinct capacity of the free
        plants): from  sum_k Q_k Y_kt + sum_{j,m} r_jmt + sum_z n_zt s_zt >= N_t  (implied by
        (1), (8), (9)), with b = (N_t - sum_{k required} Q_k) / delta, f = b - floor(b) > 0
        and a_k = Q_k / delta:
            sum_{k free} (floor(a_k) + min(a_k - floor(a_k), f) / f) Y_kt
                + (sum r_jmt + sum_z n_zt s_zt) / (delta f) >= ceil(b);
   (15) sum_{pi combine-only} P_pi,w H_j,pi,direct,t <= C_j c_jt  every week w in W*:
        combine work needs the capability (implied for integer c by (2) and (4)).
   (16) q_kjmt <= sum_{p in P'} n_zt x_pt + (sum_{p in P_jm - P'} n_zt) Y_kt  for every subset
        P' of the pairs P_jm of centre j with zones of type m: a plant sends a centre at most
        the machines of the zones the centre serves, times the plant's opening (the
        disaggregated form of q_kjmt <= N_jmt(x) Y_kt; (13) is the case P' empty). Valid:
        Y_kt = 0 gives q_kjmt = 0 by (9); Y_kt = 1 gives q_kjmt <= sum_p n_zt x_pt by (8)
        and x_pt <= 1. Separated with P' = {p : x_pt < Y_kt}.

The cheapest entry point per plant and machine type is exact: entry points have no
capacity, so each plant's kits take their cheapest route independently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from planner.models._base import (
    BoolArray,
    FloatArray,
    IntArray,
)
from planner.models._mip import CutRows, SparseMip
from planner.models.two_echelon._instance import TwoEchelonInstance

_OBJ_SCALE_COST: Final[float] = 1e-6
_OBJ_SCALE_HOURS: Final[float] = 1e-3
_HOURS_SCALE: Final[float] = 1e-3
_MIR_MIN_FRACTION: Final[float] = 1e-6


@dataclass(frozen=True, eq=False)
class Layout:
    """Variable ids of each block (arrays shaped like the blocks)."""

    plant: IntArray  # K x T
    centre: IntArray  # J x T
    combine: IntArray  # J x T
    runs_vans: IntArray  # J x T
    vans: IntArray  # J x T
    share: IntArray  # P x T
    unserved: IntArray  # Z x T
    q_plant: IntArray  # nq: plant index of each plant-centre-machine flow
    q_centre: IntArray
    q_machine: IntArray
    q: IntArray  # nq x T
    imp: IntArray  # J x 2 x T
    hours: IntArray  # J x n_profiles x 2 x T
    integer_ids: IntArray
    obj_scale: float


def build_mip(  # noqa: C901, PLR0915 -- one block per numbered constraint
    inst: TwoEchelonInstance,
    weeks: IntArray,
    *,
    relax: bool = False,
    strengthen: bool = True,
    plant_links: bool = False,
) -> tuple[SparseMip, Layout]:
    """Build formulation (0)-(12) as a :class:`SparseMip`.

    ``strengthen`` adds the valid inequalities (14)-(15), ``plant_links`` all rows (13)
    (the solve adds only the violated ones, :func:`plant_link_rows`).
    """
    k_n, j_n, z_n, t_n = inst.n_plants, inst.n_centres, inst.n_zones, inst.n_periods
    n_prof = inst.profiles.shape[0]
    omega = inst.period_weight
    cost_mode = inst.objective == "cost"
    mip = SparseMip()
    integer = not relax
    # Scaling (numerics only): objective in million KZT (or thousand hours in service-level
    # mode), hour rows (3)-(5) in thousand hours, the budget row (11) in million KZT.
    obj_scale = _OBJ_SCALE_COST if cost_mode else _OBJ_SCALE_HOURS
    raw_add = mip.add_variables

    def add(n: int, *, objective: npt.ArrayLike = 0.0, **kw: Any) -> IntArray:  # noqa: ANN401
        return raw_add(n, objective=np.asarray(objective, dtype=np.float64) * obj_scale, **kw)

    def ub_sites(required: BoolArray, forbidden: BoolArray) -> tuple[FloatArray, FloatArray]:
        lb = np.repeat(required.astype(np.float64)[:, None], t_n, axis=1)
        ub = np.repeat((~forbidden).astype(np.float64)[:, None], t_n, axis=1)
        return lb.ravel(), ub.ravel()

    # Site variables, (10) through the bounds.
    lb, ub = ub_sites(inst.plant_required, inst.plant_forbidden)
    obj = (inst.plant_fixed_cost_kzt[:, None] * omega[None, :]).ravel() if cost_mode else 0.0
    plant = add(k_n * t_n, lower=lb, upper=ub, integer=integer, objective=obj, name="Y").reshape(
        k_n, t_n
    )
    lb, ub = ub_sites(inst.centre_required, inst.centre_forbidden)
    obj = (inst.centre_fixed_cost_kzt[:, None] * omega[None, :]).ravel() if cost_mode else 0.0
    centre = add(j_n * t_n, lower=lb, upper=ub, integer=integer, objective=obj, name="y").reshape(
        j_n, t_n
    )
    obj = (inst.centre_combine_cost_kzt[:, None] * omega[None, :]).ravel() if cost_mode else 0.0
    combine = add(j_n * t_n, upper=ub, integer=integer, objective=obj, name="c").reshape(j_n, t_n)
    van_ok = (inst.centre_max_vans > 0) & ~inst.centre_forbidden
    van_ub = np.repeat(van_ok.astype(np.float64)[:, None], t_n, axis=1).ravel()
    runs_vans = add(j_n * t_n, upper=van_ub, integer=integer, name="u").reshape(j_n, t_n)
    obj = (
        np.full((j_n, t_n), inst.van_cost_kzt_per_year) * omega[None, :]
    ).ravel() if cost_mode else 0.0  # fmt: skip
    vans = add(
        j_n * t_n,
        upper=np.repeat(inst.centre_max_vans.astype(np.float64)[:, None], t_n, axis=1).ravel()
        * van_ub,
        integer=integer,
        objective=obj,
        name="v",
    ).reshape(j_n, t_n)

    # Flow variables.
    pz, pj = inst.pair_zone, inst.pair_centre
    n_pairs = inst.n_pairs
    hz = inst.zone_hours_year  # Z x T
    if cost_mode:
        obj = (
            inst.service_cost_kzt_per_hour_km * inst.pair_km[:, None] * hz[pz] * omega[None, :]
        ).ravel()
    else:
        obj = 0.0
    share = add(n_pairs * t_n, upper=1.0, objective=obj, name="x").reshape(n_pairs, t_n)
    obj = ((inst.unserved_penalty_kzt_per_hour if cost_mode else 1.0) * hz * omega[None, :]).ravel()
    unserved = add(z_n * t_n, upper=1.0, objective=obj, name="s").reshape(z_n, t_n)
    makes = np.isfinite(inst.plant_inbound_cost_kzt_per_machine) & ~inst.plant_forbidden[:, None]
    arcs = makes[:, None, :] & np.isfinite(inst.outbound_cost_kzt_per_machine)[:, :, None]
    q_plant, q_centre, q_machine = (a.astype(np.int64) for a in np.nonzero(arcs))
    unit_cost = (
        inst.plant_inbound_cost_kzt_per_machine[q_plant, q_machine]
        + inst.outbound_cost_kzt_per_machine[q_plant, q_centre]
    )
    obj = (unit_cost[:, None] * omega[None, :]).ravel() if cost_mode else 0.0
    q = add(len(q_plant) * t_n, objective=obj, name="q").reshape(-1, t_n)
    imp_ok = np.isfinite(inst.import_cost_kzt_per_machine)
    imp_cost = np.where(imp_ok, inst.import_cost_kzt_per_machine, 0.0)
    obj = (imp_cost[:, :, None] * omega[None, None, :]).ravel() if cost_mode else 0.0
    imp = add(
        j_n * 2 * t_n,
        upper=np.repeat(np.where(imp_ok, np.inf, 0.0)[:, :, None], t_n, axis=2).ravel(),
        objective=obj,
        name="r",
    ).reshape(j_n, 2, t_n)
    hours = add(j_n * n_prof * 2 * t_n, name="H").reshape(j_n, n_prof, 2, t_n)

    tt = np.arange(t_n)
    # (1) assignment: sum_p x + s = 1.
    rows = np.concatenate([(pz[:, None] * t_n + tt[None, :]).ravel(), np.arange(z_n * t_n)])
    cols = np.concatenate([share.ravel(), unserved.ravel()])
    mip.add_constraints(
        lower=np.ones(z_n * t_n), upper=np.ones(z_n * t_n), rows=rows, cols=cols,
        coefs=np.ones(len(cols)),
    )  # fmt: skip
    # (2) linking of pairs to centre, combine capability and vans.
    is_combine = inst.zone_machine[pz] == 1
    direct = ~inst.pair_van
    links = [
        (np.flatnonzero(direct & ~is_combine), centre),
        (np.flatnonzero(is_combine), combine),
        (np.flatnonzero(inst.pair_van), runs_vans),
    ]
    for sel, var in links:
        if not len(sel):
            continue
        n = len(sel) * t_n
        r = np.arange(n)
        mip.add_constraints(
            lower=np.full(n, -np.inf), upper=np.zeros(n),
            rows=np.concatenate([r, r]),
            cols=np.concatenate([share[sel].ravel(), var[pj[sel]].ravel()]),
            coefs=np.concatenate([np.ones(n), -np.ones(n)]),
        )  # fmt: skip
    # (3) hours by centre, profile and mode.
    mode = inst.pair_van.astype(np.int64)
    prof = inst.zone_profile[pz]
    h_rows = hours.reshape(-1, t_n)  # row index = ((j * n_prof + pi) * 2 + mode)
    pair_row = (pj * n_prof + prof) * 2 + mode
    n_h = h_rows.shape[0] * t_n
    rows = np.concatenate([np.arange(n_h), (pair_row[:, None] * t_n + tt[None, :]).ravel()])
    cols = np.concatenate([h_rows.ravel(), share.ravel()])
    coefs = np.concatenate([np.ones(n_h), -hz[pz].ravel() * _HOURS_SCALE])
    mip.add_constraints(lower=np.zeros(n_h), upper=np.zeros(n_h), rows=rows, cols=cols, coefs=coefs)
    # (4)-(5) weekly capacity in the dominant weeks.
    used_prof = np.unique(inst.zone_profile) if len(inst.zone_profile) else np.zeros(0, np.int64)
    share_w = inst.profiles[:, weeks]  # n_prof x W
    for m_idx, cap_var, cap_coef in (
        (0, centre, inst.centre_capacity_hours_per_week * _HOURS_SCALE),
        (1, vans, np.full(j_n, inst.van_hours_per_week * _HOURS_SCALE)),
    ):
        # row (j, t, w): sum_pi P[pi, w] H[j, pi, m, t] - cap * var[j, t] <= 0
        n_w = len(weeks)
        base = (np.arange(j_n)[:, None, None] * t_n + tt[None, :, None]) * n_w + np.arange(n_w)
        n_rows = j_n * t_n * n_w
        r_h = np.broadcast_to(base[:, None, :, :], (j_n, len(used_prof), t_n, n_w))
        c_h = np.broadcast_to(
            hours[:, used_prof, m_idx, :][:, :, :, None], (j_n, len(used_prof), t_n, n_w)
        )
        v_h = np.broadcast_to(share_w[used_prof][None, :, None, :], (j_n, len(used_prof), t_n, n_w))
        r_c = base
        c_c = np.broadcast_to(cap_var[:, :, None], (j_n, t_n, n_w))
        v_c = np.broadcast_to(-cap_coef[:, None, None], (j_n, t_n, n_w))
        keep = v_h.ravel() > 0
        mip.add_constraints(
            lower=np.full(n_rows, -np.inf), upper=np.zeros(n_rows),
            rows=np.concatenate([r_h.ravel()[keep], r_c.ravel()]),
            cols=np.concatenate([c_h.ravel()[keep], c_c.ravel()]),
            coefs=np.concatenate([v_h.ravel()[keep], v_c.ravel()]),
        )  # fmt: skip
    # (6) c <= y, u <= y, v <= V u, u <= v.
    n = j_n * t_n
    r = np.arange(n)
    vmax = np.repeat(inst.centre_max_vans.astype(np.float64)[:, None], t_n, axis=1).ravel()
    for a, b, coef_b in (
        (combine, centre, -np.ones(n)),
        (runs_vans, centre, -np.ones(n)),
        (vans, runs_vans, -vmax),
        (runs_vans, vans, -np.ones(n)),
    ):
        mip.add_constraints(
            lower=np.full(n, -np.inf), upper=np.zeros(n), rows=np.concatenate([r, r]),
            cols=np.concatenate([a.ravel(), b.ravel()]),
            coefs=np.concatenate([np.ones(n), coef_b]),
        )  # fmt: skip
    # (7) monotone openings.
    if t_n > 1:
        for var in (plant, centre, combine):
            prev, nxt = var[:, :-1].ravel(), var[:, 1:].ravel()
            n = len(prev)
            r = np.arange(n)
            mip.add_constraints(
                lower=np.full(n, -np.inf), upper=np.zeros(n), rows=np.concatenate([r, r]),
                cols=np.concatenate([prev, nxt]),
                coefs=np.concatenate([np.ones(n), -np.ones(n)]),
            )  # fmt: skip
    # (8) machines into each centre = new machines of the zones it serves.
    n = j_n * 2 * t_n

    def row_of(jj: IntArray, mm: IntArray) -> IntArray:
        out: IntArray = (jj * 2 + mm)[:, None] * t_n + tt[None, :]
        return out

    zm = inst.zone_machine[pz]
    rows = np.concatenate(
        [row_of(q_centre, q_machine).ravel(), np.arange(n), row_of(pj, zm).ravel()]
    )
    cols = np.concatenate([q.ravel(), imp.ravel(), share.ravel()])
    coefs = np.concatenate(
        [np.ones(q.size), np.ones(imp.size), -inst.zone_new_machines[pz].ravel()]
    )
    mip.add_constraints(lower=np.zeros(n), upper=np.zeros(n), rows=rows, cols=cols, coefs=coefs)
    # (9) plant capacity.
    n = k_n * t_n
    rows = np.concatenate([(q_plant[:, None] * t_n + tt[None, :]).ravel(), np.arange(n)])
    cols = np.concatenate([q.ravel(), plant.ravel()])
    coefs = np.concatenate(
        [np.ones(q.size), -np.repeat(inst.plant_capacity_machines_per_year, t_n)]
    )
    mip.add_constraints(
        lower=np.full(n, -np.inf), upper=np.zeros(n), rows=rows, cols=cols, coefs=coefs
    )
    # (11) budget per period.
    if inst.budget_kzt_per_year is not None:
        blocks: list[tuple[IntArray, FloatArray]] = [
            (plant, inst.plant_fixed_cost_kzt[:, None]),
            (centre, inst.centre_fixed_cost_kzt[:, None]),
            (combine, inst.centre_combine_cost_kzt[:, None]),
            (vans, np.full((j_n, 1), inst.van_cost_kzt_per_year)),
            (share, (inst.service_cost_kzt_per_hour_km * inst.pair_km)[:, None] * hz[pz]),
            (q, unit_cost[:, None]),
            (imp, imp_cost[:, :, None]),
        ]
        rows_l: list[IntArray] = []
        cols_l: list[IntArray] = []
        coef_l: list[FloatArray] = []
        for var, coef in blocks:
            full = np.broadcast_to(coef, var.shape)
            rows_l.append(np.broadcast_to(tt, var.shape).ravel())
            cols_l.append(var.ravel())
            coef_l.append(full.ravel() * _OBJ_SCALE_COST)
        mip.add_constraints(
            lower=np.full(t_n, -np.inf),
            upper=np.full(t_n, inst.budget_kzt_per_year * _OBJ_SCALE_COST),
            rows=np.concatenate(rows_l), cols=np.concatenate(cols_l),
            coefs=np.concatenate(coef_l),
        )  # fmt: skip
    integer_ids = np.concatenate(
        [plant.ravel(), centre.ravel(), combine.ravel(), runs_vans.ravel(), vans.ravel()]
    )
    layout = Layout(
        plant=plant, centre=centre, combine=combine, runs_vans=runs_vans, vans=vans,
        share=share, unserved=unserved, q_plant=q_plant, q_centre=q_centre,
        q_machine=q_machine, q=q, imp=imp, hours=hours, integer_ids=integer_ids,
        obj_scale=obj_scale,
    )  # fmt: skip
    if strengthen:
        lo, hi, rows, cols, coefs = valid_inequality_rows(inst, weeks, layout)
        mip.add_constraints(lower=lo, upper=hi, rows=rows, cols=cols, coefs=coefs)
    if plant_links:
        lo, hi, rows, cols, coefs = plant_link_rows(inst, layout)
        mip.add_constraints(lower=lo, upper=hi, rows=rows, cols=cols, coefs=coefs)
    return mip, layout


def plant_link_rows(
    inst: TwoEchelonInstance, layout: Layout, values: FloatArray | None = None, tol: float = 1e-6
) -> CutRows:
    """Return the rows (13), all of them or (given an LP solution) those it violates.

    Parameters
    ----------
    inst
        The instance.
    layout
        Variable ids of :func:`build_mip`.
    values
        An LP solution; ``None`` returns every row.
    tol
        Violation (machines) below which a row is not returned.

    Returns
    -------
    rows
        ``q_kjmt - min(Q_k, N_jmt) Y_kt <= 0`` as (lower, upper, rows, cols, coefs).
    """
    pz, pj = inst.pair_zone, inst.pair_centre
    reach = np.zeros((inst.n_centres, 2, inst.n_periods))
    np.add.at(reach, (pj, inst.zone_machine[pz]), inst.zone_new_machines[pz])
    coef = np.minimum(
        reach[layout.q_centre, layout.q_machine, :],
        inst.plant_capacity_machines_per_year[layout.q_plant][:, None],
    ).ravel()
    q = layout.q.ravel()
    y = layout.plant[layout.q_plant].ravel()
    if values is not None:
        keep = values[q] - coef * values[y] > tol
        q, y, coef = q[keep], y[keep], coef[keep]
    n = len(q)
    r = np.arange(n)
    return (
        np.full(n, -np.inf), np.zeros(n), np.concatenate([r, r]), np.concatenate([q, y]),
        np.concatenate([np.ones(n), -coef]),
    )  # fmt: skip


def plant_zone_link_rows(
    inst: TwoEchelonInstance, layout: Layout, values: FloatArray, tol: float = 1e-6
) -> CutRows:
    """Return the rows (16) that an LP solution violates, each with its most violated pair set.

    For plant k, centre j, machine type m, period t and the pairs P_jm of j with zones of type
    m, (16) is valid for every subset P' of P_jm: if Y_kt = 0 then q_kjmt = 0 by (9); if
    Y_kt = 1 then q_kjmt <= sum_{p in P_jm} n_zt x_pt (8), and x_pt <= 1 off P'. The subset
    P' = {p : x_pt < Y_kt} gives the least right-hand side sum_p n_zt min(x_pt, Y_kt).

    Parameters
    ----------
    inst
        The instance.
    layout
        Variable ids of :func:`build_mip`.
    values
        An LP solution.
    tol
        Violation (machines) below which a row is not returned.

    Returns
    -------
    rows
        ``q_kjmt - sum_{p in P'} n_zt x_pt - (sum_{p not in P'} n_zt) Y_kt <= 0`` as
        (lower, upper, rows, cols, coefs).
    """
    pz, pj = inst.pair_zone, inst.pair_centre
    group_pair = pj * 2 + inst.zone_machine[pz]
    group_arc = layout.q_centre * 2 + layout.q_machine
    # Every (arc, pair) of the same centre and machine type.
    pairs_by_group = np.argsort(group_pair, kind="stable")
    starts = np.searchsorted(group_pair[pairs_by_group], np.arange(inst.n_centres * 2 + 1))
    n_per_arc = starts[group_arc + 1] - starts[group_arc]
    arc = np.repeat(np.arange(len(group_arc)), n_per_arc)
    first = np.repeat(starts[group_arc], n_per_arc)
    offset = np.arange(len(arc)) - np.repeat(np.cumsum(n_per_arc) - n_per_arc, n_per_arc)
    pair = pairs_by_group[first + offset]
    k_of = layout.q_plant[arc]
    blocks: list[CutRows] = []
    for t in range(inst.n_periods):
        n_z = inst.zone_new_machines[pz[pair], t]
        x = values[layout.share[pair, t]]
        y = values[layout.plant[k_of, t]]
        rhs = np.bincount(arc, weights=n_z * np.minimum(x, y), minlength=len(group_arc))
        bad = values[layout.q[:, t]] - rhs > tol
        if not bad.any():
            continue
        row_of_arc = np.cumsum(bad) - 1
        sel = bad[arc]
        in_p = sel & (x < y)
        y_coef = np.bincount(arc[sel & ~in_p], weights=n_z[sel & ~in_p], minlength=len(bad))
        arcs = np.flatnonzero(bad)
        n = len(arcs)
        plant_cols = layout.plant[layout.q_plant[arcs], t]
        cols = [layout.q[arcs, t], layout.share[pair[in_p], t], plant_cols]
        blocks.append((
            np.full(n, -np.inf), np.zeros(n),
            np.concatenate([np.arange(n), row_of_arc[arc[in_p]], np.arange(n)]),
            np.concatenate(cols),
            np.concatenate([np.ones(n), -n_z[in_p], -y_coef[arcs]]),
        ))  # fmt: skip
    return stack_rows(blocks)


def valid_inequality_rows(inst: TwoEchelonInstance, weeks: IntArray, layout: Layout) -> CutRows:
    """Return the valid inequalities (14)-(15) of the module docstring as rows.

    Parameters
    ----------
    inst
        The instance.
    weeks
        The capacity weeks W*.
    layout
        Variable ids of :func:`build_mip`.

    Returns
    -------
    rows
        (lower, upper, rows, cols, coefs), rows counted from 0.
    """
    plant, imp, unserved = layout.plant, layout.imp, layout.unserved
    combine, hours = layout.combine, layout.hours
    t_n, j_n = inst.n_periods, inst.n_centres
    cap_k = inst.plant_capacity_machines_per_year
    blocks: list[CutRows] = []
    # (14) plant capacity MIR per period and divisor.
    free = ~inst.plant_required & ~inst.plant_forbidden
    ks = np.flatnonzero(free)
    for delta in np.unique(cap_k[free]):
        if delta <= 0:
            continue
        a = cap_k[ks] / delta
        a_frac = a - np.floor(a)
        for t in range(t_n):
            b = (inst.zone_new_machines[:, t].sum() - cap_k[inst.plant_required].sum()) / delta
            f = b - np.floor(b)
            if b <= 0 or f < _MIR_MIN_FRACTION or f > 1 - _MIR_MIN_FRACTION:
                continue
            slack = 1.0 / (delta * f)
            imp_t = imp[:, :, t].ravel()
            cols = np.concatenate([plant[ks, t], imp_t, unserved[:, t]])
            coefs = np.concatenate([
                np.floor(a) + np.minimum(a_frac, f) / f,
                np.full(len(imp_t), slack),
                inst.zone_new_machines[:, t] * slack,
            ])  # fmt: skip
            blocks.append((
                np.array([float(np.ceil(b))]), np.array([np.inf]),
                np.zeros(len(cols), dtype=np.int64), cols, coefs,
            ))  # fmt: skip
    # (15) combine work of a centre <= C_j c_jt in every week of W*.
    tractor_prof = np.unique(inst.zone_profile[inst.zone_machine == 0])
    comb_prof = np.setdiff1d(np.unique(inst.zone_profile[inst.zone_machine == 1]), tractor_prof)
    cap_c = inst.centre_capacity_hours_per_week * _HOURS_SCALE
    jj = np.arange(j_n)
    for w in weeks if len(comb_prof) else ():
        share = inst.profiles[comb_prof, w]
        for t in range(t_n):
            cols = np.concatenate([hours[:, comb_prof, 0, t].ravel(), combine[:, t]])
            rows = np.concatenate([np.repeat(jj, len(comb_prof)), jj])
            coefs = np.concatenate([np.tile(share, j_n), -cap_c])
            blocks.append((np.full(j_n, -np.inf), np.zeros(j_n), rows, cols, coefs))
    return stack_rows(blocks)


def stack_rows(blocks: list[CutRows]) -> CutRows:
    """Return row blocks as one block (row numbers shifted, counted from 0)."""
    empty_i = np.zeros(0, dtype=np.int64)
    if not blocks:
        return np.zeros(0), np.zeros(0), empty_i, empty_i, np.zeros(0)
    offsets = np.cumsum([0] + [len(b[0]) for b in blocks[:-1]])
    return (
        np.concatenate([b[0] for b in blocks]),
        np.concatenate([b[1] for b in blocks]),
        np.concatenate([b[2] + off for b, off in zip(blocks, offsets, strict=True)]),
        np.concatenate([b[3] for b in blocks]),
        np.concatenate([b[4] for b in blocks]),
    )


def violated_rows(block: CutRows, values: FloatArray, tol: float = 1e-6) -> CutRows:
    """Return the rows of ``block`` that ``values`` violates by more than ``tol`` (scaled)."""
    lo, hi, rows, cols, coefs = block
    if not len(lo):
        return block
    act = np.bincount(rows, weights=coefs * values[cols], minlength=len(lo))
    scale = np.maximum(1.0, np.bincount(rows, weights=np.abs(coefs), minlength=len(lo)))
    bad = (act < lo - tol * scale) | (act > hi + tol * scale)
    keep = bad[rows]
    new_id = np.cumsum(bad) - 1
    return lo[bad], hi[bad], new_id[rows[keep]], cols[keep], coefs[keep]
