"""Tests of fleet growth towards a trade target (planner.growth)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from planner.demand import DemandParameters, compute_demand
from planner.errors import ValidationError
from planner.farms import generate_farms
from planner.growth import GrowthParameters, project_growth


@pytest.fixture(scope="module")
def farms() -> gpd.GeoDataFrame:
    return generate_farms(n_farms=400, seed=11, belarus_share=0.3)


def test_renewal_ramp_follows_the_facts() -> None:
    g = GrowthParameters(years=3)
    rates = g.renewal_rates()
    assert rates[0] == pytest.approx(0.055)  # 2024 actual (facts 3c)
    assert rates[-1] == pytest.approx(0.10)  # developed-country norm (facts 3c)
    assert (np.diff(rates) > 0).all()
    assert g.period_years == (2026, 2027, 2028)
    g2 = GrowthParameters(years=2, years_per_period=3)
    assert len(g2.renewal_rates()) == 6
    assert g2.period_years == (2028, 2031)


def test_invalid_parameters_are_explained() -> None:
    with pytest.raises(ValidationError, match="years"):
        GrowthParameters(years=0)
    with pytest.raises(ValidationError, match="belarus_share_of_purchases"):
        GrowthParameters(belarus_share_of_purchases=1.5)


def test_belarus_fleet_moves_towards_the_trade_target(farms: gpd.GeoDataFrame) -> None:
    g = GrowthParameters(years=5, belarus_share_of_purchases=0.6)
    proj = project_growth(farms, g)
    fleet = farms["tractors"].to_numpy(dtype=float)
    share = proj.tractors_counted.sum(axis=0) / fleet.sum()
    assert share[0] > 0.3 - 0.02
    assert (np.diff(share) > 0).all()
    assert share[-1] < 0.6
    # Exact recursion B' = (1 - r) B + r b F, summed over farms.
    b0 = farms["belarus_tractors"].to_numpy(dtype=float).sum()
    for r in g.renewal_rates():
        b0 = (1 - r) * b0 + r * 0.6 * fleet.sum()
    assert proj.tractors_counted[:, -1].sum() == pytest.approx(b0, rel=1e-9)
    # New Belarus machines per year = r * b * fleet.
    rates = g.renewal_rates()
    assert proj.new_belarus_tractors[:, 0].sum() == pytest.approx(rates[0] * 0.6 * fleet.sum())


def test_first_period_hours_are_close_to_today(farms: gpd.GeoDataFrame) -> None:
    params = DemandParameters()
    today = compute_demand(farms, params)
    proj = project_growth(farms, GrowthParameters(years=1, belarus_share_of_purchases=0.3))
    # One year later with purchases at today's share: hours change by a few per cent only
    # (younger machines need fewer repairs, ageing adds some).
    ratio = proj.tractor_hours_year[:, 0].sum() / today["tractor_hours_year"].sum()
    assert 0.9 < ratio < 1.1


def test_younger_fleet_needs_fewer_hours_per_machine(farms: gpd.GeoDataFrame) -> None:
    slow = project_growth(farms, GrowthParameters(years=4, renewal_rate_start=0.0,
                                                  renewal_rate_end=0.0))  # fmt: skip
    fast = project_growth(farms, GrowthParameters(years=4, renewal_rate_start=0.2,
                                                  renewal_rate_end=0.2,
                                                  belarus_share_of_purchases=0.3))  # fmt: skip
    per_machine_slow = slow.tractor_hours_year[:, -1].sum() / slow.tractors_counted[:, -1].sum()
    per_machine_fast = fast.tractor_hours_year[:, -1].sum() / fast.tractors_counted[:, -1].sum()
    assert per_machine_fast < per_machine_slow
    assert slow.new_belarus_tractors.sum() == 0


def test_all_machines_mode_keeps_the_fleet(farms: gpd.GeoDataFrame) -> None:
    proj = project_growth(farms, GrowthParameters(years=3), DemandParameters(belarus_only=False))
    total = farms["tractors"].to_numpy(dtype=float).sum()
    assert np.allclose(proj.tractors_counted.sum(axis=0), total)
    table = proj.national_table()
    assert list(table["year"]) == [2026, 2027, 2028]
    assert (table["new_belarus_tractors_per_year"] > 0).all()
