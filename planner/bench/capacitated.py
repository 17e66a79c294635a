"""Capacitated single-source benchmarks: CPMP and SSCFLP instances, readers and runners.

Two families (``../shared/benchmarks/cpmp`` and ``../shared/benchmarks/sscflp``, each with a
README stating formats and distance conventions):

``cpmp`` -- capacitated p-median: every point is a customer and a candidate median, exactly
``p`` open, single source, the demand assigned to a median (its own included) within its
capacity; objective ``sum_i d(i, median(i))``. Two file layouts, told apart by content:

* OR-Library pmedcap (Osman & Christofides): ``<number> <best>`` / ``<n> <p> <Q>`` / ``n``
  lines ``<id> <x> <y> <demand>``; distances are the **floor** of the Euclidean distance.
* Lorena & Senne SJC and the TSPLIB-derived sets of Stefanello et al.: ``<n> <p>`` / ``n``
  lines ``<x> <y> <capacity> <demand>``; real Euclidean distances.

``sscflp`` -- single-source capacitated facility location (Holmberg et al.; Yang et al.):
``m n`` / ``m`` lines ``s_j f_j`` / ``n`` demands / ``m * n`` costs **facility by facility**
(``c_ji`` = cost of serving all of customer ``i``'s demand from ``j``). Some files hold NUL
bytes (read as spaces) and junk after the data (only the first ``2 + 2m + n + mn`` numbers
are read).

The instances are solved through the public models a user runs: :class:`PMedian` with
``capacitated=True`` and :class:`CFLP` with ``single_source=True``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from planner.errors import ValidationError
from planner.models._base import FloatArray, IntArray, SiteData, SolveOptions, Status
from planner.models._mip import MatrixMip, solve_mip
from planner.models.cflp import CFLP
from planner.models.pmedian import PMedian

CapFamily = Literal["cpmp", "sscflp"]
CAPACITATED_FAMILIES: tuple[CapFamily, ...] = ("cpmp", "sscflp")
# Absolute tolerance against the published optimum (real-distance sets print 2 decimals).
PUBLISHED_TOLERANCE = 0.01
_SUFFIXES = ("", ".txt", ".dat")


@dataclass(frozen=True, eq=False)
class CpmpInstance:
    """One capacitated p-median instance.

    Parameters
    ----------
    name
        File stem (``"pmedcap01"``, ``"SJC1"``, ``"lin318_005"``).
    x_coord, y_coord
        Point coordinates.
    demand
        Demand per point.
    capacity
        Capacity per point (as a median).
    p
        Number of medians.
    floor_distance
        Distances are ``floor`` of the Euclidean distance (OR-Library pmedcap), else real.
    """

    name: str
    x_coord: FloatArray
    y_coord: FloatArray
    demand: FloatArray
    capacity: FloatArray
    p: int
    floor_distance: bool

    @property
    def n(self) -> int:
        """Number of points."""
        return len(self.demand)

    def distance(self) -> FloatArray:
        """Return the ``n x n`` distance matrix under the family's convention."""
        dx = self.x_coord[:, None] - self.x_coord[None, :]
        dy = self.y_coord[:, None] - self.y_coord[None, :]
        dist = np.sqrt(dx * dx + dy * dy)
        return np.floor(dist) if self.floor_distance else dist


@dataclass(frozen=True, eq=False)
class SscflpInstance:
    """One single-source capacitated facility location instance.

    Parameters
    ----------
    name
        File stem (``"p1"``, ``"30-200-1"``).
    capacity
        Capacity per facility.
    fixed_cost
        Opening cost per facility.
    demand
        Demand per customer.
    cost
        ``cost[j, i]`` = cost of serving all of customer ``i``'s demand from facility ``j``.
    """

    name: str
    capacity: FloatArray
    fixed_cost: FloatArray
    demand: FloatArray
    cost: FloatArray

    @property
    def n_facilities(self) -> int:
        """Number of facilities (m)."""
        return len(self.capacity)

    @property
    def n_customers(self) -> int:
        """Number of customers (n)."""
        return len(self.demand)


Instance = CpmpInstance | SscflpInstance


def _numbers(path: Path) -> list[str]:
    raw = path.read_bytes().replace(b"\0", b" ")
    return raw.decode("ascii", errors="replace").split()


def read_capacitated(path: Path) -> Instance:
    """Read a CPMP or SSCFLP file, recognising its layout from the content.

    Parameters
    ----------
    path
        The instance file.

    Returns
    -------
    instance
        A :class:`CpmpInstance` (pmedcap: floor distances; SJC / TSPLIB-derived: real) or a
        :class:`SscflpInstance`.
    """
    path = Path(path)
    tokens = _numbers(path)
    source = f"instance file {path.name}"
    values: list[float] = []
    for tok in tokens:
        try:
            values.append(float(tok))
        except ValueError:
            break  # junk after the data (SSCFLP p47): checked against the layout below
    junk = len(values) < len(tokens)
    if junk and len(values) < 2:  # noqa: PLR2004 -- the two header numbers
        msg = f"{path}: not a CPMP or SSCFLP file (token {tokens[len(values)]!r} is not a number)."
        raise ValidationError(msg, source=source)
    if len(values) < 2:  # noqa: PLR2004 -- the two header numbers
        msg = f"{path}: empty or truncated file ({len(values)} numbers)."
        raise ValidationError(msg, source=source)
    a, b = int(values[0]), int(values[1])
    # pmedcap: `nr best` / `n p Q` / n x `id x y d`.
    if not junk and len(values) >= 5 and len(values) == 5 + 4 * int(values[2]):  # noqa: PLR2004
        n, p, q = int(values[2]), int(values[3]), values[4]
        body = np.asarray(values[5:], dtype=np.float64).reshape(n, 4)
        return CpmpInstance(
            name=path.stem,
            x_coord=body[:, 1].copy(),
            y_coord=body[:, 2].copy(),
            demand=body[:, 3].copy(),
            capacity=np.full(n, q),
            p=p,
            floor_distance=True,
        )
    # SJC / Stefanello: `n p` / n x `x y capacity demand`.
    if not junk and len(values) == 2 + 4 * a:
        body = np.asarray(values[2:], dtype=np.float64).reshape(a, 4)
        return CpmpInstance(
            name=path.stem,
            x_coord=body[:, 0].copy(),
            y_coord=body[:, 1].copy(),
            demand=body[:, 3].copy(),
            capacity=body[:, 2].copy(),
            p=b,
            floor_distance=False,
        )
    # Holmberg / Yang: `m n` / m x `s f` / n demands / m*n costs facility by facility.
    m, n = a, b
    need = 2 + 2 * m + n + m * n
    if m <= 0 or n <= 0 or len(values) < need:
        msg = (
            f"{path}: not a CPMP (pmedcap: `nr best` / `n p Q` / n lines `id x y d`; SJC: "
            f"`n p` / n lines `x y Q d`) or SSCFLP file (`m n` then {need} numbers for "
            f"m = {m}, n = {n}); it holds {len(values)} numbers."
        )
        raise ValidationError(msg, source=source)
    arr = np.asarray(values[:need], dtype=np.float64)
    head = arr[2 : 2 + 2 * m].reshape(m, 2)
    demand = arr[2 + 2 * m : 2 + 2 * m + n]
    cost = arr[2 + 2 * m + n :].reshape(m, n)
    return SscflpInstance(
        name=path.stem,
        capacity=head[:, 0].copy(),
        fixed_cost=head[:, 1].copy(),
        demand=demand.copy(),
        cost=cost.copy(),
    )


def find_instance(directory: Path, name: str) -> Path | None:
    """Return the file of instance ``name`` anywhere under ``directory`` (or ``None``).

    Parameters
    ----------
    directory
        Folder searched recursively.
    name
        Instance name (``pmedcap01``, ``SJC3a``, ``p47``, ``30-200-1``).

    Returns
    -------
    path
        The first file (sorted paths) named ``name``, ``name.txt`` or ``name.dat``.
    """
    wanted = {name + s for s in _SUFFIXES}
    hits = sorted(p for p in Path(directory).rglob("*") if p.is_file() and p.name in wanted)
    return hits[0] if hits else None


def cpmp_model(inst: CpmpInstance) -> PMedian:
    """Build the capacitated single-source p-median of a CPMP instance.

    Parameters
    ----------
    inst
        The instance.

    Returns
    -------
    model
        :class:`PMedian` with weights = demands, unit costs = distance / 1 per unit of
        demand scaled so that the objective is ``sum_i d(i, median(i))``.
    """
    w = inst.demand
    if (w <= 0).any():
        msg = f"{inst.name}: points with zero demand are not supported."
        raise ValidationError(msg, source="CPMP instance")
    # PMedian minimises sum_i w_i c_ij: unit cost d_ij / w_i gives sum_i d_ij.
    unit = inst.distance() / w[:, None]
    sites = SiteData.default(inst.n, capacity=inst.capacity)
    return PMedian.from_cost_matrix(unit, w, p=inst.p, sites=sites, capacitated=True)


def sscflp_model(inst: SscflpInstance) -> CFLP:
    """Build the single-source CFLP of an SSCFLP instance.

    Parameters
    ----------
    inst
        The instance.

    Returns
    -------
    model
        :class:`CFLP` with weights ``d_i`` and unit costs ``c_ji / d_i``.
    """
    d = inst.demand
    if (d <= 0).any():
        msg = f"{inst.name}: customers with zero demand are not supported."
        raise ValidationError(msg, source="SSCFLP instance")
    unit = inst.cost.T / d[:, None]
    sites = SiteData.default(inst.n_facilities, capacity=inst.capacity, fixed_cost=inst.fixed_cost)
    return CFLP.from_cost_matrix(unit, d, sites=sites, single_source=True)


def evaluate_assignment(inst: Instance, assignment: IntArray) -> tuple[float, list[str]]:
    """Objective of an assignment (customer -> site) and the rules it breaks.

    Parameters
    ----------
    inst
        The instance.
    assignment
        Site index per customer (CPMP: the median's point index).

    Returns
    -------
    objective, problems
        The family's objective and a list of violated constraints (empty when feasible).
    """
    a = np.asarray(assignment, dtype=np.int64)
    problems: list[str] = []
    if isinstance(inst, CpmpInstance):
        n_sites, cap, dem = inst.n, inst.capacity, inst.demand
    else:
        n_sites, cap, dem = inst.n_facilities, inst.capacity, inst.demand
    if len(a) != len(dem) or (a < 0).any() or (a >= n_sites).any():
        return math.inf, [f"assignment must give a site in 0..{n_sites - 1} per customer"]
    opened = np.unique(a)
    load = np.bincount(a, weights=dem, minlength=n_sites)
    over = np.flatnonzero(load > cap + 1e-9)
    if over.size:
        problems.append(f"{over.size} site(s) over capacity, e.g. site {int(over[0])}")
    if isinstance(inst, CpmpInstance):
        if len(opened) != inst.p:
            problems.append(f"{len(opened)} medians open, p = {inst.p}")
        dist = inst.distance()
        obj = float(dist[np.arange(inst.n), a].sum())
    else:
        obj = float(inst.cost[a, np.arange(inst.n_customers)].sum())
        obj += float(inst.fixed_cost[opened].sum())
    return obj, problems


def run_capacitated_instance(path: Path, *, time_limit_s: float, seed: int = 0) -> dict[str, Any]:
    """Read and solve one CPMP or SSCFLP instance through the public model.

    Parameters
    ----------
    path
        The instance file.
    time_limit_s
        Solver time limit (reading is timed as well).
    seed
        Solver seed.

    Returns
    -------
    result
        ``objective, bound, gap, proven_optimal, runtime_s, status, backend, read_s, stats``
        and ``checked_objective`` (the solution re-evaluated from the file data).
    """
    start = time.perf_counter()
    inst = read_capacitated(path)
    model = cpmp_model(inst) if isinstance(inst, CpmpInstance) else sscflp_model(inst)
    read_s = time.perf_counter() - start
    sol = model.solve(
        SolveOptions(
            time_limit_s=max(time_limit_s - read_s, 0.1),
            gap_tolerance=0.0,
            seed=seed,
            compute_regret=False,
        )
    )
    runtime_s = time.perf_counter() - start
    checked, problems = (
        evaluate_assignment(inst, sol.assignment) if len(sol.open_sites) else (math.nan, [])
    )
    return {
        "objective": float(sol.objective),
        "bound": float(sol.bound),
        "gap": float(sol.gap),
        "proven_optimal": sol.status is Status.OPTIMAL,
        "runtime_s": runtime_s,
        "status": str(sol.status),
        "backend": sol.backend,
        "read_s": read_s,
        "checked_objective": checked,
        "violations": problems,
        "stats": dict(sol.stats),
    }


def compact_mip(inst: Instance) -> MatrixMip:
    """Build the plain compact MIP of an instance, straight from the file data (the peer).

    Columns ``y_j`` then ``x_ij`` (row-major, customer ``i``, site ``j``)::

        min sum f_j y_j + sum c_ij x_ij
        sum_j x_ij = 1,  sum_i d_i x_ij <= Q_j y_j,  x_ij <= y_j,  (CPMP) sum_j y_j = p

    Parameters
    ----------
    inst
        The instance.

    Returns
    -------
    mip
        The model for :func:`planner.models._mip.solve_mip` (HiGHS, one thread).
    """
    if isinstance(inst, CpmpInstance):
        cost, dem, cap = inst.distance(), inst.demand, inst.capacity
        fixed = np.zeros(inst.n)
    else:
        cost, dem, cap, fixed = inst.cost.T, inst.demand, inst.capacity, inst.fixed_cost
    n, m = cost.shape
    nx = n * m
    ii, jj = np.divmod(np.arange(nx), m)
    xcol = m + np.arange(nx)
    blocks_r: list[IntArray] = []
    blocks_c: list[IntArray] = []
    blocks_v: list[FloatArray] = []
    lo: list[FloatArray] = []
    hi: list[FloatArray] = []
    r0 = 0
    # assignment rows
    blocks_r += [r0 + ii]
    blocks_c += [xcol]
    blocks_v += [np.ones(nx)]
    lo.append(np.ones(n))
    hi.append(np.ones(n))
    r0 += n
    # capacity rows
    blocks_r += [r0 + jj, r0 + np.arange(m)]
    blocks_c += [xcol, np.arange(m)]
    blocks_v += [dem[ii], -cap]
    lo.append(np.full(m, -np.inf))
    hi.append(np.zeros(m))
    r0 += m
    # x_ij <= y_j
    blocks_r += [r0 + np.arange(nx), r0 + np.arange(nx)]
    blocks_c += [xcol, jj]
    blocks_v += [np.ones(nx), -np.ones(nx)]
    lo.append(np.full(nx, -np.inf))
    hi.append(np.zeros(nx))
    r0 += nx
    if isinstance(inst, CpmpInstance):
        blocks_r += [np.full(m, r0)]
        blocks_c += [np.arange(m)]
        blocks_v += [np.ones(m)]
        lo.append(np.array([float(inst.p)]))
        hi.append(np.array([float(inst.p)]))
        r0 += 1
    matrix = sp.csr_matrix(
        (np.concatenate(blocks_v), (np.concatenate(blocks_r), np.concatenate(blocks_c))),
        shape=(r0, m + nx),
    )
    return MatrixMip(
        objective=np.concatenate([fixed, cost.reshape(-1)]),
        lower=np.zeros(m + nx),
        upper=np.ones(m + nx),
        integer=np.ones(m + nx, dtype=np.bool_),
        matrix=matrix,
        row_lower=np.concatenate(lo),
        row_upper=np.concatenate(hi),
        maximise=False,
    )


def run_compact_mip(path: Path, *, time_limit_s: float, seed: int = 0) -> dict[str, Any]:
    """Solve an instance with the plain compact MIP on HiGHS (one thread): the peer.

    Parameters
    ----------
    path
        The instance file.
    time_limit_s
        HiGHS time limit.
    seed
        HiGHS seed.

    Returns
    -------
    result
        ``objective, bound, gap, proven_optimal, runtime_s, status``.
    """
    start = time.perf_counter()
    inst = read_capacitated(path)
    mip = compact_mip(inst)
    res = solve_mip(mip, backend="highs", time_limit_s=time_limit_s, gap_tolerance=0.0, seed=seed)
    runtime_s = time.perf_counter() - start
    obj, bound = float(res.objective), float(res.bound)
    gap = abs(obj - bound) / max(abs(obj), 1e-9) if math.isfinite(obj) else math.nan
    return {
        "objective": obj,
        "bound": bound,
        "gap": gap,
        "proven_optimal": res.status == "optimal",
        "runtime_s": runtime_s,
        "status": res.status,
    }
