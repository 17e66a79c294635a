"""User-supplied names are inert: escaped in map tooltips, plain text in tables and the brief."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from planner.store import Workspace, default_path
from planner.ui import data, maps
from planner.ui.export import build_files
from tests.app.conftest import open_page, run, wait_for_solve

pytestmark = [pytest.mark.slow, pytest.mark.solver]

EVIL = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]
ESCAPED = ["&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;"]


def _sites_file(tmp_path: Path) -> Path:
    rows = [
        ("s1", EVIL[0], 53.2144, 63.6246),
        ("s2", EVIL[1], 51.1605, 71.4704),
        ("s3", "Павлодар", 52.2873, 76.9674),
        ("s4", "Шымкент", 42.3417, 69.5901),
        ("s5", "Актобе", 50.2839, 57.1670),
        ("s6", "Усть-Каменогорск", 49.9483, 82.6279),
    ]
    path = tmp_path / "evil_sites.csv"
    pd.DataFrame(rows, columns=["site_id", "name", "lat", "lon"]).to_csv(path, index=False)
    return path


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(a for a, _ in attrs)


def _assert_inert_html(doc: str) -> None:
    parser = _Tags()
    parser.feed(doc)
    assert "script" not in parser.tags
    assert not [a for a in parser.attrs if a.startswith("on")]
    assert parser.tags.count("img") <= 1  # the brief's own map image


def test_planted_names_are_inert_in_tooltips_tables_and_brief(tmp_path: Path) -> None:
    path = _sites_file(tmp_path)
    upload = Workspace(default_path()).add_upload("sites", path.name, path.read_bytes())
    at = open_page("scenario")
    at.selectbox(key="sc_sites_source").set_value(f"upload:{upload}")
    run(at)
    at.number_input(key="sc_p").set_value(3)
    at.multiselect(key="sc_required").set_value(["s1", "s2"])
    at.selectbox(key="sc_backend").set_value("heuristic")
    run(at)
    at.button(key="sc_run").click()
    run(at)
    wait_for_solve(at)
    # map tooltips: the deck specs hold only escaped names
    specs = [c.proto.json for c in at.get("deck_gl_json_chart")]
    assert specs
    joined = "".join(specs)
    for raw, esc in zip(EVIL, ESCAPED, strict=True):
        assert raw not in joined
        assert esc in joined
    for spec in specs:
        tooltip = json.loads(spec).get("tooltip")
        assert tooltip in (None, {"html": "{label}"})
    # tables: names are plain text cells (the data grid never renders HTML)
    table = at.dataframe[0].value
    assert set(EVIL) <= set(table.iloc[:, 0])
    # markdown (dossier, captions) carries them escaped for markdown, never as HTML
    for el in at.markdown:
        assert "<script>" not in el.value
        assert "<img" not in el.value
    # HTML brief from the same run
    files = build_files(at.session_state["sc_result"]["tables"], "en")
    brief = files["brief.html"].decode("utf-8")
    _assert_inert_html(brief)
    for esc in ESCAPED:
        assert esc in brief
    # and after saving, from the workspace
    at.button(key="sc_save").click()
    run(at)
    open_page("export", at)
    at.button(key="exp_prepare").click()
    run(at)
    _assert_inert_html(at.session_state["exp_files"]["files"]["brief.html"].decode())


def test_uploaded_farm_names_are_escaped_in_the_data_page_map() -> None:
    farms = data.FARM_TEMPLATE.copy()
    farms["name"] = EVIL
    rep = data.check_file("farms", "farms.csv", farms.to_csv(index=False).encode())
    assert rep["ok"], rep["problems"]
    pts = maps.escape_columns(pd.DataFrame({"label": rep["table"]["name"]}), ["label"])
    assert list(pts["label"]) == ESCAPED


def test_candidate_and_result_layers_escape_names() -> None:
    sites = pd.DataFrame(
        {
            "site_id": ["a", EVIL[1]],
            "name": EVIL,
            "lon": [63.6, 71.4],
            "lat": [53.2, 51.1],
            "role": ["candidate", "existing"],
        }
    )
    layer = maps.candidate_layer(sites, {"a"}, set())
    labels = " ".join(row["label"] for row in layer.data)
    assert "<script" not in labels
    assert "<img" not in labels
    tooltip = maps.site_tooltip_frame(
        sites.assign(status=["open", "existing"], assigned_demand=[1.0, 2.0], n_farms=[1, 2]),
        {"load": "Load", "farms": "Farms", "closed": "closed"},
    )
    text = " ".join(tooltip["label"])
    assert "<script" not in text
    assert "<img" not in text
    assert ESCAPED[0] in text
