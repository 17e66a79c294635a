"""The resumable store of a robustness run: one SQLite file in the output folder.

Every finished future and every cross-evaluation is written as it completes (one short
transaction each), so a run that stops — a crash, Cancel, a lost worker — keeps its work, and
running again with a larger sample computes only what is missing.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.errors import PlannerError

STORE_FILE = "robust.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS futures (
    sample_id INTEGER PRIMARY KEY, params TEXT NOT NULL, status TEXT NOT NULL,
    objective REAL, bound REAL, gap REAL, cost REAL, cost_bound REAL,
    network_key TEXT, runtime_s REAL NOT NULL, message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS networks (
    network_key TEXT PRIMARY KEY, network TEXT NOT NULL, sites TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS site_info (
    site_id TEXT PRIMARY KEY, name TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS evaluations (
    network_key TEXT NOT NULL, sample_id INTEGER NOT NULL, cost REAL NOT NULL,
    PRIMARY KEY (network_key, sample_id)
);
"""


@dataclass(frozen=True)
class FutureRow:
    """One solved future as stored.

    Parameters
    ----------
    sample_id
        Index of the design point (0-based).
    params
        The uncertain parameters' values by TOML path.
    status
        Solver status.
    objective, bound, gap
        The solver's objective, bound and relative gap (model units).
    cost, cost_bound
        Objective and bound as a cost to minimise (= objective and bound except for
        maximal coverage, where the cost is the demand left uncovered).
    network_key
        Canonical text of the future's own optimal network (empty when unsolved).
    runtime_s
        Seconds of the task (data building, solve and evaluations).
    message
        Solver or error message.
    """

    sample_id: int
    params: Mapping[str, float]
    status: str
    objective: float
    bound: float
    gap: float
    cost: float
    cost_bound: float
    network_key: str
    runtime_s: float
    message: str


def _real(value: float | None) -> float:
    return math.nan if value is None else float(value)


class RobustStore:
    """The SQLite file of one robustness run (opened per operation; safe across restarts).

    Parameters
    ----------
    folder
        The run's output folder (created when missing).
    """

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / STORE_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30.0)) as con, con:
            yield con

    def check_meta(self, meta: Mapping[str, str]) -> None:
        """Record the run's settings, or check they match those already stored.

        Parameters
        ----------
        meta
            Scenario hash, seed, design, time limit.

        Raises
        ------
        PlannerError
            When the folder holds a run with other settings.
        """
        with self._connect() as con:
            stored = dict(con.execute("SELECT key, value FROM meta").fetchall())
            if not stored:
                con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
                return
        differ = [k for k in sorted(meta) if stored.get(k) != meta[k]]
        if differ:
            msg = (
                f"{self.path.parent} holds a robustness run with other settings "
                f"({', '.join(differ)} differ); use another --out folder, or delete "
                f"{self.path} to start again."
            )
            raise PlannerError(msg)

    def add_future(
        self,
        row: FutureRow,
        network: Mapping[str, Any] | None,
        sites: Sequence[str],
        site_info: Sequence[tuple[str, str, float, float]],
        evaluations: Mapping[str, float],
    ) -> None:
        """Store a solved future with its network, site details and evaluations.

        Parameters
        ----------
        row
            The future.
        network
            Its own network (``None`` when unsolved).
        sites
            The network's site ids.
        site_info
            ``(site_id, name, lat, lon)`` of those sites.
        evaluations
            Cost of networks (by key) in this future.
        """
        with self._connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO futures VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.sample_id, json.dumps(dict(row.params), sort_keys=True), row.status,
                    row.objective, row.bound, row.gap, row.cost, row.cost_bound,
                    row.network_key, row.runtime_s, row.message,
                ),
            )  # fmt: skip
            if network is not None:
                con.execute(
                    "INSERT OR IGNORE INTO networks VALUES (?, ?, ?)",
                    (row.network_key, json.dumps(dict(network), sort_keys=True), " ".join(sites)),
                )
            con.executemany("INSERT OR IGNORE INTO site_info VALUES (?, ?, ?, ?)", site_info)
            con.executemany(
                "INSERT OR REPLACE INTO evaluations VALUES (?, ?, ?)",
                [(k, row.sample_id, v) for k, v in evaluations.items()],
            )

    def add_evaluations(self, sample_id: int, evaluations: Mapping[str, float]) -> None:
        """Store the costs of networks (by key) in one future."""
        with self._connect() as con:
            con.executemany(
                "INSERT OR REPLACE INTO evaluations VALUES (?, ?, ?)",
                [(k, sample_id, v) for k, v in evaluations.items()],
            )

    def futures(self) -> dict[int, FutureRow]:
        """Return the stored futures by sample id."""
        with self._connect() as con:
            rows = con.execute("SELECT * FROM futures ORDER BY sample_id").fetchall()
        return {
            int(r[0]): FutureRow(
                int(r[0]),
                json.loads(r[1]),
                str(r[2]),
                _real(r[3]),
                _real(r[4]),
                _real(r[5]),
                _real(r[6]),
                _real(r[7]),
                str(r[8] or ""),
                float(r[9]),
                str(r[10]),
            )
            for r in rows
        }

    def networks(self) -> dict[str, tuple[dict[str, Any], tuple[str, ...]]]:
        """Return the stored networks: key -> (network, site ids)."""
        with self._connect() as con:
            rows = con.execute("SELECT network_key, network, sites FROM networks").fetchall()
        return {str(k): (json.loads(n), tuple(str(s).split())) for k, n, s in rows}

    def evaluations(self) -> dict[tuple[str, int], float]:
        """Return every stored cost: (network key, sample id) -> cost."""
        with self._connect() as con:
            rows = con.execute("SELECT network_key, sample_id, cost FROM evaluations").fetchall()
        return {(str(k), int(s)): float(c) for k, s, c in rows}

    def site_info(self) -> dict[str, tuple[str, float, float]]:
        """Return site id -> (name, lat, lon) of every site seen in a network."""
        with self._connect() as con:
            rows = con.execute("SELECT site_id, name, lat, lon FROM site_info").fetchall()
        return {str(i): (str(n), float(a), float(o)) for i, n, a, o in rows}

    def delete_futures(self, sample_ids: Sequence[int]) -> None:
        """Forget futures (and their evaluations) whose parameters no longer match."""
        with self._connect() as con:
            con.executemany("DELETE FROM futures WHERE sample_id = ?", [(i,) for i in sample_ids])
            con.executemany(
                "DELETE FROM evaluations WHERE sample_id = ?", [(i,) for i in sample_ids]
            )
