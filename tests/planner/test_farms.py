from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner import farms, geodata, travel
from planner.errors import ValidationError


@pytest.fixture(scope="module")
def oblasts() -> pd.DataFrame:
    return geodata.load_oblasts()


@pytest.fixture(scope="module")
def farms_20k() -> gpd.GeoDataFrame:
    return farms.generate_farms(20_000, seed=42)


def _max_rel_error(f: pd.DataFrame, oblasts: pd.DataFrame, col: str) -> float:
    got = f.groupby("oblast_iso")[col].sum()
    want = oblasts.set_index("iso")[col]
    want = want[want > 0]
    got = got.reindex(want.index, fill_value=0)
    return float(((got - want).abs() / want).max())


@pytest.mark.parametrize("n_farms", [2_000, 20_000])
def test_calibrated_to_oblast_and_national_totals(n_farms: int, oblasts: pd.DataFrame) -> None:
    f = farms_20k_or_new(n_farms)
    for col in ("tractors", "combines"):
        assert _max_rel_error(f, oblasts, col) <= 0.02, col
        assert abs(f[col].sum() / oblasts[col].sum() - 1) <= 0.02
    area = f.groupby("oblast_iso")["sown_area_ha"].sum() / 1000
    want = oblasts.set_index("iso")["sown_area_kha"]
    assert np.allclose(area, want.reindex(area.index), rtol=1e-9)
    # no farms in cities without cropland
    assert not f["oblast_iso"].isin(["KZ-71", "KZ-75"]).any()


def farms_20k_or_new(n_farms: int) -> gpd.GeoDataFrame:
    return farms.generate_farms(n_farms, seed=7)


def test_farm_counts_follow_sown_area(farms_20k: gpd.GeoDataFrame, oblasts: pd.DataFrame) -> None:
    counts = farms_20k["oblast_iso"].value_counts()
    sown = oblasts.set_index("iso")["sown_area_kha"]
    expected = 20_000 * sown / sown.sum()
    for iso, n in counts.items():
        assert abs(n - expected[iso]) <= 1.5, iso
    assert counts.sum() == 20_000


def test_columns_ids_and_synthetic_marking(farms_20k: gpd.GeoDataFrame) -> None:
    f = farms_20k
    assert list(f.columns) == [*farms.FARM_COLUMNS, "geometry"]
    assert f["farm_id"].iloc[0] == "SYN-0000001"
    assert f["farm_id"].iloc[-1] == "SYN-0020000"
    assert f["farm_id"].is_unique
    assert f["synthetic"].all()
    assert f.attrs["synthetic"] is True
    note = f.attrs["data_notes"][0]
    assert "synthetic" in note
    assert "seed 42" in note
    assert "not real farms" in note
    assert f.crs.to_epsg() == 4326
    assert np.allclose(f.geometry.x, f["lon"])
    assert np.allclose(f.geometry.y, f["lat"])
    assert (f["sown_area_ha"] > 0).all()


def _nearest_town_brute(lon: np.ndarray, lat: np.ndarray, towns: pd.DataFrame) -> np.ndarray:
    best = np.full(len(lon), np.inf)
    idx = np.zeros(len(lon), dtype=np.int64)
    for j, (tlat, tlon) in enumerate(zip(towns["lat"], towns["lon"], strict=True)):
        d = travel.great_circle_km(tlat, tlon, lat, lon)
        idx = np.where(d < best, j, idx)
        best = np.minimum(best, d)
    return idx


def test_farms_inside_country_in_their_cell_and_district(farms_20k: gpd.GeoDataFrame) -> None:
    f = farms_20k
    assert geodata.points_in_kazakhstan(f["lon"], f["lat"]).all()
    cells = geodata.load_cropland_cells()
    step = geodata.CROPLAND_CELL_DEG
    # the cell holding each farm, by grid index (cell centres are at (k + 1/2) * step)
    key = lambda lon, lat: (  # noqa: E731
        np.floor(np.asarray(lon) / step).astype(int) * 100_000
        + np.floor(np.asarray(lat) / step).astype(int)
    )
    by_key = pd.Series(cells["district_kato"].to_numpy(), index=key(cells["lon"], cells["lat"]))
    assert by_key.index.is_unique
    assert (by_key.reindex(key(f["lon"], f["lat"])).to_numpy() == f["district_kato"]).all()
    districts = geodata.load_districts().set_index("district_kato")
    assert (districts.loc[f["district_kato"], "name_en"].to_numpy() == f["district"]).all()
    assert (districts.loc[f["district_kato"], "oblast_iso"].to_numpy() == f["oblast_iso"]).all()
    assert f["district_kato"].str.fullmatch(r"\d{9}").all()
    # settlement_id is the nearest settlement (brute force on a sample)
    towns = geodata.load_settlements()
    sample = f.iloc[::97]
    near = _nearest_town_brute(sample["lon"].to_numpy(), sample["lat"].to_numpy(), towns)
    assert (towns["settlement_id"].to_numpy()[near] == sample["settlement_id"]).all()


def test_farms_follow_cropland_within_oblast(farms_20k: gpd.GeoDataFrame) -> None:
    f = farms_20k
    districts = geodata.load_districts()
    north = districts[districts["oblast_iso"] == "KZ-39"].set_index("district_kato")
    want = north["cropland_ha"] / north["cropland_ha"].sum()
    n = (f["oblast_iso"] == "KZ-39").sum()
    got = f.loc[f["oblast_iso"] == "KZ-39", "district_kato"].value_counts().reindex(want.index)
    got = got.fillna(0)
    # binomial 4-sigma band per district
    sigma = np.sqrt(n * want * (1 - want))
    assert (np.abs(got - n * want) <= 4 * sigma + 1).all()


def test_sown_area_not_drawn_to_towns() -> None:
    # issue 16: 33.5 % of sown area lay within 25 km of towns >= 40,000 with the old method
    f = farms.generate_farms(20_000, seed=0)
    old = farms.generate_farms(20_000, seed=0, placement="settlements")
    towns = geodata.load_settlements()
    towns = towns[towns["population"] >= 40_000]

    def near_share(table: pd.DataFrame) -> float:
        d = np.full(len(table), np.inf)
        for tlat, tlon in zip(towns["lat"], towns["lon"], strict=True):
            d = np.minimum(d, travel.great_circle_km(tlat, tlon, table["lat"].to_numpy(),
                                                     table["lon"].to_numpy()))  # fmt: skip
        return float(table["sown_area_ha"][d <= 25].sum() / table["sown_area_ha"].sum())

    assert near_share(f) <= 0.15
    assert near_share(old) > 0.25
    oblasts = geodata.load_oblasts().set_index("iso")
    north = ["KZ-11", "KZ-39", "KZ-59"]
    got = f.loc[f["oblast_iso"].isin(north), "sown_area_ha"].sum() / f["sown_area_ha"].sum()
    want = oblasts.loc[north, "sown_area_kha"].sum() / oblasts["sown_area_kha"].sum()
    assert got == pytest.approx(want, rel=1e-9)


def test_no_farm_in_lakes_or_the_caspian(shared_dir: Path) -> None:
    water_file = shared_dir / "data" / "cropland" / "kz_water_ne10m.gpkg"
    if not water_file.is_file():
        pytest.skip(f"{water_file} is not available")
    water = shapely.union_all(
        np.concatenate(
            [gpd.read_file(water_file, layer=layer).geometry.to_numpy()
             for layer in ("lakes", "caspian")]
        )
    )  # fmt: skip
    f = farms.generate_farms(20_000, seed=0)
    assert not shapely.contains_xy(water, f["lon"], f["lat"]).any()
    old = farms.generate_farms(20_000, seed=0, placement="settlements")
    assert shapely.contains_xy(water, old["lon"], old["lat"]).sum() > 50  # the test can fail


def test_farms_lie_in_their_2024_district_polygon(shared_dir: Path) -> None:
    admin = shared_dir / "data" / "cropland" / "kz_admin_geokz.gpkg"
    if not admin.is_file():
        pytest.skip(f"{admin} is not available")
    polys = gpd.read_file(admin, layer="adm2_2024")[["KATO", "geometry"]]
    f = farms.generate_farms(5_000, seed=1)
    joined = gpd.sjoin(f[["district_kato", "geometry"]], polys, predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    same = joined["KATO"].astype(str) == joined["district_kato"]
    # cells straddle district lines: a farm may lie a few km into the neighbour
    assert same.mean() >= 0.9


def test_dry_point_in_cell_uses_only_set_sub_cells() -> None:
    rng = np.random.default_rng(0)
    sub = geodata.CROPLAND_SUBDIV
    step = geodata.CROPLAND_CELL_DEG / sub
    for bit in (0, 5, sub * sub - 1):
        mask = np.full(500, 1 << bit, dtype=np.int64)
        lon, lat = farms.dry_point_in_cell(rng, np.full(500, 70.0), np.full(500, 50.0), mask)
        row, col = divmod(bit, sub)
        x0 = 70.0 - geodata.CROPLAND_CELL_DEG / 2 + col * step
        y0 = 50.0 - geodata.CROPLAND_CELL_DEG / 2 + row * step
        assert ((lon >= x0) & (lon <= x0 + step) & (lat >= y0) & (lat <= y0 + step)).all()
        assert np.ptp(lon) > 0.5 * step  # spread over the sub-cell, not stacked
    mask = np.full(4_000, 0b1001, dtype=np.int64)  # two sub-cells of the south row
    lon, _ = farms.dry_point_in_cell(rng, np.full(4_000, 70.0), np.full(4_000, 50.0), mask)
    west = lon < 70.0 - geodata.CROPLAND_CELL_DEG / 2 + step
    assert 0.45 < west.mean() < 0.55


def test_settlement_placement_stays_near_its_settlement() -> None:
    f = farms.generate_farms(3_000, seed=42, placement="settlements")
    assert geodata.points_in_kazakhstan(f["lon"], f["lat"]).all()
    towns = geodata.load_settlements().set_index("settlement_id")
    town = towns.loc[f["settlement_id"]]
    assert (town["oblast_iso"].to_numpy() == f["oblast_iso"].to_numpy()).all()
    dlat_km = (f["lat"].to_numpy() - town["lat"].to_numpy()) * 110.574
    dlon_km = (
        (f["lon"].to_numpy() - town["lon"].to_numpy())
        * 111.320
        * np.cos(np.radians(town["lat"].to_numpy()))
    )
    dist = np.hypot(dlat_km, dlon_km)
    assert dist.max() <= farms.FARM_JITTER_RADIUS_KM * 1.01
    assert np.median(dist) > 5  # really jittered, not stacked on the town
    assert f["district_kato"].str.fullmatch(r"\d{9}").all()


def test_age_classes_and_belarus_share(farms_20k: gpd.GeoDataFrame) -> None:
    f = farms_20k
    for machine, shares in (
        ("tractors", farms.TRACTOR_AGE_SHARES),
        ("combines", farms.COMBINE_AGE_SHARES),
    ):
        ages = f[[f"{machine}_{a}" for a in farms.AGE_CLASSES]].to_numpy()
        assert (ages.sum(axis=1) == f[machine].to_numpy()).all()
        national = ages.sum(axis=0) / ages.sum()
        assert np.allclose(national, shares, atol=0.01)
        bel = f[f"belarus_{machine}"]
        assert (bel <= f[machine]).all()
        assert abs(bel.sum() / f[machine].sum() - 0.5) < 0.01
    # >10 years = 80 % of tractors, >17 = 65 % (facts 3b)
    assert farms.TRACTOR_AGE_SHARES[1] + farms.TRACTOR_AGE_SHARES[2] == pytest.approx(0.80)
    assert farms.COMBINE_AGE_SHARES[2] == pytest.approx(0.46)


@pytest.mark.parametrize("share", [0.0, 1.0, 0.3])
def test_belarus_share_parameter(share: float) -> None:
    f = farms.generate_farms(2_000, seed=1, belarus_share=share)
    ratio = f["belarus_tractors"].sum() / f["tractors"].sum()
    assert ratio == pytest.approx(share, abs=0.01)
    assert f.attrs["data_notes"][0].count(f"belarus_share={share:g}") == 1


def test_separate_belarus_share_of_combines() -> None:
    f = farms.generate_farms(2_000, seed=1, belarus_share=0.8, belarus_share_combines=0.1)
    assert f["belarus_tractors"].sum() / f["tractors"].sum() == pytest.approx(0.8, abs=0.01)
    assert f["belarus_combines"].sum() / f["combines"].sum() == pytest.approx(0.1, abs=0.01)
    assert "belarus_share_combines=0.1" in f.attrs["data_notes"][0]
    with pytest.raises(ValidationError, match="belarus_share_combines"):
        farms.generate_farms(10, belarus_share_combines=-0.1)


def test_same_seed_same_farms_and_other_seed_differs() -> None:
    a = farms.generate_farms(2_000, seed=3)
    b = farms.generate_farms(2_000, seed=3)
    c = farms.generate_farms(2_000, seed=4)
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))
    assert not np.array_equal(a["lat"].to_numpy(), c["lat"].to_numpy())


def test_200k_farms_match_the_oblast_totals(oblasts: pd.DataFrame) -> None:
    # how long this takes is measured by bench/farms_speed.py, not asserted here
    towns = geodata.load_settlements()
    f = farms.generate_farms(200_000, seed=5, oblasts=oblasts, settlements=towns)
    assert len(f) == 200_000
    assert _max_rel_error(f, oblasts, "tractors") <= 0.02
    assert _max_rel_error(f, oblasts, "combines") <= 0.02


def test_small_custom_tables() -> None:
    obl = pd.DataFrame(
        {"iso": ["KZ-39", "KZ-71"], "sown_area_kha": [100.0, 0.0], "tractors": [50, 0],
         "combines": [7, 0]}
    )  # fmt: skip
    towns = pd.DataFrame(
        {"settlement_id": ["gn:1", "gn:2"], "oblast_iso": ["KZ-39", "KZ-71"],
         "lat": [53.21, 51.18], "lon": [63.62, 71.45], "population": [200_000, 0]}
    )  # fmt: skip
    f = farms.generate_farms(
        10, seed=0, oblasts=obl, settlements=towns, jitter_radius_km=0, placement="settlements"
    )
    assert f["tractors"].sum() == 50
    assert f["combines"].sum() == 7
    assert (f["settlement_id"] == "gn:1").all()
    assert (f["lat"] == 53.21).all()


def test_generator_rejects_bad_arguments() -> None:
    with pytest.raises(ValidationError, match=r"generate_farms: 2 problems found") as err:
        farms.generate_farms(0, belarus_share=1.5)
    assert len(err.value.problems) == 2
    obl = pd.DataFrame(
        {"iso": ["KZ-39"], "sown_area_kha": [10.0], "tractors": [5], "combines": [1]}
    )
    towns = pd.DataFrame(
        {"settlement_id": ["gn:1"], "oblast_iso": ["KZ-11"], "lat": [53.0], "lon": [69.0],
         "population": [1]}
    )  # fmt: skip
    with pytest.raises(ValidationError, match="no settlement"):
        farms.generate_farms(10, oblasts=obl, settlements=towns, placement="settlements")
    cells = geodata.load_cropland_cells()
    with pytest.raises(ValidationError, match="no cropland cell"):
        farms.generate_farms(10, oblasts=obl, cells=cells[cells["oblast_iso"] != "KZ-39"])
    with pytest.raises(ValidationError, match="`placement` must be one of"):
        farms.generate_farms(10, placement="roads")


# --------------------------------------------------------------------------- read_farms


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_minimal_csv_fills_optional_columns(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "reg.csv",
        "Farm_ID,Latitude,Longitude,tractors\nA,53.2,63.6,10\nB,51.2,71.4,4\n",
    )
    f = farms.read_farms(path, belarus_share=1.0)
    assert list(f.columns) == [*farms.FARM_COLUMNS, "geometry"]
    assert list(f["farm_id"]) == ["A", "B"]
    assert list(f["oblast_iso"]) == ["KZ-39", "KZ-71"]
    assert list(f["tractors"]) == [10, 4]
    assert list(f["combines"]) == [0, 0]
    assert list(f["belarus_tractors"]) == [10, 4]
    ages = f[["tractors_0_10", "tractors_10_17", "tractors_17p"]].sum(axis=1)
    assert list(ages) == [10, 4]
    assert f["sown_area_ha"].isna().all()
    assert not f["synthetic"].any()
    assert f.attrs["synthetic"] is False
    assert f.attrs["data_notes"][0].startswith("farms from reg.csv")


def test_read_keeps_given_age_and_belarus_columns(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "reg.csv",
        "farm_id;lat;lon;combines_0_10;combines_10_17;combines_17p;belarus_combines;oblast_iso\n"
        "X;53.2;63.6;1;2;3;4;kz-39\n",
    )
    f = farms.read_farms(path)
    row = f.iloc[0]
    assert row["combines"] == 6
    assert row["belarus_combines"] == 4
    assert row["combines_17p"] == 3
    assert row["oblast_iso"] == "KZ-39"


def test_read_lists_every_problem_with_rows(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "bad.csv",
        "id,lat,lon,tractors,combines,belarus_tractors\n"
        "A,53.2,63.6,10,x,12\n"
        "A,63.6,53.2,-1,2,0\n"
        ",,71,2.5,1,0\n",
    )
    with pytest.raises(ValidationError, match=r"8 problems found") as err:
        farms.read_farms(path)
    text = "\n".join(err.value.problems)
    assert len(err.value.problems) == 8
    assert "column `id`, row 4: empty id" in text
    assert "rows 2, 3: repeated id" in text
    assert "column `lat`, row 4" in text
    assert "row 3: outside Kazakhstan" in text
    assert "swapped" in text
    assert "column `tractors`, row 3: negative" in text
    assert "column `tractors`, row 4: not a whole number" in text
    assert "column `combines`, row 2: not a number" in text
    assert "column `belarus_tractors`, rows 2, 3" in text
    assert str(path) in str(err.value)


def test_read_requires_id_coordinates_and_some_demand(tmp_path: Path) -> None:
    path = _write(tmp_path, "bare.csv", "name_of_farm,x_coord\nA,1\n")
    with pytest.raises(ValidationError, match=r"4 problems found") as err:
        farms.read_farms(path)
    text = " ".join(err.value.problems)
    assert "farm_id" in text
    assert "`lat`" in text
    assert "tractors" in text
    assert len(err.value.problems) == 4


def test_read_rejects_inconsistent_ages_and_unknown_iso(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "ages.csv",
        "farm_id,lat,lon,tractors,tractors_0_10,tractors_10_17,tractors_17p,combines_0_10,oblast_iso\n"
        "A,53.2,63.6,5,1,1,1,1,KZ-99\n",
    )
    with pytest.raises(ValidationError, match=r"do not add up") as err:
        farms.read_farms(path)
    text = " ".join(err.value.problems)
    assert "do not add up" in text
    assert "all three age columns for combines" in text
    assert "ISO 3166-2:KZ" in text


def test_read_unsupported_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not found"):
        farms.read_farms(tmp_path / "nope.csv")
    path = _write(tmp_path, "farms.parquet", "")
    with pytest.raises(ValidationError, match="unsupported file type"):
        farms.read_farms(path)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".xlsx"])
def test_read_roundtrip_formats(tmp_path: Path, suffix: str) -> None:
    source = farms.generate_farms(200, seed=9)
    path = tmp_path / f"farms{suffix}"
    table = pd.DataFrame(source.drop(columns=["geometry", "synthetic"]))
    if suffix == ".xlsx":
        table.to_excel(path, index=False)
    else:
        gpd.GeoDataFrame(table.drop(columns=["lat", "lon"]), geometry=source.geometry).to_file(path)
    back = farms.read_farms(path)
    assert list(back["farm_id"]) == list(source["farm_id"])
    for col in ("tractors", "combines", "tractors_17p", "belarus_combines", "oblast_iso"):
        assert list(back[col]) == list(source[col]), col
    assert np.allclose(back["lat"], source["lat"])
    # nothing had to be filled in but the districts, always recomputed from the coordinates
    assert len(back.attrs["data_notes"]) == 2
    assert "district_kato" in back.attrs["data_notes"][1]
    assert (back["district_kato"] == source["district_kato"]).mean() >= 0.97


def test_read_projected_gpkg_is_reprojected(tmp_path: Path) -> None:
    source = farms.generate_farms(50, seed=2)[["farm_id", "tractors", "geometry"]]
    path = tmp_path / "utm.gpkg"
    source.to_crs("EPSG:32642").to_file(path)
    back = farms.read_farms(path)
    assert np.allclose(back["lon"], source.geometry.x, atol=1e-6)


def test_farms_by_district_adds_up_by_brute_force(farms_20k: gpd.GeoDataFrame) -> None:
    f = farms_20k.iloc[:3_000]
    weight = f["tractors"].to_numpy(dtype=float) * 2
    table = farms.farms_by_district(f, weight).set_index("district_kato")
    assert table["n_farms"].sum() == len(f)
    for kato in list(table.index[:5]) + list(table.index[-3:]):
        rows = f.loc[f["district_kato"] == kato]
        assert table.loc[kato, "n_farms"] == len(rows)
        assert table.loc[kato, "sown_area_ha"] == pytest.approx(rows["sown_area_ha"].sum())
        assert table.loc[kato, "combines"] == rows["combines"].sum()
        assert table.loc[kato, "weight"] == pytest.approx(2 * rows["tractors"].sum())
        assert table.loc[kato, "oblast_iso"] == rows["oblast_iso"].iloc[0]
    assert table["sown_area_ha"].is_monotonic_decreasing
    assert (table["service_hours_year"] == 0).all()  # no demand columns in this table


def test_read_farms_draws_tractors_and_combines_with_their_own_shares(tmp_path: Path) -> None:
    rows = "\n".join(f"F{i},53.2,63.6,10,10" for i in range(400))
    path = _write(tmp_path, "reg.csv", "farm_id,lat,lon,tractors,combines\n" + rows + "\n")
    f = farms.read_farms(path, belarus_share=0.9, belarus_share_combines=0.1)
    assert f["belarus_tractors"].sum() / 4000 == pytest.approx(0.9, abs=0.03)
    assert f["belarus_combines"].sum() / 4000 == pytest.approx(0.1, abs=0.03)
    notes = " ".join(f.attrs["data_notes"])
    assert "share 0.9 (assumption" in notes
    assert "share 0.1 (assumption" in notes
    with pytest.raises(ValidationError, match="belarus_share_combines"):
        farms.read_farms(path, belarus_share_combines=2.0)
