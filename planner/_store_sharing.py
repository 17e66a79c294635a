"""Read-only sharing between owners, the users directory and the audit trail of a workspace.

Part of :class:`planner.store.Workspace` (split out to keep each module small): another owner's
scenario is reachable only when shared with this owner, read-only, never by name or id.
"""

from __future__ import annotations

import sqlite3

from planner._store_base import (
    EVERYONE,
    AuditRecord,
    SharedRecord,
    StoredResults,
    StoreError,
    _now,
    _parse,
    _results,
    _WorkspaceBase,
)
from planner.scenarios import Scenario


class _SharingWorkspace(_WorkspaceBase):
    """Sharing, shared-with-me, the users directory and the audit trail."""

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
