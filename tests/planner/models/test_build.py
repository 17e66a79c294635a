"""from_geodataframes: one build path that delegates to from_cost_matrix."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from planner import models
from planner.errors import ValidationError
from planner.models import SolveOptions, check_solution, coverage, pcenter
from planner.models._build import from_geodataframes
from planner.models.pmedian import PMedian


def _frames() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(3)
    demand = gpd.GeoDataFrame(
        {"hours": rng.uniform(1, 10, 60)},
        geometry=gpd.points_from_xy(rng.uniform(60, 75, 60), rng.uniform(45, 54, 60)),
        crs="EPSG:4326",
    )
    sites = gpd.GeoDataFrame(
        {"site_id": [f"s{i}" for i in range(8)], "cap": np.full(8, np.nan)},
        geometry=gpd.points_from_xy(rng.uniform(60, 75, 8), rng.uniform(45, 54, 8)),
        crs="EPSG:4326",
    )
    return demand, sites


def test_matches_the_cost_matrix_path() -> None:
    demand, sites = _frames()
    model = from_geodataframes(
        PMedian,
        demand,
        sites,
        weight_col="hours",
        site_id_col="site_id",
        p=3,
        required=["s2"],
        k_nearest=None,
    )
    sol = model.solve(SolveOptions(time_limit_s=10))
    assert check_solution(model.problem, sol).ok
    assert 2 in sol.open_sites
    # Same answer when the frames are in a projected CRS.
    model_utm = from_geodataframes(
        PMedian,
        demand.to_crs("EPSG:32642"),
        sites.to_crs("EPSG:32642"),
        weight_col="hours",
        site_id_col="site_id",
        p=3,
        required=["s2"],
        k_nearest=None,
    )
    sol_utm = model_utm.solve(SolveOptions(time_limit_s=10))
    assert sol_utm.objective == pytest.approx(sol.objective, rel=1e-6)
    assert model.problem.sites.ids == tuple(f"s{i}" for i in range(8))


def test_errors_name_the_fix() -> None:
    demand, sites = _frames()
    with pytest.raises(ValidationError, match="set_crs"):
        from_geodataframes(
            PMedian, demand.set_crs(None, allow_override=True), sites, weight_col="hours", p=2
        )
    with pytest.raises(ValidationError, match="weight_col"):
        from_geodataframes(PMedian, demand, sites, weight_col="nope", p=2)
    with pytest.raises(ValidationError, match="not in the site frame"):
        from_geodataframes(
            PMedian, demand, sites, weight_col="hours", site_id_col="site_id", p=2, required=["zz"]
        )
    poly = sites.copy()
    poly.geometry = poly.to_crs("EPSG:32642").buffer(5_000).to_crs("EPSG:4326")
    with pytest.raises(ValidationError, match="must be points"):
        from_geodataframes(PMedian, demand, poly, weight_col="hours", p=2)


@pytest.mark.parametrize("name", ["MCLP", "SetCover", "PCenter"])
def test_every_model_has_from_geodataframes(name: str) -> None:
    cls = getattr(coverage, name, None) or getattr(pcenter, name)
    demand, sites = _frames()
    kwargs: dict[str, object] = {"p": 3} if name != "SetCover" else {}
    if name != "PCenter":
        kwargs["service_radius"] = 2_000.0
    model = cls.from_geodataframes(
        demand, sites, weight_col="hours", site_id_col="site_id", k_nearest=None, **kwargs
    )
    sol = model.solve(SolveOptions(time_limit_s=10))
    assert check_solution(model.problem, sol).ok


def test_pmedian_and_cflp_from_geodataframes_and_public_exports() -> None:
    demand, sites = _frames()
    sites = sites.assign(fixed=1_000.0, capacity=400.0)
    cflp = models.CFLP.from_geodataframes(
        demand,
        sites,
        weight_col="hours",
        site_id_col="site_id",
        fixed_cost_col="fixed",
        capacity_col="capacity",
        k_nearest=None,
        single_source=False,
    )
    sol = cflp.solve(models.SolveOptions(time_limit_s=10))
    assert models.check_solution(cflp.problem, sol).ok
    pm = models.PMedian.from_geodataframes(demand, sites, weight_col="hours", p=2, k_nearest=3)
    sol = pm.solve(models.SolveOptions(time_limit_s=10))
    assert models.check_solution(pm.problem, sol).ok
    assert {"PMedian", "CFLP", "MCLP", "SetCover", "PCenter"} <= set(models.__all__)
