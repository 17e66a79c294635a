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

import contextlib
import datetime as dt
import hashlib
import os
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from planner.errors import PlannerError

if TYPE_CHECKING:
    from planner.scenarios import Scenario

SCHEMA_VERSION = 2
ENV_VAR = "PLANNER_WORKSPACE"
QUOTA_ENV_VAR = "PLANNER_USER_QUOTA_MB"
DEFAULT_QUOTA_MB = 500
MAX_NAME_LENGTH = 120
UPLOAD_KINDS = ("farms", "sites")
LOCAL_OWNER = "local"
"""Owner of the CLI's and the single-user app's rows (and of rows saved before owners existed)."""
EVERYONE = "*"
"""Share grantee meaning every signed-in user."""
AUDIT_ACTIONS = (
    "save",
    "rename",
    "duplicate",
    "copied",
    "share",
    "unshare",
    "delete",
    "restore",
    "purge",
    "upload",
    "delete_upload",
)

_SCHEMA_V1 = """
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

# Version 2: owners, shares, known users, the audit trail. Existing rows get LOCAL_OWNER.
_MIGRATE_V2 = """
ALTER TABLE scenarios ADD COLUMN owner TEXT NOT NULL DEFAULT 'local';
DROP INDEX IF EXISTS scenarios_live_name;
CREATE UNIQUE INDEX IF NOT EXISTS scenarios_live_owner_name
    ON scenarios(owner, name) WHERE deleted_at IS NULL;
ALTER TABLE uploads ADD COLUMN owner TEXT NOT NULL DEFAULT 'local';
CREATE INDEX IF NOT EXISTS uploads_owner ON uploads(owner, kind);
CREATE TABLE IF NOT EXISTS shares (
    scenario_id INTEGER NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
    grantee     TEXT NOT NULL,
    granted_at  TEXT NOT NULL,
    PRIMARY KEY (scenario_id, grantee)
);
CREATE TABLE IF NOT EXISTS users (
    owner       TEXT PRIMARY KEY,
    email       TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL DEFAULT '',
    seen_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    owner       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    scenario_id INTEGER,
    name        TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_owner ON audit(owner, id);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END
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


@dataclass(frozen=True)
class SharedRecord:
    """A scenario another user shared (read-only) with this workspace's owner.

    Parameters
    ----------
    id
        Database id (what :meth:`Workspace.load_shared` and :meth:`Workspace.duplicate_shared`
        take).
    name
        The owner's name for it.
    owner_label
        The owner's e-mail (or name, or id) as last seen at sign-in.
    toml
        The scenario as TOML text.
    updated_at
        UTC timestamp of its last change (ISO 8601).
    has_results
        Whether solved results are stored with it.
    """

    id: int
    name: str
    owner_label: str
    toml: str
    updated_at: str
    has_results: bool


@dataclass(frozen=True)
class AuditRecord:
    """One row of the append-only audit trail.

    Parameters
    ----------
    at_utc
        UTC timestamp (ISO 8601).
    owner
        Owner of the scenario or upload concerned.
    actor
        Who did it (the owner, or the user who copied a shared scenario).
    action
        One of :data:`AUDIT_ACTIONS`.
    scenario_id
        Scenario or upload id (``None`` when not applicable).
    name
        Scenario or file name at the time.
    detail
        Free text (new name, grantee, revision ...).
    actor_label
        The actor's e-mail (or name) as last seen at sign-in, else the actor's id.
    """

    at_utc: str
    owner: str
    actor: str
    action: str
    scenario_id: int | None
    name: str
    detail: str
    actor_label: str


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


def default_quota_bytes() -> int:
    """Return the per-user storage quota: ``$PLANNER_USER_QUOTA_MB`` or the default, in bytes.

    Returns
    -------
    quota_bytes
        The quota.
    """
    raw = os.environ.get(QUOTA_ENV_VAR, "").strip()
    try:
        mb = float(raw) if raw else float(DEFAULT_QUOTA_MB)
    except ValueError:
        msg = f"${QUOTA_ENV_VAR} must be a number of megabytes, got {raw!r}."
        raise StoreError(msg) from None
    if mb <= 0:
        msg = f"${QUOTA_ENV_VAR} must be positive, got {raw!r}."
        raise StoreError(msg)
    return round(mb * 1_000_000)


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

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        owner: str = LOCAL_OWNER,
        quota_bytes: int | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        if not isinstance(owner, str) or not owner.strip() or owner == EVERYONE:
            msg = f"a workspace owner must be a non-empty user id, got {owner!r}."
            raise StoreError(msg)
        self.path = Path(path) if path is not None else default_path()
        self.owner = owner
        self.quota_bytes = default_quota_bytes() if quota_bytes is None else int(quota_bytes)
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
            try:
                # Another process may have migrated meanwhile: read the version again.
                version = int(con.execute("PRAGMA user_version").fetchone()[0])
                steps = [(1, _SCHEMA_V1), (2, _MIGRATE_V2)]
                for target, script in steps:
                    if version < target:
                        for statement in script.split(";\n"):
                            if statement.strip():
                                con.execute(statement)
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _audit(
        self,
        con: sqlite3.Connection,
        action: str,
        scenario_id: int | None,
        name: str,
        detail: str = "",
        *,
        owner: str | None = None,
    ) -> None:
        con.execute(
            "INSERT INTO audit(at, owner, actor, action, scenario_id, name, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (_now(), owner or self.owner, self.owner, action, scenario_id, name, detail),
        )

    def _usage(self, con: sqlite3.Connection) -> int:
        row = con.execute(
            "SELECT "
            "(SELECT coalesce(sum(length(toml)), 0) FROM scenarios WHERE owner = ?1) + "
            "(SELECT coalesce(sum(length(v.toml)), 0) FROM scenario_revisions v "
            " JOIN scenarios s ON s.id = v.scenario_id WHERE s.owner = ?1) + "
            "(SELECT coalesce(sum(length(r.summary_json) + length(r.sites_csv) + "
            " length(r.assignments_csv) + length(r.farms_csv)), 0) FROM results r "
            " JOIN scenarios s ON s.id = r.scenario_id WHERE s.owner = ?1) + "
            "(SELECT coalesce(sum(length(content)), 0) FROM uploads WHERE owner = ?1)",
            (self.owner,),
        ).fetchone()
        return int(row[0])

    def _check_quota(self, con: sqlite3.Connection, extra_bytes: int) -> None:
        used = self._usage(con)
        if used + extra_bytes > self.quota_bytes:
            msg = (
                f"your storage quota is full: {used / 1e6:,.1f} MB used of "
                f"{self.quota_bytes / 1e6:,.1f} MB, and this needs {extra_bytes / 1e6:,.1f} MB "
                "more. Delete scenarios you no longer need (and empty them from the trash) or "
                "uploaded files, or ask the administrator to raise "
                f"${QUOTA_ENV_VAR}."
            )
            raise StoreError(msg)

    def usage_bytes(self) -> int:
        """Return the bytes this owner's scenarios, revisions, results and uploads take.

        Returns
        -------
        used_bytes
            Stored size (results and uploads as stored, i.e. compressed).
        """
        with self._connect() as con:
            return self._usage(con)

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

    def _id(self, con: sqlite3.Connection, name: str) -> int | None:
        row = con.execute(
            "SELECT id FROM scenarios WHERE owner = ? AND name = ? AND deleted_at IS NULL",
            (self.owner, name),
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
        from planner.scenarios import scenario_to_toml  # noqa: PLC0415

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

    def _free_name(self, con: sqlite3.Connection, name: str, new: str | None) -> str:
        if new is None:
            base, k, new = f"{name} (copy)", 2, f"{name} (copy)"
            while self._id(con, new) is not None:
                new, k = f"{base} {k}", k + 1
        new = _check_name(new)
        if self._id(con, new) is not None:
            msg = f"a scenario named `{new}` already exists; choose another name."
            raise StoreError(msg)
        return new

    def _copy(self, con: sqlite3.Connection, sid: int, new: str) -> int:
        """Copy scenario ``sid`` (any owner's; the caller checked access) into this owner's."""
        now = _now()
        toml = str(con.execute("SELECT toml FROM scenarios WHERE id = ?", (sid,)).fetchone()[0])
        res = con.execute(
            "SELECT coalesce(sum(length(summary_json) + length(sites_csv) + "
            "length(assignments_csv) + length(farms_csv)), 0) FROM results WHERE scenario_id = ?",
            (sid,),
        ).fetchone()
        self._check_quota(con, 2 * len(toml.encode("utf-8")) + int(res[0]))
        cur = con.execute(
            "INSERT INTO scenarios(owner, name, toml, revision, created_at, updated_at) "
            "VALUES (?, ?, ?, 1, ?, ?)",
            (self.owner, new, toml, now, now),
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
        return nid

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

    # -- sharing ---------------------------------------------------------------------------

    def remember_user(self, email: str = "", name: str = "") -> None:
        """Record how this owner is named (at sign-in), so that others can share with them.

        Parameters
        ----------
        email
            The identity provider's ``email`` claim.
        name
            The ``name`` claim.
        """
        with self._write() as con:
            con.execute(
                "INSERT INTO users(owner, email, name, seen_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(owner) DO UPDATE SET email = excluded.email, "
                "name = excluded.name, seen_at = excluded.seen_at",
                (self.owner, email.strip(), name.strip(), _now()),
            )

    def _grantees(self, con: sqlite3.Connection, who: str) -> list[str]:
        who = who.strip()
        if who == EVERYONE:
            return [EVERYONE]
        rows = con.execute(
            "SELECT owner FROM users WHERE (lower(email) = lower(?) AND email != '') "
            "OR owner = ? ORDER BY owner",
            (who, who),
        ).fetchall()
        found = [str(r[0]) for r in rows if str(r[0]) != self.owner]
        if not found:
            msg = (
                f"no other user `{who}` has signed in to the planner yet; they must sign in "
                f"once before you can share with them (or share with `{EVERYONE}`, everyone "
                "signed in)."
            )
            raise StoreError(msg)
        return found

    def share(self, name: str, who: str) -> list[str]:
        """Share one of this owner's scenarios read-only with a user (or :data:`EVERYONE`).

        Parameters
        ----------
        name
            Scenario name.
        who
            The user's e-mail as their identity provider reports it (or their user id), or
            ``"*"`` for everyone signed in.

        Returns
        -------
        grantees
            The user ids (or ``"*"``) now holding read access.
        """
        with self._write() as con:
            sid = self._require(con, name)
            grantees = self._grantees(con, who)
            for g in grantees:
                con.execute(
                    "INSERT OR IGNORE INTO shares(scenario_id, grantee, granted_at) "
                    "VALUES (?, ?, ?)",
                    (sid, g, _now()),
                )
            self._audit(con, "share", sid, name, f"read-only with {who.strip()}")
        return grantees

    def unshare(self, name: str, who: str) -> None:
        """Withdraw a share of one of this owner's scenarios (``who`` as in :meth:`share`)."""
        with self._write() as con:
            sid = self._require(con, name)
            grantees = [EVERYONE] if who.strip() == EVERYONE else self._grantees(con, who)
            for g in grantees:
                con.execute("DELETE FROM shares WHERE scenario_id = ? AND grantee = ?", (sid, g))
            self._audit(con, "unshare", sid, name, f"no longer shared with {who.strip()}")

    def shares(self, name: str) -> list[str]:
        """Return who one of this owner's scenarios is shared with (e-mails, ids or ``"*"``)."""
        with self._connect() as con:
            sid = self._require(con, name)
            rows = con.execute(
                "SELECT CASE WHEN coalesce(u.email, '') != '' THEN u.email ELSE sh.grantee END "
                "FROM shares sh LEFT JOIN users u ON u.owner = sh.grantee "
                "WHERE sh.scenario_id = ? ORDER BY 1",
                (sid,),
            ).fetchall()
        return [str(r[0]) for r in rows]

    _SHARED_SQL = (
        "SELECT s.id, s.name, coalesce(nullif(u.email, ''), nullif(u.name, ''), s.owner), "
        "s.toml, s.updated_at, r.scenario_id IS NOT NULL FROM scenarios s "
        "LEFT JOIN results r ON r.scenario_id = s.id "
        "LEFT JOIN users u ON u.owner = s.owner "
        "WHERE s.deleted_at IS NULL AND s.owner != ?1 AND EXISTS (SELECT 1 FROM shares sh "
        "WHERE sh.scenario_id = s.id AND (sh.grantee = ?1 OR sh.grantee = '*'))"
    )

    def list_shared(self) -> list[SharedRecord]:
        """Return the live scenarios other users shared with this owner, newest first."""
        with self._connect() as con:
            rows = con.execute(
                self._SHARED_SQL + " ORDER BY s.updated_at DESC, s.id DESC", (self.owner,)
            ).fetchall()
        return [SharedRecord(int(r[0]), r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    def get_shared(self, scenario_id: int) -> SharedRecord:
        """Return a scenario shared with this owner by its id.

        Parameters
        ----------
        scenario_id
            Its id (from :meth:`list_shared`).

        Returns
        -------
        record
            The shared scenario.

        Raises
        ------
        StoreError
            When no scenario with that id is shared with this owner (whether it does not
            exist or belongs to someone who did not share it: the message is the same).
        """
        with self._connect() as con:
            row = con.execute(self._SHARED_SQL + " AND s.id = ?2", (self.owner, int(scenario_id)))
            found = row.fetchone()
        if found is None:
            msg = f"no scenario with id {scenario_id} is shared with you."
            raise StoreError(msg)
        return SharedRecord(int(found[0]), found[1], found[2], found[3], found[4], bool(found[5]))

    def load_shared(self, scenario_id: int) -> Scenario:
        """Return a scenario shared with this owner, parsed and validated (read-only copy)."""
        rec = self.get_shared(scenario_id)
        return _parse(rec.toml, rec.name, f"scenario `{rec.name}` shared by {rec.owner_label}")

    def shared_results(self, scenario_id: int) -> StoredResults | None:
        """Return the results stored with a scenario shared with this owner, or ``None``."""
        rec = self.get_shared(scenario_id)
        with self._connect() as con:
            return _results(con, rec.id)

    def duplicate_shared(self, scenario_id: int, new: str | None = None) -> str:
        """Copy a scenario shared with this owner (with its results) into this owner's own.

        Parameters
        ----------
        scenario_id
            The shared scenario's id.
        new
            Name of the copy; ``"<name> (copy)"`` (numbered if taken) when ``None``.

        Returns
        -------
        name
            The copy's name (this owner's scenario from now on).
        """
        rec = self.get_shared(scenario_id)
        with self._write() as con:
            self.get_shared(scenario_id)  # still shared inside the transaction
            new = self._free_name(con, rec.name, new)
            nid = self._copy(con, rec.id, new)
            self._audit(con, "duplicate", nid, new, f"copy of `{rec.name}` by {rec.owner_label}")
            owner = con.execute("SELECT owner FROM scenarios WHERE id = ?", (rec.id,)).fetchone()
            me = con.execute(
                "SELECT coalesce(nullif(email, ''), nullif(name, ''), owner) FROM users "
                "WHERE owner = ?",
                (self.owner,),
            ).fetchone()
            by = self.owner if me is None else str(me[0])
            self._audit(
                con, "copied", rec.id, rec.name, f"copied by {by} as `{new}`", owner=str(owner[0])
            )
        return new

    # -- audit -------------------------------------------------------------------------------

    def audit(self) -> list[AuditRecord]:
        """Return the audit trail of this owner's scenarios and uploads, oldest first."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT a.at, a.owner, a.actor, a.action, a.scenario_id, a.name, a.detail, "
                "coalesce(nullif(u.email, ''), nullif(u.name, ''), a.actor) FROM audit a "
                "LEFT JOIN users u ON u.owner = a.actor WHERE a.owner = ? ORDER BY a.id",
                (self.owner,),
            ).fetchall()
        return [
            AuditRecord(
                r[0], r[1], r[2], r[3], None if r[4] is None else int(r[4]), r[5], r[6], r[7]
            )
            for r in rows
        ]

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


def _parse(toml: str, name: str, source: str) -> Scenario:
    import tomllib  # noqa: PLC0415

    from planner.scenarios import scenario_from_dict  # noqa: PLC0415

    raw = tomllib.loads(toml)
    raw["name"] = name
    return scenario_from_dict(raw, source=source)


def _results(con: sqlite3.Connection, sid: int) -> StoredResults | None:
    row = con.execute(
        "SELECT summary_json, sites_csv, assignments_csv, farms_csv FROM results "
        "WHERE scenario_id = ?",
        (sid,),
    ).fetchone()
    if row is None:
        return None
    return StoredResults(row[0], row[1], _unpack(row[2]), _unpack(row[3]))
