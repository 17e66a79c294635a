"""Workspace store: CRUD, revisions, trash, uploads, threads, schema version and a kill test."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from planner.scenarios import load_scenario, scenario_to_toml
from planner.store import StoredResults, StoreError, Workspace, default_path

RESULTS = StoredResults('{"a": 1}', "site_id\nx\n", "farm_id,site_id\nf1,x\n", "farm_id\nf1\n")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws.sqlite")


def test_save_list_load_roundtrip(ws: Workspace) -> None:
    scenario = load_scenario("default")
    ws.save_scenario(scenario, RESULTS)
    assert ws.names() == ["default"]
    assert ws.load_scenario("default") == scenario.replace(base_dir="")
    assert ws.results("default") == RESULTS
    rec = ws.get("default")
    assert rec.has_results
    assert rec.revision == 1


def test_name_taken_is_refused_and_overwrite_keeps_revision(ws: Workspace) -> None:
    ws.save("a", "x = 1\n")
    with pytest.raises(StoreError, match="already saved"):
        ws.save("a", "x = 2\n")
    assert ws.get("a").toml == "x = 1\n"
    ws.save("a", "x = 2\n", overwrite=True)
    assert ws.get("a").toml == "x = 2\n"
    assert [r[2] for r in ws.revisions("a")] == ["x = 2\n", "x = 1\n"]


def test_rename_duplicate_delete_restore(ws: Workspace) -> None:
    ws.save("a", "t", RESULTS)
    ws.save("b", "u")
    with pytest.raises(StoreError, match="already exists"):
        ws.rename("a", "b")
    ws.rename("a", "c")
    assert ws.names() == ["b", "c"]
    copy = ws.duplicate("c")
    assert copy == "c (copy)"
    assert ws.duplicate("c") == "c (copy) 2"
    assert ws.results(copy) == RESULTS
    ws.delete("c")
    assert "c" not in ws.names()
    trashed = ws.list_scenarios(trash=True)
    assert [t.name for t in trashed] == ["c"]
    ws.save("c", "new")
    restored = ws.restore(trashed[0].id)
    assert restored == "c (restored 2)"
    assert ws.get(restored).toml == "t"
    ws.delete("b")
    ws.purge(ws.list_scenarios(trash=True)[0].id)
    assert ws.list_scenarios(trash=True) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("x" * 500, "must be at most 120 characters, got 500"),
    ],
)
def test_bad_names(ws: Workspace, name: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        ws.save(name, "t")


def test_missing_scenario_message(ws: Workspace) -> None:
    with pytest.raises(StoreError, match="no saved scenario named `nope`"):
        ws.results("nope")


def test_survives_reopen(tmp_path: Path) -> None:
    Workspace(tmp_path / "w.sqlite").save("keep", "t", RESULTS)
    again = Workspace(tmp_path / "w.sqlite")
    assert again.names() == ["keep"]
    assert again.results("keep") == RESULTS
    assert again.integrity_check() == "ok"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    Workspace(path)
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(StoreError, match="newer planner"):
        Workspace(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a planner workspace"):
        Workspace(path)


def test_default_path_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLANNER_WORKSPACE", str(tmp_path / "x.sqlite"))
    assert default_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("PLANNER_WORKSPACE")
    assert default_path().name == "workspace.sqlite"


def test_uploads_dedupe_and_materialise(ws: Workspace) -> None:
    a = ws.add_upload("farms", "../../etc/passwd.csv", b"farm_id,lat,lon\n", "ok")
    b = ws.add_upload("farms", "other.csv", b"farm_id,lat,lon\n")
    assert a == b
    path = ws.upload_path(a)
    assert path.parent == ws.files_dir().resolve()
    assert path.read_bytes() == b"farm_id,lat,lon\n"
    path.unlink()
    assert ws.upload_path(a).is_file()
    assert [u.kind for u in ws.list_uploads("farms")] == ["farms"]
    with pytest.raises(StoreError, match=r"upload kind must be one of .*got 'bad'"):
        ws.add_upload("bad", "x", b"")
    ws.delete_upload(a)
    assert ws.list_uploads() == []


def test_threads_save_concurrently(ws: Workspace) -> None:
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(10):
                ws.save(f"t{k}-{i}", scenario_to_toml(load_scenario("default")), RESULTS)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(ws.names()) == 80


_CHILD = """
import os, sys
from planner.store import StoredResults, Workspace
ws = Workspace(sys.argv[1])
start = int(sys.argv[2])
big = "farm_id,site_id,travel_km\\n" + "".join(
    f"f{i},s{i % 97},{i * 0.37:.3f}\\n" for i in range(60000)
)
i = start
while True:
    name = f"s{i}"
    res = StoredResults("{}", "x\\n", big + name, os.urandom(8).hex())
    ws.save(name, f"name = '{name}'\\n", res)
    sys.stdout.write(name + "\\n")
    sys.stdout.flush()
    i += 1
"""


@pytest.mark.slow
def test_sigkill_mid_save_never_loses_committed_scenarios(tmp_path: Path) -> None:
    """A process saving in a loop is SIGKILLed 30 times; every committed save survives."""
    path = tmp_path / "kill.sqlite"
    Workspace(path)
    committed: list[str] = []
    kills = 0
    next_index = 0
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for round_ in range(30):
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(path), str(next_index)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        # Wait for at least one commit, then kill at a varying moment of a later save.
        first = proc.stdout.readline().strip()
        if first:
            committed.append(first)
        time.sleep(0.01 * (round_ % 7))
        proc.send_signal(signal.SIGKILL)
        kills += 1
        out, _ = proc.communicate()
        committed.extend(line for line in out.splitlines() if line.strip())
        next_index += 1000
        ws = Workspace(path)
        names = set(ws.names())
        missing = [n for n in committed if n not in names]
        assert missing == [], f"after kill {kills}: lost {missing}"
    ws = Workspace(path)
    assert ws.integrity_check() == "ok"
    assert kills == 30
    for name in committed[:: max(1, len(committed) // 20)]:
        res = ws.results(name)
        assert res is not None
        assert res.assignments_csv.endswith(name)
        assert ws.get(name).toml == f"name = '{name}'\n"
