"""Build models from GeoDataFrames: one build path, delegating to ``from_cost_matrix``.

``Model.from_geodataframes(demand, sites, ...)`` checks the CRS, builds the sparse cost
structure with :func:`planner.costs.build_cost_matrix` (geodesic x circuity, k nearest
sites), builds :class:`SiteData` from the site columns, and then calls the model's own
``from_cost_matrix`` -- so there is exactly one modelling path (spopt style).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, Self, TypeVar

import geopandas as gpd
import numpy as np

from planner import costs as costs_mod
from planner.errors import ValidationError
from planner.models._base import SiteData

M = TypeVar("M")


def _lonlat(gdf: gpd.GeoDataFrame, what: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    if gdf.crs is None:
        msg = f"{what} have no CRS; set one first, e.g. `gdf.set_crs('EPSG:4326')`."
        raise ValidationError(msg, source=what)
    g = gdf if gdf.crs.equals("EPSG:4326") else gdf.to_crs("EPSG:4326")
    geom = g.geometry
    if not (geom.geom_type == "Point").all():
        msg = (
            f"{what} must be points; use `gdf.representative_point()` (or centroids) for "
            "polygons first."
        )
        raise ValidationError(msg, source=what)
    return geom.x.to_numpy(dtype=np.float64), geom.y.to_numpy(dtype=np.float64)


def from_geodataframes(
    cls: type[M],
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    weight_col: str,
    site_id_col: str | None = None,
    capacity_col: str | None = None,
    fixed_cost_col: str | None = None,
    required: Sequence[str] = (),
    forbidden: Sequence[str] = (),
    travel: costs_mod.TravelModel | None = None,
    k_nearest: int | None = 40,
    max_km: float | None = None,
    unit: costs_mod.CostUnit = "km",
    **model_kwargs: Any,  # noqa: ANN401
) -> M:
    """Build ``cls`` from demand points and candidate sites.

    Parameters
    ----------
    cls
        The model class (``PMedian``, ``CFLP``, ``MCLP``, ``SetCover``, ``PCenter``).
    demand
        Demand points (any CRS; reprojected to EPSG:4326).
    sites
        Candidate sites (points).
    weight_col
        Column of ``demand`` with the demand weight (e.g. ``service_hours_year``).
    site_id_col
        Column of ``sites`` with ids (default: the index as text).
    capacity_col
        Column of ``sites`` with capacities (missing = uncapacitated).
    fixed_cost_col
        Column of ``sites`` with fixed opening costs.
    required
        Site ids that must be open.
    forbidden
        Site ids that must stay closed.
    travel
        Circuity and speed for the cost model.
    k_nearest
        Sites kept per demand point (``None`` = all: small instances only).
    max_km
        Service cutoff in road km.
    unit
        Cost unit of the model: road ``"km"`` or ``"min"``.
    **model_kwargs
        Passed to ``cls.from_cost_matrix`` (``p``, ``service_radius``, ...).

    Returns
    -------
    model
        The model, built through ``cls.from_cost_matrix``.
    """
    if weight_col not in demand.columns:
        msg = f"`weight_col` {weight_col!r} is not a column of the demand frame."
        raise ValidationError(msg, source="demand")
    dlon, dlat = _lonlat(demand, "demand points")
    slon, slat = _lonlat(sites, "sites")
    travel = travel or costs_mod.TravelModel()
    cm = costs_mod.build_cost_matrix(
        dlon, dlat, slon, slat, travel=travel, k_nearest=k_nearest, max_km=max_km, unit=unit
    )
    ids = sites[site_id_col].astype(str).tolist() if site_id_col else [str(i) for i in sites.index]
    index = {sid: i for i, sid in enumerate(ids)}
    unknown = [s for s in (*required, *forbidden) if s not in index]
    if unknown:
        msg = f"site id(s) {', '.join(unknown)} are not in the site frame."
        raise ValidationError(msg, source="sites")
    site_data = SiteData.default(
        len(ids),
        ids=ids,
        capacity=sites[capacity_col].fillna(np.inf).to_numpy(dtype=np.float64)
        if capacity_col
        else None,
        fixed_cost=sites[fixed_cost_col].fillna(0.0).to_numpy(dtype=np.float64)
        if fixed_cost_col
        else None,
        required=[index[s] for s in required],
        forbidden=[index[s] for s in forbidden],
    )
    builder = cls.from_cost_matrix  # type: ignore[attr-defined]
    if "exact_cost" in inspect.signature(builder).parameters and "exact_cost" not in model_kwargs:
        model_kwargs["exact_cost"] = costs_mod.exact_cost_function(
            dlon, dlat, slon, slat, travel=travel, unit=unit
        )
    weights = demand[weight_col].to_numpy(dtype=np.float64)
    model: M = builder(cm, weights, sites=site_data, **model_kwargs)
    return model


class GeoBuildMixin:
    """Adds ``from_geodataframes`` to a model class that has ``from_cost_matrix``."""

    @classmethod
    def from_geodataframes(
        cls,
        demand: gpd.GeoDataFrame,
        sites: gpd.GeoDataFrame,
        *,
        weight_col: str,
        **kwargs: Any,  # noqa: ANN401
    ) -> Self:
        """Build the model from demand points and candidate sites.

        Parameters
        ----------
        demand
            Demand points (any CRS; reprojected to EPSG:4326).
        sites
            Candidate sites (points).
        weight_col
            Column of ``demand`` with the demand weight.
        **kwargs
            Options of :func:`from_geodataframes` (``site_id_col``, ``required``,
            ``travel``, ``k_nearest``, ...) and of the model's ``from_cost_matrix``.

        Returns
        -------
        model
            The model, built through ``from_cost_matrix``.
        """
        return from_geodataframes(cls, demand, sites, weight_col=weight_col, **kwargs)
