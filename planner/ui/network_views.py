"""Network page, results part: the tables of one planning year, the map layers and the charts.

Pure functions of the page's result dictionary (:func:`planner.ui.network.package_result`);
the page itself (inputs, running, layout) is :mod:`planner.ui.network`.
"""

from __future__ import annotations

import html
import math
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk

from planner import agri
from planner.i18n import STRINGS
from planner.ui import maps
from planner.ui.i18n import num, pct, t

CAPABILITY_COLORS: MappingProxyType[str, tuple[int, ...]] = MappingProxyType(
    {"tractor": (31, 119, 180, 220), "tractor+combine": (148, 52, 160, 230)}
)
SERVED_COLORS: MappingProxyType[str, tuple[int, ...]] = MappingProxyType(
    {"direct": (44, 160, 44, 110), "van": (255, 127, 14, 150)}
)
MACHINE_COLORS: MappingProxyType[str, tuple[int, ...]] = MappingProxyType(
    {"tractor": (192, 57, 43, 200), "combine": (211, 160, 0, 210)}
)
PLANT_HALF_KM = 60.0  # plants are squares this many km from centre to side


# -- results: tables for one year ---------------------------------------------------------------


def year_sites(result: dict[str, Any], year: int) -> pd.DataFrame:
    """Open plants and centres in ``year`` with capability, vans and yearly load.

    Sites opened in an earlier year stay open (the model's growth constraint); the load of a
    centre is its service hours in that year, of a plant the machines it assembles.
    """
    sites: pd.DataFrame = result["sites"]
    op: pd.DataFrame = result["openings"]
    op = op.loc[(op["year"] == year) & op["open"]]
    base = sites.drop(columns=["vans", "capability"]).merge(
        op.loc[:, ["site_id", "role", "combine_capable", "vans"]], on=["site_id", "role"]
    )
    flows: pd.DataFrame = result["flows"]
    fy = flows.loc[flows["year"] == year]
    made = fy.loc[fy["kind"] == "outbound_machines"].groupby("from_id")["quantity"].sum()
    rows: pd.DataFrame = result["farm_rows"][year]
    served = rows.loc[rows["site_id"] != ""]
    hours = served.groupby("site_id")["demand"].sum()
    van_h = served.loc[served["served_by"] == "van"].groupby("site_id")["demand"].sum()
    wk: pd.DataFrame = result["weekly"]
    wk = wk.loc[wk["year"] == year]
    peak = (
        (wk["load_hours"] / wk["capacity_hours"].where(wk["capacity_hours"] > 0))
        .groupby(wk["site_id"])
        .max()
    )
    plant = base["role"] == "assembly_plant"
    base["load"] = np.where(
        plant,
        base["site_id"].map(made).fillna(0.0),
        base["site_id"].map(hours).fillna(0.0),
    )
    base["van_hours"] = base["site_id"].map(van_h).fillna(0.0)
    base["peak_util"] = base["site_id"].map(peak)
    base["capability"] = np.where(
        plant,
        sites.set_index("site_id").loc[base["site_id"], "capability"].to_numpy(),
        np.where(base["combine_capable"], "tractor+combine", "tractor"),
    )
    return base


def _cells(result: dict[str, Any], year: int, cell_deg: float = 0.25) -> pd.DataFrame:
    """Aggregate the served farm rows of ``year`` to (grid cell, centre, served_by)."""
    rows: pd.DataFrame = result["farm_rows"][year]
    xy = result["farms_xy"].set_index("farm_id")
    rows = rows.loc[rows["site_id"] != ""]
    if rows.empty:
        return pd.DataFrame(
            columns=["lon", "lat", "site_id", "served_by", "hours", "n"], dtype=object
        )
    f = xy.loc[rows["farm_id"]]
    df = pd.DataFrame(
        {
            "gx": np.floor(f["lon"].to_numpy() / cell_deg),
            "gy": np.floor(f["lat"].to_numpy() / cell_deg),
            "site_id": rows["site_id"].to_numpy(),
            "served_by": rows["served_by"].to_numpy(),
            "hours": rows["demand"].to_numpy(),
            "lon": f["lon"].to_numpy(),
            "lat": f["lat"].to_numpy(),
        }
    )
    g = df.groupby(["gx", "gy", "site_id", "served_by"], sort=False).agg(
        hours=("hours", "sum"), lon=("lon", "mean"), lat=("lat", "mean"), n=("hours", "size")
    )
    return g.reset_index()


def _unserved_xy(result: dict[str, Any], year: int) -> pd.DataFrame:
    rows: pd.DataFrame = result["farm_rows"][year]
    ids = rows.loc[rows["site_id"] == "", "farm_id"].unique()
    xy = result["farms_xy"].set_index("farm_id")
    return xy.loc[ids, ["lon", "lat"]].reset_index(drop=True)  # type: ignore[no-any-return]


def _square(lon: float, lat: float, half_km: float) -> list[list[float]]:
    dlat = half_km / 111.32
    dlon = half_km / (111.32 * max(math.cos(math.radians(lat)), 0.2))
    return [
        [lon - dlon, lat - dlat],
        [lon + dlon, lat - dlat],
        [lon + dlon, lat + dlat],
        [lon - dlon, lat + dlat],
    ]


# -- results: map -------------------------------------------------------------------------------


def _centre_radius_m(load: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Marker radius (m) of service centres, scaled by load."""
    top = max(float(load.max()) if len(load) else 1.0, 1e-9)
    return 9000 + 45000 * np.sqrt(load / top)


def site_markers(result: dict[str, Any], year: int) -> pd.DataFrame:
    """Plants and service centres of ``year`` as circles (``lon``, ``lat``, ``radius`` m).

    The map's oblast labels keep clear of them (a plant's square counts as its outer circle).
    """
    sites = year_sites(result, year)
    is_plant = (sites["role"] == "assembly_plant").to_numpy()
    radius = np.full(len(sites), PLANT_HALF_KM * 1000.0 * np.sqrt(2.0))
    load = sites["load"].to_numpy(dtype=np.float64)
    radius[~is_plant] = _centre_radius_m(load[~is_plant])
    return pd.DataFrame(
        {"lon": sites["lon"].to_numpy(), "lat": sites["lat"].to_numpy(), "radius": radius}
    )


def network_layers(result: dict[str, Any], year: int, show: set[str], lg: str) -> list[pdk.Layer]:
    """Layers of the plan in ``year``: service lines, van reach, flows, centres, plants.

    Every tooltip text is HTML-escaped (names come from data and uploads).
    """
    layers: list[pdk.Layer] = []
    sites = year_sites(result, year)
    centres = sites.loc[sites["role"] == "service_centre"].copy()
    plants = sites.loc[sites["role"] == "assembly_plant"].copy()
    xy: dict[str, tuple[float, float]] = {
        str(r.site_id): (float(r.lon), float(r.lat))
        for r in result["sites"].loc[:, ["site_id", "lon", "lat"]].itertuples()
    }
    names = dict(zip(result["sites"]["site_id"], result["sites"]["name"].astype(str), strict=True))
    entries: pd.DataFrame = result["entries"]
    for r in entries.itertuples():
        xy[str(r.entry_id)] = (float(r.lon), float(r.lat))  # type: ignore[arg-type]
        names[str(r.entry_id)] = str(r.name)
    if "service" in show:
        cells = _cells(result, year)
        if len(cells):
            cells["slon"] = cells["site_id"].map(lambda s: xy[s][0])
            cells["slat"] = cells["site_id"].map(lambda s: xy[s][1])
            cells["color"] = [list(SERVED_COLORS[str(b)]) for b in cells["served_by"]]
            cells["width"] = 0.5 + 2.5 * np.sqrt(cells["hours"] / cells["hours"].max())
            layers.append(maps.farm_site_lines(cells, "net-service"))
            layers.append(
                pdk.Layer(
                    "ScatterplotLayer",
                    data=cells.loc[:, ["lon", "lat", "color"]],
                    id="net-farm-cells",
                    get_position=["lon", "lat"],
                    get_radius=5000,
                    radius_min_pixels=1.5,
                    get_fill_color="color",
                    pickable=False,
                )
            )
        lost = _unserved_xy(result, year)
        if len(lost):
            layers.append(
                pdk.Layer(
                    "ScatterplotLayer",
                    data=lost,
                    id="net-unserved",
                    get_position=["lon", "lat"],
                    get_radius=3500,
                    radius_min_pixels=1.5,
                    get_fill_color=[220, 20, 20, 200],
                    pickable=False,
                )
            )
    if "vans" in show and result["van_radius_km"] > 0:
        vc = centres.loc[centres["vans"] > 0]
        if len(vc):
            # The van radius is in road km; the circle is drawn in straight-line km.
            radius_m = result["van_radius_km"] / result["circuity"] * 1000.0
            layers.append(
                pdk.Layer(
                    "ScatterplotLayer",
                    data=vc.loc[:, ["lon", "lat"]],
                    id="net-van-reach",
                    get_position=["lon", "lat"],
                    get_radius=radius_m,
                    stroked=True,
                    filled=False,
                    get_line_color=[255, 127, 14, 110],
                    line_width_min_pixels=1,
                    pickable=False,
                )
            )
    flows: pd.DataFrame = result["flows"]
    fy = flows.loc[flows["year"] == year]
    for kind, key, width in (
        ("inbound_kits", "inbound", 5.0),
        ("outbound_machines", "outbound", 3.0),
    ):
        if key not in show:
            continue
        f = fy.loc[(fy["kind"] == kind) & fy["from_id"].isin(xy) & fy["to_id"].isin(xy)]
        f = f.groupby(["from_id", "to_id", "machine"], as_index=False)["quantity"].sum()  # type: ignore[assignment]
        if f.empty:
            continue
        top = max(float(f["quantity"].max()), 1e-9)
        df = pd.DataFrame(
            {
                "slon": [xy[s][0] for s in f["from_id"]],
                "slat": [xy[s][1] for s in f["from_id"]],
                "tlon": [xy[s][0] for s in f["to_id"]],
                "tlat": [xy[s][1] for s in f["to_id"]],
                "color": [
                    list(MACHINE_COLORS.get(str(m), (90, 90, 90, 200))) for m in f["machine"]
                ],
                "width": 0.5 + width * np.sqrt(f["quantity"].to_numpy() / top),
                "label": [
                    f"{html.escape(names.get(a, a))} → {html.escape(names.get(b, b))}<br>"
                    f"{html.escape(t('net_' + kind, lg))}: {num(q)} "
                    f"{html.escape(t('net_m_' + str(m), lg))} / "
                    f"{html.escape(t('net_per_year', lg))}"
                    for a, b, m, q in zip(
                        f["from_id"], f["to_id"], f["machine"], f["quantity"], strict=True
                    )
                ],
            }
        )
        layers.append(
            pdk.Layer(
                "ArcLayer",
                data=df,
                id=f"net-{key}",
                get_source_position=["slon", "slat"],
                get_target_position=["tlon", "tlat"],
                get_source_color="color",
                get_target_color="color",
                get_width="width",
                width_min_pixels=1,
                great_circle=False,
                pickable=True,
            )
        )
    if "inbound" in show:
        used = set(fy.loc[fy["kind"] == "inbound_kits", "from_id"])
        e = entries.loc[entries["entry_id"].astype(str).isin(used)]
        if len(e):
            ed = pd.DataFrame(
                {
                    "lon": e["lon"].to_numpy(),
                    "lat": e["lat"].to_numpy(),
                    "label": [
                        f"{html.escape(t('rail', lg))}: {html.escape(str(n))}" for n in e["name"]
                    ],
                }
            )
            layers.append(
                maps.point_layer(
                    ed,
                    "net-rail-entries",
                    12000,
                    [40, 40, 40, 230],
                    outline_px=1,
                    radius_min_pixels=4,
                )
            )
    if len(centres):
        cd = pd.DataFrame(
            {
                "lon": centres["lon"].to_numpy(),
                "lat": centres["lat"].to_numpy(),
                "radius": _centre_radius_m(centres["load"].to_numpy(dtype=np.float64)),
                "color": [
                    list(CAPABILITY_COLORS.get(str(c), CAPABILITY_COLORS["tractor"]))
                    for c in centres["capability"]
                ],
                "label": [
                    f"<b>{html.escape(str(n))}</b> ({html.escape(str(i))})<br>"
                    f"{html.escape(t('net_role_centre', lg))} · "
                    f"{html.escape(t('net_cap_' + str(c), lg))}<br>"
                    f"{html.escape(t('net_load_year', lg))}: {num(ld)}<br>"
                    f"{html.escape(t('net_van_hours', lg))}: {num(vh)}<br>"
                    f"{html.escape(t('net_vans_n', lg))}: {int(v)}<br>"
                    f"{html.escape(t('net_peak_util', lg))}: {pct(u)}<br>"
                    f"{html.escape(t('net_year_opened', lg))}: {html.escape(str(yo))}"
                    for n, i, c, ld, vh, v, u, yo in zip(
                        centres["name"],
                        centres["site_id"],
                        centres["capability"],
                        centres["load"],
                        centres["van_hours"],
                        centres["vans"],
                        centres["peak_util"],
                        centres["year_opened"],
                        strict=True,
                    )
                ],
            }
        )
        layers.append(maps.point_layer(cd, "net-centres", "radius", "color", outline_px=1.2))
    if len(plants):
        pdf = pd.DataFrame(
            {
                "polygon": [
                    _square(float(x), float(y), PLANT_HALF_KM)
                    for x, y in zip(plants["lon"], plants["lat"], strict=True)
                ],
                "color": [
                    [192, 57, 43, 235] if s == "existing" else [20, 20, 20, 235]
                    for s in plants["status"]
                ],
                "label": [
                    f"<b>{html.escape(str(n))}</b> ({html.escape(str(i))})<br>"
                    f"{html.escape(t('net_role_plant', lg))} · {html.escape(str(c))}<br>"
                    f"{html.escape(t('net_made', lg))}: {num(ld)} / {num(cap)} "
                    f"{html.escape(t('net_per_year', lg))}<br>"
                    f"{html.escape(t('net_year_opened', lg))}: {html.escape(str(yo))}"
                    for n, i, c, ld, cap, yo in zip(
                        plants["name"],
                        plants["site_id"],
                        plants["capability"],
                        plants["load"],
                        plants["capacity"],
                        plants["year_opened"],
                        strict=True,
                    )
                ],
            }
        )
        layers.append(
            pdk.Layer(
                "PolygonLayer",
                data=pdf,
                id="net-plants",
                get_polygon="polygon",
                get_fill_color="color",
                get_line_color=[255, 255, 255],
                line_width_min_pixels=2,
                stroked=True,
                pickable=True,
            )
        )
    return layers


# -- results: charts ----------------------------------------------------------------------------


def breakdown_figure(breakdown: dict[str, float]) -> go.Figure:
    """Objective components over the horizon, billion KZT, as a horizontal bar chart."""
    keys = [k for k in agri.COST_COMPONENTS if k in breakdown]
    keys += [k for k in breakdown if k not in keys]
    values = [float(breakdown[k]) / 1e9 for k in keys]
    order = np.argsort(values)
    fig = go.Figure(
        go.Bar(
            x=[values[i] for i in order],
            y=[t(f"net_c_{keys[i]}") if f"net_c_{keys[i]}" in STRINGS else keys[i] for i in order],
            orientation="h",
            marker_color="#1f5fa8",
        )
    )
    fig.update_layout(
        height=320,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        title=t("net_breakdown"),
        xaxis_title=t("net_bn_kzt"),
    )
    return fig


def weekly_figure(weekly: pd.DataFrame, site_id: str, year: int, name: str) -> go.Figure:
    """Week-by-week load of one centre: direct and van load stacked, against capacity."""
    w = weekly.loc[(weekly["site_id"] == site_id) & (weekly["year"] == year)].sort_values("week")
    fig = go.Figure()
    fig.add_bar(
        x=w["week"], y=w["direct_load_hours"], name=t("net_direct_load"), marker_color="#2ca02c"
    )
    fig.add_bar(x=w["week"], y=w["van_load_hours"], name=t("net_van_load"), marker_color="#ff7f0e")
    fig.add_scatter(
        x=w["week"],
        y=w["capacity_hours"],
        mode="lines",
        name=t("net_capacity"),
        line={"color": "#c0392b", "width": 2},
    )
    fig.add_scatter(
        x=w["week"],
        y=w["direct_capacity_hours"],
        mode="lines",
        name=t("net_direct_capacity"),
        line={"color": "#555555", "width": 1, "dash": "dash"},
    )
    fig.update_layout(
        barmode="stack",
        height=340,
        margin={"l": 0, "r": 0, "t": 70, "b": 0},
        title=f"{html.escape(name)} · {year}",
        xaxis_title=t("net_week"),
        yaxis_title=t("net_hours_week"),
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
    )
    return fig


def heatmap_figure(
    weekly: pd.DataFrame, year: int, names: dict[str, str], top: int = 40
) -> go.Figure:
    """Utilisation (load / capacity) per centre and week; the busiest centres first."""
    w = weekly.loc[weekly["year"] == year].copy()
    w["util"] = w["load_hours"] / w["capacity_hours"].where(w["capacity_hours"] > 0)
    grid = w.pivot_table(index="site_id", columns="week", values="util", aggfunc="sum")
    order = grid.max(axis=1).sort_values(ascending=False).index[:top]
    grid = grid.loc[order]
    fig = go.Figure(
        go.Heatmap(
            z=(grid.to_numpy() * 100).round(1),
            x=list(grid.columns),
            y=[html.escape(f"{names.get(s, s)} ({s})") for s in grid.index],
            colorscale="YlOrRd",
            zmin=0,
            zmax=100,
            colorbar={"title": "%"},
            hovertemplate="%{y}<br>" + t("net_week") + " %{x}: %{z}%<extra></extra>",
        )
    )
    fig.update_layout(
        height=max(260, 16 * len(grid) + 90),
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        title=t("net_heatmap", year=year),
        xaxis_title=t("net_week"),
        yaxis={"autorange": "reversed"},
    )
    return fig


def per_year_table(per_year: pd.DataFrame) -> pd.DataFrame:
    """Return openings and figures per planning year, with translated headers."""
    p = per_year
    return pd.DataFrame(
        {
            t("net_year"): p["year"].astype(int).astype(str),
            t("net_plants"): p["n_plants"],
            t("net_new_plants"): p["new_plants"],
            t("net_centres"): p["n_centres"],
            t("net_new_centres"): p["new_centres"],
            t("net_combine_centres"): p["n_combine_centres"],
            t("net_vans_n"): p["n_vans"],
            t("net_served"): (100 * p["served_share"]).round(1),
            t("net_van_share"): (100 * p["van_served_share"]).round(1),
            t("net_new_machines"): p["new_belarus_machines"].round(0),
            t("net_renewal"): (100 * p["renewal_rate"]).round(2),
            t("net_cost_bn"): (p["cost_kzt"] / 1e9).round(2),
        }
    )


def openings_table(result: dict[str, Any]) -> pd.DataFrame:
    """Every site that is open in the last year, with the year it opened."""
    s: pd.DataFrame = result["sites"]
    s = s.loc[s["status"] != "closed"].sort_values(["year_opened", "role", "name"])
    return pd.DataFrame(
        {
            t("net_year_opened"): s["year_opened"].astype("Int64").astype(str),
            t("net_role"): s["role"].map(
                {"assembly_plant": t("net_role_plant"), "service_centre": t("net_role_centre")}
            ),
            t("col_site"): s["name"].astype(str),
            "ID": s["site_id"].astype(str),
            t("net_capability"): s["capability"].map(
                lambda c: t(f"net_cap_{c}") if f"net_cap_{c}" in STRINGS else str(c)
            ),
            t("net_vans_n"): s["vans"],
            t("col_util"): (100 * s["utilisation"]).round(1),
        }
    )
