"""Regenerate the bad-input corpus ``tests/data/bad/`` and its ``expected.toml``.

Every file is declared once below with its content **and** its expected outcome, so the
corpus and the expectations cannot drift apart. The output is deterministic (fixed ZIP
timestamps in XLSX files, ``OGR_CURRENT_DATE`` for GeoPackages, no randomness), and every
file stays well under 50 kB. Run from the repository root::

    .venv/bin/python tests/data/make_bad_files.py

``tests/planner/test_validation.py`` runs the whole corpus against ``expected.toml``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import sqlite3
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import shapely

OUT = Path(__file__).resolve().parent / "bad"
FIXED_TIME = (2026, 1, 1, 0, 0, 0)

# Real places in Kazakhstan (lat, lon): Kostanay, Astana, Kokshetau, Petropavl, Pavlodar,
# Shymkent, Aktobe, Oral.
KZ = [
    (53.2144, 63.6246),
    (51.1801, 71.446),
    (53.2833, 69.4),
    (54.8753, 69.1628),
    (52.2873, 76.9674),
    (42.3417, 69.5901),
    (50.2797, 57.2072),
    (51.2333, 51.3667),
]


@dataclass(frozen=True)
class Case:
    """One corpus file and what validating it must give."""

    name: str
    kind: str  # farms | sites | scenario
    write: Callable[[Path], None]
    outcome: str = "ok"  # ok | invalid
    message: str = ""  # fragment expected in the problems (invalid) or warnings (ok)
    problems: int | None = None  # exact number of problems, when pinned
    rows: int | None = None  # accepted rows, when pinned
    rejected: int | None = None  # rejected rows, when pinned
    limits: dict[str, int] = field(default_factory=dict)
    note: str = ""


def text(content: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(content.encode(encoding))

    return write


def raw(content: bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(content)

    return write


def rows_csv(
    header: str | list[str], rows: list[str], *, sep: str = ",", newline: str = "\n"
) -> str:
    cells = header.split(",") if isinstance(header, str) else header
    return newline.join([sep.join(cells), *rows]) + newline


def kz_rows(n: int = 5, *, sep: str = ",", comma: bool = False, ids: str = "F") -> list[str]:
    out = []
    for i in range(n):
        lat, lon = KZ[i % len(KZ)]
        lat_s, lon_s = f"{lat:.4f}", f"{lon:.4f}"
        if comma:
            lat_s, lon_s = lat_s.replace(".", ","), lon_s.replace(".", ",")
        area = f"{1000 + 250.5 * i:.1f}"
        if comma:
            area = area.replace(".", ",")
        out.append(sep.join([f"{ids}{i + 1}", lat_s, lon_s, str(3 + i), str(i % 3), area]))
    return out


STD_HEADER = "farm_id,lat,lon,tractors,combines,sown_area_ha"


def std_csv(rows: list[str]) -> str:
    return rows_csv(STD_HEADER, rows)


def png_bytes() -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\x00\xff" * 2, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _fix_zip(path: Path) -> None:
    """Rewrite a ZIP (XLSX) with fixed timestamps and order, so it is byte-identical."""
    with zipfile.ZipFile(path) as zin:
        items = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, content in items:
            data = content
            if name == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(
                    rb"<dcterms:modified([^>]*)>[^<]*<",
                    rb"<dcterms:modified\1>2026-01-01T00:00:00Z<",
                    content,
                )
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, data)
    path.write_bytes(buf.getvalue())


def xlsx(sheets: list[tuple[str, list[list[object]]]]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for title, rows in sheets:
            ws = wb.create_sheet(title)
            for row in rows:
                ws.append(row)
        stamp = dt.datetime(2026, 1, 1)
        wb.properties.created = stamp
        wb.properties.modified = stamp
        wb.save(path)
        _fix_zip(path)

    return write


def farm_table(n: int = 5, *, comma_text: bool = False) -> list[list[object]]:
    rows: list[list[object]] = [["Код", "Широта", "Долгота", "Тракторы", "Комбайны"]]
    for i in range(n):
        lat, lon = KZ[i % len(KZ)]
        cells: list[object] = [f"X{i + 1}", lat, lon, 2 + i, i % 2]
        if comma_text:
            cells[1] = f"{lat}".replace(".", ",")
            cells[2] = f"{lon}".replace(".", ",")
        rows.append(cells)
    return rows


def geojson(features: list[dict[str, object]], crs: str | None = None) -> Callable[[Path], None]:
    doc: dict[str, object] = {"type": "FeatureCollection", "features": features}
    if crs is not None:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return text(json.dumps(doc, ensure_ascii=False, indent=1))


def feature(props: dict[str, object], geometry: dict[str, object] | None) -> dict[str, object]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def point(lon: float, lat: float) -> dict[str, object]:
    return {"type": "Point", "coordinates": [lon, lat]}


def kz_points(n: int = 4) -> list[dict[str, object]]:
    return [
        feature({"farm_id": f"G{i + 1}", "tractors": 2 + i}, point(KZ[i][1], KZ[i][0]))
        for i in range(n)
    ]


def gpkg(layers: list[tuple[str, gpd.GeoDataFrame]]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-01-01T00:00:00.000Z"})
        if path.exists():
            path.unlink()
        for name, gdf in layers:
            gdf.to_file(
                path,
                layer=name,
                driver="GPKG",
                engine="pyogrio",
                layer_options={"SPATIAL_INDEX": "NO"},
            )
        con = sqlite3.connect(path)  # small pages keep the file well under 50 kB
        try:
            con.execute("PRAGMA page_size=512")
            con.execute("VACUUM")
        finally:
            con.close()

    return write


def kz_gdf(n: int = 4, crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame(
        {"farm_id": [f"P{i + 1}" for i in range(n)], "tractors": [3 + i for i in range(n)]},
        geometry=gpd.points_from_xy([KZ[i][1] for i in range(n)], [KZ[i][0] for i in range(n)]),
        crs="EPSG:4326",
    )
    return g.to_crs(crs) if crs != "EPSG:4326" else g


def many_rows(n: int) -> str:
    rows = [f"M{i},{53 + (i % 100) / 100:.2f},{64 + (i % 50) / 10:.1f},1,0,10" for i in range(n)]
    return std_csv(rows)


MINIMAL_SCENARIO = 'schema_version = 1\nname = "t"\n[model]\nkind = "p_median"\np = 3\n'


def cases() -> list[Case]:  # noqa: PLR0915 - one declaration per corpus file
    # fmt: off
    c: list[Case] = []
    add = c.append
    rus_header = ["Код", "Широта", "Долгота", "Тракторы", "Комбайны", "Посевная площадь, га"]
    # ------------------------------------------------------------------ accepted, awkward
    add(Case("farms_cp1251_semicolon_decimal_comma.csv", "farms",
             text(rows_csv(rus_header, kz_rows(6, sep=";", comma=True), sep=";", newline="\r\n"),
                  "cp1251"), rows=6))
    add(Case("farms_utf8_bom.csv", "farms",
             text("\ufeff" + std_csv(kz_rows(4))), rows=4))
    add(Case("farms_utf8_bom_semicolon_russian.csv", "farms",
             text("\ufeff" + rows_csv(rus_header, kz_rows(4, sep=";", comma=True), sep=";")),
             rows=4))
    add(Case("farms_tab_separated.tsv", "farms",
             text(rows_csv(STD_HEADER, kz_rows(5, sep="\t"), sep="\t")), rows=5))
    add(Case("farms_tab_separated.txt", "farms",
             text(rows_csv(rus_header, kz_rows(3, sep="\t", comma=True), sep="\t"), "cp1251"),
             rows=3))
    add(Case("farms_utf16_unicode_text.txt", "farms",
             text(rows_csv(rus_header, kz_rows(3, sep="\t", comma=True), sep="\t",
                           newline="\r\n"), "utf-16"), rows=3))
    add(Case("farms_kazakh_headers.csv", "farms",
             text(rows_csv("Шаруашылық коды,Ендік,Бойлық,Трактор саны,Комбайн саны,Егіс алқабы",
                           kz_rows(4))), rows=4))
    add(Case("farms_russian_headers_utf8.csv", "farms",
             text(rows_csv("Хозяйство;Широта;Долгота;Тракторов;Комбайнов;Площадь посева (га)",
                           kz_rows(4, sep=";", comma=True), sep=";")), rows=4))
    add(Case("farms_excel_sep_line.csv", "farms",
             text("sep=;\n" + rows_csv(rus_header, kz_rows(3, sep=";", comma=True), sep=";"),
                  "cp1251"), rows=3, message="sep="))
    add(Case("farms_thousands_nbsp.csv", "farms",
             text("Код;Широта;Долгота;Тракторы;Площадь, га\n"
                  "T1;53,2144;63,6246;12;1\u00a0250,5\nT2;51,18;71,45;4;12 000\n"
                  "T3;53,28;69,4;1;2\u202f500,25\n", "utf-8"), rows=3))
    add(Case("farms_quoted_names_with_commas.csv", "farms",
             text('farm_id,name,lat,lon,tractors\n'
                  'Q1,"ТОО ""Агро, Север""",53.2144,63.6246,5\n'
                  'Q2,"КХ Береке, Акмола",53.28,69.4,2\n'), rows=2))
    add(Case("farms_latitude_longitude_names.csv", "farms",
             text(rows_csv("Farm_ID,Latitude,Longitude,Tractors,Combines,Sown Area (ha)",
                           kz_rows(3))), rows=3))
    add(Case("farms_x_y_columns.csv", "farms",
             text("id,y,x,tractors\nA,53.2144,63.6246,3\nB,51.18,71.45,2\n"), rows=2))
    add(Case("farms_only_service_hours.csv", "farms",
             text("farm_id,lat,lon,service_hours\nH1,53.2144,63.6246,120\nH2,51.18,71.45,80,5\n"
                  .replace(",80,5", ",80.5")), rows=2))
    add(Case("farms_only_sown_area.csv", "farms",
             text("код,широта,долгота,посевная площадь\nS1,53.2144,63.6246,1500\n"
                  "S2,51.18,71.45,800\n"), rows=2))
    add(Case("farms_oblast_names.csv", "farms",
             text("farm_id;lat;lon;tractors;область\n"
                  "O1;53,2144;63,6246;3;Костанайская область\n"
                  "O2;53,28;69,4;2;Akmola\nO3;51,18;71,45;1;KZ-11\nO4;54,87;69,16;2;\n"),
             rows=4, message="blank oblast"))
    add(Case("farms_blank_lines_crlf.csv", "farms",
             text("\r\n" + STD_HEADER + "\r\n\r\n" + "\r\n".join(kz_rows(3)) + "\r\n\r\n;;;\r\n"),
             rows=3))
    add(Case("farms_brand_and_age.csv", "farms",
             text("id,lat,lon,tractors,brand,год выпуска\nB1,53.2144,63.6246,4,МТЗ-82,2008\n"
                  "B2,51.18,71.45,2,John Deere,5\n"), rows=2))
    add(Case("farms_duplicate_header_meaning.csv", "farms",
             text("farm_id,lat,широта,lon,tractors\nD1,53.2144,0,63.6246,2\n"), rows=1,
             message="both mean `lat`"))
    add(Case("farms_row_counter_and_code.csv", "farms",
             text("№;Код хозяйства;Широта;Долгота;Тракторы\n1;KST-001;53,2144;63,6246;4\n"
                  "2;KST-002;53,28;69,4;1\n", "cp1251"),
             rows=2, message="`Код хозяйства` is used, `№` is ignored"))
    add(Case("farms_blank_counts_read_as_zero.csv", "farms",
             text("farm_id,lat,lon,tractors,combines\nZ1,53.2144,63.6246,,2\nZ2,51.18,71.45,3,\n"),
             rows=2, message="read as 0"))
    add(Case("farms_csv_with_prj.csv", "farms",
             text("farm_id,x,y,tractors\nU1,"
                  + ",".join(f"{v:.2f}" for v in _utm(63.6246, 53.2144)) + ",3\n"),
             rows=1, message="reprojected"))
    add(Case("farms_csv_title_rows.csv", "farms",
             text("Реестр хозяйств Костанайской области на 01.01.2025;;;;;\r\n;;;;;\r\n"
                  + rows_csv(rus_header, kz_rows(3, sep=";", comma=True), sep=";",
                             newline="\r\n"), "cp1251"),
             rows=3, message="header found in row 3"))
    add(Case("farms_csv_title_unpadded.csv", "farms",
             text("Реестр хозяйств\nисточник: акимат\n"
                  + rows_csv(rus_header, kz_rows(2, sep=";", comma=True), sep=";")),
             rows=2, message="header found in row 3"))
    add(Case("farms_title_rows.xlsx", "farms",
             xlsx([("Лист1", [["Реестр хозяйств"], [], *farm_table(4)])]), rows=4,
             message="header found in row 3"))
    add(Case("farms_several_sheets.xlsx", "farms",
             xlsx([("Инструкция", [["Заполните лист Хозяйства"], ["Код — идентификатор"]]),
                   ("Сводка", [["Область", "Тракторы"], ["KZ-39", 10]]),
                   ("Хозяйства", farm_table(5))]), rows=5, message="sheet `Хозяйства` used"))
    add(Case("farms_xlsx_numbers_as_text.xlsx", "farms",
             xlsx([("Sheet1", farm_table(3, comma_text=True))]), rows=3))
    add(Case("farms_points.geojson", "farms", geojson(kz_points()), rows=4))
    add(Case("farms_polygons.geojson", "farms",
             geojson([feature({"farm_id": "PG1", "tractors": 3},
                              {"type": "Polygon", "coordinates": [[[63.5, 53.1], [63.7, 53.1],
                                                                   [63.7, 53.3], [63.5, 53.3],
                                                                   [63.5, 53.1]]]}),
                      *kz_points(2)]),
             rows=3, message="not points"))
    add(Case("farms_projected_crs.geojson", "farms",
             geojson([feature({"farm_id": "UT1", "tractors": 2},
                              point(*_utm(69.4, 53.2833, zone=42)))],
                     crs="urn:ogc:def:crs:EPSG::32642"), rows=1, message="reprojected"))
    add(Case("farms_points.gpkg", "farms", gpkg([("farms", kz_gdf())]), rows=4))
    add(Case("farms_utm.gpkg", "farms", gpkg([("farms", kz_gdf(crs="EPSG:32641"))]), rows=4,
             message="reprojected"))
    add(Case("farms_two_layers.gpkg", "farms",
             gpkg([("roads", gpd.GeoDataFrame({"kind": ["road"]},
                                              geometry=[shapely.LineString([(63, 53), (64, 53)])],
                                              crs="EPSG:4326")),
                   ("farms", kz_gdf(3))]), rows=3, message="layer `farms` used"))
    # ------------------------------------------------------------------ rejected: coordinates
    swapped = [f"W{i + 1},{KZ[i][1]},{KZ[i][0]},2,1,100" for i in range(4)]
    add(Case("farms_swapped_latlon.csv", "farms", text(std_csv(swapped)), "invalid",
             "latitude and longitude are swapped", problems=1))
    add(Case("farms_swapped_one_row.csv", "farms",
             text(std_csv([*kz_rows(3), f"W9,{KZ[4][1]},{KZ[4][0]},1,1,1"])), "invalid",
             "inside when latitude and longitude are swapped", problems=1, rejected=1))
    add(Case("farms_points_in_moscow.csv", "farms",
             text(std_csv([*kz_rows(2), "M1,55.7558,37.6173,2,0,10", "M2,55.70,37.50,1,0,5"])),
             "invalid", "near Moscow (Russia)", problems=1, rejected=2))
    add(Case("farms_points_in_tashkent.csv", "farms",
             text(std_csv([*kz_rows(2), "T1,41.2995,69.2401,2,0,10"])), "invalid",
             "near Tashkent (Uzbekistan)", problems=1, rejected=1))
    add(Case("farms_null_island.csv", "farms",
             text(std_csv([*kz_rows(2), "N1,0,0,2,0,10"])), "invalid", "placeholder",
             problems=1, rejected=1))
    add(Case("farms_blank_coordinates.csv", "farms",
             text(std_csv([*kz_rows(2), "B1,,,2,0,10", "B2, ,63.1,1,0,1"])), "invalid",
             "missing latitude", problems=2, rejected=2))
    add(Case("farms_nan_coordinates.csv", "farms",
             text(std_csv([*kz_rows(2), "N1,NaN,nan,2,0,10"])), "invalid", "missing longitude",
             problems=2, rejected=1))
    add(Case("farms_dms_coordinates.csv", "farms",
             text("farm_id;lat;lon;tractors\nD1;53°12'52\";63°37'29\";3\n"), "invalid",
             "= 53.21444", problems=2, rejected=1))
    add(Case("farms_projected_metres_no_crs.csv", "farms",
             text("farm_id,lat,lon,tractors\nP1,5897000,412000,3\nP2,5675000,600000,1\n"),
             "invalid", "projected metres", problems=1))
    add(Case("farms_latitude_out_of_range.csv", "farms",
             text(std_csv([*kz_rows(3), "R1,95.1,63.6,1,0,1"])), "invalid",
             "latitude outside [-90, 90]", problems=1, rejected=1))
    add(Case("farms_missing_coordinate_columns.csv", "farms",
             text("farm_id,address,tractors\nA,Kostanay,3\n"), "invalid", "no `lat` column",
             problems=2))
    # ------------------------------------------------------------------ rejected: values
    add(Case("farms_negative_tractors.csv", "farms",
             text(std_csv([*kz_rows(3), "X1,53.2,63.6,-4,0,10", "X2,53.2,63.7,-1,0,10"])),
             "invalid", "negative (-4, -1)", problems=1, rejected=2))
    add(Case("farms_text_in_numbers.csv", "farms",
             text(std_csv([*kz_rows(2), "X1,53.2,63.6,пять,0,10", "X2,53.2,63.7,3,нет,10"])),
             "invalid", "not a number ('пять')", problems=2, rejected=2))
    add(Case("farms_fractional_tractors.csv", "farms",
             text(std_csv([*kz_rows(2), "X1,53.2,63.6,2.5,0,10"])), "invalid",
             "not a whole number (2.5)", problems=1, rejected=1))
    add(Case("farms_negative_area.csv", "farms",
             text("Код;Широта;Долгота;Посевная площадь, га\nA;53,2;63,6;-150,5\n", "cp1251"),
             "invalid", "negative (-150.5)", problems=1, rejected=1))
    add(Case("farms_duplicate_ids.csv", "farms",
             text(std_csv([*kz_rows(3), *kz_rows(2)])), "invalid", "repeated id ('F1', 'F2')",
             problems=1, rejected=4))
    add(Case("farms_blank_ids.csv", "farms",
             text(std_csv([*kz_rows(2), ",53.2,63.6,1,0,1"])), "invalid", "empty id",
             problems=1, rejected=1))
    add(Case("farms_unknown_oblast.csv", "farms",
             text("farm_id,lat,lon,tractors,oblast\nA,53.2,63.6,3,Kostanaj\nB,51.18,71.45,2,KZ-99\n"),
             "invalid", "unknown oblast", problems=1, rejected=2))
    add(Case("farms_belarus_more_than_total.csv", "farms",
             text("farm_id,lat,lon,tractors,belarus_tractors\nA,53.2,63.6,3,5\n"), "invalid",
             "more than `tractors`", problems=1))
    add(Case("farms_ages_do_not_add_up.csv", "farms",
             text("farm_id,lat,lon,tractors,tractors_0_10,tractors_10_17,tractors_17p\n"
                  "A,53.2,63.6,5,1,1,1\n"), "invalid", "do not add up", problems=1))
    add(Case("farms_partial_age_columns.csv", "farms",
             text("farm_id,lat,lon,tractors,tractors_0_10\nA,53.2,63.6,5,1\n"), "invalid",
             "all three age columns", problems=1))
    add(Case("farms_bad_age_column.csv", "farms",
             text("farm_id,lat,lon,tractors,age\nA,53.2,63.6,5,250\nB,51.18,71.45,1,старый\n"),
             "invalid", "not an age in years", problems=2, rejected=2))
    add(Case("farms_too_many_fields.csv", "farms",
             text(std_csv([*kz_rows(2), "X1,53.2,63.6,2,0,10,extra,cells"])), "invalid",
             "more cells than the header", problems=1, rejected=1))
    add(Case("farms_every_problem_at_once.csv", "farms",
             text("id,lat,lon,tractors,combines,belarus_tractors\n"
                  "A,53.2,63.6,10,x,12\nA,63.6,53.2,-1,2,0\n,,71,2.5,1,0\n"), "invalid",
             "repeated id", problems=8, rejected=3))
    # ------------------------------------------------------------------ rejected: columns
    add(Case("farms_missing_id_column.csv", "farms",
             text("lat,lon,tractors\n53.2,63.6,3\n"), "invalid", "no id column", problems=1))
    add(Case("farms_no_demand_columns.csv", "farms",
             text("farm_id,lat,lon,owner\nA,53.2,63.6,Иванов\n"), "invalid",
             "none of `tractors`", problems=1))
    add(Case("farms_wrong_columns_entirely.csv", "farms",
             text("дата;сумма;комментарий\n01.01.2025;100;да\n"), "invalid", "no id column",
             problems=4))
    add(Case("farms_no_sheet_has_columns.xlsx", "farms",
             xlsx([("Лист1", [["a", "b"], [1, 2]]), ("Лист2", [["c"], [3]])]), "invalid",
             "no id column", problems=4))
    # ------------------------------------------------------------------ rejected: files
    add(Case("farms_empty.csv", "farms", raw(b""), "invalid", "empty (0 bytes)", problems=1))
    add(Case("farms_header_only.csv", "farms", text(STD_HEADER + "\n"), "invalid",
             "header but no data rows", problems=1))
    add(Case("farms_mixed_encoding.csv", "farms",
             raw("Код;Широта;Долгота;Тракторы\nА1;53,2;63,6;2\n".encode()
                 + "Б2;51,18;71,45;1\n".encode("cp1251")),
             "invalid", "UTF-8 except line 3", problems=1))
    add(Case("farms_whitespace_only.csv", "farms", text("\n \n;;;\n\t\n"), "invalid",
             "no header and no rows", problems=1))
    add(Case("farms_xlsx_renamed.csv", "farms", _renamed_xlsx, "invalid",
             "really an Excel workbook (XLSX)", problems=1))
    add(Case("farms_png_renamed.csv", "farms", raw(png_bytes()), "invalid", "a PNG image",
             problems=1))
    add(Case("farms_pdf_renamed.xlsx", "farms", raw(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
             "invalid", "a PDF document", problems=1))
    add(Case("farms_binary_junk.csv", "farms", raw(bytes(range(256)) * 4), "invalid",
             "binary file", problems=1))
    add(Case("farms_zip_renamed.csv", "farms", _zip_archive, "invalid", "a ZIP archive",
             problems=1))
    add(Case("farms_csv_renamed.xlsx", "farms", text(std_csv(kz_rows(2))), "invalid",
             "really a text/CSV table", problems=1))
    add(Case("farms_html_page.csv", "farms",
             text("<!DOCTYPE html><html><body><table><tr><td>id</td></tr></table></body></html>"),
             "invalid", "HTML", problems=1))
    add(Case("farms_old_excel.xls", "farms", raw(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
             "invalid", "Excel 97-2003", problems=1))
    add(Case("farms_parquet.parquet", "farms", raw(b"PAR1\x00\x00PAR1"), "invalid",
             "unsupported file type", problems=1))
    add(Case("farms_many_rows.csv", "farms", text(many_rows(1500)), "invalid", "row limit",
             problems=1, limits={"max_rows": 1000}))
    add(Case("farms_over_size_limit.csv", "farms", text(many_rows(100)), "invalid",
             "upload limit", problems=1, limits={"max_bytes": 2000}))
    add(Case("farms_many_rows_within_limit.csv", "farms", text(many_rows(1500)), rows=1500,
             limits={"max_rows": 2000}))
    # ------------------------------------------------------------------ rejected: geodata
    add(Case("farms_invalid_geometry.geojson", "farms",
             geojson([feature({"farm_id": "BT", "tractors": 1},
                              {"type": "Polygon", "coordinates": [[[63, 53], [64, 54], [64, 53],
                                                                   [63, 54], [63, 53]]]}),
                      *kz_points(2)]), "invalid", "invalid geometry", problems=1, rejected=1))
    add(Case("farms_null_geometry.geojson", "farms",
             geojson([feature({"farm_id": "NG", "tractors": 1}, None), *kz_points(2)]),
             "invalid", "no geometry", problems=1, rejected=1))
    add(Case("farms_projected_coords_no_crs.geojson", "farms",
             geojson([feature({"farm_id": "PM", "tractors": 1}, point(412000, 5897000))]),
             "invalid", "not degrees", problems=1))
    add(Case("farms_unknown_crs.geojson", "farms",
             geojson(kz_points(1), crs="urn:ogc:def:crs:EPSG::999999"), "invalid",
             "unknown CRS", problems=1))
    add(Case("farms_not_geojson.geojson", "farms",
             text(json.dumps([{"id": 1, "lat": 53.2, "lon": 63.6}])), "invalid",
             "not a GeoJSON FeatureCollection", problems=1))
    add(Case("farms_broken_json.geojson", "farms",
             text('{"type": "FeatureCollection", "features": [{"type": "Feature",'), "invalid",
             "not valid JSON", problems=1))
    add(Case("farms_empty_collection.geojson", "farms", geojson([]), "invalid",
             "no features", problems=1))
    add(Case("farms_points_outside.gpkg", "farms",
             gpkg([("farms", gpd.GeoDataFrame({"farm_id": ["R1", "K1"], "tractors": [1, 2]},
                                              geometry=gpd.points_from_xy([37.6, 63.6],
                                                                          [55.75, 53.2]),
                                              crs="EPSG:4326"))]),
             "invalid", "outside Kazakhstan", problems=1, rejected=1))
    # ------------------------------------------------------------------ sites
    add(Case("sites_russian_cp1251.csv", "sites",
             text("Код;Название;Широта;Долгота;Мощность;Роль\n"
                  "A1;Костанай;53,2144;63,6246;12000;существующий\nA2;Астана;51,18;71,45;;\n",
                  "cp1251"), rows=2))
    add(Case("sites_points.geojson", "sites",
             geojson([feature({"site_id": "S1", "name": "Kokshetau"}, point(69.4, 53.2833))]),
             rows=1))
    add(Case("sites_missing_site_id.csv", "sites", text("name,lat,lon\nA,53.2,63.6\n"),
             "invalid", "missing column `site_id`", problems=1))
    add(Case("sites_bad_role.csv", "sites",
             text("site_id,lat,lon,role\nA,53.2,63.6,candidate\nB,51.18,71.45,maybe\n"),
             "invalid", "unknown role ('maybe')", problems=1, rejected=1))
    add(Case("sites_negative_capacity.csv", "sites",
             text("site_id,lat,lon,capacity_hours,fixed_cost_kzt\nA,53.2,63.6,-5,0\n"
                  "B,51.18,71.45,100,abc\n"), "invalid", "negative (-5)", problems=2,
             rejected=2))
    add(Case("sites_in_bishkek.csv", "sites",
             text("site_id,lat,lon\nA,53.2,63.6\nKG,42.8746,74.5698\n"), "invalid",
             "near Bishkek (Kyrgyzstan)", problems=1, rejected=1))
    # ------------------------------------------------------------------ scenarios
    add(Case("scenario_unknown_key.toml", "scenario",
             text(MINIMAL_SCENARIO + "[solver]\ntime_limt_s = 5\n"), "invalid",
             "Did you mean `time_limit_s`", problems=1))
    add(Case("scenario_wrong_types.toml", "scenario",
             text(MINIMAL_SCENARIO.replace("p = 3", 'p = "three"') + "[data]\nn_farms = 1.5\n"),
             "invalid", "must be a whole number", problems=2))
    add(Case("scenario_unknown_site.toml", "scenario",
             text(MINIMAL_SCENARIO + '[sites]\nrequired = ["no_such_site"]\n'), "invalid",
             "not a site id or name", problems=1))
    add(Case("scenario_missing_farm_file.toml", "scenario",
             text(MINIMAL_SCENARIO + '[data]\nfarms = "no_such_farms.csv"\n'), "invalid",
             "does not exist", problems=1))
    add(Case("scenario_missing_od_matrix.toml", "scenario",
             text(MINIMAL_SCENARIO + '[travel]\nod_matrix = "od.csv"\n'), "invalid",
             "does not exist", problems=1))
    add(Case("scenario_old_version.toml", "scenario",
             text(MINIMAL_SCENARIO.replace("schema_version = 1", "schema_version = 0")),
             "invalid", "no longer supported", problems=1))
    add(Case("scenario_newer_version.toml", "scenario",
             text(MINIMAL_SCENARIO.replace("schema_version = 1", "schema_version = 7")),
             "invalid", "newer than this planner", problems=1))
    add(Case("scenario_missing_version.toml", "scenario",
             text(MINIMAL_SCENARIO.replace("schema_version = 1\n", "")), "invalid",
             "missing `schema_version`", problems=1))
    add(Case("scenario_invalid_toml.toml", "scenario",
             text('schema_version = 1\nname = "t\n[model\nkind = p_median\n'), "invalid",
             "not valid TOML", problems=1))
    add(Case("scenario_not_utf8.toml", "scenario",
             text(MINIMAL_SCENARIO.replace('"t"', '"Сценарий"'), "cp1251"), "invalid",
             "not UTF-8", problems=1))
    add(Case("scenario_required_and_forbidden.toml", "scenario",
             text(MINIMAL_SCENARIO + '[sites]\nrequired = ["gn:1"]\nforbidden = ["gn:1"]\n'),
             "invalid", "both required and forbidden", problems=1))
    add(Case("scenario_malformed_site_ids.toml", "scenario",
             text(MINIMAL_SCENARIO + '[sites]\nrequired = ["", " existing", "existing"]\n'),
             "invalid", "blank", problems=2))
    add(Case("scenario_user_sites_ok.toml", "scenario",
             text(MINIMAL_SCENARIO.replace("p = 3", "p = 1")
                  + '[data]\nsites = "sites_russian_cp1251.csv"\n[sites]\nrequired = ["A1"]\n')))
    add(Case("scenario_user_sites_unknown_ref.toml", "scenario",
             text(MINIMAL_SCENARIO.replace("p = 3", "p = 1")
                  + '[data]\nsites = "sites_russian_cp1251.csv"\n[sites]\nforbidden = ["Z9"]\n'),
             "invalid", "`sites.forbidden` names `Z9`", problems=1))
    add(Case("scenario_bad_farm_file.toml", "scenario",
             text(MINIMAL_SCENARIO + '[data]\nfarms = "farms_negative_tractors.csv"\n'),
             "invalid", "negative (-4, -1)", problems=1))
    add(Case("scenario_farm_file_ok.toml", "scenario",
             text(MINIMAL_SCENARIO
                  + '[data]\nfarms = "farms_cp1251_semicolon_decimal_comma.csv"\n')))
    return c
    # fmt: on


def _utm(lon: float, lat: float, zone: int = 41) -> tuple[float, float]:
    from pyproj import Transformer  # noqa: PLC0415

    x, y = Transformer.from_crs("EPSG:4326", f"EPSG:326{zone}", always_xy=True).transform(lon, lat)
    return float(x), float(y)


def _renamed_xlsx(path: Path) -> None:
    xlsx([("Sheet1", farm_table(2))])(path)


def _zip_archive(path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("farms.csv", date_time=FIXED_TIME)
        zf.writestr(info, std_csv(kz_rows(2)))
    path.write_bytes(buf.getvalue())


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_expected(all_cases: list[Case], path: Path) -> None:
    lines = [
        "# Expected outcome of every file in tests/data/bad/ (generated by",
        "# tests/data/make_bad_files.py from its declarations; edit those, not this file).",
        "# outcome: ok | invalid; message: fragment of a problem (invalid) or of a warning (ok);",
        "# problems: exact number of problems; rows / rejected: accepted / rejected rows;",
        "# max_rows / max_bytes: upload limits used for that file.",
        "",
    ]
    for case in all_cases:
        lines.append(f"[files.{_toml_str(case.name)}]")
        lines.append(f"kind = {_toml_str(case.kind)}")
        lines.append(f"outcome = {_toml_str(case.outcome)}")
        if case.message:
            lines.append(f"message = {_toml_str(case.message)}")
        for key in ("problems", "rows", "rejected"):
            value = getattr(case, key)
            if value is not None:
                lines.append(f"{key} = {value}")
        for key, value in sorted(case.limits.items()):
            lines.append(f"{key} = {value}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    all_cases = cases()
    names = [c.name for c in all_cases]
    assert len(names) == len(set(names)), "duplicate corpus file name"
    for case in all_cases:
        case.write(OUT / case.name)
    (OUT / "farms_csv_with_prj.prj").write_text(_prj_wkt(), encoding="utf-8")
    write_expected(all_cases, OUT / "expected.toml")
    big = [p.name for p in OUT.iterdir() if p.stat().st_size >= 50_000]
    assert not big, f"corpus files must stay < 50 kB: {big}"
    sys.stdout.write(f"wrote {len(all_cases)} corpus files to {OUT}\n")
    return 0


def _prj_wkt() -> str:
    from pyproj import CRS  # noqa: PLC0415

    return CRS.from_epsg(32641).to_wkt(version="WKT1_ESRI")


if __name__ == "__main__":
    sys.exit(main())
