from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner import demand, farms
from planner.errors import ValidationError


def _farm_table(**overrides: list[object]) -> pd.DataFrame:
    data: dict[str, list[object]] = {
        "oblast_iso": ["KZ-39", "KZ-61", "KZ-39"],
        "tractors": [10, 4, 0],
        "combines": [2, 1, 0],
        "tractors_0_10": [10, 0, 0],
        "tractors_10_17": [0, 4, 0],
        "tractors_17p": [0, 0, 0],
        "combines_0_10": [0, 0, 0],
        "combines_10_17": [0, 0, 0],
        "combines_17p": [2, 1, 0],
        "belarus_tractors": [5, 4, 0],
        "belarus_combines": [1, 0, 0],
    }
    data.update(overrides)
    return pd.DataFrame(data, index=[10, 20, 30])


@pytest.mark.parametrize("iso", ["KZ-39", "KZ-59", "KZ-61", "KZ-33", "KZ-62", "KZ-79"])
@pytest.mark.parametrize("machine", ["tractor", "combine"])
def test_weekly_profile_is_a_distribution(iso: str, machine: demand.Machine) -> None:
    w = demand.weekly_profile(iso, machine)
    assert w.shape == (52,)
    assert (w > 0).all()
    assert w.sum() == pytest.approx(1.0)


def test_north_calendar_peaks() -> None:
    tractor = demand.weekly_profile("KZ-39", "tractor")
    combine = demand.weekly_profile("KZ-39", "combine")
    # sowing: 4 weeks from mid-May (weeks 20-23, 1-based) hold the peak share
    peak_weeks = np.flatnonzero(tractor == tractor.max()) + 1
    assert peak_weeks.tolist() == [20, 21, 22, 23]
    assert tractor[19:23].sum() == pytest.approx(demand.DemandParameters().tractor_peak_share_north)
    # harvest: 8 weeks mid-August to early October
    peak_weeks = np.flatnonzero(combine == combine.max()) + 1
    assert peak_weeks.tolist() == list(range(33, 41))
    assert combine[:10].max() < combine.max() / 10  # winter is quiet


def test_south_calendar_is_spread() -> None:
    tractor = demand.weekly_profile("KZ-61", "tractor")
    combine = demand.weekly_profile("KZ-61", "combine")
    north_t = demand.weekly_profile("KZ-39", "tractor")
    assert tractor.max() < north_t.max() / 2
    assert tractor[9] == tractor.max()  # March (week 10) already at full load
    assert np.argmax(combine) < np.argmax(demand.weekly_profile("KZ-39", "combine"))
    assert combine[26] == combine.max()  # July (week 27) is harvest in the south


def test_weekly_profile_rejects_unknown_machine() -> None:
    with pytest.raises(ValidationError, match="machine"):
        demand.weekly_profile("KZ-39", "truck")  # type: ignore[arg-type]


def test_scheduled_hours_follow_mtz_schedule() -> None:
    p = demand.DemandParameters()
    # per 2,000 h: 8 TO-1 x 2 + 4 2TO-1 x 3 + 2 TO-2 x 6 + 1 TO-3 x 14 + 1 special x 20 = 74 h
    assert p.scheduled_hours("tractor") == pytest.approx(600 / 2000 * 74 + 2 * 4)
    assert p.scheduled_hours("combine") == pytest.approx(250 / 2000 * 74 + 2 * 4)
    with_eto = demand.DemandParameters(daily_check_by_network=True)
    assert with_eto.scheduled_hours("tractor") == pytest.approx(
        p.scheduled_hours("tractor") + 600 / 9 * 0.3
    )
    young, mid, old = p.hours_per_machine("tractor")
    assert young < mid < old
    assert mid - young == pytest.approx(0.20 * p.tractor_repair_hours)
    assert old - young == pytest.approx(0.53 * p.tractor_repair_hours)


def test_compute_demand_by_hand() -> None:
    p = demand.DemandParameters()
    t = p.hours_per_machine("tractor")
    c = p.hours_per_machine("combine")
    d = demand.compute_demand(_farm_table(), p)
    assert list(d.index) == [10, 20, 30]
    assert list(d.columns) == [
        "tractor_hours_year",
        "combine_hours_year",
        "service_hours_year",
        "peak_week_hours",
    ]
    # farm 10: 5 of 10 tractors Belarus-made, all 0-10 y; 1 of 2 combines, >17 y
    assert d.loc[10, "tractor_hours_year"] == pytest.approx(5 * t[0])
    assert d.loc[10, "combine_hours_year"] == pytest.approx(1 * c[2])
    assert d.loc[20, "tractor_hours_year"] == pytest.approx(4 * t[1])
    assert d.loc[20, "combine_hours_year"] == 0
    assert (d.loc[30] == 0).all()
    assert np.allclose(d["service_hours_year"], d["tractor_hours_year"] + d["combine_hours_year"])
    north_t = demand.weekly_profile("KZ-39", "tractor", p)
    north_c = demand.weekly_profile("KZ-39", "combine", p)
    expected_peak = (5 * t[0] * north_t + c[2] * north_c).max()
    assert d.loc[10, "peak_week_hours"] == pytest.approx(expected_peak)


def test_belarus_only_switch() -> None:
    table = _farm_table()
    only = demand.compute_demand(table, demand.DemandParameters(belarus_only=True))
    every = demand.compute_demand(table, demand.DemandParameters(belarus_only=False))
    t = demand.DemandParameters().hours_per_machine("tractor")
    assert every.loc[10, "tractor_hours_year"] == pytest.approx(10 * t[0])
    assert (every["service_hours_year"] >= only["service_hours_year"]).all()


def test_demand_on_synthetic_farms_is_sane() -> None:
    f = farms.generate_farms(2_000, seed=11)
    d = demand.compute_demand(f)
    assert d.index.equals(f.index)
    assert (d >= 0).all().all()
    annual = d["service_hours_year"]
    assert (d["peak_week_hours"] <= annual + 1e-9).all()
    assert (d["peak_week_hours"] >= annual / 52 - 1e-9).all()
    # half of 147,700 tractors and 38,100 combines at ~30-60 h each
    assert 2.5e6 < annual.sum() < 6e6


def test_demand_rejects_missing_columns_and_bad_parameters() -> None:
    with pytest.raises(ValidationError, match="belarus_tractors"):
        demand.compute_demand(_farm_table().drop(columns=["belarus_tractors"]))
    with pytest.raises(ValidationError, match="tractor_operating_hours") as err:
        demand.DemandParameters(tractor_operating_hours=-1, combine_peak_share_north=1.5)
    assert len(err.value.problems) == 2


def test_registry_service_hours_replace_the_estimate() -> None:
    table = farms.generate_farms(n_farms=50, seed=1)
    base = demand.compute_demand(table)
    given = table.copy()
    given["service_hours"] = np.nan
    given.loc[given.index[:5], "service_hours"] = [100.0, 0.0, 250.5, 10.0, 1.0]
    out = demand.compute_demand(given)
    np.testing.assert_allclose(
        out["service_hours_year"].to_numpy()[:5], [100.0, 0.0, 250.5, 10.0, 1.0]
    )
    np.testing.assert_allclose(
        out["service_hours_year"].to_numpy()[5:], base["service_hours_year"].to_numpy()[5:]
    )
    assert (out["peak_week_hours"] <= out["service_hours_year"] + 1e-9).all()


def test_assumption_notes_state_every_demand_assumption() -> None:
    p = demand.DemandParameters(tractor_operating_hours=700.0, tractor_peak_share_north=0.4)
    notes = p.assumption_notes()
    text = " | ".join(notes)
    assert "tractor 700 h" in text
    assert "40 % of a northern tractor's" in text
    t = p.hours_per_machine("tractor")
    assert f"tractor {t[0]:.1f} / {t[1]:.1f} / {t[2]:.1f} h" in text
    for note in notes:
        assert "assumption" in note or "facts" in note, note
