"""`planner bench peer`: spopt on the same instances (optional extra `peer`)."""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
from pathlib import Path

import pytest

from planner.bench import peer


def test_missing_spopt_prints_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda _name: None)
    out = io.StringIO()
    args = argparse.Namespace(dir=Path(), instances="pmed1", time_limit=10.0, json=None)
    assert peer.run_peer(args, out) == 1
    assert "pip install" in out.getvalue()


@pytest.mark.solver
# spopt calls PuLP APIs that PuLP itself deprecates; not ours to fix.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_peer_matches_objectives_on_pmed1(orlib_dir: Path, tmp_path: Path) -> None:
    if importlib.util.find_spec("spopt") is None:
        pytest.skip("spopt is not installed (pip install -e '.[peer]')")
    out = io.StringIO()
    args = argparse.Namespace(
        dir=orlib_dir / "pmed", instances="pmed1", time_limit=120.0, json=tmp_path / "p.json"
    )
    assert peer.run_peer(args, out) == 0
    result = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    row = result["instances"][0]
    assert row["planner_objective"] == pytest.approx(row["spopt_objective"])
    assert result["ratio"] > 0
