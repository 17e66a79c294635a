"""The one travel model: distances, road km, minutes, KZT per km, radii and cost matrices.

Model (documented assumptions, no Kazakhstan-specific source exists):

* **Distance.** Geodesic distance on the WGS84 ellipsoid by Lambert's formula for long lines,
  vectorised with numpy (within 0.01 % of ``pyproj.Geod`` for the distances that occur here;
  the tests check 0.5 %).
* **Road km** = geodesic km x ``circuity`` (the default). No published circuity value for
  Kazakhstan exists (facts file section 7: Ballou 2002 country values not found; global
  summaries give ~1.3). Basis of the default 1.3: the median road/geodesic ratio **1.31**
  measured on Natural Earth major roads between 50 random pairs of oblast centres (mean 1.32,
  90th percentile 1.48, range 1.05-2.06). A scenario parameter.
* **Road network** (optional, ``[travel] road_network``): with a :class:`RoadNetworkLike`
  attached, road km and minutes are shortest paths on the roads (:mod:`planner.roads`)
  instead; every caller of :meth:`TravelModel.road_km_between` gets them.
* **Travel time** = road km / ``speed_kmh`` (default 60 km/h, an assumption between the
  CAREC corridor truck speed of 42 km/h and rural van speeds of 50-60 km/h).

* **Service travel cost** (cost models) = 2 x KZT per road km (one round trip) per
  ``service_hours_per_visit`` service hours (:func:`service_cost_kzt_per_hour_km`).
* **Service radius**: a km radius or a travel time, converted with the speed
  (:func:`service_radius`).

Every module that needs a distance, a travel time or a travel cost calls this one (the
two-echelon stage :mod:`planner.agri`, the single-echelon stage :mod:`planner.location`, the
result tables :mod:`planner.results`, the file checks :mod:`planner.io`, the farm generator
and the scale benchmark). :mod:`planner.costs` turns it into the models' sparse k-nearest
cost matrices (and reads a user's origin-destination table). This module stays light (numpy
only; scipy is loaded when a k-d tree is built) because the first map needs its distances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal, Protocol

import numpy as np
import numpy.typing as npt

from planner._types import FloatArray, IntArray
from planner.errors import ValidationError

WGS84_A_M = 6_378_137.0
WGS84_F = 1 / 298.257223563
EARTH_RADIUS_KM = 6_371.0088
KM_PER_DEGREE = 111.195
# nearest_point: brute force up to this many targets (dot products, no scipy), in chunks of
# at most this many point x target products (about 32 MB of float64).
_BRUTE_FORCE_MAX_TARGETS: Final[int] = 512
_BRUTE_FORCE_CHUNK_CELLS: Final[int] = 4_000_000

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

CostUnit = Literal["km", "min"]

CIRCUITY_BASIS = (
    "median road/geodesic ratio 1.31 measured on Natural Earth major roads between oblast centres"
)
"""The stated basis of the default circuity (for docs and ``data_notes``)."""


class RoadNetworkLike(Protocol):
    """What :class:`TravelModel` needs from a road network (:class:`planner.roads.RoadNetwork`)."""

    @property
    def description(self) -> str:
        """One line for ``data_notes``."""
        ...

    def pair_cost(
        self,
        lon1: npt.ArrayLike,
        lat1: npt.ArrayLike,
        lon2: npt.ArrayLike,
        lat2: npt.ArrayLike,
        weight: CostUnit = "km",
    ) -> FloatArray:
        """Return road km (>= geodesic km) or minutes between points (broadcasting)."""
        ...


@dataclass(frozen=True)
class TravelModel:
    """How straight-line distance becomes road distance and travel time.

    Parameters
    ----------
    circuity
        Road km per geodesic km (assumption, default 1.3; sensitivity range 1.2-1.4).
    speed_kmh
        Average door-to-door speed of a service vehicle (assumption, default 60 km/h).
    network
        Optional road network: when given, :meth:`road_km_between` and
        :meth:`minutes_between` are network distances and times.
    """

    circuity: float = 1.3
    speed_kmh: float = 60.0
    network: RoadNetworkLike | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems = []
        if not 1.0 <= self.circuity <= 3.0:  # noqa: PLR2004
            problems.append(f"`circuity` must be between 1.0 and 3.0, got {self.circuity}.")
        if not 1.0 <= self.speed_kmh <= 200.0:  # noqa: PLR2004
            problems.append(f"`speed_kmh` must be between 1 and 200 km/h, got {self.speed_kmh}.")
        if problems:
            raise ValidationError(problems, source="travel model")

    def road_km(self, geodesic_km: npt.ArrayLike) -> FloatArray:
        """Convert geodesic km to road km."""
        return np.asarray(geodesic_km, dtype=np.float64) * self.circuity

    def travel_time_min(self, geodesic_km: npt.ArrayLike) -> FloatArray:
        """Convert geodesic km to travel time in minutes."""
        return self.road_km(geodesic_km) / self.speed_kmh * 60.0

    def minutes(self, road_km: npt.ArrayLike) -> FloatArray:
        """Convert road km to travel time in minutes."""
        return np.asarray(road_km, dtype=np.float64) / self.speed_kmh * 60.0

    def road_km_between(
        self, lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
    ) -> FloatArray:
        """Return road km between points (broadcasts).

        Geodesic km x circuity, or the road-network distance when a network is attached.
        """
        if self.network is not None:
            return self.network.pair_cost(lon1, lat1, lon2, lat2, "km")
        return self.road_km(geodesic_km(lon1, lat1, lon2, lat2))

    def minutes_between(
        self, lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
    ) -> FloatArray:
        """Return travel minutes between points (broadcasts; by road class on a network)."""
        if self.network is not None:
            return self.network.pair_cost(lon1, lat1, lon2, lat2, "min")
        return self.travel_time_min(geodesic_km(lon1, lat1, lon2, lat2))

    def between(
        self,
        lon1: npt.ArrayLike,
        lat1: npt.ArrayLike,
        lon2: npt.ArrayLike,
        lat2: npt.ArrayLike,
        unit: CostUnit,
    ) -> FloatArray:
        """Return road km or minutes between points, in a model's cost unit."""
        if unit == "km":
            return self.road_km_between(lon1, lat1, lon2, lat2)
        return self.minutes_between(lon1, lat1, lon2, lat2)

    @property
    def description(self) -> str:
        """One line for ``data_notes``: which travel model is used and on what basis."""
        if self.network is not None:
            return self.network.description
        return (
            f"travel = geodesic distance x circuity {self.circuity:g} (default 1.3; basis: "
            f"{CIRCUITY_BASIS}) at {self.speed_kmh:g} km/h (assumption)"
        )

    def cost(self, geodesic_km: npt.ArrayLike, unit: CostUnit) -> FloatArray:
        """Convert geodesic km to the cost unit used by a model (road km or minutes)."""
        return self.road_km(geodesic_km) if unit == "km" else self.travel_time_min(geodesic_km)


def geodesic_km(
    lon1: npt.ArrayLike,
    lat1: npt.ArrayLike,
    lon2: npt.ArrayLike,
    lat2: npt.ArrayLike,
) -> FloatArray:
    """Return the geodesic distance on the WGS84 ellipsoid (Lambert's formula).

    Parameters
    ----------
    lon1, lat1
        Coordinates of the first point(s) in degrees.
    lon2, lat2
        Coordinates of the second point(s) in degrees (broadcast against the first).

    Returns
    -------
    dist_km
        Distance in kilometres.
    """
    lon1r, lat1r, lon2r, lat2r = (
        np.radians(np.asarray(x, dtype=np.float64)) for x in (lon1, lat1, lon2, lat2)
    )
    f = WGS84_F
    b1 = np.arctan((1 - f) * np.tan(lat1r))
    b2 = np.arctan((1 - f) * np.tan(lat2r))
    # Central angle between reduced latitudes (haversine, stable for short distances).
    h = np.sin((b2 - b1) / 2) ** 2 + np.cos(b1) * np.cos(b2) * np.sin((lon2r - lon1r) / 2) ** 2
    sigma = 2 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    p = (b1 + b2) / 2
    q = (b2 - b1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (sigma - np.sin(sigma)) * np.sin(p) ** 2 * np.cos(q) ** 2 / np.cos(sigma / 2) ** 2
        y = (sigma + np.sin(sigma)) * np.cos(p) ** 2 * np.sin(q) ** 2 / np.sin(sigma / 2) ** 2
    corr = np.where(sigma > 0, x + y, 0.0)
    dist_m = WGS84_A_M * (sigma - f / 2 * corr)
    return np.asarray(dist_m / 1000.0, dtype=np.float64)


def unit_vectors(lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
    """Return points as 3-D unit vectors (rows x 3) for k-d trees and spherical centroids."""
    lonr = np.radians(np.asarray(lon, dtype=np.float64))
    latr = np.radians(np.asarray(lat, dtype=np.float64))
    return np.column_stack((np.cos(latr) * np.cos(lonr), np.cos(latr) * np.sin(lonr), np.sin(latr)))


def kd_tree(lon: npt.ArrayLike, lat: npt.ArrayLike) -> cKDTree:
    """Return a k-d tree (``scipy.spatial.cKDTree``) of points as 3-D unit vectors.

    Chord distance is monotone in great-circle distance, so nearest neighbours in the tree
    are the nearest points on the sphere.
    """
    # scipy loads in about 0.5 s; the first map (Explore page) needs this module's distances
    # but no k-d tree, so it does not pay.
    from scipy.spatial import cKDTree  # noqa: PLC0415

    return cKDTree(unit_vectors(lon, lat))


def nearest_point(
    lon: npt.ArrayLike, lat: npt.ArrayLike, target_lon: npt.ArrayLike, target_lat: npt.ArrayLike
) -> IntArray:
    """Return, for each point, the index of the nearest target on the sphere.

    Few targets (at most ``_BRUTE_FORCE_MAX_TARGETS``, e.g. the 344 settlements every farm
    is matched to) are compared by the dot products of unit vectors (largest = nearest), in
    row chunks; more targets go through a k-d tree. The brute-force path keeps scipy off the
    app's first map (importing it and building a tree cost about 0.25 s of CPU there).
    """
    targets = unit_vectors(target_lon, target_lat)
    if len(targets) > _BRUTE_FORCE_MAX_TARGETS:
        _, idx = kd_tree(target_lon, target_lat).query(unit_vectors(lon, lat))
        return np.asarray(idx, dtype=np.int64)
    points = unit_vectors(lon, lat)
    out = np.empty(len(points), dtype=np.int64)
    step = max(1, _BRUTE_FORCE_CHUNK_CELLS // max(len(targets), 1))
    for start in range(0, len(points), step):
        block = points[start : start + step] @ targets.T
        out[start : start + step] = np.argmax(block, axis=1)
    return out


def great_circle_km(lat0: float, lon0: float, lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Return the great-circle km from one point to many (sphere, 111.195 km per degree).

    Cheaper than :func:`geodesic_km` and precise enough for messages ("120 km from Astana").
    """
    p0, p1 = np.radians(lat0), np.radians(lat)
    dl = np.radians(lon - lon0)
    c = np.sin(p0) * np.sin(p1) + np.cos(p0) * np.cos(p1) * np.cos(dl)
    out: FloatArray = np.degrees(np.arccos(np.clip(c, -1.0, 1.0))) * KM_PER_DEGREE
    return out


def service_cost_kzt_per_hour_km(
    travel_cost_kzt_per_km: float, service_hours_per_visit: float
) -> float:
    """Return the service travel cost per service hour of demand and road km (KZT).

    One round trip (2 x road km) per visit of ``service_hours_per_visit`` hours.

    Parameters
    ----------
    travel_cost_kzt_per_km
        Vehicle cost per road km (scenario ``sites.travel_cost_kzt_per_km``).
    service_hours_per_visit
        Service hours done per visit (scenario ``sites.service_hours_per_visit``).

    Returns
    -------
    rate
        KZT per (service hour x road km).
    """
    return 2.0 * travel_cost_kzt_per_km / service_hours_per_visit


def service_radius(
    radius_km: float | None, time_min: float | None, *, unit: CostUnit, speed_kmh: float
) -> float | None:
    """Return a service radius in the cost unit (road km or minutes), from km or minutes.

    Parameters
    ----------
    radius_km
        Radius in road km, if given (wins over ``time_min`` when ``unit`` is km).
    time_min
        Radius as travel time in minutes, if given (wins when ``unit`` is minutes).
    unit
        The cost unit of the model.
    speed_kmh
        Converts between the two.

    Returns
    -------
    radius
        In ``unit``; ``None`` when neither is given.
    """
    if radius_km is None and time_min is None:
        return None
    if unit == "km":
        if radius_km is not None:
            return radius_km
        return float(time_min or 0.0) / 60.0 * speed_kmh
    if time_min is not None:
        return time_min
    return float(radius_km or 0.0) / speed_kmh * 60.0
