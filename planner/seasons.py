"""Weekly service calendars and week-by-week workshop load.

Service demand is not spread evenly over the year. Facts file section 6 (sources there):

* **north grain belt** (Kostanay, North Kazakhstan, Akmola, Pavlodar; every oblast not in
  :data:`planner.demand.SOUTH_OBLASTS`) -- spring sowing with an optimum of 15-25 May and
  spring wheat to early June (tractor peak, 3-4 weeks), grain harvest from late August to
  early October (combine peak, 6-8 weeks);
* **south** (Turkistan, Jambyl, Almaty, Jetisu, Kyzylorda and the cities Almaty and
  Shymkent) -- field work from March to October, winter grain harvested from July, rice to
  about 10 October, cotton in September-October.

The calendars are :func:`planner.demand.weekly_profile` (the shares inside the peaks are
documented assumptions of :class:`planner.demand.DemandParameters`). This module groups
them into a small set of *profiles* (region x machine type), turns farms' yearly hours into
52 weekly hours, aggregates weekly load per site, and finds the weeks that can carry a peak
(:func:`dominant_weeks`), which lets a location model impose a capacity for every week
through a handful of constraints.

Weeks are numbered 1..52 in tables (week 1 = 1-7 January) and 0..51 in arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner._types import FloatArray, IntArray
from planner.demand import (
    SOUTH_OBLASTS,
    WEEKS_PER_YEAR,
    DemandParameters,
    Machine,
    weekly_profile,
)
from planner.errors import ValidationError

Region = Literal["north", "south"]
CalendarChoice = Literal["auto", "north", "south"]

REGIONS: Final[tuple[Region, Region]] = ("north", "south")
MACHINES: Final[tuple[Machine, Machine]] = ("tractor", "combine")
PROFILES: Final[tuple[tuple[Region, Machine], ...]] = tuple(
    (r, m) for r in REGIONS for m in MACHINES
)
"""The four calendar profiles, in the order used by :func:`profile_matrix`."""

# weekly_profile() decides the calendar from an oblast code: one representative per region
# (Kostanay for the north, Turkistan for the south; facts 6 names both).
_REPRESENTATIVE_OBLAST: Final[tuple[tuple[Region, str], ...]] = (
    ("north", "KZ-39"),
    ("south", "KZ-61"),
)


def region_of(oblast_iso: str, calendar: CalendarChoice = "auto") -> Region:
    """Return the calendar region of an oblast.

    Parameters
    ----------
    oblast_iso
        ISO 3166-2:KZ code.
    calendar
        ``"auto"`` uses :data:`planner.demand.SOUTH_OBLASTS` (facts 6); ``"north"`` or
        ``"south"`` force one calendar for the whole country (a sensitivity run).

    Returns
    -------
    region
        ``"north"`` or ``"south"``.
    """
    if calendar == "auto":
        return "south" if oblast_iso in SOUTH_OBLASTS else "north"
    return calendar


def service_calendar(
    region: Region, machine: Machine, params: DemandParameters | None = None
) -> FloatArray:
    """Return the share of a machine's yearly service hours in each of the 52 weeks.

    Parameters
    ----------
    region
        ``"north"`` or ``"south"``.
    machine
        ``"tractor"`` or ``"combine"``.
    params
        Peak shares (assumptions, see :class:`~planner.demand.DemandParameters`).

    Returns
    -------
    shares
        52 non-negative shares summing to 1.

    Raises
    ------
    ValidationError
        If ``region`` is unknown.
    """
    codes = dict(_REPRESENTATIVE_OBLAST)
    if region not in codes:
        msg = f"`region` must be 'north' or 'south', got {region!r}."
        raise ValidationError(msg, source="seasons")
    return weekly_profile(codes[region], machine, params)


def profile_matrix(params: DemandParameters | None = None) -> FloatArray:
    """Return the 4 x 52 matrix of weekly shares, rows in :data:`PROFILES` order.

    Parameters
    ----------
    params
        Peak shares; default :class:`~planner.demand.DemandParameters`.

    Returns
    -------
    profiles
        Row ``k`` is :func:`service_calendar` of ``PROFILES[k]``.
    """
    return np.vstack([service_calendar(r, m, params) for r, m in PROFILES])


def profile_index(region: Region, machine: Machine) -> int:
    """Return the row of ``(region, machine)`` in :func:`profile_matrix`."""
    return PROFILES.index((region, machine))


def calendar_table(params: DemandParameters | None = None) -> pd.DataFrame:
    """Return the calendars as a tidy table (for plots).

    Parameters
    ----------
    params
        Peak shares.

    Returns
    -------
    calendars
        Columns ``region``, ``machine``, ``week`` (1..52), ``share``.
    """
    mat = profile_matrix(params)
    return pd.DataFrame(
        {
            "region": np.repeat([r for r, _ in PROFILES], WEEKS_PER_YEAR),
            "machine": np.repeat([m for _, m in PROFILES], WEEKS_PER_YEAR),
            "week": np.tile(np.arange(1, WEEKS_PER_YEAR + 1), len(PROFILES)),
            "share": mat.ravel(),
        }
    )


def dominant_weeks(profiles: npt.ArrayLike, *, atol: float = 0.0) -> IntArray:
    """Return the weeks whose capacity constraints imply those of every other week.

    Proof of sufficiency: a site's load in week ``w`` is ``sum_k P[k, w] * H_k`` with
    ``H_k >= 0`` the yearly hours of profile ``k`` it serves. If week ``w'`` has
    ``P[k, w'] >= P[k, w]`` for every ``k``, then ``load(w') >= load(w)`` for *every*
    assignment, so ``load(w') <= capacity`` implies ``load(w) <= capacity``. Keeping the
    weeks not dominated by another (one of each set of equal columns) therefore gives exactly
    the same feasible set as all 52 constraints.

    Parameters
    ----------
    profiles
        ``n_profiles x n_weeks`` non-negative shares (only the profiles that occur).
    atol
        Tolerance when comparing shares.

    Returns
    -------
    weeks
        Zero-based indices of the kept weeks, ascending.
    """
    p = np.asarray(profiles, dtype=np.float64)
    if p.ndim == 1:
        p = p[None, :]
    n = p.shape[1]
    keep: list[int] = []
    for w in range(n):
        col = p[:, w]
        ge = (p >= col[:, None] - atol).all(axis=0)  # weeks at least as loaded everywhere
        gt = (p > col[:, None] + atol).any(axis=0)
        strictly = ge & gt
        equal_earlier = ge & ~gt & (np.arange(n) < w)
        if not (strictly.any() or equal_earlier.any()):
            keep.append(w)
    return np.asarray(keep, dtype=np.int64)


def farm_weekly_hours(
    farms: pd.DataFrame,
    demand: pd.DataFrame,
    params: DemandParameters | None = None,
    *,
    calendar: CalendarChoice = "auto",
) -> FloatArray:
    """Spread each farm's yearly tractor and combine hours over the 52 weeks.

    Parameters
    ----------
    farms
        Farm table with ``oblast_iso``.
    demand
        Output of :func:`planner.demand.compute_demand` (``tractor_hours_year``,
        ``combine_hours_year``), same index as ``farms``.
    params
        Peak shares.
    calendar
        Calendar choice, see :func:`region_of`.

    Returns
    -------
    weekly_hours
        ``n_farms x 52`` service hours.
    """
    mat = profile_matrix(params)
    iso = farms["oblast_iso"].astype(str).to_numpy()
    south = np.array([region_of(c, calendar) == "south" for c in iso], dtype=np.bool_)
    tractor = demand["tractor_hours_year"].to_numpy(dtype=np.float64)
    combine = demand["combine_hours_year"].to_numpy(dtype=np.float64)
    t_prof = np.where(
        south[:, None],
        mat[profile_index("south", "tractor")][None, :],
        mat[profile_index("north", "tractor")][None, :],
    )
    c_prof = np.where(
        south[:, None],
        mat[profile_index("south", "combine")][None, :],
        mat[profile_index("north", "combine")][None, :],
    )
    out: FloatArray = tractor[:, None] * t_prof + combine[:, None] * c_prof
    return out


def weekly_load(
    farm_weekly_hours: npt.ArrayLike,
    assignment: npt.ArrayLike | tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike],
    *,
    site_ids: Sequence[str] | None = None,
    n_sites: int | None = None,
) -> pd.DataFrame:
    """Return each site's service load week by week.

    Parameters
    ----------
    farm_weekly_hours
        ``n_farms x n_weeks`` hours (e.g. :func:`farm_weekly_hours`).
    assignment
        Either one site index per farm (``-1`` = unserved), or split flows
        ``(farm_rows, site_indices, shares)``.
    site_ids
        Site id per site index; default ``"0"``, ``"1"``, ...
    n_sites
        Number of sites (default: ``len(site_ids)`` or the largest index + 1).

    Returns
    -------
    load
        Tidy table with columns ``site_id``, ``week`` (1-based) and ``load_hours``; one row
        per site and week (sites with no load included when ``site_ids`` is given).
    """
    hours = np.asarray(farm_weekly_hours, dtype=np.float64)
    if hours.ndim != 2:  # noqa: PLR2004
        msg = f"`farm_weekly_hours` must be 2-D (farms x weeks), got shape {hours.shape}."
        raise ValidationError(msg, source="weekly_load")
    if isinstance(assignment, tuple):
        rows = np.asarray(assignment[0], dtype=np.int64)
        sites = np.asarray(assignment[1], dtype=np.int64)
        share = np.asarray(assignment[2], dtype=np.float64)
    else:
        sites = np.asarray(assignment, dtype=np.int64)
        rows = np.arange(len(sites), dtype=np.int64)
        share = np.ones(len(sites))
    ok = sites >= 0
    rows, sites, share = rows[ok], sites[ok], share[ok]
    if n_sites is None:
        n_sites = len(site_ids) if site_ids is not None else int(sites.max(initial=-1)) + 1
    n_weeks = hours.shape[1]
    load = np.zeros((n_sites, n_weeks))
    np.add.at(load, sites, hours[rows] * share[:, None])
    ids = list(site_ids) if site_ids is not None else [str(j) for j in range(n_sites)]
    return pd.DataFrame(
        {
            "site_id": np.repeat(np.asarray(ids, dtype=object), n_weeks),
            "week": np.tile(np.arange(1, n_weeks + 1), n_sites),
            "load_hours": load.ravel(),
        }
    )
