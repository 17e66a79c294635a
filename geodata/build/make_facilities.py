"""Regenerate ``geodata/facilities.csv`` and ``geodata/rail_entry_points.csv``.

Run from the repository root (after ``make_settlements.py``)::

    python geodata/build/make_facilities.py

Facilities are the Belarusian assembly, component, trading and service operations listed in
``shared/research/kz-agri-facts.md`` section 5; rail entry points are the Russia-Kazakhstan
rail crossings of section 8 that can be placed on a GeoNames town. Coordinates are those of the
town in ``geodata/settlements.csv`` (GeoNames) unless the facts give a point; nothing is
geocoded by hand, except one station (Semiglavy Mar) that is placed at its district centre and
marked confidence L.
"""

from __future__ import annotations

import csv
from pathlib import Path

GEODATA = Path(__file__).resolve().parents[1]

# facility_id, name, operator, partner, settlement_id (or "lat,lon" point), kind, machines,
# capacity per year ("" = unknown), capacity_note, status, confidence, source
# fmt: off
FACILITIES = [
    ("mtz_kz_kostanay", "MTZ-Kazakhstan machine-building plant "
     "(TOO «Машиностроительный завод МТЗ-Казахстан»)", "MTZ-Kazakhstan",
     "MTZ (Minsk Tractor Works); Kompozit Group Kazakhstan", "gn:1519928", "assembly_plant",
     "tractor", "3000", "BELARUS tractors, 20 models", "running", "H",
     "el.kz; qostanai.media; belnovosti.by (facts 5)"),
    ("mtz_kz_cabs_kostanay", "MTZ-Kazakhstan tractor cab shop", "MTZ-Kazakhstan", "MTZ",
     "gn:1519928", "component_plant", "tractor", "10000", "tractor cabs, 100 jobs; opened 2023",
     "running", "M", "inform.kz 2023-01-09; sb.by (facts 5)"),
    ("agromash_essil_kostanay", "AgromashHolding KZ: Gomselmash joint assembly (Essil combines)",
     "AgromashHolding KZ", "Gomselmash (Allur Group is a shareholder of AgromashHolding)",
     "gn:1519928", "assembly_plant", "combine", "",
     "Essil combines since 2007; plant built ~1,000 tractors and ~300 combines Jan-Sep 2024 "
     "(all brands)", "running", "H", "en.inform.kz a3570203 (BelTA); en.inform.kz 2024-09-10 "
     "(facts 5)"),
    ("kamlit_kostanay", "KamLit (KamLitKZ) spare parts for MTZ", "KamLit", "MTZ; MTZ-Kazakhstan",
     "gn:1519928", "component_plant", "tractor", "", "spare parts; cooperation agreement",
     "planned", "M", "BelTA 2025-10-17 (facts 5)"),
    ("mtz_trading_house_astana", "Trading house «Белорусский трактор»", "MTZ", "",
     "gn:1526273", "trading_house", "tractor", "", "sales and service hub", "running", "M",
     "BelTA (deu.belta.by) 2025-10-17 (facts 5)"),
    ("kaic_kokshetau", "Kazakhstan Agro Innovation Corporation", "Kazakhstan Agro Innovation "
     "Corporation", "MTZ (delegation visit)", "gn:1522203", "assembly_plant", "uncertain", "",
     "makes seeding complexes, trailers and balers (issue 16 review, assumption); whether it "
     "assembles Belarus tractors is not stated (facts 5), so its machines are uncertain",
     "unknown", "L", "BelTA 2025-10-17 (facts 5); products: issue 16 review, not in the facts "
     "file (assumption)"),
    ("semaz_semey", "SemAZ (Semey): MTZ tractor assembly", "SemAZ", "MTZ", "gn:1519422",
     "assembly_plant", "tractor", "", "assembles MTZ (BELARUS) tractors; capacity not found",
     "running", "L", "issue 16 (dealer review); not in the facts file: assumption, to be "
     "sourced"),
    ("kazbelagroprommash_tayynsha", "KazBelAgroPromMash", "KazBelAgroPromMash",
     "Lida Agromash (Lidagroprommash, Belarus)", "53.848,69.768", "assembly_plant", "combine",
     "150", "«Кызылжар-1300» combines, 150/yr planned, 85 % assembled in Belarus; 2010 launch",
     "unknown", "M", "mtrk.kz 2010-09-06 (facts 5)"),
    ("kazakhstantractor_pavlodar", "KazakhstanTractor JSC", "KazakhstanTractor", "MTZ",
     "gn:1520240", "assembly_plant", "tractor", "500", "MTZ-82 kit assembly, 500 planned in 2005",
     "unknown", "L", "Kazinform 2005 via data.minsk.by (facts 5)"),
    ("avtospetsmash_pavlodar", "Avtospetsmash-Pavlodar", "Avtospetsmash-Pavlodar", "MTZ",
     "gn:1520240", "service_centre", "tractor", "",
     "special machinery on the MTZ-82P base; service centre", "unknown", "L",
     "exkavator.ru (facts 5)"),
    ("lidselmash_jambyl", "Lidselmash assembly (plan)", "Lidselmash", "Grodno oblast",
     "gn:1516905", "assembly_plant", "tractor+combine", "",
     "broad range of machines; site in Jambyl oblast not stated, placed at the oblast centre "
     "Taraz", "planned", "L", "en.inform.kz 2015 (facts 5); outcome not found"),
]
# fmt: on

# entry_id, name, russian_side_station, settlement_id, serves, confidence, source, location note
# fmt: off
RAIL_ENTRIES = [
    ("tobol", "Tobol", "Kartaly", "gn:1518139", "KZ-39", "H",
     "Trend 2025-03-06 (facts 8)", "GeoNames town Tobol"),
    ("mamlyut", "Mamlyut (Mamlyutka), towards Petropavl", "not stated", "gn:1521153",
     "KZ-59;KZ-11", "M", "trainof-thought.com (facts 8); Petropavl (Petropavlovsk) is a Kazakh "
     "station run by Russia's South Ural Railway, not a Russian-side station (issue 16; facts 8 "
     "lists it among Russian-side stations)", "GeoNames town Mamlyutka"),
    ("semiglavy_mar", "Semiglavy Mar, towards Oral (Uralsk)", "Ozinki", "gn:609721", "KZ-27",
     "L", "trainof-thought.com; 1520international.com (facts 8; pairing with Ozinki inferred)",
     "station not in GeoNames cities500: placed at Tasqala (Taskala), the district centre on "
     "the Ozinki-Oral line; position not verified"),
    ("shyngyrlau", "Shyngyrlau", "not stated", "gn:610091", "KZ-27", "L",
     "trainof-thought.com (facts 8; listed with Semiglavy Mar)", "GeoNames town Shyngyrlau"),
    ("bulayevo", "Bulayevo-1", "not stated", "gn:1525014", "KZ-59", "M",
     "trainof-thought.com (facts 8)", "GeoNames town Bulayevo"),
    ("zhanybek", "Zhanybek", "not stated", "gn:609953", "KZ-27", "M",
     "trainof-thought.com (facts 8)", "GeoNames town Zhanibek"),
    ("saihin", "Saihin", "not stated", "gn:608413", "KZ-27", "M",
     "trainof-thought.com (facts 8)", "GeoNames town Saykhin (the populated entry of two)"),
    ("ganyushkino", "Ganyushkino", "not stated", "gn:608901", "KZ-23", "M",
     "trainof-thought.com (facts 8)", "GeoNames town Maloye Ganyushkino"),
    ("sharbakty", "Sharbakty", "not stated", "gn:1519246", "KZ-55", "M",
     "trainof-thought.com (facts 8)", "GeoNames town Sharbaqty"),
    ("shemonaikha", "Shemonaikha", "not stated", "gn:1519226", "KZ-63", "M",
     "trainof-thought.com (facts 8)", "GeoNames town Shemonaikha"),
    ("iletsk", "Iletsk (Orenburg) towards Aktobe", "Iletsk-1", "gn:610611", "KZ-15", "L",
     "issue 16 review; not in the facts file (assumption)",
     "border station not in GeoNames cities500: placed at Aktobe, the first oblast centre on "
     "the line (assumption)"),
    ("kanisai", "Kanisai (Russian side) towards Aktobe", "Kanisai", "gn:610611", "KZ-15", "L",
     "1520international.com 2025-11; rusbiletnapoezd.ru 2025-09 (facts 8: Russian-side "
     "freight border stations in use); the Kazakh side and the line are not stated "
     "(assumption: Aktobe)",
     "placed at Aktobe with Iletsk (assumption; position not verified)"),
    ("orsk_novy_gorod", "Orsk - Novy Gorod towards Kandyagash (Alimbet)", "Orsk-Novy Gorod",
     "gn:610416", "KZ-15", "L",
     "1520international.com 2025-11; rusbiletnapoezd.ru 2025-09 (facts 8); pairing with the "
     "Kazakh junction Alimbet (Kirgilda, facts 8) is an assumption",
     "Alimbet not in GeoNames cities500: placed at Badamsha on the Orsk-Kandyagash line "
     "(assumption; position not verified)"),
    ("lokot", "Lokot towards Semey (Aul)", "Lokot", "gn:1525134", "KZ-10;KZ-63", "L",
     "1520international.com 2025-11; rusbiletnapoezd.ru 2025-09 (facts 8); pairing with the "
     "Kazakh junction Semey-Pristan (Aul, facts 8) is an assumption",
     "Aul not in GeoNames cities500: placed at Borodulikha on the Turksib between Lokot and "
     "Semey (assumption; position not verified)"),
]
# fmt: on


def read_settlements() -> dict[str, dict[str, str]]:
    """Return settlements.csv rows by settlement_id."""
    with (GEODATA / "settlements.csv").open(encoding="utf-8", newline="") as fh:
        return {row["settlement_id"]: row for row in csv.DictReader(fh)}


def locate(ref: str, towns: dict[str, dict[str, str]]) -> tuple[str, str, str, str, str]:
    """Return (settlement_id, city, oblast_iso, lat, lon) for a settlement id or a point."""
    if ref.startswith("gn:"):
        town = towns[ref]
        return ref, town["name"], town["oblast_iso"], town["lat"], town["lon"]
    lat, lon = ref.split(",")
    best = min(
        towns.values(),
        key=lambda t: (float(t["lat"]) - float(lat)) ** 2 + (float(t["lon"]) - float(lon)) ** 2,
    )
    return (
        best["settlement_id"],
        best["name"],
        best["oblast_iso"],
        f"{float(lat):.5f}",
        (f"{float(lon):.5f}"),
    )


def write(path: Path, rows: list[dict[str, str]]) -> None:
    """Write rows as CSV with ``\\n`` line ends."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {path}")


def main() -> None:
    """Write both CSV files."""
    towns = read_settlements()
    facilities = []
    for (
        fid,
        name,
        operator,
        partner,
        ref,
        kind,
        machines,
        cap,
        note,
        status,
        conf,
        src,
    ) in FACILITIES:
        sid, city, iso, lat, lon = locate(ref, towns)
        facilities.append(
            {
                "facility_id": fid,
                "name": name,
                "operator": operator,
                "partner": partner,
                "city": city,
                "oblast_iso": iso,
                "lat": lat,
                "lon": lon,
                "kind": kind,
                "machines": machines,
                "capacity_units_per_year": cap,
                "capacity_note": note,
                "status": status,
                "confidence": conf,
                "source": src,
                "settlement_id": sid,
                "location_method": "point given in the facts"
                if not ref.startswith("gn:")
                else f"GeoNames coordinates of {city}",
            }
        )
    write(GEODATA / "facilities.csv", facilities)
    entries = []
    for eid, name, ru_side, ref, serves, conf, src, how in RAIL_ENTRIES:
        sid, _city, iso, lat, lon = locate(ref, towns)
        entries.append(
            {
                "entry_id": eid,
                "name": name,
                "russian_side_station": ru_side,
                "oblast_iso": iso,
                "lat": lat,
                "lon": lon,
                "serves": serves,
                "confidence": conf,
                "source": src,
                "settlement_id": sid,
                "location_method": how,
            }
        )
    write(GEODATA / "rail_entry_points.csv", entries)


if __name__ == "__main__":
    main()
