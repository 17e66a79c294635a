"""Road-network travel: shortest paths against an independent Floyd-Warshall, the >= geodesic
guarantee, the k-nearest lists and their ``beyond_cost``, file validation, and the Natural
Earth roads of ../shared (skipped when absent)."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point

from planner import costs, roads
from planner.errors import ValidationError
from planner.references import validate_scenario
from planner.results import assignment_table
from planner.run import run_scenario
from planner.scenarios import check_references, load_scenario
from planner.travel import TravelModel

GEOD = Geod(ellps="WGS84")
SHARED_ROADS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "roads"
NE_ROADS = SHARED_ROADS / "kz_roads_ne10m.gpkg"
CIRC = 1.3
SPEED = 60.0

# Hand-made network (degrees): A-B-C a major highway, B-D a road, D-E-C an unknown road,
# F-G a separate highway 1 degree east of C (joined by a connector), H1-H2 a highway whose
# end H2 stops 0.56 km short of A (joined by snapping).
P = {
    "A": (70.0, 50.0),
    "B": (70.5, 50.0),
    "C": (71.0, 50.0),
    "D": (70.5, 50.5),
    "E": (71.0, 50.5),
    "F": (72.0, 50.0),
    "G": (72.5, 50.0),
    "H1": (69.5, 50.0),
    "H2": (70.0, 50.005),
}
LINES = [
    (("A", "B", "C"), "Major Highway"),
    (("B", "D"), "Road"),
    (("D", "E", "C"), "Unknown"),
    (("F", "G"), "Major Highway"),
    (("H1", "H2"), "Major Highway"),
]


def _km(a: str, b: str) -> float:
    _, _, m = GEOD.inv(*P[a], *P[b])
    return float(m) / 1000.0


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"type": [t for _, t in LINES]},
        geometry=[LineString([P[n] for n in names]) for names, _ in LINES],
        crs="EPSG:4326",
    )


def _network(**kw: float) -> roads.RoadNetwork:
    return roads.build_road_network(
        _frame(), source="hand.gpkg", circuity=CIRC, speed_kmh=SPEED, **kw
    )


def _floyd_warshall(weight: str) -> tuple[list[str], np.ndarray]:
    """All-pairs shortest paths of the hand-made network, built independently."""
    names = list(P)
    idx = {n: i for i, n in enumerate(names)}
    speed = {"Major Highway": 80.0, "Road": 60.0, "Unknown": 55.0}
    edges = []
    for seq, kind in LINES:
        for a, b in itertools.pairwise(seq):
            edges.append((a, b, _km(a, b), speed[kind]))
    edges.append(("A", "H2", _km("A", "H2"), 80.0))  # snapped dangling end
    edges.append(("C", "F", _km("C", "F") * CIRC, SPEED))  # component connector
    n = len(names)
    d = np.full((n, n), np.inf)
    np.fill_diagonal(d, 0.0)
    for a, b, km, v in edges:
        w = km if weight == "km" else km / v * 60.0
        d[idx[a], idx[b]] = d[idx[b], idx[a]] = min(d[idx[a], idx[b]], w)
    for k in range(n):
        d = np.minimum(d, d[:, [k]] + d[[k], :])
    return names, d


@pytest.mark.parametrize("weight", ["km", "min"])
def test_node_to_node_paths_match_floyd_warshall(weight: str) -> None:
    net = _network()
    names, expected = _floyd_warshall(weight)
    lon = np.array([P[n][0] for n in names])
    lat = np.array([P[n][1] for n in names])
    got = net.pair_cost(lon[:, None], lat[:, None], lon[None, :], lat[None, :], weight)  # type: ignore[arg-type]
    off = ~np.eye(len(names), dtype=bool)
    np.testing.assert_allclose(got[off], expected[off], rtol=2e-4)
    assert net.n_connectors == 1
    # The connector and the snap are there: G is reached from H1 through A and C.
    assert np.isfinite(got).all()


def test_access_legs_use_circuity_and_the_local_rule() -> None:
    net = _network()
    # A point 0.1 degree north of B, and one 0.1 degree north of E (near D-E).
    p = (70.5, 50.1)
    q = (71.0, 50.4)
    leg_p = _km_pts(p, P["B"]) * CIRC
    leg_q = _km_pts(q, P["E"]) * CIRC
    _, path = _floyd_warshall("km")
    names = list(P)
    via = path[names.index("B"), names.index("E")]
    got = float(net.pair_cost(p[0], p[1], q[0], q[1]))
    assert got == pytest.approx(leg_p + via + leg_q, rel=2e-4)
    # Two points nearer to each other than to any road: local roads, geodesic x circuity.
    a, b = (70.25, 50.3), (70.27, 50.3)
    assert float(net.pair_cost(a[0], a[1], b[0], b[1])) == pytest.approx(
        _km_pts(a, b) * CIRC, rel=1e-3
    )


def _km_pts(a: tuple[float, float], b: tuple[float, float]) -> float:
    _, _, m = GEOD.inv(*a, *b)
    return float(m) / 1000.0


def test_road_km_never_below_geodesic() -> None:
    rng = np.random.default_rng(3)
    net = _network()
    lon1, lat1 = rng.uniform(69.4, 72.6, 400), rng.uniform(49.8, 50.7, 400)
    lon2, lat2 = rng.uniform(69.4, 72.6, 400), rng.uniform(49.8, 50.7, 400)
    road = net.pair_cost(lon1, lat1, lon2, lat2)
    _, _, m = GEOD.inv(lon1, lat1, lon2, lat2)
    assert (road >= m / 1000.0 * (1 - 1e-4)).all()
    # Through the travel model as every caller sees it.
    tm = TravelModel(circuity=CIRC, speed_kmh=SPEED, network=net)
    np.testing.assert_allclose(tm.road_km_between(lon1, lat1, lon2, lat2), road)
    assert "road network hand.gpkg" in tm.description


@pytest.mark.parametrize(("unit", "max_km"), [("km", None), ("min", None), ("km", 250.0)])
def test_sparse_network_rows_are_the_cheapest_and_beyond_is_a_lower_bound(
    unit: str, max_km: float | None
) -> None:
    rng = np.random.default_rng(11)
    net = _network()
    tm = TravelModel(circuity=CIRC, speed_kmh=SPEED, network=net)
    dlon, dlat = rng.uniform(69.4, 72.6, 300), rng.uniform(49.8, 50.7, 300)
    slon, slat = rng.uniform(69.4, 72.6, 25), rng.uniform(49.8, 50.7, 25)
    k = 5
    cm = costs.build_cost_matrix(
        dlon,
        dlat,
        slon,
        slat,
        travel=tm,
        k_nearest=k,
        max_km=max_km,
        unit=unit,  # type: ignore[arg-type]
    )
    exact = costs.exact_cost_function(dlon, dlat, slon, slat, travel=tm, unit=unit)  # type: ignore[arg-type]
    full = exact(np.arange(300), np.arange(25))
    brute = net.pair_cost(dlon[:, None], dlat[:, None], slon[None, :], slat[None, :], unit)  # type: ignore[arg-type]
    np.testing.assert_allclose(full, brute, rtol=1e-12)
    limit = np.inf if max_km is None else (max_km if unit == "km" else max_km / SPEED * 60)
    for i in range(300):
        idx, cst = cm.row(i)
        want = np.sort(full[i])[:k]
        want = want[want <= limit]
        np.testing.assert_allclose(cst, want, rtol=1e-9)
        np.testing.assert_allclose(cst, full[i, idx], rtol=1e-9)
        unlisted = np.setdiff1d(np.arange(25), idx)
        allowed = full[i, unlisted][full[i, unlisted] <= limit]
        if allowed.size:
            assert cm.beyond_cost[i] <= allowed.min() + 1e-9
        else:
            assert not np.isfinite(cm.beyond_cost[i]) or cm.beyond_cost[i] <= limit


def test_dense_network_matrix_matches_pair_costs() -> None:
    rng = np.random.default_rng(5)
    tm = TravelModel(circuity=CIRC, speed_kmh=SPEED, network=_network())
    dlon, dlat = rng.uniform(69.4, 72.6, 40), rng.uniform(49.8, 50.7, 40)
    slon, slat = rng.uniform(69.4, 72.6, 6), rng.uniform(49.8, 50.7, 6)
    cm = costs.build_cost_matrix(dlon, dlat, slon, slat, travel=tm)
    brute = tm.road_km_between(dlon[:, None], dlat[:, None], slon[None, :], slat[None, :])
    np.testing.assert_allclose(cm.to_dense(), brute, rtol=1e-9)
    assert not np.isfinite(cm.beyond_cost).any()


# ----------------------------------------------------------------------------------------
# Files and validation
# ----------------------------------------------------------------------------------------
def test_reads_gpkg_and_geojson_and_reprojects(tmp_path: Path) -> None:
    gdf = _frame()
    gdf.to_file(tmp_path / "r.gpkg")
    gdf.to_crs("EPSG:32642").to_file(tmp_path / "r.geojson", driver="GeoJSON")
    a = roads.load_road_network(tmp_path / "r.gpkg", circuity=CIRC, speed_kmh=SPEED)
    b = roads.load_road_network(tmp_path / "r.geojson", circuity=CIRC, speed_kmh=SPEED)
    assert a.n_nodes == b.n_nodes == len(P)
    x = a.pair_cost(69.5, 50.0, 72.5, 50.0)
    y = b.pair_cost(69.5, 50.0, 72.5, 50.0)
    assert float(x) == pytest.approx(float(y), rel=1e-5)


def test_missing_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"does not exist.*travel.road_network"):
        roads.load_road_network(tmp_path / "nope.gpkg", circuity=CIRC, speed_kmh=SPEED)


_OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
  <node id="1" lat="50.0" lon="70.0" version="1"/>
  <node id="2" lat="50.0" lon="70.5" version="1"/>
  <node id="3" lat="50.0" lon="71.0" version="1"/>
  <node id="4" lat="50.5" lon="70.5" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="trunk"/></way>
  <way id="11" version="1"><nd ref="2"/><nd ref="4"/><tag k="highway" v="primary_link"/></way>
  <way id="12" version="1"><nd ref="3"/><nd ref="4"/><tag k="waterway" v="river"/></way>
</osm>
"""


def test_openstreetmap_ways_tagged_highway_are_the_roads(tmp_path: Path) -> None:
    """OSM data goes through GDAL's OSM driver (the same for .osm.pbf; XML is writable here)."""
    f = tmp_path / "kz.osm"
    f.write_text(_OSM_XML, encoding="utf-8")
    net = roads.load_road_network(f, circuity=CIRC, speed_kmh=SPEED)
    assert net.n_lines == 2  # the river is not a road
    # 1 -> 3 along the trunk (80 km/h); 3 -> 4 only via 2 (the river is no edge).
    km_13 = _km_pts((70.0, 50.0), (71.0, 50.0))
    assert float(net.pair_cost(70.0, 50.0, 71.0, 50.0)) == pytest.approx(km_13, rel=2e-4)
    via = _km_pts((71.0, 50.0), (70.5, 50.0)) + _km_pts((70.5, 50.0), (70.5, 50.5))
    assert float(net.pair_cost(71.0, 50.0, 70.5, 50.5)) == pytest.approx(via, rel=2e-4)
    # primary_link is driven at the primary speed (70 km/h), the trunk at 80.
    minutes = float(net.pair_cost(70.5, 50.0, 70.5, 50.5, "min"))
    assert minutes == pytest.approx(_km_pts((70.5, 50.0), (70.5, 50.5)) / 70.0 * 60.0, rel=2e-4)


def test_file_without_lines_is_explained(tmp_path: Path) -> None:
    pts = gpd.GeoDataFrame(geometry=[Point(70, 50), Point(71, 50)], crs="EPSG:4326")
    pts.to_file(tmp_path / "p.gpkg")
    with pytest.raises(ValidationError, match=r"no line geometries \(found: Point\)"):
        roads.load_road_network(tmp_path / "p.gpkg", circuity=CIRC, speed_kmh=SPEED)


def test_wrong_crs_is_explained(tmp_path: Path) -> None:
    wrong = _frame().to_crs("EPSG:32642").set_crs("EPSG:4326", allow_override=True)
    wrong.to_file(tmp_path / "w.gpkg")
    with pytest.raises(ValidationError, match=r"CRS is missing or wrong.*reproject to EPSG:4326"):
        roads.load_road_network(tmp_path / "w.gpkg", circuity=CIRC, speed_kmh=SPEED)


def test_points_far_from_any_road_are_explained() -> None:
    net = _network(max_access_km=50.0)
    with pytest.raises(ValidationError, match=r"1 points lie more than 50 km.*road_max_access_km"):
        net.pair_cost(np.array([70.0, 80.0]), np.array([50.1, 45.0]), 71.0, 50.0)


def test_scenario_names_a_missing_road_file(tmp_path: Path) -> None:
    sc = load_scenario("default")
    sc = sc.replace(travel=dataclasses.replace(sc.travel, road_network=str(tmp_path / "x.gpkg")))
    problems = check_references(sc)
    assert any("travel.road_network" in p and "does not exist" in p for p in problems)


def test_default_travel_states_its_basis() -> None:
    assert "median road/geodesic ratio 1.31" in TravelModel().description


# ----------------------------------------------------------------------------------------
# The Natural Earth major roads (../shared, skipped when absent)
# ----------------------------------------------------------------------------------------
needs_ne = pytest.mark.skipif(not NE_ROADS.is_file(), reason=f"{NE_ROADS} is absent")


@needs_ne
@pytest.mark.parametrize("unit", ["km", "min"])
def test_default_scenario_solves_on_natural_earth_roads(unit: str) -> None:
    sc = load_scenario("default")
    sc = sc.replace(
        data=dataclasses.replace(sc.data, n_farms=2000),
        travel=dataclasses.replace(sc.travel, road_network=str(NE_ROADS), unit=unit),
        solver=dataclasses.replace(sc.solver, time_limit_s=20.0),
    )
    res = run_scenario(sc)
    assert res.solution.has_solution
    asg = assignment_table(res)
    asg = asg[asg["site_id"] != ""]
    farms = res.inputs.farms.set_index(res.inputs.farms["farm_id"].astype(str))
    sites = res.inputs.sites.set_index(res.inputs.sites["site_id"].astype(str))
    f = farms.loc[asg["farm_id"]]
    s = sites.loc[asg["site_id"]]
    _, _, m = GEOD.inv(
        f["lon"].to_numpy(), f["lat"].to_numpy(), s["lon"].to_numpy(), s["lat"].to_numpy()
    )
    geo = m / 1000.0
    km = asg["travel_km"].to_numpy()
    assert (km >= geo - 1e-3).all()
    far = geo > 20.0  # ratios of very short trips say little about the network
    ratio = float(np.median(km[far] / geo[far]))
    assert 1.2 <= ratio <= 1.6
    assert any("road network kz_roads_ne10m.gpkg" in n for n in res.inputs.data_notes)
    # Minutes at the road-class speeds: never faster than the fastest class or the access speed.
    fastest_kmh = max(*roads.CLASS_SPEED_KMH.values(), SPEED)
    assert (asg["travel_time_min"].to_numpy() >= geo / fastest_kmh * 60.0 - 0.01).all()
    # and not the km at one speed: the class speeds differ from the 60 km/h of the legs
    assert not np.allclose(asg["travel_time_min"], km / SPEED * 60.0, rtol=1e-3)
    assert pd.Series(km).notna().all()


def test_check_data_scenario_reports_a_bad_road_file(tmp_path: Path) -> None:
    pts = gpd.GeoDataFrame(geometry=[Point(70, 50)], crs="EPSG:4326")
    pts.to_file(tmp_path / "roads.gpkg")
    (tmp_path / "s.toml").write_text(
        'schema_version = 1\nname = "x"\n[travel]\nroad_network = "roads.gpkg"\n'
        '[model]\nkind = "p_median"\np = 2\n',
        encoding="utf-8",
    )
    report = validate_scenario(tmp_path / "s.toml")
    assert not report.ok
    assert any(p.startswith("`travel.road_network`: ") and "no line" in p for p in report.problems)
