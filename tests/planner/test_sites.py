from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from planner import sites
from planner.errors import ValidationError


def _settlements() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "settlement_id": ["gn:1", "gn:2", "gn:3"],
            "name": ["Big", "Mid", "Small"],
            "name_ru": ["Большой", "", ""],
            "population": [100_000, 5_000, 600],
            "oblast_iso": ["KZ-39", "KZ-39", "KZ-11"],
            "lat": [53.2, 52.0, 51.0],
            "lon": [63.6, 64.0, 70.0],
        }
    )


def test_candidate_sites_filters_and_orders() -> None:
    fac = pd.DataFrame(
        {
            "facility_id": ["plant"],
            "name": ["Plant"],
            "oblast_iso": ["KZ-39"],
            "lat": [53.2],
            "lon": [63.61],
            "kind": ["assembly_plant"],
        }
    )
    out = sites.candidate_sites(_settlements(), fac, min_population=1_000)
    assert list(out["site_id"]) == ["plant", "gn:1", "gn:2"]
    assert list(out["role"]) == ["existing", "candidate", "candidate"]
    assert out.crs.to_epsg() == 4326
    assert list(out.columns[: len(sites.SITE_COLUMNS)]) == list(sites.SITE_COLUMNS)
    capped = sites.candidate_sites(_settlements(), None, min_population=0, max_sites=1)
    assert list(capped["site_id"]) == ["gn:1"]


def test_candidate_sites_empty_is_explained() -> None:
    with pytest.raises(ValidationError, match="min_site_population"):
        sites.candidate_sites(_settlements(), None, min_population=10**9)


def test_read_sites_russian_excel_csv(tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    text = (
        "Код;Название;Широта;Долгота;Мощность\n"
        "A1;Костанай;53,2144;63,6246;12000\nA2;Астана;51,18;71,45;\n"
    )
    path.write_bytes(text.encode("cp1251"))
    out = sites.read_sites(path)
    assert list(out["site_id"]) == ["A1", "A2"]
    assert out["lat"].iloc[0] == pytest.approx(53.2144)
    assert out["capacity_hours"].iloc[0] == 12000
    assert out["name"].iloc[0] == "Костанай"


def test_read_sites_geojson_projected(tmp_path: Path) -> None:
    g = gpd.GeoDataFrame(
        {"site_id": ["a"], "name": ["A"]},
        geometry=gpd.points_from_xy([63.6], [53.2]),
        crs="EPSG:4326",
    ).to_crs("EPSG:32641")
    path = tmp_path / "s.gpkg"
    g.to_file(path, driver="GPKG")
    out = sites.read_sites(path)
    assert out["lon"].iloc[0] == pytest.approx(63.6, abs=1e-6)
    assert out["lat"].iloc[0] == pytest.approx(53.2, abs=1e-6)


def test_read_sites_reports_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("site_id,lat,lon\na,53,63\na,xx,64\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="duplicate site_id") as err:
        sites.read_sites(path)
    text = str(err.value)
    assert "duplicate site_id" in text
    assert "column `lat`, row 3: not a number ('xx')" in text


def test_read_sites_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("name,foo\nA,1\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="missing column `site_id`"):
        sites.read_sites(path)
