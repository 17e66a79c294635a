"""Workspace internals: records, schema, connections, quota and the audit helper.

Split from :mod:`planner.store` (which re-exports every public name here): the records and
constants, and :class:`_WorkspaceBase`, the connection, schema, quota and audit machinery that
the scenario, upload and sharing methods build on. See :mod:`planner.store` for the design rules.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import tomllib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from planner.errors import PlannerError
from planner.scenarios import Scenario, scenario_from_dict

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


class _WorkspaceBase:
    """Connections, schema, quota and audit of one owner's workspace view (no public API)."""

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


def _parse(toml: str, name: str, source: str) -> Scenario:

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
