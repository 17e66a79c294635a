"""Road-network travel: a routable graph built from road lines, and network distances.

``[travel] road_network = "FILE"`` (GeoPackage, GeoJSON or shapefile of lines in any CRS,
reprojected to EPSG:4326; or OpenStreetMap ``.osm.pbf``/``.osm``, whose ways tagged
``highway`` are read with GDAL's OSM driver, bundled with pyogrio) replaces geodesic x
circuity by distances along the roads for every model. The graph (:func:`load_road_network`):

* **Nodes** are the line vertices; vertices with the same coordinates (to 1e-6 degree) are
  one node, so lines that share a vertex are joined there.
* **Edges** are the segments between consecutive vertices, weighted by their geodesic km and
  by minutes at the speed of the road class (:data:`CLASS_SPEED_KMH`, assumptions).
* **Dangling ends** (nodes of degree 1: lines cut at tile edges, digitising gaps) are joined to
  the nearest node of another line within :data:`SNAP_KM` (1 km) by a straight edge of
  their geodesic length.
* **Components** other than the largest are joined to it by one straight connector each
  (between their closest nodes, geodesic km x circuity at the access speed), so every
  point reaches every other one; the number of connectors is reported.

A point (farm, site, zone) joins the network at its nearest node by an **access leg** of
geodesic km x circuity at ``speed_kmh``. A trip between two points is the access legs plus
the shortest path between their nodes (``scipy.sparse.csgraph.dijkstra``, compiled, from the
unique nodes of the smaller side). If both points are nearer to each other than to the road
network (geodesic x circuity <= the two access legs), the trip goes on local roads that the
network does not hold: geodesic x circuity, as without a network.

**Guarantee.** Road km >= geodesic km: every edge and leg is at least the geodesic distance
between its ends, so by the triangle inequality a path is at least the geodesic distance of
its end points. The result is clipped at the geodesic km all the same, because the
geodesic formula (Lambert, 0.01 %) is not exactly a metric; the clip changes nothing larger
than that rounding.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from planner._types import FloatArray, IntArray
from planner.errors import ValidationError
from planner.travel import geodesic_km, kd_tree, unit_vectors

if TYPE_CHECKING:
    from types import ModuleType

    from scipy.sparse import csr_matrix
    from scipy.spatial import cKDTree

SNAP_KM: Final = 1.0
"""Dangling line ends are joined to another line within this distance (km)."""

DEFAULT_MAX_ACCESS_KM: Final = 300.0
"""Default limit on a point's straight distance to its nearest road node (km): Natural Earth
major roads leave desert gaps of 200+ km (the median point of Kazakhstan is 39.5 km from one),
so the limit is there to catch a file of the wrong area or CRS, not sparse coverage."""

CLASS_SPEED_KMH: Final[dict[str, float]] = {
    # Natural Earth ``type`` (assumptions: truck / service-van speeds by class)
    "major highway": 80.0,
    "secondary highway": 70.0,
    "road": 60.0,
    "unknown": 55.0,
    "track": 30.0,
    "ferry route": 15.0,
    "ferry": 15.0,
    # OpenStreetMap ``highway`` (assumptions)
    "motorway": 90.0,
    "trunk": 80.0,
    "primary": 70.0,
    "secondary": 60.0,
    "tertiary": 50.0,
    "unclassified": 40.0,
    "residential": 30.0,
}
"""Road class -> speed (km/h). Assumptions: no sourced Kazakhstan speed table exists; a
``speed_kmh`` column in the file wins, an unknown class gets the scenario's ``speed_kmh``."""

_CLASS_COLUMNS: Final = ("type", "highway", "class", "road_class", "fclass")
_LINE_TYPES: Final = ("LineString", "MultiLineString")
_OSM_SUFFIXES: Final = (".pbf", ".osm")
_SUFFIXES: Final = (".gpkg", ".geojson", ".json", ".shp", *_OSM_SUFFIXES)
_ROUND_DEG: Final = 1e6
_DIJKSTRA_CHUNK: Final = 256
_DIJKSTRA_CELLS: Final = 32_000_000

Weight = Literal["km", "min"]


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A routable road graph (undirected) with km and minute weights.

    Parameters
    ----------
    source
        The file it was read from (for notes and messages).
    node_lon, node_lat
        Node coordinates (degrees).
    graph_km, graph_min
        Upper-triangular sparse adjacency matrices (one entry per edge) in km and minutes.
    circuity
        Road km per geodesic km of access legs and component connectors.
    speed_kmh
        Speed on access legs and connectors.
    max_access_km
        Points farther than this (straight) from every node are an error.
    n_lines
        Lines read.
    n_connectors
        Straight connectors that join smaller components to the largest.
    road_km
        Total length of the road edges (km).
    """

    source: str
    node_lon: FloatArray
    node_lat: FloatArray
    graph_km: csr_matrix
    graph_min: csr_matrix
    circuity: float
    speed_kmh: float
    max_access_km: float
    n_lines: int
    n_connectors: int
    road_km: float
    tree: cKDTree

    def __post_init__(self) -> None:
        # Shared between callers and app sessions (cached): read-only.
        for arr in (self.node_lon, self.node_lat):
            arr.flags.writeable = False

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return len(self.node_lon)

    @property
    def description(self) -> str:
        """One line for ``data_notes``: which travel model and on what basis."""
        return (
            f"travel = shortest path on the road network {Path(self.source).name} "
            f"({self.n_lines:,} lines, {self.road_km:,.0f} km, {self.n_nodes:,} nodes, "
            f"{self.n_connectors} component connector(s)); access legs to the nearest node = "
            f"geodesic x circuity {self.circuity:g} at {self.speed_kmh:g} km/h; minutes by "
            "road class speed (assumptions); road km clipped at >= geodesic km"
        )

    def attach(
        self, lon: npt.ArrayLike, lat: npt.ArrayLike, what: str
    ) -> tuple[IntArray, FloatArray]:
        """Return each point's nearest node and its straight (geodesic) distance in km.

        Raises
        ------
        ValidationError
            When points lie farther than ``max_access_km`` from every node.
        """
        lo = np.asarray(lon, dtype=np.float64).ravel()
        la = np.asarray(lat, dtype=np.float64).ravel()
        if lo.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        _, idx = self.tree.query(unit_vectors(lo, la))
        node = np.asarray(idx, dtype=np.int64)
        km = geodesic_km(lo, la, self.node_lon[node], self.node_lat[node])
        far = km > self.max_access_km
        if far.any():
            first = int(np.flatnonzero(far)[0])
            msg = (
                f"{int(far.sum()):,} {what} lie more than {self.max_access_km:g} km from any "
                f"road of {Path(self.source).name} (farthest {km.max():,.0f} km; first at "
                f"lon {lo[first]:.3f}, lat {la[first]:.3f}). Use a road file that covers them, "
                "raise `travel.road_max_access_km`, or remove `travel.road_network`."
            )
            raise ValidationError(msg, source="road network")
        return node, km

    def node_costs(self, src: IntArray, dst: IntArray, weight: Weight) -> FloatArray:
        """Return shortest-path costs from each ``src`` node to each ``dst`` node.

        Dijkstra (compiled, :func:`scipy.sparse.csgraph.dijkstra`) runs once per unique
        source node, in chunks that keep the memory at chunk x nodes.

        Returns
        -------
        cost
            Array ``len(src) x len(dst)``, in km or minutes.
        """
        graph = self.graph_km if weight == "km" else self.graph_min
        u_src, inv = np.unique(np.asarray(src, dtype=np.int64), return_inverse=True)
        dst = np.asarray(dst, dtype=np.int64)
        out = np.empty((len(u_src), len(dst)))
        # Chunks of sources keep the dense Dijkstra output near 256 MB on large graphs.
        chunk = max(1, min(_DIJKSTRA_CHUNK, _DIJKSTRA_CELLS // max(self.n_nodes, 1)))
        for lo in range(0, len(u_src), chunk):
            rows = u_src[lo : lo + chunk]
            d = _sparse().csgraph.dijkstra(graph, directed=False, indices=rows)
            out[lo : lo + len(rows)] = np.asarray(d).reshape(len(rows), -1)[:, dst]
        return np.asarray(out[inv.ravel()], dtype=np.float64)

    def leg(self, straight_km: FloatArray, weight: Weight) -> FloatArray:
        """Return the cost of access legs (geodesic x circuity, in km or minutes)."""
        km = np.asarray(straight_km, dtype=np.float64) * self.circuity
        return km if weight == "km" else km / self.speed_kmh * 60.0

    def pair_cost(
        self,
        lon1: npt.ArrayLike,
        lat1: npt.ArrayLike,
        lon2: npt.ArrayLike,
        lat2: npt.ArrayLike,
        weight: Weight = "km",
    ) -> FloatArray:
        """Return the travel cost between points (broadcasts like numpy).

        Returns
        -------
        cost
            Road km (>= geodesic km) or minutes, of the broadcast shape.
        """
        a = [np.asarray(x, dtype=np.float64) for x in (lon1, lat1)]
        b = [np.asarray(x, dtype=np.float64) for x in (lon2, lat2)]
        a_lon, a_lat = np.broadcast_arrays(*a)
        b_lon, b_lat = np.broadcast_arrays(*b)
        na, ka = self.attach(a_lon, a_lat, "points")
        nb, kb = self.attach(b_lon, b_lat, "points")
        shape = np.broadcast_shapes(a_lon.shape, b_lon.shape)
        na_b = np.broadcast_to(na.reshape(a_lon.shape), shape).ravel()
        nb_b = np.broadcast_to(nb.reshape(b_lon.shape), shape).ravel()
        ka_b = np.broadcast_to(ka.reshape(a_lon.shape), shape).ravel()
        kb_b = np.broadcast_to(kb.reshape(b_lon.shape), shape).ravel()
        geo = geodesic_km(a_lon, a_lat, b_lon, b_lat)
        geo = np.broadcast_to(geo, shape).ravel()
        ua, ia = np.unique(na_b, return_inverse=True)
        ub, ib = np.unique(nb_b, return_inverse=True)
        if len(ua) <= len(ub):
            table = self.node_costs(ua, ub, weight)
        else:
            table = self.node_costs(ub, ua, weight).T
        net = table[ia.ravel(), ib.ravel()]
        cost = combine(
            net, self.leg(ka_b, weight), self.leg(kb_b, weight), geo, network=self, weight=weight
        )
        return cost.reshape(shape)


def combine(
    net: FloatArray,
    leg_a: FloatArray,
    leg_b: FloatArray,
    geo_km: FloatArray,
    *,
    network: RoadNetwork,
    weight: Weight,
) -> FloatArray:
    """Combine node-to-node costs, access legs and the local-road rule into trip costs.

    Parameters
    ----------
    net
        Shortest-path cost between the two attachment nodes.
    leg_a, leg_b
        Access-leg costs of the two ends (same unit).
    geo_km
        Geodesic km between the two points.
    network
        The network (circuity and access speed).
    weight
        ``"km"`` or ``"min"``.

    Returns
    -------
    cost
        The trip cost; km are never below ``geo_km``.
    """
    legs = leg_a + leg_b
    direct = network.leg(geo_km, weight)
    cost = np.where(direct <= legs, direct, net + legs)
    if weight == "km":
        # Lambert's formula is within 0.01 % of the true geodesic, not an exact metric.
        cost = np.maximum(cost, geo_km)
    return np.asarray(cost, dtype=np.float64)


def min_cost_per_km(network: RoadNetwork, weight: Weight) -> float:
    """Return a lower bound on the cost of one geodesic km of any trip (for ``beyond_cost``).

    Road km >= geodesic km (so 1 for km); minutes >= geodesic km at the fastest speed of
    any edge, leg or connector.
    """
    if weight == "km":
        return 1.0
    km, mins = network.graph_km.data, network.graph_min.data
    fastest = float(np.max(km / np.maximum(mins, 1e-12) * 60.0)) if len(km) else 0.0
    return 60.0 / max(fastest, network.speed_kmh)


# ----------------------------------------------------------------------------------------
# Reading and building
# ----------------------------------------------------------------------------------------
def _read_lines(path: Path) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    if not path.is_file():
        msg = (
            f"road network file {path} does not exist; check `travel.road_network` (relative "
            'paths start at the scenario\'s folder) or set it to "" for geodesic x circuity.'
        )
        raise ValidationError(msg, source="road network")
    if suffix not in _SUFFIXES:
        msg = (
            f"{path.name}: a road network must be a GeoPackage, GeoJSON or shapefile of lines, "
            f"or OpenStreetMap data ({', '.join(_SUFFIXES)})."
        )
        raise ValidationError(msg, source="road network")
    try:
        if suffix in _OSM_SUFFIXES:
            # GDAL's OSM driver (bundled with pyogrio): the ways tagged as roads.
            gdf = gpd.read_file(path, layer="lines", where="highway IS NOT NULL")
        else:
            gdf = gpd.read_file(path)
    except Exception as exc:
        msg = f"{path.name} could not be read as a vector file ({exc}); is it a GIS file of lines?"
        raise ValidationError(msg, source="road network") from exc
    lines = gdf[gdf.geometry.notna() & gdf.geom_type.isin(_LINE_TYPES)]
    if lines.empty:
        kinds = ", ".join(sorted({str(t) for t in gdf.geom_type.dropna().unique()})) or "none"
        msg = (
            f"{path.name} holds no line geometries (found: {kinds}); a road network needs "
            "LineString or MultiLineString roads."
        )
        raise ValidationError(msg, source="road network")
    if lines.crs is not None and not lines.crs.equals("EPSG:4326"):
        lines = lines.to_crs("EPSG:4326")
    minx, miny, maxx, maxy = lines.total_bounds
    if min(minx, miny) < -180 or maxx > 180 or maxy > 90 or miny < -90:  # noqa: PLR2004
        declared = "no CRS" if gdf.crs is None else f"CRS {gdf.crs.to_string()}"
        msg = (
            f"{path.name} has coordinates outside lon -180..180 / lat -90..90 with {declared}: "
            "the file's CRS is missing or wrong. Set the right CRS (e.g. `ogr2ogr -a_srs "
            "EPSG:32642`) or reproject to EPSG:4326."
        )
        raise ValidationError(msg, source="road network")
    return lines.explode(index_parts=False).reset_index(drop=True)


def _line_speeds(lines: gpd.GeoDataFrame, default_kmh: float) -> FloatArray:
    cols = {str(c).lower(): c for c in lines.columns}
    if "speed_kmh" in cols:
        v = np.asarray(lines[cols["speed_kmh"]], dtype=np.float64)
        return np.where(np.isfinite(v) & (v > 0), v, default_kmh)
    for name in _CLASS_COLUMNS:
        if name in cols:
            cls = lines[cols[name]].astype(str).str.strip().str.lower().str.removesuffix("_link")
            speeds = cls.map(CLASS_SPEED_KMH).astype(np.float64)
            return np.asarray(speeds.fillna(default_kmh), dtype=np.float64)
    return np.full(len(lines), default_kmh)


def _edges_from_lines(
    coords: FloatArray, line_of_vertex: IntArray
) -> tuple[FloatArray, FloatArray, IntArray, IntArray, IntArray, FloatArray]:
    """Nodes (merged vertices) and segment edges (u, v, line, km)."""
    key = np.round(coords * _ROUND_DEG).astype(np.int64)
    _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inv = inv.ravel()
    node_lon, node_lat = coords[first, 0], coords[first, 1]
    seg = np.flatnonzero(line_of_vertex[:-1] == line_of_vertex[1:])
    u, v = inv[seg], inv[seg + 1]
    keep = u != v
    u, v, line = u[keep], v[keep], line_of_vertex[seg][keep]
    km = geodesic_km(node_lon[u], node_lat[u], node_lon[v], node_lat[v])
    return node_lon, node_lat, u, v, line, km


def _snap_dangling(
    node_lon: FloatArray, node_lat: FloatArray, u: IntArray, v: IntArray, line: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Edges joining each dangling end to the nearest node of another line within SNAP_KM."""
    n = len(node_lon)
    degree = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    node_line = np.full(n, -1, dtype=np.int64)
    node_line[u] = line
    node_line[v] = line
    ends = np.flatnonzero(degree == 1)
    if len(ends) == 0 or n < 2:  # noqa: PLR2004
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    tree = kd_tree(node_lon, node_lat)
    k = min(16, n)
    _, nn = tree.query(unit_vectors(node_lon[ends], node_lat[ends]), k=k)
    nn = np.asarray(nn, dtype=np.int64).reshape(len(ends), k)
    km = geodesic_km(node_lon[ends][:, None], node_lat[ends][:, None], node_lon[nn], node_lat[nn])
    ok = (nn != ends[:, None]) & (node_line[nn] != node_line[ends][:, None]) & (km <= SNAP_KM)
    has = ok.any(axis=1)
    pick = np.argmax(ok, axis=1)
    src = ends[has]
    dst = nn[has, pick[has]]
    return src, dst, node_line[src]


def _sparse() -> ModuleType:
    """Return :mod:`scipy.sparse` with its ``csgraph`` (imported on the first road graph).

    The app's first map imports this module (through :mod:`planner.references`) but builds
    no road graph; importing scipy.sparse and csgraph there cost about 0.15 s of CPU.
    """
    import scipy.sparse.csgraph  # noqa: PLC0415 - keeps scipy off the first map (0.15 s CPU)

    return scipy.sparse


def _join_components(
    node_lon: FloatArray, node_lat: FloatArray, u: IntArray, v: IntArray
) -> tuple[IntArray, IntArray]:
    """One connector per smaller component: its node closest to the largest component."""
    n = len(node_lon)
    sparse = _sparse()
    adj = sparse.coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    n_comp, label = sparse.csgraph.connected_components(adj, directed=False)
    if n_comp <= 1:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    main = int(np.argmax(np.bincount(label)))
    main_nodes = np.flatnonzero(label == main)
    others = np.flatnonzero(label != main)
    dist, idx = kd_tree(node_lon[main_nodes], node_lat[main_nodes]).query(
        unit_vectors(node_lon[others], node_lat[others])
    )
    order = np.lexsort((np.asarray(dist, dtype=np.float64), label[others]))
    comp_sorted = label[others][order]
    firsts = order[np.r_[True, comp_sorted[1:] != comp_sorted[:-1]]]
    return others[firsts].astype(np.int64), main_nodes[np.asarray(idx)[firsts]].astype(np.int64)


def _upper_csr(u: IntArray, v: IntArray, w: FloatArray, n: int) -> csr_matrix:
    """Symmetric edge list -> upper-triangular CSR keeping the cheapest parallel edge."""
    a, b = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
    # csgraph reads stored zeros as "no edge"
    out: csr_matrix = _sparse().csr_matrix(
        (np.maximum(w[first], 1e-9), (a[first], b[first])), shape=(n, n)
    )
    return out


def build_road_network(
    lines: gpd.GeoDataFrame,
    *,
    source: str,
    circuity: float,
    speed_kmh: float,
    max_access_km: float = DEFAULT_MAX_ACCESS_KM,
) -> RoadNetwork:
    """Build the routable graph from LineStrings in EPSG:4326 (see the module docstring).

    Parameters
    ----------
    lines
        GeoDataFrame of LineStrings (optional class or ``speed_kmh`` column).
    source
        Name of the source for notes.
    circuity
        Road km per geodesic km on access legs and connectors.
    speed_kmh
        Speed on access legs, connectors and roads of an unknown class.
    max_access_km
        Limit on the straight distance of a point to its nearest node.

    Returns
    -------
    network
        The graph.
    """
    coords, line_of_vertex = shapely.get_coordinates(lines.geometry.to_numpy(), return_index=True)
    coords = np.asarray(coords, dtype=np.float64)
    line_of_vertex = np.asarray(line_of_vertex, dtype=np.int64)
    speed = _line_speeds(lines, speed_kmh)
    node_lon, node_lat, u, v, line, km = _edges_from_lines(coords, line_of_vertex)
    if len(u) == 0:
        msg = f"{Path(source).name}: the lines have no segment of non-zero length."
        raise ValidationError(msg, source="road network")
    road_km = float(km.sum())
    minutes = km / speed[line] * 60.0
    su, sv, sline = _snap_dangling(node_lon, node_lat, u, v, line)
    skm = geodesic_km(node_lon[su], node_lat[su], node_lon[sv], node_lat[sv])
    u, v = np.r_[u, su], np.r_[v, sv]
    km = np.r_[km, skm]
    minutes = np.r_[minutes, skm / speed[sline] * 60.0]
    cu, cv = _join_components(node_lon, node_lat, u, v)
    ckm = geodesic_km(node_lon[cu], node_lat[cu], node_lon[cv], node_lat[cv]) * circuity
    u, v = np.r_[u, cu], np.r_[v, cv]
    km = np.r_[km, ckm]
    minutes = np.r_[minutes, ckm / speed_kmh * 60.0]
    n = len(node_lon)
    return RoadNetwork(
        source=source,
        node_lon=node_lon,
        node_lat=node_lat,
        graph_km=_upper_csr(u, v, km, n),
        graph_min=_upper_csr(u, v, minutes, n),
        circuity=circuity,
        speed_kmh=speed_kmh,
        max_access_km=max_access_km,
        n_lines=len(lines),
        n_connectors=len(cu),
        road_km=road_km,
        tree=kd_tree(node_lon, node_lat),
    )


@functools.lru_cache(maxsize=4)
def _load_cached(
    path: str, mtime_ns: int, circuity: float, speed_kmh: float, max_access_km: float
) -> RoadNetwork:
    del mtime_ns  # part of the cache key only: an edited file is read again
    lines = _read_lines(Path(path))
    return build_road_network(
        lines, source=path, circuity=circuity, speed_kmh=speed_kmh, max_access_km=max_access_km
    )


def load_road_network(
    path: str | Path,
    *,
    circuity: float,
    speed_kmh: float,
    max_access_km: float = DEFAULT_MAX_ACCESS_KM,
) -> RoadNetwork:
    """Read a road file and build its graph (cached per file, modification time and settings).

    Parameters
    ----------
    path
        GeoPackage, GeoJSON or shapefile of road lines (any CRS).
    circuity
        Road km per geodesic km of access legs and connectors.
    speed_kmh
        Speed of access legs, connectors and roads of unknown class.
    max_access_km
        Points farther than this from every road node are an error.

    Returns
    -------
    network
        The routable graph (shared between callers: it is immutable).
    """
    p = Path(path)
    mtime = p.stat().st_mtime_ns if p.is_file() else -1
    return _load_cached(
        os.fspath(p), mtime, float(circuity), float(speed_kmh), float(max_access_km)
    )
