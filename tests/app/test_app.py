"""AppTest smoke tests: every page renders without an exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _run(at: AppTest) -> AppTest:
    at.run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_explore_page_renders_map_table_and_kpis() -> None:
    at = _run(AppTest.from_file(APP, default_timeout=120))
    assert "Explore" in at.title[0].value
    assert len(at.get("deck_gl_json_chart")) == 1
    assert len(at.dataframe) >= 1
    labels = [m.label for m in at.metric]
    assert "Farms shown" in labels
    assert any("synthetic" in i.value for i in at.info)


def test_explore_filters_change_the_figures() -> None:
    at = _run(AppTest.from_file(APP, default_timeout=120))
    before = next(m.value for m in at.metric if m.label == "Farms shown")
    at.multiselect(key="explore_oblasts").set_value(["KZ-39"])
    at.radio(key="explore_machine").set_value("Combines")
    _run(at)
    after = next(m.value for m in at.metric if m.label == "Farms shown")
    assert int(after.replace(",", "")) < int(before.replace(",", ""))


@pytest.mark.parametrize("toggle", ["explore_settlements", "explore_facilities", "explore_rail"])
def test_layer_toggles(toggle: str) -> None:
    at = _run(AppTest.from_file(APP, default_timeout=120))
    at.checkbox(key=toggle).uncheck()
    _run(at)
