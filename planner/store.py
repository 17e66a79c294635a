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
  refused with an upgrade hint instead of being modified, an older one is migrated in place
  (rows saved before owners existed belong to :data:`LOCAL_OWNER`).
* Every row has an owner. A :class:`Workspace` object is bound to one owner (the signed-in
  user's id in the app, :data:`LOCAL_OWNER` for the CLI and single-user mode) and every method
  reads and changes that owner's rows only; other owners' scenarios are reachable only when
  shared with this owner (read-only: :meth:`Workspace.list_shared`, :meth:`Workspace.load_shared`,
  :meth:`Workspace.duplicate_shared`), never by name or id. A refused id reads exactly like a
  missing one.
* An append-only ``audit`` table (triggers refuse UPDATE and DELETE) records who saved,
  renamed, duplicated, shared, deleted, restored or purged what, and when.
* Each owner has a storage quota (``$PLANNER_USER_QUOTA_MB``, default
  :data:`DEFAULT_QUOTA_MB`); a save or upload that would exceed it is refused.

The location is ``$PLANNER_WORKSPACE`` or ``~/.kz-planner/workspace.sqlite``.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

from planner._store_base import (
    AUDIT_ACTIONS,
    DEFAULT_QUOTA_MB,
    ENV_VAR,
    EVERYONE,
    LOCAL_OWNER,
    MAX_NAME_LENGTH,
    QUOTA_ENV_VAR,
    SCHEMA_VERSION,
    UPLOAD_KINDS,
    AuditRecord,
    ScenarioRecord,
    SharedRecord,
    StoredResults,
    StoreError,
    UploadRecord,
    _check_name,
    _now,
    _pack,
    _parse,
    _results,
    default_path,
    default_quota_bytes,
)
from planner._store_sharing import _SharingWorkspace
from planner.scenarios import Scenario, scenario_to_toml

__all__ = [
    "AUDIT_ACTIONS",
    "DEFAULT_QUOTA_MB",
    "ENV_VAR",
    "EVERYONE",
    "LOCAL_OWNER",
    "MAX_NAME_LENGTH",
    "QUOTA_ENV_VAR",
    "SCHEMA_VERSION",
    "UPLOAD_KINDS",
    "AuditRecord",
    "ScenarioRecord",
    "SharedRecord",
    "StoreError",
    "StoredResults",
    "UploadRecord",
    "Workspace",
    "default_path",
    "default_quota_bytes",
]


class Workspace(_SharingWorkspace):
    """One owner's view of a workspace database (created on first use).

    Parameters
    ----------
    path
        SQLite file; ``None`` uses :func:`default_path`.
    owner
        Whose rows this object reads and changes: the signed-in user's id in the app,
        :data:`LOCAL_OWNER` for the CLI and the single-user app.
    quota_bytes
        Storage quota of the owner; ``None`` uses :func:`default_quota_bytes`.
    timeout_s
        How long a writer waits for another writer before giving up.
    """

    # -- scenarios -----------------------------------------------------------------------

    def list_scenarios(self, *, trash: bool = False) -> list[ScenarioRecord]:
        """Return this owner's saved scenarios (or those in the trash), newest first.

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
                "WHERE s.owner = ? AND (s.deleted_at IS NOT NULL) = ? "
                "ORDER BY s.updated_at DESC, s.id DESC",
                (self.owner, int(trash)),
            ).fetchall()
        return [
            ScenarioRecord(int(r[0]), r[1], r[2], int(r[3]), r[4], r[5], bool(r[6])) for r in rows
        ]

    def names(self) -> list[str]:
        """Return the names of this owner's live scenarios, sorted."""
        return sorted(r.name for r in self.list_scenarios())

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
            Unique name among this owner's scenarios (whitespace is normalised).
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
            When the name is taken and ``overwrite`` is false, or the quota would be exceeded.
        """
        name = _check_name(name)
        now = _now()
        packed = None
        if results is not None:
            packed = (_pack(results.assignments_csv), _pack(results.farms_csv))
        size = 2 * len(toml.encode("utf-8"))
        if results is not None and packed is not None:
            size += len(results.summary_json.encode("utf-8"))
            size += len(results.sites_csv.encode("utf-8")) + len(packed[0]) + len(packed[1])
        with self._write() as con:
            sid = self._id(con, name)
            if sid is not None and not overwrite:
                msg = (
                    f"a scenario named `{name}` is already saved; choose another name or "
                    "confirm overwriting it (the old version is kept as a revision)."
                )
                raise StoreError(msg)
            self._check_quota(con, size)
            if sid is None:
                cur = con.execute(
                    "INSERT INTO scenarios(owner, name, toml, revision, created_at, updated_at) "
                    "VALUES (?, ?, ?, 1, ?, ?)",
                    (self.owner, name, toml, now, now),
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
            if results is not None and packed is not None:
                con.execute(
                    "INSERT INTO results(scenario_id, summary_json, sites_csv, assignments_csv, "
                    "farms_csv, saved_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (sid, results.summary_json, results.sites_csv, packed[0], packed[1], now),
                )
            detail = f"revision {revision}" + (" with results" if results is not None else "")
            self._audit(con, "save", sid, name, detail)
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
        """Return one of this owner's live scenarios by name.

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
        """Return one of this owner's saved scenarios parsed and validated.

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
        return _parse(rec.toml, rec.name, f"saved scenario `{rec.name}`")

    def results(self, name: str) -> StoredResults | None:
        """Return the results saved with one of this owner's scenarios, or ``None``.

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
            return _results(con, sid)

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
        """Rename one of this owner's scenarios; fails if ``new`` is taken.

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
            self._audit(con, "rename", sid, old, f"renamed to `{new}`")

    def duplicate(self, name: str, new: str | None = None) -> str:
        """Copy one of this owner's scenarios (with its results) under a new name.

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
            new = self._free_name(con, name, new)
            nid = self._copy(con, sid, new)
            self._audit(con, "duplicate", nid, new, f"copy of `{name}`")
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
            self._audit(con, "delete", sid, name, "moved to the trash")

    def _trashed(self, con: sqlite3.Connection, scenario_id: int) -> str:
        row = con.execute(
            "SELECT name FROM scenarios WHERE id = ? AND owner = ? AND deleted_at IS NOT NULL",
            (int(scenario_id), self.owner),
        ).fetchone()
        if row is None:
            msg = f"scenario id {scenario_id} is not in your trash."
            raise StoreError(msg)
        return str(row[0])

    def restore(self, scenario_id: int) -> str:
        """Bring a scenario back from this owner's trash (renamed if its name was taken).

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
            name = base = self._trashed(con, scenario_id)
            k = 2
            while self._id(con, name) is not None:
                name, k = f"{base} (restored {k})", k + 1
            con.execute(
                "UPDATE scenarios SET deleted_at = NULL, name = ?, updated_at = ? WHERE id = ?",
                (name, _now(), scenario_id),
            )
            self._audit(con, "restore", int(scenario_id), name, f"restored as `{name}`")
        return name

    def purge(self, scenario_id: int) -> None:
        """Delete a scenario in this owner's trash for good (with its revisions and results)."""
        with self._write() as con:
            name = self._trashed(con, scenario_id)
            con.execute("DELETE FROM scenarios WHERE id = ?", (int(scenario_id),))
            self._audit(con, "purge", int(scenario_id), name, "deleted for good")

    # -- uploads ---------------------------------------------------------------------------

    def add_upload(self, kind: str, filename: str, content: bytes, report: str = "") -> int:
        """Keep an uploaded data file for this owner (same bytes and kind are stored once).

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
                "SELECT id FROM uploads WHERE owner = ? AND kind = ? AND sha256 = ?",
                (self.owner, kind, digest),
            ).fetchone()
            if row is not None:
                return int(row[0])
            self._check_quota(con, len(content))
            cur = con.execute(
                "INSERT INTO uploads(owner, kind, filename, sha256, content, report, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.owner, kind, filename, digest, content, report, _now()),
            )
            uid = int(cur.lastrowid or 0)
            self._audit(con, "upload", uid, filename, f"{kind}, {len(content)} bytes")
            return uid

    def list_uploads(self, kind: str | None = None) -> list[UploadRecord]:
        """Return this owner's uploaded files (newest first), optionally of one kind."""
        query = (
            "SELECT id, kind, filename, sha256, length(content), report, created_at FROM uploads "
            "WHERE owner = ?"
        )
        args: tuple[str, ...] = (self.owner,)
        if kind is not None:
            query += " AND kind = ?"
            args = (self.owner, kind)
        with self._connect() as con:
            rows = con.execute(query + " ORDER BY id DESC", args).fetchall()
        return [UploadRecord(int(r[0]), r[1], r[2], r[3], int(r[4]), r[5], r[6]) for r in rows]

    def upload_path(self, upload_id: int) -> Path:
        """Return a file on disk holding one of this owner's uploads (re-created if missing).

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
                "SELECT filename, sha256, content FROM uploads WHERE id = ? AND owner = ?",
                (int(upload_id), self.owner),
            ).fetchone()
        if row is None:
            msg = f"you have no uploaded file with id {upload_id}."
            raise StoreError(msg)
        suffix = Path(str(row[0])).suffix.lower()
        suffix = suffix if suffix.isascii() and suffix[1:].isalnum() else ".bin"
        folder = self.files_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{row[1]}{suffix}"
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != row[1]:
            tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
            tmp.write_bytes(bytes(row[2]))
            tmp.replace(path)
        return path.resolve()

    def files_dir(self) -> Path:
        """Folder next to the database where uploads are materialised (no user data read)."""
        return self.path.with_name(self.path.name + ".files")

    def delete_upload(self, upload_id: int) -> None:
        """Remove one of this owner's uploaded files from the workspace."""
        with self._write() as con:
            row = con.execute(
                "SELECT filename FROM uploads WHERE id = ? AND owner = ?",
                (int(upload_id), self.owner),
            ).fetchone()
            if row is None:
                msg = f"you have no uploaded file with id {upload_id}."
                raise StoreError(msg)
            con.execute("DELETE FROM uploads WHERE id = ?", (int(upload_id),))
            self._audit(con, "delete_upload", int(upload_id), str(row[0]), "removed")

    def integrity_check(self) -> str:
        """Return SQLite's ``PRAGMA integrity_check`` answer (no user data read)."""
        with self._connect() as con:
            return str(con.execute("PRAGMA integrity_check").fetchone()[0])
