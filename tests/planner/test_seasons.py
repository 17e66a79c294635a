"""Tests of the seasonal calendars and week-by-week load (planner.seasons)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner import seasons
from planner.demand import DemandParameters, compute_demand, weekly_profile
from planner.errors import ValidationError
from planner.farms import generate_farms


def test_profiles_sum_to_one_and_match_weekly_profile() -> None:
    mat = seasons.profile_matrix()
    assert mat.shape == (4, 52)
    assert np.allclose(mat.sum(axis=1), 1.0)
    assert (mat >= 0).all()
    assert np.allclose(mat[seasons.profile_index("north", "tractor")],
                       weekly_profile("KZ-39", "tractor"))  # fmt: skip
    assert np.allclose(mat[seasons.profile_index("south", "combine")],
                       weekly_profile("KZ-31", "combine"))  # fmt: skip


def test_peaks_follow_the_facts_calendar() -> None:
    # North tractors peak in the sowing weeks from mid-May (weeks 20-23, 1-based);
    # north combines in the harvest from mid-August (weeks 33-40); facts section 6.
    north_t = seasons.service_calendar("north", "tractor")
    north_c = seasons.service_calendar("north", "combine")
    south_t = seasons.service_calendar("south", "tractor")
    assert 19 <= int(np.argmax(north_t)) + 1 <= 23
    assert 33 <= int(np.argmax(north_c)) + 1 <= 40
    # The south spreads tractor work from March to October: a much lower peak.
    assert south_t.max() < 0.5 * north_t.max()
    # Sowing peak and harvest peak do not overlap in the north.
    assert north_t[np.argmax(north_c)] < north_t.max() / 2


def test_region_of_and_forced_calendar() -> None:
    assert seasons.region_of("KZ-39") == "north"
    assert seasons.region_of("KZ-61") == "south"
    assert seasons.region_of("KZ-61", "north") == "north"
    with pytest.raises(ValidationError, match="`region` must be 'north' or 'south', got 'east'"):
        seasons.service_calendar("east", "tractor")  # type: ignore[arg-type]


def test_calendar_table_is_tidy() -> None:
    tab = seasons.calendar_table()
    assert list(tab.columns) == ["region", "machine", "week", "share"]
    assert len(tab) == 4 * 52
    assert tab.groupby(["region", "machine"])["share"].sum().round(9).eq(1.0).all()


def test_dominant_weeks_of_the_real_calendars_give_every_weekly_load() -> None:
    mat = seasons.profile_matrix()
    weeks = seasons.dominant_weeks(mat)
    assert 1 <= len(weeks) < 52
    rng = np.random.default_rng(0)
    for _ in range(500):
        h = rng.random(4) * rng.integers(0, 2, 4)
        load = h @ mat
        assert load.max() == pytest.approx(load[weeks].max(), abs=1e-12)


def test_farm_weekly_hours_and_weekly_load() -> None:
    farms = generate_farms(n_farms=300, seed=3)
    params = DemandParameters()
    demand = compute_demand(farms, params)
    weekly = seasons.farm_weekly_hours(farms, demand, params)
    assert weekly.shape == (300, 52)
    assert np.allclose(weekly.sum(axis=1), demand["service_hours_year"].to_numpy())
    # compute_demand's peak week is the max of the same weekly profile.
    assert np.allclose(weekly.max(axis=1), demand["peak_week_hours"].to_numpy())
    assign = np.arange(300) % 3
    assign[::7] = -1
    load = seasons.weekly_load(weekly, assign, site_ids=["a", "b", "c"])
    assert list(load.columns) == ["site_id", "week", "load_hours"]
    assert len(load) == 3 * 52
    served = weekly[assign >= 0].sum()
    assert load["load_hours"].sum() == pytest.approx(served)
    # Split flows: the same total.
    rows = np.repeat(np.arange(300), 2)
    sites = np.tile([0, 1], 300)
    share = np.tile([0.25, 0.75], 300)
    split = seasons.weekly_load(weekly, (rows, sites, share), n_sites=2)
    by_site = split.groupby("site_id")["load_hours"].sum()
    assert by_site["1"] == pytest.approx(3 * by_site["0"])
    assert isinstance(split, pd.DataFrame)
