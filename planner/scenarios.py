"""Scenarios: typed, validated, versioned TOML files holding every input of a run.

A scenario file looks like this (every key optional except ``schema_version``, ``name`` and
``[model] kind``; see ``planner/scenario_files/default.toml``)::

    schema_version = 1
    name = "default"
    title = "Kazakhstan: 10 service centres (p-median)"

    [data]
    farms = "synthetic"        # or a path to the user's farm registry (CSV/XLSX/GeoJSON/GPKG)
    n_farms = 20000
    farm_seed = 42
    sites = "settlements"      # or a path to the user's site list
    min_site_population = 2000
    include_existing = true    # existing Belarusian operations become sites (role existing)

    [demand]
    belarus_share = 0.5        # Belarus-made share of tractors (MTZ; assumption, facts 3e)
    belarus_share_combines = 0.5   # of combines (Gomselmash; default: belarus_share)
    basis = "year"             # "year" (service hours/year) or "peak_week"

    [travel]
    circuity = 1.3
    speed_kmh = 60
    k_nearest = 40
    unit = "km"                # model costs in road km or "min"
    od_matrix = ""             # optional CSV/Parquet farm_id,site_id,travel_km[,travel_time_min]
    road_network = ""          # optional GPKG/GeoJSON road lines: shortest paths on the roads
    road_max_access_km = 300   # farms/sites farther than this from any road are an error

    [model]
    kind = "p_median"          # p_median | cflp | mclp | set_cover | p_center
    p = 10

    [sites]
    required = ["mtz_kz_kostanay"]
    forbidden = []
    capacity_hours = 0         # 0 = uncapacitated
    fixed_cost_kzt = 0

    [solver]
    time_limit_s = 60

Relative paths are resolved against the scenario file's folder. Unknown keys are errors (with
a suggestion), so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from planner import demand as demand_mod
from planner.errors import ScenarioError
from planner.uncertainty import INTEGER_PATHS, UncertaintySpec, apply_values, parse_uncertainty

SCHEMA_VERSION = 1
_MAX_FARMS = 1_000_000

ModelKindName = Literal["p_median", "cflp", "mclp", "set_cover", "p_center", "two_echelon"]
ObjectiveName = Literal["cost", "service_level"]
CalendarName = Literal["auto", "north", "south"]
CapacityWeeksName = Literal["dominant", "all"]
DemandBasis = Literal["year", "peak_week"]
CostUnitName = Literal["km", "min"]
BackendName = Literal["auto", "highs", "scip", "cp-sat", "heuristic"]


@dataclass(frozen=True)
class DataSpec:
    """Where farms and candidate sites come from."""

    farms: str = "synthetic"
    n_farms: int = 20_000
    farm_seed: int = 42
    sites: str = "settlements"
    min_site_population: int = 2_000
    max_sites: int | None = None
    include_existing: bool = True


@dataclass(frozen=True)
class DemandSpec:
    """How farms' machines become service workload."""

    belarus_share: float = 0.5
    belarus_share_combines: float | None = None
    belarus_only: bool = True
    basis: DemandBasis = "year"
    parameters: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TravelSpec:
    """Travel-cost model (assumptions; see :mod:`planner.costs`)."""

    circuity: float = 1.3
    speed_kmh: float = 60.0
    k_nearest: int = 40
    max_km: float | None = None
    unit: CostUnitName = "km"
    od_matrix: str = ""
    road_network: str = ""
    road_max_access_km: float = 300.0


@dataclass(frozen=True)
class ModelSpec:
    """Which model and its own parameters."""

    kind: ModelKindName = "p_median"
    p: int | None = None
    service_radius_km: float | None = None
    service_time_min: float | None = None
    single_source: bool = True
    weighted: bool = False
    capacitated: bool = False
    min_new_sites: int = 0
    max_new_sites: int | None = None
    objective: ObjectiveName = "cost"
    budget_kzt_per_year: float | None = None
    unserved_penalty_kzt_per_hour: float = 20_000.0


@dataclass(frozen=True)
class SitesSpec:
    """Required/forbidden sites, capacities and costs."""

    required: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    capacity_hours: float = 0.0
    existing_capacity_hours: float | None = None
    fixed_cost_kzt: float = 0.0
    existing_fixed_cost_kzt: float = 0.0
    travel_cost_kzt_per_km: float = 150.0
    service_hours_per_visit: float = 8.0


@dataclass(frozen=True)
class PlantsSpec:
    """Assembly-plant candidates and costs (model ``two_echelon``; see planner/agri.py).

    ``include_existing``: running assembly plants from the embedded facilities (facts 5:
    MTZ-Kazakhstan and AgromashHolding/Gomselmash in Kostanay). ``min_population``:
    settlements at least this large are new-plant candidates (0 = none). ``candidates``:
    extra settlement ids or names. ``required`` (``"existing"`` = every existing plant) and
    ``forbidden`` name plant candidates. Capacities are machines per year; costs are KZT per
    year (fixed) or per machine-km (rail kits inbound, road delivery outbound). With
    ``allow_direct_import`` finished machines may bypass the plants at a premium per machine.
    ``k_nearest_per_centre``: each centre receives machines from its nearest plant candidates
    only (existing plants always allowed), a sparse-arc reduction.
    All cost figures are assumptions, documented in planner/agri.py.
    """

    include_existing: bool = True
    min_population: int = 200_000
    candidates: tuple[str, ...] = ()
    required: tuple[str, ...] = ("existing",)
    forbidden: tuple[str, ...] = ()
    capacity_machines_per_year: float = 3_000.0
    existing_capacity_machines_per_year: float = 400.0
    fixed_cost_kzt: float = 2.0e9
    existing_fixed_cost_kzt: float = 0.0
    inbound_cost_kzt_per_machine_km: float = 60.0
    outbound_cost_kzt_per_machine_km: float = 250.0
    rail_circuity: float = 1.2
    direct_import_premium_kzt_per_machine: float = 2.0e6
    allow_direct_import: bool = True
    k_nearest_per_centre: int = 6


@dataclass(frozen=True)
class VansSpec:
    """Mobile service vans (model ``two_echelon``): reach, number, cost and weekly hours."""

    enabled: bool = True
    radius_km: float = 300.0
    max_per_centre: int = 4
    cost_per_van_kzt: float = 30.0e6
    hours_per_van_week: float = 60.0


@dataclass(frozen=True)
class SeasonsSpec:
    """Seasonal calendars (facts 6): ``auto`` = north/south by oblast; capacity weeks."""

    calendar: CalendarName = "auto"
    capacity_weeks: CapacityWeeksName = "dominant"


@dataclass(frozen=True)
class GrowthSpec:
    """Fleet growth towards a trade target (see planner/growth.py; facts 3c, 3e)."""

    years: int = 3
    start_year: int = 2025
    years_per_period: int = 1
    renewal_rate_start: float = 0.055
    renewal_rate_end: float = 0.10
    belarus_share_of_purchases: float = 0.5


@dataclass(frozen=True)
class CapabilitiesSpec:
    """Service-centre capability: weekly capacity and the extra cost of combine service."""

    centre_capacity_hours_per_week: float = 2_500.0
    existing_centre_capacity_hours_per_week: float | None = None
    combine_extra_cost_kzt: float = 60.0e6
    zone_k_nearest: int = 12


@dataclass(frozen=True)
class SolverSpec:
    """Solver options (mirrors :class:`planner.models.SolveOptions`)."""

    time_limit_s: float = 60.0
    gap_tolerance: float = 1e-6
    seed: int = 0
    backend: BackendName = "auto"
    n_best: int = 3
    compute_regret: bool = True


@dataclass(frozen=True)
class Scenario:
    """A complete, validated scenario."""

    name: str
    schema_version: int = SCHEMA_VERSION
    title: str = ""
    description: str = ""
    data: DataSpec = field(default_factory=DataSpec)
    demand: DemandSpec = field(default_factory=DemandSpec)
    travel: TravelSpec = field(default_factory=TravelSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    sites: SitesSpec = field(default_factory=SitesSpec)
    solver: SolverSpec = field(default_factory=SolverSpec)
    plants: PlantsSpec = field(default_factory=PlantsSpec)
    vans: VansSpec = field(default_factory=VansSpec)
    seasons: SeasonsSpec = field(default_factory=SeasonsSpec)
    growth: GrowthSpec = field(default_factory=GrowthSpec)
    capabilities: CapabilitiesSpec = field(default_factory=CapabilitiesSpec)
    uncertainty: UncertaintySpec = field(default_factory=UncertaintySpec)
    base_dir: str = ""

    def replace(self, **sections: Any) -> Scenario:  # noqa: ANN401
        """Return a copy with whole sections or top-level fields replaced."""
        return dataclasses.replace(self, **sections)

    def resolve_path(self, value: str) -> Path:
        """Resolve a path from the scenario relative to the scenario file's folder."""
        p = Path(value).expanduser()
        if not p.is_absolute() and self.base_dir:
            p = Path(self.base_dir) / p
        return p


_SECTIONS: dict[str, type[Any]] = {
    "data": DataSpec,
    "demand": DemandSpec,
    "travel": TravelSpec,
    "model": ModelSpec,
    "sites": SitesSpec,
    "solver": SolverSpec,
    "plants": PlantsSpec,
    "vans": VansSpec,
    "seasons": SeasonsSpec,
    "growth": GrowthSpec,
    "capabilities": CapabilitiesSpec,
}
_TOP_LEVEL = ("schema_version", "name", "title", "description", "uncertainty")
_NOT_UNCERTAIN = ("solver",)
"""Sections whose numbers are settings, not assumptions (no uncertainty on them)."""


def uncertain_paths() -> tuple[str, ...]:
    """Return the TOML paths that may appear in ``[uncertainty.parameters]``.

    Returns
    -------
    paths
        Every number-valued key of the sections (solver settings excepted), the demand
        parameters (``demand.parameters.<name>``) and ``data.farm_seed``.
    """
    paths: list[str] = list(INTEGER_PATHS)
    for name, cls in _SECTIONS.items():
        if name in _NOT_UNCERTAIN:
            continue
        hints = typing.get_type_hints(cls)
        paths.extend(
            f"{name}.{f.name}"
            for f in dataclasses.fields(cls)
            if hints[f.name] is float or hints[f.name] == (float | None)
        )
    defaults = demand_mod.DemandParameters()
    paths.extend(
        f"demand.parameters.{f.name}"
        for f in dataclasses.fields(defaults)
        if isinstance(getattr(defaults, f.name), float)
    )
    return tuple(paths)


def _check_uncertainty_ranges(
    doc: Mapping[str, Any], spec: UncertaintySpec, source: str, problems: list[str]
) -> None:
    """Check that the scenario stays valid at both ends of every uncertain range."""
    base = {k: v for k, v in doc.items() if k != "uncertainty"}
    for param in spec.parameters:
        ends = param.choices if param.distribution == "choice" else (param.low, param.high)
        for value in dict.fromkeys(ends):
            if param.path.startswith("demand.parameters.") and value < 0:
                problems.append(
                    f'`uncertainty.parameters."{param.path}"`: {value:g} is below 0; demand '
                    "parameters must be >= 0, raise the range."
                )
                continue
            try:
                scenario_from_dict(apply_values(base, {param.path: value}), source=source)
            except ScenarioError as exc:
                problems.extend(
                    f'`uncertainty.parameters."{param.path}"` = {value:g} makes the scenario '
                    f"invalid ({p}) Narrow the range."
                    for p in exc.problems
                )


# Migrations from older schema versions: version -> function producing version + 1.
_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def _suggest(key: str, options: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(options), n=1)
    return f" Did you mean `{close[0]}`?" if close else ""


def _type_name(tp: Any) -> str:  # noqa: ANN401
    if get_origin(tp) is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    return str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, where: str, problems: list[str]) -> Any:  # noqa: ANN401, C901, PLR0911, PLR0912
    origin = get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            sub: list[str] = []
            out = _coerce(value, arg, where, sub)
            if not sub:
                return out
        problems.append(f"`{where}` must be {_type_name(tp)}, got {value!r}.")
        return None
    if origin is Literal:
        if value not in get_args(tp):
            problems.append(
                f"`{where}` must be one of {_type_name(tp)}, got {value!r}."
                + _suggest(str(value), map(str, get_args(tp)))
            )
        return value
    if tp is bool:
        if not isinstance(value, bool):
            problems.append(f"`{where}` must be true or false, got {value!r}.")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"`{where}` must be a whole number, got {value!r}.")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"`{where}` must be a number, got {value!r}.")
            return value
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            problems.append(f"`{where}` must be text, got {value!r}.")
        return value
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"`{where}` must be a list of texts, got {value!r}.")
            return ()
        return tuple(value)
    if origin in (Mapping, dict) or tp is Mapping:
        if not isinstance(value, dict):
            problems.append(f"`{where}` must be a table, got {value!r}.")
            return {}
        return types.MappingProxyType(dict(value))
    return value


def _build_section(cls: type[Any], raw: Any, name: str, problems: list[str]) -> Any:  # noqa: ANN401
    if not isinstance(raw, dict):
        problems.append(f"`[{name}]` must be a table.")
        return cls()
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in raw.items():
        if key not in fields:
            problems.append(f"unknown key `{name}.{key}`." + _suggest(key, fields))
            continue
        kwargs[key] = _coerce(value, hints[key], f"{name}.{key}", problems)
    return cls(**kwargs)


def _check_shares(s: Scenario, problems: list[str]) -> None:
    """Check the Belarus-made shares of tractors and combines (each 0..1)."""
    if not 0 <= s.demand.belarus_share <= 1:
        problems.append(
            f"`demand.belarus_share` must be between 0 and 1, got {s.demand.belarus_share}."
        )
    share_c = s.demand.belarus_share_combines
    if share_c is not None and not 0 <= share_c <= 1:
        problems.append(
            f"`demand.belarus_share_combines` must be between 0 and 1, got {share_c} (leave it "
            "out to use `demand.belarus_share`)."
        )


def _check_values(s: Scenario, problems: list[str]) -> None:  # noqa: C901
    d, m, t, sv, st = s.data, s.model, s.travel, s.solver, s.sites
    if not s.name.strip():
        problems.append("`name` must not be empty.")
    if not 1 <= d.n_farms <= _MAX_FARMS:
        problems.append(f"`data.n_farms` must be 1..1,000,000, got {d.n_farms}.")
    _check_shares(s, problems)
    if not 1.0 <= t.circuity <= 3.0:  # noqa: PLR2004
        problems.append(f"`travel.circuity` must be 1.0..3.0, got {t.circuity}.")
    if not 1 <= t.speed_kmh <= 200:  # noqa: PLR2004
        problems.append(f"`travel.speed_kmh` must be 1..200, got {t.speed_kmh}.")
    if t.k_nearest < 1:
        problems.append(f"`travel.k_nearest` must be >= 1, got {t.k_nearest}.")
    if not t.road_max_access_km > 0:
        problems.append(f"`travel.road_max_access_km` must be > 0, got {t.road_max_access_km}.")
    if m.kind in ("p_median", "mclp", "p_center") and m.p is None:
        problems.append(f"model `{m.kind}` needs `model.p` (number of open sites).")
    if m.p is not None and m.p < 1:
        problems.append(f"`model.p` must be >= 1, got {m.p}.")
    if (
        m.kind in ("mclp", "set_cover")
        and m.service_radius_km is None
        and m.service_time_min is None
    ):
        problems.append(
            f"model `{m.kind}` needs `model.service_radius_km` or `model.service_time_min`."
        )
    if m.service_radius_km is not None and m.service_time_min is not None:
        problems.append("set only one of `model.service_radius_km` and `model.service_time_min`.")
    if sv.time_limit_s <= 0:
        problems.append(f"`solver.time_limit_s` must be > 0, got {sv.time_limit_s}.")
    if st.capacity_hours < 0 or st.fixed_cost_kzt < 0:
        problems.append("`sites.capacity_hours` and `sites.fixed_cost_kzt` must be >= 0.")
    both = set(st.required) & set(st.forbidden)
    if both:
        problems.append(
            f"site(s) {', '.join(sorted(both))} are both required and forbidden; "
            "remove them from one list."
        )
    for what, ids in (("required", st.required), ("forbidden", st.forbidden)):
        problems.extend(_site_id_problems(f"sites.{what}", ids))
    if m.kind == "cflp" and st.capacity_hours == 0 and st.fixed_cost_kzt == 0:
        problems.append(
            "model `cflp` needs `sites.fixed_cost_kzt` > 0 (else every site opens) or "
            "`sites.capacity_hours` > 0."
        )


_MAX_SITE_ID_CHARS = 200


def _site_id_problems(where: str, ids: tuple[str, ...]) -> list[str]:
    """Check that site references are well-formed: not blank, trimmed, printable, unique."""
    problems: list[str] = []
    seen: set[str] = set()
    for value in ids:
        if not value.strip():
            problems.append(f"`{where}` has a blank entry; remove it or write a site id.")
            continue
        if value != value.strip():
            problems.append(
                f"`{where}` entry {value!r} has leading or trailing spaces; "
                f"write {value.strip()!r}."
            )
        if not value.isprintable():
            problems.append(
                f"`{where}` entry {value!r} contains control characters; retype the id."
            )
        if len(value) > _MAX_SITE_ID_CHARS:
            problems.append(
                f"`{where}` entry {value[:20]!r}... is longer than {_MAX_SITE_ID_CHARS} "
                "characters; use the site id."
            )
        if value in seen:
            problems.append(f"`{where}` lists {value!r} twice; list each site once.")
        seen.add(value)
    return problems


def check_references(scenario: Scenario) -> list[str]:
    """Check that the files a scenario refers to exist (relative to the scenario's folder).

    Loading a scenario does not require its files to exist yet (it may be written before
    the data); call this before running it. :func:`planner.validation.validate_scenario`
    also validates the referenced files and the required/forbidden site ids.

    Parameters
    ----------
    scenario
        The scenario.

    Returns
    -------
    problems
        One message per missing or unusable file reference (empty when all exist).
    """
    problems: list[str] = []
    refs = (
        ("data.farms", scenario.data.farms, "synthetic"),
        ("data.sites", scenario.data.sites, "settlements"),
        ("travel.od_matrix", scenario.travel.od_matrix, ""),
        ("travel.road_network", scenario.travel.road_network, ""),
    )
    for where, value, builtin in refs:
        if value == builtin or (not value.strip() and where.startswith("travel.")):
            continue
        path = scenario.resolve_path(value)
        if not path.is_file():
            alt = f' or "{builtin}"' if builtin else ' or "" (not used)'
            problems.append(
                f"`{where}` = {value!r}: file {path} does not exist; check the path (relative "
                f"paths start at the scenario's folder){alt}."
            )
        elif where == "travel.od_matrix" and path.suffix.lower() not in (".csv", ".parquet"):
            problems.append(f"`{where}` = {value!r}: an OD matrix must be a .csv or .parquet file.")
    return problems


def _check_two_echelon_values(s: Scenario, problems: list[str]) -> None:  # noqa: C901
    """Range checks of the two-echelon sections (applied whatever the model kind)."""
    pl, v, g, c, m = s.plants, s.vans, s.growth, s.capabilities, s.model
    non_negative = [
        ("plants.capacity_machines_per_year", pl.capacity_machines_per_year),
        ("plants.existing_capacity_machines_per_year", pl.existing_capacity_machines_per_year),
        ("plants.fixed_cost_kzt", pl.fixed_cost_kzt),
        ("plants.existing_fixed_cost_kzt", pl.existing_fixed_cost_kzt),
        ("plants.inbound_cost_kzt_per_machine_km", pl.inbound_cost_kzt_per_machine_km),
        ("plants.outbound_cost_kzt_per_machine_km", pl.outbound_cost_kzt_per_machine_km),
        ("plants.direct_import_premium_kzt_per_machine", pl.direct_import_premium_kzt_per_machine),
        ("plants.min_population", float(pl.min_population)),
        ("vans.cost_per_van_kzt", v.cost_per_van_kzt),
        ("vans.hours_per_van_week", v.hours_per_van_week),
        ("vans.max_per_centre", float(v.max_per_centre)),
        ("capabilities.combine_extra_cost_kzt", c.combine_extra_cost_kzt),
        ("model.unserved_penalty_kzt_per_hour", m.unserved_penalty_kzt_per_hour),
    ]
    problems.extend(f"`{k}` must be >= 0, got {val}." for k, val in non_negative if val < 0)
    if pl.k_nearest_per_centre < 1:
        problems.append(
            f"`plants.k_nearest_per_centre` must be >= 1, got {pl.k_nearest_per_centre}."
        )
    if not 1.0 <= pl.rail_circuity <= 3.0:  # noqa: PLR2004
        problems.append(f"`plants.rail_circuity` must be 1.0..3.0, got {pl.rail_circuity}.")
    if v.radius_km <= 0:
        problems.append(f"`vans.radius_km` must be > 0, got {v.radius_km}.")
    if c.centre_capacity_hours_per_week <= 0:
        problems.append("`capabilities.centre_capacity_hours_per_week` must be > 0.")
    if (
        c.existing_centre_capacity_hours_per_week is not None
        and c.existing_centre_capacity_hours_per_week <= 0
    ):
        problems.append("`capabilities.existing_centre_capacity_hours_per_week` must be > 0.")
    if c.zone_k_nearest < 1:
        problems.append(f"`capabilities.zone_k_nearest` must be >= 1, got {c.zone_k_nearest}.")
    if not 1 <= g.years <= 20:  # noqa: PLR2004
        problems.append(f"`growth.years` must be 1..20, got {g.years}.")
    if not 1 <= g.years_per_period <= 10:  # noqa: PLR2004
        problems.append(f"`growth.years_per_period` must be 1..10, got {g.years_per_period}.")
    for key in ("renewal_rate_start", "renewal_rate_end", "belarus_share_of_purchases"):
        value = getattr(g, key)
        if not 0 <= value <= 1:
            problems.append(f"`growth.{key}` must be between 0 and 1, got {value}.")
    both = set(pl.required) & set(pl.forbidden)
    if both:
        problems.append(
            f"plant(s) {', '.join(sorted(both))} are both required and forbidden in [plants]."
        )
    if m.budget_kzt_per_year is not None and m.budget_kzt_per_year <= 0:
        problems.append(f"`model.budget_kzt_per_year` must be > 0, got {m.budget_kzt_per_year}.")
    if m.objective == "service_level" and m.budget_kzt_per_year is None:
        problems.append('`model.objective = "service_level"` needs `model.budget_kzt_per_year`.')
    if m.objective != "cost" and m.kind != "two_echelon":
        problems.append('`model.objective` other than "cost" needs model `two_echelon`.')


def scenario_from_dict(
    raw: Mapping[str, Any], *, source: str = "scenario", base_dir: str = ""
) -> Scenario:
    """Validate a parsed scenario table and build a :class:`Scenario`.

    Parameters
    ----------
    raw
        The parsed TOML document.
    source
        Name used in error messages (the file name).
    base_dir
        Folder that relative paths in the scenario refer to.

    Returns
    -------
    scenario
        The validated scenario.
    """
    doc = dict(raw)
    problems: list[str] = []
    version = doc.get("schema_version")
    if version is None:
        problems.append(
            f"missing `schema_version`; add `schema_version = {SCHEMA_VERSION}` at the top."
        )
        raise ScenarioError(problems, source=source)
    if not isinstance(version, int) or isinstance(version, bool):
        msg = f"`schema_version` must be a whole number, got {version!r}."
        raise ScenarioError(msg, source=source)
    if version > SCHEMA_VERSION:
        msg = (
            f"scenario schema version {version} is newer than this planner supports "
            f"({SCHEMA_VERSION}); upgrade the planner."
        )
        raise ScenarioError(msg, source=source)
    while version < SCHEMA_VERSION:
        migrate = _MIGRATIONS.get(version)
        if migrate is None:
            msg = (
                f"scenario schema version {version} is no longer supported (current: "
                f"{SCHEMA_VERSION}) and cannot be migrated; re-create it from a shipped example."
            )
            raise ScenarioError(msg, source=source)
        doc = migrate(doc)
        version = doc["schema_version"]
    problems.extend(
        f"unknown key `{key}`." + _suggest(key, [*_TOP_LEVEL, *_SECTIONS])
        for key in doc
        if key not in _TOP_LEVEL and key not in _SECTIONS
    )
    if "name" not in doc:
        problems.append("missing `name`.")
    sections = {
        name: _build_section(cls, doc.get(name, {}), name, problems)
        for name, cls in _SECTIONS.items()
    }
    top: dict[str, Any] = {}
    for key in ("name", "title", "description"):
        if key in doc:
            top[key] = _coerce(doc[key], str, key, problems)
    uncertainty = parse_uncertainty(
        doc.get("uncertainty", {}), uncertain_paths(), problems, _suggest
    )
    if problems:
        raise ScenarioError(problems, source=source)
    scenario = Scenario(
        schema_version=SCHEMA_VERSION,
        base_dir=base_dir,
        uncertainty=uncertainty,
        **top,
        **sections,
    )
    _check_values(scenario, problems)
    _check_two_echelon_values(scenario, problems)
    if not problems and uncertainty.parameters:
        _check_uncertainty_ranges(doc, uncertainty, source, problems)
    if problems:
        raise ScenarioError(problems, source=source)
    return scenario


def builtin_scenarios() -> list[str]:
    """Return the names of the scenarios shipped with the planner."""
    folder = resources.files("planner") / "scenario_files"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a built-in scenario by name or a scenario TOML file by path.

    Parameters
    ----------
    name_or_path
        ``"default"`` (or another name from :func:`builtin_scenarios`) or a file path.

    Returns
    -------
    scenario
        The validated scenario.
    """
    text: str
    base_dir = ""
    value = str(name_or_path)
    builtin = resources.files("planner") / "scenario_files" / f"{value}.toml"
    if not value.endswith(".toml") and builtin.is_file():
        text = builtin.read_text(encoding="utf-8")
        source = f"built-in scenario `{value}`"
    else:
        path = Path(value)
        if not path.is_file():
            msg = (
                f"no scenario file {path} and no built-in scenario named `{value}`; "
                f"built-in scenarios: {', '.join(builtin_scenarios())}."
            )
            raise ScenarioError(msg, source="scenario")
        raw_bytes = path.read_bytes()
        try:
            text = raw_bytes.decode("utf-8-sig")
        except UnicodeDecodeError:
            msg = "the scenario file is not UTF-8 text; save it as UTF-8."
            raise ScenarioError(msg, source=str(path)) from None
        source = str(path)
        base_dir = str(path.resolve().parent)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"not valid TOML: {exc}. Check quotes, brackets and `key = value` lines."
        raise ScenarioError(msg, source=source) from None
    return scenario_from_dict(raw, source=source, base_dir=base_dir)


def _toml_value(value: Any) -> str:  # noqa: ANN401
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    msg = f"cannot write {value!r} to TOML"
    raise TypeError(msg)


def scenario_to_toml(scenario: Scenario) -> str:
    """Serialise a scenario to TOML text that :func:`load_scenario` reads back identically.

    Parameters
    ----------
    scenario
        The scenario.

    Returns
    -------
    text
        TOML document (``None`` values are omitted, meaning "use the default").
    """
    lines = [f"schema_version = {SCHEMA_VERSION}"]
    lines.extend(
        f"{key} = {_toml_value(getattr(scenario, key))}" for key in ("name", "title", "description")
    )
    for name in _SECTIONS:
        section = getattr(scenario, name)
        lines.append("")
        lines.append(f"[{name}]")
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            if value is None:
                continue
            lines.append(f"{f.name} = {_toml_value(value)}")
    lines.extend(scenario.uncertainty.to_toml())
    return "\n".join(lines) + "\n"


def save_scenario(scenario: Scenario, path: str | Path) -> Path:
    """Write a scenario to a TOML file.

    Parameters
    ----------
    scenario
        The scenario.
    path
        Destination file.

    Returns
    -------
    path
        The written file.
    """
    p = Path(path)
    p.write_text(scenario_to_toml(scenario), encoding="utf-8")
    return p
