"""Service demand of farms: workshop labour hours per year and in the peak week.

A farm's demand is the labour its machines need from the service network:

* **scheduled maintenance** -- the MTZ Belarus 952.5 schedule (facts section 6): ETO every
  8-10 h, TO-1 every 125 h, 2TO-1 every 250 h, TO-2 every 500 h, TO-3 every 1,000 h, a special
  service every 2,000 h, and seasonal TO-VL / TO-OZ twice a year. In one 2,000-hour cycle the
  visits nest (the larger service replaces the smaller one at the same hour): 8 TO-1, 4
  2TO-1, 2 TO-2, 1 TO-3 and 1 special service. Hours per machine-year are
  ``operating_hours / 2000 * sum(visits * labour) + 2 * seasonal labour``; the daily ETO is
  done by the operator and only counted when ``daily_check_by_network`` is set;
* **unscheduled repairs** -- a base number of repair hours per machine-year, raised for older
  age classes (+20 % repair cost of the worn fleet, MoA 2017; +0.6 % failures per +1 % of
  machine age, Iran tractor study -- both facts sections 3b and 6).

Combines use the same interval structure with their own operating hours (no Gomselmash
schedule is in the facts file: assumption). With ``belarus_only`` (default) only Belarus-made
machines count, and they are assumed to have the farm's age mix.

Peak-week hours spread each machine type's yearly hours over the 52 weeks with
:func:`weekly_profile` (north vs south calendars, facts section 6) and take the farm's busiest
week.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Final, Literal

import numpy as np
import pandas as pd

from planner._types import FloatArray
from planner.errors import ValidationError

Machine = Literal["tractor", "combine"]

WEEKS_PER_YEAR: Final[int] = 52
AGE_CLASSES: Final[tuple[str, str, str]] = ("0_10", "10_17", "17p")

SOUTH_OBLASTS: Final[frozenset[str]] = frozenset(
    {"KZ-61", "KZ-31", "KZ-19", "KZ-33", "KZ-43", "KZ-75", "KZ-79"}
)
"""Oblasts on the southern calendar: Turkistan, Jambyl, Almaty, Jetisu, Kyzylorda (facts 6)
and the cities Almaty and Shymkent. Every other unit uses the northern grain-belt calendar
(facts 6 names Kostanay, North Kazakhstan, Akmola, Pavlodar; assigning the other northern,
central and western oblasts to it is an assumption)."""

_SCHEDULE_CYCLE_HOURS: Final[float] = 2000.0
_VISITS_PER_CYCLE: Final[dict[str, int]] = {
    "to1": 8,
    "to1x2": 4,
    "to2": 2,
    "to3": 1,
    "special": 1,
}
_DAYS_PER_WEEK: Final[int] = 7


@dataclass(frozen=True)
class DemandParameters:
    """Assumptions that turn machine counts into service labour hours.

    Each field says where its value comes from; "assumption, no Kazakhstan source" marks the
    ones to calibrate with dealers' workshop records.

    Parameters
    ----------
    tractor_operating_hours
        Engine hours per tractor per year. Assumption, no Kazakhstan source (typical of
        grain-belt use: sowing, tillage, transport, snow work).
    combine_operating_hours
        Engine hours per combine per year. Assumption, no Kazakhstan source (a 6-8 week
        harvest, facts 6, at about 6 h a day).
    to1_labour_hours
        Labour per TO-1 visit (every 125 h, MTZ 952.5 schedule, facts 6). Labour per visit is
        an assumption, no Kazakhstan source.
    to1x2_labour_hours
        Labour per 2TO-1 visit (every 250 h, facts 6). Assumption, no Kazakhstan source.
    to2_labour_hours
        Labour per TO-2 visit (every 500 h, facts 6). Assumption, no Kazakhstan source.
    to3_labour_hours
        Labour per TO-3 visit (every 1,000 h, facts 6). Assumption, no Kazakhstan source.
    special_labour_hours
        Labour per special service (every 2,000 h, facts 6). Assumption, no Kazakhstan source.
    seasonal_labour_hours
        Labour per seasonal service TO-VL / TO-OZ (twice a year, facts 6). Assumption, no
        Kazakhstan source.
    seasonal_visits_per_year
        Seasonal services per year: 2 (spring-summer and autumn-winter, facts 6).
    daily_check_labour_hours
        Labour per daily check ETO (every 8-10 h, facts 6; 9 h used). Assumption, no
        Kazakhstan source.
    daily_check_by_network
        Whether the service network does the ETO (normally the operator does it). Assumption.
    tractor_repair_hours
        Unscheduled repair labour per tractor-year in age class 0-10 years. Assumption, no
        Kazakhstan source (facts 6: failure rates "not found for KZ").
    combine_repair_hours
        Unscheduled repair labour per combine-year in age class 0-10 years. Assumption, no
        Kazakhstan source.
    repair_uplift_10_17
        Extra repair labour of machines aged 10-17 years: +20 % (extra repair and fuel cost of
        the worn fleet, MoA / Aituganov 2017, facts 3b).
    repair_uplift_17p
        Extra repair labour of machines older than 17 years: +53 %. Derived: the +20 % above,
        plus the Iran tractor study's +0.6 % failures per +1 % age (facts 6) applied to an
        age step from 13.5 to 21 years (+56 % age, so +33 %). The representative ages are an
        assumption.
    tractor_peak_share_north
        Share of a northern tractor's yearly service hours falling in the 4 sowing weeks
        from mid-May (weeks 20-23; facts 6: optimum sowing 15-25 May, spring wheat to early
        June, Akmola sowed in 19 days).
        Assumption, no Kazakhstan source.
    combine_peak_share_north
        Share of a northern combine's yearly service hours in the 8 harvest weeks
        mid-August to early October (weeks 33-40; facts 6: harvest late Aug to early Oct,
        6-8 weeks). Assumption, no Kazakhstan source.
    combine_peak_share_south
        Share of a southern combine's yearly hours in the harvest from July to mid-October
        (winter grain from July, rice to ~10 Oct, cotton Sep-Oct; facts 6). Assumption.
    belarus_only
        Count only Belarus-made machines (``belarus_tractors``, ``belarus_combines``) as the
        network's demand; otherwise all machines.
    """

    tractor_operating_hours: float = 600.0
    combine_operating_hours: float = 250.0
    to1_labour_hours: float = 2.0
    to1x2_labour_hours: float = 3.0
    to2_labour_hours: float = 6.0
    to3_labour_hours: float = 14.0
    special_labour_hours: float = 20.0
    seasonal_labour_hours: float = 4.0
    seasonal_visits_per_year: float = 2.0
    daily_check_labour_hours: float = 0.3
    daily_check_by_network: bool = False
    tractor_repair_hours: float = 15.0
    combine_repair_hours: float = 25.0
    repair_uplift_10_17: float = 0.20
    repair_uplift_17p: float = 0.53
    tractor_peak_share_north: float = 0.35
    combine_peak_share_north: float = 0.85
    combine_peak_share_south: float = 0.85
    belarus_only: bool = True

    def __post_init__(self) -> None:
        problems = [
            f"`{f.name}` must be a finite number >= 0, got {getattr(self, f.name)!r}."
            for f in fields(self)
            if f.type in ("float", float)
            and not (np.isfinite(getattr(self, f.name)) and getattr(self, f.name) >= 0)
        ]
        problems += [
            f"`{name}` must be at most 1, got {getattr(self, name)}."
            for name in (
                "tractor_peak_share_north",
                "combine_peak_share_north",
                "combine_peak_share_south",
            )
            if getattr(self, name) > 1
        ]
        if problems:
            raise ValidationError(problems, source="DemandParameters")

    def scheduled_hours(self, machine: Machine) -> float:
        """Return scheduled-maintenance labour hours per machine-year.

        Parameters
        ----------
        machine
            ``"tractor"`` or ``"combine"``.

        Returns
        -------
        hours
            Interval services at the machine's operating hours plus seasonal services (plus
            daily checks when the network does them).
        """
        operating = (
            self.tractor_operating_hours if machine == "tractor" else self.combine_operating_hours
        )
        per_cycle = (
            _VISITS_PER_CYCLE["to1"] * self.to1_labour_hours
            + _VISITS_PER_CYCLE["to1x2"] * self.to1x2_labour_hours
            + _VISITS_PER_CYCLE["to2"] * self.to2_labour_hours
            + _VISITS_PER_CYCLE["to3"] * self.to3_labour_hours
            + _VISITS_PER_CYCLE["special"] * self.special_labour_hours
        )
        hours = operating / _SCHEDULE_CYCLE_HOURS * per_cycle
        hours += self.seasonal_visits_per_year * self.seasonal_labour_hours
        if self.daily_check_by_network:
            hours += operating / 9.0 * self.daily_check_labour_hours
        return hours

    def assumption_notes(self) -> list[str]:
        """Return the demand assumptions as data notes, each labelled "assumption" or sourced.

        Returns
        -------
        notes
            Operating hours, labour per service visit (intervals from the MTZ schedule, facts
            6), repair hours and age uplifts, the resulting hours per machine-year, and the
            peak-week shares.
        """
        t = self.hours_per_machine("tractor")
        c = self.hours_per_machine("combine")
        return [
            f"operating hours per year: tractor {self.tractor_operating_hours:g} h, combine "
            f"{self.combine_operating_hours:g} h (assumption, no Kazakhstan source)",
            "service intervals TO-1 125 h, 2TO-1 250 h, TO-2 500 h, TO-3 1,000 h, special "
            "2,000 h, seasonal twice a year (MTZ Belarus 952.5 manual, facts 6); labour per "
            f"visit {self.to1_labour_hours:g} / {self.to1x2_labour_hours:g} / "
            f"{self.to2_labour_hours:g} / {self.to3_labour_hours:g} / "
            f"{self.special_labour_hours:g} / {self.seasonal_labour_hours:g} h (assumption)",
            f"unscheduled repair per machine-year aged 0-10: tractor "
            f"{self.tractor_repair_hours:g} h, combine {self.combine_repair_hours:g} h "
            f"(assumption; facts 6: failure rates not found for Kazakhstan); +"
            f"{100 * self.repair_uplift_10_17:.0f} % at 10-17 years (MoA / Aituganov 2017, "
            f"facts 3b), +{100 * self.repair_uplift_17p:.0f} % over 17 years (derived from "
            "facts 3b and 6 with assumed representative ages)",
            f"service hours per machine-year by age 0-10 / 10-17 / >17: tractor "
            f"{t[0]:.1f} / {t[1]:.1f} / {t[2]:.1f} h, combine {c[0]:.1f} / {c[1]:.1f} / "
            f"{c[2]:.1f} h (from the assumptions above)",
            f"peak-week shares: {100 * self.tractor_peak_share_north:.0f} % of a northern "
            f"tractor's yearly hours in the 4 sowing weeks, "
            f"{100 * self.combine_peak_share_north:.0f} % of a northern combine's in the 8 "
            f"harvest weeks, {100 * self.combine_peak_share_south:.0f} % of a southern "
            "combine's in July to mid-October (assumption; windows from facts 6)",
        ]

    def hours_per_machine(self, machine: Machine) -> tuple[float, float, float]:
        """Return service labour hours per machine-year by age class (0-10, 10-17, >17 y).

        Parameters
        ----------
        machine
            ``"tractor"`` or ``"combine"``.

        Returns
        -------
        hours
            Scheduled hours plus repair hours with the age-class uplift.
        """
        base = self.tractor_repair_hours if machine == "tractor" else self.combine_repair_hours
        scheduled = self.scheduled_hours(machine)
        return (
            scheduled + base,
            scheduled + base * (1.0 + self.repair_uplift_10_17),
            scheduled + base * (1.0 + self.repair_uplift_17p),
        )


def _week_of(month: int, day: int) -> int:
    """Zero-based week (7-day blocks from 1 January, non-leap year) of a date."""
    day_of_year = dt.date(2025, month, day).timetuple().tm_yday - 1
    return min(day_of_year // _DAYS_PER_WEEK, WEEKS_PER_YEAR - 1)


def _window(weights: FloatArray, start: tuple[int, int], end: tuple[int, int]) -> FloatArray:
    """Return a 0/1 mask of the weeks from ``start`` to ``end`` (month, day), inclusive."""
    mask = np.zeros_like(weights)
    mask[_week_of(*start) : _week_of(*end) + 1] = 1.0
    return mask


def _spread(mask: FloatArray, share: float, rest: FloatArray) -> FloatArray:
    """Put ``share`` evenly in the ``mask`` weeks, ``1 - share`` elsewhere shaped by ``rest``."""
    outside = rest * (1.0 - mask)
    shares: FloatArray = share * mask / mask.sum() + (1.0 - share) * outside / outside.sum()
    return shares


def weekly_profile(
    oblast_iso: str, machine: Machine, params: DemandParameters | None = None
) -> FloatArray:
    """Return the share of a machine's yearly service hours falling in each of 52 weeks.

    Calendars (facts section 6; the shares themselves are assumptions, see
    :class:`DemandParameters`):

    * north, tractors -- ``tractor_peak_share_north`` in the 4 sowing weeks from mid-May;
      the rest spread over the field season April-October at weight 1 and the rest of the
      year at weight 0.25 (winter repairs, seasonal service);
    * north, combines -- ``combine_peak_share_north`` in the 8 harvest weeks from mid-August;
      the rest over the year, weight 1 in July-October (pre-harvest set-up) and 0.25 otherwise;
    * south, tractors -- even load March-October (weight 1), 0.25 in winter (facts: the load
      is spread from March to October);
    * south, combines -- ``combine_peak_share_south`` from 1 Jul to 10 Oct (winter grain from
      July, rice and cotton to October), the rest as for the north.

    Parameters
    ----------
    oblast_iso
        ISO 3166-2:KZ code; ``SOUTH_OBLASTS`` use the southern calendar, others the northern.
    machine
        ``"tractor"`` or ``"combine"``.
    params
        Peak shares; default :class:`DemandParameters`.

    Returns
    -------
    shares
        52 non-negative weekly shares summing to 1 (week 1 = 1-7 January).

    Raises
    ------
    ValidationError
        If ``machine`` is neither ``"tractor"`` nor ``"combine"``.
    """
    if machine not in ("tractor", "combine"):
        msg = f"`machine` must be 'tractor' or 'combine', got {machine!r}."
        raise ValidationError(msg)
    p = DemandParameters() if params is None else params
    year = np.zeros(WEEKS_PER_YEAR, dtype=np.float64)
    winter = 0.25
    south = oblast_iso in SOUTH_OBLASTS
    if machine == "tractor":
        if south:
            even: FloatArray = winter + (1.0 - winter) * _window(year, (3, 1), (10, 31))
            shares: FloatArray = even / even.sum()
            return shares
        sowing = _window(year, (5, 15), (6, 4))
        base = winter + (1.0 - winter) * _window(year, (4, 1), (10, 31))
        return _spread(sowing, p.tractor_peak_share_north, base)
    base = winter + (1.0 - winter) * _window(year, (7, 1), (10, 31))
    if south:
        return _spread(_window(year, (7, 1), (10, 10)), p.combine_peak_share_south, base)
    return _spread(_window(year, (8, 15), (10, 7)), p.combine_peak_share_north, base)


def _counted(farms: pd.DataFrame, machine: str, *, belarus_only: bool) -> FloatArray:
    """Machines per age class (rows x 3) that count as the network's demand."""
    total = farms[machine].to_numpy(dtype=np.float64)
    ages = np.column_stack(
        [farms[f"{machine}_{a}"].to_numpy(dtype=np.float64) for a in AGE_CLASSES]
    )
    age_sum = ages.sum(axis=1)
    # Rows whose age columns do not add up (user data) keep their total, split by its ages.
    scale = np.divide(total, age_sum, out=np.zeros_like(total), where=age_sum > 0)
    ages = ages * scale[:, None]
    if belarus_only:
        bel = farms[f"belarus_{machine}"].to_numpy(dtype=np.float64)
        share = np.divide(bel, total, out=np.zeros_like(total), where=total > 0)
        ages = ages * share[:, None]
    counted: FloatArray = ages
    return counted


def compute_demand(farms: pd.DataFrame, params: DemandParameters | None = None) -> pd.DataFrame:
    """Compute each farm's service workload.

    Parameters
    ----------
    farms
        Farm table as returned by :func:`planner.farms.generate_farms` or
        :func:`planner.farms.read_farms` (needs ``oblast_iso``, ``tractors``, ``combines``,
        their age-class columns and ``belarus_*``).
    params
        Demand assumptions; default :class:`DemandParameters`.

    Returns
    -------
    demand
        Indexed like ``farms``: ``tractor_hours_year`` and ``combine_hours_year`` (service
        labour hours per year caused by the farm's counted tractors / combines),
        ``service_hours_year`` (their sum) and ``peak_week_hours`` (labour hours in the farm's
        busiest week under :func:`weekly_profile`).

    Raises
    ------
    ValidationError
        If a required column is missing.
    """
    p = DemandParameters() if params is None else params
    needed = ["oblast_iso"]
    for m in ("tractors", "combines"):
        needed += [m, f"belarus_{m}"] + [f"{m}_{a}" for a in AGE_CLASSES]
    missing = [c for c in needed if c not in farms.columns]
    if missing:
        msg = (
            f"the farm table lacks column(s) {', '.join(missing)}; build it with "
            "planner.farms.generate_farms or planner.farms.read_farms."
        )
        raise ValidationError(msg, source="compute_demand")
    hours: dict[Machine, FloatArray] = {}
    pairs: tuple[tuple[str, Machine], ...] = (("tractors", "tractor"), ("combines", "combine"))
    for column, machine in pairs:
        per_age = np.asarray(p.hours_per_machine(machine), dtype=np.float64)
        hours[machine] = _counted(farms, column, belarus_only=p.belarus_only) @ per_age
    if "service_hours" in farms.columns:
        # A registry's own yearly service hours win over the machine-count estimate; they are
        # split between tractors and combines like the estimate (all to tractors if none).
        given = pd.to_numeric(farms["service_hours"], errors="coerce").to_numpy(np.float64)
        use = np.isfinite(given) & (given >= 0)
        total = hours["tractor"] + hours["combine"]
        share = np.divide(hours["tractor"], total, out=np.ones_like(total), where=total > 0)
        hours["tractor"] = np.where(use, given * share, hours["tractor"])
        hours["combine"] = np.where(use, given * (1.0 - share), hours["combine"])
    iso = farms["oblast_iso"].astype(str).to_numpy()
    peak = np.zeros(len(farms), dtype=np.float64)
    for code in np.unique(iso):
        rows = iso == code
        weekly = np.outer(hours["tractor"][rows], weekly_profile(code, "tractor", p))
        weekly += np.outer(hours["combine"][rows], weekly_profile(code, "combine", p))
        peak[rows] = weekly.max(axis=1)
    return pd.DataFrame(
        {
            "tractor_hours_year": hours["tractor"],
            "combine_hours_year": hours["combine"],
            "service_hours_year": hours["tractor"] + hours["combine"],
            "peak_week_hours": peak,
        },
        index=farms.index,
    )
