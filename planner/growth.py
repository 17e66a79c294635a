"""Fleet growth towards a trade target: per-year Belarus fleet, service hours and purchases.

Method (one calendar-year step at a time, per farm and machine type; every choice below that
is not a sourced figure is labelled an assumption):

1. **Renewal rate** ``r`` -- the share of the fleet replaced per year -- ramps linearly from
   ``renewal_rate_start`` in the first projected year to ``renewal_rate_end`` in the last.
   Sources (facts section 3c): 5.5 % at the end of 2024 (22,000 units bought; Minister via
   BusinessInfo.cz), 6.5 % targeted for 2025, >= 10 % in developed countries and 6-8 % the
   "minimum technological" norm (NewTimes.kz; egemen.kz).
2. **Fleet size** stays constant: every purchase replaces a scrapped machine. Assumption --
   the facts file defines renewal as the share of the fleet *replaced*; no fleet-growth
   figure is sourced.
3. **Scrapping** hits brands in proportion to their share of the farm's fleet (assumption:
   no brand-specific scrapping data) and the oldest age class first (assumption).
4. **Purchases**: ``r x fleet`` new machines, of which ``belarus_share_of_purchases`` are
   Belarus-made (a scenario parameter: facts 3e finds no sourced MTZ or Gomselmash sales
   share; it suggests 30/50/70 % scenarios). New machines enter age class 0-10 years.
5. **Ageing**: ages are uniform within a class (assumption), so each year 1/10 of class
   0-10 moves to 10-17 and 1/7 of class 10-17 moves to >17 years.

The Belarus fleet of a farm therefore follows ``B' = (1 - r) B + r b F`` and tends to the
trade target ``b F``. Service hours per machine and age class come from
:meth:`planner.demand.DemandParameters.hours_per_machine` (MTZ schedule plus age-dependent
repairs, facts 3b and 6), so a younger Belarus fleet needs fewer repair hours per machine.
New Belarus machines per year are what the assembly plants must build.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from planner._types import FloatArray
from planner.demand import AGE_CLASSES, DemandParameters, Machine
from planner.errors import ValidationError

_CLASS_WIDTH_YEARS: Final[tuple[float, float]] = (10.0, 7.0)
"""Widths of age classes 0-10 and 10-17 years (the >17 class is open)."""

_FLEET_COLUMN: Final[tuple[tuple[Machine, str], ...]] = (
    ("tractor", "tractors"),
    ("combine", "combines"),
)


@dataclass(frozen=True)
class GrowthParameters:
    """Scenario parameters of fleet growth.

    Parameters
    ----------
    years
        Number of planning periods (at least 1).
    start_year
        Year of the fleet snapshot (the synthetic farms reproduce the ~2022-25 oblast fleet
        figures of facts 3a/3d); the first period ends ``years_per_period`` years later.
    years_per_period
        Calendar years per planning period (the model's costs are per year and weighted by
        this).
    renewal_rate_start
        Renewal rate in the first projected year: 0.055 (2024 actual, facts 3c).
    renewal_rate_end
        Renewal rate in the last projected year: 0.10. Assumption: facts 3c gives >= 10 % only
        as the norm of developed countries, not as a Kazakhstan forecast (the 2025 target is
        6.5 %).
    belarus_share_of_purchases
        Share of new purchases that are Belarus-made (scenario parameter, facts 3e: no
        sourced value).
    """

    years: int = 3
    start_year: int = 2025
    years_per_period: int = 1
    renewal_rate_start: float = 0.055
    renewal_rate_end: float = 0.10
    belarus_share_of_purchases: float = 0.5

    def __post_init__(self) -> None:
        problems = []
        if self.years < 1:
            problems.append(f"`years` must be >= 1, got {self.years}.")
        if self.years_per_period < 1:
            problems.append(f"`years_per_period` must be >= 1, got {self.years_per_period}.")
        for name in ("renewal_rate_start", "renewal_rate_end", "belarus_share_of_purchases"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                problems.append(f"`{name}` must be between 0 and 1, got {value}.")
        if problems:
            raise ValidationError(problems, source="GrowthParameters")

    @property
    def period_years(self) -> tuple[int, ...]:
        """Calendar year at the end of each planning period."""
        return tuple(self.start_year + self.years_per_period * (t + 1) for t in range(self.years))

    def renewal_rates(self) -> FloatArray:
        """Return the renewal rate of each projected calendar year (linear ramp).

        Returns
        -------
        rates
            One rate per calendar year from ``start_year + 1`` to the last period's year.
        """
        n = self.years * self.years_per_period
        if n == 1:
            return np.array([self.renewal_rate_start])
        return np.linspace(self.renewal_rate_start, self.renewal_rate_end, n)


@dataclass(frozen=True, eq=False)
class GrowthProjection:
    """Per-farm, per-period projection (arrays are ``n_farms x n_periods``).

    Parameters
    ----------
    years
        Calendar year at the end of each period.
    renewal_rate
        Mean renewal rate over each period.
    tractor_hours_year, combine_hours_year
        Service labour hours per year caused by the counted machines at the period's end.
    tractors_counted, combines_counted
        Counted machines (Belarus-made with ``belarus_only``, else all) at the period's end.
    new_belarus_tractors, new_belarus_combines
        New Belarus-made machines bought per year during the period (mean over its years):
        what the assembly plants must build.
    """

    years: tuple[int, ...]
    renewal_rate: FloatArray
    tractor_hours_year: FloatArray
    combine_hours_year: FloatArray
    tractors_counted: FloatArray
    combines_counted: FloatArray
    new_belarus_tractors: FloatArray
    new_belarus_combines: FloatArray

    def hours(self, machine: Machine) -> FloatArray:
        """Return yearly service hours per farm and period for one machine type."""
        return self.tractor_hours_year if machine == "tractor" else self.combine_hours_year

    def new_machines(self, machine: Machine) -> FloatArray:
        """Return new Belarus machines per year per farm and period for one machine type."""
        return self.new_belarus_tractors if machine == "tractor" else self.new_belarus_combines

    def national_table(self) -> pd.DataFrame:
        """Return national totals per period (tidy, for plots and the summary).

        Returns
        -------
        table
            Columns ``year``, ``renewal_rate``, ``tractors_counted``, ``combines_counted``,
            ``tractor_hours_year``, ``combine_hours_year``, ``new_belarus_tractors_per_year``,
            ``new_belarus_combines_per_year``.
        """
        return pd.DataFrame(
            {
                "year": list(self.years),
                "renewal_rate": self.renewal_rate,
                "tractors_counted": self.tractors_counted.sum(axis=0),
                "combines_counted": self.combines_counted.sum(axis=0),
                "tractor_hours_year": self.tractor_hours_year.sum(axis=0),
                "combine_hours_year": self.combine_hours_year.sum(axis=0),
                "new_belarus_tractors_per_year": self.new_belarus_tractors.sum(axis=0),
                "new_belarus_combines_per_year": self.new_belarus_combines.sum(axis=0),
            }
        )


def _age_matrix(farms: pd.DataFrame, column: str) -> FloatArray:
    total = farms[column].to_numpy(dtype=np.float64)
    ages = np.column_stack([farms[f"{column}_{a}"].to_numpy(dtype=np.float64) for a in AGE_CLASSES])
    s = ages.sum(axis=1)
    scale = np.divide(total, s, out=np.zeros_like(total), where=s > 0)
    out: FloatArray = ages * scale[:, None]
    return out


def _step(
    ages: FloatArray, fleet: FloatArray, rate: float, share_new: float
) -> tuple[FloatArray, FloatArray]:
    """Advance counted machines by age class by one year; return (ages, new machines)."""
    a = ages.copy()
    move01 = a[:, 0] / _CLASS_WIDTH_YEARS[0]
    move12 = a[:, 1] / _CLASS_WIDTH_YEARS[1]
    a[:, 0] -= move01
    a[:, 1] += move01 - move12
    a[:, 2] += move12
    scrap = rate * a.sum(axis=1)  # proportional to the brand's fleet share (assumption)
    for k in (2, 1, 0):  # oldest first (assumption)
        take = np.minimum(scrap, a[:, k])
        a[:, k] -= take
        scrap = scrap - take
    new = rate * share_new * fleet
    a[:, 0] += new
    return a, new


def project_growth(
    farms: pd.DataFrame,
    growth: GrowthParameters | None = None,
    params: DemandParameters | None = None,
) -> GrowthProjection:
    """Project each farm's counted fleet, service hours and Belarus purchases per period.

    Parameters
    ----------
    farms
        Farm table (:func:`planner.farms.generate_farms` or :func:`planner.farms.read_farms`).
    growth
        Growth parameters; default :class:`GrowthParameters`.
    params
        Demand parameters (hours per machine and age class, ``belarus_only``).

    Returns
    -------
    projection
        Per-farm arrays, one column per period.

    Raises
    ------
    ValidationError
        If the farm table lacks fleet columns.
    """
    g = GrowthParameters() if growth is None else growth
    p = DemandParameters() if params is None else params
    needed = [
        f"{c}{suffix}"
        for c in ("tractors", "combines")
        for suffix in ("", *(f"_{a}" for a in AGE_CLASSES))
    ] + ["belarus_tractors", "belarus_combines"]
    missing = [c for c in needed if c not in farms.columns]
    if missing:
        msg = f"the farm table lacks column(s) {', '.join(missing)}."
        raise ValidationError(msg, source="project_growth")
    rates = g.renewal_rates()
    n, t_count, step = len(farms), g.years, g.years_per_period
    out: dict[str, FloatArray] = {}
    for machine, column in _FLEET_COLUMN:
        fleet = farms[column].to_numpy(dtype=np.float64)
        ages = _age_matrix(farms, column)
        bel = farms[f"belarus_{column}"].to_numpy(dtype=np.float64)
        if p.belarus_only:
            share = np.divide(bel, fleet, out=np.zeros_like(fleet), where=fleet > 0)
            ages = ages * share[:, None]
        per_age = np.asarray(p.hours_per_machine(machine), dtype=np.float64)
        hours = np.zeros((n, t_count))
        counted = np.zeros((n, t_count))
        new_bel = np.zeros((n, t_count))
        for t in range(t_count):
            for y in range(step):
                rate = float(rates[t * step + y])
                # Counted = Belarus only: new Belarus machines join; else every purchase joins.
                share_new = g.belarus_share_of_purchases if p.belarus_only else 1.0
                ages, _ = _step(ages, fleet, rate, share_new)
                new_bel[:, t] += rate * g.belarus_share_of_purchases * fleet / step
            hours[:, t] = ages @ per_age
            counted[:, t] = ages.sum(axis=1)
        out[f"{machine}_hours"] = hours
        out[f"{machine}_counted"] = counted
        out[f"{machine}_new"] = new_bel
    mean_rate = rates.reshape(t_count, step).mean(axis=1)
    return GrowthProjection(
        years=g.period_years,
        renewal_rate=mean_rate,
        tractor_hours_year=out["tractor_hours"],
        combine_hours_year=out["combine_hours"],
        tractors_counted=out["tractor_counted"],
        combines_counted=out["combine_counted"],
        new_belarus_tractors=out["tractor_new"],
        new_belarus_combines=out["combine_new"],
    )
