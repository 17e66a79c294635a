"""Arrays of a two-echelon instance and its solution, and the objective of a solution.

The formulation they feed is in :mod:`._formulation`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from planner.errors import ValidationError
from planner.models._base import (
    BoolArray,
    FloatArray,
    IntArray,
    Status,
)
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


def period_costs(
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


def solution_objective(
    inst: TwoEchelonInstance, cost_by_period: FloatArray, unserved: FloatArray
) -> float:
    if inst.objective == "service_level":
        return float((inst.zone_hours_year * unserved).sum(axis=0) @ inst.period_weight)
    return float(cost_by_period.sum(axis=0) @ inst.period_weight)
