"""Robust recommendations: sample the uncertain assumptions, solve every future, cross-evaluate.

:func:`run_robust` draws N futures from a scenario's ``[uncertainty]`` section with a seeded
quasi-random design (:mod:`scipy.stats.qmc`: scrambled Sobol' points, whose first N points are
those of any larger sample, or a Latin hypercube), solves each future with the one pipeline
(:func:`planner.run.run_scenario`) as a task on a Dask cluster, then prices every distinct
network found in every future with the same cost model as the solve — a fixed network's
assignment re-optimised, capacity included (the model's own ``evaluate``; for two echelons
``TwoEchelonModel.evaluate_network``) — and recommends the network with the
smallest maximum regret.
:func:`analyse` computes the regret matrix, the best expected network,
site frequencies and the PAWN sensitivity indices (SALib). :mod:`planner.robust_export` writes
the files.

Tasks carry the scenario as TOML text and the sample's parameter values, never live objects,
so any Dask cluster runs them: the default is a ``LocalCluster`` of worker processes; a
``tcp://`` or ``tls://`` scheduler address uses an existing cluster. Dask moves pickled data
between its processes: use it on a trusted, private network only (README, "Robustness").
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import time
import tomllib
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import dask
import distributed
import numpy as np
import pandas as pd
from SALib.analyze import pawn  # type: ignore[import-untyped]
from scipy import stats
from scipy.stats import qmc

from planner._robust_store import FutureRow, RobustStore
from planner.agri import TwoEchelonInputs
from planner.errors import PlannerError, ScenarioError
from planner.location import ScenarioInputs, build_model
from planner.models._base import CancelToken, FloatArray
from planner.models.two_echelon import TwoEchelonModel
from planner.run import AnyInputs, AnyResult, build_inputs, run_scenario
from planner.scenarios import Scenario, scenario_from_dict, scenario_to_toml
from planner.uncertainty import UncertainParameter, UncertaintySpec, apply_values

__all__ = [
    "RobustAnalysis",
    "RobustProgress",
    "RobustRun",
    "analyse",
    "draw_design",
    "evaluate_future",
    "network_sites",
    "run_robust",
    "sample_values",
    "solve_future",
]

_INPUT_CACHE_SIZE = 2
"""Prepared inputs a worker keeps (the solve's, reused to build its pricer)."""
_PRICER_CACHE_SIZE = 32
"""Pricers (models without the farm tables) a worker keeps for its cross-evaluations."""
_PAWN_MAX_SLIDES = 10


# ----------------------------------------------------------------------------------------
# Design
# ----------------------------------------------------------------------------------------
def value_at(param: UncertainParameter, u: float) -> float:
    """Return a parameter's value at quantile ``u`` of its distribution.

    Parameters
    ----------
    param
        The uncertain parameter.
    u
        A design coordinate in [0, 1).

    Returns
    -------
    value
        The value (a whole number for whole-number parameters).
    """
    u = min(max(float(u), 0.0), math.nextafter(1.0, 0.0))
    if param.distribution == "choice":
        choices = param.choices
        return float(choices[min(int(u * len(choices)), len(choices) - 1)])
    if param.integer:  # uniform over the whole numbers low..high
        span = int(param.high) - int(param.low) + 1
        return float(int(param.low) + min(int(u * span), span - 1))
    if param.high == param.low:
        return param.low
    if param.distribution == "uniform":
        return param.low + u * (param.high - param.low)
    if param.distribution == "triangular":
        c = (param.mode - param.low) / (param.high - param.low)
        return float(stats.triang.ppf(u, c, loc=param.low, scale=param.high - param.low))
    a, b = (param.low - param.mean) / param.sd, (param.high - param.mean) / param.sd
    return float(stats.truncnorm.ppf(u, a, b, loc=param.mean, scale=param.sd))


def draw_design(spec: UncertaintySpec, n_samples: int, seed: int) -> FloatArray:
    """Draw the seeded quasi-random design: ``n_samples x n_parameters`` points in [0, 1).

    Parameters
    ----------
    spec
        The ``[uncertainty]`` section (its ``design``: ``sobol`` or ``lhs``).
    n_samples
        Number of futures.
    seed
        Seed of the scrambling / permutation.

    Returns
    -------
    points
        One row per future. With ``sobol`` the first rows of a larger sample are the rows of
        a smaller one (a run can be extended); ``lhs`` draws a new hypercube for each size.
    """
    d = len(spec.parameters)
    if n_samples <= 0 or d == 0:
        return np.zeros((max(n_samples, 0), d))
    if spec.design == "lhs":
        out: FloatArray = qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed)).random(n_samples)
        return out
    with warnings.catch_warnings():  # balance properties need powers of 2; any n is usable
        warnings.simplefilter("ignore", UserWarning)
        sobol = qmc.Sobol(d=d, scramble=True, rng=np.random.default_rng(seed))
        points: FloatArray = sobol.random(n_samples)
    return points


def sample_values(spec: UncertaintySpec, points: FloatArray) -> list[dict[str, float]]:
    """Turn design points into parameter values by TOML path (one dict per future)."""
    return [
        {p.path: value_at(p, float(u)) for p, u in zip(spec.parameters, row, strict=True)}
        for row in points
    ]


# ----------------------------------------------------------------------------------------
# Tasks (run on Dask workers: plain arguments, plain results)
# ----------------------------------------------------------------------------------------
def future_scenario(
    toml_text: str, base_dir: str, values: Mapping[str, float], time_limit_s: float | None
) -> Scenario:
    """Build the scenario of one future: the base TOML with the sampled values set.

    Parameters
    ----------
    toml_text
        The base scenario as TOML.
    base_dir
        Folder relative paths refer to.
    values
        Parameter values by TOML path.
    time_limit_s
        Solver time limit (the scenario's when ``None``).

    Returns
    -------
    scenario
        Validated; the solver asks for one solution, no N-best list and no regret.
    """
    doc = tomllib.loads(toml_text)
    doc.pop("uncertainty", None)
    scenario = scenario_from_dict(
        apply_values(doc, values), source="future of the robustness run", base_dir=base_dir
    )
    solver = dataclasses.replace(
        scenario.solver,
        n_best=1,
        compute_regret=False,
        time_limit_s=time_limit_s or scenario.solver.time_limit_s,
    )
    return scenario.replace(solver=solver)


@functools.lru_cache(maxsize=_INPUT_CACHE_SIZE)
def _prepared(future_toml: str, base_dir: str) -> tuple[Scenario, AnyInputs]:
    """Build a future's inputs, kept so its cross-evaluations on this worker reuse them."""
    doc = tomllib.loads(future_toml)
    scenario = scenario_from_dict(doc, source="future of the robustness run", base_dir=base_dir)
    return scenario, build_inputs(scenario)


def _inputs_of(scenario: Scenario) -> tuple[Scenario, AnyInputs]:
    return _prepared(scenario_to_toml(scenario), scenario.base_dir)


def _network_key(network: Mapping[str, Any]) -> str:
    return json.dumps(dict(network), sort_keys=True, separators=(",", ":"))


def _ids_by_period(ids: Sequence[str], mask: Any) -> list[list[str]]:  # noqa: ANN401
    return [[ids[int(j)] for j in np.flatnonzero(mask[:, t])] for t in range(mask.shape[1])]


def _own_network(
    inputs: AnyInputs,
    result: Any,  # noqa: ANN401
) -> tuple[dict[str, Any], list[str], list[tuple[str, str, float, float]]]:
    """Return a solved future's network, its site ids and the sites' (id, name, lat, lon)."""
    if isinstance(inputs, TwoEchelonInputs):
        sol, inst = result.solution, inputs.instance
        v = sol.centre_vans
        vans = [
            {inst.centre_ids[j]: int(v[j, t]) for j in np.flatnonzero(v[:, t])}
            for t in range(inst.n_periods)
        ]
        plants = _ids_by_period(inst.plant_ids, sol.plant_open)
        centres = _ids_by_period(inst.centre_ids, sol.centre_open)
        network: dict[str, Any] = {
            "plants": plants,
            "centres": centres,
            "combine": _ids_by_period(inst.centre_ids, sol.centre_combine & sol.centre_open),
            "vans": vans,
        }
        sites = sorted({*plants[-1], *centres[-1]})
        tables: tuple[pd.DataFrame, ...] = (inputs.plants, inputs.centres)
    else:
        ids = inputs.sites["site_id"].astype(str).tolist()
        sites = sorted(ids[i] for i in result.solution.open_sites)
        network = {"sites": sites}
        tables = (inputs.sites,)
    info: dict[str, tuple[str, str, float, float]] = {}
    for table in tables:
        sub = table.loc[table["site_id"].astype(str).isin(sites)]
        for sid, name, lat, lon in zip(
            sub["site_id"].astype(str), sub["name"].astype(str), sub["lat"], sub["lon"], strict=True
        ):
            info.setdefault(sid, (sid, name, float(lat), float(lon)))
    return network, sites, list(info.values())


def network_sites(result: AnyResult) -> list[str]:
    """Return the site ids a solved scenario opens (two echelons: final-period plants, centres).

    Parameters
    ----------
    result
        A result of :func:`planner.run.run_scenario` with a solution.

    Returns
    -------
    sites
        Sorted site ids, as in ``networks.csv``.
    """
    return _own_network(result.inputs, result)[1]


def _make_pricer(scenario: Scenario, inputs: AnyInputs) -> Callable[[Mapping[str, Any]], float]:
    """Return a function pricing a fixed network in this future (``inf`` = infeasible).

    It keeps the model only (cost arrays), not the farm tables, so a worker can hold many.
    """
    if isinstance(inputs, TwoEchelonInputs):
        inst = inputs.instance
        model2 = TwoEchelonModel(inst)
        t_n = inst.n_periods
        time_limit_s = max(scenario.solver.time_limit_s, 10.0)

        def mask(ids: Sequence[str], periods: Sequence[Sequence[str]]) -> Any:  # noqa: ANN401
            out = np.zeros((len(ids), t_n), dtype=np.bool_)
            index = {s: i for i, s in enumerate(ids)}
            for t, chosen in enumerate(periods[:t_n]):
                for s in chosen:
                    if s in index:
                        out[index[s], t] = True
            return out

        def price2(network: Mapping[str, Any]) -> float:
            vans = np.zeros((inst.n_centres, t_n), dtype=np.int64)
            cindex = {s: i for i, s in enumerate(inst.centre_ids)}
            for t, per in enumerate(network["vans"][:t_n]):
                for s, n in per.items():
                    if s in cindex:
                        vans[cindex[s], t] = int(n)
            return model2.evaluate_network(
                mask(inst.plant_ids, network["plants"]),
                mask(inst.centre_ids, network["centres"]),
                mask(inst.centre_ids, network["combine"]),
                vans,
                time_limit_s=time_limit_s,
            )

        return price2
    assert isinstance(inputs, ScenarioInputs)
    index = {s: i for i, s in enumerate(inputs.sites["site_id"].astype(str))}
    model = build_model(scenario, inputs)
    total = float(np.sum(inputs.weights))
    maximise = scenario.model.kind == "mclp"

    def price(network: Mapping[str, Any]) -> float:
        if any(s not in index for s in network["sites"]):
            return math.inf
        objective = float(model.evaluate([index[s] for s in network["sites"]])[0])
        return total - objective if maximise else objective

    return price


@functools.lru_cache(maxsize=_PRICER_CACHE_SIZE)
def _cached_pricer(future_toml: str, base_dir: str) -> Callable[[Mapping[str, Any]], float]:
    """Build a future's pricer (from the worker's cached inputs when it just solved it)."""
    return _make_pricer(*_prepared(future_toml, base_dir))


def _pricer_of(scenario: Scenario) -> Callable[[Mapping[str, Any]], float]:
    return _cached_pricer(scenario_to_toml(scenario), scenario.base_dir)


def _network_cost(scenario: Scenario, inputs: AnyInputs, network: Mapping[str, Any]) -> float:
    """Price one fixed network in one future with the solve's cost model."""
    return _make_pricer(scenario, inputs)(network)


def _as_cost(scenario: Scenario, inputs: AnyInputs, objective: float) -> float:
    """Objective as a cost to minimise: maximal coverage counts the demand left uncovered."""
    if scenario.model.kind == "mclp" and isinstance(inputs, ScenarioInputs):
        return float(np.sum(inputs.weights)) - objective
    return objective


def solve_future(
    toml_text: str,
    base_dir: str,
    *,
    sample_id: int,
    values: Mapping[str, float],
    known: Mapping[str, Mapping[str, Any]],
    time_limit_s: float | None,
) -> dict[str, Any]:
    """Solve one future and price its own network and the networks already known in it.

    Parameters
    ----------
    toml_text
        The base scenario as TOML.
    base_dir
        Folder relative paths refer to.
    sample_id
        The future's index.
    values
        Its parameter values by TOML path.
    known
        Networks found before (key -> network) to price in this future as well.
    time_limit_s
        Solver time limit.

    Returns
    -------
    record
        Plain data: the stored future (``row`` fields), its network, site details and the
        costs of its own and the known networks.
    """
    start = time.perf_counter()
    try:
        scenario, inputs = _inputs_of(future_scenario(toml_text, base_dir, values, time_limit_s))
        result = run_scenario(scenario, inputs=inputs)
    except PlannerError as exc:
        return {
            "row": FutureRow(sample_id, dict(values), "error", math.nan, math.nan, math.nan,
                             math.nan, math.nan, "", time.perf_counter() - start, str(exc)),
            "network": None, "sites": [], "site_info": [], "evaluations": {},
        }  # fmt: skip
    sol = result.solution
    if not sol.has_solution:
        row = FutureRow(
            sample_id, dict(values), str(sol.status), sol.objective, sol.bound, sol.gap,
            math.nan, math.nan, "", time.perf_counter() - start, sol.message,
        )  # fmt: skip
        return {"row": row, "network": None, "sites": [], "site_info": [], "evaluations": {}}
    network, sites, info = _own_network(inputs, result)
    key = _network_key(network)
    price = _pricer_of(scenario)
    costs = {k: price(n) for k, n in known.items() if k != key}
    costs[key] = price(network)
    cost = _as_cost(scenario, inputs, sol.objective)
    cost_bound = _as_cost(scenario, inputs, sol.bound)
    row = FutureRow(
        sample_id, dict(values), str(sol.status), float(sol.objective), float(sol.bound),
        float(sol.gap), cost, cost_bound, key, time.perf_counter() - start, sol.message,
    )  # fmt: skip
    return {
        "row": row, "network": network, "sites": sites, "site_info": info, "evaluations": costs,
        "worker": _worker_address(),
    }  # fmt: skip


def _worker_address() -> str:
    """Address of the Dask worker running this task (empty outside a worker)."""
    try:
        return str(distributed.get_worker().address)
    except ValueError:
        return ""


def evaluate_future(
    toml_text: str,
    base_dir: str,
    *,
    sample_id: int,
    values: Mapping[str, float],
    networks: Mapping[str, Mapping[str, Any]],
    time_limit_s: float | None,
) -> dict[str, Any]:
    """Price networks (key -> network) in one future; returns ``sample_id`` and the costs."""
    price = _pricer_of(future_scenario(toml_text, base_dir, values, time_limit_s))
    return {"sample_id": sample_id, "evaluations": {k: price(n) for k, n in networks.items()}}


# ----------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RobustProgress:
    """Progress of a run: tasks done of total, with an estimate of the time left.

    Parameters
    ----------
    phase
        ``"solve"`` (futures) or ``"evaluate"`` (cross-evaluation).
    done, total
        Tasks finished and planned in this phase (reused futures count as done).
    elapsed_s
        Seconds since the run started.
    eta_s
        Estimated seconds left in this phase (``nan`` before the first task ends).
    """

    phase: str
    done: int
    total: int
    elapsed_s: float
    eta_s: float


@dataclass(frozen=True)
class RobustRun:
    """What :func:`run_robust` did.

    Parameters
    ----------
    samples
        Futures asked for.
    reused_samples
        Futures taken from the folder's store instead of being solved again.
    workers
        Dask workers that ran the tasks.
    engine
        ``"dask"`` and the version of distributed.
    runtime_s
        Wall-clock seconds of the run.
    cancelled
        Whether the run was cancelled (finished futures are kept in the store).
    """

    samples: int
    reused_samples: int
    workers: int
    engine: str
    runtime_s: float
    cancelled: bool = False


LOCAL_WORKER_ENV_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
"""Dask setting unset for the embedded LocalCluster (see :func:`dask_client`)."""


@contextmanager
def dask_client(
    *, workers: int | None = None, scheduler: str | None = None
) -> Iterator[distributed.Client]:
    """Open a Dask client: on an existing cluster, or on a LocalCluster of processes.

    Parameters
    ----------
    workers
        Worker processes of the local cluster (default: the machine's cores).
    scheduler
        Address of an existing scheduler (``tcp://host:8786`` or ``tls://...``; TLS
        certificates come from the Dask configuration, ``distributed.comm.tls``).

    Yields
    ------
    client
        The client (closed, and the local cluster stopped, on exit).
    """
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout="20s")  # type: ignore[no-untyped-call]
        except OSError as exc:
            msg = f"cannot reach the Dask scheduler at {scheduler} ({exc}); check the address."
            raise PlannerError(msg) from None
        with client:
            yield client
        return
    with (
        local_cluster(workers) as cluster,
        distributed.Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


@contextmanager
def local_cluster(workers: int | None = None) -> Iterator[distributed.LocalCluster]:
    """Start the embedded Dask cluster: ``workers`` processes of one thread each.

    Dask's nannies start workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which turns off
    glibc's adaptive mmap threshold: every large numpy array is then mapped and zeroed afresh,
    and the same solves cost about 40 % more CPU (bench/README.md, "Robustness runs on Dask").
    The setting is unset for these workers. (A nanny started with it also writes it into its
    own process's environment, which later workers of any cluster started from that process
    inherit: start every local cluster of a process here.)

    Parameters
    ----------
    workers
        Worker processes (default: the machine's cores).

    Yields
    ------
    cluster
        The running cluster (stopped on exit).
    """
    n = workers or os.cpu_count() or 1
    with (
        dask.config.set({LOCAL_WORKER_ENV_KEY: None}),
        distributed.LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=40,
        ) as cluster,
    ):
        yield cluster


def _meta(scenario: Scenario, seed: int, time_limit_s: float | None) -> dict[str, str]:
    text = scenario_to_toml(scenario)
    return {
        "scenario_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "seed": str(seed),
        "design": scenario.uncertainty.design,
        "time_limit_s": str(time_limit_s or scenario.solver.time_limit_s),
    }


def _store_result(store: RobustStore, record: Mapping[str, Any]) -> None:
    store.add_future(
        record["row"], record["network"], record["sites"], record["site_info"],
        record["evaluations"],
    )  # fmt: skip


def run_robust(
    scenario: Scenario,
    n_samples: int,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    time_limit_s: float | None = None,
    seed: int = 0,
    progress: Callable[[RobustProgress], None] | None = None,
    cancel: CancelToken | None = None,
    client: distributed.Client | None = None,
) -> RobustRun:
    """Solve ``n_samples`` futures of a scenario on Dask and cross-evaluate their networks.

    Results go to the folder's store as each task completes; a second call with the same
    scenario, seed and time limit reuses every stored future of the same design point.

    Parameters
    ----------
    scenario
        A scenario of any model kind with an ``[uncertainty]`` section.
    n_samples
        Number of futures (>= 2).
    out_dir
        Output folder (the store ``robust.sqlite`` lives there).
    workers
        Worker processes of the local cluster (default: the cores).
    scheduler
        Address of an existing Dask scheduler (``tcp://`` or ``tls://``).
    time_limit_s
        Solver time limit per future (the scenario's when ``None``).
    seed
        Seed of the design.
    progress
        Called after each task.
    cancel
        Stops the run after the tasks in flight (finished futures stay stored).
    client
        An open Dask client to use instead of opening one.

    Returns
    -------
    run
        Counts, workers and time; :func:`analyse` reads the results from the store.

    Raises
    ------
    ScenarioError
        When the scenario has no uncertain parameter or ``n_samples`` < 2.
    """
    start = time.perf_counter()
    spec = scenario.uncertainty
    problems = []
    if not spec.parameters:
        problems.append(
            "the scenario has no `[uncertainty.parameters]`; add ranges for the assumptions "
            "to vary (see the built-in scenarios, e.g. planner/scenario_files/default.toml)."
        )
    if n_samples < 2:  # noqa: PLR2004
        problems.append(f"--samples must be >= 2, got {n_samples}.")
    if problems:
        raise ScenarioError(problems, source=scenario.name)
    store = RobustStore(out_dir)
    store.check_meta(_meta(scenario, seed, time_limit_s))
    values = sample_values(spec, draw_design(spec, n_samples, seed))
    stored = store.futures()
    stale = [i for i, row in stored.items() if i < n_samples and dict(row.params) != values[i]]
    store.delete_futures(stale)
    reused = sorted(i for i in stored if i < n_samples and i not in stale)
    todo = [i for i in range(n_samples) if i not in reused]
    text, base = scenario_to_toml(scenario), scenario.base_dir
    cancelled = False

    def report(phase: str, done: int, total: int, phase_start: float, new: int) -> None:
        if progress is None:
            return
        now = time.perf_counter()
        rate = (now - phase_start) / new if new else math.nan
        progress(RobustProgress(phase, done, total, now - start, rate * (total - done)))

    with (
        dask_client(workers=workers, scheduler=scheduler)
        if client is None
        else _borrowed(client) as cl
    ):
        n_workers = len(cl.scheduler_info()["workers"])
        known = {k: n for k, (n, _) in store.networks().items()}
        # Phase 1: solve the futures not stored yet.
        phase_start = time.perf_counter()
        report("solve", len(reused), n_samples, phase_start, 0)
        futures = [
            cl.submit(
                solve_future, text, base, sample_id=i, values=values[i], known=known,
                time_limit_s=time_limit_s, key=f"robust-solve-{i}-{os.urandom(4).hex()}",
                retries=3,
            )
            for i in todo
        ]  # fmt: skip
        done = len(reused)
        placed: dict[int, str] = {}  # future -> worker that solved it (holds its pricer)
        for fut in distributed.as_completed(futures):  # type: ignore[no-untyped-call]
            record = fut.result()
            _store_result(store, record)
            if record.get("worker"):
                placed[record["row"].sample_id] = record["worker"]
            done += 1
            report("solve", done, n_samples, phase_start, done - len(reused))
            if cancel is not None and cancel.cancelled:
                cancelled = True
                cl.cancel(futures)  # type: ignore[no-untyped-call]
                break
        # Phase 2: price every network in every future where it is not priced yet.
        if not cancelled:
            cancelled = _cross_evaluate(
                store, cl=cl, text=text, base=base, values=values,
                time_limit_s=time_limit_s, report=report, cancel=cancel, placed=placed,
            )  # fmt: skip
    return RobustRun(
        samples=n_samples,
        reused_samples=len(reused),
        workers=n_workers,
        engine=f"dask {metadata.version('distributed')}",
        runtime_s=time.perf_counter() - start,
        cancelled=cancelled,
    )


@contextmanager
def _borrowed(client: distributed.Client) -> Iterator[distributed.Client]:
    yield client


def _cross_evaluate(
    store: RobustStore,
    *,
    cl: distributed.Client,
    text: str,
    base: str,
    values: Sequence[Mapping[str, float]],
    time_limit_s: float | None,
    report: Callable[[str, int, int, float, int], None],
    cancel: CancelToken | None,
    placed: Mapping[int, str],
) -> bool:
    """Price every network in every future where it is not priced yet.

    A future's task goes to the worker that solved it (its pricer is cached there), latest
    solved first; any other worker may take it when that one is busy or gone.
    """
    futures_done = store.futures()
    networks = {k: n for k, (n, _) in store.networks().items()}
    priced = set(store.evaluations())
    missing: dict[int, dict[str, Any]] = {}
    for i in range(len(values)):
        if i not in futures_done or not futures_done[i].network_key:
            continue
        need = {k: n for k, n in networks.items() if (k, i) not in priced}
        if need:
            missing[i] = need
    order = {i: rank for rank, i in enumerate(placed)}  # completion order
    phase_start = time.perf_counter()
    total = len(missing)
    report("evaluate", 0, total, phase_start, 0)
    tasks = [
        cl.submit(
            evaluate_future, text, base, sample_id=i, values=values[i], networks=need,
            time_limit_s=time_limit_s, key=f"robust-evaluate-{i}-{os.urandom(4).hex()}",
            retries=3, priority=order.get(i, 0),
            **({"workers": [placed[i]], "allow_other_workers": True} if i in placed else {}),
        )
        for i, need in missing.items()
    ]  # fmt: skip
    for done, fut in enumerate(distributed.as_completed(tasks), start=1):  # type: ignore[no-untyped-call]
        res = fut.result()
        store.add_evaluations(int(res["sample_id"]), res["evaluations"])
        report("evaluate", done, total, phase_start, done)
        if cancel is not None and cancel.cancelled:
            cl.cancel(tasks)  # type: ignore[no-untyped-call]
            return True
    return False


# ----------------------------------------------------------------------------------------
# Analysis
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RobustAnalysis:
    """The robustness results read from a run's store.

    Parameters
    ----------
    parameters
        Uncertain parameters (TOML paths), in the scenario's order.
    sample_ids
        Futures with a solution, ascending.
    param_values
        ``len(sample_ids) x len(parameters)`` parameter values.
    own
        Per future: its own network id, objective, bound, gap, cost and cost bound.
    network_ids
        Network ids ``N1``, ``N2``, ... ordered by the first future that found them.
    network_sites
        Site ids of each network.
    network_detail
        The full network (two echelons: plants, centres, combine capability and vans by
        period) of each network id.
    from_samples
        Futures whose own optimum is each network.
    cost
        ``networks x futures`` cost of each network in each future (``inf`` = infeasible).
    regret
        ``cost`` minus each future's best cost.
    recommended
        Id of the network with the smallest maximum regret (ties: smaller mean cost).
    best_expected
        Id of the network with the smallest mean cost.
    site_frequency
        Site id -> share of futures whose own optimum opens it.
    site_info
        Site id -> (name, lat, lon).
    sensitivity
        One entry per parameter and output (``cost``, ``choice``): PAWN index (SALib).
    """

    parameters: tuple[str, ...]
    sample_ids: tuple[int, ...]
    param_values: FloatArray
    own: dict[int, dict[str, Any]]
    network_ids: tuple[str, ...]
    network_sites: dict[str, tuple[str, ...]]
    network_detail: dict[str, dict[str, Any]]
    from_samples: dict[str, tuple[int, ...]]
    cost: FloatArray
    regret: FloatArray
    recommended: str
    best_expected: str
    site_frequency: dict[str, float]
    site_info: dict[str, tuple[str, float, float]]
    sensitivity: list[dict[str, Any]] = field(default_factory=list)


def analyse(scenario: Scenario, out_dir: str | Path, n_samples: int) -> RobustAnalysis:
    """Read a run's store and compute regrets, the recommendation, frequencies, indices.

    Parameters
    ----------
    scenario
        The run's scenario (its uncertain parameters).
    out_dir
        The run's folder.
    n_samples
        Futures of the run (the store may hold more from a larger run; they are left out).

    Returns
    -------
    analysis
        Everything the files are made of.

    Raises
    ------
    PlannerError
        When no future has a solution, or a network was not priced in every future.
    """
    store = RobustStore(out_dir)
    params = scenario.uncertainty.paths
    rows = {i: r for i, r in store.futures().items() if i < n_samples and r.network_key}
    if not rows:
        msg = f"no future of {out_dir} has a solution; check the scenario with `planner solve`."
        raise PlannerError(msg)
    sample_ids = tuple(sorted(rows))
    keys_first: dict[str, int] = {}
    for i in sample_ids:
        keys_first.setdefault(rows[i].network_key, i)
    keys = sorted(keys_first, key=lambda k: (keys_first[k], k))
    ids = tuple(f"N{j + 1}" for j in range(len(keys)))
    id_of = dict(zip(keys, ids, strict=True))
    stored_networks = store.networks()
    priced = store.evaluations()
    cost = np.full((len(keys), len(sample_ids)), np.nan)
    for a, k in enumerate(keys):
        for b, i in enumerate(sample_ids):
            cost[a, b] = priced.get((k, i), np.nan)
    if np.isnan(cost).any():
        msg = (
            f"{int(np.isnan(cost).sum())} network x future costs are missing in {out_dir} (a "
            "cancelled run); run the same command again to complete them."
        )
        raise PlannerError(msg)
    finite = np.where(np.isfinite(cost), cost, np.inf)
    best = finite.min(axis=0)
    regret = cost - best[None, :]
    max_regret = np.where(np.isfinite(regret), regret, np.inf).max(axis=1)
    mean_cost = np.where(np.isfinite(cost), cost, np.inf).mean(axis=1)
    order = sorted(range(len(keys)), key=lambda a: (max_regret[a], mean_cost[a], a))
    recommended = ids[order[0]]
    best_expected = ids[min(range(len(keys)), key=lambda a: (mean_cost[a], max_regret[a], a))]
    counts: dict[str, int] = {}
    for i in sample_ids:
        for s in stored_networks[rows[i].network_key][1]:
            counts[s] = counts.get(s, 0) + 1
    values = np.array([[rows[i].params[p] for p in params] for i in sample_ids], dtype=float)
    own = {
        i: {
            "network_id": id_of[rows[i].network_key], "objective": rows[i].objective,
            "bound": rows[i].bound, "gap": rows[i].gap, "cost": rows[i].cost,
            "cost_bound": rows[i].cost_bound, "status": rows[i].status,
        }
        for i in sample_ids
    }  # fmt: skip
    rec_sites = set(stored_networks[keys[order[0]]][1])
    jaccard = [
        1.0 - _jaccard(set(stored_networks[rows[i].network_key][1]), rec_sites) for i in sample_ids
    ]
    outputs = {
        "cost": np.array([rows[i].cost for i in sample_ids]),
        "choice": np.array(jaccard),
    }
    return RobustAnalysis(
        parameters=params,
        sample_ids=sample_ids,
        param_values=values,
        own=own,
        network_ids=ids,
        network_sites={id_of[k]: stored_networks[k][1] for k in keys},
        network_detail={id_of[k]: stored_networks[k][0] for k in keys},
        from_samples={
            id_of[k]: tuple(i for i in sample_ids if rows[i].network_key == k) for k in keys
        },
        cost=cost,
        regret=regret,
        recommended=recommended,
        best_expected=best_expected,
        site_frequency={s: c / len(sample_ids) for s, c in sorted(counts.items())},
        site_info=store.site_info(),
        sensitivity=sensitivity(scenario.uncertainty, values, outputs),
    )


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _index(res: Mapping[str, Any], key: str, j: int) -> float | None:
    """Return index ``key`` of parameter ``j`` (``None`` when missing or not finite)."""
    if key not in res:
        return None
    v = float(np.asarray(res[key])[j])
    return v if math.isfinite(v) else None


def sensitivity(
    spec: UncertaintySpec, values: FloatArray, outputs: Mapping[str, FloatArray]
) -> list[dict[str, Any]]:
    """Rank the parameters by how much they move each output: PAWN indices (SALib).

    PAWN (Pianosi and Wagener 2015) compares the output's distribution conditional on
    slices of one parameter with its unconditional one (Kolmogorov-Smirnov statistic); it
    works on any given sample, a quasi-random design included.

    Parameters
    ----------
    spec
        The uncertain parameters (their ranges).
    values
        ``futures x parameters`` sampled values.
    outputs
        Output name -> value per future (``cost``: the future's optimal cost; ``choice``:
        1 - Jaccard similarity of its optimal sites with the recommended network's).

    Returns
    -------
    indices
        ``{parameter, output, method, index, minimum, maximum}`` sorted by output, then by
        the index (largest first); ``index`` is the median KS statistic over the slices
        (0 = no influence), ``None`` when the output does not vary.
    """
    n = values.shape[0]
    problem = {
        "num_vars": len(spec.parameters),
        "names": list(spec.paths),
        "bounds": [[p.low, p.high if p.high > p.low else p.low + 1.0] for p in spec.parameters],
    }
    slices = max(2, min(_PAWN_MAX_SLIDES, n // 4))
    out: list[dict[str, Any]] = []
    for name, y in outputs.items():
        varies = bool(np.ptp(y) > 0) if n else False
        res: Mapping[str, Any] = {}
        if varies:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = pawn.analyze(problem, values, y, S=slices, print_to_console=False, seed=0)
        rows: list[dict[str, Any]] = [
            {
                "parameter": path,
                "output": name,
                "method": "pawn (SALib)",
                "index": _index(res, "median", j),
                "minimum": _index(res, "minimum", j),
                "maximum": _index(res, "maximum", j),
            }
            for j, path in enumerate(spec.paths)
        ]
        rows.sort(key=lambda r: -(r["index"] or 0.0))
        out.extend(rows)
    return out
