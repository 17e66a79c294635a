"""OR-Library benchmarks: the p-median reader, the common runner and the JSON writer.

p-median files (``pmedK.txt``, Beasley 1985) hold ``n m p`` and then ``m`` undirected
edges ``i j c``. The distance matrix follows OR-Library's rule (``pmedinfo``, credited to
Avella): start from c(i, j) = inf, c(i, i) = 0, set c(i, j) = c(j, i) = k for each edge line
**in turn** (so a repeated pair keeps its LAST cost), then take all-pairs shortest paths.
Every vertex is a demand point of weight 1 and a candidate site.

Warehouse-location families (``cap``/``uncap``) are delegated lazily to
:func:`planner.bench.orlib_cap.run_cap_instance`.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from planner.bench.capacitated import (
    CAPACITATED_FAMILIES,
    PUBLISHED_TOLERANCE,
    CpmpInstance,
    find_instance,
    read_capacitated,
    run_capacitated_instance,
)
from planner.bench.orlib_cap import run_cap_instance
from planner.errors import ValidationError
from planner.models._base import CostMatrix, FloatArray, SolveOptions, Status
from planner.models.pmedian import PMedian

Family = Literal["pmed", "cap", "uncap", "cpmp", "sscflp"]
FAMILIES: tuple[Family, ...] = ("pmed", "cap", "uncap", "cpmp", "sscflp")
_SHOW = 5  # missing instance names listed in an error
CAP_TOLERANCE = 1e-3  # absolute; OR-Library prints cap optima with 3 decimals


@dataclass(frozen=True, eq=False)
class PMedInstance:
    """One OR-Library p-median instance.

    Parameters
    ----------
    name
        File stem (``"pmed1"``).
    n
        Number of vertices (demand points and candidate sites).
    p
        Number of medians.
    distance
        ``n x n`` shortest-path distances.
    """

    name: str
    n: int
    p: int
    distance: FloatArray

    @property
    def costs(self) -> CostMatrix:
        """The distances as a (complete) cost structure."""
        return CostMatrix.from_dense(self.distance, unit="cost")


@dataclass(frozen=True)
class PublishedOptimum:
    """One row of ``optimal_values.csv``.

    Parameters
    ----------
    instance
        Instance name (``pmed7``, ``capa_8000``).
    family
        ``pmed``, ``cap`` or ``uncap``.
    value
        Published optimal value.
    p
        Number of medians (``pmed`` only).
    """

    instance: str
    family: str
    value: float
    p: int | None


def load_pmed(path: Path) -> PMedInstance:
    """Read a ``pmedK.txt`` file and build its shortest-path distance matrix.

    Parameters
    ----------
    path
        The instance file.

    Returns
    -------
    instance
        Name, sizes and distances (last occurrence of a repeated edge wins).
    """
    tokens = path.read_text().split()
    try:
        n, m, p = (int(t) for t in tokens[:3])
        edges = np.asarray(tokens[3 : 3 + 3 * m], dtype=np.int64).reshape(m, 3)
    except ValueError as exc:
        msg = f"{path.name}: not a p-median file (`n m p` then `m` lines `i j c`): {exc}"
        raise ValidationError(msg, source=str(path)) from exc
    if len(edges) != m:
        msg = f"{path.name}: header promises {m} edges, file has {len(edges)}."
        raise ValidationError(msg, source=str(path))
    i, j, c = edges[:, 0] - 1, edges[:, 1] - 1, edges[:, 2].astype(np.float64)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    key = lo * n + hi
    # Keep the LAST occurrence of each undirected pair: unique on the reversed list.
    _, last_rev = np.unique(key[::-1], return_index=True)
    last = len(key) - 1 - last_rev
    lo, hi, c = lo[last], hi[last], c[last]
    graph = csr_matrix(
        (np.concatenate([c, c]), (np.concatenate([lo, hi]), np.concatenate([hi, lo]))),
        shape=(n, n),
    )
    dist = shortest_path(graph, method="D", directed=False)
    if not np.isfinite(dist).all():
        msg = f"{path.name}: the graph is not connected."
        raise ValidationError(msg, source=str(path))
    return PMedInstance(name=path.stem, n=n, p=p, distance=dist)


def read_optimal_values(path: Path) -> dict[str, PublishedOptimum]:
    """Read ``optimal_values.csv`` (columns ``instance,family,...,p,optimal_value,...``).

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    optima
        Keyed by ``family:instance`` and, for the first family seen, by ``instance``.
    """
    out: dict[str, PublishedOptimum] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            p_txt = (row.get("p") or "").strip()
            item = PublishedOptimum(
                instance=row["instance"].strip(),
                family=row["family"].strip(),
                value=float(row["optimal_value"]),
                p=int(p_txt) if p_txt else None,
            )
            out[f"{item.family}:{item.instance}"] = item
            out.setdefault(item.instance, item)
    return out


def find_optima_file(directory: Path, explicit: Path | None = None) -> Path | None:
    """Return the optima CSV: ``explicit``, ``DIR/../optimal_values.csv`` or ``DIR/...``.

    Parameters
    ----------
    directory
        The instance directory (e.g. ``.../orlib/pmed``).
    explicit
        A path given by the user (``--optima``).

    Returns
    -------
    path
        The first that exists, or ``None``.
    """
    if explicit is not None:
        return explicit if explicit.exists() else None
    for cand in (directory.parent / "optimal_values.csv", directory / "optimal_values.csv"):
        if cand.exists():
            return cand
    return None


def run_pmed_instance(path: Path, *, time_limit_s: float, seed: int = 0) -> dict[str, Any]:
    """Solve one p-median instance and return the per-instance result keys.

    Parameters
    ----------
    path
        The ``pmedK.txt`` file.
    time_limit_s
        Limit for the solve (reading and shortest paths are timed too).
    seed
        Solver seed.

    Returns
    -------
    result
        ``name, objective, bound, gap, proven_optimal, runtime_s`` plus ``status``,
        ``backend`` and ``read_s``.
    """
    start = time.perf_counter()
    inst = load_pmed(path)
    read_s = time.perf_counter() - start
    model = PMedian.from_cost_matrix(inst.costs, np.ones(inst.n), p=inst.p)
    sol = model.solve(SolveOptions(time_limit_s=time_limit_s, seed=seed, compute_regret=False))
    runtime_s = time.perf_counter() - start
    return {
        "name": inst.name,
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "proven_optimal": sol.status is Status.OPTIMAL,
        "runtime_s": runtime_s,
        "status": str(sol.status),
        "backend": sol.backend,
        "read_s": read_s,
        "stats": dict(sol.stats),
    }


def instance_names(
    family: Family, directory: Path, optima: dict[str, PublishedOptimum]
) -> list[str]:
    """Return every instance of ``family``: from the optima table, else from the files.

    Parameters
    ----------
    family
        Benchmark family.
    directory
        Instance directory.
    optima
        Published optima (may be empty).

    Returns
    -------
    names
        Instance names in table order (``pmed1``.., ``capa_8000``..).
    """
    prefixes = (f"{family}:", f"{family}_") if family in CAPACITATED_FAMILIES else (f"{family}:",)
    names = [o.instance for k, o in optima.items() if ":" in k and k.startswith(prefixes)]
    if names:
        return names
    if family in CAPACITATED_FAMILIES:
        return _capacitated_files(family, directory)
    stems = sorted(
        (f.stem for f in directory.glob("*.txt") if not f.stem.endswith("opt")),
        key=lambda s: (len(s), s),
    )
    return [s for s in stems if s.startswith("pmed")] if family == "pmed" else stems


def run_orlib(
    family: Family,
    directory: Path,
    *,
    instances: Sequence[str] | None = None,
    time_limit_s: float = 60.0,
    optima_file: Path | None = None,
    seed: int = 0,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run a benchmark family and compare against published optima.

    Parameters
    ----------
    family
        ``pmed``, ``cap`` or ``uncap``.
    directory
        Directory with the instance files.
    instances
        Names to run (default: all of the family).
    time_limit_s
        Per-instance time limit.
    optima_file
        Optima CSV (default: found next to ``directory``).
    seed
        Solver seed.
    on_result
        Called with each instance's result as soon as it is known.

    Returns
    -------
    report
        ``{"instances": [...], "summary": {...}}``.
    """
    opt_path = find_optima_file(directory, optima_file)
    optima = read_optimal_values(opt_path) if opt_path is not None else {}
    names = list(instances) if instances else instance_names(family, directory, optima)
    if family in CAPACITATED_FAMILIES:
        paths = capacitated_paths(family, directory, names)
    else:
        _check_files(family, directory, names)
    results: list[dict[str, Any]] = []
    for name in names:
        if family in CAPACITATED_FAMILIES:
            res = run_capacitated_instance(paths[name], time_limit_s=time_limit_s, seed=seed)
            res["name"] = name
        elif family == "pmed":
            res = run_pmed_instance(directory / f"{name}.txt", time_limit_s=time_limit_s, seed=seed)
        else:
            stem, _, cap_txt = name.partition("_")
            res = run_cap_instance(
                directory / f"{stem}.txt",
                capacity=_cap_capacity(family, cap_txt),
                time_limit_s=time_limit_s,
                seed=seed,
            )
            res["name"] = name
        pub = _published(optima, family, name)
        if pub is not None:
            tol = {"pmed": 0.5, "cap": CAP_TOLERANCE, "uncap": CAP_TOLERANCE}.get(
                family, PUBLISHED_TOLERANCE
            )
            res["published_optimum"] = pub.value
            res["matches_published"] = bool(
                res.get("objective") is not None
                and math.isfinite(float(res["objective"]))
                and abs(float(res["objective"]) - pub.value) <= tol
            )
        results.append(_jsonable(res))
        if on_result is not None:
            on_result(results[-1])
    return {"instances": results, "summary": summarise(results)}


def _published(
    optima: dict[str, PublishedOptimum], family: Family, name: str
) -> PublishedOptimum | None:
    """Return the published optimum of ``name``: family ``family`` or a sub-family ``family_*``."""
    if f"{family}:{name}" in optima:
        return optima[f"{family}:{name}"]
    if family in CAPACITATED_FAMILIES:
        for key, item in optima.items():
            if key.startswith(f"{family}_") and item.instance == name:
                return item
    return None


def _capacitated_files(family: Family, directory: Path) -> list[str]:
    """Names of the instance files of ``family`` under ``directory`` (no optima table)."""
    skip = {"os", "readme", "optimal_values", "license"}
    names: list[str] = []
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.suffix not in {"", ".txt", ".dat"}:
            continue
        if path.stem.lower() in skip:
            continue
        try:
            inst = read_capacitated(path)
        except (ValidationError, OSError, ValueError):
            continue
        kind = "cpmp" if isinstance(inst, CpmpInstance) else "sscflp"
        if kind == family:
            names.append(path.stem)
    return names


def capacitated_paths(family: Family, directory: Path, names: Sequence[str]) -> dict[str, Path]:
    """Return the file of each named instance under ``directory`` (one error lists all missing)."""
    found = {name: find_instance(directory, name) for name in names}
    missing = [n for n, p in found.items() if p is None]
    if missing:
        shown = ", ".join(missing[:_SHOW]) + (
            f" and {len(missing) - _SHOW} more" if len(missing) > _SHOW else ""
        )
        msg = (
            f"{len(missing)} {family} instance(s) not found under {directory}: {shown}. Pass "
            "`--dir` with a folder holding the instance files (searched recursively), or fix "
            "`--instances`."
        )
        raise ValidationError(msg)
    return {n: p for n, p in found.items() if p is not None}


def _check_files(family: Family, directory: Path, names: Sequence[str]) -> None:
    """Raise a clear error (naming the folder that has them) when instance files are missing."""
    files = [f"{name.partition('_')[0] if family != 'pmed' else name}.txt" for name in names]
    missing = sorted({f for f in files if not (directory / f).is_file()})
    if not missing:
        return
    show = 5
    more = len(missing) - show
    shown = ", ".join(missing[:show]) + (f" and {more} more" if more > 0 else "")
    msg = f"{len(missing)} {family} instance file(s) not found in {directory}: {shown}."
    holders = (
        sorted(d for d in directory.iterdir() if d.is_dir() and (d / missing[0]).is_file())
        if directory.is_dir()
        else []
    )
    if holders:
        msg += f" They are in {holders[0]}: pass `--dir {holders[0]}`."
    elif not directory.is_dir():
        msg += " That folder does not exist: pass `--dir` with the folder holding the .txt files."
    else:
        msg += " Pass `--dir` with the folder holding the .txt files, or fix `--instances`."
    raise ValidationError(msg)


def _cap_capacity(family: Family, cap_txt: str) -> float | None:
    """Capacity argument for the cap runner: the A/B/C value, the file's own, or none."""
    if family == "uncap":
        return None
    return float(cap_txt) if cap_txt else None


def summarise(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Return counts and totals over per-instance results.

    Parameters
    ----------
    results
        Per-instance dictionaries.

    Returns
    -------
    summary
        ``n``, ``proven_optimal``, ``matches_published``, ``total_runtime_s``,
        ``max_runtime_s``, ``max_gap``.
    """
    runtimes = [float(r.get("runtime_s", math.nan)) for r in results]
    gaps = [float(r["gap"]) for r in results if r.get("gap") is not None]
    return {
        "n": len(results),
        "proven_optimal": sum(bool(r.get("proven_optimal")) for r in results),
        "matches_published": sum(bool(r.get("matches_published")) for r in results),
        "proven_and_matching": sum(
            bool(r.get("proven_optimal")) and bool(r.get("matches_published")) for r in results
        ),
        "total_runtime_s": float(np.nansum(runtimes)) if runtimes else 0.0,
        "max_runtime_s": float(np.nanmax(runtimes)) if runtimes else 0.0,
        "max_gap": float(np.nanmax(gaps)) if gaps and not np.isnan(gaps).all() else None,
    }


def _jsonable(value: Any) -> Any:  # noqa: ANN401 -- recursive conversion of JSON-like data
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def write_json(report: dict[str, Any], path: Path) -> None:
    """Write a benchmark report as indented JSON (non-finite numbers become ``null``).

    Parameters
    ----------
    report
        The report.
    path
        Output file (parent directories are created).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(report), indent=2) + "\n")
