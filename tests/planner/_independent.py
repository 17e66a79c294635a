"""Independent recomputation of a solve's written results, for end-to-end tests.

Everything here is rebuilt from the files ``planner solve`` writes (``summary.json``,
``sites.csv``, ``assignments.csv`` and the exports) with numpy, pandas, pyproj, openpyxl and
the standard library only. It imports nothing from ``planner.results``, ``planner.export``
or ``planner.brief``: a wrong figure there cannot hide itself here.

Definitions (as ``planner/results.py`` documents them, reimplemented):

* weights are the demand carried by each farm-site row (``demand`` column, ``share`` of the
  farm's demand for split models); unserved rows have an empty ``site_id``;
* mean travel = demand-weighted mean of ``travel_km`` over served rows;
* p95 travel = the smallest travel distance whose cumulative demand share reaches 95 %;
* share within h hours = demand of served rows with travel time <= h x 60 min, over the
  *total* demand (served or not); travel time = road km / speed x 60;
* served share = served demand / total demand; covered share counts only rows within the
  service radius (coverage models).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import openpyxl
import pandas as pd
import pyogrio
import pytest
from pyproj import Geod

from planner import geodata

FloatArray = npt.NDArray[np.float64]

_GEOD = Geod(ellps="WGS84")
SHARE_WITHIN_KEYS = ("share_within_1h", "share_within_2h", "share_within_3h")
# sites.csv rounds coordinates to 1e-5 degree (about 1 m): allow a few metres of road.
_KM_ABS_TOL = 0.006


def geodesic_km(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> FloatArray:
    """Return WGS84 geodesic distances in km (pyproj)."""
    _, _, metres = _GEOD.inv(
        np.asarray(lon1, dtype=np.float64),
        np.asarray(lat1, dtype=np.float64),
        np.asarray(lon2, dtype=np.float64),
        np.asarray(lat2, dtype=np.float64),
    )
    return np.asarray(metres, dtype=np.float64) / 1000.0


def quantile_by_weight(values: npt.ArrayLike, weights: npt.ArrayLike, q: float) -> float:
    """Return the smallest value whose cumulative weight share (values <= it) reaches ``q``."""
    frame = pd.DataFrame({"v": np.asarray(values, float), "w": np.asarray(weights, float)})
    frame = frame.loc[np.isfinite(frame["v"]) & (frame["w"] > 0)]
    if frame.empty:
        return math.nan
    per_value = frame.groupby("v")["w"].sum().sort_index()
    share = per_value.cumsum() / per_value.sum()
    return float(share.index[share.to_numpy() >= q - 1e-9][0])


@dataclass(frozen=True)
class Written:
    """The three core files of a solve.

    Parameters
    ----------
    summary
        ``summary.json``.
    sites
        ``sites.csv`` (ids as text).
    assignments
        ``assignments.csv`` (ids as text, unserved rows with an empty ``site_id``).
    """

    summary: dict[str, Any]
    sites: pd.DataFrame
    assignments: pd.DataFrame


def farm_table(farms: pd.DataFrame, weights: npt.ArrayLike) -> pd.DataFrame:
    """Return farm_id, lon, lat, oblast_iso and demand (the model's weight) per farm."""
    return pd.DataFrame(
        {
            "farm_id": farms["farm_id"].astype(str).to_numpy(),
            "lon": farms["lon"].to_numpy(dtype=np.float64),
            "lat": farms["lat"].to_numpy(dtype=np.float64),
            "oblast_iso": farms["oblast_iso"].astype(str).to_numpy(),
            "district_kato": farms["district_kato"].astype(str).to_numpy(),
            "demand": np.asarray(weights, dtype=np.float64),
        }
    )


def read_written(out: Path) -> Written:
    """Read ``summary.json``, ``sites.csv`` and ``assignments.csv`` from a results folder."""
    text = {"site_id": str, "farm_id": str, "name": str, "oblast_iso": str}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    sites = pd.read_csv(out / "sites.csv", dtype=text, keep_default_na=False)
    for col in ("lat", "lon", "assigned_demand", "capacity", "utilisation"):
        sites[col] = pd.to_numeric(sites[col], errors="coerce")
    assign = pd.read_csv(out / "assignments.csv", dtype=text, keep_default_na=False)
    for col in ("travel_km", "travel_time_min", "demand", "share"):
        if col in assign.columns:
            assign[col] = pd.to_numeric(assign[col], errors="coerce")
    return Written(summary=summary, sites=sites, assignments=assign)


def recompute_kpis(
    assignments: pd.DataFrame,
    *,
    total_demand: float,
    speed_kmh: float,
    radius_km: float | None = None,
    any_unserved: bool = False,
) -> dict[str, float]:
    """Recompute the travel and service KPIs from an assignment table.

    Parameters
    ----------
    assignments
        Columns farm_id, site_id ("" = unserved), travel_km, demand.
    total_demand
        Demand of every farm, served or not.
    speed_kmh
        Travel speed.
    radius_km
        Service radius of a coverage model (covered share), else ``None``.
    any_unserved
        Count as unserved the farms with any unserved row (two-echelon: a zone's unserved
        share touches each of its farms) instead of the farms with no served row.

    Returns
    -------
    kpis
        Same keys as the planner's summary.
    """
    served = (assignments["site_id"] != "").to_numpy()
    w = assignments["demand"].to_numpy(dtype=np.float64)
    km = assignments["travel_km"].to_numpy(dtype=np.float64)
    minutes = km / speed_kmh * 60.0
    ws, kms = w[served], km[served]
    served_w = float(ws.sum())
    out: dict[str, float] = {
        "served_demand_share": served_w / total_demand,
        "mean_travel_km": float((ws * kms).sum() / served_w) if served_w else math.nan,
        "p95_travel_km": quantile_by_weight(kms, ws, 0.95),
        "mean_travel_time_min": float((ws * minutes[served]).sum() / served_w)
        if served_w
        else math.nan,
        "n_unserved_farms": float(
            len(set(assignments.loc[~served, "farm_id"]))
            if any_unserved
            else len(set(assignments["farm_id"])) - len(set(assignments.loc[served, "farm_id"]))
        ),
    }
    for hours in (1, 2, 3):
        within = served & (minutes <= hours * 60.0 + 1e-6)
        out[f"share_within_{hours}h"] = float(w[within].sum()) / total_demand
    if radius_km is None:
        out["covered_demand_share"] = out["served_demand_share"]
    else:
        covered = served & (km <= radius_km * (1 + 1e-9) + 5e-4)
        out["covered_demand_share"] = float(w[covered].sum()) / total_demand
    return out


def assert_kpis_match(summary: dict[str, Any], kpis: dict[str, float]) -> None:
    """Assert the summary's KPIs equal the recomputed ones (within file rounding)."""
    assert summary["mean_travel_km"] == pytest.approx(kpis["mean_travel_km"], rel=1e-4, abs=1e-3)
    assert summary["p95_travel_km"] == pytest.approx(kpis["p95_travel_km"], abs=2e-3)
    assert summary["mean_travel_time_min"] == pytest.approx(
        kpis["mean_travel_time_min"], rel=1e-4, abs=0.01
    )
    shares = ("served_demand_share", "covered_demand_share", *SHARE_WITHIN_KEYS)
    for key in shares:
        assert summary[key] == pytest.approx(kpis[key], abs=2e-6), key
    assert summary["n_unserved_farms"] == kpis["n_unserved_farms"]


def nearest_cell_district(lon: float, lat: float) -> str:
    """District of the cropland cell nearest to a point, by a loop over all cells."""
    cells = geodata.load_cropland_cells()
    phi, lam = np.radians(lat), np.radians(lon)
    cphi, clam = np.radians(cells["lat"].to_numpy()), np.radians(cells["lon"].to_numpy())
    cos_d = np.sin(phi) * np.sin(cphi) + np.cos(phi) * np.cos(cphi) * np.cos(clam - lam)
    return str(cells["district_kato"].iloc[int(np.argmax(cos_d))])


def per_district(
    assignments: pd.DataFrame, farms: pd.DataFrame, sites: pd.DataFrame
) -> pd.DataFrame:
    """Recompute the per-district rows; a site counts in its nearest cell's district."""
    site_kato = [
        nearest_cell_district(x, y) for x, y in zip(sites["lon"], sites["lat"], strict=True)
    ]
    return per_oblast(
        assignments,
        farms.assign(oblast_iso=farms["district_kato"]),
        sites.assign(oblast_iso=site_kato),
    )


def per_oblast(assignments: pd.DataFrame, farms: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """Recompute the per-oblast rows (farms, demand, served share, travel, open sites).

    Parameters
    ----------
    assignments
        As written (served rows have a site id).
    farms
        farm_id, oblast_iso, demand (every farm).
    sites
        As written (``status`` closed / open / existing).

    Returns
    -------
    rows
        Indexed by oblast_iso (oblasts with farms), columns n_farms, demand, served_share,
        mean_travel_km, share_within_3h, open_sites.
    """
    oblast_of = dict(zip(farms["farm_id"], farms["oblast_iso"], strict=True))
    rows: dict[str, dict[str, float]] = {}
    for iso, group in farms.groupby("oblast_iso"):
        rows[str(iso)] = {
            "n_farms": float(len(group)),
            "demand": float(group["demand"].sum()),
            "served": 0.0,
            "km_x_demand": 0.0,
            "within_3h": 0.0,
        }
    for rec in assignments.itertuples(index=False):
        if rec.site_id == "":
            continue
        r = rows[oblast_of[rec.farm_id]]
        r["served"] += rec.demand
        r["km_x_demand"] += rec.travel_km * rec.demand
        if rec.travel_time_min <= 180.0:
            r["within_3h"] += rec.demand
    open_sites = sites.loc[sites["status"] != "closed"]
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["served_share"] = out["served"] / out["demand"]
    out["mean_travel_km"] = out["km_x_demand"] / out["served"].where(out["served"] > 0)
    out["share_within_3h"] = out["within_3h"] / out["demand"]
    out["open_sites"] = [float((open_sites["oblast_iso"] == iso).sum()) for iso in out.index]
    return out


def check_single_echelon(
    out: Path,
    *,
    farms: pd.DataFrame,
    speed_kmh: float,
    circuity: float,
    p: int | None,
    capacitated: bool,
    radius_km: float | None = None,
    n_sample: int = 300,
) -> Written:
    """Check the files of a single-echelon solve by value; return what was read.

    Parameters
    ----------
    out
        Results folder.
    farms
        farm_id, lon, lat, oblast_iso, demand of every farm of the scenario.
    speed_kmh, circuity
        The scenario's travel model.
    p
        Number of open sites the model must have (``None`` if the model has no p).
    capacitated
        Whether site capacities bind.
    radius_km
        Service radius (coverage models).
    n_sample
        Rows whose travel distance is re-derived from coordinates.

    Returns
    -------
    written
        The summary, sites and assignments as read.
    """
    wr = read_written(out)
    s, sites, a = wr.summary, wr.sites, wr.assignments
    total = float(farms["demand"].sum())
    assert s["total_demand"] == pytest.approx(total, rel=1e-9, abs=1e-3)
    assert s["status"] in ("optimal", "feasible")
    assert s["n_farms"] == len(farms)

    # Open sites: summary, sites.csv and p agree.
    open_ids = set(sites.loc[sites["status"] != "closed", "site_id"])
    assert s["n_open_sites"] == len(open_ids) == len(s["open_sites"])
    assert set(s["open_sites"]) == open_ids
    if p is not None:
        assert len(open_ids) == p
    assert set(sites["status"]) <= {"open", "closed", "existing"}

    # Assignments: every farm once (or split), served only by open sites, demand = share.
    assert set(a["farm_id"]) == set(farms["farm_id"])
    served = a["site_id"] != ""
    assert set(a.loc[served, "site_id"]) <= open_ids
    demand_of = farms.set_index("farm_id")["demand"]
    share_sum = a.loc[served].groupby("farm_id")["share"].sum()
    np.testing.assert_allclose(share_sum.to_numpy(), 1.0, atol=1e-5)
    # demand is rounded to 1e-4 and share to 1e-6 in the file.
    farm_demand = demand_of.loc[a["farm_id"]].to_numpy()
    off = np.abs(a["demand"].to_numpy() - farm_demand * a["share"].to_numpy())
    assert (off <= farm_demand * 6e-7 + 1e-4).all()
    assert (a.loc[~served, "demand"] == 0).all()
    assert a.loc[served, "travel_km"].notna().all()
    np.testing.assert_allclose(
        a.loc[served, "travel_time_min"], a.loc[served, "travel_km"] / speed_kmh * 60.0, atol=6e-3
    )

    # Site loads and capacity.
    load = a.loc[served].groupby("site_id")["demand"].sum()
    got = sites.set_index("site_id")["assigned_demand"]
    np.testing.assert_allclose(
        got.to_numpy(), load.reindex(got.index).fillna(0.0).to_numpy(), rtol=1e-6, atol=2e-3
    )
    assert (sites.loc[sites["status"] == "closed", "assigned_demand"] == 0).all()
    cap = sites["capacity"].to_numpy(dtype=np.float64)
    finite = np.isfinite(cap) & (cap > 0)
    if capacitated:
        assert finite.any()
        assert (sites["assigned_demand"][finite] <= cap[finite] * (1 + 1e-6) + 1e-3).all()
    util = sites["assigned_demand"][finite] / cap[finite]
    np.testing.assert_allclose(sites["utilisation"][finite], util, atol=1e-4)

    # KPIs.
    kpis = recompute_kpis(a, total_demand=total, speed_kmh=speed_kmh, radius_km=radius_km)
    assert_kpis_match(s, kpis)

    # Travel km re-derived from coordinates for a sample of served rows.
    rows = a.loc[served]
    rows = rows.sample(n=min(n_sample, len(rows)), random_state=0)
    f = farms.set_index("farm_id").loc[rows["farm_id"]]
    st = sites.set_index("site_id").loc[rows["site_id"]]
    km = geodesic_km(f["lon"], f["lat"], st["lon"], st["lat"]) * circuity
    np.testing.assert_allclose(rows["travel_km"].to_numpy(), km, rtol=1e-6, atol=_KM_ABS_TOL)
    return wr


def check_two_echelon_files(
    out: Path, *, farms: pd.DataFrame, speed_kmh: float, circuity: float, n_sample: int = 300
) -> Written:
    """Check the files of a two-echelon solve by value (final planning year).

    Parameters
    ----------
    out
        Results folder.
    farms
        farm_id, lon, lat of every farm.
    speed_kmh, circuity
        The scenario's travel model.
    n_sample
        Rows whose travel distance is re-derived from coordinates.

    Returns
    -------
    written
        The summary, sites and assignments as read.
    """
    wr = read_written(out)
    s, sites, a = wr.summary, wr.sites, wr.assignments
    total = float(a["demand"].sum())  # unserved demand is written as rows without a site
    assert s["total_demand"] == pytest.approx(total, rel=1e-6)
    open_sites = sites.loc[sites["status"] != "closed"]
    assert s["n_open_sites"] == len(open_sites) == len(s["open_sites"])
    assert set(s["open_sites"]) == set(open_sites["site_id"])
    assert s["n_plants"] == (open_sites["role"] == "assembly_plant").sum()
    assert s["n_centres"] == (open_sites["role"] == "service_centre").sum()
    served = a["site_id"] != ""
    centres = set(open_sites.loc[open_sites["role"] == "service_centre", "site_id"])
    assert set(a.loc[served, "site_id"]) <= centres
    assert ((a["served_by"] == "unserved") == ~served).all()
    kpis = recompute_kpis(a, total_demand=total, speed_kmh=speed_kmh, any_unserved=True)
    assert_kpis_match(s, kpis)
    van = a.loc[a["served_by"] == "van", "demand"].sum()
    assert s["van_served_share"] == pytest.approx(van / total, abs=2e-6)
    rows = a.loc[served].sample(n=min(n_sample, int(served.sum())), random_state=0)
    f = farms.set_index("farm_id").loc[rows["farm_id"]]
    st = sites.loc[sites["role"] == "service_centre"].set_index("site_id").loc[rows["site_id"]]
    km = geodesic_km(f["lon"], f["lat"], st["lon"], st["lat"]) * circuity
    np.testing.assert_allclose(rows["travel_km"].to_numpy(), km, rtol=1e-6, atol=_KM_ABS_TOL)
    return wr


# ------------------------------------------------------------------------------------------
# Exports read back
# ------------------------------------------------------------------------------------------
def check_gpkg(path: Path, written: Written, farms: pd.DataFrame) -> None:
    """The GeoPackage's layers hold the same sites and farm -> site lines as the CSV files."""
    layers = {str(name) for name, _ in pyogrio.list_layers(path)}
    assert {"sites", "assignments"} <= layers
    g_sites = pyogrio.read_dataframe(path, layer="sites")
    assert g_sites.crs.to_epsg() == 4326
    sites = written.sites
    assert list(g_sites["site_id"].astype(str)) == list(sites["site_id"])
    assert list(g_sites["status"]) == list(sites["status"])
    np.testing.assert_allclose(g_sites["assigned_demand"], sites["assigned_demand"], atol=1e-9)
    np.testing.assert_allclose(g_sites.geometry.x, sites["lon"], atol=1e-9)
    np.testing.assert_allclose(g_sites.geometry.y, sites["lat"], atol=1e-9)
    lines = pyogrio.read_dataframe(path, layer="assignments")
    served = written.assignments.loc[written.assignments["site_id"] != ""]
    assert len(lines) == len(served)
    assert list(lines["farm_id"].astype(str)) == list(served["farm_id"])
    assert list(lines["site_id"].astype(str)) == list(served["site_id"])
    np.testing.assert_allclose(lines["travel_km"], served["travel_km"], atol=1e-9)
    start = np.array([c.coords[0] for c in lines.geometry])
    end = np.array([c.coords[-1] for c in lines.geometry])
    f = farms.set_index("farm_id").loc[served["farm_id"], ["lon", "lat"]].to_numpy(float)
    st = sites.set_index("site_id").loc[served["site_id"], ["lon", "lat"]].to_numpy(float)
    np.testing.assert_allclose(start, f, atol=1e-9)
    np.testing.assert_allclose(end, st, atol=1e-9)


def check_geojson(sites_path: Path, lines_path: Path, written: Written) -> None:
    """The GeoJSON files (read as plain JSON) hold the sites and the served farms' lines."""
    g = json.loads(sites_path.read_text(encoding="utf-8"))
    props = [feat["properties"] for feat in g["features"]]
    assert [str(pr["site_id"]) for pr in props] == list(written.sites["site_id"])
    assert [pr["status"] for pr in props] == list(written.sites["status"])
    xy = np.array([feat["geometry"]["coordinates"] for feat in g["features"]], dtype=float)
    np.testing.assert_allclose(xy, written.sites[["lon", "lat"]].to_numpy(float), atol=1e-9)
    lines = json.loads(lines_path.read_text(encoding="utf-8"))["features"]
    served = written.assignments.loc[written.assignments["site_id"] != ""]
    assert len(lines) == len(served)
    km = np.array([feat["properties"]["travel_km"] for feat in lines], dtype=float)
    np.testing.assert_allclose(km, served["travel_km"].to_numpy(float), atol=1e-9)


def _xlsx_sheet(book: Any, name: str) -> pd.DataFrame:  # noqa: ANN401
    values = list(book[name].values)
    return pd.DataFrame(values[1:], columns=values[0])


def check_xlsx(
    path: Path, written: Written, oblasts: pd.DataFrame, districts: pd.DataFrame
) -> None:
    """results.xlsx (read with openpyxl) matches summary.json, the CSV files and the areas."""
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == ["summary", "sites", "assignments", "oblasts", "districts"]
    rows = list(book["summary"].values)
    assert rows[0] == ("key", "value")
    as_text = dict(rows[1:])
    assert set(as_text) == set(written.summary)
    for key, value in written.summary.items():
        cell = as_text[key]
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            assert float(cell) == pytest.approx(value, rel=1e-12), key
        elif isinstance(value, str):
            assert str(cell or "") == value, key
        else:
            assert json.loads(cell) == value, key
    sites = _xlsx_sheet(book, "sites")
    assert list(sites["site_id"].astype(str)) == list(written.sites["site_id"])
    assert list(sites["status"]) == list(written.sites["status"])
    np.testing.assert_allclose(
        sites["assigned_demand"].astype(float), written.sites["assigned_demand"], atol=1e-9
    )
    assign = _xlsx_sheet(book, "assignments")
    assert len(assign) == len(written.assignments)
    np.testing.assert_allclose(
        assign["demand"].astype(float), written.assignments["demand"], atol=1e-9
    )
    ob = _xlsx_sheet(book, "oblasts").set_index("oblast_iso")
    check_oblast_rows(ob, oblasts)
    dist = _xlsx_sheet(book, "districts").set_index("district_kato")
    check_oblast_rows(dist, districts)


def check_oblast_rows(table: pd.DataFrame, expected: pd.DataFrame) -> None:
    """A written per-oblast table (indexed by oblast_iso) equals the recomputed one."""
    assert sorted(table.index.astype(str)) == sorted(expected.index)
    exp = expected.loc[table.index.astype(str)]
    np.testing.assert_array_equal(table["n_farms"].astype(float), exp["n_farms"])
    np.testing.assert_array_equal(table["open_sites"].astype(float), exp["open_sites"])
    np.testing.assert_allclose(table["demand"].astype(float), exp["demand"], atol=0.06)
    np.testing.assert_allclose(table["served_share"].astype(float), exp["served_share"], atol=2e-6)
    np.testing.assert_allclose(
        table["share_within_3h"].astype(float), exp["share_within_3h"], atol=2e-6
    )
    np.testing.assert_allclose(
        table["mean_travel_km"].astype(float), exp["mean_travel_km"], atol=0.06
    )


class _Tables(HTMLParser):
    """Collect the text of every table cell, table by table."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse_en_number(text: str) -> float:
    """Read an English-formatted number ("1,234.5", "45.7 %" -> 0.457, "–" -> nan)."""
    t = text.replace("\u00a0", " ").strip()
    if t in ("–", ""):
        return math.nan
    pct = t.endswith("%")
    m = re.match(r"-?[\d,]+(\.\d+)?", t)
    assert m is not None, text
    value = float(m.group(0).replace(",", ""))
    return value / 100.0 if pct else value


# Brief key-figure rows (English labels) -> summary key and display precision.
BRIEF_KPIS: dict[str, tuple[str, float]] = {
    "Open sites": ("n_open_sites", 0.5),
    "Mean travel, km": ("mean_travel_km", 0.05),
    "95th percentile travel, km": ("p95_travel_km", 0.05),
    "Mean travel time, min": ("mean_travel_time_min", 0.5),
    "Demand within 1 h": ("share_within_1h", 5e-4 + 2e-6),
    "Demand within 2 h": ("share_within_2h", 5e-4 + 2e-6),
    "Demand within 3 h": ("share_within_3h", 5e-4 + 2e-6),
    "Covered demand": ("covered_demand_share", 5e-4 + 2e-6),
    "Total demand, service hours": ("total_demand", 0.5),
    "Farms not served": ("n_unserved_farms", 0.5),
}


def check_brief(
    html: str, written: Written, oblasts: pd.DataFrame, oblast_names: dict[str, str]
) -> None:
    """The English brief's key figures, site rows and oblast rows match the recomputed values.

    Parameters
    ----------
    html
        ``brief.html`` in English.
    written
        Summary, sites and assignments the brief was made from.
    oblasts
        :func:`per_oblast` of the same result.
    oblast_names
        ISO code -> English oblast name (to find each oblast row).
    """
    parser = _Tables()
    parser.feed(html)
    kpi_table, site_table, oblast_table = parser.tables
    shown = {row[0]: row[1] for row in kpi_table if len(row) == 2 and row[0]}
    s = written.summary
    found = 0
    for label, (key, tol) in BRIEF_KPIS.items():
        if label not in shown:
            continue
        found += 1
        value = parse_en_number(shown[label])
        assert value == pytest.approx(s[key], abs=tol), label
    assert found == len(BRIEF_KPIS)
    # Site rows: every open site once, its load as in sites.csv.
    body = [r for r in site_table if r and not all(c == "" for c in r)][1:]
    open_sites = written.sites.loc[written.sites["status"] != "closed"].set_index("site_id")
    assert sorted(r[1] for r in body) == sorted(open_sites.index)
    for r in body:
        assert parse_en_number(r[4]) == pytest.approx(
            open_sites.loc[r[1], "assigned_demand"], abs=0.5
        )
    # Oblast rows: farms, mean km, share within 3 h, open sites.
    by_name = {oblast_names.get(iso, iso): iso for iso in oblasts.index}
    rows = oblast_table[1:]
    assert len(rows) == len(oblasts)
    for r in rows:
        exp = oblasts.loc[by_name[r[0]]]
        assert parse_en_number(r[1]) == exp["n_farms"]
        if np.isfinite(exp["mean_travel_km"]):
            assert parse_en_number(r[3]) == pytest.approx(exp["mean_travel_km"], abs=0.051)
        # Shown to 0.1 %: the displayed share is the true one correctly rounded.
        assert parse_en_number(r[4]) == pytest.approx(exp["share_within_3h"], abs=5e-4 + 2e-6)
        assert parse_en_number(r[5]) == exp["open_sites"]


def check_exports(
    out: Path, written: Written, farms: pd.DataFrame, oblast_names: dict[str, str]
) -> None:
    """Read every export of a single-echelon solve back and compare it with the CSV/JSON files.

    Parameters
    ----------
    out
        Results folder (``recommendations.gpkg``, the GeoJSON files, ``results.xlsx``,
        ``brief.html`` in English).
    written
        What :func:`check_single_echelon` read and checked.
    farms
        farm_id, lon, lat, oblast_iso, district_kato, demand of every farm.
    oblast_names
        ISO code -> English oblast name.
    """
    oblasts = per_oblast(written.assignments, farms, written.sites)
    districts = per_district(written.assignments, farms, written.sites)
    check_gpkg(out / "recommendations.gpkg", written, farms)
    check_geojson(out / "sites.geojson", out / "assignments.geojson", written)
    check_xlsx(out / "results.xlsx", written, oblasts, districts)
    csv_rows = pd.read_csv(out / "districts.csv", dtype={"district_kato": str})
    check_oblast_rows(csv_rows.set_index("district_kato"), districts)
    check_brief((out / "brief.html").read_text(encoding="utf-8"), written, oblasts, oblast_names)
