"""The workspace: saved scenarios, their results and uploaded files in one SQLite database.

The app (and anyone else) keeps a user's work here so that it survives page reloads and server
restarts. Design rules:

* Only the standard library's :mod:`sqlite3`: WAL journal, ``synchronous=FULL``, every write in
  one ``BEGIN IMMEDIATE`` transaction, so a process killed in the middle of a save leaves the
  previous state intact (SQLite rolls the half-written transaction back on the next open).
* Plain data only -- scenarios as TOML text, results as JSON and CSV text (large CSVs zlib
  compressed), uploads as the user's file bytes. Nothing is pickled.
* One connection per call (``check_same_thread`` is never relaxed), so one :class:`Workspace`
  object can be used from several threads and several processes at once.
* Nothing a user saved is lost silently: saving under an existing name fails unless
  ``overwrite=True``, every overwrite keeps the previous revision, renaming onto an existing
  name fails, and deleting moves a scenario to the trash (:meth:`Workspace.restore`).
* The schema is versioned with ``PRAGMA user_version``; a database from a newer planner is
  refused with an upgrade hint instead of being modified.

The location is ``$PLANNER_WORKSPACE`` or ``~/.kz-planner/workspace.sqlite``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import sqlite3
import tomllib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from planner.errors import PlannerError
from planner.scenarios import Scenario, scenario_from_dict, scenario_to_toml

SCHEMA_VERSION = 1
ENV_VAR = "PLANNER_WORKSPACE"
MAX_NAME_LENGTH = 120
UPLOAD_KINDS = ("farms", "sites")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    toml        TEXT NOT NULL,
    revision    INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS scenarios_live_name
    ON scenarios(name) WHERE deleted_at IS NULL;
CREATE TABLE IF NOT EXISTS scenario_revisions (
    scenario_id INTEGER NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
    revision    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    toml        TEXT NOT NULL,
    saved_at    TEXT NOT NULL,
    PRIMARY KEY (scenario_id, revision)
);
CREATE TABLE IF NOT EXISTS results (
    scenario_id     INTEGER PRIMARY KEY REFERENCES scenarios(id) ON DELETE CASCADE,
    summary_json    TEXT NOT NULL,
    sites_csv       TEXT NOT NULL,
    assignments_csv BLOB NOT NULL,
    farms_csv       BLOB NOT NULL,
    saved_at        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS uploads (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    filename    TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    content     BLOB NOT NULL,
    report      TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);
"""


class StoreError(PlannerError):
    """The workspace cannot do what was asked (name taken, not found, newer schema, ...)."""


@dataclass(frozen=True)
class ScenarioRecord:
    """One saved scenario as listed by :meth:`Workspace.list_scenarios`.

    Parameters
    ----------
    id
        Database id (stable across renames).
    name
        Unique name among live scenarios.
    toml
        The scenario as TOML text (:func:`planner.scenarios.scenario_to_toml`).
    revision
        Number of times it was saved.
    created_at, updated_at
        UTC timestamps (ISO 8601).
    has_results
        Whether solved results are stored with it.
    """

    id: int
    name: str
    toml: str
    revision: int
    created_at: str
    updated_at: str
    has_results: bool


@dataclass(frozen=True)
class StoredResults:
    """Solved results as plain text, ready to be written to or read from the workspace.

    Parameters
    ----------
    summary_json
        ``summary.json`` content.
    sites_csv
        ``sites.csv`` content.
    assignments_csv
        ``assignments.csv`` content.
    farms_csv
        Farm coordinates and attributes needed to redraw maps and exports (farm_id, lon,
        lat, oblast_iso, demand ...).
    """

    summary_json: str
    sites_csv: str
    assignments_csv: str
    farms_csv: str


@dataclass(frozen=True)
class UploadRecord:
    """An uploaded data file kept in the workspace."""

    id: int
    kind: str
    filename: str
    sha256: str
    size: int
    report: str
    created_at: str


def default_path() -> Path:
    """Return the workspace location: ``$PLANNER_WORKSPACE`` or ``~/.kz-planner/...``.

    Returns
    -------
    path
        The SQLite file (it may not exist yet).
    """
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return Path.home() / ".kz-planner" / "workspace.sqlite"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _check_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean:
        msg = "a scenario name must not be empty; type a name."
        raise StoreError(msg)
    if len(clean) > MAX_NAME_LENGTH:
        msg = f"a scenario name must be at most {MAX_NAME_LENGTH} characters, got {len(clean)}."
        raise StoreError(msg)
    return clean


def _pack(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 6)


def _unpack(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


class Workspace:
    """A workspace database (created on first use).

    Parameters
    ----------
    path
        SQLite file; ``None`` uses :func:`default_path`.
    timeout_s
        How long a writer waits for another writer before giving up.
    """

    def __init__(self, path: str | Path | None = None, *, timeout_s: float = 30.0) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.timeout_s = timeout_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._init_schema()

    # -- connections ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        except sqlite3.Error as exc:
            msg = f"cannot open the workspace {self.path}: {exc}. Check the path and permissions."
            raise StoreError(msg) from None
        try:
            try:
                con.execute("PRAGMA foreign_keys = ON")
                con.execute("PRAGMA synchronous = FULL")
            except sqlite3.DatabaseError as exc:
                msg = (
                    f"{self.path} is not a planner workspace ({exc}); choose another file "
                    f"with ${ENV_VAR}."
                )
                raise StoreError(msg) from None
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed as a whole or not at all."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _init_schema(self) -> None:
        with self._connect() as con:
            try:
                con.execute("PRAGMA journal_mode = WAL")
            except sqlite3.DatabaseError as exc:
                msg = (
                    f"{self.path} is not a planner workspace ({exc}); choose another file with "
                    f"${ENV_VAR}."
                )
                raise StoreError(msg) from None
            version = int(con.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                msg = (
                    f"the workspace {self.path} was written by a newer planner (schema "
                    f"{version}, this one reads {SCHEMA_VERSION}); upgrade the planner."
                )
                raise StoreError(msg)
            if version == SCHEMA_VERSION:
                return
            con.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            con.execute("COMMIT")

    # -- scenarios -----------------------------------------------------------------------

    def list_scenarios(self, *, trash: bool = False) -> list[ScenarioRecord]:
        """Return the saved scenarios (or those in the trash), most recently saved first.

        Parameters
        ----------
        trash
            List deleted scenarios instead of live ones.

        Returns
        -------
        records
            One record per scenario.
        """
        with self._connect() as con:
            rows = con.execute(
                "SELECT s.id, s.name, s.toml, s.revision, s.created_at, s.updated_at, "
                "r.scenario_id IS NOT NULL FROM scenarios s "
                "LEFT JOIN results r ON r.scenario_id = s.id "
                "WHERE (s.deleted_at IS NOT NULL) = ? ORDER BY s.updated_at DESC, s.id DESC",
                (int(trash),),
            ).fetchall()
        return [
            ScenarioRecord(int(r[0]), r[1], r[2], int(r[3]), r[4], r[5], bool(r[6])) for r in rows
        ]

    def names(self) -> list[str]:
        """Return the names of the live scenarios, sorted."""
        return sorted(r.name for r in self.list_scenarios())

    def _id(self, con: sqlite3.Connection, name: str) -> int | None:
        row = con.execute(
            "SELECT id FROM scenarios WHERE name = ? AND deleted_at IS NULL", (name,)
        ).fetchone()
        return None if row is None else int(row[0])

    def _require(self, con: sqlite3.Connection, name: str) -> int:
        sid = self._id(con, name)
        if sid is None:
            msg = f"no saved scenario named `{name}`; it may have been renamed or deleted."
            raise StoreError(msg)
        return sid

    def save(
        self,
        name: str,
        toml: str,
        results: StoredResults | None = None,
        *,
        overwrite: bool = False,
    ) -> int:
        """Save a scenario (TOML text) and optionally its results in one transaction.

        Parameters
        ----------
        name
            Unique name (whitespace is normalised).
        toml
            Scenario TOML text.
        results
            Solved results to keep with it; ``None`` removes stale results on overwrite.
        overwrite
            Replace a live scenario of the same name (its previous revision is kept).

        Returns
        -------
        id
            The scenario's database id.

        Raises
        ------
        StoreError
            When the name is taken and ``overwrite`` is false.
        """
        name = _check_name(name)
        now = _now()
        with self._write() as con:
            sid = self._id(con, name)
            if sid is not None and not overwrite:
                msg = (
                    f"a scenario named `{name}` is already saved; choose another name or "
                    "confirm overwriting it (the old version is kept as a revision)."
                )
                raise StoreError(msg)
            if sid is None:
                cur = con.execute(
                    "INSERT INTO scenarios(name, toml, revision, created_at, updated_at) "
                    "VALUES (?, ?, 1, ?, ?)",
                    (name, toml, now, now),
                )
                sid = int(cur.lastrowid or 0)
                revision = 1
            else:
                revision = int(
                    con.execute("SELECT revision FROM scenarios WHERE id = ?", (sid,)).fetchone()[0]
                )
                revision += 1
                con.execute(
                    "UPDATE scenarios SET toml = ?, revision = ?, updated_at = ? WHERE id = ?",
                    (toml, revision, now, sid),
                )
            con.execute(
                "INSERT INTO scenario_revisions(scenario_id, revision, name, toml, saved_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (sid, revision, name, toml, now),
            )
            con.execute("DELETE FROM results WHERE scenario_id = ?", (sid,))
            if results is not None:
                con.execute(
                    "INSERT INTO results(scenario_id, summary_json, sites_csv, assignments_csv, "
                    "farms_csv, saved_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        sid,
                        results.summary_json,
                        results.sites_csv,
                        _pack(results.assignments_csv),
                        _pack(results.farms_csv),
                        now,
                    ),
                )
        return sid

    def save_scenario(
        self,
        scenario: Scenario,
        results: StoredResults | None = None,
        *,
        name: str | None = None,
        overwrite: bool = False,
    ) -> int:
        """Save a :class:`~planner.scenarios.Scenario` (see :meth:`save`).

        Parameters
        ----------
        scenario
            The scenario.
        results
            Its results, if solved.
        name
            Name to save under; the scenario's own name when ``None``.
        overwrite
            Replace a scenario of the same name.

        Returns
        -------
        id
            Database id.
        """
        return self.save(
            name or scenario.name, scenario_to_toml(scenario), results, overwrite=overwrite
        )

    def get(self, name: str) -> ScenarioRecord:
        """Return a live scenario by name.

        Parameters
        ----------
        name
            Its name.

        Returns
        -------
        record
            The stored record.
        """
        for rec in self.list_scenarios():
            if rec.name == name:
                return rec
        msg = f"no saved scenario named `{name}`; it may have been renamed or deleted."
        raise StoreError(msg)

    def load_scenario(self, name: str) -> Scenario:
        """Return a saved scenario parsed and validated.

        Parameters
        ----------
        name
            Its name.

        Returns
        -------
        scenario
            The scenario (named as saved).
        """
        rec = self.get(name)
        raw = tomllib.loads(rec.toml)
        raw["name"] = rec.name
        return scenario_from_dict(raw, source=f"saved scenario `{rec.name}`")

    def results(self, name: str) -> StoredResults | None:
        """Return the results saved with a scenario, or ``None``.

        Parameters
        ----------
        name
            Scenario name.

        Returns
        -------
        results
            The stored text tables.
        """
        with self._connect() as con:
            sid = self._require(con, name)
            row = con.execute(
                "SELECT summary_json, sites_csv, assignments_csv, farms_csv FROM results "
                "WHERE scenario_id = ?",
                (sid,),
            ).fetchone()
        if row is None:
            return None
        return StoredResults(row[0], row[1], _unpack(row[2]), _unpack(row[3]))

    def revisions(self, name: str) -> list[tuple[int, str, str]]:
        """Return ``(revision, saved_at, toml)`` of every save of a scenario, newest first."""
        with self._connect() as con:
            sid = self._require(con, name)
            rows = con.execute(
                "SELECT revision, saved_at, toml FROM scenario_revisions WHERE scenario_id = ? "
                "ORDER BY revision DESC",
                (sid,),
            ).fetchall()
        return [(int(r[0]), r[1], r[2]) for r in rows]

    def rename(self, old: str, new: str) -> None:
        """Rename a scenario; fails if ``new`` is taken.

        Parameters
        ----------
        old
            Current name.
        new
            New name.
        """
        new = _check_name(new)
        with self._write() as con:
            sid = self._require(con, old)
            if new != old and self._id(con, new) is not None:
                msg = f"a scenario named `{new}` already exists; choose another name."
                raise StoreError(msg)
            con.execute(
                "UPDATE scenarios SET name = ?, updated_at = ? WHERE id = ?", (new, _now(), sid)
            )

    def duplicate(self, name: str, new: str | None = None) -> str:
        """Copy a scenario (with its results) under a new name.

        Parameters
        ----------
        name
            Scenario to copy.
        new
            Name of the copy; ``"<name> (copy)"`` (numbered if taken) when ``None``.

        Returns
        -------
        name
            The copy's name.
        """
        with self._write() as con:
            sid = self._require(con, name)
            if new is None:
                base, k, new = f"{name} (copy)", 2, f"{name} (copy)"
                while self._id(con, new) is not None:
                    new, k = f"{base} {k}", k + 1
            new = _check_name(new)
            if self._id(con, new) is not None:
                msg = f"a scenario named `{new}` already exists; choose another name."
                raise StoreError(msg)
            now = _now()
            toml = con.execute("SELECT toml FROM scenarios WHERE id = ?", (sid,)).fetchone()[0]
            cur = con.execute(
                "INSERT INTO scenarios(name, toml, revision, created_at, updated_at) "
                "VALUES (?, ?, 1, ?, ?)",
                (new, toml, now, now),
            )
            nid = int(cur.lastrowid or 0)
            con.execute(
                "INSERT INTO scenario_revisions(scenario_id, revision, name, toml, saved_at) "
                "VALUES (?, 1, ?, ?, ?)",
                (nid, new, toml, now),
            )
            con.execute(
                "INSERT INTO results(scenario_id, summary_json, sites_csv, assignments_csv, "
                "farms_csv, saved_at) SELECT ?, summary_json, sites_csv, assignments_csv, "
                "farms_csv, ? FROM results WHERE scenario_id = ?",
                (nid, now, sid),
            )
        return new

    def delete(self, name: str) -> None:
        """Move a scenario to the trash (:meth:`restore` brings it back, :meth:`purge` ends it).

        Parameters
        ----------
        name
            Scenario name.
        """
        with self._write() as con:
            sid = self._require(con, name)
            con.execute("UPDATE scenarios SET deleted_at = ? WHERE id = ?", (_now(), sid))

    def restore(self, scenario_id: int) -> str:
        """Bring a scenario back from the trash (renamed if its name was taken meanwhile).

        Parameters
        ----------
        scenario_id
            Its id (from ``list_scenarios(trash=True)``).

        Returns
        -------
        name
            Its live name.
        """
        with self._write() as con:
            row = con.execute(
                "SELECT name FROM scenarios WHERE id = ? AND deleted_at IS NOT NULL",
                (scenario_id,),
            ).fetchone()
            if row is None:
                msg = f"scenario id {scenario_id} is not in the trash."
                raise StoreError(msg)
            name, k = str(row[0]), 2
            base = name
            while self._id(con, name) is not None:
                name, k = f"{base} (restored {k})", k + 1
            con.execute(
                "UPDATE scenarios SET deleted_at = NULL, name = ?, updated_at = ? WHERE id = ?",
                (name, _now(), scenario_id),
            )
        return name

    def purge(self, scenario_id: int) -> None:
        """Delete a scenario in the trash for good (with its revisions and results)."""
        with self._write() as con:
            con.execute(
                "DELETE FROM scenarios WHERE id = ? AND deleted_at IS NOT NULL", (scenario_id,)
            )

    # -- uploads ---------------------------------------------------------------------------

    def add_upload(self, kind: str, filename: str, content: bytes, report: str = "") -> int:
        """Keep an uploaded data file (same bytes and kind are stored once).

        Parameters
        ----------
        kind
            ``"farms"`` or ``"sites"``.
        filename
            The user's file name (only its suffix is used on disk).
        content
            The file's bytes.
        report
            The validation report shown to the user.

        Returns
        -------
        id
            Upload id.
        """
        if kind not in UPLOAD_KINDS:
            msg = f"upload kind must be one of {UPLOAD_KINDS}, got {kind!r}."
            raise StoreError(msg)
        digest = hashlib.sha256(content).hexdigest()
        with self._write() as con:
            row = con.execute(
                "SELECT id FROM uploads WHERE kind = ? AND sha256 = ?", (kind, digest)
            ).fetchone()
            if row is not None:
                return int(row[0])
            cur = con.execute(
                "INSERT INTO uploads(kind, filename, sha256, content, report, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (kind, filename, digest, content, report, _now()),
            )
            return int(cur.lastrowid or 0)

    def list_uploads(self, kind: str | None = None) -> list[UploadRecord]:
        """Return the uploaded files (newest first), optionally of one kind."""
        query = (
            "SELECT id, kind, filename, sha256, length(content), report, created_at FROM uploads"
        )
        args: tuple[str, ...] = ()
        if kind is not None:
            query += " WHERE kind = ?"
            args = (kind,)
        with self._connect() as con:
            rows = con.execute(query + " ORDER BY id DESC", args).fetchall()
        return [UploadRecord(int(r[0]), r[1], r[2], r[3], int(r[4]), r[5], r[6]) for r in rows]

    def upload_path(self, upload_id: int) -> Path:
        """Return a file on disk holding an upload's bytes (re-created if missing).

        The file lives in ``<workspace>.files/`` and is named by its checksum, so a scenario
        that refers to it keeps working after a restart.

        Parameters
        ----------
        upload_id
            Upload id.

        Returns
        -------
        path
            Absolute path of the file.
        """
        with self._connect() as con:
            row = con.execute(
                "SELECT filename, sha256, content FROM uploads WHERE id = ?", (upload_id,)
            ).fetchone()
        if row is None:
            msg = f"no uploaded file with id {upload_id}."
            raise StoreError(msg)
        suffix = Path(str(row[0])).suffix.lower()
        suffix = suffix if suffix.isascii() and suffix[1:].isalnum() else ".bin"
        folder = self.files_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{row[1]}{suffix}"
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != row[1]:
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_bytes(bytes(row[2]))
            tmp.replace(path)
        return path.resolve()

    def files_dir(self) -> Path:
        """Folder next to the database where uploads are materialised."""
        return self.path.with_name(self.path.name + ".files")

    def delete_upload(self, upload_id: int) -> None:
        """Remove an uploaded file from the workspace."""
        with self._write() as con:
            con.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))

    def integrity_check(self) -> str:
        """Return SQLite's ``PRAGMA integrity_check`` answer (``"ok"`` when healthy)."""
        with self._connect() as con:
            return str(con.execute("PRAGMA integrity_check").fetchone()[0])
