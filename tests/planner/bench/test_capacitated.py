"""Tests of the CPMP / SSCFLP readers and runner (``planner.bench.capacitated``)."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from planner.bench.capacitated import (
    CpmpInstance,
    SscflpInstance,
    evaluate_assignment,
    find_instance,
    read_capacitated,
    run_capacitated_instance,
    run_compact_mip,
    sscflp_model,
)
from planner.bench.orlib import run_orlib
from planner.errors import ValidationError
from planner.models import SolveOptions, Status

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "benchmarks"
CPMP = SHARED / "cpmp"
SSCFLP = SHARED / "sscflp"

PMEDCAP = "1 9\r\n4 2 10\r\n1 0 0 3\r\n2 3 4 4\r\n3 0 1 5\r\n4 3 5 2\r\n"
SJC = "4 2\n 0 0 10 3\n 3 4 10 4\n 0 1 10 5\n 3 5 10 2\n"
# m = 2, n = 3; costs facility by facility; a NUL byte and junk after the data.
SSCF = "2 3\n10 100\n8 50\n4 5\n3\n1 2 3\n\x004 5 6\n7 7 7 junk\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("ascii"))
    return path


def test_reader_recognises_pmedcap_floor_distances(tmp_path: Path) -> None:
    inst = read_capacitated(_write(tmp_path, "pmedcapX.txt", PMEDCAP))
    assert isinstance(inst, CpmpInstance)
    assert (inst.n, inst.p, inst.floor_distance) == (4, 2, True)
    assert inst.capacity.tolist() == [10.0] * 4
    assert inst.demand.tolist() == [3.0, 4.0, 5.0, 2.0]
    # floor(sqrt(3^2 + 3^2)) = 4 between points 2 and 3 (0-based 1, 2).
    assert inst.distance()[1, 2] == 4.0


def test_reader_recognises_sjc_real_distances(tmp_path: Path) -> None:
    inst = read_capacitated(_write(tmp_path, "SJCX.dat", SJC))
    assert isinstance(inst, CpmpInstance)
    assert (inst.n, inst.p, inst.floor_distance) == (4, 2, False)
    assert inst.distance()[1, 2] == pytest.approx(math.sqrt(18))
    obj, problems = evaluate_assignment(inst, np.array([2, 1, 2, 1]))
    assert problems == []
    assert obj == pytest.approx(1.0 + 1.0)


def test_reader_sscflp_facility_by_facility_nul_and_junk(tmp_path: Path) -> None:
    inst = read_capacitated(_write(tmp_path, "pX", SSCF))
    assert isinstance(inst, SscflpInstance)
    assert inst.capacity.tolist() == [10.0, 8.0]
    assert inst.fixed_cost.tolist() == [100.0, 50.0]
    assert inst.demand.tolist() == [4.0, 5.0, 3.0]
    assert inst.cost.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    obj, problems = evaluate_assignment(inst, np.array([0, 1, 0]))
    assert problems == []
    assert obj == 150.0 + 1.0 + 5.0 + 3.0
    _, problems = evaluate_assignment(inst, np.array([1, 1, 1]))
    assert problems
    assert "capacity" in problems[0]


def test_reader_rejects_garbage(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not a CPMP"):
        read_capacitated(_write(tmp_path, "bad.txt", "3 4\n1 2\n"))
    with pytest.raises(ValidationError, match="not a number"):
        read_capacitated(_write(tmp_path, "bad2.txt", "a b c\n"))


@pytest.mark.solver
def test_tiny_sscflp_solves_to_brute_force(tmp_path: Path) -> None:
    inst = read_capacitated(_write(tmp_path, "pX", SSCF))
    assert isinstance(inst, SscflpInstance)
    best = math.inf
    for code in range(2**3):
        a = np.array([(code >> i) & 1 for i in range(3)])
        obj, problems = evaluate_assignment(inst, a)
        if not problems:
            best = min(best, obj)
    sol = sscflp_model(inst).solve(SolveOptions(time_limit_s=10, gap_tolerance=0.0))
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(best)


def _certificates() -> list[Path]:
    folder = CPMP / "certificates"
    return sorted(folder.glob("solOPT.*.json")) if folder.is_dir() else []


@pytest.mark.skipif(not _certificates(), reason="../shared/benchmarks/cpmp not available")
@pytest.mark.parametrize("cert", _certificates(), ids=lambda p: p.stem)
def test_certificates_parse_evaluate_and_match(cert: Path) -> None:
    match = re.fullmatch(r"solOPT\.(.+)_\d+\.json", cert.name)
    assert match is not None
    name = re.sub(r"^cpmp(\d+)$", r"pmedcap\1", match.group(1))
    path = find_instance(CPMP, name)
    assert path is not None
    inst = read_capacitated(path)
    data = json.loads(cert.read_text())
    assignment = np.array([node["median"] for node in data["nodes"]])
    obj, problems = evaluate_assignment(inst, assignment)
    assert problems == []
    assert obj == pytest.approx(float(data["fo"]), abs=0.01)


@pytest.mark.skipif(not SSCFLP.is_dir(), reason="../shared/benchmarks/sscflp not available")
def test_holmberg_and_yang_files_read() -> None:
    p1 = find_instance(SSCFLP, "p1")
    assert p1 is not None
    inst = read_capacitated(p1)
    assert isinstance(inst, SscflpInstance)
    assert (inst.n_facilities, inst.n_customers) == (10, 50)
    p47 = find_instance(SSCFLP, "p47")  # junk after the data
    y = find_instance(SSCFLP, "80-400-5")
    assert p47 is not None
    assert y is not None
    assert isinstance(read_capacitated(p47), SscflpInstance)
    big = read_capacitated(y)
    assert isinstance(big, SscflpInstance)
    assert (big.n_facilities, big.n_customers) == (80, 400)


@pytest.mark.solver
@pytest.mark.skipif(not SSCFLP.is_dir(), reason="../shared/benchmarks/sscflp not available")
def test_run_p1_reaches_published_optimum() -> None:
    path = find_instance(SSCFLP, "p1")
    assert path is not None
    out = run_capacitated_instance(path, time_limit_s=60)
    assert out["proven_optimal"]
    assert out["objective"] == pytest.approx(8848.0)
    assert out["checked_objective"] == pytest.approx(8848.0)
    assert out["violations"] == []


@pytest.mark.solver
@pytest.mark.skipif(not CPMP.is_dir(), reason="../shared/benchmarks/cpmp not available")
def test_run_orlib_cpmp_family_keys() -> None:
    report = run_orlib("cpmp", CPMP, instances=["pmedcap01"], time_limit_s=60)
    (row,) = report["instances"]
    for key in (
        "name",
        "objective",
        "bound",
        "gap",
        "proven_optimal",
        "runtime_s",
        "published_optimum",
        "matches_published",
    ):
        assert key in row
    assert row["published_optimum"] == 713.0
    assert row["matches_published"]
    assert row["proven_optimal"]


def test_run_orlib_missing_instance_names_it(tmp_path: Path) -> None:
    _write(tmp_path, "SJCX.dat", SJC)
    with pytest.raises(ValidationError, match="SJCY"):
        run_orlib("cpmp", tmp_path, instances=["SJCY"], time_limit_s=1)


@pytest.mark.solver
def test_compact_mip_peer_matches_brute_force(tmp_path: Path) -> None:
    path = _write(tmp_path, "SJCX.dat", SJC)
    inst = read_capacitated(path)
    best = math.inf
    for a in itertools.product(range(4), repeat=4):
        obj, problems = evaluate_assignment(inst, np.array(a))
        if not problems:
            best = min(best, obj)
    out = run_compact_mip(path, time_limit_s=10)
    assert out["proven_optimal"]
    assert out["objective"] == pytest.approx(best)
    ours = run_capacitated_instance(path, time_limit_s=10)
    assert ours["objective"] == pytest.approx(best)
