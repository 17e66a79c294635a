"""HTML decision brief: self-contained, language-aware, every user string escaped."""

from __future__ import annotations

import base64
import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from planner import brief, export, geodata, run, scenarios
from planner.export import ResultTables
from planner.models import check_solution
from planner.run import ScenarioResult
from tests.planner import _independent as ind

pytestmark = pytest.mark.solver

EVIL = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


@pytest.fixture(scope="module")
def result() -> ScenarioResult:
    s = scenarios.load_scenario("default")
    s = s.replace(
        title=EVIL[0],
        data=dataclasses.replace(s.data, n_farms=800, min_site_population=20000),
        model=dataclasses.replace(s.model, p=3),
        solver=dataclasses.replace(s.solver, backend="heuristic", n_best=1),
    )
    return run.run_scenario(s, time_limit_s=2)


@pytest.fixture(scope="module")
def tables(result: ScenarioResult) -> ResultTables:
    t = export.result_tables(result)
    sites = t.sites.copy()
    open_rows = sites.index[sites["status"] != "closed"]
    sites.loc[open_rows[0], "name"] = EVIL[0]
    sites.loc[open_rows[1], "name"] = EVIL[1]
    summary = {**t.summary, "data_notes": [*t.summary["data_notes"], EVIL[1]]}
    return dataclasses.replace(t, sites=sites, summary=summary)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_brief_is_self_contained_and_escaped(tables: ResultTables, lang: str) -> None:
    doc = brief.brief_html(tables, lang=lang)
    parser = _Collect()
    parser.feed(doc)
    assert "script" not in parser.tags
    assert not any(name.startswith("on") for name, _ in parser.attrs)
    assert [t for t in parser.tags if t == "img"] == ["img"]
    text = "".join(parser.text)
    assert EVIL[0] in text
    assert EVIL[1] in text
    assert "&lt;script&gt;" in doc
    assert "http://" not in doc
    assert "https://" not in doc
    m = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', doc)
    assert m is not None
    assert base64.b64decode(m.group(1)).startswith(b"\x89PNG")
    assert f'<html lang="{lang}">' in doc


def test_brief_language_changes_labels_and_numbers(tables: ResultTables) -> None:
    en = brief.brief_html(tables, lang="en")
    ru = brief.brief_html(tables, lang="ru")
    kk = brief.brief_html(tables, lang="kk")
    assert "Key figures" in en
    assert "Ключевые показатели" in ru
    assert "Негізгі көрсеткіштер" in kk
    assert "Костанайская область" in ru


def test_brief_numbers_match_the_recomputed_results(result: ScenarioResult, tmp_path: Path) -> None:
    report = check_solution(result.problem, result.solution)
    assert report.ok, report.violations
    paths = export.write_outputs(result, tmp_path, lang="en")
    farms = ind.farm_table(result.inputs.farms, result.inputs.weights)
    travel = result.scenario.travel
    written = ind.check_single_echelon(
        tmp_path,
        farms=farms,
        speed_kmh=travel.speed_kmh,
        circuity=travel.circuity,
        p=3,
        capacitated=result.scenario.model.capacitated,
    )
    ob = geodata.load_oblasts()
    names = dict(zip(ob["iso"].astype(str), ob["name_en"].astype(str), strict=True))
    oblasts = ind.per_oblast(written.assignments, farms, written.sites)
    ind.check_brief(paths["brief"].read_text(encoding="utf-8"), written, oblasts, names)


@pytest.mark.parametrize(
    ("value", "lang", "digits", "expected"),
    [
        (1234567.891, "en", 1, "1,234,567.9"),
        (1234567.891, "ru", 1, "1\u202f234\u202f567,9"),
        (float("nan"), "en", 0, "–"),
        (None, "kk", 0, "–"),
    ],
)
def test_format_number(value: float | None, lang: str, digits: int, expected: str) -> None:
    assert brief.format_number(value, lang, digits) == expected


def test_format_share() -> None:
    assert brief.format_share(0.4567, "en") == "45.7\u00a0%"
    assert brief.format_share(0.4567, "ru") == "45,7\u00a0%"


def test_map_png_empty_farms(tables: ResultTables) -> None:
    empty = dataclasses.replace(
        tables,
        farms=tables.farms.iloc[0:0],
        sites=pd.DataFrame({c: [] for c in tables.sites.columns}),
    )
    assert brief.map_png(empty).startswith(b"\x89PNG")
