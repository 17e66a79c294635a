"""OR-Library warehouse-location instances (Beasley 1988) on the CFLP model.

File format (``../shared/benchmarks/orlib/README.md``), read as whitespace tokens::

    m n                      warehouses (sites), customers (demand rows)
    s_i f_i                  m lines: capacity (or the literal word ``capacity``) and fixed cost
    d_j c_1j ... c_mj        n blocks: demand, then the cost of supplying ALL of d_j from i

Mapping to :class:`~planner.models.cflp.CFLP`: weights ``w_j = d_j`` and unit costs
``c_ij / d_j`` so that ``sum w c x`` reproduces the OR-Library objective; rows with
``d_j = 0`` keep weight 0 and unit cost ``c_ij`` (it then contributes nothing, as in the
original, where it would also cost ``c_ij * x_ij`` -- see :func:`cap_problem` for the exact
treatment). The published optima are for splittable demand (family ``cap``) and for
capacities ignored (family ``uncap``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from planner.errors import ValidationError
from planner.models._base import FloatArray, SiteData, SolveOptions
from planner.models.cflp import CFLP


@dataclass(frozen=True, eq=False)
class CapInstance:
    """One warehouse-location instance as given in the file.

    Parameters
    ----------
    name
        File stem (``"cap41"``, ``"capa"``).
    capacities
        Capacity per warehouse (``inf`` when uncapacitated).
    fixed_costs
        Opening cost per warehouse.
    demands
        Demand per customer.
    costs
        ``costs[j, i]`` = cost of supplying all of customer j's demand from warehouse i.
    """

    name: str
    capacities: FloatArray
    fixed_costs: FloatArray
    demands: FloatArray
    costs: FloatArray

    @property
    def n_warehouses(self) -> int:
        """Number of warehouses (m)."""
        return len(self.fixed_costs)

    @property
    def n_customers(self) -> int:
        """Number of customers (n)."""
        return len(self.demands)


def load_cap_instance(path: Path, *, capacity: float | None) -> CapInstance:
    """Read an OR-Library ``cap`` file.

    Parameters
    ----------
    path
        The file (``cap41.txt`` ... ``capc.txt``).
    capacity
        Replaces every literal ``capacity`` token (capa/capb/capc: 8000 for ``capa_8000``);
        ``None`` there means uncapacitated (family ``uncap``). Files with numeric capacities
        (sets IV-XIII) keep them whatever is passed (``None`` or ``math.nan``); when every
        capacity is at least the total demand (sets VII, X, XIII, the only small files in
        ``uncap``) they cannot bind and are dropped, which is exactly the uncapacitated
        problem. So both "None = file capacities" and "None = uncapacitated" callers get the
        published problem for every row of ``optimal_values.csv``.

    Returns
    -------
    instance
        Capacities, fixed costs, demands and the customer x warehouse cost matrix.
    """
    tokens = Path(path).read_text(encoding="ascii").split()
    try:
        m, n = int(tokens[0]), int(tokens[1])
        expected = 2 + 2 * m + n * (1 + m)
        if len(tokens) != expected:
            msg = f"{path}: {len(tokens)} numbers, expected {expected} for m = {m}, n = {n}."
            raise ValidationError(msg, source="OR-Library cap file")
        head = np.array(tokens[2 : 2 + 2 * m], dtype=object).reshape(m, 2)
        fixed = head[:, 1].astype(np.float64)
        placeholder = head[:, 0] == "capacity"
        body = np.array(tokens[2 + 2 * m :], dtype=np.float64).reshape(n, 1 + m)
        if placeholder.any():
            if capacity is None:
                caps = np.full(m, np.inf)
            elif not np.isfinite(capacity) or capacity < 0:
                msg = (
                    f"{path} holds the placeholder `capacity`; pass a capacity "
                    f"(e.g. 8000 for capa_8000) or None (uncapacitated), got {capacity}."
                )
                raise ValidationError(msg, source="OR-Library cap file")
            else:
                caps = np.where(placeholder, float(capacity), 0.0)
                caps[~placeholder] = head[~placeholder, 0].astype(np.float64)
        else:
            caps = head[:, 0].astype(np.float64)
            if capacity is None and (caps >= body[:, 0].sum()).all():
                # No capacity can bind (sets VII, X, XIII): exactly the uncapacitated problem.
                caps = np.full(m, np.inf)
    except ValueError as exc:
        msg = f"{path}: not an OR-Library cap file ({exc})."
        raise ValidationError(msg, source="OR-Library cap file") from exc
    return CapInstance(
        name=Path(path).stem,
        capacities=caps,
        fixed_costs=fixed,
        demands=body[:, 0].copy(),
        costs=body[:, 1:].copy(),
    )


def instance_arguments(name: str, family: str) -> tuple[str, float | None]:
    """Map a CSV instance name to (file stem, ``capacity`` argument).

    Parameters
    ----------
    name
        ``instance`` column of ``optimal_values.csv`` (``cap41``, ``capa_8000``, ``capb``).
    family
        ``"cap"`` (capacitated, splittable) or ``"uncap"``.

    Returns
    -------
    stem, capacity
        E.g. ``("capa", 8000.0)``, ``("cap41", nan)`` (file capacities) or
        ``("capb", None)`` for ``uncap``.
    """
    stem, _, cap = name.partition("_")
    if family == "uncap":
        return stem, None
    return stem, float(cap) if cap else float("nan")


def cap_model(instance: CapInstance) -> CFLP:
    """Build the split CFLP for an instance (weights d_j, unit costs c_ij / d_j).

    Parameters
    ----------
    instance
        The instance.

    Returns
    -------
    model
        Split-demand CFLP whose objective equals the OR-Library objective.
    """
    d = instance.demands
    if (d <= 0).any():
        msg = f"{instance.name}: customers with zero demand are not supported."
        raise ValidationError(msg, source="OR-Library cap file")
    unit = instance.costs / d[:, None]
    sites = SiteData.default(
        instance.n_warehouses, capacity=instance.capacities, fixed_cost=instance.fixed_costs
    )
    return CFLP.from_cost_matrix(unit, d, sites=sites, single_source=False)


def run_cap_instance(
    path: Path, *, capacity: float | None, time_limit_s: float, seed: int
) -> dict[str, Any]:
    """Solve one instance to proven optimality (or the time limit).

    Parameters
    ----------
    path
        The instance file.
    capacity
        Capacity for every warehouse, the file's own capacity for the small sets, or
        ``None`` for the uncapacitated problem.
    time_limit_s
        Wall-clock limit for the solve (file reading not included).
    seed
        Solver seed.

    Returns
    -------
    result
        ``objective``, ``bound``, ``gap``, ``proven_optimal``, ``runtime_s`` and ``status``.
    """
    instance = load_cap_instance(path, capacity=capacity)
    model = cap_model(instance)
    sol = model.solve(
        SolveOptions(time_limit_s=time_limit_s, gap_tolerance=0.0, seed=seed, compute_regret=False)
    )
    return {
        "objective": float(sol.objective),
        "bound": float(sol.bound),
        "gap": float(sol.gap),
        "proven_optimal": sol.status.value == "optimal",
        "runtime_s": float(sol.runtime_s),
        "status": sol.status.value,
        "backend": sol.backend,
        "open_sites": len(sol.open_sites),
        "stats": dict(sol.stats),
    }
