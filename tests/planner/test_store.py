"""Workspace store: CRUD, revisions, trash, uploads, threads, schema version and a kill test."""

from __future__ import annotations

import inspect
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from planner import _store_base, store
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


# -- owners, sharing, audit, quota ------------------------------------------------------------


@dataclass(frozen=True)
class _Two:
    """Two users on one workspace file, A with a saved, a trashed scenario and an upload."""

    a: Workspace
    b: Workspace
    plan_id: int
    trashed_id: int
    upload_id: int


@pytest.fixture
def two(tmp_path: Path) -> _Two:
    path = tmp_path / "shared.sqlite"
    a = Workspace(path, owner="issuer#alice")
    b = Workspace(path, owner="issuer#bob")
    a.remember_user("alice@example.com", "Alice")
    b.remember_user("bob@example.com", "Bob")
    plan_id = a.save("plan", 'name = "plan"\n', RESULTS)
    a.save("old", 'name = "old"\n')
    a.delete("old")
    trashed_id = a.list_scenarios(trash=True)[0].id
    upload_id = a.add_upload("farms", "farms.csv", b"farm_id,lat,lon\nf1,50,70\n")
    return _Two(a, b, plan_id, trashed_id, upload_id)


def _refused(call: Callable[[], object], match: str) -> None:
    with pytest.raises(StoreError, match=match):
        call()


def _a_untouched(t: _Two) -> None:
    assert t.a.names() == ["plan"]
    rec = t.a.get("plan")
    assert (rec.id, rec.revision, rec.toml) == (t.plan_id, 1, 'name = "plan"\n')
    assert t.a.results("plan") == RESULTS
    assert [r.id for r in t.a.list_scenarios(trash=True)] == [t.trashed_id]
    assert [u.id for u in t.a.list_uploads()] == [t.upload_id]


def _case_save(t: _Two) -> None:
    sid = t.b.save("plan", 'name = "mine"\n')
    assert sid != t.plan_id
    assert t.b.get("plan").toml == 'name = "mine"\n'


def _case_save_scenario(t: _Two) -> None:
    sid = t.b.save_scenario(load_scenario("default"), name="plan")
    assert sid != t.plan_id
    assert t.b.names() == ["plan"]


def _case_restore(t: _Two) -> None:
    _refused(lambda: t.b.restore(t.trashed_id), "not in your trash")


def _case_purge(t: _Two) -> None:
    _refused(lambda: t.b.purge(t.trashed_id), "not in your trash")


def _case_remember_user(t: _Two) -> None:
    t.b.remember_user("someone@example.com", "Someone")
    # only B's own entry changed: A is still found by A's e-mail, B by the new one
    assert t.a.share("plan", "someone@example.com") == ["issuer#bob"]
    t.a.unshare("plan", "someone@example.com")
    assert t.b.list_shared() == []


def _case_shared_reads(t: _Two) -> None:
    for call in (t.b.get_shared, t.b.load_shared, t.b.shared_results, t.b.duplicate_shared):
        _refused(lambda c=call: c(t.plan_id), "no scenario with id")  # type: ignore[misc]
    assert t.b.list_shared() == []


def _case_add_upload(t: _Two) -> None:
    uid = t.b.add_upload("farms", "farms.csv", b"farm_id,lat,lon\nf1,50,70\n")
    assert uid != t.upload_id
    assert [u.id for u in t.b.list_uploads()] == [uid]


# Each public method of Workspace, called by B on A's things: refused, or it sees/changes only
# B's own rows. After every case A's workspace is checked to be untouched.
OWNER_CASES: dict[str, Callable[[_Two], None]] = {
    "list_scenarios": lambda t: _check(
        t.b.list_scenarios() == [] and t.b.list_scenarios(trash=True) == []
    ),
    "names": lambda t: _check(t.b.names() == []),
    "save": _case_save,
    "save_scenario": _case_save_scenario,
    "get": lambda t: _refused(lambda: t.b.get("plan"), "no saved scenario named `plan`"),
    "load_scenario": lambda t: _refused(lambda: t.b.load_scenario("plan"), "no saved scenario"),
    "results": lambda t: _refused(lambda: t.b.results("plan"), "no saved scenario"),
    "revisions": lambda t: _refused(lambda: t.b.revisions("plan"), "no saved scenario"),
    "rename": lambda t: _refused(lambda: t.b.rename("plan", "mine"), "no saved scenario"),
    "duplicate": lambda t: _refused(lambda: t.b.duplicate("plan"), "no saved scenario"),
    "delete": lambda t: _refused(lambda: t.b.delete("plan"), "no saved scenario"),
    "restore": _case_restore,
    "purge": _case_purge,
    "remember_user": _case_remember_user,
    "share": lambda t: _refused(lambda: t.b.share("plan", "*"), "no saved scenario"),
    "unshare": lambda t: _refused(lambda: t.b.unshare("plan", "*"), "no saved scenario"),
    "shares": lambda t: _refused(lambda: t.b.shares("plan"), "no saved scenario"),
    "list_shared": lambda t: _check(t.b.list_shared() == []),
    "get_shared": _case_shared_reads,
    "load_shared": _case_shared_reads,
    "shared_results": _case_shared_reads,
    "duplicate_shared": _case_shared_reads,
    "audit": lambda t: _check(t.b.audit() == [] and len(t.a.audit()) >= 4),
    "usage_bytes": lambda t: _check(t.b.usage_bytes() == 0 < t.a.usage_bytes()),
    "add_upload": _case_add_upload,
    "list_uploads": lambda t: _check(t.b.list_uploads() == []),
    "upload_path": lambda t: _refused(lambda: t.b.upload_path(t.upload_id), "no uploaded file"),
    "delete_upload": lambda t: _refused(lambda: t.b.delete_upload(t.upload_id), "no uploaded file"),
}
# Methods that read no user data at all.
NO_USER_DATA = {"files_dir", "integrity_check"}


def _check(ok: bool) -> None:
    assert ok


def _public_methods() -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(Workspace, inspect.isfunction)
        if not name.startswith("_")
    }


def test_every_public_store_function_is_listed_with_an_ownership_case() -> None:
    """A new store method must come with an ownership case here (or be declared data-free)."""
    assert _public_methods() == set(OWNER_CASES) | NO_USER_DATA
    # the user is part of every Workspace: the constructor takes it, no method can override it
    assert "owner" in inspect.signature(Workspace).parameters
    for name in _public_methods():
        params = inspect.signature(getattr(Workspace, name)).parameters
        assert "owner" not in params, name
    # the module's own public functions touch no rows
    funcs = {
        n
        for n, f in inspect.getmembers(store, inspect.isfunction)
        if not n.startswith("_") and f.__module__.startswith(("planner.store", "planner._store"))
    }
    assert funcs == {"default_path", "default_quota_bytes"}


@pytest.mark.parametrize("method", sorted(OWNER_CASES))
def test_ownership_is_enforced(two: _Two, method: str) -> None:
    OWNER_CASES[method](two)
    _a_untouched(two)


def test_sharing_read_only_duplicate_and_unshare(two: _Two) -> None:
    a, b = two.a, two.b
    carol = Workspace(a.path, owner="issuer#carol")
    assert a.share("plan", "BOB@example.com") == ["issuer#bob"]
    assert a.shares("plan") == ["bob@example.com"]
    [rec] = b.list_shared()
    assert (rec.id, rec.name, rec.owner_label, rec.has_results) == (
        two.plan_id,
        "plan",
        "alice@example.com",
        True,
    )
    assert carol.list_shared() == []
    assert b.shared_results(two.plan_id) == RESULTS
    # read-only: B's own name-based methods still do not reach it
    _refused(lambda: b.rename("plan", "x"), "no saved scenario")
    copy = b.duplicate_shared(two.plan_id)
    assert copy == "plan (copy)"
    assert b.names() == ["plan (copy)"]
    assert b.results(copy) == RESULTS
    b.rename(copy, "bob's plan")  # the copy is B's
    assert a.names() == ["plan"]
    assert [r.action for r in a.audit()][-2:] == ["share", "copied"]
    a.unshare("plan", "bob@example.com")
    assert b.list_shared() == []
    _refused(lambda: b.get_shared(two.plan_id), "no scenario with id")
    # everyone signed in
    a.share("plan", store.EVERYONE)
    assert [r.id for r in carol.list_shared()] == [two.plan_id]
    assert a.list_shared() == []  # one's own scenarios are not "shared with me"
    a.delete("plan")
    assert carol.list_shared() == []


def test_share_with_unknown_user_or_self_is_refused(two: _Two) -> None:
    _refused(lambda: two.a.share("plan", "nobody@example.com"), "has signed in")
    _refused(lambda: two.a.share("plan", "alice@example.com"), "has signed in")
    with pytest.raises(StoreError, match="owner must be a non-empty user id"):
        Workspace(two.a.path, owner="*")
    with pytest.raises(StoreError, match="owner must be a non-empty user id"):
        Workspace(two.a.path, owner=" ")


def test_audit_records_every_change_and_is_append_only(ws: Workspace) -> None:
    ws.save("a", "t", RESULTS)
    ws.save("a", "u", overwrite=True)
    ws.rename("a", "b")
    ws.duplicate("b", "c")
    ws.delete("c")
    sid = ws.list_scenarios(trash=True)[0].id
    ws.restore(sid)
    ws.delete("c")
    ws.purge(sid)
    uid = ws.add_upload("sites", "s.csv", b"site_id\n")
    ws.delete_upload(uid)
    rows = ws.audit()
    assert [r.action for r in rows] == [
        "save", "save", "rename", "duplicate", "delete", "restore", "delete", "purge",
        "upload", "delete_upload",
    ]  # fmt: skip
    assert {r.owner for r in rows} == {r.actor for r in rows} == {store.LOCAL_OWNER}
    assert rows[1].detail == "revision 2"
    assert rows[2].detail == "renamed to `b`"
    con = sqlite3.connect(ws.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE audit SET actor = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM audit")
    con.close()
    assert len(ws.audit()) == len(rows)


def test_quota_is_per_user_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite"
    small = Workspace(path, owner="u1", quota_bytes=2_000)
    small.save("a", "x" * 600)
    with pytest.raises(StoreError, match=r"storage quota is full: .* MB used of"):
        small.save("b", "y" * 600)
    with pytest.raises(StoreError, match="quota is full"):
        small.add_upload("farms", "f.csv", b"z" * 1_000)
    assert small.names() == ["a"]
    other = Workspace(path, owner="u2", quota_bytes=2_000)
    other.save("b", "y" * 600)  # another user's usage does not count
    small.delete("a")
    small.purge(small.list_scenarios(trash=True)[0].id)
    assert small.usage_bytes() == 0
    small.save("b", "y" * 600)


def test_default_quota_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(store.QUOTA_ENV_VAR, "1.5")
    assert store.default_quota_bytes() == 1_500_000
    monkeypatch.setenv(store.QUOTA_ENV_VAR, "lots")
    with pytest.raises(StoreError, match="PLANNER_USER_QUOTA_MB must be a number"):
        store.default_quota_bytes()


def test_version_1_workspace_is_migrated_and_rows_become_local(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    con = sqlite3.connect(path, isolation_level=None)
    for statement in _store_base._SCHEMA_V1.split(";\n"):
        if statement.strip():
            con.execute(statement)
    con.execute("PRAGMA user_version = 1")
    con.execute(
        "INSERT INTO scenarios(name, toml, revision, created_at, updated_at) "
        "VALUES ('old plan', 'x = 1', 1, '2025-01-01', '2025-01-01')"
    )
    con.execute(
        "INSERT INTO uploads(kind, filename, sha256, content, created_at) "
        "VALUES ('farms', 'f.csv', 'abc', x'00', '2025-01-01')"
    )
    con.close()
    local = Workspace(path)
    assert local.names() == ["old plan"]
    assert [u.filename for u in local.list_uploads()] == ["f.csv"]
    other = Workspace(path, owner="someone")
    assert other.names() == []
    other.save("old plan", "y = 2")  # names are unique per owner only
    assert local.get("old plan").toml == "x = 1"
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    con.close()
