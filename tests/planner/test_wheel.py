"""A wheel built from the repository carries its data and runs outside the checkout.

The wheel is built from a copy of the packaging inputs (so the checkout gets no ``build/`` or
``*.egg-info``), installed without dependencies into a fresh venv whose ``.pth`` file appends
this environment's site-packages for the dependencies, and then ``planner data --verify`` and
``planner solve default`` run from a folder outside the checkout with ``planner`` imported from
the new venv.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from tests._server import free_port, stop, wait_healthy

REPO = Path(__file__).resolve().parents[2]
# The oldest setuptools that builds the wheel (pyproject.toml [build-system]; the test extra).
MIN_SETUPTOOLS_MAJOR = 77
PIP = (sys.executable, "-m", "pip")
PROBE = "import planner, planner.geodata as g; print(planner.__file__); print(g.geodata_dir())"

pytestmark = pytest.mark.slow


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    res = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600
    )
    assert res.returncode == 0, f"{cmd} exited {res.returncode}\n{res.stdout}\n{res.stderr}"
    return res.stdout


def _setuptools_recent() -> bool:
    major = version("setuptools").split(".")[0]
    return major.isdigit() and int(major) >= MIN_SETUPTOOLS_MAJOR


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of pyproject.toml, setup.py, README.md, planner/, geodata/."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("planner", "geodata"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    dist = tmp_path_factory.mktemp("dist")
    # With the test extras installed (setuptools >= 77) the build needs no network; otherwise
    # pip fetches the build requirements from the package index into an isolated env.
    no_isolation = ["--no-build-isolation"] if _setuptools_recent() else []
    _run(
        [*PIP, "wheel", "-q", "--no-deps", *no_isolation, "--wheel-dir", str(dist), str(src)],
        cwd=src,
    )
    (whl,) = dist.glob("kz_service_planner-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the wheel installed; dependencies come from this environment."""
    root = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", str(root)], cwd=root)
    python = root / "bin" / "python"
    _run(
        [*PIP, "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        cwd=root,
    )
    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    purelib = Path(_run([str(python), "-c", where], cwd=root).strip())
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    # A plain path line appends the folder to sys.path after the venv's own site-packages and
    # does not run that folder's .pth files (so no editable finder for the checkout's planner).
    (purelib / "zz_test_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    return root


def _outside_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PLANNER_"))}
    env["MPLBACKEND"] = "Agg"
    return env


def test_wheel_holds_the_data_files_and_no_top_level_geodata(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    manifest = tomllib.loads((REPO / "geodata" / "MANIFEST.toml").read_text(encoding="utf-8"))
    files = {record["file"] for record in manifest["datasets"].values()}
    assert files, "the manifest lists no dataset"
    for name in [*files, "MANIFEST.toml", "README.md"]:
        assert f"planner/_geodata/{name}" in names
    assert not any(n.startswith(("geodata/", "planner/_geodata/build/")) for n in names)
    assert "planner/scenario_files/default.toml" in names
    assert "planner/ui/entry.py" in names  # the script `planner app` serves


def test_wheel_runs_data_verify_and_solve_outside_the_checkout(venv: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert not elsewhere.resolve().is_relative_to(REPO)
    env = _outside_env()
    probe = _run(
        [str(venv / "bin" / "python"), "-c", PROBE],
        cwd=elsewhere,
        env=env,
    ).splitlines()
    assert Path(probe[0]).is_relative_to(venv), f"planner imported from {probe[0]}"
    assert Path(probe[1]) == Path(probe[0]).parent / "_geodata"

    planner_cli = str(venv / "bin" / "planner")
    verify = _run([planner_cli, "data", "--verify"], cwd=elsewhere, env=env)
    assert "geodata OK" in verify
    assert "PROBLEM" not in verify

    out = elsewhere / "out"
    _run(
        [planner_cli, "solve", "default", "--time-limit", "30", "--out", str(out)],
        cwd=elsewhere,
        env=env,
    )
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    scenario = tomllib.loads((out / "scenario.toml").read_text(encoding="utf-8"))
    assert summary["status"] in {"optimal", "feasible"}
    assert summary["objective"] > 0
    assert summary["n_open_sites"] == scenario["model"]["p"]
    notes = " ".join(summary["data_notes"])
    assert "farms are synthetic" in notes
    assert "oblasts.csv" in notes  # the note names the embedded data the farms came from


def test_wheel_serves_the_app_outside_the_checkout(venv: Path, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "app.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [str(venv / "bin" / "planner"), "app", "--port", str(port)],
            cwd=tmp_path,
            env=_outside_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}", log, timeout_s=120)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as resp:
            assert resp.status == 200
            assert "<html" in resp.read().decode().lower()
    finally:
        stop(proc, timeout_s=20)


def test_stopping_planner_app_stops_its_server(venv: Path, tmp_path: Path) -> None:
    """`planner app` becomes the server process: a SIGTERM to it leaves no server behind."""
    port = free_port()
    log = tmp_path / "app.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [str(venv / "bin" / "planner"), "app", "--port", str(port)],
            cwd=tmp_path,
            env=_outside_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}", log, timeout_s=120)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # Nothing answers on the port any more (no orphaned streamlit child).
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                break
        time.sleep(0.5)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "a server still listens after stop"
