"""Regenerate ``geodata/oblasts.csv``: the 17 oblasts and 3 cities of Kazakhstan.

Run from the repository root::

    python geodata/build/make_oblasts.py

Every figure typed in below comes from ``shared/research/kz-agri-facts.md`` (sections 1, 2b,
2a and 3), with its year and source. Values the facts file marks "not found" are filled by the
proxy it suggests and flagged ``estimated`` with the method in a column.

Rules
-----
Sown area (``sown_area_kha``)
    The best value per oblast from facts section 2b (years differ, 2023-2025, as the facts
    file says). Mangystau, Astana and Almaty city: not found, proxy 0.
Grain / oilseed split
    Sourced when the same 2b row gives it. Otherwise, in this order: a split built from other
    sourced pieces of the same oblast (method written per row), the oblast's own split from
    another year applied as shares, or the national 2024 shares (grain 16.6 / 23.8 Mha,
    oilseeds 3.0 / 23.8 Mha, facts 2a).
Fleet (``tractors``, ``combines``)
    National totals: 147,700 tractors and 38,100 combines (akimat data, about 2022-23,
    NewTimes.kz/AutoReport 2024, facts 3a) -- the pair facts 3d names for its proxy.
    Oblast figures from facts 3d that count tractors or combines (East Kazakhstan, Pavlodar,
    Jetisu, Ulytau tractors; Akmola, Kostanay, East Kazakhstan, Pavlodar, Jetisu combines) are
    kept as they are ("sourced"; note they are mostly units engaged in the 2025 campaign, not
    registry counts). The rest of the national total is shared among the other oblasts in
    proportion to sown area (tractors) or grain area (combines), rounded to whole machines by
    the largest-remainder method, so oblast sums equal the national totals exactly. Counts of
    "units of all types" (Akmola 37,000, North Kazakhstan 12,000, Jambyl 12,000, Turkistan
    16,000) are not tractor counts and are not used.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "oblasts.csv"

NATIONAL_SOWN_KHA = 23_800.0  # 2024, MoA (Trend 2024-06-23), facts 2a
NATIONAL_GRAIN_KHA = 16_600.0
NATIONAL_OILSEED_KHA = 3_000.0
NATIONAL_TRACTORS = 147_700  # akimat data ~2022-23 (NewTimes.kz/AutoReport 2024), facts 3a
NATIONAL_COMBINES = 38_100
NATIONAL_FLEET_YEAR = 2023
NATIONAL_FLEET_SOURCE = "NewTimes.kz (AutoReport) 2024, akimat data ~2022-23 (facts 3a)"

# Names and centres: facts section 1 (ISO codes, names, centre coordinates).
# Russian/Kazakh centre names are the cities' official spellings.
# fmt: off
UNITS = [
    # iso, name_en, name_ru, name_kk, kind, centre_en, centre_ru, centre_kk, lat, lon
    ("KZ-10", "Abai", "область Абай", "Абай облысы", "oblast",
     "Semey", "Семей", "Семей", 50.42675, 80.26669),
    ("KZ-11", "Akmola", "Акмолинская область", "Ақмола облысы", "oblast",
     "Kokshetau", "Кокшетау", "Көкшетау", 53.28333, 69.40000),
    ("KZ-15", "Aktobe", "Актюбинская область", "Ақтөбе облысы", "oblast",
     "Aktobe", "Актобе", "Ақтөбе", 50.27969, 57.20718),
    ("KZ-19", "Almaty", "Алматинская область", "Алматы облысы", "oblast",
     "Konaev", "Конаев", "Қонаев", 43.86681, 77.06304),
    ("KZ-23", "Atyrau", "Атырауская область", "Атырау облысы", "oblast",
     "Atyrau", "Атырау", "Атырау", 47.11667, 51.88333),
    ("KZ-27", "West Kazakhstan", "Западно-Казахстанская область",
     "Батыс Қазақстан облысы", "oblast", "Oral", "Уральск", "Орал", 51.23333, 51.36667),
    ("KZ-31", "Jambyl", "Жамбылская область", "Жамбыл облысы", "oblast",
     "Taraz", "Тараз", "Тараз", 42.90000, 71.36667),
    ("KZ-33", "Jetisu", "область Жетісу", "Жетісу облысы", "oblast",
     "Taldykorgan", "Талдыкорган", "Талдықорған", 45.01556, 78.37389),
    ("KZ-35", "Karaganda", "Карагандинская область", "Қарағанды облысы", "oblast",
     "Karaganda", "Караганда", "Қарағанды", 49.80187, 73.10211),
    ("KZ-39", "Kostanay", "Костанайская область", "Қостанай облысы", "oblast",
     "Kostanay", "Костанай", "Қостанай", 53.21435, 63.62463),
    ("KZ-43", "Kyzylorda", "Кызылординская область", "Қызылорда облысы", "oblast",
     "Kyzylorda", "Кызылорда", "Қызылорда", 44.85278, 65.50917),
    ("KZ-47", "Mangystau", "Мангистауская область", "Маңғыстау облысы", "oblast",
     "Aktau", "Актау", "Ақтау", 43.65000, 51.16667),
    ("KZ-55", "Pavlodar", "Павлодарская область", "Павлодар облысы", "oblast",
     "Pavlodar", "Павлодар", "Павлодар", 52.28333, 76.96667),
    ("KZ-59", "North Kazakhstan", "Северо-Казахстанская область",
     "Солтүстік Қазақстан облысы", "oblast", "Petropavl", "Петропавловск", "Петропавл",
     54.86667, 69.15000),
    ("KZ-61", "Turkistan", "Туркестанская область", "Түркістан облысы", "oblast",
     "Turkistan", "Туркестан", "Түркістан", 43.29733, 68.25175),
    ("KZ-62", "Ulytau", "область Ұлытау", "Ұлытау облысы", "oblast",
     "Zhezkazgan", "Жезказган", "Жезқазған", 47.78333, 67.76667),
    ("KZ-63", "East Kazakhstan", "Восточно-Казахстанская область",
     "Шығыс Қазақстан облысы", "oblast", "Oskemen", "Усть-Каменогорск", "Өскемен",
     49.97143, 82.60586),
    ("KZ-71", "Astana", "город Астана", "Астана қаласы", "city",
     "Astana", "Астана", "Астана", 51.18010, 71.44598),
    ("KZ-75", "Almaty (city)", "город Алматы", "Алматы қаласы", "city",
     "Almaty", "Алматы", "Алматы", 43.25667, 76.92861),
    ("KZ-79", "Shymkent", "город Шымкент", "Шымкент қаласы", "city",
     "Shymkent", "Шымкент", "Шымкент", 42.34170, 69.59010),
]
# fmt: on

# Sown area, facts 2b: iso -> (total kha, year or None, status, source)
# fmt: off
SOWN = {
    "KZ-10": (618.1, 2025, "sourced",
              "qazinform 2025-06-02, MoA snapshot of 2 Jun 2025 (likely undercount; conf. L)"),
    "KZ-11": (5500.0, 2025, "sourced",
              "zakon.kz / baq.kz 2025-09-16 (Akorda briefing; [conflict] another akimat line "
              "says +63k only)"),
    "KZ-15": (509.0, 2025, "sourced", "qazinform 2025-06-02; aqtobegazeti 2025-09-12"),
    "KZ-19": (419.5, 2024, "sourced", "qonaev-gorod.kz, undated, probably 2024 (conf. L)"),
    "KZ-23": (5.3, 2024, "sourced", "Kazinform 2024 (10.3 planned; floods)"),
    "KZ-27": (638.0, 2025, "sourced", "mgorod.kz 2025-09-24"),
    "KZ-31": (640.0, 2025, "sourced", "kazpravda 2025-09-09 and 2025-12-06"),
    "KZ-33": (510.7, 2025, "sourced", "inform.kz 2025-09-06; kazpravda 2026-03-03"),
    "KZ-35": (1083.6, 2023, "sourced",
              "kgnews.asia (2023 plan); inform.kz 2025-09-29; qazinform 2025-06-02"),
    "KZ-39": (5100.0, 2025, "sourced", "inform.kz 2025-08-07; kazpravda"),
    "KZ-43": (189.0, 2024, "sourced", "ortcom.kz 2024-09-26"),
    "KZ-47": (0.0, None, "estimated", "not found; facts 2b proxy: ~0 (negligible cropland)"),
    "KZ-55": (1445.0, 2025, "sourced", "inform.kz 2025-09-21"),
    "KZ-59": (4400.0, 2025, "sourced", "m.123ru.net (7152.kz), 2025 plan stated by governor"),
    "KZ-61": (911.0, 2025, "sourced",
              "baq.kz 2026-03-04: 2026 plan 919 = +8k vs 2025, so 2025 = 911 [derived]"),
    "KZ-62": (32.0, 2025, "sourced", "basnews.kz/53353"),
    "KZ-63": (616.9, 2025, "sourced", "baq.kz 2025-09-20"),
    "KZ-71": (0.0, None, "estimated", "not found; facts 2b proxy: 0 (city)"),
    "KZ-75": (0.0, None, "estimated", "not found; facts 2b proxy: 0 (city)"),
    "KZ-79": (15.7, 2025, "sourced", "inbusiness.kz, spring-2025 snapshot (>=15.7; conf. L)"),
}
# fmt: on

NATIONAL_SHARES = (
    f"estimated: national 2024 shares of sown area (grain {NATIONAL_GRAIN_KHA:,.0f} / "
    f"oilseeds {NATIONAL_OILSEED_KHA:,.0f} of {NATIONAL_SOWN_KHA:,.0f} kha, facts 2a)"
)

# iso -> (grain kha or None, oilseed kha or None, status, method). None = national shares.
# fmt: off
SPLIT = {
    "KZ-11": (5500.0 - 495.0 - (5300.0 - 4900.0 - 197.0), 495.0, "estimated",
              "oilseeds 495 sourced (2025); grain = total - oilseeds - other area of the ~2023 "
              "row (5,300 - 4,900 - 197 = 203 kha, qz.inform.kz a4111310)"),
    "KZ-15": (426.0, 60.0, "sourced", "2025, grain = harvested area (aqtobegazeti 2025-09-12)"),
    "KZ-27": (288.7, 137.0, "sourced", "2025, mgorod.kz 2025-09-24"),
    "KZ-33": (276.3, None, "estimated",
              "grain 276.3 sourced (inform.kz 2025-09-06); oilseeds: national 2024 share"),
    "KZ-35": (915.0, 60.1, "sourced",
              "grain 915 (2025, inform.kz 2025-09-29); oilseeds ~60.1 (2023, kgnews.asia); "
              "mixed years"),
    "KZ-39": (4100.0, 873.5, "sourced", "2025, inform.kz 2025-08-07; kazpravda"),
    "KZ-43": (189.0 * 95.3 / 184.5, 189.0 * 10.3 / 184.5, "estimated",
              "shares of an undated year (grain 95.3, oilseeds 10.3 of 184.5 kha, newtimes.kz) "
              "applied to the 2024 total"),
    "KZ-47": (0.0, 0.0, "estimated", "no cropland (proxy)"),
    "KZ-55": (1445.0 * 953.0 / 1620.0, 1445.0 * 395.0 / 1620.0, "estimated",
              "shares of an undated plan (grain 953, oilseeds 395 of ~1,620 kha, ertistv.kz/35196) "
              "applied to the 2025 total"),
    "KZ-59": (3300.0, 760.0, "sourced", "2025 plan, m.123ru.net (7152.kz)"),
    "KZ-61": (911.0 - 85.4 - 162.0 - 175.0, 85.4, "estimated",
              "oilseeds = safflower 85.4 (2026 plan); grain = total - safflower - cotton 162 - "
              "perennial grass 175 (2026 plan, baq.kz 2026-03-04); upper bound, includes "
              "vegetables, melons and annual fodder"),
    "KZ-62": (22.0 + 1.8, 32.0 - 23.8 - 3.5 - 1.0, "estimated",
              "grain = wheat 22 + barley 1.8 (sourced); oilseeds = total - grain - fodder 3.5 - "
              "veg/potato 1.0 (residual, basnews.kz/53353)"),
    "KZ-63": (234.0, 259.0, "sourced", "2025, 38 % / 42 % of 616.9 kha [derived], baq.kz"),
    "KZ-71": (0.0, 0.0, "estimated", "city, no cropland (proxy)"),
    "KZ-75": (0.0, 0.0, "estimated", "city, no cropland (proxy)"),
}
# fmt: on

# Fleet by oblast, facts 3d: iso -> (value, year, source)
# fmt: off
TRACTORS_SOURCED = {
    "KZ-63": (9300, 2025, "baq.kz 2025-09-20 (units in the 2025 harvest)"),
    "KZ-55": (2300, 2025, "inform.kz 2025-09-21 (~2,300, units in the 2025 harvest)"),
    "KZ-33": (10700, 2025, "kazpravda 2025-09-06"),
    "KZ-62": (70, 2025, "basnews.kz"),
}
# fmt: on
# fmt: off
COMBINES_SOURCED = {
    "KZ-11": (7000, 2025, "qazinform 2025 (Akmola harvest; 4,800 modern)"),
    "KZ-39": (8800, 2022, "qostanai.media (~2022; conf. L/M)"),
    "KZ-63": (1400, 2025, "baq.kz 2025-09-20 (units in the 2025 harvest)"),
    "KZ-55": (2300, 2025, "inform.kz 2025-09-21 (>2,300, units in the 2025 harvest)"),
    "KZ-33": (1009, 2025, "kazpravda 2025-09-06"),
}
# fmt: on


def largest_remainder(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split ``total`` into integers proportional to ``weights`` (largest-remainder method)."""
    wsum = sum(weights.values())
    exact = {k: total * w / wsum for k, w in weights.items()}
    out = {k: math.floor(v) for k, v in exact.items()}
    left = total - sum(out.values())
    order = sorted(exact, key=lambda k: (-(exact[k] - out[k]), k))
    for k in order[:left]:
        out[k] += 1
    return out


def allocate(
    national: int, sourced: dict[str, tuple[int, int, str]], weights: dict[str, float]
) -> dict[str, int]:
    """Keep sourced oblast values; share the rest of the national total by ``weights``."""
    rest = national - sum(v for v, _, _ in sourced.values())
    free = {k: w for k, w in weights.items() if k not in sourced and w > 0}
    out = dict.fromkeys(weights, 0)
    out.update(largest_remainder(rest, free))
    out.update({k: v for k, (v, _, _) in sourced.items()})
    return out


def build_rows() -> list[dict[str, str]]:
    """Return the 20 rows of the oblast table."""
    grain: dict[str, float] = {}
    oil: dict[str, float] = {}
    split_status: dict[str, str] = {}
    split_method: dict[str, str] = {}
    for iso, *_ in UNITS:
        total = SOWN[iso][0]
        g, o, status, method = SPLIT.get(iso, (None, None, "estimated", NATIONAL_SHARES))
        grain[iso] = total * NATIONAL_GRAIN_KHA / NATIONAL_SOWN_KHA if g is None else g
        oil[iso] = total * NATIONAL_OILSEED_KHA / NATIONAL_SOWN_KHA if o is None else o
        split_status[iso] = status
        split_method[iso] = method
    sown = {iso: SOWN[iso][0] for iso, *_ in UNITS}
    tractors = allocate(NATIONAL_TRACTORS, TRACTORS_SOURCED, sown)
    combines = allocate(NATIONAL_COMBINES, COMBINES_SOURCED, grain)
    rows = []
    for unit in UNITS:
        iso, name_en, name_ru, name_kk, kind, c_en, c_ru, c_kk, lat, lon = unit
        total, year, status, source = SOWN[iso]
        t_src, c_src = TRACTORS_SOURCED.get(iso), COMBINES_SOURCED.get(iso)
        years = [s[1] for s in (t_src, c_src) if s is not None]
        sources = [f"{m}: {s[2]}" for m, s in (("tractors", t_src), ("combines", c_src)) if s]
        estimated = [m for m, s in (("tractors", t_src), ("combines", c_src)) if s is None]
        proxy = {
            "tractors": (NATIONAL_TRACTORS, "share of sown area"),
            "combines": (NATIONAL_COMBINES, "share of grain area"),
        }
        if estimated and total > 0:
            method = "; ".join(
                f"{m}: (national {proxy[m][0]:,} - sourced oblasts) x {proxy[m][1]} among "
                "oblasts without a sourced figure"
                for m in estimated
            )
            sources.append(NATIONAL_FLEET_SOURCE)
        elif estimated:
            method = "no sown area, so no farm machinery (proxy 0)"
        else:
            method = "both sourced (facts 3d)"
        rows.append(
            {
                "iso": iso,
                "name_en": name_en,
                "name_ru": name_ru,
                "name_kk": name_kk,
                "kind": kind,
                "centre_en": c_en,
                "centre_ru": c_ru,
                "centre_kk": c_kk,
                "lat": f"{lat:.5f}",
                "lon": f"{lon:.5f}",
                "sown_area_kha": f"{total:.1f}",
                "grain_area_kha": f"{grain[iso]:.1f}",
                "oilseed_area_kha": f"{oil[iso]:.1f}",
                "sown_area_year": "" if year is None else str(year),
                "sown_area_status": status,
                "sown_area_source": source,
                "area_split_status": split_status[iso],
                "area_split_method": split_method[iso],
                "tractors": str(tractors[iso]),
                "combines": str(combines[iso]),
                "fleet_year": str(max(years) if years else NATIONAL_FLEET_YEAR),
                "fleet_status": "estimated" if estimated else "sourced",
                "tractors_status": "estimated" if t_src is None else "sourced",
                "combines_status": "estimated" if c_src is None else "sourced",
                "fleet_source": "; ".join(sources) if sources else "proxy 0 (no sown area)",
                "fleet_method": method,
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
    sown = sum(float(r["sown_area_kha"]) for r in rows)
    print(
        f"wrote {len(rows)} rows to {OUT}: sown {sown:,.1f} kha, "
        f"tractors {sum(int(r['tractors']) for r in rows):,}, "
        f"combines {sum(int(r['combines']) for r in rows):,}"
    )


if __name__ == "__main__":
    main()
