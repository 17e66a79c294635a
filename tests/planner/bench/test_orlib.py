"""OR-Library reader, runner and JSON output; the scale list builder on tiny data."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from planner.bench import scale
from planner.bench.cli import add_bench_parser, run_bench
from planner.bench.orlib import (
    find_optima_file,
    load_pmed,
    read_optimal_values,
    run_orlib,
    summarise,
    write_json,
)
from planner.errors import ValidationError

ORLIB = Path(__file__).resolve().parents[3].parent / "shared" / "benchmarks" / "orlib"
KEYS = {"name", "objective", "bound", "gap", "proven_optimal", "runtime_s"}


def _need_orlib() -> None:
    if not (ORLIB / "pmed" / "pmed1.txt").exists():
        pytest.skip("OR-Library benchmarks not found next to the repository")


def test_last_occurrence_rule(tmp_path: Path) -> None:
    # Edge 1-2 appears twice: the LAST cost (9) must win, so 1->2 goes via 3 (2 + 3 = 5).
    f = tmp_path / "pmedX.txt"
    f.write_text(" 3 4 1 \n 1 2 1 \n 2 3 3 \n 1 3 2 \n 2 1 9 \n")
    inst = load_pmed(f)
    assert inst.n == 3
    assert inst.p == 1
    assert inst.distance[0, 1] == 5
    assert inst.distance[1, 0] == 5
    assert inst.distance[0, 2] == 2
    assert np.all(np.diag(inst.distance) == 0)


def test_bad_file_is_a_validation_error(tmp_path: Path) -> None:
    f = tmp_path / "bad.txt"
    f.write_text("not a pmed file")
    with pytest.raises(ValidationError, match="not a p-median file"):
        load_pmed(f)


def test_pmed1_reads_and_optima_table() -> None:
    _need_orlib()
    inst = load_pmed(ORLIB / "pmed" / "pmed1.txt")
    assert (inst.n, inst.p) == (100, 5)
    assert np.allclose(inst.distance, inst.distance.T)
    optima = read_optimal_values(ORLIB / "optimal_values.csv")
    assert optima["pmed:pmed1"].value == 5819
    assert optima["pmed1"].p == 5
    assert find_optima_file(ORLIB / "pmed") == ORLIB / "optimal_values.csv"


@pytest.mark.solver
def test_run_orlib_pmed_writes_json(tmp_path: Path) -> None:
    _need_orlib()
    report = run_orlib("pmed", ORLIB / "pmed", instances=["pmed4", "pmed5"], time_limit_s=30)
    out = tmp_path / "r.json"
    write_json(report, out)
    data = json.loads(out.read_text())
    assert [r["name"] for r in data["instances"]] == ["pmed4", "pmed5"]
    for row in data["instances"]:
        assert set(row) >= KEYS
        assert row["proven_optimal"]
        assert row["matches_published"]
        assert row["published_optimum"] == row["objective"]
    assert data["summary"]["proven_and_matching"] == 2


@pytest.mark.solver
def test_cli_orlib(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _need_orlib()
    parser = argparse.ArgumentParser()
    add_bench_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "o.json"
    args = parser.parse_args(
        [
            "bench",
            "orlib",
            "--family",
            "pmed",
            "--dir",
            str(ORLIB / "pmed"),
            "--instances",
            "pmed5",
            "--time-limit",
            "30",
            "--json",
            str(out),
        ]
    )
    assert run_bench(args) == 0
    assert "1 proven optimal" in capsys.readouterr().out
    assert json.loads(out.read_text())["instances"][0]["name"] == "pmed5"


def test_summary_counts() -> None:
    rows = [
        {"runtime_s": 1.0, "gap": 0.0, "proven_optimal": True, "matches_published": True},
        {"runtime_s": 3.0, "gap": 0.01, "proven_optimal": False, "matches_published": True},
    ]
    s = summarise(rows)
    assert (s["n"], s["proven_optimal"], s["matches_published"]) == (2, 1, 2)
    assert s["max_runtime_s"] == 3.0
    assert s["max_gap"] == 0.01


def test_radius_lists_valid_beyond_costs() -> None:
    rng = np.random.default_rng(0)
    dlon, dlat = rng.uniform(60, 80, 300), rng.uniform(45, 52, 300)
    slon, slat = rng.uniform(60, 80, 40), rng.uniform(45, 52, 40)
    radius = np.where(rng.random(300) < 0.5, 0.0, rng.uniform(50, 400, 300))
    cm = scale.radius_lists(dlon, dlat, slon, slat, radius, k_min=3, k_max=15)
    full = scale.road_km_function(dlon, dlat, slon, slat)(np.arange(300), np.arange(40))
    for i in range(300):
        idx, c = cm.row(i)
        assert np.allclose(full[i, idx], c)
        assert np.all(np.diff(c) >= 0)
        rest = np.setdiff1d(np.arange(40), idx)
        assert full[i, rest].min() >= cm.beyond_cost[i]
        want = 3 if radius[i] <= 0 else min(15, max(3, int((full[i] <= radius[i]).sum())))
        assert len(idx) == want


def test_knn_lists_valid_beyond_costs() -> None:
    rng = np.random.default_rng(1)
    dlon, dlat = rng.uniform(60, 80, 200), rng.uniform(45, 52, 200)
    slon, slat = rng.uniform(60, 80, 30), rng.uniform(45, 52, 30)
    k = np.where(rng.random(200) < 0.5, 4, 12)
    k[:3] = 30  # every site listed: nothing beyond
    cm = scale.knn_lists(dlon, dlat, slon, slat, k)
    full = scale.road_km_function(dlon, dlat, slon, slat)(np.arange(200), np.arange(30))
    for i in range(200):
        idx, c = cm.row(i)
        assert len(idx) == k[i]
        assert np.allclose(full[i, idx], c)
        assert np.all(np.diff(c) >= 0)
        rest = np.setdiff1d(np.arange(30), idx)
        if len(rest):
            assert full[i, rest].min() >= cm.beyond_cost[i]
        else:
            assert cm.beyond_cost[i] == np.inf
    assert scale.knn_list_length(2000, 20) == 300
    assert scale.knn_list_length(2000, 5) == scale.K_MAX_KNN
    assert scale.knn_list_length(40, 2) == 40


def test_missing_instance_files_name_the_right_folder(tmp_path: Path) -> None:
    sub = tmp_path / "pmed"
    sub.mkdir()
    (sub / "pmed3.txt").write_text("1 0 1\n")
    with pytest.raises(ValidationError, match=r"pmed3\.txt.*--dir .*pmed"):
        run_orlib("pmed", tmp_path, instances=["pmed3"], time_limit_s=1)
    with pytest.raises(ValidationError, match="does not exist"):
        run_orlib("cap", tmp_path / "nowhere", instances=["capa_8000"], time_limit_s=1)
    with pytest.raises(ValidationError, match="fix `--instances`"):
        run_orlib("pmed", sub, instances=["pmed99"], time_limit_s=1)
