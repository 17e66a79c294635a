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
from a scenario. :meth:`TwoEchelonModel.solve` runs a heuristic warm start (LP relaxation,
rounding, fixed-integer LP) and then the MIP on HiGHS (MathOpt), honouring
:class:`~planner.models._base.SolveOptions`. :func:`check_two_echelon` verifies any solution
against every constraint independently of the MIP code (it checks all 52 weeks, not only the
dominant ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from planner.errors import ValidationError
from planner.models._base import (
    BoolArray,
    Clock,
    FloatArray,
    IntArray,
    SolveOptions,
    Status,
    relative_gap,
)
from planner.models._mip import MipBackend, MipResult, SparseMip, solve_mip
from planner.seasons import dominant_weeks

ObjectiveMode = Literal["cost", "service_level"]
CapacityWeeks = Literal["dominant", "all"]

MACHINE_NAMES: Final[tuple[str, str]] = ("tractor", "combine")
COST_COMPONENTS: Final[tuple[str, ...]] = (
    "plant_fixed_kzt",
    "centre_fixed_kzt",
    "combine_capability_kzt",
    "van_kzt",
    "inbound_kits_kzt",
    "outbound_machines_kzt",
    "direct_import_kzt",
    "service_travel_kzt",
    "unserved_penalty_kzt",
)
"""Objective components, in the order of :attr:`TwoEchelonSolution.cost_by_period` rows."""

_TOL: Final[float] = 1e-6
_FLOW_TOL: Final[float] = 1e-6
_SHARE_SUM_TOL: Final[float] = 1e-5
_NEG_TOL: Final[float] = -1e-9
_OBJ_SCALE_COST: Final[float] = 1e-6
_OBJ_SCALE_HOURS: Final[float] = 1e-3
_HOURS_SCALE: Final[float] = 1e-3
_RESTRICT_LP_TOL: Final[float] = 1e-4
_HALF: Final[float] = 0.5
_RESTRICTED_TIME_SHARE: Final[float] = 0.3
_DROP_KEEP_SHARE: Final[float] = 0.3
_DROP_BATCHES: Final[tuple[int, ...]] = (4, 2, 1)
_DROP_SINGLES: Final[int] = 8
_TRIM_TOL: Final[float] = 1e-9
_ROUND_THRESHOLDS: Final[tuple[tuple[float, float], ...]] = (
    (0.5, 0.5),
    (0.5, 0.25),
    (0.3, 0.3),
    (0.2, 0.1),
)
"""(centre, combine) thresholds tried when rounding the LP relaxation."""
_HEURISTIC_TIME_SHARE: Final[float] = 0.4


# Formulation (indices: t periods, k plants, j centres, z demand zones, p = (z, j) allowed
# pairs, m machine type (tractor/combine), pi seasonal profile (region x machine), w weeks;
# data: omega_t years per period, h_zt yearly service hours of zone z, n_zt new Belarus
# machines per year bought in zone z, P_pi,w share of a profile's yearly hours in week w,
# d_p road km of pair p, a service cost per hour x km, F_k / f_j / g_j fixed yearly costs of
# plant / centre / combine capability, e_van cost per van-year, Q_k plant capacity
# (machines/year), C_j centre capacity (hours/week), V_j max vans, hv hours per van-week,
# b_km kit inbound cost per machine (rail, via the cheapest entry point), o_kj outbound cost
# per machine, i_jm direct-import cost per machine, rho unserved penalty per hour):
#
#   (0) cost mode:  min sum_t omega_t [ sum_k F_k Y_kt + sum_j (f_j y_jt + g_j c_jt
#                        + e_van v_jt) + sum_{k,j,m} (b_km + o_kj) q_kjmt + sum_{j,m} i_jm r_jmt
#                        + sum_p a d_p h_zt x_pt + rho sum_z h_zt s_zt ]
#       service-level mode: min sum_t omega_t sum_z h_zt s_zt  (unserved hours) s.t. (11)
#   (1) sum_{p of z} x_pt + s_zt = 1                         every zone z, period t
#   (2) x_pt <= y_jt (tractor zone, direct pair); x_pt <= c_jt (combine zone);
#       x_pt <= u_jt (pair beyond the direct radius: served by vans only)
#   (3) H_j,pi,mode,t = sum_{p of j, zone in pi, mode} h_zt x_pt   mode in {direct, van}
#   (4) sum_pi P_pi,w H_j,pi,direct,t <= C_j y_jt          every week w in W*
#   (5) sum_pi P_pi,w H_j,pi,van,t    <= hv v_jt           every week w in W*
#       W* = weeks not dominated by another week (planner.seasons.dominant_weeks): implies
#       the constraint for all 52 weeks (proof there).
#   (6) c_jt <= y_jt;  u_jt <= y_jt;  u_jt <= v_jt <= V_j u_jt
#   (7) Y_k,t-1 <= Y_kt;  y_j,t-1 <= y_jt;  c_j,t-1 <= c_jt    (opened sites stay open)
#   (8) sum_k q_kjmt + r_jmt = sum_{p of j, zone of type m} n_zt x_pt   (machines to dealers;
#       assumption: the unserved share of a zone's purchases is not delivered -- no dealer
#       service within reach, no sale -- and is reported as unserved machines)
#   (9) sum_{j,m} q_kjmt <= Q_k Y_kt;  q_kjmt = 0 if plant k does not make type m
#  (10) required sites: Y = 1 / y = 1 in every period; forbidden: 0
#  (11) budget (when set): the bracket of (0) without the penalty <= budget, every period
#  (12) Y, y, c, u binary; v integer; x, s in [0, 1]; q, r, H >= 0
#
# The cheapest entry point per plant and machine type is exact: entry points have no
# capacity, so each plant's kits take their cheapest route independently.


@dataclass(frozen=True, eq=False)
class TwoEchelonInstance:
    """Arrays of a two-echelon problem (``T`` periods, ``Z`` zones, ``J`` centres, ``K`` plants).

    Parameters
    ----------
    zone_ids
        Demand-zone ids.
    zone_machine
        Machine type per zone: 0 tractor, 1 combine.
    zone_profile
        Row of ``profiles`` (seasonal calendar) per zone.
    profiles
        ``n_profiles x 52`` weekly shares of yearly hours.
    zone_hours_year
        ``Z x T`` service hours per year.
    zone_new_machines
        ``Z x T`` new Belarus machines per year to be delivered to the zone's dealer.
    centre_ids, centre_fixed_cost_kzt, centre_capacity_hours_per_week
        Centres, fixed cost per year and direct capacity in hours per week.
    centre_combine_cost_kzt
        Extra cost per year of combine capability.
    centre_max_vans
        Most vans a centre may run (0 = no vans).
    centre_required, centre_forbidden
        Centres that must be open in every period / must stay closed.
    pair_zone, pair_centre, pair_km, pair_van
        Allowed zone-centre pairs: road km and whether the pair is only servable by vans.
    plant_ids, plant_fixed_cost_kzt, plant_capacity_machines_per_year
        Plants, fixed cost per year and capacity.
    plant_inbound_cost_kzt_per_machine
        ``K x 2`` kit inbound cost per machine (``inf`` = plant does not make that type).
    plant_entry_ids
        ``K x 2`` rail entry point used for the kits (reporting only).
    plant_required, plant_forbidden
        Plants that must run in every period / must stay closed.
    outbound_cost_kzt_per_machine
        ``K x J`` delivery cost per finished machine (``inf`` = no delivery on that arc).
    import_cost_kzt_per_machine
        ``J x 2`` cost of a finished machine imported directly (``inf`` = not allowed).
    van_cost_kzt_per_year, van_hours_per_week
        Cost and weekly service hours of one van.
    service_cost_kzt_per_hour_km
        Travel cost per service hour and road km of the farm-centre distance.
    unserved_penalty_kzt_per_hour
        Penalty per unserved service hour (cost mode).
    period_weight
        Years per period (objective weight).
    period_years
        Calendar year of each period (reporting).
    objective
        ``"cost"`` or ``"service_level"``.
    budget_kzt_per_year
        Budget per year (service-level mode; optional in cost mode).
    capacity_weeks
        ``"dominant"`` (exact, fewer rows) or ``"all"`` 52 weeks.
    """

    zone_ids: tuple[str, ...]
    zone_machine: IntArray
    zone_profile: IntArray
    profiles: FloatArray
    zone_hours_year: FloatArray
    zone_new_machines: FloatArray
    centre_ids: tuple[str, ...]
    centre_fixed_cost_kzt: FloatArray
    centre_capacity_hours_per_week: FloatArray
    centre_combine_cost_kzt: FloatArray
    centre_max_vans: IntArray
    centre_required: BoolArray
    centre_forbidden: BoolArray
    pair_zone: IntArray
    pair_centre: IntArray
    pair_km: FloatArray
    pair_van: BoolArray
    plant_ids: tuple[str, ...]
    plant_fixed_cost_kzt: FloatArray
    plant_capacity_machines_per_year: FloatArray
    plant_inbound_cost_kzt_per_machine: FloatArray
    plant_entry_ids: tuple[tuple[str, str], ...]
    plant_required: BoolArray
    plant_forbidden: BoolArray
    outbound_cost_kzt_per_machine: FloatArray
    import_cost_kzt_per_machine: FloatArray
    van_cost_kzt_per_year: float
    van_hours_per_week: float
    service_cost_kzt_per_hour_km: float
    unserved_penalty_kzt_per_hour: float
    period_weight: FloatArray
    period_years: tuple[int, ...] = ()
    objective: ObjectiveMode = "cost"
    budget_kzt_per_year: float | None = None
    capacity_weeks: CapacityWeeks = "dominant"

    def __post_init__(self) -> None:  # noqa: C901, PLR0912
        z, j, k, t = self.n_zones, self.n_centres, self.n_plants, self.n_periods
        problems: list[str] = []

        def shape(name: str, want: tuple[int, ...]) -> None:
            arr = np.asarray(getattr(self, name))
            if arr.shape != want:
                problems.append(f"`{name}` has shape {arr.shape}, expected {want}.")

        for name in ("zone_machine", "zone_profile"):
            shape(name, (z,))
        for name in ("zone_hours_year", "zone_new_machines"):
            shape(name, (z, t))
        for name in (
            "centre_fixed_cost_kzt",
            "centre_capacity_hours_per_week",
            "centre_combine_cost_kzt",
            "centre_max_vans",
            "centre_required",
            "centre_forbidden",
        ):
            shape(name, (j,))
        n_pairs = len(self.pair_zone)
        for name in ("pair_centre", "pair_km", "pair_van"):
            shape(name, (n_pairs,))
        for name in ("plant_fixed_cost_kzt", "plant_capacity_machines_per_year"):
            shape(name, (k,))
        for name in ("plant_required", "plant_forbidden"):
            shape(name, (k,))
        shape("plant_inbound_cost_kzt_per_machine", (k, 2))
        shape("outbound_cost_kzt_per_machine", (k, j))
        shape("import_cost_kzt_per_machine", (j, 2))
        if len(self.plant_entry_ids) != k:
            problems.append("`plant_entry_ids` needs one (tractor, combine) pair per plant.")
        if self.profiles.ndim != 2:  # noqa: PLR2004
            problems.append("`profiles` must be 2-D (profiles x weeks).")
        if problems:
            raise ValidationError(problems, source="TwoEchelonInstance")
        if n_pairs and (
            self.pair_zone.min() < 0
            or self.pair_zone.max() >= z
            or self.pair_centre.min() < 0
            or self.pair_centre.max() >= j
        ):
            problems.append("pair indices outside the zone or centre range.")
        if len(self.zone_profile) and (
            self.zone_profile.min() < 0 or self.zone_profile.max() >= self.profiles.shape[0]
        ):
            problems.append("`zone_profile` refers to a missing profile row.")
        if not set(np.unique(self.zone_machine).tolist()) <= {0, 1}:
            problems.append("`zone_machine` must be 0 (tractor) or 1 (combine).")
        for name in (
            "zone_hours_year",
            "zone_new_machines",
            "centre_fixed_cost_kzt",
            "centre_capacity_hours_per_week",
            "centre_combine_cost_kzt",
            "pair_km",
            "plant_fixed_cost_kzt",
            "plant_capacity_machines_per_year",
            "period_weight",
        ):
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            if arr.size and (not np.isfinite(arr).all() or arr.min() < 0):
                problems.append(f"`{name}` must be finite and non-negative.")
        if (self.centre_required & self.centre_forbidden).any() or (
            self.plant_required & self.plant_forbidden
        ).any():
            problems.append("a site is both required and forbidden.")
        out = self.outbound_cost_kzt_per_machine
        if np.isnan(out).any() or (out < 0).any():
            problems.append("`outbound_cost_kzt_per_machine` must be >= 0 (inf = no delivery).")
        if (self.centre_max_vans < 0).any():
            problems.append("`centre_max_vans` must be >= 0.")
        if self.objective == "service_level" and self.budget_kzt_per_year is None:
            problems.append("objective 'service_level' needs `budget_kzt_per_year`.")
        if problems:
            raise ValidationError(problems, source="TwoEchelonInstance")

    @property
    def n_zones(self) -> int:
        """Number of demand zones."""
        return len(self.zone_ids)

    @property
    def n_centres(self) -> int:
        """Number of candidate service centres."""
        return len(self.centre_ids)

    @property
    def n_plants(self) -> int:
        """Number of candidate assembly plants."""
        return len(self.plant_ids)

    @property
    def n_periods(self) -> int:
        """Number of planning periods."""
        return len(self.period_weight)

    @property
    def n_pairs(self) -> int:
        """Number of allowed zone-centre pairs."""
        return len(self.pair_zone)

    def capacity_week_indices(self) -> IntArray:
        """Return the weeks whose capacity rows the MIP writes (constraints (4)-(5))."""
        used = np.unique(self.zone_profile)
        if self.capacity_weeks == "all" or not len(used):
            return np.arange(self.profiles.shape[1], dtype=np.int64)
        return dominant_weeks(self.profiles[used])


@dataclass(frozen=True, eq=False)
class TwoEchelonSolution:
    """Result of :meth:`TwoEchelonModel.solve` (arrays indexed like the instance).

    Parameters
    ----------
    status
        Optimal, feasible (time limit / cancel / heuristic), infeasible or error.
    objective
        Objective value ((0) of the formulation).
    bound
        Proven lower bound (``nan`` if none).
    gap
        Relative gap.
    plant_open
        ``K x T`` plants running per period.
    centre_open, centre_combine
        ``J x T`` centres running / combine-capable per period.
    centre_vans
        ``J x T`` vans per centre and period.
    pair_share
        ``n_pairs x T`` share of the zone's demand served through each pair.
    unserved_share
        ``Z x T`` share of each zone's demand left unserved.
    plant_flow
        ``K x J x 2 x T`` finished machines per year, plant -> centre, by machine type.
    import_flow
        ``J x 2 x T`` directly imported finished machines per year.
    cost_by_period
        ``len(COST_COMPONENTS) x T`` yearly cost of each component (not weighted by the
        period length).
    capacity_weeks
        Weeks (0-based) whose capacity rows were in the MIP.
    runtime_s
        Wall-clock seconds.
    backend
        What produced the solution.
    message
        Plain-language notes.
    stats
        Counters (variables, rows, non-zeros, heuristic objective, ...).
    """

    status: Status
    objective: float
    bound: float
    gap: float
    plant_open: BoolArray
    centre_open: BoolArray
    centre_combine: BoolArray
    centre_vans: IntArray
    pair_share: FloatArray
    unserved_share: FloatArray
    plant_flow: FloatArray
    import_flow: FloatArray
    cost_by_period: FloatArray
    capacity_weeks: IntArray
    runtime_s: float
    backend: str
    message: str = ""
    stats: Mapping[str, float | int | str] = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        """Whether a feasible solution is attached."""
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)

    def cost_breakdown(self, period_weight: npt.ArrayLike | None = None) -> dict[str, float]:
        """Return each objective component summed over periods (weighted by years).

        Parameters
        ----------
        period_weight
            Years per period; default 1 each.

        Returns
        -------
        breakdown
            Component name -> KZT.
        """
        w = (
            np.ones(self.cost_by_period.shape[1])
            if period_weight is None
            else np.asarray(period_weight, dtype=np.float64)
        )
        totals = self.cost_by_period @ w
        return {name: float(v) for name, v in zip(COST_COMPONENTS, totals, strict=True)}


# ----------------------------------------------------------------------------------------
# Cost evaluation (shared by the model's reporting; the checker recomputes independently)
# ----------------------------------------------------------------------------------------
def _cost_by_period(
    inst: TwoEchelonInstance,
    *,
    plant_open: BoolArray,
    centre_open: BoolArray,
    centre_combine: BoolArray,
    centre_vans: IntArray,
    pair_share: FloatArray,
    unserved_share: FloatArray,
    plant_flow: FloatArray,
    import_flow: FloatArray,
) -> FloatArray:
    """Yearly cost of every component (rows of :data:`COST_COMPONENTS`) per period."""
    t_count = inst.n_periods
    out = np.zeros((len(COST_COMPONENTS), t_count))
    inb = np.where(np.isfinite(inst.plant_inbound_cost_kzt_per_machine),
                   inst.plant_inbound_cost_kzt_per_machine, 0.0)  # fmt: skip
    imp = np.where(np.isfinite(inst.import_cost_kzt_per_machine),
                   inst.import_cost_kzt_per_machine, 0.0)  # fmt: skip
    outb = np.where(
        np.isfinite(inst.outbound_cost_kzt_per_machine), inst.outbound_cost_kzt_per_machine, 0.0
    )
    for t in range(t_count):
        hz = inst.zone_hours_year[:, t]
        out[0, t] = inst.plant_fixed_cost_kzt @ plant_open[:, t]
        out[1, t] = inst.centre_fixed_cost_kzt @ centre_open[:, t]
        out[2, t] = inst.centre_combine_cost_kzt @ centre_combine[:, t]
        out[3, t] = inst.van_cost_kzt_per_year * centre_vans[:, t].sum()
        flow = plant_flow[:, :, :, t]  # K x J x 2
        out[4, t] = float((flow.sum(axis=1) * inb).sum())
        out[5, t] = float((flow.sum(axis=2) * outb).sum())
        out[6, t] = float((import_flow[:, :, t] * imp).sum())
        out[7, t] = float(
            (inst.service_cost_kzt_per_hour_km * inst.pair_km * hz[inst.pair_zone]
             * pair_share[:, t]).sum()
        )  # fmt: skip
        out[8, t] = inst.unserved_penalty_kzt_per_hour * float(hz @ unserved_share[:, t])
    return out


def _objective(inst: TwoEchelonInstance, cost_by_period: FloatArray, unserved: FloatArray) -> float:
    if inst.objective == "service_level":
        return float((inst.zone_hours_year * unserved).sum(axis=0) @ inst.period_weight)
    return float(cost_by_period.sum(axis=0) @ inst.period_weight)


# ----------------------------------------------------------------------------------------
# MIP construction
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Layout:
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


def _build(  # noqa: PLR0915 -- one block per numbered constraint
    inst: TwoEchelonInstance, weeks: IntArray, *, relax: bool = False
) -> tuple[SparseMip, _Layout]:
    """Build formulation (0)-(12) as a :class:`SparseMip`."""
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
    layout = _Layout(
        plant=plant, centre=centre, combine=combine, runs_vans=runs_vans, vans=vans,
        share=share, unserved=unserved, q_plant=q_plant, q_centre=q_centre,
        q_machine=q_machine, q=q, imp=imp, hours=hours, integer_ids=integer_ids,
        obj_scale=obj_scale,
    )  # fmt: skip
    return mip, layout


# ----------------------------------------------------------------------------------------
# Solving
# ----------------------------------------------------------------------------------------
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


def _fix_integers(mip: SparseMip, layout: _Layout, values: FloatArray) -> SparseMip:
    """Return the LP left when every integer variable is fixed to ``values``."""
    lb, ub = mip.variable_bounds()
    lb, ub = lb.copy(), ub.copy()
    ids = layout.integer_ids
    lb[ids] = ub[ids] = np.clip(np.round(values[ids]), lb[ids], ub[ids])
    return _variant(mip, lower=lb, upper=ub, relax=True)


def _restrict(mip: SparseMip, layout: _Layout, lp: FloatArray, incumbent: FloatArray) -> SparseMip:
    """Return the MIP with every site the LP and the incumbent leave closed fixed closed."""
    _, ub = mip.variable_bounds()
    ub = ub.copy()
    for block in (layout.plant, layout.centre, layout.combine):
        # A site may open in any period if the LP or the incumbent uses it in some period.
        used = (lp[block] > _RESTRICT_LP_TOL).any(axis=1) | (incumbent[block] > _HALF).any(axis=1)
        ub[block[~used]] = 0.0
    return _variant(mip, upper=ub)


def _plants_only(mip: SparseMip, layout: _Layout, incumbent: FloatArray) -> SparseMip:
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


def _round(
    inst: TwoEchelonInstance, layout: _Layout, lp: FloatArray, theta: float, theta_c: float
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


def _trim(inst: TwoEchelonInstance, layout: _Layout, values: FloatArray) -> FloatArray:
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


def _drop_moves(
    inst: TwoEchelonInstance, layout: _Layout, values: FloatArray
) -> list[list[tuple[str, IntArray]]]:
    """Candidate moves for the drop local search, most promising first.

    Each move lists (block, centre indices) whose variables are set to 0 in every period:
    batches (4, 2, 1) of the lightest non-required centres close (with their capability and
    vans) or of the lightest combine-capable centres lose the capability; then single
    centres in the same order.
    """
    share = values[layout.share][:, -1]
    hours = inst.zone_hours_year[inst.pair_zone, -1] * share
    load = np.bincount(inst.pair_centre, weights=hours, minlength=inst.n_centres)
    is_c = inst.zone_machine[inst.pair_zone] == 1
    c_load = np.bincount(inst.pair_centre[is_c], weights=hours[is_c], minlength=inst.n_centres)
    open_last = values[layout.centre][:, -1] > _HALF
    comb_last = values[layout.combine][:, -1] > _HALF
    combine_order = np.flatnonzero(comb_last)[np.argsort(c_load[comb_last], kind="stable")]
    closable = open_last & ~inst.centre_required
    close_order = np.flatnonzero(closable)[np.argsort(load[closable], kind="stable")]
    moves: list[list[tuple[str, IntArray]]] = []
    for batch in _DROP_BATCHES:
        if len(close_order) >= batch:
            rows = close_order[:batch]
            moves.append([("centre", rows), ("combine", rows), ("vans", rows)])
        if len(combine_order) >= batch:
            moves.append([("combine", combine_order[:batch])])
    for i in range(1, _DROP_SINGLES):  # then single centres, lightest first
        if i < len(close_order):
            rows = close_order[i : i + 1]
            moves.append([("centre", rows), ("combine", rows), ("vans", rows)])
        if i < len(combine_order):
            moves.append([("combine", combine_order[i : i + 1])])
    return moves


def _extract(
    inst: TwoEchelonInstance, layout: _Layout, values: FloatArray
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


class TwoEchelonModel:
    """The joint plant + service-centre model of a :class:`TwoEchelonInstance`.

    Parameters
    ----------
    instance
        The problem arrays.

    Examples
    --------
    See ``tests/planner/models/test_two_echelon.py`` for tiny instances and
    :func:`planner.agri.run_two_echelon` for Kazakhstan.
    """

    kind = "two_echelon"

    def __init__(self, instance: TwoEchelonInstance) -> None:
        self.instance = instance

    def _backend(self, options: SolveOptions) -> tuple[MipBackend | None, str]:
        if options.backend == "heuristic":
            return None, ""
        if options.backend == "cp-sat":
            return "highs", "CP-SAT has no continuous variables; HiGHS used instead."
        if options.backend == "scip":
            return "scip", ""
        return "highs", ""

    def solve(self, options: SolveOptions | None = None) -> TwoEchelonSolution:  # noqa: C901, PLR0912, PLR0915
        """Solve: LP relaxation, rounding warm start, then the MIP.

        Parameters
        ----------
        options
            Time limit, gap, seed, backend (``"heuristic"`` stops after the warm start),
            progress callback and cancellation.

        Returns
        -------
        solution
            Always returned; a time limit or cancellation gives the incumbent and its gap.
        """
        opts = options or SolveOptions()
        clock = Clock(opts)
        inst = self.instance
        weeks = inst.capacity_week_indices()
        mip, layout = _build(inst, weeks)
        stats: dict[str, float | int | str] = {
            "n_variables": mip.n_variables,
            "n_constraints": mip.n_constraints,
            "n_nonzeros": mip.n_nonzeros,
            "n_integer": len(layout.integer_ids),
            "n_capacity_weeks": len(weeks),
        }
        notes: list[str] = []
        backend, note = self._backend(opts)
        if note:
            notes.append(note)
        best: FloatArray | None = None
        best_obj = np.inf
        bound = -np.inf
        unscale = 1.0 / layout.obj_scale
        source = "trivial"

        def run(model: SparseMip, share: float, hint: FloatArray | None = None) -> MipResult:
            return solve_mip(
                model,
                backend=backend or "highs",
                time_limit_s=max(clock.remaining_s * share, 0.05),
                gap_tolerance=opts.gap_tolerance,
                seed=opts.seed,
                hint=hint,
                cancel=opts.cancel,
            )

        # Phase 0: the trivial plan (required sites open, nobody served) is always feasible
        # in cost mode, so a solution exists even if the time limit hits during the LP.
        if inst.objective == "cost":
            trivial = np.zeros(mip.n_variables)
            trivial[layout.plant] = inst.plant_required[:, None]
            trivial[layout.centre] = inst.centre_required[:, None]
            trivial[layout.unserved] = 1.0
            parts0 = _extract(inst, layout, trivial)
            best_obj = _objective(
                inst,
                _cost_by_period(inst, **parts0),  # type: ignore[arg-type]
                parts0["unserved_share"],  # type: ignore[arg-type]
            )
            best = trivial
            clock.report(incumbent=best_obj, phase="trivial")
        # Phase 1: LP relaxation (bound) and rounding + fixed-integer LP (incumbents).
        lp = run(_fix_relaxed(mip), _HEURISTIC_TIME_SHARE)
        if lp.status == "optimal":
            bound = lp.objective * unscale
            stats["lp_bound"] = bound
            clock.report(bound=bound, phase="lp relaxation")

        def evaluate(values: FloatArray) -> tuple[FloatArray, float]:
            trimmed = _trim(inst, layout, values)
            p = _extract(inst, layout, trimmed)
            cost = _cost_by_period(inst, **p)  # type: ignore[arg-type]
            return trimmed, _objective(inst, cost, p["unserved_share"])  # type: ignore[arg-type]

        if lp.values is not None:
            for theta, theta_c in _ROUND_THRESHOLDS:
                if clock.should_stop:
                    break
                res = run(
                    _fix_integers(mip, layout, _round(inst, layout, lp.values, theta, theta_c)),
                    _HEURISTIC_TIME_SHARE,
                )
                if res.values is None:
                    continue
                cand, obj = evaluate(res.values)
                if obj < best_obj - 1e-9:
                    best, best_obj = cand, obj
                    stats["rounding_objective"] = best_obj
                    source = "heuristic (LP rounding)"
                    stats["rounding_thresholds"] = f"{theta}/{theta_c}"
                    clock.report(incumbent=best_obj, phase="rounding")
        # Phase 1b: best plants for the incumbent's centres and shares, then re-balance.
        if best is not None and not clock.should_stop:
            res = run(_plants_only(mip, layout, best), _HEURISTIC_TIME_SHARE, best)
            if res.values is not None and not clock.should_stop:
                res = run(_fix_integers(mip, layout, res.values), _HEURISTIC_TIME_SHARE)
            if res.values is not None:
                cand, obj = evaluate(res.values)
                if obj < best_obj - 1e-9:
                    best, best_obj = cand, obj
                    stats["plant_reoptimised_objective"] = best_obj
                    source = "heuristic (LP rounding, plant MIP)"
                    clock.report(incumbent=best_obj, phase="plants")
        # Phase 1c: drop moves (close lightly used centres, remove combine capability where
        # little combine work is done), each re-balanced by the fixed-integer LP.
        if best is not None and lp.values is not None:
            # Moves run while more than _DROP_KEEP_SHARE of the time limit is left for the MIP.
            keep_s = _DROP_KEEP_SHARE * opts.time_limit_s
            for k_move, move in enumerate(_drop_moves(inst, layout, best)):
                if clock.should_stop or clock.remaining_s < keep_s:
                    break
                stats["drop_moves_tried"] = k_move + 1
                trial = best.copy()
                for block, rows in move:
                    trial[getattr(layout, block)[rows]] = 0.0
                trial[layout.runs_vans] = (trial[layout.vans] > 0).astype(np.float64)
                res = run(_fix_integers(mip, layout, trial), _HEURISTIC_TIME_SHARE)
                if res.values is None:
                    continue
                cand, obj = evaluate(res.values)
                if obj < best_obj - 1e-9:
                    best, best_obj = cand, obj
                    stats["drop_moves_objective"] = best_obj
                    source = "heuristic (LP rounding, plant MIP, drop moves)"
                    stats["drop_moves_accepted"] = (
                        f"{stats.get('drop_moves_accepted', '')}{k_move},"
                    )
                    clock.report(incumbent=best_obj, phase="drop moves")
        # Phase 2: restricted MIP (sites unused by LP and incumbent fixed closed).
        mip_res: MipResult | None = None
        ready = lp.values is not None and best is not None and not clock.should_stop
        if backend is not None and ready and lp.values is not None and best is not None:
            res = run(_restrict(mip, layout, lp.values, best), _RESTRICTED_TIME_SHARE, best)
            stats["restricted_mip_status"] = res.status
            if res.values is not None:
                cand, obj = evaluate(res.values)
                if obj < best_obj - 1e-9:
                    best, best_obj = cand, obj
                    source = f"{backend} (restricted)"
                    stats["restricted_mip_objective"] = best_obj
                    clock.report(incumbent=best_obj, phase="restricted mip")
        # Phase 3: the full MIP, warm-started (incumbent and proven bound).
        if backend is not None and not clock.should_stop:
            mip_res = run(mip, 1.0, best)
            stats["mip_status"] = mip_res.status
            stats["mip_runtime_s"] = round(mip_res.runtime_s, 3)
            if np.isfinite(mip_res.bound):
                bound = max(bound, mip_res.bound * unscale)
            if mip_res.values is not None:
                cand, obj = evaluate(mip_res.values)
                if obj < best_obj - 1e-9:
                    best, best_obj = cand, obj
                    source = backend
            clock.report(incumbent=best_obj, bound=bound, phase="mip")
        runtime = clock.elapsed_s
        if best is None:
            infeasible = mip_res is not None and mip_res.status == "infeasible"
            msg = (
                "no plan satisfies the constraints (check the budget, plant capacity and "
                "direct-import settings)"
                if infeasible
                else "no feasible plan found within the time limit"
            )
            empty_b = np.zeros((inst.n_centres, inst.n_periods), dtype=np.bool_)
            return TwoEchelonSolution(
                status=Status.INFEASIBLE if infeasible else Status.ERROR,
                objective=float("nan"), bound=float(bound) if np.isfinite(bound) else float("nan"),
                gap=float("nan"),
                plant_open=np.zeros((inst.n_plants, inst.n_periods), dtype=np.bool_),
                centre_open=empty_b, centre_combine=empty_b,
                centre_vans=np.zeros((inst.n_centres, inst.n_periods), dtype=np.int64),
                pair_share=np.zeros((inst.n_pairs, inst.n_periods)),
                unserved_share=np.ones((inst.n_zones, inst.n_periods)),
                plant_flow=np.zeros((inst.n_plants, inst.n_centres, 2, inst.n_periods)),
                import_flow=np.zeros((inst.n_centres, 2, inst.n_periods)),
                cost_by_period=np.zeros((len(COST_COMPONENTS), inst.n_periods)),
                capacity_weeks=weeks, runtime_s=runtime, backend=backend or "heuristic",
                message="; ".join([msg, *notes]), stats=stats,
            )  # fmt: skip
        parts = _extract(inst, layout, best)
        cost = _cost_by_period(inst, **parts)  # type: ignore[arg-type]
        objective = _objective(inst, cost, parts["unserved_share"])  # type: ignore[arg-type]
        bound_f = float(bound) if np.isfinite(bound) else float("nan")
        bound_f = min(bound_f, objective) if np.isfinite(bound_f) else bound_f
        gap = relative_gap(objective, bound_f)
        optimal = np.isfinite(gap) and gap <= max(opts.gap_tolerance, 1e-9)
        if clock.should_stop and not optimal:
            cancel = opts.cancel is not None and opts.cancel.cancelled
            notes.append("cancelled: best plan so far" if cancel else "time limit reached")
        return TwoEchelonSolution(
            status=Status.OPTIMAL if optimal else Status.FEASIBLE,
            objective=objective, bound=bound_f, gap=gap,
            capacity_weeks=weeks, cost_by_period=cost, runtime_s=runtime,
            backend=source, message="; ".join(notes),
            stats=stats, **parts,  # type: ignore[arg-type]
        )  # fmt: skip


def _fix_relaxed(mip: SparseMip) -> SparseMip:
    """Return the LP relaxation of ``mip`` (same rows, integrality dropped)."""
    return _variant(mip, relax=True)


# ----------------------------------------------------------------------------------------
# Independent checker
# ----------------------------------------------------------------------------------------
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
